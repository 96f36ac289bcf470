/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "scheduler-controller.h"
#include "scheduler-events.h"
#include "scheduler-limits.h"
#include "scheduler-subscriptions.h"

G_BEGIN_DECLS

#define SCHEDULER_TYPE_PLUGIN (scheduler_plugin_get_type ())
G_DECLARE_FINAL_TYPE (SchedulerPlugin, scheduler_plugin, SCHEDULER, PLUGIN, BerthPlugin)

SchedulerController *scheduler_plugin_get_controller (SchedulerPlugin *self);
SchedulerEvents     *scheduler_plugin_get_events     (SchedulerPlugin *self);
const SchedulerLimits *scheduler_plugin_get_limits   (SchedulerPlugin *self);
SchedulerSubscriptions *scheduler_plugin_get_subscriptions (SchedulerPlugin *self);

G_END_DECLS
