/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <berth.h>

G_BEGIN_DECLS

/* What every harness shares: a quiet log that aborts on criticals, a
 * process that can never run a program (seccomp), and for the HTTP
 * harnesses a real berthd — store, node, the plugins built beside us,
 * BdHttp's dispatch — set up once per process and driven over its unix
 * socket, one connection per input. */

int  LLVMFuzzerInitialize   (int *argc, char ***argv);
int  LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Log: warnings and below dropped (BERTH_FUZZ_VERBOSE=1 shows them),
 * criticals and errors abort (a failed g_return_if_fail is a bug). */
void fuzz_log_install (void);

/* No execve() in this process or its children from now on (seccomp), so
 * that no input can make berthd run a command. BERTH_FUZZ_ALLOW_EXEC=1
 * skips it (e.g. to get a symbolized stack from llvm-symbolizer). */
void fuzz_forbid_exec (void);

/* A fresh directory under $TMPDIR, removed at exit. */
char *fuzz_make_temp_dir (const char *what);
/* rm -r, without following symlinks. */
void  fuzz_remove_tree (const char *path);

/* Starts the daemon: @plugins_disabled is a ';'-separated list of plugins
 * not to load ("runtime;scheduler"); @dns: whether discovery serves DNS
 * (on 127.0.0.1, any port: fuzz_daemon_dns_port()). */
void          fuzz_daemon_start   (const char *plugins_disabled,
                                   gboolean    dns);
BerthContext *fuzz_daemon_context (void);
guint16       fuzz_daemon_dns_port (void);

/* Sends @len bytes as they are on a new connection to berthd's unix socket,
 * runs the main loop until the first response is complete, the server
 * closes, or a deadline passes (BERTH_FUZZ_HTTP_MS, default 500), then
 * closes. Returns the response status, or 0 for none. */
guint fuzz_http_raw (const guint8 *request,
                     gsize         len);

/* One well-formed request with a JSON body (Content-Type, Content-Length,
 * Host, Connection: close); @target is the path and query as they go on
 * the request line. */
guint fuzz_http_json (const char   *method,
                      const char   *target,
                      const guint8 *body,
                      gsize         body_len);

/* Appends @len bytes to @out with every byte outside @keep (and every
 * control, space and non-ASCII byte) percent-encoded. */
void fuzz_append_escaped (GString    *out,
                          const guint8 *data,
                          gsize       len,
                          const char *keep);

/* Runs what is ready on the main context (at most @max dispatches). */
void fuzz_main_context_drain (guint max);

G_END_DECLS
