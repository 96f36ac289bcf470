/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "berth-error.h"
#include "berth-kv-entry.h"

/**
 * SECTION:berth-kv-entry
 * @title: BerthKvEntry
 * @short_description: one key of the KV store
 *
 * A key, its value (any bytes, or none), the client's flags, and the store
 * indexes at which it was created, last modified and last locked. The JSON
 * form is Consul's: `{"LockIndex","Key","Flags","Value","CreateIndex",
 * "ModifyIndex"}` with the value in base64, or `null`.
 */

struct _BerthKvEntry {
  GObject  parent_instance;
  char    *key;
  GBytes  *value;
  guint64  flags;
  guint64  create_index;
  guint64  modify_index;
  guint64  lock_index;
  char    *session;
};

G_DEFINE_FINAL_TYPE (BerthKvEntry, berth_kv_entry, G_TYPE_OBJECT)

/**
 * berth_kv_entry_new:
 * @key: the key
 * @value: (nullable): the value
 *
 * Returns: (transfer full): a new entry
 */
BerthKvEntry *
berth_kv_entry_new (const char *key, GBytes *value)
{
  BerthKvEntry *self;

  g_return_val_if_fail (key != NULL, NULL);

  self = g_object_new (BERTH_TYPE_KV_ENTRY, NULL);
  self->key = g_strdup (key);
  self->value = value != NULL ? g_bytes_ref (value) : NULL;
  return self;
}

static guint64
member_uint (JsonObject *obj, const char *name)
{
  gint64 v = json_object_get_int_member_with_default (obj, name, 0);
  return v < 0 ? 0 : (guint64) v;
}

/**
 * berth_kv_entry_new_from_json:
 * @node: a Consul KV entry object
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a new entry, or %NULL if @node is not one
 */
BerthKvEntry *
berth_kv_entry_new_from_json (JsonNode *node, GError **error)
{
  g_autoptr(BerthKvEntry) self = NULL;
  JsonObject *obj;
  const char *key, *value, *session;

  g_return_val_if_fail (node != NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("KV entry is not a JSON object"));
      return NULL;
    }
  obj = json_node_get_object (node);
  key = json_object_get_string_member_with_default (obj, "Key", NULL);
  if (key == NULL)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("KV entry has no Key"));
      return NULL;
    }
  self = berth_kv_entry_new (key, NULL);
  value = json_object_get_string_member_with_default (obj, "Value", NULL);
  if (value != NULL)
    {
      gsize len = 0;
      guchar *data = g_base64_decode (value, &len);
      self->value = g_bytes_new_take (data, len);
    }
  self->flags = member_uint (obj, "Flags");
  self->create_index = member_uint (obj, "CreateIndex");
  self->modify_index = member_uint (obj, "ModifyIndex");
  self->lock_index = member_uint (obj, "LockIndex");
  session = json_object_get_string_member_with_default (obj, "Session", NULL);
  self->session = g_strdup (session);
  return g_steal_pointer (&self);
}

/**
 * berth_kv_entry_to_json:
 * @self: a #BerthKvEntry
 * @with_value: whether to include the value (`Value` is `null` otherwise,
 *   as Consul answers for writes in a transaction)
 *
 * Flags above %G_MAXINT64 do not fit JSON-GLib's integers and come out
 * negative; berth_kv_entry_append_json() writes them exactly.
 *
 * Returns: (transfer full): the entry as Consul's JSON object
 */
