/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime-cgroup.h"
#include "runtime-conmon.h"
#include "runtime-container-private.h"
#include "runtime-db.h"
#include "runtime-exec.h"
#include "runtime-util.h"
#include <berth-store-raw.h>

/* Containers. Every container is a row in the `containers` table (with
 * the node it runs on) and a directory <root>/containers/<id> holding its
 * bundle (config.json, overlay rootfs, upper and work dirs), its log and
 * conmon's files. conmon supervises each container, so containers outlive
 * berthd; exits are noticed through conmon's exit files (<root>/exits/<id>,
 * watched with inotify and polled as a fallback), and on start berthd
 * reconciles every row with what it finds (exit file, conmon alive).
 *
 * The in-memory records are what the node's containers are; the rows
 * follow them (saved in the background, except the first one, which
 * must exist before anything is made). Slow steps (mounting, networking,
 * conmon creating the container, removal) run in worker threads that
 * touch only the paths and copies handed to them; the records and the
 * store are touched on the main thread only. This file: records, rows,
 * exits, setup; runtime-container-create.c and runtime-container-ops.c
 * the operations. */

#define POLL_SECONDS 1

/* ------------------------------------------------------------- records */

Ctr *
runtime_ctr_ref (Ctr *c)
{
  c->ref_count++;
  return c;
}

void
runtime_ctr_unref (Ctr *c)
{
  if (--c->ref_count > 0)
    return;
  g_free (c->id);
  g_free (c->name);
  g_free (c->image_id);
  g_free (c->image_ref);
  g_clear_pointer (&c->spec, json_node_unref);
  g_free (c->runtime);
  g_free (c->state);
  g_free (c->reason);
  g_free (c->address);
  g_ptr_array_unref (c->exit_tasks);
  g_clear_object (&c->remove_after_delete);
  g_clear_handle_id (&c->kill_timer, g_source_remove);
  g_free (c);
}

Ctr *
runtime_ctr_new (RuntimeContainers *owner)
{
  Ctr *c = g_new0 (Ctr, 1);

  c->ref_count = 1;
  c->owner = owner;
  c->exit_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  return c;
}

void
runtime_ctr_set_state (Ctr *c, const char *state)
{
  g_free (c->state);
  c->state = g_strdup (state);
}

JsonObject *
runtime_ctr_spec (Ctr *c)
{
  return json_node_get_object (c->spec);
}

char *
runtime_ctr_path (Ctr *c, const char *name)
{
  return g_build_filename (c->owner->dir, c->id, name, NULL);
}

const char *
runtime_ctr_network (Ctr *c)
{
  const char *n = runtime_json_get_string (runtime_ctr_spec (c), "network");
  return n != NULL ? n : "bridge";
}

char *
runtime_ctr_exit_path (Ctr *c)
{
  return g_build_filename (c->owner->exit_dir, c->id, NULL);
}

/* whether its process may still run (and write output) */
gboolean
runtime_ctr_is_live (Ctr *c)
{
  return g_strcmp0 (c->state, "running") == 0 || g_strcmp0 (c->state, "created") == 0 ||
         g_strcmp0 (c->state, "creating") == 0;
}

BerthStore *
runtime_containers_store (RuntimeContainers *self)
{
  return berth_context_get_store (self->context);
}

static GVariant *
text_or_null (const char *s)
{
  return s != NULL ? g_variant_new_string (s) : g_variant_new ("mv", NULL);
}

