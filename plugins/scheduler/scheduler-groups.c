/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "scheduler-apps.h"
#include "scheduler-db.h"
#include "scheduler-groups.h"
#include "scheduler-validate.h"

/* /v2/groups: Marathon's app groups. A group is no object of its own here:
 * it is the tree the app ids (paths) make. GET builds it; POST creates
 * every app of a group tree in one write; PUT scales (scaleBy) or updates
 * the apps it names; DELETE removes every app under the path. */

typedef enum {
  GROUP_CREATE,
  GROUP_UPDATE,
  GROUP_DELETE,
} GroupKind;

typedef struct {
  SchedulerPlugin *plugin;
  BerthRequest    *request;
  GroupKind        kind;
  char            *group_id;
  GPtrArray       *defs;       /* JsonObject*: apps to create or update */
  gdouble          scale_by;   /* > 0: scale every app under group_id */
  gboolean         force;
  char            *version;
  char            *deployment;
  char            *locked_by;
  GPtrArray       *changed;    /* app ids written */
} GroupWrite;

static void
group_write_free (GroupWrite *w)
{
  g_object_unref (w->plugin);
  g_object_unref (w->request);
  g_free (w->group_id);
  g_ptr_array_unref (w->defs);
  g_free (w->version);
  g_free (w->deployment);
  g_free (w->locked_by);
  g_ptr_array_unref (w->changed);
  g_free (w);
}

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
respond_object (BerthRequest *req, guint status, JsonObject *obj)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), obj);
  berth_request_respond_json (req, status, node);
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
  for (guint i = 0; i < apps->len && !found; i++)
    found = is_under (((SchedulerApp *) g_ptr_array_index (apps, i))->id, id);
  if (!found)
    {
      g_autofree char *msg = g_strdup_printf (_("Group '%s' does not exist"), id);
      berth_request_respond_message (req, 404, msg);
      return;
    }
  group = build_group (scheduler_plugin_get_controller (self), id, apps, tasks, now);
  respond_object (req, 200, group);
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

static gboolean
locked (GroupWrite *w, BerthStore *store, const char *app_id, GError **error)
{
  g_autoptr(SchedulerDeployment) d = scheduler_db_load_deployment (store, NULL, app_id, NULL);

  if (d == NULL || w->force)
    return FALSE;
  w->locked_by = g_strdup (d->id);
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT,
               _("App is locked by one or more deployments. Override with the option '?force=true'. "
                 "View details at '/v2/deployments/<DEPLOYMENT_ID>'."));
  return TRUE;
}

static gboolean
deploy (GroupWrite *w, BerthTxn *txn, const char *app_id, const char *action, JsonObject *previous, GError **error)
{
  g_autofree char *id = g_uuid_string_random ();

  if (!scheduler_db_put_deployment (txn, id, app_id, w->version, action, previous, error))
    return FALSE;
  if (w->deployment == NULL)
    w->deployment = g_steal_pointer (&id);
  g_ptr_array_add (w->changed, g_strdup (app_id));
  return TRUE;
}

static gboolean
group_write_cb (BerthTxn *txn, gpointer user_data, GError **error)
{
  GroupWrite *w = user_data;
  BerthStore *store = berth_txn_get_store (txn);
  const SchedulerLimits *limits = scheduler_plugin_get_limits (w->plugin);

  if (w->kind == GROUP_CREATE || (w->kind == GROUP_UPDATE && w->scale_by <= 0))
    for (guint i = 0; i < w->defs->len; i++)
      {
        JsonObject *def = g_ptr_array_index (w->defs, i);
        const char *id = json_object_get_string_member (def, "id");
        g_autoptr(GError) local = NULL;
        g_autoptr(SchedulerApp) current = scheduler_db_load_app (store, id, limits, &local);
        gboolean config_change = current == NULL || !scheduler_app_is_scale_only (current->def, def);

        if ((current != NULL || g_error_matches (local, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE)) &&
            w->kind == GROUP_CREATE)
          {
            g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT, _("An app with id [%s] already exists."), id);
            return FALSE;
          }
        if (locked (w, store, id, error))
          return FALSE;
        if (current != NULL)
          json_object_set_object_member (def, "versionInfo",
                                         json_object_ref (json_object_get_object_member (current->def, "versionInfo")));
        scheduler_app_set_version (def, w->version, config_change);
        if (!scheduler_db_put_app (txn, def, config_change, limits->max_versions, error) ||
            !deploy (w, txn, id, current == NULL ? "StartApplication" : config_change ? "RestartApplication"
                                                                                      : "ScaleApplication",
                     current != NULL ? current->def : NULL, error))
          return FALSE;
      }
  else
    {
      g_autoptr(GPtrArray) apps = scheduler_db_load_apps (store, limits, error);
      if (apps == NULL)
        return FALSE;
      for (guint i = 0; i < apps->len; i++)
        {
          SchedulerApp *app = g_ptr_array_index (apps, i);
          if (!is_under (app->id, w->group_id))
            continue;
          if (locked (w, store, app->id, error))
            return FALSE;
          if (w->kind == GROUP_DELETE)
            {
              g_autoptr(GPtrArray) tasks = berth_task_list (store, app->id, NULL, error);
              if (tasks == NULL || !scheduler_db_delete_app (txn, app->id, error))
                return FALSE;
              for (guint j = 0; j < tasks->len; j++)
                if (!berth_task_is_terminal (g_ptr_array_index (tasks, j)) &&
                    !berth_task_write_desired (txn, berth_task_get_id (g_ptr_array_index (tasks, j)), BERTH_TASK_DESIRED_KILLED, error))
                  return FALSE;
              if (!deploy (w, txn, app->id, "StopApplication", app->def, error))
                return FALSE;
            }
          else
            {
              g_autoptr(JsonObject) def = scheduler_object_copy (app->def);
              gdouble instances = ceil (app->instances * w->scale_by - 1e-9);
              if (instances > G_MAXINT32)
                {
                  g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                               _("scaleBy %g would give app %s more than %d instances"), w->scale_by, app->id,
                               G_MAXINT32);
                  return FALSE;
                }
              json_object_set_int_member (def, "instances", (gint64) instances);
              scheduler_app_set_version (def, w->version, FALSE);
              if (!scheduler_db_put_app (txn, def, FALSE, limits->max_versions, error) ||
                  !deploy (w, txn, app->id, "ScaleApplication", app->def, error))
                return FALSE;
            }
        }
      if (w->changed->len == 0)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Group '%s' does not exist"), w->group_id);
          return FALSE;
        }
    }
  return TRUE;
}

