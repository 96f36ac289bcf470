/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "scheduler-plugin.h"

G_BEGIN_DECLS

/* The app life cycle, independent of any transport: deploy an app from
 * its JSON definition (create, replace, merge, roll back), scale,
 * suspend, restart, delete, kill tasks, cancel a deployment. A front
 * door (HTTP, D-Bus, ...) prepares an operation from parsed input and
 * its caller, runs it (one store write that checks and writes together)
 * and reads the results from the operation. A batch (a group write:
 * Marathon deploys a group at once) runs its operations in one write:
 * all or none. Every write publishes its
 * events on the bus (scheduler-events.h) with the caller. */

typedef enum {
  SCHEDULER_APP_OP_CREATE,
  SCHEDULER_APP_OP_UPDATE,
  SCHEDULER_APP_OP_DELETE,
  SCHEDULER_APP_OP_KILL_TASKS,
  SCHEDULER_APP_OP_CANCEL_DEPLOYMENT,
  SCHEDULER_APP_OP_BATCH,
} SchedulerAppOpKind;

typedef struct {
  SchedulerAppOpKind kind;
  BerthCaller *caller;
  gboolean     force;          /* override a deployment's lock / stop a deployment where it is */
  gboolean     scale;          /* kill: lower the app's instances too */
  char        *app_id;
  JsonObject  *def;            /* the new definition (create, update) */
  char        *action;         /* deployment action (StartApplication, ...) */
  const char  *event_action;   /* the app event: created, updated, restarted, scaled, deleted */
  gboolean     config_change;
  GPtrArray   *task_ids;       /* kill: the tasks named */
  gboolean     tasks_by_app;   /* kill: every task of app_id */
  char        *deployment_id;  /* cancel: the deployment */
  gboolean     must_exist;     /* update: NOT_FOUND when the app is gone meanwhile */
  GPtrArray   *ops;            /* batch: SchedulerAppOp* (create, update, delete, cancel), one write */
  gboolean     one_deployment; /* batch: its apps in one deployment (Marathon's plan), not one each */
  char        *use_deployment; /* the deployment id to write (a batch's), or NULL for a new one */
  char        *group_id;       /* batch: the group written (its app events name it) */
  /* results */
  gboolean     created;        /* a new app (batch: every app new) */
  char        *new_deployment; /* batch: the first app's */
  char        *version;
  char        *locked_by;      /* CONFLICT: the deployment holding the app */
  GPtrArray   *killed;         /* BerthTask* */
} SchedulerAppOp;

SchedulerAppOp *scheduler_app_op_ref   (SchedulerAppOp *op);
void            scheduler_app_op_unref (SchedulerAppOp *op);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SchedulerAppOp, scheduler_app_op_unref)

SchedulerAppOp *scheduler_apps_deploy       (SchedulerPlugin  *plugin,
                                             JsonNode         *body,
                                             const char       *path_id,
                                             BerthCaller      *caller,
                                             JsonArray       **details,
                                             GError          **error);
SchedulerAppOp *scheduler_apps_deploy_full  (SchedulerPlugin  *plugin,
                                             JsonNode         *body,
                                             const char       *path_id,
                                             gboolean          merge,
                                             BerthCaller      *caller,
                                             JsonArray       **details,
                                             GError          **error);
SchedulerAppOp *scheduler_apps_deploy_definition (SchedulerPlugin *plugin,
                                                 JsonObject      *def,
                                                 gboolean         create,
                                                 const char      *version,
                                                 BerthCaller     *caller,
                                                 GError         **error);
SchedulerAppOp *scheduler_apps_batch        (const char       *group_id,
                                             const char       *version,
                                             BerthCaller      *caller);
SchedulerAppOp *scheduler_apps_scale        (SchedulerPlugin  *plugin,
                                             const char       *app_id,
                                             gint64            instances,
                                             BerthCaller      *caller,
                                             GError          **error);
SchedulerAppOp *scheduler_apps_restart      (SchedulerPlugin  *plugin,
                                             const char       *app_id,
                                             BerthCaller      *caller,
                                             GError          **error);
SchedulerAppOp *scheduler_apps_delete       (SchedulerPlugin  *plugin,
                                             const char       *app_id,
                                             BerthCaller      *caller);
SchedulerAppOp *scheduler_apps_kill_tasks   (SchedulerPlugin  *plugin,
                                             const char       *app_id,
                                             const char * const *task_ids,
                                             gboolean          scale,
                                             BerthCaller      *caller);
SchedulerAppOp *scheduler_apps_cancel_deployment (SchedulerPlugin *plugin,
                                                  const char      *deployment_id,
                                                  const char      *app_id,
                                                  BerthCaller     *caller);

void            scheduler_apps_run_async    (SchedulerPlugin     *plugin,
                                             SchedulerAppOp      *op,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean        scheduler_apps_run_finish   (SchedulerPlugin     *plugin,
                                             GAsyncResult        *result,
                                             GError             **error);

gboolean        scheduler_apps_check_script_checks (JsonObject            *def,
                                                    const SchedulerLimits *limits,
                                                    const char            *prefix,
                                                    JsonArray             *details);

G_END_DECLS
