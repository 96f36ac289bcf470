/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <berth-store-raw.h>

#include "security-audit-chain.h"

/* Each row's hash is SHA-256 over the previous row's hash (hex) and the
 * row's canonical form: its fields in a fixed order, each written as
 * `<length>:<bytes>\n`, or `-\n` for none. The first row follows 64 zeros,
 * or the checkpoint retention left. A row's status is only known once the
 * reply went out, after the transaction that recorded the change: it is
 * sealed on its own, seal = SHA-256(hash ":" status). Checkpoints carry an
 * HMAC-SHA256 with the node's audit key. */

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

const char * const audit_chain_migrations[] = {
  /* 1 */
  "CREATE TABLE audit ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  time TEXT NOT NULL,"
  "  store_index INTEGER NOT NULL,"
  "  accessor TEXT,"
  "  peer TEXT,"
  "  zone TEXT,"
  "  method TEXT,"
  "  path TEXT,"
  "  operation TEXT,"
  "  prev_hash TEXT NOT NULL,"
  "  hash TEXT NOT NULL,"
  "  status INTEGER,"
  "  seal TEXT);"
  "CREATE INDEX audit_time ON audit (time);"
  "CREATE TABLE audit_checkpoints ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  time TEXT NOT NULL,"
  "  last_id INTEGER NOT NULL,"
  "  last_hash TEXT NOT NULL,"
  "  signature TEXT NOT NULL);",
  NULL
};

void
audit_entry_clear (AuditEntry *e)
{
  g_clear_pointer (&e->time, g_free);
  g_clear_pointer (&e->accessor, g_free);
  g_clear_pointer (&e->peer, g_free);
  g_clear_pointer (&e->zone, g_free);
  g_clear_pointer (&e->method, g_free);
  g_clear_pointer (&e->path, g_free);
  g_clear_pointer (&e->operation, g_free);
}

char *
audit_now (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

void
audit_entry_from_call (AuditEntry *e, BerthCaller *caller, const char *method, const char *path,
                       const char *operation, guint64 index, guint status)
{
  e->time = audit_now ();
  e->index = index;
  e->accessor = g_strdup (berth_caller_get_accessor (caller));
  e->peer = berth_caller_to_string (caller);
  e->zone = g_strdup (berth_zone_to_string (berth_caller_get_zone (caller)));
  e->method = g_strdup (method);
  e->path = g_strdup (path);
  e->operation = g_strdup (operation);
  e->status = status;
}

static void
put_field (GString *out, const char *value)
{
  if (value == NULL)
    g_string_append (out, "-\n");
  else
    g_string_append_printf (out, "%zu:%s\n", strlen (value), value);
}

static void
put_int (GString *out, gint64 value)
{
  char buf[32];
  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, value);
  put_field (out, buf);
}

static char *
row_hash (const char *prev, gint64 id, const char *time, gint64 index, const char *accessor,
          const char *peer, const char *zone, const char *method, const char *path,
          const char *operation)
{
  g_autoptr(GString) canonical = g_string_new (NULL);
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  put_int (canonical, id);
  put_field (canonical, time);
  put_int (canonical, index);
  put_field (canonical, accessor);
  put_field (canonical, peer);
  put_field (canonical, zone);
  put_field (canonical, method);
  put_field (canonical, path);
  put_field (canonical, operation);
  g_checksum_update (sum, (const guchar *) prev, (gssize) strlen (prev));
  g_checksum_update (sum, (const guchar *) canonical->str, (gssize) canonical->len);
  return g_strdup (g_checksum_get_string (sum));
}

static char *
status_seal (const char *hash, gint64 status)
{
  g_autofree char *text = g_strdup_printf ("%s:%" G_GINT64_FORMAT, hash, status);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}

static char *
checkpoint_signature (GBytes *key, const char *time, gint64 last_id, const char *last_hash)
{
  g_autoptr(GString) canonical = g_string_new ("checkpoint\n");
  gsize len = 0;
  const guchar *data = g_bytes_get_data (key, &len);
  g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, data, len);

  put_field (canonical, time);
  put_int (canonical, last_id);
  put_field (canonical, last_hash);
  g_hmac_update (hmac, (const guchar *) canonical->str, (gssize) canonical->len);
  return g_strdup (g_hmac_get_string (hmac));
}

static gint64
last_sequence (BerthStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean have_row = FALSE;

  stmt = berth_store_prepare (store, "SELECT seq FROM sqlite_sequence WHERE name = 'audit'", error);
  if (stmt == NULL || !berth_store_step (store, stmt, &have_row, error))
    return -1;
  return have_row ? sqlite3_column_int64 (stmt, 0) : 0;
}

