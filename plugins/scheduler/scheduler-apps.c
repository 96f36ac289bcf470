/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "scheduler-apps.h"
#include "scheduler-db.h"
#include "scheduler-events.h"
#include "scheduler-validate.h"

/* The app life cycle without a transport. Preparing an operation reads
 * and validates (the current definition, the new one, its version);
 * running it is one store transaction that checks again what may have
 * changed meanwhile (existence, deployment locks) and writes; after the
 * commit the events are published and the controller kicked. */

static void
op_clear (gpointer data)
{
  SchedulerAppOp *op = data;

  g_clear_object (&op->caller);
  g_free (op->app_id);
  g_clear_pointer (&op->def, json_object_unref);
  g_free (op->action);
  g_clear_pointer (&op->task_ids, g_ptr_array_unref);
  g_free (op->deployment_id);
  g_free (op->new_deployment);
  g_free (op->version);
  g_free (op->locked_by);
  g_clear_pointer (&op->killed, g_ptr_array_unref);
  g_clear_pointer (&op->ops, g_ptr_array_unref);
  g_free (op->group_id);
  g_free (op->use_deployment);
}

SchedulerAppOp *
scheduler_app_op_ref (SchedulerAppOp *op)
{
  return g_rc_box_acquire (op);
}

void
scheduler_app_op_unref (SchedulerAppOp *op)
{
  g_rc_box_release_full (op, op_clear);
}

static SchedulerAppOp *
op_new (SchedulerAppOpKind kind, BerthCaller *caller)
{
  SchedulerAppOp *op = g_rc_box_new0 (SchedulerAppOp);

  op->kind = kind;
  op->caller = caller != NULL ? g_object_ref (caller) : NULL;
  op->killed = g_ptr_array_new_with_free_func (g_object_unref);
  return op;
}

static BerthStore *
store_of (SchedulerPlugin *self)
{
  return berth_context_get_store (berth_plugin_get_context (BERTH_PLUGIN (self)));
}

/* ---- preparing --------------------------------------------------------- */

static void
add_invalid_id (JsonArray **details)
{
  *details = json_array_new ();
  scheduler_detail_add (*details, "/id", _("error.path.invalid"));
}

/* The operation that writes @def (validated) over @current: its version
 * (@version, or the one after @current's), action and event. */
static SchedulerAppOp *
op_for_definition (SchedulerAppOpKind kind, JsonObject *def, SchedulerApp *current, const char *version,
                   BerthCaller *caller)
{
  SchedulerAppOp *op = op_new (kind, caller);

  op->app_id = g_strdup (json_object_get_string_member (def, "id"));
  op->config_change = current == NULL || !scheduler_app_is_scale_only (current->def, def);
  op->version = version != NULL ? g_strdup (version)
                                : scheduler_app_next_version (current != NULL ? current->version : NULL);
  if (current != NULL)
    json_object_set_object_member (def, "versionInfo",
                                   json_object_ref (json_object_get_object_member (current->def, "versionInfo")));
  scheduler_app_set_version (def, op->version, op->config_change);
  op->action = g_strdup (current == NULL ? "StartApplication"
                                         : op->config_change ? "RestartApplication" : "ScaleApplication");
  op->event_action = current == NULL ? "created" : op->config_change ? "updated" : "scaled";
  op->def = json_object_ref (def);
  return op;
}

