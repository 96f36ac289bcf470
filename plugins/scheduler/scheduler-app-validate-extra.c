/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "scheduler-app-extra.h"
#include "scheduler-apps.h"
#include "scheduler-validate.h"

/* The checks of an app definition beyond its fields' types and ranges
 * (scheduler-app-validate.c): how its tasks are replaced and killed
 * (readinessChecks, killSelection, unreachableStrategy), what Berth
 * refuses (resident tasks, persistent volumes, command health checks on
 * the host without enable_script_checks). */

/* killSelection: Marathon takes YoungestFirst/OldestFirst and shows
 * YOUNGEST_FIRST/OLDEST_FIRST; both spellings are read. */
const char *
scheduler_app_check_kill_selection (JsonNode *n, JsonArray *details)
{
  const char *v;

  if (scheduler_json_is_null (n))
    return "YOUNGEST_FIRST";
  if (!scheduler_json_is_string (n))
    {
      scheduler_detail_add (details, "/killSelection", _("error.expected.jsstring"));
      return "YOUNGEST_FIRST";
    }
  v = json_node_get_string (n);
  if (g_str_equal (v, "YoungestFirst") || g_str_equal (v, "YOUNGEST_FIRST"))
    return "YOUNGEST_FIRST";
  if (g_str_equal (v, "OldestFirst") || g_str_equal (v, "OLDEST_FIRST"))
    return "OLDEST_FIRST";
  scheduler_detail_add (details, "/killSelection",
                        _("error.expected.validenumvalue: YoungestFirst or OldestFirst"));
  return "YOUNGEST_FIRST";
}

SchedulerKillSelection
scheduler_app_kill_selection (JsonObject *def)
{
  const char *v = json_object_get_string_member_with_default (def, "killSelection", "YOUNGEST_FIRST");

  return g_strcmp0 (v, "OLDEST_FIRST") == 0 ? SCHEDULER_KILL_OLDEST_FIRST : SCHEDULER_KILL_YOUNGEST_FIRST;
}

/* unreachableStrategy: "disabled" or {inactiveAfterSeconds,
 * expungeAfterSeconds}; stored and shown. Berth's nodes report their
 * tasks themselves, so it changes nothing in how tasks are replaced. */
JsonNode *
scheduler_app_check_unreachable (JsonNode *n, JsonArray *details)
{
  g_autoptr(JsonObject) out = json_object_new ();
  JsonObject *in = NULL;
  gdouble inactive, expunge;

  if (scheduler_json_is_string (n) && g_str_equal (json_node_get_string (n), "disabled"))
    return json_node_init_string (json_node_alloc (), "disabled");
  if (!scheduler_json_is_null (n) && !JSON_NODE_HOLDS_OBJECT (n))
    scheduler_detail_add (details, "/unreachableStrategy", _("error.expected.jsobject or \"disabled\""));
  else if (!scheduler_json_is_null (n))
    in = json_node_get_object (n);
  inactive = scheduler_check_number (in, "/unreachableStrategy", "inactiveAfterSeconds", 0, 0, 1e9, TRUE, details);
  expunge = scheduler_check_number (in, "/unreachableStrategy", "expungeAfterSeconds", 0, 0, 1e9, TRUE, details);
  if (expunge < inactive)
    scheduler_detail_add (details, "/unreachableStrategy/expungeAfterSeconds",
                          _("expungeAfterSeconds must be greater than or equal to inactiveAfterSeconds"));
  json_object_set_int_member (out, "inactiveAfterSeconds", (gint64) inactive);
  json_object_set_int_member (out, "expungeAfterSeconds", (gint64) expunge);
  return json_node_init_object (json_node_alloc (), out);
}

/* Resident tasks and persistent volumes need reservations Berth does
 * not make: refused rather than run without their data. */
