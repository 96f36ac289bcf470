/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-runtime.h"

/**
 * SECTION:berth-runtime
 * @title: BerthRuntime
 * @short_description: the container runtime as a service
 *
 * See #BerthRuntimeInterface. Callers look the implementation up with
 * `berth_context_get_service (context, BERTH_TYPE_RUNTIME)` and must cope
 * with %NULL (the runtime plugin disabled or failed).
 */

G_DEFINE_INTERFACE (BerthRuntime, berth_runtime, G_TYPE_OBJECT)

enum { SIGNAL_CONTAINER_EXITED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
berth_runtime_default_init (BerthRuntimeInterface *iface)
{
  /**
   * BerthRuntime::container-exited:
   * @self: the runtime
   * @id: the container's id
   * @exit_code: its exit status (128 + signal when killed by one)
   * @oom_killed: whether the kernel's OOM killer ended it
   *
   * A container's main process ended.
   */
  signals[SIGNAL_CONTAINER_EXITED] =
    g_signal_new ("container-exited", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_INT, G_TYPE_BOOLEAN);
}

/**
 * berth_runtime_emit_container_exited:
 * @self: a #BerthRuntime
 * @id: the container's id
 * @exit_code: its exit status
 * @oom_killed: whether the OOM killer ended it
 *
 * Emits #BerthRuntime::container-exited; for implementations.
 */
void
berth_runtime_emit_container_exited (BerthRuntime *self, const char *id, int exit_code,
                                     gboolean oom_killed)
{
  g_return_if_fail (BERTH_IS_RUNTIME (self));
  g_return_if_fail (id != NULL);
  g_signal_emit (self, signals[SIGNAL_CONTAINER_EXITED], 0, id, exit_code, oom_killed);
}

/**
 * berth_runtime_ensure_image_async:
 * @self: a #BerthRuntime
 * @reference: an image reference, e.g. `docker.io/library/busybox:latest`
 * @caller: (nullable): on whose behalf
 * @progress: (nullable): where to report the pull
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Makes @reference available locally, pulling it when missing.
 */
void
berth_runtime_ensure_image_async (BerthRuntime *self, const char *reference, BerthCaller *caller,
                                  BerthProgress *progress, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BERTH_IS_RUNTIME (self));
  BERTH_RUNTIME_GET_IFACE (self)->ensure_image_async (self, reference, caller, progress, cancellable, callback, user_data);
}

/**
 * berth_runtime_ensure_image_finish:
 * @self: a #BerthRuntime
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the image id, or %NULL on error
 */
char *
berth_runtime_ensure_image_finish (BerthRuntime *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BERTH_IS_RUNTIME (self), NULL);
  return BERTH_RUNTIME_GET_IFACE (self)->ensure_image_finish (self, result, error);
}

/**
 * berth_runtime_create_container_async:
 * @self: a #BerthRuntime
 * @spec: the container to create
 * @caller: (nullable): on whose behalf
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Creates a container from @spec (Docker create-body JSON).
 */
void
berth_runtime_create_container_async (BerthRuntime *self, JsonObject *spec, BerthCaller *caller,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  g_return_if_fail (BERTH_IS_RUNTIME (self));
  BERTH_RUNTIME_GET_IFACE (self)->create_container_async (self, spec, caller, cancellable, callback, user_data);
}

/**
 * berth_runtime_create_container_finish:
 * @self: a #BerthRuntime
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the container id, or %NULL on error
 */
char *
berth_runtime_create_container_finish (BerthRuntime *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BERTH_IS_RUNTIME (self), NULL);
  return BERTH_RUNTIME_GET_IFACE (self)->create_container_finish (self, result, error);
}

/**
 * berth_runtime_start_container_async:
 * @self: a #BerthRuntime
 * @id: a container id or name
 * @caller: (nullable): on whose behalf
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Starts a created container.
 */
void
berth_runtime_start_container_async (BerthRuntime *self, const char *id, BerthCaller *caller,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_return_if_fail (BERTH_IS_RUNTIME (self));
  BERTH_RUNTIME_GET_IFACE (self)->start_container_async (self, id, caller, cancellable, callback, user_data);
}

