/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

#define DISCOVERY_TYPE_PLUGIN (discovery_plugin_get_type ())
G_DECLARE_FINAL_TYPE (DiscoveryPlugin, discovery_plugin, DISCOVERY, PLUGIN, BerthPlugin)

guint64 discovery_plugin_get_max_value_bytes (DiscoveryPlugin *self);

G_END_DECLS
