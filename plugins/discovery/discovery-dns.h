/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "discovery-dns-rrl.h"
#include "discovery-plugin.h"

G_BEGIN_DECLS

/* The DNS interface (UDP and TCP, from the main loop). Wire format by
 * ldns. discovery-dns.c does the sockets, discovery-dns-answer.c the
 * answers, discovery-dns-forward.c the forwarding to recursors. */

typedef struct _DiscoveryDns DiscoveryDns;

struct _DiscoveryDns {
  DiscoveryPlugin *plugin;
  BerthContext    *context;
  BerthStore      *store;
  char            *domain;       /* lower case, no leading dot, trailing dot: "consul." */
  GStrv            domain_labels; /* the same as labels: {"consul", NULL} */
  char            *datacenter;
  guint32          ttl;
  GStrv            recursors;    /* host:port */
  GSocket         *udp;
  GSource         *udp_source;
  GSocketService  *tcp;
  guint16          port;
  guint            pending;      /* answers in flight (forwarded) */
  GHashTable      *conns;        /* TCP connections (TcpConn) */
  GHashTable      *cache;        /* "name\ttag" -> healthy instances */
  gulong           changed_id;
  DnsRrl          *rrl;          /* UDP response-rate limiting */
  char            *token;        /* the ACL token DNS answers with, or NULL */
};

/* The answer to one query, or NULL to send nothing. */
typedef void (*DiscoveryDnsReplyFunc) (GBytes   *reply,
                                       gpointer  user_data);

DiscoveryDns *discovery_dns_new    (DiscoveryPlugin        *plugin,
                                    GError                **error);
void          discovery_dns_free   (DiscoveryDns           *self);
void          discovery_dns_reload (DiscoveryDns           *self);
/* @peer: the client's "ip:port", for the ACL caller (NULL: unknown) */
void          discovery_dns_answer (DiscoveryDns           *self,
                                    const guint8           *data,
                                    gsize                   len,
                                    gboolean                tcp,
                                    const char             *peer,
                                    DiscoveryDnsReplyFunc   func,
                                    gpointer                user_data);

GBytes       *discovery_dns_answer_packet (DiscoveryDns  *self,
                                           const guint8  *data,
                                           gsize          len,
                                           gboolean       tcp);

G_END_DECLS