/**
 * berth_runtime_start_container_finish:
 * @self: a #BerthRuntime
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
berth_runtime_start_container_finish (BerthRuntime *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BERTH_IS_RUNTIME (self), FALSE);
  return BERTH_RUNTIME_GET_IFACE (self)->start_container_finish (self, result, error);
}

/**
 * berth_runtime_stop_container_async:
 * @self: a #BerthRuntime
 * @id: a container id or name
 * @timeout_s: seconds to wait before SIGKILL
 * @caller: (nullable): on whose behalf
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Stops a container: SIGTERM, then SIGKILL after @timeout_s seconds.
 */
void
berth_runtime_stop_container_async (BerthRuntime *self, const char *id, guint timeout_s,
                                    BerthCaller *caller, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BERTH_IS_RUNTIME (self));
  BERTH_RUNTIME_GET_IFACE (self)->stop_container_async (self, id, timeout_s, caller, cancellable, callback, user_data);
}

/**
 * berth_runtime_stop_container_finish:
 * @self: a #BerthRuntime
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
berth_runtime_stop_container_finish (BerthRuntime *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BERTH_IS_RUNTIME (self), FALSE);
  return BERTH_RUNTIME_GET_IFACE (self)->stop_container_finish (self, result, error);
}

/**
 * berth_runtime_kill_container:
 * @self: a #BerthRuntime
 * @id: a container id or name
 * @signum: a signal number
 * @caller: (nullable): on whose behalf
 * @error: return location for a #GError
 *
 * Sends @signum to the container.
 *
 * Returns: %TRUE on success
 */
gboolean
berth_runtime_kill_container (BerthRuntime *self, const char *id, int signum, BerthCaller *caller,
                              GError **error)
{
  g_return_val_if_fail (BERTH_IS_RUNTIME (self), FALSE);
  return BERTH_RUNTIME_GET_IFACE (self)->kill_container (self, id, signum, caller, error);
}

/**
 * berth_runtime_remove_container:
 * @self: a #BerthRuntime
 * @id: a container id or name
 * @force: remove even a running container
 * @caller: (nullable): on whose behalf
 * @error: return location for a #GError
 *
 * Removes a container.
 *
 * Returns: %TRUE on success
 */
gboolean
berth_runtime_remove_container (BerthRuntime *self, const char *id, gboolean force,
                                BerthCaller *caller, GError **error)
{
  g_return_val_if_fail (BERTH_IS_RUNTIME (self), FALSE);
  return BERTH_RUNTIME_GET_IFACE (self)->remove_container (self, id, force, caller, error);
}

/**
 * berth_runtime_inspect_container:
 * @self: a #BerthRuntime
 * @id: a container id or name
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the container in Docker's inspect shape, or %NULL on error
 */
JsonObject *
berth_runtime_inspect_container (BerthRuntime *self, const char *id, GError **error)
{
  g_return_val_if_fail (BERTH_IS_RUNTIME (self), NULL);
  return BERTH_RUNTIME_GET_IFACE (self)->inspect_container (self, id, error);
}

/**
 * berth_runtime_exec_container_async:
 * @self: a #BerthRuntime
 * @id: a running container's id or name
 * @argv: (array zero-terminated=1): the command to run inside it
 * @timeout_ms: kill it and fail with %BERTH_ERROR_TIMEOUT after this long
 * @caller: (nullable): on whose behalf
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Runs a command in a running container's namespaces and cgroup, as
 * `docker exec` does (command health checks of container apps use it).
 */
void
berth_runtime_exec_container_async (BerthRuntime *self, const char *id, const char * const *argv,
                                    guint timeout_ms, BerthCaller *caller, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BERTH_IS_RUNTIME (self));
  g_return_if_fail (id != NULL && argv != NULL && argv[0] != NULL);
  BERTH_RUNTIME_GET_IFACE (self)->exec_container_async (self, id, argv, timeout_ms, caller,
                                                        cancellable, callback, user_data);
}

/**
 * berth_runtime_exec_container_finish:
 * @self: a #BerthRuntime
 * @result: the #GAsyncResult
 * @exit_status: (out) (optional): the command's exit status
 * @output: (out) (optional) (transfer full): its standard output and
 *   error, combined (bounded)
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the command ran to its end (whatever its status)
 */
gboolean
berth_runtime_exec_container_finish (BerthRuntime *self, GAsyncResult *result, int *exit_status,
                                     char **output, GError **error)
{
  g_return_val_if_fail (BERTH_IS_RUNTIME (self), FALSE);
  return BERTH_RUNTIME_GET_IFACE (self)->exec_container_finish (self, result, exit_status, output,
                                                                error);
}
