/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-store-private.h"

struct _BerthTxn {
  BerthStore *store;
  guint64     index;
  GPtrArray  *changes;
};

static BerthTxn *
berth_txn_copy_noop (BerthTxn *txn)
{
  /* A BerthTxn lives only for the duration of a write function; the boxed
   * type exists so that the type can be named in bindings. */
  return txn;
}

static void
berth_txn_free_noop (BerthTxn *txn)
{
}

G_DEFINE_BOXED_TYPE (BerthTxn, berth_txn, berth_txn_copy_noop, berth_txn_free_noop)

void
berth_change_free (BerthChange *change)
{
  g_free (change->topic);
  g_free (change->key);
  g_free (change);
}

BerthTxn *
berth_txn_new (BerthStore *store, guint64 index)
{
  BerthTxn *txn = g_new0 (BerthTxn, 1);
  txn->store = store;
  txn->index = index;
  txn->changes = g_ptr_array_new_with_free_func ((GDestroyNotify) berth_change_free);
  return txn;
}

void
berth_txn_free (BerthTxn *txn)
{
  g_ptr_array_unref (txn->changes);
  g_free (txn);
}

GPtrArray *
berth_txn_steal_changes (BerthTxn *txn)
{
  GPtrArray *changes = txn->changes;
  txn->changes = g_ptr_array_new_with_free_func ((GDestroyNotify) berth_change_free);
  return changes;
}

/**
 * berth_txn_get_index:
 * @txn: a #BerthTxn
 *
 * The index this write commits at: record it as the ModifyIndex (and, for
 * new rows, the CreateIndex) of every row the write touches.
 *
 * Returns: the index of this write
 */
guint64
berth_txn_get_index (BerthTxn *txn)
{
  g_return_val_if_fail (txn != NULL, 0);
  return txn->index;
}

/**
 * berth_txn_get_store:
 * @txn: a #BerthTxn
 *
 * Returns: (transfer none): the store the write belongs to
 */
BerthStore *
berth_txn_get_store (BerthTxn *txn)
{
  g_return_val_if_fail (txn != NULL, NULL);
  return txn->store;
}

/**
 * berth_txn_changed:
 * @txn: a #BerthTxn
 * @topic: what kind of state changed, e.g. `kv`, `service`, `app`
 * @key: (nullable): which object changed, or %NULL for the whole topic
 *
 * Records a change. After the transaction commits, the store emits
 * #BerthStore::changed for it and wakes the blocking queries that watch it.
 * A write that records no change does not consume an index.
 */
void
berth_txn_changed (BerthTxn *txn, const char *topic, const char *key)
{
  BerthChange *change;

  g_return_if_fail (txn != NULL);
  g_return_if_fail (topic != NULL);

  change = g_new0 (BerthChange, 1);
  change->index = txn->index;
  change->topic = g_strdup (topic);
  change->key = g_strdup (key);
  g_ptr_array_add (txn->changes, change);
}
