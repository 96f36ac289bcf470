/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "runtime-launch.h"
#include "runtime-task-api.h"
#include "runtime-tasks.h"
#include "runtime-util.h"

/* The task executor. The scheduler writes desired tasks into the core
 * `tasks` table; this controller runs those placed on this node and writes
 * back their actual state. It never talks to the scheduler.
 *
 * An exec task runs under a small shell supervisor that outlives berthd
 * (it ignores the terminal's signals): the supervisor starts the command
 * in a session and process group of its own (output to <dir>/stdout and
 * <dir>/stderr), writes its pid to <dir>/pid and its exit status to
 * <dir>/exit (shell builtins only: one write each, read only once they
 * hold a number; no helper processes). After a restart (even a kill -9)
 * tasks whose supervisor still lives are adopted, those that ended
 * meanwhile are reported, so nothing runs twice.
 *
 * A container task goes through the runtime's own container API (pull if
 * needed, create, start; inspect to learn that it ended; stop to kill
 * it), so it gets the same images, networks and limits as `berth run`.
 *
 * Task directories: <runtime-root>/tasks/<task-id>/. */

#define CONTAINER_POLL_MS 500

#define POLL_INTERVAL_MS 20

/* [runtime] max_launches_per_second and max_launches_in_flight */
#define DEFAULT_LAUNCHES_PER_SECOND 50
#define DEFAULT_LAUNCHES_IN_FLIGHT 16
#define MAX_LAUNCH_SETTING 100000

static const char supervisor[] =
  "dir=$1\n"
  "shift\n"
  "trap '' INT QUIT HUP TSTP\n"
  "cd \"$dir\" || exit 127\n"
  "setsid \"$@\" < /dev/null > \"$dir/stdout\" 2> \"$dir/stderr\" &\n"
  "pid=$!\n"
  "echo $pid > \"$dir/pid\"\n"
  "trap 'kill -TERM -$pid 2>/dev/null || kill -TERM $pid 2>/dev/null' TERM\n"
  "while :; do wait $pid; code=$?; kill -0 $pid 2>/dev/null || break; done\n"
  "echo $code > \"$dir/exit\"\n";

typedef struct _RuntimeTasks RuntimeTasks;

typedef struct {
  RuntimeTasks *owner;
  BerthTask    *task;
  char         *dir;
  GPid          sup_pid;
  gint          pid;          /* the command's pid (and process group) */
  gboolean      adopted;      /* not our child: polled */
  gboolean      reported;     /* TASK_RUNNING written */
  gboolean      killing;
  guint         watch_id;
  guint         kill_id;
  gboolean      container;
  char         *container_id;
  gboolean      inspecting;
  gboolean      pulling;      /* its image: not counted as a launch in flight */
} Proc;

struct _RuntimeTasks {
  BerthContext *context;
  BerthStore   *store;
  char         *node_id;
  char         *host;
  char         *dir;
  GHashTable   *procs;        /* task id → Proc* */
  GHashTable   *started;      /* task ids started by this process */
  GHashTable   *dirty;        /* task ids changed since the last pass */
  gulong        changed_id;
  guint         idle_id;
  guint         poll_id;
  guint         container_poll_id;
  RuntimeTaskApi *api;
  RuntimeLaunchQueue *launches;
};

static void proc_exited (Proc *p);
static void finish (Proc *p, gboolean have_code, gint code, const char *lost);
static void start_container_task (RuntimeTasks *self, BerthTask *task);

static void
proc_free (Proc *p)
{
  g_clear_handle_id (&p->watch_id, g_source_remove);
  g_clear_handle_id (&p->kill_id, g_source_remove);
  g_clear_object (&p->task);
  g_free (p->dir);
  g_free (p->container_id);
  g_free (p);
}

static void
write_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 && error != NULL &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning (_("cannot write a task's state: %s"), error->message);
}

static gboolean
write_state (BerthTxn *txn, gpointer user_data, GError **error)
{
  return berth_task_write_state (BERTH_TASK (user_data), txn, error);
}

static gboolean
write_states (BerthTxn *txn, gpointer user_data, GError **error)
{
  GPtrArray *tasks = user_data;

  for (guint i = 0; i < tasks->len; i++)
    if (!berth_task_write_state (g_ptr_array_index (tasks, i), txn, error))
      return FALSE;
  return TRUE;
}

/* Writes the actual state of @task (a copy is not needed: the task object
 * is only touched on the main loop, and the write sees its state now). */
static void
report (RuntimeTasks *self, BerthTask *task)
{
  berth_store_write_async (self->store, write_state, g_object_ref (task), g_object_unref, NULL,
                           write_done_cb, NULL);
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
  proc_exited (p);
}

