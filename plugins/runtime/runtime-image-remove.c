/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "runtime-db.h"
#include "runtime-image-private.h"
#include "runtime-util.h"
#include <berth-store-raw.h>

/* Removal and prune. An image's records go in one write; then whatever no
 * image uses any more (layer rows and directories, blobs) is collected. */

static RuntimeImagesRemoval *
removal_new (void)
{
  RuntimeImagesRemoval *r = g_new0 (RuntimeImagesRemoval, 1);
  r->untagged = g_ptr_array_new_with_free_func (g_free);
  r->deleted = g_ptr_array_new_with_free_func (g_free);
  r->layers_deleted = g_ptr_array_new_with_free_func (g_free);
  return r;
}

void
runtime_images_removal_free (RuntimeImagesRemoval *r)
{
  if (r == NULL)
    return;
  g_ptr_array_unref (r->untagged);
  g_ptr_array_unref (r->deleted);
  g_ptr_array_unref (r->layers_deleted);
  g_free (r);
}

static gpointer
text_row (sqlite3_stmt *stmt)
{
  return runtime_db_column_dup (stmt, 0);
}

static GPtrArray *
query_strings (RuntimeImages *self, const char *sql, const char *arg, GError **error)
{
  BerthStore *store = runtime_images_store (self);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, sql, error);

  if (stmt == NULL)
    return NULL;
  if (arg != NULL)
    sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_TRANSIENT);
  return berth_store_collect (store, stmt, text_row, g_free, error);
}

static gint64
query_count (RuntimeImages *self, const char *sql, const char *arg)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (runtime_images_store (self), sql, NULL);
  gboolean have_row = FALSE;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (runtime_images_store (self), stmt, &have_row, NULL) || !have_row)
    return -1;
  return sqlite3_column_int64 (stmt, 0);
}

/* Deletes what no image uses any more: layer directories and rows, and
 * the blobs in @candidates; adds the bytes freed to @out. */
static gboolean
collect_garbage (RuntimeImages *self, GPtrArray *candidates, RuntimeImagesRemoval *out, GError **error)
{
  g_autoptr(GPtrArray) orphans = NULL;
  g_autoptr(RuntimeDbBatch) batch = runtime_db_batch_new (RUNTIME_IMAGES_TOPIC, "");

  orphans = query_strings (self, "SELECT diff_id FROM layers WHERE diff_id NOT IN"
                                 " (SELECT diff_id FROM image_layers)", NULL, error);
  if (orphans == NULL)
    return FALSE;
  for (guint i = 0; i < orphans->len; i++)
    {
      const char *diff_id = g_ptr_array_index (orphans, i);
      out->reclaimed += MAX (0, query_count (self, "SELECT unpacked_size FROM layers WHERE diff_id = ?", diff_id));
      runtime_db_batch_add (batch, "DELETE FROM layers WHERE diff_id = ?1", g_variant_new_string (diff_id), NULL);
    }
  if (orphans->len > 0 && runtime_db_batch_run (batch, runtime_images_store (self), error) == 0)
    return FALSE;
  for (guint i = 0; i < orphans->len; i++)
    {
      const char *diff_id = g_ptr_array_index (orphans, i);
      g_autofree char *dir = runtime_images_layer_dir (self->layers_dir, diff_id);
      g_autoptr(GError) local = NULL;

      if (self->active_jobs > 0)
        continue;  /* a pull may be about to use it again */
      if (!runtime_rm_rf (dir, &local))
        g_warning ("%s", local->message);
      g_ptr_array_add (out->layers_deleted, g_strdup (diff_id));
    }
  for (guint i = 0; candidates != NULL && i < candidates->len; i++)
    {
      const char *digest = g_ptr_array_index (candidates, i);
      if (query_count (self, "SELECT (SELECT COUNT(*) FROM image_layers WHERE blob_digest = ?1) +"
                             " (SELECT COUNT(*) FROM images WHERE id = ?1 OR manifest_digest = ?1)",
                       digest) == 0)
        runtime_blobs_delete (self->blobs, digest);
    }
  return TRUE;
}

