/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "scheduler-apps.h"
#include "scheduler-plugin.h"

G_BEGIN_DECLS

/* The Marathon API's pieces (scheduler-http*.c): shared answers and the
 * handlers the route table in scheduler-http.c names. */

BerthStore *scheduler_http_store       (SchedulerPlugin *self);
void        scheduler_http_respond_object (BerthRequest *req,
                                           guint         status,
                                           JsonObject   *obj);
void        scheduler_http_respond_not_implemented (BerthRequest *req,
                                                    const char   *what);
void        scheduler_http_respond_invalid (BerthRequest *req,
                                            JsonArray    *details);
void        scheduler_http_run         (SchedulerPlugin *self,
                                        BerthRequest    *req,
                                        SchedulerAppOp  *op);
gboolean    scheduler_http_flags       (BerthRequest    *req,
                                        SchedulerAppOp  *op);
gboolean    scheduler_http_authorize_app (BerthRequest  *req,
                                          const char    *app_id,
                                          BerthAccess    access);
gboolean    scheduler_http_authorize_op  (BerthRequest   *req,
                                          SchedulerAppOp *op);
gboolean    scheduler_http_may_read_app  (BerthRequest  *req,
                                          const char    *app_id);

/* scheduler-http-apps.c */
void scheduler_http_handle_apps     (BerthRequest *req, gpointer user_data);
void scheduler_http_handle_app_path (BerthRequest *req, gpointer user_data);

/* scheduler-http-tasks.c */
void scheduler_http_respond_tasks        (SchedulerPlugin *self,
                                          BerthRequest    *req,
                                          const char      *app_id);
void scheduler_http_handle_tasks         (BerthRequest *req, gpointer user_data);
void scheduler_http_handle_tasks_delete  (BerthRequest *req, gpointer user_data);
void scheduler_http_handle_deployments   (BerthRequest *req, gpointer user_data);
void scheduler_http_handle_deployment    (BerthRequest *req, gpointer user_data);
void scheduler_http_handle_queue         (BerthRequest *req, gpointer user_data);
void scheduler_http_handle_queue_delay   (BerthRequest *req, gpointer user_data);

G_END_DECLS
