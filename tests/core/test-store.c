/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <berth.h>
#include <berth-store-raw.h>
#include <glib/gstdio.h>

typedef struct {
  char       *dir;
  char       *path;
  BerthStore *store;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("berth-test-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "berth.db", NULL);
  f->store = berth_store_new (f->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->store);
  remove_tree (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static const char * const test_migrations[] = {
  "CREATE TABLE items (name TEXT PRIMARY KEY, value INTEGER, modify_index INTEGER);",
  "ALTER TABLE items ADD COLUMN note TEXT;",
  NULL
};

/* writes one item; data = "name=value" */
static gboolean
put_item (BerthTxn *txn, gpointer data, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_auto(GStrv) kv = g_strsplit (data, "=", 2);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "INSERT INTO items (name, value, modify_index) VALUES (?1, ?2, ?3) "
                              "ON CONFLICT (name) DO UPDATE SET value = ?2, modify_index = ?3",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, kv[0], -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, g_ascii_strtoll (kv[1], NULL, 10));
  sqlite3_bind_int64 (stmt, 3, (gint64) berth_txn_get_index (txn));
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  berth_txn_changed (txn, "items", kv[0]);
  return TRUE;
}

/* writes an item, then fails: everything must roll back */
static gboolean
put_then_fail (BerthTxn *txn, gpointer data, GError **error)
{
  if (!put_item (txn, data, error))
    return FALSE;
  g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_CONFLICT, "refused on purpose");
  return FALSE;
}

static gboolean
no_change (BerthTxn *txn, gpointer data, GError **error)
{
  return TRUE;
}

static gint64
item_value (BerthStore *store, const char *name)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, "SELECT value FROM items WHERE name = ?", NULL);
  gboolean row = FALSE;

  g_assert_nonnull (stmt);
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  g_assert_true (berth_store_step (store, stmt, &row, NULL));
  return row ? sqlite3_column_int64 (stmt, 0) : -1;
}

static void
test_migrations_apply_once (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char * const first_only[] = { test_migrations[0], NULL };

  g_assert_cmpint (berth_store_get_schema_version (f->store, "core"), >=, 1);
  g_assert_cmpint (berth_store_get_schema_version (f->store, "test"), ==, 0);

  g_assert_true (berth_store_migrate (f->store, "test", first_only, &error));
  g_assert_no_error (error);
  g_assert_cmpint (berth_store_get_schema_version (f->store, "test"), ==, 1);

  /* running again with one more step applies only the new one (the first
   * would fail: the table exists) */
  g_assert_true (berth_store_migrate (f->store, "test", test_migrations, &error));
  g_assert_no_error (error);
  g_assert_cmpint (berth_store_get_schema_version (f->store, "test"), ==, 2);
  g_assert_true (berth_store_migrate (f->store, "test", test_migrations, &error));
  g_assert_no_error (error);

  /* a program that knows fewer steps than the store has must refuse */
  g_assert_false (berth_store_migrate (f->store, "test", first_only, &error));
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_FAILED);
}

static void
test_migration_failure_rolls_back (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char * const broken[] = { "CREATE TABLE good (x); THIS IS NOT SQL;", NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_false (berth_store_migrate (f->store, "broken", broken, &error));
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_FAILED);
  g_assert_cmpint (berth_store_get_schema_version (f->store, "broken"), ==, 0);
  /* the part before the error was rolled back too */
  g_clear_error (&error);
  stmt = berth_store_prepare (f->store, "SELECT * FROM good", &error);
  g_assert_null (stmt);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_FAILED);
}

