/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "scheduler-db.h"
#include "scheduler-http-private.h"
#include "scheduler-validate.h"

/* /v2/apps: reads from the store, writes through scheduler-apps.c. */

/* ?embed=apps.<what> / app.<what> (the parameter may repeat): tasks,
 * readiness (readinessCheckResults); the counts (apps.counts) are always
 * there. */
static gboolean
wants_embed (BerthRequest *req, const char *what)
{
  g_auto(GStrv) embed = berth_request_dup_query_all (req, "embed");

  for (guint i = 0; embed != NULL && embed[i] != NULL; i++)
    if (g_str_has_suffix (embed[i], what))
      return TRUE;
  return FALSE;
}

static JsonNode *
app_json (SchedulerPlugin *self, SchedulerApp *app, GPtrArray *tasks, gboolean embed_tasks, gboolean readiness)
{
  SchedulerController *controller = scheduler_plugin_get_controller (self);
  JsonNode *node = scheduler_controller_app_json (controller, app, tasks, embed_tasks);

  if (readiness)
    json_object_set_array_member (json_node_get_object (node), "readinessCheckResults",
                                  scheduler_readiness_results_json (scheduler_controller_get_readiness (controller),
                                                                    app->id));
  return node;
}

static void
list_apps (SchedulerPlugin *self, BerthRequest *req)
{
  BerthStore *store = scheduler_http_store (self);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) apps = NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(JsonObject) o = NULL;
  const char *cmd = berth_request_get_query (req, "cmd");
  const char *id = berth_request_get_query (req, "id");
  gboolean embed = wants_embed (req, ".tasks");
  gboolean readiness = wants_embed (req, ".readiness");
  JsonArray *list;

  apps = scheduler_db_load_apps (store, scheduler_plugin_get_limits (self), &error);
  if (apps != NULL)
    tasks = berth_task_list (store, NULL, NULL, &error);
  if (apps == NULL || tasks == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  list = json_array_new ();
  for (guint i = 0; i < apps->len; i++)
    {
      SchedulerApp *app = g_ptr_array_index (apps, i);
      const char *app_cmd = json_object_get_string_member_with_default (app->def, "cmd", NULL);
      if (cmd != NULL && (app_cmd == NULL || strstr (app_cmd, cmd) == NULL))
        continue;
      if (id != NULL && strstr (app->id, id) == NULL)
        continue;
      if (!scheduler_http_may_read_app (req, app->id))
        continue;
      json_array_add_element (list, app_json (self, app, tasks, embed, readiness));
    }
  o = json_object_new ();
  json_object_set_array_member (o, "apps", list);
  berth_request_set_index (req, berth_store_get_index (store));
  scheduler_http_respond_object (req, 200, o);
}

