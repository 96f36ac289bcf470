/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <unistd.h>
#include <string.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>

#include "bd-http.h"
#include "bd-http-call.h"
#include "bd-http-guard.h"
#include "bd-listener.h"
#include "bd-log.h"
#include "berth-request-private.h"

/* The HTTP front door: one SoupServer, fed by berthd's own listener
 * (bd-listener.c) on TCP and on a unix socket, one catch-all handler that
 * dispatches through the context's route table. */

struct _BdHttp {
  BerthContext *context;
  SoupServer   *server;
  BdListener   *listener;
  guint64       max_body_bytes;
  char        **allowed_origins;
  char         *tcp_address;
  char         *unix_path;
};

static void
respond_plain_error (BerthContext *context, SoupServerMessage *msg, guint status,
                     const char *message, const char *allow)
{
  g_autoptr(BerthRequest) req = bd_http_request_new (context, msg, NULL);
  if (allow != NULL)
    berth_request_set_header (req, "Allow", allow);
  berth_request_respond_message (req, status, message);
}

typedef struct {
  BerthRequest *request;
  BerthRoute   *route;    /* routes live as long as the router */
} Dispatch;

static gpointer
dispatch_new (BerthRequest *request, BerthRoute *route)
{
  Dispatch *d = g_new0 (Dispatch, 1);
  d->request = g_object_ref (request);
  d->route = route;
  return d;
}

static void
dispatch_free (gpointer data)
{
  Dispatch *d = data;
  g_object_unref (d->request);
  g_free (d);
}

typedef struct {
  BerthContext *context;
  BerthCall    *call;
} CallWatch;

static void
call_watch_free (gpointer data, GClosure *closure)
{
  CallWatch *w = data;
  g_object_unref (w->context);
  g_object_unref (w->call);
  g_free (w);
}

/* What became of a call, once its reply went out, goes on the event bus
 * with its caller: a write call that succeeded becomes an `api.write`
 * event, a refused call (401, 403, 429) an `api.refused` one, a write call
 * that failed otherwise an `api.failed` one. The audit trail, monitoring
 * and D-Bus follow them from the bus, whichever door the call came
 * through; reads that were answered are not events. */
static void
call_finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  CallWatch *w = user_data;
  guint status = soup_server_message_get_status (msg);
  gboolean write = berth_call_get_access (w->call) == BERTH_ACCESS_WRITE;
  const char *topic;
  JsonObject *data;

  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN ||
      status == 429 /* Too Many Requests */)
    topic = "api.refused";
  else if (write && status >= 200 && status < 300)
    topic = "api.write";
  else if (write)
    topic = "api.failed";
  else
    return;
  data = json_object_new ();
  json_object_set_string_member (data, "operation", berth_call_get_operation (w->call));
  json_object_set_string_member (data, "resource", berth_call_get_resource (w->call));
  if (berth_call_get_name (w->call) != NULL)
    json_object_set_string_member (data, "name", berth_call_get_name (w->call));
  if (berth_call_get_method (w->call) != NULL)
    json_object_set_string_member (data, "method", berth_call_get_method (w->call));
  if (berth_call_get_target (w->call) != NULL)
    json_object_set_string_member (data, "path", berth_call_get_target (w->call));
  json_object_set_string_member (data, "access", write ? "write" : "read");
  json_object_set_int_member (data, "status", status);
  berth_context_publish (w->context, topic, berth_call_get_caller (w->call), data);
}

static void
watch_call (BerthContext *context, BerthRequest *request, BerthCall *call)
{
  CallWatch *w = g_new0 (CallWatch, 1);

  w->context = g_object_ref (context);
  w->call = g_object_ref (call);
  g_signal_connect_data (berth_request_get_message (request), "finished",
                         G_CALLBACK (call_finished_cb), w, call_watch_free, 0);
}

/* The authority decided: run the handler, or answer the refusal. While the
 * handler runs, the call is the store's current tag: the writes it queues
 * carry it, so that the audit trail records the call in the transaction
 * that commits its change. */
