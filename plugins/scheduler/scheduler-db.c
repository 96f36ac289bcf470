/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "scheduler-db.h"
#include <berth-store-raw.h>

/* The scheduler's tables: reads on the main loop, writes inside store
 * transactions (topics "app" and "deployment"). */

void
scheduler_deployment_free (SchedulerDeployment *d)
{
  if (d == NULL)
    return;
  g_free (d->id);
  g_free (d->app_id);
  g_free (d->version);
  g_free (d->action);
  g_clear_pointer (&d->previous, json_object_unref);
  g_free (d);
}

/* {"action": …, "app": …} of @d, as a step or (@current) a current action */
static void
add_action (JsonBuilder *b, SchedulerDeployment *d, gboolean current)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "action");
  json_builder_add_string_value (b, d->action);
  json_builder_set_member_name (b, "app");
  json_builder_add_string_value (b, d->app_id);
  if (current)
    {
      json_builder_set_member_name (b, "readinessCheckResults");
      json_builder_begin_array (b);
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
}

/* One deployment as /v2/deployments shows it, from its rows (one per
 * app, the same id): every app's action in one step. */
JsonNode *
scheduler_deployment_to_json (GPtrArray *rows)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  SchedulerDeployment *first;

  g_return_val_if_fail (rows != NULL && rows->len > 0, NULL);
  first = g_ptr_array_index (rows, 0);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, first->id);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, first->version);
  json_builder_set_member_name (b, "affectedApps");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++)
    json_builder_add_string_value (b, ((SchedulerDeployment *) g_ptr_array_index (rows, i))->app_id);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "affectedPods");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "steps");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "actions");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++)
    add_action (b, g_ptr_array_index (rows, i), FALSE);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "currentActions");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++)
    add_action (b, g_ptr_array_index (rows, i), TRUE);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "currentStep");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "totalSteps");
  json_builder_add_int_value (b, 1);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static JsonObject *
parse_object (const unsigned char *text)
{
  g_autoptr(JsonNode) node = scheduler_json_parse ((const char *) text);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_object_ref (json_node_get_object (node));
}

#define APP_SELECT \
  "SELECT a.definition, a.backoff_delay, a.launch_after, a.last_failure, d.id, a.id" \
  " FROM apps a LEFT JOIN deployments d ON d.app_id = a.id"

/* Why the stored definition of app @id cannot be used, or NULL. */
static char *
broken_reason (const char *id, const char *text, JsonObject **def_out, const SchedulerLimits *limits)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *def;
  char *why;

  *def_out = NULL;
  if (text == NULL)
    return g_strdup (_("no definition"));
  node = berth_json_parse (text, -1, &error);
  if (node == NULL)
    return g_strdup (error->message);
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return g_strdup (_("the definition is not a JSON object"));
  def = json_node_get_object (node);
  why = scheduler_app_check_stored (def, limits);
  /* valid: "id" is a string */
  if (why == NULL && g_strcmp0 (json_object_get_string_member (def, "id"), id) != 0)
    why = g_strdup (_("the definition's id is not the row's"));
  if (why == NULL)
    *def_out = json_object_ref (def);
  return why;
}

/* The app of the current row; NULL (reported as broken) when its
 * definition does not pass the validation the API applies. */
static SchedulerApp *
app_from_row (sqlite3_stmt *stmt, const SchedulerLimits *limits, char **why_out)
{
  const char *id = (const char *) sqlite3_column_text (stmt, 5);
  g_autoptr(JsonObject) def = NULL;
  g_autofree char *why = broken_reason (id, (const char *) sqlite3_column_text (stmt, 0), &def, limits);
  SchedulerApp *app;

  if (why != NULL)
    {
      if (limits->context != NULL)
        berth_context_report_broken (limits->context, "scheduler", "app", id, why);
      if (why_out != NULL)
        *why_out = g_steal_pointer (&why);
      return NULL;
    }
  if (limits->context != NULL && berth_context_is_broken (limits->context, "app", id))
    berth_context_forget_broken (limits->context, "app", id);
  app = scheduler_app_new (def);
  app->backoff_delay = sqlite3_column_double (stmt, 1);
  app->launch_after_ms = sqlite3_column_int64 (stmt, 2);
  if (sqlite3_column_type (stmt, 3) != SQLITE_NULL)
    app->last_failure = parse_object (sqlite3_column_text (stmt, 3));
  if (sqlite3_column_type (stmt, 4) != SQLITE_NULL)
    app->deployment_id = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
  return app;
}

