/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <gio/gio.h>
#include <sys/file.h>
#include <unistd.h>

#include "bd-lock.h"

/* One berthd per state directory: an exclusive flock on berthd.lock, which
 * the kernel drops when the process dies however it dies. The file holds
 * the owner's pid for the error message. */
int
bd_lock_acquire (const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, "berthd.lock", NULL);
  g_autofree char *pid = NULL;
  int fd;

  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot open lock file %s: %s"), path, g_strerror (saved));
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      int saved = errno;
      char buf[32] = { 0 };
      ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
      close (fd);
      if (saved == EWOULDBLOCK)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                     _("Another berthd (pid %s) is already running with state directory %s"),
                     n > 0 ? g_strstrip (buf) : "?", state_dir);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                     _("Cannot lock %s: %s"), path, g_strerror (saved));
      return -1;
    }
  pid = g_strdup_printf ("%d\n", (int) getpid ());
  if (ftruncate (fd, 0) < 0 || pwrite (fd, pid, strlen (pid), 0) < 0)
    g_warning ("cannot write pid to %s: %s", path, g_strerror (errno));
  return fd;
}

void
bd_lock_release (int fd)
{
  if (fd < 0)
    return;
  close (fd);
}
