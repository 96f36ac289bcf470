/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * BERTH_JSON_MAX_DEPTH:
 *
 * The deepest nesting of arrays and objects berth_json_parse() accepts.
 * json-glib parses recursively, so a deeper document could exhaust the
 * stack; no document Berth reads comes anywhere near it.
 */
#define BERTH_JSON_MAX_DEPTH 512

JsonNode *berth_json_parse             (const char  *data,
                                        gssize       length,
                                        GError     **error) G_GNUC_WARN_UNUSED_RESULT;
JsonNode *berth_json_parse_bytes       (GBytes      *bytes,
                                        GError     **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean  berth_json_check             (const char  *data,
                                        gsize        length,
                                        guint        max_depth,
                                        GError     **error);
char     *berth_utf8_make_safe         (const char  *text,
                                        gssize       length) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
