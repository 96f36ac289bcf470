/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "discovery-json.h"
#include "discovery-wan.h"
#include <berth-store-raw.h>

/* Several datacenters, Consul style. A WAN link is (datacenter, HTTP
 * address of one of its berthd's), made by /v1/agent/join/<addr>?wan=1 and
 * kept in the table wan_links, so it survives restarts. A request with
 * `?dc=X` for another datacenter X goes, whatever its route, through
 * route_cb() below: it is sent as is (minus ?dc) to the linked server of X
 * with libsoup's async API and its answer (status, body, X-Consul-Index) is
 * relayed. No link, no connection within CONNECT_TIMEOUT_MS, or no answer
 * within ANSWER_TIMEOUT_MS (plus the wait of a blocking query): 500 "No
 * path to datacenter", as Consul answers.
 *
 * With TLS (a BerthTlsProvider registered: the security plugin with
 * [tls] https_addr), links use HTTPS between the HTTPS addresses: the peer
 * must present a certificate of this datacenter's CA — no other CA is
 * trusted, so a node that is not a member is neither joined nor sent
 * anything — and this node presents its own certificate when asked (the
 * peer's [tls] verify_incoming). */

#define CONNECT_TIMEOUT_MS 3000
/* over HTTPS the connection includes the TLS handshake */
#define TLS_CONNECT_TIMEOUT_MS 10000
/* once connected: an answer within this (plus a blocking query's wait) */
#define ANSWER_TIMEOUT_MS  30000
#define MAX_WAIT_MS        (10 * 60 * 1000)

typedef struct {
  DiscoveryPlugin   *plugin;
  BerthRouteHandler  handler;
} RouteData;

#define TLS_SESSION_KEY "berth-wan-tls-session"

static SoupSession *
session (DiscoveryPlugin *plugin)
{
  return discovery_plugin_get_http_session (plugin);
}

static BerthTlsProvider *
tls_provider (DiscoveryPlugin *plugin)
{
  return berth_context_get_service (berth_plugin_get_context (BERTH_PLUGIN (plugin)),
                                    BERTH_TYPE_TLS_PROVIDER);
}

static const char *
scheme (DiscoveryPlugin *plugin)
{
  return tls_provider (plugin) != NULL ? "https" : "http";
}

/* The address other datacenters reach this node's API on. */
static char *
own_address (DiscoveryPlugin *plugin)
{
  BerthContext *ctx = berth_plugin_get_context (BERTH_PLUGIN (plugin));

  g_auto(GStrv) listeners = NULL;

  if (tls_provider (plugin) != NULL)
    return berth_context_dup_config_string (ctx, "tls", "https_addr", NULL);
  /* joins are served in the admin zone: other datacenters join us back
   * (and again after a restart) through our admin listener, when we have
   * one; otherwise through --http-addr */
  listeners = g_key_file_get_string_list (berth_context_get_config (ctx), "berthd", "listen", NULL, NULL);
  for (guint i = 0; listeners != NULL && listeners[i] != NULL; i++)
    if (g_str_has_prefix (g_strstrip (listeners[i]), "admin=") && listeners[i][6] != '\0')
      return g_strdup (listeners[i] + 6);
  return berth_context_dup_config_string (ctx, "berthd", "http_addr", NULL);
}

/* HTTPS to other datacenters: a session trusting the CA only. */
static SoupSession *
tls_session (DiscoveryPlugin *plugin, BerthTlsProvider *provider)
{
  SoupSession *tls = g_object_get_data (G_OBJECT (plugin), TLS_SESSION_KEY);

  if (tls == NULL)
    {
      g_autoptr(GTlsDatabase) database = berth_tls_provider_get_database (provider);
      tls = soup_session_new_with_options ("max-conns-per-host", 32, "idle-timeout", 60,
                                           "tls-database", database, NULL);
      g_object_set_data_full (G_OBJECT (plugin), TLS_SESSION_KEY, tls, g_object_unref);
    }
  return tls;
}

