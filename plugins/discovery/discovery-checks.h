/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The health-check runner: runs this node's HTTP, TCP, script and TTL
 * checks on the main loop and writes status changes to the store. */

typedef struct _DiscoveryChecks DiscoveryChecks;

DiscoveryChecks *discovery_checks_new         (BerthContext    *context);
void             discovery_checks_free        (DiscoveryChecks *self);
void             discovery_checks_ttl_refresh (DiscoveryChecks *self,
                                               const char      *check_id);

G_END_DECLS
