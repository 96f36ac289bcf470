/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "berth-error.h"
#include "berth-store-private.h"
#include "berth-store-raw.h"

/* Schema versions and migrations of the store's tables: the core's and
 * every plugin's. */

/**
 * berth_store_get_schema_version:
 * @self: a #BerthStore
 * @owner: the owner of a set of tables: `core` or a plugin's name
 *
 * Returns: the number of migrations applied for @owner, 0 if none
 */
gint
berth_store_get_schema_version (BerthStore *self, const char *owner)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean have_row = FALSE;

  g_return_val_if_fail (BERTH_IS_STORE (self), -1);
  g_return_val_if_fail (owner != NULL, -1);

  stmt = berth_store_prepare (self, "SELECT version FROM schema_versions WHERE owner = ?", NULL);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, owner, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (self, stmt, &have_row, NULL) || !have_row)
    return 0;
  return sqlite3_column_int (stmt, 0);
}

/**
 * berth_store_migrate:
 * @self: a #BerthStore
 * @owner: the owner of the tables: `core` or a plugin's name
 * @steps: (array zero-terminated=1): SQL scripts; step i brings the schema
 *   of @owner to version i + 1
 * @error: return location for a #GError
 *
 * Applies the steps of @owner that the store has not seen yet, each in its
 * own transaction together with the new version number. Steps already
 * applied are never run again, so a step must never be edited once
 * released: add a new one. A store whose version for @owner is newer than
 * @steps knows is refused (a downgrade would corrupt it).
 *
 * Returns: %TRUE on success
 */
gboolean
berth_store_migrate (BerthStore *self, const char *owner, const char * const *steps, GError **error)
{
  gint current;
  guint n_steps;

  g_return_val_if_fail (BERTH_IS_STORE (self), FALSE);
  g_return_val_if_fail (owner != NULL, FALSE);
  g_return_val_if_fail (steps != NULL, FALSE);

  /* writes still queued must not be mixed into a schema transaction */
  berth_store_flush (self);

  current = berth_store_get_schema_version (self, owner);
  if (current < 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED,
                   _("Cannot read the schema version of “%s”"), owner);
      return FALSE;
    }
  n_steps = g_strv_length ((char **) steps);
  if ((guint) current > n_steps)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED,
                   _("The store has schema version %d for “%s”, newer than this program knows (%u)"),
                   current, owner, n_steps);
      return FALSE;
    }

  for (guint i = current; i < n_steps; i++)
    {
      g_autoptr(sqlite3_stmt) stmt = NULL;
      g_autoptr(GError) local_error = NULL;

      if (!berth_store_exec (self, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!berth_store_exec (self, steps[i], &local_error))
        {
          berth_store_exec (self, "ROLLBACK", NULL);
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_FAILED,
                       _("Migration %u of “%s” failed: %s"), i + 1, owner, local_error->message);
          return FALSE;
        }
      stmt = berth_store_prepare (self,
                                  "INSERT INTO schema_versions (owner, version) VALUES (?1, ?2) "
                                  "ON CONFLICT (owner) DO UPDATE SET version = ?2",
                                  error);
      if (stmt == NULL)
        {
          berth_store_exec (self, "ROLLBACK", NULL);
          return FALSE;
        }
      sqlite3_bind_text (stmt, 1, owner, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int (stmt, 2, (int) i + 1);
      if (!berth_store_step (self, stmt, NULL, error))
        {
          sqlite3_reset (stmt);
          berth_store_exec (self, "ROLLBACK", NULL);
          return FALSE;
        }
      sqlite3_reset (stmt);
      if (!berth_store_exec (self, "COMMIT", error))
        {
          berth_store_exec (self, "ROLLBACK", NULL);
          return FALSE;
        }
      g_debug ("store: %s schema now at version %u", owner, i + 1);
    }
  return TRUE;
}
