/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "discovery-catalog.h"
#include "discovery-kv.h"
#include "discovery-session.h"
#include <berth-store-raw.h>

/* Sessions in the store, and their lifecycle: a TTL timer per session
 * (started again from the store when berthd starts), and a watch on the
 * catalog's checks and nodes that invalidates the sessions whose checks
 * turned critical or went away. Invalidation is one store write
 * (discovery_session_write_destroy()): the session's locks are released
 * or its keys deleted, with the lock delay, and the row is gone. */

#define DEFAULT_NODE_CHECK "serfHealth"

void
session_free (Session *s)
{
  if (s == NULL)
    return;
  g_free (s->id);
  g_free (s->name);
  g_free (s->node);
  g_free (s->behavior);
  g_free (s->ttl);
  g_free (s->node_checks_json);
  g_free (s->service_checks_json);
  g_free (s);
}

guint64
discovery_session_ttl_ms (const Session *s)
{
  guint64 ms = 0;

  if (s->ttl == NULL || *s->ttl == '\0' || !berth_parse_duration (s->ttl, &ms, NULL))
    return 0;
  return ms;
}

static char *
col_text (sqlite3_stmt *stmt, int col)
{
  const char *text = (const char *) sqlite3_column_text (stmt, col);
  return g_strdup (text != NULL ? text : "");
}

#define SESSION_COLUMNS "id, name, node, lock_delay_ns, behavior, ttl, node_checks, service_checks," \
                        " create_index, modify_index"

static Session *
session_from_row (sqlite3_stmt *stmt)
{
  Session *s = g_new0 (Session, 1);

  s->id = col_text (stmt, 0);
  s->name = col_text (stmt, 1);
  s->node = col_text (stmt, 2);
  s->lock_delay_ns = (guint64) sqlite3_column_int64 (stmt, 3);
  s->behavior = col_text (stmt, 4);
  s->ttl = col_text (stmt, 5);
  s->node_checks_json = col_text (stmt, 6);
  s->service_checks_json = col_text (stmt, 7);
  s->create_index = (guint64) sqlite3_column_int64 (stmt, 8);
  s->modify_index = (guint64) sqlite3_column_int64 (stmt, 9);
  return s;
}

Session *
discovery_session_get (BerthStore *store, const char *id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store, "SELECT " SESSION_COLUMNS " FROM sessions WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  return berth_store_get_one (store, stmt, (BerthRowFunc) session_from_row, "session", error);
}

GPtrArray *
discovery_session_list (BerthStore *store, const char *node, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "SELECT " SESSION_COLUMNS " FROM sessions "
                              "WHERE ?1 IS NULL OR node = ?1 ORDER BY create_index, id",
                              error);
  if (stmt == NULL)
    return NULL;
  if (node != NULL)
    sqlite3_bind_text (stmt, 1, node, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, 1);
  return berth_store_collect (store, stmt, (BerthRowFunc) session_from_row,
                              (GDestroyNotify) session_free, error);
}

static gpointer
index_from_row (sqlite3_stmt *stmt)
{
  guint64 *index = g_new (guint64, 1);

  *index = (guint64) sqlite3_column_int64 (stmt, 0);
  return index;
}

/* The index of the newest session change; the store's index when no
 * session was ever made, so that a blocking query waits for the next. */
guint64
discovery_session_index (BerthStore *store)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree guint64 *index = NULL;

  stmt = berth_store_prepare (store, "SELECT modify_index FROM sessions_index WHERE id = 0", NULL);
  if (stmt != NULL)
    index = berth_store_get_one (store, stmt, index_from_row, "index", NULL);
  return index != NULL && *index > 0 ? *index : berth_store_get_index (store);
}

