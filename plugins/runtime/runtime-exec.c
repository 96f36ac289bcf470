/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime-cgroup.h"
#include "runtime-exec.h"
#include "runtime-oci-config.h"
#include "runtime-util.h"

/* The exec runtime: plain processes, for hosts where no OCI runtime is
 * usable. Each container gets a small POSIX shell supervisor (written into
 * its directory) that plays conmon's part: it lives in its own session,
 * so it outlives berthd; it puts itself in the container's cgroup (memory
 * and CPU limits on cgroup v1 and v2), waits for `start` on a FIFO, runs
 * the command in its own session and process group — chrooted into the
 * image's root filesystem with the image's user and working directory —
 * writes stdout/stderr to the same k8s-file log as conmon, and the exit
 * code to the same exit file. No namespaces: the container shares the
 * host's network and sees the host's processes. */

static const char supervisor[] =
  "#!/bin/sh\n"
  "# berth exec runtime supervisor (generated)\n"
  "# usage: supervise DIR EXIT_FILE ROOTFS WORKDIR USERSPEC CGROUPS -- CMD...\n"
  "dir=$1 exitfile=$2 rootfs=$3 workdir=$4 userspec=$5 cgroups=$6\n"
  "shift 7\n"
  "# the command gets the container's PATH; this script uses the host's\n"
  "cpath=$PATH\n"
  "PATH=$BERTH_HOST_PATH\n"
  "unset BERTH_HOST_PATH\n"
  "setsid=$(command -v setsid) chroot=$(command -v chroot)\n"
  "for cg in $cgroups; do echo $$ > \"$cg/cgroup.procs\" 2>/dev/null; done\n"
  "stamp() {\n"
  "  while IFS= read -r line; do\n"
  "    printf '%s %s F %s\\n' \"$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)\" \"$1\" \"$line\"\n"
  "  done\n"
  "  [ -n \"$line\" ] && printf '%s %s P %s\\n' \"$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)\" \"$1\" \"$line\"\n"
  "}\n"
  "stamp stdout < \"$dir/out\" >> \"$dir/ctr.log\" &\n"
  "stamp stderr < \"$dir/err\" >> \"$dir/ctr.log\" &\n"
  "read _ < \"$dir/start\"\n"
  "if [ -n \"$rootfs\" ]; then\n"
  "  PATH=$cpath \"$setsid\" \"$chroot\" --userspec=\"$userspec\" \"$rootfs\" /bin/sh -c 'cd \"$0\" || exit 127; exec \"$@\"' \"$workdir\" \"$@\" \\\n"
  "    < /dev/null > \"$dir/out\" 2> \"$dir/err\" &\n"
  "else\n"
  "  (cd \"$workdir\" && PATH=$cpath exec \"$setsid\" \"$@\") < /dev/null > \"$dir/out\" 2> \"$dir/err\" &\n"
  "fi\n"
  "pid=$!\n"
  "echo $pid > \"$dir/pid.tmp\" && mv \"$dir/pid.tmp\" \"$dir/pid\"\n"
  "trap 'kill -TERM $pid 2>/dev/null' TERM\n"
  "while :; do wait $pid; code=$?; kill -0 $pid 2>/dev/null || break; done\n"
  "wait\n"
  "echo $code > \"$exitfile.tmp\" && mv \"$exitfile.tmp\" \"$exitfile\"\n";

static void
child_setup (gpointer data)
{
  setsid ();
}

static char *
path_in (const char *dir, const char *name)
{
  return g_build_filename (dir, name, NULL);
}

static gint
read_pid (const char *dir)
{
  g_autofree char *path = path_in (dir, "pid");
  g_autofree char *data = NULL;

  if (!g_file_get_contents (path, &data, NULL, NULL))
    return 0;
  return (gint) g_ascii_strtoll (data, NULL, 10);
}

