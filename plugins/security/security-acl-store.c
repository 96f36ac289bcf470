/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "security-acl-store.h"
#include <berth-store-raw.h>

/* The ACL tables, as migrations of the owner "security-acl" (a released
 * step is never edited: append a new one), and the writes on them. The
 * built-in global-management policy and anonymous token come with the
 * tables. */

static const char * const acl_migrations[] = {
  "CREATE TABLE acl_policies ("
  "  id TEXT PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  description TEXT NOT NULL DEFAULT '',"
  "  rules TEXT NOT NULL DEFAULT '',"
  "  datacenters TEXT NOT NULL DEFAULT '[]',"
  "  legacy INTEGER NOT NULL DEFAULT 0,"
  "  create_index INTEGER NOT NULL,"
  "  modify_index INTEGER NOT NULL) WITHOUT ROWID;"
  "CREATE TABLE acl_tokens ("
  "  accessor_id TEXT PRIMARY KEY,"
  "  secret_id TEXT NOT NULL UNIQUE,"
  "  description TEXT NOT NULL DEFAULT '',"
  "  policies TEXT NOT NULL DEFAULT '[]',"
  "  local INTEGER NOT NULL DEFAULT 0,"
  "  legacy_type TEXT,"
  "  create_index INTEGER NOT NULL,"
  "  modify_index INTEGER NOT NULL,"
  "  create_time INTEGER NOT NULL) WITHOUT ROWID;"
  "CREATE TABLE acl_state ("
  "  name TEXT PRIMARY KEY,"
  "  value INTEGER NOT NULL) WITHOUT ROWID;"
  "INSERT INTO acl_policies (id, name, description, rules, create_index, modify_index) VALUES ("
  "  '" ACL_MANAGEMENT_POLICY_ID "', 'global-management', 'Builtin Policy that grants unlimited access',"
  "  'acl = \"write\"\noperator = \"write\"\naudit = \"read\"\nkey_prefix \"\" { policy = \"write\" }\n"
  "node_prefix \"\" { policy = \"write\" }\nservice_prefix \"\" { policy = \"write\" }\n"
  "agent_prefix \"\" { policy = \"write\" }\nsession_prefix \"\" { policy = \"write\" }\n"
  "app_prefix \"\" { policy = \"write\" }\ncontainer_prefix \"\" { policy = \"write\" }\n"
  "image = \"write\"\nlog_prefix \"\" { policy = \"write\" }\n', 0, 0);"
  "INSERT INTO acl_tokens (accessor_id, secret_id, description, create_index, modify_index, create_time)"
  "  VALUES ('" ACL_ANONYMOUS_ACCESSOR "', '" ACL_ANONYMOUS_SECRET "', 'Anonymous Token', 0, 0,"
  "          CAST(strftime('%s', 'now') AS INTEGER) * 1000000);",
  NULL
};

AclPolicy *
acl_policy_new (void)
{
  return g_new0 (AclPolicy, 1);
}

void
acl_policy_free (AclPolicy *policy)
{
  if (policy == NULL)
    return;
  g_free (policy->id);
  g_free (policy->name);
  g_free (policy->description);
  g_free (policy->rules);
  g_strfreev (policy->datacenters);
  g_clear_pointer (&policy->compiled, security_rules_unref);
  g_free (policy);
}

AclToken *
acl_token_new (void)
{
  return g_new0 (AclToken, 1);
}

AclToken *
acl_token_copy (const AclToken *token)
{
  AclToken *copy = g_new0 (AclToken, 1);

  copy->accessor = g_strdup (token->accessor);
  copy->secret = g_strdup (token->secret);
  copy->description = g_strdup (token->description);
  copy->policies = g_strdupv (token->policies);
  copy->local = token->local;
  copy->legacy_type = g_strdup (token->legacy_type);
  copy->create_index = token->create_index;
  copy->modify_index = token->modify_index;
  copy->create_time = token->create_time;
  return copy;
}

