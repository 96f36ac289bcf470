/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "bd-http-head.h"
#include "bd-listener-private.h"

/* A connection goes around: HEAD (berthd reads the request head, checking
 * its limits and timeouts) → REQUEST (libsoup serves the request on a
 * BdHttpStream; once the body is read berthd watches the socket for the
 * client leaving) → HEAD again if the connection is kept alive, else it is
 * closed. Answers berthd gives itself (408, 413, 414, 431) end in LINGER:
 * the write side is shut down and what the client still sends is read and
 * dropped for a moment, so that the client sees the answer rather than a
 * reset. libsoup 3.2 keeps a connection alive only while it has listeners
 * of its own, which berthd does not give it: each request is its own
 * libsoup connection, and keep-alive is berthd's business. */

/* statuses libsoup 3.2 has no names for */

static GQuark conn_quark (void);
static GQuark socket_quark (void);
static GQuark zone_quark (void);
static GQuark tls_quark (void);
G_DEFINE_QUARK (bd-listener-conn, conn)
G_DEFINE_QUARK (bd-listener-tls, tls)
G_DEFINE_QUARK (bd-listener-socket, socket)
G_DEFINE_QUARK (bd-listener-zone, zone)

static gboolean conn_check_head   (Conn *c);
static void     conn_close        (Conn *c);

void
bd_listener_clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

GSource *
bd_listener_attach (GSource *source, GSourceFunc func, gpointer data)
{
  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, NULL);
  return source;
}

static GSource *
watch_socket (Conn *c, GSocketSourceFunc func)
{
  GSource *source = g_socket_create_source (c->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  return bd_listener_attach (source, (GSourceFunc) (void (*) (void)) func, c);
}

/* ---- answers berthd gives itself ------------------------------------ */

/* Best effort: the answers are small enough for an empty socket buffer. */
void
bd_listener_send_all (GSocket *socket, GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  while (len > 0)
    {
      gssize n = g_socket_send_with_blocking (socket, data, len, FALSE, NULL, NULL);
      if (n <= 0)
        return;
      data += n;
      len -= (gsize) n;
    }
}

static gboolean
linger_timeout_cb (gpointer data)
{
  Conn *c = data;

  g_clear_pointer (&c->timer, g_source_unref);
  conn_close (c);
  return G_SOURCE_REMOVE;
}

static gboolean
linger_readable_cb (GSocket *socket, GIOCondition condition, gpointer data)
{
  Conn *c = data;
  char scratch[16384];

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive_with_blocking (socket, scratch, sizeof scratch, FALSE, NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      if (n <= 0 || (c->discarded += (gsize) n) > LINGER_MAX_BYTES)
        {
          conn_close (c);
          return G_SOURCE_REMOVE;
        }
    }
}

/* Answers @status with a JSON message and closes the connection. */
static void
conn_refuse (Conn *c, guint status, const char *message)
{
  g_autoptr(GBytes) reply = bd_http_reply_new (status, message);

  g_debug ("http: %s: %u %s", c->client, status, message);
  bd_listener_clear_source (&c->watch);
  bd_listener_clear_source (&c->timer);
  c->state = CONN_LINGER;
  bd_listener_send_all (c->socket, reply);
  g_socket_shutdown (c->socket, FALSE, TRUE, NULL);
  c->watch = watch_socket (c, linger_readable_cb);
  c->timer = bd_listener_attach (g_timeout_source_new (LINGER_MS), linger_timeout_cb, c);
}

/* ---- one request handed to libsoup ---------------------------------- */

static gboolean
advance_cb (gpointer data)
{
  Conn *c = data;
  gboolean keep;

  g_clear_pointer (&c->advance, g_source_unref);
  keep = c->keepalive && c->completed && !c->peer_gone && c->msg != NULL;
  if (keep)
    {
      SoupMessageHeaders *headers = soup_server_message_get_response_headers (c->msg);
      if (soup_message_headers_header_contains (headers, "Connection", "close") ||
          soup_message_headers_get_encoding (headers) == SOUP_ENCODING_EOF)
        keep = FALSE;
    }
  if (c->state != CONN_LINGER)
    {
      bd_listener_clear_source (&c->watch);
      bd_listener_clear_source (&c->timer);
    }
  if (c->msg != NULL)
    {
      g_clear_signal_handler (&c->got_body_id, c->msg);
      g_object_set_qdata (G_OBJECT (c->msg), conn_quark (), NULL);
      g_clear_object (&c->msg);
    }
  if (c->stream != NULL)
    {
      bd_http_stream_detach (c->stream);
      g_clear_object (&c->stream);
    }
  if (c->state == CONN_LINGER)
    ; /* refused after libsoup let go of it: the answer is on its way */
  else if (keep)
    bd_listener_conn_start_head (c);
  else
    conn_close (c);
  return G_SOURCE_REMOVE;
}

/* libsoup is done with the request (answered, or the connection broke). */
static void
stream_closed_cb (gpointer data)
{
  Conn *c = data;

  if (c->advance == NULL)
    c->advance = bd_listener_attach (g_idle_source_new (), advance_cb, c);
}

/* The client closed its end (or reset the connection) while its request
 * is still served: typically a blocking query parked until something
 * changes. Taking the connection from libsoup makes the message emit
 * "disconnected", which cancels the request. */
static void
conn_abort_request (Conn *c)
{
  g_autoptr(GIOStream) stolen = NULL;

  c->peer_gone = TRUE;
  if (c->stream == NULL || bd_http_stream_is_closed_by_server (c->stream) || c->msg == NULL)
    return;
  g_debug ("http: %s went away during %s %s", c->client, soup_server_message_get_method (c->msg),
           g_uri_get_path (soup_server_message_get_uri (c->msg)));
  stolen = soup_server_message_steal_connection (c->msg);
  if (stolen != NULL)
    g_io_stream_close (stolen, NULL, NULL);
  /* libsoup had already let go of it */
  stream_closed_cb (c);
}

static gboolean
eof_watch_cb (GSocket *socket, GIOCondition condition, gpointer data)
{
  Conn *c = data;
  char byte;
  gssize n = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&c->watch, g_source_unref);
  /* n > 0: the next request is already there; it waits for this one */
  if (n <= 0)
    conn_abort_request (c);
  return G_SOURCE_REMOVE;
}

