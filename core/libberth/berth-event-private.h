/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "berth-event.h"

G_BEGIN_DECLS

/* Used by the bus when it publishes an event. */
void berth_event_set_published (BerthEvent *self,
                                guint64     sequence,
                                guint64     index);

G_END_DECLS