static RuntimeDbBatch *
ctr_save_batch (Ctr *c)
{
  RuntimeDbBatch *batch = runtime_db_batch_new (RUNTIME_CONTAINERS_TOPIC, c->id);
  g_autofree char *spec = runtime_json_to_string (c->spec);

  runtime_db_batch_add (batch,
                        "INSERT INTO containers (id, name, node_id, image_id, image_ref, spec, runtime,"
                        " state, pid, conmon_pid, exit_code, reason, address, created_at, started_at,"
                        " finished_at, create_index, modify_index)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17)"
                        " ON CONFLICT(id) DO UPDATE SET state = excluded.state, pid = excluded.pid,"
                        " conmon_pid = excluded.conmon_pid, exit_code = excluded.exit_code,"
                        " reason = excluded.reason, address = excluded.address,"
                        " started_at = excluded.started_at, finished_at = excluded.finished_at,"
                        " modify_index = excluded.modify_index",
                        g_variant_new_string (c->id), g_variant_new_string (c->name),
                        g_variant_new_string (c->owner->node_id), text_or_null (c->image_id),
                        text_or_null (c->image_ref), g_variant_new_string (spec),
                        g_variant_new_string (c->runtime), g_variant_new_string (c->state),
                        g_variant_new_int64 (c->pid), g_variant_new_int64 (c->conmon_pid),
                        c->has_exit ? g_variant_new_int64 (c->exit_code) : g_variant_new ("mv", NULL),
                        text_or_null (c->reason), text_or_null (c->address),
                        g_variant_new_int64 (c->created_at),
                        c->started_at ? g_variant_new_int64 (c->started_at) : g_variant_new ("mv", NULL),
                        c->finished_at ? g_variant_new_int64 (c->finished_at) : g_variant_new ("mv", NULL),
                        RUNTIME_DB_INDEX, NULL);
  return batch;
}

gboolean
runtime_ctr_save_sync (Ctr *c, GError **error)
{
  g_autoptr(RuntimeDbBatch) batch = ctr_save_batch (c);
  guint64 index = runtime_db_batch_run (batch, runtime_containers_store (c->owner), error);

  if (index == 0)
    return FALSE;
  if (c->create_index == 0)
    c->create_index = index;
  c->modify_index = index;
  return TRUE;
}

typedef struct {
  Ctr   *ctr;
  GTask *task;
} Save;

static void
saved_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Save *s = user_data;
  g_autoptr(GError) error = NULL;
  guint64 index = runtime_db_batch_run_finish (BERTH_STORE (source), result, &error);

  if (index > 0)
    {
      if (s->ctr->create_index == 0)
        s->ctr->create_index = index;
      s->ctr->modify_index = MAX (s->ctr->modify_index, index);
    }
  if (s->task != NULL)
    {
      if (index > 0)
        g_task_return_boolean (s->task, TRUE);
      else
        g_task_return_error (s->task, g_steal_pointer (&error));
      g_object_unref (s->task);
    }
  else if (index == 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning (_("container %s: cannot save its state: %s"), s->ctr->name, error->message);
  runtime_ctr_unref (s->ctr);
  g_free (s);
}

void
runtime_ctr_save (Ctr *c, GTask *task)
{
  RuntimeDbBatch *batch = ctr_save_batch (c);
  Save *s = g_new0 (Save, 1);

  s->ctr = runtime_ctr_ref (c);
  s->task = task != NULL ? g_object_ref (task) : NULL;
  runtime_db_batch_run_async (batch, runtime_containers_store (c->owner), saved_cb, s);
}

static void
deleted_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (runtime_db_batch_run_finish (BERTH_STORE (source), result, &error) == 0)
    {
      if (task != NULL)
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_warning (_("cannot delete a container's row: %s"), error->message);
      return;
    }
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

void
runtime_ctr_delete_row (RuntimeContainers *self, const char *id, GTask *task)
{
  RuntimeDbBatch *batch = runtime_db_batch_new (RUNTIME_CONTAINERS_TOPIC, id);

  if (g_str_has_prefix (id, "rowid-"))
    runtime_db_batch_add (batch, "DELETE FROM containers WHERE rowid = ?1",
                          g_variant_new_int64 (g_ascii_strtoll (id + 6, NULL, 10)), NULL);
  else
    runtime_db_batch_add (batch, "DELETE FROM containers WHERE id = ?1", g_variant_new_string (id), NULL);
  runtime_db_batch_run_async (batch, runtime_containers_store (self), deleted_cb,
                              task != NULL ? g_object_ref (task) : NULL);
}

#define CTR_COLUMNS "id, name, node_id, image_id, image_ref, spec, runtime, state, pid, conmon_pid," \
                    " exit_code, reason, address, created_at, started_at, finished_at, create_index," \
                    " modify_index"

/* What is wrong with a stored container row (CTR_COLUMNS, then its
 * rowid), or NULL when it can be used. */