/* The check ids of a JSON array of strings, or of objects with an "ID". */
static GPtrArray *
check_ids (const char *json)
{
  g_autoptr(JsonNode) root = json != NULL ? catalog_json_parse (json) : NULL;
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  JsonArray *array;

  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    return ids;
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (item) && json_node_get_value_type (item) == G_TYPE_STRING)
        g_ptr_array_add (ids, g_strdup (json_node_get_string (item)));
      else if (JSON_NODE_HOLDS_OBJECT (item) &&
               json_object_has_member (json_node_get_object (item), "ID"))
        g_ptr_array_add (ids, g_strdup (json_object_get_string_member (json_node_get_object (item), "ID")));
    }
  return ids;
}

/* A JSON array as the member @name; Go's nil slice (null) when empty. */
static void
add_array (JsonBuilder *b, const char *name, const char *json)
{
  g_autoptr(JsonNode) root = json != NULL ? catalog_json_parse (json) : NULL;

  json_builder_set_member_name (b, name);
  if (root != NULL && JSON_NODE_HOLDS_ARRAY (root) && json_array_get_length (json_node_get_array (root)) > 0)
    json_builder_add_value (b, g_steal_pointer (&root));
  else
    json_builder_add_null_value (b);
}

JsonNode *
discovery_session_to_json (const Session *s)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GPtrArray) node_ids = check_ids (s->node_checks_json);
  g_autoptr(GPtrArray) service_ids = check_ids (s->service_checks_json);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ID");
  json_builder_add_string_value (b, s->id);
  json_builder_set_member_name (b, "Name");
  json_builder_add_string_value (b, s->name);
  json_builder_set_member_name (b, "Node");
  json_builder_add_string_value (b, s->node);
  json_builder_set_member_name (b, "LockDelay");
  json_builder_add_int_value (b, (gint64) s->lock_delay_ns);
  json_builder_set_member_name (b, "Behavior");
  json_builder_add_string_value (b, s->behavior);
  json_builder_set_member_name (b, "TTL");
  json_builder_add_string_value (b, s->ttl);
  /* the checks of Consul before 1.7: every check id, node's and services' */
  json_builder_set_member_name (b, "Checks");
  if (node_ids->len + service_ids->len == 0)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_array (b);
      for (guint i = 0; i < node_ids->len; i++)
        json_builder_add_string_value (b, g_ptr_array_index (node_ids, i));
      for (guint i = 0; i < service_ids->len; i++)
        json_builder_add_string_value (b, g_ptr_array_index (service_ids, i));
      json_builder_end_array (b);
    }
  add_array (b, "NodeChecks", s->node_checks_json);
  add_array (b, "ServiceChecks", s->service_checks_json);
  json_builder_set_member_name (b, "CreateIndex");
  json_builder_add_int_value (b, (gint64) s->create_index);
  json_builder_set_member_name (b, "ModifyIndex");
  json_builder_add_int_value (b, (gint64) s->modify_index);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
bump_index (BerthTxn *txn, const char *id, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "INSERT INTO sessions_index (id, modify_index) VALUES (0, ?1) "
                              "ON CONFLICT (id) DO UPDATE SET modify_index = ?1",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) berth_txn_get_index (txn));
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  berth_txn_changed (txn, "session", id);
  return TRUE;
}

/* Why a session may not (or no longer) rely on check @id of @node: it is
 * not registered, or critical. NULL: it is fine. */
static char *
check_problem (BerthStore *store, const char *node, const char *id)
{
  g_autoptr(CatalogCheck) check = catalog_get_check (store, node, id, NULL);

  if (check == NULL)
    return g_strdup_printf (_("Missing check “%s” registration"), id);
  if (g_strcmp0 (check->status, CHECK_CRITICAL) == 0)
    return g_strdup_printf (_("Check “%s” is in critical state"), id);
  return NULL;
}