static void
add_env (GPtrArray *env, const char *name, const char *value)
{
  g_ptr_array_add (env, g_strdup_printf ("%s=%s", name, value != NULL ? value : ""));
}

/* The variables Marathon gives a task: PORT0..n, PORT, PORTS, HOST,
 * MARATHON_APP_ID, MARATHON_APP_VERSION, MESOS_TASK_ID, then the app's env. */
static GPtrArray *
task_env_pairs (RuntimeTasks *self, BerthTask *task)
{
  JsonObject *spec = berth_task_get_spec (task);
  JsonObject *env_obj = runtime_json_get_object (spec, "env");
  GArray *ports = berth_task_get_ports (task);
  GPtrArray *env = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) all = g_string_new (NULL);

  for (guint i = 0; i < ports->len; i++)
    {
      g_autofree char *name = g_strdup_printf ("PORT%u", i);
      g_autofree char *value = g_strdup_printf ("%u", g_array_index (ports, guint, i));
      add_env (env, name, value);
      if (i == 0)
        add_env (env, "PORT", value);
      g_string_append_printf (all, "%s%s", i > 0 ? "," : "", value);
    }
  if (ports->len > 0)
    add_env (env, "PORTS", all->str);
  add_env (env, "HOST", self->host);
  add_env (env, "MARATHON_APP_ID", berth_task_get_app_id (task));
  add_env (env, "MARATHON_APP_VERSION", berth_task_get_version (task));
  add_env (env, "MESOS_TASK_ID", berth_task_get_id (task));
  if (env_obj != NULL)
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *value;
      json_object_iter_init (&iter, env_obj);
      while (json_object_iter_next (&iter, &name, &value))
        if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
          add_env (env, name, json_node_get_string (value));
    }
  return env;
}

/* berthd's environment plus the task's variables and its sandbox */
static char **
task_environ (RuntimeTasks *self, BerthTask *task)
{
  g_autoptr(GPtrArray) env = task_env_pairs (self, task);
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

static Proc *
proc_new (RuntimeTasks *self, BerthTask *task)
{
  Proc *p = g_new0 (Proc, 1);

  p->owner = self;
  p->task = g_object_ref (task);
  p->dir = g_build_filename (self->dir, berth_task_get_id (task), NULL);
  g_hash_table_replace (self->procs, g_strdup (berth_task_get_id (task)), p);
  return p;
}

static void
fail_task (RuntimeTasks *self, BerthTask *task, BerthTaskState state, const char *message)
{
  g_autofree char *now = berth_task_timestamp_now ();

  berth_task_set_state (task, state);
  berth_task_set_message (task, message);
  berth_task_set_finished_at (task, now);
  report (self, task);
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

static void
start_task (RuntimeTasks *self, BerthTask *task)
{
  JsonObject *spec = berth_task_get_spec (task);
  const char *kind = runtime_json_get_string (spec, "kind");
  const char *cmd = runtime_json_get_string (spec, "cmd");
  JsonArray *args = runtime_json_get_array (spec, "args");
  g_autofree char *dir = g_build_filename (self->dir, berth_task_get_id (task), NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) words = NULL;
  g_auto(GStrv) env = NULL;
  g_autoptr(GError) error = NULL;
  GPid pid = 0;
  int null_fd;
  gboolean spawned;
  Proc *p;

  g_hash_table_add (self->started, g_strdup (berth_task_get_id (task)));
  if (g_strcmp0 (kind, "container") == 0)
    {
      start_container_task (self, task);
      return;
    }
  if ((cmd == NULL || *cmd == '\0') && (args == NULL || json_array_get_length (args) == 0))
    {
      fail_task (self, task, BERTH_TASK_STATE_FAILED, _("the task has neither cmd nor args"));
      return;
    }
  runtime_rm_rf (dir, NULL);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot create %s: %s"), dir, g_strerror (errno));
      fail_task (self, task, BERTH_TASK_STATE_FAILED, msg);
      return;
    }
  g_ptr_array_add (argv, (char *) "/bin/sh");
  g_ptr_array_add (argv, (char *) "-c");
  g_ptr_array_add (argv, (char *) supervisor);
  g_ptr_array_add (argv, (char *) "berth-task");
  g_ptr_array_add (argv, dir);
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
    for (guint i = 0; i < json_array_get_length (args); i++)
      g_ptr_array_add (argv, (char *) json_array_get_string_element (args, i));
  g_ptr_array_add (argv, NULL);
  env = task_environ (self, task);
  /* /dev/null opened here rather than by GLib, which asserts (aborting
   * berthd) when it cannot open it: out of descriptors, the task fails */
  null_fd = g_open ("/dev/null", O_RDWR | O_CLOEXEC, 0);
  if (null_fd < 0)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot start the task: %s"), g_strerror (errno));
      runtime_rm_rf (dir, NULL);
      fail_task (self, task, BERTH_TASK_STATE_FAILED, msg);
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
      fail_task (self, task, BERTH_TASK_STATE_FAILED, msg);
      return;
    }
  {
    g_autofree char *sup = g_build_filename (dir, "supervisor.pid", NULL);
    g_autofree char *text = g_strdup_printf ("%d\n", (int) pid);
    if (!g_file_set_contents_full (sup, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, &error))
      g_warning ("%s", error->message);
  }
  p = proc_new (self, task);
  p->sup_pid = pid;
  p->watch_id = g_child_watch_add (pid, child_watch_cb, p);
  g_debug ("task %s: supervisor %d", berth_task_get_id (task), (int) pid);
}

