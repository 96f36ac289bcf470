/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "runtime-cgroup.h"
#include "runtime-tasks-private.h"
#include "runtime-util.h"

/* Exec tasks. An exec task runs under a small shell supervisor that
 * outlives berthd (it ignores the terminal's signals): the supervisor
 * joins the task's cgroup (its memory limit, like a container's), starts
 * the command in a session and process group of its own (output to
 * <dir>/stdout and <dir>/stderr), writes its pid to <dir>/pid and its exit
 * status to <dir>/exit (shell builtins only: one write each, read only
 * once they hold a number; no helper processes). After a restart (even a
 * kill -9) tasks whose supervisor still lives are adopted, those that
 * ended meanwhile are reported, so nothing runs twice. */

/* the smallest memory limit given: the supervisor needs some too */
#define MIN_MEMORY_MB 4

static const char supervisor[] =
  "dir=$1\n"
  "cgroups=$2\n"
  "shift 2\n"
  "for cg in $cgroups; do echo $$ > \"$cg/cgroup.procs\"; done 2>/dev/null\n"
  "trap '' INT QUIT HUP TSTP\n"
  "cd \"$dir\" || exit 127\n"
  "setsid \"$@\" < /dev/null > \"$dir/stdout\" 2> \"$dir/stderr\" &\n"
  "pid=$!\n"
  "echo $pid > \"$dir/pid\"\n"
  "trap 'kill -TERM -$pid 2>/dev/null || kill -TERM $pid 2>/dev/null' TERM\n"
  "while :; do wait $pid; code=$?; kill -0 $pid 2>/dev/null || break; done\n"
  "echo $code > \"$dir/exit\"\n";

char *
runtime_task_cgroup_name (const char *task_id)
{
  return g_strdup_printf ("task-%s", task_id);
}

static gint
read_int_file (const char *dir, const char *name, gboolean *ok)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *data = NULL;

  *ok = g_file_get_contents (path, &data, NULL, NULL) && g_ascii_isdigit (data[0]);
  return *ok ? (gint) g_ascii_strtoll (data, NULL, 10) : 0;
}

static gboolean
pid_alive (gint pid)
{
  return pid > 0 && (kill (pid, 0) == 0 || errno == EPERM);
}

/* Whether @pid is the supervisor of the task in @dir (not a recycled pid). */
static gboolean
is_supervisor (gint pid, const char *dir)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/cmdline", pid);
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!pid_alive (pid) || !g_file_get_contents (path, &data, &len, NULL))
    return FALSE;
  for (gsize i = 0; i < len; i += strlen (data + i) + 1)
    if (g_str_equal (data + i, dir))
      return TRUE;
  return FALSE;
}

/* The supervisor of the task in @dir when its pid file was never written
 * (berthd died right after the spawn): found by its command line. */
static gint
find_supervisor (const char *dir)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      gint pid;
      if (!g_ascii_isdigit (name[0]))
        continue;
      pid = (gint) g_ascii_strtoll (name, NULL, 10);
      if (is_supervisor (pid, dir))
        return pid;
    }
  return 0;
}

static void
child_watch_cb (GPid pid, gint status, gpointer user_data)
{
  Proc *p = user_data;

  p->watch_id = 0;
  g_spawn_close_pid (pid);
  runtime_task_exec_exited (p);
}

/* berthd's environment plus the task's variables and its sandbox */
static char **
task_environ (RuntimeTasks *self, BerthTask *task, BerthTaskSpec *spec)
{
  g_autoptr(GPtrArray) env = runtime_tasks_env_pairs (self, task, spec);
  g_autofree char *sandbox = g_build_filename (self->dir, berth_task_get_id (task), NULL);
  char **result = g_get_environ ();

  for (guint i = 0; i < env->len; i++)
    {
      const char *kv = g_ptr_array_index (env, i);
      g_autofree char *name = g_strndup (kv, (gsize) (strchr (kv, '=') - kv));
      result = g_environ_setenv (result, name, strchr (kv, '=') + 1, TRUE);
    }
  return g_environ_setenv (result, "MESOS_SANDBOX", sandbox, TRUE);
}

/* Whether @cmd means the same run by the shell or split into words: no
 * expansions, quotes, redirections, operators or globs, and no builtin
 * a shell would treat differently. */
static gboolean
is_simple_command (const char *cmd)
{
  const char *builtins[] = { "cd", "exit", "exec", "export", "set", "trap", "ulimit", "umask", "wait", "eval",
                             ".", "source", "read", "unset", "shift", "alias", NULL };
  g_autofree char *first = NULL;
  const char *end;

  for (const char *c = cmd; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && strchr (" _-./=:,+@%", *c) == NULL)
      return FALSE;
  while (*cmd == ' ')
    cmd++;
  end = strchr (cmd, ' ');
  first = end != NULL ? g_strndup (cmd, (gsize) (end - cmd)) : g_strdup (cmd);
  /* VAR=value prefixes are assignments for the shell */
  return *first != '\0' && strchr (first, '=') == NULL && !g_strv_contains (builtins, first);
}

