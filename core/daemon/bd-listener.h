/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include <berth.h>

#include "bd-config.h"

G_BEGIN_DECLS

/* Accepts the HTTP front door's connections itself and hands each request
 * to libsoup with soup_server_accept_iostream(), so that berthd, not
 * libsoup 3.2, decides when a connection ends: an idle keep-alive
 * connection closed by its client is closed at once, a client that leaves
 * while its request is parked (a blocking query) cancels it, slow or
 * oversized request heads are cut off with 408/414/431, bodies over the
 * limit are refused with 413 before they are read, and connections are
 * capped in all and per client. */

typedef struct _BdListener BdListener;

BdListener *bd_listener_new        (SoupServer         *server,
                                    const BdHttpLimits *limits);
void        bd_listener_set_limits (BdListener         *self,
                                    const BdHttpLimits *limits);
/* Listens on @socket (bound, not yet listening) with a backlog of
 * net.core.somaxconn. */
gboolean    bd_listener_add        (BdListener         *self,
                                    GSocket            *socket,
                                    BerthZone           zone,
                                    GError            **error);
/* Serves HTTPS on @socket with @provider's certificate; with
 * @require_client_certificate clients must present a certificate its CA
 * signed. All HTTPS listeners share @provider and that setting. */
gboolean    bd_listener_add_tls    (BdListener         *self,
                                    GSocket            *socket,
                                    BerthZone           zone,
                                    BerthTlsProvider   *provider,
                                    gboolean            require_client_certificate,
                                    GError            **error);
void        bd_listener_free       (BdListener         *self);

/* The client socket a request arrived on (for peer credentials), or NULL. */
GSocket    *bd_listener_get_message_socket (SoupServerMessage *msg);
/* The zone of the listener a request arrived through. */
BerthZone   bd_listener_get_message_zone   (SoupServerMessage *msg);
/* Whether a request came over HTTPS. */
gboolean    bd_listener_message_is_tls     (SoupServerMessage *msg);
/* The client certificate of an HTTPS request, verified against the CA;
 * NULL without one. */
GTlsCertificate *bd_listener_get_message_tls_certificate (SoupServerMessage *msg);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdListener, bd_listener_free)

G_END_DECLS