/* Every app that can be used; broken ones are set aside. */
GPtrArray *
scheduler_db_load_apps (BerthStore *store, const SchedulerLimits *limits, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, APP_SELECT " ORDER BY a.id", error);
  g_autoptr(GPtrArray) apps = g_ptr_array_new_with_free_func ((GDestroyNotify) scheduler_app_free);
  gboolean have_row = FALSE;

  if (stmt == NULL)
    return NULL;
  for (;;)
    {
      SchedulerApp *app;
      if (!berth_store_step (store, stmt, &have_row, error))
        return NULL;
      if (!have_row)
        break;
      app = app_from_row (stmt, limits, NULL);
      if (app != NULL)
        g_ptr_array_add (apps, app);
    }
  return g_steal_pointer (&apps);
}

/* NOT_FOUND when there is no such app, UNPROCESSABLE when it is broken. */
SchedulerApp *
scheduler_db_load_app (BerthStore *store, const char *id, const SchedulerLimits *limits, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, APP_SELECT " WHERE a.id = ?1", error);
  g_autofree char *why = NULL;
  gboolean have_row = FALSE;
  SchedulerApp *app = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, &have_row, error))
    return NULL;
  if (have_row)
    app = app_from_row (stmt, limits, &why);
  if (app == NULL && why != NULL)
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                 _("App '%s' is broken and set aside (%s); delete it or replace it with PUT"), id, why);
  else if (app == NULL)
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("App '%s' does not exist"), id);
  return app;
}

/* Whether a row of app @id exists, usable or not. */
gboolean
scheduler_db_app_exists (BerthStore *store, const char *id, gboolean *exists, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, "SELECT 1 FROM apps WHERE id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  return berth_store_step (store, stmt, exists, error);
}

static gpointer
deployment_from_row (sqlite3_stmt *stmt)
{
  SchedulerDeployment *d = g_new0 (SchedulerDeployment, 1);

  d->id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  d->app_id = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  d->version = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  d->action = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  if (sqlite3_column_type (stmt, 4) != SQLITE_NULL)
    d->previous = parse_object (sqlite3_column_text (stmt, 4));
  return d;
}

GPtrArray *
scheduler_db_load_deployments (BerthStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "SELECT id, app_id, version, action, previous FROM deployments"
                              " ORDER BY create_index", error);
  if (stmt == NULL)
    return NULL;
  return berth_store_collect (store, stmt, deployment_from_row, (GDestroyNotify) scheduler_deployment_free, error);
}

SchedulerDeployment *
scheduler_db_load_deployment (BerthStore *store, const char *id, const char *app_id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean have_row = FALSE;

  stmt = berth_store_prepare (store,
                              "SELECT id, app_id, version, action, previous FROM deployments"
                              " WHERE id = ?1 OR app_id = ?2", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, app_id, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, &have_row, error))
    return NULL;
  if (!have_row)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("DeploymentPlan %s does not exist"),
                   id != NULL ? id : app_id);
      return NULL;
    }
  return deployment_from_row (stmt);
}

JsonArray *
scheduler_db_list_versions (BerthStore *store, const char *app_id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonArray) list = json_array_new ();
  gboolean have_row = FALSE;

  stmt = berth_store_prepare (store, "SELECT version FROM app_versions WHERE app_id = ?1 ORDER BY version DESC",
                              error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, app_id, -1, SQLITE_TRANSIENT);
  for (;;)
    {
      if (!berth_store_step (store, stmt, &have_row, error))
        return NULL;
      if (!have_row)
        break;
      json_array_add_string_element (list, (const char *) sqlite3_column_text (stmt, 0));
    }
  return g_steal_pointer (&list);
}

