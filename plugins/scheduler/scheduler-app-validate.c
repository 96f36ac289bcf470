/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "scheduler-app.h"
#include "scheduler-app-extra.h"
#include "scheduler-constraints.h"
#include "scheduler-validate.h"

/* Validation of Marathon app definitions: every field is read with its
 * type checked (scheduler-validate.c) and within the limits of
 * [scheduler] (scheduler-limits.c); anything else is one more 422 detail.
 * The result is the normalized definition: every field Marathon emits,
 * in a fixed order, so that two definitions compare as text. The same
 * function validates what the API receives (POST, PUT, PATCH, groups) and
 * what is loaded from the store. */

typedef struct {
  JsonObject            *body;
  JsonObject            *current;   /* the stored definition an update merges over, or NULL */
  const SchedulerLimits *limits;
  JsonArray             *details;
} Check;

static const char * const port_protocols[] = { "tcp", "udp", "udp,tcp", "tcp,udp", NULL };

/* A member of the merged definition (body over current). */
static JsonNode *
member (Check *c, const char *name)
{
  if (json_object_has_member (c->body, name))
    return json_object_get_member (c->body, name);
  return c->current != NULL ? json_object_get_member (c->current, name) : NULL;
}

static JsonNode *
copy_or_null (JsonNode *n)
{
  return n != NULL ? json_node_copy (n) : json_node_new (JSON_NODE_NULL);
}

static gdouble
number (Check *c, const char *name, gdouble fallback, gdouble min, gdouble max, gboolean integer)
{
  g_autofree char *path = g_strconcat ("/", name, NULL);
  return scheduler_check_number_node (member (c, name), path, fallback, min, max, integer, c->details);
}

static void
set_number (JsonObject *obj, const char *name, gdouble v, gboolean integer)
{
  if (integer)
    json_object_set_int_member (obj, name, (gint64) v);
  else
    json_object_set_double_member (obj, name, v);
}

static const char *
one_of (JsonObject *obj, const char *prefix, const char *name, const char *fallback, const char * const *allowed,
        JsonArray *details)
{
  const char *v = scheduler_check_string (obj, prefix, name, fallback, 64, details);

  if (v != NULL && !g_strv_contains (allowed, v))
    {
      g_autofree char *path = g_strconcat (prefix, "/", name, NULL);
      scheduler_detail_add (details, path, _("error.expected.validenumvalue"));
      return fallback;
    }
  return v;
}

/* An object of string values (env, labels), with bounded sizes. */
static JsonObject *
check_string_map (Check *c, const char *name)
{
  JsonNode *n = member (c, name);
  JsonObject *out = json_object_new ();
  g_autofree char *path = g_strconcat ("/", name, NULL);
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (scheduler_json_is_null (n))
    return out;
  if (!JSON_NODE_HOLDS_OBJECT (n))
    {
      scheduler_detail_add (c->details, path, _("error.expected.jsobject"));
      return out;
    }
  if (json_object_get_size (json_node_get_object (n)) > c->limits->max_entries)
    {
      scheduler_detail_addf (c->details, path, _("error.maxSize: at most %u entries"), c->limits->max_entries);
      return out;
    }
  json_object_iter_init (&iter, json_node_get_object (n));
  while (json_object_iter_next (&iter, &key, &value))
    {
      g_autofree char *entry = g_strdup_printf ("/%s(%s)", name, key);
      const char *v;

      if (strlen (key) == 0 || strlen (key) > c->limits->max_key_bytes)
        {
          scheduler_detail_addf (c->details, entry, _("a name has 1 to %" G_GSIZE_FORMAT " bytes"),
                                 c->limits->max_key_bytes);
          continue;
        }
      if (!scheduler_json_is_string (value))
        {
          scheduler_detail_add (c->details, entry, _("error.expected.jsstring"));
          continue;
        }
      v = scheduler_check_string_node (value, entry, NULL, c->limits->max_value_bytes, c->details);
      if (v != NULL)
        json_object_set_string_member (out, key, v);
    }
  return out;
}

