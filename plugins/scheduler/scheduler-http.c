/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "scheduler-db.h"
#include "scheduler-groups.h"
#include "scheduler-http.h"
#include "scheduler-validate.h"

/* The Marathon-compatible API under /v2 (and /ping). Reads answer from the
 * store at once; writes go through one store transaction that checks
 * (existence, deployment locks) and writes together, and answer when it
 * is committed. The controller does the rest. */

typedef enum {
  WRITE_CREATE,
  WRITE_UPDATE,
  WRITE_DELETE,
  WRITE_KILL_TASKS,
  WRITE_CANCEL_DEPLOYMENT,
} WriteKind;

typedef struct {
  SchedulerPlugin *plugin;
  BerthRequest    *request;
  WriteKind        kind;
  char            *app_id;
  JsonObject      *def;          /* the new definition (create, update) */
  char            *action;       /* deployment action */
  gboolean         force;
  gboolean         scale;
  gboolean         config_change;
  GPtrArray       *task_ids;     /* kill: the tasks named */
  gboolean         tasks_by_app; /* kill: every task of app_id */
  char            *deployment_id;
  /* results */
  char            *new_deployment;
  char            *version;
  char            *locked_by;
  GPtrArray       *killed;       /* BerthTask* */
  guint            status;
} WriteData;

static void
write_data_free (WriteData *w)
{
  g_object_unref (w->plugin);
  g_object_unref (w->request);
  g_free (w->app_id);
  g_clear_pointer (&w->def, json_object_unref);
  g_free (w->action);
  g_clear_pointer (&w->task_ids, g_ptr_array_unref);
  g_free (w->deployment_id);
  g_free (w->new_deployment);
  g_free (w->version);
  g_free (w->locked_by);
  g_clear_pointer (&w->killed, g_ptr_array_unref);
  g_free (w);
}

static WriteData *
write_data_new (SchedulerPlugin *plugin, BerthRequest *req, WriteKind kind)
{
  WriteData *w = g_new0 (WriteData, 1);
  const char *force = berth_request_get_query (req, "force");
  const char *scale = berth_request_get_query (req, "scale");

  w->plugin = g_object_ref (plugin);
  w->request = g_object_ref (req);
  w->kind = kind;
  w->force = force != NULL && g_ascii_strcasecmp (force, "true") == 0;
  w->scale = scale != NULL && g_ascii_strcasecmp (scale, "true") == 0;
  w->killed = g_ptr_array_new_with_free_func (g_object_unref);
  return w;
}

static BerthStore *
store_of (SchedulerPlugin *self)
{
  return berth_context_get_store (berth_plugin_get_context (BERTH_PLUGIN (self)));
}

static const SchedulerLimits *
limits_of (SchedulerPlugin *self)
{
  return scheduler_plugin_get_limits (self);
}

static void
respond_object (BerthRequest *req, guint status, JsonObject *obj)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), obj);
  berth_request_respond_json (req, status, node);
}

static void
respond_not_implemented (BerthRequest *req, const char *what)
{
  g_autofree char *msg = g_strdup_printf (_("%s not implemented"), what);
  berth_request_respond_message (req, 501, msg);
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

static void
emit (SchedulerPlugin *self, const char *type, JsonObject *data)
{
  scheduler_events_emit (scheduler_plugin_get_events (self), type, data);
  json_object_unref (data);
}

/* ---- writes ------------------------------------------------------------ */

static gboolean
check_lock (WriteData *w, BerthStore *store, GError **error)
{
  g_autoptr(SchedulerDeployment) d = scheduler_db_load_deployment (store, NULL, w->app_id, NULL);

  if (d == NULL || w->force)
    return TRUE;
  w->locked_by = g_strdup (d->id);
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT,
               _("App is locked by one or more deployments. Override with the option '?force=true'. "
                 "View details at '/v2/deployments/<DEPLOYMENT_ID>'."));
  return FALSE;
}

static gboolean
kill_app_tasks (WriteData *w, BerthTxn *txn, GError **error)
{
  g_autoptr(GPtrArray) tasks = berth_task_list (berth_txn_get_store (txn), w->app_id, NULL, error);

  if (tasks == NULL)
    return FALSE;
  for (guint i = 0; i < tasks->len; i++)
    {
      BerthTask *task = g_ptr_array_index (tasks, i);
      if (berth_task_is_terminal (task))
        continue;
      if (!berth_task_write_desired (txn, berth_task_get_id (task), BERTH_TASK_DESIRED_KILLED, error))
        return FALSE;
      g_ptr_array_add (w->killed, g_object_ref (task));
    }
  return TRUE;
}

