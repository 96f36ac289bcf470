/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "discovery-catalog.h"
#include "discovery-plugin.h"

G_BEGIN_DECLS

/* The node's own check, as a Consul server keeps one for each member */
#define DISCOVERY_SERF_CHECK_ID "serfHealth"

void          discovery_agent_add_routes       (DiscoveryPlugin *plugin);
void          discovery_coordinate_add_routes  (DiscoveryPlugin *plugin);

/* "address:8300", the leader's (this node's) server address */
char         *discovery_agent_leader_address   (BerthContext    *context);
/* a new "serfHealth" check, passing (the node's registration carries it) */
CatalogCheck *discovery_agent_serf_check       (void);
gboolean      discovery_agent_is_serf_check    (const char      *check_id,
                                                const char      *service_id);
/* TRUE after answering 404 when @check_id is the node's Serf check, which
 * the agent's check endpoints do not know */
gboolean      discovery_agent_refuse_serf_check (BerthRequest  *request,
                                                 const char    *check_id);
/* one entry of /v1/agent/members (@wan: of the WAN pool) */
JsonObject   *discovery_agent_member_json      (const char      *name,
                                                const char      *node_id,
                                                const char      *addr,
                                                const char      *dc,
                                                gboolean         wan);
/* a network coordinate of a node alone (Serf's starting point) */
JsonObject   *discovery_agent_coordinate_json  (void);

G_END_DECLS
