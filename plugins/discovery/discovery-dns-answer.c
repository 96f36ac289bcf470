/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ldns/ldns.h>
#include <string.h>

#include "discovery-dns-answer-private.h"
#include "discovery-dns-records.h"
#include "discovery-health.h"
#include "discovery-json.h"
#include "discovery-wan.h"

/* Answers to DNS queries, Consul style:
 *
 *   <name>.service[.<dc>].<domain>          A/AAAA (SRV when asked)
 *   <tag>.<name>.service[.<dc>].<domain>    the same, filtered by tag
 *   _<name>._<tag|tcp>.service[.<dc>].<domain>  RFC 2782
 *   <node>.node[.<dc>].<domain>             the node's address
 *   <hex>.addr.<dc>.<domain>                the address in the name
 *   <name>.query[.<dc>].<domain>            a prepared query's instances
 *   <d>.<c>.<b>.<a>.in-addr.arpa            PTR to the node with that address
 *
 * Only instances that are passing or warning, shuffled. Unknown names:
 * NXDOMAIN with the SOA. Outside the domain: REFUSED, or forwarded over UDP
 * to the configured recursors (discovery-dns-forward.c). Another
 * datacenter's services are asked of it over HTTP
 * (/v1/health/service/<name>?passing). Packets are parsed and built by
 * ldns; UDP answers beyond the client's size (512 without EDNS) are
 * truncated with TC. Names the client may not read are NXDOMAIN, and
 * instances on nodes it may not read are left out (discovery-dns-acl.c). */

#define MAX_UDP_DEFAULT 512
#define MAX_CACHED_NAMES    4096

typedef struct {
  char         *node;
  char         *node_address;
  char         *address;      /* the service's, else the node's */
  guint16       port;
  /* prepared once (instance_prepare()), used by every answer */
  ldns_rr_type  addr_type;    /* A, AAAA, or 0: not an IP address */
  guint8        addr[16];
  ldns_rdf     *target;       /* the SRV target, or NULL */
} Instance;

static void
instance_free (Instance *i)
{
  g_free (i->node);
  g_free (i->node_address);
  g_free (i->address);
  if (i->target != NULL)
    ldns_rdf_deep_free (i->target);
  g_free (i);
}

void
dns_query_free (Query *q)
{
  if (q->query != NULL)
    ldns_pkt_free (q->query);
  if (q->resp != NULL)
    ldns_pkt_free (q->resp);
  g_free (q->dc);
  g_free (q->peer);
  g_clear_object (&q->caller);
  g_free (q);
}

static ldns_rdf *
qname (Query *q)
{
  return ldns_rr_owner (ldns_rr_list_rr (ldns_pkt_question (q->query), 0));
}

/* Encodes the answer, truncating it for UDP, and hands it over. */
void
dns_query_finish (Query *q)
{
  uint8_t *wire = NULL;
  size_t size = 0;
  GBytes *bytes = NULL;

  while (TRUE)
    {
      ldns_rr_list *answer = ldns_pkt_answer (q->resp);
      ldns_rr_list *additional = ldns_pkt_additional (q->resp);
      ldns_rr *rr;

      if (ldns_pkt2wire (&wire, q->resp, &size) != LDNS_STATUS_OK)
        {
          wire = NULL;
          break;
        }
      if (q->tcp || size <= q->max_size)
        break;
      free (wire);
      wire = NULL;
      ldns_pkt_set_tc (q->resp, TRUE);
      if (ldns_rr_list_rr_count (additional) > 0)
        {
          while ((rr = ldns_rr_list_pop_rr (additional)) != NULL)
            ldns_rr_free (rr);
          ldns_pkt_set_arcount (q->resp, 0);
        }
      else if (ldns_rr_list_rr_count (answer) > 0)
        {
          rr = ldns_rr_list_pop_rr (answer);
          ldns_rr_free (rr);
          ldns_pkt_set_ancount (q->resp, (uint16_t) ldns_rr_list_rr_count (answer));
        }
      else
        {
          ldns_rr_list *authority = ldns_pkt_authority (q->resp);
          while ((rr = ldns_rr_list_pop_rr (authority)) != NULL)
            ldns_rr_free (rr);
          ldns_pkt_set_nscount (q->resp, 0);
          if (ldns_pkt2wire (&wire, q->resp, &size) != LDNS_STATUS_OK)
            wire = NULL;
          break;
        }
    }
  if (wire != NULL)
    {
      bytes = g_bytes_new (wire, size);
      free (wire);
    }
  q->func (bytes, q->user_data);
  if (bytes != NULL)
    g_bytes_unref (bytes);
  dns_query_free (q);
}

