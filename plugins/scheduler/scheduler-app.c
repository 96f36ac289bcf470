/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "scheduler-app.h"

/* Marathon apps as the controller sees them: ids, versions, and what a
 * task of the app runs. Validation is in scheduler-app-validate.c. */

char *
scheduler_json_to_string (JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

char *
scheduler_object_to_string (JsonObject *obj)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), obj);
  return scheduler_json_to_string (node);
}

/* A stored or generated document; NULL (and a debug message) when it
 * cannot be read. */
JsonNode *
scheduler_json_parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node;

  if (text == NULL)
    return NULL;
  node = berth_json_parse (text, -1, &error);
  if (node == NULL)
    g_debug ("scheduler: unreadable JSON: %s", error->message);
  return node;
}

/* A mutable deep copy (parsed documents are immutable and json_node_copy()
 * shares their contents). */
static JsonNode *
deep_copy (JsonNode *node)
{
  JsonNode *copy;

  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *obj = json_object_new ();
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;
        /* in order: is_scale_only() compares the texts of copies */
        json_object_iter_init_ordered (&iter, json_node_get_object (node));
        while (json_object_iter_next_ordered (&iter, &name, &member))
          json_object_set_member (obj, name, deep_copy (member));
        copy = json_node_init_object (json_node_alloc (), obj);
        json_object_unref (obj);
        return copy;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_array_new ();
        for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
          json_array_add_element (array, deep_copy (json_array_get_element (json_node_get_array (node), i)));
        copy = json_node_init_array (json_node_alloc (), array);
        json_array_unref (array);
        return copy;
      }
    case JSON_NODE_VALUE:
      copy = json_node_alloc ();
      json_node_init (copy, JSON_NODE_VALUE);
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_INT64:
          json_node_set_int (copy, json_node_get_int (node));
          break;
        case G_TYPE_DOUBLE:
          json_node_set_double (copy, json_node_get_double (node));
          break;
        case G_TYPE_BOOLEAN:
          json_node_set_boolean (copy, json_node_get_boolean (node));
          break;
        default:
          json_node_set_string (copy, json_node_get_string (node));
          break;
        }
      return copy;
    case JSON_NODE_NULL:
    default:
      return json_node_new (JSON_NODE_NULL);
    }
}

static gdouble
get_number (JsonObject *obj, const char *name, gdouble fallback)
{
  JsonNode *n = obj != NULL ? json_object_get_member (obj, name) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return fallback;
  switch (json_node_get_value_type (n))
    {
    case G_TYPE_INT64:
      return (gdouble) json_node_get_int (n);
    case G_TYPE_DOUBLE:
      return json_node_get_double (n);
    default:
      return fallback;
    }
}

