/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The audit trail: a hash-chained table of every state-changing and every
 * refused request, /v1/audit and its verification. */

#define SECURITY_TYPE_AUDIT (security_audit_get_type ())
G_DECLARE_FINAL_TYPE (SecurityAudit, security_audit, SECURITY, AUDIT, GObject)

SecurityAudit *security_audit_new     (BerthContext  *context,
                                       GError       **error);
/* A call the authority refused (before any handler ran). */
void           security_audit_refused (SecurityAudit *self,
                                       BerthCaller   *caller,
                                       const char    *resource,
                                       const char    *name,
                                       BerthAccess    access,
                                       const GError  *refusal);
/* Rereads [security] audit_retention_days (SIGHUP). */
void           security_audit_reload    (SecurityAudit *self);
BerthStore    *security_audit_get_store (SecurityAudit *self);
GBytes        *security_audit_get_key   (SecurityAudit *self);

G_END_DECLS
