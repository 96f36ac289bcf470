/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "discovery-blocking.h"
#include "discovery-json.h"
#include "discovery-session.h"
#include "discovery-wan.h"

/* Consul's /v1/session/: create, destroy, renew (PUT), info, node, list
 * (GET, blocking). ACL resource "session", named by the session's node:
 * write to create, destroy and renew, read to see. */

#define DEFAULT_LOCK_DELAY_NS (G_GUINT64_CONSTANT (15) * 1000000000)

static gboolean
invalid (GError **error, const char *message)
{
  g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, message);
  return FALSE;
}

/* LockDelay: a duration ("15s"), or a number: nanoseconds, or seconds
 * when below 1000 (as Consul reads it). At most 60s, as Consul caps it. */
static gboolean
parse_lock_delay (JsonObject *o, guint64 *ns, GError **error)
{
  JsonNode *node = discovery_json_member (o, "LockDelay");

  *ns = DEFAULT_LOCK_DELAY_NS;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      guint64 ms = 0;
      g_autoptr(GError) local_error = NULL;

      if (!berth_parse_duration (json_node_get_string (node), &ms, &local_error))
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Invalid LockDelay: %s"),
                       local_error->message);
          return FALSE;
        }
      *ns = ms * 1000000;
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64 &&
           json_node_get_int (node) >= 0)
    {
      gint64 n = json_node_get_int (node);
      *ns = n < 1000 ? (guint64) n * 1000000000 : (guint64) n;
    }
  else
    return invalid (error, _("Invalid LockDelay: a duration such as “15s” is expected"));
  *ns = MIN (*ns, SESSION_LOCK_DELAY_MAX_NS);
  return TRUE;
}

/* An array of check ids (Checks, NodeChecks) appended to @out. */
static gboolean
parse_check_names (JsonObject *o, const char *name, JsonArray *out, gboolean *given, GError **error)
{
  JsonNode *node = discovery_json_member (o, name);
  JsonArray *array;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  *given = TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("“%s” must be an array of check ids"), name);
      return FALSE;
    }
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (item) || json_node_get_value_type (item) != G_TYPE_STRING ||
          *json_node_get_string (item) == '\0')
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                       _("“%s” must be an array of check ids"), name);
          return FALSE;
        }
      json_array_add_string_element (out, json_node_get_string (item));
    }
  return TRUE;
}

/* ServiceChecks: [{"ID": "...", "Namespace": "..."}] */
static gboolean
parse_service_checks (JsonObject *o, JsonArray *out, gboolean *given, GError **error)
{
  JsonNode *node = discovery_json_member (o, "ServiceChecks");
  JsonArray *array;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  *given = TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return invalid (error, _("“ServiceChecks” must be an array of objects with an ID"));
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      const char *id = NULL, *ns = NULL;
      JsonObject *check;

      if (JSON_NODE_HOLDS_OBJECT (item))
        {
          id = discovery_json_string (json_node_get_object (item), "ID", NULL);
          ns = discovery_json_string (json_node_get_object (item), "Namespace", NULL);
        }
      if (id == NULL || *id == '\0')
        return invalid (error, _("“ServiceChecks” must be an array of objects with an ID"));
      check = json_object_new ();
      json_object_set_string_member (check, "ID", id);
      json_object_set_string_member (check, "Namespace", ns != NULL ? ns : "");
      json_array_add_object_element (out, check);
    }
  return TRUE;
}

static char *
array_text (JsonArray *array)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);

  json_node_set_array (node, array);
  return json_to_string (node, FALSE);
}