static void
get_app (SchedulerPlugin *self, BerthRequest *req, const char *id)
{
  BerthStore *store = scheduler_http_store (self);
  g_autoptr(GError) error = NULL;
  g_autoptr(SchedulerApp) app = scheduler_db_load_app (store, id, scheduler_plugin_get_limits (self), &error);
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(JsonObject) o = NULL;

  if (app == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  tasks = berth_task_list (store, id, NULL, &error);
  if (tasks == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  o = json_object_new ();
  json_object_set_member (o, "app", app_json (self, app, tasks, TRUE, TRUE));
  berth_request_set_index (req, berth_store_get_index (store));
  scheduler_http_respond_object (req, 200, o);
}

/* ?partialUpdate (true when absent): a PUT merges its body over the
 * current definition, or with false replaces it; answers 400 when it is
 * not a boolean. */
static gboolean
partial_update (BerthRequest *req, gboolean *partial)
{
  g_autoptr(GError) error = NULL;

  *partial = TRUE;
  if (berth_request_get_query (req, "partialUpdate") == NULL)
    return TRUE;
  if (berth_request_get_query_boolean (req, "partialUpdate", partial, &error))
    return TRUE;
  berth_request_respond_error (req, error);
  return FALSE;
}

/* POST /v2/apps, PUT/PATCH /v2/apps/<id> */
static void
deploy (SchedulerPlugin *self, BerthRequest *req, const char *path_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) details = NULL;
  g_autoptr(JsonNode) body = berth_request_parse_json (req, &error);
  g_autoptr(SchedulerAppOp) op = NULL;
  gboolean partial = TRUE;

  if (body == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  /* PATCH always merges, over an app that exists (a broken one is
   * replaced with PUT) */
  if (g_str_equal (berth_request_get_method (req), "PUT") && !partial_update (req, &partial))
    return;
  if (g_str_equal (berth_request_get_method (req), "PATCH") && scheduler_app_id_is_valid (path_id))
    {
      g_autoptr(SchedulerApp) current = scheduler_db_load_app (scheduler_http_store (self), path_id,
                                                               scheduler_plugin_get_limits (self), &error);
      if (current == NULL)
        {
          berth_request_respond_error (req, error);
          return;
        }
    }
  op = scheduler_apps_deploy_full (self, body, path_id, partial || path_id == NULL, berth_request_get_caller (req),
                                   &details, &error);
  if (op != NULL && g_str_equal (berth_request_get_method (req), "PATCH"))
    op->must_exist = TRUE;
  if (op == NULL && details != NULL)
    scheduler_http_respond_invalid (req, g_steal_pointer (&details));
  else if (op == NULL)
    berth_request_respond_error (req, error);
  /* the app the body names (POST) may differ from the path's */
  else if (scheduler_http_authorize_op (req, op) && scheduler_http_flags (req, op))
    scheduler_http_run (self, req, op);
}

/* One element of PUT /v2/apps: validated over the app's current
 * definition with @merge (a partial update, as PUT /v2/apps/<id>), on
 * its own without; its problems added to @details under "/(<i>)". */
static JsonObject *
validate_element (SchedulerPlugin *self, JsonNode *node, guint i, gboolean merge, GHashTable *seen,
                  JsonArray *details, GError **error)
{
  const SchedulerLimits *limits = scheduler_plugin_get_limits (self);
  g_autoptr(JsonArray) problems = NULL;
  g_autoptr(SchedulerApp) current = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *prefix = g_strdup_printf ("/(%u)", i);
  g_autofree char *id = NULL;
  JsonObject *def;

  if (JSON_NODE_HOLDS_OBJECT (node) &&
      scheduler_json_is_string (json_object_get_member (json_node_get_object (node), "id")))
    id = scheduler_app_normalize_id (json_object_get_string_member (json_node_get_object (node), "id"), NULL);
  if (id != NULL && scheduler_app_id_is_valid (id))
    {
      if (g_hash_table_contains (seen, id))
        {
          g_autofree char *path = g_strconcat (prefix, "/id", NULL);
          scheduler_detail_add (details, path, _("an app may appear only once in the list"));
          return NULL;
        }
      g_hash_table_add (seen, g_strdup (id));
      current = scheduler_db_load_app (scheduler_http_store (self), id, limits, &local);
      if (current == NULL && !g_error_matches (local, BERTH_ERROR, BERTH_ERROR_NOT_FOUND) &&
          !g_error_matches (local, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
    }
  else
    g_clear_pointer (&id, g_free);
  def = scheduler_app_validate (node, current != NULL && merge ? current->def : NULL, id, limits, &problems);
  if (def != NULL && !scheduler_apps_check_script_checks (def, limits, prefix, details))
    g_clear_pointer (&def, json_object_unref);
  for (guint j = 0; problems != NULL && j < json_array_get_length (problems); j++)
    {
      JsonObject *d = json_array_get_object_element (problems, j);
      JsonArray *errors = json_object_get_array_member (d, "errors");
      g_autofree char *path = g_strconcat (prefix, json_object_get_string_member (d, "path"), NULL);
      for (guint k = 0; errors != NULL && k < json_array_get_length (errors); k++)
        scheduler_detail_add (details, path, json_array_get_string_element (errors, k));
    }
  return def;
}

/* PUT /v2/apps [definitions]: each app created or updated (merged over
 * its current definition), all in one write with one version. */
static void
put_apps (SchedulerPlugin *self, BerthRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = berth_request_parse_json (req, &error);
  g_autoptr(JsonArray) details = json_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) defs = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr(SchedulerAppOp) batch = NULL;
  g_autofree char *version = NULL;
  gboolean partial;
  JsonArray *list;

  if (!partial_update (req, &partial))
    return;
  if (body == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (!JSON_NODE_HOLDS_ARRAY (body) || json_array_get_length (json_node_get_array (body)) == 0)
    {
      scheduler_detail_add (details, "/", JSON_NODE_HOLDS_ARRAY (body) ? _("error.minLength: at least one app")
                                                                        : _("error.expected.jsarray"));
      scheduler_http_respond_invalid (req, g_steal_pointer (&details));
      return;
    }
  list = json_node_get_array (body);
  if (json_array_get_length (list) > scheduler_plugin_get_limits (self)->max_entries)
    {
      scheduler_detail_addf (details, "/", _("error.maxSize: at most %u elements"),
                             scheduler_plugin_get_limits (self)->max_entries);
      scheduler_http_respond_invalid (req, g_steal_pointer (&details));
      return;
    }
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *def = validate_element (self, json_array_get_element (list, i), i, partial, seen, details,
                                          &error);
      if (error != NULL)
        {
          berth_request_respond_error (req, error);
          return;
        }
      if (def != NULL)
        g_ptr_array_add (defs, def);
    }
  if (json_array_get_length (details) > 0)
    {
      scheduler_http_respond_invalid (req, g_steal_pointer (&details));
      return;
    }
  version = scheduler_app_next_version (NULL);
  /* no group: the apps are written where their ids say */
  batch = scheduler_apps_batch (NULL, version, berth_request_get_caller (req));
  batch->one_deployment = TRUE;
  /* one version for all, after every app's current one */
  for (guint i = 0; i < defs->len; i++)
    {
      JsonObject *def = g_ptr_array_index (defs, i);
      g_autoptr(SchedulerApp) current = scheduler_db_load_app (scheduler_http_store (self),
                                                               json_object_get_string_member (def, "id"),
                                                               scheduler_plugin_get_limits (self), NULL);
      if (current != NULL && current->version != NULL && strcmp (current->version, version) >= 0)
        {
          g_free (version);
          version = scheduler_app_next_version (current->version);
        }
    }
  for (guint i = 0; i < defs->len; i++)
    {
      SchedulerAppOp *op = scheduler_apps_deploy_definition (self, g_ptr_array_index (defs, i), FALSE, version,
                                                             batch->caller, &error);
      if (op == NULL)
        {
          berth_request_respond_error (req, error);
          return;
        }
      g_ptr_array_add (batch->ops, op);
    }
  g_free (batch->version);
  batch->version = g_steal_pointer (&version);
  if (scheduler_http_authorize_op (req, batch) && scheduler_http_flags (req, batch))
    scheduler_http_run (self, req, batch);
}

void
scheduler_http_handle_apps (BerthRequest *req, gpointer user_data)
{
  SchedulerPlugin *self = user_data;
  const char *method = berth_request_get_method (req);

  if (g_str_equal (method, "GET") || g_str_equal (method, "HEAD"))
    list_apps (self, req);
  else if (g_str_equal (method, "PUT"))
    put_apps (self, req);
  else
    deploy (self, req, NULL);
}

static void
respond_versions (SchedulerPlugin *self, BerthRequest *req, const char *app_id, const char *version)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) o = NULL;

  if (version != NULL)
    {
      o = scheduler_db_load_version (scheduler_http_store (self), app_id, version, &error);
      if (o == NULL)
        berth_request_respond_error (req, error);
      else
        scheduler_http_respond_object (req, 200, o);
      return;
    }
  {
    g_autoptr(JsonArray) list = scheduler_db_list_versions (scheduler_http_store (self), app_id, &error);
    if (list == NULL || json_array_get_length (list) == 0)
      {
        g_clear_error (&error);
        g_set_error (&error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("App '%s' does not exist"), app_id);
        berth_request_respond_error (req, error);
        return;
      }
    o = json_object_new ();
    json_object_set_array_member (o, "versions", g_steal_pointer (&list));
    scheduler_http_respond_object (req, 200, o);
  }
}

static void
run_or_fail (SchedulerPlugin *self, BerthRequest *req, SchedulerAppOp *op, GError *error)
{
  if (op == NULL)
    berth_request_respond_error (req, error);
  else if (scheduler_http_authorize_op (req, op) && scheduler_http_flags (req, op))
    scheduler_http_run (self, req, op);
}

/* /v2/apps/<id>[/tasks[/<task>]|/versions[/<v>]|/restart] */
void
scheduler_http_handle_app_path (BerthRequest *req, gpointer user_data)
{
  SchedulerPlugin *self = user_data;
  BerthCaller *caller = berth_request_get_caller (req);
  const char *method = berth_request_get_method (req);
  gboolean get = g_str_equal (method, "GET") || g_str_equal (method, "HEAD");
  g_autofree char *path = scheduler_app_normalize_id (berth_request_get_param (req, "path"), NULL);
  g_autoptr(SchedulerAppOp) op = NULL;
  g_autoptr(GError) error = NULL;
  char *mark;

  if ((mark = strstr (path, "/tasks/")) != NULL && g_str_equal (method, "DELETE"))
    {
      const char *ids[] = { mark + strlen ("/tasks/"), NULL };
      *mark = '\0';
      if (!scheduler_http_authorize_app (req, path, BERTH_ACCESS_WRITE))
        return;
      op = scheduler_apps_kill_tasks (self, path, ids, FALSE, caller);
      run_or_fail (self, req, op, NULL);
      return;
    }
  if (g_str_has_suffix (path, "/tasks"))
    {
      path[strlen (path) - strlen ("/tasks")] = '\0';
      if (!scheduler_http_authorize_app (req, path, get ? BERTH_ACCESS_READ : BERTH_ACCESS_WRITE))
        return;
      if (get)
        scheduler_http_respond_tasks (self, req, path);
      else if (g_str_equal (method, "DELETE"))
        {
          op = scheduler_apps_kill_tasks (self, path, NULL, FALSE, caller);
          run_or_fail (self, req, op, NULL);
        }
      else
        berth_request_respond_message (req, 405, _("Method not allowed"));
      return;
    }
  if ((mark = strstr (path, "/versions")) != NULL && get)
    {
      const char *version = mark[strlen ("/versions")] == '/' ? mark + strlen ("/versions/") : NULL;
      *mark = '\0';
      if (!scheduler_http_authorize_app (req, path, BERTH_ACCESS_READ))
        return;
      respond_versions (self, req, path, version);
      return;
    }
  if (g_str_has_suffix (path, "/restart") && g_str_equal (method, "POST"))
    {
      path[strlen (path) - strlen ("/restart")] = '\0';
      if (!scheduler_http_authorize_app (req, path, BERTH_ACCESS_WRITE))
        return;
      op = scheduler_apps_restart (self, path, caller, &error);
      run_or_fail (self, req, op, error);
      return;
    }
  if (!scheduler_http_authorize_app (req, path, get ? BERTH_ACCESS_READ : BERTH_ACCESS_WRITE))
    return;
  if (get)
    get_app (self, req, path);
  else if (g_str_equal (method, "PUT") || g_str_equal (method, "PATCH"))
    deploy (self, req, path);
  else if (g_str_equal (method, "DELETE"))
    {
      op = scheduler_apps_delete (self, path, caller);
      run_or_fail (self, req, op, NULL);
    }
  else
    berth_request_respond_message (req, 405, _("Method not allowed"));
}
