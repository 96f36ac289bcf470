/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "scheduler-db.h"
#include "scheduler-http-private.h"
#include "scheduler-validate.h"

/* /v2/tasks, /v2/deployments and /v2/queue. */

/* The live tasks (of @app_id, or all), ?status=running|staging. */
void
scheduler_http_respond_tasks (SchedulerPlugin *self, BerthRequest *req, const char *app_id)
{
  SchedulerController *controller = scheduler_plugin_get_controller (self);
  BerthStore *store = scheduler_http_store (self);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(JsonObject) o = NULL;
  const char *status = berth_request_get_query (req, "status");
  JsonArray *list;

  if (app_id != NULL)
    {
      g_autoptr(SchedulerApp) app = scheduler_db_load_app (store, app_id, scheduler_plugin_get_limits (self), &error);
      if (app == NULL)
        {
          berth_request_respond_error (req, error);
          return;
        }
    }
  tasks = berth_task_list (store, app_id, NULL, &error);
  if (tasks == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  list = json_array_new ();
  for (guint i = 0; i < tasks->len; i++)
    {
      BerthTask *task = g_ptr_array_index (tasks, i);
      if (berth_task_is_terminal (task))
        continue;
      if (!scheduler_http_may_read_app (req, berth_task_get_app_id (task)))
        continue;
      if (status != NULL && g_ascii_strcasecmp (status, "running") == 0 &&
          berth_task_get_state (task) != BERTH_TASK_STATE_RUNNING)
        continue;
      if (status != NULL && g_ascii_strcasecmp (status, "staging") == 0 &&
          berth_task_get_state (task) != BERTH_TASK_STATE_STAGING)
        continue;
      json_array_add_element (list, scheduler_controller_task_json (controller, task));
    }
  o = json_object_new ();
  json_object_set_array_member (o, "tasks", list);
  berth_request_set_index (req, berth_store_get_index (store));
  scheduler_http_respond_object (req, 200, o);
}

void
scheduler_http_handle_tasks (BerthRequest *req, gpointer user_data)
{
  scheduler_http_respond_tasks (user_data, req, NULL);
}

/* POST /v2/tasks/delete {"ids": [...]} (?scale=true, ?force, ?wipe) */
void
scheduler_http_handle_tasks_delete (BerthRequest *req, gpointer user_data)
{
  SchedulerPlugin *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = berth_request_parse_json (req, &error);
  g_autoptr(GStrvBuilder) ids = g_strv_builder_new ();
  g_auto(GStrv) list = NULL;
  g_autoptr(SchedulerAppOp) op = NULL;
  gboolean wipe = FALSE;
  JsonArray *array;

  if (body == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  array = JSON_NODE_HOLDS_OBJECT (body) && json_object_has_member (json_node_get_object (body), "ids") &&
              JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (body), "ids"))
            ? json_object_get_array_member (json_node_get_object (body), "ids") : NULL;
  if (array == NULL)
    {
      berth_request_respond_message (req, 400, _("Expected {\"ids\": [...]}"));
      return;
    }
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *id = json_array_get_element (array, i);
      if (scheduler_json_is_string (id))
        g_strv_builder_add (ids, json_node_get_string (id));
    }
  list = g_strv_builder_end (ids);
  /* each task's app, before anything is killed; a task that does not
   * exist is left to the operation to report */
  for (guint i = 0; list[i] != NULL; i++)
    {
      g_autoptr(BerthTask) task = berth_task_lookup (scheduler_http_store (self), list[i], NULL);
      if (task != NULL && !scheduler_http_authorize_app (req, berth_task_get_app_id (task), BERTH_ACCESS_WRITE))
        return;
    }
  op = scheduler_apps_kill_tasks (self, NULL, (const char * const *) list, FALSE, berth_request_get_caller (req));
  if (!scheduler_http_flags (req, op))
    return;
  /* ?wipe: the task's reservations and persistent volumes go too; Berth
   * has neither (apps with them are refused), so a wipe is a kill, and
   * like Marathon not one that also scales */
  if (!berth_request_get_query_boolean (req, "wipe", &wipe, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (wipe && op->scale)
    {
      berth_request_respond_message (req, 400, _("You cannot use scale and wipe at the same time."));
      return;
    }
  scheduler_http_run (self, req, op);
}

/* The readiness results of each app a deployment is deploying. */
static JsonNode *
with_readiness (SchedulerPlugin *self, JsonNode *node)
{
  SchedulerController *controller = scheduler_plugin_get_controller (self);
  JsonArray *actions = json_object_get_array_member (json_node_get_object (node), "currentActions");

  for (guint i = 0; controller != NULL && actions != NULL && i < json_array_get_length (actions); i++)
    {
      JsonObject *a = json_array_get_object_element (actions, i);
      json_object_set_array_member (a, "readinessCheckResults",
                                    scheduler_readiness_results_json (scheduler_controller_get_readiness (controller),
                                                                      json_object_get_string_member (a, "app")));
    }
  return node;
}

void
scheduler_http_handle_deployments (BerthRequest *req, gpointer user_data)
{
  SchedulerPlugin *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = scheduler_db_load_deployments (scheduler_http_store (self), &error);
  g_autoptr(JsonNode) root = NULL;
  JsonArray *array;

  if (list == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  /* a deployment's rows (one per app), in order; the apps the caller
   * may not read are left out, and a deployment with none of them */
  array = json_array_new ();
  for (guint i = 0; i < list->len; i++)
    {
      SchedulerDeployment *d = g_ptr_array_index (list, i);
      g_autoptr(GPtrArray) rows = NULL;
      gboolean seen = FALSE;

      for (guint j = 0; j < i && !seen; j++)
        seen = g_str_equal (((SchedulerDeployment *) g_ptr_array_index (list, j))->id, d->id);
      if (seen)
        continue;
      rows = g_ptr_array_new ();
      for (guint j = i; j < list->len; j++)
        {
          SchedulerDeployment *row = g_ptr_array_index (list, j);
          if (g_str_equal (row->id, d->id) && scheduler_http_may_read_app (req, row->app_id))
            g_ptr_array_add (rows, row);
        }
      if (rows->len > 0)
        json_array_add_element (array, with_readiness (self, scheduler_deployment_to_json (rows)));
    }
  root = json_node_init_array (json_node_alloc (), array);
  json_array_unref (array);
  berth_request_respond_json (req, 200, root);
}

/* DELETE /v2/deployments/<id>: ?force=true stops it where it is; without,
 * the app goes back to the definition it had before (a new deployment). */
void
scheduler_http_handle_deployment (BerthRequest *req, gpointer user_data)
{
  const char *id = berth_request_get_param (req, "_id");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = scheduler_db_load_deployments (scheduler_http_store (user_data), &error);
  g_autoptr(SchedulerAppOp) op = NULL;
  g_autoptr(GPtrArray) apps = g_ptr_array_new ();

  if (list == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  /* the path names a deployment (`:_id`), rules every app it deploys (a
   * deployment that does not exist is left to the operation) */
  for (guint i = 0; i < list->len; i++)
    {
      SchedulerDeployment *d = g_ptr_array_index (list, i);
      if (!g_str_equal (d->id, id))
        continue;
      if (!scheduler_http_authorize_app (req, d->app_id, BERTH_ACCESS_WRITE))
        return;
      g_ptr_array_add (apps, d->app_id);
    }
  if (apps->len <= 1)
    op = scheduler_apps_cancel_deployment (user_data, id, NULL, berth_request_get_caller (req));
  else
    {
      /* one operation per app, in one write: all of it goes back (one
       * new deployment) or stops */
      op = scheduler_apps_batch (NULL, NULL, berth_request_get_caller (req));
      op->one_deployment = TRUE;
      for (guint i = 0; i < apps->len; i++)
        g_ptr_array_add (op->ops, scheduler_apps_cancel_deployment (user_data, id, g_ptr_array_index (apps, i),
                                                                    berth_request_get_caller (req)));
    }
  if (scheduler_http_flags (req, op))
    scheduler_http_run (user_data, req, op);
}

void
scheduler_http_handle_queue (BerthRequest *req, gpointer user_data)
{
  SchedulerPlugin *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) apps = scheduler_db_load_apps (scheduler_http_store (self), scheduler_plugin_get_limits (self),
                                                      &error);
  g_autoptr(JsonObject) o = NULL;

  if (apps == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  for (guint i = apps->len; i > 0; i--)
    if (!scheduler_http_may_read_app (req, ((SchedulerApp *) g_ptr_array_index (apps, i - 1))->id))
      g_ptr_array_remove_index (apps, i - 1);
  o = json_object_new ();
  json_object_set_array_member (o, "queue", scheduler_controller_queue_json (scheduler_plugin_get_controller (self),
                                                                             apps));
  scheduler_http_respond_object (req, 200, o);
}

/* DELETE /v2/queue/<app>/delay: the app's launch backoff starts over,
 * so that an app whose tasks kept failing is launched again now. */
typedef struct {
  BerthRequest    *request;
  SchedulerPlugin *plugin;
  char            *app_id;
} DelayReset;

static void
delay_reset_free (DelayReset *r)
{
  g_object_unref (r->request);
  g_object_unref (r->plugin);
  g_free (r->app_id);
  g_free (r);
}

static gboolean
delay_reset_write (BerthTxn *txn, gpointer user_data, GError **error)
{
  DelayReset *r = user_data;
  g_autoptr(SchedulerApp) app = scheduler_db_load_app (berth_txn_get_store (txn), r->app_id,
                                                       scheduler_plugin_get_limits (r->plugin), error);

  return app != NULL && scheduler_db_set_backoff (txn, r->app_id, 0, 0, NULL, error);
}

static void
delay_reset_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DelayReset *r = user_data;
  g_autoptr(GError) error = NULL;
  SchedulerController *controller = scheduler_plugin_get_controller (r->plugin);

  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 && error != NULL)
    berth_request_respond_error (r->request, error);
  else
    {
      if (controller != NULL)
        scheduler_controller_kick (controller);
      berth_request_respond (r->request, 204, NULL, NULL);
    }
  delay_reset_free (r);
}

void
scheduler_http_handle_queue_delay (BerthRequest *req, gpointer user_data)
{
  SchedulerPlugin *self = user_data;
  g_autofree char *path = scheduler_app_normalize_id (berth_request_get_param (req, "path"), NULL);
  DelayReset *r;

  if (!g_str_has_suffix (path, "/delay"))
    {
      berth_request_respond_message (req, 404, _("Not found: DELETE /v2/queue/<app>/delay resets an app's delay"));
      return;
    }
  path[strlen (path) - strlen ("/delay")] = '\0';
  if (!scheduler_app_id_is_valid (path))
    {
      JsonArray *details = json_array_new ();
      scheduler_detail_add (details, "/id", _("error.path.invalid"));
      scheduler_http_respond_invalid (req, details);
      return;
    }
  if (!scheduler_http_authorize_app (req, path, BERTH_ACCESS_WRITE))
    return;
  r = g_new0 (DelayReset, 1);
  r->request = g_object_ref (req);
  r->plugin = g_object_ref (self);
  r->app_id = g_steal_pointer (&path);
  berth_store_write_async (scheduler_http_store (self), delay_reset_write, r, NULL, NULL, delay_reset_done_cb, r);
}