static void
got_body_cb (SoupServerMessage *msg, gpointer data)
{
  Conn *c = data;

  c->got_body = TRUE;
  bd_listener_clear_source (&c->timer);
  /* libsoup reads nothing more of this request: from now on, anything
   * readable on the socket is the client leaving (or its next request) */
  if (c->state == CONN_REQUEST && c->watch == NULL && c->advance == NULL)
    c->watch = watch_socket (c, eof_watch_cb);
}

static void
request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  BdListener *self = data;
  Conn *c = self->accepting;

  if (c == NULL || c->msg != NULL)
    return;
  c->msg = g_object_ref (msg);
  g_object_set_qdata (G_OBJECT (msg), conn_quark (), c);
  g_object_set_qdata_full (G_OBJECT (msg), socket_quark (), g_object_ref (c->client_socket),
                           g_object_unref);
  if (c->relay != NULL)
    g_object_set_qdata_full (G_OBJECT (msg), tls_quark (), bd_tls_relay_ref (c->relay),
                             (GDestroyNotify) bd_tls_relay_unref);
  /* stored plus one, so that no qdata reads as "no zone" */
  g_object_set_qdata (G_OBJECT (msg), zone_quark (), GUINT_TO_POINTER (c->zone + 1));
  c->got_body_id = g_signal_connect (msg, "got-body", G_CALLBACK (got_body_cb), c);
  if (!c->keepalive)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
}

static void
request_finished_cb (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  Conn *c = g_object_get_qdata (G_OBJECT (msg), conn_quark ());

  if (c != NULL)
    c->completed = TRUE;
}

/* A body must keep coming: no byte of it for http_header_timeout seconds
 * and the request is answered 408 and the connection closed. */
