/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "berth-error.h"
#include "berth-store-private.h"
#include "berth-store-raw.h"

/* The store's commit hooks and write tags: what lets code that watches
 * every change (the audit trail) record it in the very transaction that
 * makes it. A front door sets the call it runs as the current tag; the
 * writes queued meanwhile carry it; before the commit, every hook sees the
 * tagged writes that changed something, with their indices. */

typedef struct {
  guint                id;
  BerthStoreCommitHook func;
  gpointer             data;
  GDestroyNotify       destroy;
} CommitHook;

static void
commit_hook_free (CommitHook *hook)
{
  if (hook->destroy != NULL)
    hook->destroy (hook->data);
  g_free (hook);
}

/**
 * berth_store_set_current_tag:
 * @self: a #BerthStore
 * @tag: (nullable): what the writes queued from now on are done for
 *   (a #BerthCall), or %NULL
 *
 * Tags the writes queued (berth_store_write_async(), berth_store_write_sync())
 * until the tag is set again: the commit hooks see each tagged write that
 * changed something. A front door sets the call it runs around its
 * handler, then %NULL; writes a handler queues later, from a callback,
 * carry no tag.
 */
void
berth_store_set_current_tag (BerthStore *self, GObject *tag)
{
  g_return_if_fail (BERTH_IS_STORE (self));
  g_return_if_fail (tag == NULL || G_IS_OBJECT (tag));

  g_set_object (&self->current_tag, tag);
}

/**
 * berth_store_get_current_tag:
 * @self: a #BerthStore
 *
 * Returns: (transfer none) (nullable): the current tag
 */
GObject *
berth_store_get_current_tag (BerthStore *self)
{
  g_return_val_if_fail (BERTH_IS_STORE (self), NULL);
  return self->current_tag;
}

/**
 * berth_store_add_commit_hook:
 * @self: a #BerthStore
 * @func: (scope notified): the hook
 * @user_data: (closure func): data for @func
 * @destroy: (nullable): frees @user_data when the hook is removed
 *
 * Adds a hook that runs inside every group commit that changes something,
 * after its writes and before the COMMIT, with the tagged writes that
 * changed something (see berth_store_set_current_tag()). What the hook
 * writes (raw statements, see <berth-store-raw.h>) commits with them; when
 * it fails, the whole group commit fails.
 *
 * Returns: the hook's id, for berth_store_remove_commit_hook()
 */
guint
berth_store_add_commit_hook (BerthStore *self, BerthStoreCommitHook func, gpointer user_data,
                             GDestroyNotify destroy)
{
  CommitHook *hook;

  g_return_val_if_fail (BERTH_IS_STORE (self), 0);
  g_return_val_if_fail (func != NULL, 0);

  if (self->commit_hooks == NULL)
    self->commit_hooks = g_ptr_array_new_with_free_func ((GDestroyNotify) commit_hook_free);
  hook = g_new0 (CommitHook, 1);
  hook->id = ++self->next_hook_id;
  hook->func = func;
  hook->data = user_data;
  hook->destroy = destroy;
  g_ptr_array_add (self->commit_hooks, hook);
  return hook->id;
}

/**
 * berth_store_remove_commit_hook:
 * @self: a #BerthStore
 * @id: an id from berth_store_add_commit_hook()
 *
 * Removes a commit hook.
 */
void
berth_store_remove_commit_hook (BerthStore *self, guint id)
{
  g_return_if_fail (BERTH_IS_STORE (self));

  if (self->commit_hooks == NULL)
    return;
  for (guint i = 0; i < self->commit_hooks->len; i++)
    if (((CommitHook *) g_ptr_array_index (self->commit_hooks, i))->id == id)
      {
        g_ptr_array_remove_index (self->commit_hooks, i);
        return;
      }
}

static gboolean
exec_one (BerthStore *self, const char *sql, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (self, sql, error);
  return stmt != NULL && berth_store_step (self, stmt, NULL, error);
}

/* Internal: called by the group commit inside its transaction. */
gboolean
berth_store_run_commit_hooks (BerthStore *self, GArray *commits, GError **error)
{
  if (self->commit_hooks == NULL || commits->len == 0)
    return TRUE;
  for (guint i = 0; i < self->commit_hooks->len; i++)
    {
      CommitHook *hook = g_ptr_array_index (self->commit_hooks, i);
      GError *local_error = NULL;

      if (!exec_one (self, "SAVEPOINT berth_hook", error))
        return FALSE;
      if (!hook->func (self, (const BerthStoreCommit *) (gpointer) commits->data, commits->len,
                       hook->data, &local_error))
        {
          exec_one (self, "ROLLBACK TO berth_hook", NULL);
          exec_one (self, "RELEASE berth_hook", NULL);
          if (local_error == NULL)
            g_set_error_literal (&local_error, BERTH_ERROR, BERTH_ERROR_FAILED,
                                 _("A commit hook failed"));
          g_propagate_error (error, local_error);
          return FALSE;
        }
      if (!exec_one (self, "RELEASE berth_hook", error))
        return FALSE;
    }
  return TRUE;
}
