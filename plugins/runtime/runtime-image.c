/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime-db.h"
#include "runtime-image.h"
#include "runtime-registry.h"
#include "runtime-unpack.h"
#include "runtime-util.h"
#include <berth-store-raw.h>

/* Images: a pull (or an import) runs in a worker thread that fetches
 * blobs into the blob store and unpacks each missing layer once, into
 * layers/<diff-ID hex>; it hands back a description of the image, which
 * the main thread records in the store. Layers are reference counted by
 * the image_layers rows that name them: removing an image frees only the
 * layers (and blobs) no other image uses. */

#define MAX_PARALLEL_DOWNLOADS 3
#define TOPIC "images"

struct _RuntimeImages {
  BerthContext          *context;
  RuntimeBlobs          *blobs;
  char                  *root;
  char                  *layers_dir;
  char                  *tmp_dir;
  guint                  active_jobs;
  RuntimeImageInUseFunc  in_use;
  gpointer               in_use_data;
};

typedef struct {
  char    *diff_id;
  char    *digest;
  char    *media_type;
  guint64  size;
  guint64  unpacked_size;
} LayerResult;

typedef struct {
  char      *id;
  char      *manifest_digest;
  char      *config_json;
  GPtrArray *layers;   /* LayerResult* */
  GPtrArray *tags;     /* char* normalized refs */
} ImageResult;

/* What a worker thread needs; only immutable data and thread-safe
 * objects. */
typedef struct {
  RuntimeBlobs   *blobs;    /* the job's own handle: it may outlive the plugin */
  char           *layers_dir;
  char           *tmp_dir;
  RuntimeStream  *stream;   /* may be NULL; owned by the main thread */
  /* pull */
  RuntimeImageRef *ref;
  gboolean        insecure;
  char           *username;
  char           *password;
  /* import / export */
  char           *path;
  char           *tag;
  char           *manifest_digest;
  GPtrArray      *export_tags;
} Job;

static void
layer_result_free (LayerResult *l)
{
  g_free (l->diff_id);
  g_free (l->digest);
  g_free (l->media_type);
  g_free (l);
}

static void
image_result_free (ImageResult *r)
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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImageResult, image_result_free)

static ImageResult *
image_result_new (void)
{
  ImageResult *r = g_new0 (ImageResult, 1);
  r->layers = g_ptr_array_new_with_free_func ((GDestroyNotify) layer_result_free);
  r->tags = g_ptr_array_new_with_free_func (g_free);
  return r;
}

static void
job_free (Job *job)
{
  if (job->stream != NULL)
    runtime_stream_unref (job->stream);
  runtime_blobs_free (job->blobs);
  g_free (job->layers_dir);
  g_free (job->tmp_dir);
  runtime_image_ref_free (job->ref);
  g_free (job->username);
  g_free (job->password);
  g_free (job->path);
  g_free (job->tag);
  g_free (job->manifest_digest);
  g_clear_pointer (&job->export_tags, g_ptr_array_unref);
  g_free (job);
}

static void
job_progress (const char *id, const char *status, guint64 current, guint64 total, gpointer data)
{
  Job *job = data;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) node = NULL;
  char *text;

  if (job->stream == NULL)
    return;
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, status);
  if (id != NULL)
    {
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, id);
    }
  if (total > 0 || current > 0)
    {
      json_builder_set_member_name (b, "progressDetail");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "current");
      json_builder_add_int_value (b, (gint64) current);
      json_builder_set_member_name (b, "total");
      json_builder_add_int_value (b, (gint64) total);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  text = runtime_json_to_string (node);
  runtime_stream_post (job->stream, g_strconcat (text, "\n", NULL));
  g_free (text);
}

static Job *
job_new (RuntimeImages *self, RuntimeStream *stream)
{
  Job *job = g_new0 (Job, 1);
  g_autofree char *blob_root = g_build_filename (self->root, "blobs", NULL);

  job->blobs = runtime_blobs_new (blob_root, NULL);
  job->layers_dir = g_strdup (self->layers_dir);
  job->tmp_dir = g_strdup (self->tmp_dir);
  job->stream = stream != NULL ? runtime_stream_ref (stream) : NULL;
  return job;
}

/* ------------------------------------------------------------- setup */

