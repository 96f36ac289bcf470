/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>

#include "scheduler-health.h"

/* Marathon health checks (HTTP, HTTPS, TCP, COMMAND), run by the scheduler
 * with async I/O on the main loop, one timer per check of a running task.
 * A failure inside gracePeriodSeconds (before any success) does not count;
 * maxConsecutiveFailures in a row mark the task for replacement. Results
 * live in memory only: after a restart they start again. */

typedef struct _TaskHealth TaskHealth;

typedef struct {
  TaskHealth   *owner;
  JsonObject   *check;
  guint         timer_id;
  GCancellable *cancellable;
  guint         timeout_id;
  GSubprocess  *proc;
  gboolean      in_flight;
  gboolean      dead;         /* released while in flight: the callback frees it */
} CheckRun;

struct _TaskHealth {
  SchedulerHealth     *health;
  char                *task_id;
  char                *app_id;
  char                *version;
  char                *host;
  GArray              *ports;
  gint64               started_us;
  GPtrArray           *runs;     /* CheckRun* */
  SchedulerHealthState state;
};

struct _SchedulerHealth {
  BerthStore      *store;        /* where task health is written; may be NULL */
  SchedulerEvents *events;
  GSourceFunc      changed;
  gpointer         changed_data;
  SoupSession     *session;
  GHashTable      *tasks;        /* task id → TaskHealth* */
};

static void
check_run_destroy (CheckRun *run)
{
  g_clear_object (&run->cancellable);
  g_clear_object (&run->proc);
  json_object_unref (run->check);
  g_free (run);
}

static void
check_run_free (CheckRun *run)
{
  g_clear_handle_id (&run->timer_id, g_source_remove);
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  run->owner = NULL;
  if (!run->in_flight)
    {
      check_run_destroy (run);
      return;
    }
  run->dead = TRUE;
  if (run->cancellable != NULL)
    g_cancellable_cancel (run->cancellable);
  if (run->proc != NULL)
    g_subprocess_force_exit (run->proc);
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
  g_array_unref (th->ports);
  g_free (th->state.first_success);
  g_free (th->state.last_success);
  g_free (th->state.last_failure);
  g_free (th->state.last_failure_cause);
  g_free (th);
}

SchedulerHealth *
scheduler_health_new (SchedulerEvents *events, GSourceFunc changed, gpointer changed_data)
{
  SchedulerHealth *self = g_new0 (SchedulerHealth, 1);

  self->events = events;
  self->changed = changed;
  self->changed_data = changed_data;
  self->session = soup_session_new ();
  soup_session_set_timeout (self->session, 0);
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
  soup_session_abort (self->session);
  g_object_unref (self->session);
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
event_data (const char *type)
{
  JsonObject *o = json_object_new ();
  g_autofree char *now = berth_task_timestamp_now ();
  json_object_set_string_member (o, "eventType", type);
  json_object_set_string_member (o, "timestamp", now);
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
        JsonObject *e = event_data ("failed_health_check_event");
        json_object_set_string_member (e, "appId", th->app_id);
        json_object_set_string_member (e, "taskId", th->task_id);
        json_object_set_string_member (e, "instanceId", th->task_id);
        json_object_set_object_member (e, "healthCheck", json_object_ref (run->check));
        scheduler_events_emit (self->events, "failed_health_check_event", e);
        json_object_unref (e);
      }
    }
  if (st->has_result && (!had || was_alive != st->alive))
    {
      JsonObject *e = event_data ("health_status_changed_event");
      json_object_set_string_member (e, "appId", th->app_id);
      json_object_set_string_member (e, "taskId", th->task_id);
      json_object_set_string_member (e, "instanceId", th->task_id);
      json_object_set_string_member (e, "version", th->version);
      json_object_set_boolean_member (e, "alive", st->alive);
      scheduler_events_emit (self->events, "health_status_changed_event", e);
      json_object_unref (e);
      store_health (self, th->task_id, st->alive);
    }
  if ((st->has_result && (!had || was_alive != st->alive)) || was_failed != st->failed_too_often)
    self->changed (self->changed_data);
  schedule (run, (guint) json_object_get_int_member_with_default (run->check, "intervalSeconds", 60));
}

static void
http_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CheckRun *run = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) in = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  SoupMessage *msg;
  guint status;

  if (run_is_dead (run))
    return;
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  g_clear_object (&run->cancellable);
  if (in == NULL)
    {
      record (run, FALSE, error->message);
      return;
    }
  msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  status = msg != NULL ? soup_message_get_status (msg) : 0;
  g_input_stream_close (in, NULL, NULL);
  if (status >= 200 && status < 400)
    record (run, TRUE, NULL);
  else
    {
      g_autofree char *cause = g_strdup_printf ("HTTP %u", status);
      record (run, FALSE, cause);
    }
}

