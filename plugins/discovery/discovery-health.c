/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "discovery-acl.h"
#include "discovery-blocking.h"
#include "discovery-health.h"
#include "discovery-query.h"
#include "discovery-wan.h"

/* Consul's /v1/health/...: service instances with their checks, and checks
 * by service, node or state. Every endpoint blocks (?index=&wait=) on the
 * topic it reads. */

void
health_entry_free (HealthEntry *e)
{
  catalog_node_free (e->node);
  catalog_service_free (e->service);
  g_clear_pointer (&e->checks, g_ptr_array_unref);
  g_free (e);
}

GPtrArray *
discovery_health_instances (BerthStore *store, const char *name, const char *tag,
                            HealthFilter filter, BerthRequest *node_meta_req, GError **error)
{
  g_autoptr(GPtrArray) services = catalog_list_services (store, NULL, name, error);
  g_autoptr(GPtrArray) checks = NULL;
  g_autoptr(GHashTable) nodes = NULL;
  g_autoptr(GPtrArray) result = NULL;

  if (services == NULL)
    return NULL;
  result = g_ptr_array_new_with_free_func ((GDestroyNotify) health_entry_free);
  if (services->len == 0)
    return g_steal_pointer (&result);
  checks = name != NULL ? catalog_list_checks_for_service (store, name, error)
                        : catalog_list_checks (store, NULL, NULL, NULL, error);
  if (checks == NULL)
    return NULL;
  nodes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) catalog_node_free);

  for (guint i = 0; i < services->len; i++)
    {
      CatalogService *s = g_ptr_array_index (services, i);
      CatalogNode *node = g_hash_table_lookup (nodes, s->node);
      HealthEntry *e;

      if (tag != NULL && !catalog_service_has_tag (s, tag))
        continue;
      if (node == NULL)
        {
          node = catalog_get_node (store, s->node, NULL);
          if (node == NULL)
            continue;
          g_hash_table_insert (nodes, node->name, node);
        }
      if (node_meta_req != NULL && !catalog_node_meta_match (node, node_meta_req))
        continue;
      e = g_new0 (HealthEntry, 1);
      e->status = CHECK_PASSING;
      e->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) catalog_check_free);
      for (guint j = 0; j < checks->len; j++)
        {
          CatalogCheck *c = g_ptr_array_index (checks, j);
          if (g_strcmp0 (c->node, s->node) != 0)
            continue;
          if (c->service_id[0] != '\0' && g_strcmp0 (c->service_id, s->id) != 0)
            continue;
          /* a node's checks apply to each of its services: copies */
          g_ptr_array_add (e->checks, catalog_check_copy (c));
          e->status = catalog_status_worst (e->status, c->status);
        }
      if ((filter == HEALTH_PASSING_ONLY && g_strcmp0 (e->status, CHECK_PASSING) != 0) ||
          (filter == HEALTH_NOT_CRITICAL && g_strcmp0 (e->status, CHECK_CRITICAL) == 0))
        {
          g_ptr_array_unref (e->checks);
          g_free (e);
          continue;
        }
      /* e->status pointed into the shared list: point at a literal */
      e->status = g_strcmp0 (e->status, CHECK_CRITICAL) == 0 ? CHECK_CRITICAL
                  : g_strcmp0 (e->status, CHECK_WARNING) == 0 ? CHECK_WARNING : CHECK_PASSING;
      e->node = catalog_node_copy (node);
      g_ptr_array_index (services, i) = NULL;
      e->service = s;
      g_ptr_array_add (result, e);
    }
  return g_steal_pointer (&result);
}

JsonNode *
discovery_health_entry_to_json (HealthEntry *e)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Node");
  json_builder_add_value (b, catalog_node_to_json (e->node));
  json_builder_set_member_name (b, "Service");
  json_builder_add_value (b, catalog_service_to_json (e->service, TRUE));
  json_builder_set_member_name (b, "Checks");
  json_builder_begin_array (b);
  for (guint i = 0; i < e->checks->len; i++)
    json_builder_add_value (b, catalog_check_to_json (g_ptr_array_index (e->checks, i)));
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- endpoints -------------------------------------------------------- */

