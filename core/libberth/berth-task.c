/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "berth-error.h"
#include "berth-task.h"
#include "berth-task-private.h"
#include "berth-time.h"

/**
 * SECTION:berth-task
 * @title: BerthTask
 * @short_description: one instance of an app, placed on a node
 *
 * A task is the contract between the scheduler, which writes the tasks it
 * wants (desired state `running` or `killed`, a spec saying what to run)
 * and the runtime of the node the task is placed on, which runs it and
 * writes its actual state (`TASK_STAGING` … `TASK_KILLED`), host ports,
 * runtime id, exit code and timestamps. Both sides write only their own
 * columns of the core `tasks` table (topic `task`, key = task id).
 *
 * The JSON form is Marathon's task object: `id`, `appId`, `host`, `ports`,
 * `slaveId` (the node id), `stagedAt`, `startedAt`, `version`, `state`.
 */


G_DEFINE_FINAL_TYPE (BerthTask, berth_task, G_TYPE_OBJECT)

static void
replace_string (char **slot, const char *value)
{
  if (*slot == value)
    return;
  g_free (*slot);
  *slot = g_strdup (value);
}

static void
berth_task_finalize (GObject *object)
{
  BerthTask *self = BERTH_TASK (object);

  g_free (self->id);
  g_free (self->app_id);
  g_free (self->node_id);
  g_free (self->version);
  g_clear_pointer (&self->spec, json_object_unref);
  g_free (self->host);
  g_array_unref (self->ports);
  g_free (self->runtime_id);
  g_free (self->message);
  g_free (self->health);
  g_free (self->staged_at);
  g_free (self->started_at);
  g_free (self->finished_at);
  G_OBJECT_CLASS (berth_task_parent_class)->finalize (object);
}

static void
berth_task_class_init (BerthTaskClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = berth_task_finalize;
}

static void
berth_task_init (BerthTask *self)
{
  self->ports = g_array_new (FALSE, FALSE, sizeof (guint));
  self->desired_state = BERTH_TASK_DESIRED_RUNNING;
  self->state = BERTH_TASK_STATE_STAGING;
}

/**
 * berth_task_new:
 * @id: the task id (`<app-id-with-underscores>.<uuid>`)
 * @app_id: the app's id (a path)
 * @node_id: the node the task is placed on
 * @version: the app version it runs
 * @spec: (nullable): what to run (kind, cmd, args, image, env, ports, …)
 *
 * Makes a task in state %BERTH_TASK_STATE_STAGING, desired state
 * %BERTH_TASK_DESIRED_RUNNING.
 *
 * Returns: (transfer full): a new #BerthTask
 */
BerthTask *
berth_task_new (const char *id, const char *app_id, const char *node_id, const char *version,
                JsonObject *spec)
{
  BerthTask *self = g_object_new (BERTH_TYPE_TASK, NULL);

  self->id = g_strdup (id);
  self->app_id = g_strdup (app_id);
  self->node_id = g_strdup (node_id);
  self->version = g_strdup (version);
  self->spec = spec != NULL ? json_object_ref (spec) : json_object_new ();
  return self;
}

static const char *
get_string (JsonObject *obj, const char *name)
{
  JsonNode *n = json_object_get_member (obj, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/**
 * berth_task_new_from_json:
 * @node: a Marathon task object
 * @error: return location for a #GError
 *
 * Parses a task in Marathon's shape (the inverse of berth_task_to_json()).
 *
 * Returns: (transfer full): a new #BerthTask, or %NULL with @error set
 */
BerthTask *
berth_task_new_from_json (JsonNode *node, GError **error)
{
  JsonObject *obj;
  BerthTask *self;
  JsonArray *ports;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("A task must be a JSON object"));
      return NULL;
    }
  obj = json_node_get_object (node);
  if (get_string (obj, "id") == NULL)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("A task needs an id"));
      return NULL;
    }
  self = berth_task_new (get_string (obj, "id"), get_string (obj, "appId"), get_string (obj, "slaveId"),
                         get_string (obj, "version"), NULL);
  if (get_string (obj, "state") != NULL &&
      !berth_task_state_from_string (get_string (obj, "state"), &self->state))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Unknown task state “%s”"),
                   get_string (obj, "state"));
      g_object_unref (self);
      return NULL;
    }
  self->host = g_strdup (get_string (obj, "host"));
  self->staged_at = g_strdup (get_string (obj, "stagedAt"));
  self->started_at = g_strdup (get_string (obj, "startedAt"));
  ports = json_object_has_member (obj, "ports") ? json_object_get_array_member (obj, "ports") : NULL;
  for (guint i = 0; ports != NULL && i < json_array_get_length (ports); i++)
    {
      guint p = (guint) json_array_get_int_element (ports, i);
      g_array_append_val (self->ports, p);
    }
  return self;
}

