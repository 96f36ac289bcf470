/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

/* POST /v2/apps: a Marathon app definition (scheduler + discovery loaded, no runtime).
 * The input is the request body, sent with Content-Type: application/json
 * through berthd's HTTP front door. */

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_log_install ();
  fuzz_forbid_exec ();
  fuzz_daemon_start ("runtime", FALSE);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_http_json ("POST", "/v2/apps", data, size);
  return 0;
}
