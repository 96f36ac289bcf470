/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* Rate limits per client address and per token (token buckets,
 * [security] rate_limit and rate_burst). */

#define SECURITY_TYPE_LIMITS (security_limits_get_type ())
G_DECLARE_FINAL_TYPE (SecurityLimits, security_limits, SECURITY, LIMITS, GObject)

SecurityLimits *security_limits_new    (BerthContext   *context);
void            security_limits_reload (SecurityLimits *self);
/* FALSE with BERTH_ERROR_RATE_LIMITED when the caller is over its rate. */
gboolean        security_limits_admit  (SecurityLimits *self,
                                        BerthCaller    *caller,
                                        GError        **error);

/* Buckets held now (addresses and tokens), for the self-tests */
guint           security_limits_size   (SecurityLimits *self);

G_END_DECLS
