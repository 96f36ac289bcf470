/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Self-test of the security plugin's certificate making (security-ca.c):
 * the CA, certificates it signs, their names, lifetimes and serials,
 * checked with GIO's TLS backend as a client would. */
#include "config.h"

#include <string.h>
#include <gio/gio.h>

#include "security-ca.h"

typedef struct {
  char *ca_cert;
  char *ca_key;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (security_ca_create ("Test CA", 3600, &f->ca_cert, &f->ca_key, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_free (f->ca_cert);
  g_free (f->ca_key);
}

static GTlsCertificate *
load (const char *cert, const char *key)
{
  g_autofree char *both = g_strconcat (cert, key, NULL);
  g_autoptr(GError) error = NULL;
  GTlsCertificate *certificate = g_tls_certificate_new_from_pem (both, -1, &error);

  g_assert_no_error (error);
  return certificate;
}

static void
test_issue_and_verify (Fixture *f, gconstpointer data)
{
  const char *dns[] = { "alpha", "localhost", NULL };
  const char *ips[] = { "127.0.0.1", "::1", NULL };
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) ca = load (f->ca_cert, f->ca_key);
  g_autoptr(GTlsCertificate) leaf = NULL;
  g_autoptr(GSocketConnectable) by_name = g_network_address_new ("alpha", 8501);
  g_autoptr(GSocketConnectable) by_ip = g_network_address_new ("127.0.0.1", 8501);
  g_autoptr(GSocketConnectable) other = g_network_address_new ("beta", 8501);
  gint64 not_before = 0, not_after = 0;

  g_assert_true (security_ca_issue (f->ca_cert, f->ca_key, "alpha", dns, ips,
                                    SECURITY_CERT_SERVER | SECURITY_CERT_CLIENT, 600, &cert, &key,
                                    &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (key, "-----BEGIN PRIVATE KEY-----"));
  leaf = load (cert, key);
  g_assert_cmpuint (g_tls_certificate_verify (leaf, by_name, ca), ==, 0);
  g_assert_cmpuint (g_tls_certificate_verify (leaf, by_ip, ca), ==, 0);
  g_assert_cmpuint (g_tls_certificate_verify (leaf, other, ca) & G_TLS_CERTIFICATE_BAD_IDENTITY, !=, 0);
  /* another CA does not vouch for it */
  {
    g_autofree char *cert2 = NULL, *key2 = NULL;
    g_autoptr(GTlsCertificate) stranger = NULL;
    g_assert_true (security_ca_create ("Other CA", 3600, &cert2, &key2, &error));
    stranger = load (cert2, key2);
    g_assert_cmpuint (g_tls_certificate_verify (leaf, by_name, stranger) & G_TLS_CERTIFICATE_UNKNOWN_CA,
                      !=, 0);
  }
  g_assert_true (security_ca_covers (cert, dns, ips));
  {
    const char *more_dns[] = { "alpha", "beta", NULL };
    const char *more_ips[] = { "127.0.0.1", "10.0.0.1", NULL };
    g_assert_false (security_ca_covers (cert, more_dns, NULL));
    g_assert_false (security_ca_covers (cert, NULL, more_ips));
  }
  g_assert_true (security_ca_inspect (cert, &not_before, &not_after, NULL, &error));
  g_assert_cmpint (not_after - not_before, >=, 600);
  g_assert_cmpint (not_after - not_before, <=, 600 + 120);
}

static void
test_serials_and_lifetime (Fixture *f, gconstpointer data)
{
  g_autofree char *a = NULL, *a_key = NULL, *b = NULL, *b_key = NULL;
  g_autofree char *sa = NULL, *sb = NULL, *sca = NULL;
  g_autoptr(GError) error = NULL;
  gint64 ca_after = 0, after = 0;

  g_assert_true (security_ca_issue (f->ca_cert, f->ca_key, "c", NULL, NULL, SECURITY_CERT_CLIENT,
                                    60, &a, &a_key, &error));
  /* longer than the CA: ends with the CA */
  g_assert_true (security_ca_issue (f->ca_cert, f->ca_key, "c", NULL, NULL, SECURITY_CERT_CLIENT,
                                    10 * 3600, &b, &b_key, &error));
  g_assert_no_error (error);
  g_assert_true (security_ca_inspect (a, NULL, NULL, &sa, &error));
  g_assert_true (security_ca_inspect (b, NULL, &after, &sb, &error));
  g_assert_true (security_ca_inspect (f->ca_cert, NULL, &ca_after, &sca, &error));
  g_assert_cmpstr (sa, !=, sb);
  g_assert_cmpstr (sa, !=, sca);
  g_assert_cmpuint (strlen (sa), ==, 32);
  g_assert_cmpint (after, ==, ca_after);
}

static void
test_bad_input (Fixture *f, gconstpointer data)
{
  const char *ips[] = { "not-an-ip", NULL };
  g_autofree char *cert = NULL, *key = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (security_ca_issue (f->ca_cert, f->ca_key, "x", NULL, ips, SECURITY_CERT_SERVER,
                                     60, &cert, &key, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (cert);
  g_clear_error (&error);
  g_assert_false (security_ca_issue ("garbage", f->ca_key, "x", NULL, NULL, SECURITY_CERT_SERVER,
                                     60, &cert, &key, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (security_ca_inspect ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                                       NULL, NULL, NULL, &error));
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/security/ca/issue-and-verify", Fixture, NULL, fixture_set_up, test_issue_and_verify,
              fixture_tear_down);
  g_test_add ("/security/ca/serials-and-lifetime", Fixture, NULL, fixture_set_up,
              test_serials_and_lifetime, fixture_tear_down);
  g_test_add ("/security/ca/bad-input", Fixture, NULL, fixture_set_up, test_bad_input,
              fixture_tear_down);
  return g_test_run ();
}
