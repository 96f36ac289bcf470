/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "discovery-health.h"
#include "discovery-json.h"
#include "discovery-prepared.h"
#include "discovery-wan.h"
#include <berth-store-raw.h>

/* Executing a prepared query, as Consul does: the instances of its service
 * here that are healthy enough (not critical; passing only with
 * OnlyPassing; checks in IgnoreCheckIDs do not count), have every tag it
 * asks for and none of its "!tag"s, and match its NodeMeta and
 * ServiceMeta, shuffled. When there are none, the failover datacenters
 * are asked in turn — the NearestN linked ones (every datacenter is as
 * near as any other: no round trips are measured, so in name order), then
 * those of Datacenters — each for /v1/health/service/<service> with the
 * caller's token, filtered the same way; the first with instances
 * answers. Failovers counts the datacenters asked. A query that keeps a
 * Token is executed with it (its ACLs filter, it goes to the failover
 * datacenters), as Consul does; otherwise with the caller's. */

typedef struct {
  DiscoveryPlugin    *plugin;
  PreparedQuery      *query;
  char               *token;
  PreparedMayRead     may_read;
  gpointer            may_read_data;
  guint64             limit;
  PreparedResultFunc  func;
  gpointer            user_data;
  GPtrArray          *datacenters;   /* still to ask */
  guint               failovers;
  BerthCaller        *stored;        /* the query's own Token, or NULL */
} Run;

static void
run_free (Run *run)
{
  prepared_query_free (run->query);
  g_free (run->token);
  g_clear_pointer (&run->datacenters, g_ptr_array_unref);
  g_clear_object (&run->stored);
  g_free (run);
}

static JsonObject *
service_def (PreparedQuery *q)
{
  return discovery_json_object (q->def, "Service");
}

static gboolean
string_in (JsonArray *array, const char *text, gboolean fold)
{
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *e = json_array_get_element (array, i);
      const char *s = JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING
                      ? json_node_get_string (e) : NULL;
      if (s != NULL && (fold ? g_ascii_strcasecmp (s, text) == 0 : g_str_equal (s, text)))
        return TRUE;
    }
  return FALSE;
}

static gboolean
meta_matches (JsonObject *want, JsonObject *have)
{
  g_autoptr(GList) keys = want != NULL ? json_object_get_members (want) : NULL;

  for (GList *l = keys; l != NULL; l = l->next)
    if (have == NULL ||
        g_strcmp0 (discovery_json_text (have, l->data, NULL), json_object_get_string_member (want, l->data)) != 0)
      return FALSE;
  return TRUE;
}

static int
severity (const char *status)
{
  if (g_strcmp0 (status, "passing") == 0)
    return 0;
  if (g_strcmp0 (status, "warning") == 0)
    return 1;
  return 2;
}

/* Whether one health entry (Consul's JSON) is an answer of @def. */
static gboolean
entry_matches (JsonObject *def, JsonObject *entry)
{
  JsonObject *node = discovery_json_object (entry, "Node");
  JsonObject *service = discovery_json_object (entry, "Service");
  JsonNode *checks = json_object_get_member (entry, "Checks");
  JsonArray *ignore = json_object_get_array_member (def, "IgnoreCheckIDs");
  JsonArray *want_tags = json_object_get_array_member (def, "Tags");
  JsonNode *tags_node;
  JsonArray *tags;
  int worst = 0;

  if (node == NULL || service == NULL)
    return FALSE;
  for (guint i = 0; checks != NULL && JSON_NODE_HOLDS_ARRAY (checks) &&
                    i < json_array_get_length (json_node_get_array (checks)); i++)
    {
      JsonNode *c = json_array_get_element (json_node_get_array (checks), i);
      if (!JSON_NODE_HOLDS_OBJECT (c))
        continue;
      if (string_in (ignore, discovery_json_text (json_node_get_object (c), "CheckID", ""), FALSE))
        continue;
      worst = MAX (worst, severity (discovery_json_text (json_node_get_object (c), "Status", "")));
    }
  if (worst == 2 || (worst == 1 && json_object_get_boolean_member_with_default (def, "OnlyPassing", FALSE)))
    return FALSE;
  tags_node = json_object_get_member (service, "Tags");
  tags = tags_node != NULL && JSON_NODE_HOLDS_ARRAY (tags_node) ? json_node_get_array (tags_node) : NULL;
  for (guint i = 0; want_tags != NULL && i < json_array_get_length (want_tags); i++)
    {
      const char *tag = json_array_get_string_element (want_tags, i);
      gboolean negated = tag[0] == '!';

      if (negated ? string_in (tags, tag + 1, TRUE) : !string_in (tags, tag, TRUE))
        return FALSE;
    }
  return meta_matches (discovery_json_object (def, "NodeMeta"), discovery_json_object (node, "Meta")) &&
         meta_matches (discovery_json_object (def, "ServiceMeta"), discovery_json_object (service, "Meta"));
}

