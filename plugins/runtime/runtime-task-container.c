/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "runtime-tasks-private.h"

/* Container tasks, through the BerthRuntime service (in process): the
 * image is made available, the container created and started; its end
 * comes as BerthRuntime::container-exited; a stop is a stop of the
 * container with the task's grace period. So a task's container gets the
 * same images, networks and limits as `berth run`. */

typedef struct {
  RuntimeTasks *self;
  char         *task_id;
} Step;

static Step *
step_new (RuntimeTasks *self, Proc *p)
{
  Step *st = g_new0 (Step, 1);

  st->self = self;
  st->task_id = g_strdup (berth_task_get_id (p->task));
  return st;
}

static void
step_free (Step *st)
{
  g_free (st->task_id);
  g_free (st);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Step, step_free)

/* The Proc of the step, or NULL when berthd stops (@error cancelled) or
 * the task is gone. */
static Proc *
step_proc (Step *st, const GError *error)
{
  if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return NULL;
  return g_hash_table_lookup (st->self->procs, st->task_id);
}

static BerthRuntime *
runtime_of (RuntimeTasks *self)
{
  return self->runtime;
}

static char *
container_name (BerthTask *task)
{
  return g_strdup_printf ("task-%s", berth_task_get_id (task));
}

/* The task's start failed with @msg: it ends (killed if it was being
 * stopped, else failed). */
static void
fail_message (Proc *p, const char *msg)
{
  RuntimeTasks *self = p->owner;
  g_autoptr(BerthTask) task = NULL;

  if (p->killing)
    {
      runtime_tasks_finish (p, FALSE, 0, FALSE, msg);
      return;
    }
  /* removing the Proc frees it and drops its reference on the task */
  task = g_object_ref (p->task);
  g_hash_table_remove (self->procs, berth_task_get_id (task));
  runtime_tasks_fail (self, task, BERTH_TASK_STATE_FAILED, msg);
}

static void
fail (Proc *p, const GError *error)
{
  g_autofree char *msg = g_strdup_printf (_("Cannot run the container: %s"), error->message);

  fail_message (p, msg);
}

