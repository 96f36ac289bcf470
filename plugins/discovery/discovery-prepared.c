/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "discovery-json.h"
#include "discovery-prepared.h"
#include "discovery-session.h"
#include <berth-store-raw.h>

/* Prepared query definitions: what a client sends is checked and kept
 * normalised (Consul's shape, every field present) as JSON text in
 * prepared_queries.definition; names are unique, and a template
 * (Template.Type "name_prefix_match") answers every name its own name
 * prefixes, rendered with ${name.full}, ${name.prefix}, ${name.suffix} and
 * ${match(N)} of its Regexp. A query bound to a Session ends with it. */

#define TEMPLATE_TYPE "name_prefix_match"
#define MAX_NAME      512

void
prepared_query_free (PreparedQuery *q)
{
  if (q == NULL)
    return;
  g_free (q->id);
  g_free (q->name);
  g_clear_pointer (&q->def, json_object_unref);
  g_free (q);
}

/* Sets the error; FALSE, to return it */
#define invalid(error, ...) (g_set_error ((error), BERTH_ERROR, BERTH_ERROR_INVALID, __VA_ARGS__), FALSE)

/* A member of one of @types, or absent/null (NULL); else an error. */
static gboolean
member_of (JsonObject *o, const char *name, JsonNodeType type, GType value_type, JsonNode **out,
           const char *what, GError **error)
{
  JsonNode *node = o != NULL ? discovery_json_member (o, name) : NULL;

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_TYPE (node) != type ||
      (type == JSON_NODE_VALUE && value_type != G_TYPE_INVALID && json_node_get_value_type (node) != value_type &&
       !(value_type == G_TYPE_INT64 && json_node_get_value_type (node) == G_TYPE_DOUBLE)))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("“%s” must be %s"), name, what);
      return FALSE;
    }
  *out = node;
  return TRUE;
}

static gboolean
get_string (JsonObject *o, const char *name, const char **out, GError **error)
{
  JsonNode *node;

  if (!member_of (o, name, JSON_NODE_VALUE, G_TYPE_STRING, &node, _("a string"), error))
    return FALSE;
  *out = node != NULL ? json_node_get_string (node) : "";
  return TRUE;
}

static gboolean
get_bool (JsonObject *o, const char *name, gboolean *out, GError **error)
{
  JsonNode *node;

  if (!member_of (o, name, JSON_NODE_VALUE, G_TYPE_BOOLEAN, &node, _("a boolean"), error))
    return FALSE;
  *out = node != NULL && json_node_get_boolean (node);
  return TRUE;
}

/* A string array (absent: empty), as a new JSON array. */
static gboolean
get_strings (JsonObject *o, const char *name, JsonArray **out, GError **error)
{
  JsonNode *node;

  *out = NULL;
  if (!member_of (o, name, JSON_NODE_ARRAY, G_TYPE_INVALID, &node, _("an array of strings"), error))
    return FALSE;
  *out = json_array_new ();
  for (guint i = 0; node != NULL && i < json_array_get_length (json_node_get_array (node)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (node), i);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        {
          g_clear_pointer (out, json_array_unref);
          return invalid (error, _("“%s” must be an array of strings"), name);
        }
      json_array_add_string_element (*out, json_node_get_string (e));
    }
  return TRUE;
}

/* A string map (absent: empty), as a new JSON object. */
static gboolean
get_string_map (JsonObject *o, const char *name, JsonObject **out, GError **error)
{
  JsonNode *node;
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  *out = NULL;
  if (!member_of (o, name, JSON_NODE_OBJECT, G_TYPE_INVALID, &node, _("an object of strings"), error))
    return FALSE;
  *out = json_object_new ();
  if (node == NULL)
    return TRUE;
  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &key, &value))
    {
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        {
          g_clear_pointer (out, json_object_unref);
          return invalid (error, _("“%s” must be an object of strings"), name);
        }
      json_object_set_string_member (*out, key, json_node_get_string (value));
    }
  return TRUE;
}

