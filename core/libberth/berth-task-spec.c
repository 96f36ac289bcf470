/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "berth-error.h"
#include "berth-task-spec.h"

/**
 * SECTION:berth-task-spec
 * @title: BerthTaskSpec
 * @short_description: what a task runs, typed
 *
 * The contract between the controller that places tasks (the scheduler)
 * and the one that runs them (the runtime): the command or image, its
 * environment and labels, the resources it is given, its network and the
 * ports it listens on. It is stored as JSON in the core `tasks` table;
 * berth_task_spec_new_from_json() checks every member's type, so a bad
 * row is an error to report, never a crash.
 *
 * JSON members: `kind` (`exec`|`container`), `cmd`, `args`, `image`,
 * `env` and `labels` (objects of strings), `cpus`, `mem_mb`, `disk_mb`,
 * `network` (`host`|`bridge`|`none`), `ports` (array of `{container,
 * protocol, name}`), `kill_grace_seconds`.
 */

typedef struct {
  guint  container;
  char  *protocol;
  char  *name;
} Port;

struct _BerthTaskSpec {
  GObject           parent_instance;
  BerthTaskKind     kind;
  char             *cmd;
  GStrv             args;
  char             *image;
  GHashTable       *env;
  GHashTable       *labels;
  gdouble           cpus;
  guint64           mem_mb;
  guint64           disk_mb;
  BerthTaskNetwork  network;
  GArray           *ports;
  guint             kill_grace_seconds;
};

G_DEFINE_FINAL_TYPE (BerthTaskSpec, berth_task_spec, G_TYPE_OBJECT)

static void
port_clear (gpointer data)
{
  Port *p = data;
  g_free (p->protocol);
  g_free (p->name);
}

/**
 * berth_task_spec_new:
 * @kind: how the task runs
 *
 * Returns: (transfer full): an empty spec (host network, 3 s kill grace)
 */
BerthTaskSpec *
berth_task_spec_new (BerthTaskKind kind)
{
  BerthTaskSpec *self = g_object_new (BERTH_TYPE_TASK_SPEC, NULL);
  self->kind = kind;
  return self;
}

static gboolean
bad_member (const char *name, const char *want, GError **error)
{
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
               _("Task spec member “%s” must be %s"), name, want);
  return FALSE;
}

/* Reads an optional string member; %FALSE only when present and not a string. */
static gboolean
read_string (JsonObject *o, const char *name, char **out, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return bad_member (name, _("a string"), error);
  g_free (*out);
  *out = g_strdup (json_node_get_string (n));
  return TRUE;
}

static gboolean
read_number (JsonObject *o, const char *name, gdouble max, gdouble *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);
  gdouble v;

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) ||
      (json_node_get_value_type (n) != G_TYPE_INT64 && json_node_get_value_type (n) != G_TYPE_DOUBLE))
    return bad_member (name, _("a number"), error);
  v = json_node_get_double (n);
  if (!(v >= 0 && v <= max))
    return bad_member (name, _("a non-negative number in range"), error);
  *out = v;
  return TRUE;
}

static gboolean
read_string_map (JsonObject *o, const char *name, GHashTable *into, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return bad_member (name, _("an object of strings"), error);
  json_object_iter_init (&iter, json_node_get_object (n));
  while (json_object_iter_next (&iter, &key, &value))
    {
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        return bad_member (name, _("an object of strings"), error);
      g_hash_table_replace (into, g_strdup (key), g_strdup (json_node_get_string (value)));
    }
  return TRUE;
}

static gboolean
read_args (JsonObject *o, GStrv *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, "args");
  g_autoptr(GStrvBuilder) builder = NULL;
  JsonArray *a;

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    return bad_member ("args", _("an array of strings"), error);
  a = json_node_get_array (n);
  builder = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        return bad_member ("args", _("an array of strings"), error);
      g_strv_builder_add (builder, json_node_get_string (e));
    }
  g_strfreev (*out);
  *out = g_strv_builder_end (builder);
  return TRUE;
}

static gboolean
read_ports (BerthTaskSpec *self, JsonObject *o, GError **error)
{
  JsonNode *n = json_object_get_member (o, "ports");
  JsonArray *a;

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    return bad_member ("ports", _("an array of port objects"), error);
  a = json_node_get_array (n);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      g_autofree char *protocol = NULL;
      g_autofree char *name = NULL;
      gdouble port = 0;

      if (!JSON_NODE_HOLDS_OBJECT (e))
        return bad_member ("ports", _("an array of port objects"), error);
      if (!read_number (json_node_get_object (e), "container", 65535, &port, error) ||
          !read_string (json_node_get_object (e), "protocol", &protocol, error) ||
          !read_string (json_node_get_object (e), "name", &name, error))
        return FALSE;
      berth_task_spec_add_port (self, (guint) port, protocol, name);
    }
  return TRUE;
}

