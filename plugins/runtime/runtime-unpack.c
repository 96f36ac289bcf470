/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <berth.h>

#include "runtime-unpack.h"

/* Safe unpacking of one layer tarball into an empty directory.
 *
 * Every entry is created with *at() calls relative to a directory opened
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so no path and no
 * symlink met on the way can lead outside the layer directory: such an
 * entry is an error, and nothing is written outside. Names with `..`
 * components or absolute names are refused before anything else, for both
 * the entry and a hardlink's target.
 *
 * OCI whiteouts become overlayfs whiteouts: `.wh.NAME` a 0:0 character
 * device NAME, `.wh..wh..opq` the `trusted.overlay.opaque` xattr on its
 * directory. Ownership, modes, xattrs and mtimes are kept; device nodes
 * that cannot be made are skipped with a warning. */

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

static int
openat2_beneath (int dirfd, const char *name, int flags)
{
  struct open_how how = { 0 };

  how.flags = (guint64) (flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return (int) syscall (SYS_openat2, dirfd, name, &how, sizeof how);
}

static gboolean
set_errno (GError **error, int err, const char *what, const char *name)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "%s “%s”: %s", what, name,
               g_strerror (err));
  return FALSE;
}

/* Splits a tar member name into clean components; refuses `..` and
 * absolute names. Returns an empty array for the layer root itself. */
static GPtrArray *
split_name (const char *name, GError **error)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) comps = NULL;

  if (name == NULL)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                           _("Layer entry without a name"));
      return NULL;
    }
  if (name[0] == '/')
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                   _("Layer entry “%s” has an absolute path"), name);
      return NULL;
    }
  comps = g_strsplit (name, "/", -1);
  for (guint i = 0; comps[i] != NULL; i++)
    {
      if (comps[i][0] == '\0' || strcmp (comps[i], ".") == 0)
        continue;
      if (strcmp (comps[i], "..") == 0)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                       _("Layer entry “%s” escapes the layer with “..”"), name);
          return NULL;
        }
      g_ptr_array_add (parts, g_strdup (comps[i]));
    }
  return g_steal_pointer (&parts);
}

/* Opens the directory that holds the last component of @parts, creating
 * missing directories on the way (when @create). */
static int
open_parent (int rootfd, GPtrArray *parts, gboolean create, const char *name, GError **error)
{
  int fd = dup (rootfd);

  if (fd < 0)
    {
      set_errno (error, errno, _("Cannot open"), name);
      return -1;
    }
  for (guint i = 0; i + 1 < parts->len; i++)
    {
      const char *comp = g_ptr_array_index (parts, i);
      int next = openat2_beneath (fd, comp, O_RDONLY | O_DIRECTORY);

      if (next < 0 && errno == ENOENT && create)
        {
          if (mkdirat (fd, comp, 0755) < 0 && errno != EEXIST)
            {
              int err = errno;
              close (fd);
              set_errno (error, err, _("Cannot create directory for"), name);
              return -1;
            }
          next = openat2_beneath (fd, comp, O_RDONLY | O_DIRECTORY);
        }
      if (next < 0)
        {
          int err = errno;
          close (fd);
          if (err == EXDEV || err == ELOOP)
            g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                         _("Layer entry “%s” escapes the layer through a symlink"), name);
          else
            set_errno (error, err, _("Cannot open the directory of"), name);
          return -1;
        }
      close (fd);
      fd = next;
    }
  return fd;
}

