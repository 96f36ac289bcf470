/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "runtime-schema.h"

/* The runtime plugin's tables, as migrations of the owner "runtime".
 * A released step is never edited: append a new one. */

const char * const runtime_migrations[] = {
  /* 1: images (by config digest), their tags, their layers (by diff-ID, in
   * order, bottom first) and containers. A layer directory is shared by
   * every image whose image_layers rows name it; it is freed when none
   * does. Containers carry the node they run on. */
  "CREATE TABLE images ("
  "  id TEXT PRIMARY KEY,"
  "  manifest_digest TEXT,"
  "  config TEXT NOT NULL,"
  "  size INTEGER NOT NULL DEFAULT 0,"
  "  created_at INTEGER NOT NULL,"
  "  create_index INTEGER NOT NULL);"
  "CREATE TABLE image_tags ("
  "  ref TEXT PRIMARY KEY,"
  "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
  "CREATE TABLE image_layers ("
  "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
  "  position INTEGER NOT NULL,"
  "  diff_id TEXT NOT NULL,"
  "  blob_digest TEXT NOT NULL,"
  "  media_type TEXT NOT NULL,"
  "  size INTEGER NOT NULL DEFAULT 0,"
  "  PRIMARY KEY (image_id, position));"
  "CREATE INDEX image_layers_diff ON image_layers(diff_id);"
  "CREATE TABLE layers ("
  "  diff_id TEXT PRIMARY KEY,"
  "  unpacked_size INTEGER NOT NULL,"
  "  create_index INTEGER NOT NULL);"
  "CREATE TABLE containers ("
  "  id TEXT PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  node_id TEXT NOT NULL,"
  "  image_id TEXT,"
  "  image_ref TEXT,"
  "  spec TEXT NOT NULL,"
  "  runtime TEXT NOT NULL,"
  "  state TEXT NOT NULL,"
  "  pid INTEGER NOT NULL DEFAULT 0,"
  "  conmon_pid INTEGER NOT NULL DEFAULT 0,"
  "  exit_code INTEGER,"
  "  reason TEXT,"
  "  address TEXT,"
  "  created_at INTEGER NOT NULL,"
  "  started_at INTEGER,"
  "  finished_at INTEGER,"
  "  create_index INTEGER NOT NULL,"
  "  modify_index INTEGER NOT NULL);"
  "CREATE INDEX containers_node ON containers(node_id);",
  NULL
};
