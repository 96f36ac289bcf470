/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gmodule.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "runtime-container.h"
#include "runtime-http.h"
#include "runtime-images-http.h"
#include "runtime-oci-config.h"
#include "runtime-plugin.h"
#include "runtime-logs.h"
#include "runtime-schema.h"
#include "runtime-service.h"
#include "runtime-tasks.h"
#include "runtime-util.h"

/* The runtime plugin: images (blob store, registry pulls, layers) and
 * containers (conmon + an OCI runtime, or plain processes). Its state
 * lives under <state-dir>/runtime and in its tables. */

typedef struct {
  GDestroyNotify run;
  gpointer       data;
  GDestroyNotify destroy;
} Pending;

struct _RuntimePlugin {
  BerthPlugin        parent_instance;
  char              *root;
  RuntimeHost        host;
  gboolean           host_ready;
  gboolean           stopping;
  GPtrArray         *pending;   /* Pending*: work waiting for the probe */
  RuntimeImages     *images;
  RuntimeLogs       *logs;
  RuntimeContainers *containers;
  RuntimeService    *service;
  RuntimeTasks      *tasks;
};

G_DEFINE_FINAL_TYPE (RuntimePlugin, runtime_plugin, BERTH_TYPE_PLUGIN)

RuntimeImages *
runtime_plugin_get_images (RuntimePlugin *self)
{
  return self->images;
}

RuntimeContainers *
runtime_plugin_get_containers (RuntimePlugin *self)
{
  return self->containers;
}

const RuntimeHost *
runtime_plugin_get_host (RuntimePlugin *self)
{
  return &self->host;
}

const char *
runtime_plugin_get_root (RuntimePlugin *self)
{
  return self->root;
}

static char *
find_program (const char *name, const char * const *extra_dirs)
{
  char *path = g_find_program_in_path (name);

  for (guint i = 0; path == NULL && extra_dirs != NULL && extra_dirs[i] != NULL; i++)
    {
      g_autofree char *candidate = g_build_filename (extra_dirs[i], name, NULL);
      if (g_file_test (candidate, G_FILE_TEST_IS_EXECUTABLE))
        path = g_steal_pointer (&candidate);
    }
  return path;
}

/* Runs /bin/true in a throw-away container made of the host's /usr, to
 * learn whether @runtime works here (crun refuses hybrid cgroups, for
 * one). */
static gboolean
probe_runtime (const char *root, const char *runtime, char **why)
{
  g_autofree char *dir = g_build_filename (root, "probe", NULL);
  g_autofree char *rootfs = g_build_filename (dir, "rootfs", NULL);
  g_autofree char *state = g_build_filename (dir, "state", NULL);
  g_autofree char *config_path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *config = NULL;
  g_autofree char *id = g_strdup_printf ("berth-probe-%d", (int) getpid ());
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  const char *links[] = { "bin", "lib", "lib64", "sbin", NULL };
  int status = 0;
  gboolean ok;

  runtime_rm_rf (dir, NULL);
  if (g_mkdir_with_parents (rootfs, 0755) < 0 || g_mkdir_with_parents (state, 0700) < 0)
    {
      *why = g_strdup_printf (_("cannot create %s"), rootfs);
      return FALSE;
    }
  for (guint i = 0; links[i] != NULL; i++)
    {
      g_autofree char *host = g_build_filename ("/", links[i], NULL);
      g_autofree char *target = g_file_read_link (host, NULL);
      g_autofree char *link = g_build_filename (rootfs, links[i], NULL);
      if (target != NULL)
        (void) symlink (target, link);
    }
  config = runtime_oci_probe_config (runtime_cgroup_is_v2 () ? TRUE : FALSE, id);
  if (!runtime_write_file (config_path, config, -1, &error))
    {
      *why = g_strdup (error->message);
      return FALSE;
    }
  {
    const char *argv[] = { runtime, "--root", state, "run", "--bundle", dir, id, NULL };
    ok = g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                       &error);
  }
  if (!ok)
    *why = g_strdup (error->message);
  else if (!g_spawn_check_wait_status (status, NULL))
    {
      g_autofree char *text = g_strstrip (g_strdup (err != NULL && *err ? err : out));
      *why = g_strdup_printf (_("a test container failed: %s"), text);
      ok = FALSE;
    }
  {
    const char *argv[] = { runtime, "--root", state, "delete", "--force", id, NULL };
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                  NULL, NULL, NULL, NULL, NULL, NULL);
  }
  runtime_rm_rf (dir, NULL);
  return ok;
}

typedef struct {
  char        *root;
  char        *wanted;
  RuntimeHost  host;
} Probe;

static void
probe_free (Probe *p)
{
  g_free (p->root);
  g_free (p->wanted);
  g_free (p->host.oci_name);
  g_free (p->host.oci_path);
  g_free (p->host.conmon_path);
  g_free (p->host.why);
  g_free (p);
}

/* In a worker thread: works out which runtime to use (trying them takes
 * a while, and berthd should be up meanwhile). */