/* cmd (a string) or args (strings), together at most max_cmd_bytes. */
static void
check_command (Check *c, JsonObject *def, JsonNode **cmd_out, JsonNode **args_out)
{
  JsonNode *cmd = member (c, "cmd");
  JsonNode *args = member (c, "args");
  JsonNode *container = member (c, "container");
  const SchedulerLimits *limits = c->limits;
  gboolean bad = FALSE;

  /* an update that sets one of them drops the other */
  if (json_object_has_member (c->body, "cmd") && !scheduler_json_is_null (cmd) &&
      !json_object_has_member (c->body, "args"))
    args = NULL;
  if (json_object_has_member (c->body, "args") && !scheduler_json_is_null (args) &&
      !json_object_has_member (c->body, "cmd"))
    cmd = NULL;
  if (!scheduler_json_is_null (cmd) &&
      scheduler_check_string_node (cmd, "/cmd", NULL, limits->max_cmd_bytes, c->details) == NULL)
    {
      cmd = NULL;
      bad = TRUE;
    }
  if (!scheduler_json_is_null (args))
    {
      gsize total = 0;
      gboolean ok = TRUE;

      if (!JSON_NODE_HOLDS_ARRAY (args))
        {
          scheduler_detail_add (c->details, "/args", _("error.expected.jsarray"));
          ok = FALSE;
        }
      else if (json_array_get_length (json_node_get_array (args)) > limits->max_args)
        {
          scheduler_detail_addf (c->details, "/args", _("error.maxSize: at most %u elements"), limits->max_args);
          ok = FALSE;
        }
      else
        for (guint i = 0; i < json_array_get_length (json_node_get_array (args)); i++)
          {
            JsonNode *e = json_array_get_element (json_node_get_array (args), i);
            if (!scheduler_json_is_string (e))
              {
                g_autofree char *path = g_strdup_printf ("/args(%u)", i);
                scheduler_detail_add (c->details, path, _("error.expected.jsstring"));
                ok = FALSE;
                continue;
              }
            total += strlen (json_node_get_string (e)) + 1;
          }
      if (ok && total > limits->max_cmd_bytes)
        {
          scheduler_detail_addf (c->details, "/args", _("error.maxLength: at most %" G_GSIZE_FORMAT " bytes"),
                                 limits->max_cmd_bytes);
          ok = FALSE;
        }
      if (!ok)
        {
          args = NULL;
          bad = TRUE;
        }
    }
  if (!scheduler_json_is_null (cmd) && !scheduler_json_is_null (args))
    scheduler_detail_add (c->details, "/",
                          _("AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."));
  else if (scheduler_json_is_null (cmd) && scheduler_json_is_null (args) && scheduler_json_is_null (container) && !bad)
    scheduler_detail_add (c->details, "/",
                          _("AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."));
  else if (scheduler_json_is_string (cmd) && *json_node_get_string (cmd) == '\0' &&
           scheduler_json_is_null (container))
    scheduler_detail_add (c->details, "/cmd", _("error.minLength"));
  json_object_set_member (def, "cmd", copy_or_null (scheduler_json_is_string (cmd) ? cmd : NULL));
  json_object_set_member (def, "args", copy_or_null (!scheduler_json_is_null (args) ? args : NULL));
  *cmd_out = cmd;
  *args_out = args;
}

static JsonObject *
port_object (gdouble port, const char *protocol, const char *name)
{
  JsonObject *o = json_object_new ();
  json_object_set_int_member (o, "port", (gint64) port);
  json_object_set_string_member (o, "protocol", protocol);
  if (name != NULL)
    json_object_set_string_member (o, "name", name);
  json_object_set_object_member (o, "labels", json_object_new ());
  return o;
}

