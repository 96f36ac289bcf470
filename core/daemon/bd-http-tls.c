/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib/gi18n.h>

#include "bd-http-tls.h"
#include "bd-listener.h"

/* A relay carries CHUNK bytes at most each way at a time: it reads one
 * side only when what it read before has been written to the other, so
 * that a slow reader slows the writer down. Once the listener has closed
 * its side, the client has LINGER_MS to close its own. */

#define CHUNK     16384
#define LINGER_MS 2000

typedef struct {
  guint8  data[CHUNK];
  gsize   len;
  gsize   off;
  GSource *source;
  gboolean done;
} Pipe;

struct _BdTlsRelay {
  gatomicrefcount  ref;
  GSocket         *outer;          /* the client's socket */
  GSocket         *inner;          /* the relay's end of the pair */
  GIOStream       *tls;
  GCancellable    *cancellable;
  GSource         *hup;            /* the listener left during the handshake */
  GSource         *timer;
  GTlsCertificate *peer;
  gboolean         require;
  gboolean         closed;
  Pipe             up;             /* client → listener */
  Pipe             down;           /* listener → client */
  BdTlsRelayDone   done_cb;
  gpointer         user_data;
};

static void pump_up   (BdTlsRelay *self);
static void pump_down (BdTlsRelay *self);

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
relay_close (BdTlsRelay *self, gboolean notify)
{
  BdTlsRelayDone cb = self->done_cb;

  if (self->closed)
    return;
  self->closed = TRUE;
  self->done_cb = NULL;
  g_cancellable_cancel (self->cancellable);
  clear_source (&self->hup);
  clear_source (&self->timer);
  clear_source (&self->up.source);
  clear_source (&self->down.source);
  g_socket_close (self->inner, NULL);
  g_socket_close (self->outer, NULL);
  if (notify && cb != NULL)
    cb (self, self->user_data);
}

static void
relay_free (BdTlsRelay *self)
{
  relay_close (self, FALSE);
  g_clear_object (&self->tls);
  g_clear_object (&self->outer);
  g_clear_object (&self->inner);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->peer);
  g_free (self);
}

BdTlsRelay *
bd_tls_relay_ref (BdTlsRelay *relay)
{
  g_atomic_ref_count_inc (&relay->ref);
  return relay;
}

void
bd_tls_relay_unref (BdTlsRelay *relay)
{
  if (relay != NULL && g_atomic_ref_count_dec (&relay->ref))
    relay_free (relay);
}

void
bd_tls_relay_close (BdTlsRelay *relay)
{
  relay_close (relay, FALSE);
}

GTlsCertificate *
bd_tls_relay_get_peer_certificate (BdTlsRelay *relay)
{
  return relay->peer;
}

/* The relay's own source callbacks hold a reference while they run. */
static GSource *
attach (GSource *source, GSourceFunc func, BdTlsRelay *self)
{
  g_source_set_callback (source, func, self, NULL);
  g_source_attach (source, NULL);
  return source;
}

static gboolean
linger_cb (gpointer data)
{
  BdTlsRelay *self = data;

  g_clear_pointer (&self->timer, g_source_unref);
  relay_close (self, TRUE);
  return G_SOURCE_REMOVE;
}

static void
maybe_finish (BdTlsRelay *self)
{
  if (self->up.done && self->down.done)
    relay_close (self, TRUE);
  else if (self->down.done && self->timer == NULL)
    self->timer = attach (g_timeout_source_new (LINGER_MS), linger_cb, self);
}

/* ---- client → listener ---------------------------------------------- */

static gboolean
up_ready_cb (gpointer data)
{
  BdTlsRelay *self = data;

  g_clear_pointer (&self->up.source, g_source_unref);
  bd_tls_relay_ref (self);
  pump_up (self);
  bd_tls_relay_unref (self);
  return G_SOURCE_REMOVE;
}

static gboolean
up_socket_cb (GSocket *socket, GIOCondition condition, gpointer data)
{
  return up_ready_cb (data);
}

static gboolean
up_stream_cb (GObject *stream, gpointer data)
{
  return up_ready_cb (data);
}