/* The task's cgroup with its memory limit ("" when it has none, or when
 * cgroups cannot be made here: then it runs without). */
static char *
task_cgroups (BerthTask *task, BerthTaskSpec *spec)
{
  guint64 mem_mb = berth_task_spec_get_mem_mb (spec);
  g_autofree char *name = runtime_task_cgroup_name (berth_task_get_id (task));
  g_autoptr(GError) error = NULL;
  char *cgroups;

  if (mem_mb == 0)
    return g_strdup ("");
  cgroups = runtime_cgroup_create (name, (gint64) MAX (mem_mb, MIN_MEMORY_MB) * 1024 * 1024, 0, FALSE, &error);
  if (cgroups == NULL)
    {
      g_debug ("task %s: no memory limit: %s", berth_task_get_id (task), error->message);
      return g_strdup ("");
    }
  return cgroups;
}

void
runtime_task_exec_start (RuntimeTasks *self, BerthTask *task, BerthTaskSpec *spec)
{
  const char *cmd = berth_task_spec_get_cmd (spec);
  const char * const *args = berth_task_spec_get_args (spec);
  g_autofree char *dir = g_build_filename (self->dir, berth_task_get_id (task), NULL);
  g_autofree char *cgroups = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) words = NULL;
  g_auto(GStrv) env = NULL;
  g_autoptr(GError) error = NULL;
  GPid pid = 0;
  int null_fd;
  gboolean spawned;
  Proc *p;

  if ((cmd == NULL || *cmd == '\0') && (args == NULL || args[0] == NULL))
    {
      runtime_tasks_fail (self, task, BERTH_TASK_STATE_FAILED, _("the task has neither cmd nor args"));
      return;
    }
  runtime_rm_rf (dir, NULL);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot create %s: %s"), dir, g_strerror (errno));
      runtime_tasks_fail (self, task, BERTH_TASK_STATE_FAILED, msg);
      return;
    }
  cgroups = task_cgroups (task, spec);
  g_ptr_array_add (argv, (char *) "/bin/sh");
  g_ptr_array_add (argv, (char *) "-c");
  g_ptr_array_add (argv, (char *) supervisor);
  g_ptr_array_add (argv, (char *) "berth-task");
  g_ptr_array_add (argv, dir);
  g_ptr_array_add (argv, cgroups);
  if (cmd != NULL && *cmd != '\0' && is_simple_command (cmd) && g_shell_parse_argv (cmd, NULL, &words, NULL))
    {
      /* `sh -c "sleep 1000"` would only exec it: save the shell */
      for (guint i = 0; words[i] != NULL; i++)
        g_ptr_array_add (argv, words[i]);
    }
  else if (cmd != NULL && *cmd != '\0')
    {
      g_ptr_array_add (argv, (char *) "/bin/sh");
      g_ptr_array_add (argv, (char *) "-c");
      g_ptr_array_add (argv, (char *) cmd);
    }
  else
    for (guint i = 0; args[i] != NULL; i++)
      g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  env = task_environ (self, task, spec);
  /* /dev/null opened here rather than by GLib, which asserts (aborting
   * berthd) when it cannot open it: out of descriptors, the task fails */
  null_fd = g_open ("/dev/null", O_RDWR | O_CLOEXEC, 0);
  if (null_fd < 0)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot start the task: %s"), g_strerror (errno));
      runtime_rm_rf (dir, NULL);
      runtime_tasks_fail (self, task, BERTH_TASK_STATE_FAILED, msg);
      return;
    }
  /* no child setup and no working directory: GLib can use posix_spawn,
   * much cheaper than a fork of berthd for a thousand tasks. berthd's own
   * descriptors are all close-on-exec; the supervisor ignores the
   * terminal's signals and puts the command in a session of its own. */
  spawned = g_spawn_async_with_fds (NULL, (char **) argv->pdata, env,
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_LEAVE_DESCRIPTORS_OPEN, NULL, NULL, &pid,
                                    null_fd, null_fd, null_fd, &error);
  close (null_fd);
  if (!spawned)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot start the task: %s"), error->message);
      runtime_rm_rf (dir, NULL);
      runtime_tasks_fail (self, task, BERTH_TASK_STATE_FAILED, msg);
      return;
    }
  {
    g_autofree char *sup = g_build_filename (dir, "supervisor.pid", NULL);
    g_autofree char *text = g_strdup_printf ("%d\n", (int) pid);
    if (!g_file_set_contents_full (sup, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, &error))
      g_warning ("%s", error->message);
  }
  p = runtime_tasks_proc_new (self, task, spec);
  p->sup_pid = pid;
  p->watch_id = g_child_watch_add (pid, child_watch_cb, p);
  if (self->logs != NULL)
    runtime_logs_add_task (self->logs, berth_task_get_id (task), berth_task_get_app_id (task), dir, TRUE);
  g_debug ("task %s: supervisor %d", berth_task_get_id (task), (int) pid);
}

