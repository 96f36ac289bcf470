/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The HTTP door's side of a request: its Consul reply headers, and its
 * half of a call: who asks (peer credentials on the unix
 * socket, the peer address on TCP, the token wherever HTTP carries one)
 * and what the matched route touches. */
BerthRequest *bd_http_request_new (BerthContext      *context,
                                   SoupServerMessage *message,
                                   GHashTable        *params);
BerthCaller *bd_http_caller_new (BerthRequest *request);
BerthCall   *bd_http_call_new   (BerthRequest *request,
                                 BerthRoute   *route);

G_END_DECLS
