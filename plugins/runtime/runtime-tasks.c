/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "runtime-cgroup.h"
#include "runtime-tasks-private.h"
#include "runtime-util.h"

/* The task executor. The scheduler writes desired tasks into the core
 * `tasks` table; this controller runs those placed on this node and writes
 * back their actual state. It never talks to the scheduler.
 *
 * Task specs are read as BerthTaskSpecs (a spec that cannot be read fails
 * its task with the reason). Exec tasks are processes under a supervisor
 * (runtime-task-exec.c); container tasks go through the BerthRuntime
 * service (runtime-task-container.c), like any other plugin's. Launches
 * are paced (runtime-launch.c); state writes go in the background, many
 * at a time.
 *
 * Task directories: <runtime-root>/tasks/<task-id>/. */

#define POLL_INTERVAL_MS 20

/* [runtime] max_launches_per_second and max_launches_in_flight */
#define DEFAULT_LAUNCHES_PER_SECOND 50
#define DEFAULT_LAUNCHES_IN_FLIGHT 16
#define MAX_LAUNCH_SETTING 100000

static void
proc_free (Proc *p)
{
  g_clear_handle_id (&p->watch_id, g_source_remove);
  g_clear_handle_id (&p->kill_id, g_source_remove);
  g_clear_object (&p->task);
  g_clear_object (&p->spec);
  g_free (p->dir);
  g_free (p->container_id);
  g_free (p);
}

Proc *
runtime_tasks_proc_new (RuntimeTasks *self, BerthTask *task, BerthTaskSpec *spec)
{
  Proc *p = g_new0 (Proc, 1);

  p->owner = self;
  p->task = g_object_ref (task);
  p->spec = g_object_ref (spec);
  p->dir = g_build_filename (self->dir, berth_task_get_id (task), NULL);
  g_hash_table_replace (self->procs, g_strdup (berth_task_get_id (task)), p);
  return p;
}

static void
write_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 && error != NULL &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning (_("cannot write a task's state: %s"), error->message);
}

static gboolean
write_state (BerthTxn *txn, gpointer user_data, GError **error)
{
  return berth_task_write_state (BERTH_TASK (user_data), txn, error);
}

static gboolean
write_states (BerthTxn *txn, gpointer user_data, GError **error)
{
  GPtrArray *tasks = user_data;

  for (guint i = 0; i < tasks->len; i++)
    if (!berth_task_write_state (g_ptr_array_index (tasks, i), txn, error))
      return FALSE;
  return TRUE;
}

/* Writes the actual state of @task (a copy is not needed: the task object
 * is only touched on the main loop, and the write sees its state now). */
void
runtime_tasks_report (RuntimeTasks *self, BerthTask *task)
{
  berth_store_write_async (self->store, write_state, g_object_ref (task), g_object_unref, NULL,
                           write_done_cb, NULL);
}

void
runtime_tasks_report_many (RuntimeTasks *self, GPtrArray *tasks)
{
  berth_store_write_async (self->store, write_states, g_ptr_array_ref (tasks), (GDestroyNotify) g_ptr_array_unref,
                           NULL, write_done_cb, NULL);
}

void
runtime_tasks_fail (RuntimeTasks *self, BerthTask *task, BerthTaskState state, const char *message)
{
  g_autofree char *now = berth_task_timestamp_now ();

  berth_task_set_state (task, state);
  berth_task_set_message (task, message);
  berth_task_set_finished_at (task, now);
  runtime_tasks_report (self, task);
}

