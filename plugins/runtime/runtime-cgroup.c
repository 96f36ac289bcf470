/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime-cgroup.h"
#include "runtime-oci-config.h"

/* cgroup files take a plain write(), not a new file renamed in place */
static gboolean
write_cgroup_file (const char *dir, const char *name, gint64 value, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, value);
  int fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0 || write (fd, text, strlen (text)) < 0)
    {
      int err = errno;
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, _("Cannot write %s: %s"), path, g_strerror (err));
      if (fd >= 0)
        close (fd);
      return FALSE;
    }
  close (fd);
  return TRUE;
}

char *
runtime_cgroup_create (const char *name, gint64 memory, gdouble cpus, gboolean all, GError **error)
{
  const char *ctrls[] = { "memory", "cpu", "pids", NULL };
  g_autoptr(GString) list = g_string_new (NULL);

  if (runtime_cgroup_is_v2 ())
    {
      g_autofree char *cg = g_strdup_printf ("/sys/fs/cgroup/berth/%s", name);
      if (g_mkdir_with_parents (cg, 0755) < 0)
        {
          int err = errno;
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, _("Cannot create %s: %s"), cg, g_strerror (err));
          return NULL;
        }
      if (memory > 0 && !write_cgroup_file (cg, "memory.max", memory, error))
        return NULL;
      if (cpus > 0)
        {
          g_autofree char *path = g_build_filename (cg, "cpu.max", NULL);
          g_autofree char *v = g_strdup_printf ("%" G_GINT64_FORMAT " 100000", (gint64) (cpus * 100000));
          if (!g_file_set_contents_full (path, v, -1, G_FILE_SET_CONTENTS_NONE, 0644, error))
            return NULL;
        }
      return g_strdup (cg);
    }
  for (guint i = 0; ctrls[i] != NULL; i++)
    {
      g_autofree char *cg = NULL;

      if (i > 0 && !all)
        break;
      cg = g_strdup_printf ("/sys/fs/cgroup/%s/berth/%s", ctrls[i], name);
      if (g_mkdir_with_parents (cg, 0755) < 0)
        {
          int err = errno;
          if (i == 0 && memory > 0)
            {
              g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, _("Cannot create %s: %s"), cg, g_strerror (err));
              return NULL;
            }
          continue;
        }
      if (i == 0 && memory > 0 && !write_cgroup_file (cg, "memory.limit_in_bytes", memory, error))
        return NULL;
      if (i == 1 && cpus > 0 && !write_cgroup_file (cg, "cpu.cfs_quota_us", (gint64) (cpus * 100000), error))
        return NULL;
      if (list->len > 0)
        g_string_append_c (list, ' ');
      g_string_append (list, cg);
    }
  return g_string_free (g_steal_pointer (&list), FALSE);
}

void
runtime_cgroup_remove (const char *name)
{
  const char *ctrls[] = { "memory", "cpu", "pids", NULL };

  if (runtime_cgroup_is_v2 ())
    {
      g_autofree char *cg = g_strdup_printf ("/sys/fs/cgroup/berth/%s", name);
      g_rmdir (cg);
      return;
    }
  for (guint i = 0; ctrls[i] != NULL; i++)
    {
      g_autofree char *cg = g_strdup_printf ("/sys/fs/cgroup/%s/berth/%s", ctrls[i], name);
      g_rmdir (cg);
    }
}

static gboolean
counter_positive (const char *path, const char *key)
{
  g_autofree char *data = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &data, NULL, NULL))
    return FALSE;
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], key) && lines[i][strlen (key)] == ' ')
      return g_ascii_strtoll (lines[i] + strlen (key) + 1, NULL, 10) > 0;
  return FALSE;
}

gboolean
runtime_cgroup_oom_killed (const char *name)
{
  g_autofree char *v1 = g_strdup_printf ("/sys/fs/cgroup/memory/berth/%s/memory.oom_control", name);
  g_autofree char *v2 = g_strdup_printf ("/sys/fs/cgroup/berth/%s/memory.events", name);

  if (runtime_cgroup_is_v2 ())
    return counter_positive (v2, "oom_kill");
  return counter_positive (v1, "oom_kill");
}
