/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-client.c - a small synchronous HTTP client for berthd's REST API
 *
 * berthd serves the same API on its unix socket and on TCP.  Over the
 * socket, libsoup is told to connect to a GUnixSocketAddress whatever the
 * URL says, so URLs are always http://localhost/...
 */
#include "config.h"

#include "cli-client.h"

#include <glib/gi18n.h>
#include <gio/gunixsocketaddress.h>
#include <libsoup/soup.h>

#define DEFAULT_TIMEOUT_SECONDS 60
#define DEFAULT_HTTP_PORT 8500

G_DEFINE_QUARK (berth-cli-error-quark, cli_error)

struct _CliClient {
  SoupSession *session;
  GUri *base;       /* scheme://host[:port][/prefix] */
  char *location;   /* what to call the daemon in messages */
  char *token;
};

void
cli_response_free (CliResponse *response)
{
  if (response == NULL)
    return;
  g_free (response->reason);
  g_bytes_unref (response->body);
  g_free (response);
}

/* --- Where is berthd? --------------------------------------------------- */

static gboolean
parse_address (const char  *address,
               GUri       **base,
               char       **socket_path,
               GError     **error)
{
  g_autofree char *with_scheme = NULL;
  g_autoptr(GUri) uri = NULL;
  const char *scheme;
  const char *path;
  g_autofree char *prefix = NULL;
  int port;

  if (g_str_has_prefix (address, "unix://") || g_str_has_prefix (address, "unix:"))
    {
      const char *p = address + (g_str_has_prefix (address, "unix://") ? 7 : 5);

      if (*p == '\0')
        {
          g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                       _("invalid address \"%s\": no socket path"), address);
          return FALSE;
        }
      *socket_path = g_strdup (p);
      return TRUE;
    }

  if (strstr (address, "://") == NULL)
    with_scheme = g_strconcat ("http://", address, NULL);

  uri = g_uri_parse (with_scheme ? with_scheme : address, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   _("invalid address \"%s\": expected HOST:PORT or http://HOST:PORT"),
                   address);
      return FALSE;
    }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   _("invalid address \"%s\": unsupported scheme \"%s\""), address, scheme);
      return FALSE;
    }
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   _("invalid address \"%s\": no host"), address);
      return FALSE;
    }

  /* HOST without a port means berthd's default port; a URL without one
   * means the scheme's default, as everywhere else. */
  port = g_uri_get_port (uri);
  if (port < 0 && with_scheme != NULL)
    port = DEFAULT_HTTP_PORT;

  path = g_uri_get_path (uri);
  prefix = g_strdup (path);
  while (*prefix != '\0' && prefix[strlen (prefix) - 1] == '/')
    prefix[strlen (prefix) - 1] = '\0';

  *base = g_uri_build (SOUP_HTTP_URI_FLAGS, scheme, NULL, g_uri_get_host (uri), port,
                       prefix, NULL, NULL);
  return TRUE;
}