/* The app @id, or NULL (no error) when there is none or it is broken. */
static gboolean
load_current (SchedulerPlugin *self, const char *id, SchedulerApp **current, GError **error)
{
  g_autoptr(GError) local = NULL;

  *current = scheduler_db_load_app (store_of (self), id, scheduler_plugin_get_limits (self), &local);
  /* a broken app is replaced as if it did not exist */
  if (*current == NULL && !g_error_matches (local, BERTH_ERROR, BERTH_ERROR_NOT_FOUND) &&
      !g_error_matches (local, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return TRUE;
}

/**
 * scheduler_apps_deploy_definition:
 * @def: a definition scheduler_app_validate() accepted (its id absolute)
 * @create: only a new app (CONFLICT when it exists)
 * @version: (nullable): the version to give it (one for all the apps of
 *   a group), or %NULL for the one after the current
 *
 * Returns: (transfer full) (nullable): the operation to run
 */
SchedulerAppOp *
scheduler_apps_deploy_definition (SchedulerPlugin *self, JsonObject *def, gboolean create, const char *version,
                                  BerthCaller *caller, GError **error)
{
  g_autoptr(SchedulerApp) current = NULL;

  /* a creation finds the app that exists in its write */
  if (!create && !load_current (self, json_object_get_string_member (def, "id"), &current, error))
    return NULL;
  return op_for_definition (create ? SCHEDULER_APP_OP_CREATE : SCHEDULER_APP_OP_UPDATE, def, current, version,
                            caller);
}

/**
 * scheduler_apps_batch:
 * @group_id: the group the batch writes
 * @version: the group's version (the answer's)
 *
 * An empty batch: add the operations to its ops.
 *
 * Returns: (transfer full): the operation to run
 */
SchedulerAppOp *
scheduler_apps_batch (const char *group_id, const char *version, BerthCaller *caller)
{
  SchedulerAppOp *op = op_new (SCHEDULER_APP_OP_BATCH, caller);

  op->group_id = g_strdup (group_id);
  op->version = g_strdup (version);
  op->ops = g_ptr_array_new_with_free_func ((GDestroyNotify) scheduler_app_op_unref);
  return op;
}

/**
 * scheduler_apps_deploy:
 * @body: the definition, as received
 * @path_id: (nullable): the app to create or replace (PUT/PATCH), or
 *   %NULL to create the app @body names
 * @details: (out) (optional): Marathon's 422 details when @body is not
 *   a valid definition
 *
 * An app from its definition: created, replaced or merged over the
 * current one; `{"version": V}` rolls back to version V.
 *
 * Returns: (transfer full) (nullable): the operation to run
 */
SchedulerAppOp *
scheduler_apps_deploy (SchedulerPlugin *self, JsonNode *body, const char *path_id, BerthCaller *caller,
                       JsonArray **details, GError **error)
{
  return scheduler_apps_deploy_full (self, body, path_id, TRUE, caller, details, error);
}

/**
 * scheduler_apps_deploy_full:
 * @merge: whether @body is merged over the current definition (a
 *   partial update), or replaces it (Marathon's ?partialUpdate=false)
 *
 * scheduler_apps_deploy(), with the choice of merging.
 *
 * Returns: (transfer full) (nullable): the operation to run
 */
SchedulerAppOp *
scheduler_apps_deploy_full (SchedulerPlugin *self, JsonNode *body, const char *path_id, gboolean merge,
                            BerthCaller *caller, JsonArray **details, GError **error)
{
  const SchedulerLimits *limits = scheduler_plugin_get_limits (self);
  g_autoptr(JsonArray) problems = NULL;
  g_autoptr(SchedulerApp) current = NULL;
  g_autoptr(JsonObject) def = NULL;
  g_autoptr(JsonNode) rollback = NULL;

  if (path_id != NULL && !scheduler_app_id_is_valid (path_id))
    {
      add_invalid_id (&problems);
      goto invalid;
    }
  if (path_id != NULL)
    {
      if (!load_current (self, path_id, &current, error))
        return NULL;
      /* {"version": V} rolls back to version V */
      if (current != NULL && JSON_NODE_HOLDS_OBJECT (body) &&
          json_object_get_size (json_node_get_object (body)) == 1 &&
          scheduler_json_is_string (json_object_get_member (json_node_get_object (body), "version")))
        {
          JsonObject *old = scheduler_db_load_version (store_of (self), path_id,
                                                       json_object_get_string_member (json_node_get_object (body),
                                                                                      "version"),
                                                       error);
          if (old == NULL)
            return NULL;
          rollback = json_node_init_object (json_node_alloc (), old);
          json_object_unref (old);
          body = rollback;
        }
    }
  def = scheduler_app_validate (body, current != NULL && (merge || rollback != NULL) ? current->def : NULL, path_id,
                                limits, &problems);
  if (def == NULL)
    goto invalid;
  problems = json_array_new ();
  if (!scheduler_apps_check_script_checks (def, limits, NULL, problems))
    goto invalid;
  return op_for_definition (path_id == NULL ? SCHEDULER_APP_OP_CREATE : SCHEDULER_APP_OP_UPDATE, def, current,
                            NULL, caller);

invalid:
  g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("Object is not valid"));
  if (details != NULL)
    *details = g_steal_pointer (&problems);
  return NULL;
}

/**
 * scheduler_apps_scale:
 * @instances: how many tasks the app should have (0 suspends it)
 *
 * Returns: (transfer full) (nullable): the operation to run
 */
SchedulerAppOp *
scheduler_apps_scale (SchedulerPlugin *self, const char *app_id, gint64 instances, BerthCaller *caller,
                      GError **error)
{
  g_autoptr(JsonObject) o = json_object_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonArray) details = NULL;
  SchedulerAppOp *op;

  json_object_set_int_member (o, "instances", instances);
  body = json_node_init_object (json_node_alloc (), o);
  {
    g_autoptr(SchedulerApp) app = scheduler_db_load_app (store_of (self), app_id,
                                                         scheduler_plugin_get_limits (self), error);
    if (app == NULL)
      return NULL;
  }
  op = scheduler_apps_deploy (self, body, app_id, caller, &details, error);
  if (op == NULL && details != NULL && json_array_get_length (details) > 0 && error != NULL && *error != NULL)
    {
      g_autofree char *text = scheduler_json_to_string (json_array_get_element (details, 0));
      g_prefix_error (error, "%s: ", text);
    }
  return op;
}