static JsonObject *
sub_object (JsonObject *o, const char *name, GError **error)
{
  JsonNode *node;

  if (!member_of (o, name, JSON_NODE_OBJECT, G_TYPE_INVALID, &node, _("an object"), error))
    return NULL;
  return node != NULL ? json_node_get_object (node) : NULL;
}

static gboolean
parse_template (JsonObject *body, JsonObject *out, GError **error)
{
  JsonObject *t = sub_object (body, "Template", error);
  JsonObject *norm = json_object_new ();
  const char *type = "", *regexp = "";
  gboolean remove_empty = FALSE;

  json_object_set_object_member (out, "Template", norm);
  if (t == NULL)
    {
      if (error != NULL && *error != NULL)
        return FALSE;
    }
  else if (!get_string (t, "Type", &type, error) || !get_string (t, "Regexp", &regexp, error) ||
           !get_bool (t, "RemoveEmptyTags", &remove_empty, error))
    return FALSE;
  if (*type != '\0' && !g_str_equal (type, TEMPLATE_TYPE))
    return invalid (error, _("Bad Template.Type “%s”: the only type is name_prefix_match"), type);
  if (*regexp != '\0')
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(GRegex) re = g_regex_new (regexp, G_REGEX_DEFAULT, G_REGEX_MATCH_DEFAULT, &local);
      if (re == NULL)
        return invalid (error, _("Bad Template.Regexp: %s"), local->message);
    }
  json_object_set_string_member (norm, "Type", type);
  json_object_set_string_member (norm, "Regexp", regexp);
  json_object_set_boolean_member (norm, "RemoveEmptyTags", remove_empty);
  return TRUE;
}

static gboolean
parse_service (JsonObject *body, JsonObject *out, GError **error)
{
  JsonObject *s = sub_object (body, "Service", error);
  JsonObject *norm = json_object_new ();
  JsonObject *failover, *fnorm = json_object_new (), *connect, *cnorm = json_object_new ();
  JsonObject *node_meta = NULL, *service_meta = NULL;
  JsonArray *tags = NULL, *dcs = NULL, *ignore = NULL;
  const char *service = "", *near = "";
  gboolean only_passing = FALSE, connect_enabled = FALSE;
  JsonNode *nearest = NULL;
  gint64 nearest_n = 0;

  json_object_set_object_member (out, "Service", norm);
  json_object_set_object_member (norm, "Failover", fnorm);
  if (s == NULL)
    {
      if (error == NULL || *error == NULL)
        g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Must provide a Service name to query"));
      goto fail;
    }
  if (!get_string (s, "Service", &service, error) || !get_string (s, "Near", &near, error) ||
      !get_bool (s, "OnlyPassing", &only_passing, error) || !get_strings (s, "Tags", &tags, error) ||
      !get_strings (s, "IgnoreCheckIDs", &ignore, error) ||
      !get_string_map (s, "NodeMeta", &node_meta, error) ||
      !get_string_map (s, "ServiceMeta", &service_meta, error))
    goto fail;
  if (*service == '\0')
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Must provide a Service name to query"));
      goto fail;
    }
  failover = sub_object (s, "Failover", error);
  if (error != NULL && *error != NULL)
    goto fail;
  if (!member_of (failover, "NearestN", JSON_NODE_VALUE, G_TYPE_INT64, &nearest, _("a number"), error) ||
      !get_strings (failover, "Datacenters", &dcs, error))
    goto fail;
  if (nearest != NULL)
    {
      gdouble value = json_node_get_double (nearest);
      if (value != (gdouble) (gint64) value || value < 0 || value > 1000)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                       _("Bad NearestN “%g”: must be a whole number, >= 0"), value);
          goto fail;
        }
      nearest_n = (gint64) value;
    }
  connect = sub_object (s, "Connect", error);
  if ((error != NULL && *error != NULL) || !get_bool (connect, "Enabled", &connect_enabled, error))
    goto fail;
  if (connect_enabled)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_NOT_IMPLEMENTED,
                           _("Prepared queries of Connect (service mesh) instances are not implemented"));
      goto fail;
    }
  json_object_set_string_member (norm, "Service", service);
  json_object_set_int_member (fnorm, "NearestN", nearest_n);
  json_object_set_array_member (fnorm, "Datacenters", g_steal_pointer (&dcs));
  json_object_set_array_member (norm, "IgnoreCheckIDs", g_steal_pointer (&ignore));
  json_object_set_boolean_member (norm, "OnlyPassing", only_passing);
  json_object_set_string_member (norm, "Near", near);
  json_object_set_array_member (norm, "Tags", g_steal_pointer (&tags));
  json_object_set_object_member (norm, "NodeMeta", g_steal_pointer (&node_meta));
  json_object_set_object_member (norm, "ServiceMeta", g_steal_pointer (&service_meta));
  json_object_set_boolean_member (cnorm, "Enabled", FALSE);
  json_object_set_object_member (norm, "Connect", g_steal_pointer (&cnorm));
  return TRUE;

