/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The HTTP door's half of a call: who asks (peer credentials on the unix
 * socket, the peer address on TCP, the token wherever HTTP carries one)
 * and what the matched route touches. */
BerthCaller *bd_http_caller_new (BerthRequest *request);
BerthCall   *bd_http_call_new   (BerthRequest *request,
                                 BerthRoute   *route);

G_END_DECLS
