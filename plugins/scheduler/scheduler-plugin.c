/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gmodule.h>

#include "scheduler-controller.h"
#include "scheduler-events.h"
#include "scheduler-http.h"
#include "scheduler-limits.h"
#include "scheduler-plugin.h"
#include "scheduler-schema.h"

/* The scheduler plugin: Marathon's apps on Berth's resource pool. It
 * turns apps (its tables) into desired tasks (the core `tasks` table);
 * the runtime of each node runs them. It never calls another plugin. */

struct _SchedulerPlugin {
  BerthPlugin          parent_instance;
  SchedulerEvents     *events;
  SchedulerController *controller;
  SchedulerSubscriptions *subscriptions;
  SchedulerLimits      limits;
};

G_DEFINE_FINAL_TYPE (SchedulerPlugin, scheduler_plugin, BERTH_TYPE_PLUGIN)

SchedulerController *
scheduler_plugin_get_controller (SchedulerPlugin *self)
{
  return self->controller;
}

const SchedulerLimits *
scheduler_plugin_get_limits (SchedulerPlugin *self)
{
  return &self->limits;
}

SchedulerSubscriptions *
scheduler_plugin_get_subscriptions (SchedulerPlugin *self)
{
  return self->subscriptions;
}

SchedulerEvents *
scheduler_plugin_get_events (SchedulerPlugin *self)
{
  return self->events;
}

static gboolean
scheduler_plugin_startup (BerthPlugin *plugin, GError **error)
{
  SchedulerPlugin *self = SCHEDULER_PLUGIN (plugin);
  BerthContext *ctx = berth_plugin_get_context (plugin);

  if (!berth_store_migrate (berth_context_get_store (ctx), berth_plugin_get_name (plugin),
                            scheduler_migrations, error))
    return FALSE;
  scheduler_limits_load (&self->limits, ctx);
  self->events = scheduler_events_new (berth_context_get_event_bus (ctx));
  self->controller = scheduler_controller_new (ctx, &self->limits);
  self->subscriptions = scheduler_subscriptions_new (ctx, &self->limits);
  scheduler_http_add_routes (self);
  return TRUE;
}

static void
scheduler_plugin_shutdown (BerthPlugin *plugin)
{
  SchedulerPlugin *self = SCHEDULER_PLUGIN (plugin);

  g_clear_pointer (&self->controller, scheduler_controller_free);
  g_clear_pointer (&self->subscriptions, scheduler_subscriptions_free);
  g_clear_pointer (&self->events, scheduler_events_free);
}

static void
scheduler_plugin_finalize (GObject *object)
{
  SchedulerPlugin *self = SCHEDULER_PLUGIN (object);

  g_clear_pointer (&self->controller, scheduler_controller_free);
  g_clear_pointer (&self->subscriptions, scheduler_subscriptions_free);
  g_clear_pointer (&self->events, scheduler_events_free);
  G_OBJECT_CLASS (scheduler_plugin_parent_class)->finalize (object);
}

static void
scheduler_plugin_class_init (SchedulerPluginClass *klass)
{
  BerthPluginClass *plugin_class = BERTH_PLUGIN_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = scheduler_plugin_finalize;
  plugin_class->startup = scheduler_plugin_startup;
  plugin_class->shutdown = scheduler_plugin_shutdown;
}

static void
scheduler_plugin_init (SchedulerPlugin *self)
{
  scheduler_limits_defaults (&self->limits);
}

G_MODULE_EXPORT GType berth_plugin_module_get_type (void);

G_MODULE_EXPORT GType
berth_plugin_module_get_type (void)
{
  return SCHEDULER_TYPE_PLUGIN;
}
