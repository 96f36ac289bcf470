/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "berth-error.h"
#include "berth-store-private.h"
#include "berth-store-raw.h"

/* The store's integrity: SQLite's quick_check when it opens, and the
 * recovery `berthd --repair` runs on a damaged file. */

/* The first problem quick_check reports on @db, or NULL when it is sound.
 * An error reading the file at all is a problem too. */
static char *
first_problem (sqlite3 *db)
{
  sqlite3_stmt *stmt = NULL;
  char *problem = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (db, "PRAGMA quick_check(1)", -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    return g_strdup (sqlite3_errmsg (db));
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      const char *text = (const char *) sqlite3_column_text (stmt, 0);
      if (g_strcmp0 (text, "ok") != 0)
        {
          const char *prefix = "*** in database main ***\n";
          if (text != NULL && g_str_has_prefix (text, prefix))
            text += strlen (prefix);
          problem = g_strdelimit (g_strdup (text != NULL ? text : "unknown problem"), "\n", ' ');
        }
    }
  else
    problem = g_strdup (sqlite3_errmsg (db));
  sqlite3_finalize (stmt);
  return problem;
}

/* Internal: runs quick_check on the store just opened. */
gboolean
berth_store_quick_check (BerthStore *self, GError **error)
{
  g_autofree char *problem = first_problem (self->db);

  if (problem == NULL)
    return TRUE;
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED,
               _("The store %s is damaged (%s). Stop berthd, back up its state directory, "
                 "and run “berthd --repair” with the same --state-dir (or --config): it keeps "
                 "the damaged file aside and recovers what can still be read"),
               self->path, problem);
  return FALSE;
}

static gboolean
rename_aside (const char *from, const char *to, GError **error)
{
  if (g_rename (from, to) == 0 || errno == ENOENT)
    return TRUE;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), _("Cannot move %s to %s: %s"),
               from, to, g_strerror (errno));
  return FALSE;
}

static gboolean
exec_db (sqlite3 *db, const char *sql, GError **error)
{
  char *errmsg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &errmsg) == SQLITE_OK)
    return TRUE;
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, "%s", errmsg != NULL ? errmsg : "?");
  sqlite3_free (errmsg);
  return FALSE;
}

/* Copies the rows of @table that @src can still read into @dst, each
 * table in its own transaction: forwards until an unreadable page, then
 * backwards from the end (the rows after it). Returns how many rows were
 * copied; sets @lost when a page could not be read. */
static gint64
copy_table (sqlite3 *src, sqlite3 *dst, const char *table, gboolean *lost)
{
  static const char * const orders[] = { "", " ORDER BY rowid DESC" };
  g_autofree char *quoted = g_strdup_printf ("\"%s\"", table);
  gint64 copied = 0;

  *lost = FALSE;
  if (!exec_db (dst, "BEGIN", NULL))
    return 0;
  for (guint o = 0; o < G_N_ELEMENTS (orders); o++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT * FROM %s%s", quoted, orders[o]);
      sqlite3_stmt *stmt = NULL;
      sqlite3_stmt *ins = NULL;
      int rc;

      if (o > 0 && !*lost)
        break;  /* everything was read forwards */
      if (sqlite3_prepare_v2 (src, sql, -1, &stmt, NULL) != SQLITE_OK)
        {
          *lost = TRUE;
          continue;
        }
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          int n = sqlite3_column_count (stmt);

          if (ins == NULL)
            {
              g_autoptr(GString) insert = g_string_new (NULL);
              g_string_printf (insert, "INSERT OR IGNORE INTO %s VALUES (", quoted);
              for (int i = 0; i < n; i++)
                g_string_append (insert, i == 0 ? "?" : ", ?");
              g_string_append (insert, ")");
              if (sqlite3_prepare_v2 (dst, insert->str, -1, &ins, NULL) != SQLITE_OK)
                break;
            }
          for (int i = 0; i < n; i++)
            sqlite3_bind_value (ins, i + 1, sqlite3_column_value (stmt, i));
          if (sqlite3_step (ins) == SQLITE_DONE && sqlite3_changes (dst) > 0)
            copied++;
          sqlite3_reset (ins);
        }
      if (rc != SQLITE_DONE)
        *lost = TRUE;
      sqlite3_finalize (ins);
      sqlite3_finalize (stmt);
    }
  if (!exec_db (dst, "COMMIT", NULL))
    {
      exec_db (dst, "ROLLBACK", NULL);
      return 0;
    }
  return copied;
}

typedef struct {
  char *type;
  char *name;
  char *sql;
} SchemaItem;

static void
schema_item_free (SchemaItem *item)
{
  g_free (item->type);
  g_free (item->name);
  g_free (item->sql);
  g_free (item);
}

/* Makes a fresh database at @path of what @damaged still holds. Reading
 * and writing go through separate connections, so that the damage one
 * table's pages show does not spoil the copy of the others. */
