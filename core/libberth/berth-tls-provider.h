/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

#define BERTH_TYPE_TLS_PROVIDER (berth_tls_provider_get_type ())
G_DECLARE_INTERFACE (BerthTlsProvider, berth_tls_provider, BERTH, TLS_PROVIDER, GObject)

/**
 * BerthTlsProviderInterface:
 * @get_certificate: the node's current certificate, with its private key
 * @get_database: a database whose only anchor is the datacenter's CA
 * @dup_ca_pem: the CA certificate, PEM encoded
 *
 * The service that holds the node's TLS identity: the certificate its
 * HTTPS listener presents (and its datacenter links present as clients),
 * and the certificate authority client and peer certificates are checked
 * against. The security plugin registers one when TLS is enabled; it emits
 * #BerthTlsProvider::changed when the node's certificate is renewed.
 */
struct _BerthTlsProviderInterface {
  GTypeInterface parent_iface;

  GTlsCertificate *(*get_certificate) (BerthTlsProvider *self);
  GTlsDatabase    *(*get_database)    (BerthTlsProvider *self);
  char            *(*dup_ca_pem)      (BerthTlsProvider *self);
};

GTlsCertificate *berth_tls_provider_get_certificate (BerthTlsProvider *self);
GTlsDatabase    *berth_tls_provider_get_database    (BerthTlsProvider *self);
char            *berth_tls_provider_dup_ca_pem      (BerthTlsProvider *self);
void             berth_tls_provider_emit_changed    (BerthTlsProvider *self);

G_END_DECLS
