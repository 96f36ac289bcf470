/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "scheduler-apps.h"
#include "scheduler-db.h"
#include "scheduler-groups.h"
#include "scheduler-http-private.h"
#include "scheduler-validate.h"

/* /v2/groups: Marathon's app groups. A group is no object of its own here:
 * it is the tree the app ids (paths) make. GET builds it; POST creates
 * every app of a group tree; PUT scales (scaleBy) or updates the apps it
 * names; DELETE removes every app under the path. A write is a batch of
 * app operations (scheduler-apps.h) run in one store write, with the
 * caller: the same checks, the same `app` and `deployment` events as
 * /v2/apps. */

static BerthStore *
store_of (SchedulerPlugin *self)
{
  return berth_context_get_store (berth_plugin_get_context (BERTH_PLUGIN (self)));
}

static gboolean
is_under (const char *app_id, const char *group_id)
{
  gsize len = strlen (group_id);

  if (g_str_equal (group_id, "/"))
    return TRUE;
  return strncmp (app_id, group_id, len) == 0 && app_id[len] == '/';
}

/* The group @id as Marathon shows it, built from the app ids. */
static JsonObject *
build_group (SchedulerController *controller, const char *id, GPtrArray *apps, GPtrArray *tasks,
             const char *version)
{
  JsonObject *group = json_object_new ();
  JsonArray *direct = json_array_new ();
  JsonArray *groups = json_array_new ();
  g_autoptr(GHashTable) children = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) order = g_ptr_array_new ();
  gsize prefix = g_str_equal (id, "/") ? 1 : strlen (id) + 1;

  for (guint i = 0; i < apps->len; i++)
    {
      SchedulerApp *app = g_ptr_array_index (apps, i);
      const char *rest, *slash;
      if (!is_under (app->id, id))
        continue;
      rest = app->id + prefix;
      slash = strchr (rest, '/');
      if (slash == NULL)
        json_array_add_element (direct, scheduler_controller_app_json (controller, app, tasks, FALSE));
      else
        {
          g_autofree char *child = g_strndup (app->id, (gsize) (slash - app->id));
          if (!g_hash_table_contains (children, child))
            {
              g_ptr_array_add (order, g_strdup (child));
              g_hash_table_add (children, g_ptr_array_index (order, order->len - 1));
            }
        }
    }
  for (guint i = 0; i < order->len; i++)
    json_array_add_object_element (groups, build_group (controller, g_ptr_array_index (order, i), apps, tasks,
                                                        version));
  json_object_set_string_member (group, "id", id);
  json_object_set_array_member (group, "apps", direct);
  json_object_set_array_member (group, "groups", groups);
  json_object_set_array_member (group, "pods", json_array_new ());
  json_object_set_array_member (group, "dependencies", json_array_new ());
  json_object_set_string_member (group, "version", version);
  return group;
}

static void
get_group (SchedulerPlugin *self, BerthRequest *req, const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) apps = scheduler_db_load_apps (store_of (self), scheduler_plugin_get_limits (self), &error);
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(JsonObject) group = NULL;
  g_autofree char *now = berth_task_timestamp_now ();
  gboolean found = g_str_equal (id, "/");

  if (apps != NULL)
    tasks = berth_task_list (store_of (self), NULL, NULL, &error);
  if (apps == NULL || tasks == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  /* a group shows the apps the caller may read; one with none is unknown */
  for (guint i = apps->len; i > 0; i--)
    if (!scheduler_http_may_read_app (req, ((SchedulerApp *) g_ptr_array_index (apps, i - 1))->id))
      g_ptr_array_remove_index (apps, i - 1);
  for (guint i = 0; i < apps->len && !found; i++)
    found = is_under (((SchedulerApp *) g_ptr_array_index (apps, i))->id, id);
  if (!found)
    {
      g_autofree char *msg = g_strdup_printf (_("Group '%s' does not exist"), id);
      berth_request_respond_message (req, 404, msg);
      return;
    }
  group = build_group (scheduler_plugin_get_controller (self), id, apps, tasks, now);
  scheduler_http_respond_object (req, 200, group);
}

static void
add_detail (JsonArray *details, const char *path, JsonArray *errors)
{
  JsonObject *d = json_object_new ();
  json_object_set_string_member (d, "path", path);
  json_object_set_array_member (d, "errors", json_array_ref (errors));
  json_array_add_object_element (details, d);
}

