/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "discovery-catalog.h"

G_BEGIN_DECLS

/* Reading Consul's registration payloads (keys case-insensitive). */

typedef enum {
  CATALOG_SHAPE_OBJECT,
  CATALOG_SHAPE_STRING_ARRAY,
  CATALOG_SHAPE_STRING_OBJECT,
  CATALOG_SHAPE_SERVICE_ADDRESSES,
} CatalogShape;

CatalogService *catalog_parse_service        (BerthContext *context,
                                              JsonObject   *object,
                                              GError      **error);
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
gboolean        catalog_script_checks_enabled (BerthContext *context);
gboolean        catalog_checks_allowed       (BerthContext  *context,
                                              GPtrArray     *checks,
                                              GError       **error);

gboolean        catalog_json_is_string_array  (JsonNode *node);
gboolean        catalog_json_is_string_object (JsonNode *node);
gboolean        catalog_check_meta           (BerthContext  *context,
                                              JsonNode      *meta,
                                              const char    *what,
                                              GError       **error);
gboolean        catalog_check_meta_limits    (JsonNode      *meta,
                                              guint64        max_pairs,
                                              guint64        max_key,
                                              guint64        max_value,
                                              const char    *what,
                                              GError       **error);

/* Why a stored row cannot be used (free the text), or NULL. */
char           *catalog_node_problem         (const CatalogNode    *node);
char           *catalog_service_problem      (const CatalogService *service);
char           *catalog_check_problem        (const CatalogCheck   *check);

G_END_DECLS