RuntimeImages *
runtime_images_new (BerthContext *context, const char *root, GError **error)
{
  RuntimeImages *self = g_new0 (RuntimeImages, 1);
  g_autofree char *blob_root = g_build_filename (root, "blobs", NULL);

  self->context = context;
  self->root = g_strdup (root);
  self->layers_dir = g_build_filename (root, "layers", NULL);
  self->tmp_dir = g_build_filename (root, "tmp", NULL);
  self->blobs = runtime_blobs_new (blob_root, error);
  if (self->blobs == NULL || g_mkdir_with_parents (self->layers_dir, 0700) < 0 ||
      g_mkdir_with_parents (self->tmp_dir, 0700) < 0)
    {
      if (self->blobs != NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot create %s"), self->layers_dir);
      runtime_images_free (self);
      return NULL;
    }
  /* layers left half-unpacked by a crash */
  {
    g_autoptr(GDir) dir = g_dir_open (self->layers_dir, 0, NULL);
    const char *name;
    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      if (g_str_has_prefix (name, ".tmp-"))
        {
          g_autofree char *path = g_build_filename (self->layers_dir, name, NULL);
          runtime_rm_rf (path, NULL);
        }
  }
  return self;
}

void
runtime_images_free (RuntimeImages *self)
{
  if (self == NULL)
    return;
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

static BerthStore *
store_of (RuntimeImages *self)
{
  return berth_context_get_store (self->context);
}

static char *
layer_dir (const char *layers_dir, const char *diff_id)
{
  return g_build_filename (layers_dir, diff_id + 7, NULL);
}

/* --------------------------------------------------------- worker side */

static gboolean
layer_media_type_ok (const char *mt)
{
  return mt == NULL || g_str_has_prefix (mt, "application/vnd.oci.image.layer.") ||
         g_str_has_prefix (mt, "application/vnd.docker.image.rootfs.diff.tar");
}

/* Unpacks the layer @digest (a blob) as @diff_id unless it already is. */
static gboolean
ensure_layer (Job *job, LayerResult *layer, GError **error)
{
  g_autofree char *final = layer_dir (job->layers_dir, layer->diff_id);
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
  job_progress (short_id, "Extracting", 0, 0, job);
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
  job_progress (short_id, "Pull complete", 0, 0, job);
  return TRUE;
}

typedef struct {
  Job          *job;
  GPtrArray    *digests;
  gint          next;
  GMutex        lock;
  GError       *error;
  GCancellable *cancellable;
} Fetch;

static gpointer
fetch_worker (gpointer data)
{
  Fetch *f = data;
  Job *job = f->job;
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
                                        job->blobs, job_progress, job, f->cancellable, &error))
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
fetch_parallel (Job *job, GPtrArray *digests, GCancellable *cancellable, GError **error)
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

/* From a manifest (already in the blob store), with its blobs fetched
 * from @reg when given, builds the image: layers unpacked. */
static ImageResult *
install_manifest (Job *job, RuntimeRegistry *reg, const char *manifest_digest,
                  GCancellable *cancellable, GError **error)
{
  g_autoptr(GBytes) manifest = runtime_blobs_read (job->blobs, manifest_digest, error);
  g_autoptr(JsonNode) mroot = NULL;
  g_autoptr(JsonNode) croot = NULL;
  g_autoptr(GBytes) config = NULL;
  g_autoptr(ImageResult) result = image_result_new ();
  g_autoptr(GPtrArray) digests = g_ptr_array_new ();
  JsonObject *mobj, *cobj, *cdesc, *rootfs;
  JsonArray *layers, *diff_ids;
  const char *config_digest;

  if (manifest == NULL)
    return NULL;
  mroot = berth_json_parse (g_bytes_get_data (manifest, NULL), (gssize) g_bytes_get_size (manifest),
                              error);
  if ((mobj = runtime_json_object (mroot, _("The image manifest"), error)) == NULL)
    return NULL;
  cdesc = runtime_json_get_object (mobj, "config");
  config_digest = runtime_json_get_string (cdesc, "digest");
  layers = runtime_json_get_array (mobj, "layers");
  if (!runtime_digest_is_valid (config_digest) || layers == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Unsupported manifest %s (only Docker schema 2 and OCI manifests are)"),
                   manifest_digest);
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (layers); i++)
    {
      JsonObject *l = json_array_get_object_element (layers, i);
      const char *digest = runtime_json_get_string (l, "digest");
      const char *mt = runtime_json_get_string (l, "mediaType");
      LayerResult *lr;

      if (!runtime_digest_is_valid (digest) || !layer_media_type_ok (mt))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Unsupported layer %s (%s)"), digest != NULL ? digest : "?",
                       mt != NULL ? mt : "?");
          return NULL;
        }
      lr = g_new0 (LayerResult, 1);
      lr->digest = g_strdup (digest);
      lr->media_type = g_strdup (mt != NULL ? mt : "application/vnd.oci.image.layer.v1.tar");
      lr->size = json_object_has_member (l, "size") ? (guint64) json_object_get_int_member (l, "size") : 0;
      g_ptr_array_add (result->layers, lr);
      g_ptr_array_add (digests, lr->digest);
    }

  if (reg != NULL)
    {
      if (!runtime_registry_fetch_blob (reg, job->ref->repository, config_digest, job->blobs, NULL,
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

  config = runtime_blobs_read (job->blobs, config_digest, error);
  if (config == NULL)
    return NULL;
  croot = berth_json_parse (g_bytes_get_data (config, NULL), (gssize) g_bytes_get_size (config),
                              error);
  if ((cobj = runtime_json_object (croot, _("The image config"), error)) == NULL)
    return NULL;
  rootfs = runtime_json_get_object (cobj, "rootfs");
  diff_ids = runtime_json_get_array (rootfs, "diff_ids");
  if (diff_ids == NULL || json_array_get_length (diff_ids) != result->layers->len)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The image config's diff_ids do not match its %u layers"), result->layers->len);
      return NULL;
    }
  for (guint i = 0; i < result->layers->len; i++)
    {
      LayerResult *lr = g_ptr_array_index (result->layers, i);
      const char *diff_id = json_array_get_string_element (diff_ids, i);

      if (!runtime_digest_is_valid (diff_id))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("Invalid diff_id in the config"));
          return NULL;
        }
      lr->diff_id = g_strdup (diff_id);
      if (!ensure_layer (job, lr, error))
        return NULL;
    }
  result->id = g_strdup (config_digest);
  result->manifest_digest = g_strdup (manifest_digest);
  result->config_json = g_strndup (g_bytes_get_data (config, NULL), g_bytes_get_size (config));
  return g_steal_pointer (&result);
}

