/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gmodule.h>

#include "discovery-agent.h"
#include "discovery-autoreg.h"
#include "discovery-catalog.h"
#include "discovery-catalog-http.h"
#include "discovery-checks.h"
#include "discovery-dns.h"
#include "discovery-event.h"
#include "discovery-health.h"
#include "discovery-kv.h"
#include "discovery-kv-http.h"
#include "discovery-plugin.h"
#include "discovery-prepared.h"
#include "discovery-schema.h"
#include "discovery-session.h"
#include "discovery-txn.h"
#include "discovery-wan.h"

/* The discovery plugin: Consul's API. The KV store (with transactions and
 * blocking queries), the agent/status endpoints, the service catalog with
 * health checks (run here), the DNS interface and links to other
 * datacenters. Every route is added through discovery_wan_add_routes(), so
 * that `?dc=` forwarding works the same for all of them.
 *
 * Automatic registration (discovery-autoreg.c) follows the core `tasks`
 * table and registers the running tasks of this node as services. */

#define REAP_INTERVAL_SECONDS 600

struct _DiscoveryPlugin {
  BerthPlugin      parent_instance;
  guint64          max_value_bytes;
  guint64          max_key_bytes;
  guint            reap_id;
  SoupSession     *http;      /* to other datacenters */
  DiscoveryChecks *checks;
  DiscoveryDns    *dns;
  DiscoveryAutoreg *autoreg;
  DiscoverySessions *sessions;
};

G_DEFINE_FINAL_TYPE (DiscoveryPlugin, discovery_plugin, BERTH_TYPE_PLUGIN)

guint64
discovery_plugin_get_max_value_bytes (DiscoveryPlugin *self)
{
  return self->max_value_bytes;
}

guint64
discovery_plugin_get_max_key_bytes (DiscoveryPlugin *self)
{
  return self->max_key_bytes;
}

SoupSession *
discovery_plugin_get_http_session (DiscoveryPlugin *self)
{
  return self->http;
}

DiscoveryChecks *
discovery_plugin_get_checks (DiscoveryPlugin *self)
{
  return self->checks;
}

DiscoverySessions *
discovery_plugin_get_sessions (DiscoveryPlugin *self)
{
  return self->sessions;
}

/* The agent's node in the catalog: this berthd's node. */
static gboolean
register_self (DiscoveryPlugin *self, GError **error)
{
  BerthContext *ctx = berth_plugin_get_context (BERTH_PLUGIN (self));
  BerthNode *node = berth_context_get_node (ctx);
  g_autoptr(CatalogRegistration) reg = g_new0 (CatalogRegistration, 1);
  g_autoptr(CatalogNode) old = NULL;

  reg->node_name = g_strdup (berth_node_get_name (node));
  reg->node = g_new0 (CatalogNode, 1);
  reg->node->name = g_strdup (berth_node_get_name (node));
  reg->node->id = g_strdup (berth_node_get_id (node));
  reg->node->address = g_strdup (berth_node_get_address (node));
  reg->node->datacenter = g_strdup (berth_node_get_datacenter (node));
  /* keep what catalog/register may have added to this node */
  old = catalog_get_node (berth_context_get_store (ctx), reg->node_name, NULL);
  reg->node->tagged_json = g_strdup (old != NULL ? old->tagged_json : "{}");
  reg->node->meta_json = g_strdup (old != NULL ? old->meta_json : "{}");
  /* the member's own check, as a Consul server keeps one for each member */
  reg->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) catalog_check_free);
  g_ptr_array_add (reg->checks, discovery_agent_serf_check ());
  return berth_store_write_sync (berth_context_get_store (ctx), catalog_write_register, reg, error) != 0;
}

static void
read_config (DiscoveryPlugin *self)
{
  BerthContext *ctx = berth_plugin_get_context (BERTH_PLUGIN (self));
  self->max_value_bytes = berth_context_get_config_uint64 (ctx, "discovery", "max_value_bytes",
                                                           512 * 1024);
  self->max_key_bytes = berth_context_get_config_uint64 (ctx, "discovery", "max_key_bytes", 512);
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
  /* stored rows that fail validation are set aside, not acted on */
  catalog_set_context (ctx);
  catalog_validate_all (berth_context_get_store (ctx));
  if (!register_self (self, error))
    return FALSE;
  self->http = soup_session_new_with_options ("max-conns-per-host", 32, "idle-timeout", 60, NULL);
  discovery_wan_setup (self);
  discovery_catalog_add_routes (self);
  discovery_agent_services_add_routes (self);
  discovery_health_add_routes (self);
  self->checks = discovery_checks_new (ctx);
  self->autoreg = discovery_autoreg_new (ctx);
  if (berth_context_get_config_boolean (ctx, "discovery", "dns", TRUE))
    {
      g_autoptr(GError) dns_error = NULL;

      /* without DNS the rest still works: say so and carry on */
      self->dns = discovery_dns_new (self, &dns_error);
      if (self->dns == NULL)
        g_warning ("%s", dns_error->message);
    }
  discovery_kv_http_add_routes (self);
  discovery_txn_add_routes (self);
  discovery_event_add_routes (self);
  self->sessions = discovery_sessions_new (ctx);
  discovery_session_add_routes (self);
  discovery_agent_add_routes (self);
  discovery_coordinate_add_routes (self);
  discovery_prepared_add_routes (self);
  self->reap_id = g_timeout_add_seconds (REAP_INTERVAL_SECONDS, reap_cb, self);
  return TRUE;
}

static void
discovery_plugin_shutdown (BerthPlugin *plugin)
{
  DiscoveryPlugin *self = DISCOVERY_PLUGIN (plugin);
  g_clear_handle_id (&self->reap_id, g_source_remove);
  discovery_event_shutdown (self);
  g_clear_pointer (&self->sessions, discovery_sessions_free);
  g_clear_pointer (&self->autoreg, discovery_autoreg_free);
  g_clear_pointer (&self->dns, discovery_dns_free);
  g_clear_pointer (&self->checks, discovery_checks_free);
  if (self->http != NULL)
    discovery_wan_shutdown (self);
  g_clear_object (&self->http);
  catalog_set_context (NULL);
}

static void
discovery_plugin_reload (BerthPlugin *plugin)
{
  DiscoveryPlugin *self = DISCOVERY_PLUGIN (plugin);

  read_config (self);
  if (self->dns != NULL)
    discovery_dns_reload (self->dns);
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
