/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>

#include "runtime-cni.h"
#include "runtime-conmon.h"
#include "runtime-container-private.h"
#include "runtime-exec.h"
#include "runtime-overlay.h"
#include "runtime-util.h"

/* The life of a created container: start, signals, stop, wait, removal. */

/* ------------------------------------------------------------- start */

static Ctr *
task_ctr (GTask *task)
{
  return g_task_get_task_data (task);
}

static GTask *
op_task_new (Ctr *c, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data,
             gpointer tag)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  if (c != NULL)
    g_task_set_task_data (task, runtime_ctr_ref (c), (GDestroyNotify) runtime_ctr_unref);
  return task;
}

/* the op's answer: TRUE, FALSE (unchanged) or an error */
static gboolean
op_finish (GAsyncResult *result, gboolean *unchanged, GError **error)
{
  GError *local = NULL;
  gssize v = g_task_propagate_int (G_TASK (result), &local);

  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (unchanged != NULL)
    *unchanged = v == 0;
  return TRUE;
}

static void
started_saved_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_int (task, 1);
  runtime_ctr_check_exit (task_ctr (task));
}

static void
save_then_return (Ctr *c, GTask *task)
{
  GTask *save = g_task_new (NULL, NULL, started_saved_cb, g_object_ref (task));

  runtime_ctr_save (c, save);
  g_object_unref (save);
}

static void
start_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Ctr *c = task_ctr (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = runtime_oci_run_finish (result, &error);

  if (c->owner == NULL)
    {
      g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE, _("berthd is shutting down"));
      return;
    }
  if (out == NULL && g_strcmp0 (c->state, "exited") != 0)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_strcmp0 (c->state, "created") == 0)
    {
      runtime_ctr_set_state (c, "running");
      c->started_at = g_get_real_time ();
    }
  else if (c->started_at == 0)
    c->started_at = c->finished_at > 0 ? c->finished_at : g_get_real_time ();
  save_then_return (c, task);
}

void
runtime_containers_start_async (RuntimeContainers *self, const char *key, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  Ctr *c = runtime_containers_lookup (self, key, &error);
  g_autoptr(GTask) task = op_task_new (c, cancellable, callback, user_data, runtime_containers_start_async);

  if (c == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_strcmp0 (c->state, "running") == 0)
    {
      g_task_return_int (task, 0);
      return;
    }
  if (g_strcmp0 (c->state, "created") != 0)
    {
      g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_CONFLICT,
                               _("Container %s is %s and cannot be started"), c->name, c->state);
      return;
    }
  if (g_strcmp0 (c->runtime, "exec") == 0)
    {
      g_autofree char *dir = runtime_ctr_path (c, NULL);
      if (!runtime_exec_start (dir, c->id, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      runtime_exec_check (dir, c->id, &c->pid);
      runtime_ctr_set_state (c, "running");
      c->started_at = g_get_real_time ();
      save_then_return (c, task);
      return;
    }
  {
    const char *args[] = { "start", c->id, NULL };
    runtime_oci_run_async (self->host->oci_path, self->oci_root, args, NULL, start_done_cb,
                           g_steal_pointer (&task));
  }
}

gboolean
runtime_containers_start_finish (RuntimeContainers *self, GAsyncResult *result, gboolean *unchanged,
                                 GError **error)
{
  return op_finish (result, unchanged, error);
}

/* ------------------------------------------------------------- signals */

static void
kill_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Ctr *c = task_ctr (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = runtime_oci_run_finish (result, &error);

  if (out == NULL)
    g_debug ("kill %s: %s", c->name, error->message);
  if (out == NULL && g_strcmp0 (c->state, "running") == 0)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_int (task, 1);
  runtime_ctr_check_exit (c);
}

/* Sends @sig to the container's init; @task (may be NULL) learns how
 * that went. */
void
runtime_ctr_signal (Ctr *c, int sig, GTask *task)
{
  RuntimeContainers *self = c->owner;

  if (self == NULL)
    {
      if (task != NULL)
        g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE, _("berthd is shutting down"));
      return;
    }
  if (g_strcmp0 (c->runtime, "exec") != 0 && self->host->oci_path == NULL)
    {
      if (task != NULL)
        g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE,
                                 _("The container's OCI runtime is not in use any more"));
      return;
    }
  if (g_strcmp0 (c->runtime, "exec") == 0)
    {
      g_autofree char *dir = runtime_ctr_path (c, NULL);
      runtime_exec_signal (dir, c->id, sig);
      if (task != NULL)
        g_task_return_int (task, 1);
      return;
    }
  {
    g_autofree char *signum = g_strdup_printf ("%d", sig);
    const char *args[] = { "kill", c->id, signum, NULL };
    GTask *t = task != NULL ? g_object_ref (task) : op_task_new (c, NULL, NULL, NULL, runtime_ctr_signal);
    runtime_oci_run_async (self->host->oci_path, self->oci_root, args, NULL, kill_done_cb, t);
  }
}

