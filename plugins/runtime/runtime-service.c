/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "runtime-container.h"
#include "runtime-docker.h"
#include "runtime-service.h"

/* BerthRuntime over the container engine (runtime-container*.c) and the
 * image store: what the task executor, and any other plugin, drive
 * containers with, in process. Specs and inspections are in Docker's
 * shapes (runtime-docker.c). Calls made before the runtime has chosen
 * its OCI runtime (a probe at start) wait for it; `container-exited` is
 * emitted for every exit the engine records. */

#define EXEC_MAX_OUTPUT (64 * 1024)

struct _RuntimeService {
  GObject        parent_instance;
  RuntimePlugin *plugin;   /* not owned; NULL once shut down */
};

static void runtime_service_iface_init (BerthRuntimeInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RuntimeService, runtime_service, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BERTH_TYPE_RUNTIME, runtime_service_iface_init))

static void
container_exited_cb (const char *id, int exit_code, gboolean oom_killed, gpointer user_data)
{
  berth_runtime_emit_container_exited (BERTH_RUNTIME (user_data), id, exit_code, oom_killed);
}

RuntimeService *
runtime_service_new (RuntimePlugin *plugin)
{
  RuntimeService *self = g_object_new (RUNTIME_TYPE_SERVICE, NULL);

  self->plugin = plugin;
  runtime_containers_set_exit_func (runtime_plugin_get_containers (plugin), container_exited_cb, self);
  return self;
}

void
runtime_service_shutdown (RuntimeService *self)
{
  if (self->plugin != NULL && runtime_plugin_get_containers (self->plugin) != NULL)
    runtime_containers_set_exit_func (runtime_plugin_get_containers (self->plugin), NULL, NULL);
  self->plugin = NULL;
}

static gboolean
check_up (RuntimeService *self, gboolean need_ready, GError **error)
{
  if (self->plugin == NULL || runtime_plugin_get_containers (self->plugin) == NULL)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE, _("The runtime is stopping"));
      return FALSE;
    }
  if (need_ready && !runtime_plugin_is_ready (self->plugin))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE, _("The runtime is still starting"));
      return FALSE;
    }
  return TRUE;
}

static RuntimeContainers *
engine (RuntimeService *self)
{
  return runtime_plugin_get_containers (self->plugin);
}

/* Runs @func (@task) once the runtime is ready (at once if it is). */
typedef void (*Step) (RuntimeService *self, GTask *task);

typedef struct {
  RuntimeService *self;
  GTask          *task;
  Step            step;
} Deferred;

static void
deferred_free (gpointer data)
{
  Deferred *d = data;
  g_object_unref (d->task);
  g_object_unref (d->self);
  g_free (d);
}

static void
deferred_run (gpointer data)
{
  Deferred *d = data;
  g_autoptr(GError) error = NULL;

  if (!check_up (d->self, TRUE, &error))
    g_task_return_error (d->task, g_steal_pointer (&error));
  else
    d->step (d->self, d->task);
}