static void
dispatched_cb (BerthCall *call, const GError *refusal, gpointer user_data)
{
  Dispatch *d = user_data;
  BerthContext *context = berth_request_get_context (d->request);

  if (berth_request_is_responded (d->request))
    return;
  watch_call (context, d->request, call);
  if (refusal != NULL)
    berth_request_respond_error (d->request, refusal);
  else
    {
      BerthStore *store = berth_context_get_store (context);
      g_autoptr(GObject) outer = NULL;

      if (store != NULL)
        {
          outer = berth_store_get_current_tag (store);
          if (outer != NULL)
            g_object_ref (outer);
          berth_store_set_current_tag (store, G_OBJECT (call));
        }
      berth_route_invoke (d->route, d->request);
      if (store != NULL)
        berth_store_set_current_tag (store, outer);
    }
  berth_request_pause_if_pending (d->request);
}

/* The methods of @allowed whose routes on @path the zone serves. */
static BerthMethod
allowed_in_zone (BdHttp *self, const char *path, BerthMethod allowed, BerthZone zone)
{
  BerthMethod visible = 0;

  for (guint bit = 0; bit < 16; bit++)
    {
      BerthMethod m = (BerthMethod) (1u << bit);
      g_autofree char *name = NULL;
      g_autoptr(GHashTable) params = NULL;
      BerthRoute *route;

      if ((allowed & m) == 0)
        continue;
      name = berth_method_to_string (m);
      route = berth_router_lookup (berth_context_get_router (self->context), name, path, &params, NULL);
      if (route != NULL && berth_route_get_zone (route) <= zone)
        visible |= m;
    }
  return visible;
}

static void
server_cb (SoupServer *server, SoupServerMessage *msg, const char *unused_path,
           GHashTable *query, gpointer user_data)
{
  BdHttp *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  g_autoptr(GHashTable) params = NULL;
  g_autoptr(BerthRequest) req = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BerthCall) call = NULL;
  BerthMethod allowed = 0;
  BerthRoute *route;

  /* the early handler already answered an oversized body */
  if (soup_server_message_get_status (msg) != 0)
    return;

  route = berth_router_lookup (berth_context_get_router (self->context), method, path,
                               &params, &allowed);
  /* outside its zone a route answers as if it did not exist */
  if (route != NULL && berth_route_get_zone (route) > bd_listener_get_message_zone (msg))
    {
      route = NULL;
      allowed = 0;
    }
  if (route == NULL && allowed != 0)
    allowed = allowed_in_zone (self, path, allowed, bd_listener_get_message_zone (msg));
  if (route == NULL)
    {
      if (allowed != 0)
        {
          g_autofree char *allow = berth_method_to_string (allowed);
          g_autofree char *text = g_strdup_printf (_("Method %s is not allowed on %s (allowed: %s)"),
                                                   method, path, allow);
          respond_plain_error (self->context, msg, SOUP_STATUS_METHOD_NOT_ALLOWED, text, allow);
        }
      else
        {
          g_autofree char *text = g_strdup_printf (_("No such endpoint: %s %s"), method, path);
          respond_plain_error (self->context, msg, SOUP_STATUS_NOT_FOUND, text, NULL);
        }
      return;
    }

  {
    guint status = 0;
    g_autofree char *text = NULL;
    if (!bd_http_guard_check (msg, route, (const char * const *) self->allowed_origins, &status, &text))
      {
        respond_plain_error (self->context, msg, status, text, NULL);
        return;
      }
  }

  req = bd_http_request_new (self->context, msg, params);
  if (!berth_request_check_query (req, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  call = bd_http_call_new (req, route);
  berth_request_set_call (req, call);
  berth_context_dispatch (self->context, call, dispatched_cb,
                          dispatch_new (req, route), dispatch_free);
  berth_request_pause_if_pending (req);
}

/* A chunked body has no length up front: count it as it arrives. */
static void
got_chunk_cb (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  BdHttp *self = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  if (body->length > (goffset) self->max_body_bytes && soup_server_message_get_status (msg) == 0)
    {
      g_autofree char *text = g_strdup_printf (_("Request body exceeds the limit of %"
                                                 G_GUINT64_FORMAT " bytes"),
                                               self->max_body_bytes);
      respond_plain_error (self->context, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, text, NULL);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Connection", "close");
      /* stop keeping what is left */
      soup_message_body_set_accumulate (body, FALSE);
    }
}

/* Refuses a body larger than the limit from its Content-Length, before
 * reading it. */
static void
early_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
          GHashTable *query, gpointer user_data)
{
  BdHttp *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  goffset length = soup_message_headers_get_content_length (headers);

  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CHUNKED)
    g_signal_connect (msg, "got-chunk", G_CALLBACK (got_chunk_cb), self);
  else if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
           length > 0 && (guint64) length > self->max_body_bytes)
    {
      g_autofree char *text = g_strdup_printf (_("Request body of %" G_GINT64_FORMAT
                                                 " bytes exceeds the limit of %" G_GUINT64_FORMAT
                                                 " bytes"),
                                               (gint64) length, self->max_body_bytes);
      respond_plain_error (self->context, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, text, NULL);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Connection", "close");
    }
}

