/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "scheduler-plugin.h"

G_BEGIN_DECLS

void scheduler_groups_handle (SchedulerPlugin *self,
                              BerthRequest    *request);

G_END_DECLS
