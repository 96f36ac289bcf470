/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "bd-config.h"

G_BEGIN_DECLS

typedef struct _BdHttp BdHttp;

BdHttp     *bd_http_new          (BerthContext       *context,
                                  const BdHttpLimits *limits);
gboolean    bd_http_listen_tcp   (BdHttp       *self,
                                  const char   *address,
                                  BerthZone     zone,
                                  gboolean      insecure,
                                  GError      **error);
gboolean    bd_http_listen_unix  (BdHttp       *self,
                                  const char   *path,
                                  GError      **error);
const char *bd_http_get_tcp_address (BdHttp    *self);
/* The front door's listener (bd-listener.h), for HTTPS (bd-http-tls.c). */
struct _BdListener *bd_http_get_listener (BdHttp *self);
void        bd_http_set_limits   (BdHttp             *self,
                                  const BdHttpLimits *limits);
void        bd_http_free         (BdHttp       *self);

gboolean    bd_parse_host_port   (const char       *address,
                                  guint16           default_port,
                                  GInetSocketAddress **out,
                                  GError          **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdHttp, bd_http_free)

G_END_DECLS