/* Why @s is no longer valid (its node or one of its checks), or NULL. */
static char *
session_problem (BerthStore *store, const Session *s)
{
  g_autoptr(CatalogNode) node = catalog_get_node (store, s->node, NULL);
  g_autoptr(GPtrArray) node_ids = NULL;
  g_autoptr(GPtrArray) service_ids = NULL;

  if (node == NULL)
    return g_strdup_printf (_("Missing node “%s” registration"), s->node);
  node_ids = check_ids (s->node_checks_json);
  service_ids = check_ids (s->service_checks_json);
  for (guint i = 0; i < node_ids->len + service_ids->len; i++)
    {
      const char *id = i < node_ids->len ? g_ptr_array_index (node_ids, i)
                                         : g_ptr_array_index (service_ids, i - node_ids->len);
      char *problem = check_problem (store, s->node, id);

      if (problem != NULL)
        return problem;
    }
  return NULL;
}

gboolean
discovery_session_write_create (BerthTxn *txn, gpointer data, GError **error)
{
  Session *s = data;
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *problem = NULL;
  guint64 index = berth_txn_get_index (txn);

  /* no checks named: the node's serfHealth, as Consul, when it has one */
  if (s->node_checks_json == NULL)
    {
      g_autoptr(CatalogCheck) check = catalog_get_check (store, s->node, DEFAULT_NODE_CHECK, NULL);
      s->node_checks_json = g_strdup (check != NULL ? "[\"" DEFAULT_NODE_CHECK "\"]" : "[]");
    }
  if (s->service_checks_json == NULL)
    s->service_checks_json = g_strdup ("[]");
  problem = session_problem (store, s);
  if (problem != NULL)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, problem);
      return FALSE;
    }
  stmt = berth_store_prepare (store,
                              "INSERT INTO sessions (" SESSION_COLUMNS ") "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, s->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, s->name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, s->node, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 4, (sqlite3_int64) s->lock_delay_ns);
  sqlite3_bind_text (stmt, 5, s->behavior, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, s->ttl, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 7, s->node_checks_json, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 8, s->service_checks_json, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 9, (sqlite3_int64) index);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  s->create_index = s->modify_index = index;
  return bump_index (txn, s->id, error);
}

gboolean
discovery_session_write_destroy (BerthTxn *txn, gpointer data, GError **error)
{
  const char *id = data;
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(Session) s = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GError) local_error = NULL;

  s = discovery_session_get (store, id, &local_error);
  if (s == NULL)
    {
      if (g_error_matches (local_error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
        return TRUE;   /* already gone: nothing changes */
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (!discovery_kv_release_session (txn, id, g_strcmp0 (s->behavior, "delete") == 0,
                                     s->lock_delay_ns, error))
    return FALSE;
  stmt = berth_store_prepare (store, "DELETE FROM sessions WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  return bump_index (txn, id, error);
}

/* ---- the lifecycle: TTL timers and the check watch -------------------- */

struct _DiscoverySessions {
  BerthContext *context;
  BerthStore   *store;
  GHashTable   *timers;    /* id -> SessionTimer */
  GHashTable   *dirty;     /* session ids changed since the last sync */
  gboolean      rescan;    /* a check or node changed */
  gulong        changed_id;
  guint         sync_id;
};

typedef struct {
  DiscoverySessions *self;
  char              *id;
  guint              source;
} SessionTimer;

static void
timer_free (SessionTimer *t)
{
  g_clear_handle_id (&t->source, g_source_remove);
  g_free (t->id);
  g_free (t);
}

static void
invalidate_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 && error != NULL)
    g_warning ("sessions: invalidating a session failed: %s", error->message);
}

static void
invalidate (DiscoverySessions *self, const char *id, const char *why)
{
  g_info ("sessions: %s is invalidated: %s", id, why);
  berth_store_write_async (self->store, discovery_session_write_destroy, g_strdup (id), g_free,
                           NULL, invalidate_done_cb, NULL);
}

static gboolean
expire_cb (gpointer user_data)
{
  SessionTimer *t = user_data;
  DiscoverySessions *self = t->self;
  g_autofree char *id = g_strdup (t->id);

  t->source = 0;
  g_hash_table_remove (self->timers, id);
  invalidate (self, id, _("its TTL ran out"));
  return G_SOURCE_REMOVE;
}

/* (Re)starts the timer of @s: Consul invalidates a session that was not
 * renewed within twice its TTL. */
static void
arm (DiscoverySessions *self, const Session *s)
{
  guint64 ms = discovery_session_ttl_ms (s);
  SessionTimer *t;

  if (ms == 0)
    return;
  t = g_new0 (SessionTimer, 1);
  t->self = self;
  t->id = g_strdup (s->id);
  t->source = g_timeout_add ((guint) MIN (ms * 2, G_MAXUINT), expire_cb, t);
  g_hash_table_replace (self->timers, t->id, t);
}

void
discovery_sessions_renew (DiscoverySessions *self, const Session *s)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (s != NULL);
  arm (self, s);
}