/* Picks linux/<host arch> from an index. */
static char *
pick_platform (JsonObject *index, GError **error)
{
  JsonArray *manifests = runtime_json_get_array (index, "manifests");
  const char *arch = runtime_host_arch ();

  for (guint i = 0; manifests != NULL && i < json_array_get_length (manifests); i++)
    {
      JsonObject *m = json_array_get_object_element (manifests, i);
      JsonObject *platform = runtime_json_get_object (m, "platform");
      const char *digest = runtime_json_get_string (m, "digest");

      if (platform == NULL || !runtime_digest_is_valid (digest))
        continue;
      if (g_strcmp0 (runtime_json_get_string (platform, "os"), "linux") == 0 &&
          g_strcmp0 (runtime_json_get_string (platform, "architecture"), arch) == 0)
        return g_strdup (digest);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No image for linux/%s in the index"), arch);
  return NULL;
}

static gboolean
is_index (const char *media_type, JsonObject *obj)
{
  if (g_strcmp0 (media_type, RUNTIME_MT_OCI_INDEX) == 0 ||
      g_strcmp0 (media_type, RUNTIME_MT_DOCKER_LIST) == 0)
    return TRUE;
  /* an OCI index may come without its mediaType */
  return runtime_json_get_array (obj, "manifests") != NULL && runtime_json_get_array (obj, "layers") == NULL;
}

static void
pull_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr(RuntimeRegistry) reg = runtime_registry_new (job->ref->registry, job->insecure,
                                                         job->username, job->password);
  g_autoptr(GError) error = NULL;
  g_autofree char *media_type = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *ref_text = runtime_image_ref_to_string (job->ref);
  g_autoptr(GBytes) manifest = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *stored = NULL;
  ImageResult *result;
  JsonObject *obj;

  job_progress (NULL, ref_text, 0, 0, job);
  manifest = runtime_registry_get_manifest (reg, job->ref->repository,
                                            job->ref->digest != NULL ? job->ref->digest : job->ref->tag,
                                            &media_type, &digest, cancellable, &error);
  if (manifest == NULL)
    goto fail;
  root = berth_json_parse (g_bytes_get_data (manifest, NULL), (gssize) g_bytes_get_size (manifest),
                             &error);
  if ((obj = runtime_json_object (root, _("The manifest"), &error)) == NULL)
    goto fail;
  if (is_index (media_type, obj))
    {
      g_autofree char *picked = pick_platform (obj, &error);
      if (picked == NULL)
        goto fail;
      g_clear_pointer (&manifest, g_bytes_unref);
      g_clear_pointer (&media_type, g_free);
      g_clear_pointer (&digest, g_free);
      manifest = runtime_registry_get_manifest (reg, job->ref->repository, picked, &media_type,
                                                &digest, cancellable, &error);
      if (manifest == NULL)
        goto fail;
    }
  stored = runtime_blobs_put_bytes (job->blobs, digest, manifest, &error);
  if (stored == NULL)
    goto fail;
  job_progress (NULL, "Manifest", 0, 0, job);
  result = install_manifest (job, reg, digest, cancellable, &error);
  if (result == NULL)
    goto fail;
  g_ptr_array_add (result->tags, g_steal_pointer (&ref_text));
  g_task_return_pointer (task, result, (GDestroyNotify) image_result_free);
  return;

fail:
  g_task_return_error (task, g_steal_pointer (&error));
}

/* --------------------------------------------------------- main side */

static gboolean
record_image (RuntimeImages *self, ImageResult *r, GError **error)
{
  g_autoptr(RuntimeDbBatch) batch = runtime_db_batch_new (TOPIC, r->id);
  guint64 size = 0;

  for (guint i = 0; i < r->layers->len; i++)
    size += ((LayerResult *) g_ptr_array_index (r->layers, i))->size;
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
      LayerResult *l = g_ptr_array_index (r->layers, i);
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
  return runtime_db_batch_run (batch, store_of (self), error) != 0;
}

void
runtime_images_pull_async (RuntimeImages *self, const char *ref, RuntimeStream *stream,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  g_autofree char *group = NULL;
  g_auto(GStrv) insecure = NULL;
  g_autofree char *insecure_list = NULL;
  Job *job;
  RuntimeImageRef *parsed = runtime_image_ref_parse (ref, &error);

  g_task_set_source_tag (task, runtime_images_pull_async);
  if (parsed == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  job = job_new (self, stream);
  job->ref = parsed;
  group = g_strdup_printf ("registry \"%s\"", parsed->registry);
  job->username = berth_context_dup_config_string (self->context, group, "username", NULL);
  job->password = berth_context_dup_config_string (self->context, group, "password", NULL);
  insecure_list = berth_context_dup_config_string (self->context, "runtime", "insecure_registries", "");
  insecure = g_strsplit_set (insecure_list, ",; ", -1);
  job->insecure = g_strv_contains ((const char * const *) insecure, parsed->registry) ||
                  berth_context_get_config_boolean (self->context, group, "insecure", FALSE);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  self->active_jobs++;
  g_task_run_in_thread (task, pull_thread);
}

char *
runtime_images_pull_finish (RuntimeImages *self, GAsyncResult *result, GError **error)
{
  g_autoptr(ImageResult) r = NULL;
  Job *job = g_task_get_task_data (G_TASK (result));

  /* the stream belongs to the main thread: drop the job's reference here,
   * not wherever the task happens to be finalized */
  if (job != NULL)
    {
      g_clear_pointer (&job->stream, runtime_stream_unref);
      self->active_jobs--;
    }
  r = g_task_propagate_pointer (G_TASK (result), error);
  if (r == NULL)
    return NULL;
  if (!record_image (self, r, error))
    return NULL;
  return g_strdup (r->id);
}

/* ------------------------------------------------------------ import */

static char *
import_blob (Job *job, const char *dir, const char *digest, GError **error)
{
  g_autofree char *path = NULL;

  if (!runtime_digest_is_valid (digest))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("Invalid digest in the layout"));
      return NULL;
    }
  path = g_build_filename (dir, "blobs", "sha256", digest + 7, NULL);
  return runtime_blobs_put_file (job->blobs, digest, path, error);
}

static GBytes *
read_json_file (const char *dir, const char *name, JsonNode **out, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *data;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  *out = berth_json_parse (data, (gssize) len, error);
  if (*out == NULL)
    {
      g_free (data);
      return NULL;
    }
  return g_bytes_new_take (data, len);
}

static char *
normalize_tag (const char *text)
{
  g_autoptr(RuntimeImageRef) ref = runtime_image_ref_parse (text, NULL);
  return ref != NULL ? runtime_image_ref_to_string (ref) : NULL;
}

