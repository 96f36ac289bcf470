/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "discovery-acl.h"
#include "discovery-blocking.h"
#include "discovery-catalog.h"
#include "discovery-catalog-http.h"
#include "discovery-catalog-parse.h"
#include "discovery-json.h"
#include "discovery-query.h"
#include "discovery-wan.h"

/* Consul's /v1/catalog/...: register and deregister (nodes, services,
 * checks, external nodes included), and the blocking reads. */

static void
write_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(BerthRequest) req = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  guint64 index;

  index = berth_store_write_finish (BERTH_STORE (source), result, &error);
  if (index == 0)
    {
      berth_request_respond_error (req, error);
      return;
    }
  answer = json_node_new (JSON_NODE_VALUE);
  json_node_set_boolean (answer, TRUE);
  berth_request_set_index (req, index);
  berth_request_respond_json (req, 200, answer);
}

void
discovery_catalog_submit (BerthRequest *req, BerthStoreWriteFunc func, gpointer data,
                          GDestroyNotify destroy)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  CatalogWrite *w = catalog_write_new (func, data, destroy, berth_request_get_caller (req));

  /* what it changes is published with the caller */
  berth_store_write_async (store, catalog_write_as, w, (GDestroyNotify) catalog_write_free, NULL,
                           write_done_cb, g_object_ref (req));
}

void
discovery_catalog_submit_registration (BerthRequest *req, CatalogRegistration *reg)
{
  g_autoptr(GError) error = NULL;

  if (!discovery_acl_registration (req, reg, &error) ||
      !catalog_checks_allowed (berth_request_get_context (req), reg->checks, &error))
    {
      catalog_registration_free (reg);
      berth_request_respond_error (req, error);
      return;
    }
  discovery_catalog_submit (req, catalog_write_register, reg, (GDestroyNotify) catalog_registration_free);
}

