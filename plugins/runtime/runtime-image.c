/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "runtime-db.h"
#include "runtime-image-private.h"
#include "runtime-util.h"
#include <berth-store-raw.h>

/* Images: a pull (or an import) runs in a worker thread that fetches
 * blobs into the blob store and unpacks each missing layer once, into
 * layers/<diff-ID hex>; it hands back a description of the image, which
 * the main thread records in the store. Layers are reference counted by
 * the image_layers rows that name them: removing an image frees only the
 * layers (and blobs) no other image uses. */

/* ---------------------------------------------------- results and jobs */

static void
layer_result_free (RuntimeLayerResult *l)
{
  g_free (l->diff_id);
  g_free (l->digest);
  g_free (l->media_type);
  g_free (l);
}

RuntimeImageResult *
runtime_image_result_new (void)
{
  RuntimeImageResult *r = g_new0 (RuntimeImageResult, 1);
  r->layers = g_ptr_array_new_with_free_func ((GDestroyNotify) layer_result_free);
  r->tags = g_ptr_array_new_with_free_func (g_free);
  return r;
}

void
runtime_image_result_free (RuntimeImageResult *r)
{
  if (r == NULL)
    return;
  g_free (r->id);
  g_free (r->manifest_digest);
  g_free (r->config_json);
  g_ptr_array_unref (r->layers);
  g_ptr_array_unref (r->tags);
  g_free (r);
}

RuntimeImageJob *
runtime_image_job_new (RuntimeImages *self)
{
  RuntimeImageJob *job = g_new0 (RuntimeImageJob, 1);
  g_autofree char *blob_root = g_build_filename (self->root, "blobs", NULL);

  job->blobs = runtime_blobs_new (blob_root, NULL);
  job->layers_dir = g_strdup (self->layers_dir);
  job->tmp_dir = g_strdup (self->tmp_dir);
  return job;
}

void
runtime_image_job_free (RuntimeImageJob *job)
{
  if (job == NULL)
    return;
  runtime_blobs_free (job->blobs);
  g_free (job->layers_dir);
  g_free (job->tmp_dir);
  runtime_image_ref_free (job->ref);
  g_free (job->username);
  g_free (job->password);
  if (job->path != NULL)
    g_unlink (job->path);
  g_free (job->path);
  g_free (job->tag);
  g_free (job->manifest_digest);
  g_clear_pointer (&job->export_tags, g_ptr_array_unref);
  g_free (job);
}

void
runtime_image_job_progress (RuntimeImageJob *job, const char *id, const char *status, guint64 current,
                            guint64 total)
{
  if (job->progress != NULL)
    job->progress (id, status, current, total, job->progress_data);
}

/* ------------------------------------------------------------- setup */

static void
remove_leftovers (const char *dir, const char *prefix)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (prefix == NULL || g_str_has_prefix (name, prefix))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        runtime_rm_rf (path, NULL);
      }
}

