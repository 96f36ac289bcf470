/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>
#include <gio/gio.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "security-ca.h"

/* Certificates start a minute in the past, for clocks slightly behind. */
#define BACKDATE_S 60

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_crt_t, gnutls_x509_crt_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_privkey_t, gnutls_x509_privkey_deinit, NULL)

static gboolean
check (int ret, const char *what, GError **error)
{
  if (ret >= 0)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("%s failed: %s"), what,
               gnutls_strerror (ret));
  return FALSE;
}

static gboolean
new_key (gnutls_x509_privkey_t *key, GError **error)
{
  return check (gnutls_x509_privkey_init (key), "gnutls_x509_privkey_init", error) &&
         check (gnutls_x509_privkey_generate (*key, GNUTLS_PK_ECDSA,
                                              GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0),
                "gnutls_x509_privkey_generate", error);
}

static gboolean
export_cert (gnutls_x509_crt_t crt, char **pem, GError **error)
{
  gnutls_datum_t out = { NULL, 0 };

  if (!check (gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &out), "gnutls_x509_crt_export2",
              error))
    return FALSE;
  *pem = g_strndup ((const char *) out.data, out.size);
  gnutls_free (out.data);
  return TRUE;
}

static gboolean
export_key (gnutls_x509_privkey_t key, char **pem, GError **error)
{
  gnutls_datum_t out = { NULL, 0 };

  if (!check (gnutls_x509_privkey_export2_pkcs8 (key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                                 &out),
              "gnutls_x509_privkey_export2_pkcs8", error))
    return FALSE;
  *pem = g_strndup ((const char *) out.data, out.size);
  gnutls_memset (out.data, 0, out.size);
  gnutls_free (out.data);
  return TRUE;
}

static gboolean
import_cert (const char *pem, gnutls_x509_crt_t *crt, GError **error)
{
  gnutls_datum_t in = { (unsigned char *) pem, (unsigned int) strlen (pem) };

  return check (gnutls_x509_crt_init (crt), "gnutls_x509_crt_init", error) &&
         check (gnutls_x509_crt_import (*crt, &in, GNUTLS_X509_FMT_PEM), _("Reading a certificate"),
                error);
}

static gboolean
import_key (const char *pem, gnutls_x509_privkey_t *key, GError **error)
{
  gnutls_datum_t in = { (unsigned char *) pem, (unsigned int) strlen (pem) };

  return check (gnutls_x509_privkey_init (key), "gnutls_x509_privkey_init", error) &&
         check (gnutls_x509_privkey_import2 (*key, &in, GNUTLS_X509_FMT_PEM, NULL, 0),
                _("Reading a private key"), error);
}

/* The fields every certificate gets: version, a random positive serial,
 * the validity period, the subject's name and key. */
static gboolean
fill_common (gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *common_name,
             guint64 lifetime_s, GError **error)
{
  guint8 serial[16];
  time_t now = time (NULL);

  if (!check (gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof serial), "gnutls_rnd", error))
    return FALSE;
  serial[0] = (serial[0] & 0x7f) | 0x01;
  return check (gnutls_x509_crt_set_version (crt, 3), "gnutls_x509_crt_set_version", error) &&
         check (gnutls_x509_crt_set_serial (crt, serial, sizeof serial), "set_serial", error) &&
         check (gnutls_x509_crt_set_activation_time (crt, now - BACKDATE_S), "set_activation_time",
                error) &&
         check (gnutls_x509_crt_set_expiration_time (crt, now + (time_t) lifetime_s),
                "set_expiration_time", error) &&
         check (gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, common_name,
                                               (unsigned int) strlen (common_name)),
                "set_dn_by_oid", error) &&
         check (gnutls_x509_crt_set_key (crt, key), "gnutls_x509_crt_set_key", error);
}

static gboolean
set_key_id (gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, GError **error)
{
  guint8 id[64];
  size_t len = sizeof id;

  return check (gnutls_x509_privkey_get_key_id (key, GNUTLS_KEYID_USE_SHA1, id, &len),
                "gnutls_x509_privkey_get_key_id", error) &&
         check (gnutls_x509_crt_set_subject_key_id (crt, id, len), "set_subject_key_id", error);
}

gboolean
security_ca_create (const char *common_name, guint64 lifetime_s, char **cert_pem, char **key_pem,
                    GError **error)
{
  g_auto(gnutls_x509_privkey_t) key = NULL;
  g_auto(gnutls_x509_crt_t) crt = NULL;
  g_autofree char *cert = NULL;

  g_return_val_if_fail (common_name != NULL, FALSE);

  if (!new_key (&key, error) ||
      !check (gnutls_x509_crt_init (&crt), "gnutls_x509_crt_init", error) ||
      !fill_common (crt, key, common_name, lifetime_s, error) ||
      !check (gnutls_x509_crt_set_basic_constraints (crt, 1, -1), "set_basic_constraints", error) ||
      !check (gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN |
                                                  GNUTLS_KEY_DIGITAL_SIGNATURE),
              "set_key_usage", error) ||
      !set_key_id (crt, key, error) ||
      !check (gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0), "sign", error) ||
      !export_cert (crt, &cert, error) ||
      !export_key (key, key_pem, error))
    return FALSE;
  *cert_pem = g_steal_pointer (&cert);
  return TRUE;
}

static gboolean
add_ip (gnutls_x509_crt_t crt, const char *text, GError **error)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (text);

  if (inet == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an IP address"), text);
      return FALSE;
    }
  return check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS,
                                                      g_inet_address_to_bytes (inet),
                                                      (unsigned int) g_inet_address_get_native_size (inet),
                                                      GNUTLS_FSAN_APPEND),
                "set_subject_alt_name", error);
}

