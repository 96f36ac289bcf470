/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>
#include <berth-store-raw.h>

#include "security-audit.h"
#include "security-audit-chain.h"
#include "security-audit-http.h"

/* The audit trail: one row per state-changing call and per refused call.
 *
 * A call whose handler queued a write while it ran (the HTTP door makes
 * the call the store's current tag then) is recorded by a commit hook in
 * the transaction that commits its change, with that write's index: a
 * change is never durable without its row. Its reply's status is sealed
 * into the row once the reply went out. Every other audited call — a write
 * that changed nothing, failed, or wrote later from a callback, and every
 * refusal (401, 403, 429) — is recorded when its reply went out, from the
 * `api.write`, `api.failed` and `api.refused` events the door publishes.
 * The caller object (one per request) remembers the row of its call, so
 * that no call gets two. Reads are not audited. */

#define DEFAULT_RETENTION_DAYS 90.0

typedef struct {
  gint64  id;
  char   *hash;
} RowMark;

struct _SecurityAudit {
  GObject       parent_instance;
  BerthContext *context;
  BerthStore   *store;
  GBytes       *key;
  guint         hook_id;
  gulong        event_id;
  guint         retention_id;
  double        retention_days;
  GHashTable   *throttled;   /* client address → Throttled */
};

/* A flood of refused requests (no token, a bad one, over the rate limit)
 * must not become a flood of writes: per client address, the first
 * REFUSAL_ROWS_PER_SECOND refusals of each second are rows, and those
 * after them within the second are counted into that client's next
 * refusal row. */
typedef struct {
  gint64 window_start;
  guint  rows;      /* in this window */
  guint  folded;
} Throttled;

#define REFUSAL_ROWS_PER_SECOND 10

#define MAX_THROTTLED_CLIENTS 16384

G_DEFINE_FINAL_TYPE (SecurityAudit, security_audit, G_TYPE_OBJECT)

static GQuark
row_mark_quark (void)
{
  return g_quark_from_static_string ("security-audit-row");
}

static void
row_mark_free (gpointer data)
{
  RowMark *mark = data;
  g_free (mark->hash);
  g_free (mark);
}

/* The commit hook: one row per tagged call, in the change's transaction. */
static gboolean
commit_hook (BerthStore *store, const BerthStoreCommit *commits, guint n_commits, gpointer user_data,
             GError **error)
{
  for (guint i = 0; i < n_commits; i++)
    {
      BerthCall *call;
      BerthCaller *caller;
      AuditEntry entry = { 0 };
      RowMark *mark;
      gboolean ok;

      if (!BERTH_IS_CALL (commits[i].tag))
        continue;
      call = BERTH_CALL (commits[i].tag);
      caller = berth_call_get_caller (call);
      if (g_object_get_qdata (G_OBJECT (caller), row_mark_quark ()) != NULL)
        continue;  /* recorded with its first write */
      audit_entry_from_call (&entry, caller, berth_call_get_method (call), berth_call_get_target (call),
                             berth_call_get_operation (call), commits[i].index, 0);
      mark = g_new0 (RowMark, 1);
      ok = audit_chain_append (store, &entry, &mark->id, &mark->hash, error);
      audit_entry_clear (&entry);
      if (!ok)
        {
          row_mark_free (mark);
          g_prefix_error (error, _("Cannot record the call in the audit trail: "));
          return FALSE;
        }
      g_debug ("audit: row %" G_GINT64_FORMAT " for %s in the transaction of index %" G_GUINT64_FORMAT,
               mark->id, berth_call_get_operation (call), commits[i].index);
      g_object_set_qdata_full (G_OBJECT (caller), row_mark_quark (), mark, row_mark_free);
    }
  return TRUE;
}

typedef struct {
  AuditEntry entry;
  gint64     id;     /* the row the commit hook made, or 0 */
  char      *hash;
} ReplyWrite;

static void
reply_write_free (gpointer data)
{
  ReplyWrite *w = data;
  audit_entry_clear (&w->entry);
  g_free (w->hash);
  g_free (w);
}

static gboolean
reply_write (BerthTxn *txn, gpointer user_data, GError **error)
{
  ReplyWrite *w = user_data;
  BerthStore *store = berth_txn_get_store (txn);
  gboolean found = FALSE;

  if (w->id != 0 && !audit_chain_set_status (store, w->id, w->hash, w->entry.status, &found, error))
    return FALSE;
  if (found)
    return TRUE;
  g_debug ("audit: row for %s (%u) at its reply", w->entry.operation != NULL ? w->entry.operation : "-",
           w->entry.status);
  /* no row yet (or the transaction that made it failed): a whole one */
  return audit_chain_append (store, &w->entry, NULL, NULL, error);
}