static void
remove_container (RuntimeTasks *self, const char *id)
{
  g_autoptr(GError) error = NULL;

  if (id == NULL || runtime_of (self) == NULL)
    return;
  if (!berth_runtime_remove_container (runtime_of (self), id, TRUE, self->caller, &error) &&
      !g_error_matches (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
    g_debug ("removing a task's container: %s", error->message);
}

/* Whether the task was stopped while a step of its start was in flight:
 * then it ends here (its container, if made, is removed). */
static gboolean
abandoned (Proc *p)
{
  if (!p->killing)
    return FALSE;
  remove_container (p->owner, p->container_id);
  runtime_tasks_finish (p, FALSE, 0, FALSE, NULL);
  return TRUE;
}

static void
started_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(Step) st = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = berth_runtime_start_container_finish (BERTH_RUNTIME (source), result, &error);
  Proc *p = step_proc (st, error);
  g_autofree char *now = NULL;

  if (p == NULL)
    return;
  if (!ok)
    {
      remove_container (st->self, p->container_id);
      fail (p, error);
      return;
    }
  now = berth_task_timestamp_now ();
  p->reported = TRUE;
  berth_task_set_state (p->task, BERTH_TASK_STATE_RUNNING);
  berth_task_set_host (p->task, st->self->host);
  berth_task_set_runtime_id (p->task, p->container_id);
  berth_task_set_started_at (p->task, now);
  runtime_tasks_report (st->self, p->task);
  if (p->exited)
    {
      g_autofree char *cid = g_strdup (p->container_id);
      runtime_tasks_finish (p, TRUE, p->exit_code, p->oom_killed, NULL);
      remove_container (st->self, cid);
      return;
    }
  if (p->killing)
    {
      p->killing = FALSE;
      runtime_tasks_kill (st->self, p);
    }
}

static void
start (Proc *p)
{
  RuntimeTasks *self = p->owner;

  if (abandoned (p))
    return;
  berth_runtime_start_container_async (runtime_of (self), p->container_id, self->caller, self->cancellable,
                                       started_cb, step_new (self, p));
}

static void
created_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(Step) st = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = berth_runtime_create_container_finish (BERTH_RUNTIME (source), result, &error);
  Proc *p = step_proc (st, error);

  if (p == NULL)
    {
      /* berthd stops, or nobody wants it any more */
      if (id != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        remove_container (st->self, id);
      return;
    }
  if (id == NULL && g_error_matches (error, BERTH_ERROR, BERTH_ERROR_CONFLICT))
    {
      /* made before a restart: use it */
      g_autofree char *name = container_name (p->task);
      g_autoptr(GError) inspect_error = NULL;
      g_autoptr(JsonObject) info = berth_runtime_inspect_container (runtime_of (st->self), name, &inspect_error);
      const char *found = info != NULL && json_object_has_member (info, "Id")
                            ? json_object_get_string_member (info, "Id") : NULL;
      if (found == NULL)
        {
          fail (p, inspect_error != NULL ? inspect_error : error);
          return;
        }
      id = g_strdup (found);
    }
  else if (id == NULL)
    {
      fail (p, error);
      return;
    }
  p->container_id = g_steal_pointer (&id);
  start (p);
}

/* The Docker create body of a task's container. */
static JsonObject *
container_spec (RuntimeTasks *self, Proc *p)
{
  BerthTaskSpec *spec = p->spec;
  GArray *host_ports = berth_task_get_ports (p->task);
  g_autoptr(GPtrArray) env = runtime_tasks_env_pairs (self, p->task, spec);
  g_autofree char *name = container_name (p->task);
  const char *cmd = berth_task_spec_get_cmd (spec);
  const char * const *args = berth_task_spec_get_args (spec);
  BerthTaskNetwork network = berth_task_spec_get_network (spec);
  JsonObject *body = json_object_new ();
  JsonObject *host = json_object_new ();
  JsonArray *env_array = json_array_new ();
  guint64 mem_mb = berth_task_spec_get_mem_mb (spec);

  json_object_set_string_member (body, "Image", berth_task_spec_get_image (spec));
  json_object_set_string_member (body, "Name", name);
  for (guint i = 0; i < env->len; i++)
    json_array_add_string_element (env_array, g_ptr_array_index (env, i));
  json_object_set_array_member (body, "Env", env_array);
  if (cmd != NULL && *cmd != '\0')
    {
      JsonArray *entry = json_array_new ();
      JsonArray *c = json_array_new ();
      json_array_add_string_element (entry, "/bin/sh");
      json_array_add_string_element (entry, "-c");
      json_array_add_string_element (c, cmd);
      json_object_set_array_member (body, "Entrypoint", entry);
      json_object_set_array_member (body, "Cmd", c);
    }
  else if (args != NULL && args[0] != NULL)
    {
      JsonArray *c = json_array_new ();
      for (guint i = 0; args[i] != NULL; i++)
        json_array_add_string_element (c, args[i]);
      json_object_set_array_member (body, "Cmd", c);
    }
  json_object_set_string_member (host, "NetworkMode", network == BERTH_TASK_NETWORK_BRIDGE ? "bridge"
                                                      : network == BERTH_TASK_NETWORK_NONE ? "none" : "host");
  if (mem_mb > 0)
    json_object_set_int_member (host, "Memory", (gint64) mem_mb * 1024 * 1024);
  if (network == BERTH_TASK_NETWORK_BRIDGE)
    {
      JsonObject *bindings = json_object_new ();
      guint n = MIN (berth_task_spec_get_n_ports (spec), host_ports->len);
      for (guint i = 0; i < n; i++)
        {
          const char *protocol = NULL;
          guint container = berth_task_spec_get_port (spec, i, &protocol, NULL);
          guint hp = g_array_index (host_ports, guint, i);
          g_autofree char *key = g_strdup_printf ("%u/%s", container > 0 ? container : hp,
                                                  protocol != NULL ? protocol : "tcp");
          g_autofree char *hp_text = g_strdup_printf ("%u", hp);
          JsonArray *list = json_array_new ();
          JsonObject *b = json_object_new ();
          json_object_set_string_member (b, "HostPort", hp_text);
          json_array_add_object_element (list, b);
          json_object_set_array_member (bindings, key, list);
        }
      json_object_set_object_member (host, "PortBindings", bindings);
    }
  json_object_set_object_member (body, "HostConfig", host);
  return body;
}

static void
ensured_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(Step) st = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *image_id = berth_runtime_ensure_image_finish (BERTH_RUNTIME (source), result, &error);
  Proc *p = step_proc (st, error);
  g_autoptr(JsonObject) spec = NULL;

  if (p == NULL)
    return;
  p->pulling = FALSE;
  if (image_id == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot pull image %s: %s"), berth_task_spec_get_image (p->spec),
                                              error->message);
      fail_message (p, msg);
      return;
    }
  if (abandoned (p))
    return;
  spec = container_spec (st->self, p);
  berth_runtime_create_container_async (runtime_of (st->self), spec, st->self->caller, st->self->cancellable,
                                        created_cb, step_new (st->self, p));
}

