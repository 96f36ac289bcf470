/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gmodule.h>

#include "security-acl.h"
#include "security-audit.h"
#include "security-limits.h"
#include "security-plugin.h"
#include "security-tls.h"

/* The security plugin: the authority every front door asks before it runs
 * a handler (rate limits first, then ACL tokens and policies), the audit
 * trail of what changed and what was refused, and the node's TLS
 * certificate authority. It starts before every plugin that serves
 * requests and refuses every call until it is ready. */

struct _SecurityPlugin {
  BerthPlugin     parent_instance;
  gboolean        ready;
  SecurityAcl    *acl;
  SecurityLimits *limits;
  SecurityAudit  *audit;
  SecurityTls    *tls;
};

static void security_plugin_authority_iface_init (BerthAuthorityInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SecurityPlugin, security_plugin, BERTH_TYPE_PLUGIN,
                               G_IMPLEMENT_INTERFACE (BERTH_TYPE_AUTHORITY,
                                                      security_plugin_authority_iface_init))

static gboolean
decide (SecurityPlugin *self, BerthCaller *caller, const char *resource, const char *name,
        BerthAccess access, gboolean count, GError **error)
{
  if (berth_caller_get_kind (caller) == BERTH_CALLER_INTERNAL)
    return TRUE;
  if (!self->ready)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE,
                           "The security plugin is not ready yet");
      return FALSE;
    }
  if (count && !security_limits_admit (self->limits, caller, error))
    return FALSE;
  return security_acl_check (self->acl, caller, resource, name, access, error);
}

static void
check_async (BerthAuthority *authority, BerthCaller *caller, const char *resource,
             const char *name, BerthAccess access, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  SecurityPlugin *self = SECURITY_PLUGIN (authority);
  g_autoptr(GTask) task = g_task_new (authority, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;

  g_task_set_source_tag (task, check_async);
  if (!decide (self, caller, resource, name, access, TRUE, &error))
    {
      security_audit_refused (self->audit, caller, resource, name, access, error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static gboolean
check_finish (BerthAuthority *authority, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
allows (BerthAuthority *authority, BerthCaller *caller, const char *resource, const char *name,
        BerthAccess access, GError **error)
{
  return decide (SECURITY_PLUGIN (authority), caller, resource, name, access, FALSE, error);
}

static void
security_plugin_authority_iface_init (BerthAuthorityInterface *iface)
{
  iface->check_async = check_async;
  iface->check_finish = check_finish;
  iface->allows = allows;
}

static gboolean
security_startup (BerthPlugin *plugin, GError **error)
{
  SecurityPlugin *self = SECURITY_PLUGIN (plugin);
  BerthContext *context = berth_plugin_get_context (plugin);

  self->acl = security_acl_new (context, error);
  if (self->acl == NULL)
    return FALSE;
  self->audit = security_audit_new (context, error);
  if (self->audit == NULL)
    return FALSE;
  self->tls = security_tls_new (context, error);
  if (self->tls == NULL)
    return FALSE;
  self->limits = security_limits_new (context);
  return berth_context_add_service (context, BERTH_TYPE_AUTHORITY, plugin, error);
}

static void
security_ready (BerthPlugin *plugin)
{
  SecurityPlugin *self = SECURITY_PLUGIN (plugin);
  g_autoptr(GError) error = NULL;

  if (!security_acl_ready (self->acl, &error))
    {
      /* stay not ready: every call is refused rather than allowed */
      g_critical ("security: %s", error->message);
      return;
    }
  self->ready = TRUE;
}

static void
security_reload (BerthPlugin *plugin)
{
  security_limits_reload (SECURITY_PLUGIN (plugin)->limits);
  security_audit_reload (SECURITY_PLUGIN (plugin)->audit);
}

static void
security_shutdown (BerthPlugin *plugin)
{
  SecurityPlugin *self = SECURITY_PLUGIN (plugin);

  berth_context_remove_service (berth_plugin_get_context (plugin), BERTH_TYPE_AUTHORITY, plugin);
  self->ready = FALSE;
  if (self->tls != NULL)
    security_tls_shutdown (self->tls);
  g_clear_object (&self->acl);
  g_clear_object (&self->audit);
  g_clear_object (&self->limits);
  g_clear_object (&self->tls);
}

static void
security_plugin_class_init (SecurityPluginClass *klass)
{
  BerthPluginClass *plugin_class = BERTH_PLUGIN_CLASS (klass);

  plugin_class->startup = security_startup;
  plugin_class->ready = security_ready;
  plugin_class->reload = security_reload;
  plugin_class->shutdown = security_shutdown;
}

static void
security_plugin_init (SecurityPlugin *self)
{
  /* the authority is in place before anything serves or acts */
  berth_plugin_add_rule (BERTH_PLUGIN (self), BERTH_PLUGIN_RULE_RUN_BEFORE, "discovery");
  berth_plugin_add_rule (BERTH_PLUGIN (self), BERTH_PLUGIN_RULE_RUN_BEFORE, "runtime");
  berth_plugin_add_rule (BERTH_PLUGIN (self), BERTH_PLUGIN_RULE_RUN_BEFORE, "scheduler");
}

G_MODULE_EXPORT GType berth_plugin_module_get_type (void);

G_MODULE_EXPORT GType
berth_plugin_module_get_type (void)
{
  return SECURITY_TYPE_PLUGIN;
}
