/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime-cni.h"
#include "runtime-conmon.h"
#include "runtime-container.h"
#include "runtime-db.h"
#include "runtime-exec.h"
#include "runtime-oci-config.h"
#include "runtime-overlay.h"
#include "runtime-stream.h"
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
 * Slow steps (mounting, networking, conmon creating the container,
 * removal) run in worker threads that touch only the paths and copies
 * handed to them; the in-memory records and the store are touched on the
 * main thread only. */

#define TOPIC "containers"
#define POLL_SECONDS 1
#define LOG_POLL_MS 100

typedef struct _Ctr Ctr;

typedef struct {
  GCallback      func;   /* void (*) (gpointer data) */
  gpointer       data;
  GDestroyNotify destroy;
} ExitCb;

static void
exit_cb_free (ExitCb *cb)
{
  if (cb->destroy != NULL)
    cb->destroy (cb->data);
  g_free (cb);
}

struct _RuntimeContainers {
  RuntimePlugin    *plugin;
  BerthContext     *context;
  const RuntimeHost *host;
  char             *dir;
  char             *exit_dir;
  char             *oci_root;
  char             *socket_dir;
  char             *node_id;
  RuntimeCniConfig  cni;
  gboolean          cni_ok;
  char             *cni_why;
  GHashTable       *by_id;      /* id → Ctr */
  GFileMonitor     *exit_monitor;
  guint             poll_id;
};

struct _Ctr {
  gint               ref_count;
  RuntimeContainers *owner;
  char              *id;
  char              *name;
  char              *image_id;
  char              *image_ref;
  JsonNode          *spec;
  char              *runtime;
  char              *state;
  gint               pid;
  gint               conmon_pid;
  gint               exit_code;
  gboolean           has_exit;
  char              *reason;
  char              *address;
  gint64             created_at;
  gint64             started_at;
  gint64             finished_at;
  guint64            create_index;
  GPtrArray         *waiters;    /* RuntimeStream*: wait answers, sent at the exit */
  GPtrArray         *exit_cbs;   /* ExitCb*: internal work to do on exit */
  guint              kill_timer;
  GPtrArray         *followers;  /* LogFollow* (not owned) */
  gboolean           oci_deleting;         /* `runtime delete` after the exit in flight */
  gboolean           remove_after_delete;  /* a removal waits for it */
  BerthRequest      *remove_request;
  gboolean           removing;
  gboolean           removed;
};

static void ctr_check_exit (Ctr *c);
static void logs_exited (Ctr *c);
static void remove_container (Ctr *c, BerthRequest *req);

/* ------------------------------------------------------------- records */

static Ctr *
ctr_ref (Ctr *c)
{
  c->ref_count++;
  return c;
}

static void
ctr_unref (Ctr *c)
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
  g_ptr_array_unref (c->waiters);
  g_ptr_array_unref (c->exit_cbs);
  g_ptr_array_unref (c->followers);
  g_clear_object (&c->remove_request);
  g_clear_handle_id (&c->kill_timer, g_source_remove);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Ctr, ctr_unref)

static Ctr *
ctr_new (RuntimeContainers *owner)
{
  Ctr *c = g_new0 (Ctr, 1);

  c->ref_count = 1;
  c->owner = owner;
  c->waiters = g_ptr_array_new_with_free_func ((GDestroyNotify) runtime_stream_unref);
  c->exit_cbs = g_ptr_array_new_with_free_func ((GDestroyNotify) exit_cb_free);
  c->followers = g_ptr_array_new ();
  return c;
}

static void
ctr_set_state (Ctr *c, const char *state)
{
  g_free (c->state);
  c->state = g_strdup (state);
}

static JsonObject *
ctr_spec (Ctr *c)
{
  return json_node_get_object (c->spec);
}

static char *
ctr_path (Ctr *c, const char *name)
{
  return g_build_filename (c->owner->dir, c->id, name, NULL);
}

static char *
ctr_netns (Ctr *c)
{
  return g_strdup_printf ("berth-%.12s", c->id);
}

static const char *
ctr_network (Ctr *c)
{
  const char *n = runtime_json_get_string (ctr_spec (c), "network");
  return n != NULL ? n : "bridge";
}

static char *
ctr_exit_path (Ctr *c)
{
  return g_build_filename (c->owner->exit_dir, c->id, NULL);
}

static BerthStore *
store_of (RuntimeContainers *self)
{
  return berth_context_get_store (self->context);
}

static GVariant *
text_or_null (const char *s)
{
  return s != NULL ? g_variant_new_string (s) : g_variant_new ("mv", NULL);
}

static gboolean
ctr_save (Ctr *c, GError **error)
{
  g_autoptr(RuntimeDbBatch) batch = runtime_db_batch_new (TOPIC, c->id);
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
  return runtime_db_batch_run (batch, store_of (c->owner), error) != 0;
}

static void
ctr_save_or_warn (Ctr *c)
{
  g_autoptr(GError) error = NULL;

  if (!ctr_save (c, &error))
    g_warning ("container %s: cannot save its state: %s", c->name, error->message);
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
  Ctr *c = ctr_new (self);

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
  return c;
}

static void
add_time (JsonBuilder *b, const char *name, gint64 usec)
{
  json_builder_set_member_name (b, name);
  if (usec <= 0)
    json_builder_add_null_value (b);
  else
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
      g_autoptr(GDateTime) precise = g_date_time_add (dt, usec % G_USEC_PER_SEC);
      g_autofree char *text = g_date_time_format (precise, "%Y-%m-%dT%H:%M:%S.%fZ");
      json_builder_add_string_value (b, text);
    }
}

