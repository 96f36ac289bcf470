/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <berth.h>

#include "discovery-blocking.h"
#include "discovery-catalog.h"
#include "discovery-catalog-parse.h"
#include "discovery-dns-records.h"
#include "discovery-json.h"
#include "discovery-kv.h"

/* Self-tests of discovery's pure logic: DNS records of addresses, stored
 * JSON and check outputs, status order, Consul's base64, Meta validation,
 * KV keys and verbs, the blocking-query decisions. No daemon. */

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

/* Meta is checked with Consul's default limits: 64 pairs, keys of 128,
 * values of 512. */
static gboolean
meta_ok (const char *json, GError **error)
{
  g_autoptr(JsonNode) meta = json != NULL ? json_from_string (json, NULL) : NULL;

  return catalog_check_meta_limits (meta, 64, 128, 512, "Service Meta", error);
}

static void
assert_meta_invalid (const char *json, const char *problem)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (meta_ok (json, &error));
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "Service Meta"));
  if (strstr (error->message, problem) == NULL)
    g_error ("“%s” does not name “%s”", error->message, problem);
}

static void
test_meta_keys (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *long_key = g_strnfill (129, 'k');
  g_autofree char *max_key = g_strnfill (128, 'k');
  g_autofree char *too_long = g_strdup_printf ("{\"%s\": \"v\"}", long_key);
  g_autofree char *longest = g_strdup_printf ("{\"%s\": \"v\"}", max_key);

  g_assert_true (meta_ok (NULL, &error));
  g_assert_true (meta_ok ("null", &error));
  g_assert_true (meta_ok ("{}", &error));
  g_assert_true (meta_ok ("{\"version\": \"1.2\", \"Rack_2-b\": \"\"}", &error));
  g_assert_true (meta_ok (longest, &error));
  /* a prefix that merely looks like it is allowed */
  g_assert_true (meta_ok ("{\"consul\": \"x\", \"my-consul-\": \"x\"}", &error));
  g_assert_no_error (error);

  assert_meta_invalid ("{\"\": \"v\"}", "Key cannot be blank");
  assert_meta_invalid ("{\"a.b\": \"v\"}", "Key contains invalid characters");
  assert_meta_invalid ("{\"a b\": \"v\"}", "Key contains invalid characters");
  assert_meta_invalid ("{\"clé\": \"v\"}", "Key contains invalid characters");
  assert_meta_invalid (too_long, "Key is too long (limit: 128 characters)");
  assert_meta_invalid ("{\"consul-version\": \"v\"}", "Key prefix 'consul-' is reserved");
  /* not an object of strings */
  assert_meta_invalid ("[\"a\"]", "an object of strings");
  assert_meta_invalid ("{\"a\": 1}", "an object of strings");
  assert_meta_invalid ("{\"a\": {\"b\": \"c\"}}", "an object of strings");
}

static void
test_meta_limits (void)
{
  g_autoptr(GString) pairs = g_string_new ("{");
  g_autofree char *long_value = g_strnfill (513, 'v');
  g_autofree char *max_value = g_strnfill (512, 'v');
  g_autofree char *too_long = g_strdup_printf ("{\"k\": \"%s\"}", long_value);
  g_autofree char *longest = g_strdup_printf ("{\"k\": \"%s\"}", max_value);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) small = json_from_string ("{\"a\": \"1\", \"b\": \"2\"}", NULL);

  for (guint i = 0; i < 64; i++)
    g_string_append_printf (pairs, "%s\"k%u\": \"v\"", i > 0 ? ", " : "", i);
  g_string_append_c (pairs, '}');
  g_assert_true (meta_ok (pairs->str, &error));
  g_assert_true (meta_ok (longest, &error));
  g_assert_no_error (error);
  g_string_truncate (pairs, pairs->len - 1);
  g_string_append (pairs, ", \"k64\": \"v\"}");
  assert_meta_invalid (pairs->str, "more than 64 key/value pairs");
  assert_meta_invalid (too_long, "Value is too long (limit: 512 characters)");

  /* the limits are the configured ones */
  g_assert_false (catalog_check_meta_limits (small, 1, 128, 512, "NodeMeta", &error));
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "more than 1 key/value pairs"));
  g_clear_error (&error);
  g_assert_false (catalog_check_meta_limits (small, 64, 128, 0, "NodeMeta", &error));
  g_assert_nonnull (strstr (error->message, "Value is too long (limit: 0 characters)"));
  g_clear_error (&error);
  g_assert_true (catalog_check_meta_limits (small, 2, 1, 1, "NodeMeta", &error));
  g_assert_no_error (error);
}