static gboolean
put_deployment (WriteData *w, BerthTxn *txn, JsonObject *previous, GError **error)
{
  w->new_deployment = g_uuid_string_random ();
  return scheduler_db_put_deployment (txn, w->new_deployment, w->app_id, w->version, w->action, previous, error);
}

static gboolean
write_app (WriteData *w, BerthTxn *txn, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  const SchedulerLimits *limits = limits_of (w->plugin);
  g_autoptr(GError) local = NULL;
  g_autoptr(SchedulerApp) current = scheduler_db_load_app (store, w->app_id, limits, &local);
  /* a stored app that fails validation: it can be deleted or replaced */
  gboolean broken = current == NULL && g_error_matches (local, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE);

  if (current == NULL && !broken && !g_error_matches (local, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  switch (w->kind)
    {
    case WRITE_CREATE:
      if (current != NULL || broken)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT, _("An app with id [%s] already exists."), w->app_id);
          return FALSE;
        }
      if (!check_lock (w, store, error))
        return FALSE;
      w->status = 201;
      return scheduler_db_put_app (txn, w->def, TRUE, limits->max_versions, error) &&
             put_deployment (w, txn, NULL, error);
    case WRITE_UPDATE:
      if (!check_lock (w, store, error))
        return FALSE;
      w->status = current == NULL ? 201 : 200;
      return scheduler_db_put_app (txn, w->def, w->config_change || broken, limits->max_versions, error) &&
             put_deployment (w, txn, current != NULL ? current->def : NULL, error);
    case WRITE_DELETE:
      if (current == NULL && !broken)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("App '%s' does not exist"), w->app_id);
          return FALSE;
        }
      if (!check_lock (w, store, error))
        return FALSE;
      w->status = 200;
      w->version = berth_task_timestamp_now ();
      return scheduler_db_delete_app (txn, w->app_id, error) && kill_app_tasks (w, txn, error) &&
             put_deployment (w, txn, current != NULL ? current->def : NULL, error);
    default:
      g_assert_not_reached ();
    }
  return FALSE;
}

/* Kills tasks (named, or all of an app); with scale, lowers instances. */
static gboolean
write_kill (WriteData *w, BerthTxn *txn, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(GHashTable) per_app = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key, value;

  if (w->tasks_by_app)
    {
      g_autoptr(SchedulerApp) app = scheduler_db_load_app (store, w->app_id, limits_of (w->plugin), error);
      if (app == NULL || !kill_app_tasks (w, txn, error))
        return FALSE;
      g_hash_table_insert (per_app, g_strdup (w->app_id), GUINT_TO_POINTER (w->killed->len));
    }
  else
    for (guint i = 0; i < w->task_ids->len; i++)
      {
        g_autoptr(BerthTask) task = berth_task_lookup (store, g_ptr_array_index (w->task_ids, i), error);
        guint n;
        if (task == NULL || (w->app_id != NULL && g_strcmp0 (berth_task_get_app_id (task), w->app_id) != 0))
          {
            g_clear_error (error);
            if (w->app_id != NULL)
              {
                g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Task '%s' does not exist"),
                             (const char *) g_ptr_array_index (w->task_ids, i));
                return FALSE;
              }
            continue;
          }
        if (berth_task_is_terminal (task) || berth_task_get_desired_state (task) == BERTH_TASK_DESIRED_KILLED)
          {
            g_ptr_array_add (w->killed, g_object_ref (task));
            continue;
          }
        if (!berth_task_write_desired (txn, berth_task_get_id (task), BERTH_TASK_DESIRED_KILLED, error))
          return FALSE;
        n = GPOINTER_TO_UINT (g_hash_table_lookup (per_app, berth_task_get_app_id (task)));
        g_hash_table_replace (per_app, g_strdup (berth_task_get_app_id (task)), GUINT_TO_POINTER (n + 1));
        g_ptr_array_add (w->killed, g_object_ref (task));
      }
  if (!w->scale)
    return TRUE;
  g_hash_table_iter_init (&iter, per_app);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autoptr(SchedulerApp) app = scheduler_db_load_app (store, key, limits_of (w->plugin), NULL);
      g_autoptr(JsonObject) def = NULL;
      g_autofree char *version = NULL;
      gint64 instances;

      if (app == NULL)
        continue;
      version = scheduler_app_next_version (app->version);
      def = scheduler_object_copy (app->def);
      instances = MAX (app->instances - (gint64) GPOINTER_TO_UINT (value), 0);
      json_object_set_int_member (def, "instances", instances);
      scheduler_app_set_version (def, version, FALSE);
      if (!scheduler_db_put_app (txn, def, FALSE, limits_of (w->plugin)->max_versions, error))
        return FALSE;
      g_free (w->version);
      w->version = g_strdup (version);
    }
  return TRUE;
}