static JsonNode *
row_to_json (sqlite3_stmt *stmt)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) spec = berth_json_parse ((const char *) sqlite3_column_text (stmt, 5), -1, NULL);
  JsonObject *spec_obj = spec != NULL && JSON_NODE_HOLDS_OBJECT (spec) ? json_node_get_object (spec) : NULL;
  const char *state = (const char *) sqlite3_column_text (stmt, 7);
  const char *reason = (const char *) sqlite3_column_text (stmt, 11);
  JsonArray *ports = runtime_json_get_array (spec_obj, "ports");
  const char *network = runtime_json_get_string (spec_obj, "network");

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Id");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 0));
  json_builder_set_member_name (b, "Name");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 1));
  json_builder_set_member_name (b, "Node");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 2));
  json_builder_set_member_name (b, "Image");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 4));
  json_builder_set_member_name (b, "ImageId");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 3));
  json_builder_set_member_name (b, "Runtime");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 6));
  json_builder_set_member_name (b, "State");
  json_builder_add_string_value (b, state);
  json_builder_set_member_name (b, "Running");
  json_builder_add_boolean_value (b, g_strcmp0 (state, "running") == 0);
  json_builder_set_member_name (b, "Pid");
  json_builder_add_int_value (b, sqlite3_column_int (stmt, 8));
  json_builder_set_member_name (b, "ExitCode");
  if (sqlite3_column_type (stmt, 10) == SQLITE_NULL)
    json_builder_add_null_value (b);
  else
    json_builder_add_int_value (b, sqlite3_column_int (stmt, 10));
  json_builder_set_member_name (b, "OOMKilled");
  json_builder_add_boolean_value (b, g_strcmp0 (reason, "OOMKilled") == 0);
  json_builder_set_member_name (b, "Reason");
  if (reason != NULL)
    json_builder_add_string_value (b, reason);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "Network");
  json_builder_add_string_value (b, network != NULL ? network : "bridge");
  json_builder_set_member_name (b, "Address");
  if (sqlite3_column_type (stmt, 12) != SQLITE_NULL)
    json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 12));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "Ports");
  json_builder_begin_array (b);
  for (guint i = 0; ports != NULL && i < json_array_get_length (ports); i++)
    json_builder_add_value (b, json_node_copy (json_array_get_element (ports, i)));
  json_builder_end_array (b);
  add_time (b, "Created", sqlite3_column_int64 (stmt, 13));
  add_time (b, "StartedAt", sqlite3_column_int64 (stmt, 14));
  add_time (b, "FinishedAt", sqlite3_column_int64 (stmt, 15));
  json_builder_set_member_name (b, "CreateIndex");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 16));
  json_builder_set_member_name (b, "ModifyIndex");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 17));
  json_builder_set_member_name (b, "Spec");
  if (spec != NULL)
    json_builder_add_value (b, g_steal_pointer (&spec));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Finds a container by id, id prefix or name. */
static Ctr *
lookup (RuntimeContainers *self, const char *key, GError **error)
{
  GHashTableIter iter;
  gpointer value;
  Ctr *found = NULL;
  gsize klen = key != NULL ? strlen (key) : 0;

  if (key == NULL || klen == 0)
    goto missing;
  found = g_hash_table_lookup (self->by_id, key);
  if (found != NULL)
    return found;
  g_hash_table_iter_init (&iter, self->by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Ctr *c = value;
      if (g_strcmp0 (c->name, key) == 0)
        return c;
    }
  if (klen >= 4)
    {
      g_hash_table_iter_init (&iter, self->by_id);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          Ctr *c = value;
          if (strncmp (c->id, key, klen) == 0)
            {
              if (found != NULL)
                {
                  g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT,
                               _("“%s” matches more than one container"), key);
                  return NULL;
                }
              found = c;
            }
        }
      if (found != NULL)
        return found;
    }
missing:
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("No such container: %s"), key != NULL ? key : "");
  return NULL;
}

static Ctr *
lookup_req (RuntimeContainers *self, BerthRequest *req)
{
  g_autoptr(GError) error = NULL;
  Ctr *c = lookup (self, berth_request_get_param (req, "id"), &error);

  if (c == NULL)
    berth_request_respond_error (req, error);
  return c;
}

static void
respond_gerror (BerthRequest *req, const GError *error)
{
  g_autoptr(GError) berr = runtime_error_to_berth (error);
  berth_request_respond_error (req, berr);
}

/* ------------------------------------------------------------- exits */

static gboolean
read_oom_counter (const char *path, const char *key)
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

static gboolean
ctr_was_oom_killed (Ctr *c)
{
  g_autofree char *oom_file = ctr_path (c, "persist/oom");
  g_autofree char *v1 = g_strdup_printf ("/sys/fs/cgroup/memory/berth/%s/memory.oom_control", c->id);
  g_autofree char *v2 = g_strdup_printf ("/sys/fs/cgroup/berth/%s/memory.events", c->id);

  if (g_file_test (oom_file, G_FILE_TEST_EXISTS))
    return TRUE;
  if (c->owner->host->cgroup_v2)
    return read_oom_counter (v2, "oom_kill");
  return read_oom_counter (v1, "oom_kill");
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
  if (c->remove_after_delete && !c->removed)
    {
      g_autoptr(BerthRequest) req = g_steal_pointer (&c->remove_request);
      c->remove_after_delete = FALSE;
      c->removing = FALSE;
      remove_container (c, req);
    }
}

static JsonNode *
exit_status_json (Ctr *c)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "StatusCode");
  json_builder_add_int_value (b, c->exit_code);
  json_builder_set_member_name (b, "OOMKilled");
  json_builder_add_boolean_value (b, g_strcmp0 (c->reason, "OOMKilled") == 0);
  json_builder_set_member_name (b, "Reason");
  json_builder_add_string_value (b, c->reason != NULL ? c->reason : "");
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
ctr_exited (Ctr *c, gint code, const char *reason, gint64 when)
{
  RuntimeContainers *self = c->owner;

  c->has_exit = TRUE;
  c->exit_code = code;
  g_free (c->reason);
  c->reason = g_strdup (reason);
  c->finished_at = when;
  c->pid = 0;
  ctr_set_state (c, "exited");
  g_clear_handle_id (&c->kill_timer, g_source_remove);
  ctr_save_or_warn (c);
  g_message (_("container %s exited with code %d (%s)"), c->name, code, reason);

  if (self->host->kind == RUNTIME_KIND_OCI && g_strcmp0 (c->runtime, "exec") != 0)
    {
      const char *args[] = { "delete", "--force", c->id, NULL };
      c->oci_deleting = TRUE;
      runtime_oci_run_async (self->host->oci_path, self->oci_root, args, NULL, delete_done_cb,
                             ctr_ref (c));
    }

  /* answer the waiters */
  {
    g_autoptr(GPtrArray) waiters = g_steal_pointer (&c->waiters);
    g_autoptr(GPtrArray) cbs = g_steal_pointer (&c->exit_cbs);
    g_autoptr(JsonNode) status = exit_status_json (c);
    c->waiters = g_ptr_array_new_with_free_func ((GDestroyNotify) runtime_stream_unref);
    c->exit_cbs = g_ptr_array_new_with_free_func ((GDestroyNotify) exit_cb_free);
    for (guint i = 0; i < waiters->len; i++)
      {
        RuntimeStream *stream = g_ptr_array_index (waiters, i);
        runtime_stream_write_json (stream, status);
        runtime_stream_close (stream);
      }
    for (guint i = 0; i < cbs->len; i++)
      {
        ExitCb *cb = g_ptr_array_index (cbs, i);
        ((void (*) (gpointer)) cb->func) (cb->data);
      }
  }

  logs_exited (c);

  if (json_object_get_boolean_member_with_default (ctr_spec (c), "auto_remove", FALSE) && !c->removing)
    remove_container (c, NULL);
}

static gboolean
pid_alive (gint pid)
{
  return pid > 0 && (kill (pid, 0) == 0 || errno == EPERM);
}

static gint
read_pidfile (const char *path)
{
  g_autofree char *data = NULL;

  if (!g_file_get_contents (path, &data, NULL, NULL))
    return 0;
  return (gint) g_ascii_strtoll (data, NULL, 10);
}

/* Looks at conmon's exit file (and whether conmon still lives) and
 * records an exit. */
