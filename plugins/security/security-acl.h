/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "security-acl-store.h"

G_BEGIN_DECLS

/* ACL tokens and policies (Consul's model): the tables, the bootstrap,
 * the /v1/acl endpoints (current and legacy) and the decisions. */

#define SECURITY_TYPE_ACL (security_acl_get_type ())
G_DECLARE_FINAL_TYPE (SecurityAcl, security_acl, SECURITY, ACL, GObject)

/* The accessor of a unix-socket caller running as root or as berthd's
 * own user: such callers manage everything without a token. */
#define SECURITY_ACL_UNIX_ADMIN "unix-admin"

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

/* For the endpoints (security-acl-http.c, security-acl-legacy.c). */
BerthContext    *security_acl_get_context        (SecurityAcl *self);
gboolean         security_acl_is_bootstrapped    (SecurityAcl *self);
GPtrArray       *security_acl_get_tokens         (SecurityAcl *self);
GPtrArray       *security_acl_get_policies       (SecurityAcl *self);
const AclToken  *security_acl_find_token         (SecurityAcl *self,
                                                  const char  *accessor);
const AclToken  *security_acl_find_token_by_secret (SecurityAcl *self,
                                                    const char  *secret);
const AclPolicy *security_acl_find_policy        (SecurityAcl *self,
                                                  const char  *id);
const AclPolicy *security_acl_find_policy_by_name (SecurityAcl *self,
                                                   const char  *name);
AclToken        *security_acl_new_bootstrap_token (void);
void             security_acl_respond_status     (BerthRequest   *req,
                                                  BerthError      code,
                                                  const char     *message);
GPtrArray       *security_acl_delete_token_ops   (BerthRequest   *req,
                                                  const AclToken *token);

/**
 * SecurityAclWriteDone:
 * @self: the ACL module, its memory already rebuilt
 * @request: the request the write serves
 * @error: (nullable): why nothing was written
 * @user_data: the data given
 */
typedef void (*SecurityAclWriteDone) (SecurityAcl  *self,
                                      BerthRequest *request,
                                      const GError *error,
                                      gpointer      user_data);
void             security_acl_write              (SecurityAcl          *self,
                                                  GPtrArray            *ops,
                                                  BerthRequest         *request,
                                                  SecurityAclWriteDone  done,
                                                  gpointer              user_data,
                                                  GDestroyNotify        destroy);
gboolean         security_acl_save_bootstrap_token (SecurityAcl *self,
                                                    const char  *secret,
                                                    char       **path,
                                                    GError     **error);

void             security_acl_http_add_routes    (SecurityAcl *self);
void             security_acl_legacy_add_routes  (SecurityAcl *self);

G_END_DECLS
