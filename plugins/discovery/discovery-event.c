/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "discovery-catalog.h"
#include "discovery-event.h"
#include "discovery-query.h"
#include "discovery-wan.h"

/* Consul's user events. `PUT /v1/event/fire/:name` (the body is the
 * payload; ?node=, ?service=, ?tag= regular expressions say which agents
 * act on it) fires one; `GET /v1/event/list[?name=]` lists what this agent
 * received, oldest first, and blocks with ?index=&wait= as Consul's does:
 * the index is the last listed event's ID folded to 64 bits, so a client
 * waits until that differs from what it saw.
 *
 * A datacenter here has one agent: an event reaches it when its filters
 * take this node (the node's name; a service of this node by name or id,
 * with one of its tags). Like Consul's agents it keeps the last 256 events
 * it received, in memory: a restart forgets them, as Consul's does.
 *
 * The events and the waiting lists live on the context, as the
 * "discovery-user-events" data. ACLs: the "event" resource by the event's
 * name, write to fire, read to see it listed. */

#define EVENTS_KEY          "discovery-user-events"
#define MAX_EVENTS          256
#define DEFAULT_MAX_BYTES   512
#define DEFAULT_WAIT_MS     (5 * 60 * 1000)
#define MAX_WAIT_MS         (10 * 60 * 1000)
#define DEFAULT_MAX_WAITERS 64

typedef struct {
  char    *id;
  char    *name;
  GBytes  *payload;          /* NULL: none */
  char    *node_filter;
  char    *service_filter;
  char    *tag_filter;
  guint64  ltime;
} UserEvent;

typedef struct {
  GQueue   events;           /* UserEvent *, oldest first */
  guint64  ltime;            /* Lamport time of the last event */
  GList   *waiters;          /* EventWait * */
} EventRing;

typedef struct {
  EventRing    *ring;
  BerthRequest *request;
  char         *name;        /* ?name=, or NULL */
  char         *client;      /* the caller's address, counted per client */
  guint64       index;       /* what the client saw */
  guint         timeout_id;
  GCancellable *cancellable;
  gulong        cancelled_id;
} EventWait;

static void
user_event_free (UserEvent *e)
{
  g_free (e->id);
  g_free (e->name);
  g_clear_pointer (&e->payload, g_bytes_unref);
  g_free (e->node_filter);
  g_free (e->service_filter);
  g_free (e->tag_filter);
  g_free (e);
}

static void wait_free (EventWait *w);

static void
ring_free (EventRing *ring)
{
  while (ring->waiters != NULL)
    wait_free (ring->waiters->data);
  g_queue_clear_full (&ring->events, (GDestroyNotify) user_event_free);
  g_free (ring);
}

static EventRing *
ring_get (BerthContext *context)
{
  EventRing *ring = g_object_get_data (G_OBJECT (context), EVENTS_KEY);

  if (ring == NULL)
    {
      ring = g_new0 (EventRing, 1);
      g_queue_init (&ring->events);
      g_object_set_data_full (G_OBJECT (context), EVENTS_KEY, ring, (GDestroyNotify) ring_free);
    }
  return ring;
}

/* Consul's uuidToUint64: the hex digits of the ID's first three groups
 * XOR those of its last two. */
guint64
discovery_event_id_index (const char *id)
{
  char low[17], high[17];

  g_return_val_if_fail (id != NULL, 0);

  if (strlen (id) != 36)
    return 0;
  memcpy (low, id, 8);
  memcpy (low + 8, id + 9, 4);
  memcpy (low + 12, id + 14, 4);
  low[16] = '\0';
  memcpy (high, id + 19, 4);
  memcpy (high + 4, id + 24, 12);
  high[16] = '\0';
  return g_ascii_strtoull (low, NULL, 16) ^ g_ascii_strtoull (high, NULL, 16);
}

