/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "discovery-acl.h"
#include "discovery-agent.h"
#include "discovery-blocking.h"
#include "discovery-catalog.h"
#include "discovery-catalog-http.h"
#include "discovery-catalog-parse.h"
#include "discovery-checks.h"
#include "discovery-json.h"
#include "discovery-query.h"
#include "discovery-wan.h"
#include <berth-store-raw.h>

/* Consul's /v1/agent/... for services and checks: what this node (the
 * agent) runs. Registrations land in the catalog under this node's name;
 * the check runner picks up their checks from the store. */

#define NODE_MAINTENANCE_CHECK "_node_maintenance"
#define SERVICE_MAINTENANCE_PREFIX "_service_maintenance:"

static const char *
self_name (BerthRequest *req)
{
  return berth_node_get_name (berth_context_get_node (berth_request_get_context (req)));
}

static void
respond_json_take (BerthRequest *req, JsonNode *node)
{
  berth_request_respond_json (req, 200, node);
  json_node_unref (node);
}

static void
service_register_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o = discovery_catalog_body (req, &root);
  g_autoptr(CatalogRegistration) reg = NULL;
  g_autoptr(GError) error = NULL;

  if (o == NULL)
    return;
  reg = g_new0 (CatalogRegistration, 1);
  reg->node_name = g_strdup (self_name (req));
  reg->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) catalog_check_free);
  reg->replace_service_checks = TRUE;
  reg->service = catalog_parse_service (berth_request_get_context (req), o, &error);
  if (reg->service == NULL || !catalog_parse_service_checks (o, reg->service, reg->checks, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  discovery_catalog_submit_registration (req, g_steal_pointer (&reg));
}

static void
service_deregister_cb (BerthRequest *req, gpointer user_data)
{
  discovery_catalog_submit_deregistration (req, self_name (req), berth_request_get_param (req, "_id"), NULL);
}

static JsonNode *
agent_service_json (BerthRequest *req, CatalogService *s)
{
  JsonNode *node = catalog_service_to_json (s, FALSE);
  json_object_set_string_member (json_node_get_object (node), "Datacenter",
                                 berth_node_get_datacenter (berth_context_get_node (berth_request_get_context (req))));
  return node;
}

static gboolean
services_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(GPtrArray) services = NULL;
  JsonObject *object;

  answer->index = catalog_index (store, "node", self_name (req));
  services = catalog_list_services (store, self_name (req), NULL, error);
  if (services == NULL)
    return FALSE;
  object = json_object_new ();
  for (guint i = 0; i < services->len; i++)
    {
      CatalogService *s = g_ptr_array_index (services, i);
      if (berth_request_may_read (req, "service", s->name))
        json_object_set_member (object, s->id, agent_service_json (req, s));
    }
  answer->json = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (answer->json, object);
  return discovery_query_filter_values (req, DISCOVERY_FILTER_SERVICE, object, error);
}

static gboolean
service_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(CatalogService) s = NULL;

  answer->index = catalog_index (store, "node", self_name (req));
  s = catalog_get_service (store, self_name (req), berth_request_get_param (req, "_id"), error);
  /* the path names an id; the service's name is what rules name */
  if (s == NULL || !berth_request_authorize (req, "service", s->name, BERTH_ACCESS_READ, error))
    return FALSE;
  answer->json = agent_service_json (req, s);
  return TRUE;
}

static gboolean
checks_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(GPtrArray) checks = NULL;
  JsonObject *object;

  answer->index = catalog_index (store, "node", self_name (req));
  checks = catalog_list_checks (store, self_name (req), NULL, NULL, error);
  if (checks == NULL)
    return FALSE;
  object = json_object_new ();
  for (guint i = 0; i < checks->len; i++)
    {
      CatalogCheck *c = g_ptr_array_index (checks, i);
      /* the node's Serf check is the servers', not the agent's */
      if (discovery_agent_is_serf_check (c->id, c->service_id))
        continue;
      if (discovery_acl_may_read_check (req, c))
        json_object_set_member (object, c->id, catalog_check_to_json (c));
    }
  answer->json = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (answer->json, object);
  return discovery_query_filter_values (req, DISCOVERY_FILTER_CHECK, object, error);
}