static ImageResult *
import_oci_manifest (Job *job, const char *dir, const char *digest, GError **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *stored = import_blob (job, dir, digest, error);
  JsonObject *obj;
  JsonArray *layers;

  if (stored == NULL)
    return NULL;
  bytes = runtime_blobs_read (job->blobs, digest, error);
  if (bytes == NULL)
    return NULL;
  root = berth_json_parse (g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), error);
  if ((obj = runtime_json_object (root, _("The manifest"), error)) == NULL)
    return NULL;
  if (is_index (runtime_json_get_string (obj, "mediaType"), obj))
    {
      g_autofree char *picked = pick_platform (obj, error);
      if (picked == NULL)
        return NULL;
      return import_oci_manifest (job, dir, picked, error);
    }
  {
    g_autofree char *c = import_blob (job, dir, runtime_json_get_string (runtime_json_get_object (obj, "config"), "digest"), error);
    if (c == NULL)
      return NULL;
  }
  layers = runtime_json_get_array (obj, "layers");
  for (guint i = 0; layers != NULL && i < json_array_get_length (layers); i++)
    {
      g_autofree char *l = import_blob (job, dir,
                                        runtime_json_get_string (json_array_get_object_element (layers, i), "digest"),
                                        error);
      if (l == NULL)
        return NULL;
    }
  return install_manifest (job, NULL, digest, NULL, error);
}

static GPtrArray *
import_oci_layout (Job *job, const char *dir, GError **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) bytes = read_json_file (dir, "index.json", &root, error);
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func ((GDestroyNotify) image_result_free);
  JsonObject *obj;
  JsonArray *manifests;

  if (bytes == NULL)
    return NULL;
  if ((obj = runtime_json_object (root, "index.json", error)) == NULL)
    return NULL;
  manifests = runtime_json_get_array (obj, "manifests");
  for (guint i = 0; manifests != NULL && i < json_array_get_length (manifests); i++)
    {
      JsonObject *m = json_array_get_object_element (manifests, i);
      JsonObject *ann = runtime_json_get_object (m, "annotations");
      const char *name = runtime_json_get_string (ann, "io.containerd.image.name");
      const char *refname = runtime_json_get_string (ann, "org.opencontainers.image.ref.name");
      ImageResult *r = import_oci_manifest (job, dir, runtime_json_get_string (m, "digest"), error);
      char *tag = NULL;

      if (r == NULL)
        return NULL;
      if (job->tag != NULL)
        tag = normalize_tag (job->tag);
      else if (name != NULL)
        tag = normalize_tag (name);
      else if (refname != NULL && (strchr (refname, '/') != NULL || strchr (refname, ':') != NULL))
        tag = normalize_tag (refname);
      if (tag != NULL)
        g_ptr_array_add (r->tags, tag);
      g_ptr_array_add (results, r);
    }
  if (results->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The OCI layout holds no image"));
      return NULL;
    }
  return g_steal_pointer (&results);
}

static char *
safe_member_path (const char *dir, const char *member, GError **error)
{
  if (member == NULL || member[0] == '/' || strstr (member, "..") != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("Invalid path “%s” in manifest.json"),
                   member != NULL ? member : "");
      return NULL;
    }
  return g_build_filename (dir, member, NULL);
}

/* `docker save`: manifest.json lists, per image, its config file, tags
 * and uncompressed layer tars. The layers' digests are their diff-IDs;
 * an OCI manifest is made up for the image. */
static GPtrArray *
import_docker_save (Job *job, const char *dir, GError **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) bytes = read_json_file (dir, "manifest.json", &root, error);
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func ((GDestroyNotify) image_result_free);
  JsonArray *entries;

  if (bytes == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("manifest.json is not an array"));
      return NULL;
    }
  entries = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *e = json_array_get_object_element (entries, i);
      JsonArray *layers = runtime_json_get_array (e, "Layers");
      JsonArray *tags = runtime_json_get_array (e, "RepoTags");
      g_autofree char *config_path = safe_member_path (dir, runtime_json_get_string (e, "Config"), error);
      g_autofree char *config_digest = NULL;
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) manifest = NULL;
      g_autofree char *manifest_text = NULL;
      g_autoptr(GBytes) manifest_bytes = NULL;
      g_autofree char *manifest_digest = NULL;
      ImageResult *r;

      if (config_path == NULL || layers == NULL)
        return NULL;
      config_digest = runtime_blobs_put_file (job->blobs, NULL, config_path, error);
      if (config_digest == NULL)
        return NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "schemaVersion");
      json_builder_add_int_value (b, 2);
      json_builder_set_member_name (b, "mediaType");
      json_builder_add_string_value (b, RUNTIME_MT_OCI_MANIFEST);
      json_builder_set_member_name (b, "config");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "mediaType");
      json_builder_add_string_value (b, "application/vnd.oci.image.config.v1+json");
      json_builder_set_member_name (b, "digest");
      json_builder_add_string_value (b, config_digest);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, (gint64) runtime_blobs_size (job->blobs, config_digest));
      json_builder_end_object (b);
      json_builder_set_member_name (b, "layers");
      json_builder_begin_array (b);
      for (guint j = 0; j < json_array_get_length (layers); j++)
        {
          g_autofree char *lpath = safe_member_path (dir, json_array_get_string_element (layers, j), error);
          g_autofree char *ldigest = NULL;

          if (lpath == NULL)
            return NULL;
          ldigest = runtime_blobs_put_file (job->blobs, NULL, lpath, error);
          if (ldigest == NULL)
            return NULL;
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "mediaType");
          json_builder_add_string_value (b, "application/vnd.oci.image.layer.v1.tar");
          json_builder_set_member_name (b, "digest");
          json_builder_add_string_value (b, ldigest);
          json_builder_set_member_name (b, "size");
          json_builder_add_int_value (b, (gint64) runtime_blobs_size (job->blobs, ldigest));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      manifest = json_builder_get_root (b);
      manifest_text = runtime_json_to_string (manifest);
      manifest_bytes = g_bytes_new (manifest_text, strlen (manifest_text));
      manifest_digest = runtime_blobs_put_bytes (job->blobs, NULL, manifest_bytes, error);
      if (manifest_digest == NULL)
        return NULL;
      r = install_manifest (job, NULL, manifest_digest, NULL, error);
      if (r == NULL)
        return NULL;
      if (job->tag != NULL)
        {
          char *t = normalize_tag (job->tag);
          if (t != NULL)
            g_ptr_array_add (r->tags, t);
        }
      else
        for (guint j = 0; tags != NULL && j < json_array_get_length (tags); j++)
          {
            char *t = normalize_tag (json_array_get_string_element (tags, j));
            if (t != NULL)
              g_ptr_array_add (r->tags, t);
          }
      g_ptr_array_add (results, r);
    }
  return g_steal_pointer (&results);
}

