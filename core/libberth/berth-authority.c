/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-authority.h"

/**
 * SECTION:berth-authority
 * @title: BerthAuthority
 * @short_description: the interface that allows or refuses every call
 *
 * One asynchronous question per call — may this caller have this access
 * to this resource? — answered by whichever plugin registered itself as
 * the authority (see berth_context_add_service()). The question is async
 * so an implementation may look a token up, consult a rate limiter, or
 * ask polkit without blocking the main loop.
 */

G_DEFINE_INTERFACE (BerthAuthority, berth_authority, G_TYPE_OBJECT)

static void
berth_authority_default_init (BerthAuthorityInterface *iface)
{
}

/**
 * berth_authority_check_async:
 * @self: a #BerthAuthority
 * @caller: who asks
 * @resource: the resource kind (`key`, `service`, `app`, `agent`, …)
 * @name: (nullable): the resource's name, when the call names one
 * @access: the access the call needs
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the decision
 * @user_data: data for @callback
 *
 * Asks whether @caller may perform the call.
 */
void
berth_authority_check_async (BerthAuthority *self, BerthCaller *caller, const char *resource,
                             const char *name, BerthAccess access, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BERTH_IS_AUTHORITY (self));
  g_return_if_fail (BERTH_IS_CALLER (caller));
  g_return_if_fail (resource != NULL);

  BERTH_AUTHORITY_GET_IFACE (self)->check_async (self, caller, resource, name, access,
                                                 cancellable, callback, user_data);
}

/**
 * berth_authority_check_finish:
 * @self: a #BerthAuthority
 * @result: the #GAsyncResult
 * @error: return location for the refusal
 *
 * Returns: %TRUE when the call is allowed
 */
gboolean
berth_authority_check_finish (BerthAuthority *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BERTH_IS_AUTHORITY (self), FALSE);
  return BERTH_AUTHORITY_GET_IFACE (self)->check_finish (self, result, error);
}

/**
 * berth_authority_allows:
 * @self: a #BerthAuthority
 * @caller: who asks
 * @resource: the resource kind
 * @name: (nullable): the resource's name
 * @access: the access wanted
 * @error: return location for the refusal
 *
 * Decides synchronously whether @caller has @access on @resource @name.
 * Handlers use it for names they only learn from a request's body (the
 * service a registration names, each key of a transaction), and to leave
 * out of lists what the caller may not read.
 *
 * Returns: %TRUE when allowed
 */
gboolean
berth_authority_allows (BerthAuthority *self, BerthCaller *caller, const char *resource,
                        const char *name, BerthAccess access, GError **error)
{
  BerthAuthorityInterface *iface;

  g_return_val_if_fail (BERTH_IS_AUTHORITY (self), FALSE);
  g_return_val_if_fail (BERTH_IS_CALLER (caller), FALSE);
  g_return_val_if_fail (resource != NULL, FALSE);

  iface = BERTH_AUTHORITY_GET_IFACE (self);
  if (iface->allows == NULL)
    return TRUE;
  return iface->allows (self, caller, resource, name, access, error);
}