/* The session for @msg; an HTTPS message gets the node's certificate. */
static SoupSession *
session_for (DiscoveryPlugin *plugin, SoupMessage *msg)
{
  BerthTlsProvider *provider = tls_provider (plugin);
  g_autoptr(GTlsCertificate) certificate = NULL;

  if (provider == NULL || g_strcmp0 (g_uri_get_scheme (soup_message_get_uri (msg)), "https") != 0)
    return session (plugin);
  certificate = berth_tls_provider_get_certificate (provider);
  soup_message_set_tls_client_certificate (msg, certificate);
  return tls_session (plugin, provider);
}

static gpointer
address_from_row (sqlite3_stmt *stmt)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

char *
discovery_wan_lookup (DiscoveryPlugin *plugin, const char *dc)
{
  BerthStore *store = berth_context_get_store (berth_plugin_get_context (BERTH_PLUGIN (plugin)));
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store, "SELECT address FROM wan_links WHERE datacenter = ?", NULL);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, dc, -1, SQLITE_TRANSIENT);
  return berth_store_get_one (store, stmt, address_from_row, "datacenter", NULL);
}

/* ---- one outgoing request, with a connect timeout --------------------- */

typedef void (*Done) (SoupMessage *msg, GBytes *body, const GError *error, gpointer user_data);

typedef struct {
  SoupMessage  *msg;
  GCancellable *cancellable;
  GCancellable *parent;
  gulong        parent_handler;
  guint         timeout_id;
  guint         answer_timeout_ms;
  gboolean      connected;
  DiscoveryPlugin *plugin;
  Done          done;
  gpointer      user_data;
} Call;

/* The link's state, kept on the plugin: the calls in flight (so that
 * shutdown can let them end) and the pending re-join after a start. */
typedef struct {
  guint calls_in_flight;
  guint rejoin_id;
} WanState;

#define WAN_STATE_KEY "discovery-wan-state"

static WanState *
wan_state (DiscoveryPlugin *plugin)
{
  WanState *state = g_object_get_data (G_OBJECT (plugin), WAN_STATE_KEY);

  if (state == NULL)
    {
      state = g_new0 (WanState, 1);
      g_object_set_data_full (G_OBJECT (plugin), WAN_STATE_KEY, state, g_free);
    }
  return state;
}

static void
call_free (Call *call)
{
  wan_state (call->plugin)->calls_in_flight--;
  g_clear_handle_id (&call->timeout_id, g_source_remove);
  if (call->parent != NULL)
    g_cancellable_disconnect (call->parent, call->parent_handler);
  g_clear_object (&call->parent);
  g_clear_object (&call->msg);
  g_clear_object (&call->cancellable);
  g_free (call);
}

static gboolean
timeout_cb (gpointer user_data)
{
  Call *call = user_data;

  call->timeout_id = 0;
  g_cancellable_cancel (call->cancellable);
  return G_SOURCE_REMOVE;
}

/* "starting": the message has a connection (new or reused) and goes out */
static void
starting_cb (SoupMessage *msg, gpointer user_data)
{
  Call *call = user_data;

  if (call->connected)
    return;
  call->connected = TRUE;
  g_clear_handle_id (&call->timeout_id, g_source_remove);
  call->timeout_id = g_timeout_add (call->answer_timeout_ms, timeout_cb, call);
}

static void
parent_cancelled_cb (GCancellable *parent, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static void
call_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);

  g_signal_handlers_disconnect_by_func (call->msg, starting_cb, call);
  call->done (call->msg, body, error, call->user_data);
  call_free (call);
}

static void
call_start_full (DiscoveryPlugin *plugin, SoupMessage *msg, GCancellable *parent, guint answer_timeout_ms,
                 Done done, gpointer user_data)
{
  Call *call = g_new0 (Call, 1);

  call->plugin = plugin;
  call->answer_timeout_ms = answer_timeout_ms;
  wan_state (plugin)->calls_in_flight++;
  call->msg = msg;
  call->cancellable = g_cancellable_new ();
  call->done = done;
  call->user_data = user_data;
  if (parent != NULL)
    {
      call->parent = g_object_ref (parent);
      call->parent_handler = g_cancellable_connect (parent, G_CALLBACK (parent_cancelled_cb),
                                                    g_object_ref (call->cancellable), g_object_unref);
    }
  g_signal_connect (msg, "starting", G_CALLBACK (starting_cb), call);
  call->timeout_id = g_timeout_add (g_strcmp0 (g_uri_get_scheme (soup_message_get_uri (msg)), "https") == 0
                                      ? TLS_CONNECT_TIMEOUT_MS : CONNECT_TIMEOUT_MS,
                                    timeout_cb, call);
  soup_session_send_and_read_async (session_for (plugin, msg), msg, G_PRIORITY_DEFAULT, call->cancellable,
                                    call_done_cb, call);
}

