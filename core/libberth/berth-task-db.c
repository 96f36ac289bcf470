/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "berth-error.h"
#include "berth-json.h"
#include "berth-store-raw.h"
#include "berth-task.h"
#include "berth-task-private.h"

/* A task's row in the core `tasks` table: the scheduler inserts it and
 * writes the desired state and health; the runtime writes the actual
 * state. Each side writes only its own columns. */

#define TASK_COLUMNS \
  "id, app_id, node_id, version, spec, desired_state, state, host, ports, runtime_id," \
  " exit_code, message, staged_at, started_at, finished_at, create_index, modify_index"

/* what the reads select: the columns above, then those added later */
#define TASK_READ_COLUMNS TASK_COLUMNS ", health"

static char *
dup_column (sqlite3_stmt *stmt, int col)
{
  const unsigned char *text = sqlite3_column_text (stmt, col);
  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

static JsonNode *
parse_text (const char *text)
{
  return text != NULL ? berth_json_parse (text, -1, NULL) : NULL;
}

static BerthTask *
task_from_row (sqlite3_stmt *stmt)
{
  BerthTask *self = g_object_new (BERTH_TYPE_TASK, NULL);
  g_autoptr(JsonNode) spec = parse_text ((const char *) sqlite3_column_text (stmt, 4));
  g_autoptr(JsonNode) ports = parse_text ((const char *) sqlite3_column_text (stmt, 8));

  self->id = dup_column (stmt, 0);
  self->app_id = dup_column (stmt, 1);
  self->node_id = dup_column (stmt, 2);
  self->version = dup_column (stmt, 3);
  self->spec = spec != NULL && JSON_NODE_HOLDS_OBJECT (spec) ? json_object_ref (json_node_get_object (spec))
                                                             : json_object_new ();
  /* a row this version cannot read is a task nobody can vouch for */
  if (!berth_task_desired_from_string ((const char *) sqlite3_column_text (stmt, 5),
                                       &self->desired_state))
    self->desired_state = BERTH_TASK_DESIRED_KILLED;
  if (!berth_task_state_from_string ((const char *) sqlite3_column_text (stmt, 6), &self->state))
    self->state = BERTH_TASK_STATE_LOST;
  self->host = dup_column (stmt, 7);
  if (ports != NULL && JSON_NODE_HOLDS_ARRAY (ports))
    {
      JsonArray *a = json_node_get_array (ports);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          guint p = (guint) json_array_get_int_element (a, i);
          g_array_append_val (self->ports, p);
        }
    }
  self->runtime_id = dup_column (stmt, 9);
  if (sqlite3_column_type (stmt, 10) != SQLITE_NULL)
    berth_task_set_exit_code (self, sqlite3_column_int (stmt, 10));
  self->message = dup_column (stmt, 11);
  self->staged_at = dup_column (stmt, 12);
  self->started_at = dup_column (stmt, 13);
  self->finished_at = dup_column (stmt, 14);
  self->create_index = (guint64) sqlite3_column_int64 (stmt, 15);
  self->modify_index = (guint64) sqlite3_column_int64 (stmt, 16);
  self->health = dup_column (stmt, 17);
  return self;
}

/**
 * berth_task_list:
 * @store: the store
 * @app_id: (nullable): only the tasks of this app
 * @node_id: (nullable): only the tasks placed on this node
 * @error: return location for a #GError
 *
 * Reads tasks, oldest first.
 *
 * Returns: (transfer full) (element-type BerthTask): the tasks, or %NULL
 *   with @error set
 */
GPtrArray *
berth_task_list (BerthStore *store, const char *app_id, const char *node_id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (BERTH_IS_STORE (store), NULL);

  stmt = berth_store_prepare (store,
                              "SELECT " TASK_READ_COLUMNS " FROM tasks"
                              " WHERE (?1 IS NULL OR app_id = ?1) AND (?2 IS NULL OR node_id = ?2)"
                              " ORDER BY create_index, id",
                              error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, app_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, node_id, -1, SQLITE_TRANSIENT);
  return berth_store_collect (store, stmt, (BerthRowFunc) task_from_row, g_object_unref, error);
}