static void
add_ports (JsonBuilder *b, GArray *ports)
{
  json_builder_begin_array (b);
  for (guint i = 0; i < ports->len; i++)
    json_builder_add_int_value (b, g_array_index (ports, guint, i));
  json_builder_end_array (b);
}

/**
 * berth_task_to_json:
 * @self: a #BerthTask
 *
 * The task as Marathon shows it.
 *
 * Returns: (transfer full): a JSON object node
 */
JsonNode *
berth_task_to_json (BerthTask *self)
{
  g_autoptr(JsonBuilder) b = NULL;

  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, self->id);
  json_builder_set_member_name (b, "appId");
  json_builder_add_string_value (b, self->app_id);
  json_builder_set_member_name (b, "host");
  json_builder_add_string_value (b, self->host != NULL ? self->host : "");
  json_builder_set_member_name (b, "ports");
  add_ports (b, self->ports);
  json_builder_set_member_name (b, "servicePorts");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "slaveId");
  json_builder_add_string_value (b, self->node_id);
  json_builder_set_member_name (b, "stagedAt");
  json_builder_add_string_value (b, self->staged_at);
  json_builder_set_member_name (b, "startedAt");
  if (self->started_at != NULL)
    json_builder_add_string_value (b, self->started_at);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, self->version);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, berth_task_state_to_string (self->state));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/**
 * berth_task_get_id:
 * @self: a #BerthTask
 *
 * Returns: the task id
 */
const char *
berth_task_get_id (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  return self->id;
}

/**
 * berth_task_get_app_id:
 * @self: a #BerthTask
 *
 * Returns: the id of the app the task belongs to
 */
const char *
berth_task_get_app_id (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  return self->app_id;
}

/**
 * berth_task_get_node_id:
 * @self: a #BerthTask
 *
 * Returns: the id of the node the task is placed on
 */
const char *
berth_task_get_node_id (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  return self->node_id;
}

/**
 * berth_task_get_version:
 * @self: a #BerthTask
 *
 * Returns: the app version the task runs
 */
const char *
berth_task_get_version (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  return self->version;
}

/**
 * berth_task_get_spec:
 * @self: a #BerthTask
 *
 * Returns: (transfer none): what the task runs
 */
JsonObject *
berth_task_get_spec (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  return self->spec;
}

/**
 * berth_task_get_desired_state:
 * @self: a #BerthTask
 *
 * Returns: what the scheduler wants of the task
 */
BerthTaskDesired
berth_task_get_desired_state (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), BERTH_TASK_DESIRED_KILLED);
  return self->desired_state;
}

/**
 * berth_task_set_desired_state:
 * @self: a #BerthTask
 * @desired_state: what the scheduler wants
 *
 * Sets what the scheduler wants of the task.
 */
void
berth_task_set_desired_state (BerthTask *self, BerthTaskDesired desired_state)
{
  g_return_if_fail (BERTH_IS_TASK (self));
  g_return_if_fail (desired_state <= BERTH_TASK_DESIRED_KILLED);
  self->desired_state = desired_state;
}

/**
 * berth_task_get_state:
 * @self: a #BerthTask
 *
 * Returns: the actual state
 */
BerthTaskState
berth_task_get_state (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), BERTH_TASK_STATE_LOST);
  return self->state;
}

/**
 * berth_task_set_state:
 * @self: a #BerthTask
 * @state: the actual state
 *
 * Sets the actual state.
 */
void
berth_task_set_state (BerthTask *self, BerthTaskState state)
{
  g_return_if_fail (BERTH_IS_TASK (self));
  g_return_if_fail (state <= BERTH_TASK_STATE_LOST);
  self->state = state;
}

static const char * const state_names[] = {
  [BERTH_TASK_STATE_STAGING] = "TASK_STAGING",
  [BERTH_TASK_STATE_STARTING] = "TASK_STARTING",
  [BERTH_TASK_STATE_RUNNING] = "TASK_RUNNING",
  [BERTH_TASK_STATE_FINISHED] = "TASK_FINISHED",
  [BERTH_TASK_STATE_FAILED] = "TASK_FAILED",
  [BERTH_TASK_STATE_KILLED] = "TASK_KILLED",
  [BERTH_TASK_STATE_LOST] = "TASK_LOST",
};

static const char * const desired_names[] = {
  [BERTH_TASK_DESIRED_RUNNING] = "running",
  [BERTH_TASK_DESIRED_KILLED] = "killed",
};

/* The index of @text in @names, as the enum value it names. */
static gboolean
name_lookup (const char * const *names, guint n_names, const char *text, guint *out)
{
  for (guint i = 0; i < n_names; i++)
    if (g_strcmp0 (text, names[i]) == 0)
      {
        *out = i;
        return TRUE;
      }
  return FALSE;
}