static char *
ctr_row_problem (sqlite3_stmt *stmt)
{
  static const char * const states[] = { "creating", "created", "running", "exited", NULL };
  const char *id = (const char *) sqlite3_column_text (stmt, 0);
  const char *name = (const char *) sqlite3_column_text (stmt, 1);
  const char *state = (const char *) sqlite3_column_text (stmt, 7);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) spec = NULL;

  if (id == NULL || strlen (id) != 64 || strspn (id, "0123456789abcdef") != 64)
    return g_strdup (_("its id is not 64 hexadecimal digits"));
  if (name == NULL || *name == '\0')
    return g_strdup (_("it has no name"));
  if (sqlite3_column_text (stmt, 6) == NULL)
    return g_strdup (_("it names no runtime"));
  if (state == NULL || !g_strv_contains (states, state))
    return g_strdup_printf (_("unknown state “%s”"), state != NULL ? state : "");
  spec = berth_json_parse ((const char *) sqlite3_column_text (stmt, 5), -1, &error);
  if (spec == NULL)
    return g_strdup_printf (_("its spec cannot be read: %s"), error->message);
  if (!JSON_NODE_HOLDS_OBJECT (spec))
    return g_strdup (_("its spec is not a JSON object"));
  return NULL;
}

/* The id a broken row is reported (and deleted) under: its id when it has
 * a usable one, else rowid-N. */
static char *
ctr_row_broken_id (sqlite3_stmt *stmt)
{
  const char *id = (const char *) sqlite3_column_text (stmt, 0);

  if (id != NULL && *id != '\0' && g_utf8_validate (id, -1, NULL) && strchr (id, '/') == NULL)
    return g_strdup (id);
  return g_strdup_printf ("rowid-%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (stmt, 18));
}

static Ctr *
ctr_from_row (RuntimeContainers *self, sqlite3_stmt *stmt)
{
  Ctr *c = runtime_ctr_new (self);

  c->id = runtime_db_column_dup (stmt, 0);
  c->name = runtime_db_column_dup (stmt, 1);
  c->image_id = runtime_db_column_dup (stmt, 3);
  c->image_ref = runtime_db_column_dup (stmt, 4);
  c->spec = berth_json_parse ((const char *) sqlite3_column_text (stmt, 5), -1, NULL);
  if (c->spec == NULL || !JSON_NODE_HOLDS_OBJECT (c->spec))
    {
      g_clear_pointer (&c->spec, json_node_unref);
      c->spec = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (c->spec, json_object_new ());
    }
  c->runtime = runtime_db_column_dup (stmt, 6);
  c->state = runtime_db_column_dup (stmt, 7);
  c->pid = sqlite3_column_int (stmt, 8);
  c->conmon_pid = sqlite3_column_int (stmt, 9);
  c->has_exit = sqlite3_column_type (stmt, 10) != SQLITE_NULL;
  c->exit_code = sqlite3_column_int (stmt, 10);
  c->reason = runtime_db_column_dup (stmt, 11);
  c->address = runtime_db_column_dup (stmt, 12);
  c->created_at = sqlite3_column_int64 (stmt, 13);
  c->started_at = sqlite3_column_int64 (stmt, 14);
  c->finished_at = sqlite3_column_int64 (stmt, 15);
  c->create_index = (guint64) sqlite3_column_int64 (stmt, 16);
  c->modify_index = (guint64) sqlite3_column_int64 (stmt, 17);
  return c;
}

void
runtime_containers_set_exit_func (RuntimeContainers *self, RuntimeContainerExitFunc func, gpointer user_data)
{
  self->exit_func = func;
  self->exit_data = user_data;
}

/* ------------------------------------------------------------- exits */

static gboolean
ctr_was_oom_killed (Ctr *c)
{
  g_autofree char *oom_file = runtime_ctr_path (c, "persist/oom");

  /* conmon's note, else the counter of its cgroup (/berth/<id>) */
  return g_file_test (oom_file, G_FILE_TEST_EXISTS) || runtime_cgroup_oom_killed (c->id);
}

static void
delete_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = runtime_oci_run_finish (result, &error);
  g_autoptr(Ctr) c = user_data;

  if (out == NULL)
    g_debug ("runtime delete %s: %s", c->id, error->message);
  c->oci_deleting = FALSE;
  if (c->owner == NULL)
    return;
  if (c->remove_after_delete != NULL && !c->removed)
    {
      g_autoptr(GTask) task = g_steal_pointer (&c->remove_after_delete);
      c->removing = FALSE;
      runtime_ctr_remove (c, task);
    }
}

