/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "discovery-dns-answer-private.h"

/* DNS answers follow the ACLs, as Consul's do: a name the client may not
 * read (a service, a node) does not exist for it, and a service's
 * instances on nodes it may not read are left out. DNS carries no token:
 * the client is a TCP caller with its address, holding the token
 * `[discovery] dns_token` (or `[security] dns_token`) when one is set, the
 * anonymous token otherwise. Without an authority everything is read. */

gboolean
dns_query_may_read (Query *q, const char *resource, const char *name)
{
  BerthContext *context = q->dns->context;

  /* a harness without a daemon, or a daemon without an authority */
  if (context == NULL || berth_context_get_service (context, BERTH_TYPE_AUTHORITY) == NULL)
    return TRUE;
  if (q->caller == NULL)
    {
      q->caller = berth_caller_new_tcp (q->peer != NULL ? q->peer : "unknown", FALSE);
      if (q->dns->token != NULL)
        berth_caller_set_token (q->caller, q->dns->token);
    }
  return berth_context_authorize (context, q->caller, resource, name, BERTH_ACCESS_READ, NULL);
}