JsonObject *
scheduler_db_load_version (BerthStore *store, const char *app_id, const char *version, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean have_row = FALSE;
  JsonObject *def = NULL;

  stmt = berth_store_prepare (store, "SELECT definition FROM app_versions WHERE app_id = ?1 AND version = ?2",
                              error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, app_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, version, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, &have_row, error))
    return NULL;
  if (have_row)
    def = parse_object (sqlite3_column_text (stmt, 0));
  if (def == NULL)
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("App '%s' has no version %s"), app_id, version);
  return def;
}

static gboolean
step_once (BerthStore *store, sqlite3_stmt *stmt, GError **error)
{
  gboolean have_row;
  return berth_store_step (store, stmt, &have_row, error);
}

/* Steps @stmt (a write) and tells the store's watchers of @topic/@key. */
static gboolean
step_changed (BerthTxn *txn, sqlite3_stmt *stmt, const char *topic, const char *key, GError **error)
{
  if (!step_once (berth_txn_get_store (txn), stmt, error))
    return FALSE;
  berth_txn_changed (txn, topic, key);
  return TRUE;
}

/* Runs @sql (a write) with @key as ?1. */
static gboolean
exec_for_key (BerthStore *store, const char *sql, const char *key, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  return step_once (store, stmt, error);
}

/* Keeps the newest @max versions of app @id (Marathon's bounded history). */
static gboolean
prune_versions (BerthStore *store, const char *id, guint max, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "DELETE FROM app_versions WHERE app_id = ?1 AND version NOT IN"
                              " (SELECT version FROM app_versions WHERE app_id = ?1 ORDER BY version DESC LIMIT ?2)",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, (gint64) max);
  return step_once (store, stmt, error);
}

/* Stores @def (validated) as app and as one more version; only the newest
 * @max_versions versions are kept. */