static void
ctr_check_exit (Ctr *c)
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
      g_autofree char *dir = ctr_path (c, NULL);
      runtime_exec_check (dir, c->id, &c->pid);
    }
  path = ctr_exit_path (c);
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
          ctr_check_exit (c);
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
      g_autoptr(Ctr) keep = ctr_ref (c);
      ctr_check_exit (c);
    }
}

static gboolean
poll_cb (gpointer user_data)
{
  RuntimeContainers *self = user_data;
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) ctr_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (all, ctr_ref (value));
  for (guint i = 0; i < all->len; i++)
    ctr_check_exit (g_ptr_array_index (all, i));
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------- setup */

RuntimeContainers *
runtime_containers_new (RuntimePlugin *plugin, GError **error)
{
  RuntimeContainers *self = g_new0 (RuntimeContainers, 1);
  const char *root = runtime_plugin_get_root (plugin);
  BerthNode *node;
  g_autoptr(GFile) exit_file = NULL;

  self->plugin = plugin;
  self->context = berth_plugin_get_context (BERTH_PLUGIN (plugin));
  self->host = runtime_plugin_get_host (plugin);
  self->dir = g_build_filename (root, "containers", NULL);
  self->exit_dir = g_build_filename (root, "exits", NULL);
  self->oci_root = g_build_filename (root, "oci", NULL);
  self->socket_dir = g_build_filename (root, "sockets", NULL);
  node = berth_context_get_node (self->context);
  self->node_id = g_strdup (node != NULL && berth_node_get_id (node) != NULL ? berth_node_get_id (node) : "local");
  self->by_id = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) ctr_unref);
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
  BerthStore *store = store_of (self);
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
      g_autofree char *conmon_pidfile = ctr_path (c, "conmon.pid");

      if (g_strcmp0 (c->state, "creating") == 0)
        {
          ctr_exited (c, -1, _("berthd stopped while the container was being created"), g_get_real_time ());
          continue;
        }
      if (g_strcmp0 (c->state, "running") != 0 && g_strcmp0 (c->state, "created") != 0)
        continue;
      if (c->conmon_pid <= 0)
        c->conmon_pid = read_pidfile (conmon_pidfile);
      ctr_check_exit (c);
      if (g_strcmp0 (c->state, "running") == 0 || g_strcmp0 (c->state, "created") == 0)
        g_message (_("container %s is still %s (pid %d)"), c->name, c->state, c->pid);
    }
  return TRUE;
}

/* ------------------------------------------------------------- create */

typedef struct {
  /* inputs (copies) */
  char             *id;
  char             *name;
  char             *dir;
  char             *exit_dir;
  char             *oci_root;
  char             *socket_dir;
  JsonNode         *spec;
  char             *image_config;
  GPtrArray        *layer_dirs;
  RuntimeHost       host;
  RuntimeCniConfig  cni;
  gboolean          exec_runtime;
  /* outputs */
  gint              pid;
  gint              conmon_pid;
  char             *address;
} CreateJob;

static void
create_job_free (CreateJob *j)
{
  g_free (j->id);
  g_free (j->name);
  g_free (j->dir);
  g_free (j->exit_dir);
  g_free (j->oci_root);
  g_free (j->socket_dir);
  g_clear_pointer (&j->spec, json_node_unref);
  g_free (j->image_config);
  g_clear_pointer (&j->layer_dirs, g_ptr_array_unref);
  g_free (j->host.oci_path);
  g_free (j->host.conmon_path);
  runtime_cni_config_clear (&j->cni);
  g_free (j->address);
  g_free (j);
}

static gboolean
write_etc_files (CreateJob *j, const char *etc, const char *hostname, GError **error)
{
  g_autofree char *hosts = g_build_filename (etc, "hosts", NULL);
  g_autofree char *hn = g_build_filename (etc, "hostname", NULL);
  g_autofree char *resolv = g_build_filename (etc, "resolv.conf", NULL);
  g_autofree char *hosts_text = g_strdup_printf ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                                                 "%s%s%s\n",
                                                 j->address != NULL ? j->address : "127.0.1.1", "\t", hostname);
  g_autofree char *hn_text = g_strconcat (hostname, "\n", NULL);
  g_autofree char *host_resolv = NULL;

  if (g_mkdir_with_parents (etc, 0755) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot create %s"), etc);
      return FALSE;
    }
  if (!g_file_get_contents ("/etc/resolv.conf", &host_resolv, NULL, NULL))
    host_resolv = g_strdup ("");
  return runtime_write_file (hosts, hosts_text, -1, error) &&
         runtime_write_file (hn, hn_text, -1, error) &&
         runtime_write_file (resolv, host_resolv, -1, error);
}

static void
create_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CreateJob *j = task_data;
  JsonObject *spec = json_node_get_object (j->spec);
  const char *network = runtime_json_get_string (spec, "network");
  g_autofree char *rootfs = g_build_filename (j->dir, "rootfs", NULL);
  g_autofree char *etc = g_build_filename (j->dir, "etc", NULL);
  g_autofree char *persist = g_build_filename (j->dir, "persist", NULL);
  g_autofree char *config_path = g_build_filename (j->dir, "config.json", NULL);
  g_autofree char *cgroups_path = g_strdup_printf ("/berth/%s", j->id);
  g_autofree char *netns = g_strdup_printf ("berth-%.12s", j->id);
  g_autofree char *netns_path = NULL;
  g_autofree char *config = NULL;
  g_autofree char *hostname = g_strndup (j->id, 12);
  g_autoptr(JsonNode) image_root = berth_json_parse (j->image_config, -1, NULL);
  JsonObject *image_config = NULL;
  g_autoptr(GError) error = NULL;
  gboolean networked = FALSE;
  RuntimeOciOptions o = { 0 };

  if (image_root != NULL && JSON_NODE_HOLDS_OBJECT (image_root))
    image_config = runtime_json_get_object (json_node_get_object (image_root), "config");
  if (g_mkdir_with_parents (persist, 0700) < 0)
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot create %s"), persist);
      goto fail;
    }
  if (!runtime_overlay_mount (j->layer_dirs, j->dir, rootfs, &error))
    goto fail;
  g_debug ("create %.12s: root filesystem mounted", j->id);

  if (g_strcmp0 (network, "bridge") == 0)
    {
      g_autofree char *result = NULL;
      g_autofree char *result_path = g_build_filename (j->dir, "cni-result.json", NULL);
      if (!runtime_cni_setup (&j->cni, j->id, netns, runtime_json_get_array (spec, "ports"),
                              &j->address, &result, &error))
        goto fail;
      networked = TRUE;
      runtime_write_file (result_path, result, -1, NULL);
      netns_path = runtime_cni_netns_path (netns);
    }
  if (!write_etc_files (j, etc, hostname, &error))
    goto fail;

  if (j->exec_runtime)
    {
      /* the supervisor plays conmon's part; the process comes at start */
      j->conmon_pid = runtime_exec_create (j->dir, j->exit_dir, j->id, image_config, spec, rootfs,
                                           hostname, &error);
      if (j->conmon_pid <= 0)
        goto fail;
      g_task_return_boolean (task, TRUE);
      return;
    }

  o.image_config = image_config;
  o.spec = spec;
  o.rootfs = rootfs;
  o.hostname = hostname;
  o.cgroups_path = cgroups_path;
  o.netns_path = netns_path;
  o.host_network = g_strcmp0 (network, "host") == 0;
  o.cgroup_v2 = j->host.cgroup_v2;
  o.etc_dir = g_strcmp0 (network, "host") == 0 ? NULL : etc;
  g_debug ("create %.12s: network and files ready", j->id);
  config = runtime_oci_config_build (&o, &error);
  if (config == NULL || !runtime_write_file (config_path, config, -1, &error))
    goto fail;
  {
    g_autofree char *log = g_build_filename (j->dir, "ctr.log", NULL);
    g_autofree char *pidfile = g_build_filename (j->dir, "pidfile", NULL);
    g_autofree char *conmon_pidfile = g_build_filename (j->dir, "conmon.pid", NULL);
    RuntimeConmonArgs a = {
      .conmon = j->host.conmon_path,
      .runtime = j->host.oci_path,
      .runtime_root = j->oci_root,
      .id = j->id,
      .name = j->name,
      .bundle = j->dir,
      .log_path = log,
      .exit_dir = j->exit_dir,
      .persist_dir = persist,
      .socket_dir = j->socket_dir,
      .pidfile = pidfile,
      .conmon_pidfile = conmon_pidfile,
    };
    g_debug ("create %.12s: starting conmon", j->id);
    j->pid = runtime_conmon_create (&a, cancellable, &error);
    if (j->pid <= 0)
      goto fail;
    g_debug ("create %.12s: created, pid %d", j->id, j->pid);
    j->conmon_pid = read_pidfile (conmon_pidfile);
  }
  g_task_return_boolean (task, TRUE);
  return;

