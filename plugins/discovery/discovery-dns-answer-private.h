/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ldns/ldns.h>

#include "discovery-dns.h"

G_BEGIN_DECLS

/* What discovery-dns-answer.c and discovery-dns-forward.c share: one query
 * being answered. */

#define MAX_PENDING 512    /* answers in flight (forwarded, or asked of another datacenter) */

typedef struct {
  DiscoveryDns          *dns;
  ldns_pkt              *query;
  ldns_pkt              *resp;
  gboolean               tcp;
  gsize                  max_size;
  DiscoveryDnsReplyFunc  func;
  gpointer               user_data;
  /* what is asked */
  ldns_rr_type           qtype;
  char                  *dc;
  /* who asks: for the ACLs (discovery-dns-acl.c) */
  char                  *peer;
  BerthCaller           *caller;
} Query;

void     dns_query_free          (Query        *q);
/* Encodes the answer, truncating it for UDP, hands it over and frees @q. */
void     dns_query_finish        (Query        *q);

/* Sends the query packet to the first recursor; the answer (or SERVFAIL)
 * goes out through @q's callback. FALSE, with @q untouched, when it cannot
 * be sent. */
gboolean dns_forward_to_recursor (Query        *q,
                                  const guint8 *data,
                                  gsize         len);

/* Whether the client may read @resource (service, node) @name: asks the
 * authority as a TCP caller with the client's address and the configured
 * DNS token ([discovery] dns_token), or none (anonymous). */
gboolean dns_query_may_read      (Query        *q,
                                  const char   *resource,
                                  const char   *name);

/* Answers with the instances of Consul's health entries @entries of
 * datacenter @dc, or NXDOMAIN when there are none; then finishes @q. */
void     dns_answer_health_entries (Query      *q,
                                    JsonArray  *entries,
                                    const char *dc,
                                    guint32     ttl);
void     dns_answer_nxdomain     (Query        *q);
/* <name>.query.<domain>: a prepared query (discovery-prepared-dns.c) */
void     dns_prepared_lookup     (Query        *q,
                                  const char   *name);

G_END_DECLS