static void
sync_session (DiscoverySessions *self, const char *id)
{
  g_autoptr(Session) s = discovery_session_get (self->store, id, NULL);

  if (s == NULL)
    g_hash_table_remove (self->timers, id);
  else if (!g_hash_table_contains (self->timers, id))
    arm (self, s);
}

static void
scan (DiscoverySessions *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) sessions = discovery_session_list (self->store, NULL, &error);

  if (sessions == NULL)
    {
      g_warning ("sessions: %s", error->message);
      return;
    }
  for (guint i = 0; i < sessions->len; i++)
    {
      Session *s = g_ptr_array_index (sessions, i);
      g_autofree char *problem = session_problem (self->store, s);

      if (problem != NULL)
        invalidate (self, s->id, problem);
    }
}

static gboolean
sync_cb (gpointer user_data)
{
  DiscoverySessions *self = user_data;
  g_autoptr(GHashTable) dirty = g_steal_pointer (&self->dirty);
  GHashTableIter iter;
  gpointer key;

  self->sync_id = 0;
  self->dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_iter_init (&iter, dirty);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    sync_session (self, key);
  if (self->rescan)
    {
      self->rescan = FALSE;
      scan (self);
    }
  return G_SOURCE_REMOVE;
}

static void
changed_cb (BerthStore *store, guint64 index, const char *topic, const char *key, gpointer user_data)
{
  DiscoverySessions *self = user_data;

  if (g_strcmp0 (topic, "session") == 0 && key != NULL)
    g_hash_table_add (self->dirty, g_strdup (key));
  else if (g_strcmp0 (topic, "check") == 0 || g_strcmp0 (topic, "node") == 0)
    self->rescan = TRUE;
  else
    return;
  if (self->sync_id == 0)
    self->sync_id = g_idle_add (sync_cb, self);
}

DiscoverySessions *
discovery_sessions_new (BerthContext *context)
{
  DiscoverySessions *self = g_new0 (DiscoverySessions, 1);
  g_autoptr(GPtrArray) sessions = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (BERTH_IS_CONTEXT (context), NULL);

  self->context = context;
  self->store = g_object_ref (berth_context_get_store (context));
  self->timers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) timer_free);
  self->dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->changed_id = g_signal_connect (self->store, "changed", G_CALLBACK (changed_cb), self);
  /* after a restart every TTL starts again, and the checks are looked at */
  sessions = discovery_session_list (self->store, NULL, &error);
  if (sessions == NULL)
    g_warning ("sessions: %s", error->message);
  for (guint i = 0; sessions != NULL && i < sessions->len; i++)
    arm (self, g_ptr_array_index (sessions, i));
  self->rescan = TRUE;
  self->sync_id = g_idle_add (sync_cb, self);
  return self;
}

void
discovery_sessions_free (DiscoverySessions *self)
{
  if (self == NULL)
    return;
  g_clear_signal_handler (&self->changed_id, self->store);
  g_clear_handle_id (&self->sync_id, g_source_remove);
  g_hash_table_unref (self->timers);
  g_hash_table_unref (self->dirty);
  g_clear_object (&self->store);
  g_free (self);
}
