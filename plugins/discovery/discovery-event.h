/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "discovery-plugin.h"

G_BEGIN_DECLS

/* Consul's user events: PUT /v1/event/fire/:name, GET /v1/event/list. */

void    discovery_event_add_routes (DiscoveryPlugin *plugin);
void    discovery_event_shutdown   (DiscoveryPlugin *plugin);

/* Consul's index of an event list: the last event's ID folded to 64 bits
 * (its first 8 bytes XOR its last 8), for the self-tests. */
guint64 discovery_event_id_index   (const char      *id);

G_END_DECLS
