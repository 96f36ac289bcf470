/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <berth.h>

#include "runtime-blobs.h"

/* Blobs live in <root>/sha256/<hex>. A blob being written lives in
 * <root>/incoming/<hex>.partial until its digest checks out, then it is
 * renamed into place; a partial file left by an interrupted pull is
 * resumed (its bytes are hashed again, and the download goes on from its
 * end). Blobs written without an expected digest go to a unique
 * temporary name. */

struct _RuntimeBlobs {
  char *root;
};

/* Digests being written right now, by any thread: a second writer of the
 * same blob waits for the first (two pulls sharing a layer must not append
 * to the same partial file). */
static GMutex writing_lock;
static GCond writing_cond;
static GHashTable *writing;

static void
claim_digest (const char *digest)
{
  g_mutex_lock (&writing_lock);
  for (;;)
    {
      /* (the table goes away whenever it empties) */
      if (writing == NULL)
        writing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      if (!g_hash_table_contains (writing, digest))
        break;
      g_cond_wait (&writing_cond, &writing_lock);
    }
  g_hash_table_add (writing, g_strdup (digest));
  g_mutex_unlock (&writing_lock);
}

static void
release_digest (const char *digest)
{
  g_mutex_lock (&writing_lock);
  g_hash_table_remove (writing, digest);
  if (g_hash_table_size (writing) == 0)
    g_clear_pointer (&writing, g_hash_table_unref);
  g_cond_broadcast (&writing_cond);
  g_mutex_unlock (&writing_lock);
}

struct _RuntimeBlobWriter {
  RuntimeBlobs *blobs;
  char         *expected;
  gboolean      claimed;
  char         *tmp_path;
  int           fd;
  GChecksum    *sum;
  gboolean      keep_partial;
};

gboolean
runtime_digest_is_valid (const char *digest)
{
  if (digest == NULL || !g_str_has_prefix (digest, "sha256:") || strlen (digest) != 7 + 64)
    return FALSE;
  for (const char *p = digest + 7; *p; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

RuntimeBlobs *
runtime_blobs_new (const char *root, GError **error)
{
  RuntimeBlobs *blobs;
  g_autofree char *sha = g_build_filename (root, "sha256", NULL);
  g_autofree char *incoming = g_build_filename (root, "incoming", NULL);

  if (g_mkdir_with_parents (sha, 0700) < 0 || g_mkdir_with_parents (incoming, 0700) < 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   _("Cannot create the blob store in %s: %s"), root, g_strerror (err));
      return NULL;
    }
  blobs = g_new0 (RuntimeBlobs, 1);
  blobs->root = g_strdup (root);
  return blobs;
}

void
runtime_blobs_free (RuntimeBlobs *blobs)
{
  if (blobs == NULL)
    return;
  g_free (blobs->root);
  g_free (blobs);
}

char *
runtime_blobs_path (RuntimeBlobs *blobs, const char *digest)
{
  g_return_val_if_fail (runtime_digest_is_valid (digest), NULL);
  return g_build_filename (blobs->root, "sha256", digest + 7, NULL);
}

gboolean
runtime_blobs_has (RuntimeBlobs *blobs, const char *digest)
{
  g_autofree char *path = NULL;

  if (!runtime_digest_is_valid (digest))
    return FALSE;
  path = runtime_blobs_path (blobs, digest);
  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

guint64
runtime_blobs_size (RuntimeBlobs *blobs, const char *digest)
{
  g_autofree char *path = NULL;
  GStatBuf st;

  if (!runtime_digest_is_valid (digest))
    return 0;
  path = runtime_blobs_path (blobs, digest);
  if (g_stat (path, &st) < 0)
    return 0;
  return (guint64) st.st_size;
}

gboolean
runtime_blobs_delete (RuntimeBlobs *blobs, const char *digest)
{
  g_autofree char *path = NULL;

  if (!runtime_digest_is_valid (digest))
    return FALSE;
  path = runtime_blobs_path (blobs, digest);
  return g_unlink (path) == 0;
}

GBytes *
runtime_blobs_read (RuntimeBlobs *blobs, const char *digest, GError **error)
{
  g_autofree char *path = NULL;
  char *data = NULL;
  gsize len = 0;

  if (!runtime_digest_is_valid (digest))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("Invalid digest “%s”"), digest);
      return NULL;
    }
  path = runtime_blobs_path (blobs, digest);
  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  return g_bytes_new_take (data, len);
}

static void
set_errno_error (GError **error, int err, const char *what, const char *path)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "%s %s: %s", what, path,
               g_strerror (err));
}

