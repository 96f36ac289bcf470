/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "discovery-catalog.h"

G_BEGIN_DECLS

/* The ACL checks of the catalog's writes on what the request's body (or a
 * stored row) names, with Consul's rules: `service` write on a service's
 * name, `node` write on a node (its own record, its node-level checks),
 * and Berth's own: `app` write on the app a registration claims through
 * the automatic registration's Meta (`berth-app`, `berth-task`). Each
 * returns FALSE with the refusal before anything is written. */
gboolean discovery_acl_registration   (BerthRequest              *request,
                                       const CatalogRegistration *registration,
                                       GError                   **error);
gboolean discovery_acl_deregistration (BerthRequest              *request,
                                       const char                *node,
                                       const char                *service_id,
                                       const char                *check_id,
                                       GError                   **error);
gboolean discovery_acl_check_write    (BerthRequest              *request,
                                       const char                *node,
                                       const char                *check_id,
                                       GError                   **error);
gboolean discovery_acl_service_write  (BerthRequest              *request,
                                       const char                *node,
                                       const char                *service_id,
                                       GError                   **error);

/* Whether a list may show a check: `service` read on its service, `node`
 * read on its node for a node-level check (the item is left out
 * otherwise, and the answer says it was filtered). */
gboolean discovery_acl_may_read_check (BerthRequest              *request,
                                       const CatalogCheck        *check);

G_END_DECLS
