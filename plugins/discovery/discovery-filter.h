/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Consul's `?filter=` expressions (its go-bexpr language), evaluated
 * against the JSON items a list endpoint answers:
 *
 *   Service.Tags contains "primary" and not (Checks.Status == critical)
 *   "prod" in ServiceTags or ServiceMeta.env matches `^pre`
 *   Node.Meta["rack"] is not empty
 *
 * Matching: `==`, `!=`, `is empty`, `is not empty`, `in`, `not in`,
 * `contains`, `not contains`, `matches`, `not matches` (a GRegex); logic:
 * `and`, `or`, `not` and parentheses, `not` before `and` before `or`.
 * Selectors are dotted member names (or `["key"]` for map keys); values
 * are strings in double quotes or backticks, numbers, or bare names
 * (`passing`, `true`). A selector that goes through a list matches when one
 * of its elements does (`Checks.Status == passing`). */

typedef struct _DiscoveryFilter DiscoveryFilter;

/* What a list answers, for the selectors it takes. */
typedef enum {
  DISCOVERY_FILTER_NODE,          /* /v1/catalog/nodes */
  DISCOVERY_FILTER_SERVICE,       /* a node's or the agent's services */
  DISCOVERY_FILTER_SERVICE_NODE,  /* /v1/catalog/service/:name rows */
  DISCOVERY_FILTER_CHECK,         /* health checks */
  DISCOVERY_FILTER_HEALTH_ENTRY,  /* /v1/health/service/:name entries */
} DiscoveryFilterItem;

DiscoveryFilter *discovery_filter_new       (const char       *expression,
                                             GError          **error);
void             discovery_filter_free      (DiscoveryFilter  *filter);
gboolean         discovery_filter_validate  (DiscoveryFilter  *filter,
                                             DiscoveryFilterItem item,
                                             GError          **error);

gboolean         discovery_filter_match     (DiscoveryFilter  *filter,
                                             JsonNode         *item,
                                             gboolean         *matched,
                                             GError          **error);
gboolean         discovery_filter_array     (DiscoveryFilter  *filter,
                                             JsonArray        *array,
                                             GError          **error);
gboolean         discovery_filter_values    (DiscoveryFilter  *filter,
                                             JsonObject       *object,
                                             GError          **error);

char            *discovery_filter_to_string (DiscoveryFilter  *filter);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DiscoveryFilter, discovery_filter_free)

G_END_DECLS
