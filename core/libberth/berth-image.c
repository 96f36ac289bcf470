/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "berth-error.h"
#include "berth-image.h"

/**
 * SECTION:berth-image
 * @title: BerthImage
 * @short_description: a container image kept by the runtime
 *
 * An image as the runtime knows it: its id (the digest of its config),
 * the tags that name it, the digest of its manifest, when it was
 * recorded, its size unpacked and compressed, its layers (diff-IDs,
 * bottom first), and its OCI image config, whose runtime part
 * (`config`: entrypoint, command, environment, working directory, user,
 * stop signal, exposed ports, labels) has typed accessors.
 *
 * The JSON form is the runtime API's: `{"Id", "RepoTags",
 * "ManifestDigest", "Created", "CompressedSize", "Layers", "Size"}`, plus
 * `"Config"` (the whole image config document, or `null`) when asked for.
 */

struct _BerthImage {
  GObject     parent_instance;
  char       *id;
  GPtrArray  *repo_tags;      /* char*, NULL-terminated */
  char       *manifest_digest;
  gint64      created;
  guint64     size;
  guint64     compressed_size;
  GPtrArray  *layers;         /* char*, NULL-terminated */
  JsonObject *config;
  /* from config.config */
  GStrv       entrypoint;
  GStrv       cmd;
  GStrv       env;
  char       *working_dir;
  char       *user;
  char       *stop_signal;
  GStrv       exposed_ports;
  GHashTable *labels;
};

G_DEFINE_FINAL_TYPE (BerthImage, berth_image, G_TYPE_OBJECT)

static GPtrArray *
strv_array_new (void)
{
  GPtrArray *a = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (a, NULL);
  return a;
}

static void
strv_array_append (GPtrArray *a, const char *s)
{
  g_ptr_array_insert (a, (gint) a->len - 1, g_strdup (s));
}

/**
 * berth_image_new:
 * @id: the image's id, `sha256:` and the digest of its config
 *
 * Returns: (transfer full): a new image with no tags, layers nor config
 */
BerthImage *
berth_image_new (const char *id)
{
  BerthImage *self;

  g_return_val_if_fail (id != NULL, NULL);

  self = g_object_new (BERTH_TYPE_IMAGE, NULL);
  self->id = g_strdup (id);
  return self;
}

static const char *
member_string (JsonObject *obj, const char *name)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gint64
member_int (JsonObject *obj, const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return 0;
  return json_node_get_int (node);
}

static JsonObject *
member_object (JsonObject *obj, const char *name)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* The strings of the array @name of @obj; NULL when it has none. */
static GStrv
member_strv (JsonObject *obj, const char *name)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;
  g_autoptr(GStrvBuilder) b = NULL;
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  array = json_node_get_array (node);
  b = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *e = json_array_get_element (array, i);
      if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
        g_strv_builder_add (b, json_node_get_string (e));
    }
  return g_strv_builder_end (b);
}

/**
 * berth_image_new_from_json:
 * @node: an image in the runtime API's JSON form
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a new image, or %NULL with %BERTH_ERROR_INVALID
 */
BerthImage *
berth_image_new_from_json (JsonNode *node, GError **error)
{
  g_autoptr(BerthImage) self = NULL;
  g_auto(GStrv) tags = NULL;
  g_auto(GStrv) layers = NULL;
  JsonObject *obj;
  const char *id;

  g_return_val_if_fail (node != NULL, NULL);

  obj = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  id = member_string (obj, "Id");
  if (id == NULL)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                           _("An image must be a JSON object with an “Id”"));
      return NULL;
    }
  self = berth_image_new (id);
  tags = member_strv (obj, "RepoTags");
  for (guint i = 0; tags != NULL && tags[i] != NULL; i++)
    berth_image_add_repo_tag (self, tags[i]);
  berth_image_set_manifest_digest (self, member_string (obj, "ManifestDigest"));
  self->created = member_int (obj, "Created");
  self->compressed_size = (guint64) MAX (member_int (obj, "CompressedSize"), 0);
  self->size = (guint64) MAX (member_int (obj, "Size"), 0);
  layers = member_strv (obj, "Layers");
  for (guint i = 0; layers != NULL && layers[i] != NULL; i++)
    berth_image_add_layer (self, layers[i]);
  berth_image_set_config (self, member_object (obj, "Config"));
  return g_steal_pointer (&self);
}

static void
add_strings (JsonBuilder *b, const char *name, GPtrArray *strings)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; strings != NULL && i + 1 < strings->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (strings, i));
  json_builder_end_array (b);
}

/**
 * berth_image_to_json:
 * @self: a #BerthImage
 * @with_config: whether to add `"Config"` (as an inspection does)
 *
 * Returns: (transfer full): the runtime API's JSON form of @self
 */
