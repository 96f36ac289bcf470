/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "runtime-launch.h"

/* The task executor never forks in a loop: tasks to start wait in this
 * queue (first in, first out, each id once) and a timer takes a few of
 * them per tick, so that at most @per_second launches happen in a second
 * and at most @max_in_flight are still starting at any time. The main
 * loop runs between two ticks: the API keeps answering while a large app
 * starts, and a task stopped while it waits is never launched (the
 * launch function looks at its desired state when its turn comes). */

/* ids looked at per tick without launching anything (stale entries) */
#define MAX_SKIPS_PER_TICK 64
#define MIN_TICK_MS 10

struct _RuntimeLaunchQueue {
  GQueue              queue;      /* char* ids, owned by @members */
  GHashTable         *members;    /* id → its GList link in @queue */
  guint               tick_ms;
  guint               per_tick;
  guint               max_in_flight;
  guint               source_id;
  RuntimeLaunchFunc   launch;
  RuntimeInFlightFunc in_flight;
  gpointer            user_data;
};

static gboolean
tick_cb (gpointer user_data)
{
  RuntimeLaunchQueue *self = user_data;
  guint launched = 0;
  guint skipped = 0;

  while (launched < self->per_tick && skipped < MAX_SKIPS_PER_TICK && self->queue.head != NULL &&
         self->in_flight (self->user_data) < self->max_in_flight)
    {
      g_autofree char *id = g_queue_pop_head (&self->queue);

      g_hash_table_steal (self->members, id);
      if (self->launch (id, self->user_data))
        launched++;
      else
        skipped++;
    }
  if (self->queue.head != NULL)
    return G_SOURCE_CONTINUE;
  self->source_id = 0;
  return G_SOURCE_REMOVE;
}

RuntimeLaunchQueue *
runtime_launch_queue_new (guint per_second, guint max_in_flight, RuntimeLaunchFunc launch,
                          RuntimeInFlightFunc in_flight, gpointer user_data)
{
  RuntimeLaunchQueue *self = g_new0 (RuntimeLaunchQueue, 1);

  per_second = MAX (per_second, 1);
  g_queue_init (&self->queue);
  self->members = g_hash_table_new (g_str_hash, g_str_equal);
  self->tick_ms = MAX (1000 / per_second, MIN_TICK_MS);
  self->per_tick = MAX ((guint) ((guint64) per_second * self->tick_ms / 1000), 1);
  self->max_in_flight = MAX (max_in_flight, 1);
  self->launch = launch;
  self->in_flight = in_flight;
  self->user_data = user_data;
  return self;
}

void
runtime_launch_queue_free (RuntimeLaunchQueue *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->source_id, g_source_remove);
  g_hash_table_unref (self->members);
  g_queue_clear_full (&self->queue, g_free);
  g_free (self);
}

void
runtime_launch_queue_push (RuntimeLaunchQueue *self, const char *id)
{
  char *copy;

  if (g_hash_table_contains (self->members, id))
    return;
  copy = g_strdup (id);
  g_queue_push_tail (&self->queue, copy);
  g_hash_table_insert (self->members, copy, self->queue.tail);
  if (self->source_id == 0)
    self->source_id = g_timeout_add (self->tick_ms, tick_cb, self);
}

gboolean
runtime_launch_queue_remove (RuntimeLaunchQueue *self, const char *id)
{
  GList *link = g_hash_table_lookup (self->members, id);

  if (link == NULL)
    return FALSE;
  g_hash_table_remove (self->members, id);
  g_free (link->data);
  g_queue_delete_link (&self->queue, link);
  return TRUE;
}

gboolean
runtime_launch_queue_has (RuntimeLaunchQueue *self, const char *id)
{
  return g_hash_table_contains (self->members, id);
}
