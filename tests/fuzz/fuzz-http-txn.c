/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

/* PUT /v1/txn: a Consul transaction (KV, node, service and check operations).
 * The input is the request body, sent with Content-Type: application/json
 * through berthd's HTTP front door. */

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
  fuzz_http_json ("PUT", "/v1/txn", data, size);
  return 0;
}
