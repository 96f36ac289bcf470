/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "discovery-dns-rrl.h"

/* Response-rate limiting for the UDP side of the DNS server: a source
 * address (an IPv4 address, or an IPv6 /64) gets `[discovery] dns_rrl_rate`
 * answers a second, with a burst of as many. Beyond that, every
 * `dns_rrl_slip`-th query gets an empty answer with TC set (a real
 * resolver then asks again over TCP, which is not limited: its source
 * address cannot be forged) and the others get nothing. A flood with a
 * forged source address thus gets a victim at most 1/slip of the queries'
 * size back, in packets no larger than the queries.
 *
 * Memory stays bounded: a source quiet for long enough to be full again is
 * forgotten, and at most MAX_SOURCES are tracked (the least recently seen
 * goes first). */

#define MAX_SOURCES 16384
#define MAX_IDLE_US (60 * G_USEC_PER_SEC)

typedef struct {
  guint8  key[17];   /* family byte, then the address (IPv6: /64) */
  double  tokens;
  gint64  last_us;
  guint   over;      /* queries over the rate since the last slip */
  GList   link;      /* in DnsRrl.lru, least recently seen first */
} Source;

struct _DnsRrl {
  double      rate;
  guint       slip;
  gint64      idle_us;
  GHashTable *sources;   /* key -> Source (owned) */
  GQueue      lru;
};

static guint
key_hash (gconstpointer key)
{
  const guint8 *k = key;
  guint h = 5381;

  for (gsize i = 0; i < 17; i++)
    h = h * 33 + k[i];
  return h;
}

static gboolean
key_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, 17) == 0;
}

DnsRrl *
dns_rrl_new (void)
{
  DnsRrl *self = g_new0 (DnsRrl, 1);

  self->sources = g_hash_table_new_full (key_hash, key_equal, NULL, g_free);
  g_queue_init (&self->lru);
  return self;
}

void
dns_rrl_free (DnsRrl *self)
{
  if (self == NULL)
    return;
  g_queue_init (&self->lru);
  g_hash_table_unref (self->sources);
  g_free (self);
}

/* @rate answers a second per source (0: no limit); @slip: every slip-th
 * query over the rate is answered truncated (0: none, all dropped). */
void
dns_rrl_configure (DnsRrl *self, guint rate, guint slip)
{
  self->rate = rate;
  self->slip = slip;
  self->idle_us = rate > 0 ? MIN (MAX_IDLE_US, G_USEC_PER_SEC + 1) : 0;
  g_queue_init (&self->lru);
  g_hash_table_remove_all (self->sources);
}

static gboolean
source_key (const struct sockaddr *peer, socklen_t len, guint8 key[17])
{
  memset (key, 0, 17);
  if (peer->sa_family == AF_INET && len >= (socklen_t) sizeof (struct sockaddr_in))
    {
      key[0] = 4;
      memcpy (key + 1, &((const struct sockaddr_in *) peer)->sin_addr, 4);
      return TRUE;
    }
  if (peer->sa_family == AF_INET6 && len >= (socklen_t) sizeof (struct sockaddr_in6))
    {
      const guint8 *a = ((const struct sockaddr_in6 *) peer)->sin6_addr.s6_addr;

      /* an IPv4-mapped address is that IPv4 address */
      if (IN6_IS_ADDR_V4MAPPED (&((const struct sockaddr_in6 *) peer)->sin6_addr))
        {
          key[0] = 4;
          memcpy (key + 1, a + 12, 4);
        }
      else
        {
          key[0] = 6;
          memcpy (key + 1, a, 8);   /* one host usually holds a whole /64 */
        }
      return TRUE;
    }
  return FALSE;
}

static void
source_remove (DnsRrl *self, Source *s)
{
  g_queue_unlink (&self->lru, &s->link);
  g_hash_table_remove (self->sources, s->key);
}

/**
 * dns_rrl_check:
 * @self: the limiter
 * @peer: the query's source
 * @len: its size
 * @now_us: the monotonic time
 *
 * Counts one answer to @peer.
 *
 * Returns: what to do with the query
 */
DnsRrlVerdict
dns_rrl_check (DnsRrl *self, const struct sockaddr *peer, socklen_t len, gint64 now_us)
{
  guint8 key[17];
  Source *s;

  if (self->rate <= 0 || !source_key (peer, len, key))
    return DNS_RRL_ANSWER;
  while (self->lru.head != NULL)
    {
      Source *oldest = self->lru.head->data;
      if (now_us - oldest->last_us < self->idle_us)
        break;
      source_remove (self, oldest);
    }
  s = g_hash_table_lookup (self->sources, key);
  if (s == NULL)
    {
      if (g_hash_table_size (self->sources) >= MAX_SOURCES)
        source_remove (self, self->lru.head->data);
      s = g_new0 (Source, 1);
      memcpy (s->key, key, sizeof key);
      s->tokens = self->rate;
      s->last_us = now_us;
      s->link.data = s;
      g_hash_table_insert (self->sources, s->key, s);
    }
  else
    {
      g_queue_unlink (&self->lru, &s->link);
      s->tokens = MIN (self->rate, s->tokens + (double) (now_us - s->last_us) * self->rate / G_USEC_PER_SEC);
      s->last_us = now_us;
    }
  g_queue_push_tail_link (&self->lru, &s->link);
  if (s->tokens >= 1.0)
    {
      s->tokens -= 1.0;
      s->over = 0;
      return DNS_RRL_ANSWER;
    }
  if (self->slip == 0)
    return DNS_RRL_DROP;
  if (++s->over >= self->slip)
    {
      s->over = 0;
      return DNS_RRL_SLIP;
    }
  return DNS_RRL_DROP;
}

/**
 * dns_rrl_truncated:
 * @query: a query packet
 * @len: its size
 *
 * The slip answer: the query's header and question, as an answer with
 * TC set and no records, built without parsing more than the question.
 *
 * Returns: (transfer full) (nullable): the answer, or %NULL when @query is
 *   not one query with one question
 */
GBytes *
dns_rrl_truncated (const guint8 *query, gsize len)
{
  gsize pos = 12;
  guint8 *out;

  if (len < 12 || (query[2] & 0x80) != 0 || query[4] != 0 || query[5] != 1)
    return NULL;
  /* the question's name (no compression in a question), type and class */
  while (pos < len && query[pos] != 0)
    {
      if ((query[pos] & 0xc0) != 0)
        return NULL;
      pos += 1 + query[pos];
    }
  pos += 1 + 4;
  if (pos > len)
    return NULL;
  out = g_memdup2 (query, pos);
  out[2] = (guint8) (0x80 | (query[2] & 0x79) | 0x02);   /* QR, opcode, RD kept; TC */
  out[3] = 0;                                            /* NOERROR */
  memset (out + 6, 0, 6);                                /* no answer, authority, additional */
  return g_bytes_new_take (out, pos);
}

guint
dns_rrl_size (DnsRrl *self)
{
  return g_hash_table_size (self->sources);
}