gboolean
security_ca_issue (const char *ca_cert_pem, const char *ca_key_pem, const char *common_name,
                   const char * const *dns_names, const char * const *ip_addresses,
                   SecurityCertUsage usage, guint64 lifetime_s, char **cert_pem, char **key_pem,
                   GError **error)
{
  g_auto(gnutls_x509_crt_t) ca = NULL;
  g_auto(gnutls_x509_privkey_t) ca_key = NULL;
  g_auto(gnutls_x509_privkey_t) key = NULL;
  g_auto(gnutls_x509_crt_t) crt = NULL;
  g_autofree char *cert = NULL;
  guint8 ca_id[64];
  size_t ca_id_len = sizeof ca_id;
  time_t ca_expires;

  g_return_val_if_fail (ca_cert_pem != NULL && ca_key_pem != NULL && common_name != NULL, FALSE);

  if (!import_cert (ca_cert_pem, &ca, error) || !import_key (ca_key_pem, &ca_key, error) ||
      !new_key (&key, error) ||
      !check (gnutls_x509_crt_init (&crt), "gnutls_x509_crt_init", error) ||
      !fill_common (crt, key, common_name, lifetime_s, error) ||
      !check (gnutls_x509_crt_set_basic_constraints (crt, 0, -1), "set_basic_constraints", error) ||
      !check (gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
                                                  GNUTLS_KEY_KEY_AGREEMENT),
              "set_key_usage", error) ||
      !set_key_id (crt, key, error))
    return FALSE;
  /* never valid beyond the CA that signs it */
  ca_expires = gnutls_x509_crt_get_expiration_time (ca);
  if (ca_expires != (time_t) -1 && time (NULL) + (time_t) lifetime_s > ca_expires &&
      !check (gnutls_x509_crt_set_expiration_time (crt, ca_expires), "set_expiration_time", error))
    return FALSE;
  if (gnutls_x509_crt_get_subject_key_id (ca, ca_id, &ca_id_len, NULL) >= 0 &&
      !check (gnutls_x509_crt_set_authority_key_id (crt, ca_id, ca_id_len), "set_authority_key_id",
              error))
    return FALSE;
  if ((usage & SECURITY_CERT_SERVER) &&
      !check (gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
              "set_key_purpose_oid", error))
    return FALSE;
  if ((usage & SECURITY_CERT_CLIENT) &&
      !check (gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_CLIENT, 0),
              "set_key_purpose_oid", error))
    return FALSE;
  for (guint i = 0; dns_names != NULL && dns_names[i] != NULL; i++)
    if (!check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, dns_names[i],
                                                      (unsigned int) strlen (dns_names[i]),
                                                      GNUTLS_FSAN_APPEND),
                "set_subject_alt_name", error))
      return FALSE;
  for (guint i = 0; ip_addresses != NULL && ip_addresses[i] != NULL; i++)
    if (!add_ip (crt, ip_addresses[i], error))
      return FALSE;
  if (!check (gnutls_x509_crt_sign2 (crt, ca, ca_key, GNUTLS_DIG_SHA256, 0), "sign", error) ||
      !export_cert (crt, &cert, error) || !export_key (key, key_pem, error))
    return FALSE;
  *cert_pem = g_steal_pointer (&cert);
  return TRUE;
}

gboolean
security_ca_inspect (const char *cert_pem, gint64 *not_before, gint64 *not_after, char **serial,
                     GError **error)
{
  g_auto(gnutls_x509_crt_t) crt = NULL;
  guint8 raw[64];
  size_t len = sizeof raw;

  g_return_val_if_fail (cert_pem != NULL, FALSE);

  if (!import_cert (cert_pem, &crt, error))
    return FALSE;
  if (not_before != NULL)
    *not_before = (gint64) gnutls_x509_crt_get_activation_time (crt);
  if (not_after != NULL)
    *not_after = (gint64) gnutls_x509_crt_get_expiration_time (crt);
  if (serial != NULL)
    {
      GString *hex = g_string_new (NULL);
      if (!check (gnutls_x509_crt_get_serial (crt, raw, &len), "gnutls_x509_crt_get_serial", error))
        {
          g_string_free (hex, TRUE);
          return FALSE;
        }
      for (size_t i = 0; i < len; i++)
        g_string_append_printf (hex, "%02X", raw[i]);
      *serial = g_string_free (hex, FALSE);
    }
  return TRUE;
}

gboolean
security_ca_covers (const char *cert_pem, const char * const *dns_names,
                    const char * const *ip_addresses)
{
  g_auto(gnutls_x509_crt_t) crt = NULL;

  g_return_val_if_fail (cert_pem != NULL, FALSE);

  if (!import_cert (cert_pem, &crt, NULL))
    return FALSE;
  for (guint i = 0; dns_names != NULL && dns_names[i] != NULL; i++)
    if (!gnutls_x509_crt_check_hostname2 (crt, dns_names[i], GNUTLS_VERIFY_DO_NOT_ALLOW_WILDCARDS))
      return FALSE;
  for (guint i = 0; ip_addresses != NULL && ip_addresses[i] != NULL; i++)
    {
      g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (ip_addresses[i]);
      if (inet == NULL ||
          !gnutls_x509_crt_check_ip (crt, g_inet_address_to_bytes (inet),
                                     (unsigned int) g_inet_address_get_native_size (inet), 0))
        return FALSE;
    }
  return TRUE;
}
