/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

#include "security-acl.h"
#include "security-rules.h"

/* ACL decisions, as Consul makes them: the caller's token (none: the
 * anonymous token) resolves to the merged rules of its policies, which
 * grant or refuse the route's resource; everything else is denied. A
 * process on this host talking over the unix socket as root or as
 * berthd's own user manages everything without a token.
 *
 * Tokens and policies live in the store (security-acl-store.c) and in
 * memory for fast decisions, rebuilt after each write. */

struct _SecurityAcl {
  GObject       parent_instance;
  BerthContext *context;
  GPtrArray    *tokens;         /* AclToken */
  GPtrArray    *policies;       /* AclPolicy, with compiled rules */
  GHashTable   *by_accessor;    /* → AclToken (borrowed) */
  GHashTable   *by_secret;      /* → AclToken (borrowed) */
  GHashTable   *policy_by_id;   /* → AclPolicy (borrowed) */
  GHashTable   *policy_by_name; /* → AclPolicy (borrowed) */
  GHashTable   *token_rules;    /* accessor → SecurityRules */
  gboolean      bootstrapped;
};

G_DEFINE_FINAL_TYPE (SecurityAcl, security_acl, G_TYPE_OBJECT)

static void
clear_cache (SecurityAcl *self)
{
  g_hash_table_remove_all (self->by_accessor);
  g_hash_table_remove_all (self->by_secret);
  g_hash_table_remove_all (self->policy_by_id);
  g_hash_table_remove_all (self->policy_by_name);
  g_hash_table_remove_all (self->token_rules);
  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  g_clear_pointer (&self->policies, g_ptr_array_unref);
}

static void
security_acl_finalize (GObject *object)
{
  SecurityAcl *self = SECURITY_ACL (object);

  clear_cache (self);
  g_hash_table_unref (self->by_accessor);
  g_hash_table_unref (self->by_secret);
  g_hash_table_unref (self->policy_by_id);
  g_hash_table_unref (self->policy_by_name);
  g_hash_table_unref (self->token_rules);
  g_clear_object (&self->context);
  G_OBJECT_CLASS (security_acl_parent_class)->finalize (object);
}

static void
security_acl_class_init (SecurityAclClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = security_acl_finalize;
}

static void
security_acl_init (SecurityAcl *self)
{
  self->by_accessor = g_hash_table_new (g_str_hash, g_str_equal);
  self->by_secret = g_hash_table_new (g_str_hash, g_str_equal);
  self->policy_by_id = g_hash_table_new (g_str_hash, g_str_equal);
  self->policy_by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->token_rules = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) security_rules_unref);
}

static SecurityRules *
token_rules (SecurityAcl *self, const AclToken *token)
{
  SecurityRules *rules = security_rules_new ();

  if (g_strcmp0 (token->legacy_type, "management") == 0)
    {
      security_rules_unref (rules);
      return security_rules_new_management ();
    }
  for (guint i = 0; token->policies != NULL && token->policies[i] != NULL; i++)
    {
      AclPolicy *policy = g_hash_table_lookup (self->policy_by_id, token->policies[i]);
      if (policy != NULL)
        security_rules_merge (rules, policy->compiled);
    }
  return rules;
}

/* Rebuilds the memory from the store. */
static gboolean
reload (SecurityAcl *self, GError **error)
{
  g_autoptr(GPtrArray) policies = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  gboolean bootstrapped = FALSE;

  if (!acl_store_load (berth_context_get_store (self->context), &policies, &tokens, &bootstrapped, error))
    return FALSE;
  clear_cache (self);
  self->policies = g_steal_pointer (&policies);
  self->tokens = g_steal_pointer (&tokens);
  self->bootstrapped = bootstrapped;

  for (guint i = 0; i < self->policies->len; i++)
    {
      AclPolicy *p = g_ptr_array_index (self->policies, i);
      g_autoptr(GError) local_error = NULL;

      if (g_str_equal (p->id, ACL_MANAGEMENT_POLICY_ID))
        p->compiled = security_rules_new_management ();
      else if ((p->compiled = security_rules_parse (p->rules, p->legacy, &local_error)) == NULL)
        {
          /* only valid rules are ever stored: this policy grants nothing */
          g_warning ("ACL policy %s: %s", p->name, local_error->message);
          p->compiled = security_rules_new ();
        }
      g_hash_table_insert (self->policy_by_id, p->id, p);
      g_hash_table_insert (self->policy_by_name, p->name, p);
    }
  for (guint i = 0; i < self->tokens->len; i++)
    {
      AclToken *t = g_ptr_array_index (self->tokens, i);

      g_hash_table_insert (self->by_accessor, t->accessor, t);
      g_hash_table_insert (self->by_secret, t->secret, t);
      g_hash_table_insert (self->token_rules, g_strdup (t->accessor), token_rules (self, t));
    }
  return TRUE;
}