static void
pump_up (BdTlsRelay *self)
{
  GPollableInputStream *in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (self->tls));
  Pipe *p = &self->up;

  while (!self->closed && !p->done)
    {
      g_autoptr(GError) error = NULL;
      gssize n;

      if (p->off < p->len)
        {
          n = g_socket_send_with_blocking (self->inner, (const char *) p->data + p->off,
                                           p->len - p->off, FALSE, NULL, &error);
          if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            {
              p->source = attach (g_socket_create_source (self->inner, G_IO_OUT, NULL),
                                  (GSourceFunc) (void (*) (void)) up_socket_cb, self);
              return;
            }
          if (n <= 0)
            {
              /* the listener closed the connection */
              relay_close (self, TRUE);
              return;
            }
          p->off += (gsize) n;
          continue;
        }
      n = g_pollable_input_stream_read_nonblocking (in, p->data, sizeof p->data, NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          p->source = attach (g_pollable_input_stream_create_source (in, NULL),
                              (GSourceFunc) (void (*) (void)) up_stream_cb, self);
          return;
        }
      if (n <= 0)
        {
          /* the client closed its side (or the connection broke): the
           * listener reads the end of the stream */
          if (n < 0)
            g_debug ("https: %s", error->message);
          p->done = TRUE;
          g_socket_shutdown (self->inner, FALSE, TRUE, NULL);
          maybe_finish (self);
          return;
        }
      p->len = (gsize) n;
      p->off = 0;
    }
}

/* ---- listener → client ---------------------------------------------- */

static gboolean
down_ready_cb (gpointer data)
{
  BdTlsRelay *self = data;

  g_clear_pointer (&self->down.source, g_source_unref);
  bd_tls_relay_ref (self);
  pump_down (self);
  bd_tls_relay_unref (self);
  return G_SOURCE_REMOVE;
}

static gboolean
down_socket_cb (GSocket *socket, GIOCondition condition, gpointer data)
{
  return down_ready_cb (data);
}

static gboolean
down_stream_cb (GObject *stream, gpointer data)
{
  return down_ready_cb (data);
}

static void
output_closed_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  BdTlsRelay *self = data;

  g_output_stream_close_finish (G_OUTPUT_STREAM (source), result, NULL);
  if (!self->closed)
    maybe_finish (self);
  bd_tls_relay_unref (self);
}

static void
pump_down (BdTlsRelay *self)
{
  GOutputStream *out_stream = g_io_stream_get_output_stream (self->tls);
  GPollableOutputStream *out = G_POLLABLE_OUTPUT_STREAM (out_stream);
  Pipe *p = &self->down;

  while (!self->closed && !p->done)
    {
      g_autoptr(GError) error = NULL;
      gssize n;

      if (p->off < p->len)
        {
          n = g_pollable_output_stream_write_nonblocking (out, p->data + p->off, p->len - p->off,
                                                          NULL, &error);
          if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            {
              p->source = attach (g_pollable_output_stream_create_source (out, NULL),
                                  (GSourceFunc) (void (*) (void)) down_stream_cb, self);
              return;
            }
          if (n <= 0)
            {
              /* the client is gone */
              g_debug ("https: %s", error != NULL ? error->message : "write failed");
              relay_close (self, TRUE);
              return;
            }
          p->off += (gsize) n;
          continue;
        }
      n = g_socket_receive_with_blocking (self->inner, (char *) p->data, sizeof p->data, FALSE,
                                          NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          p->source = attach (g_socket_create_source (self->inner, G_IO_IN, NULL),
                              (GSourceFunc) (void (*) (void)) down_socket_cb, self);
          return;
        }
      if (n <= 0)
        {
          /* the listener is done with the connection: close_notify, then
           * the client closes its side (or lingers too long) */
          p->done = TRUE;
          g_output_stream_close_async (out_stream, G_PRIORITY_DEFAULT, self->cancellable,
                                       output_closed_cb, bd_tls_relay_ref (self));
          /* a client that reads nothing more cannot hold the close up */
          if (self->timer == NULL)
            self->timer = attach (g_timeout_source_new (LINGER_MS), linger_cb, self);
          return;
        }
      p->len = (gsize) n;
      p->off = 0;
    }
}

/* ---- the handshake -------------------------------------------------- */

/* glib-networking asks a server about every client certificate, valid or
 * not: one the CA did not sign is refused when one is required, and taken
 * as no identity otherwise. */
static gboolean
accept_certificate_cb (GTlsConnection *conn, GTlsCertificate *peer, GTlsCertificateFlags errors,
                       gpointer data)
{
  BdTlsRelay *self = data;

  if (errors != 0)
    g_debug ("https: client certificate not verified (flags 0x%x)", (guint) errors);
  return errors == 0 || !self->require;
}

static gboolean
inner_hup_cb (GSocket *socket, GIOCondition condition, gpointer data)
{
  BdTlsRelay *self = data;

  g_clear_pointer (&self->hup, g_source_unref);
  relay_close (self, TRUE);
  return G_SOURCE_REMOVE;
}

