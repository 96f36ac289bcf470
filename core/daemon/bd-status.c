/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "bd-status.h"

/* GET /api/status: what `berth status` shows. */

static void
status_cb (BerthRequest *req, gpointer user_data)
{
  BdStatus *status = user_data;
  BerthContext *ctx = berth_request_get_context (req);
  BerthNode *node = berth_context_get_node (ctx);
  GPtrArray *plugins = berth_context_get_plugins (ctx);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, BERTH_VERSION);
  json_builder_set_member_name (b, "node");
  json_builder_add_string_value (b, berth_node_get_name (node));
  json_builder_set_member_name (b, "node_id");
  json_builder_add_string_value (b, berth_node_get_id (node));
  json_builder_set_member_name (b, "datacenter");
  json_builder_add_string_value (b, berth_node_get_datacenter (node));
  json_builder_set_member_name (b, "index");
  json_builder_add_int_value (b, (gint64) berth_store_get_index (berth_context_get_store (ctx)));
  json_builder_set_member_name (b, "uptime_seconds");
  json_builder_add_int_value (b, (g_get_monotonic_time () - status->started_us) / G_USEC_PER_SEC);
  json_builder_set_member_name (b, "state_dir");
  json_builder_add_string_value (b, berth_context_get_state_dir (ctx));
  json_builder_set_member_name (b, "http_addr");
  json_builder_add_string_value (b, status->http_address);
  json_builder_set_member_name (b, "socket");
  json_builder_add_string_value (b, status->socket_path);
  json_builder_set_member_name (b, "endpoints");
  json_builder_begin_object (b);
  {
    GHashTableIter iter;
    gpointer name, address;
    g_hash_table_iter_init (&iter, berth_context_get_endpoints (ctx));
    while (g_hash_table_iter_next (&iter, &name, &address))
      {
        json_builder_set_member_name (b, name);
        json_builder_add_string_value (b, address);
      }
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "plugins");
  json_builder_begin_array (b);
  for (guint i = 0; i < plugins->len; i++)
    {
      BerthPlugin *plugin = g_ptr_array_index (plugins, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, berth_plugin_get_name (plugin));
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, berth_plugin_state_to_string (berth_plugin_get_state (plugin)));
      json_builder_set_member_name (b, "error");
      if (berth_plugin_get_error (plugin) != NULL)
        json_builder_add_string_value (b, berth_plugin_get_error (plugin));
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "broken");
  json_builder_add_value (b, berth_context_dup_broken (ctx));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  berth_request_respond_json (req, 200, root);
}

/* GET /api/routes: the route table, as the authority sees it (what a
 * test walks to check that every route refuses a caller without rights). */
static void
routes_cb (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  g_autoptr(GPtrArray) routes = berth_router_list (berth_context_get_router (ctx));
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (b);
  for (guint i = 0; i < routes->len; i++)
    {
      BerthRoute *route = g_ptr_array_index (routes, i);
      g_autofree char *methods = berth_method_to_string (berth_route_get_methods (route));
      BerthAccess access = berth_route_get_access (route);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "methods");
      json_builder_add_string_value (b, methods);
      json_builder_set_member_name (b, "pattern");
      json_builder_add_string_value (b, berth_route_get_pattern (route));
      json_builder_set_member_name (b, "resource");
      json_builder_add_string_value (b, berth_route_get_acl_resource (route));
      json_builder_set_member_name (b, "access");
      json_builder_add_string_value (b, access == BERTH_ACCESS_WRITE ? "write"
                                        : access == BERTH_ACCESS_READ ? "read" : "none");
      json_builder_set_member_name (b, "zone");
      json_builder_add_string_value (b, berth_zone_to_string (berth_route_get_zone (route)));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  berth_request_respond_json (req, 200, root);
}

void
bd_status_add_routes (BerthContext *context, BdStatus *status)
{
  berth_router_add (berth_context_get_router (context), BERTH_METHOD_GET, "/api/routes",
                    "operator", BERTH_ACCESS_READ, routes_cb, NULL, NULL);
  berth_router_add (berth_context_get_router (context), BERTH_METHOD_GET, "/api/status",
                    "agent", BERTH_ACCESS_READ, status_cb, status, NULL);
}
