/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "scheduler-app.h"

/* Marathon app definitions: validation (422 with Marathon's `details`),
 * normalization (every field Marathon emits, in a fixed order, so that two
 * definitions compare as text), and what a task of the app runs. */

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

JsonNode *
scheduler_json_parse (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  if (text == NULL || !json_parser_load_from_data (parser, text, -1, NULL) ||
      json_parser_get_root (parser) == NULL)
    return NULL;
  return json_node_copy (json_parser_get_root (parser));
}

static JsonNode *
empty_array_node (void)
{
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, json_array_new ());
  return node;
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

static void
add_error (JsonArray *details, const char *path, const char *message)
{
  JsonObject *d = json_object_new ();
  JsonArray *errors = json_array_new ();

  json_array_add_string_element (errors, message);
  json_object_set_string_member (d, "path", path);
  json_object_set_array_member (d, "errors", errors);
  json_array_add_object_element (details, d);
}

/* Reads a member of the merged definition (body over current). */
static JsonNode *
member (JsonObject *body, JsonObject *current, const char *name)
{
  if (json_object_has_member (body, name))
    return json_object_get_member (body, name);
  return current != NULL ? json_object_get_member (current, name) : NULL;
}

static gboolean
is_null (JsonNode *n)
{
  return n == NULL || JSON_NODE_HOLDS_NULL (n);
}

static gboolean
is_number (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) &&
         (json_node_get_value_type (n) == G_TYPE_INT64 || json_node_get_value_type (n) == G_TYPE_DOUBLE);
}

static gboolean
is_string (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING;
}

static gdouble
number_of (JsonNode *n)
{
  return json_node_get_value_type (n) == G_TYPE_INT64 ? (gdouble) json_node_get_int (n) : json_node_get_double (n);
}

/* A number member with a default, checked against [min, max]. */
static gdouble
check_number (JsonObject *body, JsonObject *current, const char *name, gdouble fallback, gdouble min,
              gdouble max, gboolean integer, JsonArray *details)
{
  JsonNode *n = member (body, current, name);
  g_autofree char *path = g_strconcat ("/", name, NULL);
  gdouble v;

  if (is_null (n))
    return fallback;
  if (!is_number (n))
    {
      add_error (details, path, _("error.expected.jsnumber"));
      return fallback;
    }
  v = number_of (n);
  if (integer && v != floor (v))
    add_error (details, path, _("must be an integer"));
  else if (v < min)
    {
      g_autofree char *msg = g_strdup_printf (_("got %g, expected %g or more"), v, min);
      add_error (details, path, msg);
    }
  else if (v > max)
    {
      g_autofree char *msg = g_strdup_printf (_("got %g, expected %g or less"), v, max);
      add_error (details, path, msg);
    }
  return v;
}

static void
set_number (JsonObject *obj, const char *name, gdouble v, gboolean integer)
{
  if (integer)
    json_object_set_int_member (obj, name, (gint64) v);
  else
    json_object_set_double_member (obj, name, v);
}

/* An object of string values (env, labels). */
static JsonObject *
check_string_map (JsonObject *body, JsonObject *current, const char *name, JsonArray *details)
{
  JsonNode *n = member (body, current, name);
  JsonObject *out = json_object_new ();
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (is_null (n))
    return out;
  if (!JSON_NODE_HOLDS_OBJECT (n))
    {
      g_autofree char *path = g_strconcat ("/", name, NULL);
      add_error (details, path, _("error.expected.jsobject"));
      return out;
    }
  json_object_iter_init (&iter, json_node_get_object (n));
  while (json_object_iter_next (&iter, &key, &value))
    {
      if (!is_string (value))
        {
          g_autofree char *path = g_strdup_printf ("/%s(%s)", name, key);
          add_error (details, path, _("error.expected.jsstring"));
          continue;
        }
      json_object_set_string_member (out, key, json_node_get_string (value));
    }
  return out;
}

