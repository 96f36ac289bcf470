/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "security-acl.h"
#include "security-acl-json.h"
#include "security-rules.h"

/* Consul's ACL endpoints: /v1/acl/bootstrap, tokens and policies, in
 * Consul's JSON shapes. The route table declares resource "acl" (admin
 * zone); reading one's own token needs only a valid token ("acl-self"),
 * and the bootstrap is open to anyone until it has happened once. */

static void
respond_true (BerthRequest *req)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_VALUE);
  json_node_set_boolean (node, TRUE);
  berth_request_respond_json (req, 200, node);
}

static void
respond_token (BerthRequest *req, SecurityAcl *acl, const AclToken *token)
{
  g_autoptr(JsonNode) node = NULL;

  if (token == NULL)
    {
      security_acl_respond_status (req, BERTH_ERROR_NOT_FOUND, _("ACL not found"));
      return;
    }
  node = security_acl_json_token (acl, token, TRUE, TRUE);
  berth_request_respond_json (req, 200, node);
}

static void
respond_policy (BerthRequest *req, const AclPolicy *policy)
{
  g_autoptr(JsonNode) node = NULL;

  if (policy == NULL)
    {
      security_acl_respond_status (req, BERTH_ERROR_NOT_FOUND, _("ACL policy not found"));
      return;
    }
  node = security_acl_json_policy (policy, TRUE);
  berth_request_respond_json (req, 200, node);
}

/* --- Bootstrap --------------------------------------------------------- */

static void
bootstrap_done (SecurityAcl *acl, BerthRequest *req, const GError *error, gpointer user_data)
{
  const char *accessor = user_data;
  const AclToken *token;
  g_autoptr(GError) save_error = NULL;

  if (error != NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  token = security_acl_find_token (acl, accessor);
  if (token != NULL && !security_acl_save_bootstrap_token (acl, token->secret, NULL, &save_error))
    g_warning ("Cannot save the bootstrap token: %s", save_error->message);
  respond_token (req, acl, token);
}

static void
bootstrap_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  GPtrArray *ops = acl_ops_new ();
  AclToken *token = security_acl_new_bootstrap_token ();
  char *accessor = g_strdup (token->accessor);

  acl_ops_add_token (ops, ACL_OP_BOOTSTRAP, token);
  security_acl_write (acl, ops, req, bootstrap_done, accessor, g_free);
}

/* --- Tokens -------------------------------------------------------------- */

static void
token_written (SecurityAcl *acl, BerthRequest *req, const GError *error, gpointer user_data)
{
  if (error != NULL)
    berth_request_respond_error (req, error);
  else
    respond_token (req, acl, security_acl_find_token (acl, user_data));
}

static void
deleted (SecurityAcl *acl, BerthRequest *req, const GError *error, gpointer user_data)
{
  if (error != NULL)
    berth_request_respond_error (req, error);
  else
    respond_true (req);
}

static JsonObject *
body_object (BerthRequest *req, JsonNode **root)
{
  g_autoptr(GError) error = NULL;

  if (g_bytes_get_size (berth_request_get_body (req)) == 0)
    {
      security_acl_respond_status (req, BERTH_ERROR_INVALID, _("Request decode failed: the body is empty"));
      return NULL;
    }
  *root = berth_request_parse_json (req, &error);
  if (*root == NULL)
    {
      g_autoptr(GError) wrapped = g_error_new (BERTH_ERROR, BERTH_ERROR_INVALID,
                                               _("Request decode failed: %s"), error->message);
      berth_request_respond_error (req, wrapped);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (*root))
    {
      security_acl_respond_status (req, BERTH_ERROR_INVALID, _("Request decode failed: expected a JSON object"));
      return NULL;
    }
  return json_node_get_object (*root);
}

static void
token_put (BerthRequest *req, SecurityAcl *acl, const AclToken *existing)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AclToken) token = NULL;
  JsonObject *body = body_object (req, &root);
  GPtrArray *ops;
  char *accessor;

  if (body == NULL)
    return;
  token = existing != NULL ? acl_token_copy (existing) : acl_token_new ();
  if (!security_acl_json_parse_token (acl, body, token, existing == NULL, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (existing == NULL)
    {
      if (security_acl_find_token (acl, token->accessor) != NULL)
        {
          security_acl_respond_status (req, BERTH_ERROR_CONFLICT, _("A token with this AccessorID already exists"));
          return;
        }
      token->create_time = g_get_real_time ();
    }
  ops = acl_ops_new ();
  accessor = g_strdup (token->accessor);
  acl_ops_add_token (ops, existing == NULL ? ACL_OP_CREATE_TOKEN : ACL_OP_PUT_TOKEN, g_steal_pointer (&token));
  security_acl_write (acl, ops, req, token_written, accessor, g_free);
}

static void
token_create_cb (BerthRequest *req, gpointer user_data)
{
  token_put (req, user_data, NULL);
}

static const AclToken *
find_token_param (BerthRequest *req, SecurityAcl *acl)
{
  const AclToken *token = security_acl_find_token (acl, berth_request_get_param (req, "id"));

  if (token == NULL)
    security_acl_respond_status (req, BERTH_ERROR_NOT_FOUND, _("ACL not found"));
  return token;
}

static void
token_read_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  const AclToken *token = find_token_param (req, acl);

  if (token != NULL)
    respond_token (req, acl, token);
}

