/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "discovery-dns.h"

/* The DNS server's sockets: one UDP socket read from a GSocket source,
 * and a TCP listener whose connections are read asynchronously with RFC
 * 1035's 2-byte length framing. Everything runs on the main loop. */

#define UDP_BATCH        64
#define TCP_IDLE_SECONDS 10
#define MAX_TCP_CONNS    256
#define MAX_TCP_PER_SOURCE 32   /* one source may not hold every connection */
#define DEFAULT_RRL_RATE 100
#define DEFAULT_RRL_SLIP 2

/* ---- UDP -------------------------------------------------------------- */

/* UDP goes through the socket's fd: no object per packet on the hot path */
typedef struct {
  GSocket                 *socket;
  struct sockaddr_storage  peer;
  socklen_t                peer_len;
} UdpReply;

static void
udp_reply_cb (GBytes *reply, gpointer user_data)
{
  UdpReply *r = user_data;

  if (reply != NULL)
    {
      gsize len = 0;
      const char *data = g_bytes_get_data (reply, &len);

      if (sendto (g_socket_get_fd (r->socket), data, len, 0, (struct sockaddr *) &r->peer,
                  r->peer_len) < 0)
        g_debug ("dns: cannot send an answer: %s", g_strerror (errno));
    }
  g_object_unref (r->socket);
  g_free (r);
}

/* "ip:port" or "[ip6]:port" */
static void
udp_peer_text (UdpReply *r, char *out, gsize size)
{
  char host[INET6_ADDRSTRLEN];

  if (r->peer.ss_family == AF_INET &&
      inet_ntop (AF_INET, &((struct sockaddr_in *) &r->peer)->sin_addr, host, sizeof host) != NULL)
    g_snprintf (out, size, "%s:%u", host, ntohs (((struct sockaddr_in *) &r->peer)->sin_port));
  else if (r->peer.ss_family == AF_INET6 &&
           inet_ntop (AF_INET6, &((struct sockaddr_in6 *) &r->peer)->sin6_addr, host, sizeof host) != NULL)
    g_snprintf (out, size, "[%s]:%u", host, ntohs (((struct sockaddr_in6 *) &r->peer)->sin6_port));
}

static gboolean
udp_readable_cb (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  DiscoveryDns *self = user_data;
  int fd = g_socket_get_fd (socket);
  guint8 buf[65536];

  for (guint i = 0; i < UDP_BATCH; i++)
    {
      UdpReply *r = g_new0 (UdpReply, 1);
      ssize_t n;

      r->peer_len = sizeof r->peer;
      n = recvfrom (fd, buf, sizeof buf, 0, (struct sockaddr *) &r->peer, &r->peer_len);
      if (n < 0)
        {
          g_free (r);
          break;   /* EAGAIN: all read; other errors (ICMP reports): next time */
        }
      switch (dns_rrl_check (self->rrl, (struct sockaddr *) &r->peer, r->peer_len,
                             g_get_monotonic_time ()))
        {
        case DNS_RRL_ANSWER:
          break;
        case DNS_RRL_SLIP:
          {
            g_autoptr(GBytes) tc = dns_rrl_truncated (buf, (gsize) n);

            r->socket = g_object_ref (socket);
            udp_reply_cb (tc, r);
            continue;
          }
        case DNS_RRL_DROP:
        default:
          g_free (r);
          continue;
        }
      r->socket = g_object_ref (socket);
      {
        char peer[INET6_ADDRSTRLEN + 8] = "unknown";
        udp_peer_text (r, peer, sizeof peer);
        discovery_dns_answer (self, buf, (gsize) n, FALSE, peer, udp_reply_cb, r);
      }
    }
  return G_SOURCE_CONTINUE;
}

/* ---- TCP -------------------------------------------------------------- */

typedef struct {
  DiscoveryDns      *dns;
  GSocketConnection *conn;
  GCancellable      *cancellable;
  guint8             header[2];
  guint8            *body;
  gsize              body_len;
  GBytes            *out;
  char              *peer;   /* "ip:port" */
  char              *host;   /* the IP */
} TcpConn;

static void tcp_read_header (TcpConn *c);

