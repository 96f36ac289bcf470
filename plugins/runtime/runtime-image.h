/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "runtime-blobs.h"

G_BEGIN_DECLS

/* The image store: records in the store (images, tags, layers), blobs in
 * the blob store, one unpacked directory per layer (by diff-ID) shared by
 * every image that uses it.
 *
 * runtime-image.c        setup, the records, resolving a reference
 * runtime-image-query.c  list, inspect (BerthImage), disk usage
 * runtime-image-install.c  worker side: fetch and unpack what a manifest names
 * runtime-image-pull.c   pulls from a registry, shared by their waiters
 * runtime-image-import.c imports a tar (OCI layout or `docker save`)
 * runtime-image-export.c exports an image as a tar
 * runtime-image-remove.c removal, prune, garbage collection */
typedef struct _RuntimeImages RuntimeImages;

typedef struct {
  char      *id;            /* config digest */
  char      *config_json;
  GPtrArray *layer_dirs;    /* char*, bottom layer first */
} RuntimeImageInfo;

typedef struct {
  gint64 images;
  gint64 layers;
  gint64 layers_size;       /* on disk: each layer once */
  gint64 images_size;       /* the sum of the images' sizes */
} RuntimeImagesUsage;

/* What a removal or a prune did. */
typedef struct {
  GPtrArray *untagged;      /* char* refs */
  GPtrArray *deleted;       /* char* image ids */
  GPtrArray *layers_deleted; /* char* diff-IDs */
  gint64     reclaimed;     /* bytes */
} RuntimeImagesRemoval;

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

/* BerthImage* in the order they were recorded */
GPtrArray     *runtime_images_list       (RuntimeImages  *self,
                                          GError        **error);
/* @ref: a reference, an id or an id prefix; the image has its config */
BerthImage    *runtime_images_inspect    (RuntimeImages  *self,
                                          const char     *ref,
                                          GError        **error);
gboolean       runtime_images_get_usage  (RuntimeImages      *self,
                                          RuntimeImagesUsage *out,
                                          GError            **error);

RuntimeImagesRemoval *runtime_images_remove (RuntimeImages *self,
                                             const char    *ref,
                                             gboolean       force,
                                             GError       **error);
RuntimeImagesRemoval *runtime_images_prune  (RuntimeImages *self,
                                             gboolean       all,
                                             GError       **error);
void           runtime_images_removal_free (RuntimeImagesRemoval *removal);

/* Pulls @ref from its registry, reporting per-layer steps into @progress
 * (from the main context). Pulls of the same reference at once share one
 * download; cancelling @cancellable drops this caller, and the download
 * stops when no caller is left. Finishes with the image's id. */
void           runtime_images_pull_async  (RuntimeImages      *self,
                                           const char         *ref,
                                           BerthProgress      *progress,
                                           GCancellable       *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer            user_data);
char          *runtime_images_pull_finish (RuntimeImages      *self,
                                           GAsyncResult       *result,
                                           GError            **error);

/* Imports @archive, a tar holding an OCI image layout or a `docker save`
 * archive, tagging its images @tag when given. Finishes with the
 * BerthImage* (id and tags) it recorded. */
void           runtime_images_import_async  (RuntimeImages      *self,
                                             GBytes             *archive,
                                             const char         *tag,
                                             GCancellable       *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer            user_data);
GPtrArray     *runtime_images_import_finish (RuntimeImages      *self,
                                             GAsyncResult       *result,
                                             GError            **error);

/* Exports the image @ref as a tar (OCI image layout and docker's
 * `manifest.json`). Finishes with its bytes; the temporary file under the
 * runtime's state that holds them is already unlinked. */
void           runtime_images_export_async  (RuntimeImages      *self,
                                             const char         *ref,
                                             GCancellable       *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer            user_data);
GBytes        *runtime_images_export_finish (RuntimeImages      *self,
                                             GAsyncResult       *result,
                                             GError            **error);

typedef gboolean (*RuntimeImageInUseFunc) (const char *image_id, gpointer user_data);
void           runtime_images_set_in_use_func (RuntimeImages        *self,
                                               RuntimeImageInUseFunc func,
                                               gpointer              user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RuntimeImageInfo, runtime_image_info_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RuntimeImagesRemoval, runtime_images_removal_free)

G_END_DECLS
