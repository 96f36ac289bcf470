/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "scheduler-app.h"
#include "scheduler-db.h"
#include "scheduler-events.h"

/* /v2/events: Marathon's server-sent events, one subscriber of the event
 * bus. Every subscriber gets every event the scheduler publishes, in the
 * order published, as
 *   event: <eventType>\ndata: <json>\n\n
 * written through a BerthStream: only the events about apps its caller
 * may read (`app` read on the event's appId). A subscriber that went away is dropped
 * at the next event. */

typedef struct {
  BerthStream  *stream;
  BerthRequest *request;     /* whose caller decides what it may see */
  GStrv         types;       /* only these event types, or NULL for all */
} Subscriber;

struct _SchedulerEvents {
  BerthEventBus *bus;
  gulong         event_id;
  GPtrArray     *subscribers;
};

static void
subscriber_free (Subscriber *s)
{
  berth_stream_close (s->stream);
  g_object_unref (s->stream);
  g_object_unref (s->request);
  g_strfreev (s->types);
  g_free (s);
}

/* ---- bus → Marathon ------------------------------------------------------ */

static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static void
copy_string (JsonObject *to, const char *to_name, JsonObject *from, const char *from_name)
{
  const char *value = member_string (from, from_name);
  json_object_set_string_member (to, to_name, value != NULL ? value : "");
}

static void
copy_member (JsonObject *to, const char *to_name, JsonObject *from, const char *from_name)
{
  JsonNode *n = json_object_get_member (from, from_name);
  if (n != NULL)
    json_object_set_member (to, to_name, json_node_copy (n));
}

/* Marathon shows the client's address; internal callers are local. */
static char *
client_ip (BerthCaller *caller)
{
  const char *address = caller != NULL ? berth_caller_get_address (caller) : NULL;
  g_autoptr(GSocketConnectable) parsed = NULL;

  if (address == NULL)
    return g_strdup ("127.0.0.1");
  parsed = g_network_address_parse (address, 0, NULL);
  if (parsed == NULL)
    return g_strdup ("127.0.0.1");
  return g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed)));
}

static JsonObject *
plan_of (JsonObject *data)
{
  const char *id = member_string (data, "id");
  const char *app_id = member_string (data, "appId");
  const char *version = member_string (data, "version");

  if (id == NULL || app_id == NULL || version == NULL)
    return NULL;
  return scheduler_deployment_plan_json (id, app_id, version, member_string (data, "action"));
}

static JsonObject *
translate_deployment (JsonObject *data, const char **type)
{
  const char *phase = member_string (data, "phase");
  JsonObject *o = json_object_new ();
  JsonObject *plan = plan_of (data);

  if (g_strcmp0 (phase, "started") == 0 && plan != NULL)
    {
      JsonArray *steps = json_object_get_array_member (plan, "steps");
      *type = "deployment_info";
      json_object_set_object_member (o, "currentStep", json_object_ref (json_array_get_object_element (steps, 0)));
      json_object_set_object_member (o, "plan", plan);
      return o;
    }
  if (g_strcmp0 (phase, "step") == 0 && plan != NULL)
    {
      *type = "deployment_step_success";
      json_object_set_object_member (o, "plan", plan);
      return o;
    }
  if (g_strcmp0 (phase, "success") == 0)
    {
      *type = "deployment_success";
      copy_string (o, "id", data, "id");
      if (plan != NULL)
        json_object_set_object_member (o, "plan", g_steal_pointer (&plan));
      return o;
    }
  g_clear_pointer (&plan, json_object_unref);
  if (g_strcmp0 (phase, "failed") == 0 || g_strcmp0 (phase, "cancelled") == 0)
    {
      *type = "deployment_failed";
      copy_string (o, "id", data, "id");
      return o;
    }
  json_object_unref (o);
  g_clear_pointer (&plan, json_object_unref);
  return NULL;
}

static JsonObject *
translate_app (BerthEvent *event, JsonObject *data, const char **type)
{
  const char *action = member_string (data, "action");
  const char *app_id = member_string (data, "appId");
  const char *group = member_string (data, "group");
  JsonObject *o;
  g_autofree char *ip = NULL;
  g_autofree char *uri = NULL;

  /* Marathon reports the API's writes of definitions */
  if (!json_object_has_member (data, "definition") || app_id == NULL ||
      (g_strcmp0 (action, "created") != 0 && g_strcmp0 (action, "updated") != 0 &&
       g_strcmp0 (action, "restarted") != 0))
    return NULL;
  *type = "api_post_event";
  ip = client_ip (berth_event_get_caller (event));
  if (group != NULL)
    uri = g_str_equal (action, "created") || g_str_equal (group, "/") ? g_strdup ("/v2/groups")
                                                                      : g_strconcat ("/v2/groups", group, NULL);
  else if (g_str_equal (action, "created"))
    uri = g_strdup ("/v2/apps");
  else
    uri = g_strconcat ("/v2/apps", app_id, g_str_equal (action, "restarted") ? "/restart" : NULL, NULL);
  o = json_object_new ();
  json_object_set_string_member (o, "clientIp", ip);
  json_object_set_string_member (o, "uri", uri);
  copy_member (o, "appDefinition", data, "definition");
  return o;
}

/**
 * scheduler_events_translate:
 * @event: an event of the bus
 * @type: (out): Marathon's event type
 *
 * Returns: (transfer full) (nullable): @event as Marathon shows it
 *   (eventType and timestamp included), or %NULL when Marathon has no
 *   such event
 */