static void kill_task (RuntimeTasks *self, Proc *p);

/* ---- container tasks ---------------------------------------------------- */

typedef struct {
  RuntimeTasks *self;
  char         *task_id;
} Step;

static Step *
step_new (RuntimeTasks *self, BerthTask *task)
{
  Step *st = g_new0 (Step, 1);
  st->self = self;
  st->task_id = g_strdup (berth_task_get_id (task));
  return st;
}

static void
step_free (gpointer data)
{
  Step *st = data;
  g_free (st->task_id);
  g_free (st);
}

static char *
api_error (guint status, GBytes *body, const char *error)
{
  g_autoptr(JsonNode) node = runtime_task_api_parse (body);
  const char *msg = node != NULL && JSON_NODE_HOLDS_OBJECT (node)
                      ? runtime_json_get_string (json_node_get_object (node), "message") : NULL;

  if (error != NULL)
    return g_strdup (error);
  if (msg != NULL)
    return g_strdup (msg);
  return g_strdup_printf (_("the runtime answered %u"), status);
}

/* The task's start failed with @msg: it ends (killed if it was being
 * stopped, else failed). */
static void
container_fail_message (Proc *p, const char *msg)
{
  if (p->killing)
    {
      finish (p, FALSE, 0, msg);
      return;
    }
  {
    /* removing the Proc frees it and drops its reference on the task */
    RuntimeTasks *self = p->owner;
    g_autoptr(BerthTask) task = g_object_ref (p->task);

    g_hash_table_remove (self->procs, berth_task_get_id (task));
    fail_task (self, task, BERTH_TASK_STATE_FAILED, msg);
  }
}

static void
container_fail (Proc *p, const char *why)
{
  g_autofree char *msg = g_strdup_printf (_("Cannot run the container: %s"), why);

  container_fail_message (p, msg);
}

static void container_remove (RuntimeTasks *self, const char *id);

static void
started_cb (guint status, GBytes *body, const char *error, gpointer user_data)
{
  Step *st = user_data;
  Proc *p = g_hash_table_lookup (st->self->procs, st->task_id);
  g_autofree char *now = NULL;

  if (p == NULL)
    return;
  if (status != 204 && status != 304)
    {
      g_autofree char *why = api_error (status, body, error);
      container_remove (st->self, p->container_id);
      container_fail (p, why);
      return;
    }
  now = berth_task_timestamp_now ();
  p->reported = TRUE;
  berth_task_set_state (p->task, BERTH_TASK_STATE_RUNNING);
  berth_task_set_host (p->task, st->self->host);
  berth_task_set_runtime_id (p->task, p->container_id);
  berth_task_set_started_at (p->task, now);
  report (st->self, p->task);
  if (p->killing)
    {
      p->killing = FALSE;
      kill_task (st->self, p);
    }
}

/* Whether the task was stopped while a step of its start was in flight:
 * then it ends here (its container, if made, is removed). */
static gboolean
abandoned (RuntimeTasks *self, Proc *p)
{
  if (!p->killing)
    return FALSE;
  container_remove (self, p->container_id);
  finish (p, FALSE, 0, NULL);
  return TRUE;
}

static void
start_container (RuntimeTasks *self, Proc *p)
{
  if (abandoned (self, p))
    return;
  g_autofree char *path = g_strdup_printf ("/api/containers/%s/start", p->container_id);
  runtime_task_api_call (self->api, "POST", path, NULL, started_cb, step_new (self, p->task), step_free);
}

static void
found_cb (guint status, GBytes *body, const char *error, gpointer user_data)
{
  Step *st = user_data;
  Proc *p = g_hash_table_lookup (st->self->procs, st->task_id);
  g_autoptr(JsonNode) node = runtime_task_api_parse (body);
  const char *id = node != NULL && JSON_NODE_HOLDS_OBJECT (node)
                     ? runtime_json_get_string (json_node_get_object (node), "Id") : NULL;

  if (p == NULL)
    return;
  if (status != 200 || id == NULL)
    {
      g_autofree char *why = api_error (status, body, error);
      container_fail (p, why);
      return;
    }
  p->container_id = g_strdup (id);
  start_container (st->self, p);
}