fail:
  if (networked)
    runtime_cni_teardown (&j->cni, j->id, netns, runtime_json_get_array (spec, "ports"), NULL);
  runtime_overlay_umount (rootfs, NULL);
  runtime_rm_rf (j->dir, NULL);
  g_task_return_error (task, g_steal_pointer (&error));
}

typedef struct {
  RuntimeContainers *self;
  Ctr               *ctr;
  BerthRequest      *req;
} CreateCall;

static void
create_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CreateCall *call = user_data;
  Ctr *c = call->ctr;
  CreateJob *j = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (c->owner == NULL)
    {
      /* berthd is shutting down: the row says "creating", the next start
       * reconciles it */
      ctr_unref (call->ctr);
      g_object_unref (call->req);
      g_free (call);
      return;
    }
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autoptr(RuntimeDbBatch) batch = runtime_db_batch_new (TOPIC, c->id);
      runtime_db_batch_add (batch, "DELETE FROM containers WHERE id = ?1", g_variant_new_string (c->id), NULL);
      runtime_db_batch_run (batch, store_of (call->self), NULL);
      c->removed = TRUE;
      g_hash_table_remove (call->self->by_id, c->id);
      respond_gerror (call->req, error);
    }
  else
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) node = NULL;

      c->pid = j->pid;
      c->conmon_pid = j->conmon_pid;
      c->address = g_strdup (j->address);
      ctr_set_state (c, "created");
      ctr_save_or_warn (c);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "Id");
      json_builder_add_string_value (b, c->id);
      json_builder_set_member_name (b, "Name");
      json_builder_add_string_value (b, c->name);
      json_builder_set_member_name (b, "Address");
      if (c->address != NULL)
        json_builder_add_string_value (b, c->address);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "Warnings");
      json_builder_begin_array (b);
      json_builder_end_array (b);
      json_builder_end_object (b);
      node = json_builder_get_root (b);
      berth_request_respond_json (call->req, 201, node);
      /* it may have died already */
      ctr_check_exit (c);
    }
  ctr_unref (call->ctr);
  g_object_unref (call->req);
  g_free (call);
}

static gboolean
valid_name (const char *name)
{
  if (name == NULL || !g_ascii_isalnum (name[0]) || strlen (name) > 128)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && strchr ("_.-", *p) == NULL)
      return FALSE;
  return TRUE;
}

static char *
new_id (void)
{
  guint8 bytes[32];
  GString *s = g_string_sized_new (64);

  for (guint i = 0; i < sizeof bytes; i++)
    bytes[i] = (guint8) g_random_int_range (0, 256);
  for (guint i = 0; i < sizeof bytes; i++)
    g_string_append_printf (s, "%02x", bytes[i]);
  return g_string_free (s, FALSE);
}

static gboolean
name_taken (RuntimeContainers *self, const char *name)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_strcmp0 (((Ctr *) value)->name, name) == 0)
      return TRUE;
  return FALSE;
}

/* Checks and normalizes the user's spec; fills in defaults. */
static gboolean
normalize_spec (RuntimeContainers *self, JsonObject *spec, GError **error)
{
  const char *network = runtime_json_get_string (spec, "network");
  JsonArray *ports = runtime_json_get_array (spec, "ports");

  if (network == NULL)
    {
      if (self->host->kind != RUNTIME_KIND_OCI)
        network = "host";
      else
        network = self->cni_ok ? "bridge" : "none";
      json_object_set_string_member (spec, "network", network);
    }
  if (g_strcmp0 (network, "bridge") != 0 && g_strcmp0 (network, "host") != 0 &&
      g_strcmp0 (network, "none") != 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Unknown network “%s” (bridge, host or none)"),
                   network);
      return FALSE;
    }
  if (self->host->kind != RUNTIME_KIND_OCI && g_strcmp0 (network, "host") != 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                   _("The exec runtime (no OCI runtime on this host) only has the host network"));
      return FALSE;
    }
  if (g_strcmp0 (network, "bridge") == 0 && !self->cni_ok)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE, _("Bridge networking is unavailable: %s"),
                   self->cni_why);
      return FALSE;
    }
  for (guint i = 0; ports != NULL && i < json_array_get_length (ports); i++)
    {
      JsonNode *pn = json_array_get_element (ports, i);
      JsonObject *p = JSON_NODE_HOLDS_OBJECT (pn) ? json_node_get_object (pn) : NULL;
      gint64 host = p != NULL ? json_object_get_int_member_with_default (p, "host", 0) : 0;
      gint64 ctr = p != NULL ? json_object_get_int_member_with_default (p, "container", 0) : 0;
      const char *proto = runtime_json_get_string (p, "protocol");

      if (host <= 0 || host > 65535 || ctr <= 0 || ctr > 65535 ||
          (proto != NULL && g_strcmp0 (proto, "tcp") != 0 && g_strcmp0 (proto, "udp") != 0))
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                       _("Invalid port mapping (want {\"host\": N, \"container\": N, \"protocol\": \"tcp\"|\"udp\"})"));
          return FALSE;
        }
      if (g_strcmp0 (network, "bridge") != 0)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Port mappings need the bridge network"));
          return FALSE;
        }
    }
  return TRUE;
}