/* portDefinitions (or the legacy `ports`): how many host ports a task gets. */
static JsonArray *
check_port_definitions (Check *c)
{
  JsonNode *pd = json_object_get_member (c->body, "portDefinitions");
  JsonNode *ports = json_object_get_member (c->body, "ports");
  JsonArray *out = json_array_new ();
  guint max = c->limits->max_entries;

  if (scheduler_json_is_null (pd) && scheduler_json_is_null (ports) && c->current != NULL)
    pd = json_object_get_member (c->current, "portDefinitions");
  if (!scheduler_json_is_null (pd))
    {
      if (!JSON_NODE_HOLDS_ARRAY (pd))
        scheduler_detail_add (c->details, "/portDefinitions", _("error.expected.jsarray"));
      else if (json_array_get_length (json_node_get_array (pd)) > max)
        scheduler_detail_addf (c->details, "/portDefinitions", _("error.maxSize: at most %u elements"), max);
      else
        for (guint i = 0; i < json_array_get_length (json_node_get_array (pd)); i++)
          {
            JsonNode *e = json_array_get_element (json_node_get_array (pd), i);
            g_autofree char *path = g_strdup_printf ("/portDefinitions(%u)", i);
            guint before = json_array_get_length (c->details);
            JsonObject *o;
            gdouble port;
            const char *protocol, *name;

            if (!JSON_NODE_HOLDS_OBJECT (e))
              {
                scheduler_detail_add (c->details, path, _("error.expected.jsobject"));
                continue;
              }
            o = json_node_get_object (e);
            port = scheduler_check_number (o, path, "port", 0, 0, 65535, TRUE, c->details);
            protocol = one_of (o, path, "protocol", "tcp", port_protocols, c->details);
            name = scheduler_check_string (o, path, "name", NULL, c->limits->max_key_bytes, c->details);
            scheduler_check_object (o, path, "labels", c->details);
            if (json_array_get_length (c->details) == before)
              json_array_add_object_element (out, port_object (port, protocol, name));
          }
      return out;
    }
  if (!scheduler_json_is_null (ports))
    {
      if (!JSON_NODE_HOLDS_ARRAY (ports))
        scheduler_detail_add (c->details, "/ports", _("error.expected.jsarray"));
      else if (json_array_get_length (json_node_get_array (ports)) > max)
        scheduler_detail_addf (c->details, "/ports", _("error.maxSize: at most %u elements"), max);
      else
        for (guint i = 0; i < json_array_get_length (json_node_get_array (ports)); i++)
          {
            g_autofree char *path = g_strdup_printf ("/ports(%u)", i);
            guint before = json_array_get_length (c->details);
            gdouble port = scheduler_check_number_node (json_array_get_element (json_node_get_array (ports), i), path,
                                                        -1, 0, 65535, TRUE, c->details);
            if (json_array_get_length (c->details) == before && port >= 0)
              json_array_add_object_element (out, port_object (port, "tcp", NULL));
            else if (json_array_get_length (c->details) == before)
              scheduler_detail_add (c->details, path, _("error.expected.jsnumber"));
          }
      return out;
    }
  /* Marathon's default: one dynamic port */
  json_array_add_object_element (out, port_object (0, "tcp", NULL));
  return out;
}

