/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib-unix.h>
#include <string.h>
#include <unistd.h>

#include "runtime-conmon.h"
#include "runtime-util.h"

/* conmon: one monitor process per container. It daemonizes, runs
 * `<runtime> create`, reports the container's pid on the sync pipe
 * (`_OCI_SYNCPIPE`), then copies the container's output into a
 * k8s-file log and writes the exit code to <exit-dir>/<id> when the
 * container ends, whether berthd is running or not. */

gint
runtime_conmon_create (const RuntimeConmonArgs *a, GCancellable *cancellable, GError **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autofree char *log_arg = g_strconcat ("k8s-file:", a->log_path, NULL);
  g_autofree char *err_path = g_build_filename (a->persist_dir, "conmon.err", NULL);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GString) reply = g_string_new (NULL);
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *err_text = NULL;
  JsonObject *obj;
  int fds[2];
  char buf[4096];
  ssize_t n;
  gint64 pid;

  if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
    return -1;
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  g_subprocess_launcher_setenv (launcher, "_OCI_SYNCPIPE", "3", TRUE);
  /* conmon outlives this call: its stderr goes to a file, not a pipe */
  g_subprocess_launcher_set_stderr_file_path (launcher, err_path);

  g_ptr_array_add (argv, (char *) a->conmon);
  g_ptr_array_add (argv, "--api-version");
  g_ptr_array_add (argv, "1");
  g_ptr_array_add (argv, "--cid");
  g_ptr_array_add (argv, (char *) a->id);
  g_ptr_array_add (argv, "--cuuid");
  g_ptr_array_add (argv, (char *) a->id);
  g_ptr_array_add (argv, "--name");
  g_ptr_array_add (argv, (char *) a->name);
  g_ptr_array_add (argv, "--runtime");
  g_ptr_array_add (argv, (char *) a->runtime);
  g_ptr_array_add (argv, "--runtime-arg");
  g_ptr_array_add (argv, "--root");
  g_ptr_array_add (argv, "--runtime-arg");
  g_ptr_array_add (argv, (char *) a->runtime_root);
  g_ptr_array_add (argv, "--bundle");
  g_ptr_array_add (argv, (char *) a->bundle);
  g_ptr_array_add (argv, "--log-path");
  g_ptr_array_add (argv, log_arg);
  g_ptr_array_add (argv, "--exit-dir");
  g_ptr_array_add (argv, (char *) a->exit_dir);
  g_ptr_array_add (argv, "--persist-dir");
  g_ptr_array_add (argv, (char *) a->persist_dir);
  g_ptr_array_add (argv, "--socket-dir-path");
  g_ptr_array_add (argv, (char *) a->socket_dir);
  g_ptr_array_add (argv, "--container-pidfile");
  g_ptr_array_add (argv, (char *) a->pidfile);
  g_ptr_array_add (argv, "--conmon-pidfile");
  g_ptr_array_add (argv, (char *) a->conmon_pidfile);
  g_ptr_array_add (argv, "--log-level");
  g_ptr_array_add (argv, "error");
  g_ptr_array_add (argv, NULL);

  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, error);
  if (proc == NULL)
    {
      close (fds[0]);
      return -1;
    }
  /* the launcher still holds the write end: drop it so EOF can come */
  g_clear_object (&launcher);
  while ((n = read (fds[0], buf, sizeof buf)) != 0)
    {
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      g_string_append_len (reply, buf, n);
      if (strchr (reply->str, '\n') != NULL)
        break;
    }
  close (fds[0]);
  g_subprocess_wait (proc, cancellable, NULL);
  if (g_file_get_contents (err_path, &err_text, NULL, NULL))
    g_strstrip (err_text);
  /* one message a line: the first is the create's answer */
  if (strchr (reply->str, '\n') != NULL)
    g_string_truncate (reply, (gsize) (strchr (reply->str, '\n') - reply->str));
  root = berth_json_parse (reply->str, (gssize) reply->len, NULL);
  obj = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  if (obj == NULL || !json_object_has_member (obj, "data"))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, _("conmon failed to create the container%s%s"),
                   err_text != NULL && *err_text ? ": " : "", err_text != NULL ? err_text : "");
      return -1;
    }
  pid = json_object_get_int_member (obj, "data");
  if (pid <= 0)
    {
      const char *msg = runtime_json_get_string (obj, "message");
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, _("The OCI runtime failed to create the container: %s"),
                   msg != NULL ? msg : (err_text != NULL ? err_text : _("unknown error")));
      return -1;
    }
  return (gint) pid;
}

static GPtrArray *
runtime_argv (const char *runtime, const char *root, const char * const *args)
{
  GPtrArray *argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (char *) runtime);
  g_ptr_array_add (argv, "--root");
  g_ptr_array_add (argv, (char *) root);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  return argv;
}

static void
communicate_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  GSubprocess *proc = G_SUBPROCESS (source);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (!g_subprocess_communicate_utf8_finish (proc, result, &out, &err, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!g_subprocess_get_successful (proc))
    {
      g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_FAILED, "%s",
                               err != NULL && *err ? g_strstrip (err) : _("the OCI runtime failed"));
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&out), g_free);
}

void
runtime_oci_run_async (const char *runtime, const char *root, const char * const *args,
                       GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GPtrArray) argv = runtime_argv (runtime, root, args);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_newv ((const char * const *) argv->pdata,
                                                   G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                   G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);

  if (proc == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  g_subprocess_communicate_utf8_async (proc, NULL, cancellable, communicate_cb, task);
}

char *
runtime_oci_run_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

char *
runtime_oci_run_sync (const char *runtime, const char *root, const char * const *args, GError **error)
{
  g_autoptr(GPtrArray) argv = runtime_argv (runtime, root, args);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                     &status, error))
    return NULL;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, "%s",
                   err != NULL && *err ? g_strstrip (err) : _("the OCI runtime failed"));
      return NULL;
    }
  return g_steal_pointer (&out);
}