fail:
  g_clear_pointer (&tags, json_array_unref);
  g_clear_pointer (&dcs, json_array_unref);
  g_clear_pointer (&ignore, json_array_unref);
  g_clear_pointer (&node_meta, json_object_unref);
  g_clear_pointer (&service_meta, json_object_unref);
  g_clear_pointer (&cnorm, json_object_unref);
  return FALSE;
}

static gboolean
parse_dns (JsonObject *body, JsonObject *out, GError **error)
{
  JsonObject *d = sub_object (body, "DNS", error);
  JsonObject *norm = json_object_new ();
  const char *ttl = "";
  guint64 ms = 0;

  json_object_set_object_member (out, "DNS", norm);
  if (d == NULL && error != NULL && *error != NULL)
    return FALSE;
  if (d != NULL && !get_string (d, "TTL", &ttl, error))
    return FALSE;
  if (*ttl != '\0')
    {
      g_autoptr(GError) local = NULL;
      if (!berth_parse_duration (ttl, &ms, &local))
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Bad DNS TTL “%s”: %s"), ttl,
                       local->message);
          return FALSE;
        }
    }
  json_object_set_string_member (norm, "TTL", ttl);
  return TRUE;
}

JsonObject *
prepared_parse (JsonObject *body, GError **error)
{
  g_autoptr(JsonObject) out = json_object_new ();
  const char *name = "", *session = "", *token = "";
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (body != NULL, NULL);

  if (!get_string (body, "Name", &name, error) || !get_string (body, "Session", &session, error) ||
      !get_string (body, "Token", &token, error))
    return NULL;
  if (strlen (name) > MAX_NAME)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Query name is longer than %d bytes"), MAX_NAME);
      return NULL;
    }
  if (g_uuid_string_is_valid (name))
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Query name cannot be a UUID"));
      return NULL;
    }
  json_object_set_string_member (out, "Name", name);
  json_object_set_string_member (out, "Session", session);
  json_object_set_string_member (out, "Token", token);
  /* the parts tell "absent" from "wrong" by the error set: always one */
  if (!parse_template (body, out, &local) || !parse_service (body, out, &local) || !parse_dns (body, out, &local))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return g_steal_pointer (&out);
}

/* ---- the store ---------------------------------------------------------- */

static gpointer
query_from_row (sqlite3_stmt *stmt)
{
  PreparedQuery *q = g_new0 (PreparedQuery, 1);
  g_autoptr(JsonNode) def = berth_json_parse ((const char *) sqlite3_column_text (stmt, 3), -1, NULL);

  q->id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  q->name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  q->is_template = sqlite3_column_int (stmt, 2) != 0;
  q->def = def != NULL && JSON_NODE_HOLDS_OBJECT (def) ? json_object_ref (json_node_get_object (def))
                                                        : json_object_new ();
  q->create_index = (guint64) sqlite3_column_int64 (stmt, 4);
  q->modify_index = (guint64) sqlite3_column_int64 (stmt, 5);
  return q;
}

#define COLUMNS "id, name, template, definition, create_index, modify_index"
/* A query bound to a session goes with it: the rows of sessions that
 * ended are neither read (LIVE) nor kept past the next write (purge()). */
#define LIVE "(json_extract (definition, '$.Session') = ''" \
             " OR json_extract (definition, '$.Session') IN (SELECT id FROM sessions))"