static Session *
parse_create (BerthRequest *req, const char *this_node, GError **error)
{
  g_autoptr(Session) s = g_new0 (Session, 1);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonArray) node_checks = json_array_new ();
  g_autoptr(JsonArray) service_checks = json_array_new ();
  g_autoptr(GError) local_error = NULL;
  gboolean node_given = FALSE, service_given = FALSE;
  const char *name, *node, *behavior, *ttl;
  JsonObject *o;

  if (g_bytes_get_size (berth_request_get_body (req)) == 0)
    root = json_from_string ("{}", NULL);
  else if ((root = berth_request_parse_json (req, error)) == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      invalid (error, _("A session is a JSON object"));
      return NULL;
    }
  o = json_node_get_object (root);
  name = discovery_json_string (o, "Name", &local_error);
  if (local_error == NULL)
    node = discovery_json_string (o, "Node", &local_error);
  if (local_error == NULL)
    behavior = discovery_json_string (o, "Behavior", &local_error);
  if (local_error == NULL)
    ttl = discovery_json_string (o, "TTL", &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (behavior != NULL && *behavior != '\0' &&
      g_strcmp0 (behavior, "release") != 0 && g_strcmp0 (behavior, "delete") != 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                   _("Invalid Behavior setting “%s”: “release” or “delete” expected"), behavior);
      return NULL;
    }
  if (ttl != NULL && *ttl != '\0')
    {
      /* Consul's agent option session_ttl_min (10s) */
      g_autofree char *min_text = berth_context_dup_config_string (berth_request_get_context (req), "discovery",
                                                                   "session_ttl_min", "10s");
      guint64 min_ms = SESSION_TTL_MIN_MS;
      guint64 ms = 0;

      if (!berth_parse_duration (min_text, &min_ms, NULL) || min_ms == 0)
        min_ms = SESSION_TTL_MIN_MS;
      if (!berth_parse_duration (ttl, &ms, NULL) || ms < min_ms || ms > SESSION_TTL_MAX_MS)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                       _("Invalid Session TTL “%s”, must be between [%s=24h0m0s]"), ttl, min_text);
          return NULL;
        }
    }
  if (!parse_lock_delay (o, &s->lock_delay_ns, error) ||
      !parse_check_names (o, "Checks", node_checks, &node_given, error) ||
      !parse_check_names (o, "NodeChecks", node_checks, &node_given, error) ||
      !parse_service_checks (o, service_checks, &service_given, error))
    return NULL;

  s->id = g_uuid_string_random ();
  s->name = g_strdup (name != NULL ? name : "");
  s->node = g_strdup (node != NULL && *node != '\0' ? node : this_node);
  s->behavior = g_strdup (behavior != NULL && *behavior != '\0' ? behavior : "release");
  s->ttl = g_strdup (ttl != NULL ? ttl : "");
  /* none of the three named: the default check (see the write) */
  if (node_given || service_given)
    {
      s->node_checks_json = array_text (node_checks);
      s->service_checks_json = array_text (service_checks);
    }
  return g_steal_pointer (&s);
}

typedef struct {
  BerthRequest *request;
  char         *id;
} Reply;

static void
reply_free (Reply *r)
{
  g_clear_object (&r->request);
  g_free (r->id);
  g_free (r);
}

static void
create_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Reply *r = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) answer = NULL;
  guint64 index;

  index = berth_store_write_finish (BERTH_STORE (source), result, &error);
  if (index == 0)
    {
      berth_request_respond_error (r->request, error);
      reply_free (r);
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ID");
  json_builder_add_string_value (b, r->id);
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  berth_request_set_index (r->request, index);
  berth_request_respond_json (r->request, 200, answer);
  reply_free (r);
}

static void
create_cb (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  g_autoptr(GError) error = NULL;
  Session *s;
  Reply *r;

  s = parse_create (req, berth_node_get_name (berth_context_get_node (ctx)), &error);
  if (s == NULL || !berth_request_authorize (req, "session", s->node, BERTH_ACCESS_WRITE, &error))
    {
      session_free (s);
      berth_request_respond_error (req, error);
      return;
    }
  r = g_new0 (Reply, 1);
  r->request = g_object_ref (req);
  r->id = g_strdup (s->id);
  berth_store_write_async (berth_context_get_store (ctx), discovery_session_write_create, s,
                           (GDestroyNotify) session_free, NULL, create_done_cb, r);
}

/* The session a request names, checked for @access on its node. NULL with
 * NOT_FOUND when there is none. */