void
acl_token_free (AclToken *token)
{
  if (token == NULL)
    return;
  g_free (token->accessor);
  g_free (token->secret);
  g_free (token->description);
  g_strfreev (token->policies);
  g_free (token->legacy_type);
  g_free (token);
}

static void
acl_op_free (AclOp *op)
{
  acl_token_free (op->token);
  acl_policy_free (op->policy);
  g_free (op->id);
  g_free (op);
}

GPtrArray *
acl_ops_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) acl_op_free);
}

/* The op takes @token. */
void
acl_ops_add_token (GPtrArray *ops, AclOpKind kind, AclToken *token)
{
  AclOp *op = g_new0 (AclOp, 1);
  op->kind = kind;
  op->token = token;
  g_ptr_array_add (ops, op);
}

/* The op takes @policy. */
void
acl_ops_add_policy (GPtrArray *ops, AclOpKind kind, AclPolicy *policy)
{
  AclOp *op = g_new0 (AclOp, 1);
  op->kind = kind;
  op->policy = policy;
  g_ptr_array_add (ops, op);
}

void
acl_ops_add_delete (GPtrArray *ops, AclOpKind kind, const char *id)
{
  AclOp *op = g_new0 (AclOp, 1);
  op->kind = kind;
  op->id = g_strdup (id);
  g_ptr_array_add (ops, op);
}

gboolean
acl_store_migrate (BerthStore *store, GError **error)
{
  return berth_store_migrate (store, "security-acl", acl_migrations, error);
}

static char *
strv_to_json (GStrv strv)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (b);
  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    json_builder_add_string_value (b, strv[i]);
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static GStrv
strv_from_json (const char *text)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_autoptr(JsonNode) root = text != NULL ? berth_json_parse (text, -1, NULL) : NULL;

  if (root != NULL && JSON_NODE_HOLDS_ARRAY (root))
    {
      JsonArray *a = json_node_get_array (root);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          const char *s = json_array_get_string_element (a, i);
          if (s != NULL)
            g_strv_builder_add (b, s);
        }
    }
  return g_strv_builder_end (b);
}

static const char *
column_text (sqlite3_stmt *stmt, int col)
{
  const char *text = (const char *) sqlite3_column_text (stmt, col);
  return text != NULL ? text : "";
}

static gpointer
policy_from_row (sqlite3_stmt *stmt)
{
  AclPolicy *p = acl_policy_new ();

  p->id = g_strdup (column_text (stmt, 0));
  p->name = g_strdup (column_text (stmt, 1));
  p->description = g_strdup (column_text (stmt, 2));
  p->rules = g_strdup (column_text (stmt, 3));
  p->datacenters = strv_from_json (column_text (stmt, 4));
  p->legacy = sqlite3_column_int (stmt, 5) != 0;
  p->create_index = (guint64) sqlite3_column_int64 (stmt, 6);
  p->modify_index = (guint64) sqlite3_column_int64 (stmt, 7);
  return p;
}

static gpointer
token_from_row (sqlite3_stmt *stmt)
{
  AclToken *t = acl_token_new ();

  t->accessor = g_strdup (column_text (stmt, 0));
  t->secret = g_strdup (column_text (stmt, 1));
  t->description = g_strdup (column_text (stmt, 2));
  t->policies = strv_from_json (column_text (stmt, 3));
  t->local = sqlite3_column_int (stmt, 4) != 0;
  if (sqlite3_column_type (stmt, 5) != SQLITE_NULL)
    t->legacy_type = g_strdup (column_text (stmt, 5));
  t->create_index = (guint64) sqlite3_column_int64 (stmt, 6);
  t->modify_index = (guint64) sqlite3_column_int64 (stmt, 7);
  t->create_time = sqlite3_column_int64 (stmt, 8);
  return t;
}