static void
tcp_conn_free (TcpConn *c)
{
  if (c->dns != NULL)
    g_hash_table_remove (c->dns->conns, c);
  g_io_stream_close (G_IO_STREAM (c->conn), NULL, NULL);
  g_clear_object (&c->conn);
  g_clear_object (&c->cancellable);
  g_free (c->body);
  g_free (c->peer);
  g_free (c->host);
  g_clear_pointer (&c->out, g_bytes_unref);
  g_free (c);
}

static void
tcp_written_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TcpConn *c = user_data;

  g_clear_pointer (&c->out, g_bytes_unref);
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL))
    {
      tcp_conn_free (c);
      return;
    }
  tcp_read_header (c);
}

static void
tcp_reply_cb (GBytes *reply, gpointer user_data)
{
  TcpConn *c = user_data;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (c->conn));
  gsize len;
  guint8 *framed;

  if (reply == NULL || g_bytes_get_size (reply) > G_MAXUINT16)
    {
      tcp_conn_free (c);
      return;
    }
  len = g_bytes_get_size (reply);
  framed = g_malloc (len + 2);
  framed[0] = (guint8) (len >> 8);
  framed[1] = (guint8) (len & 0xff);
  memcpy (framed + 2, g_bytes_get_data (reply, NULL), len);
  c->out = g_bytes_new_take (framed, len + 2);
  g_output_stream_write_all_async (out, g_bytes_get_data (c->out, NULL), len + 2, G_PRIORITY_DEFAULT,
                                   c->cancellable, tcp_written_cb, c);
}

static void
tcp_body_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TcpConn *c = user_data;
  gsize n = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (source), result, &n, NULL) || n != c->body_len)
    {
      tcp_conn_free (c);
      return;
    }
  discovery_dns_answer (c->dns, c->body, c->body_len, TRUE, c->peer, tcp_reply_cb, c);
}

static void
tcp_header_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TcpConn *c = user_data;
  gsize n = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (source), result, &n, NULL) || n != 2)
    {
      tcp_conn_free (c);
      return;
    }
  c->body_len = ((gsize) c->header[0] << 8) | c->header[1];
  if (c->body_len == 0)
    {
      tcp_conn_free (c);
      return;
    }
  g_free (c->body);
  c->body = g_malloc (c->body_len);
  g_input_stream_read_all_async (G_INPUT_STREAM (source), c->body, c->body_len, G_PRIORITY_DEFAULT,
                                 c->cancellable, tcp_body_cb, c);
}

static void
tcp_read_header (TcpConn *c)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (c->conn));

  g_input_stream_read_all_async (in, c->header, 2, G_PRIORITY_DEFAULT, c->cancellable,
                                 tcp_header_cb, c);
}

/* The connections open from @host */
static guint
tcp_conns_from (DiscoveryDns *self, const char *host)
{
  GHashTableIter iter;
  gpointer key;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (g_strcmp0 (((TcpConn *) key)->host, host) == 0)
      n++;
  return n;
}

static gboolean
tcp_incoming_cb (GSocketService *service, GSocketConnection *conn, GObject *source, gpointer user_data)
{
  DiscoveryDns *self = user_data;
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (conn, NULL);
  g_autofree char *host = NULL;
  TcpConn *c;

  if (G_IS_INET_SOCKET_ADDRESS (remote))
    host = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  /* busy, or this source holds its share already: the client retries, or
   * falls back to UDP */
  if (g_hash_table_size (self->conns) >= MAX_TCP_CONNS ||
      (host != NULL && tcp_conns_from (self, host) >= MAX_TCP_PER_SOURCE))
    {
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
      return TRUE;
    }
  c = g_new0 (TcpConn, 1);
  c->dns = self;
  c->conn = g_object_ref (conn);
  c->cancellable = g_cancellable_new ();
  if (host != NULL)
    c->peer = g_strdup_printf (strchr (host, ':') != NULL ? "[%s]:%u" : "%s:%u", host,
                               g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote)));
  c->host = g_steal_pointer (&host);
  g_hash_table_add (self->conns, c);
  g_socket_set_timeout (g_socket_connection_get_socket (conn), TCP_IDLE_SECONDS);
  tcp_read_header (c);
  return TRUE;
}

