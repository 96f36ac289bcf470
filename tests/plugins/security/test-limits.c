/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "berth-context-private.h"
#include "discovery-dns-rrl.h"
#include "security-limits.h"

/* Self-tests of the rate limits: the security plugin's token buckets per
 * address and per token, and discovery's DNS response-rate limiting. */

static SecurityLimits *
limits_new (const char *config, BerthContext **out_context)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  BerthContext *context = berth_context_new ();

  g_assert_true (g_key_file_load_from_data (kf, config, -1, G_KEY_FILE_NONE, NULL));
  berth_context_set_config (context, kf);
  *out_context = context;
  return security_limits_new (context);
}

static gboolean
admit (SecurityLimits *limits, BerthCaller *caller, guint *retry_after)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = security_limits_admit (limits, caller, &error);

  if (!ok)
    {
      g_assert_error (error, BERTH_ERROR, BERTH_ERROR_RATE_LIMITED);
      if (retry_after != NULL)
        *retry_after = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (caller), "berth-retry-after"));
    }
  else
    g_assert_no_error (error);
  return ok;
}

static void
test_address_bucket (void)
{
  g_autoptr(BerthContext) context = NULL;
  g_autoptr(SecurityLimits) limits = limits_new ("[security]\nrate_limit=1\nrate_burst=3\n"
                                                 "token_rate_limit=0\n", &context);
  g_autoptr(BerthCaller) a = berth_caller_new_tcp ("192.0.2.1:4000", FALSE);
  g_autoptr(BerthCaller) a_other_port = berth_caller_new_tcp ("192.0.2.1:4001", FALSE);
  g_autoptr(BerthCaller) b = berth_caller_new_tcp ("[2001:db8::1]:4000", FALSE);
  g_autoptr(BerthCaller) local = berth_caller_new_unix (0, 0, 1);
  g_autoptr(BerthCaller) internal = berth_caller_new_internal ("test");
  guint retry = 0;

  for (guint i = 0; i < 3; i++)
    g_assert_true (admit (limits, a, NULL));
  /* the address, not the connection, is counted */
  g_assert_false (admit (limits, a_other_port, &retry));
  g_assert_cmpuint (retry, ==, 1);
  g_assert_false (admit (limits, a, NULL));
  /* others are not affected; local and internal callers are never limited */
  g_assert_true (admit (limits, b, NULL));
  for (guint i = 0; i < 50; i++)
    {
      g_assert_true (admit (limits, local, NULL));
      g_assert_true (admit (limits, internal, NULL));
    }
  /* a token comes back after a second */
  g_usleep (G_USEC_PER_SEC + 50000);
  g_assert_true (admit (limits, a, NULL));
  g_assert_false (admit (limits, a, NULL));
}

static void
test_token_bucket (void)
{
  g_autoptr(BerthContext) context = NULL;
  g_autoptr(SecurityLimits) limits = limits_new ("[security]\nrate_limit=0\n"
                                                 "token_rate_limit=1\ntoken_rate_burst=2\n", &context);
  g_autoptr(BerthCaller) a = berth_caller_new_tcp ("192.0.2.1:4000", FALSE);
  g_autoptr(BerthCaller) b = berth_caller_new_tcp ("192.0.2.2:4000", FALSE);
  g_autoptr(BerthCaller) anonymous = berth_caller_new_tcp ("192.0.2.3:4000", FALSE);

  berth_caller_set_token (a, "secret-1");
  berth_caller_set_token (b, "secret-1");
  g_assert_true (admit (limits, a, NULL));
  g_assert_true (admit (limits, b, NULL));
  /* the same token, from another address, shares the bucket */
  g_assert_false (admit (limits, a, NULL));
  g_assert_false (admit (limits, b, NULL));
  berth_caller_set_token (b, "secret-2");
  g_assert_true (admit (limits, b, NULL));
  for (guint i = 0; i < 20; i++)
    g_assert_true (admit (limits, anonymous, NULL));
}