/* The entries of @entries that answer the query, shuffled, at most the
 * limit; @local: filtered by the caller's ACLs too. */
static JsonArray *
select_entries (Run *run, JsonArray *entries, gboolean local)
{
  JsonObject *def = service_def (run->query);
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  JsonArray *out = json_array_new ();

  for (guint i = 0; def != NULL && i < json_array_get_length (entries); i++)
    {
      JsonNode *e = json_array_get_element (entries, i);
      JsonObject *node;

      if (!JSON_NODE_HOLDS_OBJECT (e) || !entry_matches (def, json_node_get_object (e)))
        continue;
      node = discovery_json_object (json_node_get_object (e), "Node");
      if (local && run->may_read != NULL &&
          !run->may_read (run->may_read_data, "node", discovery_json_text (node, "Node", "")))
        continue;
      g_ptr_array_add (kept, json_node_ref (e));
    }
  for (guint i = kept->len; i > 1; i--)
    {
      guint j = (guint) g_random_int_range (0, (gint32) i);
      gpointer tmp = kept->pdata[i - 1];
      kept->pdata[i - 1] = kept->pdata[j];
      kept->pdata[j] = tmp;
    }
  for (guint i = 0; i < kept->len && (run->limit == 0 || i < run->limit); i++)
    json_array_add_element (out, json_node_ref (g_ptr_array_index (kept, i)));
  return out;
}

static void
finish (Run *run, JsonArray *nodes, const char *dc)
{
  g_autoptr(JsonNode) result = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();
  JsonObject *def = service_def (run->query);
  JsonObject *dns = discovery_json_object (run->query->def, "DNS");
  JsonObject *dns_out = json_object_new ();

  json_object_set_string_member (o, "Service", def != NULL ? discovery_json_text (def, "Service", "") : "");
  json_object_set_array_member (o, "Nodes", nodes);
  json_object_set_string_member (dns_out, "TTL", dns != NULL ? discovery_json_text (dns, "TTL", "") : "");
  json_object_set_object_member (o, "DNS", dns_out);
  json_object_set_string_member (o, "Datacenter", dc);
  json_object_set_int_member (o, "Failovers", run->failovers);
  json_node_take_object (result, o);
  run->func (result, run->user_data);
  run_free (run);
}

static void ask_next (Run *run);

static void
remote_cb (guint status, GBytes *body, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *dc = g_strdup (g_ptr_array_index (run->datacenters, 0));
  JsonArray *nodes;

  g_ptr_array_remove_index (run->datacenters, 0);
  /* another datacenter's answer is read as carefully as a request */
  if (status == 200 && body != NULL && (root = berth_json_parse_bytes (body, NULL)) != NULL &&
      JSON_NODE_HOLDS_ARRAY (root))
    {
      nodes = select_entries (run, json_node_get_array (root), FALSE);
      if (json_array_get_length (nodes) > 0)
        {
          finish (run, nodes, dc);
          return;
        }
      json_array_unref (nodes);
    }
  else
    g_debug ("query: datacenter %s did not answer (status %u)", dc, status);
  ask_next (run);
}

static void
ask_next (Run *run)
{
  JsonObject *def = service_def (run->query);
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;

  if (run->datacenters->len == 0)
    {
      BerthContext *ctx = berth_plugin_get_context (BERTH_PLUGIN (run->plugin));
      finish (run, json_array_new (), berth_node_get_datacenter (berth_context_get_node (ctx)));
      return;
    }
  run->failovers++;
  name = g_uri_escape_string (discovery_json_text (def, "Service", ""), NULL, FALSE);
  path = g_strdup_printf ("/v1/health/service/%s", name);
  discovery_wan_get (run->plugin, g_ptr_array_index (run->datacenters, 0), path, run->token, remote_cb, run);
}

static gboolean
has_dc (GPtrArray *dcs, const char *dc)
{
  for (guint i = 0; i < dcs->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (dcs, i), dc) == 0)
      return TRUE;
  return FALSE;
}

