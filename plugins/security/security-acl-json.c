/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "security-acl-json.h"
#include "security-rules.h"

/* Tokens and policies as Consul writes them (AccessorID, SecretID,
 * Policies as ID and Name links, CreateTime, Hash, indexes), and the
 * bodies of PUT /v1/acl/token and /v1/acl/policy read into them. */

static char *
token_hash (const AclToken *t)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;

  g_checksum_update (sum, (const guchar *) (t->description != NULL ? t->description : ""), -1);
  for (guint i = 0; t->policies != NULL && t->policies[i] != NULL; i++)
    {
      g_checksum_update (sum, (const guchar *) "\n", 1);
      g_checksum_update (sum, (const guchar *) t->policies[i], -1);
    }
  g_checksum_update (sum, (const guchar *) (t->local ? "L" : "G"), 1);
  g_checksum_get_digest (sum, digest, &len);
  return g_base64_encode (digest, len);
}

static char *
policy_hash (const AclPolicy *p)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;

  g_checksum_update (sum, (const guchar *) p->name, -1);
  g_checksum_update (sum, (const guchar *) "\n", 1);
  g_checksum_update (sum, (const guchar *) (p->description != NULL ? p->description : ""), -1);
  g_checksum_update (sum, (const guchar *) "\n", 1);
  g_checksum_update (sum, (const guchar *) (p->rules != NULL ? p->rules : ""), -1);
  g_checksum_get_digest (sum, digest, &len);
  return g_base64_encode (digest, len);
}

/**
 * security_acl_json_token:
 * @acl: the ACL module (to name the token's policies)
 * @token: a token
 * @secret: include the SecretID
 * @full: the form of a single token (list items are the same here)
 *
 * Returns: (transfer full): the token in Consul's shape
 */
JsonNode *
security_acl_json_token (SecurityAcl *acl, const AclToken *t, gboolean secret, gboolean full)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *created = berth_timestamp_format (t->create_time);
  g_autofree char *hash = token_hash (t);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "AccessorID");
  json_builder_add_string_value (b, t->accessor);
  json_builder_set_member_name (b, "SecretID");
  json_builder_add_string_value (b, secret ? t->secret : "<hidden>");
  json_builder_set_member_name (b, "Description");
  json_builder_add_string_value (b, t->description != NULL ? t->description : "");
  json_builder_set_member_name (b, "Policies");
  json_builder_begin_array (b);
  for (guint i = 0; t->policies != NULL && t->policies[i] != NULL; i++)
    {
      const AclPolicy *p = security_acl_find_policy (acl, t->policies[i]);
      if (p == NULL)
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "ID");
      json_builder_add_string_value (b, p->id);
      json_builder_set_member_name (b, "Name");
      json_builder_add_string_value (b, p->name);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "Local");
  json_builder_add_boolean_value (b, t->local);
  json_builder_set_member_name (b, "CreateTime");
  json_builder_add_string_value (b, created);
  json_builder_set_member_name (b, "Hash");
  json_builder_add_string_value (b, hash);
  if (t->legacy_type != NULL)
    {
      json_builder_set_member_name (b, "Legacy");
      json_builder_add_boolean_value (b, TRUE);
    }
  json_builder_set_member_name (b, "CreateIndex");
  json_builder_add_int_value (b, (gint64) t->create_index);
  json_builder_set_member_name (b, "ModifyIndex");
  json_builder_add_int_value (b, (gint64) t->modify_index);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/**
 * security_acl_json_policy:
 * @policy: a policy
 * @rules: include the rules (a single policy; lists leave them out)
 *
 * Returns: (transfer full): the policy in Consul's shape
 */
JsonNode *
security_acl_json_policy (const AclPolicy *p, gboolean rules)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *hash = policy_hash (p);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ID");
  json_builder_add_string_value (b, p->id);
  json_builder_set_member_name (b, "Name");
  json_builder_add_string_value (b, p->name);
  json_builder_set_member_name (b, "Description");
  json_builder_add_string_value (b, p->description != NULL ? p->description : "");
  if (rules)
    {
      json_builder_set_member_name (b, "Rules");
      json_builder_add_string_value (b, p->rules != NULL ? p->rules : "");
    }
  json_builder_set_member_name (b, "Datacenters");
  json_builder_begin_array (b);
  for (guint i = 0; p->datacenters != NULL && p->datacenters[i] != NULL; i++)
    json_builder_add_string_value (b, p->datacenters[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "Hash");
  json_builder_add_string_value (b, hash);
  json_builder_set_member_name (b, "CreateIndex");
  json_builder_add_int_value (b, (gint64) p->create_index);
  json_builder_set_member_name (b, "ModifyIndex");
  json_builder_add_int_value (b, (gint64) p->modify_index);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
invalid (GError **error, const char *message)
{
  g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, message);
  return FALSE;
}