/**
 * berth_task_spec_new_from_json:
 * @object: a spec as stored
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the spec, or %NULL with %BERTH_ERROR_INVALID
 *   naming the first member of the wrong type
 */
BerthTaskSpec *
berth_task_spec_new_from_json (JsonObject *object, GError **error)
{
  g_autoptr(BerthTaskSpec) self = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *network = NULL;
  gdouble cpus = 0, mem = 0, disk = 0, grace = 3;

  g_return_val_if_fail (object != NULL, NULL);

  if (!read_string (object, "kind", &kind, error))
    return NULL;
  if (g_strcmp0 (kind, "container") == 0)
    self = berth_task_spec_new (BERTH_TASK_KIND_CONTAINER);
  else if (kind == NULL || g_strcmp0 (kind, "exec") == 0)
    self = berth_task_spec_new (BERTH_TASK_KIND_EXEC);
  else
    {
      bad_member ("kind", "“exec” or “container”", error);
      return NULL;
    }
  if (!read_string (object, "cmd", &self->cmd, error) ||
      !read_args (object, &self->args, error) ||
      !read_string (object, "image", &self->image, error) ||
      !read_string_map (object, "env", self->env, error) ||
      !read_string_map (object, "labels", self->labels, error) ||
      !read_number (object, "cpus", 1e6, &cpus, error) ||
      !read_number (object, "mem_mb", 1e12, &mem, error) ||
      !read_number (object, "disk_mb", 1e12, &disk, error) ||
      !read_number (object, "kill_grace_seconds", 86400, &grace, error) ||
      !read_string (object, "network", &network, error) ||
      !read_ports (self, object, error))
    return NULL;
  if (self->kind == BERTH_TASK_KIND_CONTAINER && self->image == NULL)
    {
      bad_member ("image", _("set for a container task"), error);
      return NULL;
    }
  if (self->kind == BERTH_TASK_KIND_EXEC && self->cmd == NULL &&
      (self->args == NULL || self->args[0] == NULL))
    {
      bad_member ("cmd", _("set (or args) for an exec task"), error);
      return NULL;
    }
  if (network == NULL || g_strcmp0 (network, "host") == 0)
    self->network = BERTH_TASK_NETWORK_HOST;
  else if (g_strcmp0 (network, "bridge") == 0)
    self->network = BERTH_TASK_NETWORK_BRIDGE;
  else if (g_strcmp0 (network, "none") == 0)
    self->network = BERTH_TASK_NETWORK_NONE;
  else
    {
      bad_member ("network", "“host”, “bridge” or “none”", error);
      return NULL;
    }
  self->cpus = cpus;
  self->mem_mb = (guint64) mem;
  self->disk_mb = (guint64) disk;
  self->kill_grace_seconds = (guint) grace;
  return g_steal_pointer (&self);
}

static JsonObject *
map_to_json (GHashTable *map)
{
  JsonObject *o = json_object_new ();
  GHashTableIter iter;
  gpointer k, v;

  g_hash_table_iter_init (&iter, map);
  while (g_hash_table_iter_next (&iter, &k, &v))
    json_object_set_string_member (o, k, v);
  return o;
}

/**
 * berth_task_spec_to_json:
 * @self: a #BerthTaskSpec
 *
 * Returns: (transfer full): the spec as stored
 */
JsonObject *
berth_task_spec_to_json (BerthTaskSpec *self)
{
  static const char *networks[] = { "host", "bridge", "none" };
  JsonObject *o;
  JsonArray *ports;

  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), NULL);

  o = json_object_new ();
  json_object_set_string_member (o, "kind", self->kind == BERTH_TASK_KIND_CONTAINER ? "container" : "exec");
  if (self->cmd != NULL)
    json_object_set_string_member (o, "cmd", self->cmd);
  if (self->args != NULL)
    {
      JsonArray *args = json_array_new ();
      for (guint i = 0; self->args[i] != NULL; i++)
        json_array_add_string_element (args, self->args[i]);
      json_object_set_array_member (o, "args", args);
    }
  if (self->image != NULL)
    json_object_set_string_member (o, "image", self->image);
  json_object_set_object_member (o, "env", map_to_json (self->env));
  json_object_set_object_member (o, "labels", map_to_json (self->labels));
  json_object_set_double_member (o, "cpus", self->cpus);
  json_object_set_int_member (o, "mem_mb", (gint64) self->mem_mb);
  json_object_set_int_member (o, "disk_mb", (gint64) self->disk_mb);
  json_object_set_string_member (o, "network", networks[self->network]);
  ports = json_array_new ();
  for (guint i = 0; i < self->ports->len; i++)
    {
      Port *p = &g_array_index (self->ports, Port, i);
      JsonObject *po = json_object_new ();
      json_object_set_int_member (po, "container", p->container);
      if (p->protocol != NULL)
        json_object_set_string_member (po, "protocol", p->protocol);
      if (p->name != NULL)
        json_object_set_string_member (po, "name", p->name);
      json_array_add_object_element (ports, po);
    }
  json_object_set_array_member (o, "ports", ports);
  json_object_set_int_member (o, "kill_grace_seconds", self->kill_grace_seconds);
  return o;
}

