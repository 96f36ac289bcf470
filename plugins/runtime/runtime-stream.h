/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* A chunked HTTP answer written line by line from the main thread (JSON
 * progress lines, log lines). Reference counted; lines written after the
 * client went away are dropped. */
typedef struct _RuntimeStream RuntimeStream;

RuntimeStream *runtime_stream_new       (BerthRequest  *request,
                                         const char    *content_type);
RuntimeStream *runtime_stream_ref       (RuntimeStream *stream);
void           runtime_stream_unref     (RuntimeStream *stream);
void           runtime_stream_write     (RuntimeStream *stream,
                                         const char    *data,
                                         gssize         len);
void           runtime_stream_write_json (RuntimeStream *stream,
                                          JsonNode      *node);
void           runtime_stream_close     (RuntimeStream *stream);
gboolean       runtime_stream_is_gone   (RuntimeStream *stream);
GCancellable  *runtime_stream_get_cancellable (RuntimeStream *stream);

/* thread-safe: queues a line to be written from the main context */
void           runtime_stream_post      (RuntimeStream *stream,
                                         char          *line);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RuntimeStream, runtime_stream_unref)

G_END_DECLS
