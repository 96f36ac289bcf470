/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The KV verbs of Consul's transaction API; the HTTP verbs map onto them. */
typedef enum {
  KV_VERB_SET,
  KV_VERB_CAS,
  KV_VERB_GET,
  KV_VERB_GET_TREE,
  KV_VERB_CHECK_INDEX,
  KV_VERB_CHECK_NOT_EXISTS,
  KV_VERB_DELETE,
  KV_VERB_DELETE_CAS,
  KV_VERB_DELETE_TREE,
  KV_VERB_LOCK,            /* ?acquire= */
  KV_VERB_UNLOCK,          /* ?release= */
  KV_VERB_CHECK_SESSION,
} KvVerb;

typedef struct {
  KvVerb   verb;
  char    *key;
  GBytes  *value;
  guint64  flags;
  guint64  index;
  char    *session;   /* lock, unlock, check-session */
} KvOp;

gboolean      discovery_kv_verb_from_string (const char   *name,
                                             KvVerb       *verb);
void          kv_op_clear                   (KvOp         *op);

BerthKvEntry *discovery_kv_get              (BerthStore   *store,
                                             const char   *key,
                                             GError      **error);
GPtrArray    *discovery_kv_list             (BerthStore   *store,
                                             const char   *prefix,
                                             GError      **error);
GPtrArray    *discovery_kv_keys             (BerthStore   *store,
                                             const char   *prefix,
                                             const char   *separator,
                                             GError      **error);
guint64       discovery_kv_index            (BerthStore   *store,
                                             const char   *prefix,
                                             gboolean      exact,
                                             GError      **error);
gboolean      discovery_kv_check_key        (const char   *key,
                                             guint64       max_bytes,
                                             GError      **error);
gboolean      discovery_kv_apply            (BerthTxn     *txn,
                                             const KvOp   *op,
                                             GPtrArray    *results,
                                             GError      **error);
gboolean      discovery_kv_authorize_op     (BerthRequest *req,
                                             const KvOp   *op,
                                             GError      **error);
gboolean      discovery_kv_release_session  (BerthTxn     *txn,
                                             const char   *session,
                                             gboolean      delete_keys,
                                             guint64      lock_delay_ns,
                                             GError      **error);
gboolean      discovery_kv_reap_tombstones  (BerthTxn     *txn,
                                             gpointer      user_data,
                                             GError      **error);

G_END_DECLS