/* DELETE /v2/deployments/<id>: ?force=true stops it where it is; without,
 * the app goes back to the definition it had before (a new deployment). */
static gboolean
write_cancel (WriteData *w, BerthTxn *txn, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(SchedulerDeployment) d = scheduler_db_load_deployment (store, w->deployment_id, NULL, error);
  g_autoptr(SchedulerApp) current = NULL;

  if (d == NULL)
    return FALSE;
  if (!scheduler_db_delete_deployment (txn, d->id, error))
    return FALSE;
  w->status = 202;
  if (w->force)
    return TRUE;
  w->status = 200;
  w->app_id = g_strdup (d->app_id);
  current = scheduler_db_load_app (store, d->app_id, limits_of (w->plugin), NULL);
  w->version = scheduler_app_next_version (current != NULL ? current->version : NULL);
  if (d->previous == NULL)
    {
      /* rolling back a creation removes the app */
      w->action = g_strdup ("StopApplication");
      if (current == NULL)
        return TRUE;
      return scheduler_db_delete_app (txn, d->app_id, error) && kill_app_tasks (w, txn, error) &&
             put_deployment (w, txn, current->def, error);
    }
  {
    g_autofree char *why = scheduler_app_check_stored (d->previous, limits_of (w->plugin));
    g_autoptr(JsonObject) def = NULL;
    gboolean config_change;

    if (why != NULL)
      {
        g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                     _("The definition before deployment %s is not valid (%s)"), d->id, why);
        return FALSE;
      }
    def = scheduler_object_copy (d->previous);
    config_change = current == NULL || !scheduler_app_is_scale_only (current->def, def);
    scheduler_app_set_version (def, w->version, config_change);
    w->action = g_strdup (config_change ? "RestartApplication" : "ScaleApplication");
    return scheduler_db_put_app (txn, def, TRUE, limits_of (w->plugin)->max_versions, error) &&
           put_deployment (w, txn, current != NULL ? current->def : NULL, error);
  }
}

static gboolean
write_cb (BerthTxn *txn, gpointer user_data, GError **error)
{
  WriteData *w = user_data;

  switch (w->kind)
    {
    case WRITE_KILL_TASKS:
      return write_kill (w, txn, error);
    case WRITE_CANCEL_DEPLOYMENT:
      return write_cancel (w, txn, error);
    default:
      return write_app (w, txn, error);
    }
}

static JsonObject *
deployment_result (WriteData *w)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "deploymentId", w->new_deployment);
  json_object_set_string_member (o, "version", w->version);
  return o;
}

static void
write_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WriteData *w = user_data;
  SchedulerController *controller = scheduler_plugin_get_controller (w->plugin);
  g_autoptr(GError) error = NULL;

  if (controller == NULL)
    {
      /* shutting down meanwhile */
      berth_request_respond_message (w->request, 503, _("The scheduler is shutting down"));
      write_data_free (w);
      return;
    }
  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 && error != NULL)
    {
      if (w->locked_by != NULL)
        {
          JsonObject *o = json_object_new ();
          JsonArray *list = json_array_new ();
          JsonObject *d = json_object_new ();
          json_object_set_string_member (o, "message", error->message);
          json_object_set_string_member (d, "id", w->locked_by);
          json_array_add_object_element (list, d);
          json_object_set_array_member (o, "deployments", list);
          respond_object (w->request, 409, o);
          json_object_unref (o);
        }
      else
        berth_request_respond_error (w->request, error);
      write_data_free (w);
      return;
    }
  berth_request_set_index (w->request, berth_store_get_index (store_of (w->plugin)));
  if (w->kind == WRITE_DELETE)
    berth_context_forget_broken (berth_plugin_get_context (BERTH_PLUGIN (w->plugin)), "app", w->app_id);
  if (w->kind == WRITE_CREATE || w->kind == WRITE_UPDATE)
    {
      JsonObject *e = event_data ("api_post_event");
      json_object_set_string_member (e, "clientIp", "127.0.0.1");
      json_object_set_string_member (e, "uri", berth_request_get_path (w->request));
      json_object_set_object_member (e, "appDefinition", json_object_ref (w->def));
      emit (w->plugin, "api_post_event", e);
    }
  if (w->new_deployment != NULL)
    {
      JsonObject *e = event_data ("deployment_info");
      JsonObject *plan = scheduler_deployment_plan_json (w->new_deployment, w->app_id, w->version, w->action);
      JsonArray *steps = json_object_get_array_member (plan, "steps");
      json_object_set_object_member (e, "currentStep", json_object_ref (json_array_get_object_element (steps, 0)));
      json_object_set_object_member (e, "plan", plan);
      emit (w->plugin, "deployment_info", e);
    }
  switch (w->kind)
    {
    case WRITE_CREATE:
      {
        g_autoptr(SchedulerApp) app = scheduler_app_new (w->def);
        g_autoptr(JsonNode) node = NULL;
        g_autofree char *location = g_strdup_printf ("/v2/apps%s", w->app_id);
        app->deployment_id = g_strdup (w->new_deployment);
        node = scheduler_controller_app_json (controller, app, NULL, FALSE);
        berth_request_set_header (w->request, "Location", location);
        berth_request_respond_json (w->request, 201, node);
        break;
      }
    case WRITE_KILL_TASKS:
      {
        JsonObject *o = json_object_new ();
        if (w->task_ids != NULL && w->app_id != NULL && w->killed->len == 1)
          json_object_set_member (o, "task",
                                  scheduler_controller_task_json (controller, g_ptr_array_index (w->killed, 0)));
        else
          {
            JsonArray *list = json_array_new ();
            for (guint i = 0; i < w->killed->len; i++)
              json_array_add_element (list, scheduler_controller_task_json (controller, g_ptr_array_index (w->killed, i)));
            json_object_set_array_member (o, "tasks", list);
          }
        respond_object (w->request, 200, o);
        json_object_unref (o);
        break;
      }
    case WRITE_CANCEL_DEPLOYMENT:
      {
        JsonObject *e = event_data ("deployment_failed");
        json_object_set_string_member (e, "id", w->deployment_id);
        emit (w->plugin, "deployment_failed", e);
      }
      if (w->force)
        {
          JsonObject *o = json_object_new ();
          respond_object (w->request, 202, o);
          json_object_unref (o);
          break;
        }
      G_GNUC_FALLTHROUGH;
    default:
      {
        JsonObject *o = deployment_result (w);
        respond_object (w->request, w->status != 0 ? w->status : 200, o);
        json_object_unref (o);
      }
    }
  scheduler_controller_kick (controller);
  write_data_free (w);
}