/**
 * berth_task_spec_get_kind:
 * @self: a #BerthTaskSpec
 *
 * Returns: how the task runs
 */
BerthTaskKind
berth_task_spec_get_kind (BerthTaskSpec *self)
{
  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), BERTH_TASK_KIND_EXEC);
  return self->kind;
}

/**
 * berth_task_spec_get_cmd:
 * @self: a #BerthTaskSpec
 *
 * Returns: (nullable): the shell command line
 */
const char *
berth_task_spec_get_cmd (BerthTaskSpec *self)
{
  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), NULL);
  return self->cmd;
}

/**
 * berth_task_spec_set_cmd:
 * @self: a #BerthTaskSpec
 * @cmd: (nullable): a shell command line, run with `/bin/sh -c`
 */
void
berth_task_spec_set_cmd (BerthTaskSpec *self, const char *cmd)
{
  g_return_if_fail (BERTH_IS_TASK_SPEC (self));
  g_free (self->cmd);
  self->cmd = g_strdup (cmd);
}

/**
 * berth_task_spec_get_args:
 * @self: a #BerthTaskSpec
 *
 * Returns: (nullable) (array zero-terminated=1) (transfer none): the
 *   argument vector, when the task runs one instead of a command line
 */
const char * const *
berth_task_spec_get_args (BerthTaskSpec *self)
{
  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), NULL);
  return (const char * const *) self->args;
}

/**
 * berth_task_spec_set_args:
 * @self: a #BerthTaskSpec
 * @args: (nullable) (array zero-terminated=1): an argument vector
 */
void
berth_task_spec_set_args (BerthTaskSpec *self, const char * const *args)
{
  g_return_if_fail (BERTH_IS_TASK_SPEC (self));
  g_strfreev (self->args);
  self->args = g_strdupv ((char **) args);
}

/**
 * berth_task_spec_get_image:
 * @self: a #BerthTaskSpec
 *
 * Returns: (nullable): the image reference of a container task
 */
const char *
berth_task_spec_get_image (BerthTaskSpec *self)
{
  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), NULL);
  return self->image;
}

/**
 * berth_task_spec_set_image:
 * @self: a #BerthTaskSpec
 * @image: (nullable): an image reference
 */
void
berth_task_spec_set_image (BerthTaskSpec *self, const char *image)
{
  g_return_if_fail (BERTH_IS_TASK_SPEC (self));
  g_free (self->image);
  self->image = g_strdup (image);
}

/**
 * berth_task_spec_get_env:
 * @self: a #BerthTaskSpec
 *
 * Returns: (transfer none) (element-type utf8 utf8): the environment, to
 *   read or fill
 */
GHashTable *
berth_task_spec_get_env (BerthTaskSpec *self)
{
  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), NULL);
  return self->env;
}

/**
 * berth_task_spec_get_labels:
 * @self: a #BerthTaskSpec
 *
 * Returns: (transfer none) (element-type utf8 utf8): the labels, to read
 *   or fill
 */
GHashTable *
berth_task_spec_get_labels (BerthTaskSpec *self)
{
  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), NULL);
  return self->labels;
}

/**
 * berth_task_spec_get_cpus:
 * @self: a #BerthTaskSpec
 *
 * Returns: the CPU share (1.0 = one core)
 */
gdouble
berth_task_spec_get_cpus (BerthTaskSpec *self)
{
  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), 0);
  return self->cpus;
}

/**
 * berth_task_spec_get_mem_mb:
 * @self: a #BerthTaskSpec
 *
 * Returns: the memory limit in MiB, 0 for none
 */
guint64
berth_task_spec_get_mem_mb (BerthTaskSpec *self)
{
  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), 0);
  return self->mem_mb;
}

/**
 * berth_task_spec_get_disk_mb:
 * @self: a #BerthTaskSpec
 *
 * Returns: the disk reserved in MiB
 */
guint64
berth_task_spec_get_disk_mb (BerthTaskSpec *self)
{
  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), 0);
  return self->disk_mb;
}

