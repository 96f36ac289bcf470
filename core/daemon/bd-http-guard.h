/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* Cross-site request forgery policy of the HTTP front door. Returns TRUE
 * when @msg may reach @route; FALSE with the HTTP status (403 or 415) and
 * a message to answer with. */
gboolean bd_http_guard_check (SoupServerMessage  *msg,
                              BerthRoute         *route,
                              const char * const *allowed_origins,
                              guint              *status,
                              char              **message);

G_END_DECLS