static void
call_start (DiscoveryPlugin *plugin, SoupMessage *msg, GCancellable *parent, Done done,
            gpointer user_data)
{
  call_start_full (plugin, msg, parent, ANSWER_TIMEOUT_MS, done, user_data);
}

/* ---- forwarding ------------------------------------------------------- */

/* The query string as the client sent it, minus `dc`: relayed as it is
 * (its own encoding kept), so it is cut, not parsed; the parameters
 * themselves are read through berth_request_get_query(). */
static char *
query_without_dc (BerthRequest *req)
{
  GUri *uri = soup_server_message_get_uri (berth_request_get_message (req));
  const char *query = g_uri_get_query (uri);
  g_auto(GStrv) parts = NULL;
  g_autoptr(GString) out = g_string_new (NULL);

  if (query == NULL)
    return g_strdup ("");
  parts = g_strsplit (query, "&", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (g_str_equal (parts[i], "dc") || g_str_has_prefix (parts[i], "dc=") || *parts[i] == '\0')
        continue;
      g_string_append_c (out, out->len == 0 ? '?' : '&');
      g_string_append (out, parts[i]);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
no_path (BerthRequest *req)
{
  berth_request_respond_message (req, 500, _("No path to datacenter"));
}

static void
forward_done (SoupMessage *msg, GBytes *body, const GError *error, gpointer user_data)
{
  g_autoptr(BerthRequest) req = user_data;
  SoupMessageHeaders *headers;
  const char *index;

  if (g_cancellable_is_cancelled (berth_request_get_cancellable (req)))
    return;   /* the client went away */
  if (error != NULL)
    {
      g_debug ("wan: forwarding failed: %s", error->message);
      no_path (req);
      return;
    }
  headers = soup_message_get_response_headers (msg);
  index = soup_message_headers_get_one (headers, "X-Consul-Index");
  if (index != NULL)
    berth_request_set_index (req, g_ascii_strtoull (index, NULL, 10));
  berth_request_respond (req, soup_message_get_status (msg),
                         soup_message_headers_get_content_type (headers, NULL), body);
}

/* Calls to another datacenter carry the caller's token, however it came
 * (header, bearer, Marathon's form, Basic, ?token=): tokens are not
 * replicated, so the operator gives the datacenters the same ones
 * ([security] initial_management, or SecretIDs chosen at creation). */
static void
pass_token (SoupMessage *msg, BerthRequest *req)
{
  BerthCaller *caller = berth_request_get_caller (req);
  const char *token = caller != NULL ? berth_caller_get_token (caller) : NULL;

  if (token != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "X-Consul-Token", token);
}

void
discovery_wan_forward (DiscoveryPlugin *plugin, BerthRequest *req, const char *dc)
{
  g_autofree char *address = discovery_wan_lookup (plugin, dc);
  g_autofree char *query = NULL;
  g_autofree char *url = NULL;
  GBytes *body;
  SoupMessage *msg;
  const char *ctype;
  guint answer_ms = ANSWER_TIMEOUT_MS;

  if (address == NULL)
    {
      no_path (req);
      return;
    }
  query = query_without_dc (req);
  url = g_strdup_printf ("%s://%s%s%s", scheme (plugin), address, berth_request_get_path (req), query);
  msg = soup_message_new (berth_request_get_method (req), url);
  if (msg == NULL)
    {
      no_path (req);
      return;
    }
  body = berth_request_get_body (req);
  ctype = berth_request_get_header (req, "Content-Type");
  if (body != NULL && g_bytes_get_size (body) > 0)
    soup_message_set_request_body_from_bytes (msg, ctype != NULL ? ctype : "application/json", body);
  pass_token (msg, req);
  /* a blocking query may take its wait (and jitter) to answer */
  if (berth_request_has_query (req, "index"))
    {
      guint64 wait_ms = 5 * 60 * 1000;
      berth_request_get_query_duration (req, "wait", wait_ms, &wait_ms, NULL);
      answer_ms += (guint) MIN (wait_ms, MAX_WAIT_MS) * 17 / 16;
    }
  call_start_full (plugin, msg, berth_request_get_cancellable (req), answer_ms, forward_done,
                   g_object_ref (req));
}

static void
route_cb (BerthRequest *req, gpointer user_data)
{
  RouteData *data = user_data;
  const char *dc = berth_request_get_query (req, "dc");
  BerthNode *self = berth_context_get_node (berth_request_get_context (req));

  if (dc == NULL || *dc == '\0' || g_ascii_strcasecmp (dc, berth_node_get_datacenter (self)) == 0)
    data->handler (req, data->plugin);
  else
    discovery_wan_forward (data->plugin, req, dc);
}

/* Adds discovery routes: each goes through route_cb(), which forwards
 * requests for other datacenters before the handler sees them. */
void
discovery_wan_add_routes (DiscoveryPlugin *plugin, const BerthRouteSpec *specs, gsize n_specs)
{
  BerthRouter *router = berth_context_get_router (berth_plugin_get_context (BERTH_PLUGIN (plugin)));

  for (gsize i = 0; i < n_specs; i++)
    {
      RouteData *data = g_new0 (RouteData, 1);
      data->plugin = plugin;
      data->handler = specs[i].handler;
      berth_router_add (router, specs[i].methods, specs[i].pattern, specs[i].acl_resource,
                        specs[i].access, route_cb, data, g_free);
    }
}

/* ---- GET for internal users (DNS) ------------------------------------ */

typedef struct {
  DiscoveryWanGetFunc func;
  gpointer            user_data;
} Get;

static void
get_done (SoupMessage *msg, GBytes *body, const GError *error, gpointer user_data)
{
  Get *get = user_data;

  if (error != NULL)
    get->func (0, NULL, get->user_data);
  else
    get->func (soup_message_get_status (msg), body, get->user_data);
  g_free (get);
}

void
discovery_wan_get (DiscoveryPlugin *plugin, const char *dc, const char *path_and_query,
                   const char *token, DiscoveryWanGetFunc func, gpointer user_data)
{
  g_autofree char *address = discovery_wan_lookup (plugin, dc);
  g_autofree char *url = NULL;
  SoupMessage *msg;
  Get *get;

  if (address == NULL)
    {
      func (0, NULL, user_data);
      return;
    }
  url = g_strdup_printf ("%s://%s%s", scheme (plugin), address, path_and_query);
  msg = soup_message_new ("GET", url);
  if (msg == NULL)
    {
      func (0, NULL, user_data);
      return;
    }
  if (token != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "X-Consul-Token", token);
  get = g_new0 (Get, 1);
  get->func = func;
  get->user_data = user_data;
  /* DNS clients give up after a few seconds */
  call_start_full (plugin, msg, NULL, 5000, get_done, get);
}

/* ---- join ------------------------------------------------------------- */

typedef struct {
  char *datacenter;
  char *address;
} Link;

static void
link_free (Link *link)
{
  g_free (link->datacenter);
  g_free (link->address);
  g_free (link);
}

static gboolean
link_write (BerthTxn *txn, gpointer user_data, GError **error)
{
  Link *link = user_data;
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "INSERT INTO wan_links (datacenter, address, create_index, modify_index)"
                              " VALUES (?1, ?2, ?3, ?3) ON CONFLICT (datacenter) DO UPDATE"
                              " SET address = ?2, modify_index = ?3 WHERE address != ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, link->datacenter, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, link->address, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) berth_txn_get_index (txn));
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  if (sqlite3_changes (berth_store_get_db (store)) > 0)
    berth_txn_changed (txn, "wan", link->datacenter);
  return TRUE;
}

typedef struct {
  DiscoveryPlugin *plugin;
  BerthRequest    *request;
  char            *address;
  gboolean         reverse;
} Join;

static void
join_free (Join *join)
{
  g_clear_object (&join->request);
  g_free (join->address);
  g_free (join);
}

static void
reverse_done (SoupMessage *msg, GBytes *body, const GError *error, gpointer user_data)
{
  g_autofree char *address = user_data;

  if (error != NULL || !SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg)))
    g_message ("wan: %s could not join back: %s", address,
               error != NULL ? error->message : soup_message_get_reason_phrase (msg));
}

