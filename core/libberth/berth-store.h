/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <gio/gio.h>

#include "berth-txn.h"

G_BEGIN_DECLS

#define BERTH_TYPE_STORE (berth_store_get_type ())
G_DECLARE_FINAL_TYPE (BerthStore, berth_store, BERTH, STORE, GObject)

/**
 * BerthStoreSync:
 * @BERTH_STORE_SYNC_NORMAL: commits survive a crash of the process
 *   (SQLite `synchronous=NORMAL` in WAL mode); the default.
 * @BERTH_STORE_SYNC_FULL: commits also survive a power loss
 *   (`synchronous=FULL`: one fsync per group commit).
 *
 * How hard the store works to make a commit durable.
 */
typedef enum {
  BERTH_STORE_SYNC_NORMAL,
  BERTH_STORE_SYNC_FULL,
} BerthStoreSync;

/**
 * BerthStoreWriteFunc:
 * @txn: the write being made
 * @user_data: the data given with the function
 * @error: return location for a #GError
 *
 * Does the work of one write inside the store's transaction. The function
 * must call berth_txn_changed() for everything it modifies, and use
 * berth_txn_get_index() as the index of the rows it touches. If it returns
 * %FALSE, everything it did is rolled back and the index is not consumed;
 * other writes of the same group commit are not affected.
 *
 * Returns: %TRUE on success
 */
typedef gboolean (*BerthStoreWriteFunc) (BerthTxn  *txn,
                                         gpointer   user_data,
                                         GError   **error);

/**
 * BerthStoreCommit:
 * @tag: the tag the write was queued with
 * @index: the index it committed at
 *
 * One tagged write of a group commit that changed something.
 */
typedef struct {
  GObject *tag;
  guint64  index;
} BerthStoreCommit;

/**
 * BerthStoreCommitHook:
 * @store: the store
 * @commits: (array length=n_commits): the tagged writes that changed
 *   something, in the order they ran
 * @n_commits: how many
 * @user_data: the data given with the hook
 * @error: return location for a #GError
 *
 * Runs inside a group commit's transaction, before the COMMIT.
 *
 * Returns: %TRUE on success; %FALSE fails the whole group commit
 */
typedef gboolean (*BerthStoreCommitHook) (BerthStore             *store,
                                          const BerthStoreCommit *commits,
                                          guint                   n_commits,
                                          gpointer                user_data,
                                          GError                **error);

BerthStore *berth_store_new            (const char     *path,
                                        GError        **error);
BerthStore *berth_store_new_full       (const char     *path,
                                        BerthStoreSync  sync,
                                        GError        **error);
void        berth_store_close          (BerthStore     *self);
const char *berth_store_get_path       (BerthStore     *self);
guint64     berth_store_get_index      (BerthStore     *self);
gint        berth_store_get_schema_version (BerthStore *self,
                                            const char *owner);
gboolean    berth_store_migrate        (BerthStore         *self,
                                        const char         *owner,
                                        const char * const *steps,
                                        GError            **error);

gboolean      berth_store_exec         (BerthStore     *self,
                                        const char     *sql,
                                        GError        **error);

void        berth_store_write_async    (BerthStore          *self,
                                        BerthStoreWriteFunc  func,
                                        gpointer             func_data,
                                        GDestroyNotify       func_data_destroy,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
guint64     berth_store_write_finish   (BerthStore          *self,
                                        GAsyncResult        *result,
                                        GError             **error);
guint64     berth_store_write_sync     (BerthStore          *self,
                                        BerthStoreWriteFunc  func,
                                        gpointer             func_data,
                                        GError             **error);
void        berth_store_flush          (BerthStore          *self);

void        berth_store_set_current_tag    (BerthStore           *self,
                                            GObject              *tag);
GObject    *berth_store_get_current_tag    (BerthStore           *self);
guint       berth_store_add_commit_hook    (BerthStore           *self,
                                            BerthStoreCommitHook  func,
                                            gpointer              user_data,
                                            GDestroyNotify        destroy);
void        berth_store_remove_commit_hook (BerthStore           *self,
                                            guint                 id);
gboolean    berth_store_repair             (const char           *path,
                                            char                **report,
                                            GError              **error);

void        berth_store_wait_async     (BerthStore          *self,
                                        const char          *topic,
                                        const char          *prefix,
                                        guint64              index,
                                        guint                timeout_ms,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
gboolean    berth_store_wait_finish    (BerthStore          *self,
                                        GAsyncResult        *result,
                                        GError             **error);

/**
 * berth_stmt_reset:
 * @stmt: (nullable): a statement from berth_store_prepare()
 *
 * Resets a cached statement so that it holds no read snapshot open. It is
 * the cleanup function of `g_autoptr(sqlite3_stmt)`: cached statements are
 * owned by the store and must never be finalized by the caller.
 */
G_END_DECLS
