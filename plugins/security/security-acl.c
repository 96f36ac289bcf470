/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "security-acl.h"

/* Placeholder until this part of the security plugin is written. */

struct _SecurityAcl {
  GObject       parent_instance;
  BerthContext *context;
};

G_DEFINE_FINAL_TYPE (SecurityAcl, security_acl, G_TYPE_OBJECT)

static void
security_acl_finalize (GObject *object)
{
  g_clear_object (&SECURITY_ACL (object)->context);
  G_OBJECT_CLASS (security_acl_parent_class)->finalize (object);
}

static void
security_acl_class_init (SecurityAclClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = security_acl_finalize;
}

static void
security_acl_init (SecurityAcl *self)
{
}

SecurityAcl *
security_acl_new (BerthContext *context, GError **error)
{
  SecurityAcl *self = g_object_new (SECURITY_TYPE_ACL, NULL);
  self->context = g_object_ref (context);
  return self;
}

gboolean
security_acl_ready (SecurityAcl *self, GError **error)
{
  return TRUE;
}

gboolean
security_acl_check (SecurityAcl *self, BerthCaller *caller, const char *resource,
                    const char *name, BerthAccess access, GError **error)
{
  return TRUE;
}
