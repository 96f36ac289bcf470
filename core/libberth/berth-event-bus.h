/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include "berth-event.h"

G_BEGIN_DECLS

#define BERTH_TYPE_EVENT_BUS (berth_event_bus_get_type ())
G_DECLARE_FINAL_TYPE (BerthEventBus, berth_event_bus, BERTH, EVENT_BUS, GObject)

BerthEventBus *berth_event_bus_new        (guint          backlog);
void           berth_event_bus_publish    (BerthEventBus *self,
                                           BerthEvent    *event,
                                           guint64        index);
guint64        berth_event_bus_get_last_sequence (BerthEventBus *self);
GPtrArray     *berth_event_bus_list_since (BerthEventBus *self,
                                           guint64        sequence,
                                           const char    *topic_prefix);

G_END_DECLS