static void
link_written_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Join *join = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autofree char *own = own_address (join->plugin);

  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0)
    {
      berth_request_respond_error (join->request, error);
      join_free (join);
      return;
    }
  /* links go both ways: ask the other side to join us (once) */
  if (join->reverse && own != NULL)
    {
      g_autofree char *url = g_strdup_printf ("%s://%s/v1/agent/join/%s?wan=1&reverse=0",
                                              scheme (join->plugin), join->address, own);
      SoupMessage *msg = soup_message_new ("PUT", url);
      if (msg != NULL)
        {
          pass_token (msg, join->request);
          call_start (join->plugin, msg, NULL, reverse_done, g_strdup (join->address));
        }
    }
  answer = json_node_new (JSON_NODE_VALUE);
  json_node_set_boolean (answer, TRUE);
  berth_request_respond_json (join->request, 200, answer);
  join_free (join);
}

static void
join_self_done (SoupMessage *msg, GBytes *body, const GError *error, gpointer user_data)
{
  Join *join = user_data;
  BerthContext *ctx = berth_plugin_get_context (BERTH_PLUGIN (join->plugin));
  g_autoptr(JsonNode) root = NULL;
  JsonObject *config = NULL;
  const char *dc = NULL;
  Link *link;

  /* the other side's answer is read as carefully as a request */
  if (error == NULL && SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg)) && body != NULL)
    root = berth_json_parse_bytes (body, NULL);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    config = discovery_json_object (json_node_get_object (root), "Config");
  dc = discovery_json_text (config, "Datacenter", NULL);
  if (dc == NULL || *dc == '\0')
    {
      g_autofree char *text = g_strdup_printf (_("Failed to join %s: %s"), join->address,
                                               error != NULL ? error->message
                                                             : _("not a berthd or Consul server"));
      berth_request_respond_message (join->request, 500, text);
      join_free (join);
      return;
    }
  if (g_strcmp0 (dc, berth_node_get_datacenter (berth_context_get_node (ctx))) == 0)
    {
      g_autofree char *text = g_strdup_printf (_("%s is in this datacenter (%s): only other "
                                                 "datacenters can be joined over the WAN"),
                                               join->address, dc);
      berth_request_respond_message (join->request, 400, text);
      join_free (join);
      return;
    }
  link = g_new0 (Link, 1);
  link->datacenter = g_strdup (dc);
  link->address = g_strdup (join->address);
  g_message ("wan: linked datacenter %s at %s", dc, join->address);
  berth_store_write_async (berth_context_get_store (ctx), link_write, link, (GDestroyNotify) link_free,
                           NULL, link_written_cb, join);
}

