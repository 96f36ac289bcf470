/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

typedef struct {
  gint64  started_us;     /* monotonic */
  char   *http_address;
  char   *socket_path;
} BdStatus;

void bd_status_add_routes (BerthContext *context,
                           BdStatus     *status);

G_END_DECLS
