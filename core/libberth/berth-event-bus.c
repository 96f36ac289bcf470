/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-event-bus.h"
#include "berth-event-private.h"

/**
 * SECTION:berth-event-bus
 * @title: BerthEventBus
 * @short_description: where events are published and followed
 *
 * One bus per daemon, owned by the context (berth_context_get_event_bus()).
 * Publishing numbers an event and keeps the most recent ones, so that a
 * subscriber that connects late, or reconnects, can read what it missed
 * with berth_event_bus_list_since() before following #BerthEventBus::event.
 */

struct _BerthEventBus {
  GObject     parent_instance;
  GQueue      backlog;     /* of BerthEvent, oldest first */
  guint       backlog_max;
  guint64     sequence;
};

G_DEFINE_FINAL_TYPE (BerthEventBus, berth_event_bus, G_TYPE_OBJECT)

enum { SIGNAL_EVENT, N_SIGNALS };
static guint signals[N_SIGNALS];

/**
 * berth_event_bus_new:
 * @backlog: how many recent events to keep for berth_event_bus_list_since()
 *
 * Returns: (transfer full): a new bus
 */
BerthEventBus *
berth_event_bus_new (guint backlog)
{
  BerthEventBus *self = g_object_new (BERTH_TYPE_EVENT_BUS, NULL);
  self->backlog_max = backlog;
  return self;
}

/**
 * berth_event_bus_publish:
 * @self: a #BerthEventBus
 * @event: the event; it must not have been published before
 * @index: the store index it belongs to, or 0
 *
 * Numbers @event, keeps it in the backlog and emits #BerthEventBus::event
 * with the topic as detail.
 */
void
berth_event_bus_publish (BerthEventBus *self, BerthEvent *event, guint64 index)
{
  g_autofree char *detail = NULL;

  g_return_if_fail (BERTH_IS_EVENT_BUS (self));
  g_return_if_fail (BERTH_IS_EVENT (event));
  g_return_if_fail (berth_event_get_sequence (event) == 0);

  berth_event_set_published (event, ++self->sequence, index);
  if (self->backlog_max > 0)
    {
      g_queue_push_tail (&self->backlog, g_object_ref (event));
      while (self->backlog.length > self->backlog_max)
        g_object_unref (g_queue_pop_head (&self->backlog));
    }
  detail = g_strdelimit (g_strdup (berth_event_get_topic (event)), ".", '-');
  g_signal_emit (self, signals[SIGNAL_EVENT], g_quark_from_string (detail), event);
}

/**
 * berth_event_bus_get_last_sequence:
 * @self: a #BerthEventBus
 *
 * Returns: the sequence number of the last event published, 0 if none
 */
guint64
berth_event_bus_get_last_sequence (BerthEventBus *self)
{
  g_return_val_if_fail (BERTH_IS_EVENT_BUS (self), 0);
  return self->sequence;
}

/**
 * berth_event_bus_list_since:
 * @self: a #BerthEventBus
 * @sequence: list events after this one
 * @topic_prefix: (nullable): only topics starting with this
 *
 * Returns: (transfer container) (element-type BerthEvent): the events of
 *   the backlog after @sequence, oldest first
 */
GPtrArray *
berth_event_bus_list_since (BerthEventBus *self, guint64 sequence, const char *topic_prefix)
{
  GPtrArray *out;

  g_return_val_if_fail (BERTH_IS_EVENT_BUS (self), NULL);

  out = g_ptr_array_new_with_free_func (g_object_unref);
  for (GList *l = self->backlog.head; l != NULL; l = l->next)
    {
      BerthEvent *event = l->data;
      if (berth_event_get_sequence (event) <= sequence)
        continue;
      if (topic_prefix != NULL && !g_str_has_prefix (berth_event_get_topic (event), topic_prefix))
        continue;
      g_ptr_array_add (out, g_object_ref (event));
    }
  return out;
}

static void
berth_event_bus_finalize (GObject *object)
{
  BerthEventBus *self = BERTH_EVENT_BUS (object);

  g_queue_clear_full (&self->backlog, g_object_unref);
  G_OBJECT_CLASS (berth_event_bus_parent_class)->finalize (object);
}

static void
berth_event_bus_class_init (BerthEventBusClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = berth_event_bus_finalize;

  /**
   * BerthEventBus::event:
   * @self: the bus
   * @event: the event
   *
   * An event was published. Detailed by topic, dots as dashes.
   */
  signals[SIGNAL_EVENT] = g_signal_new ("event", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 1, BERTH_TYPE_EVENT);
}

static void
berth_event_bus_init (BerthEventBus *self)
{
  g_queue_init (&self->backlog);
}
