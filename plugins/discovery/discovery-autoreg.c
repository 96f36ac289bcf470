/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "discovery-autoreg.h"
#include "discovery-catalog.h"

/* Automatic registration of tasks as catalog services.
 *
 * The controller follows the store's "task" changes. A task in
 * TASK_RUNNING placed on this node becomes one service instance per port:
 *
 *   - name: the label BERTH_SERVICE_NAME, else the app id with its slashes
 *     made dashes (`/shop/db` → `shop-db`); with named ports (the spec's
 *     `ports[].name`, from Marathon's portDefinitions or portMappings) one
 *     service per named port, `<name>-<portname>`, ID `<task id>:<portname>`;
 *     otherwise the first port only, `<name>`, ID `<task id>` (a task
 *     without ports registers port 0, for A lookups);
 *   - port: the task's host port; address: the task's host (else the
 *     node's); tags: the label BERTH_SERVICE_TAGS=a,b;
 *   - Meta `berth-task` (the task id) and `berth-app` (the app id): this
 *     mark is what makes a service ours, for the sweep below;
 *   - one check `service:<service id>`, type `berth-task` (the check runner
 *     leaves it alone), passing while the task runs and its health is
 *     unknown or passing, critical when the scheduler's health checks fail.
 *
 * A task leaving TASK_RUNNING, moving to another node or deleted has its
 * services deregistered. At startup every task is registered again and the
 * marked services of tasks that no longer run here are removed.
 *
 * Writes go through catalog_write_register() / catalog_write_deregister(),
 * so blocking queries and DNS see them, and are idempotent: the same
 * registration again bumps no index.
 *
 * A user may deregister such a service with /v1/agent/service/deregister:
 * it stays away as long as the task's registration does not change. The
 * controller remembers (in memory) what it last wrote for each task and
 * writes again only when that differs: a new state, host, port, label or
 * health. After a restart of berthd the startup reconciliation brings it
 * back, since the task still runs. */

#define META_TASK "berth-task"
#define META_APP  "berth-app"
#define CHECK_TYPE "berth-task"

struct _DiscoveryAutoreg {
  BerthContext *context;
  BerthStore   *store;
  char         *node_name;
  char         *node_id;
  char         *node_address;
  GHashTable   *registered;   /* task id -> signature of what was written */
  GHashTable   *dirty;        /* task ids to look at again */
  gboolean      dirty_all;
  guint         sync_id;
  gulong        changed_id;
};

/* ---- what a task registers ------------------------------------------ */

static const char *
label (BerthTask *task, const char *name)
{
  JsonObject *spec = berth_task_get_spec (task);
  JsonObject *labels;
  JsonNode *value;

  if (spec == NULL || !json_object_has_member (spec, "labels") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (spec, "labels")))
    return NULL;
  labels = json_object_get_object_member (spec, "labels");
  value = json_object_get_member (labels, name);
  if (value == NULL || !JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (value);
}

/* The service name of @task, or NULL when it has none. */
static char *
service_name (BerthTask *task)
{
  const char *name = label (task, "BERTH_SERVICE_NAME");
  const char *app_id = berth_task_get_app_id (task);
  g_autofree char *trimmed = g_strstrip (g_strdup (name != NULL ? name : ""));

  if (*trimmed != '\0')
    return g_steal_pointer (&trimmed);
  g_clear_pointer (&trimmed, g_free);
  if (app_id == NULL)
    return NULL;
  while (*app_id == '/')
    app_id++;
  trimmed = g_strdup (app_id);
  while (*trimmed != '\0' && trimmed[strlen (trimmed) - 1] == '/')
    trimmed[strlen (trimmed) - 1] = '\0';
  if (*trimmed == '\0')
    return NULL;
  g_strdelimit (trimmed, "/", '-');
  return g_steal_pointer (&trimmed);
}

static char *
tags_json (BerthTask *task)
{
  const char *text = label (task, "BERTH_SERVICE_TAGS");
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_auto(GStrv) parts = g_strsplit (text != NULL ? text : "", ",", -1);

  json_builder_begin_array (b);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (*parts[i] != '\0')
        json_builder_add_string_value (b, parts[i]);
    }
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static char *
meta_json (BerthTask *task)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, META_TASK);
  json_builder_add_string_value (b, berth_task_get_id (task));
  json_builder_set_member_name (b, META_APP);
  json_builder_add_string_value (b, berth_task_get_app_id (task) != NULL ? berth_task_get_app_id (task) : "");
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* The name of the spec's port @index, or NULL. */
static const char *
port_name (BerthTask *task, guint index)
{
  JsonObject *spec = berth_task_get_spec (task);
  JsonNode *ports = spec != NULL ? json_object_get_member (spec, "ports") : NULL;
  JsonNode *port;
  JsonNode *name;

  if (ports == NULL || !JSON_NODE_HOLDS_ARRAY (ports) ||
      index >= json_array_get_length (json_node_get_array (ports)))
    return NULL;
  port = json_array_get_element (json_node_get_array (ports), index);
  if (!JSON_NODE_HOLDS_OBJECT (port))
    return NULL;
  name = json_object_get_member (json_node_get_object (port), "name");
  if (name == NULL || !JSON_NODE_HOLDS_VALUE (name) || json_node_get_value_type (name) != G_TYPE_STRING ||
      *json_node_get_string (name) == '\0')
    return NULL;
  return json_node_get_string (name);
}

