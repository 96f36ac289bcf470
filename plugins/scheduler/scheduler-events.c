/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "scheduler-app.h"
#include "scheduler-events.h"

/* /v2/events: server-sent events. Every subscriber gets every event, in
 * the order they were emitted, as
 *   event: <eventType>\ndata: <json>\n\n
 * A subscriber that went away is dropped at the next event. */

typedef struct {
  BerthRequest      *request;
  SoupServerMessage *message;
  gboolean           gone;
  gulong             finished_id;
  GStrv              types;       /* only these event types, or NULL for all */
} Subscriber;

struct _SchedulerEvents {
  GPtrArray *subscribers;
};

static void
finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  Subscriber *s = user_data;
  s->gone = TRUE;
}

/* The client went away, or the server closed its connection (at
 * shutdown): the message must not be written to or unpaused. */
static gboolean
subscriber_gone (Subscriber *s)
{
  return s->gone || g_cancellable_is_cancelled (berth_request_get_cancellable (s->request));
}

static void
subscriber_free (Subscriber *s)
{
  g_clear_signal_handler (&s->finished_id, s->message);
  if (!subscriber_gone (s))
    {
      soup_message_body_complete (soup_server_message_get_response_body (s->message));
      soup_server_message_unpause (s->message);
    }
  g_object_unref (s->message);
  g_object_unref (s->request);
  g_strfreev (s->types);
  g_free (s);
}

SchedulerEvents *
scheduler_events_new (void)
{
  SchedulerEvents *self = g_new0 (SchedulerEvents, 1);
  self->subscribers = g_ptr_array_new_with_free_func ((GDestroyNotify) subscriber_free);
  return self;
}

void
scheduler_events_free (SchedulerEvents *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->subscribers);
  g_free (self);
}

static void
write_text (Subscriber *s, const char *text)
{
  soup_message_body_append (soup_server_message_get_response_body (s->message), SOUP_MEMORY_COPY, text,
                            strlen (text));
  soup_server_message_unpause (s->message);
}

void
scheduler_events_subscribe (SchedulerEvents *self, BerthRequest *request, GStrv types)
{
  Subscriber *s = g_new0 (Subscriber, 1);
  SoupMessageHeaders *headers;

  s->types = types;
  s->request = g_object_ref (request);
  s->message = g_object_ref (berth_request_get_message (request));
  headers = soup_server_message_get_response_headers (s->message);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  s->finished_id = g_signal_connect (s->message, "finished", G_CALLBACK (finished_cb), s);
  berth_request_respond (request, 200, "text/event-stream", NULL);
  /* a comment line so that clients see the stream open at once */
  write_text (s, ":\n\n");
  g_ptr_array_add (self->subscribers, s);
}

void
scheduler_events_emit (SchedulerEvents *self, const char *type, JsonObject *data)
{
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;

  if (self == NULL)
    return;
  for (guint i = self->subscribers->len; i > 0; i--)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i - 1);
      if (subscriber_gone (s))
        g_ptr_array_remove_index (self->subscribers, i - 1);
    }
  if (self->subscribers->len == 0)
    return;
  json = scheduler_object_to_string (data);
  text = g_strdup_printf ("event: %s\ndata: %s\n\n", type, json);
  for (guint i = 0; i < self->subscribers->len; i++)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i);
      if (s->types == NULL || g_strv_contains ((const char * const *) s->types, type))
        write_text (s, text);
    }
}
