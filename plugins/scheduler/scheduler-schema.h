/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

extern const char * const scheduler_migrations[];

G_END_DECLS
