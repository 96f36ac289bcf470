/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "security-audit.h"

/* Placeholder until this part of the security plugin is written. */

struct _SecurityAudit {
  GObject       parent_instance;
  BerthContext *context;
};

G_DEFINE_FINAL_TYPE (SecurityAudit, security_audit, G_TYPE_OBJECT)

static void
security_audit_finalize (GObject *object)
{
  g_clear_object (&SECURITY_AUDIT (object)->context);
  G_OBJECT_CLASS (security_audit_parent_class)->finalize (object);
}

static void
security_audit_class_init (SecurityAuditClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = security_audit_finalize;
}

static void
security_audit_init (SecurityAudit *self)
{
}

SecurityAudit *
security_audit_new (BerthContext *context, GError **error)
{
  SecurityAudit *self = g_object_new (SECURITY_TYPE_AUDIT, NULL);
  self->context = g_object_ref (context);
  return self;
}

void
security_audit_refused (SecurityAudit *self, BerthCaller *caller, const char *resource,
                        const char *name, BerthAccess access, const GError *refusal)
{
}
