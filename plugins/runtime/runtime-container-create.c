/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "runtime-cni.h"
#include "runtime-conmon.h"
#include "runtime-container-private.h"
#include "runtime-exec.h"
#include "runtime-oci-config.h"
#include "runtime-overlay.h"
#include "runtime-util.h"

/* Creating a container: the spec is checked and its row written, then a
 * worker thread mounts its root filesystem, sets up its network and has
 * conmon (or the exec runtime's supervisor) create it. */

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
    j->conmon_pid = runtime_read_pidfile (conmon_pidfile);
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


typedef struct {
  RuntimeContainers *self;
  Ctr               *ctr;
} CreateCall;

static void
create_call_free (CreateCall *call)
{
  runtime_ctr_unref (call->ctr);
  g_free (call);
}

static JsonObject *
created_json (Ctr *c)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "Id", c->id);
  json_object_set_string_member (o, "Name", c->name);
  if (c->address != NULL)
    json_object_set_string_member (o, "Address", c->address);
  else
    json_object_set_null_member (o, "Address");
  json_object_set_array_member (o, "Warnings", json_array_new ());
  return o;
}

static void
created_saved_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  CreateCall *call = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, created_json (call->ctr), (GDestroyNotify) json_object_unref);
  /* it may have died already */
  runtime_ctr_check_exit (call->ctr);
}

static void
create_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  CreateCall *call = g_task_get_task_data (task);
  Ctr *c = call->ctr;
  CreateJob *j = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (c->owner == NULL)
    {
      /* berthd is shutting down: the row says "creating", the next start
       * reconciles it */
      g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE, _("berthd is shutting down"));
      return;
    }
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      runtime_ctr_delete_row (call->self, c->id, NULL);
      c->removed = TRUE;
      if (call->self->logs != NULL)
        runtime_logs_remove (call->self->logs, c->id);
      g_hash_table_remove (call->self->by_id, c->id);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  c->pid = j->pid;
  c->conmon_pid = j->conmon_pid;
  c->address = g_strdup (j->address);
  runtime_ctr_set_state (c, "created");
  {
    GTask *save = g_task_new (NULL, NULL, created_saved_cb, g_object_ref (task));
    runtime_ctr_save (c, save);
    g_object_unref (save);
  }
}

void
runtime_containers_create_async (RuntimeContainers *self, JsonObject *user_spec, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  RuntimeImages *images = runtime_plugin_get_images (self->plugin);
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(RuntimeImageInfo) info = NULL;
  g_autofree char *image_id = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(GTask) job_task = NULL;
  g_autofree char *log = NULL;
  JsonObject *spec;
  const char *image, *name;
  CreateJob *j;
  CreateCall *call;
  Ctr *c;

  g_task_set_source_tag (task, runtime_containers_create_async);
  /* normalized in a copy of its own */
  {
    g_autoptr(JsonNode) given = json_node_init_object (json_node_alloc (), user_spec);
    body = json_node_copy (given);
  }
  spec = json_node_get_object (body);
  image = runtime_json_get_string (spec, "image");
  if (image == NULL)
    {
      g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_INVALID, _("Missing “image”"));
      return;
    }
  image_id = runtime_images_resolve (images, image, &error);
  if (image_id == NULL || (info = runtime_images_get_info (images, image_id, &error)) == NULL ||
      !normalize_spec (self, spec, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  name = runtime_json_get_string (spec, "name");
  if (name != NULL && !valid_name (name))
    {
      g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_INVALID,
                               _("Invalid container name (letters, digits, “_.-”)"));
      return;
    }
  if (name != NULL && name_taken (self, name))
    {
      g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_CONFLICT,
                               _("The container name “%s” is already in use"), name);
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
        g_task_return_error (task, g_steal_pointer (&error));
        return;
      }
  }

  c = runtime_ctr_new (self);
  c->id = new_id ();
  c->name = name != NULL ? g_strdup (name) : g_strdup_printf ("c-%.12s", c->id);
  c->image_id = g_strdup (image_id);
  c->image_ref = g_strdup (image);
  c->spec = json_node_ref (body);
  c->runtime = g_strdup (self->host->kind == RUNTIME_KIND_OCI ? self->host->oci_name : "exec");
  c->state = g_strdup ("creating");
  c->created_at = g_get_real_time ();
  /* the row first, flushed: a crash from here on leaves a row to clean */
  if (!runtime_ctr_save_sync (c, &error))
    {
      runtime_ctr_unref (c);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_hash_table_replace (self->by_id, c->id, c);
  log = runtime_ctr_path (c, "ctr.log");
  if (self->logs != NULL)
    runtime_logs_add_container (self->logs, c->id, c->name, log, TRUE);

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
  call->ctr = runtime_ctr_ref (c);
  g_task_set_task_data (task, call, (GDestroyNotify) create_call_free);
  job_task = g_task_new (NULL, NULL, create_done_cb, g_object_ref (task));
  g_task_set_task_data (job_task, j, (GDestroyNotify) create_job_free);
  g_task_run_in_thread (job_task, create_thread);
}

JsonObject *
runtime_containers_create_finish (RuntimeContainers *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