static void
join_cb (BerthRequest *req, gpointer user_data)
{
  DiscoveryPlugin *plugin = user_data;
  const char *address = berth_request_get_param (req, "address");
  const char *wan = berth_request_get_query (req, "wan");
  g_autofree char *url = NULL;
  SoupMessage *msg;
  Join *join;
  guint default_port;

  if (wan == NULL || g_str_equal (wan, "0") || g_ascii_strcasecmp (wan, "false") == 0)
    {
      berth_request_respond_message (req, 501, _("Joining other nodes of this datacenter (LAN) is "
                                                 "not implemented: use ?wan=1 to link datacenters"));
      return;
    }
  if (address == NULL || *address == '\0' || strchr (address, '/') != NULL ||
      strchr (address, '@') != NULL)
    {
      berth_request_respond_message (req, 400, _("Invalid address: use HOST:PORT of the other berthd's HTTP API"));
      return;
    }
  default_port = tls_provider (plugin) != NULL ? 8501 : 8500;
  url = strchr (address, ':') != NULL
          ? g_strdup_printf ("%s://%s/v1/agent/self", scheme (plugin), address)
          : g_strdup_printf ("%s://%s:%u/v1/agent/self", scheme (plugin), address, default_port);
  msg = soup_message_new ("GET", url);
  if (msg == NULL)
    {
      berth_request_respond_message (req, 400, _("Invalid address: use HOST:PORT of the other berthd's HTTP API"));
      return;
    }
  join = g_new0 (Join, 1);
  join->plugin = plugin;
  join->request = g_object_ref (req);
  join->address = strchr (address, ':') != NULL ? g_strdup (address)
                                                 : g_strdup_printf ("%s:%u", address, default_port);
  join->reverse = g_strcmp0 (berth_request_get_query (req, "reverse"), "0") != 0;
  pass_token (msg, req);
  call_start (plugin, msg, berth_request_get_cancellable (req), join_self_done, join);
}

