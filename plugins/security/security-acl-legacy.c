/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "security-acl.h"
#include "security-acl-json.h"
#include "security-rules.h"

/* Consul's legacy ACL API (/v1/acl/create, update, destroy, info, list,
 * clone), which python-consul 0.7 speaks. A legacy token is named by its
 * secret ("ID"), has a type (client or management) and inline rules; here
 * it is an ordinary token whose rules are a policy of its own
 * ("legacy-<AccessorID>"), matched by prefix as legacy rules were, and a
 * management token is linked to global-management. */

static void
set_store_index (BerthRequest *req, SecurityAcl *acl)
{
  berth_request_set_index (req, MAX (berth_store_get_index (berth_context_get_store (security_acl_get_context (acl))), 1));
}

static const AclPolicy *
own_policy (SecurityAcl *acl, const AclToken *token)
{
  for (guint i = 0; token->policies != NULL && token->policies[i] != NULL; i++)
    {
      const AclPolicy *p = security_acl_find_policy (acl, token->policies[i]);
      if (p != NULL && p->legacy)
        return p;
    }
  return NULL;
}

static JsonNode *
legacy_json (SecurityAcl *acl, const AclToken *t)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const AclPolicy *own = own_policy (acl, t);
  const char *type = t->legacy_type;

  if (type == NULL)
    type = t->policies != NULL && g_strv_contains ((const char * const *) t->policies, ACL_MANAGEMENT_POLICY_ID)
           ? "management" : "client";
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ID");
  json_builder_add_string_value (b, t->secret);
  json_builder_set_member_name (b, "Name");
  json_builder_add_string_value (b, t->description != NULL ? t->description : "");
  json_builder_set_member_name (b, "Type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "Rules");
  json_builder_add_string_value (b, own != NULL ? own->rules : "");
  json_builder_set_member_name (b, "CreateIndex");
  json_builder_add_int_value (b, (gint64) t->create_index);
  json_builder_set_member_name (b, "ModifyIndex");
  json_builder_add_int_value (b, (gint64) t->modify_index);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
respond_id (BerthRequest *req, const char *secret)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ID");
  json_builder_add_string_value (b, secret);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  berth_request_respond_json (req, 200, root);
}

static void
written (SecurityAcl *acl, BerthRequest *req, const GError *error, gpointer user_data)
{
  if (error != NULL)
    berth_request_respond_error (req, error);
  else
    respond_id (req, user_data);
}

/* Sets @token's type, description and rules from a legacy body, adding
 * the writes of its own policy to @ops. */
static gboolean
apply_body (SecurityAcl *acl, BerthRequest *req, JsonObject *body, AclToken *token, GPtrArray *ops)
{
  g_autoptr(GError) error = NULL;
  const char *name = NULL, *type = NULL, *rules = NULL;
  const AclPolicy *own = own_policy (acl, token);
  GStrvBuilder *b;

  if (body != NULL &&
      (!security_acl_json_get_string (body, "Name", &name, &error) ||
       !security_acl_json_get_string (body, "Type", &type, &error) ||
       !security_acl_json_get_string (body, "Rules", &rules, &error)))
    {
      berth_request_respond_error (req, error);
      return FALSE;
    }
  if (type != NULL && *type != '\0' && !g_str_equal (type, "client") && !g_str_equal (type, "management"))
    {
      security_acl_respond_status (req, BERTH_ERROR_INVALID, _("Invalid ACL Type: must be client or management"));
      return FALSE;
    }
  if (rules != NULL && *rules != '\0')
    {
      g_autoptr(SecurityRules) parsed = security_rules_parse (rules, TRUE, &error);
      if (parsed == NULL)
        {
          berth_request_respond_error (req, error);
          return FALSE;
        }
    }
  if (name != NULL)
    {
      g_free (token->description);
      token->description = g_strdup (name);
    }
  if (type != NULL && *type != '\0')
    {
      g_free (token->legacy_type);
      token->legacy_type = g_strdup (type);
    }
  else if (token->legacy_type == NULL)
    token->legacy_type = g_strdup ("client");

  b = g_strv_builder_new ();
  if (g_str_equal (token->legacy_type, "management"))
    g_strv_builder_add (b, ACL_MANAGEMENT_POLICY_ID);
  if (rules != NULL && *rules != '\0')
    {
      AclPolicy *policy = acl_policy_new ();
      policy->id = own != NULL ? g_strdup (own->id) : g_uuid_string_random ();
      policy->name = g_strdup_printf ("legacy-%s", token->accessor);
      policy->description = g_strdup_printf (_("Rules of the legacy token %s"), token->accessor);
      policy->rules = g_strdup (rules);
      policy->legacy = TRUE;
      policy->create_index = own != NULL ? own->create_index : 0;
      g_strv_builder_add (b, policy->id);
      acl_ops_add_policy (ops, ACL_OP_PUT_POLICY, policy);
    }
  else if (own != NULL && rules == NULL)
    g_strv_builder_add (b, own->id);
  else if (own != NULL)
    acl_ops_add_delete (ops, ACL_OP_DELETE_POLICY, own->id);
  g_strfreev (token->policies);
  token->policies = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return TRUE;
}