JsonObject *
runtime_ctr_exit_status (Ctr *c)
{
  JsonObject *o = json_object_new ();

  json_object_set_int_member (o, "StatusCode", c->exit_code);
  json_object_set_boolean_member (o, "OOMKilled", g_strcmp0 (c->reason, "OOMKilled") == 0);
  json_object_set_string_member (o, "Reason", c->reason != NULL ? c->reason : "");
  return o;
}

void
runtime_ctr_on_exit (Ctr *c, GTask *task)
{
  g_ptr_array_add (c->exit_tasks, g_object_ref (task));
}

static void
ctr_exited (Ctr *c, gint code, const char *reason, gint64 when)
{
  RuntimeContainers *self = c->owner;
  g_autoptr(GPtrArray) tasks = NULL;

  c->has_exit = TRUE;
  c->exit_code = code;
  g_free (c->reason);
  c->reason = g_strdup (reason);
  c->finished_at = when;
  c->pid = 0;
  runtime_ctr_set_state (c, "exited");
  g_clear_handle_id (&c->kill_timer, g_source_remove);
  runtime_ctr_save (c, NULL);
  g_message (_("container %s exited with code %d (%s)"), c->name, code, reason);

  if (self->host->kind == RUNTIME_KIND_OCI && g_strcmp0 (c->runtime, "exec") != 0)
    {
      const char *args[] = { "delete", "--force", c->id, NULL };
      c->oci_deleting = TRUE;
      runtime_oci_run_async (self->host->oci_path, self->oci_root, args, NULL, delete_done_cb,
                             runtime_ctr_ref (c));
    }

  /* conmon synced the log before it wrote the exit file: the readers get
   * the rest now, then learn it ended */
  if (self->logs != NULL)
    runtime_logs_source_ended (self->logs, c->id);
  if (self->exit_func != NULL)
    self->exit_func (c->id, code, g_strcmp0 (reason, "OOMKilled") == 0, self->exit_data);

  tasks = g_steal_pointer (&c->exit_tasks);
  c->exit_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < tasks->len; i++)
    g_task_return_pointer (g_ptr_array_index (tasks, i), runtime_ctr_exit_status (c),
                           (GDestroyNotify) json_object_unref);

  if (json_object_get_boolean_member_with_default (runtime_ctr_spec (c), "auto_remove", FALSE) && !c->removing)
    runtime_ctr_remove (c, NULL);
}

static gboolean
pid_alive (gint pid)
{
  return pid > 0 && (kill (pid, 0) == 0 || errno == EPERM);
}

/* Looks at conmon's exit file (and whether conmon still lives) and
 * records an exit. */
void
runtime_ctr_check_exit (Ctr *c)
{
  g_autofree char *path = NULL;
  g_autofree char *data = NULL;
  GStatBuf st;

  if (c->owner == NULL || c->removed ||
      !(g_strcmp0 (c->state, "running") == 0 || g_strcmp0 (c->state, "created") == 0))
    return;
  if (g_strcmp0 (c->runtime, "exec") == 0)
    {
      /* the exec runtime writes the same exit file as conmon */
      g_autofree char *dir = runtime_ctr_path (c, NULL);
      runtime_exec_check (dir, c->id, &c->pid);
    }
  path = runtime_ctr_exit_path (c);
  if (g_file_get_contents (path, &data, NULL, NULL) && *g_strstrip (data) != '\0')
    {
      gint code = (gint) g_ascii_strtoll (data, NULL, 10);
      gboolean oom = ctr_was_oom_killed (c);
      gint64 when = g_stat (path, &st) == 0 ? (gint64) st.st_mtime * G_USEC_PER_SEC : g_get_real_time ();
      g_autofree char *reason = NULL;

      if (oom)
        reason = g_strdup ("OOMKilled");
      else if (code > 128 && code < 128 + 65)
        reason = g_strdup_printf ("Killed by signal %d", code - 128);
      else
        reason = g_strdup ("Exited");
      ctr_exited (c, code, reason, when);
      return;
    }
  if (c->conmon_pid > 0 && !pid_alive (c->conmon_pid))
    {
      /* conmon writes the exit file before it exits: look once more */
      g_clear_pointer (&data, g_free);
      if (g_file_get_contents (path, &data, NULL, NULL) && *g_strstrip (data) != '\0')
        {
          runtime_ctr_check_exit (c);
          return;
        }
      ctr_exited (c, -1, _("Its monitor (conmon) went away"), g_get_real_time ());
    }
}

