/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "discovery-plugin.h"

G_BEGIN_DECLS

/* Consul's prepared queries: definitions kept in the discovery table
 * prepared_queries (discovery-prepared.c), executed against the catalog
 * with failover to linked datacenters (discovery-prepared-exec.c), served
 * over HTTP as /v1/query (discovery-prepared-http.c) and over DNS as
 * <name>.query.<domain> (discovery-prepared-dns.c). */

typedef struct {
  char       *id;
  char       *name;
  gboolean    is_template;
  JsonObject *def;          /* the normalised definition, Consul's shape without ID and indexes */
  guint64     create_index;
  guint64     modify_index;
} PreparedQuery;

void           prepared_query_free   (PreparedQuery *query);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PreparedQuery, prepared_query_free)

/* A definition as a client sends it (keys case-insensitive), checked and
 * normalised; %BERTH_ERROR_INVALID says what is wrong. */
JsonObject    *prepared_parse        (JsonObject  *body,
                                      GError     **error);

GPtrArray     *prepared_list         (BerthStore  *store,
                                      GError     **error);
PreparedQuery *prepared_get          (BerthStore  *store,
                                      const char  *id,
                                      GError     **error);
/* What executing @id_or_name runs: the query of that ID, else of that
 * name (case-insensitive), else the template with the longest name that
 * prefixes it; a template comes rendered for @id_or_name.
 * %BERTH_ERROR_NOT_FOUND: "Query not found". */
PreparedQuery *prepared_resolve      (BerthStore  *store,
                                      const char  *id_or_name,
                                      GError     **error);
guint64        prepared_index        (BerthStore  *store);

/* Consul's JSON of a query; the Token is shown as "<hidden>" unless
 * @show_token */
JsonNode      *prepared_to_json      (PreparedQuery *query,
                                      gboolean       show_token);

/* Store writes (data: a PreparedQuery, taken; for the deletion only its
 * id counts) */
gboolean       prepared_write_create (BerthTxn  *txn,
                                      gpointer   query,
                                      GError   **error);
gboolean       prepared_write_update (BerthTxn  *txn,
                                      gpointer   query,
                                      GError   **error);
gboolean       prepared_write_delete (BerthTxn  *txn,
                                      gpointer   query,
                                      GError   **error);

/* ---- execution ---------------------------------------------------------- */

typedef gboolean (*PreparedMayRead) (gpointer    data,
                                     const char *resource,
                                     const char *name);
/* @result: Consul's ExecuteResponse (Service, Nodes, DNS, Datacenter,
 * Failovers), owned by the caller */
typedef void (*PreparedResultFunc) (JsonNode *result,
                                    gpointer  user_data);

/* Runs @query (taken): the healthy instances here, else in the failover
 * datacenters in turn (asked with @token). @may_read filters the local
 * instances by the caller's ACLs; at most @limit (0: all), shuffled. */
void           prepared_execute      (DiscoveryPlugin    *plugin,
                                      PreparedQuery      *query,
                                      const char         *token,
                                      PreparedMayRead     may_read,
                                      gpointer            may_read_data,
                                      guint64             limit,
                                      PreparedResultFunc  func,
                                      gpointer            user_data);

/* The DNS TTL of a query's answers in seconds, or -1 when it sets none */
gint64         prepared_dns_ttl      (JsonNode *result);

void           discovery_prepared_add_routes (DiscoveryPlugin *plugin);

G_END_DECLS
