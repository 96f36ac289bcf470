/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include <berth.h>

#include "bd-http.h"

G_BEGIN_DECLS

/* HTTPS for the front door. berthd's listener reads request heads off a
 * plain socket itself (bd-listener.c); for an HTTPS connection a relay
 * does the TLS handshake on the client's socket and then carries the
 * decrypted bytes both ways through a socket pair, whose other end the
 * listener serves exactly as a plain connection — same head scanning,
 * limits and timeouts (a client that never finishes its handshake never
 * sends a head and is cut off by the header timeout). */

typedef struct _BdTlsRelay BdTlsRelay;

typedef void (*BdTlsRelayDone) (BdTlsRelay *relay,
                                gpointer    user_data);

/* Starts the handshake on @client (accepted, non-blocking) presenting
 * @certificate; with @require_client_certificate the client must present
 * one signed by @database's CA. Returns the relay, and in @inner the
 * socket to serve; @done_cb runs once the relay has closed both sides. */
BdTlsRelay      *bd_tls_relay_new     (GSocket         *client,
                                       GTlsCertificate *certificate,
                                       GTlsDatabase    *database,
                                       gboolean         require_client_certificate,
                                       guint            timeout_s,
                                       BdTlsRelayDone   done_cb,
                                       gpointer         user_data,
                                       GSocket        **inner,
                                       GError         **error);
BdTlsRelay      *bd_tls_relay_ref     (BdTlsRelay      *relay);
void             bd_tls_relay_unref   (BdTlsRelay      *relay);
/* Closes both sides now, without calling done_cb. */
void             bd_tls_relay_close   (BdTlsRelay      *relay);
/* The client's certificate, once the handshake verified it against the
 * CA; NULL without one. */
GTlsCertificate *bd_tls_relay_get_peer_certificate (BdTlsRelay *relay);

/* Serves HTTPS on @address for @zone with the node's certificate from
 * @provider; a non-loopback address needs no --insecure. */
gboolean         bd_http_listen_https (BdHttp           *http,
                                       const char       *address,
                                       BerthZone         zone,
                                       BerthTlsProvider *provider,
                                       gboolean          require_client_certificate,
                                       char            **bound_address,
                                       GError          **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdTlsRelay, bd_tls_relay_unref)

G_END_DECLS
