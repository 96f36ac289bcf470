/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Key and certificate making with GnuTLS: ECDSA P-256 keys, a
 * self-signed CA, and certificates it signs. PEM in, PEM out; keys are
 * unencrypted PKCS#8. */

typedef enum {
  SECURITY_CERT_SERVER = 1 << 0,  /* extended key usage serverAuth */
  SECURITY_CERT_CLIENT = 1 << 1,  /* extended key usage clientAuth */
} SecurityCertUsage;

/* A new CA named @common_name, valid @lifetime_s seconds. */
gboolean security_ca_create  (const char         *common_name,
                              guint64             lifetime_s,
                              char              **cert_pem,
                              char              **key_pem,
                              GError            **error);
/* A certificate for @common_name with the subject alternative names
 * @dns_names and @ip_addresses (either may be NULL), signed by the CA. */
gboolean security_ca_issue   (const char         *ca_cert_pem,
                              const char         *ca_key_pem,
                              const char         *common_name,
                              const char * const *dns_names,
                              const char * const *ip_addresses,
                              SecurityCertUsage   usage,
                              guint64             lifetime_s,
                              char              **cert_pem,
                              char              **key_pem,
                              GError            **error);
/* The validity period (seconds since the epoch) and serial (hex) of a
 * PEM certificate. */
gboolean security_ca_inspect (const char         *cert_pem,
                              gint64             *not_before,
                              gint64             *not_after,
                              char              **serial,
                              GError            **error);

/* Whether a PEM certificate is valid for every one of @dns_names and
 * @ip_addresses (either may be NULL). */
gboolean security_ca_covers  (const char         *cert_pem,
                              const char * const *dns_names,
                              const char * const *ip_addresses);

G_END_DECLS
