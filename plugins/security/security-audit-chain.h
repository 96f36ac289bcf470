/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The audit table's hash chain: rows, their canonical form and hashes,
 * checkpoints signed with the node's audit key, verification and
 * retention. Every function here that writes runs inside a store write
 * (or a commit hook). */

/* One audited call. */
typedef struct {
  char    *time;       /* RFC 3339, UTC, microseconds */
  guint64  index;      /* the store's index: of the call's write, or at its reply */
  char    *accessor;   /* the token's accessor, never its secret */
  char    *peer;       /* the caller: address, or uid and pid */
  char    *zone;
  char    *method;
  char    *path;
  char    *operation;  /* method and route pattern */
  guint    status;     /* 0 while the reply is not known */
} AuditEntry;

void        audit_entry_clear      (AuditEntry *entry);
void        audit_entry_from_call  (AuditEntry  *entry,
                                    BerthCaller *caller,
                                    const char  *method,
                                    const char  *path,
                                    const char  *operation,
                                    guint64      index,
                                    guint        status);

/* The migrations of the audit tables (owner "security-audit"). */
extern const char * const audit_chain_migrations[];

/* Appends @entry; returns the new row's id and hash. */
gboolean    audit_chain_append     (BerthStore       *store,
                                    const AuditEntry *entry,
                                    gint64           *id,
                                    char            **hash,
                                    GError          **error);
/* Records the status of row @id (whose hash is @hash) when it has none
 * yet; *@found says whether the row was there. */
gboolean    audit_chain_set_status (BerthStore *store,
                                    gint64      id,
                                    const char *hash,
                                    guint       status,
                                    gboolean   *found,
                                    GError    **error);
/* Deletes the rows older than @cutoff (RFC 3339), leaving a checkpoint
 * signed with @key; *@removed is how many rows went. */
gboolean    audit_chain_expire     (BerthStore  *store,
                                    const char  *cutoff,
                                    GBytes      *key,
                                    guint       *removed,
                                    GError     **error);
/* Recomputes the chain: {"ok", "rows", "checkpoint", and when not ok,
 * "first_bad_index" (the row id) and "reason"}. */
JsonNode   *audit_chain_verify     (BerthStore  *store,
                                    GBytes      *key,
                                    GError     **error);
/* The rows with id > @after, oldest first, at most @limit. */
JsonNode   *audit_chain_list       (BerthStore  *store,
                                    gint64       after,
                                    guint        limit,
                                    GError     **error);

/* <state-dir>/audit.key: 32 random bytes, made (mode 0600) if missing. */
GBytes     *audit_key_load         (const char  *state_dir,
                                    GError     **error);

char       *audit_now              (void);

G_END_DECLS