static void
import_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *extracted = NULL;
  g_autofree char *marker = NULL;
  g_autofree char *docker_manifest = NULL;
  const char *dir = job->path;
  GPtrArray *results;

  if (g_file_test (job->path, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *uuid = g_uuid_string_random ();
      extracted = g_build_filename (job->tmp_dir, uuid, NULL);
      if (g_mkdir (extracted, 0700) < 0)
        {
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot create %s"), extracted);
          goto fail;
        }
      if (!runtime_unpack_layer (job->path, extracted, NULL, &error))
        goto fail;
      dir = extracted;
    }
  else if (!g_file_test (job->path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No such file or directory: %s"),
                   job->path);
      goto fail;
    }
  marker = g_build_filename (dir, "oci-layout", NULL);
  docker_manifest = g_build_filename (dir, "manifest.json", NULL);
  if (g_file_test (marker, G_FILE_TEST_EXISTS))
    results = import_oci_layout (job, dir, &error);
  else if (g_file_test (docker_manifest, G_FILE_TEST_EXISTS))
    results = import_docker_save (job, dir, &error);
  else
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s is neither an OCI image layout nor a docker save archive"), job->path);
      results = NULL;
    }
  if (results == NULL)
    goto fail;
  if (extracted != NULL)
    runtime_rm_rf (extracted, NULL);
  g_task_return_pointer (task, results, (GDestroyNotify) g_ptr_array_unref);
  return;

fail:
  if (extracted != NULL)
    runtime_rm_rf (extracted, NULL);
  g_task_return_error (task, g_steal_pointer (&error));
}

void
runtime_images_import_async (RuntimeImages *self, const char *path, const char *tag,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Job *job = job_new (self, NULL);

  g_task_set_source_tag (task, runtime_images_import_async);
  job->path = g_strdup (path);
  job->tag = g_strdup (tag);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  self->active_jobs++;
  g_task_run_in_thread (task, import_thread);
}

JsonNode *
runtime_images_import_finish (RuntimeImages *self, GAsyncResult *result, GError **error)
{
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  self->active_jobs--;
  results = g_task_propagate_pointer (G_TASK (result), error);
  if (results == NULL)
    return NULL;
  json_builder_begin_array (b);
  for (guint i = 0; i < results->len; i++)
    {
      ImageResult *r = g_ptr_array_index (results, i);
      if (!record_image (self, r, error))
        return NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "Id");
      json_builder_add_string_value (b, r->id);
      json_builder_set_member_name (b, "RepoTags");
      json_builder_begin_array (b);
      for (guint j = 0; j < r->tags->len; j++)
        json_builder_add_string_value (b, g_ptr_array_index (r->tags, j));
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

/* ------------------------------------------------------------ export */

static gboolean
archive_add_bytes (struct archive *ar, const char *name, const void *data, gsize len, GError **error)
{
  struct archive_entry *e = archive_entry_new ();
  gboolean ok = TRUE;

  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t) len);
  if (archive_write_header (ar, e) != ARCHIVE_OK ||
      (len > 0 && archive_write_data (ar, data, len) < 0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write %s: %s"), name,
                   archive_error_string (ar));
      ok = FALSE;
    }
  archive_entry_free (e);
  return ok;
}