GPtrArray *
prepared_list (BerthStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (BERTH_IS_STORE (store), NULL);
  stmt = berth_store_prepare (store, "SELECT " COLUMNS " FROM prepared_queries WHERE " LIVE
                              " ORDER BY create_index", error);
  if (stmt == NULL)
    return NULL;
  return berth_store_collect (store, stmt, query_from_row, (GDestroyNotify) prepared_query_free, error);
}

PreparedQuery *
prepared_get (BerthStore *store, const char *id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GError) local = NULL;
  PreparedQuery *q;

  g_return_val_if_fail (BERTH_IS_STORE (store), NULL);
  stmt = berth_store_prepare (store, "SELECT " COLUMNS " FROM prepared_queries WHERE id = ?1 AND " LIVE, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  q = berth_store_get_one (store, stmt, query_from_row, "query", &local);
  if (q == NULL && g_error_matches (local, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
    g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Query not found"));
  else if (q == NULL)
    g_propagate_error (error, g_steal_pointer (&local));
  return q;
}

guint64
prepared_index (BerthStore *store)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, "SELECT modify_index FROM prepared_queries_index",
                                                      NULL);
  gboolean have_row = FALSE;

  if (stmt == NULL || !berth_store_step (store, stmt, &have_row, NULL) || !have_row)
    return 1;
  return MAX ((guint64) sqlite3_column_int64 (stmt, 0), 1);
}

/* ---- templates ---------------------------------------------------------- */

typedef struct {
  const char *full;
  const char *prefix;
  const char *suffix;
  GMatchInfo *match;   /* of the Regexp, or NULL */
} Vars;

static char *
render_text (const char *text, const Vars *vars)
{
  GString *out = g_string_new (NULL);
  const char *p = text;

  while (*p != '\0')
    {
      const char *start = strstr (p, "${");
      const char *end;
      g_autofree char *var = NULL;

      if (start == NULL || (end = strchr (start, '}')) == NULL)
        {
          g_string_append (out, p);
          break;
        }
      g_string_append_len (out, p, start - p);
      var = g_strstrip (g_strndup (start + 2, end - start - 2));
      if (g_str_equal (var, "name.full"))
        g_string_append (out, vars->full);
      else if (g_str_equal (var, "name.prefix"))
        g_string_append (out, vars->prefix);
      else if (g_str_equal (var, "name.suffix"))
        g_string_append (out, vars->suffix);
      else if (g_str_equal (var, "agent.segment"))
        ;
      else if (g_str_has_prefix (var, "match(") && g_str_has_suffix (var, ")"))
        {
          gint64 n = g_ascii_strtoll (var + 6, NULL, 10);
          g_autofree char *group = vars->match != NULL && g_match_info_matches (vars->match)
                                   ? g_match_info_fetch (vars->match, (gint) n) : NULL;
          g_string_append (out, group != NULL ? group : "");
        }
      else
        g_string_append_len (out, start, end - start + 1);   /* not ours: kept */
      p = end + 1;
    }
  return g_string_free (out, FALSE);
}

static JsonArray *
render_strings (JsonArray *in, const Vars *vars, gboolean drop_empty)
{
  JsonArray *out = json_array_new ();

  for (guint i = 0; in != NULL && i < json_array_get_length (in); i++)
    {
      g_autofree char *text = render_text (json_array_get_string_element (in, i), vars);
      if (!drop_empty || *text != '\0')
        json_array_add_string_element (out, text);
    }
  return out;
}

static void
render_map (JsonObject *o, const Vars *vars)
{
  g_autoptr(GList) members = o != NULL ? json_object_get_members (o) : NULL;

  for (GList *l = members; l != NULL; l = l->next)
    {
      g_autofree char *text = render_text (json_object_get_string_member (o, l->data), vars);
      json_object_set_string_member (o, l->data, text);
    }
}