void
runtime_containers_kill_async (RuntimeContainers *self, const char *key, int signum, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  Ctr *c = runtime_containers_lookup (self, key, &error);
  g_autoptr(GTask) task = op_task_new (c, cancellable, callback, user_data, runtime_containers_kill_async);

  if (c == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else if (signum <= 0 || signum >= 65)
    g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_INVALID, _("Unknown signal"));
  else if (g_strcmp0 (c->state, "running") != 0 && g_strcmp0 (c->state, "created") != 0)
    g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_CONFLICT, _("Container %s is not running"), c->name);
  else
    runtime_ctr_signal (c, signum, task);
}

gboolean
runtime_containers_kill_finish (RuntimeContainers *self, GAsyncResult *result, GError **error)
{
  return op_finish (result, NULL, error);
}

/* ------------------------------------------------------------- stop */

static gboolean
kill_timeout_cb (gpointer user_data)
{
  Ctr *c = user_data;

  c->kill_timer = 0;
  if (g_strcmp0 (c->state, "running") == 0 || g_strcmp0 (c->state, "created") == 0)
    {
      g_message (_("container %s did not stop in time: killing it"), c->name);
      runtime_ctr_signal (c, SIGKILL, NULL);
    }
  return G_SOURCE_REMOVE;
}

/* The image's StopSignal (Docker honours it), else SIGTERM. */
static int
stop_signal_of (Ctr *c)
{
  RuntimeImages *images = runtime_plugin_get_images (c->owner->plugin);
  g_autoptr(RuntimeImageInfo) info = c->image_id != NULL ? runtime_images_get_info (images, c->image_id, NULL)
                                                           : NULL;
  g_autoptr(JsonNode) root = info != NULL ? berth_json_parse (info->config_json, -1, NULL) : NULL;
  JsonObject *config = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
                         ? runtime_json_get_object (json_node_get_object (root), "config") : NULL;
  const char *name = runtime_json_get_string (config, "StopSignal");
  int sig;

  if (name != NULL && *name != '\0' && runtime_parse_signal (name, &sig))
    return sig;
  return SIGTERM;
}

static void
stopped_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  JsonObject *status = g_task_propagate_pointer (G_TASK (result), NULL);

  g_clear_pointer (&status, json_object_unref);
  g_task_return_int (task, 1);
}

void
runtime_containers_stop_async (RuntimeContainers *self, const char *key, guint timeout_s,
                               GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  Ctr *c = runtime_containers_lookup (self, key, &error);
  g_autoptr(GTask) task = op_task_new (c, cancellable, callback, user_data, runtime_containers_stop_async);

  if (c == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_strcmp0 (c->state, "running") != 0 && g_strcmp0 (c->state, "created") != 0)
    {
      g_task_return_int (task, 0);
      return;
    }
  {
    GTask *exit = g_task_new (NULL, NULL, stopped_cb, g_object_ref (task));
    runtime_ctr_on_exit (c, exit);
    g_object_unref (exit);
  }
  if (timeout_s == 0)
    runtime_ctr_signal (c, SIGKILL, NULL);
  else
    {
      runtime_ctr_signal (c, stop_signal_of (c), NULL);
      if (c->kill_timer == 0)
        c->kill_timer = g_timeout_add_full (G_PRIORITY_DEFAULT, MIN (timeout_s, 3600) * 1000, kill_timeout_cb,
                                            runtime_ctr_ref (c), (GDestroyNotify) runtime_ctr_unref);
    }
}

