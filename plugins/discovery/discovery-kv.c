/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "discovery-kv.h"
#include <berth-store-raw.h>

/* The KV store's tables and operations. Keys are stored as BLOBs so that
 * any byte but NUL is allowed and prefix scans are plain range scans.
 * Deleted keys leave a tombstone with the index of the delete, so that a
 * blocking query on a prefix wakes and answers with a newer index when a
 * key under it disappears. */

#define TOMBSTONE_TTL_SECONDS 3600

static const struct {
  const char *name;
  KvVerb      verb;
} verbs[] = {
  { "set", KV_VERB_SET },
  { "cas", KV_VERB_CAS },
  { "get", KV_VERB_GET },
  { "get-tree", KV_VERB_GET_TREE },
  { "check-index", KV_VERB_CHECK_INDEX },
  { "check-not-exists", KV_VERB_CHECK_NOT_EXISTS },
  { "delete", KV_VERB_DELETE },
  { "delete-cas", KV_VERB_DELETE_CAS },
  { "delete-tree", KV_VERB_DELETE_TREE },
  { "lock", KV_VERB_LOCK },
  { "unlock", KV_VERB_UNLOCK },
  { "check-session", KV_VERB_CHECK_SESSION },
};

gboolean
discovery_kv_verb_from_string (const char *name, KvVerb *verb)
{
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (g_strcmp0 (name, verbs[i].name) == 0)
      {
        *verb = verbs[i].verb;
        return TRUE;
      }
  return FALSE;
}

void
kv_op_clear (KvOp *op)
{
  g_clear_pointer (&op->key, g_free);
  g_clear_pointer (&op->value, g_bytes_unref);
  g_clear_pointer (&op->session, g_free);
}

/* Binds [prefix, upper) to parameters @lo and @lo + 1; an empty prefix or
 * one of only 0xff bytes has no upper bound (bound as NULL, and the queries
 * treat NULL as "no bound"). */
static void
bind_range (sqlite3_stmt *stmt, int lo, const char *prefix)
{
  gsize len = strlen (prefix);
  g_autofree guchar *upper = (guchar *) g_strndup (prefix, len);
  gssize n = (gssize) len;

  sqlite3_bind_blob (stmt, lo, prefix, (int) len, SQLITE_TRANSIENT);
  while (n > 0 && upper[n - 1] == 0xff)
    n--;
  if (n == 0)
    sqlite3_bind_null (stmt, lo + 1);
  else
    {
      upper[n - 1]++;
      sqlite3_bind_blob (stmt, lo + 1, upper, (int) n, SQLITE_TRANSIENT);
    }
}

static char *
column_key (sqlite3_stmt *stmt, int col)
{
  return g_strndup (sqlite3_column_blob (stmt, col), (gsize) sqlite3_column_bytes (stmt, col));
}

#define ENTRY_COLUMNS "key, value, flags, create_index, modify_index, lock_index, session"

static BerthKvEntry *
entry_from_row (sqlite3_stmt *stmt)
{
  g_autofree char *key = column_key (stmt, 0);
  g_autoptr(GBytes) value = NULL;
  BerthKvEntry *entry;

  if (sqlite3_column_type (stmt, 1) != SQLITE_NULL)
    value = g_bytes_new (sqlite3_column_blob (stmt, 1), (gsize) sqlite3_column_bytes (stmt, 1));
  entry = berth_kv_entry_new (key, value);
  berth_kv_entry_set_flags (entry, (guint64) sqlite3_column_int64 (stmt, 2));
  berth_kv_entry_set_indexes (entry, (guint64) sqlite3_column_int64 (stmt, 3),
                              (guint64) sqlite3_column_int64 (stmt, 4),
                              (guint64) sqlite3_column_int64 (stmt, 5));
  if (sqlite3_column_type (stmt, 6) != SQLITE_NULL)
    berth_kv_entry_set_session (entry, (const char *) sqlite3_column_text (stmt, 6));
  return entry;
}