void
runtime_containers_handle_create (RuntimeContainers *self, BerthRequest *req)
{
  RuntimeImages *images = runtime_plugin_get_images (self->plugin);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = berth_request_parse_json (req, &error);
  g_autoptr(RuntimeImageInfo) info = NULL;
  g_autofree char *image_id = NULL;
  g_autoptr(GTask) task = NULL;
  JsonObject *spec;
  const char *image, *name;
  CreateJob *j;
  CreateCall *call;
  Ctr *c;

  if (body == NULL)
    {
      respond_gerror (req, error);
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (body))
    {
      berth_request_respond_message (req, 400, _("The container spec must be a JSON object"));
      return;
    }
  spec = json_node_get_object (body);
  image = runtime_json_get_string (spec, "image");
  if (image == NULL)
    {
      berth_request_respond_message (req, 400, _("Missing “image”"));
      return;
    }
  image_id = runtime_images_resolve (images, image, &error);
  if (image_id == NULL || (info = runtime_images_get_info (images, image_id, &error)) == NULL ||
      !normalize_spec (self, spec, &error))
    {
      respond_gerror (req, error);
      return;
    }
  name = runtime_json_get_string (spec, "name");
  if (name != NULL && !valid_name (name))
    {
      berth_request_respond_message (req, 400, _("Invalid container name (letters, digits, “_.-”)"));
      return;
    }
  if (name != NULL && name_taken (self, name))
    {
      g_autofree char *msg = g_strdup_printf (_("The container name “%s” is already in use"), name);
      berth_request_respond_message (req, 409, msg);
      return;
    }
  /* the command must be known before anything is made */
  {
    g_autoptr(JsonNode) iroot = berth_json_parse (info->config_json, -1, NULL);
    JsonObject *iconfig = iroot != NULL && JSON_NODE_HOLDS_OBJECT (iroot)
                            ? runtime_json_get_object (json_node_get_object (iroot), "config") : NULL;
    g_auto(GStrv) args = runtime_oci_process_args (iconfig, spec, &error);
    if (args == NULL)
      {
        respond_gerror (req, error);
        return;
      }
  }

  c = ctr_new (self);
  c->id = new_id ();
  c->name = name != NULL ? g_strdup (name) : g_strdup_printf ("c-%.12s", c->id);
  c->image_id = g_strdup (image_id);
  c->image_ref = g_strdup (image);
  c->spec = json_node_copy (body);
  c->runtime = g_strdup (self->host->kind == RUNTIME_KIND_OCI ? self->host->oci_name : "exec");
  c->state = g_strdup ("creating");
  c->created_at = g_get_real_time ();
  if (!ctr_save (c, &error))
    {
      ctr_unref (c);
      respond_gerror (req, error);
      return;
    }
  g_hash_table_replace (self->by_id, c->id, c);

  j = g_new0 (CreateJob, 1);
  j->id = g_strdup (c->id);
  j->name = g_strdup (c->name);
  j->dir = g_build_filename (self->dir, c->id, NULL);
  j->exit_dir = g_strdup (self->exit_dir);
  j->oci_root = g_strdup (self->oci_root);
  j->socket_dir = g_strdup (self->socket_dir);
  j->spec = json_node_copy (c->spec);
  j->image_config = g_strdup (info->config_json);
  j->layer_dirs = g_ptr_array_ref (info->layer_dirs);
  j->host.cgroup_v2 = self->host->cgroup_v2;
  j->host.oci_path = g_strdup (self->host->oci_path);
  j->host.conmon_path = g_strdup (self->host->conmon_path);
  j->exec_runtime = self->host->kind != RUNTIME_KIND_OCI;
  j->cni.cni_path = g_strdup (self->cni.cni_path);
  j->cni.bridge = g_strdup (self->cni.bridge);
  j->cni.subnet = g_strdup (self->cni.subnet);
  j->cni.data_dir = g_strdup (self->cni.data_dir);

  call = g_new0 (CreateCall, 1);
  call->self = self;
  call->ctr = ctr_ref (c);
  call->req = g_object_ref (req);
  task = g_task_new (NULL, NULL, create_done_cb, call);
  g_task_set_task_data (task, j, (GDestroyNotify) create_job_free);
  g_task_run_in_thread (task, create_thread);
}

/* ------------------------------------------------------------- queries */

void
runtime_containers_handle_list (RuntimeContainers *self, BerthRequest *req)
{
  gboolean all = berth_request_has_query (req, "all") &&
                 g_strcmp0 (berth_request_get_query (req, "all"), "0") != 0 &&
                 g_strcmp0 (berth_request_get_query (req, "all"), "false") != 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store_of (self),
                                                      all ? "SELECT " CTR_COLUMNS " FROM containers ORDER BY create_index"
                                                          : "SELECT " CTR_COLUMNS " FROM containers"
                                                            " WHERE state IN ('created', 'running', 'creating')"
                                                            " ORDER BY create_index",
                                                      &error);
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);
  JsonArray *array = json_array_new ();
  gboolean have_row;

  json_node_take_array (node, array);
  if (stmt == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  while (berth_store_step (store_of (self), stmt, &have_row, &error) && have_row)
    {
      g_autofree char *problem = ctr_row_problem (stmt);
      if (problem == NULL)   /* broken rows are listed in /api/status */
        json_array_add_element (array, row_to_json (stmt));
    }
  if (error != NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  berth_request_respond_json (req, 200, node);
}

void
runtime_containers_handle_inspect (RuntimeContainers *self, BerthRequest *req)
{
  Ctr *c = lookup_req (self, req);
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) node = NULL;
  gboolean have_row = FALSE;

  if (c == NULL)
    return;
  stmt = berth_store_prepare (store_of (self), "SELECT " CTR_COLUMNS " FROM containers WHERE id = ?", &error);
  if (stmt == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  sqlite3_bind_text (stmt, 1, c->id, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store_of (self), stmt, &have_row, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (!have_row)
    {
      berth_request_respond_message (req, 404, _("No such container"));
      return;
    }
  node = row_to_json (stmt);
  berth_request_respond_json (req, 200, node);
}

/* ------------------------------------------------------------- start */

typedef struct {
  Ctr          *ctr;
  BerthRequest *req;
} OpCall;

static void
op_call_free (OpCall *call)
{
  ctr_unref (call->ctr);
  g_clear_object (&call->req);
  g_free (call);
}

static OpCall *
op_call_new (Ctr *c, BerthRequest *req)
{
  OpCall *call = g_new0 (OpCall, 1);
  call->ctr = ctr_ref (c);
  call->req = req != NULL ? g_object_ref (req) : NULL;
  return call;
}

static void
start_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  OpCall *call = user_data;
  Ctr *c = call->ctr;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = runtime_oci_run_finish (result, &error);

  if (c->owner == NULL)
    {
      op_call_free (call);
      return;
    }
  if (out == NULL && g_strcmp0 (c->state, "exited") != 0)
    {
      respond_gerror (call->req, error);
      op_call_free (call);
      return;
    }
  if (g_strcmp0 (c->state, "created") == 0)
    {
      ctr_set_state (c, "running");
      c->started_at = g_get_real_time ();
      ctr_save_or_warn (c);
    }
  else if (c->started_at == 0)
    {
      c->started_at = c->finished_at > 0 ? c->finished_at : g_get_real_time ();
      ctr_save_or_warn (c);
    }
  berth_request_respond (call->req, 204, NULL, NULL);
  ctr_check_exit (c);
  op_call_free (call);
}

void
runtime_containers_handle_start (RuntimeContainers *self, BerthRequest *req)
{
  Ctr *c = lookup_req (self, req);

  if (c == NULL)
    return;
  if (g_strcmp0 (c->state, "running") == 0)
    {
      berth_request_respond (req, 304, NULL, NULL);
      return;
    }
  if (g_strcmp0 (c->state, "created") != 0)
    {
      g_autofree char *msg = g_strdup_printf (_("Container %s is %s and cannot be started"), c->name, c->state);
      berth_request_respond_message (req, 409, msg);
      return;
    }
  if (g_strcmp0 (c->runtime, "exec") == 0)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *dir = ctr_path (c, NULL);
      if (!runtime_exec_start (dir, c->id, &error))
        {
          respond_gerror (req, error);
          return;
        }
      runtime_exec_check (dir, c->id, &c->pid);
      ctr_set_state (c, "running");
      c->started_at = g_get_real_time ();
      ctr_save_or_warn (c);
      berth_request_respond (req, 204, NULL, NULL);
      return;
    }
  {
    const char *args[] = { "start", c->id, NULL };
    runtime_oci_run_async (self->host->oci_path, self->oci_root, args, NULL, start_done_cb,
                           op_call_new (c, req));
  }
}