static void
add_env (GPtrArray *env, const char *name, const char *value)
{
  g_ptr_array_add (env, g_strdup_printf ("%s=%s", name, value != NULL ? value : ""));
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* The variables Marathon gives a task: PORT0..n, PORT, PORTS, HOST,
 * MARATHON_APP_ID, MARATHON_APP_VERSION, MESOS_TASK_ID, then the app's env. */
GPtrArray *
runtime_tasks_env_pairs (RuntimeTasks *self, BerthTask *task, BerthTaskSpec *spec)
{
  GHashTable *app_env = berth_task_spec_get_env (spec);
  GArray *ports = berth_task_get_ports (task);
  GPtrArray *env = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) all = g_string_new (NULL);

  for (guint i = 0; i < ports->len; i++)
    {
      g_autofree char *name = g_strdup_printf ("PORT%u", i);
      g_autofree char *value = g_strdup_printf ("%u", g_array_index (ports, guint, i));
      add_env (env, name, value);
      if (i == 0)
        add_env (env, "PORT", value);
      g_string_append_printf (all, "%s%s", i > 0 ? "," : "", value);
    }
  if (ports->len > 0)
    add_env (env, "PORTS", all->str);
  add_env (env, "HOST", self->host);
  add_env (env, "MARATHON_APP_ID", berth_task_get_app_id (task));
  add_env (env, "MARATHON_APP_VERSION", berth_task_get_version (task));
  add_env (env, "MESOS_TASK_ID", berth_task_get_id (task));
  if (app_env != NULL)
    {
      g_autoptr(GPtrArray) names = g_ptr_array_new ();
      GHashTableIter iter;
      gpointer key;
      g_hash_table_iter_init (&iter, app_env);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_ptr_array_add (names, key);
      g_ptr_array_sort (names, compare_strings);
      for (guint i = 0; i < names->len; i++)
        add_env (env, g_ptr_array_index (names, i), g_hash_table_lookup (app_env, g_ptr_array_index (names, i)));
    }
  return env;
}

/* A task's spec as a BerthTaskSpec; NULL (and the task failed with the
 * reason) when it cannot be read. */
static BerthTaskSpec *
task_spec (RuntimeTasks *self, BerthTask *task)
{
  g_autoptr(GError) error = NULL;
  JsonObject *object = berth_task_get_spec (task);
  BerthTaskSpec *spec = object != NULL ? berth_task_spec_new_from_json (object, &error) : NULL;

  if (spec == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("Invalid task spec: %s"),
                                              error != NULL ? error->message : _("there is none"));
      g_hash_table_add (self->started, g_strdup (berth_task_get_id (task)));
      runtime_tasks_fail (self, task, BERTH_TASK_STATE_FAILED, msg);
    }
  return spec;
}

static void
start_task (RuntimeTasks *self, BerthTask *task)
{
  g_autoptr(BerthTaskSpec) spec = task_spec (self, task);

  if (spec == NULL)
    return;
  g_hash_table_add (self->started, g_strdup (berth_task_get_id (task)));
  if (berth_task_spec_get_kind (spec) == BERTH_TASK_KIND_CONTAINER)
    runtime_task_container_start (self, task, spec);
  else
    runtime_task_exec_start (self, task, spec);
}

void
runtime_tasks_kill (RuntimeTasks *self, Proc *p)
{
  if (p->killing)
    return;
  p->killing = TRUE;
  if (p->container)
    runtime_task_container_kill (p);
  else
    runtime_task_exec_kill (p);
}

void
runtime_tasks_finish (Proc *p, gboolean have_code, gint code, gboolean oom, const char *lost)
{
  RuntimeTasks *self = p->owner;
  g_autoptr(BerthTask) task = g_object_ref (p->task);
  g_autofree char *dir = g_strdup (p->dir);
  g_autofree char *now = berth_task_timestamp_now ();
  gboolean wanted_dead = p->killing || berth_task_get_desired_state (task) == BERTH_TASK_DESIRED_KILLED;
  gboolean container = p->container;
  const char *id = berth_task_get_id (task);

  if (!container)
    {
      g_autofree char *cgroup = runtime_task_cgroup_name (id);
      oom = oom || runtime_cgroup_oom_killed (cgroup);
      runtime_cgroup_remove (cgroup);
      /* its readers get the rest of its output before it goes */
      if (self->logs != NULL)
        {
          runtime_logs_source_ended (self->logs, id);
          runtime_logs_remove (self->logs, id);
        }
    }
  g_hash_table_remove (self->procs, id);   /* frees p */
  if (wanted_dead)
    {
      berth_task_set_state (task, BERTH_TASK_STATE_KILLED);
      berth_task_set_message (task, _("Task killed"));
    }
  else if (oom)
    {
      berth_task_set_state (task, BERTH_TASK_STATE_FAILED);
      berth_task_set_message (task, _("Out of memory: killed by the kernel's OOM killer"));
    }
  else if (have_code && code == 0)
    {
      berth_task_set_state (task, BERTH_TASK_STATE_FINISHED);
      berth_task_set_message (task, _("Command exited with status 0"));
    }
  else if (have_code)
    {
      g_autofree char *msg = code > 128 ? g_strdup_printf (_("Command terminated by signal %d"), code - 128)
                                        : g_strdup_printf (_("Command exited with status %d"), code);
      berth_task_set_state (task, BERTH_TASK_STATE_FAILED);
      berth_task_set_message (task, msg);
    }
  else
    {
      berth_task_set_state (task, BERTH_TASK_STATE_LOST);
      berth_task_set_message (task, lost);
    }
  if (have_code)
    berth_task_set_exit_code (task, code);
  berth_task_set_finished_at (task, now);
  runtime_tasks_report (self, task);
  if (!container)
    runtime_rm_rf (dir, NULL);
}

