/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define BERTH_TYPE_KV_ENTRY (berth_kv_entry_get_type ())
G_DECLARE_FINAL_TYPE (BerthKvEntry, berth_kv_entry, BERTH, KV_ENTRY, GObject)

BerthKvEntry *berth_kv_entry_new               (const char    *key,
                                                GBytes        *value);
BerthKvEntry *berth_kv_entry_new_from_json     (JsonNode      *node,
                                                GError       **error);
JsonNode     *berth_kv_entry_to_json           (BerthKvEntry  *self,
                                                gboolean       with_value);

void          berth_kv_entry_append_json       (BerthKvEntry  *self,
                                                GString       *out,
                                                gboolean       with_value);
void          berth_json_append_string         (GString       *out,
                                                const char    *text);

const char   *berth_kv_entry_get_key           (BerthKvEntry  *self);
GBytes       *berth_kv_entry_get_value         (BerthKvEntry  *self);
void          berth_kv_entry_set_value         (BerthKvEntry  *self,
                                                GBytes        *value);
guint64       berth_kv_entry_get_flags         (BerthKvEntry  *self);
void          berth_kv_entry_set_flags         (BerthKvEntry  *self,
                                                guint64        flags);
guint64       berth_kv_entry_get_create_index  (BerthKvEntry  *self);
guint64       berth_kv_entry_get_modify_index  (BerthKvEntry  *self);
guint64       berth_kv_entry_get_lock_index    (BerthKvEntry  *self);
void          berth_kv_entry_set_indexes       (BerthKvEntry  *self,
                                                guint64        create_index,
                                                guint64        modify_index,
                                                guint64        lock_index);
const char   *berth_kv_entry_get_session       (BerthKvEntry  *self);
void          berth_kv_entry_set_session       (BerthKvEntry  *self,
                                                const char    *session);

G_END_DECLS
