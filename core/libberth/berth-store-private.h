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

G_END_DECLS
