/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "discovery-plugin.h"

G_BEGIN_DECLS

/* Runs a catalog write and answers `true` (or the error) when it commits.
 * Takes ownership of @data. */
void discovery_catalog_submit     (BerthRequest        *request,
                                   BerthStoreWriteFunc  func,
                                   gpointer             data,
                                   GDestroyNotify       destroy);
JsonObject *discovery_catalog_body (BerthRequest       *request,
                                    JsonNode          **root);

void discovery_catalog_add_routes (DiscoveryPlugin *plugin);
void discovery_agent_services_add_routes (DiscoveryPlugin *plugin);

G_END_DECLS