static void
start_write (WriteData *w)
{
  berth_store_write_async (store_of (w->plugin), write_cb, w, NULL, NULL, write_done_cb, w);
}

static void
respond_invalid (BerthRequest *req, JsonArray *details)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "message", _("Object is not valid"));
  json_object_set_array_member (o, "details", details);
  respond_object (req, 422, o);
  json_object_unref (o);
}

/* ---- handlers ---------------------------------------------------------- */

static void
handle_ping (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GBytes) body = g_bytes_new_static ("pong", 4);
  berth_request_respond (req, 200, "text/plain", body);
}

static char *
leader_of (BerthRequest *req)
{
  BerthContext *ctx = berth_request_get_context (req);
  const char *host = berth_request_get_header (req, "Host");
  BerthNode *node = berth_context_get_node (ctx);

  if (host != NULL && *host != '\0')
    return g_strdup (host);
  return g_strdup_printf ("%s:8500", node != NULL ? berth_node_get_address (node) : "127.0.0.1");
}

static void
handle_info (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  BerthNode *node = berth_context_get_node (ctx);
  g_autofree char *leader = leader_of (req);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, "berth");
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, BERTH_VERSION);
  json_builder_set_member_name (b, "buildref");
  json_builder_add_string_value (b, BERTH_VERSION);
  json_builder_set_member_name (b, "elected");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "leader");
  json_builder_add_string_value (b, leader);
  json_builder_set_member_name (b, "frameworkId");
  json_builder_add_string_value (b, node != NULL ? berth_node_get_id (node) : "berth");
  json_builder_set_member_name (b, "event_subscriber");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "sse");
  json_builder_end_object (b);
  json_builder_set_member_name (b, "http_config");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "http_port");
  json_builder_add_int_value (b, 8500);
  json_builder_set_member_name (b, "https_port");
  json_builder_add_int_value (b, 0);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "marathon_config");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "master");
  json_builder_add_string_value (b, "local");
  json_builder_set_member_name (b, "framework_name");
  json_builder_add_string_value (b, "berth");
  json_builder_set_member_name (b, "hostname");
  json_builder_add_string_value (b, node != NULL ? berth_node_get_name (node) : "localhost");
  json_builder_set_member_name (b, "task_launch_timeout");
  json_builder_add_int_value (b, 300000);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "zookeeper_config");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "zk");
  json_builder_add_string_value (b, "none");
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  berth_request_respond_json (req, 200, root);
}

static void
handle_leader (BerthRequest *req, gpointer user_data)
{
  g_autofree char *leader = leader_of (req);
  JsonObject *o = json_object_new ();

  if (g_str_equal (berth_request_get_method (req), "DELETE"))
    {
      json_object_unref (o);
      respond_not_implemented (req, _("leader abdication is"));
      return;
    }
  json_object_set_string_member (o, "leader", leader);
  respond_object (req, 200, o);
  json_object_unref (o);
}

