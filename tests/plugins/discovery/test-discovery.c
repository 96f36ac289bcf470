/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <berth.h>

#include "discovery-catalog.h"
#include "discovery-dns-records.h"
#include "discovery-json.h"

/* Self-tests of discovery's pure logic: DNS records of addresses, stored
 * JSON and check outputs, status order, Consul's base64. No daemon. */

static void
test_dns_parse_address (void)
{
  guint8 bytes[16] = { 0 };

  g_assert_cmpint (dns_parse_address ("10.0.0.7", bytes), ==, LDNS_RR_TYPE_A);
  g_assert_cmpmem (bytes, 4, ((guint8[]) { 10, 0, 0, 7 }), 4);
  g_assert_cmpint (dns_parse_address ("::1", bytes), ==, LDNS_RR_TYPE_AAAA);
  g_assert_cmpint (bytes[15], ==, 1);
  g_assert_cmpint (dns_parse_address ("web.example", bytes), ==, 0);
  g_assert_cmpint (dns_parse_address ("", bytes), ==, 0);
}

static void
test_dns_hex_address (void)
{
  g_autofree char *v4 = dns_hex_address ("127.0.0.1");
  g_autofree char *v6 = dns_hex_address ("2001:db8::1");
  g_autofree char *none = dns_hex_address ("node1");

  g_assert_cmpstr (v4, ==, "7f000001");
  g_assert_cmpstr (v6, ==, "20010db8000000000000000000000001");
  g_assert_null (none);
}

static void
test_dns_address_rr (void)
{
  ldns_rdf *owner = ldns_dname_new_frm_str ("web.service.consul.");
  ldns_rr *rr = dns_address_rr (owner, "192.0.2.5", 0, 30);
  ldns_rr *wrong = dns_address_rr (owner, "192.0.2.5", LDNS_RR_TYPE_AAAA, 30);
  ldns_rr *name = dns_address_rr (owner, "db.example", 0, 30);
  char *text;

  g_assert_nonnull (rr);
  g_assert_null (wrong);
  g_assert_null (name);
  text = ldns_rr2str (rr);
  g_assert_cmpstr (text, ==, "web.service.consul.\t30\tIN\tA\t192.0.2.5\n");
  free (text);
  ldns_rr_free (rr);
  ldns_rdf_deep_free (owner);
}

static void
test_dns_shuffle (void)
{
  g_autoptr(GPtrArray) a = g_ptr_array_new ();
  guint sum = 0;

  dns_shuffle (a);
  for (guint i = 1; i <= 10; i++)
    g_ptr_array_add (a, GUINT_TO_POINTER (i));
  dns_shuffle (a);
  g_assert_cmpuint (a->len, ==, 10);
  for (guint i = 0; i < a->len; i++)
    sum += GPOINTER_TO_UINT (a->pdata[i]);
  g_assert_cmpuint (sum, ==, 55);
}

static void
test_status_worst (void)
{
  g_assert_cmpstr (catalog_status_worst (CHECK_PASSING, CHECK_WARNING), ==, CHECK_WARNING);
  g_assert_cmpstr (catalog_status_worst (CHECK_CRITICAL, CHECK_WARNING), ==, CHECK_CRITICAL);
  g_assert_cmpstr (catalog_status_worst (CHECK_PASSING, CHECK_PASSING), ==, CHECK_PASSING);
  /* anything unknown counts as critical */
  g_assert_cmpstr (catalog_status_worst (CHECK_PASSING, "bogus"), ==, "bogus");
}

static void
test_output_text (void)
{
  g_autofree char *big = g_strnfill (CATALOG_MAX_OUTPUT + 10, 'x');
  g_autofree char *cut = catalog_output_text (big);
  g_autofree char *invalid = catalog_output_text ("ok\xff");
  g_autofree char *none = catalog_output_text (NULL);
  g_autoptr(GString) accents = g_string_new (NULL);
  g_autofree char *accents_cut = NULL;

  g_assert_cmpuint (strlen (cut), ==, CATALOG_MAX_OUTPUT);
  g_assert_true (g_utf8_validate (invalid, -1, NULL));
  g_assert_true (g_str_has_prefix (invalid, "ok"));
  g_assert_cmpstr (none, ==, "");
  /* never cut inside a character */
  g_string_append_c (accents, 'x');
  while (accents->len < CATALOG_MAX_OUTPUT + 10)
    g_string_append (accents, "é");
  accents_cut = catalog_output_text (accents->str);
  g_assert_true (g_utf8_validate (accents_cut, -1, NULL));
  g_assert_cmpuint (strlen (accents_cut), <=, CATALOG_MAX_OUTPUT);
}

static void
test_service_tags (void)
{
  CatalogService s = { 0 };
  g_autoptr(JsonNode) bad = catalog_json_parse ("{");

  s.tags_json = (char *) "[\"Primary\", \"v1\"]";
  g_assert_true (catalog_service_has_tag (&s, "primary"));
  g_assert_true (catalog_service_has_tag (&s, "v1"));
  g_assert_false (catalog_service_has_tag (&s, "v2"));
  s.tags_json = (char *) "not json";
  g_assert_false (catalog_service_has_tag (&s, "v1"));
  g_assert_true (JSON_NODE_HOLDS_NULL (bad));
}

static void
test_base64 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) ok = discovery_base64_decode ("aGVsbG8=", &error);
  GBytes *bad;

  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (ok, NULL), g_bytes_get_size (ok), "hello", 5);
  bad = discovery_base64_decode ("aGVsbG8", &error);
  g_assert_null (bad);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  g_clear_error (&error);
  bad = discovery_base64_decode ("a=GV", &error);
  g_assert_null (bad);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/discovery/dns/parse-address", test_dns_parse_address);
  g_test_add_func ("/discovery/dns/hex-address", test_dns_hex_address);
  g_test_add_func ("/discovery/dns/address-rr", test_dns_address_rr);
  g_test_add_func ("/discovery/dns/shuffle", test_dns_shuffle);
  g_test_add_func ("/discovery/catalog/status-worst", test_status_worst);
  g_test_add_func ("/discovery/catalog/output-text", test_output_text);
  g_test_add_func ("/discovery/catalog/service-tags", test_service_tags);
  g_test_add_func ("/discovery/json/base64", test_base64);
  return g_test_run ();
}