static gboolean
archive_add_blob (struct archive *ar, RuntimeBlobs *blobs, const char *digest, GError **error)
{
  g_autofree char *path = runtime_blobs_path (blobs, digest);
  g_autofree char *name = g_strdup_printf ("blobs/sha256/%s", digest + 7);
  g_autoptr(GMappedFile) file = g_mapped_file_new (path, FALSE, error);

  if (file == NULL)
    return FALSE;
  return archive_add_bytes (ar, name, g_mapped_file_get_contents (file),
                            g_mapped_file_get_length (file), error);
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) manifest = runtime_blobs_read (job->blobs, job->manifest_digest, &error);
  g_autoptr(JsonNode) mroot = NULL;
  g_autoptr(JsonBuilder) ib = json_builder_new ();
  g_autoptr(JsonBuilder) db = json_builder_new ();
  g_autoptr(JsonNode) index = NULL;
  g_autoptr(JsonNode) docker = NULL;
  g_autofree char *index_text = NULL;
  g_autofree char *docker_text = NULL;
  const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
  struct archive *ar = NULL;
  JsonObject *mobj;
  JsonArray *layers;
  const char *config_digest;

  if (manifest == NULL)
    goto fail;
  mroot = berth_json_parse (g_bytes_get_data (manifest, NULL), (gssize) g_bytes_get_size (manifest),
                              &error);
  if ((mobj = runtime_json_object (mroot, _("The manifest"), &error)) == NULL)
    goto fail;
  config_digest = runtime_json_get_string (runtime_json_get_object (mobj, "config"), "digest");
  layers = runtime_json_get_array (mobj, "layers");

  json_builder_begin_object (ib);
  json_builder_set_member_name (ib, "schemaVersion");
  json_builder_add_int_value (ib, 2);
  json_builder_set_member_name (ib, "mediaType");
  json_builder_add_string_value (ib, RUNTIME_MT_OCI_INDEX);
  json_builder_set_member_name (ib, "manifests");
  json_builder_begin_array (ib);
  for (guint i = 0; i < MAX (job->export_tags->len, 1); i++)
    {
      json_builder_begin_object (ib);
      json_builder_set_member_name (ib, "mediaType");
      json_builder_add_string_value (ib, runtime_json_get_string (mobj, "mediaType") != NULL
                                         ? runtime_json_get_string (mobj, "mediaType")
                                         : RUNTIME_MT_OCI_MANIFEST);
      json_builder_set_member_name (ib, "digest");
      json_builder_add_string_value (ib, job->manifest_digest);
      json_builder_set_member_name (ib, "size");
      json_builder_add_int_value (ib, (gint64) g_bytes_get_size (manifest));
      if (i < job->export_tags->len)
        {
          const char *tag = g_ptr_array_index (job->export_tags, i);
          json_builder_set_member_name (ib, "annotations");
          json_builder_begin_object (ib);
          json_builder_set_member_name (ib, "io.containerd.image.name");
          json_builder_add_string_value (ib, tag);
          json_builder_set_member_name (ib, "org.opencontainers.image.ref.name");
          json_builder_add_string_value (ib, strrchr (tag, ':') != NULL ? strrchr (tag, ':') + 1 : tag);
          json_builder_end_object (ib);
        }
      json_builder_end_object (ib);
    }
  json_builder_end_array (ib);
  json_builder_end_object (ib);
  index = json_builder_get_root (ib);
  index_text = runtime_json_to_string (index);

  json_builder_begin_array (db);
  json_builder_begin_object (db);
  json_builder_set_member_name (db, "Config");
  {
    g_autofree char *c = g_strdup_printf ("blobs/sha256/%s", config_digest + 7);
    json_builder_add_string_value (db, c);
  }
  json_builder_set_member_name (db, "RepoTags");
  json_builder_begin_array (db);
  for (guint i = 0; i < job->export_tags->len; i++)
    json_builder_add_string_value (db, g_ptr_array_index (job->export_tags, i));
  json_builder_end_array (db);
  json_builder_set_member_name (db, "Layers");
  json_builder_begin_array (db);
  for (guint i = 0; layers != NULL && i < json_array_get_length (layers); i++)
    {
      const char *d = runtime_json_get_string (json_array_get_object_element (layers, i), "digest");
      g_autofree char *l = g_strdup_printf ("blobs/sha256/%s", d + 7);
      json_builder_add_string_value (db, l);
    }
  json_builder_end_array (db);
  json_builder_end_object (db);
  json_builder_end_array (db);
  docker = json_builder_get_root (db);
  docker_text = runtime_json_to_string (docker);

  ar = archive_write_new ();
  archive_write_set_format_pax_restricted (ar);
  if (archive_write_open_filename (ar, job->path) != ARCHIVE_OK)
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write %s: %s"), job->path,
                   archive_error_string (ar));
      goto fail;
    }
  if (!archive_add_bytes (ar, "oci-layout", layout, strlen (layout), &error) ||
      !archive_add_bytes (ar, "index.json", index_text, strlen (index_text), &error) ||
      !archive_add_bytes (ar, "manifest.json", docker_text, strlen (docker_text), &error) ||
      !archive_add_blob (ar, job->blobs, job->manifest_digest, &error) ||
      !archive_add_blob (ar, job->blobs, config_digest, &error))
    goto fail;
  for (guint i = 0; layers != NULL && i < json_array_get_length (layers); i++)
    if (!archive_add_blob (ar, job->blobs,
                           runtime_json_get_string (json_array_get_object_element (layers, i), "digest"),
                           &error))
      goto fail;
  if (archive_write_close (ar) != ARCHIVE_OK)
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write %s: %s"), job->path,
                   archive_error_string (ar));
      goto fail;
    }
  archive_write_free (ar);
  g_task_return_boolean (task, TRUE);
  return;

fail:
  if (ar != NULL)
    archive_write_free (ar);
  g_task_return_error (task, g_steal_pointer (&error));
}

static GPtrArray *
tags_of (RuntimeImages *self, const char *id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store_of (self),
                                                      "SELECT ref FROM image_tags WHERE image_id = ? ORDER BY ref",
                                                      error);
  g_autoptr(GPtrArray) tags = g_ptr_array_new_with_free_func (g_free);
  gboolean have_row;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  while (berth_store_step (store_of (self), stmt, &have_row, error) && have_row)
    g_ptr_array_add (tags, runtime_db_column_dup (stmt, 0));
  return g_steal_pointer (&tags);
}

static char *
manifest_digest_of (RuntimeImages *self, const char *id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store_of (self),
                                                      "SELECT manifest_digest FROM images WHERE id = ?",
                                                      error);
  gboolean have_row = FALSE;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store_of (self), stmt, &have_row, error))
    return NULL;
  if (!have_row)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("No such image: %s"), id);
      return NULL;
    }
  return runtime_db_column_dup (stmt, 0);
}

void
runtime_images_export_async (RuntimeImages *self, const char *ref, const char *path,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = runtime_images_resolve (self, ref, &error);
  g_autofree char *manifest = NULL;
  GPtrArray *tags;
  Job *job;

  g_task_set_source_tag (task, runtime_images_export_async);
  if (id == NULL || (manifest = manifest_digest_of (self, id, &error)) == NULL ||
      (tags = tags_of (self, id, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  job = job_new (self, NULL);
  job->path = g_strdup (path);
  job->manifest_digest = g_steal_pointer (&manifest);
  job->export_tags = tags;
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, export_thread);
}

gboolean
runtime_images_export_finish (RuntimeImages *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------ queries */

char *
runtime_images_resolve (RuntimeImages *self, const char *ref, GError **error)
{
  BerthStore *store = store_of (self);
  const char *hex = g_str_has_prefix (ref, "sha256:") ? ref + 7 : ref;
  gboolean all_hex = strlen (hex) >= 4 && strlen (hex) <= 64;
  gboolean have_row = FALSE;

  for (const char *p = hex; *p && all_hex; p++)
    if (!g_ascii_isxdigit (*p))
      all_hex = FALSE;
  if (all_hex)
    {
      g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, "SELECT id FROM images WHERE substr(id, 8, length(?1)) = ?1", error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_text (stmt, 1, hex, -1, SQLITE_TRANSIENT);
      if (!berth_store_step (store, stmt, &have_row, error))
        return NULL;
      if (have_row)
        return runtime_db_column_dup (stmt, 0);
    }
  {
    g_autofree char *normal = normalize_tag (ref);
    g_autoptr(sqlite3_stmt) stmt = NULL;

    if (normal != NULL)
      {
        stmt = berth_store_prepare (store, "SELECT image_id FROM image_tags WHERE ref = ?", error);
        if (stmt == NULL)
          return NULL;
        sqlite3_bind_text (stmt, 1, normal, -1, SQLITE_TRANSIENT);
        if (!berth_store_step (store, stmt, &have_row, error))
          return NULL;
        if (have_row)
          return runtime_db_column_dup (stmt, 0);
      }
  }
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("No such image: %s"), ref);
  return NULL;
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

RuntimeImageInfo *
runtime_images_get_info (RuntimeImages *self, const char *id, GError **error)
{
  BerthStore *store = store_of (self);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, "SELECT config FROM images WHERE id = ?", error);
  g_autoptr(sqlite3_stmt) lstmt = NULL;
  g_autoptr(RuntimeImageInfo) info = NULL;
  gboolean have_row = FALSE;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, &have_row, error))
    return NULL;
  if (!have_row)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("No such image: %s"), id);
      return NULL;
    }
  info = g_new0 (RuntimeImageInfo, 1);
  info->id = g_strdup (id);
  info->config_json = runtime_db_column_dup (stmt, 0);
  info->layer_dirs = g_ptr_array_new_with_free_func (g_free);
  lstmt = berth_store_prepare (store, "SELECT diff_id FROM image_layers WHERE image_id = ? ORDER BY position", error);
  if (lstmt == NULL)
    return NULL;
  sqlite3_bind_text (lstmt, 1, id, -1, SQLITE_TRANSIENT);
  while (berth_store_step (store, lstmt, &have_row, error) && have_row)
    g_ptr_array_add (info->layer_dirs,
                     layer_dir (self->layers_dir, (const char *) sqlite3_column_text (lstmt, 0)));
  return g_steal_pointer (&info);
}