static gboolean
optional_body (BerthRequest *req, JsonNode **root, JsonObject **body)
{
  g_autoptr(GError) error = NULL;

  *body = NULL;
  if (g_bytes_get_size (berth_request_get_body (req)) == 0)
    return TRUE;
  *root = berth_request_parse_json (req, &error);
  if (*root == NULL || !JSON_NODE_HOLDS_OBJECT (*root))
    {
      security_acl_respond_status (req, BERTH_ERROR_INVALID, _("Request decode failed: expected a JSON object"));
      return FALSE;
    }
  *body = json_node_get_object (*root);
  return TRUE;
}

static void
create_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GPtrArray) ops = acl_ops_new ();
  g_autoptr(AclToken) token = acl_token_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *body;
  const char *id = NULL;
  char *secret;

  if (!optional_body (req, &root, &body))
    return;
  if (body != NULL && !security_acl_json_get_string (body, "ID", &id, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (id != NULL && *id != '\0' && security_acl_find_token_by_secret (acl, id) != NULL)
    {
      security_acl_respond_status (req, BERTH_ERROR_CONFLICT, _("A token with this ID already exists"));
      return;
    }
  if (id != NULL && strlen (id) > 128)
    {
      security_acl_respond_status (req, BERTH_ERROR_INVALID, _("Invalid ID: longer than 128 characters"));
      return;
    }
  token->accessor = g_uuid_string_random ();
  token->secret = id != NULL && *id != '\0' ? g_strdup (id) : g_uuid_string_random ();
  token->description = g_strdup ("");
  token->create_time = g_get_real_time ();
  if (!apply_body (acl, req, body, token, ops))
    return;
  secret = g_strdup (token->secret);
  acl_ops_add_token (ops, ACL_OP_CREATE_TOKEN, g_steal_pointer (&token));
  security_acl_write (acl, g_steal_pointer (&ops), req, written, secret, g_free);
}

static void
update_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GPtrArray) ops = acl_ops_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *body;
  const char *id = NULL;
  const AclToken *existing;
  AclToken *token;
  char *secret;

  if (!optional_body (req, &root, &body))
    return;
  if (body == NULL || !security_acl_json_get_string (body, "ID", &id, &error) || id == NULL || *id == '\0')
    {
      if (error != NULL)
        berth_request_respond_error (req, error);
      else
        security_acl_respond_status (req, BERTH_ERROR_INVALID, _("Missing ACL ID"));
      return;
    }
  existing = security_acl_find_token_by_secret (acl, id);
  if (existing == NULL)
    {
      set_store_index (req, acl);
      security_acl_respond_status (req, BERTH_ERROR_NOT_FOUND, _("ACL not found"));
      return;
    }
  token = acl_token_copy (existing);
  if (!apply_body (acl, req, body, token, ops))
    {
      acl_token_free (token);
      return;
    }
  secret = g_strdup (token->secret);
  acl_ops_add_token (ops, ACL_OP_PUT_TOKEN, token);
  security_acl_write (acl, g_steal_pointer (&ops), req, written, secret, g_free);
}

static const AclToken *
find_param (BerthRequest *req, SecurityAcl *acl)
{
  const AclToken *token = security_acl_find_token_by_secret (acl, berth_request_get_param (req, "id"));

  if (token == NULL)
    {
      set_store_index (req, acl);
      security_acl_respond_status (req, BERTH_ERROR_NOT_FOUND, _("ACL not found"));
    }
  return token;
}

