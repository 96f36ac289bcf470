/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "security-ca.h"

G_BEGIN_DECLS

/* The node's certificate authority: the CA and the node's server
 * certificate in <state-dir>/tls/, certificates for other nodes and
 * clients, rotation. When TLS is enabled ([tls] https_addr, which berthd's
 * --https-addr sets) it registers itself as the BerthTlsProvider. */

#define SECURITY_TYPE_TLS (security_tls_get_type ())
G_DECLARE_FINAL_TYPE (SecurityTls, security_tls, SECURITY, TLS, GObject)

SecurityTls *security_tls_new      (BerthContext  *context,
                                    GError       **error);
/* Unregisters the provider and stops renewing. */
void         security_tls_shutdown (SecurityTls   *self);

/* Whether TLS is enabled on this node. */
gboolean     security_tls_is_enabled (SecurityTls *self);
/* Whether this node holds the CA's private key (and so issues). */
gboolean     security_tls_can_issue  (SecurityTls *self);
/* A certificate signed by the CA; see security_ca_issue(). */
gboolean     security_tls_issue      (SecurityTls        *self,
                                      const char         *common_name,
                                      const char * const *dns_names,
                                      const char * const *ip_addresses,
                                      SecurityCertUsage   usage,
                                      char              **cert_pem,
                                      char              **key_pem,
                                      GError            **error);
/* Renews the node's server certificate now. */
gboolean     security_tls_rotate     (SecurityTls  *self,
                                      GError      **error);
/* The node's current server certificate, PEM. */
const char  *security_tls_get_server_pem (SecurityTls *self);
/* The CA certificate, PEM. */
const char  *security_tls_get_ca_pem     (SecurityTls *self);

/* security-tls-routes.c: the /api/tls routes */
void         security_tls_add_routes (SecurityTls *self,
                                      BerthContext *context);

G_END_DECLS
