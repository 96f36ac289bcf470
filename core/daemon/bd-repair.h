/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "bd-config.h"

G_BEGIN_DECLS

/* berthd --repair: checks the store and recovers a damaged one, then
 * exits (never serves). Returns the process's exit status. */
int bd_repair_run (const BdOptions *options);

G_END_DECLS
