/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <ldns/ldns.h>

G_BEGIN_DECLS

ldns_rr      *dns_rr_new            (ldns_rdf     *owner,
                                     ldns_rr_type  type,
                                     guint32       ttl);
ldns_rr      *dns_address_rr_bytes  (ldns_rdf     *owner,
                                     ldns_rr_type  type,
                                     const guint8 *bytes,
                                     guint32       ttl);
ldns_rr_type  dns_parse_address     (const char   *address,
                                     guint8        bytes[16]);
ldns_rr      *dns_address_rr        (ldns_rdf     *owner,
                                     const char   *address,
                                     ldns_rr_type  want,
                                     guint32       ttl);
char         *dns_hex_address       (const char   *address);
void          dns_shuffle           (GPtrArray    *array);

G_END_DECLS