BerthKvEntry *
discovery_kv_get (BerthStore *store, const char *key, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GError) local_error = NULL;
  BerthKvEntry *entry;

  stmt = berth_store_prepare (store, "SELECT " ENTRY_COLUMNS " FROM kv WHERE key = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_blob (stmt, 1, key, (int) strlen (key), SQLITE_TRANSIENT);
  entry = berth_store_get_one (store, stmt, (BerthRowFunc) entry_from_row, "key", &local_error);
  /* the message transactions report names the key, as it always did */
  if (g_error_matches (local_error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Key “%s” not found"), key);
  else if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return entry;
}

GPtrArray *
discovery_kv_list (BerthStore *store, const char *prefix, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "SELECT " ENTRY_COLUMNS " FROM kv "
                              "WHERE key >= ?1 AND (?2 IS NULL OR key < ?2) ORDER BY key",
                              error);
  if (stmt == NULL)
    return NULL;
  bind_range (stmt, 1, prefix);
  return berth_store_collect (store, stmt, (BerthRowFunc) entry_from_row, g_object_unref, error);
}

GPtrArray *
discovery_kv_keys (BerthStore *store, const char *prefix, const char *separator, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  gsize plen = strlen (prefix);
  gboolean have_row = TRUE;

  stmt = berth_store_prepare (store,
                              "SELECT key FROM kv WHERE key >= ?1 AND (?2 IS NULL OR key < ?2) "
                              "ORDER BY key",
                              error);
  if (stmt == NULL)
    return NULL;
  bind_range (stmt, 1, prefix);
  while (TRUE)
    {
      g_autofree char *key = NULL;
      const char *cut;

      if (!berth_store_step (store, stmt, &have_row, error))
        return NULL;
      if (!have_row)
        break;
      key = column_key (stmt, 0);
      /* with a separator, a key below the prefix is folded into its first
       * "folder", listed once */
      if (separator != NULL && *separator != '\0' &&
          (cut = strstr (key + plen, separator)) != NULL)
        key[cut - key + strlen (separator)] = '\0';
      if (keys->len > 0 && strcmp (g_ptr_array_index (keys, keys->len - 1), key) == 0)
        continue;
      g_ptr_array_add (keys, g_steal_pointer (&key));
    }
  return g_steal_pointer (&keys);
}

static gpointer
index_from_row (sqlite3_stmt *stmt)
{
  guint64 *index = g_new (guint64, 1);

  *index = (guint64) sqlite3_column_int64 (stmt, 0);
  return index;
}

/* The index of what a query on @prefix (or on the key, when @exact) reads:
 * the newest write or delete under it. Nothing ever there: the store's
 * index, so that a blocking query waits for the next change. */
guint64
discovery_kv_index (BerthStore *store, const char *prefix, gboolean exact, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree guint64 *index = NULL;

  if (exact)
    stmt = berth_store_prepare (store,
                                "SELECT MAX(COALESCE((SELECT modify_index FROM kv WHERE key = ?1), 0),"
                                "           COALESCE((SELECT delete_index FROM kv_tombstones WHERE key = ?1), 0))",
                                error);
  else
    stmt = berth_store_prepare (store,
                                "SELECT MAX(COALESCE((SELECT MAX(modify_index) FROM kv"
                                "                     WHERE key >= ?1 AND (?2 IS NULL OR key < ?2)), 0),"
                                "           COALESCE((SELECT MAX(delete_index) FROM kv_tombstones"
                                "                     WHERE key >= ?1 AND (?2 IS NULL OR key < ?2)), 0))",
                                error);
  if (stmt == NULL)
    return 0;
  if (exact)
    sqlite3_bind_blob (stmt, 1, prefix, (int) strlen (prefix), SQLITE_TRANSIENT);
  else
    bind_range (stmt, 1, prefix);
  /* one row, always (an aggregate) */
  index = berth_store_get_one (store, stmt, index_from_row, "index", &local_error);
  if (index == NULL && !g_error_matches (local_error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return 0;
    }
  return index != NULL && *index > 0 ? *index : berth_store_get_index (store);
}

static gboolean
exec_key (BerthStore *store, const char *sql, const char *key, gint64 index, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, key, (int) strlen (key), SQLITE_TRANSIENT);
  if (index >= 0)
    sqlite3_bind_int64 (stmt, 2, index);
  if (sqlite3_bind_parameter_count (stmt) >= 3)
    sqlite3_bind_int64 (stmt, 3, g_get_real_time () / G_USEC_PER_SEC);
  return berth_store_step (store, stmt, NULL, error);
}

/* ?1 key, ?2 value, ?3 flags, ?4 the write's index: the columns every
 * write of a key's value binds. */
static void
bind_row (sqlite3_stmt *stmt, BerthTxn *txn, const KvOp *op)
{
  gsize len = 0;
  const void *data = op->value != NULL ? g_bytes_get_data (op->value, &len) : NULL;

  sqlite3_bind_blob (stmt, 1, op->key, (int) strlen (op->key), SQLITE_TRANSIENT);
  if (data != NULL)
    sqlite3_bind_blob (stmt, 2, data, (int) len, SQLITE_TRANSIENT);
  else
    sqlite3_bind_zeroblob (stmt, 2, 0);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) op->flags);
  sqlite3_bind_int64 (stmt, 4, (sqlite3_int64) berth_txn_get_index (txn));
}

