/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "berth-store.h"

G_BEGIN_DECLS

/* Internal to libberth: the store hands a BerthTxn to each write. */
BerthTxn  *berth_txn_new           (BerthStore *store,
                                    guint64     index);
void       berth_txn_free          (BerthTxn   *txn);
GPtrArray *berth_txn_steal_changes (BerthTxn   *txn);

/* One recorded change: topic + key at an index. */
typedef struct {
  guint64  index;
  char    *topic;
  char    *key;
} BerthChange;

void berth_change_free (BerthChange *change);

struct _BerthStore {
  GObject         parent_instance;

  struct sqlite3 *db;
  char           *path;
  BerthStoreSync  sync;
  guint64         index;
  GHashTable     *stmts;        /* sql → sqlite3_stmt* */
  GQueue          pending;      /* PendingWrite* */
  GSource        *flush_source;
  GList          *waiters;      /* Waiter* */
  GThread        *owner;        /* the thread that may write */
  GObject        *current_tag;  /* tagged onto writes queued now */
  GPtrArray      *commit_hooks; /* CommitHook* */
  guint           next_hook_id;
};


/* berth-store-hooks.c */
gboolean berth_store_run_commit_hooks (BerthStore *self,
                                       GArray     *commits,
                                       GError    **error);

/* berth-store-check.c */
gboolean berth_store_quick_check (BerthStore *self,
                                  GError    **error);

/* berth-store-wait.c */
void berth_store_wake_waiters (BerthStore *self,
                               GPtrArray  *changes);
void berth_store_fail_waiters (BerthStore *self);

G_END_DECLS
