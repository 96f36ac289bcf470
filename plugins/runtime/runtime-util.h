/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

gboolean    runtime_rm_rf              (const char  *path,
                                        GError     **error);
char       *runtime_json_to_string     (JsonNode    *node);
JsonObject *runtime_json_object        (JsonNode    *node,
                                        const char  *what,
                                        GError     **error);
const char *runtime_json_get_string    (JsonObject  *object,
                                        const char  *member);
JsonArray  *runtime_json_get_array     (JsonObject  *object,
                                        const char  *member);
JsonObject *runtime_json_get_object    (JsonObject  *object,
                                        const char  *member);
gboolean    runtime_write_file         (const char  *path,
                                        const char  *data,
                                        gssize       len,
                                        GError     **error);
gboolean    runtime_parse_signal       (const char  *text,
                                        int         *signum);
gint        runtime_read_pidfile       (const char  *path);

G_END_DECLS