static void
test_index_monotonic_and_persistent (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint64 last = berth_store_get_index (f->store);
  char buf[32];

  g_assert_true (berth_store_migrate (f->store, "test", test_migrations, &error));
  for (int i = 0; i < 20; i++)
    {
      guint64 idx;
      g_snprintf (buf, sizeof buf, "k%d=%d", i % 3, i);
      idx = berth_store_write_sync (f->store, put_item, buf, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (idx, ==, last + 1);
      g_assert_cmpuint (berth_store_get_index (f->store), ==, idx);
      last = idx;
    }
  /* a write that changes nothing does not consume an index */
  g_assert_cmpuint (berth_store_write_sync (f->store, no_change, NULL, &error), ==, last);
  g_assert_cmpuint (berth_store_get_index (f->store), ==, last);

  /* reopening finds the same index */
  g_clear_object (&f->store);
  f->store = berth_store_new (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (berth_store_get_index (f->store), ==, last);
  g_assert_cmpint (item_value (f->store, "k1"), ==, 19);
}

static void
test_failed_write_rolls_back (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint64 before;

  g_assert_true (berth_store_migrate (f->store, "test", test_migrations, &error));
  g_assert_cmpuint (berth_store_write_sync (f->store, put_item, "a=1", &error), >, 0);
  before = berth_store_get_index (f->store);

  g_assert_cmpuint (berth_store_write_sync (f->store, put_then_fail, "a=2", &error), ==, 0);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT);
  g_assert_cmpint (item_value (f->store, "a"), ==, 1);
  g_assert_cmpuint (berth_store_get_index (f->store), ==, before);
}

typedef struct {
  GPtrArray *seen;     /* "index topic key" strings */
  guint      pending;
  GMainLoop *loop;
  GArray    *indexes;
  GQueue     errors;
} Collector;

static void
changed_cb (BerthStore *store, guint64 index, const char *topic, const char *key, gpointer data)
{
  Collector *c = data;
  g_ptr_array_add (c->seen, g_strdup_printf ("%" G_GUINT64_FORMAT " %s %s", index, topic, key));
}

static void
write_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Collector *c = data;
  GError *error = NULL;
  guint64 idx = berth_store_write_finish (BERTH_STORE (source), result, &error);

  if (error != NULL)
    g_queue_push_tail (&c->errors, error);
  else
    g_array_append_val (c->indexes, idx);
  if (--c->pending == 0)
    g_main_loop_quit (c->loop);
}

static void
test_group_commit_and_notifications (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  Collector c = { 0 };
  guint64 base;
  gulong id;

  g_assert_true (berth_store_migrate (f->store, "test", test_migrations, &error));
  base = berth_store_get_index (f->store);
  c.seen = g_ptr_array_new_with_free_func (g_free);
  c.loop = g_main_loop_new (NULL, FALSE);
  c.indexes = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_queue_init (&c.errors);
  id = g_signal_connect (f->store, "changed", G_CALLBACK (changed_cb), &c);

  /* three good writes and one failing one, queued in the same iteration:
   * the failing one rolls back alone */
  c.pending = 4;
  berth_store_write_async (f->store, put_item, "x=1", NULL, NULL, write_done_cb, &c);
  berth_store_write_async (f->store, put_then_fail, "y=1", NULL, NULL, write_done_cb, &c);
  berth_store_write_async (f->store, put_item, "z=1", NULL, NULL, write_done_cb, &c);
  berth_store_write_async (f->store, put_item, "x=2", NULL, NULL, write_done_cb, &c);
  /* nothing is visible before the loop runs */
  g_assert_cmpuint (c.seen->len, ==, 0);
  g_main_loop_run (c.loop);

  g_assert_cmpuint (c.indexes->len, ==, 3);
  g_assert_cmpuint (g_queue_get_length (&c.errors), ==, 1);
  g_assert_cmpuint (g_array_index (c.indexes, guint64, 0), ==, base + 1);
  g_assert_cmpuint (g_array_index (c.indexes, guint64, 1), ==, base + 2);
  g_assert_cmpuint (g_array_index (c.indexes, guint64, 2), ==, base + 3);
  g_assert_cmpuint (c.seen->len, ==, 3);
  {
    g_autofree char *expected = g_strdup_printf ("%" G_GUINT64_FORMAT " items x", base + 1);
    g_assert_cmpstr (g_ptr_array_index (c.seen, 0), ==, expected);
  }
  g_assert_cmpint (item_value (f->store, "x"), ==, 2);
  g_assert_cmpint (item_value (f->store, "y"), ==, -1);
  g_assert_cmpint (item_value (f->store, "z"), ==, 1);

  g_signal_handler_disconnect (f->store, id);
  g_queue_clear_full (&c.errors, (GDestroyNotify) g_error_free);
  g_array_unref (c.indexes);
  g_ptr_array_unref (c.seen);
  g_main_loop_unref (c.loop);
}

typedef struct {
  GMainLoop *loop;
  gboolean   done;
  gboolean   woken;
  GError    *error;
  gint64     finished_at;
} WaitResult;