/**
 * berth_task_state_to_string:
 * @state: a state
 *
 * Returns: Mesos's name of @state, e.g. `TASK_RUNNING`
 */
const char *
berth_task_state_to_string (BerthTaskState state)
{
  g_return_val_if_fail (state <= BERTH_TASK_STATE_LOST, "TASK_LOST");
  return state_names[state];
}

/**
 * berth_task_state_from_string:
 * @text: Mesos's name of a state, e.g. `TASK_RUNNING`
 * @out: (out): the state
 *
 * Returns: whether @text names a state
 */
gboolean
berth_task_state_from_string (const char *text, BerthTaskState *out)
{
  guint i;

  g_return_val_if_fail (out != NULL, FALSE);

  if (!name_lookup (state_names, G_N_ELEMENTS (state_names), text, &i))
    return FALSE;
  *out = (BerthTaskState) i;
  return TRUE;
}

/**
 * berth_task_desired_to_string:
 * @desired: a desired state
 *
 * Returns: its name as stored, `running` or `killed`
 */
const char *
berth_task_desired_to_string (BerthTaskDesired desired)
{
  g_return_val_if_fail (desired <= BERTH_TASK_DESIRED_KILLED, "killed");
  return desired_names[desired];
}

/**
 * berth_task_desired_from_string:
 * @text: `running` or `killed`
 * @out: (out): the desired state
 *
 * Returns: whether @text names a desired state
 */
gboolean
berth_task_desired_from_string (const char *text, BerthTaskDesired *out)
{
  guint i;

  g_return_val_if_fail (out != NULL, FALSE);

  if (!name_lookup (desired_names, G_N_ELEMENTS (desired_names), text, &i))
    return FALSE;
  *out = (BerthTaskDesired) i;
  return TRUE;
}

/**
 * berth_task_state_is_terminal:
 * @state: a state
 *
 * Returns: whether a task in @state has stopped for good
 */
gboolean
berth_task_state_is_terminal (BerthTaskState state)
{
  return state == BERTH_TASK_STATE_FINISHED || state == BERTH_TASK_STATE_FAILED ||
         state == BERTH_TASK_STATE_KILLED || state == BERTH_TASK_STATE_LOST;
}

/**
 * berth_task_is_terminal:
 * @self: a #BerthTask
 *
 * Returns: whether the task has stopped for good
 */
gboolean
berth_task_is_terminal (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), FALSE);
  return berth_task_state_is_terminal (self->state);
}

/**
 * berth_task_get_host:
 * @self: a #BerthTask
 *
 * Returns: (nullable): the host address the task runs on
 */
const char *
berth_task_get_host (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  return self->host;
}

/**
 * berth_task_set_host:
 * @self: a #BerthTask
 * @host: (nullable): the host address
 *
 * Sets the host address.
 */
void
berth_task_set_host (BerthTask *self, const char *host)
{
  g_return_if_fail (BERTH_IS_TASK (self));
  replace_string (&self->host, host);
}

/**
 * berth_task_get_ports:
 * @self: a #BerthTask
 *
 * Returns: (transfer none) (element-type guint): the host ports
 */
GArray *
berth_task_get_ports (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  return self->ports;
}

/**
 * berth_task_set_ports:
 * @self: a #BerthTask
 * @ports: (array length=n_ports): the host ports
 * @n_ports: their number
 *
 * Sets the host ports assigned to the task.
 */
void
berth_task_set_ports (BerthTask *self, const guint *ports, guint n_ports)
{
  g_return_if_fail (BERTH_IS_TASK (self));
  g_array_set_size (self->ports, 0);
  if (n_ports > 0)
    g_array_append_vals (self->ports, ports, n_ports);
}

/**
 * berth_task_get_runtime_id:
 * @self: a #BerthTask
 *
 * Returns: (nullable): the runtime's handle (container id or pid)
 */
const char *
berth_task_get_runtime_id (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  return self->runtime_id;
}

/**
 * berth_task_set_runtime_id:
 * @self: a #BerthTask
 * @runtime_id: (nullable): the runtime's handle
 *
 * Sets the runtime's handle.
 */
void
berth_task_set_runtime_id (BerthTask *self, const char *runtime_id)
{
  g_return_if_fail (BERTH_IS_TASK (self));
  replace_string (&self->runtime_id, runtime_id);
}

/**
 * berth_task_get_exit_code:
 * @self: a #BerthTask
 * @exit_code: (out): the exit code
 *
 * Returns: whether the task has an exit code
 */