static gboolean
kv_set (BerthTxn *txn, const KvOp *op, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "INSERT INTO kv (key, value, flags, create_index, modify_index) "
                              "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (key) DO UPDATE "
                              "SET value = ?2, flags = ?3, modify_index = ?4",
                              error);
  if (stmt == NULL)
    return FALSE;
  bind_row (stmt, txn, op);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  sqlite3_reset (stmt);
  if (!exec_key (store, "DELETE FROM kv_tombstones WHERE key = ?1", op->key, -1, error))
    return FALSE;
  berth_txn_changed (txn, "kv", op->key);
  return TRUE;
}

static gboolean
kv_delete (BerthTxn *txn, const char *key, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);

  if (!exec_key (store, "DELETE FROM kv WHERE key = ?1", key, -1, error))
    return FALSE;
  if (sqlite3_changes (berth_store_get_db (store)) == 0)
    return TRUE;  /* nothing was there: no change, no index */
  if (!exec_key (store,
                 "INSERT INTO kv_tombstones (key, delete_index, deleted_at) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT (key) DO UPDATE SET delete_index = ?2, deleted_at = ?3",
                 key, (gint64) berth_txn_get_index (txn), error))
    return FALSE;
  berth_txn_changed (txn, "kv", key);
  return TRUE;
}

static gboolean
kv_delete_tree (BerthTxn *txn, const char *prefix, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int deleted;

  stmt = berth_store_prepare (store,
                              "INSERT INTO kv_tombstones (key, delete_index, deleted_at) "
                              "SELECT key, ?3, ?4 FROM kv WHERE key >= ?1 AND (?2 IS NULL OR key < ?2) "
                              "ON CONFLICT (key) DO UPDATE SET delete_index = ?3, deleted_at = ?4",
                              error);
  if (stmt == NULL)
    return FALSE;
  bind_range (stmt, 1, prefix);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) berth_txn_get_index (txn));
  sqlite3_bind_int64 (stmt, 4, g_get_real_time () / G_USEC_PER_SEC);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  sqlite3_reset (stmt);

  stmt = berth_store_prepare (store, "DELETE FROM kv WHERE key >= ?1 AND (?2 IS NULL OR key < ?2)",
                              error);
  if (stmt == NULL)
    return FALSE;
  bind_range (stmt, 1, prefix);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  deleted = sqlite3_changes (berth_store_get_db (store));
  if (deleted > 0)
    berth_txn_changed (txn, "kv", prefix);
  return TRUE;
}

static gboolean conflict (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
conflict (GError **error, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (BERTH_ERROR, BERTH_ERROR_CONFLICT, format, args));
  va_end (args);
  return FALSE;
}

/* Checks the precondition of a cas-like op against the current entry.
 * Index 0 means "must not exist". */