static gboolean
check_initial_management (BerthContext *context, GError **error)
{
  g_autofree char *initial = berth_context_dup_config_string (context, "security",
                                                              "initial_management", NULL);

  if (initial == NULL || g_uuid_string_is_valid (initial))
    return TRUE;
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
               _("[security] initial_management must be a UUID, like the SecretIDs it stands for"));
  return FALSE;
}

SecurityAcl *
security_acl_new (BerthContext *context, GError **error)
{
  g_autoptr(SecurityAcl) self = g_object_new (SECURITY_TYPE_ACL, NULL);

  if (!check_initial_management (context, error))
    return NULL;
  self->context = g_object_ref (context);
  if (!acl_store_migrate (berth_context_get_store (context), error) || !reload (self, error))
    return NULL;
  security_acl_http_add_routes (self);
  security_acl_legacy_add_routes (self);
  return g_steal_pointer (&self);
}

/* Answers @req with an error of BERTH_ERROR @code. */
void
security_acl_respond_status (BerthRequest *req, BerthError code, const char *message)
{
  g_autoptr(GError) error = g_error_new_literal (BERTH_ERROR, code, message);
  berth_request_respond_error (req, error);
}

/* The operations that delete @token, or NULL (and @req answered) when it
 * may not be deleted: the anonymous token stays. */
GPtrArray *
security_acl_delete_token_ops (BerthRequest *req, const AclToken *token)
{
  GPtrArray *ops;

  if (g_str_equal (token->accessor, ACL_ANONYMOUS_ACCESSOR))
    {
      security_acl_respond_status (req, BERTH_ERROR_INVALID, _("Deletion of the anonymous token is not allowed"));
      return NULL;
    }
  ops = acl_ops_new ();
  acl_ops_add_delete (ops, ACL_OP_DELETE_TOKEN, token->accessor);
  return ops;
}

AclToken *
security_acl_new_bootstrap_token (void)
{
  AclToken *token = acl_token_new ();
  const char *policies[] = { ACL_MANAGEMENT_POLICY_ID, NULL };

  token->accessor = g_uuid_string_random ();
  token->secret = g_uuid_string_random ();
  token->description = g_strdup ("Bootstrap Token (Global Management)");
  token->policies = g_strdupv ((GStrv) policies);
  token->create_time = g_get_real_time ();
  return token;
}

/**
 * security_acl_save_bootstrap_token:
 * @self: the ACL module
 * @secret: the bootstrap token's SecretID
 * @path: (out) (optional): where it was saved
 * @error: return location for a #GError
 *
 * Saves @secret in `<state-dir>/bootstrap-token`, readable by berthd's
 * user only.
 */
