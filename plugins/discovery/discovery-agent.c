/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "discovery-agent.h"
#include "discovery-catalog.h"
#include "discovery-wan.h"
#include <berth-store-raw.h>

/* The Consul endpoints clients call to find their footing, answered as a
 * Consul server in dev mode answers them: /v1/status/leader and
 * /v1/status/peers, /v1/agent/self, the node's Serf check. A single
 * berthd is its own leader and the one voter of its Raft configuration;
 * the ports are Consul's (server RPC 8300, Serf LAN 8301), which clients
 * only print. (/v1/catalog/datacenters is in discovery-wan.c, the members
 * in discovery-agent-services.c with discovery_agent_member_json(); the
 * network coordinates and /v1/operator in discovery-coordinate.c.) */

#define SERVER_RPC_PORT 8300
#define SERF_LAN_PORT   8301
#define SERF_WAN_PORT   8302

/* Go's names for the architecture, as Consul reports it */
#if defined(__x86_64__)
#define RUNTIME_ARCH "amd64"
#elif defined(__aarch64__)
#define RUNTIME_ARCH "arm64"
#elif defined(__i386__)
#define RUNTIME_ARCH "386"
#elif defined(__arm__)
#define RUNTIME_ARCH "arm"
#else
#define RUNTIME_ARCH "unknown"
#endif

char *
discovery_agent_leader_address (BerthContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return g_strdup_printf ("%s:%d", berth_node_get_address (berth_context_get_node (ctx)),
                          SERVER_RPC_PORT);
}

CatalogCheck *
discovery_agent_serf_check (void)
{
  CatalogCheck *c = g_new0 (CatalogCheck, 1);

  c->id = g_strdup (DISCOVERY_SERF_CHECK_ID);
  c->name = g_strdup ("Serf Health Status");
  c->status = g_strdup (CHECK_PASSING);
  c->status_given = TRUE;
  c->notes = g_strdup ("");
  c->output = g_strdup ("Agent alive and reachable");
  c->service_id = g_strdup ("");
  c->type = g_strdup ("");
  c->definition_json = g_strdup ("{}");
  return c;
}

gboolean
discovery_agent_is_serf_check (const char *check_id, const char *service_id)
{
  return g_strcmp0 (check_id, DISCOVERY_SERF_CHECK_ID) == 0 &&
         (service_id == NULL || *service_id == '\0');
}

gboolean
discovery_agent_refuse_serf_check (BerthRequest *req, const char *check_id)
{
  g_autofree char *message = NULL;

  if (!discovery_agent_is_serf_check (check_id, NULL))
    return FALSE;
  /* the servers' check, not one of the agent's: unknown to the agent */
  message = g_strdup_printf (_("Unknown check ID “%s”"), check_id);
  berth_request_respond_message (req, 404, message);
  return TRUE;
}

JsonObject *
discovery_agent_member_json (const char *name, const char *node_id, const char *addr,
                             const char *dc, gboolean wan)
{
  JsonObject *m = json_object_new ();
  JsonObject *tags = json_object_new ();
  g_autofree char *build = g_strdup_printf ("%s:berth", BERTH_VERSION);

  g_return_val_if_fail (name != NULL && addr != NULL && dc != NULL, m);

  json_object_set_string_member (m, "Name", name);
  json_object_set_string_member (m, "Addr", addr);
  json_object_set_int_member (m, "Port", wan ? SERF_WAN_PORT : SERF_LAN_PORT);
  /* the tags a Consul server gossips */
  json_object_set_string_member (tags, "acls", "1");
  json_object_set_string_member (tags, "bootstrap", "1");
  json_object_set_string_member (tags, "build", build);
  json_object_set_string_member (tags, "dc", dc);
  json_object_set_string_member (tags, "ft_fs", "1");
  json_object_set_string_member (tags, "ft_si", "1");
  json_object_set_string_member (tags, "id", node_id != NULL ? node_id : "");
  json_object_set_string_member (tags, "port", G_STRINGIFY (SERVER_RPC_PORT));
  json_object_set_string_member (tags, "raft_vsn", "3");
  json_object_set_string_member (tags, "role", "consul");
  json_object_set_string_member (tags, "segment", "");
  json_object_set_string_member (tags, "vsn", "2");
  json_object_set_string_member (tags, "vsn_max", "3");
  json_object_set_string_member (tags, "vsn_min", "2");
  json_object_set_string_member (tags, "wan_join_port", G_STRINGIFY (SERF_WAN_PORT));
  json_object_set_object_member (m, "Tags", tags);
  json_object_set_int_member (m, "Status", 1);
  json_object_set_int_member (m, "ProtocolMin", 1);
  json_object_set_int_member (m, "ProtocolMax", 5);
  json_object_set_int_member (m, "ProtocolCur", 2);
  json_object_set_int_member (m, "DelegateMin", 2);
  json_object_set_int_member (m, "DelegateMax", 5);
  json_object_set_int_member (m, "DelegateCur", 4);
  return m;
}

