/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "discovery-plugin.h"

G_BEGIN_DECLS

/* Several datacenters: the WAN links (table wan_links), forwarding of
 * `?dc=` requests to the linked datacenter, and the route table every
 * discovery route goes through to get that forwarding. */

void      discovery_wan_add_routes   (DiscoveryPlugin      *plugin,
                                      const BerthRouteSpec *specs,
                                      gsize                 n_specs);
void      discovery_wan_setup        (DiscoveryPlugin      *plugin);
void      discovery_wan_shutdown     (DiscoveryPlugin      *plugin);

/* Sends @request as it is (minus ?dc) to datacenter @dc and relays the
 * answer; 500 "No path to datacenter" without a link or an answer */
void      discovery_wan_forward      (DiscoveryPlugin      *plugin,
                                      BerthRequest         *request,
                                      const char           *dc);

/* The HTTP address ("host:port") of datacenter @dc, or NULL */
char     *discovery_wan_lookup       (DiscoveryPlugin      *plugin,
                                      const char           *dc);

/* GET @path_and_query on a server of @dc, with @token (or none); the
 * callback gets the status (0 when there is no path to the datacenter)
 * and body */
typedef void (*DiscoveryWanGetFunc) (guint     status,
                                     GBytes   *body,
                                     gpointer  user_data);
void      discovery_wan_get          (DiscoveryPlugin      *plugin,
                                      const char           *dc,
                                      const char           *path_and_query,
                                      const char           *token,
                                      DiscoveryWanGetFunc   func,
                                      gpointer              user_data);

G_END_DECLS
