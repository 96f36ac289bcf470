/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "discovery-agent.h"
#include "discovery-catalog.h"
#include "discovery-wan.h"
#include <berth-store-raw.h>

/* Consul's network coordinates and Raft configuration, for a datacenter
 * of one server: /v1/coordinate/datacenters (this datacenter and the
 * linked ones, each with its server), /v1/coordinate/nodes and
 * /v1/coordinate/node/:node (this node only: no other node gossips), and
 * /v1/operator/raft/configuration (this node, the one voter and leader).
 * Coordinates are Serf's starting point: no round trips are measured. */

static JsonObject *
coordinate_entry (const char *node, guint64 index)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "Node", node);
  json_object_set_string_member (o, "Segment", "");
  json_object_set_object_member (o, "Coord", discovery_agent_coordinate_json ());
  if (index > 0)
    {
      json_object_set_int_member (o, "CreateIndex", (gint64) index);
      json_object_set_int_member (o, "ModifyIndex", (gint64) index);
    }
  return o;
}

static void
add_datacenter (JsonArray *array, const char *dc, const char *server)
{
  JsonObject *o = json_object_new ();
  JsonArray *coords = json_array_new ();
  JsonObject *entry = coordinate_entry (server, 0);

  json_object_remove_member (entry, "Segment");
  json_array_add_object_element (coords, entry);
  json_object_set_string_member (o, "Datacenter", dc);
  json_object_set_string_member (o, "AreaID", "wan");
  json_object_set_array_member (o, "Coordinates", coords);
  json_array_add_object_element (array, o);
}

static void
datacenters_cb (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  BerthNode *self = berth_context_get_node (ctx);
  BerthStore *store = berth_context_get_store (ctx);
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *own = g_strdup_printf ("%s.%s", berth_node_get_name (self), berth_node_get_datacenter (self));
  JsonArray *array = json_array_new ();
  gboolean have_row = TRUE;

  /* servers by their WAN names, as /v1/agent/members?wan=1 lists them */
  add_datacenter (array, berth_node_get_datacenter (self), own);
  stmt = berth_store_prepare (store, "SELECT datacenter, address FROM wan_links ORDER BY datacenter", NULL);
  while (stmt != NULL && berth_store_step (store, stmt, &have_row, NULL) && have_row)
    {
      const char *dc = (const char *) sqlite3_column_text (stmt, 0);
      g_autofree char *host = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      g_autofree char *server = g_strdup_printf ("%s.%s", host, dc);

      add_datacenter (array, dc, server);
    }
  json_node_take_array (root, array);
  berth_request_respond_json (req, 200, root);
}

/* The index of this node's row: when it joined the catalog. */
static guint64
node_index (BerthContext *ctx)
{
  g_autoptr(CatalogNode) node = catalog_get_node (berth_context_get_store (ctx),
                                                  berth_node_get_name (berth_context_get_node (ctx)),
                                                  NULL);
  return node != NULL ? node->create_index : 1;
}

static void
nodes_cb (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  const char *name = berth_node_get_name (berth_context_get_node (ctx));
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
  JsonArray *array = json_array_new ();
  guint64 index = node_index (ctx);

  if (berth_request_may_read (req, "node", name))
    json_array_add_object_element (array, coordinate_entry (name, index));
  json_node_take_array (root, array);
  berth_request_set_index (req, index);
  berth_request_respond_json (req, 200, root);
}

static void
node_cb (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  const char *name = berth_node_get_name (berth_context_get_node (ctx));
  const char *asked = berth_request_get_param (req, "node");
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
  JsonArray *array = json_array_new ();
  guint64 index = node_index (ctx);

  json_node_take_array (root, array);
  berth_request_set_index (req, index);
  /* other nodes send no coordinates: Consul answers 404 for them */
  if (g_strcmp0 (asked, name) != 0)
    {
      berth_request_respond (req, 404, "text/plain", NULL);
      return;
    }
  json_array_add_object_element (array, coordinate_entry (name, index));
  berth_request_respond_json (req, 200, root);
}

static void
raft_configuration_cb (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  BerthNode *self = berth_context_get_node (ctx);
  g_autofree char *address = discovery_agent_leader_address (ctx);
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();
  JsonObject *server = json_object_new ();
  JsonArray *servers = json_array_new ();

  json_object_set_string_member (server, "ID", berth_node_get_id (self));
  json_object_set_string_member (server, "Node", berth_node_get_name (self));
  json_object_set_string_member (server, "Address", address);
  json_object_set_boolean_member (server, "Leader", TRUE);
  json_object_set_string_member (server, "ProtocolVersion", "3");
  json_object_set_boolean_member (server, "Voter", TRUE);
  json_array_add_object_element (servers, server);
  json_object_set_array_member (o, "Servers", servers);
  json_object_set_int_member (o, "Index", (gint64) node_index (ctx));
  json_node_take_object (root, o);
  berth_request_respond_json (req, 200, root);
}

static const BerthRouteSpec coordinate_routes[] = {
  { BERTH_METHOD_GET, "/v1/coordinate/datacenters", BERTH_RESOURCE_PUBLIC, BERTH_ACCESS_NONE, datacenters_cb },
  { BERTH_METHOD_GET, "/v1/coordinate/nodes", "node", BERTH_ACCESS_READ, nodes_cb },
  { BERTH_METHOD_GET, "/v1/coordinate/node/:node", "node", BERTH_ACCESS_READ, node_cb },
  { BERTH_METHOD_GET, "/v1/operator/raft/configuration", "operator", BERTH_ACCESS_READ, raft_configuration_cb },
};

void
discovery_coordinate_add_routes (DiscoveryPlugin *plugin)
{
  g_return_if_fail (DISCOVERY_IS_PLUGIN (plugin));
  discovery_wan_add_routes (plugin, coordinate_routes, G_N_ELEMENTS (coordinate_routes));
}
