/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "scheduler-app.h"

G_BEGIN_DECLS

/* Marathon health checks, run by the scheduler on the main loop. */
typedef struct _SchedulerHealth SchedulerHealth;

typedef struct {
  gboolean  has_result;
  gboolean  alive;
  gint      consecutive_failures;
  char     *first_success;
  char     *last_success;
  char     *last_failure;
  char     *last_failure_cause;
  gboolean  failed_too_often;   /* maxConsecutiveFailures reached: replace */
} SchedulerHealthState;

SchedulerHealth            *scheduler_health_new   (BerthContext          *context,
                                                    const SchedulerLimits *limits,
                                                    GSourceFunc            changed,
                                                    gpointer               changed_data);
void                        scheduler_health_free  (SchedulerHealth *self);
void                        scheduler_health_set_store (SchedulerHealth *self,
                                                        BerthStore      *store);
void                        scheduler_health_sync  (SchedulerHealth *self,
                                                    GPtrArray       *apps,
                                                    GPtrArray       *tasks);
const SchedulerHealthState *scheduler_health_get   (SchedulerHealth *self,
                                                    const char      *task_id);
JsonArray                  *scheduler_health_results_json (SchedulerHealth *self,
                                                           const char      *task_id);

G_END_DECLS
