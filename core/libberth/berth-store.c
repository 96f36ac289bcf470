/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "berth-error.h"
#include "berth-store-private.h"
#include "berth-store-raw.h"

/**
 * SECTION:berth-store
 * @title: BerthStore
 * @short_description: the one SQLite database that holds all state
 *
 * #BerthStore wraps one SQLite database in WAL mode. Every write goes
 * through berth_store_write_async() (or berth_store_write_sync()); writes
 * that arrive in the same main-loop iteration are committed together in one
 * transaction (group commit), each in its own savepoint, so that a failing
 * write rolls back alone. Every successful write that changes something gets
 * the next value of one global, monotonically increasing index. After the
 * commit the store emits #BerthStore::changed for every recorded change and
 * wakes the blocking queries waiting in berth_store_wait_async().
 *
 * All calls must be made from the thread that owns the main context the
 * store was created in.
 */

#define MAX_BATCH 4096

typedef struct {
  BerthStoreWriteFunc func;
  gpointer            data;
  GDestroyNotify      destroy;
  GTask              *task;     /* NULL for a synchronous write */
  guint64             index;
  GError             *error;
  GObject            *tag;      /* the current tag when it was queued */
  gboolean            changed;  /* it consumed an index */
} PendingWrite;


enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (BerthStore, berth_store, G_TYPE_OBJECT)

static const char * const core_migrations[] = {
  /* 1 */
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
  "INSERT INTO meta (key, value) VALUES ('index', 0);"
  "CREATE TABLE nodes ("
  "  id TEXT PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  datacenter TEXT NOT NULL,"
  "  address TEXT NOT NULL,"
  "  meta TEXT NOT NULL DEFAULT '{}',"
  "  resources TEXT NOT NULL DEFAULT '{}',"
  "  create_index INTEGER NOT NULL,"
  "  modify_index INTEGER NOT NULL);",
  /* 2: tasks, the contract between the scheduler (writes the tasks it
   * wants: spec, desired_state) and the runtime of node_id (runs them and
   * writes their actual state). Topic "task", key = id. */
  "CREATE TABLE tasks ("
  "  id TEXT PRIMARY KEY,"
  "  app_id TEXT,"
  "  node_id TEXT NOT NULL,"
  "  version TEXT,"
  "  spec TEXT NOT NULL,"
  "  desired_state TEXT NOT NULL,"
  "  state TEXT NOT NULL,"
  "  host TEXT,"
  "  ports TEXT,"
  "  runtime_id TEXT,"
  "  exit_code INTEGER,"
  "  message TEXT,"
  "  staged_at TEXT,"
  "  started_at TEXT,"
  "  finished_at TEXT,"
  "  create_index INTEGER NOT NULL,"
  "  modify_index INTEGER NOT NULL);"
  "CREATE INDEX tasks_app ON tasks (app_id);"
  "CREATE INDEX tasks_node ON tasks (node_id);",
  /* 3: the health of a task as the scheduler's health checks see it,
   * written by the scheduler when it changes: NULL (unknown, or no
   * checks), 'passing' or 'critical'. */
  "ALTER TABLE tasks ADD COLUMN health TEXT;",
  NULL
};

static gboolean
set_sqlite_error (GError **error, sqlite3 *db, int rc, const char *what)
{
  int code = BERTH_ERROR_FAILED;

  if ((rc & 0xff) == SQLITE_CONSTRAINT)
    code = BERTH_ERROR_CONFLICT;
  else if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
    code = BERTH_ERROR_UNAVAILABLE;
  g_set_error (error, BERTH_ERROR, code, "%s: %s", what,
               db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
  return FALSE;
}

static void
pending_write_free (PendingWrite *pw)
{
  if (pw->destroy != NULL && pw->data != NULL)
    pw->destroy (pw->data);
  g_clear_object (&pw->task);
  g_clear_object (&pw->tag);
  g_clear_error (&pw->error);
  g_free (pw);
}

static void
dispatch_changes (BerthStore *self, GPtrArray *changes)
{
  if (changes->len == 0)
    return;
  berth_store_wake_waiters (self, changes);
  for (guint i = 0; i < changes->len; i++)
    {
      BerthChange *c = g_ptr_array_index (changes, i);
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0, c->index, c->topic, c->key);
    }
}

