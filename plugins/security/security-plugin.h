/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

#define SECURITY_TYPE_PLUGIN (security_plugin_get_type ())
G_DECLARE_FINAL_TYPE (SecurityPlugin, security_plugin, SECURITY, PLUGIN, BerthPlugin)

G_END_DECLS