JsonNode *
berth_kv_entry_to_json (BerthKvEntry *self, gboolean with_value)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (BERTH_IS_KV_ENTRY (self), NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "LockIndex");
  json_builder_add_int_value (b, (gint64) self->lock_index);
  json_builder_set_member_name (b, "Key");
  if (g_utf8_validate (self->key, -1, NULL))
    json_builder_add_string_value (b, self->key);
  else
    {
      g_autofree char *valid = g_utf8_make_valid (self->key, -1);
      json_builder_add_string_value (b, valid);
    }
  json_builder_set_member_name (b, "Flags");
  json_builder_add_int_value (b, (gint64) self->flags);
  json_builder_set_member_name (b, "Value");
  if (with_value && self->value != NULL && g_bytes_get_size (self->value) > 0)
    {
      gsize len = 0;
      const guchar *data = g_bytes_get_data (self->value, &len);
      g_autofree char *b64 = g_base64_encode (data, len);
      json_builder_add_string_value (b, b64);
    }
  else
    json_builder_add_null_value (b);
  if (self->session != NULL)
    {
      json_builder_set_member_name (b, "Session");
      json_builder_add_string_value (b, self->session);
    }
  json_builder_set_member_name (b, "CreateIndex");
  json_builder_add_int_value (b, (gint64) self->create_index);
  json_builder_set_member_name (b, "ModifyIndex");
  json_builder_add_int_value (b, (gint64) self->modify_index);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/**
 * berth_json_append_string:
 * @out: where to append
 * @text: a NUL-terminated string; invalid UTF-8 is replaced
 *
 * Appends @text as a JSON string literal, quotes included.
 */
void
berth_json_append_string (GString *out, const char *text)
{
  g_autofree char *valid = NULL;

  g_return_if_fail (out != NULL);
  g_return_if_fail (text != NULL);

  if (!g_utf8_validate (text, -1, NULL))
    text = valid = g_utf8_make_valid (text, -1);
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (*p < 0x20)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (char) *p);
        }
    }
  g_string_append_c (out, '"');
}

/**
 * berth_kv_entry_append_json:
 * @self: a #BerthKvEntry
 * @out: where to append
 * @with_value: whether to include the value (`null` otherwise)
 *
 * Appends the entry as Consul's JSON object. Unlike
 * berth_kv_entry_to_json(), this keeps the full unsigned 64-bit range of
 * `Flags`, which JSON-GLib cannot represent; the HTTP API uses it.
 */
void
berth_kv_entry_append_json (BerthKvEntry *self, GString *out, gboolean with_value)
{
  g_return_if_fail (BERTH_IS_KV_ENTRY (self));
  g_return_if_fail (out != NULL);

  g_string_append_printf (out, "{\"LockIndex\":%" G_GUINT64_FORMAT ",\"Key\":", self->lock_index);
  berth_json_append_string (out, self->key);
  g_string_append_printf (out, ",\"Flags\":%" G_GUINT64_FORMAT ",\"Value\":", self->flags);
  if (with_value && self->value != NULL && g_bytes_get_size (self->value) > 0)
    {
      gsize len = 0;
      const guchar *data = g_bytes_get_data (self->value, &len);
      g_autofree char *b64 = g_base64_encode (data, len);
      g_string_append_c (out, '"');
      g_string_append (out, b64);
      g_string_append_c (out, '"');
    }
  else
    g_string_append (out, "null");
  if (self->session != NULL)
    {
      g_string_append (out, ",\"Session\":");
      berth_json_append_string (out, self->session);
    }
  g_string_append_printf (out, ",\"CreateIndex\":%" G_GUINT64_FORMAT
                          ",\"ModifyIndex\":%" G_GUINT64_FORMAT "}",
                          self->create_index, self->modify_index);
}

/**
 * berth_kv_entry_get_key:
 * @self: a #BerthKvEntry
 *
 * Returns: the key
 */
const char *
berth_kv_entry_get_key (BerthKvEntry *self)
{
  g_return_val_if_fail (BERTH_IS_KV_ENTRY (self), NULL);
  return self->key;
}

/**
 * berth_kv_entry_get_value:
 * @self: a #BerthKvEntry
 *
 * Returns: (transfer none) (nullable): the value
 */
GBytes *
berth_kv_entry_get_value (BerthKvEntry *self)
{
  g_return_val_if_fail (BERTH_IS_KV_ENTRY (self), NULL);
  return self->value;
}

/**
 * berth_kv_entry_set_value:
 * @self: a #BerthKvEntry
 * @value: (nullable): the value
 *
 * Sets the value.
 */
