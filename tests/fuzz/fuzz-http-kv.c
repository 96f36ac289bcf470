/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "fuzz-common.h"

/* /v1/kv/<key>?<query>: KV keys and query parameters. The input is
 *   one byte choosing the method (GET, PUT, DELETE),
 *   the key up to the first '\n' (percent-encoded as needed),
 *   the query string up to the next '\n' (only bytes that cannot go on a
 *   request line are encoded; '%' goes as it is, so "%00" and bad escapes
 *   reach berthd),
 *   the rest: the body (for PUT). */

static const char * const methods[] = { "GET", "PUT", "DELETE" };

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_log_install ();
  fuzz_forbid_exec ();
  fuzz_daemon_start ("runtime;scheduler", FALSE);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GString) target = g_string_new ("/v1/kv/");
  const uint8_t *end = data + size;
  const uint8_t *key, *query = NULL, *body = NULL, *nl;
  gsize key_len, query_len = 0;
  const char *method;

  if (size < 1)
    return 0;
  method = methods[data[0] % G_N_ELEMENTS (methods)];
  key = data + 1;
  nl = memchr (key, '\n', (size_t) (end - key));
  key_len = (gsize) ((nl != NULL ? nl : end) - key);
  if (nl != NULL)
    {
      query = nl + 1;
      nl = memchr (query, '\n', (size_t) (end - query));
      query_len = (gsize) ((nl != NULL ? nl : end) - query);
      if (nl != NULL)
        body = nl + 1;
    }

  fuzz_append_escaped (target, key, key_len, "/");
  if (query != NULL)
    {
      g_string_append_c (target, '?');
      fuzz_append_escaped (target, query, query_len, "%&=+;,:@/?!$'()*[]");
    }
  fuzz_http_json (method, target->str, body, body != NULL ? (gsize) (end - body) : 0);
  return 0;
}