static gboolean
body_progress_cb (gpointer data)
{
  Conn *c = data;
  guint64 delivered;
  g_autoptr(GIOStream) stolen = NULL;
  g_autofree char *text = NULL;

  if (c->got_body || c->stream == NULL || bd_http_stream_is_closed_by_server (c->stream) ||
      c->msg == NULL)
    {
      g_clear_pointer (&c->timer, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  delivered = bd_http_stream_get_delivered (c->stream);
  if (delivered != c->delivered)
    {
      c->delivered = delivered;
      return G_SOURCE_CONTINUE;
    }
  g_clear_pointer (&c->timer, g_source_unref);
  stolen = soup_server_message_steal_connection (c->msg);
  if (stolen != NULL)
    g_io_stream_close (stolen, NULL, NULL);
  stream_closed_cb (c);
  text = g_strdup_printf (_("The request body stalled for %u seconds"),
                          c->listener->limits.header_timeout_s);
  conn_refuse (c, SOUP_STATUS_REQUEST_TIMEOUT, text);
  return G_SOURCE_REMOVE;
}

static void
conn_serve (Conn *c, guint64 request_len)
{
  BdListener *self = c->listener;
  gsize take = (guint64) c->buf->len > request_len ? (gsize) request_len : c->buf->len;
  g_autoptr(GBytes) prefix = g_bytes_new (c->buf->data, take);

  g_byte_array_remove_range (c->buf, 0, (guint) take);
  bd_listener_clear_source (&c->watch);
  bd_listener_clear_source (&c->timer);
  c->state = CONN_REQUEST;
  c->completed = FALSE;
  c->got_body = FALSE;
  c->delivered = 0;
  c->requests++;
  c->stream = bd_http_stream_new (c->socket, prefix, request_len, stream_closed_cb, c);
  c->timer = bd_listener_attach (g_timeout_source_new_seconds (c->listener->limits.header_timeout_s),
                     body_progress_cb, c);
  self->accepting = c;
  soup_server_accept_iostream (self->server, G_IO_STREAM (c->stream), c->local, c->remote, NULL);
  self->accepting = NULL;
}

/* ---- the request head ----------------------------------------------- */

static void
conn_got_head (Conn *c, gsize head_len)
{
  const BdHttpLimits *limits = &c->listener->limits;
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  g_autofree char *method = NULL;
  g_autofree char *path = NULL;
  SoupHTTPVersion version = SOUP_HTTP_1_1;
  guint64 request_len = head_len;
  guint status;

  status = soup_headers_parse_request ((const char *) c->buf->data, (guint) head_len, headers,
                                       &method, &path, &version);
  c->keepalive = TRUE;
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      /* libsoup answers what it cannot parse, and closes */
      c->keepalive = FALSE;
      conn_serve (c, head_len);
      return;
    }
  if (version < SOUP_HTTP_1_1 ||
      soup_message_headers_header_contains (headers, "Connection", "close"))
    c->keepalive = FALSE;
  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_CONTENT_LENGTH:
      {
        goffset length = soup_message_headers_get_content_length (headers);
        if (length > 0 && (guint64) length > limits->max_body_bytes)
          {
            g_autofree char *text = g_strdup_printf (_("Request body of %" G_GINT64_FORMAT
                                                       " bytes exceeds the limit of %"
                                                       G_GUINT64_FORMAT " bytes"),
                                                     (gint64) length, limits->max_body_bytes);
            conn_refuse (c, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, text);
            return;
          }
        request_len += (guint64) MAX (length, 0);
        break;
      }
    case SOUP_ENCODING_NONE:
      break;
    default:
      /* chunked: the end is found by libsoup, which may read beyond it */
      c->keepalive = FALSE;
      request_len = G_MAXUINT64;
      break;
    }
  /* libsoup takes the local address for an IP address when an HTTP/1.0
   * request names no host */
  if (c->is_unix && soup_message_headers_get_one (headers, "Host") == NULL && path[0] == '/')
    {
      conn_refuse (c, SOUP_STATUS_BAD_REQUEST, _("A Host header is required"));
      return;
    }
  conn_serve (c, request_len);
}

/* Returns TRUE while more of the head is needed (the connection still
 * reads), FALSE once it has been handed on or refused. */