static JsonArray *
check_port_mappings (Check *c, JsonObject *container, JsonObject *docker)
{
  const char *prefix = "/container/docker";
  JsonArray *in = scheduler_check_array (docker, prefix, "portMappings", c->limits->max_entries, c->details);
  JsonArray *out = json_array_new ();

  if (in == NULL && !json_object_has_member (docker, "portMappings"))
    {
      prefix = "/container";
      in = scheduler_check_array (container, prefix, "portMappings", c->limits->max_entries, c->details);
    }
  for (guint i = 0; in != NULL && i < json_array_get_length (in); i++)
    {
      JsonNode *e = json_array_get_element (in, i);
      g_autofree char *path = g_strdup_printf ("%s/portMappings(%u)", prefix, i);
      guint before = json_array_get_length (c->details);
      JsonObject *m, *pm;
      gdouble container_port, host_port, service_port;
      const char *protocol, *name;

      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          scheduler_detail_add (c->details, path, _("error.expected.jsobject"));
          continue;
        }
      m = json_node_get_object (e);
      container_port = scheduler_check_number (m, path, "containerPort", 0, 0, 65535, TRUE, c->details);
      host_port = scheduler_check_number (m, path, "hostPort", 0, 0, 65535, TRUE, c->details);
      service_port = scheduler_check_number (m, path, "servicePort", 0, 0, 65535, TRUE, c->details);
      protocol = one_of (m, path, "protocol", "tcp", port_protocols, c->details);
      name = scheduler_check_string (m, path, "name", NULL, c->limits->max_key_bytes, c->details);
      if (json_array_get_length (c->details) != before)
        continue;
      pm = json_object_new ();
      json_object_set_int_member (pm, "containerPort", (gint64) container_port);
      json_object_set_int_member (pm, "hostPort", (gint64) host_port);
      json_object_set_int_member (pm, "servicePort", (gint64) service_port);
      json_object_set_string_member (pm, "protocol", protocol);
      if (name != NULL)
        json_object_set_string_member (pm, "name", name);
      json_array_add_object_element (out, pm);
    }
  return out;
}

/* container {type, docker {image, network, portMappings, ...}, volumes} */
static JsonNode *
check_container (Check *c, guint *n_mapped)
{
  static const char * const types[] = { "DOCKER", "MESOS", NULL };
  static const char * const networks[] = { "BRIDGE", "HOST", "USER", "NONE", NULL };
  JsonNode *n = member (c, "container");
  JsonObject *in, *docker_in, *out, *docker;
  const char *type, *image, *network;
  guint before = json_array_get_length (c->details);
  JsonNode *node;

  *n_mapped = G_MAXUINT;
  if (scheduler_json_is_null (n))
    return json_node_new (JSON_NODE_NULL);
  if (!JSON_NODE_HOLDS_OBJECT (n))
    {
      scheduler_detail_add (c->details, "/container", _("error.expected.jsobject"));
      return json_node_new (JSON_NODE_NULL);
    }
  in = json_node_get_object (n);
  type = one_of (in, "/container", "type", "DOCKER", types, c->details);
  docker_in = scheduler_check_object (in, "/container", "docker", c->details);
  image = scheduler_check_string (docker_in, "/container/docker", "image", NULL, c->limits->max_value_bytes,
                                  c->details);
  if (json_array_get_length (c->details) != before)
    return json_node_new (JSON_NODE_NULL);
  if (image == NULL || *image == '\0')
    {
      scheduler_detail_add (c->details, "/container/docker/image", _("error.path.missing"));
      return json_node_new (JSON_NODE_NULL);
    }
  network = one_of (docker_in, "/container/docker", "network", "HOST", networks, c->details);
  docker = json_object_new ();
  json_object_set_string_member (docker, "image", image);
  json_object_set_string_member (docker, "network", network);
  json_object_set_array_member (docker, "portMappings", check_port_mappings (c, in, docker_in));
  if (g_str_equal (network, "BRIDGE"))
    *n_mapped = json_array_get_length (json_object_get_array_member (docker, "portMappings"));
  json_object_set_boolean_member (docker, "privileged", FALSE);
  json_object_set_array_member (docker, "parameters", json_array_new ());
  json_object_set_boolean_member (docker, "forcePullImage",
                                  scheduler_check_boolean (docker_in, "/container/docker", "forcePullImage", FALSE,
                                                           c->details));
  out = json_object_new ();
  json_object_set_string_member (out, "type", type);
  json_object_set_object_member (out, "docker", docker);
  json_object_set_array_member (out, "volumes", json_array_new ());
  node = json_node_init_object (json_node_alloc (), out);
  json_object_unref (out);
  return node;
}

/* Health checks, with every value in range; @n_ports is how many host
 * ports a task of the app gets (what portIndex may address). */