/**
 * scheduler_apps_restart:
 *
 * Replaces every task of the app (a new config version, same definition).
 *
 * Returns: (transfer full) (nullable): the operation to run
 */
SchedulerAppOp *
scheduler_apps_restart (SchedulerPlugin *self, const char *app_id, BerthCaller *caller, GError **error)
{
  g_autoptr(SchedulerApp) app = scheduler_db_load_app (store_of (self), app_id,
                                                       scheduler_plugin_get_limits (self), error);
  SchedulerAppOp *op;

  if (app == NULL)
    return NULL;
  op = op_new (SCHEDULER_APP_OP_UPDATE, caller);
  op->version = scheduler_app_next_version (app->version);
  op->app_id = g_strdup (app_id);
  op->def = scheduler_object_copy (app->def);
  scheduler_app_set_version (op->def, op->version, TRUE);
  op->config_change = TRUE;
  op->action = g_strdup ("RestartApplication");
  op->event_action = "restarted";
  return op;
}

/**
 * scheduler_apps_delete:
 *
 * Returns: (transfer full): the operation to run
 */
SchedulerAppOp *
scheduler_apps_delete (SchedulerPlugin *self, const char *app_id, BerthCaller *caller)
{
  SchedulerAppOp *op = op_new (SCHEDULER_APP_OP_DELETE, caller);

  op->app_id = g_strdup (app_id);
  op->action = g_strdup ("StopApplication");
  op->event_action = "deleted";
  return op;
}

/**
 * scheduler_apps_kill_tasks:
 * @app_id: (nullable): the app the tasks must belong to
 * @task_ids: (nullable): the tasks, or %NULL for every task of @app_id
 * @scale: lower the apps' instances by the tasks killed
 *
 * Returns: (transfer full): the operation to run
 */
SchedulerAppOp *
scheduler_apps_kill_tasks (SchedulerPlugin *self, const char *app_id, const char * const *task_ids,
                           gboolean scale, BerthCaller *caller)
{
  SchedulerAppOp *op = op_new (SCHEDULER_APP_OP_KILL_TASKS, caller);

  op->app_id = g_strdup (app_id);
  op->scale = scale;
  op->event_action = "scaled";
  if (task_ids == NULL)
    op->tasks_by_app = TRUE;
  else
    {
      op->task_ids = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; task_ids[i] != NULL; i++)
        g_ptr_array_add (op->task_ids, g_strdup (task_ids[i]));
    }
  return op;
}

/**
 * scheduler_apps_cancel_deployment:
 * @app_id: (nullable): the app of the deployment to cancel (a
 *   deployment of several apps: one operation per app, in a batch), or
 *   %NULL for its only app
 *
 * With force the deployment stops where it is; without, the app goes
 * back to the definition it had before (a new deployment).
 *
 * Returns: (transfer full): the operation to run
 */
SchedulerAppOp *
scheduler_apps_cancel_deployment (SchedulerPlugin *self, const char *deployment_id, const char *app_id,
                                  BerthCaller *caller)
{
  SchedulerAppOp *op = op_new (SCHEDULER_APP_OP_CANCEL_DEPLOYMENT, caller);

  op->deployment_id = g_strdup (deployment_id);
  op->app_id = g_strdup (app_id);
  return op;
}

/* ---- the write --------------------------------------------------------- */

typedef struct {
  SchedulerPlugin *plugin;
  SchedulerAppOp  *op;
} Run;

static void
run_free (Run *r)
{
  g_object_unref (r->plugin);
  scheduler_app_op_unref (r->op);
  g_free (r);
}