/* ?embed=apps.tasks / app.tasks (the parameter may repeat) */
static gboolean
wants_tasks (BerthRequest *req)
{
  GUri *uri = soup_server_message_get_uri (berth_request_get_message (req));
  const char *query = uri != NULL ? g_uri_get_query (uri) : NULL;
  g_auto(GStrv) parts = NULL;

  if (query == NULL)
    return FALSE;
  parts = g_strsplit (query, "&", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autofree char *decoded = g_uri_unescape_string (parts[i], NULL);
      if (decoded != NULL && g_str_has_prefix (decoded, "embed=") && g_str_has_suffix (decoded, ".tasks"))
        return TRUE;
    }
  return FALSE;
}

static gboolean
load_all (SchedulerPlugin *self, BerthRequest *req, GPtrArray **apps, GPtrArray **tasks)
{
  g_autoptr(GError) error = NULL;

  *apps = scheduler_db_load_apps (store_of (self), limits_of (self), &error);
  if (*apps != NULL)
    *tasks = berth_task_list (store_of (self), NULL, NULL, &error);
  if (*apps == NULL || *tasks == NULL)
    {
      g_clear_pointer (apps, g_ptr_array_unref);
      berth_request_respond_error (req, error);
      return FALSE;
    }
  return TRUE;
}

static void
list_apps (SchedulerPlugin *self, BerthRequest *req)
{
  SchedulerController *controller = scheduler_plugin_get_controller (self);
  g_autoptr(GPtrArray) apps = NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  const char *cmd = berth_request_get_query (req, "cmd");
  const char *id = berth_request_get_query (req, "id");
  gboolean embed = wants_tasks (req);
  JsonArray *list;
  JsonObject *o;

  if (!load_all (self, req, &apps, &tasks))
    return;
  list = json_array_new ();
  for (guint i = 0; i < apps->len; i++)
    {
      SchedulerApp *app = g_ptr_array_index (apps, i);
      const char *app_cmd = json_object_get_string_member_with_default (app->def, "cmd", NULL);
      if (cmd != NULL && (app_cmd == NULL || strstr (app_cmd, cmd) == NULL))
        continue;
      if (id != NULL && strstr (app->id, id) == NULL)
        continue;
      json_array_add_element (list, scheduler_controller_app_json (controller, app, tasks, embed));
    }
  o = json_object_new ();
  json_object_set_array_member (o, "apps", list);
  berth_request_set_index (req, berth_store_get_index (store_of (self)));
  respond_object (req, 200, o);
  json_object_unref (o);
}

static void
create_app (SchedulerPlugin *self, BerthRequest *req, JsonNode *body, const char *path_id, WriteKind kind)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) details = NULL;
  g_autoptr(SchedulerApp) current = NULL;
  g_autoptr(JsonObject) def = NULL;
  g_autoptr(JsonNode) rollback = NULL;
  g_autofree char *version = NULL;
  WriteData *w;

  if (kind == WRITE_UPDATE)
    {
      current = scheduler_db_load_app (store_of (self), path_id, limits_of (self), &error);
      /* a broken app is replaced as if it did not exist */
      if (current == NULL && !g_error_matches (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND) &&
          !g_error_matches (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE))
        {
          berth_request_respond_error (req, error);
          return;
        }
      g_clear_error (&error);
      /* {"version": V} rolls back to version V */
      if (current != NULL && JSON_NODE_HOLDS_OBJECT (body) &&
          json_object_get_size (json_node_get_object (body)) == 1 &&
          scheduler_json_is_string (json_object_get_member (json_node_get_object (body), "version")))
        {
          JsonObject *old = scheduler_db_load_version (store_of (self), path_id,
                                                       json_object_get_string_member (json_node_get_object (body), "version"),
                                                       &error);
          if (old == NULL)
            {
              berth_request_respond_error (req, error);
              return;
            }
          rollback = json_node_init_object (json_node_alloc (), old);
          json_object_unref (old);
          body = rollback;
        }
    }
  def = scheduler_app_validate (body, current != NULL ? current->def : NULL, path_id, limits_of (self), &details);
  if (def == NULL)
    {
      respond_invalid (req, g_steal_pointer (&details));
      return;
    }
  version = scheduler_app_next_version (current != NULL ? current->version : NULL);
  w = write_data_new (self, req, kind);
  w->app_id = g_strdup (json_object_get_string_member (def, "id"));
  w->config_change = current == NULL || !scheduler_app_is_scale_only (current->def, def);
  if (current != NULL)
    json_object_set_object_member (def, "versionInfo",
                                   json_object_ref (json_object_get_object_member (current->def, "versionInfo")));
  scheduler_app_set_version (def, version, w->config_change);
  w->version = g_strdup (version);
  w->action = g_strdup (current == NULL ? "StartApplication"
                                        : w->config_change ? "RestartApplication" : "ScaleApplication");
  w->def = g_steal_pointer (&def);
  start_write (w);
}

