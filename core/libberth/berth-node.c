/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "berth-error.h"
#include "berth-node.h"

/**
 * SECTION:berth-node
 * @title: BerthNode
 * @short_description: a machine of the pool
 *
 * A node: its identity (id, name, datacenter, address), the resources it
 * offers to the pool, and free-form metadata. Its JSON form uses Consul's
 * key names (`ID`, `Node`, `Datacenter`, `Address`, `Meta`) plus
 * `Resources` (`cpus`, `mem_bytes`, `disk_bytes`).
 */

struct _BerthNode {
  GObject     parent_instance;
  char       *id;
  char       *name;
  char       *datacenter;
  char       *address;
  gdouble     cpus;
  guint64     memory_bytes;
  guint64     disk_bytes;
  GHashTable *meta;
};

G_DEFINE_FINAL_TYPE (BerthNode, berth_node, G_TYPE_OBJECT)

/**
 * berth_node_new:
 * @id: a stable unique id (a UUID)
 * @name: the node's name
 * @datacenter: its datacenter
 * @address: the address other nodes and clients reach it at
 *
 * Returns: (transfer full): a new #BerthNode
 */
BerthNode *
berth_node_new (const char *id, const char *name, const char *datacenter, const char *address)
{
  BerthNode *self;

  g_return_val_if_fail (id != NULL && name != NULL, NULL);
  g_return_val_if_fail (datacenter != NULL && address != NULL, NULL);

  self = g_object_new (BERTH_TYPE_NODE, NULL);
  self->id = g_strdup (id);
  self->name = g_strdup (name);
  self->datacenter = g_strdup (datacenter);
  self->address = g_strdup (address);
  return self;
}

static JsonObject *
member_object (JsonObject *obj, const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static const char *
member_string (JsonObject *obj, const char *name, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                   _("Node JSON lacks the string member “%s”"), name);
      return NULL;
    }
  return json_node_get_string (node);
}

/**
 * berth_node_new_from_json:
 * @node: a JSON object as berth_node_to_json() makes
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a new #BerthNode, or %NULL on error
 */
BerthNode *
berth_node_new_from_json (JsonNode *node, GError **error)
{
  g_autoptr(BerthNode) self = NULL;
  JsonObject *obj, *res, *meta;
  const char *id, *name, *dc, *addr;

  g_return_val_if_fail (node != NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Node JSON is not an object"));
      return NULL;
    }
  obj = json_node_get_object (node);
  if ((id = member_string (obj, "ID", error)) == NULL ||
      (name = member_string (obj, "Node", error)) == NULL ||
      (dc = member_string (obj, "Datacenter", error)) == NULL ||
      (addr = member_string (obj, "Address", error)) == NULL)
    return NULL;
  self = berth_node_new (id, name, dc, addr);
  res = member_object (obj, "Resources");
  if (res != NULL)
    berth_node_set_resources (self,
                              json_object_get_double_member_with_default (res, "cpus", 0),
                              (guint64) json_object_get_int_member_with_default (res, "mem_bytes", 0),
                              (guint64) json_object_get_int_member_with_default (res, "disk_bytes", 0));
  meta = member_object (obj, "Meta");
  if (meta != NULL)
    {
      JsonObjectIter iter;
      const char *key;
      JsonNode *value;
      json_object_iter_init (&iter, meta);
      while (json_object_iter_next (&iter, &key, &value))
        if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
          berth_node_set_meta (self, key, json_node_get_string (value));
    }
  return g_steal_pointer (&self);
}

/**
 * berth_node_to_json:
 * @self: a #BerthNode
 *
 * Returns: (transfer full): the node as a JSON object
 */
JsonNode *
berth_node_to_json (BerthNode *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (BERTH_IS_NODE (self), NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ID");
  json_builder_add_string_value (b, self->id);
  json_builder_set_member_name (b, "Node");
  json_builder_add_string_value (b, self->name);
  json_builder_set_member_name (b, "Datacenter");
  json_builder_add_string_value (b, self->datacenter);
  json_builder_set_member_name (b, "Address");
  json_builder_add_string_value (b, self->address);
  json_builder_set_member_name (b, "Meta");
  json_builder_begin_object (b);
  g_hash_table_iter_init (&iter, self->meta);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      json_builder_set_member_name (b, key);
      json_builder_add_string_value (b, value);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "Resources");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "cpus");
  json_builder_add_double_value (b, self->cpus);
  json_builder_set_member_name (b, "mem_bytes");
  json_builder_add_int_value (b, (gint64) self->memory_bytes);
  json_builder_set_member_name (b, "disk_bytes");
  json_builder_add_int_value (b, (gint64) self->disk_bytes);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/**
 * berth_node_get_id:
 * @self: a #BerthNode
 *
 * Returns: the node's id
 */
