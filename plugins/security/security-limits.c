/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "security-limits.h"

/* Placeholder until this part of the security plugin is written. */

struct _SecurityLimits {
  GObject       parent_instance;
  BerthContext *context;
};

G_DEFINE_FINAL_TYPE (SecurityLimits, security_limits, G_TYPE_OBJECT)

static void
security_limits_finalize (GObject *object)
{
  g_clear_object (&SECURITY_LIMITS (object)->context);
  G_OBJECT_CLASS (security_limits_parent_class)->finalize (object);
}

static void
security_limits_class_init (SecurityLimitsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = security_limits_finalize;
}

static void
security_limits_init (SecurityLimits *self)
{
}

SecurityLimits *
security_limits_new (BerthContext *context)
{
  SecurityLimits *self = g_object_new (SECURITY_TYPE_LIMITS, NULL);
  self->context = g_object_ref (context);
  return self;
}

void
security_limits_reload (SecurityLimits *self)
{
}

gboolean
security_limits_admit (SecurityLimits *self, BerthCaller *caller, GError **error)
{
  return TRUE;
}