static void
exit_dir_changed_cb (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                     gpointer user_data)
{
  RuntimeContainers *self = user_data;
  g_autofree char *name = NULL;
  Ctr *c;

  if (event != G_FILE_MONITOR_EVENT_CREATED && event != G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT &&
      event != G_FILE_MONITOR_EVENT_MOVED_IN && event != G_FILE_MONITOR_EVENT_RENAMED &&
      event != G_FILE_MONITOR_EVENT_CHANGED)
    return;
  name = g_file_get_basename (event == G_FILE_MONITOR_EVENT_RENAMED && other != NULL ? other : file);
  c = g_hash_table_lookup (self->by_id, name);
  if (c != NULL)
    {
      Ctr *keep = runtime_ctr_ref (c);  /* the check may drop the table's reference */
      runtime_ctr_check_exit (keep);
      runtime_ctr_unref (keep);
    }
}

/* the fallback for exits inotify did not report (conmon gone, say) */
static gboolean
poll_cb (gpointer user_data)
{
  RuntimeContainers *self = user_data;
  g_autoptr(GPtrArray) live = g_ptr_array_new_with_free_func ((GDestroyNotify) runtime_ctr_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_strcmp0 (((Ctr *) value)->state, "running") == 0 || g_strcmp0 (((Ctr *) value)->state, "created") == 0)
      g_ptr_array_add (live, runtime_ctr_ref (value));
  for (guint i = 0; i < live->len; i++)
    runtime_ctr_check_exit (g_ptr_array_index (live, i));
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------- setup */

RuntimeContainers *
runtime_containers_new (RuntimePlugin *plugin, RuntimeLogs *logs, GError **error)
{
  RuntimeContainers *self = g_new0 (RuntimeContainers, 1);
  const char *root = runtime_plugin_get_root (plugin);
  BerthNode *node;
  g_autoptr(GFile) exit_file = NULL;

  self->plugin = plugin;
  self->logs = logs;
  self->context = berth_plugin_get_context (BERTH_PLUGIN (plugin));
  self->host = runtime_plugin_get_host (plugin);
  self->dir = g_build_filename (root, "containers", NULL);
  self->exit_dir = g_build_filename (root, "exits", NULL);
  self->oci_root = g_build_filename (root, "oci", NULL);
  self->socket_dir = g_build_filename (root, "sockets", NULL);
  node = berth_context_get_node (self->context);
  self->node_id = g_strdup (node != NULL && berth_node_get_id (node) != NULL ? berth_node_get_id (node) : "local");
  self->by_id = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) runtime_ctr_unref);
  if (g_mkdir_with_parents (self->dir, 0700) < 0 || g_mkdir_with_parents (self->exit_dir, 0700) < 0 ||
      g_mkdir_with_parents (self->oci_root, 0700) < 0 || g_mkdir_with_parents (self->socket_dir, 0700) < 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, _("Cannot create %s"), self->dir);
      runtime_containers_free (self);
      return NULL;
    }
  self->cni.cni_path = berth_context_dup_config_string (self->context, "runtime", "cni_path", "/usr/lib/cni");
  self->cni.bridge = berth_context_dup_config_string (self->context, "runtime", "bridge", "berth0");
  self->cni.subnet = berth_context_dup_config_string (self->context, "runtime", "subnet", "10.213.0.0/24");
  self->cni.data_dir = g_build_filename (root, "cni", NULL);
  self->cni_ok = runtime_cni_available (&self->cni, &self->cni_why);
  if (!self->cni_ok)
    g_message (_("bridge networking unavailable (%s); containers default to network “none”"),
               self->cni_why);

  exit_file = g_file_new_for_path (self->exit_dir);
  self->exit_monitor = g_file_monitor_directory (exit_file, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
  if (self->exit_monitor != NULL)
    g_signal_connect (self->exit_monitor, "changed", G_CALLBACK (exit_dir_changed_cb), self);
  self->poll_id = g_timeout_add_seconds (POLL_SECONDS, poll_cb, self);
  return self;
}

