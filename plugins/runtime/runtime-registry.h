/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "runtime-blobs.h"

G_BEGIN_DECLS

#define RUNTIME_MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define RUNTIME_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define RUNTIME_MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define RUNTIME_MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"

/* An image reference, normalized as Docker does: `busybox` is
 * docker.io/library/busybox:latest. */
typedef struct {
  char *registry;    /* host[:port] */
  char *repository;  /* path, e.g. library/busybox */
  char *tag;         /* NULL when only a digest is given */
  char *digest;      /* NULL when not pinned */
} RuntimeImageRef;

RuntimeImageRef *runtime_image_ref_parse    (const char      *text,
                                             GError         **error);
void             runtime_image_ref_free     (RuntimeImageRef *ref);
char            *runtime_image_ref_to_string (const RuntimeImageRef *ref);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RuntimeImageRef, runtime_image_ref_free)

/* A client for one registry, used from one (worker) thread. */
typedef struct _RuntimeRegistry RuntimeRegistry;

typedef void (*RuntimeProgressFunc) (const char *id,
                                     const char *status,
                                     guint64     current,
                                     guint64     total,
                                     gpointer    user_data);

RuntimeRegistry *runtime_registry_new           (const char     *registry,
                                                 gboolean        insecure,
                                                 const char     *username,
                                                 const char     *password);
void             runtime_registry_free          (RuntimeRegistry *self);
GBytes          *runtime_registry_get_manifest  (RuntimeRegistry *self,
                                                 const char      *repository,
                                                 const char      *reference,
                                                 char           **out_media_type,
                                                 char           **out_digest,
                                                 GCancellable    *cancellable,
                                                 GError         **error);
gboolean         runtime_registry_fetch_blob    (RuntimeRegistry *self,
                                                 const char      *repository,
                                                 const char      *digest,
                                                 RuntimeBlobs    *blobs,
                                                 RuntimeProgressFunc progress,
                                                 gpointer         progress_data,
                                                 GCancellable    *cancellable,
                                                 GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RuntimeRegistry, runtime_registry_free)

const char      *runtime_host_arch              (void);

G_END_DECLS
