/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "security-acl.h"

G_BEGIN_DECLS

/* Tokens and policies in Consul's JSON shapes, both ways. */

JsonNode *security_acl_json_token        (SecurityAcl     *acl,
                                          const AclToken  *token,
                                          gboolean         secret,
                                          gboolean         full);
JsonNode *security_acl_json_policy       (const AclPolicy *policy,
                                          gboolean         rules);
gboolean  security_acl_json_parse_token  (SecurityAcl     *acl,
                                          JsonObject      *body,
                                          AclToken        *token,
                                          gboolean         create,
                                          GError         **error);
gboolean  security_acl_json_parse_policy (JsonObject      *body,
                                          const AclPolicy *existing,
                                          AclPolicy       *policy,
                                          GError         **error);
gboolean  security_acl_json_get_string   (JsonObject      *body,
                                          const char      *member,
                                          const char     **value,
                                          GError         **error);

G_END_DECLS