gboolean
scheduler_db_put_app (BerthTxn *txn, JsonObject *def, gboolean reset_backoff, guint max_versions, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autofree char *text = scheduler_object_to_string (def);
  const char *id = json_object_get_string_member (def, "id");
  const char *version = json_object_get_string_member (def, "version");
  gint64 index = (gint64) berth_txn_get_index (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) vstmt = NULL;

  stmt = berth_store_prepare (store,
                              "INSERT INTO apps (id, definition, create_index, modify_index)"
                              " VALUES (?1, ?2, ?3, ?3) ON CONFLICT (id) DO UPDATE SET"
                              " definition = ?2, modify_index = ?3,"
                              " backoff_delay = CASE WHEN ?4 THEN 0 ELSE backoff_delay END,"
                              " launch_after = CASE WHEN ?4 THEN 0 ELSE launch_after END",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, text, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, index);
  sqlite3_bind_int (stmt, 4, reset_backoff ? 1 : 0);
  if (!step_once (store, stmt, error))
    return FALSE;
  vstmt = berth_store_prepare (store,
                               "INSERT OR REPLACE INTO app_versions (app_id, version, definition) VALUES (?1, ?2, ?3)",
                               error);
  if (vstmt == NULL)
    return FALSE;
  sqlite3_bind_text (vstmt, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (vstmt, 2, version, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (vstmt, 3, text, -1, SQLITE_TRANSIENT);
  return step_changed (txn, vstmt, "app", id, error) && prune_versions (store, id, MAX (max_versions, 1), error);
}

gboolean
scheduler_db_delete_app (BerthTxn *txn, const char *id, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);

  if (!exec_for_key (store, "DELETE FROM apps WHERE id = ?1", id, error) ||
      !exec_for_key (store, "DELETE FROM app_versions WHERE app_id = ?1", id, error))
    return FALSE;
  berth_txn_changed (txn, "app", id);
  return TRUE;
}

gboolean
scheduler_db_set_backoff (BerthTxn *txn, const char *id, gdouble delay, gint64 launch_after_ms,
                          JsonObject *last_failure, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *failure = last_failure != NULL ? scheduler_object_to_string (last_failure) : NULL;

  stmt = berth_store_prepare (store,
                              "UPDATE apps SET backoff_delay = ?2, launch_after = ?3,"
                              " last_failure = COALESCE (?4, last_failure), modify_index = ?5 WHERE id = ?1",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_double (stmt, 2, delay);
  sqlite3_bind_int64 (stmt, 3, launch_after_ms);
  sqlite3_bind_text (stmt, 4, failure, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, (gint64) berth_txn_get_index (txn));
  return step_changed (txn, stmt, "app", id, error);
}

gboolean
scheduler_db_put_deployment (BerthTxn *txn, const char *id, const char *app_id, const char *version,
                             const char *action, JsonObject *previous, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *prev = previous != NULL ? scheduler_object_to_string (previous) : NULL;
  g_autofree char *now = berth_task_timestamp_now ();

  if (!exec_for_key (store, "DELETE FROM deployments WHERE app_id = ?1", app_id, error))
    return FALSE;
  stmt = berth_store_prepare (store,
                              "INSERT INTO deployments (id, app_id, version, action, previous, created_at,"
                              " create_index) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, app_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, version, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, action, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, prev, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 7, (gint64) berth_txn_get_index (txn));
  return step_changed (txn, stmt, "deployment", id, error);
}

/* The row of app @app_id in deployment @id: that app is deployed (the
 * deployment goes on while it has other apps). */
gboolean
scheduler_db_finish_deployment (BerthTxn *txn, const char *id, const char *app_id, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, "DELETE FROM deployments WHERE id = ?1 AND app_id = ?2",
                                                      error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, app_id, -1, SQLITE_TRANSIENT);
  if (!step_once (store, stmt, error))
    return FALSE;
  if (sqlite3_changes (berth_store_get_db (store)) > 0)
    berth_txn_changed (txn, "deployment", id);
  return TRUE;
}

/* Every row of deployment @id. */
gboolean
scheduler_db_delete_deployment (BerthTxn *txn, const char *id, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);

  if (!exec_for_key (store, "DELETE FROM deployments WHERE id = ?1", id, error))
    return FALSE;
  if (sqlite3_changes (berth_store_get_db (store)) > 0)
    berth_txn_changed (txn, "deployment", id);
  return TRUE;
}

static JsonObject *
plan_state (const char *version)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "id", "/");
  json_object_set_string_member (o, "version", version);
  json_object_set_array_member (o, "apps", json_array_new ());
  json_object_set_array_member (o, "groups", json_array_new ());
  json_object_set_array_member (o, "dependencies", json_array_new ());
  json_object_set_array_member (o, "pods", json_array_new ());
  return o;
}

/* A deployment plan as Marathon's events carry it. */
JsonObject *
scheduler_deployment_plan_json (const char *id, const char *app_id, const char *version, const char *action)
{
  JsonObject *plan = json_object_new ();
  JsonArray *steps = json_array_new ();
  JsonObject *step = json_object_new ();
  JsonArray *actions = json_array_new ();
  JsonObject *a = json_object_new ();

  json_object_set_string_member (a, "action", action != NULL ? action : "ScaleApplication");
  json_object_set_string_member (a, "app", app_id);
  json_array_add_object_element (actions, a);
  json_object_set_array_member (step, "actions", actions);
  json_array_add_object_element (steps, step);
  json_object_set_string_member (plan, "id", id);
  json_object_set_string_member (plan, "version", version != NULL ? version : "");
  json_object_set_object_member (plan, "original", plan_state (version != NULL ? version : ""));
  json_object_set_object_member (plan, "target", plan_state (version != NULL ? version : ""));
  json_object_set_array_member (plan, "steps", steps);
  return plan;
}
