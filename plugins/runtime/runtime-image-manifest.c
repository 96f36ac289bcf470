/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "runtime-blobs.h"
#include "runtime-image-manifest.h"
#include "runtime-registry.h"
#include "runtime-util.h"

/* What an image is made of, read from its manifest (Docker schema 2 or
 * OCI), which manifest of an index (multi-platform list) fits this host,
 * and the config's layer identities. */

void
runtime_descriptor_free (RuntimeDescriptor *desc)
{
  if (desc == NULL)
    return;
  g_free (desc->digest);
  g_free (desc->media_type);
  g_free (desc);
}

void
runtime_manifest_free (RuntimeManifest *manifest)
{
  if (manifest == NULL)
    return;
  g_free (manifest->config_digest);
  g_ptr_array_unref (manifest->layers);
  g_free (manifest);
}

/* Whether @object, of @media_type, is an index rather than a manifest. */
gboolean
runtime_manifest_is_index (const char *media_type, JsonObject *object)
{
  if (g_strcmp0 (media_type, RUNTIME_MT_OCI_INDEX) == 0 ||
      g_strcmp0 (media_type, RUNTIME_MT_DOCKER_LIST) == 0)
    return TRUE;
  /* an OCI index may come without its mediaType */
  return runtime_json_get_array (object, "manifests") != NULL &&
         runtime_json_get_array (object, "layers") == NULL;
}

/* The digest of @index's manifest for @os/@arch. */
char *
runtime_manifest_pick_platform (JsonObject *index, const char *os, const char *arch, GError **error)
{
  JsonArray *manifests = runtime_json_get_array (index, "manifests");

  for (guint i = 0; manifests != NULL && i < json_array_get_length (manifests); i++)
    {
      JsonNode *node = json_array_get_element (manifests, i);
      JsonObject *m = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      JsonObject *platform = runtime_json_get_object (m, "platform");
      const char *digest = runtime_json_get_string (m, "digest");

      if (platform == NULL || !runtime_digest_is_valid (digest))
        continue;
      if (g_strcmp0 (runtime_json_get_string (platform, "os"), os) == 0 &&
          g_strcmp0 (runtime_json_get_string (platform, "architecture"), arch) == 0)
        return g_strdup (digest);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No image for %s/%s in the index"), os, arch);
  return NULL;
}

static gboolean
layer_media_type_ok (const char *mt)
{
  return mt == NULL || g_str_has_prefix (mt, "application/vnd.oci.image.layer.") ||
         g_str_has_prefix (mt, "application/vnd.docker.image.rootfs.diff.tar");
}

/* The config and layers of the manifest @object (whose digest, @digest,
 * only names it in errors); every digest checked. */
RuntimeManifest *
runtime_manifest_parse (JsonObject *object, const char *digest, GError **error)
{
  g_autoptr(RuntimeManifest) manifest = g_new0 (RuntimeManifest, 1);
  JsonObject *config = runtime_json_get_object (object, "config");
  const char *config_digest = runtime_json_get_string (config, "digest");
  JsonArray *layers = runtime_json_get_array (object, "layers");

  manifest->layers = g_ptr_array_new_with_free_func ((GDestroyNotify) runtime_descriptor_free);
  if (!runtime_digest_is_valid (config_digest) || layers == NULL)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                   _("Unsupported manifest %s (only Docker schema 2 and OCI manifests are)"),
                   digest != NULL ? digest : "?");
      return NULL;
    }
  manifest->config_digest = g_strdup (config_digest);
  for (guint i = 0; i < json_array_get_length (layers); i++)
    {
      JsonNode *node = json_array_get_element (layers, i);
      JsonObject *l = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *ldigest = runtime_json_get_string (l, "digest");
      const char *mt = runtime_json_get_string (l, "mediaType");
      RuntimeDescriptor *desc;
      JsonNode *size;

      if (!runtime_digest_is_valid (ldigest) || !layer_media_type_ok (mt))
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("Unsupported layer %s (%s)"),
                       ldigest != NULL ? ldigest : "?", mt != NULL ? mt : "?");
          return NULL;
        }
      desc = g_new0 (RuntimeDescriptor, 1);
      desc->digest = g_strdup (ldigest);
      desc->media_type = g_strdup (mt != NULL ? mt : "application/vnd.oci.image.layer.v1.tar");
      size = json_object_get_member (l, "size");
      if (size != NULL && JSON_NODE_HOLDS_VALUE (size) && json_node_get_value_type (size) == G_TYPE_INT64 &&
          json_node_get_int (size) > 0)
        desc->size = (guint64) json_node_get_int (size);
      g_ptr_array_add (manifest->layers, desc);
    }
  return g_steal_pointer (&manifest);
}

/* The config's rootfs.diff_ids, one per layer of the manifest. */
GPtrArray *
runtime_config_diff_ids (JsonObject *config, guint n_layers, GError **error)
{
  JsonArray *diff_ids = runtime_json_get_array (runtime_json_get_object (config, "rootfs"), "diff_ids");
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  if (diff_ids == NULL || json_array_get_length (diff_ids) != n_layers)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                   _("The image config's diff_ids do not match its %u layers"), n_layers);
      return NULL;
    }
  for (guint i = 0; i < n_layers; i++)
    {
      JsonNode *node = json_array_get_element (diff_ids, i);
      const char *diff_id = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                              ? json_node_get_string (node) : NULL;

      if (!runtime_digest_is_valid (diff_id))
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("Invalid diff_id in the config"));
          return NULL;
        }
      g_ptr_array_add (out, g_strdup (diff_id));
    }
  return g_steal_pointer (&out);
}

/* @member, a relative path named by an archive's manifest.json, under
 * @dir; never one that leaves it. */
char *
runtime_archive_member_path (const char *dir, const char *member, GError **error)
{
  gboolean ok = member != NULL && member[0] != '\0' && member[0] != '/';

  if (ok)
    {
      g_auto(GStrv) parts = g_strsplit (member, "/", -1);
      for (guint i = 0; parts[i] != NULL; i++)
        if (strcmp (parts[i], "..") == 0)
          ok = FALSE;
    }
  if (!ok)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("Invalid path “%s” in manifest.json"),
                   member != NULL ? member : "");
      return NULL;
    }
  return g_build_filename (dir, member, NULL);
}