static void
request_finished_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  if (!bd_log_enabled (G_LOG_LEVEL_DEBUG))
    return;
  g_debug ("http: %s %s → %u", soup_server_message_get_method (msg),
           g_uri_get_path (soup_server_message_get_uri (msg)),
           soup_server_message_get_status (msg));
}

static void
request_aborted_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  if (!bd_log_enabled (G_LOG_LEVEL_DEBUG))
    return;
  g_debug ("http: %s %s: client went away", soup_server_message_get_method (msg),
           g_uri_get_path (soup_server_message_get_uri (msg)));
}

BdHttp *
bd_http_new (BerthContext *context, const BdHttpLimits *limits)
{
  BdHttp *self = g_new0 (BdHttp, 1);
  g_autofree char *server_header = g_strdup_printf ("berthd/%s ", BERTH_VERSION);

  self->context = g_object_ref (context);
  self->max_body_bytes = limits->max_body_bytes;
  self->allowed_origins = g_strdupv (limits->allowed_origins);
  self->server = soup_server_new ("server-header", server_header, NULL);
  self->listener = bd_listener_new (self->server, limits);
  soup_server_add_early_handler (self->server, NULL, early_cb, self, NULL);
  soup_server_add_handler (self->server, NULL, server_cb, self, NULL);
  g_signal_connect (self->server, "request-finished", G_CALLBACK (request_finished_cb), self);
  g_signal_connect (self->server, "request-aborted", G_CALLBACK (request_aborted_cb), self);
  return self;
}

void
bd_http_set_limits (BdHttp *self, const BdHttpLimits *limits)
{
  self->max_body_bytes = limits->max_body_bytes;
  g_strfreev (self->allowed_origins);
  self->allowed_origins = g_strdupv (limits->allowed_origins);
  bd_listener_set_limits (self->listener, limits);
}

gboolean
bd_parse_host_port (const char *address, guint16 default_port, GInetSocketAddress **out,
                    GError **error)
{
  g_autoptr(GSocketConnectable) parsed = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  const char *host;
  guint16 port;

  parsed = g_network_address_parse (address, default_port, error);
  if (parsed == NULL)
    {
      g_prefix_error (error, _("Invalid address “%s”: "), address);
      return FALSE;
    }
  host = g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed));
  port = g_network_address_get_port (G_NETWORK_ADDRESS (parsed));
  if (g_strcmp0 (host, "localhost") == 0)
    inet = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else
    inet = g_inet_address_new_from_string (host);
  if (inet == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Invalid address “%s”: “%s” is not an IP address"), address, host);
      return FALSE;
    }
  *out = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (inet, port));
  return TRUE;
}

