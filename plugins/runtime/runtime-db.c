/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "runtime-db.h"
#include <berth-store-raw.h>

/* Small helper for the plugin's writes: a list of statements with their
 * values, applied in one store write (one savepoint, one index). */

typedef struct {
  char      *sql;
  GPtrArray *values;   /* GVariant* or NULL or RUNTIME_DB_INDEX */
} Statement;

struct _RuntimeDbBatch {
  char   *topic;
  char   *key;
  GArray *statements;
};

static void
statement_clear (Statement *st)
{
  g_free (st->sql);
  g_ptr_array_unref (st->values);
}

static void
value_free (gpointer v)
{
  if (v != NULL && v != RUNTIME_DB_INDEX)
    g_variant_unref (v);
}

RuntimeDbBatch *
runtime_db_batch_new (const char *topic, const char *key)
{
  RuntimeDbBatch *batch = g_new0 (RuntimeDbBatch, 1);

  batch->topic = g_strdup (topic);
  batch->key = g_strdup (key);
  batch->statements = g_array_new (FALSE, TRUE, sizeof (Statement));
  g_array_set_clear_func (batch->statements, (GDestroyNotify) statement_clear);
  return batch;
}

void
runtime_db_batch_free (RuntimeDbBatch *batch)
{
  if (batch == NULL)
    return;
  g_free (batch->topic);
  g_free (batch->key);
  g_array_unref (batch->statements);
  g_free (batch);
}

/* Values follow @sql until a terminating NULL... but NULL is also a SQL
 * null. So the list is terminated by a NULL *sentinel pointer* given as
 * the last argument, and SQL nulls are written as g_variant_new
 * ("mv", NULL). */
void
runtime_db_batch_add (RuntimeDbBatch *batch, const char *sql, ...)
{
  Statement st = { 0 };
  va_list ap;
  GVariant *v;

  st.sql = g_strdup (sql);
  st.values = g_ptr_array_new_with_free_func (value_free);
  va_start (ap, sql);
  while ((v = va_arg (ap, GVariant *)) != NULL)
    {
      if (v != RUNTIME_DB_INDEX)
        g_variant_ref_sink (v);
      g_ptr_array_add (st.values, v);
    }
  va_end (ap);
  g_array_append_val (batch->statements, st);
}

static void
bind_value (sqlite3_stmt *stmt, int pos, GVariant *v, guint64 index)
{
  if (v == RUNTIME_DB_INDEX)
    sqlite3_bind_int64 (stmt, pos, (sqlite3_int64) index);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING))
    sqlite3_bind_text (stmt, pos, g_variant_get_string (v, NULL), -1, SQLITE_TRANSIENT);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
    sqlite3_bind_int64 (stmt, pos, g_variant_get_int64 (v));
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    sqlite3_bind_double (stmt, pos, g_variant_get_double (v));
  else
    sqlite3_bind_null (stmt, pos);
}

static gboolean
batch_write (BerthTxn *txn, gpointer user_data, GError **error)
{
  RuntimeDbBatch *batch = user_data;
  BerthStore *store = berth_txn_get_store (txn);
  guint64 index = berth_txn_get_index (txn);

  for (guint i = 0; i < batch->statements->len; i++)
    {
      Statement *st = &g_array_index (batch->statements, Statement, i);
      g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, st->sql, error);
      gboolean have_row;

      if (stmt == NULL)
        return FALSE;
      sqlite3_clear_bindings (stmt);
      for (guint j = 0; j < st->values->len; j++)
        bind_value (stmt, (int) j + 1, g_ptr_array_index (st->values, j), index);
      do
        {
          if (!berth_store_step (store, stmt, &have_row, error))
            return FALSE;
        }
      while (have_row);
    }
  if (batch->topic != NULL)
    berth_txn_changed (txn, batch->topic, batch->key != NULL ? batch->key : "");
  return TRUE;
}

guint64
runtime_db_batch_run (RuntimeDbBatch *batch, BerthStore *store, GError **error)
{
  return berth_store_write_sync (store, batch_write, batch, error);
}

/* Takes @batch; @callback gets the store as its source object. */
void
runtime_db_batch_run_async (RuntimeDbBatch *batch, BerthStore *store, GAsyncReadyCallback callback,
                            gpointer user_data)
{
  berth_store_write_async (store, batch_write, batch, (GDestroyNotify) runtime_db_batch_free, NULL, callback,
                           user_data);
}

guint64
runtime_db_batch_run_finish (BerthStore *store, GAsyncResult *result, GError **error)
{
  return berth_store_write_finish (store, result, error);
}

char *
runtime_db_column_dup (sqlite3_stmt *stmt, int col)
{
  if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
    return NULL;
  return g_strdup ((const char *) sqlite3_column_text (stmt, col));
}
