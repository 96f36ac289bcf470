/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The scheduler's domain events go on the context's event bus
 * (berth_context_publish); /v2/events is one subscriber of the bus that
 * shows them as Marathon's event types. Topics and their data:
 *
 *   task.state    taskId appId nodeId state host ports message version
 *                 (every state change the controller sees)
 *   deployment    phase (started|step|success|failed|cancelled) id
 *                 [appId version action]
 *   app           action (created|updated|restarted|scaled|deleted) appId
 *                 [definition version deploymentId group]
                 (group: the app was written by a group write)
 *   health        taskId appId version alive (a task's health changed)
 *   health.check  taskId appId version check cause (one check failed)
 *
 * Each carries the caller that caused it (NULL for the controller's own
 * decisions). */

#define SCHEDULER_TOPIC_TASK_STATE   "task.state"
#define SCHEDULER_TOPIC_DEPLOYMENT   "deployment"
#define SCHEDULER_TOPIC_APP          "app"
#define SCHEDULER_TOPIC_HEALTH       "health"
#define SCHEDULER_TOPIC_HEALTH_CHECK "health.check"

typedef struct _SchedulerEvents SchedulerEvents;

SchedulerEvents *scheduler_events_new       (BerthEventBus   *bus);
void             scheduler_events_free      (SchedulerEvents *self);
void             scheduler_events_subscribe (SchedulerEvents *self,
                                             BerthRequest    *request,
                                             GStrv            types);
JsonObject      *scheduler_events_translate (BerthEvent      *event,
                                             const char     **type);

JsonObject      *scheduler_event_deployment (const char      *phase,
                                             const char      *id,
                                             const char      *app_id,
                                             const char      *version,
                                             const char      *action);

G_END_DECLS