/**
 * berth_store_exec:
 * @self: a #BerthStore
 * @sql: one or more SQL statements
 * @error: return location for a #GError
 *
 * Runs SQL that returns no rows. Use it for schema work, not for data
 * written on behalf of a request: that goes through a write function.
 *
 * Returns: %TRUE on success
 */
gboolean
berth_store_exec (BerthStore *self, const char *sql, GError **error)
{
  char *errmsg = NULL;
  int rc;

  g_return_val_if_fail (BERTH_IS_STORE (self), FALSE);
  g_return_val_if_fail (sql != NULL, FALSE);
  g_return_val_if_fail (self->db != NULL, FALSE);

  rc = sqlite3_exec (self->db, sql, NULL, NULL, &errmsg);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, BERTH_ERROR,
                   (rc & 0xff) == SQLITE_CONSTRAINT ? BERTH_ERROR_CONFLICT : BERTH_ERROR_FAILED,
                   "%s", errmsg != NULL ? errmsg : sqlite3_errstr (rc));
      sqlite3_free (errmsg);
      return FALSE;
    }
  return TRUE;
}

/**
 * berth_store_prepare: (skip)
 * @self: a #BerthStore
 * @sql: one SQL statement
 * @error: return location for a #GError
 *
 * Returns a prepared statement from the store's cache, reset and with its
 * bindings cleared. The store owns it: never finalize it; reset it when done
 * (declaring it `g_autoptr(sqlite3_stmt)` does that).
 *
 * Returns: (transfer none) (nullable): the statement, or %NULL on error
 */
sqlite3_stmt *
berth_store_prepare (BerthStore *self, const char *sql, GError **error)
{
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (BERTH_IS_STORE (self), NULL);
  g_return_val_if_fail (sql != NULL, NULL);

  if (self->db == NULL)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE, _("The store is closed"));
      return NULL;
    }

  stmt = g_hash_table_lookup (self->stmts, sql);
  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }

  rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, self->db, rc, _("Cannot prepare statement"));
      return NULL;
    }
  g_hash_table_insert (self->stmts, g_strdup (sql), stmt);
  return stmt;
}

/**
 * berth_store_step: (skip)
 * @self: a #BerthStore
 * @stmt: a statement from berth_store_prepare()
 * @have_row: (out) (optional): set to %TRUE when a row is available
 * @error: return location for a #GError
 *
 * Steps @stmt once, turning SQLite failures into a #GError.
 *
 * Returns: %TRUE unless an error occurred
 */
gboolean
berth_store_step (BerthStore *self, sqlite3_stmt *stmt, gboolean *have_row, GError **error)
{
  int rc;

  g_return_val_if_fail (BERTH_IS_STORE (self), FALSE);
  g_return_val_if_fail (stmt != NULL, FALSE);

  rc = sqlite3_step (stmt);
  if (have_row != NULL)
    *have_row = (rc == SQLITE_ROW);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    return TRUE;
  return set_sqlite_error (error, self->db, rc, _("Store query failed"));
}

/**
 * berth_store_collect: (skip)
 * @self: a #BerthStore
 * @stmt: a prepared statement with its parameters bound
 * @row_func: makes an object of a row
 * @free_func: frees such an object
 * @error: return location for a #GError
 *
 * Steps @stmt to its end and collects one object per row, then resets
 * @stmt. The list of every "SELECT … ORDER BY" of a plugin.
 *
 * Returns: (transfer container) (nullable): the objects, or %NULL on error
 */
GPtrArray *
berth_store_collect (BerthStore *self, sqlite3_stmt *stmt, BerthRowFunc row_func,
                     GDestroyNotify free_func, GError **error)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func (free_func);
  gboolean have_row = TRUE;

  g_return_val_if_fail (BERTH_IS_STORE (self), NULL);
  g_return_val_if_fail (stmt != NULL && row_func != NULL, NULL);

  while (TRUE)
    {
      if (!berth_store_step (self, stmt, &have_row, error))
        {
          sqlite3_reset (stmt);
          return NULL;
        }
      if (!have_row)
        break;
      g_ptr_array_add (list, row_func (stmt));
    }
  sqlite3_reset (stmt);
  return g_steal_pointer (&list);
}

