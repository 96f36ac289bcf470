/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The content-addressed blob store: <root>/sha256/<hex>, every blob
 * checked against its digest while it is written. Thread-safe: it is only
 * files. */
typedef struct _RuntimeBlobs RuntimeBlobs;
typedef struct _RuntimeBlobWriter RuntimeBlobWriter;

gboolean      runtime_digest_is_valid   (const char    *digest);

RuntimeBlobs *runtime_blobs_new         (const char    *root,
                                         GError       **error);
void          runtime_blobs_free        (RuntimeBlobs  *blobs);
char         *runtime_blobs_path        (RuntimeBlobs  *blobs,
                                         const char    *digest);
gboolean      runtime_blobs_has         (RuntimeBlobs  *blobs,
                                         const char    *digest);
gboolean      runtime_blobs_delete      (RuntimeBlobs  *blobs,
                                         const char    *digest);
GBytes       *runtime_blobs_read        (RuntimeBlobs  *blobs,
                                         const char    *digest,
                                         GError       **error);
char         *runtime_blobs_put_bytes   (RuntimeBlobs  *blobs,
                                         const char    *expected,
                                         GBytes        *bytes,
                                         GError       **error);
char         *runtime_blobs_put_file    (RuntimeBlobs  *blobs,
                                         const char    *expected,
                                         const char    *path,
                                         GError       **error);
guint64       runtime_blobs_size        (RuntimeBlobs  *blobs,
                                         const char    *digest);

RuntimeBlobWriter *runtime_blob_writer_open   (RuntimeBlobs       *blobs,
                                               const char         *expected,
                                               goffset            *resume_from,
                                               GError            **error);
gboolean           runtime_blob_writer_write  (RuntimeBlobWriter  *writer,
                                               const void         *data,
                                               gsize               len,
                                               GError            **error);
char              *runtime_blob_writer_commit (RuntimeBlobWriter  *writer,
                                               GError            **error);
void               runtime_blob_writer_free   (RuntimeBlobWriter  *writer);
void               runtime_blob_writer_discard (RuntimeBlobWriter *writer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RuntimeBlobWriter, runtime_blob_writer_free)

G_END_DECLS