/* @q's Service, rendered for @name (a copy of the definition). */
static void
render (PreparedQuery *q, const char *name)
{
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) copy = NULL;
  g_autoptr(GRegex) re = NULL;
  g_autoptr(GMatchInfo) match = NULL;
  JsonObject *template = discovery_json_object (q->def, "Template");
  JsonObject *service, *failover;
  const char *regexp = template != NULL ? discovery_json_text (template, "Regexp", "") : "";
  gboolean drop_empty = template != NULL && json_object_get_boolean_member_with_default (template, "RemoveEmptyTags",
                                                                                        FALSE);
  Vars vars = { name, q->name, NULL, NULL };
  g_autofree char *service_name = NULL;

  {
    g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (node, q->def);
    copy = json_node_copy (node);
  }
  json_object_unref (q->def);
  q->def = json_object_ref (json_node_get_object (copy));
  vars.suffix = strlen (name) >= strlen (q->name) ? name + strlen (q->name) : "";
  if (*regexp != '\0' && (re = g_regex_new (regexp, G_REGEX_DEFAULT, G_REGEX_MATCH_DEFAULT, NULL)) != NULL)
    {
      g_regex_match (re, name, G_REGEX_MATCH_DEFAULT, &match);
      vars.match = match;
    }
  service = discovery_json_object (q->def, "Service");
  if (service == NULL)
    return;
  service_name = render_text (discovery_json_text (service, "Service", ""), &vars);
  json_object_set_string_member (service, "Service", service_name);
  text = render_text (discovery_json_text (service, "Near", ""), &vars);
  json_object_set_string_member (service, "Near", text);
  if (json_object_has_member (service, "Tags"))
    json_object_set_array_member (service, "Tags",
                                  render_strings (json_object_get_array_member (service, "Tags"), &vars, drop_empty));
  failover = discovery_json_object (service, "Failover");
  if (failover != NULL && json_object_has_member (failover, "Datacenters"))
    json_object_set_array_member (failover, "Datacenters",
                                  render_strings (json_object_get_array_member (failover, "Datacenters"), &vars,
                                                  TRUE));
  render_map (discovery_json_object (service, "NodeMeta"), &vars);
  render_map (discovery_json_object (service, "ServiceMeta"), &vars);
}

PreparedQuery *
prepared_resolve (BerthStore *store, const char *id_or_name, GError **error)
{
  g_autoptr(GPtrArray) all = NULL;
  PreparedQuery *found;
  gboolean have = FALSE, by_name = FALSE;
  guint at = 0;
  gsize best = 0;

  g_return_val_if_fail (BERTH_IS_STORE (store), NULL);
  g_return_val_if_fail (id_or_name != NULL, NULL);

  if (g_uuid_string_is_valid (id_or_name))
    {
      PreparedQuery *q = prepared_get (store, id_or_name, error);
      if (q != NULL && q->is_template)
        render (q, q->name);
      return q;
    }
  if ((all = prepared_list (store, error)) == NULL)
    return NULL;
  /* a name first, then the template with the longest prefix */
  for (guint i = 0; i < all->len && !by_name; i++)
    {
      PreparedQuery *q = g_ptr_array_index (all, i);
      if (*q->name != '\0' && g_ascii_strcasecmp (q->name, id_or_name) == 0)
        {
          at = i;
          have = by_name = TRUE;
        }
    }
  for (guint i = 0; i < all->len && !by_name; i++)
    {
      PreparedQuery *q = g_ptr_array_index (all, i);
      gsize len = strlen (q->name);

      if (q->is_template && g_ascii_strncasecmp (q->name, id_or_name, len) == 0 &&
          (!have || len > best))
        {
          at = i;
          best = len;
          have = TRUE;
        }
    }
  if (!have)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Query not found"));
      return NULL;
    }
  found = g_ptr_array_steal_index (all, at);
  if (found->is_template)
    render (found, id_or_name);
  return found;
}

/* ---- JSON --------------------------------------------------------------- */

JsonNode *
prepared_to_json (PreparedQuery *q, gboolean show_token)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();
  g_autoptr(GList) members = json_object_get_members (q->def);

  json_object_set_string_member (o, "ID", q->id);
  for (GList *l = members; l != NULL; l = l->next)
    json_object_set_member (o, l->data, json_node_copy (json_object_get_member (q->def, l->data)));
  if (!show_token && *discovery_json_text (q->def, "Token", "") != '\0')
    json_object_set_string_member (o, "Token", "<hidden>");
  json_object_set_int_member (o, "CreateIndex", (gint64) q->create_index);
  json_object_set_int_member (o, "ModifyIndex", (gint64) q->modify_index);
  json_node_take_object (node, o);
  return node;
}

