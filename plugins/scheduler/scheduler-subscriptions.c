/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>
#include <berth-store-raw.h>

#include "scheduler-app.h"
#include "scheduler-events.h"
#include "scheduler-subscriptions.h"
#include "scheduler-validate.h"

/* /v2/eventSubscriptions: POST ?callbackUrl=U subscribes U, DELETE
 * ?callbackUrl=U unsubscribes it, GET lists them. Every event of the bus
 * that /v2/events would show (scheduler_events_translate) is POSTed as
 * JSON to every callback URL; a delivery that fails (no answer, or not
 * 2xx) is tried again after 1 s then 2 s, then dropped, as Marathon's
 * callbacks are: at most once, no order promised across retries. The
 * URLs live in the store (they survive a restart) and, for delivery, in
 * memory. A callback receives the events of every app: the caller needs
 * `app` on the root group "/" (every app; write to change the list). */

#define DELIVERY_ATTEMPTS 3
#define DELIVERY_TIMEOUT_S 10
#define MAX_URL_BYTES 2048

struct _SchedulerSubscriptions {
  BerthContext          *context;
  const SchedulerLimits *limits;
  BerthEventBus         *bus;
  gulong                 event_id;
  SoupSession           *session;
  GCancellable          *cancellable;   /* cancelled at the end: deliveries stop */
  GPtrArray             *urls;          /* char* */
};

/* ---- delivery -------------------------------------------------------------- */

typedef struct {
  SoupSession  *session;
  GCancellable *cancellable;
  char         *url;
  GBytes       *body;
  guint         attempt;
} Delivery;

static void
delivery_free (Delivery *d)
{
  g_object_unref (d->session);
  g_object_unref (d->cancellable);
  g_free (d->url);
  g_bytes_unref (d->body);
  g_free (d);
}

static void deliver (Delivery *d);

static gboolean
retry_cb (gpointer user_data)
{
  deliver (user_data);
  return G_SOURCE_REMOVE;
}

static void
delivered_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Delivery *d = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) answer = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  guint status = answer != NULL && msg != NULL ? soup_message_get_status (msg) : 0;

  if (SOUP_STATUS_IS_SUCCESSFUL (status) || g_cancellable_is_cancelled (d->cancellable))
    {
      delivery_free (d);
      return;
    }
  if (d->attempt >= DELIVERY_ATTEMPTS)
    {
      g_message (_("scheduler: event callback %s failed %u times (%s): event dropped"), d->url, d->attempt,
                 error != NULL ? error->message : soup_status_get_phrase (status));
      delivery_free (d);
      return;
    }
  g_debug ("event callback %s: attempt %u failed (%s)", d->url, d->attempt,
           error != NULL ? error->message : soup_status_get_phrase (status));
  g_timeout_add_seconds (d->attempt, retry_cb, d);
}

static void
deliver (Delivery *d)
{
  g_autoptr(SoupMessage) msg = NULL;

  if (g_cancellable_is_cancelled (d->cancellable))
    {
      delivery_free (d);
      return;
    }
  msg = soup_message_new ("POST", d->url);
  if (msg == NULL)
    {
      delivery_free (d);
      return;
    }
  d->attempt++;
  soup_message_set_request_body_from_bytes (msg, "application/json", d->body);
  soup_session_send_and_read_async (d->session, msg, G_PRIORITY_DEFAULT, d->cancellable, delivered_cb, d);
}

static void
event_cb (BerthEventBus *bus, BerthEvent *event, gpointer user_data)
{
  SchedulerSubscriptions *self = user_data;
  g_autoptr(JsonObject) data = NULL;
  g_autoptr(GBytes) body = NULL;
  const char *type = NULL;
  char *json;

  if (self->urls->len == 0)
    return;
  data = scheduler_events_translate (event, &type);
  if (data == NULL)
    return;
  json = scheduler_object_to_string (data);
  body = g_bytes_new_take (json, strlen (json));
  for (guint i = 0; i < self->urls->len; i++)
    {
      Delivery *d = g_new0 (Delivery, 1);
      d->session = g_object_ref (self->session);
      d->cancellable = g_object_ref (self->cancellable);
      d->url = g_strdup (g_ptr_array_index (self->urls, i));
      d->body = g_bytes_ref (body);
      deliver (d);
    }
}