static void
wait_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  WaitResult *w = data;
  w->woken = berth_store_wait_finish (BERTH_STORE (source), result, &w->error);
  w->done = TRUE;
  w->finished_at = g_get_monotonic_time ();
  g_main_loop_quit (w->loop);
}

static gboolean
write_later_cb (gpointer data)
{
  Fixture *f = data;
  berth_store_write_sync (f->store, put_item, "watched/a=5", NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
write_other_cb (gpointer data)
{
  Fixture *f = data;
  berth_store_write_sync (f->store, put_item, "other=5", NULL);
  return G_SOURCE_REMOVE;
}

static void
test_wait_for_index (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  WaitResult w = { 0 };
  gint64 start;

  g_assert_true (berth_store_migrate (f->store, "test", test_migrations, &error));
  w.loop = g_main_loop_new (NULL, FALSE);

  /* woken by a matching change; an unrelated one does not wake it */
  g_timeout_add (20, write_other_cb, f);
  g_timeout_add (150, write_later_cb, f);
  start = g_get_monotonic_time ();
  berth_store_wait_async (f->store, "items", "watched/", berth_store_get_index (f->store), 5000,
                          NULL, wait_cb, &w);
  g_main_loop_run (w.loop);
  g_assert_no_error (w.error);
  g_assert_true (w.woken);
  g_assert_cmpint (w.finished_at - start, >=, 140 * 1000);
  g_assert_cmpint (w.finished_at - start, <, 3000 * 1000);
  g_assert_cmpint (item_value (f->store, "watched/a"), ==, 5);

  /* times out without an error */
  w = (WaitResult) { .loop = w.loop };
  start = g_get_monotonic_time ();
  berth_store_wait_async (f->store, "items", "watched/", berth_store_get_index (f->store), 100,
                          NULL, wait_cb, &w);
  g_main_loop_run (w.loop);
  g_assert_no_error (w.error);
  g_assert_false (w.woken);
  g_assert_cmpint (w.finished_at - start, >=, 90 * 1000);

  /* cancellation ends it with an error */
  w = (WaitResult) { .loop = w.loop };
  berth_store_wait_async (f->store, "items", NULL, berth_store_get_index (f->store), 0,
                          cancellable, wait_cb, &w);
  g_cancellable_cancel (cancellable);
  g_main_loop_run (w.loop);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&w.error);

  /* closing the store fails waiters */
  w = (WaitResult) { .loop = w.loop };
  berth_store_wait_async (f->store, NULL, NULL, berth_store_get_index (f->store), 0,
                          NULL, wait_cb, &w);
  berth_store_close (f->store);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (w.error, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE);
  g_clear_error (&w.error);
  g_main_loop_unref (w.loop);
}

static gpointer
row_value (sqlite3_stmt *stmt)
{
  return g_strdup_printf ("%s=%lld", sqlite3_column_text (stmt, 0),
                          (long long) sqlite3_column_int64 (stmt, 1));
}

static void
test_get_one (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *found = NULL;
  gpointer missing;

  g_assert_true (berth_store_migrate (f->store, "test", test_migrations, &error));
  g_assert_cmpuint (berth_store_write_sync (f->store, put_item, "a=7", &error), >, 0);
  stmt = berth_store_prepare (f->store, "SELECT name, value FROM items WHERE name = ?1", &error);
  g_assert_no_error (error);
  sqlite3_bind_text (stmt, 1, "a", -1, SQLITE_STATIC);
  found = berth_store_get_one (f->store, stmt, row_value, "item “a”", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, "a=7");
  sqlite3_bind_text (stmt, 1, "b", -1, SQLITE_STATIC);
  missing = berth_store_get_one (f->store, stmt, row_value, "item “b”", &error);
  g_assert_null (missing);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "item “b”"));
}

static gpointer
write_from_thread (gpointer data)
{
  Fixture *f = data;
  g_autoptr(GError) error = NULL;
  return GSIZE_TO_POINTER ((gsize) berth_store_write_sync (f->store, put_item, "t=1", &error));
}