static void
test_bounded_memory (void)
{
  g_autoptr(BerthContext) context = NULL;
  g_autoptr(SecurityLimits) limits = limits_new ("[security]\nrate_limit=1\nrate_burst=1\n", &context);

  /* many addresses (a scan, a botnet): the table stops growing */
  for (guint i = 0; i < 20000; i++)
    {
      g_autofree char *address = g_strdup_printf ("10.%u.%u.%u:1", i >> 16, (i >> 8) & 0xff, i & 0xff);
      g_autoptr(BerthCaller) caller = berth_caller_new_tcp (address, FALSE);

      g_assert_true (admit (limits, caller, NULL));
    }
  g_assert_cmpuint (security_limits_size (limits), <=, 16384);
  g_assert_cmpuint (security_limits_size (limits), >, 0);
  /* idle ones are forgotten: after burst/rate seconds a bucket is full */
  g_usleep (G_USEC_PER_SEC + 50000);
  {
    g_autoptr(BerthCaller) caller = berth_caller_new_tcp ("192.0.2.9:1", FALSE);
    g_assert_true (admit (limits, caller, NULL));
  }
  g_assert_cmpuint (security_limits_size (limits), ==, 1);
  /* a reload starts afresh, with the new rates */
  security_limits_reload (limits);
  g_assert_cmpuint (security_limits_size (limits), ==, 0);
}

/* ---- DNS ---------------------------------------------------------------- */

static struct sockaddr_in
v4 (const char *ip)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (5353) };

  g_assert_cmpint (inet_pton (AF_INET, ip, &sin.sin_addr), ==, 1);
  return sin;
}

static void
test_rrl_slip (void)
{
  DnsRrl *rrl = dns_rrl_new ();
  struct sockaddr_in a = v4 ("192.0.2.1"), b = v4 ("192.0.2.2");
  struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 }, a6_same64 = { .sin6_family = AF_INET6 };
  gint64 now = 1000 * G_USEC_PER_SEC;
  guint slips = 0, drops = 0;

  dns_rrl_configure (rrl, 5, 2);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint (dns_rrl_check (rrl, (struct sockaddr *) &a, sizeof a, now), ==, DNS_RRL_ANSWER);
  for (guint i = 0; i < 10; i++)
    switch (dns_rrl_check (rrl, (struct sockaddr *) &a, sizeof a, now))
      {
      case DNS_RRL_SLIP: slips++; break;
      case DNS_RRL_DROP: drops++; break;
      default: g_assert_not_reached ();
      }
  g_assert_cmpuint (slips, ==, 5);
  g_assert_cmpuint (drops, ==, 5);
  /* another source is answered */
  g_assert_cmpint (dns_rrl_check (rrl, (struct sockaddr *) &b, sizeof b, now), ==, DNS_RRL_ANSWER);
  /* refilled at the rate: 0.2 s gives one answer */
  now += G_USEC_PER_SEC / 5;
  g_assert_cmpint (dns_rrl_check (rrl, (struct sockaddr *) &a, sizeof a, now), ==, DNS_RRL_ANSWER);
  g_assert_cmpint (dns_rrl_check (rrl, (struct sockaddr *) &a, sizeof a, now), !=, DNS_RRL_ANSWER);

  /* IPv6: one /64 is one source */
  inet_pton (AF_INET6, "2001:db8:1:2::1", &a6.sin6_addr);
  inet_pton (AF_INET6, "2001:db8:1:2::ffff", &a6_same64.sin6_addr);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint (dns_rrl_check (rrl, (struct sockaddr *) &a6, sizeof a6, now), ==, DNS_RRL_ANSWER);
  g_assert_cmpint (dns_rrl_check (rrl, (struct sockaddr *) &a6_same64, sizeof a6_same64, now), !=,
                   DNS_RRL_ANSWER);

  /* slip 0: everything over the rate is dropped; rate 0: no limit */
  dns_rrl_configure (rrl, 1, 0);
  g_assert_cmpint (dns_rrl_check (rrl, (struct sockaddr *) &a, sizeof a, now), ==, DNS_RRL_ANSWER);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpint (dns_rrl_check (rrl, (struct sockaddr *) &a, sizeof a, now), ==, DNS_RRL_DROP);
  dns_rrl_configure (rrl, 0, 2);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpint (dns_rrl_check (rrl, (struct sockaddr *) &a, sizeof a, now), ==, DNS_RRL_ANSWER);
  g_assert_cmpuint (dns_rrl_size (rrl), ==, 0);
  dns_rrl_free (rrl);
}

