/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "discovery-catalog.h"
#include "discovery-plugin.h"

G_BEGIN_DECLS

/* Runs a catalog write and answers `true` (or the error) when it commits.
 * Takes ownership of @data. */
void discovery_catalog_submit     (BerthRequest        *request,
                                   BerthStoreWriteFunc  func,
                                   gpointer             data,
                                   GDestroyNotify       destroy);
/* The same for a registration (taken), once its script checks are allowed,
 * and for a deregistration (empty IDs: none). */
void discovery_catalog_submit_registration   (BerthRequest        *request,
                                              CatalogRegistration *registration);
void discovery_catalog_submit_deregistration (BerthRequest        *request,
                                              const char          *node,
                                              const char          *service_id,
                                              const char          *check_id);
JsonObject *discovery_catalog_body (BerthRequest       *request,
                                    JsonNode          **root);

void discovery_catalog_add_routes (DiscoveryPlugin *plugin);
void discovery_agent_services_add_routes (DiscoveryPlugin *plugin);

G_END_DECLS
