/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "berth-stream.h"

/**
 * SECTION:berth-stream
 * @title: BerthStream
 * @short_description: an answer written piece by piece
 *
 * Some answers have no end known in advance: server-sent events, logs
 * being followed, pull progress. A #BerthStream answers its request at
 * once (status 200, the given content type, no length) and then carries
 * whatever the handler writes, as it writes it. The stream closes when
 * the handler calls berth_stream_close() or drops its last reference, or
 * when the client goes away — after which writes are silently dropped
 * and #BerthStream::closed tells the writer to stop producing.
 *
 * Writes must happen on the thread that owns the main context the stream
 * was made in; berth_stream_post() may be called from any thread.
 */

struct _BerthStream {
  GObject            parent_instance;
  BerthRequest      *request;
  SoupServerMessage *message;
  GMainContext      *context;
  gulong             finished_id;
  gulong             cancelled_id;
  gboolean           closed;
  gboolean           gone;
};

G_DEFINE_FINAL_TYPE (BerthStream, berth_stream, G_TYPE_OBJECT)

enum { SIGNAL_CLOSED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
mark_gone (BerthStream *self)
{
  if (self->gone)
    return;
  self->gone = TRUE;
  if (!self->closed)
    {
      self->closed = TRUE;
      g_signal_emit (self, signals[SIGNAL_CLOSED], 0);
    }
}

static void
finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  mark_gone (BERTH_STREAM (user_data));
}

static gboolean
cancelled_idle_cb (gpointer user_data)
{
  mark_gone (BERTH_STREAM (user_data));
  return G_SOURCE_REMOVE;
}

/* Runs inside g_cancellable_cancel(): a handler of ::closed dropping the
 * last reference here would disconnect from the cancellable from within
 * its own emission, which deadlocks. Close from the main loop instead. */
static void
cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  BerthStream *self = user_data;
  g_autoptr(GSource) idle = g_idle_source_new ();

  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, cancelled_idle_cb, g_object_ref (self), g_object_unref);
  g_source_attach (idle, self->context);
}

static gboolean
gone (BerthStream *self)
{
  return self->gone || g_cancellable_is_cancelled (berth_request_get_cancellable (self->request));
}

/**
 * berth_stream_new:
 * @request: the request to answer
 * @content_type: the content type, e.g. `text/event-stream`
 *
 * Answers @request with 200 and an open body.
 *
 * Returns: (transfer full): the stream
 */
BerthStream *
berth_stream_new (BerthRequest *request, const char *content_type)
{
  BerthStream *self;
  SoupMessageHeaders *headers;

  g_return_val_if_fail (BERTH_IS_REQUEST (request), NULL);
  g_return_val_if_fail (content_type != NULL, NULL);

  self = g_object_new (BERTH_TYPE_STREAM, NULL);
  self->request = g_object_ref (request);
  self->message = g_object_ref (berth_request_get_message (request));
  self->context = g_main_context_ref_thread_default ();
  headers = soup_server_message_get_response_headers (self->message);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  /* a stream may run for days: libsoup must not keep what it already sent */
  soup_message_body_set_accumulate (soup_server_message_get_response_body (self->message), FALSE);
  self->finished_id = g_signal_connect (self->message, "finished", G_CALLBACK (finished_cb), self);
  berth_request_respond (request, 200, content_type, NULL);
  /* the client going away closes the stream at once, not at the next write */
  self->cancelled_id = g_cancellable_connect (berth_request_get_cancellable (request),
                                              G_CALLBACK (cancelled_cb), self, NULL);
  return self;
}

/**
 * berth_stream_write:
 * @self: a #BerthStream
 * @data: (array length=length) (element-type guint8): bytes to send
 * @length: their length, or -1 for a nul-terminated string
 *
 * Sends @data now. Does nothing once the stream is closed.
 */
void
berth_stream_write (BerthStream *self, const char *data, gssize length)
{
  g_return_if_fail (BERTH_IS_STREAM (self));
  g_return_if_fail (data != NULL || length == 0);

  if (self->closed)
    return;
  if (gone (self))
    {
      mark_gone (self);
      return;
    }
  if (length < 0)
    length = (gssize) strlen (data);
  if (length == 0)
    return;
  soup_message_body_append (soup_server_message_get_response_body (self->message),
                            SOUP_MEMORY_COPY, data, (gsize) length);
  soup_server_message_unpause (self->message);
}