static void
choose_runtime (Probe *self)
{
  const char *wanted = self->wanted;
  const char * const sbin[] = { "/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin", NULL };
  const char * const conmon_dirs[] = { "/usr/bin", "/usr/libexec/podman", "/usr/local/bin", NULL };
  const char *candidates_auto[] = { "crun", "runc", NULL };
  const char *one[] = { wanted, NULL };
  const char **candidates = g_str_equal (wanted, "auto") ? candidates_auto : one;
  g_autoptr(GString) why = g_string_new (NULL);

  self->host.cgroup_v2 = runtime_cgroup_is_v2 ();
  self->host.kind = RUNTIME_KIND_EXEC;
  if (g_str_equal (wanted, "exec") || g_str_equal (wanted, "none"))
    {
      self->host.why = g_strdup (_("runtime.oci is set to exec"));
      return;
    }
  self->host.conmon_path = find_program ("conmon", conmon_dirs);
  if (self->host.conmon_path == NULL)
    {
      self->host.why = g_strdup (_("conmon is not installed"));
      return;
    }
  for (guint i = 0; candidates[i] != NULL; i++)
    {
      g_autofree char *path = find_program (candidates[i], sbin);
      g_autofree char *reason = NULL;

      if (!g_str_equal (candidates[i], "runc") && !g_str_equal (candidates[i], "crun"))
        {
          g_string_append_printf (why, _("%s: unknown OCI runtime; "), candidates[i]);
          continue;
        }
      if (path == NULL)
        {
          g_string_append_printf (why, _("%s: not installed; "), candidates[i]);
          continue;
        }
      if (!probe_runtime (self->root, path, &reason))
        {
          g_string_append_printf (why, "%s: %s; ", candidates[i], reason);
          continue;
        }
      self->host.kind = RUNTIME_KIND_OCI;
      self->host.oci_name = g_strdup (candidates[i]);
      self->host.oci_path = g_steal_pointer (&path);
      g_string_append_printf (why, _("%s works"), candidates[i]);
      self->host.why = g_string_free (g_steal_pointer (&why), FALSE);
      return;
    }
  g_string_append (why, _("no OCI runtime usable"));
  self->host.why = g_string_free (g_steal_pointer (&why), FALSE);
}

static void
probe_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  choose_runtime (task_data);
  g_task_return_boolean (task, TRUE);
}

static void
pending_free (Pending *p)
{
  if (p->destroy != NULL)
    p->destroy (p->data);
  g_free (p);
}

static void
probe_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RuntimePlugin *self = RUNTIME_PLUGIN (source);
  Probe *p = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pending = NULL;

  if (self->containers == NULL)
    return;   /* shut down meanwhile */
  self->host = p->host;
  memset (&p->host, 0, sizeof p->host);
  self->host_ready = TRUE;
  if (self->host.kind == RUNTIME_KIND_OCI)
    g_message (_("using %s with conmon (%s; cgroup %s)"), self->host.oci_name,
               self->host.why, self->host.cgroup_v2 ? "v2" : "v1/hybrid");
  else
    g_message (_("using the exec runtime (plain processes): %s"), self->host.why);
  if (!runtime_containers_reconcile (self->containers, &error))
    g_warning (_("cannot reconcile the containers: %s"), error->message);
  runtime_tasks_runtime_ready (self->tasks);
  pending = g_steal_pointer (&self->pending);
  g_ptr_array_set_free_func (pending, (GDestroyNotify) pending_free);
  for (guint i = 0; i < pending->len; i++)
    {
      Pending *q = g_ptr_array_index (pending, i);
      q->run (q->data);
    }
}

gboolean
runtime_plugin_is_ready (RuntimePlugin *self)
{
  return self->host_ready;
}

void
runtime_plugin_when_ready (RuntimePlugin *self, GDestroyNotify run, gpointer data, GDestroyNotify destroy)
{
  Pending *p;

  if (self->host_ready || self->pending == NULL)
    {
      run (data);
      if (destroy != NULL)
        destroy (data);
      return;
    }
  p = g_new0 (Pending, 1);
  p->run = run;
  p->data = data;
  p->destroy = destroy;
  g_ptr_array_add (self->pending, p);
}

typedef struct {
  RuntimePlugin     *plugin;
  BerthRequest      *request;
  BerthRouteHandler  handler;
} DeferredRequest;

static void
deferred_request_run (gpointer data)
{
  DeferredRequest *d = data;

  if (berth_request_is_responded (d->request))
    return;
  if (d->plugin->stopping)
    berth_request_respond_message (d->request, 503, _("berthd is stopping"));
  else
    d->handler (d->request, d->plugin);
}

static void
deferred_request_free (gpointer data)
{
  DeferredRequest *d = data;

  g_object_unref (d->request);
  g_free (d);
}

gboolean
runtime_plugin_defer_until_ready (RuntimePlugin *self, BerthRequest *req, BerthRouteHandler handler)
{
  DeferredRequest *d;

  if (self->host_ready)
    return FALSE;
  d = g_new0 (DeferredRequest, 1);
  d->plugin = self;
  d->request = g_object_ref (req);
  d->handler = handler;
  runtime_plugin_when_ready (self, deferred_request_run, d, deferred_request_free);
  return TRUE;
}

