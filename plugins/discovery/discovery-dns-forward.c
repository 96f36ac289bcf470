/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "discovery-dns-answer-private.h"

/* Names outside the domain, forwarded over UDP to the first configured
 * recursor: its answer is relayed as it is; none within
 * RECURSOR_TIMEOUT_MS is SERVFAIL. */

#define RECURSOR_TIMEOUT_MS 2000

typedef struct {
  Query        *query;
  GSocket      *socket;
  GSource      *source;
  guint         timeout_id;
} Forward;

static void
forward_finish (Forward *f, GBytes *reply)
{
  Query *q = f->query;

  g_clear_handle_id (&f->timeout_id, g_source_remove);
  if (f->source != NULL)
    {
      g_source_destroy (f->source);
      g_source_unref (f->source);
    }
  g_clear_object (&f->socket);
  g_free (f);
  q->dns->pending--;
  if (reply != NULL)
    {
      q->func (reply, q->user_data);
      dns_query_free (q);
      return;
    }
  ldns_pkt_set_rcode (q->resp, LDNS_RCODE_SERVFAIL);
  dns_query_finish (q);
}

static gboolean
forward_timeout_cb (gpointer user_data)
{
  Forward *f = user_data;

  f->timeout_id = 0;
  forward_finish (f, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
forward_readable_cb (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Forward *f = user_data;
  guint8 buf[65536];
  gssize n = g_socket_receive (socket, (char *) buf, sizeof buf, NULL, NULL);
  g_autoptr(GBytes) reply = NULL;

  if (n < 0)
    return G_SOURCE_CONTINUE;
  reply = g_bytes_new (buf, (gsize) n);
  /* the source is destroyed by forward_finish() */
  forward_finish (f, reply);
  return G_SOURCE_CONTINUE;
}

gboolean
dns_forward_to_recursor (Query *q, const guint8 *data, gsize len)
{
  g_autoptr(GSocketConnectable) conn = NULL;
  g_autoptr(GSocketAddressEnumerator) en = NULL;
  g_autoptr(GSocketAddress) addr = NULL;
  g_autoptr(GError) error = NULL;
  Forward *f;

  if (q->dns->pending >= MAX_PENDING)
    return FALSE;
  conn = g_network_address_parse (q->dns->recursors[0], 53, &error);
  if (conn == NULL)
    return FALSE;
  en = g_socket_connectable_enumerate (conn);
  addr = g_socket_address_enumerator_next (en, NULL, NULL);   /* a literal address: no lookup */
  if (addr == NULL)
    return FALSE;
  f = g_new0 (Forward, 1);
  f->query = q;
  f->socket = g_socket_new (g_socket_address_get_family (addr), G_SOCKET_TYPE_DATAGRAM,
                            G_SOCKET_PROTOCOL_UDP, &error);
  if (f->socket == NULL ||
      g_socket_send_to (f->socket, addr, (const char *) data, len, NULL, &error) < 0)
    {
      g_clear_object (&f->socket);
      g_free (f);
      return FALSE;
    }
  g_socket_set_blocking (f->socket, FALSE);
  f->source = g_socket_create_source (f->socket, G_IO_IN, NULL);
  g_source_set_callback (f->source, (GSourceFunc) (void (*) (void)) forward_readable_cb, f, NULL);
  g_source_attach (f->source, NULL);
  f->timeout_id = g_timeout_add (RECURSOR_TIMEOUT_MS, forward_timeout_cb, f);
  q->dns->pending++;
  return TRUE;
}
