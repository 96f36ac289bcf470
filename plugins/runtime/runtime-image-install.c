/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "runtime-image-manifest.h"
#include "runtime-image-private.h"
#include "runtime-unpack.h"
#include "runtime-util.h"

/* The worker side shared by pulls and imports: from a manifest in the
 * blob store, fetch what is missing (pulls: in parallel), check that the
 * config matches the layers, and unpack every layer not unpacked yet. */

#define MAX_PARALLEL_DOWNLOADS 3

/* Unpacks the layer @layer->digest (a blob) as @layer->diff_id unless it
 * already is. */
static gboolean
ensure_layer (RuntimeImageJob *job, RuntimeLayerResult *layer, GError **error)
{
  g_autofree char *final = runtime_images_layer_dir (job->layers_dir, layer->diff_id);
  g_autofree char *uuid = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *blob = NULL;
  g_autofree char *short_id = g_strndup (layer->digest + 7, 12);

  if (g_file_test (final, G_FILE_TEST_IS_DIR))
    return TRUE;
  uuid = g_uuid_string_random ();
  tmp = g_strdup_printf ("%s/.tmp-%s", job->layers_dir, uuid);
  if (g_mkdir (tmp, 0755) < 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), _("Cannot create %s: %s"), tmp,
                   g_strerror (err));
      return FALSE;
    }
  runtime_image_job_progress (job, short_id, "Extracting", 0, 0);
  blob = runtime_blobs_path (job->blobs, layer->digest);
  if (!runtime_unpack_layer (blob, tmp, &layer->unpacked_size, error))
    {
      runtime_rm_rf (tmp, NULL);
      return FALSE;
    }
  if (g_rename (tmp, final) < 0)
    {
      /* another pull unpacked it meanwhile */
      runtime_rm_rf (tmp, NULL);
      if (!g_file_test (final, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot move layer into %s"), final);
          return FALSE;
        }
    }
  runtime_image_job_progress (job, short_id, "Pull complete", 0, 0);
  return TRUE;
}

typedef struct {
  RuntimeImageJob *job;
  GPtrArray       *digests;
  gint             next;
  GMutex           lock;
  GError          *error;
  GCancellable    *cancellable;
} Fetch;

static void
fetch_progress (const char *id, const char *status, guint64 current, guint64 total, gpointer data)
{
  runtime_image_job_progress (data, id, status, current, total);
}

static gpointer
fetch_worker (gpointer data)
{
  Fetch *f = data;
  RuntimeImageJob *job = f->job;
  g_autoptr(RuntimeRegistry) reg = runtime_registry_new (job->ref->registry, job->insecure,
                                                         job->username, job->password);

  for (;;)
    {
      guint i = (guint) g_atomic_int_add (&f->next, 1);
      g_autoptr(GError) error = NULL;
      gboolean failed;

      if (i >= f->digests->len)
        break;
      g_mutex_lock (&f->lock);
      failed = f->error != NULL;
      g_mutex_unlock (&f->lock);
      if (failed)
        break;
      if (!runtime_registry_fetch_blob (reg, job->ref->repository, g_ptr_array_index (f->digests, i),
                                        job->blobs, fetch_progress, job, f->cancellable, &error))
        {
          g_mutex_lock (&f->lock);
          if (f->error == NULL)
            f->error = g_steal_pointer (&error);
          g_mutex_unlock (&f->lock);
          g_cancellable_cancel (f->cancellable);
          break;
        }
    }
  return NULL;
}

static gboolean
fetch_parallel (RuntimeImageJob *job, GPtrArray *digests, GCancellable *cancellable, GError **error)
{
  Fetch f = { 0 };
  GThread *threads[MAX_PARALLEL_DOWNLOADS];
  guint n = MIN (MAX_PARALLEL_DOWNLOADS, digests->len);
  gulong id = 0;

  f.job = job;
  f.digests = digests;
  f.cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    id = g_cancellable_connect (cancellable, G_CALLBACK (g_cancellable_cancel),
                                g_object_ref (f.cancellable), g_object_unref);
  g_mutex_init (&f.lock);
  for (guint i = 0; i < n; i++)
    threads[i] = g_thread_new ("berth-fetch", fetch_worker, &f);
  for (guint i = 0; i < n; i++)
    g_thread_join (threads[i]);
  g_mutex_clear (&f.lock);
  if (cancellable != NULL)
    g_cancellable_disconnect (cancellable, id);
  g_object_unref (f.cancellable);
  if (f.error != NULL)
    {
      g_propagate_error (error, f.error);
      return FALSE;
    }
  return TRUE;
}