/**
 * berth_task_lookup:
 * @store: the store
 * @id: a task id
 * @error: return location for a #GError
 *
 * Reads one task.
 *
 * Returns: (transfer full): the task, or %NULL with @error set
 *   (%BERTH_ERROR_NOT_FOUND when there is none)
 */
BerthTask *
berth_task_lookup (BerthStore *store, const char *id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean have_row = FALSE;

  stmt = berth_store_prepare (store, "SELECT " TASK_READ_COLUMNS " FROM tasks WHERE id = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, &have_row, error))
    return NULL;
  if (!have_row)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("No task %s"), id);
      return NULL;
    }
  return task_from_row (stmt);
}

static char *
json_to_text (JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

static char *
ports_text (GArray *ports)
{
  g_autoptr(GString) s = g_string_new ("[");
  for (guint i = 0; i < ports->len; i++)
    g_string_append_printf (s, "%s%u", i > 0 ? "," : "", g_array_index (ports, guint, i));
  g_string_append_c (s, ']');
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static gboolean
run_once (BerthStore *store, sqlite3_stmt *stmt, GError **error)
{
  gboolean have_row;
  return berth_store_step (store, stmt, &have_row, error);
}

/* Runs @sql on the row of task @id — ?1 the id, ?2 @value (NULL binds
 * NULL), ?3 the write's index, for the parameters @sql has — and records
 * a change of the task when a row changed. */
static gboolean
write_row (BerthTxn *txn, const char *sql, const char *id, const char *value, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, sql, error);
  int n;

  if (stmt == NULL)
    return FALSE;
  n = sqlite3_bind_parameter_count (stmt);
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (n >= 2 && value != NULL)
    sqlite3_bind_text (stmt, 2, value, -1, SQLITE_TRANSIENT);
  else if (n >= 2)
    sqlite3_bind_null (stmt, 2);
  if (n >= 3)
    sqlite3_bind_int64 (stmt, 3, (gint64) berth_txn_get_index (txn));
  if (!run_once (store, stmt, error))
    return FALSE;
  if (sqlite3_changes (berth_store_get_db (store)) > 0)
    berth_txn_changed (txn, "task", id);
  return TRUE;
}

/**
 * berth_task_insert:
 * @self: a new task
 * @txn: the write it is part of
 * @error: return location for a #GError
 *
 * Adds the task (the scheduler's side: every column).
 *
 * Returns: %TRUE on success
 */
gboolean
berth_task_insert (BerthTask *self, BerthTxn *txn, GError **error)
{
  BerthStore *store;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (BERTH_IS_TASK (self), FALSE);
  g_return_val_if_fail (txn != NULL, FALSE);
  store = berth_txn_get_store (txn);
  g_autoptr(JsonNode) spec = json_node_init_object (json_node_alloc (), self->spec);
  g_autofree char *spec_text = json_to_text (spec);
  g_autofree char *ports = ports_text (self->ports);
  gint64 index = (gint64) berth_txn_get_index (txn);

  stmt = berth_store_prepare (store,
                              "INSERT INTO tasks (" TASK_COLUMNS ") VALUES"
                              " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, self->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, self->app_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, self->node_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, self->version, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, spec_text, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, berth_task_desired_to_string (self->desired_state), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, berth_task_state_to_string (self->state), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, self->host, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 9, ports, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 10, self->runtime_id, -1, SQLITE_TRANSIENT);
  if (self->has_exit_code)
    sqlite3_bind_int (stmt, 11, self->exit_code);
  else
    sqlite3_bind_null (stmt, 11);
  sqlite3_bind_text (stmt, 12, self->message, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 13, self->staged_at, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 14, self->started_at, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 15, self->finished_at, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 16, index);
  if (!run_once (store, stmt, error))
    return FALSE;
  self->create_index = self->modify_index = (guint64) index;
  berth_txn_changed (txn, "task", self->id);
  return TRUE;
}

/**
 * berth_task_write_state:
 * @self: a task
 * @txn: the write it is part of
 * @error: return location for a #GError
 *
 * Writes the actual state of the task (the runtime's side: state, host,
 * ports, runtime id, exit code, message, started and finished times). A
 * task deleted meanwhile is not an error.
 *
 * Returns: %TRUE on success
 */
gboolean
berth_task_write_state (BerthTask *self, BerthTxn *txn, GError **error)
{
  BerthStore *store;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (BERTH_IS_TASK (self), FALSE);
  g_return_val_if_fail (txn != NULL, FALSE);
  store = berth_txn_get_store (txn);
  g_autofree char *ports = ports_text (self->ports);
  gint64 index = (gint64) berth_txn_get_index (txn);

  stmt = berth_store_prepare (store,
                              "UPDATE tasks SET state = ?2, host = ?3, ports = ?4, runtime_id = ?5,"
                              " exit_code = ?6, message = ?7, started_at = ?8, finished_at = ?9,"
                              " modify_index = ?10 WHERE id = ?1",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, self->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, berth_task_state_to_string (self->state), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, self->host, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, ports, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, self->runtime_id, -1, SQLITE_TRANSIENT);
  if (self->has_exit_code)
    sqlite3_bind_int (stmt, 6, self->exit_code);
  else
    sqlite3_bind_null (stmt, 6);
  sqlite3_bind_text (stmt, 7, self->message, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 8, self->started_at, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 9, self->finished_at, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 10, index);
  if (!run_once (store, stmt, error))
    return FALSE;
  if (sqlite3_changes (berth_store_get_db (store)) > 0)
    {
      self->modify_index = (guint64) index;
      berth_txn_changed (txn, "task", self->id);
    }
  return TRUE;
}

/**
 * berth_task_write_desired:
 * @txn: the write it is part of
 * @id: a task id
 * @desired_state: what the scheduler wants
 * @error: return location for a #GError
 *
 * Writes what the scheduler wants of a task (the scheduler's side).
 *
 * Returns: %TRUE on success
 */
gboolean
berth_task_write_desired (BerthTxn *txn, const char *id, BerthTaskDesired desired_state,
                          GError **error)
{
  g_return_val_if_fail (txn != NULL && id != NULL, FALSE);
  return write_row (txn,
                    "UPDATE tasks SET desired_state = ?2, modify_index = ?3"
                    " WHERE id = ?1 AND desired_state != ?2",
                    id, berth_task_desired_to_string (desired_state), error);
}

/**
 * berth_task_write_health:
 * @txn: the write it is part of
 * @id: a task id
 * @health: (nullable): %BERTH_TASK_HEALTH_PASSING,
 *   %BERTH_TASK_HEALTH_CRITICAL or %NULL for unknown
 * @error: return location for a #GError
 *
 * Writes the health of a task (the scheduler's side). Writing the health
 * the task already has changes nothing (no index bump, nobody woken); a
 * task deleted meanwhile is not an error.
 *
 * Returns: %TRUE on success
 */
gboolean
berth_task_write_health (BerthTxn *txn, const char *id, const char *health, GError **error)
{
  g_return_val_if_fail (txn != NULL && id != NULL, FALSE);
  return write_row (txn,
                    "UPDATE tasks SET health = ?2, modify_index = ?3"
                    " WHERE id = ?1 AND health IS NOT ?2",
                    id, health, error);
}

/**
 * berth_task_delete:
 * @txn: the write it is part of
 * @id: a task id
 * @error: return location for a #GError
 *
 * Removes a task row (the scheduler does, once the task is terminal).
 *
 * Returns: %TRUE on success
 */
gboolean
berth_task_delete (BerthTxn *txn, const char *id, GError **error)
{
  g_return_val_if_fail (txn != NULL && id != NULL, FALSE);
  return write_row (txn, "DELETE FROM tasks WHERE id = ?1", id, NULL, error);
}