JsonNode *
berth_image_to_json (BerthImage *self, gboolean with_config)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Id");
  json_builder_add_string_value (b, self->id);
  add_strings (b, "RepoTags", self->repo_tags);
  json_builder_set_member_name (b, "ManifestDigest");
  if (self->manifest_digest != NULL)
    json_builder_add_string_value (b, self->manifest_digest);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "Created");
  json_builder_add_int_value (b, self->created);
  json_builder_set_member_name (b, "CompressedSize");
  json_builder_add_int_value (b, (gint64) self->compressed_size);
  add_strings (b, "Layers", self->layers);
  json_builder_set_member_name (b, "Size");
  json_builder_add_int_value (b, (gint64) self->size);
  if (with_config)
    {
      json_builder_set_member_name (b, "Config");
      if (self->config != NULL)
        {
          JsonNode *node = json_node_new (JSON_NODE_OBJECT);
          json_node_set_object (node, self->config);
          json_builder_add_value (b, node);
        }
      else
        json_builder_add_null_value (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/**
 * berth_image_get_id:
 * @self: a #BerthImage
 *
 * Returns: the image's id
 */
const char *
berth_image_get_id (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);
  return self->id;
}

/**
 * berth_image_get_repo_tags:
 * @self: a #BerthImage
 *
 * Returns: (transfer none) (array zero-terminated=1): the normalized
 *   references that name the image, e.g. `docker.io/library/busybox:latest`
 */
const char * const *
berth_image_get_repo_tags (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);
  return (const char * const *) self->repo_tags->pdata;
}

/**
 * berth_image_add_repo_tag:
 * @self: a #BerthImage
 * @tag: a normalized reference
 */
void
berth_image_add_repo_tag (BerthImage *self, const char *tag)
{
  g_return_if_fail (BERTH_IS_IMAGE (self));
  g_return_if_fail (tag != NULL);
  strv_array_append (self->repo_tags, tag);
}

/**
 * berth_image_get_manifest_digest:
 * @self: a #BerthImage
 *
 * Returns: (nullable): the digest of the image's manifest
 */
const char *
berth_image_get_manifest_digest (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);
  return self->manifest_digest;
}

/**
 * berth_image_set_manifest_digest:
 * @self: a #BerthImage
 * @digest: (nullable): the digest of the image's manifest
 */
void
berth_image_set_manifest_digest (BerthImage *self, const char *digest)
{
  g_return_if_fail (BERTH_IS_IMAGE (self));
  g_free (self->manifest_digest);
  self->manifest_digest = g_strdup (digest);
}

/**
 * berth_image_get_created:
 * @self: a #BerthImage
 *
 * Returns: when the image was recorded, in seconds since the epoch
 */
gint64
berth_image_get_created (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), 0);
  return self->created;
}

/**
 * berth_image_set_created:
 * @self: a #BerthImage
 * @created: seconds since the epoch
 */
void
berth_image_set_created (BerthImage *self, gint64 created)
{
  g_return_if_fail (BERTH_IS_IMAGE (self));
  self->created = created;
}

/**
 * berth_image_get_size:
 * @self: a #BerthImage
 *
 * Returns: the bytes of its layers, unpacked
 */
guint64
berth_image_get_size (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), 0);
  return self->size;
}

/**
 * berth_image_set_size:
 * @self: a #BerthImage
 * @size: the bytes of its layers, unpacked
 */
void
berth_image_set_size (BerthImage *self, guint64 size)
{
  g_return_if_fail (BERTH_IS_IMAGE (self));
  self->size = size;
}

/**
 * berth_image_get_compressed_size:
 * @self: a #BerthImage
 *
 * Returns: the bytes of its layer blobs, as downloaded
 */
guint64
berth_image_get_compressed_size (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), 0);
  return self->compressed_size;
}

/**
 * berth_image_set_compressed_size:
 * @self: a #BerthImage
 * @size: the bytes of its layer blobs
 */
void
berth_image_set_compressed_size (BerthImage *self, guint64 size)
{
  g_return_if_fail (BERTH_IS_IMAGE (self));
  self->compressed_size = size;
}

/**
 * berth_image_get_layers:
 * @self: a #BerthImage
 *
 * Returns: (transfer none) (array zero-terminated=1): the diff-IDs of its
 *   layers, bottom first
 */
const char * const *
berth_image_get_layers (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);
  return (const char * const *) self->layers->pdata;
}

/**
 * berth_image_add_layer:
 * @self: a #BerthImage
 * @diff_id: the diff-ID of the next layer up
 */
void
berth_image_add_layer (BerthImage *self, const char *diff_id)
{
  g_return_if_fail (BERTH_IS_IMAGE (self));
  g_return_if_fail (diff_id != NULL);
  strv_array_append (self->layers, diff_id);
}

/**
 * berth_image_get_config:
 * @self: a #BerthImage
 *
 * Returns: (transfer none) (nullable): the OCI image config document
 */
JsonObject *
berth_image_get_config (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);
  return self->config;
}

