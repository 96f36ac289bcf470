/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * BerthHealth:
 * @BERTH_HEALTH_PASSING: the check passes (`passing`)
 * @BERTH_HEALTH_WARNING: the check passes with a warning (`warning`)
 * @BERTH_HEALTH_CRITICAL: the check fails (`critical`)
 *
 * The result of a health check, with Consul's names on the wire.
 *
 * Since: 0.1
 */
typedef enum {
  BERTH_HEALTH_PASSING,
  BERTH_HEALTH_WARNING,
  BERTH_HEALTH_CRITICAL,
} BerthHealth;

/**
 * BerthProbeKind:
 * @BERTH_PROBE_HTTP: an HTTP(S) request
 * @BERTH_PROBE_TCP: a TCP connection
 * @BERTH_PROBE_COMMAND: a command run on this host
 *
 * What a #BerthProbe does.
 *
 * Since: 0.1
 */
typedef enum {
  BERTH_PROBE_HTTP,
  BERTH_PROBE_TCP,
  BERTH_PROBE_COMMAND,
} BerthProbeKind;

/**
 * BERTH_PROBE_DEFAULT_TIMEOUT:
 *
 * How long a probe may take, in milliseconds, unless told otherwise.
 *
 * Since: 0.1
 */
#define BERTH_PROBE_DEFAULT_TIMEOUT 10000

/**
 * BERTH_PROBE_DEFAULT_MAX_OUTPUT:
 *
 * How many bytes of a body or of a command's output a probe keeps, unless
 * told otherwise (Consul's default).
 *
 * Since: 0.1
 */
#define BERTH_PROBE_DEFAULT_MAX_OUTPUT 4096

const char   *berth_health_to_string       (BerthHealth  health);
gboolean      berth_health_from_string     (const char  *text,
                                            BerthHealth *health);

#define BERTH_TYPE_PROBE (berth_probe_get_type ())
G_DECLARE_FINAL_TYPE (BerthProbe, berth_probe, BERTH, PROBE, GObject)

BerthProbe    *berth_probe_new_http          (const char          *method,
                                              const char          *url);
BerthProbe    *berth_probe_new_tcp           (const char          *address,
                                              guint16              default_port);
BerthProbe    *berth_probe_new_command       (const char * const  *argv);
BerthProbe    *berth_probe_new_shell         (const char          *command);

BerthProbeKind berth_probe_get_kind          (BerthProbe          *self);
void           berth_probe_add_header        (BerthProbe          *self,
                                              const char          *name,
                                              const char          *value);
void           berth_probe_set_body          (BerthProbe          *self,
                                              GBytes              *body);
void           berth_probe_set_tls_skip_verify (BerthProbe        *self,
                                              gboolean             skip_verify);
void           berth_probe_setenv            (BerthProbe          *self,
                                              const char          *name,
                                              const char          *value);
void           berth_probe_set_timeout       (BerthProbe          *self,
                                              guint                timeout_ms);
guint          berth_probe_get_timeout       (BerthProbe          *self);
void           berth_probe_set_max_output    (BerthProbe          *self,
                                              gsize                max_output);

void           berth_probe_run_async         (BerthProbe          *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
BerthHealth    berth_probe_run_finish        (BerthProbe          *self,
                                              GAsyncResult        *result,
                                              char               **output,
                                              GError             **error);
guint          berth_probe_get_http_status   (BerthProbe          *self);

G_END_DECLS