static void
add_image_json (RuntimeImages *self, JsonBuilder *b, sqlite3_stmt *stmt, gboolean full)
{
  const char *id = (const char *) sqlite3_column_text (stmt, 0);
  g_autoptr(GPtrArray) tags = tags_of (self, id, NULL);
  g_autoptr(sqlite3_stmt) lstmt = NULL;
  BerthStore *store = store_of (self);
  gboolean have_row;
  gint64 unpacked = 0;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "RepoTags");
  json_builder_begin_array (b);
  for (guint i = 0; tags != NULL && i < tags->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (tags, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "ManifestDigest");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 1));
  json_builder_set_member_name (b, "Created");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 3));
  json_builder_set_member_name (b, "CompressedSize");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 2));
  json_builder_set_member_name (b, "Layers");
  json_builder_begin_array (b);
  lstmt = berth_store_prepare (store,
                               "SELECT l.diff_id, IFNULL(s.unpacked_size, 0) FROM image_layers l"
                               " LEFT JOIN layers s ON s.diff_id = l.diff_id"
                               " WHERE l.image_id = ? ORDER BY l.position", NULL);
  if (lstmt != NULL)
    {
      sqlite3_bind_text (lstmt, 1, id, -1, SQLITE_TRANSIENT);
      while (berth_store_step (store, lstmt, &have_row, NULL) && have_row)
        {
          json_builder_add_string_value (b, (const char *) sqlite3_column_text (lstmt, 0));
          unpacked += sqlite3_column_int64 (lstmt, 1);
        }
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "Size");
  json_builder_add_int_value (b, unpacked);
  if (full)
    {
      g_autoptr(JsonNode) config = berth_json_parse ((const char *) sqlite3_column_text (stmt, 4), -1, NULL);
      json_builder_set_member_name (b, "Config");
      if (config != NULL)
        json_builder_add_value (b, g_steal_pointer (&config));
      else
        json_builder_add_null_value (b);
    }
  json_builder_end_object (b);
}

#define IMAGE_COLUMNS "id, manifest_digest, size, created_at, config"

JsonNode *
runtime_images_list_json (RuntimeImages *self, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store_of (self),
                                                      "SELECT " IMAGE_COLUMNS " FROM images ORDER BY create_index",
                                                      error);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  gboolean have_row;

  if (stmt == NULL)
    return NULL;
  json_builder_begin_array (b);
  while (berth_store_step (store_of (self), stmt, &have_row, error) && have_row)
    add_image_json (self, b, stmt, FALSE);
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

JsonNode *
runtime_images_inspect_json (RuntimeImages *self, const char *id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store_of (self),
                                                      "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?",
                                                      error);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  gboolean have_row = FALSE;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store_of (self), stmt, &have_row, error))
    return NULL;
  if (!have_row)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("No such image: %s"), id);
      return NULL;
    }
  add_image_json (self, b, stmt, TRUE);
  return json_builder_get_root (b);
}

JsonNode *
runtime_images_disk_usage_json (RuntimeImages *self, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store_of (self),
                                                      "SELECT (SELECT COUNT(*) FROM layers),"
                                                      " (SELECT IFNULL(SUM(unpacked_size), 0) FROM layers),"
                                                      " (SELECT IFNULL(SUM(s.unpacked_size), 0) FROM image_layers l"
                                                      "   JOIN layers s ON s.diff_id = l.diff_id),"
                                                      " (SELECT COUNT(*) FROM images)",
                                                      error);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  gboolean have_row = FALSE;

  if (stmt == NULL || !berth_store_step (store_of (self), stmt, &have_row, error))
    return NULL;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Images");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 3));
  json_builder_set_member_name (b, "Layers");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 0));
  json_builder_set_member_name (b, "LayersSize");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 1));
  json_builder_set_member_name (b, "ImagesSize");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 2));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ------------------------------------------------------------ removal */

static GPtrArray *
query_strings (RuntimeImages *self, const char *sql, const char *arg, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store_of (self), sql, error);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  gboolean have_row;

  if (stmt == NULL)
    return NULL;
  if (arg != NULL)
    sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_TRANSIENT);
  while (berth_store_step (store_of (self), stmt, &have_row, error) && have_row)
    g_ptr_array_add (out, runtime_db_column_dup (stmt, 0));
  return g_steal_pointer (&out);
}

static gint64
query_count (RuntimeImages *self, const char *sql, const char *arg)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store_of (self), sql, NULL);
  gboolean have_row = FALSE;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store_of (self), stmt, &have_row, NULL) || !have_row)
    return -1;
  return sqlite3_column_int64 (stmt, 0);
}

