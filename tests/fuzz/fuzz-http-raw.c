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
  fuzz_http_raw (data, size);
  return 0;
}