void
runtime_containers_free (RuntimeContainers *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->poll_id, g_source_remove);
  /* work still in flight (runtime calls, threads) finds its container
   * orphaned and stops there */
  if (self->by_id != NULL)
    {
      GHashTableIter iter;
      gpointer value;
      g_hash_table_iter_init (&iter, self->by_id);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          Ctr *c = value;
          c->owner = NULL;
          g_clear_handle_id (&c->kill_timer, g_source_remove);
        }
    }
  if (self->exit_monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->exit_monitor, self);
      g_file_monitor_cancel (self->exit_monitor);
      g_clear_object (&self->exit_monitor);
    }
  g_clear_pointer (&self->by_id, g_hash_table_unref);
  runtime_cni_config_clear (&self->cni);
  g_free (self->cni_why);
  g_free (self->dir);
  g_free (self->exit_dir);
  g_free (self->oci_root);
  g_free (self->socket_dir);
  g_free (self->node_id);
  g_free (self);
}

static gboolean
image_in_use (const char *image_id, gpointer user_data)
{
  RuntimeContainers *self = user_data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_strcmp0 (((Ctr *) value)->image_id, image_id) == 0)
      return TRUE;
  return FALSE;
}

gboolean
runtime_containers_reconcile (RuntimeContainers *self, GError **error)
{
  BerthStore *store = runtime_containers_store (self);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, "SELECT " CTR_COLUMNS ", rowid FROM containers"
                                                             " WHERE node_id = ? ORDER BY create_index",
                                                      error);
  g_autoptr(GPtrArray) loaded = g_ptr_array_new ();
  gboolean have_row;

  runtime_images_set_in_use_func (runtime_plugin_get_images (self->plugin), image_in_use, self);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, self->node_id, -1, SQLITE_TRANSIENT);
  while (berth_store_step (store, stmt, &have_row, error) && have_row)
    {
      g_autofree char *problem = ctr_row_problem (stmt);
      Ctr *c;

      if (problem != NULL)
        {
          /* set aside: berthd comes up without it; DELETE removes it */
          g_autofree char *id = ctr_row_broken_id (stmt);
          berth_context_report_broken (self->context, "runtime", "container", id, problem);
          continue;
        }
      c = ctr_from_row (self, stmt);
      g_hash_table_replace (self->by_id, c->id, c);
      g_ptr_array_add (loaded, c);
    }
  if (error != NULL && *error != NULL)
    return FALSE;
  for (guint i = 0; i < loaded->len; i++)
    {
      Ctr *c = g_ptr_array_index (loaded, i);
      g_autofree char *conmon_pidfile = runtime_ctr_path (c, "conmon.pid");
      g_autofree char *log = runtime_ctr_path (c, "ctr.log");

      if (self->logs != NULL)
        runtime_logs_add_container (self->logs, c->id, c->name, log, runtime_ctr_is_live (c));
      if (g_strcmp0 (c->state, "creating") == 0)
        {
          ctr_exited (c, -1, _("berthd stopped while the container was being created"), g_get_real_time ());
          continue;
        }
      if (g_strcmp0 (c->state, "running") != 0 && g_strcmp0 (c->state, "created") != 0)
        continue;
      if (c->conmon_pid <= 0)
        c->conmon_pid = runtime_read_pidfile (conmon_pidfile);
      runtime_ctr_check_exit (c);
      if (g_strcmp0 (c->state, "running") == 0 || g_strcmp0 (c->state, "created") == 0)
        g_message (_("container %s is still %s (pid %d)"), c->name, c->state, c->pid);
    }
  return TRUE;
}