static void
handle_apps (BerthRequest *req, gpointer user_data)
{
  SchedulerPlugin *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = NULL;

  if (g_str_equal (berth_request_get_method (req), "GET") || g_str_equal (berth_request_get_method (req), "HEAD"))
    {
      list_apps (self, req);
      return;
    }
  if (g_str_equal (berth_request_get_method (req), "PUT"))
    {
      respond_not_implemented (req, _("updating several apps at once is"));
      return;
    }
  body = berth_request_parse_json (req, &error);
  if (body == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  create_app (self, req, body, NULL, WRITE_CREATE);
}

static void
get_app (SchedulerPlugin *self, BerthRequest *req, const char *id)
{
  SchedulerController *controller = scheduler_plugin_get_controller (self);
  g_autoptr(GError) error = NULL;
  g_autoptr(SchedulerApp) app = scheduler_db_load_app (store_of (self), id, limits_of (self), &error);
  g_autoptr(GPtrArray) tasks = NULL;
  JsonObject *o;

  if (app == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  tasks = berth_task_list (store_of (self), id, NULL, &error);
  if (tasks == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  o = json_object_new ();
  json_object_set_member (o, "app", scheduler_controller_app_json (controller, app, tasks, TRUE));
  berth_request_set_index (req, berth_store_get_index (store_of (self)));
  respond_object (req, 200, o);
  json_object_unref (o);
}

static void
respond_tasks (SchedulerPlugin *self, BerthRequest *req, const char *app_id)
{
  SchedulerController *controller = scheduler_plugin_get_controller (self);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  const char *status = berth_request_get_query (req, "status");
  JsonArray *list;
  JsonObject *o;

  if (app_id != NULL)
    {
      g_autoptr(SchedulerApp) app = scheduler_db_load_app (store_of (self), app_id, limits_of (self), &error);
      if (app == NULL)
        {
          berth_request_respond_error (req, error);
          return;
        }
    }
  tasks = berth_task_list (store_of (self), app_id, NULL, &error);
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
  berth_request_set_index (req, berth_store_get_index (store_of (self)));
  respond_object (req, 200, o);
  json_object_unref (o);
}

static void
restart_app (SchedulerPlugin *self, BerthRequest *req, const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SchedulerApp) app = scheduler_db_load_app (store_of (self), id, limits_of (self), &error);
  g_autofree char *version = NULL;
  WriteData *w;

  if (app == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  version = scheduler_app_next_version (app->version);
  w = write_data_new (self, req, WRITE_UPDATE);
  w->app_id = g_strdup (id);
  w->def = scheduler_object_copy (app->def);
  scheduler_app_set_version (w->def, version, TRUE);
  w->version = g_strdup (version);
  w->config_change = TRUE;
  w->action = g_strdup ("RestartApplication");
  start_write (w);
}

static void
handle_app_path (BerthRequest *req, gpointer user_data)
{
  SchedulerPlugin *self = user_data;
  const char *method = berth_request_get_method (req);
  gboolean get = g_str_equal (method, "GET") || g_str_equal (method, "HEAD");
  g_autofree char *path = scheduler_app_normalize_id (berth_request_get_param (req, "path"), NULL);
  char *mark;

  if ((mark = strstr (path, "/tasks/")) != NULL && g_str_equal (method, "DELETE"))
    {
      WriteData *w = write_data_new (self, req, WRITE_KILL_TASKS);
      *mark = '\0';
      w->app_id = g_strdup (path);
      w->task_ids = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (w->task_ids, g_strdup (mark + strlen ("/tasks/")));
      start_write (w);
      return;
    }
  if (g_str_has_suffix (path, "/tasks"))
    {
      path[strlen (path) - strlen ("/tasks")] = '\0';
      if (get)
        respond_tasks (self, req, path);
      else if (g_str_equal (method, "DELETE"))
        {
          WriteData *w = write_data_new (self, req, WRITE_KILL_TASKS);
          w->app_id = g_strdup (path);
          w->tasks_by_app = TRUE;
          start_write (w);
        }
      else
        berth_request_respond_message (req, 405, _("Method not allowed"));
      return;
    }
  if ((mark = strstr (path, "/versions")) != NULL && get)
    {
      g_autoptr(GError) error = NULL;
      const char *version = mark[strlen ("/versions")] == '/' ? mark + strlen ("/versions/") : NULL;
      *mark = '\0';
      if (version == NULL)
        {
          JsonArray *list = scheduler_db_list_versions (store_of (self), path, &error);
          JsonObject *o;
          if (list == NULL || json_array_get_length (list) == 0)
            {
              if (list != NULL)
                json_array_unref (list);
              g_clear_error (&error);
              g_set_error (&error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("App '%s' does not exist"), path);
              berth_request_respond_error (req, error);
              return;
            }
          o = json_object_new ();
          json_object_set_array_member (o, "versions", list);
          respond_object (req, 200, o);
          json_object_unref (o);
        }
      else
        {
          JsonObject *def = scheduler_db_load_version (store_of (self), path, version, &error);
          if (def == NULL)
            {
              berth_request_respond_error (req, error);
              return;
            }
          respond_object (req, 200, def);
          json_object_unref (def);
        }
      return;
    }
  if (g_str_has_suffix (path, "/restart") && g_str_equal (method, "POST"))
    {
      path[strlen (path) - strlen ("/restart")] = '\0';
      restart_app (self, req, path);
      return;
    }
  if (get)
    get_app (self, req, path);
  else if (g_str_equal (method, "PUT") || g_str_equal (method, "PATCH"))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) body = berth_request_parse_json (req, &error);
      if (body == NULL)
        {
          berth_request_respond_error (req, error);
          return;
        }
      if (!scheduler_app_id_is_valid (path))
        {
          g_autoptr(JsonArray) details = json_array_new ();
          JsonObject *d = json_object_new ();
          JsonArray *errors = json_array_new ();
          json_array_add_string_element (errors, _("error.path.invalid"));
          json_object_set_string_member (d, "path", "/id");
          json_object_set_array_member (d, "errors", errors);
          json_array_add_object_element (details, d);
          respond_invalid (req, g_steal_pointer (&details));
          return;
        }
      create_app (self, req, body, path, WRITE_UPDATE);
    }
  else if (g_str_equal (method, "DELETE"))
    {
      WriteData *w = write_data_new (self, req, WRITE_DELETE);
      w->app_id = g_strdup (path);
      w->action = g_strdup ("StopApplication");
      start_write (w);
    }
  else
    berth_request_respond_message (req, 405, _("Method not allowed"));
}

static void
handle_tasks (BerthRequest *req, gpointer user_data)
{
  respond_tasks (user_data, req, NULL);
}

static void
handle_tasks_delete (BerthRequest *req, gpointer user_data)
{
  SchedulerPlugin *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = berth_request_parse_json (req, &error);
  JsonArray *ids;
  WriteData *w;

  if (body == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  ids = JSON_NODE_HOLDS_OBJECT (body) && json_object_has_member (json_node_get_object (body), "ids") &&
            JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (body), "ids"))
          ? json_object_get_array_member (json_node_get_object (body), "ids") : NULL;
  if (ids == NULL)
    {
      berth_request_respond_message (req, 400, _("Expected {\"ids\": [...]}"));
      return;
    }
  w = write_data_new (self, req, WRITE_KILL_TASKS);
  w->task_ids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < json_array_get_length (ids); i++)
    {
      JsonNode *id = json_array_get_element (ids, i);
      if (scheduler_json_is_string (id))
        g_ptr_array_add (w->task_ids, g_strdup (json_node_get_string (id)));
    }
  start_write (w);
}