static CatalogRegistration *
make_registration (DiscoveryAutoreg *self, BerthTask *task, const char *name, const char *port_label,
                   guint port, const char *tags, const char *meta)
{
  CatalogRegistration *reg = g_new0 (CatalogRegistration, 1);
  CatalogService *s = g_new0 (CatalogService, 1);
  CatalogCheck *c = g_new0 (CatalogCheck, 1);
  const char *host = berth_task_get_host (task);
  const char *health = berth_task_get_health (task);
  gboolean critical = g_strcmp0 (health, BERTH_TASK_HEALTH_CRITICAL) == 0;

  reg->node_name = g_strdup (self->node_name);
  reg->replace_service_checks = TRUE;
  reg->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) catalog_check_free);

  s->node = g_strdup (self->node_name);
  s->id = port_label != NULL ? g_strdup_printf ("%s:%s", berth_task_get_id (task), port_label)
                             : g_strdup (berth_task_get_id (task));
  s->name = port_label != NULL ? g_strdup_printf ("%s-%s", name, port_label) : g_strdup (name);
  s->tags_json = g_strdup (tags);
  s->address = g_strdup (host != NULL && *host != '\0' ? host : self->node_address);
  s->port = port;
  s->meta_json = g_strdup (meta);
  reg->service = s;

  c->node = g_strdup (self->node_name);
  c->id = g_strdup_printf ("service:%s", s->id);
  c->name = g_strdup_printf (_("Task health of “%s”"), s->name);
  c->status = g_strdup (critical ? CHECK_CRITICAL : CHECK_PASSING);
  c->status_given = TRUE;
  c->notes = g_strdup (_("Registered by berthd for a scheduler task; mirrors the task’s health"));
  if (critical)
    c->output = g_strdup_printf (_("Task %s is running; its health checks fail"), berth_task_get_id (task));
  else
    c->output = g_strdup_printf (_("Task %s is running"), berth_task_get_id (task));
  c->service_id = g_strdup (s->id);
  c->type = g_strdup (CHECK_TYPE);
  c->definition_json = g_strdup ("{}");
  g_ptr_array_add (reg->checks, c);
  return reg;
}

/* What @task registers here: an empty array when nothing (not running,
 * not on this node, no name). */
static GPtrArray *
task_registrations (DiscoveryAutoreg *self, BerthTask *task)
{
  GPtrArray *regs = g_ptr_array_new_with_free_func ((GDestroyNotify) catalog_registration_free);
  g_autofree char *name = NULL;
  g_autofree char *tags = NULL;
  g_autofree char *meta = NULL;
  GArray *ports;
  gboolean named = FALSE;

  if (task == NULL || berth_task_get_state (task) != BERTH_TASK_STATE_RUNNING ||
      g_strcmp0 (berth_task_get_node_id (task), self->node_id) != 0)
    return regs;
  name = service_name (task);
  if (name == NULL)
    return regs;
  tags = tags_json (task);
  meta = meta_json (task);
  ports = berth_task_get_ports (task);
  for (guint i = 0; i < ports->len; i++)
    if (port_name (task, i) != NULL)
      named = TRUE;
  if (named)
    {
      for (guint i = 0; i < ports->len; i++)
        if (port_name (task, i) != NULL)
          g_ptr_array_add (regs, make_registration (self, task, name, port_name (task, i),
                                                    g_array_index (ports, guint, i), tags, meta));
    }
  else
    {
      g_ptr_array_add (regs, make_registration (self, task, name, NULL,
                                                ports->len > 0 ? g_array_index (ports, guint, 0) : 0,
                                                tags, meta));
    }
  return regs;
}

/* A text that changes whenever what @regs would write changes. */
static char *
signature (GPtrArray *regs)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < regs->len; i++)
    {
      CatalogRegistration *reg = g_ptr_array_index (regs, i);
      CatalogCheck *c = g_ptr_array_index (reg->checks, 0);

      g_string_append_printf (s, "%s\n%s\n%s\n%" G_GINT64_FORMAT "\n%s\n%s\n%s\n%s\n\n", reg->service->id,
                              reg->service->name, reg->service->address, reg->service->port,
                              reg->service->tags_json, reg->service->meta_json, c->status, c->output);
    }
  return g_string_free (s, FALSE);
}

