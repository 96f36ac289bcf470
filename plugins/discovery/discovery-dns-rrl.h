/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* Response-rate limiting per source address, with a slip
 * (discovery-dns-rrl.c). */

typedef struct _DnsRrl DnsRrl;

typedef enum {
  DNS_RRL_ANSWER,   /* under the rate: answer */
  DNS_RRL_SLIP,     /* over it: an empty answer with TC, so that the client asks over TCP */
  DNS_RRL_DROP,     /* over it: nothing */
} DnsRrlVerdict;

DnsRrl        *dns_rrl_new       (void);
void           dns_rrl_free      (DnsRrl                *self);
void           dns_rrl_configure (DnsRrl                *self,
                                  guint                  rate,
                                  guint                  slip);
DnsRrlVerdict  dns_rrl_check     (DnsRrl                *self,
                                  const struct sockaddr *peer,
                                  socklen_t              len,
                                  gint64                 now_us);
GBytes        *dns_rrl_truncated (const guint8          *query,
                                  gsize                  len);
/* Sources tracked now, for the self-tests */
guint          dns_rrl_size      (DnsRrl                *self);

G_END_DECLS
