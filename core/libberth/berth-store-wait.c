/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "berth-error.h"
#include "berth-store-raw.h"
#include "berth-store-private.h"

/* Blocking queries: a waiter sleeps until a change of its topic (and key
 * prefix) commits after its index, its timeout passes, or its caller
 * gives up. The store wakes waiters after each commit, before it emits
 * ::changed. */

typedef struct {
  BerthStore   *store;
  GTask        *task;
  char         *topic;
  char         *prefix;
  guint64       index;
  guint         timeout_id;
  gulong        cancel_id;
  gboolean      done;
} Waiter;

static void
waiter_clear (gpointer data)
{
  Waiter *w = data;
  g_clear_object (&w->task);
  g_free (w->topic);
  g_free (w->prefix);
}

static void
waiter_unref (Waiter *w)
{
  g_rc_box_release_full (w, waiter_clear);
}

/* Completes a waiter exactly once. @error is consumed. */
static void
waiter_complete (Waiter *w, gboolean woken, GError *error)
{
  g_autoptr(GTask) task = NULL;

  if (w->done)
    {
      g_clear_error (&error);
      return;
    }
  w->done = TRUE;
  task = g_steal_pointer (&w->task);
  if (w->store != NULL)
    w->store->waiters = g_list_remove (w->store->waiters, w);
  g_clear_handle_id (&w->timeout_id, g_source_remove);
  if (w->cancel_id != 0)
    {
      g_cancellable_disconnect (g_task_get_cancellable (task), w->cancel_id);
      w->cancel_id = 0;
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, woken);
  /* the reference the waiter list held */
  waiter_unref (w);
}

static gboolean
waiter_timeout_cb (gpointer data)
{
  Waiter *w = data;
  w->timeout_id = 0;
  waiter_complete (w, FALSE, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
waiter_cancel_idle_cb (gpointer data)
{
  Waiter *w = data;
  GError *error = NULL;

  if (w->done)
    return G_SOURCE_REMOVE;
  /* the handler cannot be disconnected from inside its own emission, but
   * here we are outside of it */
  g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Operation was cancelled"));
  waiter_complete (w, FALSE, error);
  return G_SOURCE_REMOVE;
}

static void
waiter_cancelled_cb (GCancellable *cancellable, gpointer data)
{
  Waiter *w = data;
  g_idle_add_full (G_PRIORITY_DEFAULT, waiter_cancel_idle_cb,
                   g_rc_box_acquire (w), (GDestroyNotify) waiter_unref);
}

static gboolean
waiter_matches (Waiter *w, BerthChange *change)
{
  if (change->index <= w->index)
    return FALSE;
  if (w->topic != NULL && g_strcmp0 (w->topic, change->topic) != 0)
    return FALSE;
  if (w->prefix == NULL || change->key == NULL)
    return TRUE;
  return g_str_has_prefix (change->key, w->prefix);
}

/* Completes every waiter that one of @changes concerns. */
void
berth_store_wake_waiters (BerthStore *self, GPtrArray *changes)
{
  GList *woken = NULL;

  /* pick the waiters first: completing one may start a new wait */
  for (GList *l = self->waiters; l != NULL;)
    {
      Waiter *w = l->data;
      GList *next = l->next;
      for (guint i = 0; i < changes->len; i++)
        {
          if (waiter_matches (w, g_ptr_array_index (changes, i)))
            {
              self->waiters = g_list_remove_link (self->waiters, l);
              woken = g_list_concat (l, woken);
              break;
            }
        }
      l = next;
    }

  for (GList *l = woken; l != NULL; l = l->next)
    {
      Waiter *w = l->data;
      w->store = NULL;  /* already unlinked */
      waiter_complete (w, TRUE, NULL);
    }
  g_list_free (woken);
}

/* Fails every waiter: the store is closing. */
void
berth_store_fail_waiters (BerthStore *self)
{
  while (self->waiters != NULL)
    {
      Waiter *w = self->waiters->data;
      waiter_complete (w, FALSE,
                       g_error_new_literal (BERTH_ERROR, BERTH_ERROR_UNAVAILABLE,
                                            _("The store is closed")));
    }
}

/**
 * berth_store_wait_async:
 * @self: a #BerthStore
 * @topic: (nullable): the topic to watch, or %NULL for every topic
 * @prefix: (nullable): wake only for keys starting with this, or %NULL for all
 * @index: wake only for changes committed after this index
 * @timeout_ms: give up after this many milliseconds (0: never)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when woken, timed out or cancelled
 * @user_data: data for @callback
 *
 * The building block of blocking queries: waits until a change matching
 * @topic and @prefix commits at an index greater than @index. It only sees
 * changes committed after the call, so the caller checks its own data's
 * index first, then waits, then reads again.
 */
void
berth_store_wait_async (BerthStore *self, const char *topic, const char *prefix, guint64 index,
                        guint timeout_ms, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = NULL;
  Waiter *w;

  g_return_if_fail (BERTH_IS_STORE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, berth_store_wait_async);
  if (g_task_return_error_if_cancelled (task))
    return;

  /* the waiter list holds the one reference until the waiter completes */
  w = g_rc_box_new0 (Waiter);
  w->store = self;
  w->task = g_steal_pointer (&task);
  w->topic = g_strdup (topic);
  w->prefix = g_strdup (prefix);
  w->index = index;
  self->waiters = g_list_prepend (self->waiters, w);
  if (timeout_ms > 0)
    w->timeout_id = g_timeout_add (timeout_ms, waiter_timeout_cb, w);
  if (cancellable != NULL)
    w->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (waiter_cancelled_cb),
                                          w, NULL);
}

/**
 * berth_store_wait_finish:
 * @self: a #BerthStore
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE if a matching change was committed, %FALSE on timeout
 *   (without an error) or on cancellation (with an error)
 */
gboolean
berth_store_wait_finish (BerthStore *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BERTH_IS_STORE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
