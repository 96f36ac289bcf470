/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "scheduler-events.h"
#include "scheduler-health.h"

/* Marathon health checks (HTTP, HTTPS, TCP, COMMAND), run by the scheduler
 * on the main loop, one timer per check of a running task. HTTP and TCP
 * checks, and command checks of apps without a container (only with
 * [berthd] enable_script_checks), are BerthProbes; command checks of
 * container apps run inside the container (BerthRuntime exec).
 * A failure inside gracePeriodSeconds (before any success) does not count;
 * maxConsecutiveFailures in a row mark the task for replacement. Results
 * live in memory only: after a restart they start again. Changes of a
 * task's health and failed checks are published on the event bus. */

typedef struct _TaskHealth TaskHealth;

typedef struct {
  TaskHealth   *owner;
  JsonObject   *check;
  guint         timer_id;
  GCancellable *cancellable;
  BerthProbe   *probe;
  gboolean      in_flight;
  gboolean      dead;         /* released while in flight: the callback frees it */
} CheckRun;

struct _TaskHealth {
  SchedulerHealth     *health;
  char                *task_id;
  char                *app_id;
  char                *version;
  char                *host;
  char                *runtime_id;  /* the container, for checks run inside it */
  gboolean             container;
  GArray              *ports;
  gint64               started_us;
  GPtrArray           *runs;     /* CheckRun* */
  SchedulerHealthState state;
};

struct _SchedulerHealth {
  BerthContext    *context;
  const SchedulerLimits *limits;
  BerthStore      *store;        /* where task health is written; may be NULL */
  GSourceFunc      changed;
  gpointer         changed_data;
  GHashTable      *tasks;        /* task id → TaskHealth* */
};

static void
check_run_destroy (CheckRun *run)
{
  g_clear_object (&run->cancellable);
  g_clear_object (&run->probe);
  json_object_unref (run->check);
  g_free (run);
}

static void
check_run_free (CheckRun *run)
{
  g_clear_handle_id (&run->timer_id, g_source_remove);
  run->owner = NULL;
  if (!run->in_flight)
    {
      check_run_destroy (run);
      return;
    }
  run->dead = TRUE;
  if (run->cancellable != NULL)
    g_cancellable_cancel (run->cancellable);
}

/* In a completion callback: whether the run was released meanwhile (it is
 * freed then, and the callback must stop). */
static gboolean
run_is_dead (CheckRun *run)
{
  if (!run->dead)
    return FALSE;
  check_run_destroy (run);
  return TRUE;
}

static void
task_health_free (TaskHealth *th)
{
  g_ptr_array_unref (th->runs);
  g_free (th->task_id);
  g_free (th->app_id);
  g_free (th->version);
  g_free (th->host);
  g_free (th->runtime_id);
  g_array_unref (th->ports);
  g_free (th->state.first_success);
  g_free (th->state.last_success);
  g_free (th->state.last_failure);
  g_free (th->state.last_failure_cause);
  g_free (th);
}

SchedulerHealth *
scheduler_health_new (BerthContext *context, const SchedulerLimits *limits, GSourceFunc changed,
                      gpointer changed_data)
{
  SchedulerHealth *self = g_new0 (SchedulerHealth, 1);

  self->context = context;
  self->limits = limits;
  self->changed = changed;
  self->changed_data = changed_data;
  self->tasks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) task_health_free);
  return self;
}

/* Where the aggregated health of each task is written (the tasks table's
 * health column), for discovery to mirror. */
void
scheduler_health_set_store (SchedulerHealth *self, BerthStore *store)
{
  g_set_object (&self->store, store);
}

typedef struct {
  char *task_id;
  char *health;
} HealthWrite;

static void
health_write_free (HealthWrite *w)
{
  g_free (w->task_id);
  g_free (w->health);
  g_free (w);
}

static gboolean
write_health (BerthTxn *txn, gpointer data, GError **error)
{
  HealthWrite *w = data;
  return berth_task_write_health (txn, w->task_id, w->health, error);
}

static void
health_written_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 && error != NULL)
    g_warning (_("scheduler: cannot write the health of a task: %s"), error->message);
}

