/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "discovery-schema.h"

/* The discovery plugin's tables, as migrations of the owner "discovery".
 * A released step is never edited: append a new one. */

const char * const discovery_migrations[] = {
  /* 1: the KV store. Keys are BLOBs (any byte but NUL); deleted keys leave
   * a tombstone so that blocking queries on a prefix see deletes. */
  "CREATE TABLE kv ("
  "  key BLOB PRIMARY KEY,"
  "  value BLOB,"
  "  flags INTEGER NOT NULL DEFAULT 0,"
  "  create_index INTEGER NOT NULL,"
  "  modify_index INTEGER NOT NULL,"
  "  lock_index INTEGER NOT NULL DEFAULT 0,"
  "  session TEXT) WITHOUT ROWID;"
  "CREATE TABLE kv_tombstones ("
  "  key BLOB PRIMARY KEY,"
  "  delete_index INTEGER NOT NULL,"
  "  deleted_at INTEGER NOT NULL) WITHOUT ROWID;",
  NULL
};