/**
 * berth_store_get_one:
 * @self: a #BerthStore
 * @stmt: a prepared statement with its parameters bound
 * @row_func: makes an object of a row
 * @what: what is looked up, for the error message, e.g. `app “/web”`
 * @error: return location for a #GError
 *
 * Steps @stmt once and makes an object of its first row, then resets
 * @stmt. The lookup by key of every plugin.
 *
 * Returns: (transfer full) (nullable): the object; %NULL with
 *   %BERTH_ERROR_NOT_FOUND (“No such …”) when there is no row, or with
 *   the store's error
 */
gpointer
berth_store_get_one (BerthStore *self, sqlite3_stmt *stmt, BerthRowFunc row_func,
                     const char *what, GError **error)
{
  gboolean have_row = FALSE;
  gpointer object;

  g_return_val_if_fail (BERTH_IS_STORE (self), NULL);
  g_return_val_if_fail (stmt != NULL && row_func != NULL && what != NULL, NULL);

  if (!berth_store_step (self, stmt, &have_row, error))
    {
      sqlite3_reset (stmt);
      return NULL;
    }
  if (!have_row)
    {
      sqlite3_reset (stmt);
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("No such %s"), what);
      return NULL;
    }
  object = row_func (stmt);
  sqlite3_reset (stmt);
  return object;
}

static gboolean
load_index (BerthStore *self, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean have_row = FALSE;

  stmt = berth_store_prepare (self, "SELECT value FROM meta WHERE key = 'index'", error);
  if (stmt == NULL)
    return FALSE;
  if (!berth_store_step (self, stmt, &have_row, error))
    return FALSE;
  self->index = have_row ? (guint64) sqlite3_column_int64 (stmt, 0) : 0;
  return TRUE;
}

static gboolean
berth_store_open (BerthStore *self, GError **error)
{
  int rc;
  g_autofree char *pragmas = NULL;

  rc = sqlite3_open_v2 (self->path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED,
                   _("Cannot open store “%s”: %s"), self->path,
                   self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return FALSE;
    }
  sqlite3_extended_result_codes (self->db, 1);
  /* a damaged file is refused before anything reads or writes it */
  if (!berth_store_quick_check (self, error))
    return FALSE;
  pragmas = g_strdup_printf ("PRAGMA journal_mode=WAL;"
                             "PRAGMA synchronous=%s;"
                             "PRAGMA foreign_keys=ON;"
                             "PRAGMA busy_timeout=5000;"
                             "CREATE TABLE IF NOT EXISTS schema_versions ("
                             "  owner TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;",
                             self->sync == BERTH_STORE_SYNC_FULL ? "FULL" : "NORMAL");
  if (!berth_store_exec (self, pragmas, error))
    {
      g_prefix_error (error, _("Cannot open store “%s”: "), self->path);
      return FALSE;
    }
  if (!berth_store_migrate (self, "core", core_migrations, error))
    return FALSE;
  return load_index (self, error);
}

/**
 * berth_store_new:
 * @path: the database file; its directory must exist
 * @error: return location for a #GError
 *
 * Opens (creating if needed) the store at @path with
 * %BERTH_STORE_SYNC_NORMAL and brings the core schema up to date.
 *
 * Returns: (transfer full): a new #BerthStore, or %NULL on error
 */
BerthStore *
berth_store_new (const char *path, GError **error)
{
  return berth_store_new_full (path, BERTH_STORE_SYNC_NORMAL, error);
}

/**
 * berth_store_new_full:
 * @path: the database file; its directory must exist
 * @sync: how durable a commit must be
 * @error: return location for a #GError
 *
 * Opens (creating if needed) the store at @path.
 *
 * Returns: (transfer full): a new #BerthStore, or %NULL on error
 */
