/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include "berth-request.h"

G_BEGIN_DECLS

#define BERTH_TYPE_STREAM (berth_stream_get_type ())
G_DECLARE_FINAL_TYPE (BerthStream, berth_stream, BERTH, STREAM, GObject)

BerthStream  *berth_stream_new             (BerthRequest *request,
                                            const char   *content_type);
void          berth_stream_write           (BerthStream  *self,
                                            const char   *data,
                                            gssize        length);
void          berth_stream_write_json_line (BerthStream  *self,
                                            JsonNode     *node);
void          berth_stream_post            (BerthStream  *self,
                                            char         *text);
gboolean      berth_stream_is_closed       (BerthStream  *self);
GCancellable *berth_stream_get_cancellable (BerthStream  *self);
void          berth_stream_close           (BerthStream  *self);

G_END_DECLS