/* Flattens a group tree into app definitions (validated), or fills @details. */
static void
collect_apps (JsonObject *group, gboolean use_id, const char *base, const char *path, const SchedulerLimits *limits,
              GPtrArray *defs, JsonArray *details)
{
  const char *gid = use_id ? scheduler_check_string (group, path, "id", NULL, 512, details) : NULL;
  g_autofree char *id = gid != NULL ? scheduler_app_normalize_id (gid, base) : g_strdup (base);
  JsonArray *apps = scheduler_check_array (group, path, "apps", limits->max_entries, details);
  JsonArray *groups = scheduler_check_array (group, path, "groups", limits->max_entries, details);

  if (gid != NULL && !g_str_equal (id, "/") && !scheduler_app_id_is_valid (id))
    {
      g_autofree char *p = g_strconcat (path, "/id", NULL);
      scheduler_detail_add (details, p, _("error.path.invalid"));
      return;
    }
  for (guint i = 0; apps != NULL && i < json_array_get_length (apps); i++)
    {
      JsonNode *node = json_array_get_element (apps, i);
      g_autoptr(JsonArray) app_details = NULL;
      g_autofree char *app_id = NULL;
      JsonObject *def;

      if (JSON_NODE_HOLDS_OBJECT (node) &&
          scheduler_json_is_string (json_object_get_member (json_node_get_object (node), "id")))
        app_id = scheduler_app_normalize_id (json_object_get_string_member (json_node_get_object (node), "id"), id);
      def = scheduler_app_validate (node, NULL, app_id, limits, &app_details);
      if (def != NULL)
        {
          g_autofree char *p = g_strdup_printf ("%s/apps(%u)", path, i);
          if (!scheduler_apps_check_script_checks (def, limits, p, details))
            {
              json_object_unref (def);
              continue;
            }
        }
      if (def == NULL)
        {
          for (guint j = 0; j < json_array_get_length (app_details); j++)
            {
              JsonObject *d = json_array_get_object_element (app_details, j);
              g_autofree char *p = g_strdup_printf ("%s/apps(%u)%s", path, i,
                                                    json_object_get_string_member (d, "path"));
              add_detail (details, p, json_object_get_array_member (d, "errors"));
            }
          continue;
        }
      g_ptr_array_add (defs, def);
    }
  for (guint i = 0; groups != NULL && i < json_array_get_length (groups); i++)
    {
      JsonNode *node = json_array_get_element (groups, i);
      g_autofree char *p = g_strdup_printf ("%s/groups(%u)", path, i);
      if (JSON_NODE_HOLDS_OBJECT (node))
        collect_apps (json_node_get_object (node), TRUE, id, p, limits, defs, details);
      else
        scheduler_detail_add (details, p, _("error.expected.jsobject"));
    }
}

/* The apps under @group_id, as a batch: deleted, or scaled by @scale_by. */
static gboolean
add_group_apps (SchedulerPlugin *self, SchedulerAppOp *batch, gboolean delete, gdouble scale_by, GError **error)
{
  g_autoptr(GPtrArray) apps = scheduler_db_load_apps (store_of (self), scheduler_plugin_get_limits (self), error);
  BerthCaller *caller = batch->caller;

  if (apps == NULL)
    return FALSE;
  for (guint i = 0; i < apps->len; i++)
    {
      SchedulerApp *app = g_ptr_array_index (apps, i);
      g_autoptr(JsonObject) def = NULL;
      SchedulerAppOp *op;
      gdouble instances;

      if (!is_under (app->id, batch->group_id))
        continue;
      if (delete)
        {
          g_ptr_array_add (batch->ops, scheduler_apps_delete (self, app->id, caller));
          continue;
        }
      instances = ceil (app->instances * scale_by - 1e-9);
      if (instances > G_MAXINT32)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                       _("scaleBy %g would give app %s more than %d instances"), scale_by, app->id, G_MAXINT32);
          return FALSE;
        }
      def = scheduler_object_copy (app->def);
      json_object_set_int_member (def, "instances", (gint64) instances);
      op = scheduler_apps_deploy_definition (self, def, FALSE, batch->version, caller, error);
      if (op == NULL)
        return FALSE;
      op->must_exist = TRUE;
      g_ptr_array_add (batch->ops, op);
    }
  if (batch->ops->len == 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Group '%s' does not exist"), batch->group_id);
      return FALSE;
    }
  return TRUE;
}