gboolean
runtime_containers_stop_finish (RuntimeContainers *self, GAsyncResult *result, gboolean *unchanged,
                                GError **error)
{
  return op_finish (result, unchanged, error);
}

/* ------------------------------------------------------------- wait */

void
runtime_containers_wait_async (RuntimeContainers *self, const char *key, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  Ctr *c = runtime_containers_lookup (self, key, &error);
  g_autoptr(GTask) task = op_task_new (c, cancellable, callback, user_data, runtime_containers_wait_async);

  if (c == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else if (g_strcmp0 (c->state, "exited") == 0)
    g_task_return_pointer (task, runtime_ctr_exit_status (c), (GDestroyNotify) json_object_unref);
  else
    runtime_ctr_on_exit (c, task);
}

JsonObject *
runtime_containers_wait_finish (RuntimeContainers *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------- removal */

typedef struct {
  char             *id;
  char             *dir;
  char             *exit_path;
  char             *oci_path;
  char             *oci_root;
  char             *netns;
  gboolean          bridge;
  JsonNode         *spec;
  RuntimeCniConfig  cni;
  gboolean          exec_runtime;
} RemoveJob;

static void
remove_job_free (RemoveJob *j)
{
  g_free (j->id);
  g_free (j->dir);
  g_free (j->exit_path);
  g_free (j->oci_path);
  g_free (j->oci_root);
  g_free (j->netns);
  json_node_unref (j->spec);
  runtime_cni_config_clear (&j->cni);
  g_free (j);
}

static void
remove_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RemoveJob *j = task_data;
  g_autofree char *rootfs = g_build_filename (j->dir, "rootfs", NULL);
  g_autofree char *result_path = g_build_filename (j->dir, "cni-result.json", NULL);
  g_autofree char *result = NULL;
  g_autoptr(GError) error = NULL;

  if (!j->exec_runtime && j->oci_path != NULL)
    {
      /* usually already deleted when it exited */
      g_autofree char *state = g_build_filename (j->oci_root, j->id, NULL);
      if (g_file_test (state, G_FILE_TEST_EXISTS))
        {
          const char *args[] = { "delete", "--force", j->id, NULL };
          g_free (runtime_oci_run_sync (j->oci_path, j->oci_root, args, NULL));
        }
    }
  if (j->bridge)
    {
      g_file_get_contents (result_path, &result, NULL, NULL);
      runtime_cni_teardown (&j->cni, j->id, j->netns,
                            runtime_json_get_array (json_node_get_object (j->spec), "ports"), result);
    }
  if (!runtime_overlay_umount (rootfs, &error) || !runtime_rm_rf (j->dir, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_unlink (j->exit_path);
  if (j->exec_runtime)
    runtime_exec_cleanup (j->id);
  g_task_return_boolean (task, TRUE);
}

static void
remove_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;   /* may be a task of its own (auto-remove) */
  Ctr *c = task_ctr (task);
  RuntimeContainers *self = c->owner;
  g_autoptr(GError) error = NULL;

  if (self == NULL)
    {
      g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE, _("berthd is shutting down"));
      return;
    }
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      c->removing = FALSE;
      g_warning (_("container %s: removal failed: %s"), c->name, error->message);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  c->removed = TRUE;
  g_hash_table_remove (self->by_id, c->id);
  /* answered once the row is gone */
  runtime_ctr_delete_row (self, c->id, task);
}

static void
auto_removed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_debug ("auto-remove: %s", error->message);
}

