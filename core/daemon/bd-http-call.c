/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* struct ucred */
#endif
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "bd-http-call.h"
#include "bd-listener.h"
#include "berth-request-private.h"

/* HTTP Basic credentials carry the secret as the password (the user name
 * is ignored), as docker login and browsers send it. */
static char *
basic_password (const char *credentials)
{
  gsize len = 0;
  g_autofree guchar *raw = NULL;
  const char *colon;

  while (*credentials == ' ')
    credentials++;
  raw = g_base64_decode (credentials, &len);
  if (raw == NULL || len == 0 || memchr (raw, '\0', len) != NULL)
    return NULL;
  colon = memchr (raw, ':', len);
  if (colon == NULL || (gsize) (colon - (const char *) raw) + 1 >= len)
    return NULL;
  return g_strndup (colon + 1, len - (gsize) (colon - (const char *) raw) - 1);
}

/* Consul's clients send their token in X-Consul-Token, newer ones as a
 * bearer token, curl users as ?token=; marathon-python sends
 * `Authorization: token=<secret>`, others HTTP Basic with the secret as
 * the password. */
static char *
find_token (BerthRequest *request)
{
  const char *value;

  value = berth_request_get_header (request, "X-Consul-Token");
  if (value != NULL && *value != '\0')
    return g_strdup (value);
  value = berth_request_get_header (request, "Authorization");
  if (value != NULL)
    {
      if (g_ascii_strncasecmp (value, "Bearer ", 7) == 0 && value[7] != '\0')
        return g_strdup (value + 7);
      if (g_ascii_strncasecmp (value, "token=", 6) == 0 && value[6] != '\0')
        return g_strdup (value + 6);
      if (g_ascii_strncasecmp (value, "Basic ", 6) == 0)
        return basic_password (value + 6);
    }
  value = berth_request_get_query (request, "token");
  if (value != NULL && *value != '\0')
    return g_strdup (value);
  return NULL;
}

/* Consul's clients read X-Consul-Index (and its two companions) on every
 * /v1/ reply, whatever the status. */
static void
add_consul_headers (BerthRequest *request, gpointer user_data)
{
  SoupMessageHeaders *headers;
  guint64 index = berth_request_get_index (request);
  char buf[32];

  if (!g_str_has_prefix (berth_request_get_path (request), "/v1/"))
    return;
  if (index == 0)
    {
      BerthStore *store = berth_context_get_store (berth_request_get_context (request));
      if (store != NULL)
        index = berth_store_get_index (store);
    }
  headers = soup_server_message_get_response_headers (berth_request_get_message (request));
  /* Consul never reports index 0: clients treat 0 as "no blocking" */
  g_snprintf (buf, sizeof buf, "%" G_GUINT64_FORMAT, MAX (index, 1));
  soup_message_headers_replace (headers, "X-Consul-Index", buf);
  soup_message_headers_replace (headers, "X-Consul-KnownLeader", "true");
  soup_message_headers_replace (headers, "X-Consul-LastContact", "0");
}

BerthRequest *
bd_http_request_new (BerthContext *context, SoupServerMessage *msg, GHashTable *params)
{
  BerthRequest *request = berth_request_new (context, msg, params);
  berth_request_set_respond_hook (request, add_consul_headers, NULL);
  return request;
}

BerthCaller *
bd_http_caller_new (BerthRequest *request)
{
  SoupServerMessage *msg = berth_request_get_message (request);
  GSocket *socket = bd_listener_get_message_socket (msg);
  g_autoptr(BerthCaller) caller = NULL;

  if (socket != NULL && g_socket_get_family (socket) == G_SOCKET_FAMILY_UNIX)
    {
      g_autoptr(GCredentials) creds = g_socket_get_credentials (socket, NULL);
      const struct ucred *native = NULL;

      if (creds != NULL)
        native = g_credentials_get_native (creds, G_CREDENTIALS_TYPE_LINUX_UCRED);
      if (native != NULL)
        caller = berth_caller_new_unix (native->uid, native->gid, native->pid);
    }
  if (caller == NULL)
    {
      const char *host = soup_server_message_get_remote_host (msg);
      GSocketAddress *remote = soup_server_message_get_remote_address (msg);
      g_autofree char *address = NULL;

      if (G_IS_INET_SOCKET_ADDRESS (remote))
        address = g_strdup_printf (strchr (host != NULL ? host : "", ':') != NULL ? "[%s]:%u" : "%s:%u",
                                   host != NULL ? host : "?",
                                   g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote)));
      else
        address = g_strdup (host != NULL ? host : "unknown");
      caller = berth_caller_new_tcp (address, bd_listener_message_is_tls (msg));
      berth_caller_set_certificate (caller, bd_listener_get_message_tls_certificate (msg));
    }
  {
    g_autofree char *token = find_token (request);
    berth_caller_set_token (caller, token);
  }
  berth_caller_set_zone (caller, bd_listener_get_message_zone (msg));
  return g_steal_pointer (&caller);
}

/* The resource's name is the route's first captured parameter, e.g. the
 * key of `/v1/kv/\*key` or the id of `/v2/apps/\*id`; one named with a
 * leading `_` (`:_id`) is an id, not a name: the call names nothing and the
 * handler checks the name of what the id finds. */
static const char *
resource_name (BerthRequest *request, BerthRoute *route)
{
  const char *pattern = berth_route_get_pattern (route);

  for (const char *p = pattern; *p != '\0'; p++)
    if ((*p == ':' || *p == '*') && (p == pattern || p[-1] == '/') && p[1] != '_')
      {
        g_autofree char *name = NULL;
        const char *end = strchr (p, '/');
        name = end != NULL ? g_strndup (p + 1, (gsize) (end - p - 1)) : g_strdup (p + 1);
        return berth_request_get_param (request, name);
      }
  return NULL;
}

BerthCall *
bd_http_call_new (BerthRequest *request, BerthRoute *route)
{
  g_autoptr(BerthCaller) caller = bd_http_caller_new (request);
  g_autofree char *operation = g_strdup_printf ("%s %s", berth_request_get_method (request),
                                                berth_route_get_pattern (route));

  BerthCall *call = berth_call_new (operation, berth_route_get_acl_resource (route),
                                    resource_name (request, route), berth_route_get_access (route),
                                    caller);

  berth_call_set_target (call, berth_request_get_method (request), berth_request_get_path (request));
  return call;
}