static void
tcp_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CheckRun *run = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) conn = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), result,
                                                                              &error);

  if (run_is_dead (run))
    return;
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  g_clear_object (&run->cancellable);
  if (conn != NULL)
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  record (run, conn != NULL, error != NULL ? error->message : NULL);
}

static void
command_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CheckRun *run = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = g_subprocess_wait_check_finish (G_SUBPROCESS (source), result, &error);

  if (run_is_dead (run))
    return;
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  g_clear_object (&run->proc);
  g_clear_object (&run->cancellable);
  record (run, ok, error != NULL ? error->message : NULL);
}

static gboolean
timeout_cb (gpointer user_data)
{
  CheckRun *run = user_data;

  run->timeout_id = 0;
  if (run->proc != NULL)
    g_subprocess_force_exit (run->proc);
  if (run->cancellable != NULL)
    g_cancellable_cancel (run->cancellable);
  return G_SOURCE_REMOVE;
}

static gboolean
run_cb (gpointer user_data)
{
  CheckRun *run = user_data;
  TaskHealth *th = run->owner;
  const char *protocol = json_object_get_string_member_with_default (run->check, "protocol", "HTTP");
  gint64 index = json_object_get_int_member_with_default (run->check, "portIndex", 0);
  gint64 timeout = json_object_get_int_member_with_default (run->check, "timeoutSeconds", 20);
  guint port = index >= 0 && (guint) index < th->ports->len ? g_array_index (th->ports, guint, index) : 0;

  run->timer_id = 0;
  run->in_flight = TRUE;
  run->cancellable = g_cancellable_new ();
  run->timeout_id = g_timeout_add_seconds ((guint) MAX (timeout, 1), timeout_cb, run);
  if (g_str_equal (protocol, "COMMAND"))
    {
      JsonObject *command = json_object_get_object_member (run->check, "command");
      const char *value = json_object_get_string_member_with_default (command, "value", "false");
      g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                                           G_SUBPROCESS_FLAGS_STDERR_SILENCE);
      g_autoptr(GError) error = NULL;
      g_autofree char *port_text = g_strdup_printf ("%u", port);

      g_subprocess_launcher_setenv (launcher, "HOST", th->host, TRUE);
      g_subprocess_launcher_setenv (launcher, "PORT0", port_text, TRUE);
      g_subprocess_launcher_setenv (launcher, "PORT", port_text, TRUE);
      g_subprocess_launcher_setenv (launcher, "MESOS_TASK_ID", th->task_id, TRUE);
      run->proc = g_subprocess_launcher_spawn (launcher, &error, "/bin/sh", "-c", value, NULL);
      if (run->proc == NULL)
        {
          g_clear_handle_id (&run->timeout_id, g_source_remove);
          g_clear_object (&run->cancellable);
          record (run, FALSE, error->message);
          return G_SOURCE_REMOVE;
        }
      g_subprocess_wait_check_async (run->proc, run->cancellable, command_done_cb, run);
    }
  else if (g_str_has_suffix (protocol, "TCP"))
    {
      g_autoptr(GSocketClient) client = g_socket_client_new ();
      g_socket_client_connect_to_host_async (client, th->host, (guint16) port, run->cancellable, tcp_done_cb, run);
    }
  else
    {
      const char *path = json_object_get_string_member_with_default (run->check, "path", "/");
      const char *scheme = g_str_has_suffix (protocol, "HTTPS") ? "https" : "http";
      g_autofree char *uri = g_strdup_printf ("%s://%s:%u%s", scheme, th->host, port, path);
      g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);

      if (msg == NULL)
        {
          g_clear_handle_id (&run->timeout_id, g_source_remove);
          g_clear_object (&run->cancellable);
          record (run, FALSE, _("invalid health check URI"));
          return G_SOURCE_REMOVE;
        }
      soup_session_send_async (th->health->session, msg, G_PRIORITY_DEFAULT, run->cancellable, http_done_cb, run);
    }
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
      if (g_hash_table_contains (self->tasks, berth_task_get_id (task)))
        continue;
      th = g_new0 (TaskHealth, 1);
      th->health = self;
      th->task_id = g_strdup (berth_task_get_id (task));
      th->app_id = g_strdup (app->id);
      th->version = g_strdup (berth_task_get_version (task));
      th->host = g_strdup (berth_task_get_host (task) != NULL ? berth_task_get_host (task) : "127.0.0.1");
      th->ports = g_array_copy (berth_task_get_ports (task));
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