gboolean
berth_task_get_exit_code (BerthTask *self, gint *exit_code)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), FALSE);
  if (self->has_exit_code && exit_code != NULL)
    *exit_code = self->exit_code;
  return self->has_exit_code;
}

/**
 * berth_task_set_exit_code:
 * @self: a #BerthTask
 * @exit_code: the exit code (128 + signal for a signalled process)
 *
 * Sets the exit code.
 */
void
berth_task_set_exit_code (BerthTask *self, gint exit_code)
{
  g_return_if_fail (BERTH_IS_TASK (self));
  self->has_exit_code = TRUE;
  self->exit_code = exit_code;
}

/**
 * berth_task_get_message:
 * @self: a #BerthTask
 *
 * Returns: (nullable): why the task is in its state
 */
const char *
berth_task_get_message (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  return self->message;
}

/**
 * berth_task_set_message:
 * @self: a #BerthTask
 * @message: (nullable): why the task is in its state
 *
 * Sets the message.
 */
void
berth_task_set_message (BerthTask *self, const char *message)
{
  g_return_if_fail (BERTH_IS_TASK (self));
  replace_string (&self->message, message);
}

/**
 * berth_task_get_health:
 * @self: a #BerthTask
 *
 * The health of the task as the scheduler's health checks see it (the
 * scheduler's side, written with berth_task_write_health()).
 *
 * Returns: (nullable): %BERTH_TASK_HEALTH_PASSING,
 *   %BERTH_TASK_HEALTH_CRITICAL, or %NULL when unknown (no health checks,
 *   or no result yet)
 */
const char *
berth_task_get_health (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  return self->health;
}

/**
 * berth_task_set_health:
 * @self: a #BerthTask
 * @health: (nullable): %BERTH_TASK_HEALTH_PASSING,
 *   %BERTH_TASK_HEALTH_CRITICAL or %NULL for unknown
 *
 * Sets the health of the task object (berth_task_write_health() writes it
 * to the store).
 */
void
berth_task_set_health (BerthTask *self, const char *health)
{
  g_return_if_fail (BERTH_IS_TASK (self));
  replace_string (&self->health, health);
}

/**
 * berth_task_get_staged_at:
 * @self: a #BerthTask
 *
 * Returns: (nullable): when the scheduler wrote the task
 */
const char *
berth_task_get_staged_at (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  return self->staged_at;
}

/**
 * berth_task_set_staged_at:
 * @self: a #BerthTask
 * @timestamp: (nullable): ISO-8601 UTC with milliseconds
 *
 * Sets when the task was staged.
 */
void
berth_task_set_staged_at (BerthTask *self, const char *timestamp)
{
  g_return_if_fail (BERTH_IS_TASK (self));
  replace_string (&self->staged_at, timestamp);
}

/**
 * berth_task_get_started_at:
 * @self: a #BerthTask
 *
 * Returns: (nullable): when the runtime started the task
 */
const char *
berth_task_get_started_at (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  return self->started_at;
}

/**
 * berth_task_set_started_at:
 * @self: a #BerthTask
 * @timestamp: (nullable): ISO-8601 UTC with milliseconds
 *
 * Sets when the task started.
 */
void
berth_task_set_started_at (BerthTask *self, const char *timestamp)
{
  g_return_if_fail (BERTH_IS_TASK (self));
  replace_string (&self->started_at, timestamp);
}

/**
 * berth_task_get_finished_at:
 * @self: a #BerthTask
 *
 * Returns: (nullable): when the task stopped
 */
const char *
berth_task_get_finished_at (BerthTask *self)
{
  g_return_val_if_fail (BERTH_IS_TASK (self), NULL);
  return self->finished_at;
}

/**
 * berth_task_set_finished_at:
 * @self: a #BerthTask
 * @timestamp: (nullable): ISO-8601 UTC with milliseconds
 *
 * Sets when the task stopped.
 */
void
berth_task_set_finished_at (BerthTask *self, const char *timestamp)
{
  g_return_if_fail (BERTH_IS_TASK (self));
  replace_string (&self->finished_at, timestamp);
}

/**
 * berth_task_get_create_index:
 * @self: a #BerthTask
 *
 * Returns: the store index that created the row
 */
guint64
berth_task_get_create_index (BerthTask *self)
{
  return self->create_index;
}

/**
 * berth_task_get_modify_index:
 * @self: a #BerthTask
 *
 * Returns: the store index that last modified the row
 */
guint64
berth_task_get_modify_index (BerthTask *self)
{
  return self->modify_index;
}

/**
 * berth_task_timestamp_now:
 *
 * Returns: (transfer full): the time now as Marathon writes it,
 *   `2026-11-24T10:00:00.000Z`
 */
char *
berth_task_timestamp_now (void)
{
  return berth_timestamp_format (g_get_real_time ());
}