/**
 * berth_task_spec_set_resources:
 * @self: a #BerthTaskSpec
 * @cpus: the CPU share
 * @mem_mb: the memory limit in MiB
 * @disk_mb: the disk reserved in MiB
 */
void
berth_task_spec_set_resources (BerthTaskSpec *self, gdouble cpus, guint64 mem_mb, guint64 disk_mb)
{
  g_return_if_fail (BERTH_IS_TASK_SPEC (self));
  g_return_if_fail (cpus >= 0);
  self->cpus = cpus;
  self->mem_mb = mem_mb;
  self->disk_mb = disk_mb;
}

/**
 * berth_task_spec_get_network:
 * @self: a #BerthTaskSpec
 *
 * Returns: the task's network
 */
BerthTaskNetwork
berth_task_spec_get_network (BerthTaskSpec *self)
{
  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), BERTH_TASK_NETWORK_HOST);
  return self->network;
}

/**
 * berth_task_spec_set_network:
 * @self: a #BerthTaskSpec
 * @network: the task's network
 */
void
berth_task_spec_set_network (BerthTaskSpec *self, BerthTaskNetwork network)
{
  g_return_if_fail (BERTH_IS_TASK_SPEC (self));
  g_return_if_fail (network <= BERTH_TASK_NETWORK_NONE);
  self->network = network;
}

/**
 * berth_task_spec_get_n_ports:
 * @self: a #BerthTaskSpec
 *
 * Returns: how many ports the task listens on
 */
guint
berth_task_spec_get_n_ports (BerthTaskSpec *self)
{
  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), 0);
  return self->ports->len;
}

/**
 * berth_task_spec_get_port:
 * @self: a #BerthTaskSpec
 * @i: which port, below berth_task_spec_get_n_ports()
 * @protocol: (out) (optional) (nullable) (transfer none): `tcp`, `udp`, …
 * @name: (out) (optional) (nullable) (transfer none): the port's name
 *
 * Returns: the port inside the task (0: any, the host's port is used)
 */
guint
berth_task_spec_get_port (BerthTaskSpec *self, guint i, const char **protocol, const char **name)
{
  Port *p;

  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), 0);
  g_return_val_if_fail (i < self->ports->len, 0);

  p = &g_array_index (self->ports, Port, i);
  if (protocol != NULL)
    *protocol = p->protocol;
  if (name != NULL)
    *name = p->name;
  return p->container;
}

/**
 * berth_task_spec_add_port:
 * @self: a #BerthTaskSpec
 * @container_port: the port inside the task, 0 for the host port
 * @protocol: (nullable): `tcp` (the default), `udp`, …
 * @name: (nullable): the port's name
 */
void
berth_task_spec_add_port (BerthTaskSpec *self, guint container_port, const char *protocol,
                          const char *name)
{
  Port p = { 0 };

  g_return_if_fail (BERTH_IS_TASK_SPEC (self));
  g_return_if_fail (container_port <= 65535);

  p.container = container_port;
  p.protocol = g_strdup (protocol);
  p.name = g_strdup (name);
  g_array_append_val (self->ports, p);
}

/**
 * berth_task_spec_get_kill_grace_seconds:
 * @self: a #BerthTaskSpec
 *
 * Returns: seconds between SIGTERM and SIGKILL when the task is stopped
 */
guint
berth_task_spec_get_kill_grace_seconds (BerthTaskSpec *self)
{
  g_return_val_if_fail (BERTH_IS_TASK_SPEC (self), 3);
  return self->kill_grace_seconds;
}

/**
 * berth_task_spec_set_kill_grace_seconds:
 * @self: a #BerthTaskSpec
 * @seconds: seconds between SIGTERM and SIGKILL
 */
void
berth_task_spec_set_kill_grace_seconds (BerthTaskSpec *self, guint seconds)
{
  g_return_if_fail (BERTH_IS_TASK_SPEC (self));
  self->kill_grace_seconds = seconds;
}

static void
berth_task_spec_finalize (GObject *object)
{
  BerthTaskSpec *self = BERTH_TASK_SPEC (object);

  g_free (self->cmd);
  g_strfreev (self->args);
  g_free (self->image);
  g_hash_table_unref (self->env);
  g_hash_table_unref (self->labels);
  g_array_unref (self->ports);
  G_OBJECT_CLASS (berth_task_spec_parent_class)->finalize (object);
}

static void
berth_task_spec_class_init (BerthTaskSpecClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = berth_task_spec_finalize;
}

static void
berth_task_spec_init (BerthTaskSpec *self)
{
  self->env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->ports = g_array_new (FALSE, TRUE, sizeof (Port));
  g_array_set_clear_func (self->ports, port_clear);
  self->kill_grace_seconds = 3;
}