static void
token_update_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  const AclToken *token = find_token_param (req, acl);

  if (token != NULL)
    token_put (req, acl, token);
}

static void
token_delete_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  const AclToken *token = find_token_param (req, acl);
  GPtrArray *ops;

  if (token == NULL || (ops = security_acl_delete_token_ops (req, token)) == NULL)
    return;
  security_acl_write (acl, ops, req, deleted, NULL, NULL);
}

static void
token_clone_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  const AclToken *token = find_token_param (req, acl);
  g_autoptr(JsonNode) root = NULL;
  AclToken *clone;
  GPtrArray *ops;
  char *accessor;

  if (token == NULL)
    return;
  if (g_str_equal (token->accessor, ACL_ANONYMOUS_ACCESSOR))
    {
      security_acl_respond_status (req, BERTH_ERROR_INVALID, _("Cloning the anonymous token is not allowed"));
      return;
    }
  clone = acl_token_copy (token);
  g_free (clone->accessor);
  g_free (clone->secret);
  clone->accessor = g_uuid_string_random ();
  clone->secret = g_uuid_string_random ();
  clone->create_index = clone->modify_index = 0;
  clone->create_time = g_get_real_time ();
  if (g_bytes_get_size (berth_request_get_body (req)) > 0)
    {
      JsonObject *body = body_object (req, &root);
      if (body == NULL)
        {
          acl_token_free (clone);
          return;
        }
      if (json_object_has_member (body, "Description"))
        {
          g_free (clone->description);
          clone->description = g_strdup (json_object_get_string_member_with_default (body, "Description", ""));
        }
    }
  ops = acl_ops_new ();
  accessor = g_strdup (clone->accessor);
  acl_ops_add_token (ops, ACL_OP_CREATE_TOKEN, clone);
  security_acl_write (acl, ops, req, token_written, accessor, g_free);
}

static void
token_self_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  const char *secret = berth_request_get_token (req);

  if (secret == NULL || *secret == '\0')
    secret = ACL_ANONYMOUS_SECRET;
  respond_token (req, acl, security_acl_find_token_by_secret (acl, secret));
}

static void
tokens_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  GPtrArray *tokens = security_acl_get_tokens (acl);
  const char *policy = berth_request_get_query (req, "policy");
  gboolean secrets = berth_request_authorize (req, "acl", NULL, BERTH_ACCESS_WRITE, NULL);
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
  JsonArray *array = json_array_new ();

  json_node_take_array (root, array);
  for (guint i = 0; i < tokens->len; i++)
    {
      const AclToken *t = g_ptr_array_index (tokens, i);
      if (policy != NULL && (t->policies == NULL || !g_strv_contains ((const char * const *) t->policies, policy)))
        continue;
      json_array_add_element (array, security_acl_json_token (acl, t, secrets, FALSE));
    }
  berth_request_respond_json (req, 200, root);
}

/* --- Policies ------------------------------------------------------------ */

static void
policy_written (SecurityAcl *acl, BerthRequest *req, const GError *error, gpointer user_data)
{
  if (error != NULL)
    berth_request_respond_error (req, error);
  else
    respond_policy (req, security_acl_find_policy (acl, user_data));
}