/* ---- setup ------------------------------------------------------------ */

static void
changed_cb (BerthStore *store, guint64 index, const char *topic, const char *key, gpointer user_data)
{
  DiscoveryDns *self = user_data;

  if (g_strcmp0 (topic, "service") == 0 || g_strcmp0 (topic, "check") == 0 ||
      g_strcmp0 (topic, "node") == 0)
    g_hash_table_remove_all (self->cache);
}

static GInetSocketAddress *
parse_address (const char *text, GError **error)
{
  g_autofree char *host = NULL;
  const char *colon = strrchr (text, ':');
  guint64 port = 0;
  GSocketAddress *addr;

  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    goto bad;
  host = g_strndup (text, (gsize) (colon - text));
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      char *inner = g_strndup (host + 1, strlen (host) - 2);
      g_free (host);
      host = inner;
    }
  addr = g_inet_socket_address_new_from_string (host, (guint) port);
  if (addr == NULL)
    goto bad;
  return G_INET_SOCKET_ADDRESS (addr);

bad:
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
               _("Invalid DNS address “%s”: use IP:PORT"), text);
  return NULL;
}

/* (Re)reads [discovery] domain, dns_ttl, recursors, dns_rrl_rate,
 * dns_rrl_slip and dns_token (or [security] dns_token). */
void
discovery_dns_reload (DiscoveryDns *self)
{
  BerthContext *ctx = self->context;
  g_autofree char *domain = berth_context_dup_config_string (ctx, "discovery", "domain", "consul");
  g_autofree char *recursors = berth_context_dup_config_string (ctx, "discovery", "recursors", "");
  char *d;

  g_autofree char *security_token = berth_context_dup_config_string (ctx, "security", "dns_token", "");
  g_autofree char *token = berth_context_dup_config_string (ctx, "discovery", "dns_token", security_token);

  self->ttl = (guint32) MIN (berth_context_get_config_uint64 (ctx, "discovery", "dns_ttl", 0), G_MAXINT32);
  dns_rrl_configure (self->rrl,
                     (guint) MIN (berth_context_get_config_uint64 (ctx, "discovery", "dns_rrl_rate",
                                                                   DEFAULT_RRL_RATE), G_MAXUINT32),
                     (guint) MIN (berth_context_get_config_uint64 (ctx, "discovery", "dns_rrl_slip",
                                                                   DEFAULT_RRL_SLIP), G_MAXUINT32));
  g_free (self->token);
  self->token = *g_strstrip (token) != '\0' ? g_strdup (token) : NULL;
  d = g_strstrip (g_ascii_strdown (domain, -1));
  while (*d == '.')
    memmove (d, d + 1, strlen (d));
  g_free (self->domain);
  self->domain = g_str_has_suffix (d, ".") ? g_strdup (d) : g_strconcat (d, ".", NULL);
  g_free (d);
  g_strfreev (self->domain_labels);
  {
    g_auto(GStrv) parts = g_strsplit (self->domain, ".", -1);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

    for (guint i = 0; parts[i] != NULL; i++)
      if (*parts[i] != '\0')
        g_strv_builder_add (b, parts[i]);
    self->domain_labels = g_strv_builder_end (b);
  }
  g_clear_pointer (&self->recursors, g_strfreev);
  if (*recursors != '\0')
    {
      self->recursors = g_strsplit_set (recursors, ",; ", -1);
      /* drop empty entries */
      for (guint i = 0, j = 0;; i++)
        {
          if (self->recursors[i] == NULL)
            {
              self->recursors[j] = NULL;
              break;
            }
          if (*self->recursors[i] != '\0')
            self->recursors[j++] = self->recursors[i];
          else
            g_free (self->recursors[i]);
        }
    }
  g_hash_table_remove_all (self->cache);
}

