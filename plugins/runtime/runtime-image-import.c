/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "runtime-image-manifest.h"
#include "runtime-image-private.h"
#include "runtime-unpack.h"
#include "runtime-util.h"

/* Imports: the archive (a tar sent by the client) is written under the
 * runtime's tmp directory, unpacked there as safely as a layer, and read
 * as an OCI image layout (`oci-layout`, `index.json`, `blobs/`) or a
 * `docker save` archive (`manifest.json`, configs, layer tars). Nothing
 * outside the runtime's state is read or written. */

static char *
import_blob (RuntimeImageJob *job, const char *dir, const char *digest, GError **error)
{
  g_autofree char *path = NULL;

  if (!runtime_digest_is_valid (digest))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("Invalid digest in the layout"));
      return NULL;
    }
  path = g_build_filename (dir, "blobs", "sha256", digest + 7, NULL);
  return runtime_blobs_put_file (job->blobs, digest, path, error);
}

static JsonNode *
read_json_file (const char *dir, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *data = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  return berth_json_parse (data, (gssize) len, error);
}

static void
add_tag (RuntimeImageResult *r, const char *text)
{
  char *tag = text != NULL ? runtime_images_normalize_tag (text) : NULL;
  if (tag != NULL)
    g_ptr_array_add (r->tags, tag);
}

/* ---------------------------------------------------------- OCI layout */

static RuntimeImageResult *
import_oci_manifest (RuntimeImageJob *job, const char *dir, const char *digest, guint depth, GError **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(RuntimeManifest) manifest = NULL;
  g_autofree char *stored = import_blob (job, dir, digest, error);
  g_autofree char *config = NULL;
  JsonObject *obj;

  if (stored == NULL)
    return NULL;
  bytes = runtime_blobs_read (job->blobs, digest, error);
  if (bytes == NULL)
    return NULL;
  root = berth_json_parse (g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), error);
  if ((obj = runtime_json_object (root, _("The manifest"), error)) == NULL)
    return NULL;
  if (runtime_manifest_is_index (runtime_json_get_string (obj, "mediaType"), obj))
    {
      g_autofree char *picked = NULL;

      if (depth > 0)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("An index names another index"));
          return NULL;
        }
      picked = runtime_manifest_pick_platform (obj, "linux", runtime_host_arch (), error);
      if (picked == NULL)
        return NULL;
      return import_oci_manifest (job, dir, picked, depth + 1, error);
    }
  manifest = runtime_manifest_parse (obj, digest, error);
  if (manifest == NULL)
    return NULL;
  config = import_blob (job, dir, manifest->config_digest, error);
  if (config == NULL)
    return NULL;
  for (guint i = 0; i < manifest->layers->len; i++)
    {
      RuntimeDescriptor *desc = g_ptr_array_index (manifest->layers, i);
      g_autofree char *layer = import_blob (job, dir, desc->digest, error);
      if (layer == NULL)
        return NULL;
    }
  return runtime_image_install_manifest (job, NULL, digest, NULL, error);
}

static GPtrArray *
import_oci_layout (RuntimeImageJob *job, const char *dir, GError **error)
{
  g_autoptr(JsonNode) root = read_json_file (dir, "index.json", error);
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func ((GDestroyNotify) runtime_image_result_free);
  JsonObject *obj;
  JsonArray *manifests;

  if (root == NULL || (obj = runtime_json_object (root, "index.json", error)) == NULL)
    return NULL;
  manifests = runtime_json_get_array (obj, "manifests");
  for (guint i = 0; manifests != NULL && i < json_array_get_length (manifests); i++)
    {
      JsonNode *node = json_array_get_element (manifests, i);
      JsonObject *m = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      JsonObject *ann = runtime_json_get_object (m, "annotations");
      const char *name = runtime_json_get_string (ann, "io.containerd.image.name");
      const char *refname = runtime_json_get_string (ann, "org.opencontainers.image.ref.name");
      RuntimeImageResult *r = import_oci_manifest (job, dir, runtime_json_get_string (m, "digest"), 0, error);

      if (r == NULL)
        return NULL;
      if (job->tag != NULL)
        add_tag (r, job->tag);
      else if (name != NULL)
        add_tag (r, name);
      else if (refname != NULL && (strchr (refname, '/') != NULL || strchr (refname, ':') != NULL))
        add_tag (r, refname);
      g_ptr_array_add (results, r);
    }
  if (results->len == 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("The OCI layout holds no image"));
      return NULL;
    }
  return g_steal_pointer (&results);
}

/* --------------------------------------------------------- docker save */

static void
add_descriptor (JsonBuilder *b, const char *media_type, const char *digest, guint64 size)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "mediaType");
  json_builder_add_string_value (b, media_type);
  json_builder_set_member_name (b, "digest");
  json_builder_add_string_value (b, digest);
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, (gint64) size);
  json_builder_end_object (b);
}

/* Stores the config and layers one entry of manifest.json names, and an
 * OCI manifest made up for them; the layers' digests are their diff-IDs. */
