/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "runtime-cni.h"
#include "runtime-util.h"

/* Bridge networking through the CNI reference plugins, called directly
 * (the CNI protocol is: environment + network config on stdin + result
 * on stdout): `loopback` for lo, `bridge` with `host-local` IPAM for
 * eth0, and `portmap` for host ports. No masquerading: containers reach
 * the host and each other, nothing else. */

#define CNI_VERSION "1.0.0"
#define NETWORK_NAME "berth"

void
runtime_cni_config_clear (RuntimeCniConfig *cfg)
{
  g_clear_pointer (&cfg->cni_path, g_free);
  g_clear_pointer (&cfg->bridge, g_free);
  g_clear_pointer (&cfg->subnet, g_free);
  g_clear_pointer (&cfg->data_dir, g_free);
}

char *
runtime_cni_netns_path (const char *netns)
{
  return g_build_filename ("/run/netns", netns, NULL);
}

gboolean
runtime_cni_available (const RuntimeCniConfig *cfg, char **why)
{
  const char *plugins[] = { "bridge", "host-local", "portmap", "loopback", NULL };
  g_autofree char *ip = g_find_program_in_path ("ip");

  for (guint i = 0; plugins[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (cfg->cni_path, plugins[i], NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
        {
          *why = g_strdup_printf (_("CNI plugin %s not found in %s"), plugins[i], cfg->cni_path);
          return FALSE;
        }
    }
  if (ip == NULL)
    {
      *why = g_strdup (_("the ip command (iproute2) is missing"));
      return FALSE;
    }
  return TRUE;
}

static char *
run_plugin (const RuntimeCniConfig *cfg, const char *type, const char *command, const char *id,
            const char *netns_path, const char *ifname, const char *conf, GError **error)
{
  g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                                G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autofree char *path = g_build_filename (cfg->cni_path, type, NULL);
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_subprocess_launcher_setenv (l, "CNI_COMMAND", command, TRUE);
  g_subprocess_launcher_setenv (l, "CNI_CONTAINERID", id, TRUE);
  g_subprocess_launcher_setenv (l, "CNI_NETNS", netns_path, TRUE);
  g_subprocess_launcher_setenv (l, "CNI_IFNAME", ifname, TRUE);
  g_subprocess_launcher_setenv (l, "CNI_PATH", cfg->cni_path, TRUE);
  proc = g_subprocess_launcher_spawn (l, error, path, NULL);
  if (proc == NULL)
    return NULL;
  if (!g_subprocess_communicate_utf8 (proc, conf, NULL, &out, &err, error))
    return NULL;
  if (!g_subprocess_get_successful (proc))
    {
      g_autoptr(JsonNode) node = berth_json_parse (out != NULL ? out : "", -1, NULL);
      const char *msg = node != NULL && JSON_NODE_HOLDS_OBJECT (node)
                          ? runtime_json_get_string (json_node_get_object (node), "msg") : NULL;
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, _("CNI plugin %s %s failed: %s"), type,
                   command, msg != NULL ? msg : (err != NULL && *err ? g_strstrip (err) : "?"));
      return NULL;
    }
  return g_steal_pointer (&out);
}

static char *
loopback_conf (void)
{
  return g_strdup ("{\"cniVersion\":\"" CNI_VERSION "\",\"name\":\"" NETWORK_NAME "-lo\",\"type\":\"loopback\"}");
}

static char *
bridge_conf (const RuntimeCniConfig *cfg)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "cniVersion");
  json_builder_add_string_value (b, CNI_VERSION);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, NETWORK_NAME);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "bridge");
  json_builder_set_member_name (b, "bridge");
  json_builder_add_string_value (b, cfg->bridge);
  json_builder_set_member_name (b, "isGateway");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "ipMasq");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "hairpinMode");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "ipam");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "host-local");
  json_builder_set_member_name (b, "dataDir");
  json_builder_add_string_value (b, cfg->data_dir);
  json_builder_set_member_name (b, "ranges");
  json_builder_begin_array (b);
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "subnet");
  json_builder_add_string_value (b, cfg->subnet);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "routes");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return runtime_json_to_string (root);
}