static JsonNode *
event_to_json (UserEvent *e)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ID");
  json_builder_add_string_value (b, e->id);
  json_builder_set_member_name (b, "Name");
  json_builder_add_string_value (b, e->name);
  json_builder_set_member_name (b, "Payload");
  if (e->payload != NULL)
    {
      gsize len;
      const guchar *data = g_bytes_get_data (e->payload, &len);
      g_autofree char *text = g_base64_encode (data, len);
      json_builder_add_string_value (b, text);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "NodeFilter");
  json_builder_add_string_value (b, e->node_filter);
  json_builder_set_member_name (b, "ServiceFilter");
  json_builder_add_string_value (b, e->service_filter);
  json_builder_set_member_name (b, "TagFilter");
  json_builder_add_string_value (b, e->tag_filter);
  json_builder_set_member_name (b, "Version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "LTime");
  json_builder_add_int_value (b, (gint64) e->ltime);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- firing ------------------------------------------------------------- */

/* The regular expression of ?@param=, NULL when absent; FALSE when it
 * does not compile. */
static gboolean
query_regex (BerthRequest *req, const char *param, const char **text, GRegex **regex, GError **error)
{
  g_autoptr(GError) local_error = NULL;

  *text = berth_request_get_query (req, param);
  *regex = NULL;
  if (*text == NULL || **text == '\0')
    {
      *text = "";
      return TRUE;
    }
  *regex = g_regex_new (*text, 0, 0, &local_error);
  if (*regex == NULL)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Invalid %s filter “%s”: %s"),
                   param, *text, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* Consul's agents act on an event only when its filters take them: the
 * node's name, and one of its services (by name or id) with, when a tag
 * filter is given, a matching tag. */
static gboolean
event_applies (BerthRequest *req, GRegex *node_re, GRegex *service_re, GRegex *tag_re, GError **error)
{
  BerthContext *ctx = berth_request_get_context (req);
  const char *self = berth_node_get_name (berth_context_get_node (ctx));
  g_autoptr(GPtrArray) services = NULL;

  if (node_re != NULL && !g_regex_match (node_re, self, 0, NULL))
    return FALSE;
  if (service_re == NULL)
    return TRUE;
  services = catalog_list_services (berth_context_get_store (ctx), self, NULL, error);
  if (services == NULL)
    return FALSE;
  for (guint i = 0; i < services->len; i++)
    {
      CatalogService *s = g_ptr_array_index (services, i);
      g_autoptr(JsonNode) tags = NULL;

      if (!g_regex_match (service_re, s->name, 0, NULL) && !g_regex_match (service_re, s->id, 0, NULL))
        continue;
      if (tag_re == NULL)
        return TRUE;
      tags = catalog_json_parse (s->tags_json);
      for (guint j = 0; JSON_NODE_HOLDS_ARRAY (tags) && j < json_array_get_length (json_node_get_array (tags)); j++)
        {
          const char *tag = json_array_get_string_element (json_node_get_array (tags), j);
          if (tag != NULL && g_regex_match (tag_re, tag, 0, NULL))
            return TRUE;
        }
    }
  return FALSE;
}

static void wake_waiters (EventRing *ring);

static void
fire_cb (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  EventRing *ring = ring_get (ctx);
  const char *name = berth_request_get_param (req, "name");
  const char *node_text, *service_text, *tag_text;
  g_autoptr(GRegex) node_re = NULL;
  g_autoptr(GRegex) service_re = NULL;
  g_autoptr(GRegex) tag_re = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  GBytes *body = berth_request_get_body (req);
  guint64 max_bytes = berth_context_get_config_uint64 (ctx, "discovery", "max_event_bytes",
                                                       DEFAULT_MAX_BYTES);
  UserEvent *e;

  if (name == NULL || *name == '\0')
    {
      berth_request_respond_message (req, 400, _("User event missing name"));
      return;
    }
  if (!query_regex (req, "node", &node_text, &node_re, &error) ||
      !query_regex (req, "service", &service_text, &service_re, &error) ||
      !query_regex (req, "tag", &tag_text, &tag_re, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (tag_re != NULL && service_re == NULL)
    {
      berth_request_respond_message (req, 400, _("Cannot provide tag filter without service filter"));
      return;
    }
  if (strlen (name) + g_bytes_get_size (body) > max_bytes)
    {
      g_autofree char *message =
        g_strdup_printf (_("User event exceeds the limit of %" G_GUINT64_FORMAT " bytes (its name and "
                           "payload: [discovery] max_event_bytes)"), max_bytes);
      berth_request_respond_message (req, 413, message);
      return;
    }

  e = g_new0 (UserEvent, 1);
  e->id = g_uuid_string_random ();
  e->name = g_strdup (name);
  e->payload = g_bytes_get_size (body) > 0 ? g_bytes_ref (body) : NULL;
  e->node_filter = g_strdup (node_text);
  e->service_filter = g_strdup (service_text);
  e->tag_filter = g_strdup (tag_text);
  e->ltime = ++ring->ltime;
  answer = event_to_json (e);

  if (!event_applies (req, node_re, service_re, tag_re, &error))
    {
      user_event_free (e);
      if (error != NULL)
        {
          berth_request_respond_error (req, error);
          return;
        }
      /* fired, but not for this agent: it does not keep it */
      berth_request_respond_json (req, 200, answer);
      return;
    }
  g_queue_push_tail (&ring->events, e);
  while (g_queue_get_length (&ring->events) > MAX_EVENTS)
    user_event_free (g_queue_pop_head (&ring->events));
  g_debug ("user event “%s” (%s) fired", e->name, e->id);
  berth_request_respond_json (req, 200, answer);
  wake_waiters (ring);
}

/* ---- listing ------------------------------------------------------------ */

/* The events the caller may see, named @name (any when NULL), and their
 * index (1 when there are none, as Consul answers). */
static JsonNode *
list_events (EventRing *ring, BerthRequest *req, const char *name, guint64 *index)
{
  JsonArray *array = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  const char *last = NULL;

  for (GList *l = ring->events.head; l != NULL; l = l->next)
    {
      UserEvent *e = l->data;

      if (name != NULL && g_strcmp0 (e->name, name) != 0)
        continue;
      if (!berth_request_may_read (req, "event", e->name))
        continue;
      json_array_add_element (array, event_to_json (e));
      last = e->id;
    }
  *index = last != NULL ? discovery_event_id_index (last) : 1;
  json_node_take_array (node, array);
  return node;
}

static void
respond_list (EventRing *ring, BerthRequest *req, const char *name)
{
  guint64 index;
  g_autoptr(JsonNode) list = list_events (ring, req, name, &index);

  berth_request_set_index (req, index);
  berth_request_respond_json (req, 200, list);
}

static void
wait_free (EventWait *w)
{
  w->ring->waiters = g_list_remove (w->ring->waiters, w);
  g_clear_handle_id (&w->timeout_id, g_source_remove);
  if (w->cancelled_id != 0)
    g_signal_handler_disconnect (w->cancellable, w->cancelled_id);
  g_clear_object (&w->cancellable);
  g_clear_object (&w->request);
  g_free (w->name);
  g_free (w->client);
  g_free (w);
}

static gboolean
wait_timeout_cb (gpointer user_data)
{
  EventWait *w = user_data;

  w->timeout_id = 0;
  respond_list (w->ring, w->request, w->name);
  wait_free (w);
  return G_SOURCE_REMOVE;
}

static void
wait_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  EventWait *w = user_data;

  /* the client went away: nothing to answer */
  wait_free (w);
}

/* A new event: every waiter whose list changed gets it. */
static void
wake_waiters (EventRing *ring)
{
  g_autoptr(GList) waiters = g_list_copy (ring->waiters);

  for (GList *l = waiters; l != NULL; l = l->next)
    {
      EventWait *w = l->data;
      guint64 index;
      g_autoptr(JsonNode) list = list_events (ring, w->request, w->name, &index);

      if (index == w->index)
        continue;
      berth_request_set_index (w->request, index);
      berth_request_respond_json (w->request, 200, list);
      wait_free (w);
    }
}

static guint
waiters_of (EventRing *ring, const char *client)
{
  guint count = 0;

  for (GList *l = ring->waiters; l != NULL; l = l->next)
    count += g_strcmp0 (((EventWait *) l->data)->client, client) == 0;
  return count;
}

/* The caller's host, without the port: blocking queries are counted per
 * client; NULL for callers without an address (the unix socket). */
static char *
client_host (BerthRequest *req)
{
  BerthCaller *caller = berth_request_get_caller (req);
  const char *address = caller != NULL ? berth_caller_get_address (caller) : NULL;
  const char *colon;

  if (address == NULL || (berth_caller_get_kind (caller) != BERTH_CALLER_TCP &&
                          berth_caller_get_kind (caller) != BERTH_CALLER_TLS))
    return NULL;
  colon = strrchr (address, ':');
  return colon != NULL ? g_strndup (address, (gsize) (colon - address)) : g_strdup (address);
}

static void
list_cb (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  EventRing *ring = ring_get (ctx);
  const char *name = berth_request_get_query (req, "name");
  g_autoptr(GError) error = NULL;
  guint64 min_index = 0, wait_ms = 0, index, max_waiters;
  g_autoptr(JsonNode) list = NULL;
  EventWait *w;

  if (name != NULL && *name == '\0')
    name = NULL;
  if (!berth_request_get_query_uint64 (req, "index", 0, &min_index, &error) ||
      !berth_request_get_query_duration (req, "wait", DEFAULT_WAIT_MS, &wait_ms, &error) ||
      !discovery_query_consistency (req, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  list = list_events (ring, req, name, &index);
  if (min_index == 0 || index != min_index)
    {
      berth_request_set_index (req, index);
      berth_request_respond_json (req, 200, list);
      return;
    }

  w = g_new0 (EventWait, 1);
  w->ring = ring;
  w->client = client_host (req);
  max_waiters = berth_context_get_config_uint64 (ctx, "security", "max_blocking_per_client",
                                                 DEFAULT_MAX_WAITERS);
  if (w->client != NULL && max_waiters > 0 && waiters_of (ring, w->client) >= max_waiters)
    {
      g_set_error (&error, BERTH_ERROR, BERTH_ERROR_RATE_LIMITED,
                   _("Too many blocking queries from %s: at most %" G_GUINT64_FORMAT
                     " at once ([security] max_blocking_per_client)"), w->client, max_waiters);
      g_free (w->client);
      g_free (w);
      berth_request_respond_error (req, error);
      return;
    }
  w->request = g_object_ref (req);
  w->name = g_strdup (name);
  w->index = min_index;
  wait_ms = MIN (wait_ms, MAX_WAIT_MS);
  if (wait_ms >= 16)
    wait_ms += g_random_int () % (wait_ms / 16);
  ring->waiters = g_list_prepend (ring->waiters, w);
  w->timeout_id = g_timeout_add ((guint) MAX (wait_ms, 1), wait_timeout_cb, w);
  w->cancellable = g_object_ref (berth_request_get_cancellable (req));
  if (g_cancellable_is_cancelled (w->cancellable))
    {
      wait_free (w);
      return;
    }
  w->cancelled_id = g_signal_connect (w->cancellable, "cancelled", G_CALLBACK (wait_cancelled_cb), w);
}

static const BerthRouteSpec event_routes[] = {
  { BERTH_METHOD_PUT, "/v1/event/fire/:name", "event", BERTH_ACCESS_WRITE, fire_cb },
  { BERTH_METHOD_GET, "/v1/event/list", "event", BERTH_ACCESS_READ, list_cb },
};

void
discovery_event_add_routes (DiscoveryPlugin *plugin)
{
  ring_get (berth_plugin_get_context (BERTH_PLUGIN (plugin)));
  discovery_wan_add_routes (plugin, event_routes, G_N_ELEMENTS (event_routes));
}

/* Forgets the events and lets go of the waiting requests (which hold the
 * context). */
void
discovery_event_shutdown (DiscoveryPlugin *plugin)
{
  g_object_set_data (G_OBJECT (berth_plugin_get_context (BERTH_PLUGIN (plugin))), EVENTS_KEY, NULL);
}