RuntimeLogs *
runtime_plugin_get_logs (RuntimePlugin *self)
{
  return self->logs;
}

static gboolean
runtime_plugin_startup (BerthPlugin *plugin, GError **error)
{
  RuntimePlugin *self = RUNTIME_PLUGIN (plugin);
  BerthContext *ctx = berth_plugin_get_context (plugin);

  if (!berth_store_migrate (berth_context_get_store (ctx), berth_plugin_get_name (plugin),
                            runtime_migrations, error))
    return FALSE;
  self->root = g_build_filename (berth_context_get_state_dir (ctx), "runtime", NULL);
  if (g_mkdir_with_parents (self->root, 0700) < 0)
    {
      int err = errno;
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED, _("Cannot create %s: %s"), self->root,
                   g_strerror (err));
      return FALSE;
    }
  self->images = runtime_images_new (ctx, self->root, error);
  if (self->images == NULL)
    return FALSE;
  self->logs = runtime_logs_new (berth_context_get_store (ctx));
  self->containers = runtime_containers_new (self, self->logs, error);
  if (self->containers == NULL)
    return FALSE;
  self->service = runtime_service_new (self);
  if (!berth_context_add_service (ctx, BERTH_TYPE_RUNTIME, self->service, error) ||
      !berth_context_add_service (ctx, BERTH_TYPE_LOG_SOURCE, self->logs, error))
    return FALSE;
  runtime_http_add_routes (self);
  runtime_images_http_add_routes (self);
  self->tasks = runtime_tasks_new (ctx, self->root, self->logs);
  /* container requests wait for the runtime to be chosen */
  {
    g_autoptr(GTask) task = g_task_new (self, NULL, probe_done_cb, NULL);
    Probe *p = g_new0 (Probe, 1);
    p->root = g_strdup (self->root);
    p->wanted = berth_context_dup_config_string (ctx, "runtime", "oci", "auto");
    g_task_set_task_data (task, p, (GDestroyNotify) probe_free);
    g_task_run_in_thread (task, probe_thread);
  }
  return TRUE;
}

static void
drop_services (RuntimePlugin *self)
{
  BerthContext *ctx = berth_plugin_get_context (BERTH_PLUGIN (self));

  if (self->service != NULL)
    {
      if (ctx != NULL)
        berth_context_remove_service (ctx, BERTH_TYPE_RUNTIME, self->service);
      runtime_service_shutdown (self->service);
      g_clear_object (&self->service);
    }
  if (self->logs != NULL && ctx != NULL)
    berth_context_remove_service (ctx, BERTH_TYPE_LOG_SOURCE, self->logs);
}

static void
runtime_plugin_shutdown (BerthPlugin *plugin)
{
  RuntimePlugin *self = RUNTIME_PLUGIN (plugin);

  self->stopping = TRUE;
  drop_services (self);
  /* what waits for the probe learns that berthd stops */
  if (self->pending != NULL)
    {
      g_autoptr(GPtrArray) pending = g_steal_pointer (&self->pending);
      g_ptr_array_set_free_func (pending, (GDestroyNotify) pending_free);
      for (guint i = 0; i < pending->len; i++)
        {
          Pending *q = g_ptr_array_index (pending, i);
          q->run (q->data);
        }
    }
  g_clear_pointer (&self->tasks, runtime_tasks_free);
  g_clear_pointer (&self->containers, runtime_containers_free);
}

static void
runtime_plugin_finalize (GObject *object)
{
  RuntimePlugin *self = RUNTIME_PLUGIN (object);

  if (self->service != NULL)
    runtime_service_shutdown (self->service);
  g_clear_object (&self->service);
  g_clear_pointer (&self->tasks, runtime_tasks_free);
  g_clear_pointer (&self->containers, runtime_containers_free);
  g_clear_object (&self->logs);
  if (self->pending != NULL)
    g_ptr_array_set_free_func (self->pending, (GDestroyNotify) pending_free);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_pointer (&self->images, runtime_images_free);
  g_free (self->root);
  g_free (self->host.oci_name);
  g_free (self->host.oci_path);
  g_free (self->host.conmon_path);
  g_free (self->host.why);
  G_OBJECT_CLASS (runtime_plugin_parent_class)->finalize (object);
}

static void
runtime_plugin_class_init (RuntimePluginClass *klass)
{
  BerthPluginClass *plugin_class = BERTH_PLUGIN_CLASS (klass);
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = runtime_plugin_finalize;
  plugin_class->startup = runtime_plugin_startup;
  plugin_class->shutdown = runtime_plugin_shutdown;
}

static void
runtime_plugin_init (RuntimePlugin *self)
{
  self->pending = g_ptr_array_new ();
}

G_MODULE_EXPORT GType berth_plugin_module_get_type (void);

G_MODULE_EXPORT GType
berth_plugin_module_get_type (void)
{
  return RUNTIME_TYPE_PLUGIN;
}
