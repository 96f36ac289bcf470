/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "bd-http-stream.h"

/* Pollable input and output streams over a GSocket that do not own it:
 * libsoup closes the GIOStream it serves a request on; the front door keeps
 * the connection and hands the next request a fresh BdHttpStream. */

/* ---- input ---------------------------------------------------------- */

#define BD_TYPE_SOCKET_INPUT (bd_socket_input_get_type ())
G_DECLARE_FINAL_TYPE (BdSocketInput, bd_socket_input, BD, SOCKET_INPUT, GInputStream)

struct _BdSocketInput {
  GInputStream  parent_instance;
  GSocket      *socket;
  GBytes       *prefix;
  gsize         prefix_offset;
  guint64       limit;      /* bytes this request may read in all */
  guint64       delivered;
};

static void bd_socket_input_pollable_iface_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BdSocketInput, bd_socket_input, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      bd_socket_input_pollable_iface_init))

static gsize
prefix_left (BdSocketInput *self)
{
  return self->prefix != NULL ? g_bytes_get_size (self->prefix) - self->prefix_offset : 0;
}

/* Something to return without touching the socket: prefix bytes, or the
 * end of this request's bytes. */
static gboolean
input_ready_now (BdSocketInput *self)
{
  return prefix_left (self) > 0 || self->delivered >= self->limit;
}

static gssize
input_read (BdSocketInput *self, void *buffer, gsize count, gboolean blocking,
            GCancellable *cancellable, GError **error)
{
  gsize left = prefix_left (self);
  gssize n;

  if (count == 0)
    return 0;
  if (left > 0)
    {
      const guint8 *data = g_bytes_get_data (self->prefix, NULL);
      n = (gssize) MIN (count, left);
      memcpy (buffer, data + self->prefix_offset, (gsize) n);
      self->prefix_offset += (gsize) n;
      self->delivered += (guint64) n;
      return n;
    }
  if (self->delivered >= self->limit)
    return 0;
  count = (gsize) MIN ((guint64) count, self->limit - self->delivered);
  n = g_socket_receive_with_blocking (self->socket, buffer, count, blocking, cancellable, error);
  if (n > 0)
    self->delivered += (guint64) n;
  return n;
}

static gssize
bd_socket_input_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                      GError **error)
{
  return input_read (BD_SOCKET_INPUT (stream), buffer, count, TRUE, cancellable, error);
}

static gboolean
bd_socket_input_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  /* the socket belongs to the front door */
  return TRUE;
}

static gboolean
bd_socket_input_can_poll (GPollableInputStream *stream)
{
  return TRUE;
}

static gboolean
bd_socket_input_is_readable (GPollableInputStream *stream)
{
  BdSocketInput *self = BD_SOCKET_INPUT (stream);
  return input_ready_now (self) || (g_socket_condition_check (self->socket, G_IO_IN) != 0);
}

static GSource *
bd_socket_input_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  BdSocketInput *self = BD_SOCKET_INPUT (stream);
  g_autoptr(GSource) child = NULL;

  if (input_ready_now (self))
    child = g_timeout_source_new (0);
  else
    child = g_socket_create_source (self->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  return g_pollable_source_new_full (stream, child, cancellable);
}

static gssize
bd_socket_input_read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count,
                                  GError **error)
{
  return input_read (BD_SOCKET_INPUT (stream), buffer, count, FALSE, NULL, error);
}

static void
bd_socket_input_finalize (GObject *object)
{
  BdSocketInput *self = BD_SOCKET_INPUT (object);

  g_clear_object (&self->socket);
  g_clear_pointer (&self->prefix, g_bytes_unref);
  G_OBJECT_CLASS (bd_socket_input_parent_class)->finalize (object);
}

static void
bd_socket_input_class_init (BdSocketInputClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bd_socket_input_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = bd_socket_input_read;
  G_INPUT_STREAM_CLASS (klass)->close_fn = bd_socket_input_close;
}

static void
bd_socket_input_pollable_iface_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = bd_socket_input_can_poll;
  iface->is_readable = bd_socket_input_is_readable;
  iface->create_source = bd_socket_input_create_source;
  iface->read_nonblocking = bd_socket_input_read_nonblocking;
}

static void
bd_socket_input_init (BdSocketInput *self)
{
}

/* ---- output --------------------------------------------------------- */

#define BD_TYPE_SOCKET_OUTPUT (bd_socket_output_get_type ())
G_DECLARE_FINAL_TYPE (BdSocketOutput, bd_socket_output, BD, SOCKET_OUTPUT, GOutputStream)

struct _BdSocketOutput {
  GOutputStream  parent_instance;
  GSocket       *socket;
};

static void bd_socket_output_pollable_iface_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BdSocketOutput, bd_socket_output, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      bd_socket_output_pollable_iface_init))

static gssize
bd_socket_output_write (GOutputStream *stream, const void *buffer, gsize count,
                        GCancellable *cancellable, GError **error)
{
  BdSocketOutput *self = BD_SOCKET_OUTPUT (stream);
  return g_socket_send_with_blocking (self->socket, buffer, count, TRUE, cancellable, error);
}

static gboolean
bd_socket_output_close (GOutputStream *stream, GCancellable *cancellable, GError **error)
{
  return TRUE;
}

