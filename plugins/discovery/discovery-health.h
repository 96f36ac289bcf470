/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "discovery-catalog.h"
#include "discovery-plugin.h"

G_BEGIN_DECLS

/* One instance of a service with its node and the checks that apply to it
 * (the node's own checks and the service's). */
typedef struct {
  CatalogNode    *node;
  CatalogService *service;
  GPtrArray      *checks;   /* CatalogCheck */
  const char     *status;   /* the worst of the checks; passing if none */
} HealthEntry;

void health_entry_free (HealthEntry *entry);

typedef enum {
  HEALTH_ANY,
  HEALTH_PASSING_ONLY,    /* ?passing: every check passing */
  HEALTH_NOT_CRITICAL,    /* DNS: passing or warning */
} HealthFilter;

GPtrArray *discovery_health_instances (BerthStore    *store,
                                       const char    *name,
                                       const char    *tag,
                                       HealthFilter   filter,
                                       BerthRequest  *node_meta_req,
                                       GError       **error);
JsonNode  *discovery_health_entry_to_json (HealthEntry *entry);

void discovery_health_add_routes (DiscoveryPlugin *plugin);

G_END_DECLS
