/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

/* The whole HTTP path: the input is sent as it is (request line, headers
 * and body) to berthd's unix socket, with every plugin loaded (the
 * runtime forced to exec, and no program can run: seccomp). libsoup's
 * parser, the early size checks, the router and every handler. */

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_log_install ();
  fuzz_forbid_exec ();
  fuzz_daemon_start ("", FALSE);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GByteArray) request = NULL;

  /* a request head cut short is only answered when the server's header
   * timeout fires (EOF does not end it): end the head, or most runs would
   * wait for that */
  if (g_strstr_len ((const char *) data, (gssize) size, "\r\n\r\n") != NULL)
    {
      fuzz_http_raw (data, size);
      return 0;
    }
  request = g_byte_array_sized_new ((guint) size + 4);
  g_byte_array_append (request, data, (guint) size);
  g_byte_array_append (request, (const guint8 *) "\r\n\r\n", 4);
  fuzz_http_raw (request->data, request->len);
  return 0;
}
