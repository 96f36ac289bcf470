/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* What a read endpoint answers: a status, a body (JSON or raw bytes) and
 * the index of the data it reflects. */
typedef struct {
  guint       status;
  JsonNode   *json;
  GBytes     *raw;
  const char *content_type;   /* of @raw; application/octet-stream if NULL */
  guint64     index;
} DiscoveryAnswer;

/* Computes the answer to @request; returns FALSE with @error on failure. */
typedef gboolean (*DiscoveryReadFunc) (BerthRequest    *request,
                                       gpointer         user_data,
                                       DiscoveryAnswer *answer,
                                       GError         **error);

void discovery_blocking_serve (BerthRequest      *request,
                               const char        *topic,
                               const char        *prefix,
                               DiscoveryReadFunc  read,
                               gpointer           user_data,
                               GDestroyNotify     destroy);

/* The pure parts, for the self-tests */
gboolean discovery_blocking_ready   (guint64  min_index,
                                     guint64  index,
                                     gboolean timed_out,
                                     gint64   remaining_us);
guint64  discovery_blocking_wait_ms (guint64  wait_ms,
                                     guint32  random);

G_END_DECLS
