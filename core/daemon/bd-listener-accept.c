/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <glib/gi18n.h>
#include <gio/gunixsocketaddress.h>

#include "bd-http-head.h"
#include "bd-listener-private.h"

/* Listening sockets and the connections they accept: the caps in all and
 * per client are checked first (over them, a plain connection is answered
 * 503/429 at once and an HTTPS one is closed), then an HTTPS connection
 * gets its relay, and the connection waits for its first request head. */

/* ---- connections ---------------------------------------------------- */

static char *
client_key (GSocket *socket, GSocketAddress *remote)
{
  if (G_IS_INET_SOCKET_ADDRESS (remote))
    return g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  else
    {
      g_autoptr(GCredentials) creds = g_socket_get_credentials (socket, NULL);
      if (creds != NULL)
        return g_strdup_printf ("uid %u", (guint) g_credentials_get_unix_user (creds, NULL));
      return g_strdup ("unix");
    }
}

/* Over a cap: answer at once and close, holding nothing. */
static void
refuse_client (GSocket *client, guint status, const char *message)
{
  g_autoptr(GBytes) reply = bd_http_reply_new (status, message);
  char scratch[4096];

  bd_listener_send_all (client, reply);
  /* what the client already sent would turn the close into a reset */
  for (guint i = 0; i < 16; i++)
    if (g_socket_receive_with_blocking (client, scratch, sizeof scratch, FALSE, NULL, NULL) <= 0)
      break;
  g_socket_shutdown (client, FALSE, TRUE, NULL);
  g_socket_close (client, NULL);
}

static void
relay_done_cb (BdTlsRelay *relay, gpointer data)
{
  BdListener *self = data;

  g_hash_table_remove (self->relays, relay);
}

/* HTTPS: the listener reads the relay's decrypted side of the connection. */
static GSocket *
start_relay (BdListener *self, GSocket *client, BdTlsRelay **relay)
{
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GError) error = NULL;
  GSocket *inner = NULL;

  certificate = berth_tls_provider_get_certificate (self->tls_provider);
  database = berth_tls_provider_get_database (self->tls_provider);
  if (certificate == NULL)
    return NULL;
  *relay = bd_tls_relay_new (client, certificate, database, self->tls_require_client_certificate,
                             self->limits.header_timeout_s, relay_done_cb, self, &inner, &error);
  if (*relay == NULL)
    {
      g_warning ("https: %s", error->message);
      return NULL;
    }
  g_hash_table_add (self->relays, bd_tls_relay_ref (*relay));
  return inner;
}

static void
take_client (BdListener *self, GSocket *client, BerthZone zone, gboolean tls)
{
  g_autoptr(BdTlsRelay) relay = NULL;
  g_autoptr(GSocket) inner = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GSocketAddress) remote = NULL;
  g_autofree char *key = NULL;
  guint count;
  Conn *c;

  g_socket_set_blocking (client, FALSE);
  local = g_socket_get_local_address (client, NULL);
  remote = g_socket_get_remote_address (client, NULL);
  if (g_socket_get_family (client) == G_SOCKET_FAMILY_UNIX)
    {
      if (local == NULL)
        local = g_unix_socket_address_new_with_type ("", 0, G_UNIX_SOCKET_ADDRESS_ANONYMOUS);
      if (remote == NULL)
        remote = g_unix_socket_address_new_with_type ("", 0, G_UNIX_SOCKET_ADDRESS_ANONYMOUS);
    }
  else
    g_socket_set_option (client, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  if (local == NULL || remote == NULL)
    {
      g_socket_close (client, NULL);
      return;
    }
  key = client_key (client, remote);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_client, key));
  if (tls && (g_hash_table_size (self->conns) >= self->max_connections ||
              count >= self->limits.max_connections_per_client))
    {
      /* no plain-text answer on a TLS port, and no handshake spent on it */
      g_debug ("http: refusing %s: too many connections", key);
      g_socket_close (client, NULL);
      return;
    }
  if (tls && (inner = start_relay (self, client, &relay)) == NULL)
    {
      g_socket_close (client, NULL);
      return;
    }
  if (g_hash_table_size (self->conns) >= self->max_connections)
    {
      g_autofree char *text = g_strdup_printf (_("Too many connections (limit %u, "
                                                 "http_max_connections)"),
                                               self->max_connections);
      g_debug ("http: refusing %s: %s", key, text);
      refuse_client (client, SOUP_STATUS_SERVICE_UNAVAILABLE, text);
      return;
    }
  if (count >= self->limits.max_connections_per_client)
    {
      g_autofree char *text = g_strdup_printf (_("Too many connections from %s (limit %u, "
                                                 "http_max_connections_per_client)"),
                                               key, self->limits.max_connections_per_client);
      g_debug ("http: refusing %s: %s", key, text);
      refuse_client (client, BD_HTTP_STATUS_TOO_MANY_REQUESTS, text);
      return;
    }

  c = g_new0 (Conn, 1);
  c->listener = self;
  c->socket = g_object_ref (inner != NULL ? inner : client);
  c->client_socket = g_object_ref (client);
  c->relay = g_steal_pointer (&relay);
  c->local = g_steal_pointer (&local);
  c->remote = g_steal_pointer (&remote);
  c->is_unix = g_socket_get_family (client) == G_SOCKET_FAMILY_UNIX;
  c->zone = zone;
  c->client = g_strdup (key);
  c->buf = g_byte_array_new ();
  g_hash_table_add (self->conns, c);
  g_hash_table_insert (self->per_client, g_steal_pointer (&key), GUINT_TO_POINTER (count + 1));
  bd_listener_conn_start_head (c);
}

