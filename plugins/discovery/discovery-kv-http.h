/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "discovery-plugin.h"

G_BEGIN_DECLS

void discovery_kv_http_add_routes (DiscoveryPlugin *plugin);

G_END_DECLS
