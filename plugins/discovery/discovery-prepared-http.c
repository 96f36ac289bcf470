/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "discovery-blocking.h"
#include "discovery-catalog-http.h"
#include "discovery-prepared.h"
#include "discovery-wan.h"

/* Consul's /v1/query: create (POST), list, read, replace (PUT), delete
 * and execute prepared queries. The ACLs are Consul's: `query` read or
 * write on the query's name (checked here: the path has an ID), and the
 * results of an execution are the instances the caller may read (service
 * and node). The Token a query keeps is shown only to who may write ACLs. */

static BerthStore *
store_of (BerthRequest *req)
{
  return berth_context_get_store (berth_request_get_context (req));
}

static gboolean
shows_tokens (BerthRequest *req)
{
  return berth_request_authorize (req, "acl", NULL, BERTH_ACCESS_WRITE, NULL);
}

static void
respond_empty (BerthRequest *req)
{
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  berth_request_respond (req, 200, "application/json", empty);
}

/* ---- writes ------------------------------------------------------------- */

typedef struct {
  BerthRequest *request;
  char         *id;        /* answered as {"ID": …} when set */
} Written;

static void
written_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Written *w = user_data;
  g_autoptr(GError) error = NULL;

  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 && error != NULL)
    berth_request_respond_error (w->request, error);
  else if (w->id != NULL)
    {
      g_autoptr(JsonNode) answer = json_node_new (JSON_NODE_OBJECT);
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "ID", w->id);
      json_node_take_object (answer, o);
      berth_request_respond_json (w->request, 200, answer);
    }
  else
    respond_empty (w->request);
  g_object_unref (w->request);
  g_free (w->id);
  g_free (w);
}

static void
submit (BerthRequest *req, BerthStoreWriteFunc func, PreparedQuery *q, gboolean answer_id)
{
  Written *w = g_new0 (Written, 1);

  w->request = g_object_ref (req);
  w->id = answer_id ? g_strdup (q->id) : NULL;
  berth_store_write_async (store_of (req), func, q, (GDestroyNotify) prepared_query_free, NULL, written_cb, w);
}

/* The body as a query to store under @id, if the caller may write its
 * name; NULL after answering otherwise. */
static PreparedQuery *
query_from_body (BerthRequest *req, const char *id)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o = discovery_catalog_body (req, &root);
  g_autoptr(GError) error = NULL;
  g_autoptr(PreparedQuery) q = NULL;
  JsonObject *template;

  if (o == NULL)
    return NULL;
  q = g_new0 (PreparedQuery, 1);
  q->id = g_strdup (id);
  q->def = prepared_parse (o, &error);
  if (q->def == NULL ||
      !berth_request_authorize (req, "query", json_object_get_string_member (q->def, "Name"), BERTH_ACCESS_WRITE,
                                &error))
    {
      berth_request_respond_error (req, error);
      return NULL;
    }
  q->name = g_strdup (json_object_get_string_member (q->def, "Name"));
  template = json_object_get_object_member (q->def, "Template");
  q->is_template = *json_object_get_string_member (template, "Type") != '\0';
  return g_steal_pointer (&q);
}

static void
create_cb (BerthRequest *req, gpointer user_data)
{
  g_autofree char *id = g_uuid_string_random ();
  PreparedQuery *q = query_from_body (req, id);

  if (q != NULL)
    submit (req, prepared_write_create, q, TRUE);
}

/* The stored query of the path's ID, if the caller may @access it. */
static PreparedQuery *
stored_query (BerthRequest *req, BerthAccess access)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PreparedQuery) q = prepared_get (store_of (req), berth_request_get_param (req, "_id"), &error);

  if (q == NULL || !berth_request_authorize (req, "query", q->name, access, &error))
    {
      berth_request_respond_error (req, error);
      return NULL;
    }
  return g_steal_pointer (&q);
}

static void
update_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(PreparedQuery) old = stored_query (req, BERTH_ACCESS_WRITE);
  PreparedQuery *q;

  if (old == NULL)
    return;
  q = query_from_body (req, old->id);
  if (q != NULL)
    submit (req, prepared_write_update, q, FALSE);
}

static void
delete_cb (BerthRequest *req, gpointer user_data)
{
  PreparedQuery *q = stored_query (req, BERTH_ACCESS_WRITE);

  if (q != NULL)
    submit (req, prepared_write_delete, q, FALSE);
}

