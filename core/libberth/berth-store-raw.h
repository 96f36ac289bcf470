/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Raw SQLite access to the store, for the code that owns tables: include
 * <berth-store-raw.h> explicitly (berth.h does not). Everything else uses
 * the store through the model's functions. Not introspected. */

#include <sqlite3.h>

#include "berth.h"

G_BEGIN_DECLS

sqlite3      *berth_store_get_db       (BerthStore     *self);
sqlite3_stmt *berth_store_prepare      (BerthStore     *self,
                                        const char     *sql,
                                        GError        **error);
gboolean      berth_store_step         (BerthStore     *self,
                                        sqlite3_stmt   *stmt,
                                        gboolean       *have_row,
                                        GError        **error);
/**
 * BerthRowFunc:
 * @stmt: a statement positioned on a row
 *
 * Makes an object of the current row, for berth_store_collect().
 *
 * Returns: (transfer full): the object
 */
typedef gpointer (*BerthRowFunc) (sqlite3_stmt *stmt);

GPtrArray    *berth_store_collect      (BerthStore     *self,
                                        sqlite3_stmt   *stmt,
                                        BerthRowFunc    row_func,
                                        GDestroyNotify  free_func,
                                        GError        **error);
gpointer      berth_store_get_one      (BerthStore     *self,
                                        sqlite3_stmt   *stmt,
                                        BerthRowFunc    row_func,
                                        const char     *what,
                                        GError        **error);

static inline void
berth_stmt_reset (sqlite3_stmt *stmt)
{
  if (stmt != NULL)
    sqlite3_reset (stmt);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, berth_stmt_reset)

G_END_DECLS