static void
reply_written_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 && error != NULL)
    g_warning ("audit: cannot record a call: %s", error->message);
}

static const char *
member_string (JsonObject *data, const char *name)
{
  return data != NULL && json_object_has_member (data, name) ? json_object_get_string_member (data, name)
                                                             : NULL;
}

static char *
client_key (BerthCaller *caller)
{
  const char *address = berth_caller_get_address (caller);
  const char *colon;

  if (address == NULL)
    return NULL;
  /* "ip:port" or "[ipv6]:port": the client is the address */
  colon = strrchr (address, ':');
  return colon != NULL ? g_strndup (address, (gsize) (colon - address)) : g_strdup (address);
}

/* Whether this refusal gets a row; *folded: how many of the client's
 * refusals before it got none. */
static gboolean
record_refusal (SecurityAudit *self, BerthCaller *caller, guint *folded)
{
  g_autofree char *key = client_key (caller);
  gint64 now = g_get_monotonic_time ();
  Throttled *t;

  *folded = 0;
  if (key == NULL)
    return TRUE;
  t = g_hash_table_lookup (self->throttled, key);
  if (t == NULL)
    {
      if (g_hash_table_size (self->throttled) >= MAX_THROTTLED_CLIENTS)
        g_hash_table_remove_all (self->throttled);
      t = g_new0 (Throttled, 1);
      t->window_start = now;
      g_hash_table_insert (self->throttled, g_steal_pointer (&key), t);
    }
  if (now - t->window_start >= G_USEC_PER_SEC)
    {
      t->window_start = now;
      t->rows = 0;
    }
  if (t->rows >= REFUSAL_ROWS_PER_SECOND)
    {
      t->folded++;
      return FALSE;
    }
  t->rows++;
  *folded = t->folded;
  t->folded = 0;
  return TRUE;
}

/* A call's reply went out: seal its status into its row, or record it. */
static void
event_cb (BerthEventBus *bus, BerthEvent *event, gpointer user_data)
{
  SecurityAudit *self = user_data;
  const char *topic = berth_event_get_topic (event);
  BerthCaller *caller = berth_event_get_caller (event);
  JsonObject *data = berth_event_get_data (event);
  guint status = data != NULL && json_object_has_member (data, "status")
                   ? (guint) json_object_get_int_member (data, "status") : 0;
  g_autofree char *operation = NULL;
  guint folded = 0;
  RowMark *mark;
  ReplyWrite *w;

  if (caller == NULL ||
      (g_strcmp0 (topic, "api.write") != 0 && g_strcmp0 (topic, "api.failed") != 0 &&
       g_strcmp0 (topic, "api.refused") != 0))
    return;
  if (g_strcmp0 (topic, "api.refused") == 0 && !record_refusal (self, caller, &folded))
    return;
  operation = folded > 0 ? g_strdup_printf ("%s (+%u more refused from this client, not recorded)",
                                            member_string (data, "operation") != NULL
                                              ? member_string (data, "operation") : "-", folded)
                         : g_strdup (member_string (data, "operation"));
  w = g_new0 (ReplyWrite, 1);
  audit_entry_from_call (&w->entry, caller, member_string (data, "method"), member_string (data, "path"),
                         operation, berth_store_get_index (self->store), status);
  mark = g_object_get_qdata (G_OBJECT (caller), row_mark_quark ());
  if (mark != NULL)
    {
      w->id = mark->id;
      w->hash = g_strdup (mark->hash);
    }
  else
    {
      /* from now on this call has a row, whatever comes */
      RowMark *pending = g_new0 (RowMark, 1);
      pending->hash = g_strdup ("");
      g_object_set_qdata_full (G_OBJECT (caller), row_mark_quark (), pending, row_mark_free);
    }
  berth_store_write_async (self->store, reply_write, w, reply_write_free, NULL, reply_written_cb, NULL);
}

typedef struct {
  char   *cutoff;
  GBytes *key;
  guint   removed;
} ExpireWrite;

static gboolean
expire_write (BerthTxn *txn, gpointer user_data, GError **error)
{
  ExpireWrite *w = user_data;
  return audit_chain_expire (berth_txn_get_store (txn), w->cutoff, w->key, &w->removed, error);
}

/* Retention: rows older than [security] audit_retention_days go, and a
 * signed checkpoint keeps what is left verifiable. */
static void
expire_old_rows (SecurityAudit *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) cutoff = g_date_time_add_seconds (now, -self->retention_days * 86400.0);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_date_time_format (cutoff, "%Y-%m-%dT%H:%M:%S.%fZ");
  ExpireWrite w = { text, self->key, 0 };

  if (berth_store_write_sync (self->store, expire_write, &w, &error) == 0 && error != NULL)
    {
      g_warning ("audit: retention: %s", error->message);
      return;
    }
  if (w.removed > 0)
    g_message ("audit: %u rows older than %g days removed; a signed checkpoint keeps the chain verifiable",
               w.removed, self->retention_days);
}