static gboolean
check_index (BerthStore *store, const KvOp *op, GError **error)
{
  g_autoptr(BerthKvEntry) entry = discovery_kv_get (store, op->key, NULL);

  if (op->index == 0)
    {
      if (entry != NULL)
        return conflict (error, _("Key “%s” exists (cas index %" G_GUINT64_FORMAT " requires it not to)"),
                         op->key, op->index);
      return TRUE;
    }
  if (entry == NULL)
    return conflict (error, _("Key “%s” does not exist (cas index %" G_GUINT64_FORMAT ")"),
                     op->key, op->index);
  if (berth_kv_entry_get_modify_index (entry) != op->index)
    return conflict (error, _("Key “%s” was modified: its index is not %" G_GUINT64_FORMAT),
                     op->key, op->index);
  return TRUE;
}

/* Consul's locks: a key held by a session (?acquire, the txn verb
 * "lock"). A holder re-acquiring updates the value; another session is
 * refused; each new holder bumps LockIndex. While a key's lock delay runs
 * (after its session was invalidated) nobody may acquire it. */
static gboolean
kv_lock_delayed (BerthStore *store, const char *key, gboolean *delayed, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store, "SELECT 1 FROM kv_lock_delays WHERE key = ?1 AND until_us > ?2",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, key, (int) strlen (key), SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, g_get_real_time ());
  return berth_store_step (store, stmt, delayed, error);
}

static gboolean
kv_write_lock (BerthTxn *txn, const KvOp *op, const char *session, guint64 lock_index,
               GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "INSERT INTO kv (key, value, flags, create_index, modify_index, lock_index, session) "
                              "VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6) ON CONFLICT (key) DO UPDATE "
                              "SET value = ?2, flags = ?3, modify_index = ?4, lock_index = ?5, session = ?6",
                              error);
  if (stmt == NULL)
    return FALSE;
  bind_row (stmt, txn, op);
  sqlite3_bind_int64 (stmt, 5, (sqlite3_int64) lock_index);
  if (session != NULL)
    sqlite3_bind_text (stmt, 6, session, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, 6);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  sqlite3_reset (stmt);
  if (!exec_key (store, "DELETE FROM kv_tombstones WHERE key = ?1", op->key, -1, error))
    return FALSE;
  berth_txn_changed (txn, "kv", op->key);
  return TRUE;
}

/* The session must exist (the sessions table of discovery-session.c). */
static gboolean
valid_session (BerthStore *store, const char *session, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean have_row = FALSE;

  if (session == NULL || *session == '\0')
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Missing session"));
      return FALSE;
    }
  stmt = berth_store_prepare (store, "SELECT 1 FROM sessions WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, session, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, &have_row, error))
    return FALSE;
  if (!have_row)
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Invalid session “%s”"), session);
  return have_row;
}

static gboolean
kv_lock (BerthTxn *txn, const KvOp *op, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(BerthKvEntry) entry = NULL;
  gboolean delayed = FALSE;
  const char *holder;

  if (!valid_session (store, op->session, error) ||
      !kv_lock_delayed (store, op->key, &delayed, error))
    return FALSE;
  if (delayed)
    return conflict (error, _("Key “%s” is in its lock delay"), op->key);
  entry = discovery_kv_get (store, op->key, NULL);
  holder = entry != NULL ? berth_kv_entry_get_session (entry) : NULL;
  if (holder != NULL && g_strcmp0 (holder, op->session) == 0)
    return kv_write_lock (txn, op, op->session, berth_kv_entry_get_lock_index (entry), error);
  if (holder != NULL)
    return conflict (error, _("Key “%s” is locked by another session"), op->key);
  return kv_write_lock (txn, op, op->session,
                        (entry != NULL ? berth_kv_entry_get_lock_index (entry) : 0) + 1, error);
}

/* A write's or check's result in a transaction: the key's entry as it now
 * is, without its value (Consul answers those with the metadata only). */