gboolean
bd_http_listen_tcp (BdHttp *self, const char *address, BerthZone zone, gboolean insecure,
                    GError **error)
{
  g_autoptr(GInetSocketAddress) sa = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *host = NULL;
  GInetAddress *inet;

  if (!bd_parse_host_port (address, 8500, &sa, error))
    return FALSE;
  inet = g_inet_socket_address_get_address (sa);
  if (!g_inet_address_get_is_loopback (inet) && !insecure)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("Refusing to serve plain HTTP on non-loopback address %s: serve HTTPS there "
                     "(--https-addr), or pass --insecure to do it anyway"), address);
      return FALSE;
    }
  socket = g_socket_new (g_socket_address_get_family (G_SOCKET_ADDRESS (sa)), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL ||
      !g_socket_bind (socket, G_SOCKET_ADDRESS (sa), TRUE, error) ||
      !bd_listener_add (self->listener, socket, zone, error) ||
      (bound = g_socket_get_local_address (socket, error)) == NULL)
    {
      g_prefix_error (error, _("Cannot listen on %s: "), address);
      return FALSE;
    }
  g_debug ("http: %s zone on %s", berth_zone_to_string (zone), address);
  /* the first TCP listener (--http-addr) is the one the banner names */
  if (self->tcp_address != NULL)
    return TRUE;
  host = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (bound)));
  if (strchr (host, ':') != NULL)
    self->tcp_address = g_strdup_printf ("[%s]:%u", host,
                                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  else
    self->tcp_address = g_strdup_printf ("%s:%u", host,
                                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  return TRUE;
}

static gboolean
set_socket_access (BerthContext *context, const char *path, GError **error)
{
  g_autofree char *group = berth_context_dup_config_string (context, "berthd", "socket_group", NULL);
  struct group *gr;

  if (group == NULL || *group == '\0')
    {
      if (g_chmod (path, 0600) == 0)
        return TRUE;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   _("Cannot set the mode of %s: %s"), path, g_strerror (errno));
      return FALSE;
    }
  gr = getgrnam (group);
  if (gr == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("socket_group “%s” is not a group on this system"), group);
      return FALSE;
    }
  if (chown (path, (uid_t) -1, gr->gr_gid) < 0 || g_chmod (path, 0660) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   _("Cannot give %s to group %s: %s"), path, group, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
bd_http_listen_unix (BdHttp *self, const char *path, GError **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;

  /* we hold the state directory's lock, so a socket file left here is stale */
  if (g_unlink (path) < 0 && errno != ENOENT)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   _("Cannot remove stale socket %s: %s"), path, g_strerror (errno));
      return FALSE;
    }
  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
  if (socket == NULL)
    return FALSE;
  address = g_unix_socket_address_new (path);
  if (!g_socket_bind (socket, address, TRUE, error))
    {
      g_prefix_error (error, _("Cannot listen on %s: "), path);
      return FALSE;
    }
  /* the admin's door: its owner only, or a group of operators when
   * [berthd] socket_group names one */
  if (!set_socket_access (self->context, path, error))
    return FALSE;
  if (!bd_listener_add (self->listener, socket, BERTH_ZONE_ADMIN, error))
    {
      g_prefix_error (error, _("Cannot listen on %s: "), path);
      return FALSE;
    }
  self->unix_path = g_strdup (path);
  return TRUE;
}

BdListener *
bd_http_get_listener (BdHttp *self)
{
  return self->listener;
}

const char *
bd_http_get_tcp_address (BdHttp *self)
{
  return self->tcp_address;
}

void
bd_http_free (BdHttp *self)
{
  if (self == NULL)
    return;
  /* libsoup lets go of the requests in flight first, then the connections
   * and listening sockets are closed */
  soup_server_disconnect (self->server);
  g_clear_pointer (&self->listener, bd_listener_free);
  g_clear_object (&self->server);
  g_strfreev (self->allowed_origins);
  if (self->unix_path != NULL)
    g_unlink (self->unix_path);
  g_free (self->unix_path);
  g_free (self->tcp_address);
  g_clear_object (&self->context);
  g_free (self);
}
