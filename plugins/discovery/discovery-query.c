/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"


#include "discovery-query.h"

/* berth_request_get_query_boolean() for each of the NULL-terminated
 * @names, into @out[i]. */
gboolean
discovery_query_flags (BerthRequest *request, const char *const *names, gboolean *out,
                       GError **error)
{
  for (gsize i = 0; names[i] != NULL; i++)
    if (!berth_request_get_query_boolean (request, names[i], &out[i], error))
      return FALSE;
  return TRUE;
}
