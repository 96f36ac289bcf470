/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "runtime-plugin.h"

G_BEGIN_DECLS

/* The container engine: every operation on containers, whoever asks
 * (the HTTP API in runtime-http.c, the BerthRuntime service in
 * runtime-service.c). Containers are named by @key: an id, a unique id
 * prefix of 4 or more digits, or a name. Specs and answers are in Berth's
 * own JSON shape (see runtime-docker.c for Docker's). Errors are in
 * BERTH_ERROR. Everything runs on the main thread. */

typedef struct _RuntimeLogs RuntimeLogs;

/* A container's main process ended. */
typedef void (*RuntimeContainerExitFunc) (const char *id,
                                          int         exit_code,
                                          gboolean    oom_killed,
                                          gpointer    user_data);

RuntimeContainers *runtime_containers_new        (RuntimePlugin      *plugin,
                                                  RuntimeLogs        *logs,
                                                  GError            **error);
void               runtime_containers_free       (RuntimeContainers  *self);
gboolean           runtime_containers_reconcile  (RuntimeContainers  *self,
                                                  GError            **error);
void               runtime_containers_set_exit_func (RuntimeContainers       *self,
                                                     RuntimeContainerExitFunc func,
                                                     gpointer                 user_data);

/* Creates a container; the answer is {"Id", "Name", "Address", "Warnings"}. */
void        runtime_containers_create_async  (RuntimeContainers   *self,
                                              JsonObject          *spec,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
JsonObject *runtime_containers_create_finish (RuntimeContainers   *self,
                                              GAsyncResult        *result,
                                              GError             **error);
/* @unchanged: set when it was running already */
void        runtime_containers_start_async   (RuntimeContainers   *self,
                                              const char          *key,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    runtime_containers_start_finish  (RuntimeContainers   *self,
                                              GAsyncResult        *result,
                                              gboolean            *unchanged,
                                              GError             **error);
/* The image's StopSignal (else SIGTERM), SIGKILL after @timeout_s (0:
 * SIGKILL at once); done when it has exited. @unchanged: it was not
 * running. */
void        runtime_containers_stop_async    (RuntimeContainers   *self,
                                              const char          *key,
                                              guint                timeout_s,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    runtime_containers_stop_finish   (RuntimeContainers   *self,
                                              GAsyncResult        *result,
                                              gboolean            *unchanged,
                                              GError             **error);
void        runtime_containers_kill_async    (RuntimeContainers   *self,
                                              const char          *key,
                                              int                  signum,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    runtime_containers_kill_finish   (RuntimeContainers   *self,
                                              GAsyncResult        *result,
                                              GError             **error);
/* Done when it has exited: {"StatusCode", "OOMKilled", "Reason"} */
void        runtime_containers_wait_async    (RuntimeContainers   *self,
                                              const char          *key,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
JsonObject *runtime_containers_wait_finish   (RuntimeContainers   *self,
                                              GAsyncResult        *result,
                                              GError             **error);
/* A running container only with @force (killed first). A row set aside
 * as broken is deleted. */
void        runtime_containers_remove_async  (RuntimeContainers   *self,
                                              const char          *key,
                                              gboolean             force,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    runtime_containers_remove_finish (RuntimeContainers   *self,
                                              GAsyncResult        *result,
                                              GError             **error);
JsonObject *runtime_containers_inspect       (RuntimeContainers   *self,
                                              const char          *key,
                                              GError             **error);
/* every container of this node (@all), or those not exited */
JsonArray  *runtime_containers_list          (RuntimeContainers   *self,
                                              gboolean             all);
/* The id of @key, and whether it may still write output. */
char       *runtime_containers_resolve       (RuntimeContainers   *self,
                                              const char          *key,
                                              gboolean            *live,
                                              GError             **error);
/* `runc exec` (or a chroot for the exec runtime) in a running container:
 * combined output up to @max_output bytes, killed after @timeout_ms. */
void        runtime_containers_exec_async    (RuntimeContainers   *self,
                                              const char          *key,
                                              const char * const  *argv,
                                              guint                timeout_ms,
                                              gsize                max_output,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    runtime_containers_exec_finish   (RuntimeContainers   *self,
                                              GAsyncResult        *result,
                                              int                 *exit_status,
                                              char               **output,
                                              GError             **error);

G_END_DECLS
