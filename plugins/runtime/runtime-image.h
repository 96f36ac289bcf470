/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "runtime-blobs.h"
#include "runtime-stream.h"

G_BEGIN_DECLS

/* The image store: records in the store (images, tags, layers), blobs in
 * the blob store, one unpacked directory per layer (by diff-ID) shared by
 * every image that uses it. */
typedef struct _RuntimeImages RuntimeImages;

typedef struct {
  char      *id;            /* config digest */
  char      *config_json;
  GPtrArray *layer_dirs;    /* char*, bottom layer first */
} RuntimeImageInfo;

RuntimeImages *runtime_images_new        (BerthContext   *context,
                                          const char     *root,
                                          GError        **error);
void           runtime_images_free       (RuntimeImages  *self);
RuntimeBlobs  *runtime_images_get_blobs  (RuntimeImages  *self);

char          *runtime_images_resolve    (RuntimeImages  *self,
                                          const char     *ref,
                                          GError        **error);
RuntimeImageInfo *runtime_images_get_info (RuntimeImages *self,
                                           const char    *id,
                                           GError       **error);
void           runtime_image_info_free   (RuntimeImageInfo *info);
JsonNode      *runtime_images_list_json  (RuntimeImages  *self,
                                          GError        **error);
JsonNode      *runtime_images_inspect_json (RuntimeImages *self,
                                            const char    *id,
                                            GError       **error);
JsonNode      *runtime_images_disk_usage_json (RuntimeImages *self,
                                               GError       **error);
JsonNode      *runtime_images_remove     (RuntimeImages  *self,
                                          const char     *ref,
                                          gboolean        force,
                                          GError        **error);
JsonNode      *runtime_images_prune      (RuntimeImages  *self,
                                          gboolean        all,
                                          GError        **error);

/* Pulls @ref; progress lines go to @stream (may be NULL). */
void           runtime_images_pull_async (RuntimeImages      *self,
                                          const char         *ref,
                                          RuntimeStream      *stream,
                                          GCancellable       *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data);
char          *runtime_images_pull_finish (RuntimeImages     *self,
                                           GAsyncResult      *result,
                                           GError           **error);
/* Imports an OCI layout directory or a tar (OCI layout or `docker save`). */
void           runtime_images_import_async (RuntimeImages      *self,
                                            const char         *path,
                                            const char         *tag,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
JsonNode      *runtime_images_import_finish (RuntimeImages     *self,
                                             GAsyncResult      *result,
                                             GError           **error);
/* Writes an image as a tar (OCI layout + docker `manifest.json`) to @path. */
void           runtime_images_export_async (RuntimeImages      *self,
                                            const char         *ref,
                                            const char         *path,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
gboolean       runtime_images_export_finish (RuntimeImages     *self,
                                             GAsyncResult      *result,
                                             GError           **error);

typedef gboolean (*RuntimeImageInUseFunc) (const char *image_id, gpointer user_data);
void           runtime_images_set_in_use_func (RuntimeImages        *self,
                                               RuntimeImageInUseFunc func,
                                               gpointer              user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RuntimeImageInfo, runtime_image_info_free)

G_END_DECLS
