/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <berth.h>
#include <glib/gi18n.h>
#include <string.h>

#include "discovery-json.h"

/* Consul's payloads are read with Go's case-insensitive field matching:
 * clients send "Name" or "name" alike. */

JsonNode *
discovery_json_member (JsonObject *object, const char *name)
{
  JsonObjectIter iter;
  const char *member;
  JsonNode *node;

  node = json_object_get_member (object, name);
  if (node != NULL)
    return node;
  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &member, &node))
    if (g_ascii_strcasecmp (member, name) == 0)
      return node;
  return NULL;
}

/* A string member, or NULL when absent or null; any other type is an
 * error. */
const char *
discovery_json_string (JsonObject *object, const char *name, GError **error)
{
  JsonNode *node = discovery_json_member (object, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("“%s” must be a string"), name);
      return NULL;
    }
  return json_node_get_string (node);
}

/* An unsigned integer member; absent or null leaves @out alone. */
gboolean
discovery_json_uint64 (JsonObject *object, const char *name, guint64 *out, GError **error)
{
  JsonNode *node = discovery_json_member (object, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
      json_node_get_int (node) < 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                   _("“%s” must be an unsigned integer"), name);
      return FALSE;
    }
  *out = (guint64) json_node_get_int (node);
  return TRUE;
}

/* Decodes standard, padded base64 as Go's encoding/base64 does, refusing
 * anything else (g_base64_decode() would skip bad characters). */
GBytes *
discovery_base64_decode (const char *text, GError **error)
{
  gsize len = strlen (text);
  gsize pad = 0;
  guchar *data;
  gsize out_len = 0;

  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];
      if (c == '=')
        {
          pad++;
          continue;
        }
      if (pad > 0 || !(g_ascii_isalnum (c) || c == '+' || c == '/'))
        goto bad;
    }
  if (len % 4 != 0 || pad > 2)
    goto bad;
  data = g_base64_decode (text, &out_len);
  return g_bytes_new_take (data, out_len);

bad:
  g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("“Value” is not valid base64"));
  return NULL;
}

/* For JSON from elsewhere (other datacenters' answers): a member that is an
 * object, or NULL whatever else it is. */
JsonObject *
discovery_json_object (JsonObject *object, const char *name)
{
  JsonNode *node = object != NULL ? discovery_json_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* A member that is a string, or @fallback whatever else it is. */
const char *
discovery_json_text (JsonObject *object, const char *name, const char *fallback)
{
  JsonNode *node = object != NULL ? discovery_json_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return fallback;
  return json_node_get_string (node);
}

/* A member that is an integer in [@min, @max], or @fallback. */
gint64
discovery_json_int (JsonObject *object, const char *name, gint64 min, gint64 max, gint64 fallback)
{
  JsonNode *node = object != NULL ? discovery_json_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
      json_node_get_int (node) < min || json_node_get_int (node) > max)
    return fallback;
  return json_node_get_int (node);
}
