/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The event bus behind /v2/events: subscribers get every event in order. */
typedef struct _SchedulerEvents SchedulerEvents;

SchedulerEvents *scheduler_events_new       (void);
void             scheduler_events_free      (SchedulerEvents *self);
void             scheduler_events_emit      (SchedulerEvents *self,
                                             const char      *type,
                                             JsonObject      *data);
void             scheduler_events_subscribe (SchedulerEvents *self,
                                             BerthRequest    *request,
                                             GStrv            types);

G_END_DECLS