static gboolean
add_result (BerthStore *store, const char *key, GPtrArray *results, GError **error)
{
  g_autoptr(BerthKvEntry) entry = NULL;

  if (results == NULL)
    return TRUE;
  entry = discovery_kv_get (store, key, error);
  if (entry == NULL)
    return FALSE;
  berth_kv_entry_set_value (entry, NULL);
  g_ptr_array_add (results, g_steal_pointer (&entry));
  return TRUE;
}
static gboolean
kv_unlock (BerthTxn *txn, const KvOp *op, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(BerthKvEntry) entry = NULL;

  if (!valid_session (store, op->session, error))
    return FALSE;
  entry = discovery_kv_get (store, op->key, NULL);
  if (entry == NULL || g_strcmp0 (berth_kv_entry_get_session (entry), op->session) != 0)
    return conflict (error, _("Key “%s” is not locked by session “%s”"), op->key, op->session);
  return kv_write_lock (txn, op, NULL, berth_kv_entry_get_lock_index (entry), error);
}

/* A session is invalidated: the keys it holds are released (or deleted,
 * for Behavior "delete"), and none of them may be acquired again for
 * @lock_delay_ns. */
gboolean
discovery_kv_release_session (BerthTxn *txn, const char *session, gboolean delete_keys,
                              guint64 lock_delay_ns, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  gboolean have_row = TRUE;

  stmt = berth_store_prepare (store, "SELECT key FROM kv WHERE session = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, session, -1, SQLITE_TRANSIENT);
  while (TRUE)
    {
      if (!berth_store_step (store, stmt, &have_row, error))
        return FALSE;
      if (!have_row)
        break;
      g_ptr_array_add (keys, column_key (stmt, 0));
    }
  sqlite3_reset (stmt);

  for (guint i = 0; i < keys->len; i++)
    {
      const char *key = g_ptr_array_index (keys, i);

      if (delete_keys)
        {
          if (!kv_delete (txn, key, error))
            return FALSE;
        }
      else
        {
          if (!exec_key (store, "UPDATE kv SET session = NULL, modify_index = ?2 WHERE key = ?1",
                         key, (gint64) berth_txn_get_index (txn), error))
            return FALSE;
          berth_txn_changed (txn, "kv", key);
        }
      if (lock_delay_ns > 0 &&
          !exec_key (store,
                     "INSERT INTO kv_lock_delays (key, until_us) VALUES (?1, ?2) "
                     "ON CONFLICT (key) DO UPDATE SET until_us = ?2",
                     key, g_get_real_time () + (gint64) (lock_delay_ns / 1000), error))
        return FALSE;
    }
  return TRUE;
}

/* Applies one op inside a write. A failed precondition (cas, check-index,
 * check-not-exists, get of a missing key) is a BERTH_ERROR_CONFLICT or
 * NOT_FOUND error, so that the write rolls back. Entries the op returns
 * are added to @results (with their value only for reads). */
gboolean
discovery_kv_apply (BerthTxn *txn, const KvOp *op, GPtrArray *results, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(BerthKvEntry) entry = NULL;

  switch (op->verb)
    {
    case KV_VERB_CAS:
      if (!check_index (store, op, error))
        return FALSE;
      G_GNUC_FALLTHROUGH;
    case KV_VERB_SET:
      return kv_set (txn, op, error) && add_result (store, op->key, results, error);

    case KV_VERB_GET:
      entry = discovery_kv_get (store, op->key, error);
      if (entry == NULL)
        return FALSE;
      if (results != NULL)
        g_ptr_array_add (results, g_steal_pointer (&entry));
      return TRUE;

    case KV_VERB_GET_TREE:
      {
        g_autoptr(GPtrArray) list = discovery_kv_list (store, op->key, error);
        if (list == NULL)
          return FALSE;
        if (results != NULL)
          for (guint i = 0; i < list->len; i++)
            g_ptr_array_add (results, g_object_ref (g_ptr_array_index (list, i)));
        return TRUE;
      }

    case KV_VERB_CHECK_INDEX:
      if (op->index == 0)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT,
                       _("check-index on “%s” needs a non-zero Index"), op->key);
          return FALSE;
        }
      return check_index (store, op, error) && add_result (store, op->key, results, error);

    case KV_VERB_CHECK_NOT_EXISTS:
      entry = discovery_kv_get (store, op->key, NULL);
      if (entry != NULL)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT, _("Key “%s” exists"), op->key);
          return FALSE;
        }
      return TRUE;

    case KV_VERB_DELETE_CAS:
      if (!check_index (store, op, error))
        return FALSE;
      G_GNUC_FALLTHROUGH;
    case KV_VERB_DELETE:
      return kv_delete (txn, op->key, error);

    case KV_VERB_DELETE_TREE:
      return kv_delete_tree (txn, op->key, error);

    case KV_VERB_LOCK:
    case KV_VERB_UNLOCK:
      if (!(op->verb == KV_VERB_LOCK ? kv_lock (txn, op, error) : kv_unlock (txn, op, error)))
        return FALSE;
      return add_result (store, op->key, results, error);

    case KV_VERB_CHECK_SESSION:
      entry = discovery_kv_get (store, op->key, error);
      if (entry == NULL)
        return FALSE;
      if (g_strcmp0 (berth_kv_entry_get_session (entry), op->session) != 0)
        return conflict (error, _("Failed session check for key “%s”: its session is “%s”, not “%s”"),
                         op->key,
                         berth_kv_entry_get_session (entry) != NULL ? berth_kv_entry_get_session (entry) : "",
                         op->session != NULL ? op->session : "");
      berth_kv_entry_set_value (entry, NULL);
      if (results != NULL)
        g_ptr_array_add (results, g_steal_pointer (&entry));
      return TRUE;

    default:
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Unknown KV verb"));
      return FALSE;
    }
}