static void
policy_put (BerthRequest *req, SecurityAcl *acl, const AclPolicy *existing)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AclPolicy) policy = acl_policy_new ();
  JsonObject *body = body_object (req, &root);
  const AclPolicy *named;
  GPtrArray *ops;
  char *id;

  if (body == NULL)
    return;
  if (existing != NULL)
    {
      policy->id = g_strdup (existing->id);
      policy->create_index = existing->create_index;
      policy->legacy = existing->legacy;
    }
  if (!security_acl_json_parse_policy (body, existing, policy, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  named = security_acl_find_policy_by_name (acl, policy->name);
  if (named != NULL && g_strcmp0 (named->id, policy->id) != 0)
    {
      g_autofree char *msg = g_strdup_printf (_("A policy with name “%s” already exists"), policy->name);
      security_acl_respond_status (req, BERTH_ERROR_CONFLICT, msg);
      return;
    }
  if (existing == NULL && policy->id != NULL && security_acl_find_policy (acl, policy->id) != NULL)
    {
      security_acl_respond_status (req, BERTH_ERROR_CONFLICT, _("A policy with this ID already exists"));
      return;
    }
  if (policy->id == NULL)
    policy->id = g_uuid_string_random ();
  ops = acl_ops_new ();
  id = g_strdup (policy->id);
  acl_ops_add_policy (ops, ACL_OP_PUT_POLICY, g_steal_pointer (&policy));
  security_acl_write (acl, ops, req, policy_written, id, g_free);
}

static void
policy_create_cb (BerthRequest *req, gpointer user_data)
{
  policy_put (req, user_data, NULL);
}

static const AclPolicy *
find_policy_param (BerthRequest *req, SecurityAcl *acl)
{
  const AclPolicy *policy = security_acl_find_policy (acl, berth_request_get_param (req, "id"));

  if (policy == NULL)
    security_acl_respond_status (req, BERTH_ERROR_NOT_FOUND, _("ACL policy not found"));
  return policy;
}

static void
policy_read_cb (BerthRequest *req, gpointer user_data)
{
  const AclPolicy *policy = find_policy_param (req, user_data);

  if (policy != NULL)
    respond_policy (req, policy);
}

static void
policy_by_name_cb (BerthRequest *req, gpointer user_data)
{
  respond_policy (req, security_acl_find_policy_by_name (user_data, berth_request_get_param (req, "name")));
}

static void
policy_update_cb (BerthRequest *req, gpointer user_data)
{
  const AclPolicy *policy = find_policy_param (req, user_data);

  if (policy != NULL)
    policy_put (req, user_data, policy);
}

static void
policy_delete_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  const AclPolicy *policy = find_policy_param (req, acl);
  GPtrArray *ops;

  if (policy == NULL)
    return;
  if (g_str_equal (policy->id, ACL_MANAGEMENT_POLICY_ID))
    {
      security_acl_respond_status (req, BERTH_ERROR_INVALID,
                      _("Deletion of the builtin global-management policy is not permitted"));
      return;
    }
  ops = acl_ops_new ();
  acl_ops_add_delete (ops, ACL_OP_DELETE_POLICY, policy->id);
  security_acl_write (acl, ops, req, deleted, NULL, NULL);
}

static void
policies_cb (BerthRequest *req, gpointer user_data)
{
  GPtrArray *policies = security_acl_get_policies (user_data);
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
  JsonArray *array = json_array_new ();

  json_node_take_array (root, array);
  for (guint i = 0; i < policies->len; i++)
    json_array_add_element (array, security_acl_json_policy (g_ptr_array_index (policies, i), FALSE));
  berth_request_respond_json (req, 200, root);
}

static const BerthRouteSpec acl_routes[] = {
  { BERTH_METHOD_PUT, "/v1/acl/bootstrap", "acl-bootstrap", BERTH_ACCESS_WRITE, bootstrap_cb },
  { BERTH_METHOD_PUT, "/v1/acl/token", "acl", BERTH_ACCESS_WRITE, token_create_cb },
  { BERTH_METHOD_GET, "/v1/acl/token/self", "acl-self", BERTH_ACCESS_READ, token_self_cb },
  { BERTH_METHOD_PUT, "/v1/acl/token/:id/clone", "acl", BERTH_ACCESS_WRITE, token_clone_cb },
  { BERTH_METHOD_GET, "/v1/acl/token/:id", "acl", BERTH_ACCESS_READ, token_read_cb },
  { BERTH_METHOD_PUT, "/v1/acl/token/:id", "acl", BERTH_ACCESS_WRITE, token_update_cb },
  { BERTH_METHOD_DELETE, "/v1/acl/token/:id", "acl", BERTH_ACCESS_WRITE, token_delete_cb },
  { BERTH_METHOD_GET, "/v1/acl/tokens", "acl", BERTH_ACCESS_READ, tokens_cb },
  { BERTH_METHOD_PUT, "/v1/acl/policy", "acl", BERTH_ACCESS_WRITE, policy_create_cb },
  { BERTH_METHOD_GET, "/v1/acl/policy/name/:name", "acl", BERTH_ACCESS_READ, policy_by_name_cb },
  { BERTH_METHOD_GET, "/v1/acl/policy/:id", "acl", BERTH_ACCESS_READ, policy_read_cb },
  { BERTH_METHOD_PUT, "/v1/acl/policy/:id", "acl", BERTH_ACCESS_WRITE, policy_update_cb },
  { BERTH_METHOD_DELETE, "/v1/acl/policy/:id", "acl", BERTH_ACCESS_WRITE, policy_delete_cb },
  { BERTH_METHOD_GET, "/v1/acl/policies", "acl", BERTH_ACCESS_READ, policies_cb },
};

void
security_acl_http_add_routes (SecurityAcl *self)
{
  berth_context_add_routes (security_acl_get_context (self), acl_routes, G_N_ELEMENTS (acl_routes), self);
}