JsonObject *
scheduler_events_translate (BerthEvent *event, const char **type)
{
  const char *topic = berth_event_get_topic (event);
  JsonObject *data = berth_event_get_data (event);
  g_autofree char *timestamp = NULL;
  JsonObject *o = NULL;

  *type = NULL;
  if (g_str_equal (topic, SCHEDULER_TOPIC_TASK_STATE))
    {
      *type = "status_update_event";
      o = json_object_new ();
      copy_string (o, "slaveId", data, "nodeId");
      copy_string (o, "taskId", data, "taskId");
      copy_string (o, "taskStatus", data, "state");
      copy_string (o, "message", data, "message");
      copy_string (o, "appId", data, "appId");
      copy_string (o, "host", data, "host");
      if (json_object_has_member (data, "ports"))
        copy_member (o, "ports", data, "ports");
      else
        json_object_set_array_member (o, "ports", json_array_new ());
      copy_string (o, "version", data, "version");
    }
  else if (g_str_equal (topic, SCHEDULER_TOPIC_DEPLOYMENT))
    o = translate_deployment (data, type);
  else if (g_str_equal (topic, SCHEDULER_TOPIC_APP))
    o = translate_app (event, data, type);
  else if (g_str_equal (topic, SCHEDULER_TOPIC_HEALTH_CHECK))
    {
      *type = "failed_health_check_event";
      o = json_object_new ();
      copy_string (o, "appId", data, "appId");
      copy_string (o, "taskId", data, "taskId");
      copy_string (o, "instanceId", data, "taskId");
      copy_member (o, "healthCheck", data, "check");
    }
  else if (g_str_equal (topic, SCHEDULER_TOPIC_HEALTH))
    {
      JsonNode *alive = json_object_get_member (data, "alive");
      *type = "health_status_changed_event";
      o = json_object_new ();
      copy_string (o, "appId", data, "appId");
      copy_string (o, "taskId", data, "taskId");
      copy_string (o, "instanceId", data, "taskId");
      copy_string (o, "version", data, "version");
      json_object_set_boolean_member (o, "alive", alive != NULL && JSON_NODE_HOLDS_VALUE (alive) &&
                                                    json_node_get_value_type (alive) == G_TYPE_BOOLEAN &&
                                                    json_node_get_boolean (alive));
    }
  if (o == NULL)
    {
      *type = NULL;
      return NULL;
    }
  /* eventType and timestamp first, as Marathon writes them */
  {
    JsonObject *out = json_object_new ();
    JsonObjectIter iter;
    const char *name;
    JsonNode *value;

    timestamp = berth_timestamp_format (berth_event_get_timestamp (event));
    json_object_set_string_member (out, "eventType", *type);
    json_object_set_string_member (out, "timestamp", timestamp);
    json_object_iter_init (&iter, o);
    while (json_object_iter_next (&iter, &name, &value))
      json_object_set_member (out, name, json_node_ref (value));
    json_object_unref (o);
    return out;
  }
}

/* The data of a `deployment` event. */
JsonObject *
scheduler_event_deployment (const char *phase, const char *id, const char *app_id, const char *version,
                            const char *action)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "phase", phase);
  json_object_set_string_member (o, "id", id);
  if (app_id != NULL)
    json_object_set_string_member (o, "appId", app_id);
  if (version != NULL)
    json_object_set_string_member (o, "version", version);
  if (action != NULL)
    json_object_set_string_member (o, "action", action);
  return o;
}

/* ---- subscribers ------------------------------------------------------- */

static void
event_cb (BerthEventBus *bus, BerthEvent *event, gpointer user_data)
{
  SchedulerEvents *self = user_data;
  g_autoptr(JsonObject) data = NULL;
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;
  const char *type = NULL;
  const char *app_id;

  for (guint i = self->subscribers->len; i > 0; i--)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i - 1);
      if (berth_stream_is_closed (s->stream))
        g_ptr_array_remove_index (self->subscribers, i - 1);
    }
  if (self->subscribers->len == 0)
    return;
  data = scheduler_events_translate (event, &type);
  if (data == NULL)
    return;
  app_id = member_string (berth_event_get_data (event), "appId");
  json = scheduler_object_to_string (data);
  text = g_strdup_printf ("event: %s\ndata: %s\n\n", type, json);
  for (guint i = 0; i < self->subscribers->len; i++)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i);
      if (s->types != NULL && !g_strv_contains ((const char * const *) s->types, type))
        continue;
      if (app_id != NULL && !berth_request_authorize (s->request, "app", app_id, BERTH_ACCESS_READ, NULL))
        continue;
      berth_stream_write (s->stream, text, -1);
    }
}

SchedulerEvents *
scheduler_events_new (BerthEventBus *bus)
{
  SchedulerEvents *self = g_new0 (SchedulerEvents, 1);

  self->bus = g_object_ref (bus);
  self->subscribers = g_ptr_array_new_with_free_func ((GDestroyNotify) subscriber_free);
  self->event_id = g_signal_connect (bus, "event", G_CALLBACK (event_cb), self);
  return self;
}

void
scheduler_events_free (SchedulerEvents *self)
{
  if (self == NULL)
    return;
  g_clear_signal_handler (&self->event_id, self->bus);
  g_ptr_array_unref (self->subscribers);
  g_object_unref (self->bus);
  g_free (self);
}

/* Takes @types. */
void
scheduler_events_subscribe (SchedulerEvents *self, BerthRequest *request, GStrv types)
{
  Subscriber *s = g_new0 (Subscriber, 1);

  s->types = types;
  s->request = g_object_ref (request);
  s->stream = berth_stream_new (request, "text/event-stream");
  /* a comment line so that clients see the stream open at once */
  berth_stream_write (s->stream, ":\n\n", -1);
  g_ptr_array_add (self->subscribers, s);
}
