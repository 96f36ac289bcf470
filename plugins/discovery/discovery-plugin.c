/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gmodule.h>

#include "discovery-agent.h"
#include "discovery-kv.h"
#include "discovery-kv-http.h"
#include "discovery-plugin.h"
#include "discovery-schema.h"
#include "discovery-txn.h"

/* The discovery plugin: Consul's API. So far the KV store (with
 * transactions and blocking queries) and the agent/status endpoints. */

#define REAP_INTERVAL_SECONDS 600

struct _DiscoveryPlugin {
  BerthPlugin parent_instance;
  guint64     max_value_bytes;
  guint       reap_id;
};

G_DEFINE_FINAL_TYPE (DiscoveryPlugin, discovery_plugin, BERTH_TYPE_PLUGIN)

guint64
discovery_plugin_get_max_value_bytes (DiscoveryPlugin *self)
{
  return self->max_value_bytes;
}

static void
read_config (DiscoveryPlugin *self)
{
  BerthContext *ctx = berth_plugin_get_context (BERTH_PLUGIN (self));
  self->max_value_bytes = berth_context_get_config_uint64 (ctx, "discovery", "max_value_bytes",
                                                           512 * 1024);
}

static void
reap_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 && error != NULL)
    g_warning ("kv: reaping tombstones failed: %s", error->message);
}

static gboolean
reap_cb (gpointer user_data)
{
  DiscoveryPlugin *self = user_data;
  BerthStore *store = berth_context_get_store (berth_plugin_get_context (BERTH_PLUGIN (self)));
  berth_store_write_async (store, discovery_kv_reap_tombstones, NULL, NULL, NULL, reap_done_cb, NULL);
  return G_SOURCE_CONTINUE;
}

static gboolean
discovery_plugin_startup (BerthPlugin *plugin, GError **error)
{
  DiscoveryPlugin *self = DISCOVERY_PLUGIN (plugin);
  BerthContext *ctx = berth_plugin_get_context (plugin);

  if (!berth_store_migrate (berth_context_get_store (ctx), berth_plugin_get_name (plugin),
                            discovery_migrations, error))
    return FALSE;
  read_config (self);
  discovery_kv_http_add_routes (self);
  discovery_txn_add_routes (self);
  discovery_agent_add_routes (self);
  self->reap_id = g_timeout_add_seconds (REAP_INTERVAL_SECONDS, reap_cb, self);
  return TRUE;
}

static void
discovery_plugin_shutdown (BerthPlugin *plugin)
{
  DiscoveryPlugin *self = DISCOVERY_PLUGIN (plugin);
  g_clear_handle_id (&self->reap_id, g_source_remove);
}

static void
discovery_plugin_reload (BerthPlugin *plugin)
{
  read_config (DISCOVERY_PLUGIN (plugin));
}

static void
discovery_plugin_class_init (DiscoveryPluginClass *klass)
{
  BerthPluginClass *plugin_class = BERTH_PLUGIN_CLASS (klass);

  plugin_class->startup = discovery_plugin_startup;
  plugin_class->shutdown = discovery_plugin_shutdown;
  plugin_class->reload = discovery_plugin_reload;
}

static void
discovery_plugin_init (DiscoveryPlugin *self)
{
}

G_MODULE_EXPORT GType berth_plugin_module_get_type (void);

G_MODULE_EXPORT GType
berth_plugin_module_get_type (void)
{
  return DISCOVERY_TYPE_PLUGIN;
}
