/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "bd-events.h"

/* GET /api/events: the event bus over HTTP.
 *
 *   ?since=N    events after sequence N still in the backlog (default: all)
 *   ?topic=P    only topics starting with P (e.g. `task.`, `api.write`)
 *   ?follow     keep the answer open and send new events as they come
 *
 * Without ?follow the answer is a JSON array; with it, newline-delimited
 * JSON, one event a line, written through a BerthStream. */

typedef struct {
  BerthStream   *stream;
  BerthEventBus *bus;
  char          *topic;
  gulong         event_id;
  gulong         closed_id;
} Follower;

static void
follower_free (Follower *f)
{
  g_clear_signal_handler (&f->event_id, f->bus);
  g_clear_signal_handler (&f->closed_id, f->stream);
  g_object_unref (f->bus);
  g_object_unref (f->stream);
  g_free (f->topic);
  g_free (f);
}

static void
follower_event_cb (BerthEventBus *bus, BerthEvent *event, gpointer user_data)
{
  Follower *f = user_data;
  g_autoptr(JsonNode) node = NULL;

  if (f->topic != NULL && !g_str_has_prefix (berth_event_get_topic (event), f->topic))
    return;
  node = berth_event_to_json (event);
  berth_stream_write_json_line (f->stream, node);
}

static gboolean
follower_free_idle (gpointer data)
{
  follower_free (data);
  return G_SOURCE_REMOVE;
}

static void
follower_closed_cb (BerthStream *stream, gpointer user_data)
{
  Follower *f = user_data;

  /* not from inside the signal emission that is running now */
  g_clear_signal_handler (&f->event_id, f->bus);
  g_idle_add (follower_free_idle, f);
}

static void
events_cb (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  BerthEventBus *bus = berth_context_get_event_bus (ctx);
  const char *topic = berth_request_get_query (req, "topic");
  g_autoptr(GPtrArray) backlog = NULL;
  g_autoptr(GError) error = NULL;
  gboolean follow = FALSE;
  guint64 since = 0;

  if (!berth_request_get_query_uint64 (req, "since", 0, &since, &error) ||
      !berth_request_get_query_boolean (req, "follow", &follow, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (topic != NULL && *topic == '\0')
    topic = NULL;
  backlog = berth_event_bus_list_since (bus, since, topic);

  if (!follow)
    {
      g_autoptr(JsonArray) array = json_array_new ();
      g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
      for (guint i = 0; i < backlog->len; i++)
        json_array_add_element (array, berth_event_to_json (g_ptr_array_index (backlog, i)));
      json_node_set_array (root, array);
      berth_request_respond_json (req, 200, root);
      return;
    }

  {
    Follower *f = g_new0 (Follower, 1);
    f->stream = berth_stream_new (req, "application/x-ndjson");
    f->bus = g_object_ref (bus);
    f->topic = g_strdup (topic);
    for (guint i = 0; i < backlog->len; i++)
      {
        g_autoptr(JsonNode) node = berth_event_to_json (g_ptr_array_index (backlog, i));
        berth_stream_write_json_line (f->stream, node);
      }
    f->event_id = g_signal_connect (bus, "event", G_CALLBACK (follower_event_cb), f);
    f->closed_id = g_signal_connect (f->stream, "closed", G_CALLBACK (follower_closed_cb), f);
  }
}

void
bd_events_add_routes (BerthContext *context)
{
  berth_router_add (berth_context_get_router (context), BERTH_METHOD_GET, "/api/events",
                    "event", BERTH_ACCESS_READ, events_cb, NULL, NULL);
}
