/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "runtime-stream.h"

/* Streams a chunked answer. The request is answered at once with status
 * 200 and chunked encoding (which marks it answered for libberth); then
 * chunks are appended to the message body and the message unpaused so
 * that libsoup writes them. */

struct _RuntimeStream {
  gint               ref_count;
  BerthRequest      *request;
  SoupServerMessage *message;
  GMainContext      *context;
  gboolean           closed;
  gboolean           gone;
  gulong             finished_id;
};

static void
finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  RuntimeStream *stream = user_data;
  stream->gone = TRUE;
}

RuntimeStream *
runtime_stream_new (BerthRequest *request, const char *content_type)
{
  RuntimeStream *stream = g_new0 (RuntimeStream, 1);
  SoupMessageHeaders *headers;

  stream->ref_count = 1;
  stream->request = g_object_ref (request);
  stream->message = g_object_ref (berth_request_get_message (request));
  stream->context = g_main_context_ref_thread_default ();
  headers = soup_server_message_get_response_headers (stream->message);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  stream->finished_id = g_signal_connect (stream->message, "finished", G_CALLBACK (finished_cb), stream);
  berth_request_respond (request, 200, content_type, NULL);
  return stream;
}

RuntimeStream *
runtime_stream_ref (RuntimeStream *stream)
{
  g_atomic_int_inc (&stream->ref_count);
  return stream;
}

gboolean
runtime_stream_is_gone (RuntimeStream *stream)
{
  return stream->gone || g_cancellable_is_cancelled (berth_request_get_cancellable (stream->request));
}

GCancellable *
runtime_stream_get_cancellable (RuntimeStream *stream)
{
  return berth_request_get_cancellable (stream->request);
}

void
runtime_stream_write (RuntimeStream *stream, const char *data, gssize len)
{
  if (stream->closed || runtime_stream_is_gone (stream))
    return;
  if (len < 0)
    len = (gssize) strlen (data);
  if (len == 0)
    return;
  soup_message_body_append (soup_server_message_get_response_body (stream->message),
                            SOUP_MEMORY_COPY, data, (gsize) len);
  soup_server_message_unpause (stream->message);
}

void
runtime_stream_write_json (RuntimeStream *stream, JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  line = g_strconcat (text, "\n", NULL);
  runtime_stream_write (stream, line, -1);
}

void
runtime_stream_close (RuntimeStream *stream)
{
  if (stream->closed)
    return;
  stream->closed = TRUE;
  if (runtime_stream_is_gone (stream))
    return;
  soup_message_body_complete (soup_server_message_get_response_body (stream->message));
  soup_server_message_unpause (stream->message);
}

void
runtime_stream_unref (RuntimeStream *stream)
{
  if (!g_atomic_int_dec_and_test (&stream->ref_count))
    return;
  runtime_stream_close (stream);
  g_clear_signal_handler (&stream->finished_id, stream->message);
  g_object_unref (stream->message);
  g_object_unref (stream->request);
  g_main_context_unref (stream->context);
  g_free (stream);
}

typedef struct {
  RuntimeStream *stream;
  char          *line;
} Posted;

static gboolean
deliver_cb (gpointer data)
{
  Posted *p = data;
  runtime_stream_write (p->stream, p->line, -1);
  return G_SOURCE_REMOVE;
}

static void
posted_free (gpointer data)
{
  Posted *p = data;
  runtime_stream_unref (p->stream);
  g_free (p->line);
  g_free (p);
}

void
runtime_stream_post (RuntimeStream *stream, char *line)
{
  Posted *p = g_new0 (Posted, 1);

  p->stream = runtime_stream_ref (stream);
  p->line = line;
  g_main_context_invoke_full (stream->context, G_PRIORITY_DEFAULT, deliver_cb, p, posted_free);
}