static void
store_health (SchedulerHealth *self, const char *task_id, gboolean alive)
{
  HealthWrite *w;

  if (self->store == NULL)
    return;
  w = g_new0 (HealthWrite, 1);
  w->task_id = g_strdup (task_id);
  w->health = g_strdup (alive ? BERTH_TASK_HEALTH_PASSING : BERTH_TASK_HEALTH_CRITICAL);
  berth_store_write_async (self->store, write_health, w, (GDestroyNotify) health_write_free, NULL,
                           health_written_cb, NULL);
}

void
scheduler_health_free (SchedulerHealth *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->store);
  g_hash_table_unref (self->tasks);
  g_free (self);
}

const SchedulerHealthState *
scheduler_health_get (SchedulerHealth *self, const char *task_id)
{
  TaskHealth *th = self != NULL ? g_hash_table_lookup (self->tasks, task_id) : NULL;
  return th != NULL ? &th->state : NULL;
}

JsonArray *
scheduler_health_results_json (SchedulerHealth *self, const char *task_id)
{
  TaskHealth *th = self != NULL ? g_hash_table_lookup (self->tasks, task_id) : NULL;
  JsonArray *results;
  JsonObject *r;

  if (th == NULL || !th->state.has_result)
    return NULL;
  results = json_array_new ();
  r = json_object_new ();
  json_object_set_boolean_member (r, "alive", th->state.alive);
  json_object_set_int_member (r, "consecutiveFailures", th->state.consecutive_failures);
  if (th->state.first_success != NULL)
    json_object_set_string_member (r, "firstSuccess", th->state.first_success);
  else
    json_object_set_null_member (r, "firstSuccess");
  if (th->state.last_failure != NULL)
    json_object_set_string_member (r, "lastFailure", th->state.last_failure);
  else
    json_object_set_null_member (r, "lastFailure");
  if (th->state.last_success != NULL)
    json_object_set_string_member (r, "lastSuccess", th->state.last_success);
  else
    json_object_set_null_member (r, "lastSuccess");
  json_object_set_string_member (r, "lastFailureCause",
                                 th->state.last_failure_cause != NULL ? th->state.last_failure_cause : "");
  json_object_set_string_member (r, "taskId", th->task_id);
  json_array_add_object_element (results, r);
  return results;
}

static JsonObject *
event_data (TaskHealth *th)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "taskId", th->task_id);
  json_object_set_string_member (o, "appId", th->app_id);
  json_object_set_string_member (o, "version", th->version);
  return o;
}

static void schedule (CheckRun *run, guint seconds);

static void
record (CheckRun *run, gboolean ok, const char *cause)
{
  TaskHealth *th = run->owner;
  SchedulerHealth *self = th->health;
  SchedulerHealthState *st = &th->state;
  g_autofree char *now = berth_task_timestamp_now ();
  gint64 grace = json_object_get_int_member_with_default (run->check, "gracePeriodSeconds", 300);
  gint64 max = json_object_get_int_member_with_default (run->check, "maxConsecutiveFailures", 3);
  gboolean in_grace = st->first_success == NULL &&
                      g_get_real_time () - th->started_us < grace * G_USEC_PER_SEC;
  gboolean was_alive = st->alive, had = st->has_result, was_failed = st->failed_too_often;

  run->in_flight = FALSE;
  if (ok)
    {
      st->has_result = TRUE;
      st->alive = TRUE;
      st->consecutive_failures = 0;
      if (st->first_success == NULL)
        st->first_success = g_strdup (now);
      g_free (st->last_success);
      st->last_success = g_strdup (now);
    }
  else if (!in_grace)
    {
      st->has_result = TRUE;
      st->alive = FALSE;
      st->consecutive_failures++;
      g_free (st->last_failure);
      st->last_failure = g_strdup (now);
      g_free (st->last_failure_cause);
      st->last_failure_cause = g_strdup (cause);
      if (max > 0 && st->consecutive_failures >= max)
        st->failed_too_often = TRUE;
      {
        JsonObject *e = event_data (th);
        json_object_set_object_member (e, "check", json_object_ref (run->check));
        json_object_set_string_member (e, "cause", cause != NULL ? cause : "");
        berth_context_publish (self->context, SCHEDULER_TOPIC_HEALTH_CHECK, NULL, e);
      }
    }
  if (st->has_result && (!had || was_alive != st->alive))
    {
      JsonObject *e = event_data (th);
      json_object_set_boolean_member (e, "alive", st->alive);
      berth_context_publish (self->context, SCHEDULER_TOPIC_HEALTH, NULL, e);
      store_health (self, th->task_id, st->alive);
    }
  if ((st->has_result && (!had || was_alive != st->alive)) || was_failed != st->failed_too_often)
    self->changed (self->changed_data);
  schedule (run, (guint) json_object_get_int_member_with_default (run->check, "intervalSeconds", 60));
}