RuntimeImages *
runtime_images_new (BerthContext *context, const char *root, GError **error)
{
  RuntimeImages *self = g_new0 (RuntimeImages, 1);
  g_autofree char *blob_root = g_build_filename (root, "blobs", NULL);

  self->context = context;
  self->root = g_strdup (root);
  self->layers_dir = g_build_filename (root, "layers", NULL);
  self->tmp_dir = g_build_filename (root, "tmp", NULL);
  self->pulls = g_hash_table_new (g_str_hash, g_str_equal);
  self->pulling = g_ptr_array_new ();
  self->blobs = runtime_blobs_new (blob_root, error);
  if (self->blobs == NULL || g_mkdir_with_parents (self->layers_dir, 0700) < 0 ||
      g_mkdir_with_parents (self->tmp_dir, 0700) < 0)
    {
      if (self->blobs != NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot create %s"), self->layers_dir);
      runtime_images_free (self);
      return NULL;
    }
  /* layers left half-unpacked, imports and exports left behind by a crash */
  remove_leftovers (self->layers_dir, ".tmp-");
  remove_leftovers (self->tmp_dir, "image-");
  return self;
}

void
runtime_images_free (RuntimeImages *self)
{
  if (self == NULL)
    return;
  runtime_images_pulls_free (self);
  runtime_blobs_free (self->blobs);
  g_free (self->root);
  g_free (self->layers_dir);
  g_free (self->tmp_dir);
  g_free (self);
}

RuntimeBlobs *
runtime_images_get_blobs (RuntimeImages *self)
{
  return self->blobs;
}

void
runtime_images_set_in_use_func (RuntimeImages *self, RuntimeImageInUseFunc func, gpointer user_data)
{
  self->in_use = func;
  self->in_use_data = user_data;
}

BerthStore *
runtime_images_store (RuntimeImages *self)
{
  return berth_context_get_store (self->context);
}

char *
runtime_images_layer_dir (const char *layers_dir, const char *diff_id)
{
  return g_build_filename (layers_dir, diff_id + 7, NULL);
}

char *
runtime_images_normalize_tag (const char *text)
{
  g_autoptr(RuntimeImageRef) ref = runtime_image_ref_parse (text, NULL);
  return ref != NULL ? runtime_image_ref_to_string (ref) : NULL;
}

/* ----------------------------------------------------------- records */

gboolean
runtime_images_record (RuntimeImages *self, RuntimeImageResult *r, GError **error)
{
  g_autoptr(RuntimeDbBatch) batch = runtime_db_batch_new (RUNTIME_IMAGES_TOPIC, r->id);
  guint64 size = 0;

  for (guint i = 0; i < r->layers->len; i++)
    size += ((RuntimeLayerResult *) g_ptr_array_index (r->layers, i))->size;
  runtime_db_batch_add (batch,
                        "INSERT INTO images (id, manifest_digest, config, size, created_at, create_index)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET"
                        " manifest_digest = excluded.manifest_digest",
                        g_variant_new_string (r->id), g_variant_new_string (r->manifest_digest),
                        g_variant_new_string (r->config_json), g_variant_new_int64 ((gint64) size),
                        g_variant_new_int64 (g_get_real_time () / G_USEC_PER_SEC), RUNTIME_DB_INDEX,
                        NULL);
  runtime_db_batch_add (batch, "DELETE FROM image_layers WHERE image_id = ?1",
                        g_variant_new_string (r->id), NULL);
  for (guint i = 0; i < r->layers->len; i++)
    {
      RuntimeLayerResult *l = g_ptr_array_index (r->layers, i);
      runtime_db_batch_add (batch,
                            "INSERT INTO image_layers (image_id, position, diff_id, blob_digest, media_type, size)"
                            " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                            g_variant_new_string (r->id), g_variant_new_int64 (i),
                            g_variant_new_string (l->diff_id), g_variant_new_string (l->digest),
                            g_variant_new_string (l->media_type), g_variant_new_int64 ((gint64) l->size),
                            NULL);
      runtime_db_batch_add (batch,
                            "INSERT INTO layers (diff_id, unpacked_size, create_index) VALUES (?1, ?2, ?3)"
                            " ON CONFLICT(diff_id) DO UPDATE SET unpacked_size = MAX(unpacked_size, excluded.unpacked_size)",
                            g_variant_new_string (l->diff_id),
                            g_variant_new_int64 ((gint64) l->unpacked_size), RUNTIME_DB_INDEX, NULL);
    }
  for (guint i = 0; i < r->tags->len; i++)
    runtime_db_batch_add (batch, "INSERT OR REPLACE INTO image_tags (ref, image_id) VALUES (?1, ?2)",
                          g_variant_new_string (g_ptr_array_index (r->tags, i)),
                          g_variant_new_string (r->id), NULL);
  return runtime_db_batch_run (batch, runtime_images_store (self), error) != 0;
}

static gpointer
text_row (sqlite3_stmt *stmt)
{
  return runtime_db_column_dup (stmt, 0);
}

GPtrArray *
runtime_images_tags_of (RuntimeImages *self, const char *id, GError **error)
{
  BerthStore *store = runtime_images_store (self);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store,
                                                      "SELECT ref FROM image_tags WHERE image_id = ? ORDER BY ref",
                                                      error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  return berth_store_collect (store, stmt, text_row, g_free, error);
}

char *
runtime_images_manifest_digest_of (RuntimeImages *self, const char *id, GError **error)
{
  BerthStore *store = runtime_images_store (self);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, "SELECT manifest_digest FROM images WHERE id = ?",
                                                      error);
  g_autofree char *what = g_strdup_printf ("image: %s", id);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  return berth_store_get_one (store, stmt, text_row, what, error);
}