static gboolean
retention_cb (gpointer user_data)
{
  expire_old_rows (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
read_retention (SecurityAudit *self, GError **error)
{
  g_autofree char *text = berth_context_dup_config_string (self->context, "security",
                                                           "audit_retention_days", NULL);
  char *end = NULL;
  double days;

  self->retention_days = DEFAULT_RETENTION_DAYS;
  if (text == NULL)
    return TRUE;
  days = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (days) || days < 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                   _("[security] audit_retention_days must be a number of days (0: keep every row), "
                     "not “%s”"), text);
      return FALSE;
    }
  self->retention_days = days;
  return TRUE;
}

/* (Re)starts the retention timer from [security] audit_retention_days. */
static void
schedule_retention (SecurityAudit *self)
{
  g_clear_handle_id (&self->retention_id, g_source_remove);
  if (self->retention_days > 0)
    {
      double half = self->retention_days * 86400.0 / 2;
      expire_old_rows (self);
      self->retention_id = g_timeout_add_seconds ((guint) CLAMP (half, 1, 3600), retention_cb, self);
    }
}

/**
 * security_audit_reload:
 * @self: a #SecurityAudit
 *
 * Rereads [security] audit_retention_days (SIGHUP); a bad value keeps the
 * current one.
 */
void
security_audit_reload (SecurityAudit *self)
{
  double before;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (SECURITY_IS_AUDIT (self));
  before = self->retention_days;
  if (!read_retention (self, &error))
    {
      g_warning ("audit: %s; keeping %g days", error->message, before);
      self->retention_days = before;
      return;
    }
  schedule_retention (self);
}

static void
security_audit_finalize (GObject *object)
{
  SecurityAudit *self = SECURITY_AUDIT (object);

  g_clear_handle_id (&self->retention_id, g_source_remove);
  g_clear_pointer (&self->throttled, g_hash_table_unref);
  if (self->event_id != 0)
    g_signal_handler_disconnect (berth_context_get_event_bus (self->context), self->event_id);
  if (self->hook_id != 0)
    berth_store_remove_commit_hook (self->store, self->hook_id);
  g_clear_object (&self->store);
  g_clear_pointer (&self->key, g_bytes_unref);
  g_clear_object (&self->context);
  G_OBJECT_CLASS (security_audit_parent_class)->finalize (object);
}

static void
security_audit_class_init (SecurityAuditClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = security_audit_finalize;
}

static void
security_audit_init (SecurityAudit *self)
{
  self->throttled = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

SecurityAudit *
security_audit_new (BerthContext *context, GError **error)
{
  g_autoptr(SecurityAudit) self = g_object_new (SECURITY_TYPE_AUDIT, NULL);
  BerthStore *store = berth_context_get_store (context);
  const char *state_dir = berth_context_get_state_dir (context);

  self->context = g_object_ref (context);
  if (store == NULL || state_dir == NULL)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE,
                           _("The audit trail needs the store and the state directory"));
      return NULL;
    }
  self->store = g_object_ref (store);
  if (!read_retention (self, error))
    return NULL;
  if (!berth_store_migrate (store, "security-audit", audit_chain_migrations, error))
    return NULL;
  self->key = audit_key_load (state_dir, error);
  if (self->key == NULL)
    return NULL;
  self->hook_id = berth_store_add_commit_hook (store, commit_hook, self, NULL);
  self->event_id = g_signal_connect (berth_context_get_event_bus (context), "event",
                                     G_CALLBACK (event_cb), self);
  security_audit_http_add_routes (context, self);
  schedule_retention (self);
  return g_steal_pointer (&self);
}

void
security_audit_refused (SecurityAudit *self, BerthCaller *caller, const char *resource,
                        const char *name, BerthAccess access, const GError *refusal)
{
  g_return_if_fail (SECURITY_IS_AUDIT (self));
  /* recorded when the refusal's reply went out (the door's `api.refused`
   * event), with the method, path and status the authority does not see */
  g_debug ("audit: refused %s %s: %s", resource, name != NULL ? name : "-",
           refusal != NULL ? refusal->message : "");
}

BerthStore *
security_audit_get_store (SecurityAudit *self)
{
  g_return_val_if_fail (SECURITY_IS_AUDIT (self), NULL);
  return self->store;
}

GBytes *
security_audit_get_key (SecurityAudit *self)
{
  g_return_val_if_fail (SECURITY_IS_AUDIT (self), NULL);
  return self->key;
}
