/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "scheduler-app.h"

G_BEGIN_DECLS

/* Marathon readiness checks (scheduler-readiness.c): a running task of
 * the app's current config is ready once its check answered one of
 * httpStatusCodesForReady; deployments and rolling restarts wait for it. */
typedef struct _SchedulerReadiness SchedulerReadiness;

SchedulerReadiness *scheduler_readiness_new          (GSourceFunc         changed,
                                                      gpointer            changed_data);
void                scheduler_readiness_free         (SchedulerReadiness *self);
void                scheduler_readiness_sync         (SchedulerReadiness *self,
                                                      GPtrArray          *apps,
                                                      GPtrArray          *tasks);
gboolean            scheduler_readiness_is_ready     (SchedulerReadiness *self,
                                                      SchedulerApp       *app,
                                                      BerthTask          *task);
JsonArray          *scheduler_readiness_results_json (SchedulerReadiness *self,
                                                      const char         *app_id);

G_END_DECLS