static gboolean
is_bootstrapped (BerthStore *store, gboolean *done, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store,
      "SELECT value FROM acl_state WHERE name = 'bootstrapped'", error);

  if (stmt == NULL)
    return FALSE;
  return berth_store_step (store, stmt, done, error);
}

gboolean
acl_store_load (BerthStore *store, GPtrArray **policies, GPtrArray **tokens, gboolean *bootstrapped,
                GError **error)
{
  sqlite3_stmt *stmt;

  stmt = berth_store_prepare (store,
      "SELECT id, name, description, rules, datacenters, legacy, create_index, modify_index"
      " FROM acl_policies ORDER BY create_index, name", error);
  if (stmt == NULL)
    return FALSE;
  *policies = berth_store_collect (store, stmt, policy_from_row, (GDestroyNotify) acl_policy_free, error);
  if (*policies == NULL)
    return FALSE;
  stmt = berth_store_prepare (store,
      "SELECT accessor_id, secret_id, description, policies, local, legacy_type, create_index,"
      " modify_index, create_time FROM acl_tokens ORDER BY create_index, accessor_id", error);
  if (stmt == NULL)
    return FALSE;
  *tokens = berth_store_collect (store, stmt, token_from_row, (GDestroyNotify) acl_token_free, error);
  if (*tokens == NULL)
    {
      g_clear_pointer (policies, g_ptr_array_unref);
      return FALSE;
    }
  if (!is_bootstrapped (store, bootstrapped, error))
    {
      g_clear_pointer (policies, g_ptr_array_unref);
      g_clear_pointer (tokens, g_ptr_array_unref);
      return FALSE;
    }
  return TRUE;
}

/* Whether @sql (one bound text parameter, then an excluded id) finds a row. */
static gboolean
exists (BerthStore *store, const char *sql, const char *value, const char *except, gboolean *found,
        GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, value, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, except != NULL ? except : "", -1, SQLITE_TRANSIENT);
  return berth_store_step (store, stmt, found, error);
}

static gboolean
put_token (BerthTxn *txn, AclToken *t, gboolean create, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *policies = strv_to_json (t->policies);
  guint64 index = berth_txn_get_index (txn);
  gboolean found = FALSE;

  if (!exists (store, "SELECT 1 FROM acl_tokens WHERE secret_id = ? AND accessor_id != ?",
               t->secret, t->accessor, &found, error))
    return FALSE;
  if (found)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_CONFLICT,
                           _("A token with this SecretID already exists"));
      return FALSE;
    }
  if (!exists (store, "SELECT 1 FROM acl_tokens WHERE accessor_id = ? AND accessor_id != ?",
               t->accessor, "", &found, error))
    return FALSE;
  if (create && found)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_CONFLICT,
                           _("A token with this AccessorID already exists"));
      return FALSE;
    }
  if (!create && !found)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("ACL not found"));
      return FALSE;
    }
  if (create)
    t->create_index = index;
  t->modify_index = index;
  stmt = berth_store_prepare (store,
      "INSERT INTO acl_tokens (accessor_id, secret_id, description, policies, local, legacy_type,"
      " create_index, modify_index, create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
      " ON CONFLICT (accessor_id) DO UPDATE SET secret_id = excluded.secret_id,"
      " description = excluded.description, policies = excluded.policies, local = excluded.local,"
      " legacy_type = excluded.legacy_type, modify_index = excluded.modify_index", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, t->accessor, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, t->secret, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, t->description != NULL ? t->description : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, policies, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 5, t->local ? 1 : 0);
  if (t->legacy_type != NULL)
    sqlite3_bind_text (stmt, 6, t->legacy_type, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, 6);
  sqlite3_bind_int64 (stmt, 7, (sqlite3_int64) t->create_index);
  sqlite3_bind_int64 (stmt, 8, (sqlite3_int64) t->modify_index);
  sqlite3_bind_int64 (stmt, 9, t->create_time != 0 ? t->create_time : g_get_real_time ());
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  berth_txn_changed (txn, "acl", t->accessor);
  return TRUE;
}