static char *
store_docker_entry (RuntimeImageJob *job, const char *dir, JsonObject *entry, GError **error)
{
  JsonArray *layers = runtime_json_get_array (entry, "Layers");
  g_autofree char *config_path = runtime_archive_member_path (dir, runtime_json_get_string (entry, "Config"),
                                                              error);
  g_autofree char *config_digest = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) manifest = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GBytes) bytes = NULL;

  if (config_path == NULL)
    return NULL;
  if (layers == NULL)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("manifest.json names no layers"));
      return NULL;
    }
  config_digest = runtime_blobs_put_file (job->blobs, NULL, config_path, error);
  if (config_digest == NULL)
    return NULL;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "schemaVersion");
  json_builder_add_int_value (b, 2);
  json_builder_set_member_name (b, "mediaType");
  json_builder_add_string_value (b, RUNTIME_MT_OCI_MANIFEST);
  json_builder_set_member_name (b, "config");
  add_descriptor (b, "application/vnd.oci.image.config.v1+json", config_digest,
                  runtime_blobs_size (job->blobs, config_digest));
  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);
  for (guint j = 0; j < json_array_get_length (layers); j++)
    {
      JsonNode *node = json_array_get_element (layers, j);
      const char *member = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                             ? json_node_get_string (node) : NULL;
      g_autofree char *lpath = runtime_archive_member_path (dir, member, error);
      g_autofree char *ldigest = NULL;

      if (lpath == NULL || (ldigest = runtime_blobs_put_file (job->blobs, NULL, lpath, error)) == NULL)
        return NULL;
      add_descriptor (b, "application/vnd.oci.image.layer.v1.tar", ldigest,
                      runtime_blobs_size (job->blobs, ldigest));
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  manifest = json_builder_get_root (b);
  text = runtime_json_to_string (manifest);
  bytes = g_bytes_new (text, strlen (text));
  return runtime_blobs_put_bytes (job->blobs, NULL, bytes, error);
}

static GPtrArray *
import_docker_save (RuntimeImageJob *job, const char *dir, GError **error)
{
  g_autoptr(JsonNode) root = read_json_file (dir, "manifest.json", error);
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func ((GDestroyNotify) runtime_image_result_free);
  JsonArray *entries;

  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("manifest.json is not an array"));
      return NULL;
    }
  entries = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonNode *node = json_array_get_element (entries, i);
      JsonObject *e = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      JsonArray *tags = runtime_json_get_array (e, "RepoTags");
      g_autofree char *manifest_digest = store_docker_entry (job, dir, e, error);
      RuntimeImageResult *r;

      if (manifest_digest == NULL)
        return NULL;
      r = runtime_image_install_manifest (job, NULL, manifest_digest, NULL, error);
      if (r == NULL)
        return NULL;
      if (job->tag != NULL)
        add_tag (r, job->tag);
      else
        for (guint j = 0; tags != NULL && j < json_array_get_length (tags); j++)
          {
            JsonNode *t = json_array_get_element (tags, j);
            if (JSON_NODE_HOLDS_VALUE (t) && json_node_get_value_type (t) == G_TYPE_STRING)
              add_tag (r, json_node_get_string (t));
          }
      g_ptr_array_add (results, r);
    }
  return g_steal_pointer (&results);
}

/* -------------------------------------------------------------- worker */

static void
import_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RuntimeImageJob *job = task_data;
  GBytes *archive = g_object_get_data (G_OBJECT (task), "archive");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_strconcat (job->path, ".d", NULL);
  g_autofree char *marker = g_build_filename (dir, "oci-layout", NULL);
  g_autofree char *docker_manifest = g_build_filename (dir, "manifest.json", NULL);
  GPtrArray *results = NULL;

  if (!runtime_write_file (job->path, g_bytes_get_data (archive, NULL), (gssize) g_bytes_get_size (archive),
                           &error))
    goto out;
  if (g_mkdir (dir, 0700) < 0)
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot create %s"), dir);
      goto out;
    }
  if (!runtime_unpack_layer (job->path, dir, NULL, &error))
    goto out;
  g_unlink (job->path);
  if (g_file_test (marker, G_FILE_TEST_EXISTS))
    results = import_oci_layout (job, dir, &error);
  else if (g_file_test (docker_manifest, G_FILE_TEST_EXISTS))
    results = import_docker_save (job, dir, &error);
  else
    g_set_error (&error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                 _("The archive is neither an OCI image layout nor a docker save archive"));

out:
  runtime_rm_rf (dir, NULL);
  if (results != NULL)
    g_task_return_pointer (task, results, (GDestroyNotify) g_ptr_array_unref);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

void
runtime_images_import_async (RuntimeImages *self, GBytes *archive, const char *tag, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  RuntimeImageJob *job = runtime_image_job_new (self);
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *name = g_strdup_printf ("image-import-%s.tar", uuid);

  g_return_if_fail (archive != NULL);

  g_task_set_source_tag (task, runtime_images_import_async);
  job->path = g_build_filename (self->tmp_dir, name, NULL);
  job->tag = g_strdup (tag);
  g_object_set_data_full (G_OBJECT (task), "archive", g_bytes_ref (archive), (GDestroyNotify) g_bytes_unref);
  g_task_set_task_data (task, job, (GDestroyNotify) runtime_image_job_free);
  self->active_jobs++;
  g_task_run_in_thread (task, import_thread);
}

GPtrArray *
runtime_images_import_finish (RuntimeImages *self, GAsyncResult *result, GError **error)
{
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func (g_object_unref);

  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == runtime_images_import_async, NULL);

  self->active_jobs--;
  results = g_task_propagate_pointer (G_TASK (result), error);
  if (results == NULL)
    return NULL;
  for (guint i = 0; i < results->len; i++)
    {
      RuntimeImageResult *r = g_ptr_array_index (results, i);
      BerthImage *image;

      if (!runtime_images_record (self, r, error))
        return NULL;
      image = berth_image_new (r->id);
      berth_image_set_manifest_digest (image, r->manifest_digest);
      for (guint j = 0; j < r->tags->len; j++)
        berth_image_add_repo_tag (image, g_ptr_array_index (r->tags, j));
      g_ptr_array_add (images, image);
    }
  return g_steal_pointer (&images);
}
