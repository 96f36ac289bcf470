/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

void bd_events_add_routes (BerthContext *context);

G_END_DECLS
