/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "runtime-container.h"
#include "runtime-container-private.h"
#include "runtime-log-parse.h"
#include "runtime-logs-http.h"
#include "runtime-logs.h"

/* The log API over the log source (runtime-logs.c) and BerthStream. A
 * subscription feeds the stream; when the client reads slower than the
 * log is replayed, the subscription pauses until libsoup has written
 * what is queued, so a large log is never held in memory at once. */

#define HIGH_WATER (1024 * 1024)
#define LOW_WATER (256 * 1024)

typedef struct {
  RuntimeLogs       *logs;
  BerthRequest      *request;     /* the lines API: whose caller filters the lines */
  RuntimeContainers *containers;
  BerthStream       *stream;
  SoupServerMessage *message;
  guint              sub;
  gboolean           json;
  gboolean           timestamps;
  gboolean           paused;
  GString           *partial;
  gsize              queued;
  gulong             wrote_id;
  gulong             closed_id;
} LogHttp;

static void
log_http_free (gpointer data)
{
  LogHttp *h = data;

  g_clear_signal_handler (&h->wrote_id, h->message);
  g_clear_signal_handler (&h->closed_id, h->stream);
  g_clear_object (&h->message);
  g_clear_object (&h->stream);
  g_clear_object (&h->logs);
  g_clear_object (&h->request);
  g_string_free (h->partial, TRUE);
  g_free (h);
}

static void
send_text (LogHttp *h, const char *data, gsize len)
{
  berth_stream_write (h->stream, data, (gssize) len);
  h->queued += len;
  if (!h->paused && h->queued > HIGH_WATER)
    {
      h->paused = TRUE;
      runtime_logs_set_paused (h->logs, h->sub, TRUE);
    }
}

static void
wrote_cb (SoupServerMessage *msg, guint chunk_size, gpointer user_data)
{
  LogHttp *h = user_data;

  h->queued = h->queued > chunk_size ? h->queued - chunk_size : 0;
  if (h->paused && h->queued < LOW_WATER)
    {
      h->paused = FALSE;
      runtime_logs_set_paused (h->logs, h->sub, FALSE);
    }
}

static void
append_time (GString *out, gint64 usec)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
  g_autoptr(GDateTime) precise = dt != NULL ? g_date_time_add (dt, usec % G_USEC_PER_SEC) : NULL;
  g_autofree char *text = precise != NULL ? g_date_time_format (precise, "%Y-%m-%dT%H:%M:%S.%fZ") : NULL;

  g_string_append (out, text != NULL ? text : "-");
  g_string_append_c (out, ' ');
}

/* A line of the lines API is shown when its caller may read its task's
 * app (`app`), or else its container (`container`, by name). */
static gboolean
may_show (LogHttp *h, BerthLogLine *line)
{
  const char *app_id = berth_log_line_get_app_id (line);
  const char *id = berth_log_line_get_container_id (line);
  Ctr *c;

  if (app_id != NULL && *app_id != '\0')
    return berth_request_may_read (h->request, "app", app_id);
  if (id == NULL || *id == '\0')
    return TRUE;
  c = runtime_containers_lookup (h->containers, id, NULL);
  return berth_request_may_read (h->request, "container", c != NULL ? c->name : id);
}

static void
line_cb (BerthLogLine *line, gpointer user_data)
{
  LogHttp *h = user_data;

  if (h->request != NULL && !may_show (h, line))
    return;

  if (h->json)
    {
      g_autoptr(JsonNode) node = berth_log_line_to_json (line);
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      gsize len = 0;
      g_autofree char *text = NULL;
      g_autofree char *with_nl = NULL;

      json_generator_set_root (gen, node);
      text = json_generator_to_data (gen, &len);
      with_nl = g_strconcat (text, "\n", NULL);
      send_text (h, with_nl, len + 1);
      return;
    }
  /* as `docker logs`: the parts of a long line make one line */
  if (h->partial->len == 0 && h->timestamps)
    append_time (h->partial, berth_log_line_get_timestamp (line));
  g_string_append (h->partial, berth_log_line_get_text (line));
  if (berth_log_line_get_partial (line))
    return;
  g_string_append_c (h->partial, '\n');
  send_text (h, h->partial->str, h->partial->len);
  g_string_truncate (h->partial, 0);
}

/* everything asked for was sent */
static void
end_cb (gpointer user_data)
{
  LogHttp *h = user_data;

  if (h->partial->len > 0)
    berth_stream_write (h->stream, h->partial->str, (gssize) h->partial->len);
  g_clear_signal_handler (&h->closed_id, h->stream);
  berth_stream_close (h->stream);
  berth_log_source_unsubscribe (BERTH_LOG_SOURCE (h->logs), h->sub);   /* frees h */
}