static gboolean
check_lock (SchedulerAppOp *op, BerthStore *store, GError **error)
{
  g_autoptr(SchedulerDeployment) d = scheduler_db_load_deployment (store, NULL, op->app_id, NULL);

  if (d == NULL || op->force)
    return TRUE;
  g_free (op->locked_by);
  op->locked_by = g_strdup (d->id);
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT,
               _("App is locked by one or more deployments. Override with the option '?force=true'. "
                 "View details at '/v2/deployments/<DEPLOYMENT_ID>'."));
  return FALSE;
}

static gboolean
kill_app_tasks (SchedulerAppOp *op, BerthTxn *txn, GError **error)
{
  g_autoptr(GPtrArray) tasks = berth_task_list (berth_txn_get_store (txn), op->app_id, NULL, error);

  if (tasks == NULL)
    return FALSE;
  for (guint i = 0; i < tasks->len; i++)
    {
      BerthTask *task = g_ptr_array_index (tasks, i);
      if (berth_task_is_terminal (task))
        continue;
      if (!berth_task_write_desired (txn, berth_task_get_id (task), BERTH_TASK_DESIRED_KILLED, error))
        return FALSE;
      g_ptr_array_add (op->killed, g_object_ref (task));
    }
  return TRUE;
}

static gboolean
put_deployment (SchedulerAppOp *op, BerthTxn *txn, JsonObject *previous, GError **error)
{
  g_free (op->new_deployment);
  op->new_deployment = op->use_deployment != NULL ? g_strdup (op->use_deployment) : g_uuid_string_random ();
  return scheduler_db_put_deployment (txn, op->new_deployment, op->app_id, op->version, op->action, previous,
                                      error);
}

static gboolean
write_app (SchedulerAppOp *op, const SchedulerLimits *limits, BerthTxn *txn, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(GError) local = NULL;
  g_autoptr(SchedulerApp) current = scheduler_db_load_app (store, op->app_id, limits, &local);
  /* a stored app that fails validation: it can be deleted or replaced */
  gboolean broken = current == NULL && g_error_matches (local, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE);

  if (current == NULL && !broken && !g_error_matches (local, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  switch (op->kind)
    {
    case SCHEDULER_APP_OP_CREATE:
      if (current != NULL || broken)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT, _("An app with id [%s] already exists."),
                       op->app_id);
          return FALSE;
        }
      if (!check_lock (op, store, error))
        return FALSE;
      op->created = TRUE;
      return scheduler_db_put_app (txn, op->def, TRUE, limits->max_versions, error) &&
             put_deployment (op, txn, NULL, error);
    case SCHEDULER_APP_OP_UPDATE:
      if (op->must_exist && current == NULL && !broken)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("App '%s' does not exist"), op->app_id);
          return FALSE;
        }
      if (!check_lock (op, store, error))
        return FALSE;
      op->created = current == NULL;
      return scheduler_db_put_app (txn, op->def, op->config_change || broken, limits->max_versions, error) &&
             put_deployment (op, txn, current != NULL ? current->def : NULL, error);
    case SCHEDULER_APP_OP_DELETE:
      if (current == NULL && !broken)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("App '%s' does not exist"), op->app_id);
          return FALSE;
        }
      if (!check_lock (op, store, error))
        return FALSE;
      g_free (op->version);
      op->version = berth_task_timestamp_now ();
      return scheduler_db_delete_app (txn, op->app_id, error) && kill_app_tasks (op, txn, error) &&
             put_deployment (op, txn, current != NULL ? current->def : NULL, error);
    default:
      g_assert_not_reached ();
    }
  return FALSE;
}