gboolean
security_acl_save_bootstrap_token (SecurityAcl *self, const char *secret, char **path, GError **error)
{
  g_autofree char *file = g_build_filename (berth_context_get_state_dir (self->context),
                                            "bootstrap-token", NULL);

  if (!g_file_set_contents_full (file, secret, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return FALSE;
  /* an existing file keeps its mode through the rename: make sure */
  if (g_chmod (file, 0600) != 0)
    g_warning ("Cannot restrict %s to mode 0600: %s", file, g_strerror (errno));
  if (path != NULL)
    *path = g_steal_pointer (&file);
  return TRUE;
}

static gboolean
write_func (BerthTxn *txn, gpointer user_data, GError **error)
{
  return acl_store_apply (txn, user_data, error);
}

/* Bootstrap at the first start: under --dev (a fresh management token,
 * and the anonymous token may read services and nodes so that DNS answers
 * without a token), or with [security] initial_management (the operator's
 * own SecretID, the same in every datacenter so that forwarded requests
 * carry a token each one knows). */
static gboolean
start_bootstrap (SecurityAcl *self, const char *initial, gboolean dev, GError **error)
{
  g_autoptr(GPtrArray) ops = acl_ops_new ();
  AclToken *bootstrap = security_acl_new_bootstrap_token ();
  g_autofree char *secret = NULL;
  g_autofree char *path = NULL;
  const AclToken *anonymous = g_hash_table_lookup (self->by_accessor, ACL_ANONYMOUS_ACCESSOR);
  AclPolicy *policy = acl_policy_new ();
  AclToken *anon = NULL;
  GStrvBuilder *b;

  if (initial != NULL)
    {
      g_free (bootstrap->secret);
      bootstrap->secret = g_strdup (initial);
      g_free (bootstrap->description);
      bootstrap->description = g_strdup ("Initial Management Token ([security] initial_management)");
    }
  secret = g_strdup (bootstrap->secret);
  acl_ops_add_token (ops, ACL_OP_BOOTSTRAP, bootstrap);
  policy->id = g_uuid_string_random ();
  policy->name = g_strdup ("anonymous-dev-read");
  policy->description = g_strdup ("Developer mode: anyone may read services and nodes");
  policy->rules = g_strdup ("service_prefix \"\" {\n  policy = \"read\"\n}\n"
                            "node_prefix \"\" {\n  policy = \"read\"\n}\n");
  if (dev && anonymous != NULL && g_hash_table_lookup (self->policy_by_name, policy->name) == NULL)
    {
      anon = acl_token_copy (anonymous);
      b = g_strv_builder_new ();
      g_strv_builder_addv (b, (const char **) anon->policies);
      g_strv_builder_add (b, policy->id);
      g_strfreev (anon->policies);
      anon->policies = g_strv_builder_end (b);
      g_strv_builder_unref (b);
      acl_ops_add_policy (ops, ACL_OP_PUT_POLICY, policy);
      acl_ops_add_token (ops, ACL_OP_PUT_TOKEN, anon);
    }
  else
    acl_policy_free (policy);

  if (berth_store_write_sync (berth_context_get_store (self->context), write_func, ops, error) == 0)
    return FALSE;
  if (!reload (self, error) || !security_acl_save_bootstrap_token (self, secret, &path, error))
    return FALSE;
  /* the secret itself: berthd's banner shows it under --dev, the file
   * keeps it; never the logs */
  g_message ("ACLs bootstrapped%s; the management token is saved in %s",
             initial != NULL ? " with [security] initial_management" : "", path);
  return TRUE;
}

gboolean
security_acl_ready (SecurityAcl *self, GError **error)
{
  g_autofree char *initial = NULL;
  gboolean dev;

  g_return_val_if_fail (SECURITY_IS_ACL (self), FALSE);

  if (self->bootstrapped)
    return TRUE;
  dev = berth_context_get_config_boolean (self->context, "berthd", "dev", FALSE);
  initial = berth_context_dup_config_string (self->context, "security", "initial_management", NULL);
  if (dev || initial != NULL)
    return start_bootstrap (self, initial, dev, error);
  return TRUE;
}

typedef struct {
  SecurityAcl          *self;
  GPtrArray            *ops;
  BerthRequest         *request;
  SecurityAclWriteDone  done;
  gpointer              user_data;
  GDestroyNotify        destroy;
} AclWrite;

static void
acl_write_free (AclWrite *w)
{
  if (w->destroy != NULL)
    w->destroy (w->user_data);
  g_ptr_array_unref (w->ops);
  g_object_unref (w->request);
  g_object_unref (w->self);
  g_free (w);
}

static void
write_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AclWrite *w = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) reload_error = NULL;
  guint64 index;

  index = berth_store_write_finish (BERTH_STORE (source), result, &error);
  if (!reload (w->self, &reload_error))
    g_warning ("Cannot reload the ACL tables: %s", reload_error->message);
  if (index > 0)
    berth_request_set_index (w->request, index);
  w->done (w->self, w->request, error, w->user_data);
  acl_write_free (w);
}

/**
 * security_acl_write:
 * @self: the ACL module
 * @ops: (transfer full): the writes, made in one transaction
 * @request: the request they serve
 * @done: called when they are made (or not), after the memory is rebuilt
 * @user_data: for @done
 * @destroy: (nullable): frees @user_data
 */
