/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include "berth-caller.h"
#include "berth-router.h"

G_BEGIN_DECLS

#define BERTH_TYPE_AUTHORITY (berth_authority_get_type ())
G_DECLARE_INTERFACE (BerthAuthority, berth_authority, BERTH, AUTHORITY, GObject)

/**
 * BerthAuthorityInterface:
 * @check_async: decide whether @caller may have @access on the resource
 *   of kind @resource named @name; complete with %TRUE, or with an error
 *   (%BERTH_ERROR_UNAUTHORIZED when no valid identity was given,
 *   %BERTH_ERROR_DENIED when the identity lacks the right,
 *   %BERTH_ERROR_RATE_LIMITED when the caller is throttled)
 * @check_finish: the result of @check_async
 * @allows: decides at once, from what the authority already knows of the
 *   caller (its token was resolved when the call was dispatched): the
 *   check handlers make on names found in a body, and the filter of
 *   lists. It never counts against rate limits.
 *
 * The service that decides every call. The core asks it before any
 * handler of any front door runs; the security plugin registers one with
 * berth_context_add_service(). Without one the core allows every call.
 */
struct _BerthAuthorityInterface {
  GTypeInterface parent_iface;

  void     (*check_async)  (BerthAuthority      *self,
                            BerthCaller         *caller,
                            const char          *resource,
                            const char          *name,
                            BerthAccess          access,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data);
  gboolean (*check_finish) (BerthAuthority      *self,
                            GAsyncResult        *result,
                            GError             **error);
  gboolean (*allows)       (BerthAuthority      *self,
                            BerthCaller         *caller,
                            const char          *resource,
                            const char          *name,
                            BerthAccess          access,
                            GError             **error);
};

void     berth_authority_check_async  (BerthAuthority      *self,
                                       BerthCaller         *caller,
                                       const char          *resource,
                                       const char          *name,
                                       BerthAccess          access,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
gboolean berth_authority_check_finish (BerthAuthority      *self,
                                       GAsyncResult        *result,
                                       GError             **error);
gboolean berth_authority_allows       (BerthAuthority      *self,
                                       BerthCaller         *caller,
                                       const char          *resource,
                                       const char          *name,
                                       BerthAccess          access,
                                       GError             **error);

G_END_DECLS