/* Kills tasks (named, or all of an app); with scale, lowers instances. */
static gboolean
write_kill (SchedulerAppOp *op, const SchedulerLimits *limits, BerthTxn *txn, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(GHashTable) per_app = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key, value;

  if (op->tasks_by_app)
    {
      g_autoptr(SchedulerApp) app = scheduler_db_load_app (store, op->app_id, limits, error);
      if (app == NULL || !kill_app_tasks (op, txn, error))
        return FALSE;
      g_hash_table_insert (per_app, g_strdup (op->app_id), GUINT_TO_POINTER (op->killed->len));
    }
  else
    for (guint i = 0; i < op->task_ids->len; i++)
      {
        g_autoptr(BerthTask) task = berth_task_lookup (store, g_ptr_array_index (op->task_ids, i), error);
        guint n;
        if (task == NULL || (op->app_id != NULL && g_strcmp0 (berth_task_get_app_id (task), op->app_id) != 0))
          {
            g_clear_error (error);
            if (op->app_id != NULL)
              {
                g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Task '%s' does not exist"),
                             (const char *) g_ptr_array_index (op->task_ids, i));
                return FALSE;
              }
            continue;
          }
        if (berth_task_is_terminal (task) || berth_task_get_desired_state (task) == BERTH_TASK_DESIRED_KILLED)
          {
            g_ptr_array_add (op->killed, g_object_ref (task));
            continue;
          }
        if (!berth_task_write_desired (txn, berth_task_get_id (task), BERTH_TASK_DESIRED_KILLED, error))
          return FALSE;
        n = GPOINTER_TO_UINT (g_hash_table_lookup (per_app, berth_task_get_app_id (task)));
        g_hash_table_replace (per_app, g_strdup (berth_task_get_app_id (task)), GUINT_TO_POINTER (n + 1));
        g_ptr_array_add (op->killed, g_object_ref (task));
      }
  if (!op->scale)
    return TRUE;
  g_hash_table_iter_init (&iter, per_app);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autoptr(SchedulerApp) app = scheduler_db_load_app (store, key, limits, NULL);
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
      if (!scheduler_db_put_app (txn, def, FALSE, limits->max_versions, error))
        return FALSE;
      g_free (op->version);
      op->version = g_strdup (version);
    }
  return TRUE;
}

static gboolean
write_cancel (SchedulerAppOp *op, const SchedulerLimits *limits, BerthTxn *txn, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  /* the row of the app named, or the deployment's only one */
  g_autoptr(SchedulerDeployment) d = scheduler_db_load_deployment (store, op->app_id == NULL ? op->deployment_id
                                                                                             : NULL,
                                                                   op->app_id, error);
  g_autoptr(SchedulerApp) current = NULL;

  if (d != NULL && !g_str_equal (d->id, op->deployment_id))
    {
      g_clear_pointer (&d, scheduler_deployment_free);
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("DeploymentPlan %s does not exist"),
                   op->deployment_id);
    }
  if (d == NULL)
    return FALSE;
  if (!(op->app_id != NULL ? scheduler_db_finish_deployment (txn, d->id, d->app_id, error)
                           : scheduler_db_delete_deployment (txn, d->id, error)))
    return FALSE;
  if (op->force)
    return TRUE;
  g_free (op->app_id);
  op->app_id = g_strdup (d->app_id);
  current = scheduler_db_load_app (store, d->app_id, limits, NULL);
  g_free (op->version);
  op->version = scheduler_app_next_version (current != NULL ? current->version : NULL);
  g_free (op->action);
  if (d->previous == NULL)
    {
      /* rolling back a creation removes the app */
      op->action = g_strdup ("StopApplication");
      if (current == NULL)
        return TRUE;
      return scheduler_db_delete_app (txn, d->app_id, error) && kill_app_tasks (op, txn, error) &&
             put_deployment (op, txn, current->def, error);
    }
  {
    g_autofree char *why = scheduler_app_check_stored (d->previous, limits);
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
    scheduler_app_set_version (def, op->version, config_change);
    op->action = g_strdup (config_change ? "RestartApplication" : "ScaleApplication");
    return scheduler_db_put_app (txn, def, TRUE, limits->max_versions, error) &&
           put_deployment (op, txn, current != NULL ? current->def : NULL, error);
  }
}

static gboolean write_op (SchedulerAppOp *op, const SchedulerLimits *limits, BerthTxn *txn, GError **error);

/* Every operation of a group, or none. */
static gboolean
write_batch (SchedulerAppOp *op, const SchedulerLimits *limits, BerthTxn *txn, GError **error)
{
  op->created = op->ops->len > 0;
  for (guint i = 0; i < op->ops->len; i++)
    {
      SchedulerAppOp *one = g_ptr_array_index (op->ops, i);

      one->force = op->force;
      if (op->one_deployment && op->new_deployment != NULL)
        {
          g_free (one->use_deployment);
          one->use_deployment = g_strdup (op->new_deployment);
        }
      if (!write_op (one, limits, txn, error))
        {
          g_free (op->locked_by);
          op->locked_by = g_strdup (one->locked_by);
          return FALSE;
        }
      op->created = op->created && one->created;
      if (op->new_deployment == NULL)
        op->new_deployment = g_strdup (one->new_deployment);
      if (op->version == NULL)
        op->version = g_strdup (one->version);
    }
  return TRUE;
}

