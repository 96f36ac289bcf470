/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

JsonNode   *discovery_json_member     (JsonObject  *object,
                                       const char  *name);
const char *discovery_json_string     (JsonObject  *object,
                                       const char  *name,
                                       GError     **error);
gboolean    discovery_json_uint64     (JsonObject  *object,
                                       const char  *name,
                                       guint64     *out,
                                       GError     **error);

GBytes     *discovery_base64_decode   (const char  *text,
                                       GError     **error);

JsonObject *discovery_json_object     (JsonObject  *object,
                                       const char  *name);
const char *discovery_json_text       (JsonObject  *object,
                                       const char  *name,
                                       const char  *fallback);
gint64      discovery_json_int        (JsonObject  *object,
                                       const char  *name,
                                       gint64       min,
                                       gint64       max,
                                       gint64       fallback);

G_END_DECLS