/* Housekeeping write: forgets tombstones older than an hour. It records no
 * change, so it consumes no index. */
gboolean
discovery_kv_reap_tombstones (BerthTxn *txn, gpointer user_data, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store, "DELETE FROM kv_tombstones WHERE deleted_at < ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, g_get_real_time () / G_USEC_PER_SEC - TOMBSTONE_TTL_SECONDS);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  sqlite3_reset (stmt);
  /* lock delays that have run out */
  stmt = berth_store_prepare (store, "DELETE FROM kv_lock_delays WHERE until_us < ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, g_get_real_time ());
  return berth_store_step (store, stmt, NULL, error);
}

/* Keys are limited in length (Consul: 512 bytes; [discovery]
 * max_key_bytes): they are indexed and echoed in answers. */
gboolean
discovery_kv_check_key (const char *key, guint64 max_bytes, GError **error)
{
  gsize len = strlen (key);

  if (len <= max_bytes)
    return TRUE;
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
               _("Key is too long: %" G_GSIZE_FORMAT " bytes, the limit is %" G_GUINT64_FORMAT),
               len, max_bytes);
  return FALSE;
}

/* The ACL check of one KV operation, before anything is applied: reads
 * need `key` read, writes `key` write on the key; a tree delete also needs
 * write on every key it would remove (Consul's write on a prefix: a
 * narrower rule below it that denies must not be overridden). */
gboolean
discovery_kv_authorize_op (BerthRequest *req, const KvOp *op, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(GPtrArray) keys = NULL;
  BerthAccess access;

  switch (op->verb)
    {
    case KV_VERB_GET:
    case KV_VERB_GET_TREE:
    case KV_VERB_CHECK_INDEX:
    case KV_VERB_CHECK_NOT_EXISTS:
    case KV_VERB_CHECK_SESSION:
      access = BERTH_ACCESS_READ;
      break;
    case KV_VERB_SET:
    case KV_VERB_CAS:
    case KV_VERB_DELETE:
    case KV_VERB_DELETE_CAS:
    case KV_VERB_DELETE_TREE:
    case KV_VERB_LOCK:
    case KV_VERB_UNLOCK:
    default:
      access = BERTH_ACCESS_WRITE;
      break;
    }
  if (!berth_request_authorize (req, "key", op->key, access, error))
    return FALSE;
  if (op->verb != KV_VERB_DELETE_TREE)
    return TRUE;
  keys = discovery_kv_keys (store, op->key, NULL, error);
  if (keys == NULL)
    return FALSE;
  for (guint i = 0; i < keys->len; i++)
    if (!berth_request_authorize (req, "key", g_ptr_array_index (keys, i), BERTH_ACCESS_WRITE, error))
      return FALSE;
  return TRUE;
}