static void
destroyed (SecurityAcl *acl, BerthRequest *req, const GError *error, gpointer user_data)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_VALUE);

  if (error != NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  json_node_set_boolean (node, TRUE);
  berth_request_respond_json (req, 200, node);
}

static void
destroy_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  const AclToken *token = find_param (req, acl);
  const AclPolicy *own;
  GPtrArray *ops;

  if (token == NULL || (ops = security_acl_delete_token_ops (req, token)) == NULL)
    return;
  if ((own = own_policy (acl, token)) != NULL)
    acl_ops_add_delete (ops, ACL_OP_DELETE_POLICY, own->id);
  security_acl_write (acl, ops, req, destroyed, NULL, NULL);
}

static void
clone_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  const AclToken *token = find_param (req, acl);
  const AclPolicy *own;
  GPtrArray *ops;
  AclToken *clone;

  if (token == NULL)
    return;
  if (g_str_equal (token->accessor, ACL_ANONYMOUS_ACCESSOR))
    {
      security_acl_respond_status (req, BERTH_ERROR_INVALID, _("Cloning the anonymous token is not allowed"));
      return;
    }
  ops = acl_ops_new ();
  clone = acl_token_copy (token);
  g_free (clone->accessor);
  g_free (clone->secret);
  clone->accessor = g_uuid_string_random ();
  clone->secret = g_uuid_string_random ();
  clone->create_index = clone->modify_index = 0;
  clone->create_time = g_get_real_time ();
  if ((own = own_policy (acl, token)) != NULL)
    {
      AclPolicy *copy = acl_policy_new ();
      copy->id = g_uuid_string_random ();
      copy->name = g_strdup_printf ("legacy-%s", clone->accessor);
      copy->description = g_strdup_printf (_("Rules of the legacy token %s"), clone->accessor);
      copy->rules = g_strdup (own->rules);
      copy->legacy = TRUE;
      for (guint i = 0; clone->policies[i] != NULL; i++)
        if (g_str_equal (clone->policies[i], own->id))
          {
            g_free (clone->policies[i]);
            clone->policies[i] = g_strdup (copy->id);
          }
      acl_ops_add_policy (ops, ACL_OP_PUT_POLICY, copy);
    }
  acl_ops_add_token (ops, ACL_OP_CREATE_TOKEN, clone);
  security_acl_write (acl, ops, req, written, g_strdup (clone->secret), g_free);
}

static void
info_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  const AclToken *token = security_acl_find_token_by_secret (acl, berth_request_get_param (req, "id"));
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
  JsonArray *array = json_array_new ();

  json_node_take_array (root, array);
  if (token != NULL)
    json_array_add_element (array, legacy_json (acl, token));
  set_store_index (req, acl);
  berth_request_respond_json (req, 200, root);
}

static void
list_cb (BerthRequest *req, gpointer user_data)
{
  SecurityAcl *acl = user_data;
  GPtrArray *tokens = security_acl_get_tokens (acl);
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
  JsonArray *array = json_array_new ();

  json_node_take_array (root, array);
  for (guint i = 0; i < tokens->len; i++)
    json_array_add_element (array, legacy_json (acl, g_ptr_array_index (tokens, i)));
  set_store_index (req, acl);
  berth_request_respond_json (req, 200, root);
}

static const BerthRouteSpec legacy_routes[] = {
  { BERTH_METHOD_PUT, "/v1/acl/create", "acl", BERTH_ACCESS_WRITE, create_cb },
  { BERTH_METHOD_PUT, "/v1/acl/update", "acl", BERTH_ACCESS_WRITE, update_cb },
  { BERTH_METHOD_PUT, "/v1/acl/destroy/:id", "acl", BERTH_ACCESS_WRITE, destroy_cb },
  { BERTH_METHOD_PUT, "/v1/acl/clone/:id", "acl", BERTH_ACCESS_WRITE, clone_cb },
  { BERTH_METHOD_GET, "/v1/acl/info/:id", "acl", BERTH_ACCESS_READ, info_cb },
  { BERTH_METHOD_GET, "/v1/acl/list", "acl", BERTH_ACCESS_READ, list_cb },
};

void
security_acl_legacy_add_routes (SecurityAcl *self)
{
  berth_context_add_routes (security_acl_get_context (self), legacy_routes, G_N_ELEMENTS (legacy_routes),
                            self);
}