typedef struct {
  RuntimeLogs *logs;
  guint        sub;
} Drop;

static gboolean
drop_cb (gpointer user_data)
{
  Drop *d = user_data;

  berth_log_source_unsubscribe (BERTH_LOG_SOURCE (d->logs), d->sub);   /* frees its LogHttp, if still there */
  g_object_unref (d->logs);
  g_free (d);
  return G_SOURCE_REMOVE;
}

/* The client went away. This may be said from inside the request's
 * cancellable: the subscription (and the stream's last reference) go
 * from an idle, as a stream cannot be dropped from there. */
static void
closed_cb (BerthStream *stream, gpointer user_data)
{
  LogHttp *h = user_data;
  Drop *d = g_new0 (Drop, 1);

  g_clear_signal_handler (&h->closed_id, h->stream);
  runtime_logs_set_paused (h->logs, h->sub, TRUE);
  d->logs = g_object_ref (h->logs);
  d->sub = h->sub;
  g_idle_add (drop_cb, d);
}

static void
serve (RuntimePlugin *plugin, BerthRequest *req, const char *id, gint64 since_us, gint64 tail, gboolean follow,
       gboolean json, gboolean timestamps)
{
  RuntimeLogs *logs = runtime_plugin_get_logs (plugin);
  g_autoptr(GError) error = NULL;
  LogHttp *h = g_new0 (LogHttp, 1);

  h->logs = g_object_ref (logs);
  h->json = json;
  h->timestamps = timestamps;
  if (json)
    {
      h->request = g_object_ref (req);
      h->containers = runtime_plugin_get_containers (plugin);
    }
  h->partial = g_string_new (NULL);
  h->sub = runtime_logs_subscribe_full (logs, id, since_us, tail,
                                        follow ? RUNTIME_LOGS_FOLLOW : RUNTIME_LOGS_UNTIL_EOF, line_cb, end_cb, h,
                                        log_http_free, &error);
  if (h->sub == 0)
    {
      log_http_free (h);
      berth_request_respond_error (req, error);
      return;
    }
  h->stream = berth_stream_new (req, json ? "application/x-ndjson" : "text/plain; charset=utf-8");
  h->message = g_object_ref (berth_request_get_message (req));
  /* what libsoup has written is dropped, not kept for the whole answer */
  soup_message_body_set_accumulate (soup_server_message_get_response_body (h->message), FALSE);
  h->wrote_id = g_signal_connect (h->message, "wrote-body-data", G_CALLBACK (wrote_cb), h);
  h->closed_id = g_signal_connect (h->stream, "closed", G_CALLBACK (closed_cb), h);
}

static gboolean
get_tail (BerthRequest *req, gint64 *tail)
{
  const char *q = berth_request_get_query (req, "tail");
  char *end;

  *tail = -1;
  if (q == NULL || g_strcmp0 (q, "all") == 0)
    return TRUE;
  *tail = g_ascii_strtoll (q, &end, 10);
  if (*end != '\0' || end == q || *tail < 0)
    {
      berth_request_respond_message (req, 400, _("Invalid ?tail= (a number or “all”)"));
      return FALSE;
    }
  return TRUE;
}

void
runtime_logs_http_container (RuntimePlugin *plugin, BerthRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  gboolean follow = FALSE, timestamps = FALSE, live = FALSE;
  gint64 tail;

  if (!berth_request_get_query_boolean (req, "follow", &follow, &error) ||
      !berth_request_get_query_boolean (req, "timestamps", &timestamps, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (!get_tail (req, &tail))
    return;
  id = runtime_containers_resolve (runtime_plugin_get_containers (plugin), berth_request_get_param (req, "_id"),
                                   &live, &error);
  if (id == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  /* nothing more will come from an exited one */
  serve (plugin, req, id, 0, tail, follow && live, FALSE, timestamps);
}

void
runtime_logs_http_lines (RuntimePlugin *plugin, BerthRequest *req)
{
  g_autoptr(GError) error = NULL;
  const char *since_q = berth_request_get_query (req, "since");
  const char *id = berth_request_get_query (req, "id");
  gboolean follow = FALSE;
  gint64 since = 0, tail;

  if (!berth_request_get_query_boolean (req, "follow", &follow, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (!get_tail (req, &tail))
    return;
  if (since_q != NULL)
    {
      char *end;
      since = g_ascii_strtoll (since_q, &end, 10);
      if ((*end != '\0' || end == since_q) && !runtime_log_parse_time (since_q, strlen (since_q), &since))
        {
          berth_request_respond_message (req, 400, _("Invalid ?since= (microseconds since the epoch or an RFC 3339 time)"));
          return;
        }
    }
  serve (plugin, req, id != NULL && *id != '\0' ? id : NULL, since, tail, follow, TRUE, FALSE);
}
