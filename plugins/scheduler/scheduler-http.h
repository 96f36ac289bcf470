/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "scheduler-plugin.h"

G_BEGIN_DECLS

void scheduler_http_add_routes (SchedulerPlugin *self);

G_END_DECLS