/* @value: NULL when @member is absent or null; a type error otherwise. */
gboolean
security_acl_json_get_string (JsonObject *body, const char *member, const char **value, GError **error)
{
  JsonNode *node = json_object_get_member (body, member);

  *value = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Request decode failed: %s must be a string"),
                   member);
      return FALSE;
    }
  *value = json_node_get_string (node);
  return TRUE;
}

/* Features of Consul's tokens Berth does not have. */
static gboolean
refuse_unbuilt (JsonObject *body, GError **error)
{
  static const char * const unbuilt[] = { "Roles", "ServiceIdentities", "NodeIdentities",
                                          "ExpirationTTL", "ExpirationTime", "TemplatedPolicies" };

  for (gsize i = 0; i < G_N_ELEMENTS (unbuilt); i++)
    {
      JsonNode *node = json_object_get_member (body, unbuilt[i]);
      if (node == NULL || JSON_NODE_HOLDS_NULL (node) ||
          (JSON_NODE_HOLDS_ARRAY (node) && json_array_get_length (json_node_get_array (node)) == 0) ||
          (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING &&
           *json_node_get_string (node) == '\0'))
        continue;
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_IMPLEMENTED, _("Token %s are not implemented"),
                   unbuilt[i]);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_policy_links (SecurityAcl *acl, JsonNode *node, GStrv *out, GError **error)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *array;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return invalid (error, _("Request decode failed: Policies must be an array"));
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *link = json_array_get_element (array, i);
      const char *id = NULL, *name = NULL;
      const AclPolicy *policy = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (link))
        return invalid (error, _("Request decode failed: each policy link must be an object with ID or Name"));
      if (!security_acl_json_get_string (json_node_get_object (link), "ID", &id, error) ||
          !security_acl_json_get_string (json_node_get_object (link), "Name", &name, error))
        return FALSE;
      if (id != NULL && *id != '\0')
        {
          policy = security_acl_find_policy (acl, id);
          if (policy == NULL)
            {
              g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("No such ACL policy with ID “%s”"), id);
              return FALSE;
            }
        }
      else if (name != NULL && *name != '\0')
        {
          policy = security_acl_find_policy_by_name (acl, name);
          if (policy == NULL)
            {
              g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("No such ACL policy with name “%s”"), name);
              return FALSE;
            }
        }
      else
        return invalid (error, _("Request decode failed: a policy link needs an ID or a Name"));
      if (g_hash_table_add (seen, (gpointer) policy->id))
        g_strv_builder_add (b, policy->id);
    }
  *out = g_strv_builder_end (b);
  return TRUE;
}

static gboolean
set_id (const char *given, char **field, gboolean create, const char *member, GError **error)
{
  if (given == NULL || *given == '\0')
    {
      if (*field == NULL)
        *field = g_uuid_string_random ();
      return TRUE;
    }
  if (!create)
    {
      if (g_strcmp0 (given, *field) != 0)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("%s cannot be changed (“%s” given)"),
                       member, given);
          return FALSE;
        }
      return TRUE;
    }
  if (!g_uuid_string_is_valid (given))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Invalid %s: “%s” is not a UUID"), member, given);
      return FALSE;
    }
  g_free (*field);
  *field = g_strdup (given);
  return TRUE;
}

/**
 * security_acl_json_parse_token:
 * @acl: the ACL module (to resolve policy links)
 * @body: the request's body
 * @token: the token to fill: empty for a create, a copy of the stored
 *   one for an update
 * @create: whether this creates the token
 * @error: %BERTH_ERROR_INVALID for a bad body or an unknown policy
 */