/* POST (@create) or PUT of a group tree @obj: its apps, validated, as a
 * batch; FALSE with the answer given when it is not valid. */
static gboolean
add_definitions (SchedulerPlugin *self, BerthRequest *req, SchedulerAppOp *batch, JsonObject *obj, gboolean create)
{
  g_autoptr(GPtrArray) defs = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr(JsonArray) details = json_array_new ();
  /* POST /v2/groups takes the group's id from the body, PUT from the path */
  gboolean use_id = create && json_object_has_member (obj, "id");

  if (use_id && scheduler_json_is_string (json_object_get_member (obj, "id")))
    {
      g_free (batch->group_id);
      batch->group_id = scheduler_app_normalize_id (json_object_get_string_member (obj, "id"), "/");
    }
  collect_apps (obj, use_id, use_id ? "/" : batch->group_id, "", scheduler_plugin_get_limits (self), defs, details);
  if (json_array_get_length (details) > 0 || defs->len == 0)
    {
      if (json_array_get_length (details) == 0)
        {
          g_autoptr(JsonArray) errors = json_array_new ();
          json_array_add_string_element (errors, _("a group needs at least one app"));
          add_detail (details, "/apps", errors);
        }
      scheduler_http_respond_invalid (req, g_steal_pointer (&details));
      return FALSE;
    }
  for (guint i = 0; i < defs->len; i++)
    {
      g_autoptr(GError) error = NULL;
      SchedulerAppOp *op = scheduler_apps_deploy_definition (self, g_ptr_array_index (defs, i), create,
                                                             batch->version, batch->caller, &error);
      if (op == NULL)
        {
          berth_request_respond_error (req, error);
          return FALSE;
        }
      g_ptr_array_add (batch->ops, op);
    }
  return TRUE;
}

/* The batch of a POST or PUT; FALSE with the answer given. */
static gboolean
prepare_put (SchedulerPlugin *self, BerthRequest *req, SchedulerAppOp *batch, gboolean create)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = berth_request_parse_json (req, &error);
  JsonObject *obj;
  JsonNode *scale;
  gdouble scale_by;

  if (body == NULL || !JSON_NODE_HOLDS_OBJECT (body))
    {
      if (error == NULL)
        g_set_error (&error, BERTH_ERROR, BERTH_ERROR_INVALID, _("A group must be a JSON object"));
      berth_request_respond_error (req, error);
      return FALSE;
    }
  obj = json_node_get_object (body);
  if (create || !json_object_has_member (obj, "scaleBy"))
    return add_definitions (self, req, batch, obj, create);
  scale = json_object_get_member (obj, "scaleBy");
  scale_by = scheduler_json_is_number (scale) ? scheduler_json_number (scale) : 0;
  if (!(scale_by > 0) || !isfinite (scale_by))
    {
      berth_request_respond_message (req, 422, _("scaleBy must be a positive number"));
      return FALSE;
    }
  if (!add_group_apps (self, batch, FALSE, scale_by, &error))
    {
      berth_request_respond_error (req, error);
      return FALSE;
    }
  return TRUE;
}

void
scheduler_groups_handle (SchedulerPlugin *self, BerthRequest *req)
{
  const char *method = berth_request_get_method (req);
  const char *raw = berth_request_get_param (req, "_path");
  g_autofree char *id = scheduler_app_normalize_id (raw != NULL ? raw : "/", NULL);
  g_autofree char *version = NULL;
  g_autoptr(SchedulerAppOp) batch = NULL;
  g_autoptr(GError) error = NULL;

  if (g_str_equal (method, "GET") || g_str_equal (method, "HEAD"))
    {
      get_group (self, req, id);
      return;
    }
  version = berth_task_timestamp_now ();
  batch = scheduler_apps_batch (id, version, berth_request_get_caller (req));
  /* a group write is one deployment, as Marathon plans it */
  batch->one_deployment = TRUE;
  if (g_str_equal (method, "DELETE"))
    {
      if (!add_group_apps (self, batch, TRUE, 0, &error))
        {
          berth_request_respond_error (req, error);
          return;
        }
    }
  else if (!prepare_put (self, req, batch, g_str_equal (method, "POST")))
    return;
  /* every app the batch writes, and the group, before anything runs */
  if (!scheduler_http_authorize_op (req, batch))
    return;
  if (scheduler_http_flags (req, batch))
    scheduler_http_run (self, req, batch);
}