static gboolean
conn_check_head (Conn *c)
{
  g_autofree char *message = NULL;
  gsize skip = 0, head_len = 0;
  guint status = 0;

  /* empty lines before a request line are ignored (RFC 9112 §2.2) */
  while (skip < c->buf->len && (c->buf->data[skip] == '\r' || c->buf->data[skip] == '\n'))
    skip++;
  if (skip > 0)
    g_byte_array_remove_range (c->buf, 0, (guint) skip);
  switch (bd_http_head_scan (c->buf->data, c->buf->len, &c->listener->limits, &head_len,
                             &status, &message))
    {
    case BD_HTTP_HEAD_INCOMPLETE:
      return TRUE;
    case BD_HTTP_HEAD_REFUSED:
      conn_refuse (c, status, message);
      return FALSE;
    case BD_HTTP_HEAD_COMPLETE:
    default:
      conn_got_head (c, head_len);
      return FALSE;
    }
}

static gboolean
header_timeout_cb (gpointer data)
{
  Conn *c = data;

  g_clear_pointer (&c->timer, g_source_unref);
  if (c->buf->len == 0)
    {
      conn_close (c);
      return G_SOURCE_REMOVE;
    }
  {
    g_autofree char *text = g_strdup_printf (_("The request head did not arrive within %u seconds"),
                                             c->listener->limits.header_timeout_s);
    conn_refuse (c, SOUP_STATUS_REQUEST_TIMEOUT, text);
  }
  return G_SOURCE_REMOVE;
}

static gboolean
idle_timeout_cb (gpointer data)
{
  Conn *c = data;

  g_clear_pointer (&c->timer, g_source_unref);
  conn_close (c);
  return G_SOURCE_REMOVE;
}

static void
start_header_timer (Conn *c)
{
  bd_listener_clear_source (&c->timer);
  c->head_started = TRUE;
  c->timer = bd_listener_attach (g_timeout_source_new_seconds (c->listener->limits.header_timeout_s),
                     header_timeout_cb, c);
}

static gboolean
head_readable_cb (GSocket *socket, GIOCondition condition, gpointer data)
{
  Conn *c = data;
  guint max = c->listener->limits.max_header_bytes + READ_CHUNK;
  guint8 chunk[READ_CHUNK];

  while (c->buf->len < max)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive_with_blocking (socket, (char *) chunk, sizeof chunk, FALSE,
                                                 NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (n <= 0)
        {
          /* the client closed the connection, or it broke */
          conn_close (c);
          return G_SOURCE_REMOVE;
        }
      g_byte_array_append (c->buf, chunk, (guint) n);
      if (!c->head_started)
        start_header_timer (c);
    }
  if (conn_check_head (c))
    return G_SOURCE_CONTINUE;
  /* handed on or refused: the watch is gone */
  return G_SOURCE_REMOVE;
}

void
bd_listener_conn_start_head (Conn *c)
{
  const BdHttpLimits *limits = &c->listener->limits;

  c->state = CONN_HEAD;
  c->head_started = FALSE;
  c->keepalive = FALSE;
  c->peer_gone = FALSE;
  bd_listener_clear_source (&c->timer);
  bd_listener_clear_source (&c->watch);
  c->watch = watch_socket (c, head_readable_cb);
  /* a new connection must send its request in time; a kept-alive one may
   * wait idle longer for its next request */
  if (c->requests == 0 || c->buf->len > 0)
    start_header_timer (c);
  else
    c->timer = bd_listener_attach (g_timeout_source_new_seconds (limits->idle_timeout_s), idle_timeout_cb, c);
  if (c->buf->len > 0)
    conn_check_head (c);
}

/* ---- connections ---------------------------------------------------- */

static void
conn_free (Conn *c)
{
  bd_listener_clear_source (&c->watch);
  bd_listener_clear_source (&c->timer);
  bd_listener_clear_source (&c->advance);
  if (c->msg != NULL)
    {
      g_clear_signal_handler (&c->got_body_id, c->msg);
      g_object_set_qdata (G_OBJECT (c->msg), conn_quark (), NULL);
      g_clear_object (&c->msg);
    }
  if (c->stream != NULL)
    {
      bd_http_stream_detach (c->stream);
      g_clear_object (&c->stream);
    }
  g_socket_close (c->socket, NULL);
  g_clear_object (&c->socket);
  g_clear_object (&c->client_socket);
  g_clear_pointer (&c->relay, bd_tls_relay_unref);
  g_clear_object (&c->local);
  g_clear_object (&c->remote);
  g_byte_array_unref (c->buf);
  g_free (c->client);
  g_free (c);
}