/* ---- the writes ----------------------------------------------------- */

static gboolean
is_marked_for (CatalogService *s, const char *task_id)
{
  g_autoptr(JsonNode) meta = catalog_json_parse (s->meta_json);
  const char *owner;

  if (!JSON_NODE_HOLDS_OBJECT (meta))
    return FALSE;
  owner = json_object_get_string_member_with_default (json_node_get_object (meta), META_TASK, NULL);
  if (owner == NULL)
    return FALSE;
  return task_id == NULL || g_str_equal (owner, task_id);
}

static const char *
marked_task (CatalogService *s, char **owner)
{
  g_autoptr(JsonNode) meta = catalog_json_parse (s->meta_json);

  *owner = NULL;
  if (JSON_NODE_HOLDS_OBJECT (meta))
    *owner = g_strdup (json_object_get_string_member_with_default (json_node_get_object (meta), META_TASK,
                                                                   NULL));
  return *owner;
}

static gboolean
deregister_service (BerthTxn *txn, const char *node, const char *id, GError **error)
{
  CatalogDeregistration d = { (char *) node, (char *) id, NULL };
  return catalog_write_deregister (txn, &d, error);
}

typedef struct {
  char      *node;
  char      *task_id;
  GPtrArray *regs;   /* CatalogRegistration: what the task registers now */
} TaskWrite;

static void
task_write_free (TaskWrite *w)
{
  g_free (w->node);
  g_free (w->task_id);
  g_ptr_array_unref (w->regs);
  g_free (w);
}

/* Registers a task's services and removes those it no longer has. */
static gboolean
write_task (BerthTxn *txn, gpointer data, GError **error)
{
  TaskWrite *w = data;
  BerthStore *store = berth_txn_get_store (txn);
  g_autofree char *prefix = g_strconcat (w->task_id, ":", NULL);
  g_autoptr(GPtrArray) services = catalog_list_services (store, w->node, NULL, error);

  if (services == NULL)
    return FALSE;
  for (guint i = 0; i < services->len; i++)
    {
      CatalogService *s = g_ptr_array_index (services, i);
      gboolean wanted = FALSE;

      if (!g_str_equal (s->id, w->task_id) && !g_str_has_prefix (s->id, prefix))
        continue;
      if (!is_marked_for (s, w->task_id))
        continue;   /* somebody else's registration under that ID */
      for (guint j = 0; j < w->regs->len && !wanted; j++)
        wanted = g_str_equal (((CatalogRegistration *) g_ptr_array_index (w->regs, j))->service->id, s->id);
      if (!wanted && !deregister_service (txn, w->node, s->id, error))
        return FALSE;
    }
  for (guint i = 0; i < w->regs->len; i++)
    if (!catalog_write_register (txn, g_ptr_array_index (w->regs, i), error))
      return FALSE;
  return TRUE;
}

typedef struct {
  char *node;
  char *node_id;
} SweepWrite;

static void
sweep_write_free (SweepWrite *w)
{
  g_free (w->node);
  g_free (w->node_id);
  g_free (w);
}

/* Removes the marked services whose task does not run on this node any
 * more (read in the same transaction). */
static gboolean
write_sweep (BerthTxn *txn, gpointer data, GError **error)
{
  SweepWrite *w = data;
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(GPtrArray) services = catalog_list_services (store, w->node, NULL, error);
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GHashTable) running = g_hash_table_new (g_str_hash, g_str_equal);

  if (services == NULL)
    return FALSE;
  tasks = berth_task_list (store, NULL, w->node_id, error);
  if (tasks == NULL)
    return FALSE;
  for (guint i = 0; i < tasks->len; i++)
    {
      BerthTask *task = g_ptr_array_index (tasks, i);
      if (berth_task_get_state (task) == BERTH_TASK_STATE_RUNNING)
        g_hash_table_add (running, (gpointer) berth_task_get_id (task));
    }
  for (guint i = 0; i < services->len; i++)
    {
      CatalogService *s = g_ptr_array_index (services, i);
      g_autofree char *owner = NULL;

      if (marked_task (s, &owner) == NULL || g_hash_table_contains (running, owner))
        continue;
      if (!deregister_service (txn, w->node, s->id, error))
        return FALSE;
    }
  return TRUE;
}