static void
handshake_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  BdTlsRelay *self = data;
  g_autoptr(GError) error = NULL;
  GTlsConnection *tls = G_TLS_CONNECTION (source);

  if (!g_tls_connection_handshake_finish (tls, result, &error))
    {
      if (!self->closed)
        {
          g_debug ("https: handshake: %s", error->message);
          relay_close (self, TRUE);
        }
      bd_tls_relay_unref (self);
      return;
    }
  if (!self->closed)
    {
      GTlsCertificate *peer = g_tls_connection_get_peer_certificate (tls);
      if (peer != NULL && g_tls_connection_get_peer_certificate_errors (tls) == 0)
        self->peer = g_object_ref (peer);
      clear_source (&self->hup);
      clear_source (&self->timer);
      pump_up (self);
      pump_down (self);
    }
  bd_tls_relay_unref (self);
}

BdTlsRelay *
bd_tls_relay_new (GSocket *client, GTlsCertificate *certificate, GTlsDatabase *database,
                  gboolean require_client_certificate, guint timeout_s, BdTlsRelayDone done_cb,
                  gpointer user_data, GSocket **inner, GError **error)
{
  g_autoptr(BdTlsRelay) self = g_new0 (BdTlsRelay, 1);
  g_autoptr(GSocketConnection) base = NULL;
  g_autoptr(GSocket) theirs = NULL;
  int fds[2];

  g_return_val_if_fail (G_IS_SOCKET (client), NULL);
  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  g_atomic_ref_count_init (&self->ref);
  self->outer = g_object_ref (client);
  self->require = require_client_certificate;
  self->cancellable = g_cancellable_new ();
  self->done_cb = done_cb;
  self->user_data = user_data;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "socketpair: %s",
                   g_strerror (saved));
      self->closed = TRUE;
      return NULL;
    }
  self->inner = g_socket_new_from_fd (fds[0], error);
  if (self->inner == NULL)
    {
      close (fds[0]);
      close (fds[1]);
      self->closed = TRUE;
      return NULL;
    }
  theirs = g_socket_new_from_fd (fds[1], error);
  if (theirs == NULL)
    {
      close (fds[1]);
      relay_close (self, FALSE);
      return NULL;
    }
  g_socket_set_blocking (self->inner, FALSE);
  g_socket_set_blocking (theirs, FALSE);
  base = g_socket_connection_factory_create_connection (client);
  self->tls = g_tls_server_connection_new (G_IO_STREAM (base), certificate, error);
  if (self->tls == NULL)
    {
      relay_close (self, FALSE);
      return NULL;
    }
  g_tls_connection_set_database (G_TLS_CONNECTION (self->tls), database);
  g_object_set (self->tls, "authentication-mode",
                require_client_certificate ? G_TLS_AUTHENTICATION_REQUIRED
                                           : G_TLS_AUTHENTICATION_REQUESTED, NULL);
  g_signal_connect (self->tls, "accept-certificate", G_CALLBACK (accept_certificate_cb), self);
  /* the listener closing its end (header timeout, caps) ends the handshake */
  self->hup = attach (g_socket_create_source (self->inner, G_IO_HUP, NULL),
                      (GSourceFunc) (void (*) (void)) inner_hup_cb, self);
  /* and so does this, should the listener not */
  self->timer = attach (g_timeout_source_new_seconds (timeout_s + 1), linger_cb, self);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (self->tls), G_PRIORITY_DEFAULT,
                                    self->cancellable, handshake_cb, bd_tls_relay_ref (self));
  *inner = g_steal_pointer (&theirs);
  return g_steal_pointer (&self);
}

/* ---- the HTTPS listener --------------------------------------------- */

gboolean
bd_http_listen_https (BdHttp *http, const char *address, BerthZone zone, BerthTlsProvider *provider,
                      gboolean require_client_certificate, char **bound_address, GError **error)
{
  g_autoptr(GInetSocketAddress) sa = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *host = NULL;
  guint16 port;

  g_return_val_if_fail (BERTH_IS_TLS_PROVIDER (provider), FALSE);

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Cannot serve HTTPS on %s: GIO has no TLS backend (install glib-networking)"),
                   address);
      return FALSE;
    }
  if (!bd_parse_host_port (address, 8501, &sa, error))
    {
      g_prefix_error (error, "--https-addr: ");
      return FALSE;
    }
  socket = g_socket_new (g_socket_address_get_family (G_SOCKET_ADDRESS (sa)), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL ||
      !g_socket_bind (socket, G_SOCKET_ADDRESS (sa), TRUE, error) ||
      !bd_listener_add_tls (bd_http_get_listener (http), socket, zone, provider,
                            require_client_certificate, error) ||
      (bound = g_socket_get_local_address (socket, error)) == NULL)
    {
      g_prefix_error (error, _("Cannot listen on %s: "), address);
      return FALSE;
    }
  host = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (bound)));
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_debug ("https: %s zone on %s", berth_zone_to_string (zone), address);
  if (bound_address != NULL)
    *bound_address = g_strdup_printf (strchr (host, ':') != NULL ? "[%s]:%u" : "%s:%u", host, port);
  return TRUE;
}