/* The agent's reads block on its node: every service and check of this
 * node touches it. */
static void
services_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "node", self_name (req), services_read, NULL, NULL);
}

static void
service_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "node", self_name (req), service_read, NULL, NULL);
}

static void
checks_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "node", self_name (req), checks_read, NULL, NULL);
}

static void
check_register_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o = discovery_catalog_body (req, &root);
  g_autoptr(CatalogRegistration) reg = NULL;
  g_autoptr(GError) error = NULL;
  CatalogCheck *c;

  if (o == NULL)
    return;
  c = catalog_parse_check (o, NULL, NULL, TRUE, &error);
  if (c == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  reg = g_new0 (CatalogRegistration, 1);
  reg->node_name = g_strdup (self_name (req));
  reg->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) catalog_check_free);
  g_ptr_array_add (reg->checks, c);
  discovery_catalog_submit_registration (req, g_steal_pointer (&reg));
}

static void
check_deregister_cb (BerthRequest *req, gpointer user_data)
{
  if (discovery_agent_refuse_serf_check (req, berth_request_get_param (req, "_id")))
    return;
  discovery_catalog_submit_deregistration (req, self_name (req), NULL, berth_request_get_param (req, "_id"));
}

static void
update_check (BerthRequest *req, DiscoveryPlugin *plugin, const char *status, const char *output)
{
  const char *id = berth_request_get_param (req, "_id");
  g_autoptr(GError) error = NULL;
  CatalogCheckUpdate *u;

  if (discovery_agent_refuse_serf_check (req, id))
    return;
  /* the check's service (or this node, for a node-level check) */
  if (!discovery_acl_check_write (req, self_name (req), id, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  u = g_new0 (CatalogCheckUpdate, 1);
  u->node = g_strdup (self_name (req));
  u->check_id = g_strdup (id);
  u->status = g_strdup (status);
  u->output = catalog_output_text (output);
  /* a TTL check's clock restarts with every update, changed or not */
  discovery_checks_ttl_refresh (discovery_plugin_get_checks (plugin), id);
  discovery_catalog_submit (req, catalog_write_check_update, u,
                            (GDestroyNotify) catalog_check_update_free);
}

static void
check_pass_cb (BerthRequest *req, gpointer user_data)
{
  update_check (req, user_data, CHECK_PASSING, berth_request_get_query (req, "note"));
}

static void
check_warn_cb (BerthRequest *req, gpointer user_data)
{
  update_check (req, user_data, CHECK_WARNING, berth_request_get_query (req, "note"));
}

static void
check_fail_cb (BerthRequest *req, gpointer user_data)
{
  update_check (req, user_data, CHECK_CRITICAL, berth_request_get_query (req, "note"));
}

static void
check_update_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o = discovery_catalog_body (req, &root);
  g_autoptr(GError) error = NULL;
  const char *status, *output = NULL;

  if (o == NULL)
    return;
  status = discovery_json_string (o, "Status", &error);
  if (error == NULL)
    output = discovery_json_string (o, "Output", &error);
  if (error == NULL && !catalog_status_valid (status))
    g_set_error (&error, BERTH_ERROR, BERTH_ERROR_INVALID,
                 _("Invalid check status “%s”: use passing, warning or critical"),
                 status != NULL ? status : "");
  if (error != NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  update_check (req, user_data, status, output);
}

/* ---- maintenance ------------------------------------------------------ */

static gboolean
parse_enable (BerthRequest *req, gboolean *enable)
{
  const char *value = berth_request_get_query (req, "enable");

  if (value == NULL || (g_ascii_strcasecmp (value, "true") != 0 && g_ascii_strcasecmp (value, "false") != 0 &&
                        g_strcmp0 (value, "1") != 0 && g_strcmp0 (value, "0") != 0))
    {
      berth_request_respond_message (req, 400, _("Missing or invalid “enable”: use true or false"));
      return FALSE;
    }
  *enable = g_ascii_strcasecmp (value, "true") == 0 || g_strcmp0 (value, "1") == 0;
  return TRUE;
}

/* Maintenance mode is a critical check, as in Consul: it takes the node
 * (or the service) out of every healthy answer. */
static void
maintenance (BerthRequest *req, const char *check_id, const char *service_id, const char *what)
{
  const char *reason = berth_request_get_query (req, "reason");
  gboolean enable;

  if (!parse_enable (req, &enable))
    return;
  if (enable)
    {
      CatalogRegistration *reg = g_new0 (CatalogRegistration, 1);
      CatalogCheck *c = g_new0 (CatalogCheck, 1);

      c->id = g_strdup (check_id);
      c->name = g_strdup (what);
      c->status = g_strdup (CHECK_CRITICAL);
      c->status_given = TRUE;
      c->notes = g_strdup (reason != NULL && *reason != '\0' ? reason
                           : "Maintenance mode is enabled for this node or service");
      c->output = g_strdup ("");
      c->service_id = g_strdup (service_id != NULL ? service_id : "");
      c->type = g_strdup ("maintenance");
      c->definition_json = g_strdup ("{}");
      reg->node_name = g_strdup (self_name (req));
      reg->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) catalog_check_free);
      g_ptr_array_add (reg->checks, c);
      discovery_catalog_submit (req, catalog_write_register, reg,
                                (GDestroyNotify) catalog_registration_free);
    }
  else
    {
      BerthStore *store = berth_context_get_store (berth_request_get_context (req));
      g_autoptr(CatalogCheck) existing = catalog_get_check (store, self_name (req), check_id, NULL);
      CatalogDeregistration *d;

      if (existing == NULL)
        {
          g_autoptr(JsonNode) answer = json_node_new (JSON_NODE_VALUE);
          json_node_set_boolean (answer, TRUE);
          berth_request_respond_json (req, 200, answer);
          return;
        }
      d = g_new0 (CatalogDeregistration, 1);
      d->node = g_strdup (self_name (req));
      d->check_id = g_strdup (check_id);
      discovery_catalog_submit (req, catalog_write_deregister, d,
                                (GDestroyNotify) catalog_deregistration_free);
    }
}

