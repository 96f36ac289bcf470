/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "berth-error.h"
#include "berth-json.h"

/**
 * SECTION:berth-json
 * @title: JSON input
 * @short_description: the one way JSON enters Berth
 *
 * Every JSON document Berth reads — request bodies, stored rows, registry
 * manifests, CNI results, replies of linked datacenters — goes through
 * berth_json_parse(). Before json-glib sees the text, one linear scan
 * refuses nesting deeper than %BERTH_JSON_MAX_DEPTH: json-glib's parser
 * recurses once per level, so `[[[[…` a hundred thousand deep would
 * otherwise overflow the stack and take the daemon down.
 */

/**
 * berth_json_check:
 * @data: (array length=length) (element-type guint8): JSON text
 * @length: its length in bytes
 * @max_depth: the deepest nesting allowed
 * @error: return location for a #GError
 *
 * Scans @data for `[` and `{` outside strings, for anything after the
 * first top-level value (json-glib would parse it and leak the first),
 * and for the escape
 * `\u0000` inside them: C strings would silently end there, so
 * `"a\u0000b"` would be taken as `"a"`. The text is not otherwise
 * validated: a malformed document that passes this check is reported by
 * the parser.
 *
 * Returns: %TRUE when no array or object is nested deeper than
 *   @max_depth, nothing follows the document and no string holds U+0000;
 *   %FALSE with
 *   %BERTH_ERROR_INVALID otherwise
 */
static gboolean
json_error (GError **error, const char *message)
{
  g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, message);
  return FALSE;
}

gboolean
berth_json_check (const char *data, gsize length, guint max_depth, GError **error)
{
  gboolean in_string = FALSE;
  gboolean in_scalar = FALSE;   /* a bare number or literal at the top */
  gboolean have_value = FALSE;  /* the top-level value is complete */
  guint depth = 0;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  for (gsize i = 0; i < length; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            {
              if (i + 5 < length && memcmp (data + i + 1, "u0000", 5) == 0)
                return json_error (error, _("JSON strings must not contain U+0000"));
              i++;
            }
          else if (c == '"')
            {
              in_string = FALSE;
              if (depth == 0)
                have_value = TRUE;
            }
          continue;
        }
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        {
          if (in_scalar)
            in_scalar = FALSE, have_value = TRUE;
          continue;
        }
      /* json-glib 1.6 parses a second top-level value and leaks the first:
       * nothing may follow the document */
      if (depth == 0 && (have_value || (in_scalar && strchr ("\"[{]}", c) != NULL)))
        return json_error (error, _("Unexpected data after the JSON document"));
      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;
        case '[':
        case '{':
          if (++depth > max_depth)
            {
              g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                           _("JSON is nested deeper than %u levels"), max_depth);
              return FALSE;
            }
          break;
        case ']':
        case '}':
          if (depth > 0 && --depth == 0)
            have_value = TRUE;
          break;
        default:
          if (depth == 0)
            in_scalar = TRUE;
          break;
        }
    }
  return TRUE;
}

/**
 * berth_json_parse:
 * @data: (array length=length) (element-type guint8): JSON text
 * @length: its length in bytes, or -1 when @data is nul-terminated
 * @error: return location for a #GError
 *
 * Parses one JSON document after checking its depth with
 * berth_json_check(). Empty input, malformed JSON and too deep a
 * nesting are errors of %BERTH_ERROR_INVALID.
 *
 * Returns: (transfer full): the root node, or %NULL on error
 */
JsonNode *
berth_json_parse (const char *data, gssize length, GError **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize len;

  g_return_val_if_fail (data != NULL || length <= 0, NULL);

  len = data == NULL ? 0 : length < 0 ? strlen (data) : (gsize) length;
  if (len == 0)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Empty JSON document"));
      return NULL;
    }
  if (!berth_json_check (data, len, BERTH_JSON_MAX_DEPTH, error))
    return NULL;
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local_error))
    {
      g_autofree char *safe = berth_utf8_make_safe (local_error->message, -1);
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Invalid JSON: %s"), safe);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Empty JSON document"));
      return NULL;
    }
  return json_parser_steal_root (parser);
}

/**
 * berth_json_parse_bytes:
 * @bytes: JSON text
 * @error: return location for a #GError
 *
 * berth_json_parse() on the contents of @bytes.
 *
 * Returns: (transfer full): the root node, or %NULL on error
 */
JsonNode *
berth_json_parse_bytes (GBytes *bytes, GError **error)
{
  gsize len = 0;
  const char *data;

  g_return_val_if_fail (bytes != NULL, NULL);

  data = g_bytes_get_data (bytes, &len);
  return berth_json_parse (data, (gssize) len, error);
}

/**
 * berth_utf8_make_safe:
 * @text: text that may not be valid UTF-8
 * @length: its length in bytes, or -1 when nul-terminated
 *
 * Makes text from a request safe to put in a reply or a log: invalid
 * UTF-8 sequences become U+FFFD and control characters other than tab and
 * newline are dropped.
 *
 * Returns: (transfer full): valid UTF-8
 */
char *
berth_utf8_make_safe (const char *text, gssize length)
{
  g_autofree char *valid = NULL;
  GString *out;

  g_return_val_if_fail (text != NULL, NULL);

  valid = g_utf8_make_valid (text, length);
  out = g_string_sized_new (strlen (valid));
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (c < 0x20 && c != '\t' && c != '\n')
        continue;
      if (c == 0x7f)
        continue;
      g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}
