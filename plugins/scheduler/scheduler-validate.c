/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "scheduler-validate.h"

/* The one place where the scheduler reads a JSON member of a type it
 * does not control. The messages are Marathon's (clients match on them). */

void
scheduler_detail_add (JsonArray *details, const char *path, const char *message)
{
  JsonObject *d = json_object_new ();
  JsonArray *errors = json_array_new ();
  g_autofree char *safe_path = berth_utf8_make_safe (path, -1);

  json_array_add_string_element (errors, message);
  json_object_set_string_member (d, "path", safe_path);
  json_object_set_array_member (d, "errors", errors);
  json_array_add_object_element (details, d);
}

void
scheduler_detail_addf (JsonArray *details, const char *path, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  scheduler_detail_add (details, path, message);
}

gboolean
scheduler_json_is_null (JsonNode *n)
{
  return n == NULL || JSON_NODE_HOLDS_NULL (n);
}

gboolean
scheduler_json_is_number (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) &&
         (json_node_get_value_type (n) == G_TYPE_INT64 || json_node_get_value_type (n) == G_TYPE_DOUBLE);
}

gboolean
scheduler_json_is_string (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING;
}

gboolean
scheduler_json_is_boolean (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN;
}

/* Only for scheduler_json_is_number() nodes. */
gdouble
scheduler_json_number (JsonNode *n)
{
  return json_node_get_value_type (n) == G_TYPE_INT64 ? (gdouble) json_node_get_int (n) : json_node_get_double (n);
}

gdouble
scheduler_check_number_node (JsonNode *n, const char *path, gdouble fallback, gdouble min, gdouble max,
                             gboolean integer, JsonArray *details)
{
  gdouble v;

  if (scheduler_json_is_null (n))
    return fallback;
  if (!scheduler_json_is_number (n))
    {
      scheduler_detail_add (details, path, _("error.expected.jsnumber"));
      return fallback;
    }
  v = scheduler_json_number (n);
  if (!isfinite (v))
    {
      scheduler_detail_add (details, path, _("error.expected.jsnumber"));
      return fallback;
    }
  if (integer && v != floor (v))
    {
      scheduler_detail_add (details, path, _("must be an integer"));
      return fallback;
    }
  if (v < min)
    {
      scheduler_detail_addf (details, path, _("got %g, expected %g or more"), v, min);
      return fallback;
    }
  if (v > max)
    {
      scheduler_detail_addf (details, path, _("got %g, expected %g or less"), v, max);
      return fallback;
    }
  return v;
}

const char *
scheduler_check_string_node (JsonNode *n, const char *path, const char *fallback, gsize max_bytes,
                             JsonArray *details)
{
  const char *s;

  if (scheduler_json_is_null (n))
    return fallback;
  if (!scheduler_json_is_string (n))
    {
      scheduler_detail_add (details, path, _("error.expected.jsstring"));
      return fallback;
    }
  s = json_node_get_string (n);
  if (strlen (s) > max_bytes)
    {
      scheduler_detail_addf (details, path, _("error.maxLength: at most %" G_GSIZE_FORMAT " bytes"), max_bytes);
      return fallback;
    }
  return s;
}

static JsonNode *
get_member (JsonObject *obj, const char *name)
{
  return obj != NULL ? json_object_get_member (obj, name) : NULL;
}

gdouble
scheduler_check_number (JsonObject *obj, const char *prefix, const char *name, gdouble fallback, gdouble min,
                        gdouble max, gboolean integer, JsonArray *details)
{
  g_autofree char *path = g_strconcat (prefix, "/", name, NULL);
  return scheduler_check_number_node (get_member (obj, name), path, fallback, min, max, integer, details);
}

const char *
scheduler_check_string (JsonObject *obj, const char *prefix, const char *name, const char *fallback,
                        gsize max_bytes, JsonArray *details)
{
  g_autofree char *path = g_strconcat (prefix, "/", name, NULL);
  return scheduler_check_string_node (get_member (obj, name), path, fallback, max_bytes, details);
}

gboolean
scheduler_check_boolean (JsonObject *obj, const char *prefix, const char *name, gboolean fallback,
                         JsonArray *details)
{
  JsonNode *n = get_member (obj, name);

  if (scheduler_json_is_null (n))
    return fallback;
  if (!scheduler_json_is_boolean (n))
    {
      g_autofree char *path = g_strconcat (prefix, "/", name, NULL);
      scheduler_detail_add (details, path, _("error.expected.jsboolean"));
      return fallback;
    }
  return json_node_get_boolean (n);
}

JsonObject *
scheduler_check_object (JsonObject *obj, const char *prefix, const char *name, JsonArray *details)
{
  JsonNode *n = get_member (obj, name);

  if (scheduler_json_is_null (n))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (n))
    {
      g_autofree char *path = g_strconcat (prefix, "/", name, NULL);
      scheduler_detail_add (details, path, _("error.expected.jsobject"));
      return NULL;
    }
  return json_node_get_object (n);
}

JsonArray *
scheduler_check_array (JsonObject *obj, const char *prefix, const char *name, guint max_length,
                       JsonArray *details)
{
  JsonNode *n = get_member (obj, name);
  g_autofree char *path = NULL;

  if (scheduler_json_is_null (n))
    return NULL;
  path = g_strconcat (prefix, "/", name, NULL);
  if (!JSON_NODE_HOLDS_ARRAY (n))
    {
      scheduler_detail_add (details, path, _("error.expected.jsarray"));
      return NULL;
    }
  if (json_array_get_length (json_node_get_array (n)) > max_length)
    {
      scheduler_detail_addf (details, path, _("error.maxSize: at most %u elements"), max_length);
      return NULL;
    }
  return json_node_get_array (n);
}
