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
        json_object_iter_init (&iter, json_node_get_object (node));
        while (json_object_iter_next (&iter, &name, &member))
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

/* What the runtime runs for a task of @app (the `spec` column). */
JsonObject *
scheduler_app_task_spec (SchedulerApp *app)
{
  JsonObject *spec = json_object_new ();
  JsonObject *container = get_object (app->def, "container");
  JsonObject *docker = get_object (container, "docker");
  JsonArray *pds = get_array (app->def, "portDefinitions");
  JsonArray *ports = json_array_new ();

  json_object_set_string_member (spec, "kind", docker != NULL ? "container" : "exec");
  if (get_string (app->def, "cmd") != NULL)
    json_object_set_string_member (spec, "cmd", get_string (app->def, "cmd"));
  if (get_array (app->def, "args") != NULL)
    json_object_set_array_member (spec, "args", json_array_ref (get_array (app->def, "args")));
  if (docker != NULL && get_string (docker, "image") != NULL)
    json_object_set_string_member (spec, "image", get_string (docker, "image"));
  json_object_set_object_member (spec, "env", json_object_ref (get_object (app->def, "env")));
  if (docker != NULL && (g_strcmp0 (get_string (docker, "network"), "BRIDGE") == 0 ||
                         g_strcmp0 (get_string (docker, "network"), "USER") == 0))
    {
      JsonArray *mappings = get_array (docker, "portMappings");
      pds = NULL;
      for (guint i = 0; mappings != NULL && i < json_array_get_length (mappings); i++)
        {
          JsonObject *m = json_array_get_object_element (mappings, i);
          JsonObject *p = json_object_new ();
          json_object_set_int_member (p, "container", json_object_get_int_member_with_default (m, "containerPort", 0));
          json_object_set_string_member (p, "protocol", get_string (m, "protocol"));
          if (get_string (m, "name") != NULL)
            json_object_set_string_member (p, "name", get_string (m, "name"));
          json_array_add_object_element (ports, p);
        }
    }
  for (guint i = 0; pds != NULL && i < json_array_get_length (pds); i++)
    {
      JsonObject *pd = json_array_get_object_element (pds, i);
      JsonObject *p = json_object_new ();
      json_object_set_int_member (p, "container", json_object_get_int_member_with_default (pd, "port", 0));
      json_object_set_string_member (p, "protocol", get_string (pd, "protocol"));
      if (get_string (pd, "name") != NULL)
        json_object_set_string_member (p, "name", get_string (pd, "name"));
      json_array_add_object_element (ports, p);
    }
  json_object_set_array_member (spec, "ports", ports);
  json_object_set_double_member (spec, "cpus", app->cpus);
  json_object_set_int_member (spec, "mem_mb", (gint64) app->mem);
  json_object_set_int_member (spec, "disk_mb", (gint64) app->disk);
  if (docker == NULL || g_strcmp0 (get_string (docker, "network"), "HOST") == 0)
    json_object_set_string_member (spec, "network", "host");
  else if (g_strcmp0 (get_string (docker, "network"), "NONE") == 0)
    json_object_set_string_member (spec, "network", "none");
  else
    json_object_set_string_member (spec, "network", "bridge");
  json_object_set_object_member (spec, "labels", json_object_ref (get_object (app->def, "labels")));
  json_object_set_int_member (spec, "kill_grace_seconds", app->kill_grace);
  return spec;
}