/* ------------------------------------------------------------- signals */

static gboolean
parse_signal (const char *text, int *sig)
{
  static const struct { const char *name; int sig; } names[] = {
    { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
    { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "STOP", SIGSTOP },
    { "CONT", SIGCONT }, { "ALRM", SIGALRM }, { "WINCH", SIGWINCH },
  };
  char *end;

  if (text == NULL || *text == '\0')
    {
      *sig = SIGKILL;
      return TRUE;
    }
  if (g_str_has_prefix (text, "SIG"))
    text += 3;
  *sig = (int) g_ascii_strtoll (text, &end, 10);
  if (*end == '\0' && end != text)
    return *sig > 0 && *sig < 65;
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (text, names[i].name) == 0)
      {
        *sig = names[i].sig;
        return TRUE;
      }
  return FALSE;
}

static void
kill_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  OpCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = runtime_oci_run_finish (result, &error);

  if (out == NULL)
    g_debug ("kill %s: %s", call->ctr->name, error->message);
  if (call->req != NULL)
    {
      if (out == NULL && g_strcmp0 (call->ctr->state, "running") == 0)
        respond_gerror (call->req, error);
      else
        berth_request_respond (call->req, 204, NULL, NULL);
    }
  ctr_check_exit (call->ctr);
  op_call_free (call);
}

static void
ctr_signal (Ctr *c, int sig, BerthRequest *req)
{
  RuntimeContainers *self = c->owner;

  if (self == NULL)
    return;
  if (g_strcmp0 (c->runtime, "exec") != 0 && self->host->oci_path == NULL)
    {
      if (req != NULL)
        berth_request_respond_message (req, 503, _("The container's OCI runtime is not in use any more"));
      return;
    }
  if (g_strcmp0 (c->runtime, "exec") == 0)
    {
      g_autofree char *dir = ctr_path (c, NULL);
      runtime_exec_signal (dir, c->id, sig);
      if (req != NULL)
        berth_request_respond (req, 204, NULL, NULL);
      return;
    }
  {
    g_autofree char *signum = g_strdup_printf ("%d", sig);
    const char *args[] = { "kill", c->id, signum, NULL };
    runtime_oci_run_async (self->host->oci_path, self->oci_root, args, NULL, kill_done_cb,
                           op_call_new (c, req));
  }
}

void
runtime_containers_handle_kill (RuntimeContainers *self, BerthRequest *req)
{
  Ctr *c = lookup_req (self, req);
  int sig;

  if (c == NULL)
    return;
  if (!parse_signal (berth_request_get_query (req, "signal"), &sig))
    {
      berth_request_respond_message (req, 400, _("Unknown signal"));
      return;
    }
  if (g_strcmp0 (c->state, "running") != 0 && g_strcmp0 (c->state, "created") != 0)
    {
      g_autofree char *msg = g_strdup_printf (_("Container %s is not running"), c->name);
      berth_request_respond_message (req, 409, msg);
      return;
    }
  ctr_signal (c, sig, req);
}

static gboolean
kill_timeout_cb (gpointer user_data)
{
  Ctr *c = user_data;

  c->kill_timer = 0;
  if (g_strcmp0 (c->state, "running") == 0 || g_strcmp0 (c->state, "created") == 0)
    {
      g_message (_("container %s did not stop in time: killing it"), c->name);
      ctr_signal (c, SIGKILL, NULL);
    }
  return G_SOURCE_REMOVE;
}

static void
stop_exited_cb (BerthRequest *req)
{
  berth_request_respond (req, 204, NULL, NULL);
}

/* Runs @func(@data) when @c exits. */
static void
ctr_on_exit (Ctr *c, GCallback func, gpointer data, GDestroyNotify destroy)
{
  ExitCb *cb = g_new0 (ExitCb, 1);

  cb->func = func;
  cb->data = data;
  cb->destroy = destroy;
  g_ptr_array_add (c->exit_cbs, cb);
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

  if (name != NULL && *name != '\0' && parse_signal (name, &sig))
    return sig;
  return SIGTERM;
}

void
runtime_containers_handle_stop (RuntimeContainers *self, BerthRequest *req)
{
  Ctr *c = lookup_req (self, req);
  g_autoptr(GError) error = NULL;
  guint64 timeout = 10;

  if (c == NULL)
    return;
  if (!berth_request_get_query_uint64 (req, "t", 10, &timeout, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (g_strcmp0 (c->state, "running") != 0 && g_strcmp0 (c->state, "created") != 0)
    {
      berth_request_respond (req, 304, NULL, NULL);
      return;
    }
  ctr_on_exit (c, G_CALLBACK (stop_exited_cb), g_object_ref (req), g_object_unref);
  if (timeout == 0)
    ctr_signal (c, SIGKILL, NULL);
  else
    {
      ctr_signal (c, stop_signal_of (c), NULL);
      if (c->kill_timer == 0)
        c->kill_timer = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) MIN (timeout, 3600) * 1000,
                                                    kill_timeout_cb, ctr_ref (c),
                                                    (GDestroyNotify) ctr_unref);
    }
}

