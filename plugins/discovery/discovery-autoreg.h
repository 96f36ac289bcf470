/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* Automatic registration: every running task (core `tasks` table) placed
 * on this node becomes catalog service instances, with a check mirroring
 * the task's health; they are removed when the task stops. */

typedef struct _DiscoveryAutoreg DiscoveryAutoreg;

DiscoveryAutoreg *discovery_autoreg_new  (BerthContext     *context);
void              discovery_autoreg_free (DiscoveryAutoreg *self);

G_END_DECLS