static gboolean
write_op (SchedulerAppOp *op, const SchedulerLimits *limits, BerthTxn *txn, GError **error)
{
  switch (op->kind)
    {
    case SCHEDULER_APP_OP_KILL_TASKS:
      return write_kill (op, limits, txn, error);
    case SCHEDULER_APP_OP_CANCEL_DEPLOYMENT:
      return write_cancel (op, limits, txn, error);
    case SCHEDULER_APP_OP_BATCH:
      return write_batch (op, limits, txn, error);
    default:
      return write_app (op, limits, txn, error);
    }
}

static gboolean
write_cb (BerthTxn *txn, gpointer user_data, GError **error)
{
  Run *r = user_data;

  return write_op (r->op, scheduler_plugin_get_limits (r->plugin), txn, error);
}

/* What the write did, on the bus; @group: the group a batch wrote;
 * @announce: whether the deployment's start (or cancellation) is told
 * (a batch of one deployment tells it once). */
static void
publish (SchedulerPlugin *plugin, SchedulerAppOp *op, const char *group, gboolean announce)
{
  BerthContext *ctx = berth_plugin_get_context (BERTH_PLUGIN (plugin));

  if (op->kind == SCHEDULER_APP_OP_BATCH)
    {
      for (guint i = 0; i < op->ops->len; i++)
        publish (plugin, g_ptr_array_index (op->ops, i), op->group_id, !op->one_deployment || i == 0);
      return;
    }
  /* a broken app deleted or replaced by a valid definition is no longer set aside */
  if (op->kind == SCHEDULER_APP_OP_DELETE || op->kind == SCHEDULER_APP_OP_UPDATE)
    berth_context_forget_broken (ctx, "app", op->app_id);

  if (op->kind == SCHEDULER_APP_OP_CANCEL_DEPLOYMENT && announce)
    berth_context_publish (ctx, SCHEDULER_TOPIC_DEPLOYMENT, op->caller,
                           scheduler_event_deployment ("cancelled", op->deployment_id, NULL, NULL, NULL));
  if (op->event_action != NULL && op->app_id != NULL &&
      (op->kind != SCHEDULER_APP_OP_KILL_TASKS || (op->scale && op->version != NULL)))
    {
      JsonObject *e = json_object_new ();
      json_object_set_string_member (e, "action", op->created ? "created" : op->event_action);
      json_object_set_string_member (e, "appId", op->app_id);
      if (op->version != NULL)
        json_object_set_string_member (e, "version", op->version);
      if (op->new_deployment != NULL)
        json_object_set_string_member (e, "deploymentId", op->new_deployment);
      if (op->def != NULL)
        json_object_set_object_member (e, "definition", json_object_ref (op->def));
      if (group != NULL)
        json_object_set_string_member (e, "group", group);
      berth_context_publish (ctx, SCHEDULER_TOPIC_APP, op->caller, e);
    }
  if (op->new_deployment != NULL && announce)
    berth_context_publish (ctx, SCHEDULER_TOPIC_DEPLOYMENT, op->caller,
                           scheduler_event_deployment ("started", op->new_deployment, op->app_id, op->version,
                                                       op->action));
}

static void
write_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *r = g_task_get_task_data (task);
  SchedulerController *controller = scheduler_plugin_get_controller (r->plugin);
  GError *error = NULL;

  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 && error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (controller == NULL)
    {
      /* shutting down meanwhile */
      g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE, _("The scheduler is shutting down"));
      return;
    }
  publish (r->plugin, r->op, NULL, TRUE);
  scheduler_controller_kick (controller);
  g_task_return_boolean (task, TRUE);
}

/**
 * scheduler_apps_run_async:
 * @op: a prepared operation; its results are set when it completes
 *
 * Runs @op in one store write.
 */
void
scheduler_apps_run_async (SchedulerPlugin *self, SchedulerAppOp *op, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Run *r = g_new0 (Run, 1);

  g_task_set_source_tag (task, scheduler_apps_run_async);
  r->plugin = g_object_ref (self);
  r->op = scheduler_app_op_ref (op);
  g_task_set_task_data (task, r, (GDestroyNotify) run_free);
  berth_store_write_async (store_of (self), write_cb, r, NULL, NULL, write_done_cb, task);
}

/**
 * scheduler_apps_run_finish:
 *
 * Returns: whether the operation was committed; %BERTH_ERROR_CONFLICT
 *   with the operation's locked_by set when a deployment holds the app
 */
gboolean
scheduler_apps_run_finish (SchedulerPlugin *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
