/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>
#include <berth-store-raw.h>

G_BEGIN_DECLS

/* A batch of SQL statements run in one store write. Values are bound from
 * GVariants: "s" text, "x" int64, "d" double, "mv"/NULL null. Every
 * statement may use `?N` placeholders; the special value
 * RUNTIME_DB_INDEX binds the write's index. */
typedef struct _RuntimeDbBatch RuntimeDbBatch;

#define RUNTIME_DB_INDEX ((GVariant *) GSIZE_TO_POINTER (1))

RuntimeDbBatch *runtime_db_batch_new     (const char     *topic,
                                          const char     *key);
void            runtime_db_batch_free    (RuntimeDbBatch *batch);
void            runtime_db_batch_add     (RuntimeDbBatch *batch,
                                          const char     *sql,
                                          ...) G_GNUC_NULL_TERMINATED;
guint64         runtime_db_batch_run     (RuntimeDbBatch *batch,
                                          BerthStore     *store,
                                          GError        **error);
/* in the background (no flush of its own): takes @batch */
void            runtime_db_batch_run_async  (RuntimeDbBatch      *batch,
                                             BerthStore          *store,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
guint64         runtime_db_batch_run_finish (BerthStore          *store,
                                             GAsyncResult        *result,
                                             GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RuntimeDbBatch, runtime_db_batch_free)

/* helpers for reading rows */
char           *runtime_db_column_dup    (sqlite3_stmt   *stmt,
                                          int             col);

G_END_DECLS