static char *
container_name (BerthTask *task)
{
  return g_strdup_printf ("task-%s", berth_task_get_id (task));
}

static void
created_cb (guint status, GBytes *body, const char *error, gpointer user_data)
{
  Step *st = user_data;
  Proc *p = g_hash_table_lookup (st->self->procs, st->task_id);
  g_autoptr(JsonNode) node = runtime_task_api_parse (body);
  const char *id = node != NULL && JSON_NODE_HOLDS_OBJECT (node)
                     ? runtime_json_get_string (json_node_get_object (node), "Id") : NULL;

  if (p == NULL)
    return;
  if (status == 409)
    {
      /* made before a restart: use it */
      g_autofree char *name = container_name (p->task);
      g_autofree char *path = g_strdup_printf ("/api/containers/%s", name);
      runtime_task_api_call (st->self->api, "GET", path, NULL, found_cb, step_new (st->self, p->task), step_free);
      return;
    }
  if (status != 201 || id == NULL)
    {
      g_autofree char *why = api_error (status, body, error);
      container_fail (p, why);
      return;
    }
  p->container_id = g_strdup (id);
  start_container (st->self, p);
}

/* POST /api/containers for the task (then start_container) */
static void
create_container_request (RuntimeTasks *self, Proc *p)
{
  JsonObject *spec = berth_task_get_spec (p->task);
  JsonArray *spec_ports = runtime_json_get_array (spec, "ports");
  GArray *host_ports = berth_task_get_ports (p->task);
  g_autoptr(GPtrArray) env = task_env_pairs (self, p->task);
  g_autofree char *name = container_name (p->task);
  const char *cmd = runtime_json_get_string (spec, "cmd");
  JsonArray *args = runtime_json_get_array (spec, "args");
  const char *network = runtime_json_get_string (spec, "network");
  JsonObject *body = json_object_new ();
  JsonArray *env_array = json_array_new ();
  JsonArray *ports = json_array_new ();
  g_autoptr(JsonNode) node = NULL;
  gint64 mem_mb = json_object_get_int_member_with_default (spec, "mem_mb", 0);

  json_object_set_string_member (body, "image", runtime_json_get_string (spec, "image"));
  json_object_set_string_member (body, "name", name);
  for (guint i = 0; i < env->len; i++)
    json_array_add_string_element (env_array, g_ptr_array_index (env, i));
  json_object_set_array_member (body, "env", env_array);
  for (guint i = 0; spec_ports != NULL && i < json_array_get_length (spec_ports) && i < host_ports->len; i++)
    {
      JsonNode *element = json_array_get_element (spec_ports, i);
      JsonObject *sp = JSON_NODE_HOLDS_OBJECT (element) ? json_node_get_object (element) : NULL;
      guint host = g_array_index (host_ports, guint, i);
      JsonObject *pm;
      gint64 container;

      if (sp == NULL)
        continue;
      pm = json_object_new ();
      container = json_object_get_int_member_with_default (sp, "container", 0);
      json_object_set_int_member (pm, "host", host);
      json_object_set_int_member (pm, "container", container > 0 ? container : host);
      json_object_set_string_member (pm, "protocol", runtime_json_get_string (sp, "protocol") != NULL
                                                       ? runtime_json_get_string (sp, "protocol") : "tcp");
      json_array_add_object_element (ports, pm);
    }
  if (network != NULL && g_str_equal (network, "bridge"))
    json_object_set_array_member (body, "ports", ports);
  else
    json_array_unref (ports);
  if (network != NULL)
    json_object_set_string_member (body, "network", network);
  if (mem_mb > 0)
    json_object_set_int_member (body, "memory", mem_mb * 1024 * 1024);
  if (cmd != NULL && *cmd != '\0')
    {
      JsonArray *entry = json_array_new ();
      JsonArray *c = json_array_new ();
      json_array_add_string_element (entry, "/bin/sh");
      json_array_add_string_element (entry, "-c");
      json_array_add_string_element (c, cmd);
      json_object_set_array_member (body, "entrypoint", entry);
      json_object_set_array_member (body, "cmd", c);
    }
  else if (args != NULL)
    json_object_set_array_member (body, "cmd", json_array_ref (args));
  node = json_node_init_object (json_node_alloc (), body);
  json_object_unref (body);
  runtime_task_api_call (self->api, "POST", "/api/containers", node, created_cb, step_new (self, p->task),
                         step_free);
}

static void
create_container (RuntimeTasks *self, Proc *p)
{
  p->pulling = FALSE;
  if (abandoned (self, p))
    return;
  create_container_request (self, p);
}