static void
write_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree char *task_id = user_data;
  g_autoptr(GError) error = NULL;

  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 && error != NULL)
    g_warning (_("Cannot register the services of task %s: %s"), task_id != NULL ? task_id : "*",
               error->message);
}

/* ---- following the tasks -------------------------------------------- */

static void
sync_task (DiscoveryAutoreg *self, const char *task_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BerthTask) task = berth_task_lookup (self->store, task_id, &error);
  g_autoptr(GPtrArray) regs = NULL;
  g_autofree char *sig = NULL;
  const char *old;
  TaskWrite *w;

  if (task == NULL && !g_error_matches (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
    {
      g_warning (_("Cannot read task %s: %s"), task_id, error->message);
      return;
    }
  regs = task_registrations (self, task);
  old = g_hash_table_lookup (self->registered, task_id);
  if (regs->len == 0)
    {
      if (old == NULL)
        return;   /* nothing of it registered */
      g_hash_table_remove (self->registered, task_id);
    }
  else
    {
      sig = signature (regs);
      if (g_strcmp0 (old, sig) == 0)
        return;   /* the same again (or deregistered by a user: leave it) */
      g_hash_table_insert (self->registered, g_strdup (task_id), g_steal_pointer (&sig));
    }
  w = g_new0 (TaskWrite, 1);
  w->node = g_strdup (self->node_name);
  w->task_id = g_strdup (task_id);
  w->regs = g_steal_pointer (&regs);
  berth_store_write_async (self->store, write_task, w, (GDestroyNotify) task_write_free, NULL,
                           write_done_cb, g_strdup (task_id));
}

static void
sync_all (DiscoveryAutoreg *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tasks = berth_task_list (self->store, NULL, self->node_id, &error);
  SweepWrite *sweep;

  if (tasks == NULL)
    {
      g_warning (_("Cannot read the tasks: %s"), error->message);
      return;
    }
  /* forget what was written: everything is written again (a no-op in the
   * store for what is already there) */
  g_hash_table_remove_all (self->registered);
  for (guint i = 0; i < tasks->len; i++)
    sync_task (self, berth_task_get_id (g_ptr_array_index (tasks, i)));
  sweep = g_new0 (SweepWrite, 1);
  sweep->node = g_strdup (self->node_name);
  sweep->node_id = g_strdup (self->node_id);
  berth_store_write_async (self->store, write_sweep, sweep, (GDestroyNotify) sweep_write_free,
                           NULL, write_done_cb, NULL);
}

static gboolean
sync_cb (gpointer user_data)
{
  DiscoveryAutoreg *self = user_data;
  g_autoptr(GHashTable) dirty = g_steal_pointer (&self->dirty);
  GHashTableIter iter;
  gpointer key;

  self->sync_id = 0;
  self->dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (self->dirty_all)
    {
      self->dirty_all = FALSE;
      sync_all (self);
      return G_SOURCE_REMOVE;
    }
  g_hash_table_iter_init (&iter, dirty);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    sync_task (self, key);
  return G_SOURCE_REMOVE;
}

static void
changed_cb (BerthStore *store, guint64 index, const char *topic, const char *key, gpointer user_data)
{
  DiscoveryAutoreg *self = user_data;

  if (g_strcmp0 (topic, "task") != 0)
    return;
  if (key == NULL || *key == '\0')
    self->dirty_all = TRUE;
  else
    g_hash_table_add (self->dirty, g_strdup (key));
  if (self->sync_id == 0)
    self->sync_id = g_idle_add (sync_cb, self);
}

DiscoveryAutoreg *
discovery_autoreg_new (BerthContext *context)
{
  DiscoveryAutoreg *self = g_new0 (DiscoveryAutoreg, 1);
  BerthNode *node = berth_context_get_node (context);

  self->context = context;
  self->store = g_object_ref (berth_context_get_store (context));
  self->node_name = g_strdup (berth_node_get_name (node));
  self->node_id = g_strdup (berth_node_get_id (node));
  self->node_address = g_strdup (berth_node_get_address (node));
  self->registered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->changed_id = g_signal_connect (self->store, "changed", G_CALLBACK (changed_cb), self);
  /* reconcile with the tasks as they are now */
  sync_all (self);
  return self;
}

void
discovery_autoreg_free (DiscoveryAutoreg *self)
{
  if (self == NULL)
    return;
  g_clear_signal_handler (&self->changed_id, self->store);
  g_clear_handle_id (&self->sync_id, g_source_remove);
  /* the queued writes carry their own data: let them land now */
  berth_store_flush (self->store);
  g_clear_object (&self->store);
  g_hash_table_unref (self->registered);
  g_hash_table_unref (self->dirty);
  g_free (self->node_name);
  g_free (self->node_id);
  g_free (self->node_address);
  g_free (self);
}