BerthStore *
berth_store_new_full (const char *path, BerthStoreSync sync, GError **error)
{
  g_autoptr(BerthStore) self = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (BERTH_TYPE_STORE, NULL);
  self->path = g_strdup (path);
  self->sync = sync;
  if (!berth_store_open (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * berth_store_get_path:
 * @self: a #BerthStore
 *
 * Returns: the database file's path
 */
const char *
berth_store_get_path (BerthStore *self)
{
  g_return_val_if_fail (BERTH_IS_STORE (self), NULL);
  return self->path;
}

/**
 * berth_store_get_index:
 * @self: a #BerthStore
 *
 * Returns: the index of the last committed write (0 for a new store)
 */
guint64
berth_store_get_index (BerthStore *self)
{
  g_return_val_if_fail (BERTH_IS_STORE (self), 0);
  return self->index;
}

/**
 * berth_store_get_db: (skip)
 * @self: a #BerthStore
 *
 * The SQLite handle, for reads. Writes must go through a write function.
 *
 * Returns: (transfer none): the database handle
 */
sqlite3 *
berth_store_get_db (BerthStore *self)
{
  g_return_val_if_fail (BERTH_IS_STORE (self), NULL);
  return self->db;
}

/* Runs one statement of the write path through the statement cache: they
 * run for every write, and compiling them each time is measurable. */
static gboolean
exec_cached (BerthStore *self, const char *sql, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (self, sql, error);
  return stmt != NULL && berth_store_step (self, stmt, NULL, error);
}

/* Runs one write inside the open transaction, in its own savepoint.
 * Returns the changes it made (empty on failure). */
static GPtrArray *
run_one_write (BerthStore *self, PendingWrite *pw)
{
  BerthTxn *txn;
  GPtrArray *changes;
  GError *error = NULL;

  if (pw->task != NULL && g_task_return_error_if_cancelled (pw->task))
    {
      g_clear_object (&pw->task);
      return NULL;
    }

  if (!exec_cached (self, "SAVEPOINT berth_write", &pw->error))
    return NULL;

  txn = berth_txn_new (self, self->index + 1);
  if (!pw->func (txn, pw->data, &error))
    {
      if (error == NULL)
        g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_FAILED, _("The write failed"));
      pw->error = error;
      exec_cached (self, "ROLLBACK TO berth_write", NULL);
      exec_cached (self, "RELEASE berth_write", NULL);
      berth_txn_free (txn);
      return NULL;
    }
  exec_cached (self, "RELEASE berth_write", NULL);
  changes = berth_txn_steal_changes (txn);
  berth_txn_free (txn);
  if (changes->len > 0)
    self->index++;
  pw->changed = changes->len > 0;
  pw->index = self->index;
  return changes;
}

static gboolean
save_index (BerthStore *self, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (self, "UPDATE meta SET value = ? WHERE key = 'index'", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) self->index);
  return berth_store_step (self, stmt, NULL, error);
}

/* Inside the open transaction: hands the tagged writes that changed
 * something to the commit hooks (berth-store-hooks.c). */
static gboolean
run_commit_hooks (BerthStore *self, PendingWrite **writes, guint n, GError **error)
{
  g_autoptr(GArray) commits = NULL;

  if (self->commit_hooks == NULL || self->commit_hooks->len == 0)
    return TRUE;
  commits = g_array_new (FALSE, FALSE, sizeof (BerthStoreCommit));
  for (guint i = 0; i < n; i++)
    if (writes[i]->tag != NULL && writes[i]->changed && writes[i]->error == NULL)
      {
        BerthStoreCommit c = { writes[i]->tag, writes[i]->index };
        g_array_append_val (commits, c);
      }
  return berth_store_run_commit_hooks (self, commits, error);
}

/* Runs @n writes in one transaction and records each one's result in it.
 * On a failed commit every write of the batch fails. Changes are dispatched
 * after the commit. */
static void
commit_batch (BerthStore *self, PendingWrite **writes, guint n)
{
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GError) error = NULL;
  guint64 old_index = self->index;

  changes = g_ptr_array_new_with_free_func ((GDestroyNotify) berth_change_free);
  if (self->db == NULL)
    g_set_error_literal (&error, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE, _("The store is closed"));
  else if (exec_cached (self, "BEGIN IMMEDIATE", &error))
    {
      for (guint i = 0; i < n; i++)
        {
          g_autoptr(GPtrArray) one = run_one_write (self, writes[i]);
          if (one != NULL)
            g_ptr_array_extend_and_steal (changes, g_steal_pointer (&one));
        }
      if (self->index != old_index)
        run_commit_hooks (self, writes, n, &error);
      if (error == NULL && (self->index == old_index || save_index (self, &error)))
        exec_cached (self, "COMMIT", &error);
      if (error != NULL)
        exec_cached (self, "ROLLBACK", NULL);
    }

  if (error != NULL)
    {
      /* nothing of this batch is durable: fail every write in it */
      g_warning ("store: commit of %u writes failed: %s", n, error->message);
      self->index = old_index;
      g_ptr_array_set_size (changes, 0);
      for (guint i = 0; i < n; i++)
        {
          g_clear_error (&writes[i]->error);
          writes[i]->error = g_error_copy (error);
        }
    }
  dispatch_changes (self, changes);
}