/* A write from a thread that does not own the store is refused. */
static void
test_write_thread (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (berth_store_migrate (f->store, "test", test_migrations, &error));
  if (g_test_subprocess ())
    {
      GThread *thread = g_thread_new ("writer", write_from_thread, f);
      g_assert_null (g_thread_join (thread));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*does not own the store*");
}

/* --- commit hooks and tags ------------------------------------------------ */

static const char * const hooklog_migrations[] = {
  "CREATE TABLE hooklog (name TEXT NOT NULL, idx INTEGER NOT NULL);",
  NULL
};

/* records each tagged write in hooklog, in the same transaction; a tag
 * named "fail" fails the hook */
static gboolean
log_hook (BerthStore *store, const BerthStoreCommit *commits, guint n, gpointer data, GError **error)
{
  guint *calls = data;

  (*calls)++;
  for (guint i = 0; i < n; i++)
    {
      const char *name = g_object_get_data (commits[i].tag, "name");
      g_autoptr(sqlite3_stmt) stmt = NULL;

      if (g_strcmp0 (name, "fail") == 0)
        {
          g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_FAILED, "hook refused on purpose");
          return FALSE;
        }
      stmt = berth_store_prepare (store, "INSERT INTO hooklog (name, idx) VALUES (?, ?)", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, (gint64) commits[i].index);
      if (!berth_store_step (store, stmt, NULL, error))
        return FALSE;
    }
  return TRUE;
}

static char *
hooklog_dump (BerthStore *store)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, "SELECT name, idx FROM hooklog ORDER BY rowid", NULL);
  g_autoptr(GString) out = g_string_new (NULL);
  gboolean row = FALSE;

  while (berth_store_step (store, stmt, &row, NULL) && row)
    g_string_append_printf (out, "%s@%" G_GINT64_FORMAT " ", sqlite3_column_text (stmt, 0),
                            (gint64) sqlite3_column_int64 (stmt, 1));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static GObject *
named_tag (const char *name)
{
  GObject *tag = g_object_new (G_TYPE_OBJECT, NULL);
  g_object_set_data_full (tag, "name", g_strdup (name), g_free);
  return tag;
}

static void
test_commit_hook (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) a = named_tag ("A");
  g_autoptr(GObject) b = named_tag ("B");
  g_autoptr(GObject) fail = named_tag ("fail");
  g_autofree char *log = NULL;
  g_autofree char *expected = NULL;
  Collector c = { 0 };
  guint calls = 0, id;
  guint64 idx_a, idx_b, before;
  GLogLevelFlags fatal;

  g_assert_true (berth_store_migrate (f->store, "test", test_migrations, &error));
  g_assert_true (berth_store_migrate (f->store, "hooklog", hooklog_migrations, &error));
  id = berth_store_add_commit_hook (f->store, log_hook, &calls, NULL);
  g_assert_cmpuint (id, >, 0);

  c.indexes = g_array_new (FALSE, FALSE, sizeof (guint64));
  c.loop = g_main_loop_new (NULL, FALSE);
  g_queue_init (&c.errors);
  /* one group commit: a tagged change, a tagged write that changes
   * nothing, an untagged change */
  berth_store_set_current_tag (f->store, a);
  g_assert_true (berth_store_get_current_tag (f->store) == a);
  berth_store_write_async (f->store, put_item, (gpointer) "a=1", NULL, NULL, write_done_cb, &c);
  berth_store_write_async (f->store, no_change, NULL, NULL, NULL, write_done_cb, &c);
  berth_store_set_current_tag (f->store, NULL);
  berth_store_write_async (f->store, put_item, (gpointer) "u=1", NULL, NULL, write_done_cb, &c);
  c.pending = 3;
  g_main_loop_run (c.loop);
  g_assert_true (g_queue_is_empty (&c.errors));
  idx_a = g_array_index (c.indexes, guint64, 0);
  g_assert_cmpuint (calls, ==, 1);

  /* a synchronous write carries the tag too */
  berth_store_set_current_tag (f->store, b);
  idx_b = berth_store_write_sync (f->store, put_item, (gpointer) "b=1", &error);
  berth_store_set_current_tag (f->store, NULL);
  g_assert_no_error (error);

  log = hooklog_dump (f->store);
  expected = g_strdup_printf ("A@%" G_GUINT64_FORMAT " B@%" G_GUINT64_FORMAT " ", idx_a, idx_b);
  g_assert_cmpstr (log, ==, expected);

  /* a failing hook fails the whole commit: nothing of it is durable */
  before = berth_store_get_index (f->store);
  berth_store_set_current_tag (f->store, fail);
  /* the failed commit is logged as a warning: expected here, so not fatal */
  fatal = g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  g_assert_cmpuint (berth_store_write_sync (f->store, put_item, (gpointer) "f=1", &error), ==, 0);
  g_log_set_always_fatal (fatal);
  berth_store_set_current_tag (f->store, NULL);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "hook refused on purpose"));
  g_clear_error (&error);
  g_assert_cmpint (item_value (f->store, "f"), ==, -1);
  g_assert_cmpuint (berth_store_get_index (f->store), ==, before);

  /* removed: no longer called */
  berth_store_remove_commit_hook (f->store, id);
  berth_store_set_current_tag (f->store, a);
  g_assert_cmpuint (berth_store_write_sync (f->store, put_item, (gpointer) "g=1", &error), >, before);
  berth_store_set_current_tag (f->store, NULL);
  g_assert_cmpuint (calls, ==, 3);

  g_array_unref (c.indexes);
  g_main_loop_unref (c.loop);
}