static void
when_ready (RuntimeService *self, GTask *task, Step step)
{
  g_autoptr(GError) error = NULL;
  Deferred *d;

  if (!check_up (self, FALSE, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  d = g_new0 (Deferred, 1);
  d->self = g_object_ref (self);
  d->task = g_object_ref (task);
  d->step = step;
  runtime_plugin_when_ready (self->plugin, deferred_run, d, deferred_free);
}

/* ------------------------------------------------------------- images */

static void
pulled_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  RuntimeService *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  char *id;

  if (!check_up (self, FALSE, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  id = runtime_images_pull_finish (runtime_plugin_get_images (self->plugin), result, &error);
  if (id == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, id, g_free);
}

static void
ensure_image_async (BerthRuntime *runtime, const char *reference, BerthCaller *caller, BerthProgress *progress,
                    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  RuntimeService *self = RUNTIME_SERVICE (runtime);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  RuntimeImages *images;

  g_task_set_source_tag (task, ensure_image_async);
  if (!check_up (self, FALSE, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  images = runtime_plugin_get_images (self->plugin);
  id = runtime_images_resolve (images, reference, NULL);
  if (id != NULL)
    {
      g_task_return_pointer (task, g_steal_pointer (&id), g_free);
      return;
    }
  runtime_images_pull_async (images, reference, progress, cancellable, pulled_cb, g_steal_pointer (&task));
}

static char *
ensure_image_finish (BerthRuntime *runtime, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------- create */

static void
created_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  RuntimeService *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) answer = NULL;

  if (!check_up (self, FALSE, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  answer = runtime_containers_create_finish (engine (self), result, &error);
  if (answer == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, g_strdup (json_object_get_string_member (answer, "Id")), g_free);
}

static void
create_step (RuntimeService *self, GTask *task)
{
  runtime_containers_create_async (engine (self), g_task_get_task_data (task), g_task_get_cancellable (task),
                                   created_cb, g_object_ref (task));
}

static void
create_container_async (BerthRuntime *runtime, JsonObject *docker_spec, BerthCaller *caller,
                        GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  RuntimeService *self = RUNTIME_SERVICE (runtime);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  JsonObject *spec = runtime_docker_to_spec (docker_spec, &error);

  g_task_set_source_tag (task, create_container_async);
  if (spec == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_set_task_data (task, spec, (GDestroyNotify) json_object_unref);
  when_ready (self, task, create_step);
}

static char *
create_container_finish (BerthRuntime *runtime, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------- start, stop */

typedef struct {
  char  *id;
  guint  timeout_s;
} Op;

static void
op_free (Op *op)
{
  g_free (op->id);
  g_free (op);
}

static GTask *
op_task (RuntimeService *self, const char *id, guint timeout_s, GCancellable *cancellable,
         GAsyncReadyCallback callback, gpointer user_data, gpointer tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);

  op->id = g_strdup (id);
  op->timeout_s = timeout_s;
  g_task_set_source_tag (task, tag);
  g_task_set_task_data (task, op, (GDestroyNotify) op_free);
  return task;
}

static void
started_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  RuntimeService *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;

  if (!check_up (self, FALSE, &error) || !runtime_containers_start_finish (engine (self), result, NULL, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
start_step (RuntimeService *self, GTask *task)
{
  Op *op = g_task_get_task_data (task);
  runtime_containers_start_async (engine (self), op->id, g_task_get_cancellable (task), started_cb,
                                  g_object_ref (task));
}

static void
start_container_async (BerthRuntime *runtime, const char *id, BerthCaller *caller, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  RuntimeService *self = RUNTIME_SERVICE (runtime);
  g_autoptr(GTask) task = op_task (self, id, 0, cancellable, callback, user_data, start_container_async);

  when_ready (self, task, start_step);
}

static gboolean
boolean_finish (BerthRuntime *runtime, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
stopped_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  RuntimeService *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;

  if (!check_up (self, FALSE, &error) || !runtime_containers_stop_finish (engine (self), result, NULL, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
stop_step (RuntimeService *self, GTask *task)
{
  Op *op = g_task_get_task_data (task);
  runtime_containers_stop_async (engine (self), op->id, op->timeout_s, g_task_get_cancellable (task), stopped_cb,
                                 g_object_ref (task));
}

static void
stop_container_async (BerthRuntime *runtime, const char *id, guint timeout_s, BerthCaller *caller,
                      GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  RuntimeService *self = RUNTIME_SERVICE (runtime);
  g_autoptr(GTask) task = op_task (self, id, timeout_s, cancellable, callback, user_data, stop_container_async);

  when_ready (self, task, stop_step);
}

/* ------------------------------------------------------------- kill, remove, inspect */

static void
fired_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error) && error != NULL)
    g_debug ("%s: %s", (const char *) user_data, error->message);
}

static void
killed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (!runtime_containers_kill_finish (NULL, result, &error))
    g_debug ("kill: %s", error->message);
}

/* the state of container @id, for the calls that act at once */
static char *
state_of (RuntimeService *self, const char *id, GError **error)
{
  g_autoptr(JsonObject) info = NULL;

  if (!check_up (self, TRUE, error))
    return NULL;
  info = runtime_containers_inspect (engine (self), id, error);
  return info != NULL ? g_strdup (json_object_get_string_member (info, "State")) : NULL;
}

static gboolean
kill_container (BerthRuntime *runtime, const char *id, int signum, BerthCaller *caller, GError **error)
{
  RuntimeService *self = RUNTIME_SERVICE (runtime);
  g_autofree char *state = state_of (self, id, error);

  if (state == NULL)
    return FALSE;
  if (signum <= 0 || signum >= 65)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Unknown signal"));
      return FALSE;
    }
  if (g_strcmp0 (state, "running") != 0 && g_strcmp0 (state, "created") != 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT, _("Container %s is not running"), id);
      return FALSE;
    }
  runtime_containers_kill_async (engine (self), id, signum, NULL, killed_cb, NULL);
  return TRUE;
}

static gboolean
remove_container (BerthRuntime *runtime, const char *id, gboolean force, BerthCaller *caller, GError **error)
{
  RuntimeService *self = RUNTIME_SERVICE (runtime);
  g_autofree char *state = state_of (self, id, error);

  if (state == NULL)
    return FALSE;
  if (!force && (g_strcmp0 (state, "running") == 0 || g_strcmp0 (state, "created") == 0))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT, _("Container %s is %s: stop it first"), id, state);
      return FALSE;
    }
  if (g_strcmp0 (state, "creating") == 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT, _("The container is still being created"));
      return FALSE;
    }
  /* the files go in the background */
  runtime_containers_remove_async (engine (self), id, force, NULL, fired_cb, (gpointer) "remove");
  return TRUE;
}

static JsonObject *
inspect_container (BerthRuntime *runtime, const char *id, GError **error)
{
  RuntimeService *self = RUNTIME_SERVICE (runtime);
  g_autoptr(JsonObject) info = NULL;

  if (!check_up (self, TRUE, error))
    return NULL;
  info = runtime_containers_inspect (engine (self), id, error);
  return info != NULL ? runtime_docker_inspection (info) : NULL;
}

/* ------------------------------------------------------------- exec */

typedef struct {
  char   *id;
  GStrv   argv;
  guint   timeout_ms;
  int     status;
  char   *output;
} ExecOp;

static void
exec_op_free (ExecOp *op)
{
  g_free (op->id);
  g_strfreev (op->argv);
  g_free (op->output);
  g_free (op);
}

static void
executed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  RuntimeService *self = g_task_get_source_object (task);
  ExecOp *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!check_up (self, FALSE, &error) ||
      !runtime_containers_exec_finish (engine (self), result, &op->status, &op->output, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
exec_step (RuntimeService *self, GTask *task)
{
  ExecOp *op = g_task_get_task_data (task);
  runtime_containers_exec_async (engine (self), op->id, (const char * const *) op->argv, op->timeout_ms,
                                 EXEC_MAX_OUTPUT, g_task_get_cancellable (task), executed_cb, g_object_ref (task));
}

static void
exec_container_async (BerthRuntime *runtime, const char *id, const char * const *argv, guint timeout_ms,
                      BerthCaller *caller, GCancellable *cancellable, GAsyncReadyCallback callback,
                      gpointer user_data)
{
  RuntimeService *self = RUNTIME_SERVICE (runtime);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  ExecOp *op = g_new0 (ExecOp, 1);

  op->id = g_strdup (id);
  op->argv = g_strdupv ((char **) argv);
  op->timeout_ms = timeout_ms;
  g_task_set_source_tag (task, exec_container_async);
  g_task_set_task_data (task, op, (GDestroyNotify) exec_op_free);
  when_ready (self, task, exec_step);
}

static gboolean
exec_container_finish (BerthRuntime *runtime, GAsyncResult *result, int *exit_status, char **output,
                       GError **error)
{
  ExecOp *op = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (exit_status != NULL)
    *exit_status = op->status;
  if (output != NULL)
    *output = g_strdup (op->output != NULL ? op->output : "");
  return TRUE;
}

static void
runtime_service_iface_init (BerthRuntimeInterface *iface)
{
  iface->ensure_image_async = ensure_image_async;
  iface->ensure_image_finish = ensure_image_finish;
  iface->create_container_async = create_container_async;
  iface->create_container_finish = create_container_finish;
  iface->start_container_async = start_container_async;
  iface->start_container_finish = boolean_finish;
  iface->stop_container_async = stop_container_async;
  iface->stop_container_finish = boolean_finish;
  iface->kill_container = kill_container;
  iface->remove_container = remove_container;
  iface->inspect_container = inspect_container;
  iface->exec_container_async = exec_container_async;
  iface->exec_container_finish = exec_container_finish;
}

static void
runtime_service_class_init (RuntimeServiceClass *klass)
{
}

static void
runtime_service_init (RuntimeService *self)
{
}
