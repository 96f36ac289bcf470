/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "discovery-agent.h"
#include "discovery-wan.h"

/* The small Consul endpoints clients call to find their footing:
 * /v1/status/leader, /v1/status/peers and /v1/agent/self
 * (/v1/catalog/datacenters is in discovery-wan.c). A single berthd is its own leader; the port is
 * Consul's server RPC port, which clients only print. */

static char *
leader_address (BerthContext *ctx)
{
  return g_strdup_printf ("%s:8300", berth_node_get_address (berth_context_get_node (ctx)));
}

static void
status_leader_cb (BerthRequest *req, gpointer user_data)
{
  g_autofree char *leader = leader_address (berth_request_get_context (req));
  g_autoptr(JsonNode) node = json_node_init_string (json_node_alloc (), leader);
  berth_request_respond_json (req, 200, node);
}

static void
status_peers_cb (BerthRequest *req, gpointer user_data)
{
  g_autofree char *leader = leader_address (berth_request_get_context (req));
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);
  JsonArray *array = json_array_new ();

  json_array_add_string_element (array, leader);
  json_node_take_array (node, array);
  berth_request_respond_json (req, 200, node);
}

static void
agent_self_cb (BerthRequest *req, gpointer user_data)
{
  BerthNode *node = berth_context_get_node (berth_request_get_context (req));
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Config");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Datacenter");
  json_builder_add_string_value (b, berth_node_get_datacenter (node));
  json_builder_set_member_name (b, "PrimaryDatacenter");
  json_builder_add_string_value (b, berth_node_get_datacenter (node));
  json_builder_set_member_name (b, "NodeName");
  json_builder_add_string_value (b, berth_node_get_name (node));
  json_builder_set_member_name (b, "NodeID");
  json_builder_add_string_value (b, berth_node_get_id (node));
  json_builder_set_member_name (b, "Server");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "Version");
  json_builder_add_string_value (b, BERTH_VERSION);
  json_builder_set_member_name (b, "Revision");
  json_builder_add_string_value (b, "berth");
  json_builder_end_object (b);
  json_builder_set_member_name (b, "Member");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Name");
  json_builder_add_string_value (b, berth_node_get_name (node));
  json_builder_set_member_name (b, "Addr");
  json_builder_add_string_value (b, berth_node_get_address (node));
  json_builder_set_member_name (b, "Port");
  json_builder_add_int_value (b, 8301);
  json_builder_set_member_name (b, "Status");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "Tags");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "dc");
  json_builder_add_string_value (b, berth_node_get_datacenter (node));
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, "consul");
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "Meta");
  json_builder_begin_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  berth_request_respond_json (req, 200, root);
}

static const BerthRouteSpec agent_routes[] = {
  { BERTH_METHOD_GET, "/v1/status/leader", BERTH_RESOURCE_PUBLIC, BERTH_ACCESS_NONE, status_leader_cb },
  { BERTH_METHOD_GET, "/v1/status/peers", BERTH_RESOURCE_PUBLIC, BERTH_ACCESS_NONE, status_peers_cb },
  { BERTH_METHOD_GET, "/v1/agent/self", "agent", BERTH_ACCESS_READ, agent_self_cb },
};

void
discovery_agent_add_routes (DiscoveryPlugin *plugin)
{
  discovery_wan_add_routes (plugin, agent_routes, G_N_ELEMENTS (agent_routes));
}