void
discovery_catalog_submit_deregistration (BerthRequest *req, const char *node, const char *service_id,
                                         const char *check_id)
{
  g_autoptr(GError) error = NULL;
  CatalogDeregistration *d;

  if (!discovery_acl_deregistration (req, node, service_id, check_id, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  d = g_new0 (CatalogDeregistration, 1);
  d->node = g_strdup (node);
  d->service_id = g_strdup (service_id != NULL && *service_id != '\0' ? service_id : NULL);
  d->check_id = g_strdup (check_id != NULL && *check_id != '\0' ? check_id : NULL);
  discovery_catalog_submit (req, catalog_write_deregister, d,
                            (GDestroyNotify) catalog_deregistration_free);
}

/* The request's JSON object body, or NULL after answering 400. */
JsonObject *
discovery_catalog_body (BerthRequest *req, JsonNode **root)
{
  g_autoptr(GError) error = NULL;

  *root = berth_request_parse_json (req, &error);
  if (*root == NULL)
    {
      if (error == NULL)
        g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Missing request body"));
      berth_request_respond_error (req, error);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (*root))
    {
      berth_request_respond_message (req, 400, _("The request body must be a JSON object"));
      g_clear_pointer (root, json_node_unref);
      return NULL;
    }
  return json_node_get_object (*root);
}

/* ---- register / deregister ------------------------------------------- */

static void
catalog_register_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o = discovery_catalog_body (req, &root);
  g_autoptr(CatalogRegistration) reg = NULL;
  g_autoptr(GError) error = NULL;
  BerthNode *self_node = berth_context_get_node (berth_request_get_context (req));
  const char *node, *address = NULL, *id = NULL, *dc = NULL;
  gboolean skip_node_update = FALSE;
  JsonNode *service, *check, *checks, *skip;

  if (o == NULL)
    return;
  reg = g_new0 (CatalogRegistration, 1);
  reg->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) catalog_check_free);
  if ((node = discovery_json_string (o, "Node", &error)) == NULL && error == NULL)
    g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Missing node name"));
  if (error == NULL && (address = discovery_json_string (o, "Address", &error)) == NULL && error == NULL)
    g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Missing node address"));
  if (error == NULL)
    id = discovery_json_string (o, "ID", &error);
  if (error == NULL)
    dc = discovery_json_string (o, "Datacenter", &error);
  if (error != NULL)
    goto fail;
  /* a registration names the datacenter it is for: another one's goes there */
  if (dc != NULL && *dc != '\0' && g_ascii_strcasecmp (dc, berth_node_get_datacenter (self_node)) != 0)
    {
      discovery_wan_forward (user_data, req, dc);
      return;
    }
  if (*node == '\0' || *address == '\0')
    {
      g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Missing node name or address"));
      goto fail;
    }
  skip = discovery_json_member (o, "SkipNodeUpdate");
  if (skip != NULL && JSON_NODE_HOLDS_VALUE (skip) && json_node_get_value_type (skip) == G_TYPE_BOOLEAN)
    skip_node_update = json_node_get_boolean (skip);
  else if (skip != NULL && !JSON_NODE_HOLDS_NULL (skip))
    {
      g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_INVALID, _("“SkipNodeUpdate” must be a boolean"));
      goto fail;
    }

  reg->node_name = g_strdup (node);
  if (!skip_node_update)
    {
      JsonNode *meta = discovery_json_member (o, "NodeMeta");
      JsonNode *tagged = discovery_json_member (o, "TaggedAddresses");

      reg->node = g_new0 (CatalogNode, 1);
      reg->node->name = g_strdup (node);
      reg->node->id = g_strdup (id != NULL ? id : (g_str_equal (node, berth_node_get_name (self_node))
                                                   ? berth_node_get_id (self_node) : ""));
      reg->node->address = g_strdup (address);
      reg->node->datacenter = g_strdup (dc != NULL && *dc != '\0' ? dc : berth_node_get_datacenter (self_node));
      if (!catalog_check_meta (berth_request_get_context (req), meta, "NodeMeta", &error))
        goto fail;
      if (tagged != NULL && !JSON_NODE_HOLDS_NULL (tagged) && !catalog_json_is_string_object (tagged))
        {
          g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_INVALID,
                               _("“TaggedAddresses” must be an object of strings"));
          goto fail;
        }
      reg->node->meta_json = meta != NULL && JSON_NODE_HOLDS_OBJECT (meta) ? json_to_string (meta, FALSE)
                                                                           : g_strdup ("{}");
      reg->node->tagged_json = tagged != NULL && JSON_NODE_HOLDS_OBJECT (tagged)
                               ? json_to_string (tagged, FALSE) : g_strdup ("{}");
    }

  service = discovery_json_member (o, "Service");
  if (service != NULL && !JSON_NODE_HOLDS_NULL (service))
    {
      if (!JSON_NODE_HOLDS_OBJECT (service))
        {
          g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_INVALID, _("“Service” must be an object"));
          goto fail;
        }
      reg->service = catalog_parse_service (berth_request_get_context (req),
                                            json_node_get_object (service), &error);
      if (reg->service == NULL)
        goto fail;
    }
  check = discovery_json_member (o, "Check");
  checks = discovery_json_member (o, "Checks");
  {
    g_autoptr(GPtrArray) objects = g_ptr_array_new ();

    if (check != NULL && JSON_NODE_HOLDS_OBJECT (check))
      g_ptr_array_add (objects, json_node_get_object (check));
    else if (check != NULL && !JSON_NODE_HOLDS_NULL (check))
      {
        g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_INVALID, _("“Check” must be an object"));
        goto fail;
      }
    if (checks != NULL && JSON_NODE_HOLDS_ARRAY (checks))
      {
        for (guint i = 0; i < json_array_get_length (json_node_get_array (checks)); i++)
          {
            JsonNode *e = json_array_get_element (json_node_get_array (checks), i);
            if (!JSON_NODE_HOLDS_OBJECT (e))
              {
                g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_INVALID,
                                     _("“Checks” must be an array of objects"));
                goto fail;
              }
            g_ptr_array_add (objects, json_node_get_object (e));
          }
      }
    else if (checks != NULL && !JSON_NODE_HOLDS_NULL (checks))
      {
        g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_INVALID, _("“Checks” must be an array"));
        goto fail;
      }
    for (guint i = 0; i < objects->len; i++)
      {
        CatalogCheck *c = catalog_parse_check (g_ptr_array_index (objects, i), NULL, NULL, FALSE, &error);
        if (c == NULL)
          goto fail;
        /* catalog checks are reported, not run, unless on this node */
        if (*c->service_id == '\0' && reg->service != NULL &&
            discovery_json_member (g_ptr_array_index (objects, i), "ServiceID") == NULL)
          {
            g_free (c->service_id);
            c->service_id = g_strdup (reg->service->id);
          }
        g_ptr_array_add (reg->checks, c);
      }
  }
  if (reg->service == NULL && reg->checks->len == 0 && reg->node == NULL)
    {
      g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Nothing to register"));
      goto fail;
    }
  discovery_catalog_submit_registration (req, g_steal_pointer (&reg));
  return;

