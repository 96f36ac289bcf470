/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "berth-call.h"
#include "berth-context.h"
#include "berth-error.h"
#include "berth-json.h"
#include "berth-request-private.h"
#include "berth-store.h"

/**
 * SECTION:berth-request
 * @title: BerthRequest
 * @short_description: one HTTP request as a route handler sees it
 *
 * A #BerthRequest wraps a #SoupServerMessage for a route handler: path
 * parameters captured by the route pattern, the query, the body, the
 * caller's token, and one way to answer. A handler may answer later (a
 * blocking query, a write waiting for its commit): it keeps a reference to
 * the request and calls one of the respond functions when ready; the front
 * door pauses the message meanwhile. If the client goes away first, the
 * request's cancellable is cancelled and responding becomes a no-op.
 *
 * What a reply carries besides its body is the front door's business: the
 * HTTP door adds Consul's headers to every `/v1/` reply through a respond
 * hook (see berth-request-private.h).
 */

struct _BerthRequest {
  GObject            parent_instance;

  BerthContext      *context;
  SoupServerMessage *message;
  GHashTable        *query;    /* decoded, may be NULL */
  char              *bad_query; /* first parameter that could not be decoded */
  GHashTable        *params;   /* decoded path captures, may be NULL */
  GCancellable      *cancellable;
  BerthCall         *call;
  BerthRequestRespondHook respond_hook;
  gpointer           respond_hook_data;
  GBytes            *body;
  guint64            index;
  gulong             disconnected_id;
  gboolean           responded;
  gboolean           filtered;  /* a list left out what the caller may not read */
  gboolean           paused;
  gboolean           gone;
};

G_DEFINE_FINAL_TYPE (BerthRequest, berth_request, G_TYPE_OBJECT)

static void
message_disconnected_cb (SoupServerMessage *message, gpointer user_data)
{
  BerthRequest *self = user_data;

  self->gone = TRUE;
  g_cancellable_cancel (self->cancellable);
}

/* Parses a query string as Go's url.ParseQuery does, which is what Consul
 * clients expect: a bare `?recurse` is present with an empty value, `+` is
 * a space; a repeated name keeps all its values in order (Marathon's
 * `?embed=a&embed=b`), the first being the value. Maps name → GPtrArray. */
static GHashTable *
parse_query (const char *query, char **bad_name)
{
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) g_ptr_array_unref);
  g_auto(GStrv) pairs = NULL;

  if (query == NULL)
    return table;
  pairs = g_strsplit_set (query, "&;", -1);
  for (guint i = 0; pairs[i] != NULL; i++)
    {
      char *eq;
      char *name, *value;

      if (pairs[i][0] == '\0')
        continue;
      g_strdelimit (pairs[i], "+", ' ');
      eq = strchr (pairs[i], '=');
      if (eq != NULL)
        *eq = '\0';
      name = g_uri_unescape_string (pairs[i], NULL);
      value = g_uri_unescape_string (eq != NULL ? eq + 1 : "", NULL);
      /* g_uri_unescape_string() refuses %00 and broken escapes: such a
       * parameter must not just vanish (`?cas=1%00` would become an
       * unconditional write), the request is refused instead */
      if ((name == NULL || value == NULL) && *bad_name == NULL)
        *bad_name = berth_utf8_make_safe (pairs[i], -1);
      if ((name != NULL && !g_utf8_validate (name, -1, NULL)) ||
          (value != NULL && !g_utf8_validate (value, -1, NULL)))
        {
          if (*bad_name == NULL)
            *bad_name = berth_utf8_make_safe (pairs[i], -1);
        }
      if (name == NULL || value == NULL)
        {
          g_free (name);
          g_free (value);
          continue;
        }
      {
        GPtrArray *values = g_hash_table_lookup (table, name);
        if (values == NULL)
          {
            values = g_ptr_array_new_with_free_func (g_free);
            g_hash_table_insert (table, g_strdup (name), values);
          }
        g_ptr_array_add (values, value);
        g_free (name);
      }
    }
  return table;
}

/**
 * berth_request_new:
 * @context: the daemon's #BerthContext
 * @message: the message being served
 * @params: (nullable) (element-type utf8 utf8): path parameters
 *
 * Used by the front door; plugins receive requests, they do not make them.
 *
 * Returns: (transfer full): a new #BerthRequest
 */
