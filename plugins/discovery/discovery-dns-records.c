/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "discovery-dns-records.h"

/* DNS records of addresses, and the small helpers of the answers; pure
 * functions, tested in tests/plugins/discovery/test-discovery.c. */

ldns_rr *
dns_rr_new (ldns_rdf *owner, ldns_rr_type type, guint32 ttl)
{
  ldns_rr *rr = ldns_rr_new ();

  ldns_rr_set_owner (rr, owner);
  ldns_rr_set_type (rr, type);
  ldns_rr_set_class (rr, LDNS_RR_CLASS_IN);
  ldns_rr_set_ttl (rr, ttl);
  return rr;
}

ldns_rr *
dns_address_rr_bytes (ldns_rdf *owner, ldns_rr_type type, const guint8 *bytes, guint32 ttl)
{
  ldns_rr *rr = dns_rr_new (ldns_rdf_clone (owner), type, ttl);

  ldns_rr_push_rdf (rr, ldns_rdf_new_frm_data (type == LDNS_RR_TYPE_A ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
                                               type == LDNS_RR_TYPE_A ? 4 : 16, bytes));
  return rr;
}

/* The record type and bytes of an IP address; 0 if it is not one. */
ldns_rr_type
dns_parse_address (const char *address, guint8 bytes[16])
{
  g_autoptr(GInetAddress) ia = g_inet_address_new_from_string (address);

  if (ia == NULL)
    return 0;
  memcpy (bytes, g_inet_address_to_bytes (ia), g_inet_address_get_native_size (ia));
  return g_inet_address_get_family (ia) == G_SOCKET_FAMILY_IPV4 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
}

/* An A or AAAA record for @address (NULL if it is not an IP address, or
 * not of @want unless @want is 0). */
ldns_rr *
dns_address_rr (ldns_rdf *owner, const char *address, ldns_rr_type want, guint32 ttl)
{
  guint8 bytes[16];
  ldns_rr_type type = dns_parse_address (address, bytes);

  if (type == 0 || (want != 0 && want != type))
    return NULL;
  return dns_address_rr_bytes (owner, type, bytes, ttl);
}

char *
dns_hex_address (const char *address)
{
  g_autoptr(GInetAddress) ia = g_inet_address_new_from_string (address);
  const guint8 *bytes;
  GString *out;

  if (ia == NULL)
    return NULL;
  bytes = g_inet_address_to_bytes (ia);
  out = g_string_new (NULL);
  for (gsize i = 0; i < g_inet_address_get_native_size (ia); i++)
    g_string_append_printf (out, "%02x", bytes[i]);
  return g_string_free (out, FALSE);
}

void
dns_shuffle (GPtrArray *array)
{
  for (guint i = array->len; i > 1; i--)
    {
      guint j = (guint) g_random_int_range (0, (gint32) i);
      gpointer tmp = array->pdata[i - 1];
      array->pdata[i - 1] = array->pdata[j];
      array->pdata[j] = tmp;
    }
}