static void
clear_runtime_config (BerthImage *self)
{
  g_clear_pointer (&self->entrypoint, g_strfreev);
  g_clear_pointer (&self->cmd, g_strfreev);
  g_clear_pointer (&self->env, g_strfreev);
  g_clear_pointer (&self->working_dir, g_free);
  g_clear_pointer (&self->user, g_free);
  g_clear_pointer (&self->stop_signal, g_free);
  g_clear_pointer (&self->exposed_ports, g_strfreev);
  g_hash_table_remove_all (self->labels);
}

/**
 * berth_image_set_config:
 * @self: a #BerthImage
 * @config: (nullable): the OCI image config document
 *
 * Sets the config and, from its `config` member, the typed fields.
 */
void
berth_image_set_config (BerthImage *self, JsonObject *config)
{
  JsonObject *rc, *ports, *labels;

  g_return_if_fail (BERTH_IS_IMAGE (self));

  if (config != NULL)
    json_object_ref (config);
  g_clear_pointer (&self->config, json_object_unref);
  self->config = config;
  clear_runtime_config (self);
  rc = member_object (config, "config");
  if (rc == NULL)
    return;
  self->entrypoint = member_strv (rc, "Entrypoint");
  self->cmd = member_strv (rc, "Cmd");
  self->env = member_strv (rc, "Env");
  self->working_dir = g_strdup (member_string (rc, "WorkingDir"));
  self->user = g_strdup (member_string (rc, "User"));
  self->stop_signal = g_strdup (member_string (rc, "StopSignal"));
  ports = member_object (rc, "ExposedPorts");
  if (ports != NULL)
    {
      g_autoptr(GList) names = json_object_get_members (ports);
      g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

      for (GList *l = names; l != NULL; l = l->next)
        g_strv_builder_add (b, l->data);
      self->exposed_ports = g_strv_builder_end (b);
    }
  labels = member_object (rc, "Labels");
  if (labels != NULL)
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *value;

      json_object_iter_init (&iter, labels);
      while (json_object_iter_next (&iter, &name, &value))
        if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
          g_hash_table_replace (self->labels, g_strdup (name), g_strdup (json_node_get_string (value)));
    }
}

/**
 * berth_image_get_entrypoint:
 * @self: a #BerthImage
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the
 *   config's `Entrypoint`
 */
const char * const *
berth_image_get_entrypoint (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);
  return (const char * const *) self->entrypoint;
}

/**
 * berth_image_get_cmd:
 * @self: a #BerthImage
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the
 *   config's `Cmd`
 */
const char * const *
berth_image_get_cmd (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);
  return (const char * const *) self->cmd;
}

/**
 * berth_image_get_env:
 * @self: a #BerthImage
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the
 *   config's `Env`, `NAME=value` strings
 */
const char * const *
berth_image_get_env (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);
  return (const char * const *) self->env;
}

/**
 * berth_image_get_working_dir:
 * @self: a #BerthImage
 *
 * Returns: (nullable): the config's `WorkingDir`
 */
const char *
berth_image_get_working_dir (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);
  return self->working_dir;
}

/**
 * berth_image_get_user:
 * @self: a #BerthImage
 *
 * Returns: (nullable): the config's `User`
 */
const char *
berth_image_get_user (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);
  return self->user;
}

/**
 * berth_image_get_stop_signal:
 * @self: a #BerthImage
 *
 * Returns: (nullable): the config's `StopSignal`, e.g. `SIGQUIT`
 */
const char *
berth_image_get_stop_signal (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);
  return self->stop_signal;
}

/**
 * berth_image_get_exposed_ports:
 * @self: a #BerthImage
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the
 *   config's `ExposedPorts`, e.g. `80/tcp`
 */
const char * const *
berth_image_get_exposed_ports (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);
  return (const char * const *) self->exposed_ports;
}

/**
 * berth_image_get_labels:
 * @self: a #BerthImage
 *
 * Returns: (transfer none) (element-type utf8 utf8): the config's `Labels`
 */
GHashTable *
berth_image_get_labels (BerthImage *self)
{
  g_return_val_if_fail (BERTH_IS_IMAGE (self), NULL);
  return self->labels;
}

static void
berth_image_finalize (GObject *object)
{
  BerthImage *self = BERTH_IMAGE (object);

  clear_runtime_config (self);
  g_hash_table_unref (self->labels);
  g_clear_pointer (&self->config, json_object_unref);
  g_ptr_array_unref (self->repo_tags);
  g_ptr_array_unref (self->layers);
  g_free (self->manifest_digest);
  g_free (self->id);
  G_OBJECT_CLASS (berth_image_parent_class)->finalize (object);
}

static void
berth_image_class_init (BerthImageClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = berth_image_finalize;
}

static void
berth_image_init (BerthImage *self)
{
  self->repo_tags = strv_array_new ();
  self->layers = strv_array_new ();
  self->labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}
