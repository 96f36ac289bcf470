/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "runtime-image.h"
#include "runtime-registry.h"

G_BEGIN_DECLS

/* Shared by the runtime-image*.c files: the image store's state, and what
 * a worker thread (pull, import, export) gets and hands back. */

#define RUNTIME_IMAGES_TOPIC "images"

struct _RuntimeImages {
  BerthContext          *context;
  RuntimeBlobs          *blobs;
  char                  *root;
  char                  *layers_dir;
  char                  *tmp_dir;
  guint                  active_jobs;
  GHashTable            *pulls;     /* normalized ref → the pull that wants it */
  GPtrArray             *pulling;   /* every pull in flight */
  RuntimeImageInUseFunc  in_use;
  gpointer               in_use_data;
};

typedef struct {
  char    *diff_id;
  char    *digest;
  char    *media_type;
  guint64  size;
  guint64  unpacked_size;
} RuntimeLayerResult;

/* An image a worker installed: blobs stored, layers unpacked; the main
 * thread records it (runtime_images_record). */
typedef struct {
  char      *id;
  char      *manifest_digest;
  char      *config_json;
  GPtrArray *layers;   /* RuntimeLayerResult* */
  GPtrArray *tags;     /* char* normalized refs */
} RuntimeImageResult;

typedef void (*RuntimeJobProgressFunc) (const char *id,
                                        const char *status,
                                        guint64     current,
                                        guint64     total,
                                        gpointer    user_data);

/* What a worker thread needs: only immutable data and thread-safe
 * objects. Progress is reported from the worker thread. */
typedef struct {
  RuntimeBlobs           *blobs;    /* the job's own handle: it may outlive the plugin */
  char                   *layers_dir;
  char                   *tmp_dir;
  RuntimeJobProgressFunc  progress;
  gpointer                progress_data;
  /* pull */
  RuntimeImageRef        *ref;
  gboolean                insecure;
  char                   *username;
  char                   *password;
  /* import / export */
  char                   *path;
  char                   *tag;
  char                   *manifest_digest;
  GPtrArray              *export_tags;
} RuntimeImageJob;

RuntimeImageResult *runtime_image_result_new  (void);
void                runtime_image_result_free (RuntimeImageResult *result);
RuntimeImageJob    *runtime_image_job_new     (RuntimeImages      *self);
void                runtime_image_job_free    (RuntimeImageJob    *job);
void                runtime_image_job_progress (RuntimeImageJob   *job,
                                                const char        *id,
                                                const char        *status,
                                                guint64            current,
                                                guint64            total);

/* worker side (runtime-image-install.c) */
RuntimeImageResult *runtime_image_install_manifest (RuntimeImageJob *job,
                                                    RuntimeRegistry *registry,
                                                    const char      *manifest_digest,
                                                    GCancellable    *cancellable,
                                                    GError         **error);

/* main side (runtime-image.c) */
BerthStore         *runtime_images_store          (RuntimeImages      *self);
char               *runtime_images_layer_dir      (const char         *layers_dir,
                                                   const char         *diff_id);
char               *runtime_images_normalize_tag  (const char         *text);
gboolean            runtime_images_record         (RuntimeImages      *self,
                                                   RuntimeImageResult *result,
                                                   GError            **error);
GPtrArray          *runtime_images_tags_of        (RuntimeImages      *self,
                                                   const char         *id,
                                                   GError            **error);
char               *runtime_images_manifest_digest_of (RuntimeImages  *self,
                                                       const char     *id,
                                                       GError        **error);
void                runtime_images_pulls_free     (RuntimeImages      *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RuntimeImageResult, runtime_image_result_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RuntimeImageJob, runtime_image_job_free)

G_END_DECLS