/* ---- records ---------------------------------------------------------- */

static void
add_soa (Query *q)
{
  g_autofree char *text = g_strdup_printf ("%s %u IN SOA ns.%s hostmaster.%s 1 3600 600 86400 0",
                                           q->dns->domain, q->dns->ttl, q->dns->domain, q->dns->domain);
  ldns_rr *soa = NULL;

  if (ldns_rr_new_frm_str (&soa, text, 0, NULL, NULL) == LDNS_STATUS_OK)
    ldns_pkt_push_rr (q->resp, LDNS_SECTION_AUTHORITY, soa);
}

static void
nxdomain (Query *q)
{
  ldns_pkt_set_rcode (q->resp, LDNS_RCODE_NXDOMAIN);
  add_soa (q);
  dns_query_finish (q);
}

void
dns_answer_nxdomain (Query *q)
{
  nxdomain (q);
}

/* Parses the address and builds the SRV target of an instance of
 * datacenter @dc. */
static void
instance_prepare (Instance *inst, const char *dc, const char *domain)
{
  g_autofree char *target = NULL;

  inst->addr_type = dns_parse_address (inst->address, inst->addr);
  if (g_strcmp0 (inst->address, inst->node_address) == 0)
    target = g_strdup_printf ("%s.node.%s.%s", inst->node, dc, domain);
  else
    {
      g_autofree char *hex = dns_hex_address (inst->address);
      if (hex != NULL)
        target = g_strdup_printf ("%s.addr.%s.%s", hex, dc, domain);
    }
  if (target != NULL)
    inst->target = ldns_dname_new_frm_str (target);
}

/* Answers a service lookup from its healthy instances. */
static void
answer_instances_ttl (Query *q, GPtrArray *instances, guint32 ttl)
{
  guint added = 0;

  if (instances->len == 0)
    {
      nxdomain (q);
      return;
    }
  dns_shuffle (instances);
  for (guint i = 0; i < instances->len; i++)
    {
      Instance *inst = g_ptr_array_index (instances, i);

      if (q->qtype == LDNS_RR_TYPE_SRV)
        {
          ldns_rr *srv;

          if (inst->target == NULL)
            continue;
          srv = dns_rr_new (ldns_rdf_clone (qname (q)), LDNS_RR_TYPE_SRV, ttl);
          ldns_rr_push_rdf (srv, ldns_native2rdf_int16 (LDNS_RDF_TYPE_INT16, 1));
          ldns_rr_push_rdf (srv, ldns_native2rdf_int16 (LDNS_RDF_TYPE_INT16, 1));
          ldns_rr_push_rdf (srv, ldns_native2rdf_int16 (LDNS_RDF_TYPE_INT16, inst->port));
          ldns_rr_push_rdf (srv, ldns_rdf_clone (inst->target));
          ldns_pkt_push_rr (q->resp, LDNS_SECTION_ANSWER, srv);
          if (inst->addr_type != 0)
            ldns_pkt_push_rr (q->resp, LDNS_SECTION_ADDITIONAL,
                              dns_address_rr_bytes (inst->target, inst->addr_type, inst->addr, ttl));
          added++;
        }
      else if (inst->addr_type != 0 &&
               (q->qtype == LDNS_RR_TYPE_ANY || q->qtype == inst->addr_type))
        {
          ldns_pkt_push_rr (q->resp, LDNS_SECTION_ANSWER,
                            dns_address_rr_bytes (qname (q), inst->addr_type, inst->addr, ttl));
          added++;
        }
    }
  if (added == 0)
    add_soa (q);   /* the name exists, not with this type */
  dns_query_finish (q);
}

