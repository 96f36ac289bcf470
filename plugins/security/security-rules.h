/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* ACL rules (Consul's language, HCL subset or JSON, plus Berth's own
 * kinds) and the decisions they give. */

/**
 * SecurityPolicy:
 * @SECURITY_POLICY_NONE: no rule
 * @SECURITY_POLICY_DENY: "deny"
 * @SECURITY_POLICY_READ: "read" (and "list" on keys)
 * @SECURITY_POLICY_WRITE: "write", which implies read
 *
 * The disposition of one rule.
 */
typedef enum {
  SECURITY_POLICY_NONE,
  SECURITY_POLICY_DENY,
  SECURITY_POLICY_READ,
  SECURITY_POLICY_WRITE,
} SecurityPolicy;

typedef struct _SecurityRules SecurityRules;

SecurityRules  *security_rules_new            (void);
SecurityRules  *security_rules_new_management (void);
SecurityRules  *security_rules_parse          (const char          *text,
                                               gboolean             legacy,
                                               GError             **error);
SecurityRules  *security_rules_ref            (SecurityRules       *self);
void            security_rules_unref          (SecurityRules       *self);
void            security_rules_merge          (SecurityRules       *self,
                                               const SecurityRules *other);
gboolean        security_rules_is_management  (const SecurityRules *self);
gboolean        security_rules_is_empty       (const SecurityRules *self);
SecurityPolicy  security_rules_lookup         (const SecurityRules *self,
                                               const char          *kind,
                                               const char          *name);
gboolean        security_rules_allows         (const SecurityRules *self,
                                               const char          *kind,
                                               const char          *name,
                                               BerthAccess          access);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SecurityRules, security_rules_unref)

G_END_DECLS
