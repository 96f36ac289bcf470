/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "discovery-catalog.h"

G_BEGIN_DECLS

/* Reading Consul's registration payloads (keys case-insensitive). */

CatalogService *catalog_parse_service        (JsonObject  *object,
                                              GError     **error);
CatalogCheck   *catalog_parse_check          (JsonObject  *object,
                                              const char  *default_id,
                                              const char  *default_name,
                                              gboolean     need_definition,
                                              GError     **error);
gboolean        catalog_parse_service_checks (JsonObject      *object,
                                              CatalogService  *service,
                                              GPtrArray       *checks,
                                              GError         **error);
gboolean        catalog_status_valid         (const char *status);
gboolean        catalog_checks_allowed       (BerthContext  *context,
                                              GPtrArray     *checks,
                                              GError       **error);

G_END_DECLS