fail:
  berth_request_respond_error (req, error);
}

static void
catalog_deregister_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o = discovery_catalog_body (req, &root);
  g_autoptr(GError) error = NULL;
  const char *node, *service_id = NULL, *check_id = NULL;

  if (o == NULL)
    return;
  if ((node = discovery_json_string (o, "Node", &error)) == NULL && error == NULL)
    g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Missing node name"));
  if (error == NULL)
    service_id = discovery_json_string (o, "ServiceID", &error);
  if (error == NULL)
    check_id = discovery_json_string (o, "CheckID", &error);
  if (error != NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  if ((service_id == NULL || *service_id == '\0') && (check_id == NULL || *check_id == '\0') &&
      g_strcmp0 (node, berth_node_get_name (berth_context_get_node (berth_request_get_context (req)))) == 0)
    {
      berth_request_respond_message (req, 400, _("This agent's own node cannot be deregistered: "
                                                 "deregister its services or checks instead"));
      return;
    }
  discovery_catalog_submit_deregistration (req, node, service_id, check_id);
}

/* ---- reads ------------------------------------------------------------ */

static gboolean
services_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GHashTable) tags = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                      (GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GHashTable) node_ok = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GList) names = NULL;
  g_autoptr(DiscoveryFilter) filter = NULL;
  JsonObject *object;

  answer->index = catalog_index (store, "service", NULL);
  if (!discovery_query_filter (req, DISCOVERY_FILTER_SERVICE_NODE, &filter, error))
    return FALSE;
  services = catalog_list_services (store, NULL, NULL, error);
  if (services == NULL)
    return FALSE;
  for (guint i = 0; i < services->len; i++)
    {
      CatalogService *s = g_ptr_array_index (services, i);
      g_autoptr(JsonNode) list = NULL;
      GPtrArray *set;
      gpointer ok;

      if (!berth_request_may_read (req, "service", s->name))
        continue;
      if (!g_hash_table_lookup_extended (node_ok, s->node, NULL, &ok))
        {
          g_autoptr(CatalogNode) n = catalog_get_node (store, s->node, NULL);
          ok = GINT_TO_POINTER (n != NULL && catalog_node_meta_match (n, req));
          g_hash_table_insert (node_ok, g_strdup (s->node), ok);
        }
      if (!GPOINTER_TO_INT (ok))
        continue;
      /* Consul filters the instances (as /v1/catalog/service rows) */
      if (filter != NULL)
        {
          g_autoptr(CatalogNode) n = catalog_get_node (store, s->node, NULL);
          g_autoptr(JsonNode) row = n != NULL ? catalog_service_row_to_json (n, s) : NULL;
          gboolean keep = FALSE;

          if (row != NULL && !discovery_filter_match (filter, row, &keep, error))
            return FALSE;
          if (!keep)
            continue;
        }
      set = g_hash_table_lookup (tags, s->name);
      if (set == NULL)
        {
          set = g_ptr_array_new_with_free_func (g_free);
          g_hash_table_insert (tags, g_strdup (s->name), set);
        }
      list = catalog_json_parse (s->tags_json);
      for (guint j = 0; JSON_NODE_HOLDS_ARRAY (list) && j < json_array_get_length (json_node_get_array (list)); j++)
        {
          const char *t = json_array_get_string_element (json_node_get_array (list), j);
          gboolean seen = FALSE;
          for (guint k = 0; k < set->len && !seen; k++)
            seen = g_str_equal (g_ptr_array_index (set, k), t);
          if (!seen)
            g_ptr_array_add (set, g_strdup (t));
        }
    }
  names = g_list_sort (g_hash_table_get_keys (tags), (GCompareFunc) g_strcmp0);
  object = json_object_new ();
  for (GList *l = names; l != NULL; l = l->next)
    {
      GPtrArray *set = g_hash_table_lookup (tags, l->data);
      JsonArray *array = json_array_new ();
      for (guint k = 0; k < set->len; k++)
        json_array_add_string_element (array, g_ptr_array_index (set, k));
      json_object_set_array_member (object, l->data, array);
    }
  answer->json = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (answer->json, object);
  return TRUE;
}