/* --- integrity ------------------------------------------------------------ */

static void
test_quick_check_and_repair (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BerthStore) reopened = NULL;
  g_autofree char *report = NULL;
  g_autofree char *big = g_strnfill (3000, 'x');
  FILE *file;
  long size;
  char garbage[4096 * 3];

  g_assert_true (berth_store_migrate (f->store, "test", test_migrations, &error));
  g_assert_true (berth_store_exec (f->store, "ALTER TABLE items ADD COLUMN blob TEXT", &error));
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *sql = g_strdup_printf ("INSERT INTO items (name, value, blob) VALUES ('k%u', %u, '%s')",
                                              i, i, big);
      g_assert_true (berth_store_exec (f->store, sql, &error));
    }
  g_clear_object (&f->store);

  /* garbage over pages in the middle of the file */
  file = fopen (f->path, "r+b");
  g_assert_nonnull (file);
  fseek (file, 0, SEEK_END);
  size = ftell (file);
  g_assert_cmpint (size, >, 100 * 4096);
  for (gsize i = 0; i < sizeof garbage; i++)
    garbage[i] = (char) g_random_int ();
  fseek (file, (size / 2) / 4096 * 4096, SEEK_SET);
  g_assert_cmpuint (fwrite (garbage, 1, sizeof garbage, file), ==, sizeof garbage);
  fclose (file);

  reopened = berth_store_new (f->path, &error);
  g_assert_null (reopened);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "is damaged"));
  g_assert_nonnull (strstr (error->message, "berthd --repair"));
  g_clear_error (&error);

  g_assert_true (berth_store_repair (f->path, &report, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (report, "is damaged"));
  g_assert_nonnull (strstr (report, "table items: "));
  g_clear_pointer (&report, g_free);
  f->store = berth_store_new (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (item_value (f->store, "k0"), ==, 0);
  g_clear_object (&f->store);

  g_assert_true (berth_store_repair (f->path, &report, &error));
  g_assert_nonnull (strstr (report, "nothing to repair"));
  f->store = berth_store_new (f->path, &error);
  g_assert_no_error (error);
}

static void
test_open_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BerthStore) store = berth_store_new ("/nonexistent-dir/berth.db", &error);

  g_assert_null (store);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_FAILED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/store/migrations", Fixture, NULL, fixture_setup, test_migrations_apply_once, fixture_teardown);
  g_test_add ("/store/migration-failure", Fixture, NULL, fixture_setup, test_migration_failure_rolls_back, fixture_teardown);
  g_test_add ("/store/index", Fixture, NULL, fixture_setup, test_index_monotonic_and_persistent, fixture_teardown);
  g_test_add ("/store/rollback", Fixture, NULL, fixture_setup, test_failed_write_rolls_back, fixture_teardown);
  g_test_add ("/store/group-commit", Fixture, NULL, fixture_setup, test_group_commit_and_notifications, fixture_teardown);
  g_test_add ("/store/wait", Fixture, NULL, fixture_setup, test_wait_for_index, fixture_teardown);
  g_test_add ("/store/get-one", Fixture, NULL, fixture_setup, test_get_one, fixture_teardown);
  g_test_add ("/store/write-thread", Fixture, NULL, fixture_setup, test_write_thread, fixture_teardown);
  g_test_add_func ("/store/open-errors", test_open_errors);
  g_test_add ("/store/commit-hook", Fixture, NULL, fixture_setup, test_commit_hook, fixture_teardown);
  g_test_add ("/store/quick-check", Fixture, NULL, fixture_setup, test_quick_check_and_repair, fixture_teardown);
  return g_test_run ();
}