/* ---- reads -------------------------------------------------------------- */

static gboolean
list_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  g_autoptr(GPtrArray) all = NULL;
  gboolean tokens = shows_tokens (req);
  JsonArray *array;

  answer->index = prepared_index (store_of (req));
  if ((all = prepared_list (store_of (req), error)) == NULL)
    return FALSE;
  array = json_array_new ();
  for (guint i = 0; i < all->len; i++)
    {
      PreparedQuery *q = g_ptr_array_index (all, i);
      if (berth_request_may_read (req, "query", q->name))
        json_array_add_element (array, prepared_to_json (q, tokens));
    }
  answer->json = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (answer->json, array);
  return TRUE;
}

static gboolean
get_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  g_autoptr(PreparedQuery) q = NULL;
  JsonArray *array;

  answer->index = prepared_index (store_of (req));
  q = prepared_get (store_of (req), berth_request_get_param (req, "_id"), error);
  if (q == NULL || !berth_request_authorize (req, "query", q->name, BERTH_ACCESS_READ, error))
    return FALSE;
  array = json_array_new ();
  json_array_add_element (array, prepared_to_json (q, shows_tokens (req)));
  answer->json = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (answer->json, array);
  return TRUE;
}

static void
list_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "query", NULL, list_read, NULL, NULL);
}

static void
get_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "query", NULL, get_read, NULL, NULL);
}

static void
explain_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PreparedQuery) q = prepared_resolve (store_of (req), berth_request_get_param (req, "_id"), &error);
  g_autoptr(JsonNode) answer = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o;

  if (q == NULL || !berth_request_authorize (req, "query", q->name, BERTH_ACCESS_READ, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  o = json_object_new ();
  json_object_set_member (o, "Query", prepared_to_json (q, shows_tokens (req)));
  json_node_take_object (answer, o);
  berth_request_respond_json (req, 200, answer);
}

static gboolean
request_may_read (gpointer data, const char *resource, const char *name)
{
  return berth_request_may_read (data, resource, name);
}

static void
executed_cb (JsonNode *result, gpointer user_data)
{
  g_autoptr(BerthRequest) req = user_data;

  if (g_cancellable_is_cancelled (berth_request_get_cancellable (req)))
    return;   /* the client went away */
  berth_request_respond_json (req, 200, result);
}

static void
execute_cb (BerthRequest *req, gpointer user_data)
{
  DiscoveryPlugin *plugin = user_data;
  g_autoptr(GError) error = NULL;
  PreparedQuery *q;
  guint64 limit = 0;
  BerthCaller *caller = berth_request_get_caller (req);

  if (!berth_request_get_query_uint64 (req, "limit", 0, &limit, &error) ||
      (q = prepared_resolve (store_of (req), berth_request_get_param (req, "_id"), &error)) == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  berth_request_set_index (req, prepared_index (store_of (req)));
  prepared_execute (plugin, q, caller != NULL ? berth_caller_get_token (caller) : NULL, request_may_read, req,
                    limit, executed_cb, g_object_ref (req));
}

/* Executing needs no `query` rule, as in Consul: what the caller may read
 * of the results is what it gets. */
static const BerthRouteSpec prepared_routes[] = {
  { BERTH_METHOD_POST, "/v1/query", "query", BERTH_ACCESS_WRITE, create_cb },
  { BERTH_METHOD_GET, "/v1/query", "query", BERTH_ACCESS_READ, list_cb },
  { BERTH_METHOD_GET, "/v1/query/:_id/execute", "service", BERTH_ACCESS_READ, execute_cb },
  { BERTH_METHOD_GET, "/v1/query/:_id/explain", "query", BERTH_ACCESS_READ, explain_cb },
  { BERTH_METHOD_GET, "/v1/query/:_id", "query", BERTH_ACCESS_READ, get_cb },
  { BERTH_METHOD_PUT, "/v1/query/:_id", "query", BERTH_ACCESS_WRITE, update_cb },
  { BERTH_METHOD_DELETE, "/v1/query/:_id", "query", BERTH_ACCESS_WRITE, delete_cb },
};

void
discovery_prepared_add_routes (DiscoveryPlugin *plugin)
{
  g_return_if_fail (DISCOVERY_IS_PLUGIN (plugin));
  discovery_wan_add_routes (plugin, prepared_routes, G_N_ELEMENTS (prepared_routes));
}
