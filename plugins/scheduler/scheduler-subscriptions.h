/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "scheduler-limits.h"

G_BEGIN_DECLS

/* Marathon's HTTP callback event subscribers (/v2/eventSubscriptions):
 * callback URLs, kept in the store, receiving by HTTP POST every event
 * /v2/events shows (scheduler-subscriptions.c). */
typedef struct _SchedulerSubscriptions SchedulerSubscriptions;

SchedulerSubscriptions *scheduler_subscriptions_new    (BerthContext          *context,
                                                        const SchedulerLimits *limits);
void                    scheduler_subscriptions_free   (SchedulerSubscriptions *self);
void                    scheduler_subscriptions_handle (SchedulerSubscriptions *self,
                                                        BerthRequest           *request);

G_END_DECLS
