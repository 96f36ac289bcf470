/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "scheduler-app.h"

G_BEGIN_DECLS

typedef struct {
  char       *id;
  char       *app_id;
  char       *version;
  char       *action;      /* StartApplication, ScaleApplication, RestartApplication, StopApplication */
  JsonObject *previous;    /* the definition before, or NULL */
} SchedulerDeployment;

void        scheduler_deployment_free     (SchedulerDeployment *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SchedulerDeployment, scheduler_deployment_free)
JsonNode   *scheduler_deployment_to_json  (GPtrArray           *rows);
JsonObject *scheduler_deployment_plan_json (const char *id,
                                            const char *app_id,
                                            const char *version,
                                            const char *action);

GPtrArray           *scheduler_db_load_apps        (BerthStore            *store,
                                                    const SchedulerLimits *limits,
                                                    GError               **error);
SchedulerApp        *scheduler_db_load_app         (BerthStore            *store,
                                                    const char            *id,
                                                    const SchedulerLimits *limits,
                                                    GError               **error);
gboolean             scheduler_db_app_exists       (BerthStore            *store,
                                                    const char            *id,
                                                    gboolean              *exists,
                                                    GError               **error);
GPtrArray           *scheduler_db_load_deployments (BerthStore  *store,
                                                    GError     **error);
SchedulerDeployment *scheduler_db_load_deployment  (BerthStore  *store,
                                                    const char  *id,
                                                    const char  *app_id,
                                                    GError     **error);
JsonArray           *scheduler_db_list_versions    (BerthStore  *store,
                                                    const char  *app_id,
                                                    GError     **error);
JsonObject          *scheduler_db_load_version     (BerthStore  *store,
                                                    const char  *app_id,
                                                    const char  *version,
                                                    GError     **error);

gboolean scheduler_db_put_app           (BerthTxn    *txn,
                                         JsonObject  *def,
                                         gboolean     reset_backoff,
                                         guint        max_versions,
                                         GError     **error);
gboolean scheduler_db_delete_app        (BerthTxn    *txn,
                                         const char  *id,
                                         GError     **error);
gboolean scheduler_db_set_backoff       (BerthTxn    *txn,
                                         const char  *id,
                                         gdouble      delay,
                                         gint64       launch_after_ms,
                                         JsonObject  *last_failure,
                                         GError     **error);
gboolean scheduler_db_put_deployment    (BerthTxn    *txn,
                                         const char  *id,
                                         const char  *app_id,
                                         const char  *version,
                                         const char  *action,
                                         JsonObject  *previous,
                                         GError     **error);
gboolean scheduler_db_delete_deployment (BerthTxn    *txn,
                                         const char  *id,
                                         GError     **error);
gboolean scheduler_db_finish_deployment (BerthTxn    *txn,
                                         const char  *id,
                                         const char  *app_id,
                                         GError     **error);

G_END_DECLS
