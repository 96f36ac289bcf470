/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

BerthNode *bd_node_load     (const char   *state_dir,
                             const char   *name,
                             const char   *datacenter,
                             const char   *address,
                             GError      **error);
gboolean   bd_node_register (BerthStore   *store,
                             BerthNode    *node,
                             GError      **error);

G_END_DECLS