static char *
find_socket (GError **error)
{
  g_autofree char *local = g_build_filename (".berth", "berth.sock", NULL);
  g_autofree char *user = g_build_filename (g_get_user_data_dir (), "berth", "berth.sock", NULL);
  const char *system = "/var/lib/berth/berth.sock";

  if (g_file_test (local, G_FILE_TEST_EXISTS))
    return g_canonicalize_filename (local, NULL);
  if (g_file_test (user, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&user);
  if (g_file_test (system, G_FILE_TEST_EXISTS))
    return g_strdup (system);

  g_set_error (error, CLI_ERROR, CLI_ERROR_CONNECT,
               _("cannot connect to berthd: no socket at ./%s, %s or %s; "
                 "use --socket or --address"),
               local, user, system);
  return NULL;
}

static const char *
nonempty_env (const char *name)
{
  const char *value = g_getenv (name);

  return value != NULL && *value != '\0' ? value : NULL;
}

CliClient *
cli_client_new (const char  *socket_path,
                const char  *address,
                const char  *token,
                const char  *ca_file,
                GError     **error)
{
  g_autoptr(CliClient) self = g_new0 (CliClient, 1);
  g_autofree char *path = NULL;
  g_autoptr(GUri) base = NULL;
  g_autofree char *user_agent = g_strdup_printf ("berth/%s", BERTH_VERSION);

  /* Command-line flags first, then the environment, then the usual places. */
  if (socket_path != NULL && address != NULL)
    {
      g_set_error_literal (error, CLI_ERROR, CLI_ERROR_USAGE,
                           _("--socket and --address cannot be used together"));
      return NULL;
    }
  if (socket_path != NULL)
    path = g_strdup (socket_path);
  else if (address != NULL)
    {
      if (!parse_address (address, &base, &path, error))
        return NULL;
    }
  else if (nonempty_env ("BERTH_SOCKET") != NULL)
    path = g_strdup (nonempty_env ("BERTH_SOCKET"));
  else if (nonempty_env ("BERTH_HTTP_ADDR") != NULL)
    {
      if (!parse_address (nonempty_env ("BERTH_HTTP_ADDR"), &base, &path, error))
        return NULL;
    }
  else if ((path = find_socket (error)) == NULL)
    return NULL;

  if (token == NULL)
    token = nonempty_env ("BERTH_TOKEN");
  if (token == NULL)
    token = nonempty_env ("CONSUL_HTTP_TOKEN");
  self->token = g_strdup (token);

  if (path != NULL)
    {
      g_autoptr(GSocketAddress) unix_address = g_unix_socket_address_new (path);

      self->session = soup_session_new_with_options ("remote-connectable", unix_address,
                                                     "user-agent", user_agent,
                                                     "timeout", DEFAULT_TIMEOUT_SECONDS,
                                                     NULL);
      self->base = g_uri_build (SOUP_HTTP_URI_FLAGS, "http", NULL, "localhost", -1, "",
                                NULL, NULL);
      self->location = g_steal_pointer (&path);
    }
  else
    {
      self->session = soup_session_new_with_options ("user-agent", user_agent,
                                                     "timeout", DEFAULT_TIMEOUT_SECONDS,
                                                     NULL);
      self->base = g_steal_pointer (&base);
      self->location = g_uri_to_string (self->base);
      if (ca_file == NULL)
        ca_file = nonempty_env ("BERTH_CACERT");
      if (ca_file == NULL)
        ca_file = nonempty_env ("CONSUL_CACERT");
      /* berthd's own CA (`berth tls ca`), instead of the system's */
      if (ca_file != NULL)
        {
          g_autoptr(GTlsDatabase) db = g_tls_file_database_new (ca_file, error);
          if (db == NULL)
            {
              g_prefix_error (error, _("Cannot read the CA certificate %s: "), ca_file);
              return NULL;
            }
          soup_session_set_tls_database (self->session, db);
        }
    }
  /* berthd is local: never send its requests through a proxy. */
  soup_session_set_proxy_resolver (self->session, NULL);

  return g_steal_pointer (&self);
}

void
cli_client_free (CliClient *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->session);
  g_clear_pointer (&self->base, g_uri_unref);
  g_free (self->location);
  g_free (self->token);
  g_free (self);
}

const char *
cli_client_get_location (CliClient *self)
{
  return self->location;
}

void
cli_client_set_timeout (CliClient *self,
                        guint      seconds)
{
  soup_session_set_timeout (self->session, seconds);
}

/* --- Requests ------------------------------------------------------------ */

static void
set_transport_error (CliClient    *self,
                     const GError *local_error,
                     GError      **error)
{
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_set_error (error, CLI_ERROR, CLI_ERROR_CONNECT,
                 _("timed out waiting for berthd at %s"), self->location);
  else if (local_error->domain == SOUP_SESSION_ERROR)
    g_set_error (error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                 _("bad answer from berthd at %s: %s"),
                 self->location, local_error->message);
  else
    g_set_error (error, CLI_ERROR, CLI_ERROR_CONNECT,
                 _("cannot connect to berthd at %s: %s"),
                 self->location, local_error->message);
}