static JsonArray *
check_health_checks (Check *c, guint n_ports)
{
  static const char * const protocols[] = { "HTTP", "HTTPS", "TCP", "COMMAND", "MESOS_HTTP", "MESOS_HTTPS",
                                             "MESOS_TCP", "MESOS_COMMAND", NULL };
  JsonNode *n = member (c, "healthChecks");
  JsonArray *out = json_array_new ();
  JsonArray *in;

  if (scheduler_json_is_null (n))
    return out;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    {
      scheduler_detail_add (c->details, "/healthChecks", _("error.expected.jsarray"));
      return out;
    }
  in = json_node_get_array (n);
  if (json_array_get_length (in) > c->limits->max_entries)
    {
      scheduler_detail_addf (c->details, "/healthChecks", _("error.maxSize: at most %u elements"),
                             c->limits->max_entries);
      return out;
    }
  for (guint i = 0; i < json_array_get_length (in); i++)
    {
      JsonNode *e = json_array_get_element (in, i);
      g_autofree char *path = g_strdup_printf ("/healthChecks(%u)", i);
      guint before = json_array_get_length (c->details);
      JsonObject *hc, *o, *command;
      const char *protocol, *value = NULL, *http_path = "/";
      gdouble grace, interval, timeout, failures, port_index = 0;
      gboolean ignore_1xx = FALSE;

      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          scheduler_detail_add (c->details, path, _("error.expected.jsobject"));
          continue;
        }
      hc = json_node_get_object (e);
      protocol = one_of (hc, path, "protocol", "HTTP", protocols, c->details);
      grace = scheduler_check_number (hc, path, "gracePeriodSeconds", 300, 0, 86400, TRUE, c->details);
      interval = scheduler_check_number (hc, path, "intervalSeconds", 60, 1, 86400, TRUE, c->details);
      timeout = scheduler_check_number (hc, path, "timeoutSeconds", 20, 1, 86400, TRUE, c->details);
      failures = scheduler_check_number (hc, path, "maxConsecutiveFailures", 3, 0, 1000000, TRUE, c->details);
      if (g_str_has_suffix (protocol, "COMMAND"))
        {
          g_autofree char *cpath = g_strconcat (path, "/command", NULL);
          command = scheduler_check_object (hc, path, "command", c->details);
          value = scheduler_check_string (command, cpath, "value", NULL, c->limits->max_cmd_bytes, c->details);
          if (value == NULL && json_array_get_length (c->details) == before)
            scheduler_detail_add (c->details, cpath, _("a COMMAND health check needs a command"));
        }
      else
        {
          port_index = scheduler_check_number (hc, path, "portIndex", 0, 0, 65535, TRUE, c->details);
          if (json_array_get_length (c->details) == before && port_index >= n_ports)
            {
              g_autofree char *ppath = g_strconcat (path, "/portIndex", NULL);
              scheduler_detail_add (c->details, ppath,
                                    _("Health check port indices must address an element of the ports array or "
                                      "container port mappings."));
            }
          http_path = scheduler_check_string (hc, path, "path", "/", c->limits->max_value_bytes, c->details);
          ignore_1xx = scheduler_check_boolean (hc, path, "ignoreHttp1xx", FALSE, c->details);
        }
      if (json_array_get_length (c->details) != before)
        continue;
      o = json_object_new ();
      json_object_set_int_member (o, "gracePeriodSeconds", (gint64) grace);
      json_object_set_int_member (o, "intervalSeconds", (gint64) interval);
      json_object_set_int_member (o, "maxConsecutiveFailures", (gint64) failures);
      json_object_set_int_member (o, "timeoutSeconds", (gint64) timeout);
      json_object_set_string_member (o, "protocol", protocol);
      if (g_str_has_suffix (protocol, "COMMAND"))
        {
          JsonObject *cmd = json_object_new ();
          json_object_set_string_member (cmd, "value", value);
          json_object_set_object_member (o, "command", cmd);
        }
      else
        {
          json_object_set_int_member (o, "portIndex", (gint64) port_index);
          if (g_str_has_suffix (protocol, "HTTP") || g_str_has_suffix (protocol, "HTTPS"))
            {
              json_object_set_string_member (o, "path", http_path);
              json_object_set_boolean_member (o, "ignoreHttp1xx", ignore_1xx);
            }
        }
      json_array_add_object_element (out, o);
    }
  return out;
}

