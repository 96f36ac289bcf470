/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "berth-request.h"

G_BEGIN_DECLS

/* Used by the front door after a handler returned without answering. */
void berth_request_pause_if_pending (BerthRequest *self);

/* Called just before an answer is sent, so that the front door can add
 * what its protocol wants on every reply (Consul's X-Consul-* headers). */
typedef void (*BerthRequestRespondHook) (BerthRequest *request,
                                         gpointer      user_data);
void berth_request_set_respond_hook (BerthRequest            *self,
                                     BerthRequestRespondHook  hook,
                                     gpointer                 user_data);

/* Set by the front door before the handler runs. */
void berth_request_set_call (BerthRequest *self,
                             BerthCall    *call);

G_END_DECLS
