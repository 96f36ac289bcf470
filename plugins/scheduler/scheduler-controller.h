/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "scheduler-app.h"
#include "scheduler-events.h"
#include "scheduler-health.h"
#include "scheduler-readiness.h"

G_BEGIN_DECLS

typedef struct _SchedulerController SchedulerController;

SchedulerController *scheduler_controller_new        (BerthContext          *context,
                                                      const SchedulerLimits *limits);
void                 scheduler_controller_free       (SchedulerController *self);
void                 scheduler_controller_kick       (SchedulerController *self);
SchedulerHealth     *scheduler_controller_get_health (SchedulerController *self);
SchedulerReadiness  *scheduler_controller_get_readiness (SchedulerController *self);
JsonArray           *scheduler_controller_queue_json (SchedulerController *self,
                                                      GPtrArray           *apps);
JsonNode            *scheduler_controller_app_json   (SchedulerController *self,
                                                      SchedulerApp        *app,
                                                      GPtrArray           *tasks,
                                                      gboolean             embed_tasks);
JsonNode            *scheduler_controller_task_json  (SchedulerController *self,
                                                      BerthTask           *task);
gboolean             scheduler_controller_task_ready (SchedulerController *self,
                                                      SchedulerApp        *app,
                                                      BerthTask           *task);

G_END_DECLS
