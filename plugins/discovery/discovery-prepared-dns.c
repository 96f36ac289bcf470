/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "discovery-dns-answer-private.h"
#include "discovery-json.h"
#include "discovery-prepared.h"
#include "discovery-wan.h"

/* <name>.query[.<dc>].<domain>: the prepared query of that name (or ID,
 * or the template whose name prefixes it), executed as over HTTP with the
 * DNS client's ACLs (discovery-dns-acl.c) and, for failovers, the DNS
 * token. The query's DNS.TTL, when set, is the answers' TTL. An unknown
 * query is NXDOMAIN. With the <dc> of another datacenter, the query is
 * that datacenter's, executed there (/v1/query/<name>/execute, with the
 * DNS token). */

static gboolean
dns_may_read (gpointer data, const char *resource, const char *name)
{
  return dns_query_may_read (data, resource, name);
}

static void
executed_cb (JsonNode *result, gpointer user_data)
{
  Query *q = user_data;
  JsonObject *o = json_node_get_object (result);
  JsonNode *nodes = json_object_get_member (o, "Nodes");
  gint64 ttl = prepared_dns_ttl (result);

  q->dns->pending--;
  if (nodes == NULL || !JSON_NODE_HOLDS_ARRAY (nodes))
    {
      dns_answer_nxdomain (q);
      return;
    }
  dns_answer_health_entries (q, json_node_get_array (nodes), json_object_get_string_member (o, "Datacenter"),
                             ttl >= 0 ? (guint32) MIN (ttl, G_MAXINT32) : q->dns->ttl);
}

static void
remote_cb (guint status, GBytes *body, gpointer user_data)
{
  Query *q = user_data;
  g_autoptr(JsonNode) root = NULL;

  q->dns->pending--;
  if (status == 404)
    {
      dns_answer_nxdomain (q);
      return;
    }
  /* the other datacenter's answer is read as carefully as a request */
  if (status != 200 || body == NULL || (root = berth_json_parse_bytes (body, NULL)) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (root) ||
      discovery_json_text (json_node_get_object (root), "Datacenter", NULL) == NULL)
    {
      ldns_pkt_set_rcode (q->resp, LDNS_RCODE_SERVFAIL);
      dns_query_finish (q);
      return;
    }
  q->dns->pending++;
  executed_cb (root, q);
}

void
dns_prepared_lookup (Query *q, const char *name)
{
  PreparedQuery *query;

  /* without a plugin (a harness), nothing can be executed */
  if (q->dns->plugin == NULL || q->dns->pending >= MAX_PENDING)
    {
      ldns_pkt_set_rcode (q->resp, LDNS_RCODE_SERVFAIL);
      dns_query_finish (q);
      return;
    }
  if (q->dc != NULL && g_ascii_strcasecmp (q->dc, q->dns->datacenter) != 0)
    {
      g_autofree char *escaped = g_uri_escape_string (name, NULL, FALSE);
      g_autofree char *path = g_strdup_printf ("/v1/query/%s/execute", escaped);

      q->dns->pending++;
      discovery_wan_get (q->dns->plugin, q->dc, path, q->dns->token, remote_cb, q);
      return;
    }
  query = prepared_resolve (q->dns->store, name, NULL);
  if (query == NULL)
    {
      dns_answer_nxdomain (q);
      return;
    }
  q->dns->pending++;
  prepared_execute (q->dns->plugin, query, q->dns->token, dns_may_read, q, 0, executed_cb, q);
}
