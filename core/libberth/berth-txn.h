/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

typedef struct _BerthStore BerthStore;

/**
 * BerthTxn:
 *
 * The handle a #BerthStoreWriteFunc receives: one write inside a store
 * transaction. It is only valid for the duration of the call.
 */
typedef struct _BerthTxn BerthTxn;

#define BERTH_TYPE_TXN (berth_txn_get_type ())
GType        berth_txn_get_type  (void) G_GNUC_CONST;

guint64      berth_txn_get_index (BerthTxn   *txn);
BerthStore  *berth_txn_get_store (BerthTxn   *txn);
void         berth_txn_changed   (BerthTxn   *txn,
                                  const char *topic,
                                  const char *key);

G_END_DECLS
