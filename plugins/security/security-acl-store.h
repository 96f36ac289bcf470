/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "security-rules.h"

G_BEGIN_DECLS

/* The ACL tables: tokens, policies and the bootstrap mark. */

#define ACL_MANAGEMENT_POLICY_ID "00000000-0000-0000-0000-000000000001"
#define ACL_ANONYMOUS_ACCESSOR   "00000000-0000-0000-0000-000000000002"
#define ACL_ANONYMOUS_SECRET     "anonymous"

typedef struct {
  char          *id;
  char          *name;
  char          *description;
  char          *rules;
  GStrv          datacenters;
  gboolean       legacy;       /* the rules of one legacy token */
  guint64        create_index;
  guint64        modify_index;
  SecurityRules *compiled;     /* in memory only */
} AclPolicy;

typedef struct {
  char     *accessor;
  char     *secret;
  char     *description;
  GStrv     policies;          /* policy IDs */
  gboolean  local;
  char     *legacy_type;       /* "client", "management", or NULL */
  guint64   create_index;
  guint64   modify_index;
  gint64    create_time;       /* µs since the epoch */
} AclToken;

AclPolicy *acl_policy_new  (void);
void       acl_policy_free (AclPolicy *policy);
AclToken  *acl_token_new   (void);
AclToken  *acl_token_copy  (const AclToken *token);
void       acl_token_free  (AclToken *token);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AclPolicy, acl_policy_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AclToken, acl_token_free)

typedef enum {
  ACL_OP_CREATE_TOKEN,
  ACL_OP_PUT_TOKEN,     /* updates an existing token */
  ACL_OP_DELETE_TOKEN,
  ACL_OP_PUT_POLICY,
  ACL_OP_DELETE_POLICY,
  ACL_OP_BOOTSTRAP,     /* puts @token, once ever */
} AclOpKind;

typedef struct {
  AclOpKind  kind;
  AclToken  *token;
  AclPolicy *policy;
  char      *id;
} AclOp;

GPtrArray *acl_ops_new        (void);
void       acl_ops_add_token  (GPtrArray *ops, AclOpKind kind, AclToken *token);
void       acl_ops_add_policy (GPtrArray *ops, AclOpKind kind, AclPolicy *policy);
void       acl_ops_add_delete (GPtrArray *ops, AclOpKind kind, const char *id);

gboolean   acl_store_migrate  (BerthStore *store,
                               GError    **error);
gboolean   acl_store_load     (BerthStore *store,
                               GPtrArray **policies,
                               GPtrArray **tokens,
                               gboolean   *bootstrapped,
                               GError    **error);
gboolean   acl_store_apply    (BerthTxn   *txn,
                               GPtrArray  *ops,
                               GError    **error);

G_END_DECLS