/* ---- listening ------------------------------------------------------ */

static gboolean accept_cb (GSocket *socket, GIOCondition condition, gpointer data);

static void
listen_watch (Listen *l)
{
  l->source = g_socket_create_source (l->socket, G_IO_IN, NULL);
  g_source_set_callback (l->source, (GSourceFunc) (void (*) (void)) accept_cb, l, NULL);
  g_source_attach (l->source, NULL);
}

static gboolean
accept_retry_cb (gpointer data)
{
  Listen *l = data;

  g_clear_pointer (&l->retry, g_source_unref);
  listen_watch (l);
  return G_SOURCE_REMOVE;
}

static gboolean
accept_cb (GSocket *socket, GIOCondition condition, gpointer data)
{
  Listen *l = data;
  BdListener *self = l->self;

  for (guint i = 0; i < ACCEPTS_PER_WAKEUP; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) client = g_socket_accept (socket, NULL, &error);

      if (client != NULL)
        {
          take_client (self, client, l->zone, l->tls);
          continue;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_FAILED))
        {
          /* out of descriptors (or memory): the pending connection stays
           * in the backlog; try again shortly instead of spinning */
          gint64 now = g_get_monotonic_time ();
          if (now - self->last_fd_warning > 10 * G_USEC_PER_SEC)
            {
              g_warning ("http: cannot accept connections: %s (%u open)", error->message,
                         g_hash_table_size (self->conns));
              self->last_fd_warning = now;
            }
          g_clear_pointer (&l->source, g_source_unref);
          l->retry = bd_listener_attach (g_timeout_source_new (ACCEPT_RETRY_MS), accept_retry_cb, l);
          return G_SOURCE_REMOVE;
        }
      g_debug ("http: accept: %s", error->message);
    }
  return G_SOURCE_CONTINUE;
}

static int
listen_backlog (void)
{
  g_autofree char *text = NULL;
  guint64 value = 4096;

  if (g_file_get_contents ("/proc/sys/net/core/somaxconn", &text, NULL, NULL))
    g_ascii_string_to_unsigned (g_strstrip (text), 10, 16, 65535, &value, NULL);
  return (int) value;
}

void
bd_listener_listen_free (Listen *l)
{
  bd_listener_clear_source (&l->source);
  bd_listener_clear_source (&l->retry);
  g_socket_close (l->socket, NULL);
  g_object_unref (l->socket);
  g_free (l);
}

static gboolean
listener_add (BdListener *self, GSocket *socket, BerthZone zone, gboolean tls, GError **error)
{
  Listen *l;

  g_socket_set_listen_backlog (socket, listen_backlog ());
  g_socket_set_blocking (socket, FALSE);
  if (!g_socket_listen (socket, error))
    return FALSE;
  l = g_new0 (Listen, 1);
  l->self = self;
  l->socket = g_object_ref (socket);
  l->zone = zone;
  l->tls = tls;
  listen_watch (l);
  g_ptr_array_add (self->listens, l);
  return TRUE;
}

gboolean
bd_listener_add (BdListener *self, GSocket *socket, BerthZone zone, GError **error)
{
  return listener_add (self, socket, zone, FALSE, error);
}

gboolean
bd_listener_add_tls (BdListener *self, GSocket *socket, BerthZone zone, BerthTlsProvider *provider,
                     gboolean require_client_certificate, GError **error)
{
  g_return_val_if_fail (BERTH_IS_TLS_PROVIDER (provider), FALSE);
  g_return_val_if_fail (self->tls_provider == NULL || self->tls_provider == provider, FALSE);

  g_set_object (&self->tls_provider, provider);
  self->tls_require_client_certificate = require_client_certificate;
  return listener_add (self, socket, zone, TRUE, error);
}