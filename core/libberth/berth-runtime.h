/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "berth-caller.h"
#include "berth-progress.h"

G_BEGIN_DECLS

#define BERTH_TYPE_RUNTIME (berth_runtime_get_type ())
G_DECLARE_INTERFACE (BerthRuntime, berth_runtime, BERTH, RUNTIME, GObject)

/**
 * BerthRuntimeInterface:
 * @ensure_image_async: make an image available locally (pull it when
 *   missing), reporting into @progress
 * @ensure_image_finish: the image's id
 * @create_container_async: create a container from @spec
 * @create_container_finish: the new container's id
 * @start_container_async: start a created container
 * @start_container_finish: the result
 * @stop_container_async: SIGTERM, then SIGKILL after @timeout_s
 * @stop_container_finish: the result
 * @kill_container: send @signum to the container's init
 * @remove_container: remove a stopped container (or any with @force)
 * @inspect_container: the container's state and configuration
 * @exec_container_async: run @argv inside a running container (as
 *   `docker exec` does), with a timeout; for command health checks
 * @exec_container_finish: its exit status and combined output
 *
 * The container runtime as a service: the runtime plugin implements it
 * and registers it (berth_context_add_service()); the scheduler's tasks,
 * the Docker API and D-Bus drive containers through it, in process.
 *
 * A container @spec and an inspection use the Docker Engine API's JSON
 * shapes (create body: `Image`, `Cmd`, `Entrypoint`, `Env`, `Labels`,
 * `WorkingDir`, `User`, `ExposedPorts`, `HostConfig` with `Memory`,
 * `NanoCpus`, `PortBindings`, `NetworkMode`, `AutoRemove`, plus Berth's
 * `Name`; inspection: `Id`, `Name`, `Image`, `Config`, `State` with
 * `Status`, `Running`, `Pid`, `ExitCode`, `OOMKilled`, `StartedAt`,
 * `FinishedAt`, and `NetworkSettings`), so that no front door needs a
 * second mapping.
 *
 * Errors are in %BERTH_ERROR: %BERTH_ERROR_NOT_FOUND for an unknown image
 * or container, %BERTH_ERROR_CONFLICT for a container in the wrong state,
 * %BERTH_ERROR_INVALID for a bad spec.
 */
struct _BerthRuntimeInterface {
  GTypeInterface parent_iface;

  void        (*ensure_image_async)      (BerthRuntime        *self,
                                          const char          *reference,
                                          BerthCaller         *caller,
                                          BerthProgress       *progress,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
  char       *(*ensure_image_finish)     (BerthRuntime        *self,
                                          GAsyncResult        *result,
                                          GError             **error);
  void        (*create_container_async)  (BerthRuntime        *self,
                                          JsonObject          *spec,
                                          BerthCaller         *caller,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
  char       *(*create_container_finish) (BerthRuntime        *self,
                                          GAsyncResult        *result,
                                          GError             **error);
  void        (*start_container_async)   (BerthRuntime        *self,
                                          const char          *id,
                                          BerthCaller         *caller,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
  gboolean    (*start_container_finish)  (BerthRuntime        *self,
                                          GAsyncResult        *result,
                                          GError             **error);
  void        (*stop_container_async)    (BerthRuntime        *self,
                                          const char          *id,
                                          guint                timeout_s,
                                          BerthCaller         *caller,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
  gboolean    (*stop_container_finish)   (BerthRuntime        *self,
                                          GAsyncResult        *result,
                                          GError             **error);
  gboolean    (*kill_container)          (BerthRuntime        *self,
                                          const char          *id,
                                          int                  signum,
                                          BerthCaller         *caller,
                                          GError             **error);
  gboolean    (*remove_container)        (BerthRuntime        *self,
                                          const char          *id,
                                          gboolean             force,
                                          BerthCaller         *caller,
                                          GError             **error);
  JsonObject *(*inspect_container)       (BerthRuntime        *self,
                                          const char          *id,
                                          GError             **error);
  void        (*exec_container_async)    (BerthRuntime        *self,
                                          const char          *id,
                                          const char * const  *argv,
                                          guint                timeout_ms,
                                          BerthCaller         *caller,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
  gboolean    (*exec_container_finish)   (BerthRuntime        *self,
                                          GAsyncResult        *result,
                                          int                 *exit_status,
                                          char               **output,
                                          GError             **error);

  /*< private >*/
  gpointer padding[6];
};

void        berth_runtime_ensure_image_async      (BerthRuntime        *self,
                                                   const char          *reference,
                                                   BerthCaller         *caller,
                                                   BerthProgress       *progress,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
char       *berth_runtime_ensure_image_finish     (BerthRuntime        *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
void        berth_runtime_create_container_async  (BerthRuntime        *self,
                                                   JsonObject          *spec,
                                                   BerthCaller         *caller,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
char       *berth_runtime_create_container_finish (BerthRuntime        *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
void        berth_runtime_start_container_async   (BerthRuntime        *self,
                                                   const char          *id,
                                                   BerthCaller         *caller,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean    berth_runtime_start_container_finish  (BerthRuntime        *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
void        berth_runtime_stop_container_async    (BerthRuntime        *self,
                                                   const char          *id,
                                                   guint                timeout_s,
                                                   BerthCaller         *caller,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean    berth_runtime_stop_container_finish   (BerthRuntime        *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
gboolean    berth_runtime_kill_container          (BerthRuntime        *self,
                                                   const char          *id,
                                                   int                  signum,
                                                   BerthCaller         *caller,
                                                   GError             **error);
gboolean    berth_runtime_remove_container        (BerthRuntime        *self,
                                                   const char          *id,
                                                   gboolean             force,
                                                   BerthCaller         *caller,
                                                   GError             **error);
JsonObject *berth_runtime_inspect_container       (BerthRuntime        *self,
                                                   const char          *id,
                                                   GError             **error);
void        berth_runtime_exec_container_async    (BerthRuntime        *self,
                                                   const char          *id,
                                                   const char * const  *argv,
                                                   guint                timeout_ms,
                                                   BerthCaller         *caller,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean    berth_runtime_exec_container_finish   (BerthRuntime        *self,
                                                   GAsyncResult        *result,
                                                   int                 *exit_status,
                                                   char               **output,
                                                   GError             **error);
void        berth_runtime_emit_container_exited   (BerthRuntime        *self,
                                                   const char          *id,
                                                   int                  exit_code,
                                                   gboolean             oom_killed);

G_END_DECLS