static JsonArray *
check_health_checks (JsonObject *body, JsonObject *current, JsonArray *details)
{
  JsonNode *n = member (body, current, "healthChecks");
  JsonArray *out = json_array_new ();
  const char *protocols[] = { "HTTP", "HTTPS", "TCP", "COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP", NULL };

  if (is_null (n))
    return out;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    {
      add_error (details, "/healthChecks", _("error.expected.jsarray"));
      return out;
    }
  for (guint i = 0; i < json_array_get_length (json_node_get_array (n)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (n), i);
      JsonObject *hc, *o;
      const char *protocol;
      g_autofree char *path = g_strdup_printf ("/healthChecks(%u)", i);
      JsonObject *command;

      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          add_error (details, path, _("error.expected.jsobject"));
          continue;
        }
      hc = json_node_get_object (e);
      protocol = get_string (hc, "protocol");
      if (protocol == NULL)
        protocol = "HTTP";
      if (!g_strv_contains (protocols, protocol))
        {
          g_autofree char *p = g_strconcat (path, "/protocol", NULL);
          add_error (details, p, _("error.expected.validenumvalue"));
          continue;
        }
      command = get_object (hc, "command");
      if (g_str_equal (protocol, "COMMAND") && get_string (command, "value") == NULL)
        {
          g_autofree char *p = g_strconcat (path, "/command", NULL);
          add_error (details, p, _("a COMMAND health check needs a command"));
          continue;
        }
      o = json_object_new ();
      json_object_set_int_member (o, "gracePeriodSeconds",
                                  (gint64) CLAMP (get_number (hc, "gracePeriodSeconds", 300), 0, 86400));
      json_object_set_int_member (o, "intervalSeconds",
                                  (gint64) CLAMP (get_number (hc, "intervalSeconds", 60), 1, 86400));
      json_object_set_int_member (o, "maxConsecutiveFailures",
                                  (gint64) CLAMP (get_number (hc, "maxConsecutiveFailures", 3), 0, 1000000));
      json_object_set_int_member (o, "timeoutSeconds",
                                  (gint64) CLAMP (get_number (hc, "timeoutSeconds", 20), 1, 86400));
      json_object_set_string_member (o, "protocol", protocol);
      if (g_str_equal (protocol, "COMMAND"))
        {
          JsonObject *c = json_object_new ();
          json_object_set_string_member (c, "value", get_string (command, "value"));
          json_object_set_object_member (o, "command", c);
        }
      else
        {
          json_object_set_int_member (o, "portIndex", (gint64) get_number (hc, "portIndex", 0));
          if (g_str_has_suffix (protocol, "HTTP") || g_str_has_suffix (protocol, "HTTPS"))
            {
              json_object_set_string_member (o, "path", get_string (hc, "path") != NULL ? get_string (hc, "path") : "/");
              json_object_set_boolean_member (o, "ignoreHttp1xx",
                                              json_object_get_boolean_member_with_default (hc, "ignoreHttp1xx", FALSE));
            }
        }
      json_array_add_object_element (out, o);
    }
  return out;
}

/* portDefinitions (or the legacy `ports`): how many host ports a task gets. */
static JsonArray *
check_port_definitions (JsonObject *body, JsonObject *current, JsonArray *details)
{
  JsonNode *pd = json_object_get_member (body, "portDefinitions");
  JsonNode *ports = json_object_get_member (body, "ports");
  JsonArray *out = json_array_new ();

  if (is_null (pd) && is_null (ports) && current != NULL)
    pd = json_object_get_member (current, "portDefinitions");
  if (!is_null (pd))
    {
      if (!JSON_NODE_HOLDS_ARRAY (pd))
        {
          add_error (details, "/portDefinitions", _("error.expected.jsarray"));
          return out;
        }
      for (guint i = 0; i < json_array_get_length (json_node_get_array (pd)); i++)
        {
          JsonNode *e = json_array_get_element (json_node_get_array (pd), i);
          JsonObject *o;
          g_autofree char *path = g_strdup_printf ("/portDefinitions(%u)", i);
          gdouble port;

          if (!JSON_NODE_HOLDS_OBJECT (e))
            {
              add_error (details, path, _("error.expected.jsobject"));
              continue;
            }
          port = get_number (json_node_get_object (e), "port", 0);
          if (port < 0 || port > 65535)
            {
              g_autofree char *p = g_strconcat (path, "/port", NULL);
              add_error (details, p, _("a port is between 0 and 65535"));
              continue;
            }
          o = json_object_new ();
          json_object_set_int_member (o, "port", (gint64) port);
          json_object_set_string_member (o, "protocol",
                                         get_string (json_node_get_object (e), "protocol") != NULL
                                           ? get_string (json_node_get_object (e), "protocol") : "tcp");
          if (get_string (json_node_get_object (e), "name") != NULL)
            json_object_set_string_member (o, "name", get_string (json_node_get_object (e), "name"));
          json_object_set_object_member (o, "labels", json_object_new ());
          json_array_add_object_element (out, o);
        }
      return out;
    }
  if (!is_null (ports))
    {
      if (!JSON_NODE_HOLDS_ARRAY (ports))
        {
          add_error (details, "/ports", _("error.expected.jsarray"));
          return out;
        }
      for (guint i = 0; i < json_array_get_length (json_node_get_array (ports)); i++)
        {
          JsonNode *e = json_array_get_element (json_node_get_array (ports), i);
          JsonObject *o;
          if (!is_number (e) || number_of (e) < 0 || number_of (e) > 65535)
            {
              g_autofree char *path = g_strdup_printf ("/ports(%u)", i);
              add_error (details, path, _("a port is between 0 and 65535"));
              continue;
            }
          o = json_object_new ();
          json_object_set_int_member (o, "port", (gint64) number_of (e));
          json_object_set_string_member (o, "protocol", "tcp");
          json_object_set_object_member (o, "labels", json_object_new ());
          json_array_add_object_element (out, o);
        }
      return out;
    }
  {
    /* Marathon's default: one dynamic port */
    JsonObject *o = json_object_new ();
    json_object_set_int_member (o, "port", 0);
    json_object_set_string_member (o, "protocol", "tcp");
    json_object_set_object_member (o, "labels", json_object_new ());
    json_array_add_object_element (out, o);
  }
  return out;
}