/* Removes whatever is at @leaf, unless it is a directory and @keep_dir. */
static gboolean
remove_existing (int pfd, const char *leaf, gboolean keep_dir, const char *name, GError **error)
{
  struct stat st;

  if (fstatat (pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return TRUE;
  if (S_ISDIR (st.st_mode))
    {
      if (keep_dir)
        return TRUE;
      if (unlinkat (pfd, leaf, AT_REMOVEDIR) < 0)
        return set_errno (error, errno, _("Cannot replace directory"), name);
      return TRUE;
    }
  if (unlinkat (pfd, leaf, 0) < 0)
    return set_errno (error, errno, _("Cannot replace"), name);
  return TRUE;
}

static void
apply_xattrs (int fd, struct archive_entry *entry)
{
  const char *xname;
  const void *value;
  size_t size;

  archive_entry_xattr_reset (entry);
  while (archive_entry_xattr_next (entry, &xname, &value, &size) == ARCHIVE_OK)
    {
      if (fsetxattr (fd, xname, value, size, 0) < 0)
        g_debug ("unpack: xattr %s on %s: %s", xname, archive_entry_pathname (entry),
                 g_strerror (errno));
    }
}

static void
apply_meta_fd (int fd, struct archive_entry *entry)
{
  struct timespec times[2];

  if (fchown (fd, (uid_t) archive_entry_uid (entry), (gid_t) archive_entry_gid (entry)) < 0)
    g_debug ("unpack: chown %s: %s", archive_entry_pathname (entry), g_strerror (errno));
  if (fchmod (fd, archive_entry_perm (entry) & 07777) < 0)
    g_debug ("unpack: chmod %s: %s", archive_entry_pathname (entry), g_strerror (errno));
  apply_xattrs (fd, entry);
  times[0].tv_sec = archive_entry_atime (entry);
  times[0].tv_nsec = archive_entry_atime_nsec (entry);
  times[1].tv_sec = archive_entry_mtime (entry);
  times[1].tv_nsec = archive_entry_mtime_nsec (entry);
  if (!archive_entry_atime_is_set (entry))
    times[0] = times[1];
  (void) futimens (fd, times);
}

static gboolean
write_regular (struct archive *ar, int pfd, const char *leaf, struct archive_entry *entry,
               const char *name, guint64 *size, GError **error)
{
  int fd;
  const void *buf;
  size_t len;
  la_int64_t offset;
  int r;

  fd = openat (pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return set_errno (error, errno, _("Cannot create"), name);
  while ((r = archive_read_data_block (ar, &buf, &len, &offset)) == ARCHIVE_OK)
    {
      const char *p = buf;
      if (lseek (fd, offset, SEEK_SET) < 0)
        {
          close (fd);
          return set_errno (error, errno, _("Cannot seek in"), name);
        }
      while (len > 0)
        {
          ssize_t n = write (fd, p, len);
          if (n < 0)
            {
              int err = errno;
              if (err == EINTR)
                continue;
              close (fd);
              return set_errno (error, err, _("Cannot write"), name);
            }
          p += n;
          len -= (size_t) n;
          *size += (guint64) n;
        }
    }
  if (r != ARCHIVE_EOF)
    {
      close (fd);
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("Cannot read “%s” from the layer: %s"),
                   name, archive_error_string (ar));
      return FALSE;
    }
  if (ftruncate (fd, archive_entry_size (entry)) < 0)
    g_debug ("unpack: truncate %s: %s", name, g_strerror (errno));
  apply_meta_fd (fd, entry);
  close (fd);
  return TRUE;
}

static gboolean
unpack_entry (struct archive *ar, int rootfd, struct archive_entry *entry, guint64 *size,
              GError **error)
{
  const char *name = archive_entry_pathname (entry);
  const char *hardlink = archive_entry_hardlink (entry);
  g_autoptr(GPtrArray) parts = split_name (name, error);
  const char *leaf;
  int pfd;
  gboolean ok = TRUE;
  mode_t type = archive_entry_filetype (entry);

  if (parts == NULL)
    return FALSE;
  if (parts->len == 0)
    return TRUE;   /* the layer root itself */
  leaf = g_ptr_array_index (parts, parts->len - 1);
  pfd = open_parent (rootfd, parts, TRUE, name, error);
  if (pfd < 0)
    return FALSE;

  if (strcmp (leaf, WHITEOUT_OPAQUE) == 0)
    {
      if (fsetxattr (pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
        ok = set_errno (error, errno, _("Cannot mark directory opaque for"), name);
    }
  else if (g_str_has_prefix (leaf, WHITEOUT_PREFIX))
    {
      const char *target = leaf + strlen (WHITEOUT_PREFIX);
      if (*target == '\0' || strcmp (target, "..") == 0 || strcmp (target, ".") == 0)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("Invalid whiteout “%s”"), name);
          ok = FALSE;
        }
      else if ((ok = remove_existing (pfd, target, FALSE, name, error)) &&
               mknodat (pfd, target, S_IFCHR | 0000, makedev (0, 0)) < 0)
        ok = set_errno (error, errno, _("Cannot create whiteout for"), name);
    }
  else if (hardlink != NULL)
    {
      g_autoptr(GPtrArray) tparts = split_name (hardlink, error);
      int tpfd;

      if (tparts == NULL || tparts->len == 0)
        {
          if (tparts != NULL)
            g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                         _("Hardlink “%s” has an empty target"), name);
          close (pfd);
          return FALSE;
        }
      tpfd = open_parent (rootfd, tparts, FALSE, hardlink, error);
      if (tpfd < 0)
        ok = FALSE;
      else
        {
          const char *tleaf = g_ptr_array_index (tparts, tparts->len - 1);
          struct stat st;

          if (fstatat (tpfd, tleaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
            ok = set_errno (error, errno, _("Hardlink target missing for"), name);
          else if (S_ISDIR (st.st_mode))
            {
              g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                           _("Hardlink “%s” points at a directory"), name);
              ok = FALSE;
            }
          else if ((ok = remove_existing (pfd, leaf, FALSE, name, error)) &&
                   linkat (tpfd, tleaf, pfd, leaf, 0) < 0)
            ok = set_errno (error, errno, _("Cannot create hardlink"), name);
          close (tpfd);
        }
    }
  else if (type == AE_IFDIR)
    {
      int dfd;

      if (!remove_existing (pfd, leaf, TRUE, name, error))
        ok = FALSE;
      else if (mkdirat (pfd, leaf, 0700) < 0 && errno != EEXIST)
        ok = set_errno (error, errno, _("Cannot create directory"), name);
      else if ((dfd = openat2_beneath (pfd, leaf, O_RDONLY | O_DIRECTORY)) < 0)
        ok = set_errno (error, errno, _("Cannot open directory"), name);
      else
        {
          apply_meta_fd (dfd, entry);
          close (dfd);
        }
    }
  else if (type == AE_IFREG)
    {
      ok = remove_existing (pfd, leaf, FALSE, name, error) &&
           write_regular (ar, pfd, leaf, entry, name, size, error);
    }
  else if (type == AE_IFLNK)
    {
      const char *target = archive_entry_symlink (entry);
      if (target == NULL)
        target = "";
      if (!remove_existing (pfd, leaf, FALSE, name, error))
        ok = FALSE;
      else if (symlinkat (target, pfd, leaf) < 0)
        ok = set_errno (error, errno, _("Cannot create symlink"), name);
      else
        {
          struct timespec times[2];
          if (fchownat (pfd, leaf, (uid_t) archive_entry_uid (entry),
                        (gid_t) archive_entry_gid (entry), AT_SYMLINK_NOFOLLOW) < 0)
            g_debug ("unpack: lchown %s: %s", name, g_strerror (errno));
          times[0].tv_sec = times[1].tv_sec = archive_entry_mtime (entry);
          times[0].tv_nsec = times[1].tv_nsec = archive_entry_mtime_nsec (entry);
          (void) utimensat (pfd, leaf, times, AT_SYMLINK_NOFOLLOW);
          *size += strlen (target);
        }
    }
  else if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO)
    {
      mode_t mode = (mode_t) (type | (archive_entry_perm (entry) & 07777));
      dev_t dev = type == AE_IFIFO ? 0 : archive_entry_rdev (entry);

      if (!remove_existing (pfd, leaf, FALSE, name, error))
        ok = FALSE;
      else if (mknodat (pfd, leaf, mode, dev) < 0)
        g_warning (_("Skipping device node “%s” in a layer: %s"), name, g_strerror (errno));
      else if (fchownat (pfd, leaf, (uid_t) archive_entry_uid (entry),
                         (gid_t) archive_entry_gid (entry), AT_SYMLINK_NOFOLLOW) < 0)
        g_debug ("unpack: chown %s: %s", name, g_strerror (errno));
    }
  else
    g_debug ("unpack: skipping %s of type 0%o", name, (unsigned) type);

  close (pfd);
  return ok;
}

/* Unpacks the layer read from @ar into the directory @rootfd; @what names
 * the layer in messages. */
static gboolean
unpack_archive (struct archive *ar, int rootfd, const char *what, guint64 *out_size, GError **error)
{
  struct archive_entry *entry;
  guint64 size = 0;
  int r;
  gboolean ok = TRUE;

  while ((r = archive_read_next_header (ar, &entry)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      if (!unpack_entry (ar, rootfd, entry, &size, error))
        {
          ok = FALSE;
          break;
        }
    }
  if (ok && r != ARCHIVE_EOF)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("Corrupt layer %s: %s"),
                   what, archive_error_string (ar));
      ok = FALSE;
    }
  if (ok && out_size != NULL)
    *out_size = size;
  return ok;
}