/* --------------------------------------------------------- resolving */

static gboolean
is_id_prefix (const char *hex)
{
  gsize len = strlen (hex);

  if (len < 4 || len > 64)
    return FALSE;
  for (const char *p = hex; *p; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return TRUE;
}

static char *
lookup_one (RuntimeImages *self, const char *sql, const char *arg, GError **error)
{
  BerthStore *store = runtime_images_store (self);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, sql, error);
  g_autoptr(GError) local = NULL;
  char *id;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_TRANSIENT);
  id = berth_store_get_one (store, stmt, text_row, "image", &local);
  if (id == NULL && !g_error_matches (local, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
    g_propagate_error (error, g_steal_pointer (&local));
  return id;
}

/* The id of the image @ref names: an id or id prefix (with or without
 * `sha256:`), or a reference (normalized as Docker does). */
char *
runtime_images_resolve (RuntimeImages *self, const char *ref, GError **error)
{
  const char *hex = g_str_has_prefix (ref, "sha256:") ? ref + 7 : ref;
  g_autoptr(GError) local = NULL;
  g_autofree char *normal = NULL;
  char *id = NULL;

  if (is_id_prefix (hex))
    id = lookup_one (self, "SELECT id FROM images WHERE substr(id, 8, length(?1)) = ?1", hex, &local);
  if (id == NULL && local == NULL && (normal = runtime_images_normalize_tag (ref)) != NULL)
    id = lookup_one (self, "SELECT image_id FROM image_tags WHERE ref = ?", normal, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (id == NULL)
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("No such image: %s"), ref);
  return id;
}

void
runtime_image_info_free (RuntimeImageInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->id);
  g_free (info->config_json);
  g_ptr_array_unref (info->layer_dirs);
  g_free (info);
}

/* What a container needs of its image: the config and the layer
 * directories. */
RuntimeImageInfo *
runtime_images_get_info (RuntimeImages *self, const char *id, GError **error)
{
  BerthStore *store = runtime_images_store (self);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, "SELECT config FROM images WHERE id = ?", error);
  g_autoptr(sqlite3_stmt) lstmt = NULL;
  g_autoptr(RuntimeImageInfo) info = NULL;
  g_autoptr(GPtrArray) diff_ids = NULL;
  g_autofree char *what = g_strdup_printf ("image: %s", id);
  char *config;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  config = berth_store_get_one (store, stmt, text_row, what, error);
  if (config == NULL)
    return NULL;
  info = g_new0 (RuntimeImageInfo, 1);
  info->id = g_strdup (id);
  info->config_json = config;
  info->layer_dirs = g_ptr_array_new_with_free_func (g_free);
  lstmt = berth_store_prepare (store, "SELECT diff_id FROM image_layers WHERE image_id = ? ORDER BY position",
                               error);
  if (lstmt == NULL)
    return NULL;
  sqlite3_bind_text (lstmt, 1, id, -1, SQLITE_TRANSIENT);
  diff_ids = berth_store_collect (store, lstmt, text_row, g_free, error);
  if (diff_ids == NULL)
    return NULL;
  for (guint i = 0; i < diff_ids->len; i++)
    g_ptr_array_add (info->layer_dirs, runtime_images_layer_dir (self->layers_dir, g_ptr_array_index (diff_ids, i)));
  return g_steal_pointer (&info);
}