static gboolean
bd_socket_output_can_poll (GPollableOutputStream *stream)
{
  return TRUE;
}

static gboolean
bd_socket_output_is_writable (GPollableOutputStream *stream)
{
  return g_socket_condition_check (BD_SOCKET_OUTPUT (stream)->socket, G_IO_OUT) != 0;
}

static GSource *
bd_socket_output_create_source (GPollableOutputStream *stream, GCancellable *cancellable)
{
  g_autoptr(GSource) child = g_socket_create_source (BD_SOCKET_OUTPUT (stream)->socket,
                                                     G_IO_OUT | G_IO_HUP | G_IO_ERR, NULL);
  return g_pollable_source_new_full (stream, child, cancellable);
}

static gssize
bd_socket_output_write_nonblocking (GPollableOutputStream *stream, const void *buffer, gsize count,
                                    GError **error)
{
  return g_socket_send_with_blocking (BD_SOCKET_OUTPUT (stream)->socket, buffer, count, FALSE,
                                      NULL, error);
}

static void
bd_socket_output_finalize (GObject *object)
{
  g_clear_object (&BD_SOCKET_OUTPUT (object)->socket);
  G_OBJECT_CLASS (bd_socket_output_parent_class)->finalize (object);
}

static void
bd_socket_output_class_init (BdSocketOutputClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bd_socket_output_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = bd_socket_output_write;
  G_OUTPUT_STREAM_CLASS (klass)->close_fn = bd_socket_output_close;
}

static void
bd_socket_output_pollable_iface_init (GPollableOutputStreamInterface *iface)
{
  iface->can_poll = bd_socket_output_can_poll;
  iface->is_writable = bd_socket_output_is_writable;
  iface->create_source = bd_socket_output_create_source;
  iface->write_nonblocking = bd_socket_output_write_nonblocking;
}

static void
bd_socket_output_init (BdSocketOutput *self)
{
}

/* ---- the pair ------------------------------------------------------- */

struct _BdHttpStream {
  GIOStream           parent_instance;
  GInputStream       *input;
  GOutputStream      *output;
  BdHttpStreamClosed  closed_cb;
  gpointer            user_data;
  gboolean            closed;
};

G_DEFINE_FINAL_TYPE (BdHttpStream, bd_http_stream, G_TYPE_IO_STREAM)

static GInputStream *
bd_http_stream_get_input_stream (GIOStream *stream)
{
  return BD_HTTP_STREAM (stream)->input;
}

static GOutputStream *
bd_http_stream_get_output_stream (GIOStream *stream)
{
  return BD_HTTP_STREAM (stream)->output;
}

static gboolean
bd_http_stream_close (GIOStream *stream, GCancellable *cancellable, GError **error)
{
  BdHttpStream *self = BD_HTTP_STREAM (stream);
  BdHttpStreamClosed cb = self->closed_cb;

  g_output_stream_close (self->output, NULL, NULL);
  g_input_stream_close (self->input, NULL, NULL);
  self->closed = TRUE;
  self->closed_cb = NULL;
  if (cb != NULL)
    cb (self->user_data);
  return TRUE;
}

static void
bd_http_stream_finalize (GObject *object)
{
  BdHttpStream *self = BD_HTTP_STREAM (object);

  g_clear_object (&self->input);
  g_clear_object (&self->output);
  G_OBJECT_CLASS (bd_http_stream_parent_class)->finalize (object);
}

static void
bd_http_stream_class_init (BdHttpStreamClass *klass)
{
  GIOStreamClass *io_class = G_IO_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = bd_http_stream_finalize;
  io_class->get_input_stream = bd_http_stream_get_input_stream;
  io_class->get_output_stream = bd_http_stream_get_output_stream;
  io_class->close_fn = bd_http_stream_close;
}

static void
bd_http_stream_init (BdHttpStream *self)
{
}

BdHttpStream *
bd_http_stream_new (GSocket *socket, GBytes *prefix, guint64 limit, BdHttpStreamClosed closed_cb,
                    gpointer user_data)
{
  BdHttpStream *self = g_object_new (BD_TYPE_HTTP_STREAM, NULL);
  BdSocketInput *input = g_object_new (BD_TYPE_SOCKET_INPUT, NULL);
  BdSocketOutput *output = g_object_new (BD_TYPE_SOCKET_OUTPUT, NULL);

  input->socket = g_object_ref (socket);
  input->prefix = prefix != NULL ? g_bytes_ref (prefix) : NULL;
  input->limit = limit;
  output->socket = g_object_ref (socket);
  self->input = G_INPUT_STREAM (input);
  self->output = G_OUTPUT_STREAM (output);
  self->closed_cb = closed_cb;
  self->user_data = user_data;
  return self;
}

void
bd_http_stream_detach (BdHttpStream *self)
{
  g_return_if_fail (BD_IS_HTTP_STREAM (self));
  self->closed_cb = NULL;
  self->user_data = NULL;
}

gboolean
bd_http_stream_is_closed_by_server (BdHttpStream *self)
{
  g_return_val_if_fail (BD_IS_HTTP_STREAM (self), TRUE);
  return self->closed;
}

guint64
bd_http_stream_get_delivered (BdHttpStream *self)
{
  g_return_val_if_fail (BD_IS_HTTP_STREAM (self), 0);
  return BD_SOCKET_INPUT (self->input)->delivered;
}
