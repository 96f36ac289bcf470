/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "scheduler-app-extra.h"
#include "scheduler-readiness.h"

/* Readiness checks: one HTTP(S) GET every intervalSeconds of the named
 * port of each running task of an app's current config, until a status
 * of httpStatusCodesForReady comes back; from then on the task is ready
 * (Marathon checks readiness while a task is deployed, not after).
 * Tasks of an older config are not checked: they are being replaced.
 * Results live in memory: after a restart tasks are checked again. */

typedef struct {
  SchedulerReadiness *owner;
  char         *task_id;
  char         *app_id;
  char         *uri;
  JsonObject   *check;
  gboolean      ready;
  JsonObject   *last_response;  /* with preserveLastResponse */
  guint         timer_id;
  GCancellable *cancellable;
  BerthProbe   *probe;
  gboolean      in_flight;
  gboolean      dead;           /* released while in flight: the callback frees it */
} TaskReadiness;

struct _SchedulerReadiness {
  GSourceFunc  changed;
  gpointer     changed_data;
  GHashTable  *tasks;           /* task id → TaskReadiness* */
};

static void
task_readiness_destroy (TaskReadiness *tr)
{
  g_clear_object (&tr->cancellable);
  g_clear_object (&tr->probe);
  g_clear_pointer (&tr->check, json_object_unref);
  g_clear_pointer (&tr->last_response, json_object_unref);
  g_free (tr->task_id);
  g_free (tr->app_id);
  g_free (tr->uri);
  g_free (tr);
}

static void
task_readiness_free (TaskReadiness *tr)
{
  g_clear_handle_id (&tr->timer_id, g_source_remove);
  tr->owner = NULL;
  if (!tr->in_flight)
    {
      task_readiness_destroy (tr);
      return;
    }
  tr->dead = TRUE;
  g_cancellable_cancel (tr->cancellable);
}

SchedulerReadiness *
scheduler_readiness_new (GSourceFunc changed, gpointer changed_data)
{
  SchedulerReadiness *self = g_new0 (SchedulerReadiness, 1);

  self->changed = changed;
  self->changed_data = changed_data;
  self->tasks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) task_readiness_free);
  return self;
}

void
scheduler_readiness_free (SchedulerReadiness *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->tasks);
  g_free (self);
}

static gboolean probe_cb (gpointer user_data);

static void
probe_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TaskReadiness *tr = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  JsonArray *codes;
  guint status;

  berth_probe_run_finish (BERTH_PROBE (source), result, &output, &error);
  tr->in_flight = FALSE;
  if (tr->dead)
    {
      task_readiness_destroy (tr);
      return;
    }
  status = error == NULL ? berth_probe_get_http_status (tr->probe) : 0;
  g_clear_object (&tr->probe);
  codes = json_object_get_array_member (tr->check, "httpStatusCodesForReady");
  for (guint i = 0; status != 0 && codes != NULL && i < json_array_get_length (codes); i++)
    if ((guint) json_array_get_int_element (codes, i) == status)
      tr->ready = TRUE;
  if (json_object_get_boolean_member_with_default (tr->check, "preserveLastResponse", FALSE))
    {
      JsonObject *r = json_object_new ();
      json_object_set_int_member (r, "status", status);
      json_object_set_string_member (r, "contentType", "text/plain");
      /* the probe says "HTTP GET <url>: <status> <reason> Output: <body>" */
      const char *body = output != NULL && strstr (output, " Output: ") != NULL
                           ? strstr (output, " Output: ") + strlen (" Output: ") : "";
      json_object_set_string_member (r, "body", error != NULL ? error->message : body);
      g_clear_pointer (&tr->last_response, json_object_unref);
      tr->last_response = r;
    }
  g_debug ("readiness of %s: %s (%u)", tr->task_id, tr->ready ? "ready" : "not ready", status);
  if (tr->ready)
    {
      tr->owner->changed (tr->owner->changed_data);
      return;
    }
  tr->timer_id = g_timeout_add_seconds (
    (guint) CLAMP (json_object_get_int_member_with_default (tr->check, "intervalSeconds", 30), 1, 86400),
    probe_cb, tr);
}