static void
probe_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CheckRun *run = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  BerthHealth health = berth_probe_run_finish (BERTH_PROBE (source), result, &output, &error);

  if (run_is_dead (run))
    return;
  g_clear_object (&run->cancellable);
  g_clear_object (&run->probe);
  if (error != NULL)
    record (run, FALSE, error->message);
  else if (health == BERTH_HEALTH_PASSING)
    record (run, TRUE, NULL);
  else
    {
      g_strstrip (output);
      record (run, FALSE, output != NULL && *output != '\0' ? output : berth_health_to_string (health));
    }
}

static void
exec_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CheckRun *run = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  int status = -1;
  gboolean ok = berth_runtime_exec_container_finish (BERTH_RUNTIME (source), result, &status, &output, &error);

  if (run_is_dead (run))
    return;
  g_clear_object (&run->cancellable);
  if (!ok)
    record (run, FALSE, error->message);
  else if (status != 0)
    {
      g_autofree char *cause = g_strdup_printf (_("exit status %d"), status);
      record (run, FALSE, cause);
    }
  else
    record (run, TRUE, NULL);
}

/* The check's shell command, with Marathon's variables set. */
static void
run_command (CheckRun *run, const char *value, guint port, guint timeout_ms)
{
  TaskHealth *th = run->owner;
  SchedulerHealth *self = th->health;
  g_autofree char *port_text = g_strdup_printf ("%u", port);

  if (th->container)
    {
      BerthRuntime *runtime = berth_context_get_service (self->context, BERTH_TYPE_RUNTIME);
      /* the values travel as arguments, not spliced into the script */
      const char *argv[] = { "/bin/sh", "-c",
                             "export HOST=\"$1\" PORT0=\"$2\" PORT=\"$2\" MESOS_TASK_ID=\"$3\"; eval \"$4\"",
                             "sh", th->host, port_text, th->task_id, value, NULL };

      if (runtime == NULL || th->runtime_id == NULL)
        {
          g_clear_object (&run->cancellable);
          record (run, FALSE, runtime == NULL ? _("no container runtime is available")
                                              : _("the task has no container yet"));
          return;
        }
      berth_runtime_exec_container_async (runtime, th->runtime_id, argv, timeout_ms, NULL, run->cancellable,
                                          exec_done_cb, run);
      return;
    }
  if (!self->limits->enable_script_checks)
    {
      g_clear_object (&run->cancellable);
      record (run, FALSE, _("command health checks on the host are disabled ([berthd] enable_script_checks)"));
      return;
    }
  run->probe = berth_probe_new_shell (value);
  berth_probe_setenv (run->probe, "HOST", th->host);
  berth_probe_setenv (run->probe, "PORT0", port_text);
  berth_probe_setenv (run->probe, "PORT", port_text);
  berth_probe_setenv (run->probe, "MESOS_TASK_ID", th->task_id);
  berth_probe_set_timeout (run->probe, timeout_ms);
  berth_probe_run_async (run->probe, run->cancellable, probe_done_cb, run);
}