/* Removes the files and the row of an exited container. */
void
runtime_ctr_remove (Ctr *c, GTask *task)
{
  RuntimeContainers *self = c->owner;
  g_autoptr(GTask) job_task = NULL;
  RemoveJob *j;

  if (task == NULL)
    task = op_task_new (c, NULL, auto_removed_cb, NULL, runtime_ctr_remove);
  else
    g_object_ref (task);
  if (self == NULL)
    {
      g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE, _("berthd is shutting down"));
      g_object_unref (task);
      return;
    }
  c->removing = TRUE;
  if (c->oci_deleting)
    {
      /* the runtime is deleting it already: go on when that is done */
      g_clear_object (&c->remove_after_delete);
      c->remove_after_delete = task;
      return;
    }
  if (self->logs != NULL)
    runtime_logs_remove (self->logs, c->id);
  j = g_new0 (RemoveJob, 1);
  j->id = g_strdup (c->id);
  j->dir = g_build_filename (self->dir, c->id, NULL);
  j->exit_path = runtime_ctr_exit_path (c);
  j->oci_path = g_strdup (self->host->oci_path);
  j->oci_root = g_strdup (self->oci_root);
  j->netns = g_strdup_printf ("berth-%.12s", c->id);
  j->bridge = g_strcmp0 (runtime_ctr_network (c), "bridge") == 0;
  j->spec = json_node_copy (c->spec);
  j->exec_runtime = g_strcmp0 (c->runtime, "exec") == 0;
  j->cni.cni_path = g_strdup (self->cni.cni_path);
  j->cni.bridge = g_strdup (self->cni.bridge);
  j->cni.subnet = g_strdup (self->cni.subnet);
  j->cni.data_dir = g_strdup (self->cni.data_dir);
  job_task = g_task_new (NULL, NULL, remove_done_cb, task);
  g_task_set_task_data (job_task, j, (GDestroyNotify) remove_job_free);
  g_task_run_in_thread (job_task, remove_thread);
}

static void
remove_after_exit_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  JsonObject *status = g_task_propagate_pointer (G_TASK (result), NULL);
  Ctr *c = task_ctr (task);

  g_clear_pointer (&status, json_object_unref);

  if (!c->removing && !c->removed)
    runtime_ctr_remove (c, task);
  else
    g_task_return_boolean (task, TRUE);
}

void
runtime_containers_remove_async (RuntimeContainers *self, const char *key, gboolean force,
                                 GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  Ctr *c = NULL;
  g_autoptr(GTask) task = NULL;

  if (key != NULL && berth_context_is_broken (self->context, "container", key))
    {
      /* a row set aside when it was loaded */
      task = op_task_new (NULL, cancellable, callback, user_data, runtime_containers_remove_async);
      berth_context_forget_broken (self->context, "container", key);
      runtime_ctr_delete_row (self, key, task);
      return;
    }
  c = runtime_containers_lookup (self, key, &error);
  task = op_task_new (c, cancellable, callback, user_data, runtime_containers_remove_async);
  if (c == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else if (c->removing)
    g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_CONFLICT, _("The container is already being removed"));
  else if (g_strcmp0 (c->state, "running") == 0 || g_strcmp0 (c->state, "created") == 0)
    {
      GTask *exit;

      if (!force)
        {
          g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_CONFLICT,
                                   _("Container %s is %s: stop it first or use ?force=1"), c->name, c->state);
          return;
        }
      exit = g_task_new (NULL, NULL, remove_after_exit_cb, g_object_ref (task));
      runtime_ctr_on_exit (c, exit);
      g_object_unref (exit);
      runtime_ctr_signal (c, SIGKILL, NULL);
    }
  else if (g_strcmp0 (c->state, "creating") == 0)
    g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_CONFLICT, _("The container is still being created"));
  else
    runtime_ctr_remove (c, task);
}

gboolean
runtime_containers_remove_finish (RuntimeContainers *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