const char *
berth_node_get_id (BerthNode *self)
{
  g_return_val_if_fail (BERTH_IS_NODE (self), NULL);
  return self->id;
}

/**
 * berth_node_get_name:
 * @self: a #BerthNode
 *
 * Returns: the node's name
 */
const char *
berth_node_get_name (BerthNode *self)
{
  g_return_val_if_fail (BERTH_IS_NODE (self), NULL);
  return self->name;
}

/**
 * berth_node_get_datacenter:
 * @self: a #BerthNode
 *
 * Returns: the node's datacenter
 */
const char *
berth_node_get_datacenter (BerthNode *self)
{
  g_return_val_if_fail (BERTH_IS_NODE (self), NULL);
  return self->datacenter;
}

/**
 * berth_node_get_address:
 * @self: a #BerthNode
 *
 * Returns: the node's address
 */
const char *
berth_node_get_address (BerthNode *self)
{
  g_return_val_if_fail (BERTH_IS_NODE (self), NULL);
  return self->address;
}

/**
 * berth_node_get_cpus:
 * @self: a #BerthNode
 *
 * Returns: the CPUs the node offers
 */
gdouble
berth_node_get_cpus (BerthNode *self)
{
  g_return_val_if_fail (BERTH_IS_NODE (self), 0);
  return self->cpus;
}

/**
 * berth_node_get_memory_bytes:
 * @self: a #BerthNode
 *
 * Returns: the memory the node offers, in bytes
 */
guint64
berth_node_get_memory_bytes (BerthNode *self)
{
  g_return_val_if_fail (BERTH_IS_NODE (self), 0);
  return self->memory_bytes;
}

/**
 * berth_node_get_disk_bytes:
 * @self: a #BerthNode
 *
 * Returns: the disk the node offers, in bytes
 */
guint64
berth_node_get_disk_bytes (BerthNode *self)
{
  g_return_val_if_fail (BERTH_IS_NODE (self), 0);
  return self->disk_bytes;
}

/**
 * berth_node_set_resources:
 * @self: a #BerthNode
 * @cpus: CPUs offered
 * @memory_bytes: memory offered
 * @disk_bytes: disk offered
 *
 * Sets what the node offers to the pool.
 */
void
berth_node_set_resources (BerthNode *self, gdouble cpus, guint64 memory_bytes, guint64 disk_bytes)
{
  g_return_if_fail (BERTH_IS_NODE (self));
  self->cpus = cpus;
  self->memory_bytes = memory_bytes;
  self->disk_bytes = disk_bytes;
}

/**
 * berth_node_get_meta:
 * @self: a #BerthNode
 * @key: a metadata key
 *
 * Returns: (nullable): the value, or %NULL
 */
const char *
berth_node_get_meta (BerthNode *self, const char *key)
{
  g_return_val_if_fail (BERTH_IS_NODE (self), NULL);
  return g_hash_table_lookup (self->meta, key);
}

/**
 * berth_node_set_meta:
 * @self: a #BerthNode
 * @key: a metadata key
 * @value: (nullable): its value, or %NULL to remove it
 *
 * Sets one metadata entry.
 */
void
berth_node_set_meta (BerthNode *self, const char *key, const char *value)
{
  g_return_if_fail (BERTH_IS_NODE (self));
  g_return_if_fail (key != NULL);
  if (value == NULL)
    g_hash_table_remove (self->meta, key);
  else
    g_hash_table_insert (self->meta, g_strdup (key), g_strdup (value));
}

/**
 * berth_node_get_meta_table:
 * @self: a #BerthNode
 *
 * Returns: (transfer none) (element-type utf8 utf8): all metadata
 */
GHashTable *
berth_node_get_meta_table (BerthNode *self)
{
  g_return_val_if_fail (BERTH_IS_NODE (self), NULL);
  return self->meta;
}

static void
berth_node_finalize (GObject *object)
{
  BerthNode *self = BERTH_NODE (object);
  g_free (self->id);
  g_free (self->name);
  g_free (self->datacenter);
  g_free (self->address);
  g_hash_table_unref (self->meta);
  G_OBJECT_CLASS (berth_node_parent_class)->finalize (object);
}

static void
berth_node_class_init (BerthNodeClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = berth_node_finalize;
}

static void
berth_node_init (BerthNode *self)
{
  self->meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}