static void
test_rrl_bounded (void)
{
  DnsRrl *rrl = dns_rrl_new ();
  gint64 now = 1000 * G_USEC_PER_SEC;

  dns_rrl_configure (rrl, 10, 2);
  /* forged sources: the table stops growing */
  for (guint i = 0; i < 40000; i++)
    {
      struct sockaddr_in sin = { .sin_family = AF_INET };

      sin.sin_addr.s_addr = htonl (0x0a000000u + i);
      dns_rrl_check (rrl, (struct sockaddr *) &sin, sizeof sin, now);
    }
  g_assert_cmpuint (dns_rrl_size (rrl), <=, 16384);
  /* quiet sources are forgotten */
  {
    struct sockaddr_in sin = v4 ("192.0.2.1");
    dns_rrl_check (rrl, (struct sockaddr *) &sin, sizeof sin, now + 2 * G_USEC_PER_SEC);
  }
  g_assert_cmpuint (dns_rrl_size (rrl), ==, 1);
  dns_rrl_free (rrl);
}

static void
test_rrl_truncated (void)
{
  /* id 0x1234, RD, one question: web.service.consul. A IN */
  static const guint8 query[] = {
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    3, 'w', 'e', 'b', 7, 's', 'e', 'r', 'v', 'i', 'c', 'e', 6, 'c', 'o', 'n', 's', 'u', 'l', 0,
    0x00, 0x01, 0x00, 0x01,
    /* an OPT record, not copied */
    0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  };
  g_autoptr(GBytes) tc = dns_rrl_truncated (query, sizeof query);
  const guint8 *data;
  gsize len;
  guint8 answer[] = { 0x12, 0x34, 0x81 | 0x02, 0x00 };

  g_assert_nonnull (tc);
  data = g_bytes_get_data (tc, &len);
  g_assert_cmpuint (len, ==, sizeof query - 11);
  g_assert_cmpmem (data, 4, answer, 4);
  g_assert_cmpuint (data[5], ==, 1);
  for (guint i = 6; i < 12; i++)
    g_assert_cmpuint (data[i], ==, 0);
  g_assert_cmpmem (data + 12, len - 12, query + 12, len - 12);

  /* not a query with one question: nothing */
  g_assert_null (dns_rrl_truncated (query, 11));
  g_assert_null (dns_rrl_truncated (query, 20));
  {
    guint8 response[sizeof query];
    memcpy (response, query, sizeof query);
    response[2] |= 0x80;
    g_assert_null (dns_rrl_truncated (response, sizeof response));
    memcpy (response, query, sizeof query);
    response[5] = 2;
    g_assert_null (dns_rrl_truncated (response, sizeof response));
    memcpy (response, query, sizeof query);
    response[12] = 0xc0;
    g_assert_null (dns_rrl_truncated (response, sizeof response));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/limits/address-bucket", test_address_bucket);
  g_test_add_func ("/limits/token-bucket", test_token_bucket);
  g_test_add_func ("/limits/bounded-memory", test_bounded_memory);
  g_test_add_func ("/limits/dns/slip", test_rrl_slip);
  g_test_add_func ("/limits/dns/bounded", test_rrl_bounded);
  g_test_add_func ("/limits/dns/truncated", test_rrl_truncated);
  return g_test_run ();
}
