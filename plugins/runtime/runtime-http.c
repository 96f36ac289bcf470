/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "runtime-container.h"
#include "runtime-http.h"
#include "runtime-stream.h"
#include "runtime-util.h"

/* The runtime's REST API: /api/runtime and /api/containers (the images
 * are in runtime-images-http.c). */

static RuntimeContainers *
containers_of (gpointer user_data)
{
  return runtime_plugin_get_containers (RUNTIME_PLUGIN (user_data));
}

/* ---------------------------------------------------------- containers */

#define CONTAINER_HANDLER(verb)                                                           \
  static void                                                                             \
  containers_##verb##_cb (BerthRequest *req, gpointer user_data)                         \
  {                                                                                       \
    if (!runtime_plugin_defer_until_ready (RUNTIME_PLUGIN (user_data), req,              \
                                           containers_##verb##_cb))                        \
      runtime_containers_handle_##verb (containers_of (user_data), req);                  \
  }

CONTAINER_HANDLER (create)
CONTAINER_HANDLER (list)
CONTAINER_HANDLER (inspect)
CONTAINER_HANDLER (start)
CONTAINER_HANDLER (stop)
CONTAINER_HANDLER (kill)
CONTAINER_HANDLER (wait)
CONTAINER_HANDLER (remove)
CONTAINER_HANDLER (logs)

static void
runtime_info_cb (BerthRequest *req, gpointer user_data)
{
  const RuntimeHost *host = runtime_plugin_get_host (RUNTIME_PLUGIN (user_data));
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;

  if (runtime_plugin_defer_until_ready (RUNTIME_PLUGIN (user_data), req, runtime_info_cb))
    return;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Kind");
  json_builder_add_string_value (b, host->kind == RUNTIME_KIND_OCI ? "oci" : "exec");
  json_builder_set_member_name (b, "OciRuntime");
  if (host->oci_name != NULL)
    json_builder_add_string_value (b, host->oci_name);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "OciRuntimePath");
  if (host->oci_path != NULL)
    json_builder_add_string_value (b, host->oci_path);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "Conmon");
  if (host->conmon_path != NULL)
    json_builder_add_string_value (b, host->conmon_path);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "CgroupVersion");
  json_builder_add_int_value (b, host->cgroup_v2 ? 2 : 1);
  json_builder_set_member_name (b, "Why");
  json_builder_add_string_value (b, host->why != NULL ? host->why : "");
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  berth_request_respond_json (req, 200, node);
}

static const BerthRouteSpec routes[] = {
  { BERTH_METHOD_GET, "/api/runtime", "node", BERTH_ACCESS_READ, runtime_info_cb },
  { BERTH_METHOD_GET, "/api/containers", "container", BERTH_ACCESS_READ, containers_list_cb },
  { BERTH_METHOD_POST, "/api/containers", "container", BERTH_ACCESS_WRITE, containers_create_cb },
  { BERTH_METHOD_GET, "/api/containers/:id", "container", BERTH_ACCESS_READ, containers_inspect_cb },
  { BERTH_METHOD_DELETE, "/api/containers/:id", "container", BERTH_ACCESS_WRITE, containers_remove_cb },
  { BERTH_METHOD_POST, "/api/containers/:id/start", "container", BERTH_ACCESS_WRITE, containers_start_cb },
  { BERTH_METHOD_POST, "/api/containers/:id/stop", "container", BERTH_ACCESS_WRITE, containers_stop_cb },
  { BERTH_METHOD_POST, "/api/containers/:id/kill", "container", BERTH_ACCESS_WRITE, containers_kill_cb },
  { BERTH_METHOD_POST | BERTH_METHOD_GET, "/api/containers/:id/wait", "container", BERTH_ACCESS_READ,
    containers_wait_cb },
  { BERTH_METHOD_GET, "/api/containers/:id/logs", "container", BERTH_ACCESS_READ, containers_logs_cb },
};

void
runtime_http_add_routes (RuntimePlugin *plugin)
{
  berth_context_add_routes (berth_plugin_get_context (BERTH_PLUGIN (plugin)), routes, G_N_ELEMENTS (routes),
                            plugin);
}