void
security_acl_write (SecurityAcl *self, GPtrArray *ops, BerthRequest *request, SecurityAclWriteDone done,
                    gpointer user_data, GDestroyNotify destroy)
{
  AclWrite *w = g_new0 (AclWrite, 1);

  w->self = g_object_ref (self);
  w->ops = ops;
  w->request = g_object_ref (request);
  w->done = done;
  w->user_data = user_data;
  w->destroy = destroy;
  berth_store_write_async (berth_context_get_store (self->context), write_func, w->ops, NULL,
                           NULL, write_done_cb, w);
}

BerthContext *
security_acl_get_context (SecurityAcl *self)
{
  return self->context;
}

gboolean
security_acl_is_bootstrapped (SecurityAcl *self)
{
  return self->bootstrapped;
}

GPtrArray *
security_acl_get_tokens (SecurityAcl *self)
{
  return self->tokens;
}

GPtrArray *
security_acl_get_policies (SecurityAcl *self)
{
  return self->policies;
}

const AclToken *
security_acl_find_token (SecurityAcl *self, const char *accessor)
{
  return accessor != NULL ? g_hash_table_lookup (self->by_accessor, accessor) : NULL;
}

const AclToken *
security_acl_find_token_by_secret (SecurityAcl *self, const char *secret)
{
  return secret != NULL ? g_hash_table_lookup (self->by_secret, secret) : NULL;
}

const AclPolicy *
security_acl_find_policy (SecurityAcl *self, const char *id)
{
  return id != NULL ? g_hash_table_lookup (self->policy_by_id, id) : NULL;
}

const AclPolicy *
security_acl_find_policy_by_name (SecurityAcl *self, const char *name)
{
  return name != NULL ? g_hash_table_lookup (self->policy_by_name, name) : NULL;
}

static gboolean
is_local_admin (BerthCaller *caller)
{
  guint32 uid;

  if (berth_caller_get_kind (caller) != BERTH_CALLER_UNIX || !berth_caller_has_credentials (caller))
    return FALSE;
  uid = berth_caller_get_uid (caller);
  return uid == 0 || uid == (guint32) getuid ();
}

static gboolean
deny (GError **error, const char *message)
{
  g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_DENIED, message);
  return FALSE;
}

gboolean
security_acl_check (SecurityAcl *self, BerthCaller *caller, const char *resource,
                    const char *name, BerthAccess access, GError **error)
{
  const char *secret;
  const AclToken *token;
  SecurityRules *rules;

  g_return_val_if_fail (SECURITY_IS_ACL (self), FALSE);
  g_return_val_if_fail (BERTH_IS_CALLER (caller), FALSE);
  g_return_val_if_fail (resource != NULL, FALSE);

  if (g_str_equal (resource, BERTH_RESOURCE_PUBLIC) || access == BERTH_ACCESS_NONE)
    return TRUE;
  if (g_str_equal (resource, "acl-bootstrap"))
    {
      /* anyone may bootstrap, once */
      if (self->bootstrapped)
        return deny (error, _("Permission denied: ACL bootstrap no longer allowed"));
      return TRUE;
    }
  if (is_local_admin (caller))
    {
      berth_caller_set_accessor (caller, SECURITY_ACL_UNIX_ADMIN);
      return TRUE;
    }

  secret = berth_caller_get_token (caller);
  if (secret == NULL || *secret == '\0')
    secret = ACL_ANONYMOUS_SECRET;
  token = g_hash_table_lookup (self->by_secret, secret);
  if (token == NULL)
    return deny (error, _("ACL not found"));
  berth_caller_set_accessor (caller, token->accessor);
  /* reading one's own token needs a token of one's own */
  if (g_str_equal (resource, "acl-self"))
    return g_str_equal (token->accessor, ACL_ANONYMOUS_ACCESSOR) ? deny (error, _("Permission denied")) : TRUE;

  rules = g_hash_table_lookup (self->token_rules, token->accessor);
  /* plugin control is an operator's business */
  if (g_str_equal (resource, "plugin"))
    resource = "operator";
  if (rules != NULL && security_rules_allows (rules, resource, name, access))
    return TRUE;
  return deny (error, _("Permission denied"));
}