BerthRequest *
berth_request_new (BerthContext *context, SoupServerMessage *message, GHashTable *params)
{
  BerthRequest *self;

  g_return_val_if_fail (BERTH_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (message), NULL);

  self = g_object_new (BERTH_TYPE_REQUEST, NULL);
  self->context = g_object_ref (context);
  self->message = g_object_ref (message);
  self->query = parse_query (g_uri_get_query (soup_server_message_get_uri (message)),
                             &self->bad_query);
  self->params = params != NULL ? g_hash_table_ref (params) : NULL;
  self->disconnected_id = g_signal_connect (message, "disconnected",
                                            G_CALLBACK (message_disconnected_cb), self);
  return self;
}

/**
 * berth_request_check_query:
 * @self: a #BerthRequest
 * @error: return location for a #GError
 *
 * Checks that every query parameter could be decoded: a `%00`, a broken
 * percent escape or invalid UTF-8 makes the whole request invalid, rather
 * than the parameter silently disappearing. The front door calls this
 * before any handler runs.
 *
 * Returns: %TRUE when the query is sound; %FALSE with %BERTH_ERROR_INVALID
 */
gboolean
berth_request_check_query (BerthRequest *self, GError **error)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), FALSE);

  if (self->bad_query == NULL)
    return TRUE;
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
               _("Invalid query parameter “%s”: values must be valid UTF-8 without NUL "
                 "bytes, with well-formed percent escapes"), self->bad_query);
  return FALSE;
}

/**
 * berth_request_get_context:
 * @self: a #BerthRequest
 *
 * Returns: (transfer none): the daemon's context
 */
BerthContext *
berth_request_get_context (BerthRequest *self)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);
  return self->context;
}

/**
 * berth_request_get_message:
 * @self: a #BerthRequest
 *
 * The underlying message, for handlers that stream (server-sent events,
 * chunked progress). Prefer the respond functions otherwise.
 *
 * Returns: (transfer none): the message
 */
SoupServerMessage *
berth_request_get_message (BerthRequest *self)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);
  return self->message;
}

/**
 * berth_request_get_method:
 * @self: a #BerthRequest
 *
 * Returns: the HTTP method, e.g. `GET`
 */
const char *
berth_request_get_method (BerthRequest *self)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);
  return soup_server_message_get_method (self->message);
}

/**
 * berth_request_get_path:
 * @self: a #BerthRequest
 *
 * Returns: the request path, percent-decoded once
 */
const char *
berth_request_get_path (BerthRequest *self)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);
  return g_uri_get_path (soup_server_message_get_uri (self->message));
}

/**
 * berth_request_get_param:
 * @self: a #BerthRequest
 * @name: a parameter named in the route pattern (`:name` or `*name`)
 *
 * Returns: (nullable): the value, or %NULL if the route has no such
 *   parameter
 */
const char *
berth_request_get_param (BerthRequest *self, const char *name)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return self->params != NULL ? g_hash_table_lookup (self->params, name) : NULL;
}

/**
 * berth_request_get_query:
 * @self: a #BerthRequest
 * @name: a query parameter
 *
 * Returns: (nullable): the decoded value (an empty string for a bare
 *   `?name`), or %NULL when absent
 */
const char *
berth_request_get_query (BerthRequest *self, const char *name)
{
  GPtrArray *values;

  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  values = self->query != NULL ? g_hash_table_lookup (self->query, name) : NULL;
  return values != NULL ? g_ptr_array_index (values, 0) : NULL;
}

/**
 * berth_request_dup_query_all:
 * @self: a #BerthRequest
 * @name: a query parameter that may be repeated
 *
 * Returns: (transfer full) (array zero-terminated=1): every value given
 *   for @name, in order (empty when absent)
 */
GStrv
berth_request_dup_query_all (BerthRequest *self, const char *name)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  GPtrArray *values;

  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  values = self->query != NULL ? g_hash_table_lookup (self->query, name) : NULL;
  for (guint i = 0; values != NULL && i < values->len; i++)
    g_strv_builder_add (builder, g_ptr_array_index (values, i));
  return g_strv_builder_end (builder);
}

/**
 * berth_request_get_header:
 * @self: a #BerthRequest
 * @name: a header name
 *
 * Returns: (nullable): the header's value
 */
