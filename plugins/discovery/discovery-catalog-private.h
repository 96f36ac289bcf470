/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>
#include <berth-store-raw.h>

#include "discovery-catalog.h"

G_BEGIN_DECLS

/* Shared by the catalog's reads (discovery-catalog.c) and writes
 * (discovery-catalog-write.c). The *_row lookups give a row that is set
 * aside too when @even_broken: only the writes that replace or delete a
 * row want it. The all_* lists include rows set aside. */

void            catalog_bind_text          (sqlite3_stmt *stmt,
                                            int           col,
                                            const char   *text);
gboolean        catalog_run                (BerthStore   *store,
                                            sqlite3_stmt *stmt,
                                            GError      **error);
void            catalog_forget             (const char   *kind,
                                            const char   *node,
                                            const char   *id);
gboolean        catalog_node_exists        (BerthStore   *store,
                                            const char   *name,
                                            GError      **error,
                                            gboolean     *exists);
CatalogNode    *catalog_get_node_row       (BerthStore   *store,
                                            const char   *name,
                                            gboolean      even_broken,
                                            GError      **error);
CatalogService *catalog_get_service_row    (BerthStore   *store,
                                            const char   *node,
                                            const char   *id,
                                            gboolean      even_broken,
                                            GError      **error);
CatalogCheck   *catalog_get_check_row      (BerthStore   *store,
                                            const char   *node,
                                            const char   *id,
                                            gboolean      even_broken,
                                            GError      **error);
GPtrArray      *catalog_all_nodes          (BerthStore   *store,
                                            GError      **error);
GPtrArray      *catalog_all_services       (BerthStore   *store,
                                            const char   *node,
                                            const char   *name,
                                            GError      **error);
BerthContext   *catalog_get_context        (void);
GPtrArray      *catalog_all_checks         (BerthStore   *store,
                                            const char   *node,
                                            GError      **error);

G_END_DECLS
