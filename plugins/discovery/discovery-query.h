/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "discovery-filter.h"

G_BEGIN_DECLS

/* Query parameters of Consul's API, refused when their value is not one
 * the parameter can have (never silently ignored). */

gboolean discovery_query_flags         (BerthRequest     *request,
                                        const char       *const *names,
                                        gboolean         *out,
                                        GError          **error);

/* ?stale, ?consistent, ?cached: one node answers all of them alike;
 * checks they do not conflict and sets Consul's headers for them. */
gboolean discovery_query_consistency   (BerthRequest     *request,
                                        GError          **error);

/* ?filter: the parsed expression (NULL without one), its selectors
 * checked against the fields of @item. */
gboolean discovery_query_filter        (BerthRequest        *request,
                                        DiscoveryFilterItem  item,
                                        DiscoveryFilter    **out,
                                        GError             **error);
/* ?filter applied to a list answer, or to the values of a map answer. */
gboolean discovery_query_filter_array  (BerthRequest        *request,
                                        DiscoveryFilterItem  item,
                                        JsonArray           *array,
                                        GError             **error);
gboolean discovery_query_filter_values (BerthRequest        *request,
                                        DiscoveryFilterItem  item,
                                        JsonObject          *object,
                                        GError             **error);

/* ?near=_agent (or a node's name): the entries of that node first, the
 * others in their order. @member names each entry's node, or the object
 * holding it when @inner is not NULL (health entries: "Node", "Node"). */
void     discovery_query_near          (BerthRequest     *request,
                                        JsonArray        *array,
                                        const char       *member,
                                        const char       *inner);

G_END_DECLS