void
runtime_containers_handle_wait (RuntimeContainers *self, BerthRequest *req)
{
  Ctr *c = lookup_req (self, req);

  if (c == NULL)
    return;
  if (g_strcmp0 (c->state, "exited") == 0)
    {
      g_autoptr(JsonNode) node = exit_status_json (c);
      berth_request_respond_json (req, 200, node);
      return;
    }
  /* as Docker: the headers go now, the body at the exit, so that a client
   * can wait before it starts the container */
  g_ptr_array_add (c->waiters, runtime_stream_new (req, "application/json"));
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
          g_autofree char *out = runtime_oci_run_sync (j->oci_path, j->oci_root, args, NULL);
        }
    }
  if (j->bridge)
    {
      g_file_get_contents (result_path, &result, NULL, NULL);
      runtime_cni_teardown (&j->cni, j->id, j->netns,
                            runtime_json_get_array (json_node_get_object (j->spec), "ports"), result);
    }
  if (!runtime_overlay_umount (rootfs, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!runtime_rm_rf (j->dir, &error))
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
  OpCall *call = user_data;
  Ctr *c = call->ctr;
  RuntimeContainers *self = c->owner;
  g_autoptr(GError) error = NULL;

  if (self == NULL)
    {
      op_call_free (call);
      return;
    }
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      c->removing = FALSE;
      g_warning (_("container %s: removal failed: %s"), c->name, error->message);
      if (call->req != NULL)
        respond_gerror (call->req, error);
      op_call_free (call);
      return;
    }
  {
    g_autoptr(RuntimeDbBatch) batch = runtime_db_batch_new (TOPIC, c->id);
    runtime_db_batch_add (batch, "DELETE FROM containers WHERE id = ?1", g_variant_new_string (c->id), NULL);
    if (runtime_db_batch_run (batch, store_of (self), &error) == 0)
      g_warning ("container %s: %s", c->name, error->message);
  }
  c->removed = TRUE;
  g_hash_table_remove (self->by_id, c->id);
  if (call->req != NULL)
    berth_request_respond (call->req, 204, NULL, NULL);
  op_call_free (call);
}

static void
remove_container (Ctr *c, BerthRequest *req)
{
  RuntimeContainers *self = c->owner;
  g_autoptr(GTask) task = NULL;
  RemoveJob *j;

  if (self == NULL)
    return;
  c->removing = TRUE;
  if (c->oci_deleting)
    {
      /* the runtime is deleting it already: go on when that is done */
      c->remove_after_delete = TRUE;
      g_set_object (&c->remove_request, req);
      return;
    }
  j = g_new0 (RemoveJob, 1);
  j->id = g_strdup (c->id);
  j->dir = g_build_filename (self->dir, c->id, NULL);
  j->exit_path = ctr_exit_path (c);
  j->oci_path = g_strdup (self->host->oci_path);
  j->oci_root = g_strdup (self->oci_root);
  j->netns = ctr_netns (c);
  j->bridge = g_strcmp0 (ctr_network (c), "bridge") == 0;
  j->spec = json_node_copy (c->spec);
  j->exec_runtime = g_strcmp0 (c->runtime, "exec") == 0;
  j->cni.cni_path = g_strdup (self->cni.cni_path);
  j->cni.bridge = g_strdup (self->cni.bridge);
  j->cni.subnet = g_strdup (self->cni.subnet);
  j->cni.data_dir = g_strdup (self->cni.data_dir);
  task = g_task_new (NULL, NULL, remove_done_cb, op_call_new (c, req));
  g_task_set_task_data (task, j, (GDestroyNotify) remove_job_free);
  g_task_run_in_thread (task, remove_thread);
}

static void
remove_after_exit_cb (OpCall *call)
{
  if (!call->ctr->removing && !call->ctr->removed)
    remove_container (call->ctr, call->req);
  else if (call->req != NULL)
    berth_request_respond (call->req, 204, NULL, NULL);
}