const char *
berth_request_get_header (BerthRequest *self, const char *name)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);
  return soup_message_headers_get_one (soup_server_message_get_request_headers (self->message),
                                       name);
}

/**
 * berth_request_get_token:
 * @self: a #BerthRequest
 *
 * The ACL token the caller presented; the front door read it from
 * wherever its transport carries one (for HTTP: `X-Consul-Token`,
 * `Authorization: Bearer` or `?token=`).
 *
 * Returns: (nullable): the token, or %NULL if none was given
 */
const char *
berth_request_get_token (BerthRequest *self)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);
  if (self->call == NULL)
    return NULL;
  return berth_caller_get_token (berth_call_get_caller (self->call));
}

/**
 * berth_request_get_call:
 * @self: a #BerthRequest
 *
 * Returns: (transfer none) (nullable): the transport-independent call
 *   this request was dispatched as
 */
BerthCall *
berth_request_get_call (BerthRequest *self)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);
  return self->call;
}

/**
 * berth_request_get_caller:
 * @self: a #BerthRequest
 *
 * Returns: (transfer none) (nullable): who asks
 */
BerthCaller *
berth_request_get_caller (BerthRequest *self)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);
  return self->call != NULL ? berth_call_get_caller (self->call) : NULL;
}

void
berth_request_set_call (BerthRequest *self, BerthCall *call)
{
  g_return_if_fail (BERTH_IS_REQUEST (self));
  g_set_object (&self->call, call);
  if (call != NULL)
    berth_call_set_cancellable (call, self->cancellable);
}

/**
 * berth_request_get_body:
 * @self: a #BerthRequest
 *
 * Returns: (transfer none): the request body (empty when there is none)
 */
GBytes *
berth_request_get_body (BerthRequest *self)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);

  if (self->body == NULL)
    self->body = soup_message_body_flatten (soup_server_message_get_request_body (self->message));
  return self->body;
}

/**
 * berth_request_parse_json:
 * @self: a #BerthRequest
 * @error: return location for a #GError
 *
 * Parses the body as JSON. An empty or malformed body is an error of
 * %BERTH_ERROR_INVALID with the parser's message.
 *
 * Returns: (transfer full): the root node, or %NULL on error
 */
JsonNode *
berth_request_parse_json (BerthRequest *self, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  GBytes *body;
  JsonNode *root;

  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);

  body = berth_request_get_body (self);
  if (g_bytes_get_size (body) == 0)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                           _("Request body is empty: a JSON document is required"));
      return NULL;
    }
  root = berth_json_parse_bytes (body, &local_error);
  if (root == NULL)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                   _("Request body is not valid JSON: %s"), local_error->message);
      return NULL;
    }
  return root;
}

/**
 * berth_request_get_cancellable:
 * @self: a #BerthRequest
 *
 * Returns: (transfer none): a cancellable that is cancelled when the client
 *   disconnects
 */
GCancellable *
berth_request_get_cancellable (BerthRequest *self)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), NULL);
  return self->cancellable;
}

/**
 * berth_request_set_header:
 * @self: a #BerthRequest
 * @name: a header name
 * @value: its value
 *
 * Sets a response header.
 */
void
berth_request_set_header (BerthRequest *self, const char *name, const char *value)
{
  g_return_if_fail (BERTH_IS_REQUEST (self));
  soup_message_headers_replace (soup_server_message_get_response_headers (self->message),
                                name, value);
}

/**
 * berth_request_set_index:
 * @self: a #BerthRequest
 * @index: the store index the answer reflects
 *
 * Sets the index sent as `X-Consul-Index` (by default the store's current
 * index).
 */
void
berth_request_set_index (BerthRequest *self, guint64 index)
{
  g_return_if_fail (BERTH_IS_REQUEST (self));
  self->index = index;
}

/**
 * berth_request_get_index:
 * @self: a #BerthRequest
 *
 * Returns: the index set with berth_request_set_index(), or 0
 */
guint64
berth_request_get_index (BerthRequest *self)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), 0);
  return self->index;
}

/**
 * berth_request_is_responded:
 * @self: a #BerthRequest
 *
 * Returns: whether an answer was given, or the client went away
 */
gboolean
berth_request_is_responded (BerthRequest *self)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), TRUE);
  return self->responded || self->gone;
}