JsonObject *
discovery_agent_coordinate_json (void)
{
  JsonObject *coord = json_object_new ();
  JsonArray *vec = json_array_new ();

  /* a node alone: the origin, with Serf's initial error and height */
  for (guint i = 0; i < 8; i++)
    json_array_add_double_element (vec, 0.0);
  json_object_set_array_member (coord, "Vec", vec);
  json_object_set_double_member (coord, "Error", 1.5);
  json_object_set_double_member (coord, "Adjustment", 0.0);
  json_object_set_double_member (coord, "Height", 1e-5);
  return coord;
}

static void
status_leader_cb (BerthRequest *req, gpointer user_data)
{
  g_autofree char *leader = discovery_agent_leader_address (berth_request_get_context (req));
  g_autoptr(JsonNode) node = json_node_init_string (json_node_alloc (), leader);
  berth_request_respond_json (req, 200, node);
}

static void
status_peers_cb (BerthRequest *req, gpointer user_data)
{
  g_autofree char *leader = discovery_agent_leader_address (berth_request_get_context (req));
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);
  JsonArray *array = json_array_new ();

  json_array_add_string_element (array, leader);
  json_node_take_array (node, array);
  berth_request_respond_json (req, 200, node);
}

static void
set_string (JsonObject *o, const char *name, const char *value)
{
  json_object_set_string_member (o, name, value != NULL ? value : "");
}

static JsonObject *
config_json (BerthNode *node)
{
  JsonObject *o = json_object_new ();

  set_string (o, "Datacenter", berth_node_get_datacenter (node));
  set_string (o, "PrimaryDatacenter", berth_node_get_datacenter (node));
  set_string (o, "NodeName", berth_node_get_name (node));
  set_string (o, "NodeID", berth_node_get_id (node));
  set_string (o, "Revision", "berth");
  json_object_set_boolean_member (o, "Server", TRUE);
  set_string (o, "Version", BERTH_VERSION);
  set_string (o, "VersionPrerelease", "");
  set_string (o, "VersionMetadata", "");
  set_string (o, "BuildDate", "");
  return o;
}

/* Consul's RuntimeConfig, for what Berth has of it. */
static JsonObject *
debug_config_json (BerthContext *ctx)
{
  BerthNode *node = berth_context_get_node (ctx);
  JsonObject *o = json_object_new ();
  g_autofree char *http_addr = berth_context_dup_config_string (ctx, "berthd", "http_addr", "");
  g_autofree char *dns_addr = berth_context_dup_config_string (ctx, "berthd", "dns_addr", "");
  g_autofree char *domain = berth_context_dup_config_string (ctx, "discovery", "domain", "consul");
  g_autofree char *dns_domain = g_str_has_suffix (domain, ".") ? g_strdup (domain)
                                                                 : g_strconcat (domain, ".", NULL);
  JsonArray *addrs = json_array_new ();

  set_string (o, "Datacenter", berth_node_get_datacenter (node));
  set_string (o, "PrimaryDatacenter", berth_node_get_datacenter (node));
  set_string (o, "NodeName", berth_node_get_name (node));
  set_string (o, "NodeID", berth_node_get_id (node));
  set_string (o, "AdvertiseAddrLAN", berth_node_get_address (node));
  set_string (o, "AdvertiseAddrWAN", berth_node_get_address (node));
  set_string (o, "BindAddr", berth_node_get_address (node));
  json_object_set_boolean_member (o, "ServerMode", TRUE);
  json_object_set_boolean_member (o, "Bootstrap", TRUE);
  json_object_set_int_member (o, "BootstrapExpect", 0);
  json_object_set_int_member (o, "ServerPort", SERVER_RPC_PORT);
  json_object_set_int_member (o, "SerfPortLAN", SERF_LAN_PORT);
  json_object_set_int_member (o, "SerfPortWAN", SERF_WAN_PORT);
  json_array_add_string_element (addrs, http_addr);
  json_object_set_array_member (o, "HTTPAddrs", addrs);
  set_string (o, "DNSAddr", dns_addr);
  set_string (o, "DNSDomain", dns_domain);
  json_object_set_boolean_member (o, "ACLsEnabled",
                                  berth_context_get_service (ctx, BERTH_TYPE_AUTHORITY) != NULL);
  set_string (o, "ACLDefaultPolicy", "deny");
  json_object_set_boolean_member (o, "EnableScriptChecks",
                                  berth_context_get_config_boolean (ctx, "discovery", "enable_script_checks", FALSE));
  set_string (o, "DataDir", berth_context_get_state_dir (ctx));
  set_string (o, "Revision", "berth");
  set_string (o, "Version", BERTH_VERSION);
  return o;
}

