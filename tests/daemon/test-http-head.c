/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <libsoup/soup.h>

#include "bd-http-head.h"

static const BdHttpLimits limits = {
  .max_url_bytes = 32,
  .max_header_bytes = 256,
  .max_header_count = 3,
};

static BdHttpHeadResult
scan (const char *text, gsize *head_len, guint *status)
{
  g_autofree char *message = NULL;
  BdHttpHeadResult r = bd_http_head_scan ((const guint8 *) text, strlen (text), &limits, head_len,
                                          status, &message);
  if (r == BD_HTTP_HEAD_REFUSED)
    g_assert_nonnull (message);
  return r;
}

static void
test_head_scan (void)
{
  gsize head_len = 0;
  guint status = 0;
  const char *ok = "GET /v1/kv/a HTTP/1.1\r\nHost: x\r\n\r\nbody";
  g_autoptr(GString) big = g_string_new ("GET / HTTP/1.1\r\nX: ");

  g_assert_cmpint (scan ("", &head_len, &status), ==, BD_HTTP_HEAD_INCOMPLETE);
  g_assert_cmpint (scan ("GET /v1/kv/a HTTP/1.1\r\nHost:", &head_len, &status), ==,
                   BD_HTTP_HEAD_INCOMPLETE);
  g_assert_cmpint (scan (ok, &head_len, &status), ==, BD_HTTP_HEAD_COMPLETE);
  g_assert_cmpuint (head_len, ==, strlen (ok) - strlen ("body"));
  /* bare LF line ends are a head too */
  g_assert_cmpint (scan ("GET / HTTP/1.1\nA: b\n\n", &head_len, &status), ==, BD_HTTP_HEAD_COMPLETE);

  /* a long target: 414, even before the line ends */
  g_assert_cmpint (scan ("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &head_len, &status), ==,
                   BD_HTTP_HEAD_REFUSED);
  g_assert_cmpuint (status, ==, SOUP_STATUS_REQUEST_URI_TOO_LONG);
  /* too many fields: 431 */
  g_assert_cmpint (scan ("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n", &head_len, &status), ==,
                   BD_HTTP_HEAD_REFUSED);
  g_assert_cmpuint (status, ==, BD_HTTP_STATUS_HEADER_FIELDS_TOO_LARGE);
  /* too many bytes without an end: 431 */
  while (big->len <= limits.max_header_bytes)
    g_string_append_c (big, 'x');
  g_assert_cmpint (scan (big->str, &head_len, &status), ==, BD_HTTP_HEAD_REFUSED);
  g_assert_cmpuint (status, ==, BD_HTTP_STATUS_HEADER_FIELDS_TOO_LARGE);
}

static void
test_reply (void)
{
  g_autoptr(GBytes) reply = bd_http_reply_new (431, "too \"big\"");
  g_autofree char *text = g_strndup (g_bytes_get_data (reply, NULL), g_bytes_get_size (reply));

  g_assert_true (g_str_has_prefix (text, "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
  g_assert_nonnull (strstr (text, "Connection: close\r\n"));
  g_assert_true (g_str_has_suffix (text, "\r\n\r\n{\"message\":\"too \\\"big\\\"\"}"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/daemon/http-head-scan", test_head_scan);
  g_test_add_func ("/daemon/http-reply", test_reply);
  return g_test_run ();
}
