/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One request's view of a client socket, handed to libsoup with
 * soup_server_accept_iostream(): reads first return @prefix (the request
 * head the front door already read), then the socket, never more than
 * @limit bytes in all (so that libsoup cannot read into the next request);
 * closing the stream leaves the socket open and calls @closed_cb. */

#define BD_TYPE_HTTP_STREAM (bd_http_stream_get_type ())
G_DECLARE_FINAL_TYPE (BdHttpStream, bd_http_stream, BD, HTTP_STREAM, GIOStream)

typedef void (*BdHttpStreamClosed) (gpointer user_data);

BdHttpStream *bd_http_stream_new          (GSocket            *socket,
                                           GBytes             *prefix,
                                           guint64             limit,
                                           BdHttpStreamClosed  closed_cb,
                                           gpointer            user_data);
/* No more callbacks: the owner is going away. */
void          bd_http_stream_detach       (BdHttpStream       *self);
gboolean      bd_http_stream_is_closed_by_server (BdHttpStream *self);
/* Bytes of the request read through the stream so far. */
guint64       bd_http_stream_get_delivered (BdHttpStream *self);

G_END_DECLS