gboolean
security_acl_json_parse_token (SecurityAcl *acl, JsonObject *body, AclToken *token, gboolean create,
                               GError **error)
{
  const char *accessor, *secret, *description;
  JsonNode *policies = json_object_get_member (body, "Policies");
  JsonNode *local = json_object_get_member (body, "Local");

  if (!security_acl_json_get_string (body, "AccessorID", &accessor, error) ||
      !security_acl_json_get_string (body, "SecretID", &secret, error) ||
      !security_acl_json_get_string (body, "Description", &description, error) ||
      !refuse_unbuilt (body, error))
    return FALSE;
  if (!set_id (accessor, &token->accessor, create, "AccessorID", error) ||
      !set_id (secret, &token->secret, create, "SecretID", error))
    return FALSE;
  if (g_str_equal (token->secret, ACL_ANONYMOUS_SECRET) && !g_str_equal (token->accessor, ACL_ANONYMOUS_ACCESSOR))
    return invalid (error, _("Invalid SecretID: reserved for the anonymous token"));
  if (description != NULL)
    {
      g_free (token->description);
      token->description = g_strdup (description);
    }
  if (policies != NULL && !JSON_NODE_HOLDS_NULL (policies))
    {
      GStrv ids = NULL;
      if (!parse_policy_links (acl, policies, &ids, error))
        return FALSE;
      g_strfreev (token->policies);
      token->policies = ids;
      g_clear_pointer (&token->legacy_type, g_free);
    }
  if (local != NULL && !JSON_NODE_HOLDS_NULL (local))
    {
      if (!JSON_NODE_HOLDS_VALUE (local) || json_node_get_value_type (local) != G_TYPE_BOOLEAN)
        return invalid (error, _("Request decode failed: Local must be a boolean"));
      if (!create && json_node_get_boolean (local) != token->local)
        return invalid (error, _("Cannot toggle local mode of a token"));
      token->local = json_node_get_boolean (local);
    }
  return TRUE;
}

static gboolean
valid_policy_name (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > 128)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static gboolean
parse_datacenters (JsonNode *node, GStrv *out, GError **error)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  JsonArray *array;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return invalid (error, _("Request decode failed: Datacenters must be an array of strings"));
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *dc = json_array_get_element (array, i);
      if (!JSON_NODE_HOLDS_VALUE (dc) || json_node_get_value_type (dc) != G_TYPE_STRING)
        return invalid (error, _("Request decode failed: Datacenters must be an array of strings"));
      g_strv_builder_add (b, json_node_get_string (dc));
    }
  *out = g_strv_builder_end (b);
  return TRUE;
}

/**
 * security_acl_json_parse_policy:
 * @body: the request's body
 * @existing: (nullable): the stored policy, for an update
 * @policy: the policy to fill (its id already set for an update)
 * @error: %BERTH_ERROR_INVALID for a bad body or malformed rules
 */
gboolean
security_acl_json_parse_policy (JsonObject *body, const AclPolicy *existing, AclPolicy *policy,
                                GError **error)
{
  const char *id, *name, *description, *rules;
  JsonNode *dcs = json_object_get_member (body, "Datacenters");
  gboolean builtin = existing != NULL && g_str_equal (existing->id, ACL_MANAGEMENT_POLICY_ID);

  if (!security_acl_json_get_string (body, "ID", &id, error) ||
      !security_acl_json_get_string (body, "Name", &name, error) ||
      !security_acl_json_get_string (body, "Description", &description, error) ||
      !security_acl_json_get_string (body, "Rules", &rules, error))
    return FALSE;
  if (id != NULL && *id != '\0')
    {
      if (existing != NULL && !g_str_equal (id, existing->id))
        return invalid (error, _("The policy ID in the body does not match the one in the path"));
      if (existing == NULL && !g_uuid_string_is_valid (id))
        return invalid (error, _("Invalid policy ID: not a UUID"));
      g_free (policy->id);
      policy->id = g_strdup (id);
    }
  if (name == NULL && existing != NULL)
    name = existing->name;
  if (name == NULL || *name == '\0')
    return invalid (error, _("Invalid Policy: no Name is set"));
  if (!valid_policy_name (name))
    return invalid (error, _("Invalid Policy: the Name may only contain letters, digits, “-” and “_” "
                             "(at most 128 characters)"));
  policy->name = g_strdup (name);
  if (description == NULL && existing != NULL)
    description = existing->description;
  policy->description = g_strdup (description != NULL ? description : "");

  if (builtin)
    {
      if ((rules != NULL && g_strcmp0 (rules, existing->rules) != 0) || (dcs != NULL && !JSON_NODE_HOLDS_NULL (dcs)))
        return invalid (error, _("Changing the Rules or Datacenters of the builtin global-management "
                                 "policy is not permitted"));
      policy->rules = g_strdup (existing->rules);
      return TRUE;
    }
  if (rules == NULL && existing != NULL)
    rules = existing->rules;
  policy->rules = g_strdup (rules != NULL ? rules : "");
  {
    g_autoptr(SecurityRules) parsed = security_rules_parse (policy->rules, policy->legacy, error);
    if (parsed == NULL)
      return FALSE;
  }
  if (dcs != NULL && !JSON_NODE_HOLDS_NULL (dcs))
    return parse_datacenters (dcs, &policy->datacenters, error);
  if (existing != NULL)
    policy->datacenters = g_strdupv (existing->datacenters);
  return TRUE;
}
