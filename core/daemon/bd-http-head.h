/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "bd-config.h"

G_BEGIN_DECLS

/* What the listener checks of a request head before libsoup sees it, and
 * the answers it gives itself (JSON, then close). */

#define BD_HTTP_STATUS_TOO_MANY_REQUESTS        429
#define BD_HTTP_STATUS_HEADER_FIELDS_TOO_LARGE  431

typedef enum {
  BD_HTTP_HEAD_INCOMPLETE,   /* within the limits so far: read on */
  BD_HTTP_HEAD_COMPLETE,     /* the whole head is there, within the limits */
  BD_HTTP_HEAD_REFUSED,      /* over a limit: answer *status, *message */
} BdHttpHeadResult;

BdHttpHeadResult bd_http_head_scan (const guint8        *data,
                                    gsize                len,
                                    const BdHttpLimits  *limits,
                                    gsize               *head_len,
                                    guint               *status,
                                    char               **message);
GBytes          *bd_http_reply_new (guint                status,
                                    const char          *message);

G_END_DECLS
