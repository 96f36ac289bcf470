/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "runtime-docker.h"
#include "runtime-util.h"

/* The Docker Engine API's container shapes, for BerthRuntime's callers
 * (the task executor, a Docker front door, D-Bus), against Berth's own
 * (image, name, cmd, entrypoint, env, workdir, user, memory, cpus,
 * network, ports, read_only, auto_remove, labels). */

static gboolean
copy_strings (JsonObject *from, const char *name, JsonObject *to, const char *to_name, GError **error)
{
  JsonNode *n = json_object_get_member (from, name);

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    {
      /* Docker takes a string for Cmd and Entrypoint too */
      json_object_set_member (to, to_name, json_node_copy (n));
      return TRUE;
    }
  if (JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
            goto bad;
        }
      json_object_set_member (to, to_name, json_node_copy (n));
      return TRUE;
    }
bad:
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("“%s” must be a list of strings"), name);
  return FALSE;
}

static gboolean
copy_string (JsonObject *from, const char *name, JsonObject *to, const char *to_name, GError **error)
{
  JsonNode *n = json_object_get_member (from, name);

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("“%s” must be a string"), name);
      return FALSE;
    }
  if (*json_node_get_string (n) != '\0')
    json_object_set_string_member (to, to_name, json_node_get_string (n));
  return TRUE;
}

/* "8080/tcp": [{"HostIp": "", "HostPort": "80"}] */
static gboolean
ports_of (JsonObject *bindings, JsonArray *ports, GError **error)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  json_object_iter_init (&iter, bindings);
  while (json_object_iter_next (&iter, &key, &value))
    {
      char *end;
      gint64 container = g_ascii_strtoll (key, &end, 10);
      const char *proto = *end == '/' ? end + 1 : "tcp";
      JsonArray *list = JSON_NODE_HOLDS_ARRAY (value) ? json_node_get_array (value) : NULL;

      if (end == key || (*end != '\0' && *end != '/') || container <= 0 || container > 65535 ||
          (g_strcmp0 (proto, "tcp") != 0 && g_strcmp0 (proto, "udp") != 0))
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Invalid port “%s”"), key);
          return FALSE;
        }
      for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
        {
          JsonNode *b = json_array_get_element (list, i);
          const char *hp = JSON_NODE_HOLDS_OBJECT (b) ? runtime_json_get_string (json_node_get_object (b), "HostPort")
                                                      : NULL;
          gint64 host = hp != NULL ? g_ascii_strtoll (hp, &end, 10) : 0;
          JsonObject *p;

          if (hp == NULL || *end != '\0' || host <= 0 || host > 65535)
            {
              g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Invalid host port for “%s”"), key);
              return FALSE;
            }
          p = json_object_new ();
          json_object_set_int_member (p, "host", host);
          json_object_set_int_member (p, "container", container);
          json_object_set_string_member (p, "protocol", proto);
          json_array_add_object_element (ports, p);
        }
    }
  return TRUE;
}

JsonObject *
runtime_docker_to_spec (JsonObject *create, GError **error)
{
  g_autoptr(JsonObject) spec = json_object_new ();
  JsonObject *host = runtime_json_get_object (create, "HostConfig");
  JsonObject *labels = runtime_json_get_object (create, "Labels");
  JsonNode *env = json_object_get_member (create, "Env");

  if (runtime_json_get_string (create, "Image") == NULL)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Missing “Image”"));
      return NULL;
    }
  if (env != NULL && !JSON_NODE_HOLDS_ARRAY (env) && !JSON_NODE_HOLDS_NULL (env))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("“%s” must be a list of strings"), "Env");
      return NULL;
    }
  if (!copy_string (create, "Image", spec, "image", error) || !copy_string (create, "Name", spec, "name", error) ||
      !copy_strings (create, "Cmd", spec, "cmd", error) ||
      !copy_strings (create, "Entrypoint", spec, "entrypoint", error) ||
      !copy_strings (create, "Env", spec, "env", error) ||
      !copy_string (create, "WorkingDir", spec, "workdir", error) ||
      !copy_string (create, "User", spec, "user", error))
    return NULL;
  if (labels != NULL)
    json_object_set_object_member (spec, "labels", json_object_ref (labels));
  if (host != NULL)
    {
      gint64 memory = json_object_get_int_member_with_default (host, "Memory", 0);
      gint64 nano = json_object_get_int_member_with_default (host, "NanoCpus", 0);
      const char *mode = runtime_json_get_string (host, "NetworkMode");
      JsonObject *bindings = runtime_json_get_object (host, "PortBindings");

      if (memory < 0 || nano < 0)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Negative resource limits"));
          return NULL;
        }
      if (memory > 0)
        json_object_set_int_member (spec, "memory", memory);
      if (nano > 0)
        json_object_set_double_member (spec, "cpus", (gdouble) nano / 1e9);
      if (mode != NULL && *mode != '\0')
        json_object_set_string_member (spec, "network", g_str_equal (mode, "default") ? "bridge" : mode);
      if (json_object_get_boolean_member_with_default (host, "AutoRemove", FALSE))
        json_object_set_boolean_member (spec, "auto_remove", TRUE);
      if (json_object_get_boolean_member_with_default (host, "ReadonlyRootfs", FALSE))
        json_object_set_boolean_member (spec, "read_only", TRUE);
      if (bindings != NULL)
        {
          JsonArray *ports = json_array_new ();
          json_object_set_array_member (spec, "ports", ports);
          if (!ports_of (bindings, ports, error))
            return NULL;
        }
    }
  return g_steal_pointer (&spec);
}

