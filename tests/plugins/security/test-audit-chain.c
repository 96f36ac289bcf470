/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Self-test of the audit trail's hash chain (security-audit-chain.c):
 * rows appended in store writes, their status sealed later, verification
 * naming the first row changed or removed, retention's signed checkpoint. */
#include "config.h"

#include <string.h>
#include <berth.h>
#include <berth-store-raw.h>
#include <glib/gstdio.h>

#include "security-audit-chain.h"

typedef struct {
  char       *dir;
  BerthStore *store;
  GBytes     *key;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  f->dir = g_dir_make_tmp ("berth-test-audit-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (f->dir, "berth.db", NULL);
  f->store = berth_store_new (path, &error);
  g_assert_no_error (error);
  g_assert_true (berth_store_migrate (f->store, "security-audit", audit_chain_migrations, &error));
  f->key = audit_key_load (f->dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (f->key), ==, 32);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  const char *names[] = { "berth.db", "berth.db-wal", "berth.db-shm", "audit.key" };

  g_clear_object (&f->store);
  g_bytes_unref (f->key);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = g_build_filename (f->dir, names[i], NULL);
      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

typedef struct {
  const char *path;
  guint       status;
  const char *time;
} Append;

static gboolean
append_write (BerthTxn *txn, gpointer data, GError **error)
{
  Append *a = data;
  AuditEntry e = { 0 };
  g_autoptr(BerthCaller) caller = berth_caller_new_tcp ("127.0.0.1:4000", FALSE);
  gboolean ok;

  berth_caller_set_accessor (caller, "accessor-1");
  audit_entry_from_call (&e, caller, "PUT", a->path, "PUT /v1/kv/*key", 7, a->status);
  if (a->time != NULL)
    {
      g_free (e.time);
      e.time = g_strdup (a->time);
    }
  ok = audit_chain_append (berth_txn_get_store (txn), &e, NULL, NULL, error);
  audit_entry_clear (&e);
  return ok;
}

static void
append (Fixture *f, const char *path, guint status, const char *time)
{
  g_autoptr(GError) error = NULL;
  Append a = { path, status, time };

  berth_store_write_sync (f->store, append_write, &a, &error);
  g_assert_no_error (error);
}

static JsonObject *
verify (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = audit_chain_verify (f->store, f->key, &error);

  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (node));
}

static void
assert_bad (Fixture *f, gint64 row, const char *reason_part)
{
  g_autoptr(JsonObject) v = verify (f);

  g_assert_false (json_object_get_boolean_member (v, "ok"));
  g_assert_cmpint (json_object_get_int_member (v, "first_bad_index"), ==, row);
  g_assert_nonnull (strstr (json_object_get_string_member (v, "reason"), reason_part));
}

static void
assert_ok (Fixture *f, gint64 rows)
{
  g_autoptr(JsonObject) v = verify (f);

  g_assert_true (json_object_get_boolean_member (v, "ok"));
  g_assert_cmpint (json_object_get_int_member (v, "rows"), ==, rows);
}

static void
sql (Fixture *f, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_assert_true (berth_store_exec (f->store, text, &error));
}

static void
test_chain (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *path = g_strdup_printf ("/v1/kv/k%u", i);
      append (f, path, 200, NULL);
    }
  assert_ok (f, 5);

  sql (f, "UPDATE audit SET accessor = 'someone-else' WHERE id = 3");
  assert_bad (f, 3, "Row 3 was changed");
  sql (f, "UPDATE audit SET accessor = 'accessor-1' WHERE id = 3");
  assert_ok (f, 5);

  sql (f, "UPDATE audit SET status = 404 WHERE id = 2");
  assert_bad (f, 2, "status of row 2");
  sql (f, "UPDATE audit SET status = 200 WHERE id = 2");

  sql (f, "DELETE FROM audit WHERE id = 4");
  assert_bad (f, 4, "Row 4 was removed");
}

static void
test_removed_tail (Fixture *f, gconstpointer data)
{
  append (f, "/v1/kv/a", 200, NULL);
  append (f, "/v1/kv/b", 200, NULL);
  sql (f, "DELETE FROM audit WHERE id = 2");
  assert_bad (f, 2, "Row 2 was removed");
}

