/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "runtime-plugin.h"

G_BEGIN_DECLS

/* The runtime plugin's BerthRuntime (registered in the context). */
#define RUNTIME_TYPE_SERVICE (runtime_service_get_type ())
G_DECLARE_FINAL_TYPE (RuntimeService, runtime_service, RUNTIME, SERVICE, GObject)

RuntimeService *runtime_service_new      (RuntimePlugin  *plugin);
/* berthd is stopping: calls from now on fail */
void            runtime_service_shutdown (RuntimeService *self);

G_END_DECLS