static char *
count_text (BerthStore *store, const char *sql, const char *node)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, sql, NULL);
  gboolean have_row = FALSE;

  if (stmt == NULL)
    return g_strdup ("0");
  sqlite3_bind_text (stmt, 1, node, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, &have_row, NULL) || !have_row)
    return g_strdup ("0");
  return g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (stmt, 0));
}

static void
stats_group (JsonObject *stats, const char *group, const char *const *pairs)
{
  JsonObject *o = json_object_new ();

  for (gsize i = 0; pairs[i] != NULL; i += 2)
    json_object_set_string_member (o, pairs[i], pairs[i + 1]);
  json_object_set_object_member (stats, group, o);
}

/* Consul's Stats: groups of strings. */
static JsonObject *
stats_json (BerthContext *ctx)
{
  BerthStore *store = berth_context_get_store (ctx);
  const char *name = berth_node_get_name (berth_context_get_node (ctx));
  JsonObject *stats = json_object_new ();
  g_autofree char *leader = discovery_agent_leader_address (ctx);
  g_autofree char *services = count_text (store, "SELECT COUNT(*) FROM catalog_services WHERE node = ?1", name);
  g_autofree char *checks = count_text (store, "SELECT COUNT(*) FROM catalog_checks WHERE node = ?1"
                                        " AND NOT (id = 'serfHealth' AND service_id = '')", name);
  g_autofree char *ttls = count_text (store, "SELECT COUNT(*) FROM catalog_checks WHERE node = ?1"
                                      " AND type = 'ttl'", name);
  g_autofree char *monitors = count_text (store, "SELECT COUNT(*) FROM catalog_checks WHERE node = ?1"
                                          " AND type = 'script'", name);
  g_autofree char *dcs = count_text (store, "SELECT COUNT(*) + 1 FROM wan_links WHERE ?1 IS NOT NULL", name);
  g_autofree char *index = g_strdup_printf ("%" G_GUINT64_FORMAT, berth_store_get_index (store));
  g_autofree char *cpus = g_strdup_printf ("%u", g_get_num_processors ());
  gboolean acls = berth_context_get_service (ctx, BERTH_TYPE_AUTHORITY) != NULL;

  {
    const char *const agent[] = { "check_monitors", monitors, "check_ttls", ttls, "checks", checks,
                                  "services", services, NULL };
    stats_group (stats, "agent", agent);
  }
  {
    const char *const build[] = { "prerelease", "", "revision", "berth", "version", BERTH_VERSION, NULL };
    stats_group (stats, "build", build);
  }
  {
    const char *const consul[] = { "acl", acls ? "enabled" : "disabled", "bootstrap", "true",
                                   "known_datacenters", dcs, "leader", "true", "leader_addr", leader,
                                   "server", "true", NULL };
    stats_group (stats, "consul", consul);
  }
  {
    const char *const raft[] = { "applied_index", index, "commit_index", index, "last_log_index", index,
                                 "num_peers", "0", "protocol_version", "3", "protocol_version_max", "3",
                                 "protocol_version_min", "0", "state", "Leader", "term", "1", NULL };
    stats_group (stats, "raft", raft);
  }
  {
    const char *const runtime[] = { "arch", RUNTIME_ARCH, "cpu_count", cpus, "os", "linux",
                                    "version", "berth", NULL };
    stats_group (stats, "runtime", runtime);
  }
  {
    const char *const serf[] = { "encrypted", "false", "failed", "0", "left", "0", "health_score", "0",
                                 "members", "1", NULL };
    stats_group (stats, "serf_lan", serf);
    stats_group (stats, "serf_wan", serf);
  }
  return stats;
}

static void
agent_self_cb (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  BerthNode *node = berth_context_get_node (ctx);
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();
  JsonObject *meta = json_object_new ();

  json_object_set_object_member (o, "Config", config_json (node));
  json_object_set_object_member (o, "DebugConfig", debug_config_json (ctx));
  json_object_set_object_member (o, "Coord", discovery_agent_coordinate_json ());
  json_object_set_object_member (o, "Member",
                                 discovery_agent_member_json (berth_node_get_name (node), berth_node_get_id (node),
                                                              berth_node_get_address (node),
                                                              berth_node_get_datacenter (node), FALSE));
  json_object_set_object_member (o, "Stats", stats_json (ctx));
  json_object_set_string_member (meta, "consul-network-segment", "");
  json_object_set_object_member (o, "Meta", meta);
  json_node_take_object (root, o);
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
  g_return_if_fail (DISCOVERY_IS_PLUGIN (plugin));
  discovery_wan_add_routes (plugin, agent_routes, G_N_ELEMENTS (agent_routes));
}
