/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The task executor's client of the runtime's own container API (over
 * berthd's unix socket): container tasks go through the same code, and
 * the same checks, as `berth run`. */
typedef struct _RuntimeTaskApi RuntimeTaskApi;

/* @status is 0 when no answer came (@body NULL, @error says why). */
typedef void (*RuntimeTaskApiDone) (guint        status,
                                    GBytes      *body,
                                    const char  *error,
                                    gpointer     user_data);

RuntimeTaskApi *runtime_task_api_new    (const char         *socket_path);
void            runtime_task_api_free   (RuntimeTaskApi     *self);
void            runtime_task_api_call   (RuntimeTaskApi     *self,
                                         const char         *method,
                                         const char         *path,
                                         JsonNode           *body,
                                         RuntimeTaskApiDone  done,
                                         gpointer            user_data,
                                         GDestroyNotify      destroy);
JsonNode       *runtime_task_api_parse  (GBytes             *body);

G_END_DECLS