/* The outcome of a pull's newline-delimited JSON progress: NULL when its
 * last line is {"status":"Pulled"}, else why it failed. */
static char *
pull_error (guint status, GBytes *body, const char *error)
{
  gsize len = 0;
  const char *text = body != NULL ? g_bytes_get_data (body, &len) : NULL;
  g_autofree char *copy = text != NULL ? g_strndup (text, len) : NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *o;
  char *last;

  if (status != 200 || copy == NULL)
    return api_error (status, body, error);
  g_strstrip (copy);
  last = strrchr (copy, '\n');
  last = last != NULL ? last + 1 : copy;
  node = berth_json_parse (last, -1, NULL);
  o = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  if (o != NULL && g_strcmp0 (runtime_json_get_string (o, "status"), "Pulled") == 0)
    return NULL;
  if (o != NULL && runtime_json_get_string (o, "error") != NULL)
    return g_strdup (runtime_json_get_string (o, "error"));
  return g_strdup (*last != '\0' ? last : _("the pull ended without a result"));
}

static void
pulled_cb (guint status, GBytes *body, const char *error, gpointer user_data)
{
  Step *st = user_data;
  Proc *p = g_hash_table_lookup (st->self->procs, st->task_id);
  g_autofree char *why = NULL;

  if (p == NULL)
    return;
  why = pull_error (status, body, error);
  if (why != NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot pull image %s: %s"),
                                              runtime_json_get_string (berth_task_get_spec (p->task), "image"), why);
      container_fail_message (p, msg);
      return;
    }
  create_container (st->self, p);
}

static void
image_cb (guint status, GBytes *body, const char *error, gpointer user_data)
{
  Step *st = user_data;
  Proc *p = g_hash_table_lookup (st->self->procs, st->task_id);

  if (p == NULL)
    return;
  if (status == 200)
    create_container (st->self, p);
  else
    {
      g_autofree char *escaped = g_uri_escape_string (runtime_json_get_string (berth_task_get_spec (p->task), "image"),
                                                      NULL, TRUE);
      g_autofree char *path = g_strdup_printf ("/api/images/pull?ref=%s", escaped);
      runtime_task_api_call (st->self->api, "POST", path, NULL, pulled_cb, step_new (st->self, p->task), step_free);
    }
}

static void
start_container_task (RuntimeTasks *self, BerthTask *task)
{
  const char *image = runtime_json_get_string (berth_task_get_spec (task), "image");
  g_autofree char *path = NULL;
  Proc *p;

  if (image == NULL || *image == '\0')
    {
      fail_task (self, task, BERTH_TASK_STATE_FAILED, _("a container task needs an image"));
      return;
    }
  p = proc_new (self, task);
  p->container = TRUE;
  p->pulling = TRUE;
  path = g_strdup_printf ("/api/images/%s", image);
  runtime_task_api_call (self->api, "GET", path, NULL, image_cb, step_new (self, task), step_free);
}

static void
removed_cb (guint status, GBytes *body, const char *error, gpointer user_data)
{
  if (status != 204 && status != 404)
    g_debug ("removing a task's container: %u %s", status, error != NULL ? error : "");
}

static void
container_remove (RuntimeTasks *self, const char *id)
{
  g_autofree char *path = NULL;

  if (id == NULL)
    return;
  path = g_strdup_printf ("/api/containers/%s?force=1", id);
  runtime_task_api_call (self->api, "DELETE", path, NULL, removed_cb, NULL, NULL);
}

static void
inspected_cb (guint status, GBytes *body, const char *error, gpointer user_data)
{
  Step *st = user_data;
  Proc *p = g_hash_table_lookup (st->self->procs, st->task_id);
  g_autoptr(JsonNode) node = runtime_task_api_parse (body);
  JsonObject *o = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const char *state;
  JsonNode *code;
  g_autofree char *id = NULL;

  if (p == NULL)
    return;
  p->inspecting = FALSE;
  if (status == 404)
    {
      finish (p, FALSE, 0, _("The task's container is gone"));
      return;
    }
  if (status != 200 || o == NULL)
    return;   /* try again at the next tick */
  state = runtime_json_get_string (o, "State");
  if (g_strcmp0 (state, "running") == 0 || g_strcmp0 (state, "created") == 0 ||
      g_strcmp0 (state, "creating") == 0 || g_strcmp0 (state, "stopping") == 0)
    return;
  code = json_object_get_member (o, "ExitCode");
  id = g_strdup (p->container_id);
  if (code != NULL && JSON_NODE_HOLDS_VALUE (code))
    finish (p, TRUE, (gint) json_node_get_int (code), NULL);
  else
    finish (p, FALSE, 0, _("The task's container stopped"));
  container_remove (st->self, id);
}

