/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define BERTH_TYPE_IMAGE (berth_image_get_type ())
G_DECLARE_FINAL_TYPE (BerthImage, berth_image, BERTH, IMAGE, GObject)

BerthImage         *berth_image_new                 (const char  *id);
BerthImage         *berth_image_new_from_json       (JsonNode    *node,
                                                     GError     **error);
JsonNode           *berth_image_to_json             (BerthImage  *self,
                                                     gboolean     with_config);

const char         *berth_image_get_id              (BerthImage  *self);
const char * const *berth_image_get_repo_tags       (BerthImage  *self);
void                berth_image_add_repo_tag        (BerthImage  *self,
                                                     const char  *tag);
const char         *berth_image_get_manifest_digest (BerthImage  *self);
void                berth_image_set_manifest_digest (BerthImage  *self,
                                                     const char  *digest);
gint64              berth_image_get_created         (BerthImage  *self);
void                berth_image_set_created         (BerthImage  *self,
                                                     gint64       created);
guint64             berth_image_get_size            (BerthImage  *self);
void                berth_image_set_size            (BerthImage  *self,
                                                     guint64      size);
guint64             berth_image_get_compressed_size (BerthImage  *self);
void                berth_image_set_compressed_size (BerthImage  *self,
                                                     guint64      size);
const char * const *berth_image_get_layers          (BerthImage  *self);
void                berth_image_add_layer           (BerthImage  *self,
                                                     const char  *diff_id);

JsonObject         *berth_image_get_config          (BerthImage  *self);
void                berth_image_set_config          (BerthImage  *self,
                                                     JsonObject  *config);
const char * const *berth_image_get_entrypoint      (BerthImage  *self);
const char * const *berth_image_get_cmd             (BerthImage  *self);
const char * const *berth_image_get_env             (BerthImage  *self);
const char         *berth_image_get_working_dir     (BerthImage  *self);
const char         *berth_image_get_user            (BerthImage  *self);
const char         *berth_image_get_stop_signal     (BerthImage  *self);
const char * const *berth_image_get_exposed_ports   (BerthImage  *self);
GHashTable         *berth_image_get_labels          (BerthImage  *self);

G_END_DECLS