void
scheduler_app_check_residency (JsonNode *residency, JsonNode *container, JsonArray *details)
{
  JsonNode *volumes;

  if (!scheduler_json_is_null (residency))
    scheduler_detail_add (details, "/residency",
                          _("Berth does not run resident tasks (residency): they need reservations and "
                            "persistent volumes, which it does not support"));
  if (container == NULL || !JSON_NODE_HOLDS_OBJECT (container))
    return;
  volumes = json_object_get_member (json_node_get_object (container), "volumes");
  if (volumes == NULL || !JSON_NODE_HOLDS_ARRAY (volumes))
    return;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (volumes)); i++)
    {
      JsonNode *v = json_array_get_element (json_node_get_array (volumes), i);
      JsonObject *o = v != NULL && JSON_NODE_HOLDS_OBJECT (v) ? json_node_get_object (v) : NULL;
      g_autofree char *path = NULL;

      if (o == NULL || (!json_object_has_member (o, "persistent") && !json_object_has_member (o, "external")))
        continue;
      path = g_strdup_printf ("/container/volumes(%u)/%s", i,
                              json_object_has_member (o, "persistent") ? "persistent" : "external");
      scheduler_detail_add (details, path, _("Berth does not support persistent volumes"));
    }
}

/* The index, among the ports a task gets, of the port named @name (port
 * mappings of a BRIDGE container, else portDefinitions); -1 if none. */
gint
scheduler_app_port_index_by_name (JsonObject *def, const char *name)
{
  JsonNode *container = json_object_get_member (def, "container");
  JsonArray *ports = json_object_get_array_member (def, "portDefinitions");

  if (container != NULL && JSON_NODE_HOLDS_OBJECT (container))
    {
      JsonObject *docker = json_object_get_object_member (json_node_get_object (container), "docker");
      if (docker != NULL && g_strcmp0 (json_object_get_string_member_with_default (docker, "network", ""),
                                       "BRIDGE") == 0)
        ports = json_object_get_array_member (docker, "portMappings");
    }
  for (guint i = 0; ports != NULL && i < json_array_get_length (ports); i++)
    {
      JsonObject *p = json_array_get_object_element (ports, i);
      if (p != NULL && g_strcmp0 (json_object_get_string_member_with_default (p, "name", NULL), name) == 0)
        return (gint) i;
    }
  return -1;
}

/* readinessChecks: HTTP(S) GETs of a named port; a task is ready once
 * one answers a status of httpStatusCodesForReady. @def: the normalized
 * definition so far (its ports and container). */
