/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* ACL tokens and policies (Consul's model): the tables, the bootstrap,
 * the /v1/acl endpoints (current and legacy) and the decisions. */

#define SECURITY_TYPE_ACL (security_acl_get_type ())
G_DECLARE_FINAL_TYPE (SecurityAcl, security_acl, SECURITY, ACL, GObject)

SecurityAcl *security_acl_new        (BerthContext *context,
                                      GError      **error);
/* Called from the plugin's ready hook: bootstraps under --dev. */
gboolean     security_acl_ready      (SecurityAcl  *self,
                                      GError      **error);
/* Resolves the caller's token (setting its accessor) and decides;
 * BERTH_ERROR_DENIED "ACL not found" for an unknown token,
 * "Permission denied" for a lack of rights. */
gboolean     security_acl_check      (SecurityAcl  *self,
                                      BerthCaller  *caller,
                                      const char   *resource,
                                      const char   *name,
                                      BerthAccess   access,
                                      GError      **error);

G_END_DECLS