static JsonObject *
get_object (JsonObject *obj, const char *name)
{
  JsonNode *n = obj != NULL ? json_object_get_member (obj, name) : NULL;
  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonArray *
get_array (JsonObject *obj, const char *name)
{
  JsonNode *n = obj != NULL ? json_object_get_member (obj, name) : NULL;
  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static const char *
get_string (JsonObject *obj, const char *name)
{
  JsonNode *n = obj != NULL ? json_object_get_member (obj, name) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

SchedulerApp *
scheduler_app_new (JsonObject *def)
{
  SchedulerApp *app = g_new0 (SchedulerApp, 1);
  JsonObject *strategy = get_object (def, "upgradeStrategy");
  JsonObject *info = get_object (def, "versionInfo");
  JsonArray *pds = get_array (def, "portDefinitions");

  app->def = json_object_ref (def);
  app->id = g_strdup (get_string (def, "id"));
  app->version = get_string (def, "version");
  app->config_version = get_string (info, "lastConfigChangeAt");
  if (app->config_version == NULL)
    app->config_version = app->version;
  app->instances = (gint64) get_number (def, "instances", 1);
  app->cpus = get_number (def, "cpus", 1);
  app->mem = get_number (def, "mem", 128);
  app->disk = get_number (def, "disk", 0);
  app->n_ports = pds != NULL ? json_array_get_length (pds) : 0;
  {
    JsonObject *docker = get_object (get_object (def, "container"), "docker");
    if (docker != NULL && g_strcmp0 (get_string (docker, "network"), "BRIDGE") == 0)
      app->n_ports = get_array (docker, "portMappings") != NULL
                       ? json_array_get_length (get_array (docker, "portMappings")) : 0;
  }
  app->backoff_seconds = get_number (def, "backoffSeconds", 1);
  app->backoff_factor = get_number (def, "backoffFactor", 1.15);
  app->max_launch_delay = get_number (def, "maxLaunchDelaySeconds", 3600);
  app->min_health = get_number (strategy, "minimumHealthCapacity", 1);
  app->max_over = get_number (strategy, "maximumOverCapacity", 1);
  app->kill_grace = (gint64) get_number (def, "taskKillGracePeriodSeconds", 3);
  return app;
}

/* Whether the app's tasks run in containers (container.docker). */
gboolean
scheduler_app_is_container (SchedulerApp *app)
{
  return get_object (get_object (app->def, "container"), "docker") != NULL;
}

void
scheduler_app_free (SchedulerApp *app)
{
  if (app == NULL)
    return;
  g_free (app->id);
  json_object_unref (app->def);
  g_clear_pointer (&app->last_failure, json_object_unref);
  g_free (app->deployment_id);
  g_free (app);
}

/* "a//b/" relative to @base → "/base/a/b" */
char *
scheduler_app_normalize_id (const char *raw, const char *base)
{
  g_autoptr(GString) s = g_string_new (NULL);
  g_auto(GStrv) parts = NULL;
  g_autofree char *joined = NULL;

  if (raw == NULL)
    return NULL;
  joined = raw[0] == '/' || base == NULL ? g_strdup (raw) : g_strconcat (base, "/", raw, NULL);
  parts = g_strsplit (joined, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0')
      g_string_append_printf (s, "/%s", parts[i]);
  if (s->len == 0)
    g_string_append_c (s, '/');
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static gboolean
segment_is_valid (const char *seg)
{
  /* ^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])$ */
  g_auto(GStrv) labels = g_strsplit (seg, ".", -1);

  for (guint i = 0; labels[i] != NULL; i++)
    {
      gsize len = strlen (labels[i]);
      if (len == 0)
        return FALSE;
      for (gsize j = 0; j < len; j++)
        {
          char c = labels[i][j];
          gboolean alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
          if (!alnum && !(c == '-' && j > 0 && j + 1 < len))
            return FALSE;
        }
    }
  return TRUE;
}

gboolean
scheduler_app_id_is_valid (const char *id)
{
  g_auto(GStrv) parts = NULL;
  guint n = 0;

  if (id == NULL || id[0] != '/' || strlen (id) > 512)
    return FALSE;
  parts = g_strsplit (id + 1, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++, n++)
    if (!segment_is_valid (parts[i]))
      return FALSE;
  return n > 0;
}

JsonObject *
scheduler_object_copy (JsonObject *obj)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), obj);
  g_autoptr(JsonNode) copy = deep_copy (node);
  return json_object_ref (json_node_get_object (copy));
}

static char *
without_scale_fields (JsonObject *def)
{
  g_autoptr(JsonObject) obj = scheduler_object_copy (def);

  json_object_remove_member (obj, "instances");
  json_object_remove_member (obj, "version");
  json_object_remove_member (obj, "versionInfo");
  return scheduler_object_to_string (obj);
}

gboolean
scheduler_app_is_scale_only (JsonObject *before, JsonObject *after)
{
  g_autofree char *a = without_scale_fields (before);
  g_autofree char *b = without_scale_fields (after);
  return g_str_equal (a, b);
}

/* Sets version and versionInfo; a config change moves
 * lastConfigChangeAt (tasks of older config versions get replaced). */
void
scheduler_app_set_version (JsonObject *def, const char *version, gboolean config_change)
{
  JsonObject *old = get_object (def, "versionInfo");
  const char *last_config = old != NULL ? get_string (old, "lastConfigChangeAt") : NULL;
  JsonObject *info = json_object_new ();

  json_object_set_string_member (info, "lastScalingAt", version);
  json_object_set_string_member (info, "lastConfigChangeAt",
                                 config_change || last_config == NULL ? version : last_config);
  json_object_set_string_member (def, "version", version);
  json_object_set_object_member (def, "versionInfo", info);
}

/* A new version: the time now, but always after @after (two changes in
 * the same millisecond still get two versions). */
char *
scheduler_app_next_version (const char *after)
{
  g_autofree char *now = berth_task_timestamp_now ();
  g_autoptr(GDateTime) prev = NULL;
  g_autoptr(GDateTime) next = NULL;
  g_autofree char *base = NULL;

  if (after == NULL || strcmp (now, after) > 0)
    return g_steal_pointer (&now);
  prev = g_date_time_new_from_iso8601 (after, NULL);
  if (prev == NULL)
    return g_steal_pointer (&now);
  next = g_date_time_add (prev, 1000);
  base = g_date_time_format (next, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", base, g_date_time_get_microsecond (next) / 1000);
}

char *
scheduler_app_new_task_id (const char *app_id)
{
  g_autofree char *name = g_strdup (app_id[0] == '/' ? app_id + 1 : app_id);
  g_autofree char *uuid = g_uuid_string_random ();

  g_strdelimit (name, "/", '_');
  return g_strdup_printf ("%s.%s", name, uuid);
}

static void
copy_strings (GHashTable *into, JsonObject *from)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  if (from == NULL)
    return;
  json_object_iter_init (&iter, from);
  while (json_object_iter_next (&iter, &name, &value))
    if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
      g_hash_table_replace (into, g_strdup (name), g_strdup (json_node_get_string (value)));
}

static void
add_ports (BerthTaskSpec *spec, JsonArray *ports, const char *port_member)
{
  for (guint i = 0; ports != NULL && i < json_array_get_length (ports); i++)
    {
      JsonObject *p = json_array_get_object_element (ports, i);
      gdouble port = get_number (p, port_member, 0);
      berth_task_spec_add_port (spec, port >= 0 && port <= 65535 ? (guint) port : 0, get_string (p, "protocol"),
                                get_string (p, "name"));
    }
}

/* What the runtime runs for a task of @app (stored as the `spec` column
 * with berth_task_spec_to_json()). */
BerthTaskSpec *
scheduler_app_task_spec (SchedulerApp *app)
{
  JsonObject *container = get_object (app->def, "container");
  JsonObject *docker = get_object (container, "docker");
  const char *network = docker != NULL ? get_string (docker, "network") : NULL;
  JsonArray *args = get_array (app->def, "args");
  BerthTaskSpec *spec = berth_task_spec_new (docker != NULL ? BERTH_TASK_KIND_CONTAINER : BERTH_TASK_KIND_EXEC);

  berth_task_spec_set_cmd (spec, get_string (app->def, "cmd"));
  if (args != NULL)
    {
      g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
      g_auto(GStrv) strv = NULL;
      for (guint i = 0; i < json_array_get_length (args); i++)
        {
          JsonNode *n = json_array_get_element (args, i);
          if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
            g_strv_builder_add (b, json_node_get_string (n));
        }
      strv = g_strv_builder_end (b);
      berth_task_spec_set_args (spec, (const char * const *) strv);
    }
  if (docker != NULL)
    berth_task_spec_set_image (spec, get_string (docker, "image"));
  copy_strings (berth_task_spec_get_env (spec), get_object (app->def, "env"));
  copy_strings (berth_task_spec_get_labels (spec), get_object (app->def, "labels"));
  if (g_strcmp0 (network, "BRIDGE") == 0 || g_strcmp0 (network, "USER") == 0)
    add_ports (spec, get_array (docker, "portMappings"), "containerPort");
  else
    add_ports (spec, get_array (app->def, "portDefinitions"), "port");
  berth_task_spec_set_resources (spec, app->cpus, (guint64) MAX (app->mem, 0), (guint64) MAX (app->disk, 0));
  if (docker == NULL || g_strcmp0 (network, "HOST") == 0)
    berth_task_spec_set_network (spec, BERTH_TASK_NETWORK_HOST);
  else if (g_strcmp0 (network, "NONE") == 0)
    berth_task_spec_set_network (spec, BERTH_TASK_NETWORK_NONE);
  else
    berth_task_spec_set_network (spec, BERTH_TASK_NETWORK_BRIDGE);
  berth_task_spec_set_kill_grace_seconds (spec, (guint) CLAMP (app->kill_grace, 0, 86400));
  return spec;
}