static struct archive *
archive_new (void)
{
  struct archive *ar = archive_read_new ();

  archive_read_support_filter_all (ar);
  archive_read_support_format_tar (ar);
  archive_read_support_format_gnutar (ar);
  return ar;
}

/**
 * runtime_unpack_layer_fd:
 * @archive_fd: the layer (a tar, possibly compressed), read from its
 *   current offset; not closed
 * @dest_dirfd: the directory to unpack into; not closed
 *
 * The unpacker on its own (what the fuzz harness drives): nothing is
 * created outside @dest_dirfd, whatever the archive holds.
 */
gboolean
runtime_unpack_layer_fd (int archive_fd, int dest_dirfd, guint64 *out_size, GError **error)
{
  struct archive *ar = archive_new ();
  gboolean ok;

  if (archive_read_open_fd (ar, archive_fd, 65536) != ARCHIVE_OK)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("Cannot read layer %s: %s"),
                   "(fd)", archive_error_string (ar));
      archive_read_free (ar);
      return FALSE;
    }
  ok = unpack_archive (ar, dest_dirfd, "(fd)", out_size, error);
  archive_read_free (ar);
  return ok;
}

gboolean
runtime_unpack_layer (const char *tarball, const char *dest_dir, guint64 *out_size, GError **error)
{
  struct archive *ar = archive_new ();
  int rootfd;
  gboolean ok;

  if (archive_read_open_filename (ar, tarball, 65536) != ARCHIVE_OK)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("Cannot read layer %s: %s"),
                   tarball, archive_error_string (ar));
      archive_read_free (ar);
      return FALSE;
    }
  rootfd = open (dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    {
      archive_read_free (ar);
      return set_errno (error, errno, _("Cannot open"), dest_dir);
    }
  ok = unpack_archive (ar, rootfd, tarball, out_size, error);
  close (rootfd);
  archive_read_free (ar);
  return ok;
}