static gboolean
poll_cb (gpointer user_data)
{
  runtime_task_exec_poll (user_data);
  return G_SOURCE_CONTINUE;
}

/* Acts on one task of this node. */
static void
handle_task (RuntimeTasks *self, BerthTask *task)
{
  const char *id = berth_task_get_id (task);
  Proc *p = g_hash_table_lookup (self->procs, id);
  gboolean want_running = berth_task_get_desired_state (task) == BERTH_TASK_DESIRED_RUNNING;

  if (p != NULL)
    {
      /* keep the newest desired state */
      berth_task_set_desired_state (p->task, berth_task_get_desired_state (task));
      if (!want_running)
        runtime_tasks_kill (self, p);
      return;
    }
  if (berth_task_is_terminal (task) || g_hash_table_contains (self->started, id))
    return;
  if (!want_running)
    {
      runtime_launch_queue_remove (self->launches, id);
      if (berth_task_get_state (task) == BERTH_TASK_STATE_STAGING)
        runtime_tasks_fail (self, task, BERTH_TASK_STATE_KILLED, _("Task killed before it started"));
      return;
    }
  /* started from the launch queue, at a bounded rate */
  if (berth_task_get_state (task) == BERTH_TASK_STATE_STAGING)
    runtime_launch_queue_push (self->launches, id);
}

/* The launch queue's turn for task @id: starts it if it still is to run
 * (its desired state may have changed while it waited). */
static gboolean
launch_cb (const char *id, gpointer user_data)
{
  RuntimeTasks *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(BerthTask) task = NULL;

  if (g_hash_table_contains (self->procs, id) || g_hash_table_contains (self->started, id))
    return FALSE;
  task = berth_task_lookup (self->store, id, &error);
  if (task == NULL || g_strcmp0 (berth_task_get_node_id (task), self->node_id) != 0 ||
      berth_task_get_state (task) != BERTH_TASK_STATE_STAGING)
    return FALSE;
  if (berth_task_get_desired_state (task) != BERTH_TASK_DESIRED_RUNNING)
    {
      runtime_tasks_fail (self, task, BERTH_TASK_STATE_KILLED, _("Task killed before it started"));
      return FALSE;
    }
  start_task (self, task);
  return TRUE;
}

/* Launches that have not reached TASK_RUNNING (or failed) yet. */
static guint
in_flight_cb (gpointer user_data)
{
  RuntimeTasks *self = user_data;
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->procs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Proc *p = value;
      if (!p->reported && !p->adopted && !p->pulling)
        n++;
    }
  return n;
}

static guint
launch_setting (BerthContext *context, const char *key, guint fallback)
{
  guint64 v = berth_context_get_config_uint64 (context, "runtime", key, fallback);

  if (v < 1 || v > MAX_LAUNCH_SETTING)
    {
      g_warning (_("config: [runtime] %s = %" G_GUINT64_FORMAT " is out of range (1 to %u); using %u"), key, v,
                 MAX_LAUNCH_SETTING, fallback);
      return fallback;
    }
  return (guint) v;
}

static gboolean
idle_cb (gpointer user_data)
{
  RuntimeTasks *self = user_data;
  g_autoptr(GHashTable) dirty = g_steal_pointer (&self->dirty);
  GHashTableIter iter;
  gpointer key;

  self->idle_id = 0;
  self->dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_iter_init (&iter, dirty);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BerthTask) task = berth_task_lookup (self->store, key, &error);

      if (task == NULL)
        {
          Proc *p = g_hash_table_lookup (self->procs, key);
          if (!g_error_matches (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
            g_warning (_("cannot read task %s: %s"), (const char *) key, error->message);
          else if (p != NULL)
            runtime_tasks_kill (self, p);   /* its row is gone: nobody wants it */
          else
            {
              g_hash_table_remove (self->started, key);
              runtime_launch_queue_remove (self->launches, key);
            }
          continue;
        }
      if (g_strcmp0 (berth_task_get_node_id (task), self->node_id) == 0)
        handle_task (self, task);
    }
  return G_SOURCE_REMOVE;
}