/**
 * berth_stream_write_json_line:
 * @self: a #BerthStream
 * @node: a JSON value
 *
 * Sends @node as one line of JSON (newline-delimited JSON).
 */
void
berth_stream_write_json_line (BerthStream *self, JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = NULL;
  g_autoptr(GString) line = NULL;
  gsize len = 0;
  g_autofree char *text = NULL;

  g_return_if_fail (BERTH_IS_STREAM (self));
  g_return_if_fail (node != NULL);

  gen = json_generator_new ();
  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, &len);
  line = g_string_new_len (text, (gssize) len);
  g_string_append_c (line, '\n');
  berth_stream_write (self, line->str, (gssize) line->len);
}

typedef struct {
  BerthStream *stream;
  char        *text;
} Posted;

static gboolean
deliver_cb (gpointer data)
{
  Posted *p = data;
  berth_stream_write (p->stream, p->text, -1);
  return G_SOURCE_REMOVE;
}

static void
posted_free (gpointer data)
{
  Posted *p = data;
  g_object_unref (p->stream);
  g_free (p->text);
  g_free (p);
}

/**
 * berth_stream_post:
 * @self: a #BerthStream
 * @text: (transfer full): text to send
 *
 * Sends @text from any thread: it is written from the stream's main
 * context, in the order posted.
 */
void
berth_stream_post (BerthStream *self, char *text)
{
  Posted *p;

  g_return_if_fail (BERTH_IS_STREAM (self));

  p = g_new0 (Posted, 1);
  p->stream = g_object_ref (self);
  p->text = text;
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, deliver_cb, p, posted_free);
}

/**
 * berth_stream_is_closed:
 * @self: a #BerthStream
 *
 * Returns: whether the stream was closed or its client went away
 */
gboolean
berth_stream_is_closed (BerthStream *self)
{
  g_return_val_if_fail (BERTH_IS_STREAM (self), TRUE);
  if (!self->closed && gone (self))
    mark_gone (self);
  return self->closed;
}

/**
 * berth_stream_get_cancellable:
 * @self: a #BerthStream
 *
 * Returns: (transfer none): cancelled when the client goes away
 */
GCancellable *
berth_stream_get_cancellable (BerthStream *self)
{
  g_return_val_if_fail (BERTH_IS_STREAM (self), NULL);
  return berth_request_get_cancellable (self->request);
}

/**
 * berth_stream_close:
 * @self: a #BerthStream
 *
 * Ends the answer. Further writes are dropped.
 */
void
berth_stream_close (BerthStream *self)
{
  g_return_if_fail (BERTH_IS_STREAM (self));

  if (self->closed)
    return;
  self->closed = TRUE;
  if (!gone (self))
    {
      soup_message_body_complete (soup_server_message_get_response_body (self->message));
      soup_server_message_unpause (self->message);
    }
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0);
}

static void
berth_stream_dispose (GObject *object)
{
  BerthStream *self = BERTH_STREAM (object);

  if (self->message != NULL)
    {
      if (!self->closed)
        berth_stream_close (self);
      g_clear_signal_handler (&self->finished_id, self->message);
    }
  if (self->request != NULL && self->cancelled_id != 0)
    {
      g_cancellable_disconnect (berth_request_get_cancellable (self->request), self->cancelled_id);
      self->cancelled_id = 0;
    }
  g_clear_object (&self->message);
  g_clear_object (&self->request);
  g_clear_pointer (&self->context, g_main_context_unref);
  G_OBJECT_CLASS (berth_stream_parent_class)->dispose (object);
}

static void
berth_stream_class_init (BerthStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = berth_stream_dispose;

  /**
   * BerthStream::closed:
   * @self: the stream
   *
   * The stream was closed, by its writer or because the client went away.
   */
  signals[SIGNAL_CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
berth_stream_init (BerthStream *self)
{
}
