/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-tls-provider.h"

/**
 * SECTION:berth-tls-provider
 * @title: BerthTlsProvider
 * @short_description: the node's TLS certificate and certificate authority
 *
 * The HTTPS front door and the datacenter links ask this service, looked
 * up with berth_context_get_service(), for the certificate to present and
 * for the CA to verify the other side against. Whoever implements it keeps
 * the CA's private key to itself.
 */

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_INTERFACE (BerthTlsProvider, berth_tls_provider, G_TYPE_OBJECT)

static void
berth_tls_provider_default_init (BerthTlsProviderInterface *iface)
{
  /**
   * BerthTlsProvider::changed:
   * @self: the provider
   *
   * The node's certificate was renewed: new connections present the new
   * one; connections already open keep theirs.
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_INTERFACE (iface),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 0);
}

/**
 * berth_tls_provider_get_certificate:
 * @self: a #BerthTlsProvider
 *
 * Returns: (transfer full): the node's current certificate, with its
 *   private key (valid as a server and as a client certificate)
 */
GTlsCertificate *
berth_tls_provider_get_certificate (BerthTlsProvider *self)
{
  g_return_val_if_fail (BERTH_IS_TLS_PROVIDER (self), NULL);
  return BERTH_TLS_PROVIDER_GET_IFACE (self)->get_certificate (self);
}

/**
 * berth_tls_provider_get_database:
 * @self: a #BerthTlsProvider
 *
 * Returns: (transfer full): a database trusting the datacenter's CA only,
 *   to verify client certificates and peers
 */
GTlsDatabase *
berth_tls_provider_get_database (BerthTlsProvider *self)
{
  g_return_val_if_fail (BERTH_IS_TLS_PROVIDER (self), NULL);
  return BERTH_TLS_PROVIDER_GET_IFACE (self)->get_database (self);
}

/**
 * berth_tls_provider_dup_ca_pem:
 * @self: a #BerthTlsProvider
 *
 * Returns: (transfer full): the CA certificate in PEM form
 */
char *
berth_tls_provider_dup_ca_pem (BerthTlsProvider *self)
{
  g_return_val_if_fail (BERTH_IS_TLS_PROVIDER (self), NULL);
  return BERTH_TLS_PROVIDER_GET_IFACE (self)->dup_ca_pem (self);
}

/**
 * berth_tls_provider_emit_changed:
 * @self: a #BerthTlsProvider
 *
 * Emits #BerthTlsProvider::changed; for implementations, after they
 * renewed the node's certificate.
 */
void
berth_tls_provider_emit_changed (BerthTlsProvider *self)
{
  g_return_if_fail (BERTH_IS_TLS_PROVIDER (self));
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}
