/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "scheduler-schema.h"

/* The scheduler's tables, as migrations of the owner "scheduler". A
 * released step is never edited: append a new one. Tasks live in the core
 * `tasks` table (shared with the runtime). */

const char * const scheduler_migrations[] = {
  /* 1: apps (the normalized Marathon definition plus the backoff state),
   * every version of every app, and the deployments in progress (one per
   * app; `previous` is the definition a rollback restores). */
  "CREATE TABLE apps ("
  "  id TEXT PRIMARY KEY,"
  "  definition TEXT NOT NULL,"
  "  backoff_delay REAL NOT NULL DEFAULT 0,"
  "  launch_after INTEGER NOT NULL DEFAULT 0,"
  "  last_failure TEXT,"
  "  create_index INTEGER NOT NULL,"
  "  modify_index INTEGER NOT NULL) WITHOUT ROWID;"
  "CREATE TABLE app_versions ("
  "  app_id TEXT NOT NULL,"
  "  version TEXT NOT NULL,"
  "  definition TEXT NOT NULL,"
  "  PRIMARY KEY (app_id, version)) WITHOUT ROWID;"
  "CREATE TABLE deployments ("
  "  id TEXT PRIMARY KEY,"
  "  app_id TEXT NOT NULL UNIQUE,"
  "  version TEXT NOT NULL,"
  "  action TEXT NOT NULL,"
  "  previous TEXT,"
  "  created_at TEXT NOT NULL,"
  "  create_index INTEGER NOT NULL) WITHOUT ROWID;",
  /* 2: HTTP callback event subscribers (/v2/eventSubscriptions) */
  "CREATE TABLE event_subscriptions ("
  "  callback_url TEXT PRIMARY KEY,"
  "  created_index INTEGER NOT NULL) WITHOUT ROWID;",
  /* 3: a deployment may span several apps (PUT /v2/apps, groups): one
   * row per app it deploys, still one deployment per app */
  "CREATE TABLE deployments_by_app ("
  "  id TEXT NOT NULL,"
  "  app_id TEXT NOT NULL UNIQUE,"
  "  version TEXT NOT NULL,"
  "  action TEXT NOT NULL,"
  "  previous TEXT,"
  "  created_at TEXT NOT NULL,"
  "  create_index INTEGER NOT NULL,"
  "  PRIMARY KEY (id, app_id)) WITHOUT ROWID;"
  "INSERT INTO deployments_by_app (id, app_id, version, action, previous, created_at, create_index)"
  "  SELECT id, app_id, version, action, previous, created_at, create_index FROM deployments;"
  "DROP TABLE deployments;"
  "ALTER TABLE deployments_by_app RENAME TO deployments;",
  NULL
};