static gboolean
delete_image (RuntimeImages *self, const char *id, GPtrArray *candidates, GError **error)
{
  g_autoptr(RuntimeDbBatch) batch = runtime_db_batch_new (RUNTIME_IMAGES_TOPIC, id);
  g_autoptr(GPtrArray) blobs = query_strings (self, "SELECT blob_digest FROM image_layers WHERE image_id = ?",
                                              id, error);
  g_autofree char *manifest = runtime_images_manifest_digest_of (self, id, NULL);

  if (blobs == NULL)
    return FALSE;
  for (guint i = 0; i < blobs->len; i++)
    g_ptr_array_add (candidates, g_strdup (g_ptr_array_index (blobs, i)));
  g_ptr_array_add (candidates, g_strdup (id));
  if (manifest != NULL)
    g_ptr_array_add (candidates, g_steal_pointer (&manifest));
  runtime_db_batch_add (batch, "DELETE FROM image_tags WHERE image_id = ?1", g_variant_new_string (id), NULL);
  runtime_db_batch_add (batch, "DELETE FROM image_layers WHERE image_id = ?1", g_variant_new_string (id), NULL);
  runtime_db_batch_add (batch, "DELETE FROM images WHERE id = ?1", g_variant_new_string (id), NULL);
  return runtime_db_batch_run (batch, runtime_images_store (self), error) != 0;
}

static gboolean
in_use (RuntimeImages *self, const char *id)
{
  return self->in_use != NULL && self->in_use (id, self->in_use_data);
}

/* Removes the tag @ref when the image has others (and !@force), else the
 * image with all its tags, unless a container uses it. */
RuntimeImagesRemoval *
runtime_images_remove (RuntimeImages *self, const char *ref, gboolean force, GError **error)
{
  g_autofree char *id = runtime_images_resolve (self, ref, error);
  g_autofree char *normal = NULL;
  g_autoptr(GPtrArray) tags = NULL;
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(RuntimeImagesRemoval) out = removal_new ();
  gboolean by_tag = FALSE;

  if (id == NULL || (tags = runtime_images_tags_of (self, id, error)) == NULL)
    return NULL;
  normal = runtime_images_normalize_tag (ref);
  for (guint i = 0; normal != NULL && i < tags->len; i++)
    if (strcmp (g_ptr_array_index (tags, i), normal) == 0)
      by_tag = TRUE;

  if (by_tag && tags->len > 1 && !force)
    {
      g_autoptr(RuntimeDbBatch) batch = runtime_db_batch_new (RUNTIME_IMAGES_TOPIC, id);
      runtime_db_batch_add (batch, "DELETE FROM image_tags WHERE ref = ?1", g_variant_new_string (normal), NULL);
      if (runtime_db_batch_run (batch, runtime_images_store (self), error) == 0)
        return NULL;
      g_ptr_array_add (out->untagged, g_steal_pointer (&normal));
      return g_steal_pointer (&out);
    }
  if (in_use (self, id))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT,
                   _("Image %s is used by a container; remove the container first"), ref);
      return NULL;
    }
  for (guint i = 0; i < tags->len; i++)
    g_ptr_array_add (out->untagged, g_strdup (g_ptr_array_index (tags, i)));
  if (!delete_image (self, id, candidates, error))
    return NULL;
  g_ptr_array_add (out->deleted, g_strdup (id));
  /* the layers removed are listed with what was deleted */
  if (!collect_garbage (self, candidates, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

/* Layer directories no row knows of (a crash between unpacking and
 * recording). */
static void
remove_stray_layers (RuntimeImages *self, RuntimeImagesRemoval *out)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (self->active_jobs > 0)
    return;
  dir = g_dir_open (self->layers_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *diff_id = g_strconcat ("sha256:", name, NULL);
      g_autofree char *path = g_build_filename (self->layers_dir, name, NULL);

      if (name[0] != '.' && query_count (self, "SELECT COUNT(*) FROM layers WHERE diff_id = ?", diff_id) != 0)
        continue;
      if (runtime_rm_rf (path, NULL) && name[0] != '.')
        g_ptr_array_add (out->layers_deleted, g_steal_pointer (&diff_id));
    }
}

/* Removes the untagged images (every image with @all) no container uses. */
RuntimeImagesRemoval *
runtime_images_prune (RuntimeImages *self, gboolean all, GError **error)
{
  g_autoptr(GPtrArray) ids = query_strings (self, all ? "SELECT id FROM images"
                                                      : "SELECT id FROM images WHERE id NOT IN"
                                                        " (SELECT image_id FROM image_tags)",
                                            NULL, error);
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(RuntimeImagesRemoval) out = removal_new ();

  if (ids == NULL)
    return NULL;
  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      if (in_use (self, id))
        continue;
      if (!delete_image (self, id, candidates, error))
        return NULL;
      g_ptr_array_add (out->deleted, g_strdup (id));
    }
  if (!collect_garbage (self, candidates, out, error))
    return NULL;
  remove_stray_layers (self, out);
  return g_steal_pointer (&out);
}