/* DELETE of a row set aside when it was loaded (see ctr_row_broken_id) */
static void
remove_broken (RuntimeContainers *self, BerthRequest *req, const char *id)
{
  g_autoptr(RuntimeDbBatch) batch = runtime_db_batch_new (TOPIC, id);
  g_autoptr(GError) error = NULL;

  if (g_str_has_prefix (id, "rowid-"))
    runtime_db_batch_add (batch, "DELETE FROM containers WHERE rowid = ?1",
                          g_variant_new_int64 (g_ascii_strtoll (id + 6, NULL, 10)), NULL);
  else
    runtime_db_batch_add (batch, "DELETE FROM containers WHERE id = ?1", g_variant_new_string (id), NULL);
  if (runtime_db_batch_run (batch, store_of (self), &error) == 0 && error != NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  berth_context_forget_broken (self->context, "container", id);
  berth_request_respond (req, 204, NULL, NULL);
}

void
runtime_containers_handle_remove (RuntimeContainers *self, BerthRequest *req)
{
  const char *key = berth_request_get_param (req, "id");
  const char *force = berth_request_get_query (req, "force");
  gboolean forced = force != NULL && g_strcmp0 (force, "0") != 0 && g_strcmp0 (force, "false") != 0;
  Ctr *c;

  if (key != NULL && berth_context_is_broken (self->context, "container", key))
    {
      remove_broken (self, req, key);
      return;
    }
  c = lookup_req (self, req);
  if (c == NULL)
    return;
  if (c->removing)
    {
      berth_request_respond_message (req, 409, _("The container is already being removed"));
      return;
    }
  if (g_strcmp0 (c->state, "running") == 0 || g_strcmp0 (c->state, "created") == 0)
    {
      if (!forced)
        {
          g_autofree char *msg = g_strdup_printf (_("Container %s is %s: stop it first or use ?force=1"),
                                                  c->name, c->state);
          berth_request_respond_message (req, 409, msg);
          return;
        }
      ctr_on_exit (c, G_CALLBACK (remove_after_exit_cb), op_call_new (c, req), (GDestroyNotify) op_call_free);
      ctr_signal (c, SIGKILL, NULL);
      return;
    }
  if (g_strcmp0 (c->state, "creating") == 0)
    {
      berth_request_respond_message (req, 409, _("The container is still being created"));
      return;
    }
  remove_container (c, req);
}

/* ------------------------------------------------------------- logs */

typedef struct {
  Ctr           *ctr;
  RuntimeStream *stream;
  char          *path;
  goffset        offset;
  GString       *partial;   /* a line not ended yet */
  GString       *pending;   /* bytes read but not a full line yet */
  gboolean       timestamps;
  guint          timer;
} LogFollow;

static void
log_follow_free (LogFollow *f)
{
  g_ptr_array_remove (f->ctr->followers, f);
  g_clear_handle_id (&f->timer, g_source_remove);
  ctr_unref (f->ctr);
  runtime_stream_unref (f->stream);
  g_free (f->path);
  g_string_free (f->partial, TRUE);
  g_string_free (f->pending, TRUE);
  g_free (f);
}

/* Turns k8s-file lines ("TS STREAM P|F text") into output text. */
static void
format_line (GString *out, GString *partial, const char *line, gboolean timestamps)
{
  const char *ts_end = strchr (line, ' ');
  const char *st_end = ts_end != NULL ? strchr (ts_end + 1, ' ') : NULL;
  const char *tag_end = st_end != NULL ? strchr (st_end + 1, ' ') : NULL;
  const char *text;
  gboolean full;

  if (ts_end == NULL || st_end == NULL)
    return;
  full = !(st_end[1] == 'P');
  text = tag_end != NULL ? tag_end + 1 : st_end + 2;
  if (partial->len == 0 && timestamps)
    {
      g_string_append_len (partial, line, ts_end - line);
      g_string_append_c (partial, ' ');
    }
  g_string_append (partial, text);
  if (full)
    {
      g_string_append_len (out, partial->str, (gssize) partial->len);
      g_string_append_c (out, '\n');
      g_string_truncate (partial, 0);
    }
}

static gboolean
log_read_more (LogFollow *f)
{
  FILE *fp = fopen (f->path, "re");
  char buf[65536];
  size_t n;
  gboolean got = FALSE;
  g_autoptr(GString) out = g_string_new (NULL);

  if (fp == NULL)
    return FALSE;
  if (fseeko (fp, f->offset, SEEK_SET) == 0)
    while ((n = fread (buf, 1, sizeof buf, fp)) > 0)
      {
        g_string_append_len (f->pending, buf, (gssize) n);
        f->offset += (goffset) n;
        got = TRUE;
      }
  fclose (fp);
  for (;;)
    {
      char *nl = memchr (f->pending->str, '\n', f->pending->len);
      g_autofree char *line = NULL;
      if (nl == NULL)
        break;
      line = g_strndup (f->pending->str, (gsize) (nl - f->pending->str));
      g_string_erase (f->pending, 0, nl - f->pending->str + 1);
      format_line (out, f->partial, line, f->timestamps);
    }
  if (out->len > 0)
    runtime_stream_write (f->stream, out->str, (gssize) out->len);
  return got;
}

static gboolean
log_timer_cb (gpointer user_data)
{
  LogFollow *f = user_data;
  gboolean live = g_strcmp0 (f->ctr->state, "running") == 0 || g_strcmp0 (f->ctr->state, "created") == 0 ||
                  g_strcmp0 (f->ctr->state, "creating") == 0;

  if (runtime_stream_is_gone (f->stream))
    {
      log_follow_free (f);
      return G_SOURCE_REMOVE;
    }
  log_read_more (f);
  if (!live)
    {
      /* exited: conmon synced the log before writing the exit file, so
       * what was just read is all there is */
      if (f->partial->len > 0)
        runtime_stream_write (f->stream, f->partial->str, (gssize) f->partial->len);
      runtime_stream_close (f->stream);
      log_follow_free (f);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

void
runtime_containers_handle_logs (RuntimeContainers *self, BerthRequest *req)
{
  Ctr *c = lookup_req (self, req);
  const char *follow_q = berth_request_get_query (req, "follow");
  const char *ts_q = berth_request_get_query (req, "timestamps");
  const char *tail_q = berth_request_get_query (req, "tail");
  gboolean follow = follow_q != NULL && g_strcmp0 (follow_q, "0") != 0 && g_strcmp0 (follow_q, "false") != 0;
  gboolean timestamps = ts_q != NULL && g_strcmp0 (ts_q, "0") != 0 && g_strcmp0 (ts_q, "false") != 0;
  gint64 tail = -1;
  g_autofree char *path = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) partial = g_string_new (NULL);
  LogFollow *f;

  if (c == NULL)
    return;
  if (tail_q != NULL && g_strcmp0 (tail_q, "all") != 0)
    {
      char *end;
      tail = g_ascii_strtoll (tail_q, &end, 10);
      if (*end != '\0' || end == tail_q || tail < 0)
        {
          berth_request_respond_message (req, 400, _("Invalid ?tail= (a number or “all”)"));
          return;
        }
    }
  path = ctr_path (c, "ctr.log");
  g_file_get_contents (path, &data, &len, NULL);
  /* only whole lines now; a following reader picks up the rest */
  if (data != NULL)
    {
      char *last_nl = g_strrstr_len (data, (gssize) len, "\n");
      len = last_nl != NULL ? (gsize) (last_nl - data + 1) : 0;
      data[len] = '\0';
      {
        g_auto(GStrv) lines = g_strsplit (data, "\n", -1);
        guint n = g_strv_length (lines);
        g_autoptr(GPtrArray) formatted = g_ptr_array_new_with_free_func (g_free);
        for (guint i = 0; i < n; i++)
          {
            g_autoptr(GString) one = g_string_new (NULL);
            if (lines[i][0] == '\0')
              continue;
            format_line (one, partial, lines[i], timestamps);
            if (one->len > 0)
              g_ptr_array_add (formatted, g_string_free (g_steal_pointer (&one), FALSE));
          }
        for (guint i = (tail >= 0 && (guint64) tail < formatted->len) ? formatted->len - (guint) tail : 0;
             i < formatted->len; i++)
          g_string_append (out, g_ptr_array_index (formatted, i));
      }
    }
  if (follow && !(g_strcmp0 (c->state, "running") == 0 || g_strcmp0 (c->state, "created") == 0 ||
                  g_strcmp0 (c->state, "creating") == 0))
    follow = FALSE;   /* nothing more will come */
  if (!follow)
    {
      g_autoptr(GBytes) bytes = NULL;
      /* output that did not end with a newline */
      g_string_append_len (out, partial->str, (gssize) partial->len);
      bytes = g_bytes_new (out->str, out->len);
      berth_request_respond (req, 200, "text/plain; charset=utf-8", bytes);
      return;
    }
  f = g_new0 (LogFollow, 1);
  f->ctr = ctr_ref (c);
  f->stream = runtime_stream_new (req, "text/plain; charset=utf-8");
  f->path = g_steal_pointer (&path);
  f->offset = (goffset) len;
  f->partial = g_steal_pointer (&partial);
  f->pending = g_string_new (NULL);
  f->timestamps = timestamps;
  if (out->len > 0)
    runtime_stream_write (f->stream, out->str, (gssize) out->len);
  f->timer = g_timeout_add (LOG_POLL_MS, log_timer_cb, f);
  g_ptr_array_add (c->followers, f);
}

/* The container exited: followers read the rest and finish now rather
 * than at their next tick. */
static void
logs_exited (Ctr *c)
{
  g_autoptr(GPtrArray) followers = g_ptr_array_copy (c->followers, NULL, NULL);

  for (guint i = 0; i < followers->len; i++)
    {
      /* frees the follower (and its timer) once it has finished */
      log_timer_cb (g_ptr_array_index (followers, i));
    }
}