static gboolean
container_poll_cb (gpointer user_data)
{
  RuntimeTasks *self = user_data;
  g_autoptr(GPtrArray) due = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  /* collected first: a call may answer (and finish a task) at once */
  g_hash_table_iter_init (&iter, self->procs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Proc *p = value;
      if (p->container && p->container_id != NULL && p->reported && !p->inspecting)
        g_ptr_array_add (due, step_new (self, p->task));
    }
  for (guint i = 0; i < due->len; i++)
    {
      Step *st = g_ptr_array_index (due, i);
      Proc *p = g_hash_table_lookup (self->procs, st->task_id);
      g_autofree char *path = NULL;

      if (p == NULL)
        {
          step_free (st);
          continue;
        }
      p->inspecting = TRUE;
      path = g_strdup_printf ("/api/containers/%s", p->container_id);
      runtime_task_api_call (self->api, "GET", path, NULL, inspected_cb, st, step_free);
    }
  return G_SOURCE_CONTINUE;
}

static void
stopped_cb (guint status, GBytes *body, const char *error, gpointer user_data)
{
  if (status >= 300 && status != 304)
    g_debug ("stopping a task's container: %u %s", status, error != NULL ? error : "");
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

static void
kill_task (RuntimeTasks *self, Proc *p)
{
  JsonObject *spec = berth_task_get_spec (p->task);
  gint64 grace = json_object_get_int_member_with_default (spec, "kill_grace_seconds", 3);
  gboolean ok;

  if (p->killing)
    return;
  p->killing = TRUE;
  if (p->container)
    {
      g_autofree char *path = NULL;
      if (p->container_id == NULL || !p->reported)
        return;   /* still being made: stopped once started */
      path = g_strdup_printf ("/api/containers/%s/stop?t=%" G_GINT64_FORMAT, p->container_id, CLAMP (grace, 0, 3600));
      runtime_task_api_call (self->api, "POST", path, NULL, stopped_cb, NULL, NULL);
      return;
    }
  if (p->pid <= 0)
    p->pid = read_int_file (p->dir, "pid", &ok);
  if (p->pid > 0 && kill (-p->pid, SIGTERM) < 0)
    kill (p->pid, SIGTERM);
  if (p->pid <= 0 && p->sup_pid > 0)
    kill (p->sup_pid, SIGTERM);
  p->kill_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, (guint) CLAMP (grace, 0, 3600),
                                           kill_hard_cb, p, NULL);
}

/* The task ended: reports how (@have_code: with exit status @code) and
 * forgets its process. */
static void
finish (Proc *p, gboolean have_code, gint code, const char *lost)
{
  RuntimeTasks *self = p->owner;
  g_autoptr(BerthTask) task = g_object_ref (p->task);
  g_autofree char *dir = g_strdup (p->dir);
  g_autofree char *now = berth_task_timestamp_now ();
  gboolean wanted_dead = p->killing || berth_task_get_desired_state (task) == BERTH_TASK_DESIRED_KILLED;

  g_hash_table_remove (self->procs, berth_task_get_id (task));   /* frees p */
  if (wanted_dead)
    {
      berth_task_set_state (task, BERTH_TASK_STATE_KILLED);
      berth_task_set_message (task, _("Task killed"));
    }
  else if (have_code && code == 0)
    {
      berth_task_set_state (task, BERTH_TASK_STATE_FINISHED);
      berth_task_set_message (task, _("Command exited with status 0"));
    }
  else if (have_code)
    {
      g_autofree char *msg = code > 128 ? g_strdup_printf (_("Command terminated by signal %d"), code - 128)
                                        : g_strdup_printf (_("Command exited with status %d"), code);
      berth_task_set_state (task, BERTH_TASK_STATE_FAILED);
      berth_task_set_message (task, msg);
    }
  else
    {
      berth_task_set_state (task, BERTH_TASK_STATE_LOST);
      berth_task_set_message (task, lost);
    }
  if (have_code)
    berth_task_set_exit_code (task, code);
  berth_task_set_finished_at (task, now);
  report (self, task);
  runtime_rm_rf (dir, NULL);
}

/* The supervisor ended: report how the command did. */
static void
proc_exited (Proc *p)
{
  gboolean have_code = FALSE;
  gint code = read_int_file (p->dir, "exit", &have_code);

  finish (p, have_code, code, _("The task's supervisor died"));
}

static gboolean
poll_cb (gpointer user_data)
{
  RuntimeTasks *self = user_data;
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
    berth_store_write_async (self->store, write_states, g_ptr_array_ref (started),
                             (GDestroyNotify) g_ptr_array_unref, NULL, write_done_cb, NULL);
  for (guint i = 0; i < gone->len; i++)
    proc_exited (g_ptr_array_index (gone, i));
  return G_SOURCE_CONTINUE;
}

