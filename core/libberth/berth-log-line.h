/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * BerthLogStream:
 * @BERTH_LOG_STREAM_STDOUT: standard output
 * @BERTH_LOG_STREAM_STDERR: standard error
 *
 * Which output a line came from.
 */
typedef enum {
  BERTH_LOG_STREAM_STDOUT,
  BERTH_LOG_STREAM_STDERR,
} BerthLogStream;

#define BERTH_TYPE_LOG_LINE (berth_log_line_get_type ())
G_DECLARE_FINAL_TYPE (BerthLogLine, berth_log_line, BERTH, LOG_LINE, GObject)

BerthLogLine   *berth_log_line_new              (gint64          timestamp_us,
                                                 BerthLogStream  stream,
                                                 const char     *text,
                                                 gboolean        partial);
void            berth_log_line_set_source       (BerthLogLine   *self,
                                                 const char     *container_id,
                                                 const char     *task_id,
                                                 const char     *app_id,
                                                 guint64         offset);
gint64          berth_log_line_get_timestamp    (BerthLogLine   *self);
BerthLogStream  berth_log_line_get_stream       (BerthLogLine   *self);
const char     *berth_log_line_get_text         (BerthLogLine   *self);
gboolean        berth_log_line_get_partial      (BerthLogLine   *self);
const char     *berth_log_line_get_container_id (BerthLogLine   *self);
const char     *berth_log_line_get_task_id      (BerthLogLine   *self);
const char     *berth_log_line_get_app_id       (BerthLogLine   *self);
guint64         berth_log_line_get_offset       (BerthLogLine   *self);
JsonNode       *berth_log_line_to_json          (BerthLogLine   *self);

G_END_DECLS