static void
changed_cb (BerthStore *store, guint64 index, const char *topic, const char *key, gpointer user_data)
{
  RuntimeTasks *self = user_data;

  if (g_strcmp0 (topic, "task") != 0 || key == NULL)
    return;
  g_hash_table_add (self->dirty, g_strdup (key));
  if (self->idle_id == 0)
    self->idle_id = g_idle_add (idle_cb, self);
}

/* At start: adopt what still runs, report what ended, start the rest. */
static void
reconcile (RuntimeTasks *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tasks = berth_task_list (self->store, NULL, self->node_id, &error);

  if (tasks == NULL)
    {
      g_warning (_("cannot read the tasks: %s"), error->message);
      return;
    }
  for (guint i = 0; i < tasks->len; i++)
    {
      BerthTask *task = g_ptr_array_index (tasks, i);
      g_autofree char *dir = g_build_filename (self->dir, berth_task_get_id (task), NULL);
      g_autoptr(BerthTaskSpec) spec = NULL;

      if (berth_task_is_terminal (task))
        continue;
      spec = task_spec (self, task);
      if (spec == NULL)
        continue;
      if (berth_task_spec_get_kind (spec) == BERTH_TASK_KIND_CONTAINER)
        {
          if (berth_task_get_runtime_id (task) != NULL && berth_task_get_state (task) == BERTH_TASK_STATE_RUNNING &&
              self->runtime != NULL)
            runtime_task_container_adopt (self, task, spec);
          else
            handle_task (self, task);
          continue;
        }
      if (runtime_task_exec_adopt (self, task, spec))
        continue;
      if (berth_task_get_state (task) != BERTH_TASK_STATE_STAGING)
        {
          g_hash_table_add (self->started, g_strdup (berth_task_get_id (task)));
          runtime_tasks_fail (self, task, BERTH_TASK_STATE_LOST, _("The task was gone when berthd restarted"));
          runtime_rm_rf (dir, NULL);
          continue;
        }
      handle_task (self, task);
    }
}

RuntimeTasks *
runtime_tasks_new (BerthContext *context, const char *root, RuntimeLogs *logs)
{
  RuntimeTasks *self = g_new0 (RuntimeTasks, 1);
  BerthNode *node = berth_context_get_node (context);

  self->context = context;
  self->store = g_object_ref (berth_context_get_store (context));
  self->logs = logs != NULL ? g_object_ref (logs) : NULL;
  self->caller = berth_caller_new_internal ("runtime");
  self->cancellable = g_cancellable_new ();
  self->node_id = g_strdup (node != NULL ? berth_node_get_id (node) : "local");
  self->host = g_strdup (node != NULL ? berth_node_get_address (node) : "127.0.0.1");
  self->dir = g_build_filename (root, "tasks", NULL);
  g_mkdir_with_parents (self->dir, 0700);
  self->procs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) proc_free);
  self->started = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->launches = runtime_launch_queue_new (
    launch_setting (context, "max_launches_per_second", DEFAULT_LAUNCHES_PER_SECOND),
    launch_setting (context, "max_launches_in_flight", DEFAULT_LAUNCHES_IN_FLIGHT), launch_cb, in_flight_cb, self);
  self->changed_id = g_signal_connect (self->store, "changed", G_CALLBACK (changed_cb), self);
  self->poll_id = g_timeout_add (POLL_INTERVAL_MS, poll_cb, self);
  runtime_task_container_connect (self);
  reconcile (self);
  return self;
}

void
runtime_tasks_runtime_ready (RuntimeTasks *self)
{
  if (self == NULL || self->runtime_ready)
    return;
  self->runtime_ready = TRUE;
  runtime_task_container_ready (self);
}

void
runtime_tasks_free (RuntimeTasks *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  runtime_task_container_disconnect (self);
  g_clear_signal_handler (&self->changed_id, self->store);
  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_pointer (&self->launches, runtime_launch_queue_free);
  /* tasks keep running: the next berthd adopts them */
  g_hash_table_unref (self->procs);
  g_hash_table_unref (self->started);
  g_hash_table_unref (self->dirty);
  g_object_unref (self->store);
  g_clear_object (&self->logs);
  g_object_unref (self->caller);
  g_object_unref (self->cancellable);
  g_free (self->node_id);
  g_free (self->host);
  g_free (self->dir);
  g_free (self);
}