static gboolean
service_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  const char *name = berth_request_get_param (req, "name");
  const char *tag = berth_request_get_query (req, "tag");
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GHashTable) nodes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                       (GDestroyNotify) catalog_node_free);
  JsonArray *array;

  answer->index = catalog_index (store, "service", name);
  services = catalog_list_services (store, NULL, name, error);
  if (services == NULL)
    return FALSE;
  array = json_array_new ();
  for (guint i = 0; i < services->len; i++)
    {
      CatalogService *s = g_ptr_array_index (services, i);
      CatalogNode *n = g_hash_table_lookup (nodes, s->node);

      if (tag != NULL && !catalog_service_has_tag (s, tag))
        continue;
      if (n == NULL)
        {
          n = catalog_get_node (store, s->node, NULL);
          if (n == NULL)
            continue;
          g_hash_table_insert (nodes, n->name, n);
        }
      if (!catalog_node_meta_match (n, req) || !berth_request_may_read (req, "node", n->name))
        continue;
      json_array_add_element (array, catalog_service_row_to_json (n, s));
    }
  answer->json = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (answer->json, array);
  if (!discovery_query_filter_array (req, DISCOVERY_FILTER_SERVICE_NODE, array, error))
    return FALSE;
  discovery_query_near (req, array, "Node", NULL);
  return TRUE;
}

static gboolean
nodes_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(GPtrArray) nodes = NULL;
  JsonArray *array;

  answer->index = catalog_index (store, "node", NULL);
  nodes = catalog_list_nodes (store, error);
  if (nodes == NULL)
    return FALSE;
  array = json_array_new ();
  for (guint i = 0; i < nodes->len; i++)
    if (catalog_node_meta_match (g_ptr_array_index (nodes, i), req) &&
        berth_request_may_read (req, "node", ((CatalogNode *) g_ptr_array_index (nodes, i))->name))
      json_array_add_element (array, catalog_node_to_json (g_ptr_array_index (nodes, i)));
  answer->json = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (answer->json, array);
  if (!discovery_query_filter_array (req, DISCOVERY_FILTER_NODE, array, error))
    return FALSE;
  discovery_query_near (req, array, "Node", NULL);
  return TRUE;
}

static gboolean
node_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  const char *name = berth_request_get_param (req, "node");
  g_autoptr(GError) local_error = NULL;
  g_autoptr(CatalogNode) node = NULL;
  g_autoptr(GPtrArray) services = NULL;
  JsonObject *object, *map;

  answer->index = catalog_index (store, "node", name);
  node = catalog_get_node (store, name, &local_error);
  if (node == NULL)
    {
      if (!g_error_matches (local_error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      /* Consul answers an unknown node with null */
      answer->json = json_node_new (JSON_NODE_NULL);
      return TRUE;
    }
  services = catalog_list_services (store, name, NULL, error);
  if (services == NULL)
    return FALSE;
  object = json_object_new ();
  map = json_object_new ();
  json_object_set_member (object, "Node", catalog_node_to_json (node));
  for (guint i = 0; i < services->len; i++)
    {
      CatalogService *s = g_ptr_array_index (services, i);
      if (berth_request_may_read (req, "service", s->name))
        json_object_set_member (map, s->id, catalog_service_to_json (s, TRUE));
    }
  json_object_set_object_member (object, "Services", map);
  answer->json = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (answer->json, object);
  /* Consul filters the node's services */
  return discovery_query_filter_values (req, DISCOVERY_FILTER_SERVICE, map, error);
}

static void
services_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "service", NULL, services_read, NULL, NULL);
}

static void
service_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "service", berth_request_get_param (req, "name"),
                            service_read, NULL, NULL);
}

static void
nodes_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "node", NULL, nodes_read, NULL, NULL);
}

static void
node_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "node", berth_request_get_param (req, "node"), node_read, NULL, NULL);
}

static const BerthRouteSpec catalog_routes[] = {
  { BERTH_METHOD_PUT, "/v1/catalog/register", "node", BERTH_ACCESS_WRITE, catalog_register_cb },
  { BERTH_METHOD_PUT, "/v1/catalog/deregister", "node", BERTH_ACCESS_WRITE, catalog_deregister_cb },
  { BERTH_METHOD_GET, "/v1/catalog/services", "service", BERTH_ACCESS_READ, services_cb },
  { BERTH_METHOD_GET, "/v1/catalog/service/:name", "service", BERTH_ACCESS_READ, service_cb },
  { BERTH_METHOD_GET, "/v1/catalog/nodes", "node", BERTH_ACCESS_READ, nodes_cb },
  { BERTH_METHOD_GET, "/v1/catalog/node/:node", "node", BERTH_ACCESS_READ, node_cb },
};

void
discovery_catalog_add_routes (DiscoveryPlugin *plugin)
{
  discovery_wan_add_routes (plugin, catalog_routes, G_N_ELEMENTS (catalog_routes));
}
