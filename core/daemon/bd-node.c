/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bd-node.h"
#include <berth-store-raw.h>

/* This node's identity (a UUID kept in the state directory, so it survives
 * restarts) and the resources it offers, registered in the core `nodes`
 * table at start. */

static char *
load_node_id (const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, "node-id", NULL);
  g_autofree char *contents = NULL;

  if (g_file_get_contents (path, &contents, NULL, NULL))
    {
      g_strstrip (contents);
      if (g_uuid_string_is_valid (contents))
        return g_steal_pointer (&contents);
      g_warning ("%s does not hold a UUID: making a new node id", path);
    }
  contents = g_uuid_string_random ();
  if (!g_file_set_contents (path, contents, -1, error))
    return NULL;
  return g_steal_pointer (&contents);
}

BerthNode *
bd_node_load (const char *state_dir, const char *name, const char *datacenter,
              const char *address, GError **error)
{
  g_autofree char *id = load_node_id (state_dir, error);
  g_autoptr(BerthNode) node = NULL;
  struct statvfs vfs;
  long pages = sysconf (_SC_PHYS_PAGES);
  long page_size = sysconf (_SC_PAGESIZE);
  guint64 disk = 0;

  if (id == NULL)
    return NULL;
  node = berth_node_new (id, name, datacenter, address);
  if (statvfs (state_dir, &vfs) == 0)
    disk = (guint64) vfs.f_bavail * vfs.f_frsize;
  berth_node_set_resources (node, g_get_num_processors (),
                            pages > 0 && page_size > 0 ? (guint64) pages * (guint64) page_size : 0,
                            disk);
  berth_node_set_meta (node, "berth-version", BERTH_VERSION);
  return g_steal_pointer (&node);
}

static char *
json_text (JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

static gboolean
register_write (BerthTxn *txn, gpointer user_data, GError **error)
{
  BerthNode *node = user_data;
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) json = berth_node_to_json (node);
  JsonObject *obj = json_node_get_object (json);
  g_autofree char *meta = json_text (json_object_get_member (obj, "Meta"));
  g_autofree char *resources = json_text (json_object_get_member (obj, "Resources"));
  gint64 index = (gint64) berth_txn_get_index (txn);

  /* a node renamed since the last run keeps its id; another row with the
   * new name (an older id) is replaced */
  stmt = berth_store_prepare (store, "DELETE FROM nodes WHERE name = ?1 AND id != ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, berth_node_get_name (node), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, berth_node_get_id (node), -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  sqlite3_reset (stmt);

  stmt = berth_store_prepare (store,
                              "INSERT INTO nodes (id, name, datacenter, address, meta, resources,"
                              " create_index, modify_index) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) "
                              "ON CONFLICT (id) DO UPDATE SET name = ?2, datacenter = ?3, address = ?4,"
                              " meta = ?5, resources = ?6, modify_index = ?7",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, berth_node_get_id (node), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, berth_node_get_name (node), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, berth_node_get_datacenter (node), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, berth_node_get_address (node), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, meta, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, resources, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 7, index);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  berth_txn_changed (txn, "node", berth_node_get_name (node));
  return TRUE;
}

gboolean
bd_node_register (BerthStore *store, BerthNode *node, GError **error)
{
  return berth_store_write_sync (store, register_write, node, error) != 0;
}
