/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-time.h"

/**
 * berth_timestamp_format:
 * @usec: microseconds since the epoch
 *
 * Formats a time the way every Berth API writes one (Marathon's and
 * Elasticsearch's form, UTC with milliseconds).
 *
 * Returns: (transfer full): e.g. `2026-11-24T10:00:00.000Z`
 */
char *
berth_timestamp_format (gint64 usec)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
  g_autofree char *base = NULL;

  if (dt == NULL)
    return g_strdup ("1970-01-01T00:00:00.000Z");
  base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", base, (int) ((usec % G_USEC_PER_SEC) / 1000));
}