RuntimeBlobWriter *
runtime_blob_writer_open (RuntimeBlobs *blobs, const char *expected, goffset *resume_from,
                          GError **error)
{
  g_autoptr(RuntimeBlobWriter) w = g_new0 (RuntimeBlobWriter, 1);
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC;

  w->blobs = blobs;
  w->fd = -1;
  w->sum = g_checksum_new (G_CHECKSUM_SHA256);
  if (expected != NULL)
    {
      if (!runtime_digest_is_valid (expected))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("Invalid digest “%s”"), expected);
          return NULL;
        }
      w->expected = g_strdup (expected);
      claim_digest (expected);
      w->claimed = TRUE;
      if (runtime_blobs_has (blobs, expected))
        {
          /* written by whoever held it: nothing to do */
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, _("Blob %s exists"), expected);
          return NULL;
        }
      w->tmp_path = g_strdup_printf ("%s/incoming/%s.partial", blobs->root, expected + 7);
      w->keep_partial = resume_from != NULL;
    }
  else
    {
      g_autofree char *uuid = g_uuid_string_random ();
      w->tmp_path = g_strdup_printf ("%s/incoming/%s.tmp", blobs->root, uuid);
    }

  if (resume_from != NULL && expected != NULL)
    {
      /* hash what an earlier attempt left, and go on from there */
      int rfd = open (w->tmp_path, O_RDONLY | O_CLOEXEC);
      goffset done = 0;

      if (rfd >= 0)
        {
          char buf[65536];
          ssize_t n;
          while ((n = read (rfd, buf, sizeof buf)) > 0)
            {
              g_checksum_update (w->sum, (const guchar *) buf, (gssize) n);
              done += n;
            }
          close (rfd);
          if (n < 0)
            {
              /* unreadable: start over */
              g_checksum_reset (w->sum);
              done = 0;
              flags |= O_TRUNC;
            }
        }
      *resume_from = done;
      flags |= O_APPEND;
    }
  else
    flags |= O_TRUNC;

  w->fd = open (w->tmp_path, flags, 0600);
  if (w->fd < 0)
    {
      set_errno_error (error, errno, _("Cannot create"), w->tmp_path);
      return NULL;
    }
  return g_steal_pointer (&w);
}

gboolean
runtime_blob_writer_write (RuntimeBlobWriter *w, const void *data, gsize len, GError **error)
{
  const char *p = data;

  g_checksum_update (w->sum, data, (gssize) len);
  while (len > 0)
    {
      ssize_t n = write (w->fd, p, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          set_errno_error (error, errno, _("Cannot write"), w->tmp_path);
          return FALSE;
        }
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Returns the digest of what was written, once it is in place. A digest
 * that differs from the expected one is an error and the bytes are
 * dropped. */
char *
runtime_blob_writer_commit (RuntimeBlobWriter *w, GError **error)
{
  g_autofree char *digest = g_strconcat ("sha256:", g_checksum_get_string (w->sum), NULL);
  g_autofree char *final = NULL;

  if (w->expected != NULL && strcmp (digest, w->expected) != 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                   _("Digest mismatch: expected %s, got %s"), w->expected, digest);
      w->keep_partial = FALSE;
      return NULL;
    }
  if (fsync (w->fd) < 0)
    {
      set_errno_error (error, errno, _("Cannot sync"), w->tmp_path);
      return NULL;
    }
  close (w->fd);
  w->fd = -1;
  final = runtime_blobs_path (w->blobs, digest);
  if (g_rename (w->tmp_path, final) < 0)
    {
      set_errno_error (error, errno, _("Cannot rename"), w->tmp_path);
      return NULL;
    }
  g_clear_pointer (&w->tmp_path, g_free);
  return g_steal_pointer (&digest);
}

/* Drops the partial bytes, even those that could have been resumed. */
void
runtime_blob_writer_discard (RuntimeBlobWriter *w)
{
  w->keep_partial = FALSE;
}

void
runtime_blob_writer_free (RuntimeBlobWriter *w)
{
  if (w == NULL)
    return;
  if (w->fd >= 0)
    close (w->fd);
  if (w->tmp_path != NULL && !w->keep_partial)
    g_unlink (w->tmp_path);
  g_free (w->tmp_path);
  if (w->claimed)
    release_digest (w->expected);
  g_free (w->expected);
  g_checksum_free (w->sum);
  g_free (w);
}

char *
runtime_blobs_put_bytes (RuntimeBlobs *blobs, const char *expected, GBytes *bytes, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(RuntimeBlobWriter) w = runtime_blob_writer_open (blobs, expected, NULL, &local_error);
  gsize len;
  const void *data;

  if (w == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        return g_strdup (expected);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  data = g_bytes_get_data (bytes, &len);
  if (!runtime_blob_writer_write (w, data, len, error))
    return NULL;
  return runtime_blob_writer_commit (w, error);
}

char *
runtime_blobs_put_file (RuntimeBlobs *blobs, const char *expected, const char *path, GError **error)
{
  g_autoptr(RuntimeBlobWriter) w = NULL;
  char buf[65536];
  ssize_t n;
  int fd;

  if (expected != NULL && runtime_blobs_has (blobs, expected))
    return g_strdup (expected);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      set_errno_error (error, errno, _("Cannot open"), path);
      return NULL;
    }
  {
    g_autoptr(GError) local_error = NULL;
    w = runtime_blob_writer_open (blobs, expected, NULL, &local_error);
    if (w == NULL)
      {
        close (fd);
        if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
          return g_strdup (expected);
        g_propagate_error (error, g_steal_pointer (&local_error));
        return NULL;
      }
  }
  while ((n = read (fd, buf, sizeof buf)) > 0)
    if (!runtime_blob_writer_write (w, buf, (gsize) n, error))
      {
        close (fd);
        return NULL;
      }
  close (fd);
  if (n < 0)
    {
      set_errno_error (error, errno, _("Cannot read"), path);
      return NULL;
    }
  return runtime_blob_writer_commit (w, error);
}