void
berth_kv_entry_set_value (BerthKvEntry *self, GBytes *value)
{
  g_return_if_fail (BERTH_IS_KV_ENTRY (self));
  g_clear_pointer (&self->value, g_bytes_unref);
  self->value = value != NULL ? g_bytes_ref (value) : NULL;
}

/**
 * berth_kv_entry_get_flags:
 * @self: a #BerthKvEntry
 *
 * Returns: the client's opaque flags
 */
guint64
berth_kv_entry_get_flags (BerthKvEntry *self)
{
  g_return_val_if_fail (BERTH_IS_KV_ENTRY (self), 0);
  return self->flags;
}

/**
 * berth_kv_entry_set_flags:
 * @self: a #BerthKvEntry
 * @flags: opaque flags
 *
 * Sets the flags.
 */
void
berth_kv_entry_set_flags (BerthKvEntry *self, guint64 flags)
{
  g_return_if_fail (BERTH_IS_KV_ENTRY (self));
  self->flags = flags;
}

/**
 * berth_kv_entry_get_create_index:
 * @self: a #BerthKvEntry
 *
 * Returns: the index at which the key was created
 */
guint64
berth_kv_entry_get_create_index (BerthKvEntry *self)
{
  g_return_val_if_fail (BERTH_IS_KV_ENTRY (self), 0);
  return self->create_index;
}

/**
 * berth_kv_entry_get_modify_index:
 * @self: a #BerthKvEntry
 *
 * Returns: the index of the last write to the key
 */
guint64
berth_kv_entry_get_modify_index (BerthKvEntry *self)
{
  g_return_val_if_fail (BERTH_IS_KV_ENTRY (self), 0);
  return self->modify_index;
}

/**
 * berth_kv_entry_get_lock_index:
 * @self: a #BerthKvEntry
 *
 * Returns: how many times the key was locked
 */
guint64
berth_kv_entry_get_lock_index (BerthKvEntry *self)
{
  g_return_val_if_fail (BERTH_IS_KV_ENTRY (self), 0);
  return self->lock_index;
}

/**
 * berth_kv_entry_set_indexes:
 * @self: a #BerthKvEntry
 * @create_index: creation index
 * @modify_index: last modification index
 * @lock_index: lock count
 *
 * Sets the indexes, as read from the store.
 */
void
berth_kv_entry_set_indexes (BerthKvEntry *self, guint64 create_index, guint64 modify_index,
                            guint64 lock_index)
{
  g_return_if_fail (BERTH_IS_KV_ENTRY (self));
  self->create_index = create_index;
  self->modify_index = modify_index;
  self->lock_index = lock_index;
}

/**
 * berth_kv_entry_get_session:
 * @self: a #BerthKvEntry
 *
 * Returns: (nullable): the session holding the key's lock
 */
const char *
berth_kv_entry_get_session (BerthKvEntry *self)
{
  g_return_val_if_fail (BERTH_IS_KV_ENTRY (self), NULL);
  return self->session;
}

/**
 * berth_kv_entry_set_session:
 * @self: a #BerthKvEntry
 * @session: (nullable): a session id
 *
 * Sets the session holding the lock.
 */
void
berth_kv_entry_set_session (BerthKvEntry *self, const char *session)
{
  g_return_if_fail (BERTH_IS_KV_ENTRY (self));
  g_free (self->session);
  self->session = g_strdup (session);
}

static void
berth_kv_entry_finalize (GObject *object)
{
  BerthKvEntry *self = BERTH_KV_ENTRY (object);
  g_free (self->key);
  g_clear_pointer (&self->value, g_bytes_unref);
  g_free (self->session);
  G_OBJECT_CLASS (berth_kv_entry_parent_class)->finalize (object);
}

static void
berth_kv_entry_class_init (BerthKvEntryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = berth_kv_entry_finalize;
}

static void
berth_kv_entry_init (BerthKvEntry *self)
{
}