static gboolean
put_policy (BerthTxn *txn, AclPolicy *p, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *dcs = strv_to_json (p->datacenters);
  guint64 index = berth_txn_get_index (txn);
  gboolean found = FALSE;

  if (!exists (store, "SELECT 1 FROM acl_policies WHERE name = ? AND id != ?", p->name, p->id,
               &found, error))
    return FALSE;
  if (found)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT,
                   _("A policy with name “%s” already exists"), p->name);
      return FALSE;
    }
  if (p->create_index == 0)
    p->create_index = index;
  p->modify_index = index;
  stmt = berth_store_prepare (store,
      "INSERT INTO acl_policies (id, name, description, rules, datacenters, legacy, create_index,"
      " modify_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
      " ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,"
      " rules = excluded.rules, datacenters = excluded.datacenters, modify_index = excluded.modify_index",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, p->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, p->name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, p->description != NULL ? p->description : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, p->rules != NULL ? p->rules : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, dcs, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 6, p->legacy ? 1 : 0);
  sqlite3_bind_int64 (stmt, 7, (sqlite3_int64) p->create_index);
  sqlite3_bind_int64 (stmt, 8, (sqlite3_int64) p->modify_index);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  berth_txn_changed (txn, "acl", p->id);
  return TRUE;
}

static gboolean
delete_row (BerthTxn *txn, const char *sql, const char *id, const char *what, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (!berth_store_step (store, stmt, NULL, error))
    return FALSE;
  if (sqlite3_changes (berth_store_get_db (store)) == 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("%s not found"), what);
      return FALSE;
    }
  berth_txn_changed (txn, "acl", id);
  return TRUE;
}

static gboolean
bootstrap (BerthTxn *txn, AclToken *token, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean done = FALSE;

  if (!is_bootstrapped (store, &done, error))
    return FALSE;
  if (done)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_DENIED,
                           _("Permission denied: ACL bootstrap no longer allowed"));
      return FALSE;
    }
  if (!put_token (txn, token, TRUE, error))
    return FALSE;
  stmt = berth_store_prepare (store, "INSERT INTO acl_state (name, value) VALUES ('bootstrapped', ?)",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) berth_txn_get_index (txn));
  return berth_store_step (store, stmt, NULL, error);
}

/**
 * acl_store_apply:
 * @txn: the store transaction
 * @ops: (element-type AclOp): the writes, all or nothing
 * @error: %BERTH_ERROR_CONFLICT for a duplicate name or secret,
 *   %BERTH_ERROR_NOT_FOUND for a delete of nothing, %BERTH_ERROR_DENIED
 *   for a second bootstrap
 *
 * Returns: %TRUE when every write was made
 */
gboolean
acl_store_apply (BerthTxn *txn, GPtrArray *ops, GError **error)
{
  for (guint i = 0; i < ops->len; i++)
    {
      AclOp *op = g_ptr_array_index (ops, i);
      gboolean ok = FALSE;

      switch (op->kind)
        {
        case ACL_OP_CREATE_TOKEN:
        case ACL_OP_PUT_TOKEN:
          ok = put_token (txn, op->token, op->kind == ACL_OP_CREATE_TOKEN, error);
          break;
        case ACL_OP_DELETE_TOKEN:
          ok = delete_row (txn, "DELETE FROM acl_tokens WHERE accessor_id = ?", op->id, _("Token"), error);
          break;
        case ACL_OP_PUT_POLICY:
          ok = put_policy (txn, op->policy, error);
          break;
        case ACL_OP_DELETE_POLICY:
          ok = delete_row (txn, "DELETE FROM acl_policies WHERE id = ?", op->id, _("Policy"), error);
          break;
        case ACL_OP_BOOTSTRAP:
          ok = bootstrap (txn, op->token, error);
          break;
        default:
          g_assert_not_reached ();
        }
      if (!ok)
        return FALSE;
    }
  return TRUE;
}