/* The hash row @id + 1 follows: row @id's, or the checkpoint's that
 * replaced it, or the genesis. */
static char *
hash_before (BerthStore *store, gint64 id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean have_row = FALSE;

  if (id <= 0)
    return g_strdup (GENESIS);
  stmt = berth_store_prepare (store, "SELECT hash FROM audit WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (!berth_store_step (store, stmt, &have_row, error))
    return NULL;
  if (have_row)
    return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  g_clear_pointer (&stmt, berth_stmt_reset);
  stmt = berth_store_prepare (store, "SELECT last_hash FROM audit_checkpoints WHERE last_id = ? "
                                     "ORDER BY id DESC LIMIT 1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (!berth_store_step (store, stmt, &have_row, error))
    return NULL;
  if (have_row)
    return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  /* the row before is gone: the chain is already broken, verify says where */
  return g_strdup (GENESIS);
}

static void
bind_text_or_null (sqlite3_stmt *stmt, int column, const char *value)
{
  if (value != NULL)
    sqlite3_bind_text (stmt, column, value, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, column);
}

gboolean
audit_chain_append (BerthStore *store, const AuditEntry *e, gint64 *id_out, char **hash_out,
                    GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *prev = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *seal = NULL;
  gint64 id;

  id = last_sequence (store, error);
  if (id < 0)
    return FALSE;
  id++;
  prev = hash_before (store, id - 1, error);
  if (prev == NULL)
    return FALSE;
  hash = row_hash (prev, id, e->time, (gint64) e->index, e->accessor, e->peer, e->zone, e->method,
                   e->path, e->operation);
  if (e->status != 0)
    seal = status_seal (hash, e->status);
  stmt = berth_store_prepare (store,
                              "INSERT INTO audit (id, time, store_index, accessor, peer, zone, method, "
                              "path, operation, prev_hash, hash, status, seal) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, e->time, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) e->index);
  bind_text_or_null (stmt, 4, e->accessor);
  bind_text_or_null (stmt, 5, e->peer);
  bind_text_or_null (stmt, 6, e->zone);
  bind_text_or_null (stmt, 7, e->method);
  bind_text_or_null (stmt, 8, e->path);
  bind_text_or_null (stmt, 9, e->operation);
  sqlite3_bind_text (stmt, 10, prev, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 11, hash, -1, SQLITE_TRANSIENT);
  if (e->status != 0)
    sqlite3_bind_int64 (stmt, 12, e->status);
  else
    sqlite3_bind_null (stmt, 12);
  bind_text_or_null (stmt, 13, seal);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  if (id_out != NULL)
    *id_out = id;
  if (hash_out != NULL)
    *hash_out = g_steal_pointer (&hash);
  return TRUE;
}

gboolean
audit_chain_set_status (BerthStore *store, gint64 id, const char *hash, guint status,
                        gboolean *found, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *seal = status_seal (hash, status);

  *found = FALSE;
  stmt = berth_store_prepare (store, "UPDATE audit SET status = ?3, seal = ?4 "
                                     "WHERE id = ?1 AND hash = ?2 AND status IS NULL", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, status);
  sqlite3_bind_text (stmt, 4, seal, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  *found = sqlite3_changes (berth_store_get_db (store)) > 0;
  return TRUE;
}

gboolean
audit_chain_expire (BerthStore *store, const char *cutoff, GBytes *key, guint *removed,
                    GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *last_hash = NULL;
  g_autofree char *now = audit_now ();
  g_autofree char *signature = NULL;
  gboolean have_row = FALSE;
  gint64 last_id;

  *removed = 0;
  stmt = berth_store_prepare (store, "SELECT id, hash FROM audit WHERE time < ? ORDER BY id DESC LIMIT 1",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, cutoff, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, &have_row, error))
    return FALSE;
  if (!have_row)
    return TRUE;
  last_id = sqlite3_column_int64 (stmt, 0);
  last_hash = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  g_clear_pointer (&stmt, berth_stmt_reset);

  signature = checkpoint_signature (key, now, last_id, last_hash);
  stmt = berth_store_prepare (store, "INSERT INTO audit_checkpoints (time, last_id, last_hash, signature) "
                                     "VALUES (?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, last_id);
  sqlite3_bind_text (stmt, 3, last_hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, signature, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  g_clear_pointer (&stmt, berth_stmt_reset);

  stmt = berth_store_prepare (store, "DELETE FROM audit WHERE id <= ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, last_id);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  *removed = (guint) sqlite3_changes (berth_store_get_db (store));
  g_clear_pointer (&stmt, berth_stmt_reset);
  /* the newest checkpoint is the one verification starts from */
  return berth_store_exec (store, "DELETE FROM audit_checkpoints WHERE id < "
                                  "(SELECT MAX(id) FROM audit_checkpoints)", error);
}

static JsonNode *
verdict (gboolean ok, gint64 rows, gint64 first_bad, const char *reason, JsonObject *checkpoint)
{
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_boolean_member (o, "ok", ok);
  json_object_set_int_member (o, "rows", rows);
  if (checkpoint != NULL)
    json_object_set_object_member (o, "checkpoint", json_object_ref (checkpoint));
  else
    json_object_set_null_member (o, "checkpoint");
  if (!ok)
    {
      json_object_set_int_member (o, "first_bad_index", first_bad);
      json_object_set_string_member (o, "reason", reason);
    }
  json_node_take_object (node, o);
  return node;
}

#define COL(i) ((const char *) sqlite3_column_text (stmt, (i)))

JsonNode *
audit_chain_verify (BerthStore *store, GBytes *key, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonObject) checkpoint = NULL;
  g_autofree char *prev = g_strdup (GENESIS);
  gboolean have_row = FALSE;
  gint64 expected = 1, rows = 0, seq;

  stmt = berth_store_prepare (store, "SELECT time, last_id, last_hash, signature FROM audit_checkpoints "
                                     "ORDER BY id DESC LIMIT 1", error);
  if (stmt == NULL || !berth_store_step (store, stmt, &have_row, error))
    return NULL;
  if (have_row)
    {
      g_autofree char *expected_sig = checkpoint_signature (key, COL (0), sqlite3_column_int64 (stmt, 1),
                                                            COL (2));
      checkpoint = json_object_new ();
      json_object_set_string_member (checkpoint, "time", COL (0));
      json_object_set_int_member (checkpoint, "last_id", sqlite3_column_int64 (stmt, 1));
      json_object_set_string_member (checkpoint, "last_hash", COL (2));
      expected = sqlite3_column_int64 (stmt, 1) + 1;
      g_free (prev);
      prev = g_strdup (COL (2));
      if (g_strcmp0 (expected_sig, COL (3)) != 0)
        {
          g_autofree char *reason = g_strdup_printf (_("The checkpoint before row %" G_GINT64_FORMAT
                                                       " is not signed with this node's audit key"),
                                                     expected);
          return verdict (FALSE, 0, expected, reason, checkpoint);
        }
    }
  g_clear_pointer (&stmt, berth_stmt_reset);

  stmt = berth_store_prepare (store, "SELECT id, time, store_index, accessor, peer, zone, method, path, "
                                     "operation, prev_hash, hash, status, seal FROM audit ORDER BY id",
                              error);
  if (stmt == NULL)
    return NULL;
  while (TRUE)
    {
      g_autofree char *hash = NULL;
      gint64 id;

      if (!berth_store_step (store, stmt, &have_row, error))
        return NULL;
      if (!have_row)
        break;
      id = sqlite3_column_int64 (stmt, 0);
      if (id < expected)
        continue;  /* covered by the checkpoint */
      if (id > expected)
        {
          g_autofree char *reason = g_strdup_printf (_("Row %" G_GINT64_FORMAT " was removed"), expected);
          return verdict (FALSE, rows, expected, reason, checkpoint);
        }
      hash = row_hash (prev, id, COL (1), sqlite3_column_int64 (stmt, 2), COL (3), COL (4), COL (5),
                       COL (6), COL (7), COL (8));
      if (g_strcmp0 (hash, COL (10)) != 0)
        {
          g_autofree char *own = row_hash (COL (9) != NULL ? COL (9) : "", id, COL (1),
                                           sqlite3_column_int64 (stmt, 2), COL (3), COL (4), COL (5),
                                           COL (6), COL (7), COL (8));
          g_autofree char *reason = NULL;
          /* consistent with itself: the hash it follows was changed */
          if (g_strcmp0 (own, COL (10)) == 0 && id - 1 >= 1 &&
              (checkpoint == NULL || id - 1 > json_object_get_int_member (checkpoint, "last_id")))
            {
              reason = g_strdup_printf (_("Row %" G_GINT64_FORMAT " was changed (its hash no longer "
                                          "matches the row after it)"), id - 1);
              return verdict (FALSE, rows, id - 1, reason, checkpoint);
            }
          reason = g_strdup_printf (_("Row %" G_GINT64_FORMAT " was changed"), id);
          return verdict (FALSE, rows, id, reason, checkpoint);
        }
      {
        g_autofree char *seal = NULL;
        gboolean sealed_ok;
        if (sqlite3_column_type (stmt, 11) == SQLITE_NULL)
          sealed_ok = sqlite3_column_type (stmt, 12) == SQLITE_NULL;
        else
          {
            seal = status_seal (hash, sqlite3_column_int64 (stmt, 11));
            sealed_ok = g_strcmp0 (seal, COL (12)) == 0;
          }
        if (!sealed_ok)
          {
            g_autofree char *reason = g_strdup_printf (_("The status of row %" G_GINT64_FORMAT
                                                         " was changed"), id);
            return verdict (FALSE, rows, id, reason, checkpoint);
          }
      }
      g_free (prev);
      prev = g_steal_pointer (&hash);
      expected++;
      rows++;
    }
  g_clear_pointer (&stmt, berth_stmt_reset);

  /* rows removed from the end leave the AUTOINCREMENT counter behind */
  seq = last_sequence (store, error);
  if (seq < 0)
    return NULL;
  if (seq >= expected)
    {
      g_autofree char *reason = g_strdup_printf (_("Row %" G_GINT64_FORMAT " was removed"), expected);
      return verdict (FALSE, rows, expected, reason, checkpoint);
    }
  return verdict (TRUE, rows, 0, NULL, checkpoint);
}

JsonNode *
audit_chain_list (BerthStore *store, gint64 after, guint limit, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonArray) list = json_array_new ();
  JsonNode *node;
  gboolean have_row = FALSE;

  stmt = berth_store_prepare (store, "SELECT id, time, store_index, accessor, peer, zone, method, path, "
                                     "operation, status, prev_hash, hash FROM audit WHERE id > ? "
                                     "ORDER BY id LIMIT ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, after);
  sqlite3_bind_int64 (stmt, 2, limit);
  while (TRUE)
    {
      JsonObject *o;
      static const char * const text_fields[] = {
        NULL, "time", NULL, "accessor", "peer", "zone", "method", "path", "operation",
      };

      if (!berth_store_step (store, stmt, &have_row, error))
        return NULL;
      if (!have_row)
        break;
      o = json_object_new ();
      json_object_set_int_member (o, "id", sqlite3_column_int64 (stmt, 0));
      json_object_set_int_member (o, "index", sqlite3_column_int64 (stmt, 2));
      for (int i = 1; i < (int) G_N_ELEMENTS (text_fields); i++)
        {
          if (text_fields[i] == NULL)
            continue;
          if (COL (i) != NULL)
            json_object_set_string_member (o, text_fields[i], COL (i));
          else
            json_object_set_null_member (o, text_fields[i]);
        }
      if (sqlite3_column_type (stmt, 9) == SQLITE_NULL)
        json_object_set_null_member (o, "status");
      else
        json_object_set_int_member (o, "status", sqlite3_column_int64 (stmt, 9));
      json_object_set_string_member (o, "prev_hash", COL (10));
      json_object_set_string_member (o, "hash", COL (11));
      json_array_add_object_element (list, o);
    }
  node = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (node, list);
  return node;
}

GBytes *
audit_key_load (const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, "audit.key", NULL);
  g_autofree char *text = NULL;
  guchar raw[32];
  gsize len = 0;

  if (g_file_get_contents (path, &text, &len, NULL))
    {
      g_strstrip (text);
      if (strlen (text) != 64)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED,
                       _("%s does not hold an audit key (64 hexadecimal digits)"), path);
          return NULL;
        }
      for (guint i = 0; i < 32; i++)
        {
          int hi = g_ascii_xdigit_value (text[2 * i]), lo = g_ascii_xdigit_value (text[2 * i + 1]);
          if (hi < 0 || lo < 0)
            {
              g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED,
                           _("%s does not hold an audit key (64 hexadecimal digits)"), path);
              return NULL;
            }
          raw[i] = (guchar) (hi << 4 | lo);
        }
      return g_bytes_new (raw, sizeof raw);
    }

  if (getrandom (raw, sizeof raw, 0) != (ssize_t) sizeof raw)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   _("Cannot make an audit key: %s"), g_strerror (errno));
      return NULL;
    }
  {
    g_autoptr(GString) hex = g_string_new (NULL);
    for (guint i = 0; i < sizeof raw; i++)
      g_string_append_printf (hex, "%02x", raw[i]);
    g_string_append_c (hex, '\n');
    if (!g_file_set_contents_full (path, hex->str, (gssize) hex->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
      return NULL;
  }
  return g_bytes_new (raw, sizeof raw);
}