JsonArray *
scheduler_app_check_readiness (JsonNode *n, JsonObject *def, const SchedulerLimits *limits, JsonArray *details)
{
  static const char * const protocols[] = { "HTTP", "HTTPS", NULL };
  JsonArray *out = json_array_new ();
  JsonArray *in;

  if (scheduler_json_is_null (n))
    return out;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    {
      scheduler_detail_add (details, "/readinessChecks", _("error.expected.jsarray"));
      return out;
    }
  in = json_node_get_array (n);
  if (json_array_get_length (in) > 1)
    {
      scheduler_detail_add (details, "/readinessChecks", _("error.maxSize: at most one readiness check"));
      return out;
    }
  for (guint i = 0; i < json_array_get_length (in); i++)
    {
      JsonNode *e = json_array_get_element (in, i);
      g_autofree char *path = g_strdup_printf ("/readinessChecks(%u)", i);
      guint before = json_array_get_length (details);
      JsonObject *rc, *o;
      JsonArray *codes_in, *codes;
      const char *name, *protocol, *http_path, *port_name;
      gdouble interval, timeout;
      gboolean preserve;

      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          scheduler_detail_add (details, path, _("error.expected.jsobject"));
          continue;
        }
      rc = json_node_get_object (e);
      name = scheduler_check_string (rc, path, "name", "readinessCheck", limits->max_key_bytes, details);
      protocol = scheduler_check_string (rc, path, "protocol", "HTTP", 16, details);
      if (protocol != NULL && !g_strv_contains (protocols, protocol))
        {
          g_autofree char *p = g_strconcat (path, "/protocol", NULL);
          scheduler_detail_add (details, p, _("error.expected.validenumvalue: HTTP or HTTPS"));
        }
      http_path = scheduler_check_string (rc, path, "path", "/", limits->max_value_bytes, details);
      port_name = scheduler_check_string (rc, path, "portName", "http-api", limits->max_key_bytes, details);
      interval = scheduler_check_number (rc, path, "intervalSeconds", 30, 1, 86400, TRUE, details);
      timeout = scheduler_check_number (rc, path, "timeoutSeconds", 10, 1, 86400, TRUE, details);
      preserve = scheduler_check_boolean (rc, path, "preserveLastResponse", FALSE, details);
      codes_in = scheduler_check_array (rc, path, "httpStatusCodesForReady", 64, details);
      if (json_array_get_length (details) != before)
        continue;
      if (timeout >= interval)
        {
          g_autofree char *p = g_strconcat (path, "/timeoutSeconds", NULL);
          scheduler_detail_add (details, p, _("timeoutSeconds must be lower than intervalSeconds"));
        }
      if (scheduler_app_port_index_by_name (def, port_name) < 0)
        {
          g_autofree char *p = g_strconcat (path, "/portName", NULL);
          scheduler_detail_add (details, p, _("portName must name one of the app's ports"));
        }
      codes = json_array_new ();
      for (guint j = 0; codes_in != NULL && j < json_array_get_length (codes_in); j++)
        {
          g_autofree char *p = g_strdup_printf ("%s/httpStatusCodesForReady(%u)", path, j);
          gdouble code = scheduler_check_number_node (json_array_get_element (codes_in, j), p, 200, 100, 599, TRUE,
                                                      details);
          json_array_add_int_element (codes, (gint64) code);
        }
      if (codes_in == NULL)
        json_array_add_int_element (codes, 200);
      else if (json_array_get_length (codes_in) == 0)
        {
          g_autofree char *p = g_strconcat (path, "/httpStatusCodesForReady", NULL);
          scheduler_detail_add (details, p, _("error.minLength: at least one status code"));
        }
      if (json_array_get_length (details) != before)
        {
          json_array_unref (codes);
          continue;
        }
      o = json_object_new ();
      json_object_set_string_member (o, "name", name);
      json_object_set_string_member (o, "protocol", protocol);
      json_object_set_string_member (o, "path", http_path);
      json_object_set_string_member (o, "portName", port_name);
      json_object_set_int_member (o, "intervalSeconds", (gint64) interval);
      json_object_set_int_member (o, "timeoutSeconds", (gint64) timeout);
      json_object_set_array_member (o, "httpStatusCodesForReady", codes);
      json_object_set_boolean_member (o, "preserveLastResponse", preserve);
      json_array_add_object_element (out, o);
    }
  return out;
}

static gboolean
is_command_check (JsonObject *check)
{
  const char *protocol = json_object_get_string_member_with_default (check, "protocol", "HTTP");
  return g_str_equal (protocol, "COMMAND") || g_str_equal (protocol, "MESOS_COMMAND");
}

/* A COMMAND health check of an app without a container would run on the
 * host: only with [berthd] enable_script_checks (the switch discovery's
 * script checks use). Those of container apps run inside the container.
 * Adds a detail per refused check; returns whether there was none. */
gboolean
scheduler_apps_check_script_checks (JsonObject *def, const SchedulerLimits *limits, const char *prefix,
                                    JsonArray *details)
{
  JsonNode *container = json_object_get_member (def, "container");
  JsonNode *checks = json_object_get_member (def, "healthChecks");
  gboolean ok = TRUE;

  if (limits->enable_script_checks || checks == NULL || !JSON_NODE_HOLDS_ARRAY (checks))
    return TRUE;
  if (container != NULL && JSON_NODE_HOLDS_OBJECT (container) &&
      json_object_get_member (json_node_get_object (container), "docker") != NULL &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (json_node_get_object (container), "docker")))
    return TRUE;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (checks)); i++)
    {
      JsonNode *n = json_array_get_element (json_node_get_array (checks), i);
      g_autofree char *path = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (n) || !is_command_check (json_node_get_object (n)))
        continue;
      path = g_strdup_printf ("%s/healthChecks(%u)/protocol", prefix != NULL ? prefix : "", i);
      scheduler_detail_add (details, path,
                            _("Command health checks of apps without a container run on the host: "
                              "set enable_script_checks = true in [berthd] to allow them"));
      ok = FALSE;
    }
  return ok;
}