gint
runtime_exec_create (const char *dir, const char *exit_dir, const char *id, JsonObject *image_config,
                     JsonObject *spec, const char *rootfs, const char *hostname, GError **error)
{
  g_autofree char *script = path_in (dir, "supervise");
  g_autofree char *exit_file = g_build_filename (exit_dir, id, NULL);
  g_autofree char *cgroups = NULL;
  g_auto(GStrv) args = runtime_oci_process_args (image_config, spec, error);
  g_auto(GStrv) env = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *workdir = runtime_json_get_string (spec, "workdir");
  const char *user = runtime_json_get_string (spec, "user");
  const char *fifos[] = { "out", "err", "start", NULL };
  g_autofree char *userspec = NULL;

  if (args == NULL)
    return -1;
  if (workdir == NULL || *workdir == '\0')
    workdir = runtime_json_get_string (image_config, "WorkingDir");
  if (workdir == NULL || *workdir != '/')
    workdir = "/";
  if (user == NULL || *user == '\0')
    user = runtime_json_get_string (image_config, "User");
  {
    gint64 uid = 0, gid = 0;
    if (!runtime_oci_resolve_user (rootfs != NULL ? rootfs : "/", user, &uid, &gid, error))
      return -1;
    userspec = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT, uid, gid);
  }
  for (guint i = 0; fifos[i] != NULL; i++)
    {
      g_autofree char *f = path_in (dir, fifos[i]);
      if (mkfifo (f, 0600) < 0 && errno != EEXIST)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, _("Cannot create %s: %s"), f, g_strerror (errno));
          return -1;
        }
    }
  if (!g_file_set_contents_full (script, supervisor, -1, G_FILE_SET_CONTENTS_NONE, 0700, error))
    return -1;
  cgroups = runtime_cgroup_create (id, json_object_get_int_member_with_default (spec, "memory", 0),
                                   json_object_has_member (spec, "cpus") ? json_object_get_double_member (spec, "cpus")
                                                                         : 0,
                                   TRUE, error);
  if (cgroups == NULL)
    return -1;

  env = runtime_oci_process_env (image_config, spec, hostname);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_subprocess_launcher_set_environ (launcher, env);
  g_subprocess_launcher_setenv (launcher, "BERTH_HOST_PATH",
                                g_getenv ("PATH") != NULL ? g_getenv ("PATH")
                                                          : "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                TRUE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  {
    g_autofree char *devnull_err = path_in (dir, "supervise.err");
    g_subprocess_launcher_set_stdout_file_path (launcher, "/dev/null");
    g_subprocess_launcher_set_stderr_file_path (launcher, devnull_err);
  }
  g_ptr_array_add (argv, "/bin/sh");
  g_ptr_array_add (argv, script);
  g_ptr_array_add (argv, (char *) dir);
  g_ptr_array_add (argv, exit_file);
  g_ptr_array_add (argv, (char *) (rootfs != NULL ? rootfs : ""));
  g_ptr_array_add (argv, (char *) workdir);
  g_ptr_array_add (argv, userspec);
  g_ptr_array_add (argv, cgroups);
  g_ptr_array_add (argv, "--");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, args[i]);
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, error);
  if (proc == NULL)
    return -1;
  return (gint) g_ascii_strtoll (g_subprocess_get_identifier (proc), NULL, 10);
}

gboolean
runtime_exec_start (const char *dir, const char *id, GError **error)
{
  g_autofree char *fifo = path_in (dir, "start");
  int fd = -1;

  /* the supervisor may take a moment to open its end */
  for (int i = 0; i < 200 && fd < 0; i++)
    {
      fd = open (fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0 && errno == ENXIO)
        g_usleep (10 * 1000);
      else if (fd < 0)
        break;
    }
  if (fd < 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, _("Cannot start the process: %s"), g_strerror (errno));
      return FALSE;
    }
  if (write (fd, "\n", 1) < 0)
    g_debug ("exec start: %s", g_strerror (errno));
  close (fd);
  /* wait (briefly) for the process to exist */
  for (int i = 0; i < 200 && read_pid (dir) <= 0; i++)
    g_usleep (5 * 1000);
  return TRUE;
}

void
runtime_exec_signal (const char *dir, const char *id, int sig)
{
  gint pid = read_pid (dir);

  if (pid > 0)
    {
      /* the whole process group of the command */
      if (kill (-pid, sig) < 0)
        kill (pid, sig);
    }
}

void
runtime_exec_check (const char *dir, const char *id, gint *pid)
{
  gint p = read_pid (dir);

  if (p > 0)
    *pid = p;
}

void
runtime_exec_cleanup (const char *id)
{
  runtime_cgroup_remove (id);
}