static void
node_maintenance_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (!berth_request_authorize (req, "node", self_name (req), BERTH_ACCESS_WRITE, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  maintenance (req, NODE_MAINTENANCE_CHECK, NULL, "Node Maintenance Mode");
}

static void
service_maintenance_cb (BerthRequest *req, gpointer user_data)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  const char *id = berth_request_get_param (req, "_id");
  g_autoptr(GError) error = NULL;
  g_autoptr(CatalogService) s = catalog_get_service (store, self_name (req), id, &error);
  g_autofree char *check_id = NULL;

  if (s == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (!discovery_acl_service_write (req, self_name (req), id, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  check_id = g_strconcat (SERVICE_MAINTENANCE_PREFIX, id, NULL);
  maintenance (req, check_id, id, "Service Maintenance Mode");
}

/* ---- members ---------------------------------------------------------- */

static void
add_member (JsonArray *array, const char *name, const char *node_id, const char *addr, const char *dc,
            gboolean wan)
{
  json_array_add_object_element (array, discovery_agent_member_json (name, node_id, addr, dc, wan));
}

static void
members_cb (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  BerthNode *self = berth_context_get_node (ctx);
  BerthStore *store = berth_context_get_store (ctx);
  gboolean wan = berth_request_has_query (req, "wan") &&
                 g_strcmp0 (berth_request_get_query (req, "wan"), "0") != 0 &&
                 g_strcmp0 (berth_request_get_query (req, "wan"), "false") != 0;
  JsonArray *array = json_array_new ();
  JsonNode *root = json_node_new (JSON_NODE_ARRAY);

  if (wan)
    {
      g_autoptr(sqlite3_stmt) stmt = NULL;
      g_autofree char *name = g_strdup_printf ("%s.%s", berth_node_get_name (self),
                                               berth_node_get_datacenter (self));
      gboolean have_row = TRUE;

      add_member (array, name, berth_node_get_id (self), berth_node_get_address (self),
                  berth_node_get_datacenter (self), TRUE);
      stmt = berth_store_prepare (store, "SELECT datacenter, address FROM wan_links ORDER BY datacenter",
                                  NULL);
      while (stmt != NULL && berth_store_step (store, stmt, &have_row, NULL) && have_row)
        {
          const char *dc = (const char *) sqlite3_column_text (stmt, 0);
          g_autofree char *host = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
          g_autofree char *member = g_strdup_printf ("%s.%s", host, dc);
          char *colon = strrchr (host, ':');
          if (colon != NULL)
            *colon = '\0';
          add_member (array, member, "", host, dc, TRUE);
        }
    }
  else
    {
      g_autoptr(GPtrArray) nodes = catalog_list_nodes (store, NULL);
      const char *own_dc = berth_node_get_datacenter (self);

      /* the LAN pool: this node and the nodes of its datacenter */
      for (guint i = 0; nodes != NULL && i < nodes->len; i++)
        {
          CatalogNode *n = g_ptr_array_index (nodes, i);
          if (g_strcmp0 (n->datacenter, own_dc) == 0 && berth_request_may_read (req, "node", n->name))
            add_member (array, n->name, n->id, n->address, n->datacenter, FALSE);
        }
      if (nodes == NULL || nodes->len == 0)
        add_member (array, berth_node_get_name (self), berth_node_get_id (self),
                    berth_node_get_address (self), own_dc, FALSE);
    }
  json_node_take_array (root, array);
  respond_json_take (req, root);
}

/* The ids in these paths are not names: the core checks the route's kind
 * without one (`:_id`), the handlers the name of the service the id finds
 * (or of the check's service; this node for a node-level check). */
static const BerthRouteSpec agent_service_routes[] = {
  { BERTH_METHOD_PUT, "/v1/agent/service/register", "service", BERTH_ACCESS_WRITE, service_register_cb },
  { BERTH_METHOD_GET | BERTH_METHOD_PUT, "/v1/agent/service/deregister/:_id", "service",
    BERTH_ACCESS_WRITE, service_deregister_cb },
  { BERTH_METHOD_PUT, "/v1/agent/service/maintenance/:_id", "service", BERTH_ACCESS_WRITE,
    service_maintenance_cb },
  { BERTH_METHOD_GET, "/v1/agent/services", "service", BERTH_ACCESS_READ, services_cb },
  { BERTH_METHOD_GET, "/v1/agent/service/:_id", "service", BERTH_ACCESS_READ, service_cb },
  { BERTH_METHOD_GET, "/v1/agent/checks", "node", BERTH_ACCESS_READ, checks_cb },
  { BERTH_METHOD_PUT, "/v1/agent/check/register", "service", BERTH_ACCESS_WRITE, check_register_cb },
  { BERTH_METHOD_GET | BERTH_METHOD_PUT, "/v1/agent/check/deregister/:_id", "service", BERTH_ACCESS_WRITE,
    check_deregister_cb },
  { BERTH_METHOD_GET | BERTH_METHOD_PUT, "/v1/agent/check/pass/:_id", "service", BERTH_ACCESS_WRITE,
    check_pass_cb },
  { BERTH_METHOD_GET | BERTH_METHOD_PUT, "/v1/agent/check/warn/:_id", "service", BERTH_ACCESS_WRITE,
    check_warn_cb },
  { BERTH_METHOD_GET | BERTH_METHOD_PUT, "/v1/agent/check/fail/:_id", "service", BERTH_ACCESS_WRITE,
    check_fail_cb },
  { BERTH_METHOD_PUT, "/v1/agent/check/update/:_id", "service", BERTH_ACCESS_WRITE, check_update_cb },
  { BERTH_METHOD_GET, "/v1/agent/members", "node", BERTH_ACCESS_READ, members_cb },
  { BERTH_METHOD_PUT, "/v1/agent/maintenance", "node", BERTH_ACCESS_WRITE, node_maintenance_cb },
};

void
discovery_agent_services_add_routes (DiscoveryPlugin *plugin)
{
  discovery_wan_add_routes (plugin, agent_service_routes, G_N_ELEMENTS (agent_service_routes));
}