static JsonObject *
check_upgrade_strategy (Check *c)
{
  JsonNode *s = member (c, "upgradeStrategy");
  JsonObject *in = NULL;
  JsonObject *strategy = json_object_new ();

  if (!scheduler_json_is_null (s) && !JSON_NODE_HOLDS_OBJECT (s))
    scheduler_detail_add (c->details, "/upgradeStrategy", _("error.expected.jsobject"));
  else if (!scheduler_json_is_null (s))
    in = json_node_get_object (s);
  json_object_set_double_member (strategy, "minimumHealthCapacity",
                                 scheduler_check_number (in, "/upgradeStrategy", "minimumHealthCapacity", 1, 0, 1,
                                                         FALSE, c->details));
  json_object_set_double_member (strategy, "maximumOverCapacity",
                                 scheduler_check_number (in, "/upgradeStrategy", "maximumOverCapacity", 1, 0, 1,
                                                         FALSE, c->details));
  return strategy;
}

static char *
check_id (Check *c, const char *path_id)
{
  JsonNode *id_node = member (c, "id");
  char *id = NULL;

  if (path_id != NULL)
    id = g_strdup (path_id);
  else if (scheduler_json_is_string (id_node))
    id = scheduler_app_normalize_id (json_node_get_string (id_node), NULL);
  else if (!scheduler_json_is_null (id_node))
    scheduler_detail_add (c->details, "/id", _("error.expected.jsstring"));
  else
    scheduler_detail_add (c->details, "/id", _("error.path.missing"));
  if (id != NULL && !scheduler_app_id_is_valid (id))
    {
      scheduler_detail_add (c->details, "/id",
                            _("must fully match regular expression "
                              "'^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'"));
      g_clear_pointer (&id, g_free);
    }
  return id;
}

/* Validates @body (merged over @current for an update) and returns the
 * normalized definition, or NULL with Marathon's 422 @details. The version
 * fields are left for scheduler_app_set_version(). */