static gboolean
recover_into (const char *damaged, const char *path, GString *report, GError **error)
{
  g_autoptr(GPtrArray) schema = g_ptr_array_new_with_free_func ((GDestroyNotify) schema_item_free);
  sqlite3 *src = NULL;
  sqlite3 *dst = NULL;
  sqlite3_stmt *stmt = NULL;
  g_autofree char *problem = NULL;
  gboolean ok = FALSE;

  if (sqlite3_open_v2 (damaged, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (src,
                          "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL "
                          "AND name NOT LIKE 'sqlite_%' ORDER BY type != 'table', rowid",
                          -1, &stmt, NULL) != SQLITE_OK)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, _("The schema cannot be read: %s"),
                   sqlite3_errmsg (src));
      goto out;
    }
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      SchemaItem *item = g_new0 (SchemaItem, 1);
      item->type = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      item->name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      item->sql = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      g_ptr_array_add (schema, item);
    }
  sqlite3_finalize (stmt);
  stmt = NULL;

  if (sqlite3_open_v2 (path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, _("Cannot create %s: %s"), path,
                   sqlite3_errmsg (dst));
      goto out;
    }
  /* the tables, then their rows, then indices and the rest */
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < schema->len; i++)
      {
        SchemaItem *item = g_ptr_array_index (schema, i);
        gboolean is_table = g_strcmp0 (item->type, "table") == 0;
        g_autoptr(GError) local_error = NULL;
        gboolean lost = FALSE;
        gint64 copied;

        if (is_table != (pass == 0))
          continue;
        if (!exec_db (dst, item->sql, &local_error))
          {
            g_string_append_printf (report, _("  %s %s: not recreated (%s)\n"), item->type, item->name,
                                    local_error->message);
            continue;
          }
        if (!is_table)
          continue;
        copied = copy_table (src, dst, item->name, &lost);
        g_string_append_printf (report, _("  table %s: %" G_GINT64_FORMAT " rows recovered%s\n"),
                                item->name, copied, lost ? _(", some pages were unreadable") : "");
      }
  /* AUTOINCREMENT counters, where readable */
  {
    sqlite3_stmt *seq = NULL;
    if (sqlite3_prepare_v2 (src, "SELECT name, seq FROM sqlite_sequence", -1, &seq, NULL) == SQLITE_OK)
      {
        while (sqlite3_step (seq) == SQLITE_ROW)
          {
            char *sql = sqlite3_mprintf ("UPDATE sqlite_sequence SET seq = MAX(seq, %lld) WHERE name = %Q;"
                                         "INSERT INTO sqlite_sequence (name, seq) SELECT %Q, %lld "
                                         "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = %Q)",
                                         (long long) sqlite3_column_int64 (seq, 1),
                                         (const char *) sqlite3_column_text (seq, 0),
                                         (const char *) sqlite3_column_text (seq, 0),
                                         (long long) sqlite3_column_int64 (seq, 1),
                                         (const char *) sqlite3_column_text (seq, 0));
            exec_db (dst, sql, NULL);
            sqlite3_free (sql);
          }
        sqlite3_finalize (seq);
      }
  }
  problem = first_problem (dst);
  if (problem != NULL)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, _("The recovered store is damaged too: %s"),
                   problem);
      goto out;
    }
  ok = TRUE;
out:
  sqlite3_finalize (stmt);
  sqlite3_close (src);
  sqlite3_close (dst);
  return ok;
}

/**
 * berth_store_repair:
 * @path: the store's database file; berthd must not be running on it
 * @report: (out) (transfer full): what was done, for the operator
 * @error: return location for a #GError
 *
 * Checks the store with SQLite's quick_check; when it is damaged, moves
 * the file (with its WAL) aside as `<path>.damaged-<time>` and makes a new
 * store at @path of every row that can still be read. When that fails
 * too, @error says how to recover by hand with the sqlite3 shell.
 *
 * Returns: %TRUE when the store at @path is sound afterwards
 */
gboolean
berth_store_repair (const char *path, char **report, GError **error)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  g_autofree char *aside = g_strdup_printf ("%s.damaged-%s", path, stamp);
  g_autofree char *problem = NULL;
  g_autoptr(GError) local_error = NULL;
  sqlite3 *db = NULL;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (report != NULL, FALSE);

  *report = NULL;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("There is no store at %s"), path);
      return FALSE;
    }
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK)
    problem = first_problem (db);
  else
    problem = g_strdup (sqlite3_errmsg (db));
  sqlite3_close (db);
  if (problem == NULL)
    {
      *report = g_strdup_printf (_("The store %s passes SQLite's quick_check: nothing to repair.\n"), path);
      return TRUE;
    }

  g_string_append_printf (text, _("The store %s is damaged: %s\n"), path, problem);
  {
    g_autofree char *wal = g_strconcat (path, "-wal", NULL);
    g_autofree char *wal_aside = g_strconcat (aside, "-wal", NULL);
    g_autofree char *shm = g_strconcat (path, "-shm", NULL);
    g_autofree char *shm_aside = g_strconcat (aside, "-shm", NULL);
    if (!rename_aside (path, aside, error) || !rename_aside (wal, wal_aside, error) ||
        !rename_aside (shm, shm_aside, error))
      return FALSE;
  }
  g_string_append_printf (text, _("The damaged file is kept as %s\n"), aside);
  g_string_append (text, _("Recovering what can be read:\n"));
  if (!recover_into (aside, path, text, &local_error))
    {
      g_unlink (path);
      *report = g_string_free (g_steal_pointer (&text), FALSE);
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED,
                   _("Recovery failed: %s. Recover by hand with the sqlite3 shell:\n"
                     "  sqlite3 %s .recover | sqlite3 %s\n"
                     "then start berthd again"),
                   local_error->message, aside, path);
      return FALSE;
    }
  g_string_append_printf (text, _("The store %s is usable again: check the recovered state "
                                  "(and `berth audit verify`) before serving.\n"), path);
  *report = g_string_free (g_steal_pointer (&text), FALSE);
  return TRUE;
}