static void
answer_instances (Query *q, GPtrArray *instances)
{
  answer_instances_ttl (q, instances, q->dns->ttl);
}

static GPtrArray *
instances_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) instance_free);
}

/* The healthy instances of a service (with a tag), from the cache that
 * any catalog change empties: the store is read once per name between
 * changes, not once per query. */
static void
local_service (Query *q, const char *name, const char *tag)
{
  g_autofree char *key = g_strconcat (name, "\t", tag != NULL ? tag : "", NULL);
  g_autoptr(GPtrArray) instances = NULL;
  GPtrArray *cached = g_hash_table_lookup (q->dns->cache, key);

  if (cached == NULL)
    {
      g_autoptr(GPtrArray) entries = discovery_health_instances (q->dns->store, name, tag,
                                                                 HEALTH_NOT_CRITICAL, NULL, NULL);
      cached = instances_new ();
      for (guint i = 0; entries != NULL && i < entries->len; i++)
        {
          HealthEntry *e = g_ptr_array_index (entries, i);
          Instance *inst = g_new0 (Instance, 1);

          inst->node = g_strdup (e->node->name);
          inst->node_address = g_strdup (e->node->address);
          inst->address = g_strdup (*e->service->address != '\0' ? e->service->address
                                                                  : e->node->address);
          inst->port = (guint16) e->service->port;
          instance_prepare (inst, q->dns->datacenter, q->dns->domain);
          g_ptr_array_add (cached, inst);
        }
      /* random names must not grow the cache without end */
      if (g_hash_table_size (q->dns->cache) >= MAX_CACHED_NAMES)
        g_hash_table_remove_all (q->dns->cache);
      g_hash_table_insert (q->dns->cache, g_steal_pointer (&key), cached);
    }
  /* answer_instances() shuffles: a copy of the order, sharing the items
   * (those on nodes the client may read) */
  instances = g_ptr_array_new_full (cached->len, NULL);
  for (guint i = 0; i < cached->len; i++)
    {
      Instance *inst = g_ptr_array_index (cached, i);
      if (dns_query_may_read (q, "node", inst->node))
        g_ptr_array_add (instances, inst);
    }
  answer_instances (q, instances);
}

/* ---- other datacenters ------------------------------------------------ */

/* GETs @path of the datacenter asked (q->dc); @func answers. */
static void
ask_other_dc (Query *q, const char *path, DiscoveryWanGetFunc func)
{
  /* without a plugin (a harness), there is no other datacenter to ask */
  if (q->dns->pending >= MAX_PENDING || q->dns->plugin == NULL)
    {
      ldns_pkt_set_rcode (q->resp, LDNS_RCODE_SERVFAIL);
      dns_query_finish (q);
      return;
    }
  q->dns->pending++;
  /* the other datacenter answers what the DNS token may read there */
  discovery_wan_get (q->dns->plugin, q->dc, path, q->dns->token, func, q);
}

static void
remote_service_cb (guint status, GBytes *body, gpointer user_data)
{
  Query *q = user_data;
  g_autoptr(JsonNode) root = NULL;

  q->dns->pending--;
  if (status == 0 || body == NULL)
    {
      ldns_pkt_set_rcode (q->resp, LDNS_RCODE_SERVFAIL);
      dns_query_finish (q);
      return;
    }
  /* the other datacenter's answer is read as carefully as a request */
  if (status != 200 || (root = berth_json_parse_bytes (body, NULL)) == NULL ||
      !JSON_NODE_HOLDS_ARRAY (root))
    {
      ldns_pkt_set_rcode (q->resp, LDNS_RCODE_SERVFAIL);
      dns_query_finish (q);
      return;
    }
  dns_answer_health_entries (q, json_node_get_array (root), q->dc, q->dns->ttl);
}

/* Answers from Consul's health entries (of /v1/health/service/<name>, or
 * of a prepared query) of datacenter @dc, with @ttl. */