static void
datacenters_cb (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  BerthStore *store = berth_context_get_store (ctx);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
  JsonArray *array = json_array_new ();
  gboolean have_row = TRUE;

  json_array_add_string_element (array, berth_node_get_datacenter (berth_context_get_node (ctx)));
  stmt = berth_store_prepare (store, "SELECT datacenter FROM wan_links ORDER BY datacenter", NULL);
  while (stmt != NULL && berth_store_step (store, stmt, &have_row, NULL) && have_row)
    json_array_add_string_element (array, (const char *) sqlite3_column_text (stmt, 0));
  json_node_take_array (root, array);
  berth_request_respond_json (req, 200, root);
}

static const BerthRouteSpec wan_routes[] = {
  { BERTH_METHOD_GET, "/v1/catalog/datacenters", BERTH_RESOURCE_PUBLIC, BERTH_ACCESS_NONE, datacenters_cb },
  { BERTH_METHOD_GET | BERTH_METHOD_PUT, "/v1/agent/join/:address", "agent", BERTH_ACCESS_WRITE, join_cb },
};

/* After a start, tell every linked datacenter about us again, so that a
 * side that lost its state (or its link) gets the link back. */
static gboolean
rejoin_cb (gpointer user_data)
{
  DiscoveryPlugin *plugin = user_data;
  BerthContext *ctx = berth_plugin_get_context (BERTH_PLUGIN (plugin));
  BerthStore *store = berth_context_get_store (ctx);
  g_autofree char *own = own_address (plugin);
  /* no caller here: the re-join announces itself with [discovery]
   * wan_token, the token the other datacenters know this one by */
  g_autofree char *token = berth_context_dup_config_string (ctx, "discovery", "wan_token", NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean have_row = TRUE;

  wan_state (plugin)->rejoin_id = 0;
  if (own == NULL)
    return G_SOURCE_REMOVE;
  stmt = berth_store_prepare (store, "SELECT datacenter, address FROM wan_links", NULL);
  while (stmt != NULL && berth_store_step (store, stmt, &have_row, NULL) && have_row)
    {
      const char *address = (const char *) sqlite3_column_text (stmt, 1);
      g_autofree char *url = g_strdup_printf ("%s://%s/v1/agent/join/%s?wan=1&reverse=0",
                                              scheme (plugin), address, own);
      SoupMessage *msg = soup_message_new ("PUT", url);

      g_message ("wan: datacenter %s at %s", sqlite3_column_text (stmt, 0), address);
      if (msg != NULL)
        {
          if (token != NULL && *token != '\0')
            soup_message_headers_replace (soup_message_get_request_headers (msg), "X-Consul-Token", token);
          call_start (plugin, msg, NULL, reverse_done, g_strdup (address));
        }
    }
  return G_SOURCE_REMOVE;
}

void
discovery_wan_setup (DiscoveryPlugin *plugin)
{
  /* first: these routes win over the older ones of discovery-agent.c */
  discovery_wan_add_routes (plugin, wan_routes, G_N_ELEMENTS (wan_routes));
  /* once the HTTP server listens: the other side calls us back */
  wan_state (plugin)->rejoin_id = g_timeout_add_seconds (1, rejoin_cb, plugin);
}

void
discovery_wan_shutdown (DiscoveryPlugin *plugin)
{
  gint64 deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;

  g_clear_handle_id (&wan_state (plugin)->rejoin_id, g_source_remove);
  soup_session_abort (session (plugin));
  if (g_object_get_data (G_OBJECT (plugin), TLS_SESSION_KEY) != NULL)
    soup_session_abort (g_object_get_data (G_OBJECT (plugin), TLS_SESSION_KEY));
  /* the aborted calls finish (and free) on the next iterations */
  while (wan_state (plugin)->calls_in_flight > 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
}