/* container {type, docker {image, network, portMappings, ...}, volumes} */
static JsonNode *
check_container (JsonNode *n, JsonArray *details)
{
  JsonObject *in, *docker_in, *out, *docker;
  JsonArray *mappings_in, *mappings;
  const char *type, *network;
  const char *networks[] = { "BRIDGE", "HOST", "USER", "NONE", NULL };

  if (is_null (n))
    return json_node_new (JSON_NODE_NULL);
  if (!JSON_NODE_HOLDS_OBJECT (n))
    {
      add_error (details, "/container", _("error.expected.jsobject"));
      return json_node_new (JSON_NODE_NULL);
    }
  in = json_node_get_object (n);
  type = get_string (in, "type") != NULL ? get_string (in, "type") : "DOCKER";
  if (!g_str_equal (type, "DOCKER") && !g_str_equal (type, "MESOS"))
    add_error (details, "/container/type", _("error.expected.validenumvalue"));
  docker_in = get_object (in, "docker");
  if (docker_in == NULL || get_string (docker_in, "image") == NULL || *get_string (docker_in, "image") == '\0')
    {
      add_error (details, "/container/docker/image", _("error.path.missing"));
      return json_node_new (JSON_NODE_NULL);
    }
  network = get_string (docker_in, "network") != NULL ? get_string (docker_in, "network") : "HOST";
  if (!g_strv_contains (networks, network))
    add_error (details, "/container/docker/network", _("error.expected.validenumvalue"));
  docker = json_object_new ();
  json_object_set_string_member (docker, "image", get_string (docker_in, "image"));
  json_object_set_string_member (docker, "network", network);
  mappings = json_array_new ();
  mappings_in = get_array (docker_in, "portMappings");
  if (mappings_in == NULL)
    mappings_in = get_array (in, "portMappings");
  for (guint i = 0; mappings_in != NULL && i < json_array_get_length (mappings_in); i++)
    {
      JsonNode *e = json_array_get_element (mappings_in, i);
      JsonObject *m, *pm;
      gdouble port;
      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          g_autofree char *path = g_strdup_printf ("/container/docker/portMappings(%u)", i);
          add_error (details, path, _("error.expected.jsobject"));
          continue;
        }
      m = json_node_get_object (e);
      port = get_number (m, "containerPort", 0);
      if (port < 0 || port > 65535)
        {
          g_autofree char *path = g_strdup_printf ("/container/docker/portMappings(%u)/containerPort", i);
          add_error (details, path, _("a port is between 0 and 65535"));
          continue;
        }
      pm = json_object_new ();
      json_object_set_int_member (pm, "containerPort", (gint64) port);
      json_object_set_int_member (pm, "hostPort", (gint64) get_number (m, "hostPort", 0));
      json_object_set_int_member (pm, "servicePort", (gint64) get_number (m, "servicePort", 0));
      json_object_set_string_member (pm, "protocol", get_string (m, "protocol") != NULL ? get_string (m, "protocol") : "tcp");
      if (get_string (m, "name") != NULL)
        json_object_set_string_member (pm, "name", get_string (m, "name"));
      json_array_add_object_element (mappings, pm);
    }
  json_object_set_array_member (docker, "portMappings", mappings);
  json_object_set_boolean_member (docker, "privileged", FALSE);
  json_object_set_array_member (docker, "parameters", json_array_new ());
  json_object_set_boolean_member (docker, "forcePullImage",
                                  json_object_get_boolean_member_with_default (docker_in, "forcePullImage", FALSE));
  out = json_object_new ();
  json_object_set_string_member (out, "type", type);
  json_object_set_object_member (out, "docker", docker);
  json_object_set_array_member (out, "volumes", json_array_new ());
  {
    JsonNode *node = json_node_init_object (json_node_alloc (), out);
    json_object_unref (out);
    return node;
  }
}