static char *
portmap_conf (JsonArray *ports, const char *prev_result)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) prev = prev_result != NULL ? berth_json_parse (prev_result, -1, NULL) : NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "cniVersion");
  json_builder_add_string_value (b, CNI_VERSION);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, NETWORK_NAME);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "portmap");
  json_builder_set_member_name (b, "snat");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "capabilities");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "portMappings");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "runtimeConfig");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "portMappings");
  json_builder_begin_array (b);
  for (guint i = 0; ports != NULL && i < json_array_get_length (ports); i++)
    {
      JsonObject *p = json_array_get_object_element (ports, i);
      const char *proto = runtime_json_get_string (p, "protocol");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "hostPort");
      json_builder_add_int_value (b, json_object_get_int_member_with_default (p, "host", 0));
      json_builder_set_member_name (b, "containerPort");
      json_builder_add_int_value (b, json_object_get_int_member_with_default (p, "container", 0));
      json_builder_set_member_name (b, "protocol");
      json_builder_add_string_value (b, proto != NULL ? proto : "tcp");
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  if (prev != NULL)
    {
      json_builder_set_member_name (b, "prevResult");
      json_builder_add_value (b, g_steal_pointer (&prev));
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return runtime_json_to_string (root);
}

static gboolean
run_ip (const char * const *argv, GError **error)
{
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, "%s: %s", argv[0],
                   err != NULL ? g_strstrip (err) : "?");
      return FALSE;
    }
  return TRUE;
}

static char *
address_of (const char *result)
{
  g_autoptr(JsonNode) node = berth_json_parse (result, -1, NULL);
  JsonArray *ips;
  const char *addr;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  ips = runtime_json_get_array (json_node_get_object (node), "ips");
  if (ips == NULL || json_array_get_length (ips) == 0)
    return NULL;
  addr = runtime_json_get_string (json_array_get_object_element (ips, 0), "address");
  if (addr == NULL)
    return NULL;
  return g_strndup (addr, strcspn (addr, "/"));
}

gboolean
runtime_cni_setup (const RuntimeCniConfig *cfg, const char *id, const char *netns, JsonArray *ports,
                   char **out_address, char **out_result, GError **error)
{
  g_autofree char *path = runtime_cni_netns_path (netns);
  g_autofree char *lo = loopback_conf ();
  g_autofree char *br = bridge_conf (cfg);
  g_autofree char *lo_result = NULL;
  g_autofree char *br_result = NULL;
  const char *add_argv[] = { "ip", "netns", "add", netns, NULL };

  if (!run_ip (add_argv, error))
    return FALSE;
  lo_result = run_plugin (cfg, "loopback", "ADD", id, path, "lo", lo, error);
  if (lo_result == NULL)
    goto fail;
  br_result = run_plugin (cfg, "bridge", "ADD", id, path, "eth0", br, error);
  if (br_result == NULL)
    goto fail;
  if (ports != NULL && json_array_get_length (ports) > 0)
    {
      g_autofree char *pm = portmap_conf (ports, br_result);
      g_autofree char *pm_result = run_plugin (cfg, "portmap", "ADD", id, path, "eth0", pm, error);
      if (pm_result == NULL)
        goto fail;
    }
  *out_address = address_of (br_result);
  *out_result = g_steal_pointer (&br_result);
  return TRUE;

fail:
  runtime_cni_teardown (cfg, id, netns, ports, br_result);
  return FALSE;
}

void
runtime_cni_teardown (const RuntimeCniConfig *cfg, const char *id, const char *netns,
                      JsonArray *ports, const char *result)
{
  g_autofree char *path = runtime_cni_netns_path (netns);
  g_autofree char *br = bridge_conf (cfg);
  g_autofree char *lo = loopback_conf ();
  const char *del_argv[] = { "ip", "netns", "delete", netns, NULL };
  g_autoptr(GError) error = NULL;

  if (ports != NULL && json_array_get_length (ports) > 0)
    {
      g_autofree char *pm = portmap_conf (ports, result);
      g_autofree char *out = run_plugin (cfg, "portmap", "DEL", id, path, "eth0", pm, &error);
      if (out == NULL)
        g_debug ("cni: portmap DEL: %s", error->message);
      g_clear_error (&error);
    }
  {
    g_autofree char *out = run_plugin (cfg, "bridge", "DEL", id, path, "eth0", br, &error);
    if (out == NULL)
      g_debug ("cni: bridge DEL: %s", error->message);
    g_clear_error (&error);
  }
  {
    g_free (run_plugin (cfg, "loopback", "DEL", id, path, "lo", lo, &error));
    g_clear_error (&error);
  }
  if (!run_ip (del_argv, &error))
    g_debug ("cni: %s", error->message);
}
