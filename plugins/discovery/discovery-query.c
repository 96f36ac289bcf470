/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "discovery-query.h"

/* A boolean parameter: absent is FALSE; bare (`?recurse`), empty, `1` or
 * `true` is TRUE (python-consul sends `recurse=1`, `keys=True`); `0` or
 * `false` is FALSE. Consul only looks at the presence of these names;
 * Berth takes false for false, and refuses anything else, so that a typo
 * (`?recurse=maybe`) is not read as a wish. */
gboolean
discovery_query_flag (BerthRequest *request, const char *name, gboolean *out, GError **error)
{
  const char *value = berth_request_get_query (request, name);

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

/* discovery_query_flag() for each of the NULL-terminated @names, into
 * @out[i]. */
gboolean
discovery_query_flags (BerthRequest *request, const char *const *names, gboolean *out,
                       GError **error)
{
  for (gsize i = 0; names[i] != NULL; i++)
    if (!discovery_query_flag (request, names[i], &out[i], error))
      return FALSE;
  return TRUE;
}
