/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <signal.h>

#include "runtime-container-private.h"

/* A command run in a running container (`docker exec`), for command
 * health checks: `<oci runtime> exec` for OCI containers, a chroot into
 * its root filesystem for the exec runtime's. Its combined output is kept
 * up to a bound (the rest is read and dropped); it is killed at its
 * deadline. */

#define READ_CHUNK 4096

typedef struct {
  GSubprocess  *proc;
  GInputStream *out;
  GString      *output;
  gsize         max_output;
  guint         timeout_id;
  gboolean      timed_out;
  gboolean      eof;
  gboolean      exited;
  int           status;
} Exec;

static void
exec_free (Exec *e)
{
  g_clear_handle_id (&e->timeout_id, g_source_remove);
  g_clear_object (&e->proc);
  g_clear_object (&e->out);
  g_string_free (e->output, TRUE);
  g_free (e);
}

static void
maybe_done (GTask *task)
{
  Exec *e = g_task_get_task_data (task);

  if (!e->eof || !e->exited)
    return;
  if (e->timed_out)
    g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_TIMEOUT, _("The command timed out"));
  else
    g_task_return_boolean (task, TRUE);
}

static void
read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Exec *e = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  gsize len = bytes != NULL ? g_bytes_get_size (bytes) : 0;

  if (len == 0)
    {
      e->eof = TRUE;
      maybe_done (task);
      g_object_unref (task);
      return;
    }
  if (e->output->len < e->max_output)
    g_string_append_len (e->output, g_bytes_get_data (bytes, NULL),
                         (gssize) MIN (len, e->max_output - e->output->len));
  g_input_stream_read_bytes_async (e->out, READ_CHUNK, G_PRIORITY_DEFAULT, NULL, read_cb, task);
}

static void
wait_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Exec *e = g_task_get_task_data (task);

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  e->exited = TRUE;
  g_clear_handle_id (&e->timeout_id, g_source_remove);
  if (g_subprocess_get_if_exited (e->proc))
    e->status = g_subprocess_get_exit_status (e->proc);
  else if (g_subprocess_get_if_signaled (e->proc))
    e->status = 128 + g_subprocess_get_term_sig (e->proc);
  else
    e->status = -1;
  maybe_done (task);
  g_object_unref (task);
}

static gboolean
timeout_cb (gpointer user_data)
{
  Exec *e = user_data;

  e->timeout_id = 0;
  e->timed_out = TRUE;
  g_subprocess_force_exit (e->proc);
  return G_SOURCE_REMOVE;
}

void
runtime_containers_exec_async (RuntimeContainers *self, const char *key, const char * const *argv,
                               guint timeout_ms, gsize max_output, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  Ctr *c = runtime_containers_lookup (self, key, &error);
  Exec *e;

  g_task_set_source_tag (task, runtime_containers_exec_async);
  if (c == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (argv == NULL || argv[0] == NULL)
    {
      g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_INVALID, _("No command to run"));
      return;
    }
  if (g_strcmp0 (c->state, "running") != 0)
    {
      g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_CONFLICT, _("Container %s is not running"), c->name);
      return;
    }
  if (g_strcmp0 (c->runtime, "exec") == 0)
    {
      g_ptr_array_add (args, g_strdup ("chroot"));
      g_ptr_array_add (args, runtime_ctr_path (c, "rootfs"));
    }
  else if (self->host->oci_path != NULL)
    {
      g_ptr_array_add (args, g_strdup (self->host->oci_path));
      g_ptr_array_add (args, g_strdup ("--root"));
      g_ptr_array_add (args, g_strdup (self->oci_root));
      g_ptr_array_add (args, g_strdup ("exec"));
      g_ptr_array_add (args, g_strdup (c->id));
    }
  else
    {
      g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE,
                               _("The container's OCI runtime is not in use any more"));
      return;
    }
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (args, g_strdup (argv[i]));
  g_ptr_array_add (args, NULL);

  e = g_new0 (Exec, 1);
  e->output = g_string_new (NULL);
  e->max_output = max_output;
  g_task_set_task_data (task, e, (GDestroyNotify) exec_free);
  e->proc = g_subprocess_newv ((const char * const *) args->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_INHERIT | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  if (e->proc == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  e->out = g_object_ref (g_subprocess_get_stdout_pipe (e->proc));
  if (timeout_ms > 0)
    e->timeout_id = g_timeout_add (timeout_ms, timeout_cb, e);
  /* two references: the reader's and the waiter's; the last one returns */
  g_subprocess_wait_async (e->proc, NULL, wait_cb, g_object_ref (task));
  g_input_stream_read_bytes_async (e->out, READ_CHUNK, G_PRIORITY_DEFAULT, NULL, read_cb, g_object_ref (task));
}

gboolean
runtime_containers_exec_finish (RuntimeContainers *self, GAsyncResult *result, int *exit_status, char **output,
                                GError **error)
{
  Exec *e = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (exit_status != NULL)
    *exit_status = e->status;
  if (output != NULL)
    *output = g_strndup (e->output->str, e->output->len);
  return TRUE;
}
