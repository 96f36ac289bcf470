/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-time.h"

#include "berth-event.h"
#include "berth-event-private.h"

/**
 * SECTION:berth-event
 * @title: BerthEvent and BerthEventBus
 * @short_description: domain events, each with its caller
 *
 * What happened in the datacenter, as events: a task changed state, a
 * deployment started or finished, a check's health changed, an API call
 * wrote something, a container exited. Plugins publish them on the
 * context's bus (berth_context_get_event_bus()); Marathon's event stream,
 * the audit trail, monitoring and D-Bus signals subscribe to its
 * #BerthEventBus::event signal, whose detail is the topic with dots
 * replaced by dashes (`event::task-state` for topic `task.state`), or
 * read back what they missed with berth_event_bus_list_since().
 *
 * Topics in use: `task.state`, `deployment`, `health`, `api.write`,
 * `container.exit`, `app`.
 */

struct _BerthEvent {
  GObject      parent_instance;
  char        *topic;
  BerthCaller *caller;
  JsonObject  *data;
  gint64       timestamp;
  guint64      sequence;
  guint64      index;
};

G_DEFINE_FINAL_TYPE (BerthEvent, berth_event, G_TYPE_OBJECT)

/**
 * berth_event_new:
 * @topic: what kind of event, e.g. `task.state`
 * @caller: (nullable): who caused it
 * @data: (nullable): its details
 *
 * Returns: (transfer full): a new event, stamped with the current time
 */
BerthEvent *
berth_event_new (const char *topic, BerthCaller *caller, JsonObject *data)
{
  BerthEvent *self;

  g_return_val_if_fail (topic != NULL, NULL);
  g_return_val_if_fail (caller == NULL || BERTH_IS_CALLER (caller), NULL);

  self = g_object_new (BERTH_TYPE_EVENT, NULL);
  self->topic = g_strdup (topic);
  self->caller = caller != NULL ? g_object_ref (caller) : NULL;
  self->data = data != NULL ? json_object_ref (data) : json_object_new ();
  self->timestamp = g_get_real_time ();
  return self;
}

/**
 * berth_event_get_topic:
 * @self: a #BerthEvent
 *
 * Returns: the topic
 */
const char *
berth_event_get_topic (BerthEvent *self)
{
  g_return_val_if_fail (BERTH_IS_EVENT (self), NULL);
  return self->topic;
}

/**
 * berth_event_get_caller:
 * @self: a #BerthEvent
 *
 * Returns: (transfer none) (nullable): who caused it
 */
BerthCaller *
berth_event_get_caller (BerthEvent *self)
{
  g_return_val_if_fail (BERTH_IS_EVENT (self), NULL);
  return self->caller;
}

/**
 * berth_event_get_data:
 * @self: a #BerthEvent
 *
 * Returns: (transfer none): the details
 */
JsonObject *
berth_event_get_data (BerthEvent *self)
{
  g_return_val_if_fail (BERTH_IS_EVENT (self), NULL);
  return self->data;
}

/**
 * berth_event_get_timestamp:
 * @self: a #BerthEvent
 *
 * Returns: when it happened, in microseconds since the epoch
 */
gint64
berth_event_get_timestamp (BerthEvent *self)
{
  g_return_val_if_fail (BERTH_IS_EVENT (self), 0);
  return self->timestamp;
}

/**
 * berth_event_get_sequence:
 * @self: a #BerthEvent
 *
 * Returns: its place on the bus (1, 2, …), 0 before it was published
 */
guint64
berth_event_get_sequence (BerthEvent *self)
{
  g_return_val_if_fail (BERTH_IS_EVENT (self), 0);
  return self->sequence;
}

/**
 * berth_event_get_index:
 * @self: a #BerthEvent
 *
 * Returns: the store index the event belongs to, or 0
 */
guint64
berth_event_get_index (BerthEvent *self)
{
  g_return_val_if_fail (BERTH_IS_EVENT (self), 0);
  return self->index;
}

/**
 * berth_event_to_json:
 * @self: a #BerthEvent
 *
 * Returns: (transfer full): `{"topic", "timestamp" (RFC 3339), "sequence",
 *   "index", "caller", "data"}`
 */
JsonNode *
berth_event_to_json (BerthEvent *self)
{
  g_autoptr(JsonObject) obj = json_object_new ();
  g_autofree char *when = NULL;
  JsonNode *node;

  g_return_val_if_fail (BERTH_IS_EVENT (self), NULL);

  when = berth_timestamp_format (self->timestamp);
  json_object_set_string_member (obj, "topic", self->topic);
  json_object_set_string_member (obj, "timestamp", when);
  json_object_set_int_member (obj, "sequence", (gint64) self->sequence);
  json_object_set_int_member (obj, "index", (gint64) self->index);
  if (self->caller != NULL)
    {
      g_autofree char *who = berth_caller_to_string (self->caller);
      json_object_set_string_member (obj, "caller", who);
    }
  else
    json_object_set_null_member (obj, "caller");
  json_object_set_object_member (obj, "data", json_object_ref (self->data));
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, obj);
  return node;
}

static void
berth_event_finalize (GObject *object)
{
  BerthEvent *self = BERTH_EVENT (object);

  g_free (self->topic);
  g_clear_object (&self->caller);
  json_object_unref (self->data);
  G_OBJECT_CLASS (berth_event_parent_class)->finalize (object);
}

static void
berth_event_class_init (BerthEventClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = berth_event_finalize;
}

static void
berth_event_init (BerthEvent *self)
{
}

void
berth_event_set_published (BerthEvent *self, guint64 sequence, guint64 index)
{
  g_return_if_fail (BERTH_IS_EVENT (self));
  self->sequence = sequence;
  self->index = index;
}
