/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Daemon-only API: berthd fills the context and drives the plugins with
 * these; plugins never include this header. */

#include "berth.h"

G_BEGIN_DECLS

BerthPlugin      *berth_plugin_new_placeholder (BerthContext     *context,
                                                const char       *name);
void              berth_plugin_set_state    (BerthPlugin      *self,
                                             BerthPluginState  state,
                                             const char       *error);
gboolean          berth_plugin_startup      (BerthPlugin      *self,
                                             GError          **error);
void              berth_plugin_shutdown     (BerthPlugin      *self);
void              berth_plugin_reload       (BerthPlugin      *self);
void              berth_plugin_ready        (BerthPlugin      *self);

G_END_DECLS