static void
conn_close (Conn *c)
{
  BdListener *self = c->listener;
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_client, c->client));

  if (count <= 1)
    g_hash_table_remove (self->per_client, c->client);
  else
    g_hash_table_insert (self->per_client, g_strdup (c->client), GUINT_TO_POINTER (count - 1));
  g_hash_table_remove (self->conns, c);
  conn_free (c);
}


void
bd_listener_set_limits (BdListener *self, const BdHttpLimits *limits)
{
  struct rlimit rl;
  guint max = limits->max_connections;

  self->limits = *limits;
  self->limits.allowed_origins = NULL;
  /* leave descriptors for the store, the plugins and their children */
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    {
      rlim_t reserve = MAX (32, rl.rlim_cur / 4);
      guint room = rl.rlim_cur > reserve + 8 ? (guint) MIN (rl.rlim_cur - reserve, G_MAXUINT) : 8;
      if (room < max)
        {
          g_debug ("http: at most %u connections (RLIMIT_NOFILE %" G_GUINT64_FORMAT ")", room,
                   (guint64) rl.rlim_cur);
          max = room;
        }
    }
  self->max_connections = max;
}

BdListener *
bd_listener_new (SoupServer *server, const BdHttpLimits *limits)
{
  BdListener *self = g_new0 (BdListener, 1);

  self->server = g_object_ref (server);
  self->listens = g_ptr_array_new_with_free_func ((GDestroyNotify) bd_listener_listen_free);
  self->conns = g_hash_table_new (NULL, NULL);
  self->per_client = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->relays = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) bd_tls_relay_unref);
  bd_listener_set_limits (self, limits);
  self->started_id = g_signal_connect (server, "request-started", G_CALLBACK (request_started_cb), self);
  self->finished_id = g_signal_connect (server, "request-finished", G_CALLBACK (request_finished_cb), self);
  return self;
}

void
bd_listener_free (BdListener *self)
{
  GList *conns;

  if (self == NULL)
    return;
  g_clear_signal_handler (&self->started_id, self->server);
  g_clear_signal_handler (&self->finished_id, self->server);
  g_ptr_array_unref (self->listens);
  conns = g_hash_table_get_keys (self->conns);
  g_hash_table_remove_all (self->conns);
  g_list_free_full (conns, (GDestroyNotify) conn_free);
  g_hash_table_unref (self->conns);
  g_hash_table_unref (self->per_client);
  {
    GHashTableIter iter;
    gpointer relay;
    g_hash_table_iter_init (&iter, self->relays);
    while (g_hash_table_iter_next (&iter, &relay, NULL))
      bd_tls_relay_close (relay);
    g_hash_table_unref (self->relays);
  }
  g_clear_object (&self->tls_provider);
  g_object_unref (self->server);
  g_free (self);
}

GSocket *
bd_listener_get_message_socket (SoupServerMessage *msg)
{
  return g_object_get_qdata (G_OBJECT (msg), socket_quark ());
}

BerthZone
bd_listener_get_message_zone (SoupServerMessage *msg)
{
  gpointer zone = g_object_get_qdata (G_OBJECT (msg), zone_quark ());

  /* a request that came some other way is served as the lowest zone */
  return zone != NULL ? (BerthZone) (GPOINTER_TO_UINT (zone) - 1) : BERTH_ZONE_PUBLIC;
}

gboolean
bd_listener_message_is_tls (SoupServerMessage *msg)
{
  return g_object_get_qdata (G_OBJECT (msg), tls_quark ()) != NULL;
}

GTlsCertificate *
bd_listener_get_message_tls_certificate (SoupServerMessage *msg)
{
  BdTlsRelay *relay = g_object_get_qdata (G_OBJECT (msg), tls_quark ());

  return relay != NULL ? bd_tls_relay_get_peer_certificate (relay) : NULL;
}