/**
 * berth_store_flush:
 * @self: a #BerthStore
 *
 * Commits every queued write now, in one transaction, instead of waiting for
 * the main loop to become idle. The callbacks of the writes run as usual.
 */
void
berth_store_flush (BerthStore *self)
{
  g_return_if_fail (BERTH_IS_STORE (self));

  if (self->flush_source != NULL)
    {
      g_source_destroy (self->flush_source);
      g_clear_pointer (&self->flush_source, g_source_unref);
    }

  while (!g_queue_is_empty (&self->pending))
    {
      g_autoptr(GPtrArray) batch = NULL;

      batch = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_write_free);
      while (!g_queue_is_empty (&self->pending) && batch->len < MAX_BATCH)
        g_ptr_array_add (batch, g_queue_pop_head (&self->pending));
      commit_batch (self, (PendingWrite **) batch->pdata, batch->len);

      for (guint i = 0; i < batch->len; i++)
        {
          PendingWrite *pw = g_ptr_array_index (batch, i);
          if (pw->task == NULL)
            continue;
          if (pw->error != NULL)
            g_task_return_error (pw->task, g_steal_pointer (&pw->error));
          else
            g_task_return_int (pw->task, (gssize) pw->index);
        }
    }
}

static gboolean
flush_idle_cb (gpointer data)
{
  BerthStore *self = data;
  g_clear_pointer (&self->flush_source, g_source_unref);
  berth_store_flush (self);
  return G_SOURCE_REMOVE;
}

/* Writes, and the model objects they touch, belong to the thread that
 * made the store (the daemon's main loop): a write from another thread
 * would race the group commit. */
static gboolean
on_owner_thread (BerthStore *self)
{
  if (G_LIKELY (g_thread_self () == self->owner))
    return TRUE;
  g_critical ("store: write from a thread that does not own the store; "
              "hand the result to the main loop instead");
  return FALSE;
}

static PendingWrite *
queue_write (BerthStore *self, BerthStoreWriteFunc func, gpointer data, GDestroyNotify destroy)
{
  PendingWrite *pw = g_new0 (PendingWrite, 1);
  pw->func = func;
  pw->data = data;
  pw->destroy = destroy;
  if (self->current_tag != NULL)
    pw->tag = g_object_ref (self->current_tag);
  g_queue_push_tail (&self->pending, pw);
  return pw;
}

/**
 * berth_store_write_async:
 * @self: a #BerthStore
 * @func: (scope notified): the write
 * @func_data: (closure func): data for @func
 * @func_data_destroy: (destroy func_data) (nullable): frees @func_data after the write
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the write is committed or has failed
 * @user_data: data for @callback
 *
 * Queues a write. It runs, together with the other writes queued in this
 * main-loop iteration, in one transaction at the next iteration, and
 * @callback is called after that transaction is durable as the store's
 * #BerthStoreSync setting promises.
 */
