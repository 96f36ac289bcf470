/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "discovery-plugin.h"

G_BEGIN_DECLS

/* Consul's sessions: rows of the `sessions` table, held locks in
 * kv.session. A session ends when it is destroyed, when its TTL (if any)
 * runs out without a renewal (after Consul's grace of twice the TTL), or
 * when one of its checks turns critical or goes away; its locks are then
 * released (Behavior "release") or its keys deleted ("delete"), and the
 * lock delay applies to those keys. */

#define SESSION_TTL_MIN_MS       (10 * 1000)
#define SESSION_TTL_MAX_MS       (86400 * 1000)
#define SESSION_LOCK_DELAY_MAX_NS (G_GUINT64_CONSTANT (60) * 1000000000)

typedef struct {
  char    *id;
  char    *name;
  char    *node;
  guint64  lock_delay_ns;
  char    *behavior;             /* "release" or "delete" */
  char    *ttl;                  /* as given ("30s"), "" for none */
  char    *node_checks_json;     /* JSON array of check ids; NULL: the default */
  char    *service_checks_json;  /* JSON array of {"ID","Namespace"}; NULL: none */
  guint64  create_index;
  guint64  modify_index;
} Session;

void session_free (Session *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Session, session_free)

guint64    discovery_session_ttl_ms   (const Session *session);
Session   *discovery_session_get      (BerthStore  *store,
                                       const char  *id,
                                       GError     **error);
GPtrArray *discovery_session_list     (BerthStore  *store,
                                       const char  *node,
                                       GError     **error);
guint64    discovery_session_index    (BerthStore  *store);
JsonNode  *discovery_session_to_json  (const Session *session);

/* write functions for berth_store_write_async(): data a Session (create)
 * or a session id (destroy; nothing to do when it is gone) */
gboolean   discovery_session_write_create  (BerthTxn *txn, gpointer session, GError **error);
gboolean   discovery_session_write_destroy (BerthTxn *txn, gpointer id, GError **error);

/* The sessions' timers (TTLs) and the watch on their checks. */
typedef struct _DiscoverySessions DiscoverySessions;

DiscoverySessions *discovery_sessions_new   (BerthContext      *context);
void               discovery_sessions_free  (DiscoverySessions *self);
void               discovery_sessions_renew (DiscoverySessions *self,
                                             const Session     *session);

void discovery_session_add_routes (DiscoveryPlugin *plugin);

G_END_DECLS
