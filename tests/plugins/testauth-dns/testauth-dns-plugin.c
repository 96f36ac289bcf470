/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gmodule.h>
#include <berth.h>

/* A plugin for the tests of DNS answers under ACLs
 * (tests/plugins/discovery/test_dns_acl.py): an authority whose read
 * rules a test can see from outside.
 *
 *   - reading a service whose name starts with `secret` or a node whose
 *     name starts with `hidden` is denied, unless the caller's token is
 *     `dns-reader`;
 *   - a caller that is not a TCP caller with an address is denied reads of
 *     a service named `tcp-only` (the DNS door must make a TCP caller);
 *   - everything else is allowed (so the test registers over HTTP freely).
 */

#define TESTAUTH_DNS_TYPE_PLUGIN (testauth_dns_plugin_get_type ())
G_DECLARE_FINAL_TYPE (TestauthDnsPlugin, testauth_dns_plugin, TESTAUTH_DNS, PLUGIN, BerthPlugin)

struct _TestauthDnsPlugin {
  BerthPlugin parent_instance;
};

static void testauth_dns_authority_iface_init (BerthAuthorityInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestauthDnsPlugin, testauth_dns_plugin, BERTH_TYPE_PLUGIN,
                               G_IMPLEMENT_INTERFACE (BERTH_TYPE_AUTHORITY,
                                                      testauth_dns_authority_iface_init))

static gboolean
allows (BerthAuthority *authority, BerthCaller *caller, const char *resource, const char *name,
        BerthAccess access, GError **error)
{
  gboolean reader = g_strcmp0 (berth_caller_get_token (caller), "dns-reader") == 0;

  if (access != BERTH_ACCESS_READ || name == NULL)
    return TRUE;
  if (!reader && ((g_strcmp0 (resource, "service") == 0 && g_str_has_prefix (name, "secret")) ||
                  (g_strcmp0 (resource, "node") == 0 && g_str_has_prefix (name, "hidden"))))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_DENIED, "Permission denied: %s %s", resource, name);
      return FALSE;
    }
  if (g_strcmp0 (resource, "service") == 0 && g_strcmp0 (name, "tcp-only") == 0 &&
      (berth_caller_get_kind (caller) != BERTH_CALLER_TCP || berth_caller_get_address (caller) == NULL ||
       !g_str_has_prefix (berth_caller_get_address (caller), "127.0.0.1:")))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_DENIED, "Permission denied: not TCP");
      return FALSE;
    }
  return TRUE;
}

static void
check_async (BerthAuthority *authority, BerthCaller *caller, const char *resource, const char *name,
             BerthAccess access, GCancellable *cancellable, GAsyncReadyCallback callback,
             gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (authority, cancellable, callback, user_data);

  g_task_return_boolean (task, TRUE);
}

static gboolean
check_finish (BerthAuthority *authority, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
testauth_dns_authority_iface_init (BerthAuthorityInterface *iface)
{
  iface->check_async = check_async;
  iface->check_finish = check_finish;
  iface->allows = allows;
}

static gboolean
testauth_dns_startup (BerthPlugin *plugin, GError **error)
{
  return berth_context_add_service (berth_plugin_get_context (plugin), BERTH_TYPE_AUTHORITY,
                                    plugin, error);
}

static void
testauth_dns_shutdown (BerthPlugin *plugin)
{
  berth_context_remove_service (berth_plugin_get_context (plugin), BERTH_TYPE_AUTHORITY, plugin);
}

static void
testauth_dns_plugin_class_init (TestauthDnsPluginClass *klass)
{
  BerthPluginClass *plugin_class = BERTH_PLUGIN_CLASS (klass);

  plugin_class->startup = testauth_dns_startup;
  plugin_class->shutdown = testauth_dns_shutdown;
}

static void
testauth_dns_plugin_init (TestauthDnsPlugin *self)
{
  berth_plugin_add_rule (BERTH_PLUGIN (self), BERTH_PLUGIN_RULE_RUN_BEFORE, "discovery");
}

G_MODULE_EXPORT GType berth_plugin_module_get_type (void);

G_MODULE_EXPORT GType
berth_plugin_module_get_type (void)
{
  return TESTAUTH_DNS_TYPE_PLUGIN;
}