static void
handle_deployments (BerthRequest *req, gpointer user_data)
{
  SchedulerPlugin *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = scheduler_db_load_deployments (store_of (self), &error);
  g_autoptr(JsonNode) root = NULL;
  JsonArray *array;

  if (list == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  array = json_array_new ();
  for (guint i = 0; i < list->len; i++)
    json_array_add_element (array, scheduler_deployment_to_json (g_ptr_array_index (list, i)));
  root = json_node_init_array (json_node_alloc (), array);
  json_array_unref (array);
  berth_request_respond_json (req, 200, root);
}

static void
handle_deployment (BerthRequest *req, gpointer user_data)
{
  WriteData *w = write_data_new (user_data, req, WRITE_CANCEL_DEPLOYMENT);
  w->deployment_id = g_strdup (berth_request_get_param (req, "id"));
  start_write (w);
}

static void
handle_queue (BerthRequest *req, gpointer user_data)
{
  SchedulerPlugin *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) apps = scheduler_db_load_apps (store_of (self), limits_of (self), &error);
  JsonObject *o;

  if (apps == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  o = json_object_new ();
  json_object_set_array_member (o, "queue", scheduler_controller_queue_json (scheduler_plugin_get_controller (self), apps));
  respond_object (req, 200, o);
  json_object_unref (o);
}

static void
handle_queue_delay (BerthRequest *req, gpointer user_data)
{
  respond_not_implemented (req, _("resetting a launch delay is"));
}

static void
handle_groups (BerthRequest *req, gpointer user_data)
{
  scheduler_groups_handle (user_data, req);
}

/* ?event_type=a&event_type=b: only those events */
static void
handle_events (BerthRequest *req, gpointer user_data)
{
  GUri *uri = soup_server_message_get_uri (berth_request_get_message (req));
  const char *query = uri != NULL ? g_uri_get_query (uri) : NULL;
  g_autoptr(GStrvBuilder) types = g_strv_builder_new ();
  g_auto(GStrv) parts = query != NULL ? g_strsplit (query, "&", -1) : NULL;
  gboolean any = FALSE;

  for (guint i = 0; parts != NULL && parts[i] != NULL; i++)
    {
      g_autofree char *decoded = g_uri_unescape_string (parts[i], NULL);
      if (decoded != NULL && g_str_has_prefix (decoded, "event_type=") && decoded[strlen ("event_type=")] != '\0')
        {
          g_strv_builder_add (types, decoded + strlen ("event_type="));
          any = TRUE;
        }
    }
  scheduler_events_subscribe (scheduler_plugin_get_events (user_data), req,
                              any ? g_strv_builder_end (types) : NULL);
}

static void
handle_not_implemented (BerthRequest *req, gpointer user_data)
{
  respond_not_implemented (req, berth_request_get_path (req));
}

static const BerthRouteSpec routes[] = {
  { BERTH_METHOD_GET, "/ping", BERTH_RESOURCE_PUBLIC, BERTH_ACCESS_NONE, handle_ping },
  { BERTH_METHOD_GET, "/v2/info", "operator", BERTH_ACCESS_READ, handle_info },
  { BERTH_METHOD_GET | BERTH_METHOD_DELETE, "/v2/leader", "operator", BERTH_ACCESS_READ, handle_leader },
  { BERTH_METHOD_GET, "/v2/apps", "app", BERTH_ACCESS_READ, handle_apps },
  { BERTH_METHOD_POST | BERTH_METHOD_PUT, "/v2/apps", "app", BERTH_ACCESS_WRITE, handle_apps },
  { BERTH_METHOD_GET, "/v2/apps/*path", "app", BERTH_ACCESS_READ, handle_app_path },
  { BERTH_METHOD_POST | BERTH_METHOD_PUT | BERTH_METHOD_PATCH | BERTH_METHOD_DELETE,
    "/v2/apps/*path", "app", BERTH_ACCESS_WRITE, handle_app_path },
  { BERTH_METHOD_GET, "/v2/tasks", "app", BERTH_ACCESS_READ, handle_tasks },
  { BERTH_METHOD_POST, "/v2/tasks/delete", "app", BERTH_ACCESS_WRITE, handle_tasks_delete },
  { BERTH_METHOD_GET, "/v2/deployments", "app", BERTH_ACCESS_READ, handle_deployments },
  { BERTH_METHOD_DELETE, "/v2/deployments/:id", "app", BERTH_ACCESS_WRITE, handle_deployment },
  { BERTH_METHOD_GET, "/v2/queue", "app", BERTH_ACCESS_READ, handle_queue },
  { BERTH_METHOD_DELETE, "/v2/queue/*path", "app", BERTH_ACCESS_WRITE, handle_queue_delay },
  { BERTH_METHOD_GET, "/v2/groups", "app", BERTH_ACCESS_READ, handle_groups },
  { BERTH_METHOD_POST | BERTH_METHOD_PUT | BERTH_METHOD_DELETE, "/v2/groups", "app",
    BERTH_ACCESS_WRITE, handle_groups },
  { BERTH_METHOD_GET, "/v2/groups/*path", "app", BERTH_ACCESS_READ, handle_groups },
  { BERTH_METHOD_POST | BERTH_METHOD_PUT | BERTH_METHOD_DELETE, "/v2/groups/*path", "app",
    BERTH_ACCESS_WRITE, handle_groups },
  { BERTH_METHOD_GET, "/v2/events", "app", BERTH_ACCESS_READ, handle_events },
  { BERTH_METHOD_GET | BERTH_METHOD_POST | BERTH_METHOD_DELETE, "/v2/eventSubscriptions", "app",
    BERTH_ACCESS_WRITE, handle_not_implemented },
  { BERTH_METHOD_GET | BERTH_METHOD_POST | BERTH_METHOD_PUT | BERTH_METHOD_DELETE, "/v2/pods/*path", "app",
    BERTH_ACCESS_WRITE, handle_not_implemented },
};

void
scheduler_http_add_routes (SchedulerPlugin *self)
{
  berth_context_add_routes (berth_plugin_get_context (BERTH_PLUGIN (self)), routes, G_N_ELEMENTS (routes), self);
}