void
runtime_task_container_start (RuntimeTasks *self, BerthTask *task, BerthTaskSpec *spec)
{
  Proc *p;

  if (runtime_of (self) == NULL)
    {
      runtime_tasks_fail (self, task, BERTH_TASK_STATE_FAILED, _("No container runtime is running"));
      return;
    }
  p = runtime_tasks_proc_new (self, task, spec);
  p->container = TRUE;
  p->pulling = TRUE;
  berth_runtime_ensure_image_async (runtime_of (self), berth_task_spec_get_image (spec), self->caller, NULL,
                                    self->cancellable, ensured_cb, step_new (self, p));
}

static void
stopped_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (!berth_runtime_stop_container_finish (BERTH_RUNTIME (source), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("stopping a task's container: %s", error->message);
}

void
runtime_task_container_kill (Proc *p)
{
  RuntimeTasks *self = p->owner;

  if (p->container_id == NULL || !p->reported || runtime_of (self) == NULL)
    return;   /* still being made: stopped once started */
  berth_runtime_stop_container_async (runtime_of (self), p->container_id,
                                      MIN (berth_task_spec_get_kill_grace_seconds (p->spec), 3600), self->caller,
                                      self->cancellable, stopped_cb, NULL);
}

static Proc *
proc_of_container (RuntimeTasks *self, const char *id)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->procs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Proc *) value)->container && g_strcmp0 (((Proc *) value)->container_id, id) == 0)
      return value;
  return NULL;
}

static void
exited_cb (BerthRuntime *runtime, const char *id, int exit_code, gboolean oom_killed, gpointer user_data)
{
  RuntimeTasks *self = user_data;
  Proc *p = proc_of_container (self, id);
  g_autofree char *cid = g_strdup (id);

  if (p == NULL)
    return;   /* not a task's */
  if (!p->reported)
    {
      /* its start is still being answered: it ends right after */
      p->exited = TRUE;
      p->exit_code = exit_code;
      p->oom_killed = oom_killed;
      return;
    }
  runtime_tasks_finish (p, TRUE, exit_code, oom_killed, NULL);
  remove_container (self, cid);
}

/* At start: a container task that was running is followed again; the
 * runtime tells (once ready) whether its container still runs. */
void
runtime_task_container_adopt (RuntimeTasks *self, BerthTask *task, BerthTaskSpec *spec)
{
  Proc *p = runtime_tasks_proc_new (self, task, spec);

  p->container = TRUE;
  p->container_id = g_strdup (berth_task_get_runtime_id (task));
  p->reported = TRUE;
  g_hash_table_add (self->started, g_strdup (berth_task_get_id (task)));
  if (berth_task_get_desired_state (task) == BERTH_TASK_DESIRED_KILLED)
    runtime_tasks_kill (self, p);
}

void
runtime_task_container_connect (RuntimeTasks *self)
{
  BerthRuntime *runtime = berth_context_get_service (self->context, BERTH_TYPE_RUNTIME);

  if (runtime == NULL)
    return;
  self->runtime = g_object_ref (runtime);
  self->exited_id = g_signal_connect (runtime, "container-exited", G_CALLBACK (exited_cb), self);
}

void
runtime_task_container_disconnect (RuntimeTasks *self)
{
  if (self->runtime == NULL)
    return;
  g_clear_signal_handler (&self->exited_id, self->runtime);
  g_clear_object (&self->runtime);
}

/* The runtime has reconciled its containers (and reported the exits it
 * found): the adopted tasks whose container is gone or ended end too. */
void
runtime_task_container_ready (RuntimeTasks *self)
{
  g_autoptr(GPtrArray) adopted = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer value;

  if (runtime_of (self) == NULL)
    return;
  g_hash_table_iter_init (&iter, self->procs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Proc *p = value;
      if (p->container && p->reported && p->container_id != NULL)
        g_ptr_array_add (adopted, g_strdup (berth_task_get_id (p->task)));
    }
  for (guint i = 0; i < adopted->len; i++)
    {
      Proc *p = g_hash_table_lookup (self->procs, g_ptr_array_index (adopted, i));
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) info = NULL;
      JsonObject *state;
      g_autofree char *cid = NULL;

      if (p == NULL)
        continue;
      info = berth_runtime_inspect_container (runtime_of (self), p->container_id, &error);
      if (info == NULL)
        {
          if (g_error_matches (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
            runtime_tasks_finish (p, FALSE, 0, FALSE, _("The task's container is gone"));
          continue;
        }
      state = json_object_get_object_member (info, "State");
      if (json_object_get_boolean_member_with_default (state, "Running", FALSE) ||
          g_strcmp0 (json_object_get_string_member_with_default (state, "Status", ""), "created") == 0)
        continue;
      cid = g_strdup (p->container_id);
      runtime_tasks_finish (p, TRUE, (gint) json_object_get_int_member_with_default (state, "ExitCode", 0),
                            json_object_get_boolean_member_with_default (state, "OOMKilled", FALSE), NULL);
      remove_container (self, cid);
    }
}