static JsonNode *
copy_or_null (JsonNode *n)
{
  return n != NULL ? json_node_copy (n) : json_node_new (JSON_NODE_NULL);
}

/* Validates @body (merged over @current for an update) and returns the
 * normalized definition, or NULL with Marathon's 422 @details. The version
 * fields are left for scheduler_app_set_version(). */
JsonObject *
scheduler_app_validate (JsonNode *body_node, JsonObject *current, const char *path_id, JsonArray **details_out)
{
  g_autoptr(JsonArray) details = json_array_new ();
  g_autoptr(JsonObject) def = json_object_new ();
  JsonObject *body;
  JsonNode *id_node, *cmd, *args, *container, *constraints;
  g_autofree char *id = NULL;
  JsonObject *strategy_in;
  JsonObject *strategy;
  gdouble v;

  *details_out = NULL;
  if (body_node == NULL || !JSON_NODE_HOLDS_OBJECT (body_node))
    {
      add_error (details, "/", _("error.expected.jsobject"));
      *details_out = g_steal_pointer (&details);
      return NULL;
    }
  body = json_node_get_object (body_node);

  id_node = member (body, current, "id");
  if (path_id != NULL)
    id = g_strdup (path_id);
  else if (is_string (id_node))
    id = scheduler_app_normalize_id (json_node_get_string (id_node), NULL);
  else if (!is_null (id_node))
    add_error (details, "/id", _("error.expected.jsstring"));
  else
    add_error (details, "/id", _("error.path.missing"));
  if (id != NULL && !scheduler_app_id_is_valid (id))
    add_error (details, "/id",
               _("must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'"));
  json_object_set_string_member (def, "id", id != NULL ? id : "");

  cmd = member (body, current, "cmd");
  args = member (body, current, "args");
  container = member (body, current, "container");
  if (json_object_has_member (body, "cmd") && !is_null (cmd) && !json_object_has_member (body, "args"))
    args = NULL;
  if (json_object_has_member (body, "args") && !is_null (args) && !json_object_has_member (body, "cmd"))
    cmd = NULL;
  if (!is_null (cmd) && !is_string (cmd))
    add_error (details, "/cmd", _("error.expected.jsstring"));
  if (!is_null (args))
    {
      if (!JSON_NODE_HOLDS_ARRAY (args))
        add_error (details, "/args", _("error.expected.jsarray"));
      else
        for (guint i = 0; i < json_array_get_length (json_node_get_array (args)); i++)
          if (!is_string (json_array_get_element (json_node_get_array (args), i)))
            {
              g_autofree char *path = g_strdup_printf ("/args(%u)", i);
              add_error (details, path, _("error.expected.jsstring"));
            }
    }
  if (!is_null (container) && !JSON_NODE_HOLDS_OBJECT (container))
    add_error (details, "/container", _("error.expected.jsobject"));
  if (!is_null (cmd) && !is_null (args))
    add_error (details, "/", _("AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."));
  else if (is_null (cmd) && is_null (args) && is_null (container))
    add_error (details, "/", _("AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."));
  else if (is_string (cmd) && *json_node_get_string (cmd) == '\0' && is_null (container))
    add_error (details, "/cmd", _("error.minLength"));
  json_object_set_member (def, "cmd", copy_or_null (is_string (cmd) ? cmd : NULL));
  json_object_set_member (def, "args", copy_or_null (!is_null (args) && JSON_NODE_HOLDS_ARRAY (args) ? args : NULL));
  json_object_set_member (def, "user", json_node_new (JSON_NODE_NULL));
  json_object_set_object_member (def, "env", check_string_map (body, current, "env", details));
  v = check_number (body, current, "instances", 1, 0, G_MAXINT32, TRUE, details);
  set_number (def, "instances", v, TRUE);
  set_number (def, "cpus", check_number (body, current, "cpus", 1, 0, 1e6, FALSE, details), FALSE);
  set_number (def, "mem", check_number (body, current, "mem", 128, 0, 1e12, FALSE, details), FALSE);
  set_number (def, "disk", check_number (body, current, "disk", 0, 0, 1e12, FALSE, details), FALSE);
  set_number (def, "gpus", check_number (body, current, "gpus", 0, 0, 0, TRUE, details), TRUE);
  json_object_set_string_member (def, "executor", "");
  constraints = member (body, current, "constraints");
  if (!is_null (constraints) && !JSON_NODE_HOLDS_ARRAY (constraints))
    add_error (details, "/constraints", _("error.expected.jsarray"));
  json_object_set_member (def, "constraints",
                          !is_null (constraints) && JSON_NODE_HOLDS_ARRAY (constraints)
                            ? json_node_copy (constraints) : empty_array_node ());
  json_object_set_array_member (def, "uris", json_array_new ());
  json_object_set_array_member (def, "fetch", json_array_new ());
  json_object_set_array_member (def, "storeUrls", json_array_new ());
  set_number (def, "backoffSeconds", check_number (body, current, "backoffSeconds", 1, 0, 1e9, FALSE, details), FALSE);
  set_number (def, "backoffFactor", check_number (body, current, "backoffFactor", 1.15, 1, 1e9, FALSE, details), FALSE);
  set_number (def, "maxLaunchDelaySeconds",
              check_number (body, current, "maxLaunchDelaySeconds", 3600, 0, 1e9, FALSE, details), FALSE);
  json_object_set_member (def, "container", check_container (container, details));
  json_object_set_array_member (def, "healthChecks", check_health_checks (body, current, details));
  json_object_set_array_member (def, "readinessChecks", json_array_new ());
  json_object_set_array_member (def, "dependencies", json_array_new ());
  strategy_in = NULL;
  {
    JsonNode *s = member (body, current, "upgradeStrategy");
    if (!is_null (s) && !JSON_NODE_HOLDS_OBJECT (s))
      add_error (details, "/upgradeStrategy", _("error.expected.jsobject"));
    else if (!is_null (s))
      strategy_in = json_node_get_object (s);
  }
  strategy = json_object_new ();
  {
    JsonNode *mh = strategy_in != NULL ? json_object_get_member (strategy_in, "minimumHealthCapacity") : NULL;
    JsonNode *mo = strategy_in != NULL ? json_object_get_member (strategy_in, "maximumOverCapacity") : NULL;
    gdouble h = 1, o = 1;
    if (!is_null (mh) && (!is_number (mh) || number_of (mh) < 0 || number_of (mh) > 1))
      add_error (details, "/upgradeStrategy/minimumHealthCapacity", _("is not between 0 and 1"));
    else if (!is_null (mh))
      h = number_of (mh);
    if (!is_null (mo) && (!is_number (mo) || number_of (mo) < 0 || number_of (mo) > 1))
      add_error (details, "/upgradeStrategy/maximumOverCapacity", _("is not between 0 and 1"));
    else if (!is_null (mo))
      o = number_of (mo);
    json_object_set_double_member (strategy, "minimumHealthCapacity", h);
    json_object_set_double_member (strategy, "maximumOverCapacity", o);
  }
  json_object_set_object_member (def, "upgradeStrategy", strategy);
  json_object_set_object_member (def, "labels", check_string_map (body, current, "labels", details));
  json_object_set_member (def, "ipAddress", json_node_new (JSON_NODE_NULL));
  json_object_set_string_member (def, "version", "");
  json_object_set_string_member (def, "killSelection", "YOUNGEST_FIRST");
  set_number (def, "taskKillGracePeriodSeconds",
              check_number (body, current, "taskKillGracePeriodSeconds", 3, 0, 86400, TRUE, details), TRUE);
  json_object_set_boolean_member (def, "requirePorts", FALSE);
  {
    g_autoptr(JsonArray) pds = check_port_definitions (body, current, details);
    JsonArray *ports = json_array_new ();
    for (guint i = 0; i < json_array_get_length (pds); i++)
      json_array_add_int_element (ports, json_object_get_int_member (json_array_get_object_element (pds, i), "port"));
    json_object_set_array_member (def, "ports", ports);
    json_object_set_array_member (def, "portDefinitions", json_array_ref (pds));
  }
  if (json_array_get_length (details) > 0)
    {
      *details_out = g_steal_pointer (&details);
      return NULL;
    }
  return g_steal_pointer (&def);
}

JsonObject *
scheduler_object_copy (JsonObject *obj)
{
  g_autofree char *text = scheduler_object_to_string (obj);
  g_autoptr(JsonNode) node = scheduler_json_parse (text);
  return json_object_ref (json_node_get_object (node));
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