/* Acts on one task of this node. */
static void
handle_task (RuntimeTasks *self, BerthTask *task)
{
  const char *id = berth_task_get_id (task);
  Proc *p = g_hash_table_lookup (self->procs, id);
  gboolean want_running = berth_task_get_desired_state (task) == BERTH_TASK_DESIRED_RUNNING;

  if (p != NULL)
    {
      /* keep the newest desired state */
      berth_task_set_desired_state (p->task, berth_task_get_desired_state (task));
      if (!want_running)
        kill_task (self, p);
      return;
    }
  if (berth_task_is_terminal (task) || g_hash_table_contains (self->started, id))
    return;
  if (!want_running)
    {
      runtime_launch_queue_remove (self->launches, id);
      if (berth_task_get_state (task) == BERTH_TASK_STATE_STAGING)
        fail_task (self, task, BERTH_TASK_STATE_KILLED, _("Task killed before it started"));
      return;
    }
  /* started from the launch queue, at a bounded rate */
  if (berth_task_get_state (task) == BERTH_TASK_STATE_STAGING)
    runtime_launch_queue_push (self->launches, id);
}

/* The launch queue's turn for task @id: starts it if it still is to run
 * (its desired state may have changed while it waited). */
static gboolean
launch_cb (const char *id, gpointer user_data)
{
  RuntimeTasks *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(BerthTask) task = NULL;

  if (g_hash_table_contains (self->procs, id) || g_hash_table_contains (self->started, id))
    return FALSE;
  task = berth_task_lookup (self->store, id, &error);
  if (task == NULL || g_strcmp0 (berth_task_get_node_id (task), self->node_id) != 0 ||
      berth_task_get_state (task) != BERTH_TASK_STATE_STAGING)
    return FALSE;
  if (berth_task_get_desired_state (task) != BERTH_TASK_DESIRED_RUNNING)
    {
      fail_task (self, task, BERTH_TASK_STATE_KILLED, _("Task killed before it started"));
      return FALSE;
    }
  start_task (self, task);
  return TRUE;
}

/* Launches that have not reached TASK_RUNNING (or failed) yet. */
static guint
in_flight_cb (gpointer user_data)
{
  RuntimeTasks *self = user_data;
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->procs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Proc *p = value;
      if (!p->reported && !p->adopted && !p->pulling)
        n++;
    }
  return n;
}

static guint
launch_setting (BerthContext *context, const char *key, guint fallback)
{
  guint64 v = berth_context_get_config_uint64 (context, "runtime", key, fallback);

  if (v < 1 || v > MAX_LAUNCH_SETTING)
    {
      g_warning (_("config: [runtime] %s = %" G_GUINT64_FORMAT " is out of range (1 to %u); using %u"), key, v,
                 MAX_LAUNCH_SETTING, fallback);
      return fallback;
    }
  return (guint) v;
}

static gboolean
idle_cb (gpointer user_data)
{
  RuntimeTasks *self = user_data;
  g_autoptr(GHashTable) dirty = g_steal_pointer (&self->dirty);
  GHashTableIter iter;
  gpointer key;

  self->idle_id = 0;
  self->dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_iter_init (&iter, dirty);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BerthTask) task = berth_task_lookup (self->store, key, &error);

      if (task == NULL)
        {
          Proc *p = g_hash_table_lookup (self->procs, key);
          if (!g_error_matches (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
            g_warning (_("cannot read task %s: %s"), (const char *) key, error->message);
          else if (p != NULL)
            kill_task (self, p);   /* its row is gone: nobody wants it */
          else
            {
              g_hash_table_remove (self->started, key);
              runtime_launch_queue_remove (self->launches, key);
            }
          continue;
        }
      if (g_strcmp0 (berth_task_get_node_id (task), self->node_id) == 0)
        handle_task (self, task);
    }
  return G_SOURCE_REMOVE;
}

static void
changed_cb (BerthStore *store, guint64 index, const char *topic, const char *key, gpointer user_data)
{
  RuntimeTasks *self = user_data;

  if (g_strcmp0 (topic, "task") != 0 || key == NULL)
    return;
  g_hash_table_add (self->dirty, g_strdup (key));
  if (self->idle_id == 0)
    self->idle_id = g_idle_add (idle_cb, self);
}