JsonObject *
scheduler_app_validate (JsonNode *body_node, JsonObject *current, const char *path_id,
                        const SchedulerLimits *limits, JsonArray **details_out)
{
  g_autoptr(JsonArray) details = json_array_new ();
  g_autoptr(JsonObject) def = json_object_new ();
  g_autoptr(JsonArray) pds = NULL;
  g_autofree char *id = NULL;
  Check c = { NULL, current, limits, details };
  JsonNode *cmd, *args, *container;
  JsonArray *ports;
  guint n_mapped;

  *details_out = NULL;
  if (body_node == NULL || !JSON_NODE_HOLDS_OBJECT (body_node))
    {
      scheduler_detail_add (details, "/", _("error.expected.jsobject"));
      *details_out = g_steal_pointer (&details);
      return NULL;
    }
  c.body = json_node_get_object (body_node);

  id = check_id (&c, path_id);
  json_object_set_string_member (def, "id", id != NULL ? id : "");
  check_command (&c, def, &cmd, &args);
  json_object_set_member (def, "user", json_node_new (JSON_NODE_NULL));
  json_object_set_object_member (def, "env", check_string_map (&c, "env"));
  set_number (def, "instances", number (&c, "instances", 1, 0, G_MAXINT32, TRUE), TRUE);
  set_number (def, "cpus", number (&c, "cpus", 1, limits->min_cpus, 1e6, FALSE), FALSE);
  set_number (def, "mem", number (&c, "mem", 128, limits->min_mem_mb, 1e12, FALSE), FALSE);
  set_number (def, "disk", number (&c, "disk", 0, 0, 1e12, FALSE), FALSE);
  set_number (def, "gpus", number (&c, "gpus", 0, 0, 0, TRUE), TRUE);
  json_object_set_string_member (def, "executor", "");
  json_object_set_array_member (def, "constraints",
                                scheduler_constraints_check (member (&c, "constraints"), limits->max_entries,
                                                             limits->max_value_bytes, details));
  json_object_set_array_member (def, "uris", json_array_new ());
  json_object_set_array_member (def, "fetch", json_array_new ());
  json_object_set_array_member (def, "storeUrls", json_array_new ());
  set_number (def, "backoffSeconds", number (&c, "backoffSeconds", 1, 0, 1e9, FALSE), FALSE);
  set_number (def, "backoffFactor", number (&c, "backoffFactor", 1.15, 1, 1e9, FALSE), FALSE);
  set_number (def, "maxLaunchDelaySeconds", number (&c, "maxLaunchDelaySeconds", 3600, 0, 1e9, FALSE), FALSE);
  container = check_container (&c, &n_mapped);
  json_object_set_member (def, "container", container);
  pds = check_port_definitions (&c);
  json_object_set_array_member (def, "healthChecks",
                                check_health_checks (&c, n_mapped != G_MAXUINT ? n_mapped
                                                                                : json_array_get_length (pds)));
  json_object_set_array_member (def, "readinessChecks", json_array_new ());
  json_object_set_array_member (def, "dependencies", json_array_new ());
  json_object_set_object_member (def, "upgradeStrategy", check_upgrade_strategy (&c));
  json_object_set_object_member (def, "labels", check_string_map (&c, "labels"));
  json_object_set_member (def, "ipAddress", json_node_new (JSON_NODE_NULL));
  json_object_set_string_member (def, "version", "");
  json_object_set_string_member (def, "killSelection",
                                 scheduler_app_check_kill_selection (member (&c, "killSelection"), details));
  json_object_set_member (def, "unreachableStrategy",
                          scheduler_app_check_unreachable (member (&c, "unreachableStrategy"), details));
  set_number (def, "taskKillGracePeriodSeconds", number (&c, "taskKillGracePeriodSeconds", 3, 0, 86400, TRUE),
              TRUE);
  json_object_set_boolean_member (def, "requirePorts", FALSE);
  ports = json_array_new ();
  for (guint i = 0; i < json_array_get_length (pds); i++)
    json_array_add_int_element (ports, json_object_get_int_member (json_array_get_object_element (pds, i), "port"));
  json_object_set_array_member (def, "ports", ports);
  json_object_set_array_member (def, "portDefinitions", json_array_ref (pds));
  json_object_set_array_member (def, "readinessChecks",
                                scheduler_app_check_readiness (member (&c, "readinessChecks"), def, limits, details));
  scheduler_app_check_residency (json_object_get_member (c.body, "residency"), member (&c, "container"), details);
  if (json_array_get_length (details) > 0)
    {
      *details_out = g_steal_pointer (&details);
      return NULL;
    }
  return g_steal_pointer (&def);
}

/* Whether a stored definition still passes the validation; NULL when it
 * does, else the reason (the first details). */
char *
scheduler_app_check_stored (JsonObject *def, const SchedulerLimits *limits)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), def);
  g_autoptr(JsonArray) details = NULL;
  g_autoptr(JsonObject) normalized = scheduler_app_validate (node, NULL, NULL, limits, &details);
  g_autoptr(GString) reason = NULL;

  if (normalized != NULL)
    return NULL;
  reason = g_string_new (NULL);
  for (guint i = 0; i < json_array_get_length (details) && i < 5; i++)
    {
      JsonObject *d = json_array_get_object_element (details, i);
      JsonArray *errors = json_object_get_array_member (d, "errors");
      g_string_append_printf (reason, "%s%s: %s", i > 0 ? "; " : "", json_object_get_string_member (d, "path"),
                              json_array_get_string_element (errors, 0));
    }
  return g_string_free (g_steal_pointer (&reason), FALSE);
}