void
berth_request_pause_if_pending (BerthRequest *self)
{
  if (!self->responded && !self->gone && !self->paused)
    {
      self->paused = TRUE;
      soup_server_message_pause (self->message);
    }
}

void
berth_request_set_respond_hook (BerthRequest *self, BerthRequestRespondHook hook, gpointer user_data)
{
  g_return_if_fail (BERTH_IS_REQUEST (self));
  self->respond_hook = hook;
  self->respond_hook_data = user_data;
}

/**
 * berth_request_respond:
 * @self: a #BerthRequest
 * @status: the HTTP status
 * @content_type: (nullable): the body's content type
 * @body: (nullable): the body
 *
 * Answers the request. Only the first answer counts; answering a request
 * whose client went away does nothing.
 */
void
berth_request_respond (BerthRequest *self, guint status, const char *content_type, GBytes *body)
{
  gsize len = 0;
  const char *data = NULL;

  g_return_if_fail (BERTH_IS_REQUEST (self));

  if (self->responded || self->gone)
    return;
  self->responded = TRUE;

  if (self->respond_hook != NULL)
    self->respond_hook (self, self->respond_hook_data);
  if (self->filtered)
    soup_message_headers_replace (soup_server_message_get_response_headers (self->message),
                                  "X-Consul-Results-Filtered-By-ACLs", "true");
  if (body != NULL)
    data = g_bytes_get_data (body, &len);
  if (data != NULL && len > 0)
    soup_server_message_set_response (self->message,
                                      content_type != NULL ? content_type : "application/octet-stream",
                                      SOUP_MEMORY_COPY, data, len);
  else if (content_type != NULL)
    soup_message_headers_set_content_type (soup_server_message_get_response_headers (self->message),
                                           content_type, NULL);
  soup_server_message_set_status (self->message, status, NULL);
  if (self->paused)
    {
      self->paused = FALSE;
      soup_server_message_unpause (self->message);
    }
}

/**
 * berth_request_respond_json:
 * @self: a #BerthRequest
 * @status: the HTTP status
 * @node: the JSON to send
 *
 * Answers with @node as `application/json` (indented when the query has
 * `?pretty`).
 */
void
berth_request_respond_json (BerthRequest *self, guint status, JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = NULL;
  g_autoptr(GBytes) bytes = NULL;
  gsize len = 0;
  char *text;

  g_return_if_fail (BERTH_IS_REQUEST (self));
  g_return_if_fail (node != NULL);

  gen = json_generator_new ();
  json_generator_set_root (gen, node);
  if (berth_request_has_query (self, "pretty"))
    json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, &len);
  bytes = g_bytes_new_take (text, len);
  berth_request_respond (self, status, "application/json", bytes);
}

/**
 * berth_request_respond_message:
 * @self: a #BerthRequest
 * @status: the HTTP status
 * @message: a human-readable message
 *
 * Answers with `{"message": message}`, the shape of every Berth error.
 */
void
berth_request_respond_message (BerthRequest *self, guint status, const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  /* messages often echo the request (a path, a name): never let invalid
   * UTF-8 from the client into the JSON reply */
  g_autofree char *safe = berth_utf8_make_safe (message != NULL ? message : "", -1);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, safe);
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  berth_request_respond_json (self, status, node);
}

/**
 * berth_request_respond_error:
 * @self: a #BerthRequest
 * @error: what went wrong
 *
 * Answers with the HTTP status berth_error_to_http_status() gives for
 * @error and a JSON body `{"message": ...}`. A %BERTH_ERROR_RATE_LIMITED
 * refusal carries `Retry-After`: the seconds the authority set as the
 * "berth-retry-after" data of the request's caller (a guint in a pointer),
 * at least 1.
 */