static void
test_kv_key (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *key512 = g_strnfill (512, 'k');
  g_autofree char *key513 = g_strnfill (513, 'k');

  g_assert_true (discovery_kv_check_key ("", 512, &error));
  g_assert_true (discovery_kv_check_key ("a/b/c", 512, &error));
  g_assert_true (discovery_kv_check_key (key512, 512, &error));
  /* the limit is in bytes, not characters */
  g_assert_true (discovery_kv_check_key ("é", 2, &error));
  g_assert_no_error (error);
  g_assert_false (discovery_kv_check_key ("éa", 2, &error));
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "Key is too long: 3 bytes, the limit is 2");
  g_clear_error (&error);
  g_assert_false (discovery_kv_check_key (key513, 512, &error));
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
}

static void
test_kv_verbs (void)
{
  static const struct {
    const char *name;
    KvVerb      verb;
  } known[] = {
    { "set", KV_VERB_SET }, { "cas", KV_VERB_CAS }, { "get", KV_VERB_GET },
    { "get-tree", KV_VERB_GET_TREE }, { "check-index", KV_VERB_CHECK_INDEX },
    { "check-not-exists", KV_VERB_CHECK_NOT_EXISTS }, { "delete", KV_VERB_DELETE },
    { "delete-cas", KV_VERB_DELETE_CAS }, { "delete-tree", KV_VERB_DELETE_TREE },
    { "lock", KV_VERB_LOCK }, { "unlock", KV_VERB_UNLOCK },
    { "check-session", KV_VERB_CHECK_SESSION },
  };
  KvVerb verb = KV_VERB_SET;

  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    {
      g_assert_true (discovery_kv_verb_from_string (known[i].name, &verb));
      g_assert_cmpint (verb, ==, known[i].verb);
    }
  /* Consul's verbs are lower case; nothing else is one */
  verb = KV_VERB_GET;
  g_assert_false (discovery_kv_verb_from_string ("SET", &verb));
  g_assert_false (discovery_kv_verb_from_string ("LOCK", &verb));
  g_assert_false (discovery_kv_verb_from_string ("acquire", &verb));
  g_assert_false (discovery_kv_verb_from_string ("", &verb));
  g_assert_false (discovery_kv_verb_from_string (NULL, &verb));
  g_assert_cmpint (verb, ==, KV_VERB_GET);
}

static void
test_blocking_ready (void)
{
  /* not a blocking query: at once */
  g_assert_true (discovery_blocking_ready (0, 5, FALSE, 1000));
  /* newer data: at once; the same or older (a store that went back): wait */
  g_assert_true (discovery_blocking_ready (5, 6, FALSE, 1000));
  g_assert_false (discovery_blocking_ready (5, 5, FALSE, 1000));
  g_assert_false (discovery_blocking_ready (5, 4, FALSE, 1000));
  /* the wait is over */
  g_assert_true (discovery_blocking_ready (5, 5, TRUE, 1000));
  g_assert_true (discovery_blocking_ready (5, 5, FALSE, 0));
  g_assert_true (discovery_blocking_ready (5, 5, FALSE, -1));
}

static void
test_blocking_wait (void)
{
  /* at most 10 minutes, plus less than 1/16 of jitter */
  g_assert_cmpuint (discovery_blocking_wait_ms (60000, 0), ==, 60000);
  g_assert_cmpuint (discovery_blocking_wait_ms (60000, 3749), ==, 63749);
  g_assert_cmpuint (discovery_blocking_wait_ms (60000, 3750), ==, 60000);
  g_assert_cmpuint (discovery_blocking_wait_ms (60 * 60 * 1000, 0), ==, 600000);
  g_assert_cmpuint (discovery_blocking_wait_ms (60 * 60 * 1000, G_MAXUINT32), <, 600000 + 37500);
  for (guint32 r = 0; r < 1000; r += 7)
    {
      guint64 ms = discovery_blocking_wait_ms (300000, r * 104729u);
      g_assert_cmpuint (ms, >=, 300000);
      g_assert_cmpuint (ms, <, 300000 + 300000 / 16);
    }
  /* too short for jitter */
  g_assert_cmpuint (discovery_blocking_wait_ms (15, G_MAXUINT32), ==, 15);
  g_assert_cmpuint (discovery_blocking_wait_ms (0, 12345), ==, 0);
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
  g_test_add_func ("/discovery/catalog/meta-keys", test_meta_keys);
  g_test_add_func ("/discovery/catalog/meta-limits", test_meta_limits);
  g_test_add_func ("/discovery/kv/key", test_kv_key);
  g_test_add_func ("/discovery/kv/verbs", test_kv_verbs);
  g_test_add_func ("/discovery/blocking/ready", test_blocking_ready);
  g_test_add_func ("/discovery/blocking/wait", test_blocking_wait);
  return g_test_run ();
}
