/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "security-tls.h"

/* Placeholder until this part of the security plugin is written. */

struct _SecurityTls {
  GObject       parent_instance;
  BerthContext *context;
};

G_DEFINE_FINAL_TYPE (SecurityTls, security_tls, G_TYPE_OBJECT)

static void
security_tls_finalize (GObject *object)
{
  g_clear_object (&SECURITY_TLS (object)->context);
  G_OBJECT_CLASS (security_tls_parent_class)->finalize (object);
}

static void
security_tls_class_init (SecurityTlsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = security_tls_finalize;
}

static void
security_tls_init (SecurityTls *self)
{
}

SecurityTls *
security_tls_new (BerthContext *context, GError **error)
{
  SecurityTls *self = g_object_new (SECURITY_TYPE_TLS, NULL);
  self->context = g_object_ref (context);
  return self;
}
