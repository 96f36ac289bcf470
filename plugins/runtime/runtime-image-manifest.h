/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Pure logic over image manifests and indexes, with no store, registry or
 * file behind it (unit-tested in tests/plugins/runtime/test-runtime-image.c). */

typedef struct {
  char    *digest;
  char    *media_type;
  guint64  size;
} RuntimeDescriptor;

typedef struct {
  char      *config_digest;
  GPtrArray *layers;   /* RuntimeDescriptor*, bottom layer first */
} RuntimeManifest;

void             runtime_descriptor_free        (RuntimeDescriptor *desc);
void             runtime_manifest_free          (RuntimeManifest   *manifest);

gboolean         runtime_manifest_is_index      (const char        *media_type,
                                                 JsonObject        *object);
char            *runtime_manifest_pick_platform (JsonObject        *index,
                                                 const char        *os,
                                                 const char        *arch,
                                                 GError           **error);
RuntimeManifest *runtime_manifest_parse         (JsonObject        *object,
                                                 const char        *digest,
                                                 GError           **error);
GPtrArray       *runtime_config_diff_ids        (JsonObject        *config,
                                                 guint              n_layers,
                                                 GError           **error);
char            *runtime_archive_member_path    (const char        *dir,
                                                 const char        *member,
                                                 GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RuntimeManifest, runtime_manifest_free)

G_END_DECLS