static gboolean
run_cb (gpointer user_data)
{
  CheckRun *run = user_data;
  TaskHealth *th = run->owner;
  const char *protocol = json_object_get_string_member_with_default (run->check, "protocol", "HTTP");
  gint64 index = json_object_get_int_member_with_default (run->check, "portIndex", 0);
  gint64 timeout = json_object_get_int_member_with_default (run->check, "timeoutSeconds", 20);
  guint timeout_ms = (guint) CLAMP (timeout, 1, 86400) * 1000;
  guint port = index >= 0 && (guint) index < th->ports->len ? g_array_index (th->ports, guint, index) : 0;

  run->timer_id = 0;
  run->in_flight = TRUE;
  run->cancellable = g_cancellable_new ();
  if (g_str_has_suffix (protocol, "COMMAND"))
    {
      JsonObject *command = json_object_get_object_member (run->check, "command");
      run_command (run, json_object_get_string_member_with_default (command, "value", "false"), port, timeout_ms);
      return G_SOURCE_REMOVE;
    }
  if (g_str_has_suffix (protocol, "TCP"))
    run->probe = berth_probe_new_tcp (th->host, (guint16) port);
  else
    {
      const char *path = json_object_get_string_member_with_default (run->check, "path", "/");
      const char *scheme = g_str_has_suffix (protocol, "HTTPS") ? "https" : "http";
      g_autofree char *uri = g_strdup_printf ("%s://%s:%u%s", scheme, th->host, port, path);
      run->probe = berth_probe_new_http ("GET", uri);
    }
  berth_probe_set_timeout (run->probe, timeout_ms);
  berth_probe_run_async (run->probe, run->cancellable, probe_done_cb, run);
  return G_SOURCE_REMOVE;
}

static void
schedule (CheckRun *run, guint seconds)
{
  g_clear_handle_id (&run->timer_id, g_source_remove);
  run->timer_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, MAX (seconds, 1), run_cb, run, NULL);
}

/* Starts checks for running tasks of apps with health checks, stops those
 * of tasks that are gone or no longer running. */
void
scheduler_health_sync (SchedulerHealth *self, GPtrArray *apps, GPtrArray *tasks)
{
  g_autoptr(GHashTable) keep = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key;

  for (guint i = 0; i < tasks->len; i++)
    {
      BerthTask *task = g_ptr_array_index (tasks, i);
      SchedulerApp *app = NULL;
      JsonArray *checks;
      TaskHealth *th;

      if (berth_task_get_state (task) != BERTH_TASK_STATE_RUNNING)
        continue;
      for (guint j = 0; j < apps->len && app == NULL; j++)
        if (g_strcmp0 (((SchedulerApp *) g_ptr_array_index (apps, j))->id, berth_task_get_app_id (task)) == 0)
          app = g_ptr_array_index (apps, j);
      checks = app != NULL ? json_object_get_array_member (app->def, "healthChecks") : NULL;
      if (checks == NULL || json_array_get_length (checks) == 0)
        continue;
      g_hash_table_add (keep, (gpointer) berth_task_get_id (task));
      th = g_hash_table_lookup (self->tasks, berth_task_get_id (task));
      if (th != NULL)
        {
          if (th->runtime_id == NULL && berth_task_get_runtime_id (task) != NULL)
            th->runtime_id = g_strdup (berth_task_get_runtime_id (task));
          continue;
        }
      th = g_new0 (TaskHealth, 1);
      th->health = self;
      th->task_id = g_strdup (berth_task_get_id (task));
      th->app_id = g_strdup (app->id);
      th->version = g_strdup (berth_task_get_version (task));
      th->host = g_strdup (berth_task_get_host (task) != NULL ? berth_task_get_host (task) : "127.0.0.1");
      th->ports = g_array_copy (berth_task_get_ports (task));
      th->runtime_id = g_strdup (berth_task_get_runtime_id (task));
      th->container = scheduler_app_is_container (app);
      th->started_us = g_get_real_time ();
      if (berth_task_get_started_at (task) != NULL)
        {
          g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (berth_task_get_started_at (task), NULL);
          if (dt != NULL)
            th->started_us = g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
        }
      th->runs = g_ptr_array_new_with_free_func ((GDestroyNotify) check_run_free);
      for (guint j = 0; j < json_array_get_length (checks); j++)
        {
          CheckRun *run = g_new0 (CheckRun, 1);
          run->owner = th;
          run->check = json_object_ref (json_array_get_object_element (checks, j));
          g_ptr_array_add (th->runs, run);
          run->timer_id = g_idle_add (run_cb, run);
        }
      g_hash_table_insert (self->tasks, th->task_id, th);
    }
  g_hash_table_iter_init (&iter, self->tasks);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (keep, key))
      g_hash_table_iter_remove (&iter);
}