/* ---- the list -------------------------------------------------------------- */

static BerthStore *
store_of (SchedulerSubscriptions *self)
{
  return berth_context_get_store (self->context);
}

static gboolean
load_urls (SchedulerSubscriptions *self, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store_of (self),
                                                      "SELECT callback_url FROM event_subscriptions"
                                                      " ORDER BY created_index",
                                                      error);
  gboolean have_row = FALSE;

  if (stmt == NULL)
    return FALSE;
  g_ptr_array_set_size (self->urls, 0);
  for (;;)
    {
      if (!berth_store_step (store_of (self), stmt, &have_row, error))
        return FALSE;
      if (!have_row)
        return TRUE;
      g_ptr_array_add (self->urls, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
    }
}

SchedulerSubscriptions *
scheduler_subscriptions_new (BerthContext *context, const SchedulerLimits *limits)
{
  SchedulerSubscriptions *self = g_new0 (SchedulerSubscriptions, 1);
  g_autoptr(GError) error = NULL;

  self->context = context;
  self->limits = limits;
  self->bus = g_object_ref (berth_context_get_event_bus (context));
  self->session = soup_session_new_with_options ("timeout", DELIVERY_TIMEOUT_S, "idle-timeout", 30, NULL);
  self->cancellable = g_cancellable_new ();
  self->urls = g_ptr_array_new_with_free_func (g_free);
  if (!load_urls (self, &error))
    g_warning (_("scheduler: cannot read the event subscriptions: %s"), error->message);
  self->event_id = g_signal_connect (self->bus, "event", G_CALLBACK (event_cb), self);
  return self;
}

void
scheduler_subscriptions_free (SchedulerSubscriptions *self)
{
  if (self == NULL)
    return;
  g_clear_signal_handler (&self->event_id, self->bus);
  g_cancellable_cancel (self->cancellable);
  g_object_unref (self->cancellable);
  g_object_unref (self->session);
  g_object_unref (self->bus);
  g_ptr_array_unref (self->urls);
  g_free (self);
}

/* ---- the HTTP side --------------------------------------------------------- */

typedef struct {
  SchedulerSubscriptions *owner;
  BerthRequest           *request;
  char                   *url;
  gboolean                subscribe;
  GCancellable           *alive;     /* the owner's: cancelled when it is gone */
} Change;

static void
change_free (Change *c)
{
  g_object_unref (c->request);
  g_object_unref (c->alive);
  g_free (c->url);
  g_free (c);
}

static gboolean
change_write (BerthTxn *txn, gpointer user_data, GError **error)
{
  Change *c = user_data;
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean have_row = FALSE;

  stmt = berth_store_prepare (store,
                              c->subscribe ? "INSERT INTO event_subscriptions (callback_url, created_index)"
                                             " VALUES (?1, ?2) ON CONFLICT (callback_url) DO NOTHING"
                                           : "DELETE FROM event_subscriptions WHERE callback_url = ?1",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, c->url, -1, SQLITE_TRANSIENT);
  if (c->subscribe)
    sqlite3_bind_int64 (stmt, 2, (gint64) berth_txn_get_index (txn));
  if (!berth_store_step (store, stmt, &have_row, error))
    return FALSE;
  berth_txn_changed (txn, "event_subscription", c->url);
  return TRUE;
}

/* Marathon's answer: the (un)subscribe event */
static JsonObject *
change_event (BerthRequest *req, const char *url, gboolean subscribe)
{
  JsonObject *o = json_object_new ();
  BerthCaller *caller = berth_request_get_caller (req);
  const char *address = caller != NULL ? berth_caller_get_address (caller) : NULL;
  g_autoptr(GSocketConnectable) parsed = address != NULL ? g_network_address_parse (address, 0, NULL) : NULL;
  g_autofree char *now = berth_task_timestamp_now ();

  json_object_set_string_member (o, "callbackUrl", url);
  json_object_set_string_member (o, "clientIp", parsed != NULL
                                                  ? g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed))
                                                  : "127.0.0.1");
  json_object_set_string_member (o, "eventType", subscribe ? "subscribe_event" : "unsubscribe_event");
  json_object_set_string_member (o, "timestamp", now);
  return o;
}

