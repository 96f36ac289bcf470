/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "runtime-overlay.h"

/* A container's root filesystem: overlayfs with the image's layers as
 * read-only lower directories (top layer first in the option) and the
 * container's own upper and work directories, so that removing the
 * container removes only what it wrote. */

gboolean
runtime_overlay_mount (GPtrArray *lower_dirs, const char *container_dir, const char *target,
                       GError **error)
{
  g_autofree char *upper = g_build_filename (container_dir, "upper", NULL);
  g_autofree char *work = g_build_filename (container_dir, "work", NULL);
  g_autofree char *empty = g_build_filename (container_dir, "empty", NULL);
  g_autoptr(GString) lower = g_string_new (NULL);
  g_autofree char *options = NULL;

  if (g_mkdir_with_parents (upper, 0755) < 0 || g_mkdir_with_parents (work, 0700) < 0 ||
      g_mkdir_with_parents (target, 0755) < 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), _("Cannot create %s: %s"),
                   container_dir, g_strerror (err));
      return FALSE;
    }
  for (guint i = lower_dirs->len; i > 0; i--)
    {
      const char *dir = g_ptr_array_index (lower_dirs, i - 1);
      if (strchr (dir, ':') != NULL || strchr (dir, ',') != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("Layer path %s cannot be used with overlayfs"), dir);
          return FALSE;
        }
      if (lower->len > 0)
        g_string_append_c (lower, ':');
      g_string_append (lower, dir);
    }
  if (lower->len == 0)
    {
      /* an image without layers: overlay still needs one lower dir */
      g_mkdir_with_parents (empty, 0755);
      g_string_append (lower, empty);
    }
  options = g_strdup_printf ("lowerdir=%s,upperdir=%s,workdir=%s", lower->str, upper, work);
  if (strlen (options) >= 4000)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Too many layers for one overlayfs mount (%u)"), lower_dirs->len);
      return FALSE;
    }
  if (runtime_overlay_is_mounted (target))
    return TRUE;
  if (mount ("overlay", target, "overlay", MS_NODEV, options) < 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   _("Cannot mount the container's overlay root filesystem: %s"), g_strerror (err));
      return FALSE;
    }
  return TRUE;
}

gboolean
runtime_overlay_is_mounted (const char *target)
{
  struct stat st, parent;
  g_autofree char *up = g_path_get_dirname (target);

  if (stat (target, &st) < 0 || stat (up, &parent) < 0)
    return FALSE;
  return st.st_dev != parent.st_dev;
}

gboolean
runtime_overlay_umount (const char *target, GError **error)
{
  if (!runtime_overlay_is_mounted (target))
    return TRUE;
  if (umount2 (target, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), _("Cannot unmount %s: %s"),
                   target, g_strerror (err));
      return FALSE;
    }
  return TRUE;
}