void
berth_store_write_async (BerthStore *self, BerthStoreWriteFunc func, gpointer func_data,
                         GDestroyNotify func_data_destroy, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  PendingWrite *pw;

  g_return_if_fail (BERTH_IS_STORE (self));
  g_return_if_fail (func != NULL);
  g_return_if_fail (on_owner_thread (self));

  pw = queue_write (self, func, func_data, func_data_destroy);
  pw->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (pw->task, berth_store_write_async);

  if (self->flush_source == NULL)
    {
      self->flush_source = g_idle_source_new ();
      /* default priority, not idle: under constant load the loop is never
       * idle, and writes must not starve. The writes queued by the sources
       * dispatched in this iteration still share one commit. */
      g_source_set_priority (self->flush_source, G_PRIORITY_DEFAULT);
      g_source_set_callback (self->flush_source, flush_idle_cb, self, NULL);
      g_source_set_static_name (self->flush_source, "[berth] store group commit");
      g_source_attach (self->flush_source, g_main_context_get_thread_default ());
    }
}

/**
 * berth_store_write_finish:
 * @self: a #BerthStore
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: the index the write committed at (the current index if it
 *   changed nothing), or 0 on error
 */
guint64
berth_store_write_finish (BerthStore *self, GAsyncResult *result, GError **error)
{
  gssize ret;

  g_return_val_if_fail (BERTH_IS_STORE (self), 0);
  g_return_val_if_fail (g_task_is_valid (result, self), 0);

  ret = g_task_propagate_int (G_TASK (result), error);
  return ret < 0 ? 0 : (guint64) ret;
}

/**
 * berth_store_write_sync: (skip)
 * @self: a #BerthStore
 * @func: the write
 * @func_data: data for @func
 * @error: return location for a #GError
 *
 * Runs a write now, after any queued ones, and commits it before returning.
 *
 * Returns: the index the write committed at (the current index if it
 *   changed nothing), or 0 on error
 */
guint64
berth_store_write_sync (BerthStore *self, BerthStoreWriteFunc func, gpointer func_data, GError **error)
{
  PendingWrite pw = { .func = func, .data = func_data, .tag = self->current_tag };
  PendingWrite *writes[] = { &pw };

  g_return_val_if_fail (BERTH_IS_STORE (self), 0);
  g_return_val_if_fail (func != NULL, 0);
  g_return_val_if_fail (on_owner_thread (self), 0);

  /* the writes queued before this one commit first */
  berth_store_flush (self);
  commit_batch (self, writes, 1);
  if (pw.error != NULL)
    {
      g_propagate_error (error, pw.error);
      return 0;
    }
  return pw.index;
}

/**
 * berth_store_close:
 * @self: a #BerthStore
 *
 * Commits queued writes, fails the blocking queries still waiting and
 * closes the database. Further calls fail with %BERTH_ERROR_UNAVAILABLE.
 */
void
berth_store_close (BerthStore *self)
{
  g_return_if_fail (BERTH_IS_STORE (self));

  if (self->db == NULL)
    return;
  berth_store_flush (self);
  berth_store_fail_waiters (self);
  g_hash_table_remove_all (self->stmts);
  sqlite3_close_v2 (self->db);
  self->db = NULL;
}

static void
berth_store_finalize (GObject *object)
{
  BerthStore *self = BERTH_STORE (object);

  berth_store_close (self);
  g_clear_pointer (&self->commit_hooks, g_ptr_array_unref);
  g_clear_object (&self->current_tag);
  g_hash_table_unref (self->stmts);
  g_free (self->path);
  G_OBJECT_CLASS (berth_store_parent_class)->finalize (object);
}

static void
berth_store_class_init (BerthStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = berth_store_finalize;

  /**
   * BerthStore::changed:
   * @self: the store
   * @index: the index of the commit that made the change
   * @topic: what kind of state changed
   * @key: (nullable): which object, or %NULL for the whole topic
   *
   * Emitted after a commit, once for every change it recorded.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_UINT64, G_TYPE_STRING, G_TYPE_STRING);
}

static void
stmt_finalize (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static void
berth_store_init (BerthStore *self)
{
  self->stmts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, stmt_finalize);
  g_queue_init (&self->pending);
  self->owner = g_thread_self ();
}
