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
  /* 2: the service catalog (nodes, services, checks), the per-topic
   * indexes its read endpoints answer with, and the WAN links to other
   * datacenters. The catalog keeps its own nodes (external nodes can be
   * registered through /v1/catalog/register); this node is upserted at
   * startup. */
  "CREATE TABLE catalog_nodes ("
  "  name TEXT PRIMARY KEY,"
  "  id TEXT NOT NULL DEFAULT '',"
  "  address TEXT NOT NULL,"
  "  datacenter TEXT NOT NULL,"
  "  tagged_addresses TEXT NOT NULL DEFAULT '{}',"
  "  meta TEXT NOT NULL DEFAULT '{}',"
  "  create_index INTEGER NOT NULL,"
  "  modify_index INTEGER NOT NULL) WITHOUT ROWID;"
  "CREATE TABLE catalog_services ("
  "  node TEXT NOT NULL REFERENCES catalog_nodes (name) ON DELETE CASCADE,"
  "  id TEXT NOT NULL,"
  "  name TEXT NOT NULL,"
  "  tags TEXT NOT NULL DEFAULT '[]',"
  "  address TEXT NOT NULL DEFAULT '',"
  "  port INTEGER NOT NULL DEFAULT 0,"
  "  meta TEXT NOT NULL DEFAULT '{}',"
  "  tagged_addresses TEXT NOT NULL DEFAULT '{}',"
  "  weights TEXT NOT NULL DEFAULT '{\"Passing\":1,\"Warning\":1}',"
  "  enable_tag_override INTEGER NOT NULL DEFAULT 0,"
  "  kind TEXT NOT NULL DEFAULT '',"
  "  create_index INTEGER NOT NULL,"
  "  modify_index INTEGER NOT NULL,"
  "  PRIMARY KEY (node, id)) WITHOUT ROWID;"
  "CREATE INDEX catalog_services_name ON catalog_services (name);"
  "CREATE TABLE catalog_checks ("
  "  node TEXT NOT NULL,"
  "  id TEXT NOT NULL,"
  "  name TEXT NOT NULL,"
  "  status TEXT NOT NULL,"
  "  notes TEXT NOT NULL DEFAULT '',"
  "  output TEXT NOT NULL DEFAULT '',"
  "  service_id TEXT NOT NULL DEFAULT '',"
  "  service_name TEXT NOT NULL DEFAULT '',"
  "  service_tags TEXT NOT NULL DEFAULT '[]',"
  "  type TEXT NOT NULL DEFAULT '',"
  "  definition TEXT NOT NULL DEFAULT '{}',"
  "  create_index INTEGER NOT NULL,"
  "  modify_index INTEGER NOT NULL,"
  "  PRIMARY KEY (node, id)) WITHOUT ROWID;"
  "CREATE INDEX catalog_checks_service ON catalog_checks (service_name);"
  "CREATE INDEX catalog_checks_status ON catalog_checks (status);"
  "CREATE TABLE catalog_indexes ("
  "  name TEXT PRIMARY KEY,"
  "  modify_index INTEGER NOT NULL) WITHOUT ROWID;"
  "CREATE TABLE wan_links ("
  "  datacenter TEXT PRIMARY KEY,"
  "  address TEXT NOT NULL,"
  "  create_index INTEGER NOT NULL,"
  "  modify_index INTEGER NOT NULL) WITHOUT ROWID;",
  /* 3: Consul's sessions, the lock each key may be held under (kv.session,
   * indexed here) and the lock delays of keys whose session was
   * invalidated. sessions_index holds the index of the newest session
   * change, for blocking queries on the session lists. */
  "CREATE TABLE sessions ("
  "  id TEXT PRIMARY KEY,"
  "  name TEXT NOT NULL DEFAULT '',"
  "  node TEXT NOT NULL,"
  "  lock_delay_ns INTEGER NOT NULL,"
  "  behavior TEXT NOT NULL,"
  "  ttl TEXT NOT NULL DEFAULT '',"
  "  node_checks TEXT NOT NULL DEFAULT '[]',"
  "  service_checks TEXT NOT NULL DEFAULT '[]',"
  "  create_index INTEGER NOT NULL,"
  "  modify_index INTEGER NOT NULL) WITHOUT ROWID;"
  "CREATE INDEX sessions_node ON sessions (node);"
  "CREATE TABLE sessions_index ("
  "  id INTEGER PRIMARY KEY CHECK (id = 0),"
  "  modify_index INTEGER NOT NULL);"
  "CREATE INDEX kv_session ON kv (session) WHERE session IS NOT NULL;"
  "CREATE TABLE kv_lock_delays ("
  "  key BLOB PRIMARY KEY,"
  "  until_us INTEGER NOT NULL) WITHOUT ROWID;",
  /* 4: prepared queries: the normalised definition as JSON (Consul's
   * shape without ID and indexes), its name (unique, case-insensitive,
   * checked on write) and whether it is a template, for the lookups by
   * name; prepared_queries_index holds the index of the newest change. */
  "CREATE TABLE prepared_queries ("
  "  id TEXT PRIMARY KEY,"
  "  name TEXT NOT NULL DEFAULT '',"
  "  template INTEGER NOT NULL DEFAULT 0,"
  "  definition TEXT NOT NULL,"
  "  create_index INTEGER NOT NULL,"
  "  modify_index INTEGER NOT NULL) WITHOUT ROWID;"
  "CREATE INDEX prepared_queries_name ON prepared_queries (name);"
  "CREATE TABLE prepared_queries_index ("
  "  id INTEGER PRIMARY KEY CHECK (id = 0),"
  "  modify_index INTEGER NOT NULL);",
  NULL
};