static void
group_write_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GroupWrite *w = user_data;
  g_autoptr(GError) error = NULL;
  JsonObject *o = json_object_new ();

  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 && error != NULL)
    {
      if (w->locked_by != NULL)
        {
          JsonArray *list = json_array_new ();
          JsonObject *d = json_object_new ();
          json_object_set_string_member (o, "message", error->message);
          json_object_set_string_member (d, "id", w->locked_by);
          json_array_add_object_element (list, d);
          json_object_set_array_member (o, "deployments", list);
          respond_object (w->request, 409, o);
        }
      else
        berth_request_respond_error (w->request, error);
    }
  else
    {
      json_object_set_string_member (o, "deploymentId", w->deployment != NULL ? w->deployment : "");
      json_object_set_string_member (o, "version", w->version);
      respond_object (w->request, w->kind == GROUP_CREATE ? 201 : 200, o);
      if (scheduler_plugin_get_controller (w->plugin) != NULL)
        scheduler_controller_kick (scheduler_plugin_get_controller (w->plugin));
    }
  json_object_unref (o);
  group_write_free (w);
}

void
scheduler_groups_handle (SchedulerPlugin *self, BerthRequest *req)
{
  const char *method = berth_request_get_method (req);
  const char *raw = berth_request_get_param (req, "path");
  g_autofree char *id = scheduler_app_normalize_id (raw != NULL ? raw : "/", NULL);
  const char *force = berth_request_get_query (req, "force");
  GroupWrite *w;

  if (g_str_equal (method, "GET") || g_str_equal (method, "HEAD"))
    {
      get_group (self, req, id);
      return;
    }
  w = g_new0 (GroupWrite, 1);
  w->plugin = g_object_ref (self);
  w->request = g_object_ref (req);
  w->group_id = g_strdup (id);
  w->defs = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  w->changed = g_ptr_array_new_with_free_func (g_free);
  w->version = berth_task_timestamp_now ();
  w->force = force != NULL && g_ascii_strcasecmp (force, "true") == 0;
  if (g_str_equal (method, "DELETE"))
    w->kind = GROUP_DELETE;
  else
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) body = berth_request_parse_json (req, &error);
      g_autoptr(JsonArray) details = json_array_new ();
      JsonObject *obj;

      if (body == NULL || !JSON_NODE_HOLDS_OBJECT (body))
        {
          if (error == NULL)
            g_set_error (&error, BERTH_ERROR, BERTH_ERROR_INVALID, _("A group must be a JSON object"));
          berth_request_respond_error (req, error);
          group_write_free (w);
          return;
        }
      obj = json_node_get_object (body);
      w->kind = g_str_equal (method, "POST") ? GROUP_CREATE : GROUP_UPDATE;
      if (w->kind == GROUP_UPDATE && json_object_has_member (obj, "scaleBy"))
        {
          JsonNode *scale = json_object_get_member (obj, "scaleBy");
          w->scale_by = scheduler_json_is_number (scale) ? scheduler_json_number (scale) : 0;
          if (!(w->scale_by > 0) || !isfinite (w->scale_by))
            {
              berth_request_respond_message (req, 422, _("scaleBy must be a positive number"));
              group_write_free (w);
              return;
            }
        }
      else
        {
          /* POST /v2/groups takes the group's id from the body, PUT from the path */
          gboolean use_id = w->kind == GROUP_CREATE && json_object_has_member (obj, "id");
          collect_apps (obj, use_id, use_id ? "/" : id, "", scheduler_plugin_get_limits (self), w->defs, details);
          if (json_array_get_length (details) > 0 || w->defs->len == 0)
            {
              JsonObject *o = json_object_new ();
              if (json_array_get_length (details) == 0)
                {
                  JsonArray *errors = json_array_new ();
                  json_array_add_string_element (errors, _("a group needs at least one app"));
                  add_detail (details, "/apps", errors);
                  json_array_unref (errors);
                }
              json_object_set_string_member (o, "message", _("Object is not valid"));
              json_object_set_array_member (o, "details", g_steal_pointer (&details));
              respond_object (req, 422, o);
              json_object_unref (o);
              group_write_free (w);
              return;
            }
        }
    }
  berth_store_write_async (store_of (self), group_write_cb, w, NULL, NULL, group_write_done_cb, w);
}