CliResponse *
cli_client_send (CliClient   *self,
                 const char  *method,
                 const char  *path_and_query,
                 GBytes      *body,
                 GError     **error)
{
  g_autofree char *path = g_strdup (path_and_query);
  g_autofree char *full_path = NULL;
  char *query = strchr (path, '?');
  g_autoptr(GUri) uri = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GBytes) reply = NULL;
  g_autoptr(GError) local_error = NULL;
  SoupMessageHeaders *headers;
  const char *index;
  CliResponse *response;

  /* Built, not parsed: parsing would drop "." and ".." segments of keys. */
  if (query != NULL)
    *query++ = '\0';
  full_path = g_strconcat (g_uri_get_path (self->base), path, NULL);
  uri = g_uri_build (SOUP_HTTP_URI_FLAGS, g_uri_get_scheme (self->base), NULL,
                     g_uri_get_host (self->base), g_uri_get_port (self->base),
                     full_path, query, NULL);

  msg = soup_message_new_from_uri (method, uri);
  headers = soup_message_get_request_headers (msg);
  soup_message_headers_replace (headers, "Accept", "application/json");
  if (self->token != NULL)
    soup_message_headers_replace (headers, "X-Consul-Token", self->token);
  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, "application/octet-stream", body);

  reply = soup_session_send_and_read (self->session, msg, NULL, &local_error);
  if (reply == NULL)
    {
      set_transport_error (self, local_error, error);
      return NULL;
    }

  response = g_new0 (CliResponse, 1);
  response->status = soup_message_get_status (msg);
  response->reason = g_strdup (soup_message_get_reason_phrase (msg));
  response->body = g_steal_pointer (&reply);

  index = soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                        "X-Consul-Index");
  if (index != NULL)
    response->has_index = g_ascii_string_to_unsigned (index, 10, 0, G_MAXUINT64,
                                                      &response->index, NULL);
  return response;
}

/* --- Answers ------------------------------------------------------------- */

static char *
error_message_from_body (GBytes *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize size;
  const char *data = g_bytes_get_data (body, &size);
  JsonNode *root;

  if (size == 0)
    return NULL;

  if (json_parser_load_from_data (parser, data, size, NULL)
      && (root = json_parser_get_root (parser)) != NULL
      && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *object = json_node_get_object (root);
      const char *names[] = { "message", "error", "Message", NULL };

      for (guint i = 0; names[i] != NULL; i++)
        {
          JsonNode *node = json_object_get_member (object, names[i]);

          if (node != NULL && JSON_NODE_HOLDS_VALUE (node)
              && json_node_get_value_type (node) == G_TYPE_STRING)
            return g_strdup (json_node_get_string (node));
        }
      return NULL;
    }

  /* A short plain-text body (a proxy, an older server) still says more than
   * the bare status line. */
  if (size <= 512 && g_utf8_validate (data, size, NULL) && memchr (data, '\0', size) == NULL)
    {
      g_autofree char *text = g_strndup (data, size);
      char *newline;

      g_strstrip (text);
      if ((newline = strchr (text, '\n')) != NULL)
        *newline = '\0';
      if (*text != '\0' && *text != '<')
        return g_steal_pointer (&text);
    }
  return NULL;
}

gboolean
cli_response_check (CliResponse  *response,
                    GError      **error)
{
  g_autofree char *message = NULL;
  int code;

  if (SOUP_STATUS_IS_SUCCESSFUL (response->status))
    return TRUE;

  if (response->status == SOUP_STATUS_UNAUTHORIZED || response->status == SOUP_STATUS_FORBIDDEN)
    code = CLI_ERROR_DENIED;
  else if (response->status == SOUP_STATUS_NOT_FOUND)
    code = CLI_ERROR_NOT_FOUND;
  else
    code = CLI_ERROR_HTTP;

  message = error_message_from_body (response->body);
  if (message != NULL)
    g_set_error_literal (error, CLI_ERROR, code, message);
  else
    g_set_error (error, CLI_ERROR, code, _("%s (HTTP %u)"),
                 response->reason != NULL && *response->reason != '\0'
                   ? response->reason
                   : soup_status_get_phrase (response->status),
                 response->status);
  return FALSE;
}

JsonNode *
cli_response_parse_json (CliResponse  *response,
                         GError      **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (response->body, &size);

  if (!json_parser_load_from_data (parser, data, size, &local_error)
      || json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                   _("berthd sent invalid JSON: %s"),
                   local_error != NULL ? local_error->message : _("empty body"));
      return NULL;
    }
  return json_parser_steal_root (parser);
}

JsonNode *
cli_client_get_json (CliClient   *self,
                     const char  *path_and_query,
                     GError     **error)
{
  g_autoptr(CliResponse) response = cli_client_send (self, "GET", path_and_query, NULL, error);

  if (response == NULL || !cli_response_check (response, error))
    return NULL;
  return cli_response_parse_json (response, error);
}

/* Percent-encodes everything but unreserved characters and '/', so that any
 * byte string can travel as a URL path. */
char *
cli_escape_path (const char *path)
{
  GString *escaped = g_string_new (NULL);

  for (const guchar *p = (const guchar *) path; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p) || strchr ("-_~/", *p) != NULL)
        g_string_append_c (escaped, *p);
      else
        g_string_append_printf (escaped, "%%%02X", *p);
    }
  return g_string_free (escaped, FALSE);
}