static void
set_member_or (JsonObject *to, const char *name, JsonObject *from, const char *from_name)
{
  JsonNode *n = from != NULL ? json_object_get_member (from, from_name) : NULL;

  if (n != NULL)
    json_object_set_member (to, name, json_node_copy (n));
  else
    json_object_set_null_member (to, name);
}

static const char *
time_or_zero (JsonObject *o, const char *name)
{
  const char *t = runtime_json_get_string (o, name);
  return t != NULL ? t : "0001-01-01T00:00:00Z";
}

JsonObject *
runtime_docker_inspection (JsonObject *berth)
{
  JsonObject *o = json_object_new ();
  JsonObject *spec = runtime_json_get_object (berth, "Spec");
  JsonObject *config = json_object_new ();
  JsonObject *state = json_object_new ();
  JsonObject *host = json_object_new ();
  JsonObject *net = json_object_new ();
  JsonObject *port_map = json_object_new ();
  JsonArray *ports = runtime_json_get_array (berth, "Ports");
  const char *status = runtime_json_get_string (berth, "State");
  const char *name = runtime_json_get_string (berth, "Name");
  g_autofree char *slash_name = g_strconcat ("/", name != NULL ? name : "", NULL);
  JsonNode *code = json_object_get_member (berth, "ExitCode");

  json_object_set_string_member (o, "Id", runtime_json_get_string (berth, "Id"));
  json_object_set_string_member (o, "Name", slash_name);
  set_member_or (o, "Image", berth, "ImageId");
  json_object_set_string_member (o, "Created", time_or_zero (berth, "Created"));

  set_member_or (config, "Image", berth, "Image");
  set_member_or (config, "Cmd", spec, "cmd");
  set_member_or (config, "Entrypoint", spec, "entrypoint");
  set_member_or (config, "Env", spec, "env");
  set_member_or (config, "WorkingDir", spec, "workdir");
  set_member_or (config, "User", spec, "user");
  set_member_or (config, "Labels", spec, "labels");
  json_object_set_object_member (o, "Config", config);

  json_object_set_string_member (state, "Status", g_strcmp0 (status, "creating") == 0 ? "created"
                                                  : status != NULL ? status : "dead");
  json_object_set_boolean_member (state, "Running", g_strcmp0 (status, "running") == 0);
  json_object_set_boolean_member (state, "Paused", FALSE);
  json_object_set_boolean_member (state, "Dead", FALSE);
  json_object_set_int_member (state, "Pid", json_object_get_int_member_with_default (berth, "Pid", 0));
  json_object_set_int_member (state, "ExitCode",
                              code != NULL && JSON_NODE_HOLDS_VALUE (code) ? json_node_get_int (code) : 0);
  json_object_set_boolean_member (state, "OOMKilled",
                                  json_object_get_boolean_member_with_default (berth, "OOMKilled", FALSE));
  json_object_set_string_member (state, "Error", "");
  json_object_set_string_member (state, "StartedAt", time_or_zero (berth, "StartedAt"));
  json_object_set_string_member (state, "FinishedAt", time_or_zero (berth, "FinishedAt"));
  json_object_set_object_member (o, "State", state);

  json_object_set_int_member (host, "Memory", spec != NULL ? json_object_get_int_member_with_default (spec, "memory", 0) : 0);
  json_object_set_int_member (host, "NanoCpus",
                              spec != NULL ? (gint64) (json_object_get_double_member_with_default (spec, "cpus", 0) * 1e9)
                                           : 0);
  set_member_or (host, "NetworkMode", berth, "Network");
  json_object_set_boolean_member (host, "AutoRemove", spec != NULL &&
                                  json_object_get_boolean_member_with_default (spec, "auto_remove", FALSE));
  json_object_set_object_member (o, "HostConfig", host);

  for (guint i = 0; ports != NULL && i < json_array_get_length (ports); i++)
    {
      JsonNode *pn = json_array_get_element (ports, i);
      JsonObject *p = JSON_NODE_HOLDS_OBJECT (pn) ? json_node_get_object (pn) : NULL;
      const char *proto = runtime_json_get_string (p, "protocol");
      g_autofree char *key = NULL;
      g_autofree char *hp = NULL;
      JsonArray *list;
      JsonObject *b;

      if (p == NULL)
        continue;
      key = g_strdup_printf ("%" G_GINT64_FORMAT "/%s", json_object_get_int_member_with_default (p, "container", 0),
                             proto != NULL ? proto : "tcp");
      hp = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member_with_default (p, "host", 0));
      list = runtime_json_get_array (port_map, key);
      if (list == NULL)
        {
          list = json_array_new ();
          json_object_set_array_member (port_map, key, list);
        }
      b = json_object_new ();
      json_object_set_string_member (b, "HostIp", "0.0.0.0");
      json_object_set_string_member (b, "HostPort", hp);
      json_array_add_object_element (list, b);
    }
  {
    const char *address = runtime_json_get_string (berth, "Address");
    json_object_set_string_member (net, "IPAddress", address != NULL ? address : "");
  }
  json_object_set_object_member (net, "Ports", port_map);
  json_object_set_object_member (o, "NetworkSettings", net);
  return o;
}