/* At start: adopt what still runs, report what ended, start the rest. */
static void
reconcile (RuntimeTasks *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tasks = berth_task_list (self->store, NULL, self->node_id, &error);

  if (tasks == NULL)
    {
      g_warning (_("cannot read the tasks: %s"), error->message);
      return;
    }
  for (guint i = 0; i < tasks->len; i++)
    {
      BerthTask *task = g_ptr_array_index (tasks, i);
      g_autofree char *dir = g_build_filename (self->dir, berth_task_get_id (task), NULL);
      gboolean ok = FALSE;
      gint sup = read_int_file (dir, "supervisor.pid", &ok);
      gboolean have_exit = FALSE;

      if (berth_task_is_terminal (task))
        continue;
      if (g_strcmp0 (runtime_json_get_string (berth_task_get_spec (task), "kind"), "container") == 0)
        {
          if (berth_task_get_runtime_id (task) != NULL &&
              berth_task_get_state (task) == BERTH_TASK_STATE_RUNNING)
            {
              /* adopted: the inspect poll learns whether it still runs */
              Proc *p = proc_new (self, task);
              p->container = TRUE;
              p->container_id = g_strdup (berth_task_get_runtime_id (task));
              p->reported = TRUE;
              g_hash_table_add (self->started, g_strdup (berth_task_get_id (task)));
              if (berth_task_get_desired_state (task) == BERTH_TASK_DESIRED_KILLED)
                kill_task (self, p);
            }
          else
            handle_task (self, task);
          continue;
        }
      read_int_file (dir, "exit", &have_exit);
      if (!ok && g_file_test (dir, G_FILE_TEST_IS_DIR))
        {
          sup = find_supervisor (dir);
          ok = sup > 0;
        }
      if (ok && (have_exit || is_supervisor (sup, dir)))
        {
          Proc *p = proc_new (self, task);
          p->sup_pid = sup;
          p->adopted = TRUE;
          p->pid = read_int_file (dir, "pid", &ok);
          p->reported = berth_task_get_state (task) == BERTH_TASK_STATE_RUNNING;
          g_hash_table_add (self->started, g_strdup (berth_task_get_id (task)));
          g_message (_("task %s: adopted (pid %d)"), berth_task_get_id (task), p->pid);
          if (have_exit)
            proc_exited (p);
          else if (berth_task_get_desired_state (task) == BERTH_TASK_DESIRED_KILLED)
            kill_task (self, p);
          continue;
        }
      if (berth_task_get_state (task) != BERTH_TASK_STATE_STAGING)
        {
          g_hash_table_add (self->started, g_strdup (berth_task_get_id (task)));
          fail_task (self, task, BERTH_TASK_STATE_LOST, _("The task was gone when berthd restarted"));
          runtime_rm_rf (dir, NULL);
          continue;
        }
      handle_task (self, task);
    }
}

RuntimeTasks *
runtime_tasks_new (BerthContext *context, const char *root)
{
  RuntimeTasks *self = g_new0 (RuntimeTasks, 1);
  BerthNode *node = berth_context_get_node (context);

  self->context = context;
  self->store = g_object_ref (berth_context_get_store (context));
  self->node_id = g_strdup (node != NULL ? berth_node_get_id (node) : "local");
  self->host = g_strdup (node != NULL ? berth_node_get_address (node) : "127.0.0.1");
  self->dir = g_build_filename (root, "tasks", NULL);
  g_mkdir_with_parents (self->dir, 0700);
  self->procs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) proc_free);
  self->started = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->launches = runtime_launch_queue_new (
    launch_setting (context, "max_launches_per_second", DEFAULT_LAUNCHES_PER_SECOND),
    launch_setting (context, "max_launches_in_flight", DEFAULT_LAUNCHES_IN_FLIGHT), launch_cb, in_flight_cb, self);
  self->changed_id = g_signal_connect (self->store, "changed", G_CALLBACK (changed_cb), self);
  self->poll_id = g_timeout_add (POLL_INTERVAL_MS, poll_cb, self);
  self->container_poll_id = g_timeout_add (CONTAINER_POLL_MS, container_poll_cb, self);
  {
    g_autofree char *socket = g_build_filename (berth_context_get_state_dir (context), "berth.sock", NULL);
    self->api = runtime_task_api_new (socket);
  }
  reconcile (self);
  return self;
}

void
runtime_tasks_free (RuntimeTasks *self)
{
  if (self == NULL)
    return;
  g_clear_signal_handler (&self->changed_id, self->store);
  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_handle_id (&self->container_poll_id, g_source_remove);
  g_clear_pointer (&self->launches, runtime_launch_queue_free);
  g_clear_pointer (&self->api, runtime_task_api_free);
  /* tasks keep running: the next berthd adopts them */
  g_hash_table_unref (self->procs);
  g_hash_table_unref (self->started);
  g_hash_table_unref (self->dirty);
  g_object_unref (self->store);
  g_free (self->node_id);
  g_free (self->host);
  g_free (self->dir);
  g_free (self);
}
