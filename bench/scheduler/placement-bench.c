/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Placement decisions per second: 10,000 tasks against 100 simulated node
 * records in a scratch store, the placement function alone (built and run
 * by bench/scheduler/run). */
#include "config.h"

#include <berth.h>
#include <berth-store-raw.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "scheduler-placement.h"

#define N_NODES 100
#define N_TASKS 10000

static gboolean
add_nodes (BerthTxn *txn, gpointer user_data, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);

  for (int i = 0; i < N_NODES; i++)
    {
      g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store,
        "INSERT INTO nodes (id, name, datacenter, address, meta, resources, create_index, modify_index)"
        " VALUES (?1, ?2, 'dc1', ?3, '{\"rack\":\"r1\"}', ?4, ?5, ?5)", error);
      g_autofree char *id = g_strdup_printf ("node-%03d", i);
      g_autofree char *addr = g_strdup_printf ("10.0.%d.%d", i / 250, i % 250 + 1);
      g_autofree char *res = g_strdup_printf ("{\"cpus\":%d,\"mem_bytes\":%" G_GINT64_FORMAT ",\"disk_bytes\":%"
                                              G_GINT64_FORMAT "}", 16 + i % 16, (gint64) (32 + i % 32) << 30,
                                              (gint64) 500 << 30);
      gboolean row;
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, addr, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 4, res, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 5, (gint64) berth_txn_get_index (txn));
      if (!berth_store_step (store, stmt, &row, error))
        return FALSE;
      berth_txn_changed (txn, "node", id);
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("berth-placement-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(BerthStore) store = NULL;
  g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) scheduler_node_free_free);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  gboolean row = FALSE;
  SchedulerNeed need = { .app_id = "/bench", .cpus = 0.1, .mem_mb = 64, .disk_mb = 0, .n_ports = 1 };
  gint64 start, end;
  guint placed = 0;

  if (dir == NULL)
    return 1;
  path = g_build_filename (dir, "berth.db", NULL);
  store = berth_store_new (path, &error);
  if (store == NULL || berth_store_write_sync (store, add_nodes, NULL, &error) == 0)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  stmt = berth_store_prepare (store, "SELECT id, name, address, resources FROM nodes", &error);
  while (stmt != NULL && berth_store_step (store, stmt, &row, NULL) && row)
    {
      JsonObject *r;
      json_parser_load_from_data (parser, (const char *) sqlite3_column_text (stmt, 3), -1, NULL);
      r = json_node_get_object (json_parser_get_root (parser));
      g_ptr_array_add (nodes, scheduler_node_free_new ((const char *) sqlite3_column_text (stmt, 0),
                                                       (const char *) sqlite3_column_text (stmt, 1),
                                                       (const char *) sqlite3_column_text (stmt, 2),
                                                       json_object_get_double_member (r, "cpus"),
                                                       json_object_get_int_member (r, "mem_bytes") / 1048576.0,
                                                       json_object_get_int_member (r, "disk_bytes") / 1048576.0));
    }
  g_clear_pointer (&stmt, berth_stmt_reset);
  start = g_get_monotonic_time ();
  for (int i = 0; i < N_TASKS; i++)
    {
      g_autofree char *reason = NULL;
      g_autoptr(GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint));
      gint at = scheduler_place (&need, nodes, &reason);
      SchedulerNodeFree *node;
      if (at < 0)
        continue;
      node = g_ptr_array_index (nodes, at);
      scheduler_node_take_ports (node, need.n_ports, ports);
      scheduler_node_free_use (node, need.app_id, need.cpus, need.mem_mb, need.disk_mb, NULL);
      placed++;
    }
  end = g_get_monotonic_time ();
  printf ("placement: %u of %d tasks on %u nodes in %.3f s: %.0f decisions/s\n", placed, N_TASKS, nodes->len,
          (end - start) / 1e6, N_TASKS / ((end - start) / 1e6));
  berth_store_close (store);
  g_unlink (path);
  {
    g_autofree char *wal = g_strconcat (path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (path, "-shm", NULL);
    g_unlink (wal);
    g_unlink (shm);
  }
  g_rmdir (dir);
  return 0;
}
