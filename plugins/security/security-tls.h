/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The node's certificate authority: the CA and the node's server
 * certificate in <state-dir>/tls/, certificates for other nodes and
 * clients, rotation. */

#define SECURITY_TYPE_TLS (security_tls_get_type ())
G_DECLARE_FINAL_TYPE (SecurityTls, security_tls, SECURITY, TLS, GObject)

SecurityTls *security_tls_new (BerthContext  *context,
                               GError       **error);

G_END_DECLS
