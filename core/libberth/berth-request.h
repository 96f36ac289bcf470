/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "berth-caller.h"

G_BEGIN_DECLS

typedef struct _BerthContext BerthContext;
typedef struct _BerthCall BerthCall;
typedef struct _BerthCaller BerthCaller;

#define BERTH_TYPE_REQUEST (berth_request_get_type ())
G_DECLARE_FINAL_TYPE (BerthRequest, berth_request, BERTH, REQUEST, GObject)

BerthRequest      *berth_request_new           (BerthContext      *context,
                                                SoupServerMessage *message,
                                                GHashTable        *params);

gboolean           berth_request_check_query   (BerthRequest *self,
                                                GError      **error);
BerthContext      *berth_request_get_context   (BerthRequest *self);
SoupServerMessage *berth_request_get_message   (BerthRequest *self);
const char        *berth_request_get_method    (BerthRequest *self);
const char        *berth_request_get_path      (BerthRequest *self);
const char        *berth_request_get_param     (BerthRequest *self,
                                                const char   *name);
const char        *berth_request_get_query     (BerthRequest *self,
                                                const char   *name);
gboolean           berth_request_has_query     (BerthRequest *self,
                                                const char   *name);
GStrv              berth_request_dup_query_all (BerthRequest *self,
                                                const char   *name);
gboolean           berth_request_get_query_boolean (BerthRequest *self,
                                                    const char   *name,
                                                    gboolean     *out,
                                                    GError      **error);
gboolean           berth_request_get_query_uint64 (BerthRequest *self,
                                                   const char   *name,
                                                   guint64       default_value,
                                                   guint64      *out_value,
                                                   GError      **error);
gboolean           berth_request_get_query_duration (BerthRequest *self,
                                                     const char   *name,
                                                     guint64       default_ms,
                                                     guint64      *out_ms,
                                                     GError      **error);
const char        *berth_request_get_header    (BerthRequest *self,
                                                const char   *name);
const char        *berth_request_get_token     (BerthRequest *self);
BerthCall         *berth_request_get_call      (BerthRequest *self);
BerthCaller       *berth_request_get_caller    (BerthRequest *self);
GBytes            *berth_request_get_body      (BerthRequest *self);
JsonNode          *berth_request_parse_json    (BerthRequest *self,
                                                GError      **error);
GCancellable      *berth_request_get_cancellable (BerthRequest *self);

void               berth_request_set_header    (BerthRequest *self,
                                                const char   *name,
                                                const char   *value);
void               berth_request_set_index     (BerthRequest *self,
                                                guint64       index);
guint64            berth_request_get_index     (BerthRequest *self);

void               berth_request_respond       (BerthRequest *self,
                                                guint         status,
                                                const char   *content_type,
                                                GBytes       *body);
void               berth_request_respond_json  (BerthRequest *self,
                                                guint         status,
                                                JsonNode     *node);
void               berth_request_respond_error (BerthRequest *self,
                                                const GError *error);
void               berth_request_respond_message (BerthRequest *self,
                                                  guint         status,
                                                  const char   *message);
gboolean           berth_request_is_responded  (BerthRequest *self);
gboolean           berth_request_authorize     (BerthRequest *self,
                                                const char   *resource,
                                                const char   *name,
                                                BerthAccess   access,
                                                GError      **error);
gboolean           berth_request_may_read      (BerthRequest *self,
                                                const char   *resource,
                                                const char   *name);
gboolean           berth_request_is_filtered   (BerthRequest *self);

gboolean           berth_parse_duration        (const char   *text,
                                                guint64      *out_ms,
                                                GError      **error);

G_END_DECLS