static gboolean
set_status_write (BerthTxn *txn, gpointer data, GError **error)
{
  gboolean *found = data;
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (berth_txn_get_store (txn),
                                                      "SELECT hash FROM audit WHERE id = 1", error);
  gboolean row = FALSE;
  g_autofree char *hash = NULL;

  if (stmt == NULL || !berth_store_step (berth_txn_get_store (txn), stmt, &row, error) || !row)
    return FALSE;
  hash = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  g_clear_pointer (&stmt, berth_stmt_reset);
  return audit_chain_set_status (berth_txn_get_store (txn), 1, hash, 201, found, error);
}

static void
test_status_sealed_later (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gboolean found = FALSE;

  append (f, "/v2/apps", 0, NULL);  /* the reply is not known yet */
  append (f, "/v2/apps", 201, NULL);
  assert_ok (f, 2);
  berth_store_write_sync (f->store, set_status_write, &found, &error);
  g_assert_no_error (error);
  g_assert_true (found);
  assert_ok (f, 2);
  /* sealed once: a second status does not apply */
  berth_store_write_sync (f->store, set_status_write, &found, &error);
  g_assert_no_error (error);
  g_assert_false (found);
  sql (f, "UPDATE audit SET status = 200 WHERE id = 1");
  assert_bad (f, 1, "status of row 1");
}

typedef struct {
  const char *cutoff;
  GBytes     *key;
  guint       removed;
} Expire;

static gboolean
expire_write (BerthTxn *txn, gpointer data, GError **error)
{
  Expire *e = data;
  return audit_chain_expire (berth_txn_get_store (txn), e->cutoff, e->key, &e->removed, error);
}

static void
test_retention_checkpoint (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) v = NULL;
  g_autoptr(GBytes) other_key = NULL;
  Expire e = { "2020-01-01T00:00:00.000000Z", f->key, 0 };

  append (f, "/v1/kv/old1", 200, "2019-01-01T00:00:00.000000Z");
  append (f, "/v1/kv/old2", 200, "2019-06-01T00:00:00.000000Z");
  append (f, "/v1/kv/new", 200, NULL);
  berth_store_write_sync (f->store, expire_write, &e, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (e.removed, ==, 2);
  v = verify (f);
  g_assert_true (json_object_get_boolean_member (v, "ok"));
  g_assert_cmpint (json_object_get_int_member (v, "rows"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (v, "checkpoint"), "last_id"), ==, 2);

  /* the chain goes on from the checkpoint, also once every row expired */
  e.cutoff = "2999-01-01T00:00:00.000000Z";
  berth_store_write_sync (f->store, expire_write, &e, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (e.removed, ==, 1);
  append (f, "/v1/kv/after", 200, NULL);
  assert_ok (f, 1);

  /* a checkpoint signed with another key is not this node's */
  other_key = g_bytes_new ("0123456789abcdef0123456789abcdef", 32);
  {
    g_autoptr(JsonNode) node = audit_chain_verify (f->store, other_key, &error);
    g_assert_no_error (error);
    g_assert_false (json_object_get_boolean_member (json_node_get_object (node), "ok"));
  }
  sql (f, "UPDATE audit_checkpoints SET last_hash = '00'");
  assert_bad (f, 4, "checkpoint");
}

static void
test_key_file (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) again = audit_key_load (f->dir, &error);
  g_autofree char *path = g_build_filename (f->dir, "audit.key", NULL);
  GStatBuf st;

  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (again, f->key));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_set_contents (path, "not a key\n", -1, NULL));
  g_assert_null (audit_key_load (f->dir, &error));
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_FAILED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/audit/chain", Fixture, NULL, setup, test_chain, teardown);
  g_test_add ("/audit/removed-tail", Fixture, NULL, setup, test_removed_tail, teardown);
  g_test_add ("/audit/status", Fixture, NULL, setup, test_status_sealed_later, teardown);
  g_test_add ("/audit/retention", Fixture, NULL, setup, test_retention_checkpoint, teardown);
  g_test_add ("/audit/key", Fixture, NULL, setup, test_key_file, teardown);
  return g_test_run ();
}