static void
change_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Change *c = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;

  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 && error != NULL)
    {
      berth_request_respond_error (c->request, error);
      change_free (c);
      return;
    }
  if (!g_cancellable_is_cancelled (c->alive))
    {
      g_autoptr(GError) local = NULL;
      if (!load_urls (c->owner, &local))
        g_warning (_("scheduler: cannot read the event subscriptions: %s"), local->message);
    }
  node = json_node_init_object (json_node_alloc (), change_event (c->request, c->url, c->subscribe));
  json_object_unref (json_node_get_object (node));
  berth_request_respond_json (c->request, 200, node);
  change_free (c);
}

/* An absolute http(s) URL with a host, or a 422 detail. */
static gboolean
check_url (const char *url, JsonArray *details)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (url == NULL || *url == '\0')
    {
      scheduler_detail_add (details, "/callbackUrl", _("error.path.missing: ?callbackUrl= is required"));
      return FALSE;
    }
  if (strlen (url) > MAX_URL_BYTES)
    {
      scheduler_detail_addf (details, "/callbackUrl", _("error.maxLength: at most %u bytes"), MAX_URL_BYTES);
      return FALSE;
    }
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0) ||
      g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      scheduler_detail_add (details, "/callbackUrl", _("must be an absolute http:// or https:// URL"));
      return FALSE;
    }
  return TRUE;
}

void
scheduler_subscriptions_handle (SchedulerSubscriptions *self, BerthRequest *req)
{
  const char *method = berth_request_get_method (req);
  const char *url = berth_request_get_query (req, "callbackUrl");
  g_autoptr(JsonArray) details = json_array_new ();
  g_autoptr(GError) error = NULL;
  gboolean read = g_str_equal (method, "GET") || g_str_equal (method, "HEAD");
  Change *c;

  if (!berth_request_authorize (req, "app", "/", read ? BERTH_ACCESS_READ : BERTH_ACCESS_WRITE, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (read)
    {
      g_autoptr(JsonObject) o = json_object_new ();
      g_autoptr(JsonNode) node = NULL;
      JsonArray *list = json_array_new ();

      for (guint i = 0; i < self->urls->len; i++)
        json_array_add_string_element (list, g_ptr_array_index (self->urls, i));
      json_object_set_array_member (o, "callbackUrls", list);
      node = json_node_init_object (json_node_alloc (), o);
      berth_request_respond_json (req, 200, node);
      return;
    }
  if (!check_url (url, details))
    {
      g_autoptr(JsonObject) o = json_object_new ();
      g_autoptr(JsonNode) node = NULL;
      json_object_set_string_member (o, "message", _("Object is not valid"));
      json_object_set_array_member (o, "details", g_steal_pointer (&details));
      node = json_node_init_object (json_node_alloc (), o);
      berth_request_respond_json (req, 422, node);
      return;
    }
  if (g_str_equal (method, "POST") && self->urls->len >= self->limits->max_entries &&
      !g_ptr_array_find_with_equal_func (self->urls, url, g_str_equal, NULL))
    {
      g_autofree char *msg = g_strdup_printf (_("At most %u event subscriptions"), self->limits->max_entries);
      berth_request_respond_message (req, 422, msg);
      return;
    }
  c = g_new0 (Change, 1);
  c->owner = self;
  c->request = g_object_ref (req);
  c->url = g_strdup (url);
  c->subscribe = g_str_equal (method, "POST");
  c->alive = g_object_ref (self->cancellable);
  berth_store_write_async (store_of (self), change_write, c, NULL, NULL, change_done_cb, c);
}