void
berth_request_respond_error (BerthRequest *self, const GError *error)
{
  guint status;

  g_return_if_fail (BERTH_IS_REQUEST (self));
  g_return_if_fail (error != NULL);

  status = berth_error_to_http_status (error);
  if (status >= 500)
    {
      g_autofree char *path = berth_utf8_make_safe (berth_request_get_path (self), -1);
      g_warning ("%s %s: %s", berth_request_get_method (self), path, error->message);
    }
  /* the authority that throttled the caller may say when to come back:
   * "berth-retry-after" data on the caller, seconds in a pointer */
  if (g_error_matches (error, BERTH_ERROR, BERTH_ERROR_RATE_LIMITED) &&
      soup_message_headers_get_one (soup_server_message_get_response_headers (self->message),
                                    "Retry-After") == NULL)
    {
      BerthCaller *caller = berth_request_get_caller (self);
      guint seconds = caller != NULL ? GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (caller),
                                                                            "berth-retry-after")) : 0;
      g_autofree char *value = g_strdup_printf ("%u", MAX (seconds, 1));

      berth_request_set_header (self, "Retry-After", value);
    }
  /* Consul answers ACL refusals in plain text ("Permission denied",
   * "ACL not found"), which its clients match on */
  if ((status == 401 || status == 403) && g_str_has_prefix (berth_request_get_path (self), "/v1/"))
    {
      g_autoptr(GBytes) body = g_bytes_new (error->message, strlen (error->message));
      berth_request_respond (self, status, "text/plain; charset=utf-8", body);
      return;
    }
  berth_request_respond_message (self, status, error->message);
}

/**
 * berth_request_authorize:
 * @self: a #BerthRequest
 * @resource: the resource kind
 * @name: (nullable): the resource's name
 * @access: the access wanted
 * @error: return location for the refusal
 *
 * Asks the authority, for this request's caller, about a resource the
 * handler learnt of after dispatch: the service a registration names, the
 * app a body creates, each key of a transaction. Answer the request with
 * the error when it fails.
 *
 * Returns: %TRUE when allowed
 */
gboolean
berth_request_authorize (BerthRequest *self, const char *resource, const char *name,
                         BerthAccess access, GError **error)
{
  BerthCaller *caller;

  g_return_val_if_fail (BERTH_IS_REQUEST (self), FALSE);
  g_return_val_if_fail (resource != NULL, FALSE);

  caller = berth_request_get_caller (self);
  if (caller == NULL)
    return TRUE;
  return berth_context_authorize (self->context, caller, resource, name, access, error);
}

/**
 * berth_request_may_read:
 * @self: a #BerthRequest
 * @resource: the resource kind
 * @name: (nullable): the name of an item of a list
 *
 * Whether the caller may read one item of a list the handler is about to
 * answer. Lists are filtered, not refused: an item the caller may not read
 * is left out, and the answer then carries Consul's
 * `X-Consul-Results-Filtered-By-ACLs: true`.
 *
 * Returns: %TRUE when the item may be shown
 */
gboolean
berth_request_may_read (BerthRequest *self, const char *resource, const char *name)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), FALSE);

  if (berth_request_authorize (self, resource, name, BERTH_ACCESS_READ, NULL))
    return TRUE;
  self->filtered = TRUE;
  return FALSE;
}

/**
 * berth_request_is_filtered:
 * @self: a #BerthRequest
 *
 * Returns: %TRUE when berth_request_may_read() left something out
 */
gboolean
berth_request_is_filtered (BerthRequest *self)
{
  g_return_val_if_fail (BERTH_IS_REQUEST (self), FALSE);
  return self->filtered;
}

static void
berth_request_dispose (GObject *object)
{
  BerthRequest *self = BERTH_REQUEST (object);

  if (self->message != NULL && self->disconnected_id != 0)
    g_clear_signal_handler (&self->disconnected_id, self->message);
  /* a handler that dropped its request without answering must not leave the
   * client hanging */
  if (self->message != NULL && !self->responded && !self->gone && self->paused)
    berth_request_respond_message (self, 500, _("The request was dropped without an answer"));
  g_clear_object (&self->message);
  g_clear_object (&self->context);
  G_OBJECT_CLASS (berth_request_parent_class)->dispose (object);
}

static void
berth_request_finalize (GObject *object)
{
  BerthRequest *self = BERTH_REQUEST (object);

  g_clear_pointer (&self->query, g_hash_table_unref);
  g_clear_pointer (&self->bad_query, g_free);
  g_clear_pointer (&self->params, g_hash_table_unref);
  g_clear_pointer (&self->body, g_bytes_unref);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->call);
  G_OBJECT_CLASS (berth_request_parent_class)->finalize (object);
}

static void
berth_request_class_init (BerthRequestClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = berth_request_dispose;
  object_class->finalize = berth_request_finalize;
}

static void
berth_request_init (BerthRequest *self)
{
  self->cancellable = g_cancellable_new ();
}