/* Deletes what no image uses any more: layer directories and rows, and
 * the blobs in @candidates. Returns the bytes freed. */
static gint64
collect_garbage (RuntimeImages *self, GPtrArray *candidates, JsonBuilder *deleted, GError **error)
{
  g_autoptr(GPtrArray) orphans = NULL;
  g_autoptr(RuntimeDbBatch) batch = runtime_db_batch_new (TOPIC, "");
  gint64 freed = 0;

  orphans = query_strings (self, "SELECT diff_id FROM layers WHERE diff_id NOT IN"
                                 " (SELECT diff_id FROM image_layers)", NULL, error);
  if (orphans == NULL)
    return -1;
  for (guint i = 0; i < orphans->len; i++)
    {
      const char *diff_id = g_ptr_array_index (orphans, i);
      freed += MAX (0, query_count (self, "SELECT unpacked_size FROM layers WHERE diff_id = ?", diff_id));
      runtime_db_batch_add (batch, "DELETE FROM layers WHERE diff_id = ?1",
                            g_variant_new_string (diff_id), NULL);
    }
  if (orphans->len > 0 && runtime_db_batch_run (batch, store_of (self), error) == 0)
    return -1;
  for (guint i = 0; i < orphans->len; i++)
    {
      const char *diff_id = g_ptr_array_index (orphans, i);
      g_autofree char *dir = layer_dir (self->layers_dir, diff_id);
      g_autoptr(GError) local = NULL;

      if (self->active_jobs > 0)
        continue;  /* a pull may be about to use it again */
      if (!runtime_rm_rf (dir, &local))
        g_warning ("%s", local->message);
      if (deleted != NULL)
        json_builder_add_string_value (deleted, diff_id);
    }
  for (guint i = 0; candidates != NULL && i < candidates->len; i++)
    {
      const char *digest = g_ptr_array_index (candidates, i);
      if (query_count (self, "SELECT (SELECT COUNT(*) FROM image_layers WHERE blob_digest = ?1) +"
                             " (SELECT COUNT(*) FROM images WHERE id = ?1 OR manifest_digest = ?1)",
                       digest) == 0)
        runtime_blobs_delete (self->blobs, digest);
    }
  return freed;
}

static gboolean
delete_image (RuntimeImages *self, const char *id, GPtrArray *candidates, GError **error)
{
  g_autoptr(RuntimeDbBatch) batch = runtime_db_batch_new (TOPIC, id);
  g_autoptr(GPtrArray) blobs = query_strings (self, "SELECT blob_digest FROM image_layers WHERE image_id = ?",
                                              id, error);
  g_autofree char *manifest = manifest_digest_of (self, id, NULL);

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
  return runtime_db_batch_run (batch, store_of (self), error) != 0;
}

JsonNode *
runtime_images_remove (RuntimeImages *self, const char *ref, gboolean force, GError **error)
{
  g_autofree char *id = runtime_images_resolve (self, ref, error);
  g_autofree char *normal = NULL;
  g_autoptr(GPtrArray) tags = NULL;
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  gboolean by_tag = FALSE;

  if (id == NULL)
    return NULL;
  tags = tags_of (self, id, error);
  if (tags == NULL)
    return NULL;
  normal = normalize_tag (ref);
  for (guint i = 0; normal != NULL && i < tags->len; i++)
    if (strcmp (g_ptr_array_index (tags, i), normal) == 0)
      by_tag = TRUE;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Untagged");
  json_builder_begin_array (b);
  if (by_tag && tags->len > 1 && !force)
    {
      g_autoptr(RuntimeDbBatch) batch = runtime_db_batch_new (TOPIC, id);
      runtime_db_batch_add (batch, "DELETE FROM image_tags WHERE ref = ?1", g_variant_new_string (normal), NULL);
      if (runtime_db_batch_run (batch, store_of (self), error) == 0)
        return NULL;
      json_builder_add_string_value (b, normal);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "Deleted");
      json_builder_begin_array (b);
      json_builder_end_array (b);
      json_builder_end_object (b);
      return json_builder_get_root (b);
    }
  if (self->in_use != NULL && self->in_use (id, self->in_use_data))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT,
                   _("Image %s is used by a container; remove the container first"), ref);
      return NULL;
    }
  for (guint i = 0; i < tags->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (tags, i));
  json_builder_end_array (b);
  if (!delete_image (self, id, candidates, error))
    return NULL;
  json_builder_set_member_name (b, "Deleted");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, id);
  if (collect_garbage (self, candidates, b, error) < 0)
    return NULL;
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
runtime_images_prune (RuntimeImages *self, gboolean all, GError **error)
{
  g_autoptr(GPtrArray) ids = query_strings (self, all ? "SELECT id FROM images"
                                                      : "SELECT id FROM images WHERE id NOT IN"
                                                        " (SELECT image_id FROM image_tags)",
                                            NULL, error);
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  gint64 freed;

  if (ids == NULL)
    return NULL;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ImagesDeleted");
  json_builder_begin_array (b);
  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      if (self->in_use != NULL && self->in_use (id, self->in_use_data))
        continue;
      if (!delete_image (self, id, candidates, error))
        return NULL;
      json_builder_add_string_value (b, id);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "LayersDeleted");
  json_builder_begin_array (b);
  freed = collect_garbage (self, candidates, b, error);
  if (freed < 0)
    return NULL;
  /* directories no row knows of (a crash between unpacking and recording) */
  if (self->active_jobs == 0)
    {
      g_autoptr(GDir) dir = g_dir_open (self->layers_dir, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *diff_id = g_strconcat ("sha256:", name, NULL);
          g_autofree char *path = g_build_filename (self->layers_dir, name, NULL);

          if (name[0] != '.' &&
              query_count (self, "SELECT COUNT(*) FROM layers WHERE diff_id = ?", diff_id) != 0)
            continue;
          if (runtime_rm_rf (path, NULL) && name[0] != '.')
            json_builder_add_string_value (b, diff_id);
        }
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "SpaceReclaimed");
  json_builder_add_int_value (b, freed);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
