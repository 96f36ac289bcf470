/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

#include "berth-caller.h"

G_BEGIN_DECLS

#define BERTH_TYPE_EVENT (berth_event_get_type ())
G_DECLARE_FINAL_TYPE (BerthEvent, berth_event, BERTH, EVENT, GObject)

BerthEvent  *berth_event_new           (const char  *topic,
                                        BerthCaller *caller,
                                        JsonObject  *data);
const char  *berth_event_get_topic     (BerthEvent  *self);
BerthCaller *berth_event_get_caller    (BerthEvent  *self);
JsonObject  *berth_event_get_data      (BerthEvent  *self);
gint64       berth_event_get_timestamp (BerthEvent  *self);
guint64      berth_event_get_sequence  (BerthEvent  *self);
guint64      berth_event_get_index     (BerthEvent  *self);
JsonNode    *berth_event_to_json       (BerthEvent  *self);

G_END_DECLS
