/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Daemon-only API: berthd fills the context and drives the plugins with
 * these; plugins never include this header. */

#include "berth.h"

G_BEGIN_DECLS

void          berth_context_set_store           (BerthContext *self,
                                                 BerthStore   *store);
void          berth_context_set_config          (BerthContext *self,
                                                 GKeyFile     *config);
void          berth_context_set_node            (BerthContext *self,
                                                 BerthNode    *node);
void          berth_context_set_state_dir       (BerthContext *self,
                                                 const char   *state_dir);
void          berth_context_add_plugin          (BerthContext *self,
                                                 BerthPlugin  *plugin);

G_END_DECLS