static Session *
named_session (BerthRequest *req, BerthAccess access, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  const char *id = berth_request_get_param (req, "_id");
  g_autoptr(Session) s = NULL;
  g_autoptr(GError) local_error = NULL;

  s = discovery_session_get (store, id, &local_error);
  if (s == NULL)
    {
      if (g_error_matches (local_error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
        g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Session id “%s” not found"), id);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (!berth_request_authorize (req, "session", s->node, access, error))
    return NULL;
  return g_steal_pointer (&s);
}

static void
destroy_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(BerthRequest) req = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = json_node_new (JSON_NODE_VALUE);
  guint64 index;

  index = berth_store_write_finish (BERTH_STORE (source), result, &error);
  if (index == 0 && error != NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  json_node_set_boolean (answer, TRUE);
  berth_request_set_index (req, index > 0 ? index : berth_store_get_index (BERTH_STORE (source)));
  berth_request_respond_json (req, 200, answer);
}

static void
destroy_cb (BerthRequest *req, gpointer user_data)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(GError) error = NULL;
  g_autoptr(Session) s = named_session (req, BERTH_ACCESS_WRITE, &error);

  /* destroying a session that is gone is done already, as in Consul */
  if (s == NULL && !g_error_matches (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
    {
      berth_request_respond_error (req, error);
      return;
    }
  berth_store_write_async (store, discovery_session_write_destroy,
                           g_strdup (berth_request_get_param (req, "_id")), g_free,
                           NULL, destroy_done_cb, g_object_ref (req));
}

static JsonNode *
one_session (const Session *s)
{
  JsonArray *array = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  if (s != NULL)
    json_array_add_element (array, discovery_session_to_json (s));
  json_node_take_array (node, array);
  return node;
}

static void
renew_cb (BerthRequest *req, gpointer user_data)
{
  DiscoveryPlugin *plugin = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(Session) s = named_session (req, BERTH_ACCESS_WRITE, &error);
  g_autoptr(JsonNode) answer = NULL;

  if (s == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  discovery_sessions_renew (discovery_plugin_get_sessions (plugin), s);
  answer = one_session (s);
  berth_request_set_index (req, s->modify_index);
  berth_request_respond_json (req, 200, answer);
}

static gboolean
info_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(Session) s = discovery_session_get (store, user_data, NULL);

  if (s != NULL && !berth_request_may_read (req, "session", s->node))
    g_clear_pointer (&s, session_free);
  answer->status = 200;
  answer->index = discovery_session_index (store);
  answer->json = one_session (s);
  return TRUE;
}

static void
info_cb (BerthRequest *req, gpointer user_data)
{
  const char *id = berth_request_get_param (req, "_id");

  discovery_blocking_serve (req, "session", id, info_read, g_strdup (id), g_free);
}

static gboolean
list_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(GPtrArray) sessions = NULL;
  JsonArray *array;

  answer->index = discovery_session_index (store);
  sessions = discovery_session_list (store, user_data, error);
  if (sessions == NULL)
    return FALSE;
  array = json_array_sized_new (sessions->len);
  for (guint i = 0; i < sessions->len; i++)
    {
      Session *s = g_ptr_array_index (sessions, i);
      if (berth_request_may_read (req, "session", s->node))
        json_array_add_element (array, discovery_session_to_json (s));
    }
  answer->status = 200;
  answer->json = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (answer->json, array);
  return TRUE;
}

static void
node_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "session", NULL, list_read,
                            g_strdup (berth_request_get_param (req, "node")), g_free);
}

static void
list_cb (BerthRequest *req, gpointer user_data)
{
  discovery_blocking_serve (req, "session", NULL, list_read, NULL, NULL);
}

static const BerthRouteSpec session_routes[] = {
  /* create names its node in the body, checked in the handler; `:_id`
   * is a session id: the handler checks its node */
  { BERTH_METHOD_PUT, "/v1/session/create", "session", BERTH_ACCESS_WRITE, create_cb },
  { BERTH_METHOD_PUT, "/v1/session/destroy/:_id", "session", BERTH_ACCESS_WRITE, destroy_cb },
  { BERTH_METHOD_PUT, "/v1/session/renew/:_id", "session", BERTH_ACCESS_WRITE, renew_cb },
  { BERTH_METHOD_GET, "/v1/session/info/:_id", "session", BERTH_ACCESS_READ, info_cb },
  { BERTH_METHOD_GET, "/v1/session/node/:node", "session", BERTH_ACCESS_READ, node_cb },
  { BERTH_METHOD_GET, "/v1/session/list", "session", BERTH_ACCESS_READ, list_cb },
};

void
discovery_session_add_routes (DiscoveryPlugin *plugin)
{
  discovery_wan_add_routes (plugin, session_routes, G_N_ELEMENTS (session_routes));
}
