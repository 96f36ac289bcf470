/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "bd-http-guard.h"

/* Any web page a local user opens can make the browser send requests to
 * 127.0.0.1:8500. Without a CORS preflight (which berthd never grants) a
 * page can only send GET, HEAD and POST, with a body declared as
 * application/x-www-form-urlencoded, multipart/form-data or text/plain (or
 * undeclared), and the browser tells where the request comes from: Origin
 * on every cross-origin POST, Sec-Fetch-Site on everything. So:
 *
 * 1. A request that can change state (any method but GET/HEAD/OPTIONS, or
 *    a route with write access, as Consul's GET /v1/agent/check/pass/:id)
 *    is refused with 403 when Sec-Fetch-Site says cross-site or same-site,
 *    or when Origin is not this server's own origin (the Host the request
 *    was sent to), unless Origin is listed in [berthd] http_allowed_origins.
 * 2. A body is never taken as JSON when it is declared as a browser form
 *    type: 415. Routes that take JSON accept bodies declared JSON
 *    (application/json, *+json), undeclared (python-consul, Consul's Go
 *    client) or application/octet-stream (the berth CLI); anything else
 *    is 415.
 * 3. Routes that store the body as bytes (Consul's KV PUT) accept any type:
 *    `curl -X PUT -d value` (form-urlencoded) is how Consul documents it,
 *    and a page cannot send a PUT across sites without a preflight. */

typedef struct {
  BerthMethod  method;
  const char  *pattern;
} RawRoute;

static const RawRoute raw_body_routes[] = {
  { BERTH_METHOD_PUT, "/v1/kv/*key" },
};

static gboolean
is_raw_body_route (BerthRoute *route, BerthMethod method)
{
  const char *pattern = berth_route_get_pattern (route);

  for (gsize i = 0; i < G_N_ELEMENTS (raw_body_routes); i++)
    if ((raw_body_routes[i].method & method) != 0 &&
        g_strcmp0 (raw_body_routes[i].pattern, pattern) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
is_browser_form_type (const char *type)
{
  return g_ascii_strcasecmp (type, "application/x-www-form-urlencoded") == 0 ||
         g_ascii_strcasecmp (type, "multipart/form-data") == 0 ||
         g_ascii_strcasecmp (type, "text/plain") == 0;
}

static gboolean
is_json_type (const char *type)
{
  gsize len = strlen (type);

  return g_ascii_strcasecmp (type, "application/json") == 0 ||
         (len > 5 && g_ascii_strcasecmp (type + len - 5, "+json") == 0);
}

/* Splits "host[:port]" or "[v6]:port" (a Host header). */
static gboolean
split_host (const char *hostport, char **host, int *port)
{
  const char *colon;

  if (hostport == NULL || *hostport == '\0')
    return FALSE;
  if (hostport[0] == '[')
    {
      const char *end = strchr (hostport, ']');
      if (end == NULL)
        return FALSE;
      *host = g_strndup (hostport + 1, (gsize) (end - hostport - 1));
      colon = end[1] == ':' ? end + 1 : NULL;
    }
  else
    {
      colon = strrchr (hostport, ':');
      *host = colon != NULL ? g_strndup (hostport, (gsize) (colon - hostport)) : g_strdup (hostport);
    }
  *port = 80;
  if (colon != NULL)
    {
      guint64 value;
      if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &value, NULL))
        {
          g_clear_pointer (host, g_free);
          return FALSE;
        }
      *port = (int) value;
    }
  return TRUE;
}

/* Whether Origin names the server the request was sent to (its Host). */
static gboolean
is_same_origin (const char *origin, const char *host_header)
{
  g_autoptr(GUri) uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  g_autofree char *host = NULL;
  int port;

  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 ||
      g_uri_get_host (uri) == NULL || !split_host (host_header, &host, &port))
    return FALSE;
  return g_ascii_strcasecmp (g_uri_get_host (uri), host) == 0 &&
         (g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 80) == port;
}

static gboolean
is_allowed_origin (const char *origin, const char * const *allowed)
{
  for (guint i = 0; allowed != NULL && allowed[i] != NULL; i++)
    if (g_ascii_strcasecmp (origin, allowed[i]) == 0)
      return TRUE;
  return FALSE;
}

gboolean
bd_http_guard_check (SoupServerMessage *msg, BerthRoute *route, const char * const *allowed_origins,
                     guint *status, char **message)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  BerthMethod method = berth_method_from_string (soup_server_message_get_method (msg));
  gboolean safe_method = (method & (BERTH_METHOD_GET | BERTH_METHOD_HEAD | BERTH_METHOD_OPTIONS)) != 0;
  const char *origin = soup_message_headers_get_one (headers, "Origin");
  const char *site = soup_message_headers_get_one (headers, "Sec-Fetch-Site");
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  if ((!safe_method || berth_route_get_access (route) == BERTH_ACCESS_WRITE) &&
      (origin == NULL || !is_allowed_origin (origin, allowed_origins)))
    {
      if (site != NULL && (g_ascii_strcasecmp (site, "cross-site") == 0 ||
                           g_ascii_strcasecmp (site, "same-site") == 0))
        {
          *status = SOUP_STATUS_FORBIDDEN;
          *message = g_strdup_printf (_("Cross-site request refused (Sec-Fetch-Site: %s); list "
                                        "trusted origins in http_allowed_origins"), site);
          return FALSE;
        }
      if (origin != NULL &&
          !is_same_origin (origin, soup_message_headers_get_one (headers, "Host")))
        {
          g_autofree char *safe = berth_utf8_make_safe (origin, -1);
          *status = SOUP_STATUS_FORBIDDEN;
          *message = g_strdup_printf (_("Cross-site request from origin %s refused; list trusted "
                                        "origins in http_allowed_origins"), safe);
          return FALSE;
        }
    }

  if (!safe_method && body != NULL && body->length > 0)
    {
      const char *type = soup_message_headers_get_content_type (headers, NULL);
      gboolean raw = is_raw_body_route (route, method);

      if (type == NULL || is_json_type (type) || (raw && method == BERTH_METHOD_PUT))
        return TRUE;
      if (is_browser_form_type (type) ||
          (!raw && g_ascii_strcasecmp (type, "application/octet-stream") != 0))
        {
          g_autofree char *safe = berth_utf8_make_safe (type, -1);
          *status = SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE;
          *message = g_strdup_printf (_("A body of type %s is not accepted here: send JSON with "
                                        "Content-Type: application/json"), safe);
          return FALSE;
        }
    }
  return TRUE;
}
