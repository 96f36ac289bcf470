/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "runtime-image-manifest.h"
#include "runtime-image-private.h"
#include "runtime-util.h"

/* Exports: a tar holding both an OCI image layout (`oci-layout`,
 * `index.json`, `blobs/sha256/…`) and docker's `manifest.json` naming the
 * same blobs, so that `docker load` and OCI tools read it. It is written
 * under the runtime's tmp directory and handed back as bytes mapped from
 * that file, which is unlinked at once. */

static gboolean
archive_add_bytes (struct archive *ar, const char *name, const void *data, gsize len, GError **error)
{
  struct archive_entry *e = archive_entry_new ();
  gboolean ok = TRUE;

  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t) len);
  if (archive_write_header (ar, e) != ARCHIVE_OK || (len > 0 && archive_write_data (ar, data, len) < 0))
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
  return archive_add_bytes (ar, name, g_mapped_file_get_contents (file), g_mapped_file_get_length (file), error);
}

static char *
build_index (RuntimeImageJob *job, const char *media_type, gsize manifest_size)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "schemaVersion");
  json_builder_add_int_value (b, 2);
  json_builder_set_member_name (b, "mediaType");
  json_builder_add_string_value (b, RUNTIME_MT_OCI_INDEX);
  json_builder_set_member_name (b, "manifests");
  json_builder_begin_array (b);
  for (guint i = 0; i < MAX (job->export_tags->len, 1); i++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "mediaType");
      json_builder_add_string_value (b, media_type != NULL ? media_type : RUNTIME_MT_OCI_MANIFEST);
      json_builder_set_member_name (b, "digest");
      json_builder_add_string_value (b, job->manifest_digest);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, (gint64) manifest_size);
      if (i < job->export_tags->len)
        {
          const char *tag = g_ptr_array_index (job->export_tags, i);
          json_builder_set_member_name (b, "annotations");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "io.containerd.image.name");
          json_builder_add_string_value (b, tag);
          json_builder_set_member_name (b, "org.opencontainers.image.ref.name");
          json_builder_add_string_value (b, strrchr (tag, ':') != NULL ? strrchr (tag, ':') + 1 : tag);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return runtime_json_to_string (root);
}

static char *
build_docker_manifest (RuntimeImageJob *job, RuntimeManifest *manifest)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *config = g_strdup_printf ("blobs/sha256/%s", manifest->config_digest + 7);

  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Config");
  json_builder_add_string_value (b, config);
  json_builder_set_member_name (b, "RepoTags");
  json_builder_begin_array (b);
  for (guint i = 0; i < job->export_tags->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (job->export_tags, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "Layers");
  json_builder_begin_array (b);
  for (guint i = 0; i < manifest->layers->len; i++)
    {
      RuntimeDescriptor *desc = g_ptr_array_index (manifest->layers, i);
      g_autofree char *l = g_strdup_printf ("blobs/sha256/%s", desc->digest + 7);
      json_builder_add_string_value (b, l);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  return runtime_json_to_string (root);
}

static gboolean
write_archive (RuntimeImageJob *job, const char *index, const char *docker, RuntimeManifest *manifest,
               GCancellable *cancellable, GError **error)
{
  const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
  struct archive *ar = archive_write_new ();
  gboolean ok = FALSE;

  archive_write_set_format_pax_restricted (ar);
  if (archive_write_open_filename (ar, job->path) != ARCHIVE_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write %s: %s"), job->path,
                   archive_error_string (ar));
      goto out;
    }
  if (!archive_add_bytes (ar, "oci-layout", layout, strlen (layout), error) ||
      !archive_add_bytes (ar, "index.json", index, strlen (index), error) ||
      !archive_add_bytes (ar, "manifest.json", docker, strlen (docker), error) ||
      !archive_add_blob (ar, job->blobs, job->manifest_digest, error) ||
      !archive_add_blob (ar, job->blobs, manifest->config_digest, error))
    goto out;
  for (guint i = 0; i < manifest->layers->len; i++)
    {
      RuntimeDescriptor *desc = g_ptr_array_index (manifest->layers, i);
      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !archive_add_blob (ar, job->blobs, desc->digest, error))
        goto out;
    }
  if (archive_write_close (ar) != ARCHIVE_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write %s: %s"), job->path,
                   archive_error_string (ar));
      goto out;
    }
  ok = TRUE;

out:
  archive_write_free (ar);
  return ok;
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RuntimeImageJob *job = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = runtime_blobs_read (job->blobs, job->manifest_digest, &error);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(RuntimeManifest) manifest = NULL;
  g_autofree char *index = NULL;
  g_autofree char *docker = NULL;
  g_autoptr(GMappedFile) file = NULL;
  JsonObject *obj;

  if (bytes == NULL)
    goto fail;
  root = berth_json_parse (g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), &error);
  if ((obj = runtime_json_object (root, _("The manifest"), &error)) == NULL ||
      (manifest = runtime_manifest_parse (obj, job->manifest_digest, &error)) == NULL)
    goto fail;
  index = build_index (job, runtime_json_get_string (obj, "mediaType"), g_bytes_get_size (bytes));
  docker = build_docker_manifest (job, manifest);
  if (!write_archive (job, index, docker, manifest, cancellable, &error))
    goto fail;
  file = g_mapped_file_new (job->path, FALSE, &error);
  if (file == NULL)
    goto fail;
  g_task_return_pointer (task, g_mapped_file_get_bytes (file), (GDestroyNotify) g_bytes_unref);
  return;

fail:
  g_task_return_error (task, g_steal_pointer (&error));
}

void
runtime_images_export_async (RuntimeImages *self, const char *ref, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = runtime_images_resolve (self, ref, &error);
  g_autofree char *manifest = NULL;
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *name = g_strdup_printf ("image-export-%s.tar", uuid);
  GPtrArray *tags;
  RuntimeImageJob *job;

  g_task_set_source_tag (task, runtime_images_export_async);
  if (id == NULL || (manifest = runtime_images_manifest_digest_of (self, id, &error)) == NULL ||
      (tags = runtime_images_tags_of (self, id, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  job = runtime_image_job_new (self);
  /* unlinked when the job goes, with the answer mapped */
  job->path = g_build_filename (self->tmp_dir, name, NULL);
  job->manifest_digest = g_steal_pointer (&manifest);
  job->export_tags = tags;
  g_task_set_task_data (task, job, (GDestroyNotify) runtime_image_job_free);
  g_task_run_in_thread (task, export_thread);
}

GBytes *
runtime_images_export_finish (RuntimeImages *self, GAsyncResult *result, GError **error)
{
  RuntimeImageJob *job = g_task_get_task_data (G_TASK (result));

  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == runtime_images_export_async, NULL);

  if (job != NULL && job->path != NULL)
    g_unlink (job->path);
  return g_task_propagate_pointer (G_TASK (result), error);
}