static gboolean
kill_hard_cb (gpointer user_data)
{
  Proc *p = user_data;

  p->kill_id = 0;
  if (p->pid > 0)
    kill (-p->pid, SIGKILL);
  if (p->sup_pid > 0)
    kill (p->sup_pid, SIGKILL);
  return G_SOURCE_REMOVE;
}

void
runtime_task_exec_kill (Proc *p)
{
  guint grace = berth_task_spec_get_kill_grace_seconds (p->spec);
  gboolean ok;

  if (p->pid <= 0)
    p->pid = read_int_file (p->dir, "pid", &ok);
  if (p->pid > 0 && kill (-p->pid, SIGTERM) < 0)
    kill (p->pid, SIGTERM);
  if (p->pid <= 0 && p->sup_pid > 0)
    kill (p->sup_pid, SIGTERM);
  p->kill_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, MIN (grace, 3600), kill_hard_cb, p, NULL);
}

/* The supervisor ended: report how the command did. */
void
runtime_task_exec_exited (Proc *p)
{
  gboolean have_code = FALSE;
  gint code = read_int_file (p->dir, "exit", &have_code);

  runtime_tasks_finish (p, have_code, code, FALSE, _("The task's supervisor died"));
}

/* At start: adopts @task when its supervisor still lives or it left its
 * exit status; FALSE when nothing of it is left. */
gboolean
runtime_task_exec_adopt (RuntimeTasks *self, BerthTask *task, BerthTaskSpec *spec)
{
  g_autofree char *dir = g_build_filename (self->dir, berth_task_get_id (task), NULL);
  gboolean ok = FALSE, have_exit = FALSE;
  gint sup = read_int_file (dir, "supervisor.pid", &ok);
  Proc *p;

  read_int_file (dir, "exit", &have_exit);
  if (!ok && g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      sup = find_supervisor (dir);
      ok = sup > 0;
    }
  if (!ok || !(have_exit || is_supervisor (sup, dir)))
    return FALSE;
  p = runtime_tasks_proc_new (self, task, spec);
  p->sup_pid = sup;
  p->adopted = TRUE;
  p->pid = read_int_file (dir, "pid", &ok);
  p->reported = berth_task_get_state (task) == BERTH_TASK_STATE_RUNNING;
  g_hash_table_add (self->started, g_strdup (berth_task_get_id (task)));
  if (self->logs != NULL)
    runtime_logs_add_task (self->logs, berth_task_get_id (task), berth_task_get_app_id (task), dir, TRUE);
  g_message (_("task %s: adopted (pid %d)"), berth_task_get_id (task), p->pid);
  if (have_exit)
    runtime_task_exec_exited (p);
  else if (berth_task_get_desired_state (task) == BERTH_TASK_DESIRED_KILLED)
    runtime_tasks_kill (self, p);
  return TRUE;
}

/* Every tick: the commands that started (their pid file appeared) and
 * the adopted supervisors that ended. */
void
runtime_task_exec_poll (RuntimeTasks *self)
{
  g_autoptr(GPtrArray) gone = g_ptr_array_new ();
  g_autoptr(GPtrArray) started = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->procs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Proc *p = value;
      if (p->container)
        continue;
      if (!p->reported)
        {
          gboolean ok = FALSE;
          gint pid = read_int_file (p->dir, "pid", &ok);
          if (ok)
            {
              g_autofree char *now = berth_task_timestamp_now ();
              g_autofree char *rid = g_strdup_printf ("%d", pid);
              p->pid = pid;
              p->reported = TRUE;
              berth_task_set_state (p->task, BERTH_TASK_STATE_RUNNING);
              berth_task_set_host (p->task, self->host);
              berth_task_set_runtime_id (p->task, rid);
              if (berth_task_get_started_at (p->task) == NULL)
                berth_task_set_started_at (p->task, now);
              g_ptr_array_add (started, g_object_ref (p->task));
            }
        }
      if (p->adopted && !pid_alive (p->sup_pid))
        g_ptr_array_add (gone, p);
    }
  /* the tasks that started since the last tick: one write */
  if (started->len > 0)
    runtime_tasks_report_many (self, started);
  for (guint i = 0; i < gone->len; i++)
    runtime_task_exec_exited (g_ptr_array_index (gone, i));
}
