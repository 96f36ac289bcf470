/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define BERTH_TYPE_NODE (berth_node_get_type ())
G_DECLARE_FINAL_TYPE (BerthNode, berth_node, BERTH, NODE, GObject)

BerthNode  *berth_node_new              (const char  *id,
                                         const char  *name,
                                         const char  *datacenter,
                                         const char  *address);
BerthNode  *berth_node_new_from_json    (JsonNode    *node,
                                         GError     **error);
JsonNode   *berth_node_to_json          (BerthNode   *self);

const char *berth_node_get_id           (BerthNode   *self);
const char *berth_node_get_name         (BerthNode   *self);
const char *berth_node_get_datacenter   (BerthNode   *self);
const char *berth_node_get_address      (BerthNode   *self);
gdouble     berth_node_get_cpus         (BerthNode   *self);
guint64     berth_node_get_memory_bytes (BerthNode   *self);
guint64     berth_node_get_disk_bytes   (BerthNode   *self);
void        berth_node_set_resources    (BerthNode   *self,
                                         gdouble      cpus,
                                         guint64      memory_bytes,
                                         guint64      disk_bytes);
const char *berth_node_get_meta         (BerthNode   *self,
                                         const char  *key);
void        berth_node_set_meta         (BerthNode   *self,
                                         const char  *key,
                                         const char  *value);
GHashTable *berth_node_get_meta_table   (BerthNode   *self);

G_END_DECLS
