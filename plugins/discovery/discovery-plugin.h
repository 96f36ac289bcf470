/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

#define DISCOVERY_TYPE_PLUGIN (discovery_plugin_get_type ())
G_DECLARE_FINAL_TYPE (DiscoveryPlugin, discovery_plugin, DISCOVERY, PLUGIN, BerthPlugin)

typedef struct _DiscoveryChecks DiscoveryChecks;
typedef struct _DiscoverySessions DiscoverySessions;

guint64          discovery_plugin_get_max_value_bytes (DiscoveryPlugin *self);
guint64          discovery_plugin_get_max_key_bytes   (DiscoveryPlugin *self);
SoupSession     *discovery_plugin_get_http_session    (DiscoveryPlugin *self);
DiscoveryChecks *discovery_plugin_get_checks          (DiscoveryPlugin *self);
DiscoverySessions *discovery_plugin_get_sessions      (DiscoveryPlugin *self);

G_END_DECLS