DiscoveryDns *
discovery_dns_new (DiscoveryPlugin *plugin, GError **error)
{
  BerthContext *ctx = berth_plugin_get_context (BERTH_PLUGIN (plugin));
  g_autofree char *addr_text = berth_context_dup_config_string (ctx, "berthd", "dns_addr",
                                                                "127.0.0.1:8600");
  g_autoptr(GInetSocketAddress) addr = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocketAddress) tcp_addr = NULL;
  DiscoveryDns *self;

  addr = parse_address (addr_text, error);
  if (addr == NULL)
    return NULL;
  self = g_new0 (DiscoveryDns, 1);
  self->conns = g_hash_table_new (NULL, NULL);
  self->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_ptr_array_unref);
  self->rrl = dns_rrl_new ();
  self->plugin = plugin;
  self->context = ctx;
  self->store = berth_context_get_store (ctx);
  self->changed_id = g_signal_connect (self->store, "changed", G_CALLBACK (changed_cb), self);
  self->datacenter = g_ascii_strdown (berth_node_get_datacenter (berth_context_get_node (ctx)), -1);
  discovery_dns_reload (self);

  self->udp = g_socket_new (g_inet_address_get_family (g_inet_socket_address_get_address (addr)),
                            G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (self->udp == NULL || !g_socket_bind (self->udp, G_SOCKET_ADDRESS (addr), TRUE, error))
    goto fail;
  g_socket_set_blocking (self->udp, FALSE);
  /* room for bursts: queries wait in the kernel while the loop is busy */
  g_socket_set_option (self->udp, SOL_SOCKET, SO_RCVBUF, 1 << 20, NULL);
  bound = g_socket_get_local_address (self->udp, error);
  if (bound == NULL)
    goto fail;
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  /* TCP on the same port (the one UDP got, when asked for port 0) */
  tcp_addr = g_inet_socket_address_new (g_inet_socket_address_get_address (addr), self->port);
  self->tcp = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->tcp), tcp_addr, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, NULL, error))
    goto fail;
  g_signal_connect (self->tcp, "incoming", G_CALLBACK (tcp_incoming_cb), self);
  g_socket_service_start (self->tcp);

  self->udp_source = g_socket_create_source (self->udp, G_IO_IN, NULL);
  g_source_set_callback (self->udp_source, (GSourceFunc) (void (*) (void)) udp_readable_cb, self, NULL);
  g_source_attach (self->udp_source, NULL);

  {
    g_autofree char *host = g_inet_address_to_string (g_inet_socket_address_get_address (addr));
    g_autofree char *where = g_strdup_printf ("%s:%u (UDP and TCP, domain %s)", host, self->port,
                                              self->domain);
    g_message ("dns: serving %s on %s:%u (UDP and TCP)", self->domain, host, self->port);
    berth_context_add_endpoint (ctx, "dns", where);
  }
  return self;

fail:
  if (error != NULL && *error != NULL)
    g_prefix_error (error, _("Cannot serve DNS on %s: "), addr_text);
  discovery_dns_free (self);
  return NULL;
}

void
discovery_dns_free (DiscoveryDns *self)
{
  gint64 deadline;

  if (self == NULL)
    return;
  berth_context_remove_endpoint (self->context, "dns");
  if (self->udp_source != NULL)
    {
      g_source_destroy (self->udp_source);
      g_source_unref (self->udp_source);
    }
  if (self->tcp != NULL)
    {
      g_socket_service_stop (self->tcp);
      g_socket_listener_close (G_SOCKET_LISTENER (self->tcp));
      g_signal_handlers_disconnect_by_data (self->tcp, self);
      g_clear_object (&self->tcp);
    }
  /* open TCP connections: cancel, and let them (and the answers waiting
   * on another datacenter or a recursor) end */
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, self->conns);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_cancellable_cancel (((TcpConn *) key)->cancellable);
  }
  deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  while ((self->pending > 0 || g_hash_table_size (self->conns) > 0) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, self->conns);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      ((TcpConn *) key)->dns = NULL;
  }
  g_hash_table_unref (self->conns);
  g_clear_signal_handler (&self->changed_id, self->store);
  g_hash_table_unref (self->cache);
  if (self->udp != NULL)
    g_socket_close (self->udp, NULL);
  g_clear_object (&self->udp);
  g_strfreev (self->recursors);
  dns_rrl_free (self->rrl);
  g_free (self->token);
  g_free (self->domain);
  g_strfreev (self->domain_labels);
  g_free (self->datacenter);
  g_free (self);
}