/* ---- writes ------------------------------------------------------------- */

static gboolean
bump_index (BerthTxn *txn, const char *id, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store,
                                                      "INSERT INTO prepared_queries_index (id, modify_index)"
                                                      " VALUES (0, ?1) ON CONFLICT (id) DO UPDATE"
                                                      " SET modify_index = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) berth_txn_get_index (txn));
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  berth_txn_changed (txn, "query", id);
  return TRUE;
}

/* Names are unique (case-insensitive), and so is the template of no name. */
static gboolean
check_name (BerthStore *store, PreparedQuery *q, GError **error)
{
  g_autoptr(GPtrArray) all = prepared_list (store, error);

  if (all == NULL)
    return FALSE;
  for (guint i = 0; i < all->len; i++)
    {
      PreparedQuery *other = g_ptr_array_index (all, i);
      if (g_str_equal (other->id, q->id))
        continue;
      if (*q->name != '\0' && g_ascii_strcasecmp (other->name, q->name) == 0)
        return invalid (error, _("Name “%s” aliases an existing query name"), q->name);
      if (*q->name == '\0' && *other->name == '\0' && q->is_template && other->is_template)
        return invalid (error, "%s", _("A query template with an empty name already exists"));
    }
  return TRUE;
}

static gboolean
purge (BerthStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, "DELETE FROM prepared_queries WHERE NOT " LIVE,
                                                      error);

  return stmt != NULL && berth_store_step (store, stmt, NULL, error);
}

/* The session a query names must exist when it is written. */
static gboolean
check_session (BerthStore *store, PreparedQuery *q, GError **error)
{
  const char *session = discovery_json_text (q->def, "Session", "");
  g_autoptr(Session) found = NULL;
  g_autoptr(GError) local = NULL;

  if (*session == '\0')
    return TRUE;
  found = discovery_session_get (store, session, &local);
  if (found != NULL)
    return TRUE;
  if (!g_error_matches (local, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return invalid (error, _("Invalid session “%s”"), session);
}

static gboolean
write_row (BerthTxn *txn, PreparedQuery *q, gboolean create, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) def = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;

  if (!purge (store, error) || !check_session (store, q, error) || !check_name (store, q, error))
    return FALSE;
  json_node_set_object (def, q->def);
  text = json_to_string (def, FALSE);
  stmt = berth_store_prepare (store, create
                              ? "INSERT INTO prepared_queries (id, name, template, definition, create_index,"
                                " modify_index) VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
                              : "UPDATE prepared_queries SET name = ?2, template = ?3, definition = ?4,"
                                " modify_index = ?5 WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, q->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, q->name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 3, q->is_template ? 1 : 0);
  sqlite3_bind_text (stmt, 4, text, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, (sqlite3_int64) berth_txn_get_index (txn));
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  if (sqlite3_changes (berth_store_get_db (store)) == 0)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Query not found"));
      return FALSE;
    }
  return bump_index (txn, q->id, error);
}

gboolean
prepared_write_create (BerthTxn *txn, gpointer query, GError **error)
{
  return write_row (txn, query, TRUE, error);
}

gboolean
prepared_write_update (BerthTxn *txn, gpointer query, GError **error)
{
  return write_row (txn, query, FALSE, error);
}

gboolean
prepared_write_delete (BerthTxn *txn, gpointer query, GError **error)
{
  PreparedQuery *q = query;
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, "DELETE FROM prepared_queries WHERE id = ?1", error);

  if (stmt == NULL || !purge (store, error))
    return FALSE;
  sqlite3_bind_text (stmt, 1, q->id, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  if (sqlite3_changes (berth_store_get_db (store)) == 0)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Query not found"));
      return FALSE;
    }
  return bump_index (txn, q->id, error);
}
