/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* Typed reads of untrusted JSON (request bodies, stored rows): a member
 * of the wrong type or out of range adds one Marathon 422 detail
 * ({"path","errors"}) and yields the fallback; nothing here asserts or
 * logs, whatever the input. @prefix is the path of the enclosing object
 * ("" for the top), the member's path is "<prefix>/<name>". */

void        scheduler_detail_add        (JsonArray   *details,
                                         const char  *path,
                                         const char  *message);
void        scheduler_detail_addf       (JsonArray   *details,
                                         const char  *path,
                                         const char  *format,
                                         ...) G_GNUC_PRINTF (3, 4);

gboolean    scheduler_json_is_null      (JsonNode    *n);
gboolean    scheduler_json_is_number    (JsonNode    *n);
gboolean    scheduler_json_is_string    (JsonNode    *n);
gboolean    scheduler_json_is_boolean   (JsonNode    *n);
gdouble     scheduler_json_number       (JsonNode    *n);

gdouble     scheduler_check_number_node (JsonNode    *n,
                                         const char  *path,
                                         gdouble      fallback,
                                         gdouble      min,
                                         gdouble      max,
                                         gboolean     integer,
                                         JsonArray   *details);
const char *scheduler_check_string_node (JsonNode    *n,
                                         const char  *path,
                                         const char  *fallback,
                                         gsize        max_bytes,
                                         JsonArray   *details);

gdouble     scheduler_check_number      (JsonObject  *obj,
                                         const char  *prefix,
                                         const char  *name,
                                         gdouble      fallback,
                                         gdouble      min,
                                         gdouble      max,
                                         gboolean     integer,
                                         JsonArray   *details);
const char *scheduler_check_string      (JsonObject  *obj,
                                         const char  *prefix,
                                         const char  *name,
                                         const char  *fallback,
                                         gsize        max_bytes,
                                         JsonArray   *details);
gboolean    scheduler_check_boolean     (JsonObject  *obj,
                                         const char  *prefix,
                                         const char  *name,
                                         gboolean     fallback,
                                         JsonArray   *details);
JsonObject *scheduler_check_object      (JsonObject  *obj,
                                         const char  *prefix,
                                         const char  *name,
                                         JsonArray   *details);
JsonArray  *scheduler_check_array       (JsonObject  *obj,
                                         const char  *prefix,
                                         const char  *name,
                                         guint        max_length,
                                         JsonArray   *details);

G_END_DECLS