static JsonNode *
read_json_blob (RuntimeImageJob *job, const char *digest, GBytes **out_bytes, GError **error)
{
  g_autoptr(GBytes) bytes = runtime_blobs_read (job->blobs, digest, error);
  JsonNode *root;

  if (bytes == NULL)
    return NULL;
  root = berth_json_parse (g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), error);
  if (root != NULL && out_bytes != NULL)
    *out_bytes = g_steal_pointer (&bytes);
  return root;
}

/* From a manifest (already in the blob store), with its blobs fetched
 * from @reg when given, builds the image: layers unpacked. */
RuntimeImageResult *
runtime_image_install_manifest (RuntimeImageJob *job, RuntimeRegistry *reg, const char *manifest_digest,
                                GCancellable *cancellable, GError **error)
{
  g_autoptr(JsonNode) mroot = read_json_blob (job, manifest_digest, NULL, error);
  g_autoptr(JsonNode) croot = NULL;
  g_autoptr(GBytes) config = NULL;
  g_autoptr(RuntimeManifest) manifest = NULL;
  g_autoptr(RuntimeImageResult) result = runtime_image_result_new ();
  g_autoptr(GPtrArray) digests = g_ptr_array_new ();
  g_autoptr(GPtrArray) diff_ids = NULL;
  JsonObject *mobj, *cobj;

  if (mroot == NULL || (mobj = runtime_json_object (mroot, _("The image manifest"), error)) == NULL)
    return NULL;
  manifest = runtime_manifest_parse (mobj, manifest_digest, error);
  if (manifest == NULL)
    return NULL;
  for (guint i = 0; i < manifest->layers->len; i++)
    {
      RuntimeDescriptor *desc = g_ptr_array_index (manifest->layers, i);
      RuntimeLayerResult *lr = g_new0 (RuntimeLayerResult, 1);

      lr->digest = g_strdup (desc->digest);
      lr->media_type = g_strdup (desc->media_type);
      lr->size = desc->size;
      g_ptr_array_add (result->layers, lr);
      g_ptr_array_add (digests, lr->digest);
    }

  if (reg != NULL)
    {
      if (!runtime_registry_fetch_blob (reg, job->ref->repository, manifest->config_digest, job->blobs, NULL,
                                        NULL, cancellable, error))
        return NULL;
      if (!fetch_parallel (job, digests, cancellable, error))
        return NULL;
    }
  for (guint i = 0; i < digests->len; i++)
    if (!runtime_blobs_has (job->blobs, g_ptr_array_index (digests, i)))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("Layer %s is missing"),
                     (const char *) g_ptr_array_index (digests, i));
        return NULL;
      }

  croot = read_json_blob (job, manifest->config_digest, &config, error);
  if (croot == NULL || (cobj = runtime_json_object (croot, _("The image config"), error)) == NULL)
    return NULL;
  diff_ids = runtime_config_diff_ids (cobj, result->layers->len, error);
  if (diff_ids == NULL)
    return NULL;
  for (guint i = 0; i < result->layers->len; i++)
    {
      RuntimeLayerResult *lr = g_ptr_array_index (result->layers, i);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      lr->diff_id = g_strdup (g_ptr_array_index (diff_ids, i));
      if (!ensure_layer (job, lr, error))
        return NULL;
    }
  result->id = g_strdup (manifest->config_digest);
  result->manifest_digest = g_strdup (manifest_digest);
  result->config_json = g_strndup (g_bytes_get_data (config, NULL), g_bytes_get_size (config));
  return g_steal_pointer (&result);
}
