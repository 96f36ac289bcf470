/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "berth-error.h"
#include "berth-request.h"

/* Typed query parameters, read the same way on every API: flags,
 * numbers and Consul's durations. */

/**
 * berth_request_get_query_boolean:
 * @self: a #BerthRequest
 * @name: a boolean query parameter such as `recurse` or `force`
 * @out: (out): the value
 * @error: return location for a #GError
 *
 * Reads a flag the same way on every API: absent is %FALSE; bare
 * (`?recurse`), empty, `1` or `true` is %TRUE (python-consul sends
 * `recurse=1`, python-marathon `force=True`); `0` or `false` is %FALSE.
 * Anything else is an error of %BERTH_ERROR_INVALID, so that a typo
 * (`?recurse=maybe`) is never read as a wish.
 *
 * Returns: %TRUE on success
 */
gboolean
berth_request_get_query_boolean (BerthRequest *self, const char *name, gboolean *out,
                                 GError **error)
{
  const char *value;

  g_return_val_if_fail (BERTH_IS_REQUEST (self), FALSE);
  g_return_val_if_fail (name != NULL && out != NULL, FALSE);

  value = berth_request_get_query (self, name);
  *out = FALSE;
  if (value == NULL)
    return TRUE;
  if (*value == '\0' || g_str_equal (value, "1") || g_ascii_strcasecmp (value, "true") == 0)
    *out = TRUE;
  else if (!g_str_equal (value, "0") && g_ascii_strcasecmp (value, "false") != 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                   _("Invalid value for “%s”: “%s” is not a boolean (use true or false)"),
                   name, value);
      return FALSE;
    }
  return TRUE;
}

/**
 * berth_request_has_query:
 * @self: a #BerthRequest
 * @name: a query parameter
 *
 * Returns: whether the query names @name, with or without a value
 */
gboolean
berth_request_has_query (BerthRequest *self, const char *name)
{
  return berth_request_get_query (self, name) != NULL;
}

/**
 * berth_request_get_query_uint64:
 * @self: a #BerthRequest
 * @name: a query parameter
 * @default_value: the value when the parameter is absent or empty
 * @out_value: (out): the value
 * @error: return location for a #GError
 *
 * Reads an unsigned decimal query parameter. Anything else is an error of
 * %BERTH_ERROR_INVALID naming the parameter.
 *
 * Returns: %TRUE on success
 */
gboolean
berth_request_get_query_uint64 (BerthRequest *self, const char *name, guint64 default_value,
                                guint64 *out_value, GError **error)
{
  const char *value;
  guint64 parsed = 0;

  g_return_val_if_fail (BERTH_IS_REQUEST (self), FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  value = berth_request_get_query (self, name);
  if (value == NULL || *value == '\0')
    {
      *out_value = default_value;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT64, &parsed, NULL))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                   _("Invalid value for “%s”: “%s” is not an unsigned integer"), name, value);
      return FALSE;
    }
  *out_value = parsed;
  return TRUE;
}

/**
 * berth_parse_duration:
 * @text: a duration in Go's notation (`5s`, `1m30s`, `250ms`, `1h`); a
 *   bare number is taken as seconds
 * @out_ms: (out): the duration in milliseconds
 * @error: return location for a #GError
 *
 * Parses the durations Consul and Marathon clients send (`?wait=`, check
 * `Interval`, `Timeout`, `TTL`, ...).
 *
 * Returns: %TRUE on success; %FALSE with %BERTH_ERROR_INVALID otherwise
 */
gboolean
berth_parse_duration (const char *text, guint64 *out_ms, GError **error)
{
  const char *p = text;
  double total = 0;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (out_ms != NULL, FALSE);

  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, out_ms, NULL))
    {
      *out_ms *= 1000;
      return TRUE;
    }
  while (*p != '\0')
    {
      char *end = NULL;
      double value;
      double unit;

      if (!g_ascii_isdigit (*p) && *p != '.')
        goto bad;
      value = g_ascii_strtod (p, &end);
      if (end == p || value < 0)
        goto bad;
      p = end;
      if (g_str_has_prefix (p, "ms"))
        unit = 1, p += 2;
      else if (g_str_has_prefix (p, "us"))
        unit = 0.001, p += 2;
      else if (g_str_has_prefix (p, "µs"))
        unit = 0.001, p += strlen ("µs");
      else if (g_str_has_prefix (p, "ns"))
        unit = 0.000001, p += 2;
      else if (*p == 's')
        unit = 1000, p++;
      else if (*p == 'm')
        unit = 60000, p++;
      else if (*p == 'h')
        unit = 3600000, p++;
      else
        goto bad;
      total += value * unit;
      if (total > (double) G_MAXUINT32 * 1000)
        goto bad;
    }
  if (p == text)
    goto bad;
  *out_ms = (guint64) total;
  return TRUE;

bad:
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
               _("“%s” is not a duration such as 10s, 1m30s or 250ms"), text);
  return FALSE;
}

/**
 * berth_request_get_query_duration:
 * @self: a #BerthRequest
 * @name: a query parameter such as `wait`
 * @default_ms: the value when the parameter is absent or empty
 * @out_ms: (out): the duration in milliseconds
 * @error: return location for a #GError
 *
 * Reads a duration in Go's notation (`5s`, `1m30s`, `250ms`); a bare
 * number is taken as seconds.
 *
 * Returns: %TRUE on success
 */
gboolean
berth_request_get_query_duration (BerthRequest *self, const char *name, guint64 default_ms,
                                  guint64 *out_ms, GError **error)
{
  const char *value;

  g_return_val_if_fail (BERTH_IS_REQUEST (self), FALSE);
  g_return_val_if_fail (out_ms != NULL, FALSE);

  value = berth_request_get_query (self, name);
  if (value == NULL || *value == '\0')
    {
      *out_ms = default_ms;
      return TRUE;
    }
  if (!berth_parse_duration (value, out_ms, error))
    {
      g_prefix_error (error, _("Invalid value for “%s”: "), name);
      return FALSE;
    }
  return TRUE;
}