/* The datacenters to fail over to, in order: linked ones only. */
static GPtrArray *
failover_datacenters (Run *run, BerthStore *store, const char *own)
{
  JsonObject *failover = discovery_json_object (service_def (run->query), "Failover");
  GPtrArray *dcs = g_ptr_array_new_with_free_func (g_free);
  JsonArray *listed = failover != NULL ? json_object_get_array_member (failover, "Datacenters") : NULL;
  gint64 nearest = failover != NULL ? json_object_get_int_member_with_default (failover, "NearestN", 0) : 0;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean have_row = TRUE;

  if (nearest > 0)
    stmt = berth_store_prepare (store, "SELECT datacenter FROM wan_links ORDER BY datacenter", NULL);
  while (stmt != NULL && nearest > 0 && berth_store_step (store, stmt, &have_row, NULL) && have_row)
    {
      const char *dc = (const char *) sqlite3_column_text (stmt, 0);
      if (g_ascii_strcasecmp (dc, own) != 0 && !has_dc (dcs, dc))
        {
          g_ptr_array_add (dcs, g_strdup (dc));
          nearest--;
        }
    }
  for (guint i = 0; listed != NULL && i < json_array_get_length (listed); i++)
    {
      const char *dc = json_array_get_string_element (listed, i);
      g_autofree char *address = NULL;

      if (dc == NULL || g_ascii_strcasecmp (dc, own) == 0 || has_dc (dcs, dc))
        continue;
      /* a datacenter with no link is skipped, as Consul skips unknown ones */
      if ((address = discovery_wan_lookup (run->plugin, dc)) != NULL)
        g_ptr_array_add (dcs, g_strdup (dc));
    }
  return dcs;
}

/* What the query's own Token may read */
static gboolean
stored_may_read (gpointer data, const char *resource, const char *name)
{
  Run *run = data;
  BerthContext *ctx = berth_plugin_get_context (BERTH_PLUGIN (run->plugin));

  if (berth_context_get_service (ctx, BERTH_TYPE_AUTHORITY) == NULL)
    return TRUE;
  return berth_context_authorize (ctx, run->stored, resource, name, BERTH_ACCESS_READ, NULL);
}

void
prepared_execute (DiscoveryPlugin *plugin, PreparedQuery *query, const char *token, PreparedMayRead may_read,
                  gpointer may_read_data, guint64 limit, PreparedResultFunc func, gpointer user_data)
{
  BerthContext *ctx;
  BerthStore *store;
  const char *own, *service;
  Run *run;
  g_autoptr(GPtrArray) entries = NULL;
  JsonArray *all, *nodes;

  g_return_if_fail (DISCOVERY_IS_PLUGIN (plugin));
  g_return_if_fail (query != NULL && func != NULL);

  ctx = berth_plugin_get_context (BERTH_PLUGIN (plugin));
  store = berth_context_get_store (ctx);
  own = berth_node_get_datacenter (berth_context_get_node (ctx));
  run = g_new0 (Run, 1);
  run->plugin = plugin;
  run->query = query;
  run->token = g_strdup (token);
  run->may_read = may_read;
  run->may_read_data = may_read_data;
  run->limit = limit;
  run->func = func;
  run->user_data = user_data;
  /* a query that keeps a Token runs with it, whoever executes it */
  if (*discovery_json_text (query->def, "Token", "") != '\0')
    {
      run->stored = berth_caller_new_tcp ("prepared-query", FALSE);
      berth_caller_set_token (run->stored, discovery_json_text (query->def, "Token", ""));
      g_free (run->token);
      run->token = g_strdup (discovery_json_text (query->def, "Token", ""));
      run->may_read = may_read = stored_may_read;
      run->may_read_data = may_read_data = run;
    }
  service = service_def (query) != NULL ? discovery_json_text (service_def (query), "Service", "") : "";

  all = json_array_new ();
  /* the caller sees the instances of a service it may read */
  if (*service != '\0' && (may_read == NULL || may_read (may_read_data, "service", service)))
    entries = discovery_health_instances (store, service, NULL, HEALTH_ANY, NULL, NULL);
  for (guint i = 0; entries != NULL && i < entries->len; i++)
    json_array_add_element (all, discovery_health_entry_to_json (g_ptr_array_index (entries, i)));
  nodes = select_entries (run, all, TRUE);
  json_array_unref (all);
  if (json_array_get_length (nodes) > 0)
    {
      finish (run, nodes, own);
      return;
    }
  json_array_unref (nodes);
  run->datacenters = failover_datacenters (run, store, own);
  ask_next (run);
}

gint64
prepared_dns_ttl (JsonNode *result)
{
  JsonObject *dns;
  const char *ttl;
  guint64 ms = 0;

  if (result == NULL || !JSON_NODE_HOLDS_OBJECT (result))
    return -1;
  dns = discovery_json_object (json_node_get_object (result), "DNS");
  ttl = dns != NULL ? discovery_json_text (dns, "TTL", "") : "";
  if (*ttl == '\0' || !berth_parse_duration (ttl, &ms, NULL))
    return -1;
  return (gint64) (ms / 1000);
}
