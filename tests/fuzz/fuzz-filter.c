/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <berth.h>

#include "../../plugins/discovery/discovery-filter.h"

/* ?filter= expressions: the input is the expression text, parsed (the
 * parser, not the daemon, is what this reaches: its sources are compiled
 * in), checked against each list's selectors and evaluated against a
 * health entry that has strings, numbers, booleans, null, lists, maps and
 * a list of objects. Errors are fine; crashes, leaks and hangs are not. */

static const char entry_json[] =
  "{\"Node\": {\"Node\": \"n1\", \"Address\": \"10.0.0.1\", \"Meta\": {\"rack\": \"r1\"},"
  "            \"TaggedAddresses\": null},"
  " \"Service\": {\"ID\": \"web1\", \"Service\": \"web\", \"Tags\": [\"a\", \"b\", 3, true, null],"
  "               \"Port\": 8080, \"Meta\": {}, \"EnableTagOverride\": false,"
  "               \"Weights\": {\"Passing\": 1.5, \"Warning\": 1}},"
  " \"Checks\": [{\"CheckID\": \"c1\", \"Status\": \"passing\", \"Definition\": {}},"
  "              {\"CheckID\": \"c2\", \"Status\": \"critical\", \"ServiceTags\": []}]}";

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(DiscoveryFilter) filter = NULL;
  g_autoptr(JsonNode) item = NULL;
  gboolean matched;

  /* a NUL ends the text, as it would in a query parameter it cannot be in */
  filter = discovery_filter_new (text, &error);
  if (filter == NULL)
    {
      g_assert (error != NULL && error->domain == BERTH_ERROR);
      return 0;
    }
  g_free (discovery_filter_to_string (filter));
  for (int i = DISCOVERY_FILTER_NODE; i <= DISCOVERY_FILTER_HEALTH_ENTRY; i++)
    g_clear_error (&error), discovery_filter_validate (filter, i, &error);
  g_clear_error (&error);
  item = json_from_string (entry_json, NULL);
  if (!discovery_filter_match (filter, item, &matched, &error))
    g_assert (error != NULL && error->domain == BERTH_ERROR);
  return 0;
}
