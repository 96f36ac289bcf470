/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "runtime-db.h"
#include "runtime-image-private.h"
#include <berth-store-raw.h>

/* Reading the image records as BerthImage models. */

#define IMAGE_COLUMNS "id, manifest_digest, size, created_at, config"

static gpointer
image_row (sqlite3_stmt *stmt)
{
  BerthImage *image = berth_image_new ((const char *) sqlite3_column_text (stmt, 0));

  berth_image_set_manifest_digest (image, (const char *) sqlite3_column_text (stmt, 1));
  berth_image_set_compressed_size (image, (guint64) MAX (sqlite3_column_int64 (stmt, 2), 0));
  berth_image_set_created (image, sqlite3_column_int64 (stmt, 3));
  return image;
}

typedef struct {
  char   *diff_id;
  gint64  unpacked;
} LayerRow;

static gpointer
layer_row (sqlite3_stmt *stmt)
{
  LayerRow *row = g_new0 (LayerRow, 1);
  row->diff_id = runtime_db_column_dup (stmt, 0);
  row->unpacked = sqlite3_column_int64 (stmt, 1);
  return row;
}

static void
layer_row_free (LayerRow *row)
{
  g_free (row->diff_id);
  g_free (row);
}

/* Adds the tags, the layers and the size to @image. */
static gboolean
complete (RuntimeImages *self, BerthImage *image, GError **error)
{
  BerthStore *store = runtime_images_store (self);
  const char *id = berth_image_get_id (image);
  g_autoptr(GPtrArray) tags = runtime_images_tags_of (self, id, error);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) layers = NULL;
  guint64 size = 0;

  if (tags == NULL)
    return FALSE;
  for (guint i = 0; i < tags->len; i++)
    berth_image_add_repo_tag (image, g_ptr_array_index (tags, i));
  stmt = berth_store_prepare (store,
                              "SELECT l.diff_id, IFNULL(s.unpacked_size, 0) FROM image_layers l"
                              " LEFT JOIN layers s ON s.diff_id = l.diff_id"
                              " WHERE l.image_id = ? ORDER BY l.position",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  layers = berth_store_collect (store, stmt, layer_row, (GDestroyNotify) layer_row_free, error);
  if (layers == NULL)
    return FALSE;
  for (guint i = 0; i < layers->len; i++)
    {
      LayerRow *row = g_ptr_array_index (layers, i);
      berth_image_add_layer (image, row->diff_id);
      size += (guint64) MAX (row->unpacked, 0);
    }
  berth_image_set_size (image, size);
  return TRUE;
}

GPtrArray *
runtime_images_list (RuntimeImages *self, GError **error)
{
  BerthStore *store = runtime_images_store (self);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store,
                                                      "SELECT " IMAGE_COLUMNS " FROM images ORDER BY create_index",
                                                      error);
  g_autoptr(GPtrArray) images = NULL;

  if (stmt == NULL)
    return NULL;
  images = berth_store_collect (store, stmt, image_row, g_object_unref, error);
  if (images == NULL)
    return NULL;
  for (guint i = 0; i < images->len; i++)
    if (!complete (self, g_ptr_array_index (images, i), error))
      return NULL;
  return g_steal_pointer (&images);
}

BerthImage *
runtime_images_inspect (RuntimeImages *self, const char *ref, GError **error)
{
  BerthStore *store = runtime_images_store (self);
  g_autofree char *id = runtime_images_resolve (self, ref, error);
  g_autofree char *what = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(BerthImage) image = NULL;
  g_autoptr(JsonNode) config = NULL;

  if (id == NULL)
    return NULL;
  stmt = berth_store_prepare (store, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  what = g_strdup_printf ("image: %s", id);
  /* the config is read before the statement is reset */
  {
    gboolean have_row = FALSE;

    if (!berth_store_step (store, stmt, &have_row, error))
      return NULL;
    if (!have_row)
      {
        g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("No such %s"), what);
        return NULL;
      }
    image = image_row (stmt);
    config = berth_json_parse ((const char *) sqlite3_column_text (stmt, 4), -1, NULL);
  }
  if (config != NULL && JSON_NODE_HOLDS_OBJECT (config))
    berth_image_set_config (image, json_node_get_object (config));
  if (!complete (self, image, error))
    return NULL;
  return g_steal_pointer (&image);
}

gboolean
runtime_images_get_usage (RuntimeImages *self, RuntimeImagesUsage *out, GError **error)
{
  BerthStore *store = runtime_images_store (self);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store,
                                                      "SELECT (SELECT COUNT(*) FROM layers),"
                                                      " (SELECT IFNULL(SUM(unpacked_size), 0) FROM layers),"
                                                      " (SELECT IFNULL(SUM(s.unpacked_size), 0) FROM image_layers l"
                                                      "   JOIN layers s ON s.diff_id = l.diff_id),"
                                                      " (SELECT COUNT(*) FROM images)",
                                                      error);
  gboolean have_row = FALSE;

  if (stmt == NULL || !berth_store_step (store, stmt, &have_row, error))
    return FALSE;
  out->layers = sqlite3_column_int64 (stmt, 0);
  out->layers_size = sqlite3_column_int64 (stmt, 1);
  out->images_size = sqlite3_column_int64 (stmt, 2);
  out->images = sqlite3_column_int64 (stmt, 3);
  return TRUE;
}