void
dns_answer_health_entries (Query *q, JsonArray *entries, const char *dc, guint32 ttl)
{
  g_autoptr(GPtrArray) instances = instances_new ();

  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonNode *e = json_array_get_element (entries, i);
      JsonObject *node, *service;
      const char *addr;
      Instance *inst;

      if (!JSON_NODE_HOLDS_OBJECT (e))
        continue;
      node = discovery_json_object (json_node_get_object (e), "Node");
      service = discovery_json_object (json_node_get_object (e), "Service");
      if (node == NULL || service == NULL)
        continue;
      inst = g_new0 (Instance, 1);
      inst->node = g_strdup (discovery_json_text (node, "Node", ""));
      inst->node_address = g_strdup (discovery_json_text (node, "Address", ""));
      addr = discovery_json_text (service, "Address", "");
      inst->address = g_strdup (*addr != '\0' ? addr : inst->node_address);
      inst->port = (guint16) discovery_json_int (service, "Port", 0, 65535, 0);
      instance_prepare (inst, dc, q->dns->domain);
      g_ptr_array_add (instances, inst);
    }
  answer_instances_ttl (q, instances, ttl);
}

static void
remote_service (Query *q, const char *name, const char *tag)
{
  g_autofree char *ename = g_uri_escape_string (name, NULL, FALSE);
  g_autofree char *etag = tag != NULL ? g_uri_escape_string (tag, NULL, FALSE) : NULL;
  g_autofree char *path = g_strdup_printf ("/v1/health/service/%s?passing=1%s%s", ename,
                                           etag != NULL ? "&tag=" : "", etag != NULL ? etag : "");

  ask_other_dc (q, path, remote_service_cb);
}

/* ---- nodes and addresses ---------------------------------------------- */

static void
answer_address (Query *q, const char *address)
{
  ldns_rr *rr = NULL;

  if (q->qtype == LDNS_RR_TYPE_A || q->qtype == LDNS_RR_TYPE_AAAA || q->qtype == LDNS_RR_TYPE_ANY)
    rr = dns_address_rr (qname (q), address, q->qtype == LDNS_RR_TYPE_ANY ? 0 : q->qtype, q->dns->ttl);
  if (rr != NULL)
    ldns_pkt_push_rr (q->resp, LDNS_SECTION_ANSWER, rr);
  else
    add_soa (q);
  dns_query_finish (q);
}

static void
local_node (Query *q, const char *name)
{
  g_autoptr(CatalogNode) node = catalog_get_node (q->dns->store, name, NULL);

  if (node == NULL)
    {
      /* node names are case-insensitive in DNS */
      g_autoptr(GPtrArray) nodes = catalog_list_nodes (q->dns->store, NULL);
      for (guint i = 0; nodes != NULL && i < nodes->len && node == NULL; i++)
        {
          CatalogNode *n = g_ptr_array_index (nodes, i);
          if (g_ascii_strcasecmp (n->name, name) == 0)
            {
              node = n;
              g_ptr_array_index (nodes, i) = NULL;
            }
        }
    }
  if (node == NULL || !dns_query_may_read (q, "node", node->name))
    {
      nxdomain (q);
      return;
    }
  answer_address (q, node->address);
}

static void
remote_node_cb (guint status, GBytes *body, gpointer user_data)
{
  Query *q = user_data;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *node = NULL;

  q->dns->pending--;
  if (status != 200 || body == NULL)
    {
      ldns_pkt_set_rcode (q->resp, LDNS_RCODE_SERVFAIL);
      dns_query_finish (q);
      return;
    }
  root = berth_json_parse_bytes (body, NULL);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    node = discovery_json_object (json_node_get_object (root), "Node");
  if (node == NULL)
    {
      nxdomain (q);
      return;
    }
  answer_address (q, discovery_json_text (node, "Address", ""));
}