static gboolean
probe_cb (gpointer user_data)
{
  TaskReadiness *tr = user_data;
  gint64 timeout = json_object_get_int_member_with_default (tr->check, "timeoutSeconds", 10);

  tr->timer_id = 0;
  tr->in_flight = TRUE;
  g_clear_object (&tr->cancellable);
  tr->cancellable = g_cancellable_new ();
  tr->probe = berth_probe_new_http ("GET", tr->uri);
  /* the task's certificate is not verified, as for Marathon's HTTPS
   * health checks (tasks rarely have one a CA vouches for at their
   * host:port): readiness says the task answers, not who it is */
  if (g_str_has_prefix (tr->uri, "https:"))
    berth_probe_set_tls_skip_verify (tr->probe, TRUE);
  berth_probe_set_timeout (tr->probe, (guint) CLAMP (timeout, 1, 86400) * 1000);
  berth_probe_run_async (tr->probe, tr->cancellable, probe_done_cb, tr);
  return G_SOURCE_REMOVE;
}

static SchedulerApp *
find_app (GPtrArray *apps, const char *id)
{
  for (guint i = 0; i < apps->len; i++)
    if (g_strcmp0 (((SchedulerApp *) g_ptr_array_index (apps, i))->id, id) == 0)
      return g_ptr_array_index (apps, i);
  return NULL;
}

/* Starts checking the running tasks of apps with a readiness check, and
 * forgets the tasks that are gone, stopped or of an older config. */
void
scheduler_readiness_sync (SchedulerReadiness *self, GPtrArray *apps, GPtrArray *tasks)
{
  g_autoptr(GHashTable) keep = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key;

  for (guint i = 0; i < tasks->len; i++)
    {
      BerthTask *task = g_ptr_array_index (tasks, i);
      SchedulerApp *app;
      JsonArray *checks;
      JsonObject *check;
      TaskReadiness *tr;
      GArray *ports;
      gint index;

      if (berth_task_get_state (task) != BERTH_TASK_STATE_RUNNING)
        continue;
      app = find_app (apps, berth_task_get_app_id (task));
      checks = app != NULL ? json_object_get_array_member (app->def, "readinessChecks") : NULL;
      if (checks == NULL || json_array_get_length (checks) == 0 ||
          g_strcmp0 (berth_task_get_version (task), app->config_version) != 0)
        continue;
      g_hash_table_add (keep, (gpointer) berth_task_get_id (task));
      if (g_hash_table_contains (self->tasks, berth_task_get_id (task)))
        continue;
      check = json_array_get_object_element (checks, 0);
      index = scheduler_app_port_index_by_name (app->def, json_object_get_string_member (check, "portName"));
      ports = berth_task_get_ports (task);
      tr = g_new0 (TaskReadiness, 1);
      tr->owner = self;
      tr->task_id = g_strdup (berth_task_get_id (task));
      tr->app_id = g_strdup (app->id);
      tr->check = json_object_ref (check);
      tr->uri = g_strdup_printf ("%s://%s:%u%s",
                                 g_str_equal (json_object_get_string_member (check, "protocol"), "HTTPS") ? "https"
                                                                                                          : "http",
                                 berth_task_get_host (task) != NULL ? berth_task_get_host (task) : "127.0.0.1",
                                 index >= 0 && (guint) index < ports->len ? g_array_index (ports, guint, index) : 0,
                                 json_object_get_string_member (check, "path"));
      tr->timer_id = g_idle_add (probe_cb, tr);
      g_hash_table_insert (self->tasks, tr->task_id, tr);
    }
  g_hash_table_iter_init (&iter, self->tasks);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (keep, key))
      g_hash_table_iter_remove (&iter);
}

/* Whether @task passed its app's readiness check (TRUE without one, and
 * for a task of an older config). */
gboolean
scheduler_readiness_is_ready (SchedulerReadiness *self, SchedulerApp *app, BerthTask *task)
{
  JsonArray *checks = json_object_get_array_member (app->def, "readinessChecks");
  TaskReadiness *tr;

  if (checks == NULL || json_array_get_length (checks) == 0 ||
      g_strcmp0 (berth_task_get_version (task), app->config_version) != 0)
    return TRUE;
  tr = g_hash_table_lookup (self->tasks, berth_task_get_id (task));
  return tr != NULL && tr->ready;
}

/* Marathon's readinessCheckResults of the app's checked tasks. */
JsonArray *
scheduler_readiness_results_json (SchedulerReadiness *self, const char *app_id)
{
  JsonArray *out = json_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->tasks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      TaskReadiness *tr = value;
      JsonObject *o;

      if (g_strcmp0 (tr->app_id, app_id) != 0)
        continue;
      o = json_object_new ();
      json_object_set_string_member (o, "name", json_object_get_string_member (tr->check, "name"));
      json_object_set_string_member (o, "taskId", tr->task_id);
      json_object_set_boolean_member (o, "ready", tr->ready);
      if (tr->last_response != NULL)
        json_object_set_object_member (o, "lastResponse", json_object_ref (tr->last_response));
      json_array_add_object_element (out, o);
    }
  return out;
}