static gboolean
health_service_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  const char *name = berth_request_get_param (req, "name");
  HealthFilter filter = berth_request_has_query (req, "passing") &&
                        g_strcmp0 (berth_request_get_query (req, "passing"), "false") != 0 &&
                        g_strcmp0 (berth_request_get_query (req, "passing"), "0") != 0
                        ? HEALTH_PASSING_ONLY : HEALTH_ANY;
  g_autoptr(GPtrArray) entries = NULL;
  JsonArray *array;

  answer->index = catalog_index (store, "service", name);
  entries = discovery_health_instances (store, name, berth_request_get_query (req, "tag"),
                                        filter, req, error);
  if (entries == NULL)
    return FALSE;
  array = json_array_sized_new (entries->len);
  for (guint i = 0; i < entries->len; i++)
    {
      HealthEntry *e = g_ptr_array_index (entries, i);
      /* the service was checked on the path; each instance's node too */
      if (berth_request_may_read (req, "node", e->node->name))
        json_array_add_element (array, discovery_health_entry_to_json (e));
    }
  answer->json = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (answer->json, array);
  if (!discovery_query_filter_array (req, DISCOVERY_FILTER_HEALTH_ENTRY, array, error))
    return FALSE;
  discovery_query_near (req, array, "Node", "Node");
  return TRUE;
}

static JsonNode *
checks_to_json (GPtrArray *checks)
{
  JsonArray *array = json_array_sized_new (checks->len);
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < checks->len; i++)
    json_array_add_element (array, catalog_check_to_json (g_ptr_array_index (checks, i)));
  json_node_take_array (node, array);
  return node;
}

/* What a /v1/health/{checks,node,state} read lists: the checks of the
 * service, of the node, or in the state its path names. */
typedef enum {
  CHECKS_OF_SERVICE,
  CHECKS_OF_NODE,
  CHECKS_IN_STATE,
} ChecksOf;

static gboolean
checks_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  const char *service = NULL, *node = NULL, *state = NULL;
  g_autoptr(GPtrArray) checks = NULL;

  switch ((ChecksOf) GPOINTER_TO_INT (user_data))
    {
    case CHECKS_OF_SERVICE:
      service = berth_request_get_param (req, "name");
      answer->index = catalog_index (store, "service", service);
      break;
    case CHECKS_OF_NODE:
      node = berth_request_get_param (req, "node");
      answer->index = catalog_index (store, "node", node);
      break;
    case CHECKS_IN_STATE:
    default:
      state = berth_request_get_param (req, "_state");
      if (g_str_equal (state, "any"))
        state = NULL;
      answer->index = catalog_index (store, "check", NULL);
      break;
    }
  checks = catalog_list_checks (store, node, service, state, error);
  if (checks == NULL)
    return FALSE;
  for (guint i = checks->len; i > 0; i--)
    if (!discovery_acl_may_read_check (req, g_ptr_array_index (checks, i - 1)))
      g_ptr_array_remove_index (checks, i - 1);
  answer->json = checks_to_json (checks);
  if (!discovery_query_filter_array (req, DISCOVERY_FILTER_CHECK, json_node_get_array (answer->json),
                                     error))
    return FALSE;
  if (service != NULL || node == NULL)
    discovery_query_near (req, json_node_get_array (answer->json), "Node", NULL);
  return TRUE;
}

static void
health_service_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "service", berth_request_get_param (req, "name"),
                            health_service_read, NULL, NULL);
}

static void
health_checks_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "service", berth_request_get_param (req, "name"),
                            checks_read, GINT_TO_POINTER (CHECKS_OF_SERVICE), NULL);
}

static void
health_node_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "node", berth_request_get_param (req, "node"),
                            checks_read, GINT_TO_POINTER (CHECKS_OF_NODE), NULL);
}

static void
health_state_cb (BerthRequest *req, gpointer user_data)
{
  const char *state = berth_request_get_param (req, "_state");

  if (!g_str_equal (state, "any") && !g_str_equal (state, CHECK_PASSING) &&
      !g_str_equal (state, CHECK_WARNING) && !g_str_equal (state, CHECK_CRITICAL))
    {
      berth_request_respond_message (req, 400, _("Invalid check state: use any, passing, warning or critical"));
      return;
    }
  discovery_blocking_serve (req, "check", NULL, checks_read, GINT_TO_POINTER (CHECKS_IN_STATE), NULL);
}

static const BerthRouteSpec health_routes[] = {
  { BERTH_METHOD_GET, "/v1/health/service/:name", "service", BERTH_ACCESS_READ, health_service_cb },
  { BERTH_METHOD_GET, "/v1/health/checks/:name", "service", BERTH_ACCESS_READ, health_checks_cb },
  { BERTH_METHOD_GET, "/v1/health/node/:node", "node", BERTH_ACCESS_READ, health_node_cb },
  { BERTH_METHOD_GET, "/v1/health/state/:_state", "node", BERTH_ACCESS_READ, health_state_cb },
};

void
discovery_health_add_routes (DiscoveryPlugin *plugin)
{
  discovery_wan_add_routes (plugin, health_routes, G_N_ELEMENTS (health_routes));
}