static void
remote_node (Query *q, const char *name)
{
  g_autofree char *ename = g_uri_escape_string (name, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/catalog/node/%s", ename);

  ask_other_dc (q, path, remote_node_cb);
}

static void
addr_lookup (Query *q, const char *hex)
{
  gsize n = strlen (hex);
  guint8 bytes[16];
  g_autoptr(GInetAddress) ia = NULL;
  g_autofree char *text = NULL;

  if ((n != 8 && n != 32) || strspn (hex, "0123456789abcdef") != n)
    {
      nxdomain (q);
      return;
    }
  for (gsize i = 0; i < n / 2; i++)
    bytes[i] = (guint8) ((g_ascii_xdigit_value (hex[2 * i]) << 4) | g_ascii_xdigit_value (hex[2 * i + 1]));
  ia = g_inet_address_new_from_bytes (bytes, n == 8 ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6);
  text = g_inet_address_to_string (ia);
  answer_address (q, text);
}

static void
reverse_lookup (Query *q, char *const *labels, guint n)
{
  g_autofree char *address = NULL;
  g_autoptr(GPtrArray) nodes = NULL;

  /* d.c.b.a.in-addr.arpa */
  if (n != 6)
    {
      nxdomain (q);
      return;
    }
  address = g_strdup_printf ("%s.%s.%s.%s", labels[3], labels[2], labels[1], labels[0]);
  nodes = catalog_list_nodes (q->dns->store, NULL);
  for (guint i = 0; nodes != NULL && i < nodes->len; i++)
    {
      CatalogNode *node = g_ptr_array_index (nodes, i);
      g_autofree char *target = NULL;
      ldns_rdf *rdf;
      ldns_rr *rr;

      if (g_strcmp0 (node->address, address) != 0 || !dns_query_may_read (q, "node", node->name))
        continue;
      if (q->qtype != LDNS_RR_TYPE_PTR && q->qtype != LDNS_RR_TYPE_ANY)
        {
          add_soa (q);
          dns_query_finish (q);
          return;
        }
      target = g_strdup_printf ("%s.node.%s.%s", node->name, node->datacenter, q->dns->domain);
      rdf = ldns_dname_new_frm_str (target);
      if (rdf == NULL)
        continue;
      rr = dns_rr_new (ldns_rdf_clone (qname (q)), LDNS_RR_TYPE_PTR, q->dns->ttl);
      ldns_rr_push_rdf (rr, rdf);
      ldns_pkt_push_rr (q->resp, LDNS_SECTION_ANSWER, rr);
      dns_query_finish (q);
      return;
    }
  nxdomain (q);
}

/* ---- the query -------------------------------------------------------- */

/* The labels of a name, lower case, read from ldns's wire form of it
 * (uncompressed, at most 255 bytes). */
typedef struct {
  char  buf[256];
  char *labels[128];
  guint n;
} Labels;

/* FALSE for names no service, node or domain can have (a NUL or a dot in
 * a label): they are not ours. */
static gboolean
labels_from_rdf (const ldns_rdf *rdf, Labels *out)
{
  const guint8 *data = ldns_rdf_data (rdf);
  gsize size = ldns_rdf_size (rdf), pos = 0, used = 0;

  out->n = 0;
  if (data == NULL || ldns_rdf_get_type (rdf) != LDNS_RDF_TYPE_DNAME)
    return FALSE;
  while (pos < size)
    {
      gsize len = data[pos++];
      char *label;

      if (len == 0)
        return pos == size;
      if (len > 63 || pos + len > size || used + len + 1 > sizeof out->buf ||
          out->n >= G_N_ELEMENTS (out->labels))
        return FALSE;
      label = out->buf + used;
      for (gsize i = 0; i < len; i++)
        {
          char ch = (char) data[pos + i];
          if (ch == '\0' || ch == '.')
            return FALSE;
          label[i] = g_ascii_tolower (ch);
        }
      label[len] = '\0';
      out->labels[out->n++] = label;
      used += len + 1;
      pos += len;
    }
  return FALSE;
}


static void
in_domain (Query *q, char *const *labels, guint n)
{
  const char *kind;
  guint end;   /* labels before the kind */

  if (n == 0)
    {
      /* the domain itself */
      if (q->qtype == LDNS_RR_TYPE_SOA)
        {
          add_soa (q);
          ldns_rr *soa = ldns_rr_list_pop_rr (ldns_pkt_authority (q->resp));
          ldns_pkt_set_nscount (q->resp, 0);
          if (soa != NULL)
            ldns_pkt_push_rr (q->resp, LDNS_SECTION_ANSWER, soa);
        }
      else
        add_soa (q);
      dns_query_finish (q);
      return;
    }
  kind = labels[n - 1];
  end = n - 1;
  g_free (q->dc);
  q->dc = g_strdup (q->dns->datacenter);
  if (n >= 2 && !g_str_equal (kind, "service") && !g_str_equal (kind, "node") &&
      !g_str_equal (kind, "addr") && !g_str_equal (kind, "query"))
    {
      g_free (q->dc);
      q->dc = g_strdup (labels[n - 1]);
      kind = labels[n - 2];
      end = n - 2;
    }

  if (g_str_equal (kind, "service") && (end == 1 || end == 2))
    {
      const char *name, *tag = NULL;
      gboolean local = g_ascii_strcasecmp (q->dc, q->dns->datacenter) == 0;

      if (end == 2 && labels[0][0] == '_' && labels[1][0] == '_')
        {
          /* RFC 2782: _name._tag; _tcp/_udp mean no tag */
          name = labels[0] + 1;
          tag = labels[1] + 1;
          if (g_str_equal (tag, "tcp") || g_str_equal (tag, "udp"))
            tag = NULL;
        }
      else if (end == 2)
        {
          tag = labels[0];
          name = labels[1];
        }
      else
        name = labels[0];
      if (*name == '\0' || !dns_query_may_read (q, "service", name))
        {
          nxdomain (q);
          return;
        }
      if (local)
        local_service (q, name, tag);
      else
        remote_service (q, name, tag);
      return;
    }
  if (g_str_equal (kind, "node") && end == 1)
    {
      if (!dns_query_may_read (q, "node", labels[0]))
        {
          nxdomain (q);
          return;
        }
      if (g_ascii_strcasecmp (q->dc, q->dns->datacenter) == 0)
        local_node (q, labels[0]);
      else
        remote_node (q, labels[0]);
      return;
    }
  if (g_str_equal (kind, "query") && end == 1)
    {
      /* <name>.query[.<dc>]: executed where it is asked (discovery-prepared-dns.c) */
      dns_prepared_lookup (q, labels[0]);
      return;
    }
  if (g_str_equal (kind, "addr") && end == 1)
    {
      addr_lookup (q, labels[0]);
      return;
    }
  nxdomain (q);
}

void
discovery_dns_answer (DiscoveryDns *dns, const guint8 *data, gsize len, gboolean tcp,
                      const char *peer, DiscoveryDnsReplyFunc func, gpointer user_data)
{
  Query *q;
  ldns_pkt *query = NULL;
  ldns_rr *question;
  Labels name;

  if (len < 12 || ldns_wire2pkt (&query, data, len) != LDNS_STATUS_OK)
    {
      ldns_pkt *resp;
      uint8_t *wire = NULL;
      size_t size = 0;
      GBytes *bytes = NULL;

      if (query != NULL)
        ldns_pkt_free (query);
      /* a header at least, and not itself an answer: FORMERR */
      if (len < 12 || (data[2] & 0x80) != 0)
        {
          func (NULL, user_data);
          return;
        }
      resp = ldns_pkt_new ();
      ldns_pkt_set_id (resp, (uint16_t) ((data[0] << 8) | data[1]));
      ldns_pkt_set_qr (resp, TRUE);
      ldns_pkt_set_rcode (resp, LDNS_RCODE_FORMERR);
      if (ldns_pkt2wire (&wire, resp, &size) == LDNS_STATUS_OK)
        {
          bytes = g_bytes_new (wire, size);
          free (wire);
        }
      ldns_pkt_free (resp);
      func (bytes, user_data);
      if (bytes != NULL)
        g_bytes_unref (bytes);
      return;
    }
  if (ldns_pkt_qr (query))
    {
      /* never answer answers */
      ldns_pkt_free (query);
      func (NULL, user_data);
      return;
    }

  q = g_new0 (Query, 1);
  q->dns = dns;
  q->query = query;
  q->tcp = tcp;
  q->peer = g_strdup (peer);
  q->func = func;
  q->user_data = user_data;
  q->resp = ldns_pkt_new ();
  ldns_pkt_set_id (q->resp, ldns_pkt_id (query));
  ldns_pkt_set_qr (q->resp, TRUE);
  ldns_pkt_set_opcode (q->resp, ldns_pkt_get_opcode (query));
  ldns_pkt_set_rd (q->resp, ldns_pkt_rd (query));
  ldns_pkt_set_ra (q->resp, dns->recursors != NULL && dns->recursors[0] != NULL);
  q->max_size = MAX_UDP_DEFAULT;
  if (ldns_pkt_edns (query))
    {
      q->max_size = MAX (ldns_pkt_edns_udp_size (query), MAX_UDP_DEFAULT);
      ldns_pkt_set_edns_udp_size (q->resp, 4096);
    }
  for (guint i = 0; i < ldns_rr_list_rr_count (ldns_pkt_question (query)); i++)
    ldns_pkt_push_rr (q->resp, LDNS_SECTION_QUESTION,
                      ldns_rr_clone (ldns_rr_list_rr (ldns_pkt_question (query), i)));

  if (ldns_pkt_get_opcode (query) != LDNS_PACKET_QUERY)
    {
      ldns_pkt_set_rcode (q->resp, LDNS_RCODE_NOTIMPL);
      dns_query_finish (q);
      return;
    }
  if (ldns_rr_list_rr_count (ldns_pkt_question (query)) != 1)
    {
      ldns_pkt_set_rcode (q->resp, LDNS_RCODE_FORMERR);
      dns_query_finish (q);
      return;
    }
  question = ldns_rr_list_rr (ldns_pkt_question (query), 0);
  q->qtype = ldns_rr_get_type (question);
  if (labels_from_rdf (ldns_rr_owner (question), &name))
    {
      guint k = g_strv_length (dns->domain_labels);
      gboolean ours = name.n >= k;

      for (guint i = 0; ours && i < k; i++)
        ours = strcmp (name.labels[name.n - k + i], dns->domain_labels[i]) == 0;
      if (ours)
        {
          ldns_pkt_set_aa (q->resp, TRUE);
          in_domain (q, name.labels, name.n - k);
          return;
        }
      if (name.n == 6 && strcmp (name.labels[4], "in-addr") == 0 && strcmp (name.labels[5], "arpa") == 0)
        {
          ldns_pkt_set_aa (q->resp, TRUE);
          reverse_lookup (q, name.labels, name.n);
          return;
        }
    }
  if (dns->recursors != NULL && dns->recursors[0] != NULL && dns_forward_to_recursor (q, data, len))
    return;
  ldns_pkt_set_rcode (q->resp, LDNS_RCODE_REFUSED);
  dns_query_finish (q);
}

/* ---- one packet, one answer --------------------------------------------- */

typedef struct {
  gint     refs;
  gboolean done;
  GBytes  *reply;
} Packet;

static void
packet_unref (Packet *p)
{
  if (--p->refs > 0)
    return;
  g_clear_pointer (&p->reply, g_bytes_unref);
  g_free (p);
}

static void
packet_cb (GBytes *reply, gpointer user_data)
{
  Packet *p = user_data;

  p->done = TRUE;
  p->reply = reply != NULL ? g_bytes_ref (reply) : NULL;
  packet_unref (p);
}

/**
 * discovery_dns_answer_packet:
 * @dns: the DNS interface (its store, domain and datacenter are enough:
 *   with no plugin, questions for another datacenter get SERVFAIL)
 * @data: one query packet, without the TCP length prefix
 * @len: its size
 * @tcp: whether it came over TCP (no truncation)
 *
 * Packet bytes in, answer bytes out: discovery_dns_answer() for tests and
 * fuzzing harnesses.
 *
 * Returns: (transfer full) (nullable): the answer, or %NULL when there is
 *   none (garbage, a response) or it is not ready at once (forwarded to a
 *   recursor, asked of another datacenter: then it is dropped when it comes)
 */
GBytes *
discovery_dns_answer_packet (DiscoveryDns *dns, const guint8 *data, gsize len, gboolean tcp)
{
  Packet *p = g_new0 (Packet, 1);
  GBytes *reply;

  p->refs = 2;   /* ours, and the callback's */
  discovery_dns_answer (dns, data, len, tcp, NULL, packet_cb, p);
  reply = p->done && p->reply != NULL ? g_bytes_ref (p->reply) : NULL;
  packet_unref (p);
  return reply;
}
