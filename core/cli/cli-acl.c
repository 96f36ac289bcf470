/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-acl.c - "berth acl": bootstrap, tokens and policies (Consul's /v1/acl) */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <glib/gi18n.h>

#include "cli-command.h"
#include "cli-output.h"

/* Only one command runs per process, so the acl commands share these. */
static char *opt_description;
static char **opt_policies;
static char *opt_name;
static char *opt_rules;

static const GOptionEntry token_create_options[] = {
  { "description", 0, 0, G_OPTION_ARG_STRING, &opt_description,
    N_("A description of the token"), N_("TEXT") },
  { "policy", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_policies,
    N_("Link the token to this policy (a name or an ID; repeatable)"), N_("POLICY") },
  { NULL }
};

static const GOptionEntry policy_create_options[] = {
  { "name", 0, 0, G_OPTION_ARG_STRING, &opt_name,
    N_("The policy's name"), N_("NAME") },
  { "description", 0, 0, G_OPTION_ARG_STRING, &opt_description,
    N_("A description of the policy"), N_("TEXT") },
  { "rules", 0, 0, G_OPTION_ARG_STRING, &opt_rules,
    N_("Read the rules (HCL or JSON) from FILE, or standard input for \"-\""), N_("FILE") },
  { NULL }
};

/* --- Helpers ------------------------------------------------------------- */

/* Sends @method @path with @body (nullable) and returns the JSON answer. */
static JsonNode *
acl_send (CliContext *ctx,
          const char *method,
          const char *path,
          JsonNode   *body,
          GError    **error)
{
  g_autoptr(CliResponse) response = NULL;
  g_autoptr(GBytes) bytes = NULL;
  CliClient *client;

  if ((client = cli_context_get_client (ctx, error)) == NULL)
    return NULL;
  if (body != NULL)
    {
      gsize len = 0;
      char *text = json_to_string (body, FALSE);
      len = strlen (text);
      bytes = g_bytes_new_take (text, len);
    }
  if ((response = cli_client_send (client, method, path, bytes, error)) == NULL ||
      !cli_response_check (response, error))
    return NULL;
  return cli_response_parse_json (response, error);
}

static const char *
member_string (JsonNode *node, const char *member)
{
  const char *value;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return "";
  value = json_object_get_string_member_with_default (json_node_get_object (node), member, "");
  return value != NULL ? value : "";
}

static char *
policy_names (JsonNode *token)
{
  g_autoptr(GString) names = g_string_new (NULL);
  JsonObject *obj;
  JsonArray *policies;

  if (!JSON_NODE_HOLDS_OBJECT (token))
    return g_strdup ("");
  obj = json_node_get_object (token);
  if (!json_object_has_member (obj, "Policies") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, "Policies")))
    return g_strdup ("");
  policies = json_object_get_array_member (obj, "Policies");
  for (guint i = 0; i < json_array_get_length (policies); i++)
    {
      JsonNode *link = json_array_get_element (policies, i);
      if (names->len > 0)
        g_string_append (names, ", ");
      g_string_append (names, member_string (link, "Name"));
    }
  return g_string_free (g_steal_pointer (&names), FALSE);
}

static gboolean
print_token (CliContext *ctx, JsonNode *token, GError **error)
{
  g_autofree char *names = NULL;

  if (ctx->json)
    return cli_output_json (token, error);
  names = policy_names (token);
  g_print (_("AccessorID:  %s\n"), member_string (token, "AccessorID"));
  g_print (_("SecretID:    %s\n"), member_string (token, "SecretID"));
  g_print (_("Description: %s\n"), member_string (token, "Description"));
  g_print (_("Policies:    %s\n"), names);
  g_print (_("Created:     %s\n"), member_string (token, "CreateTime"));
  return TRUE;
}

static gboolean
print_policy (CliContext *ctx, JsonNode *policy, GError **error)
{
  if (ctx->json)
    return cli_output_json (policy, error);
  g_print (_("ID:          %s\n"), member_string (policy, "ID"));
  g_print (_("Name:        %s\n"), member_string (policy, "Name"));
  g_print (_("Description: %s\n"), member_string (policy, "Description"));
  g_print (_("Rules:\n%s\n"), member_string (policy, "Rules"));
  return TRUE;
}

static gboolean
check_array (JsonNode *root, GError **error)
{
  if (JSON_NODE_HOLDS_ARRAY (root))
    return TRUE;
  g_set_error_literal (error, CLI_ERROR, CLI_ERROR_PROTOCOL, _("berthd did not answer with a list"));
  return FALSE;
}

static char *
acl_path (const char *prefix, const char *id)
{
  g_autofree char *escaped = cli_escape_path (id);
  return g_strconcat (prefix, escaped, NULL);
}

/* --- bootstrap ----------------------------------------------------------- */

static int
bootstrap_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = acl_send (ctx, "PUT", "/v1/acl/bootstrap", NULL, &error);

  if (root == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (root, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  g_print ("%s\n", member_string (root, "SecretID"));
  return CLI_EXIT_OK;
}

/* --- tokens -------------------------------------------------------------- */

static int
token_create_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Description");
  json_builder_add_string_value (b, opt_description != NULL ? opt_description : "");
  json_builder_set_member_name (b, "Policies");
  json_builder_begin_array (b);
  for (guint i = 0; opt_policies != NULL && opt_policies[i] != NULL; i++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, g_uuid_string_is_valid (opt_policies[i]) ? "ID" : "Name");
      json_builder_add_string_value (b, opt_policies[i]);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  body = json_builder_get_root (b);
  if ((root = acl_send (ctx, "PUT", "/v1/acl/token", body, &error)) == NULL ||
      !print_token (ctx, root, &error))
    return cli_context_fail (ctx, error);
  return CLI_EXIT_OK;
}

static int
token_list_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = acl_send (ctx, "GET", "/v1/acl/tokens", NULL, &error);
  g_autoptr(CliTable) table = NULL;
  JsonArray *tokens;

  if (root == NULL || !check_array (root, &error))
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (root, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  tokens = json_node_get_array (root);
  table = cli_table_new (3);
  cli_table_add_row (table, _("ACCESSOR ID"), _("DESCRIPTION"), _("POLICIES"), NULL);
  for (guint i = 0; i < json_array_get_length (tokens); i++)
    {
      JsonNode *token = json_array_get_element (tokens, i);
      g_autofree char *names = policy_names (token);
      cli_table_add_row (table, member_string (token, "AccessorID"), member_string (token, "Description"),
                         names, NULL);
    }
  cli_table_print (table, "");
  return CLI_EXIT_OK;
}

static int
token_read_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autofree char *path = acl_path ("/v1/acl/token/", args[0]);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = acl_send (ctx, "GET", path, NULL, &error);

  if (root == NULL || !print_token (ctx, root, &error))
    return cli_context_fail (ctx, error);
  return CLI_EXIT_OK;
}

static int
delete_run (CliContext *ctx, const char *prefix, const char *id, const char *what)
{
  g_autofree char *path = acl_path (prefix, id);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = acl_send (ctx, "DELETE", path, NULL, &error);

  if (root == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->verbose)
    g_print (_("Deleted %s %s\n"), what, id);
  return CLI_EXIT_OK;
}

static int
token_delete_run (CliContext *ctx, const char *const *args, guint n_args)
{
  return delete_run (ctx, "/v1/acl/token/", args[0], _("token"));
}

/* --- policies ------------------------------------------------------------ */

static char *
read_rules (const char *source, GError **error)
{
  g_autoptr(GString) text = g_string_new (NULL);
  char buffer[8192];
  size_t n;

  if (g_strcmp0 (source, "-") != 0)
    {
      char *contents = NULL;
      if (!g_file_get_contents (source, &contents, NULL, error))
        return NULL;
      return contents;
    }
  while ((n = fread (buffer, 1, sizeof buffer, stdin)) > 0)
    g_string_append_len (text, buffer, (gssize) n);
  if (ferror (stdin))
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_FAILED, _("cannot read standard input: %s"), g_strerror (errno));
      return NULL;
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static int
policy_create_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *rules = NULL;

  if (opt_name == NULL || *opt_name == '\0')
    return cli_context_usage_error (ctx, _("--name is required"));
  if (opt_rules != NULL && (rules = read_rules (opt_rules, &error)) == NULL)
    return cli_context_fail (ctx, error);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Name");
  json_builder_add_string_value (b, opt_name);
  json_builder_set_member_name (b, "Description");
  json_builder_add_string_value (b, opt_description != NULL ? opt_description : "");
  json_builder_set_member_name (b, "Rules");
  json_builder_add_string_value (b, rules != NULL ? rules : "");
  json_builder_end_object (b);
  body = json_builder_get_root (b);
  if ((root = acl_send (ctx, "PUT", "/v1/acl/policy", body, &error)) == NULL ||
      !print_policy (ctx, root, &error))
    return cli_context_fail (ctx, error);
  return CLI_EXIT_OK;
}

static int
policy_list_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = acl_send (ctx, "GET", "/v1/acl/policies", NULL, &error);
  g_autoptr(CliTable) table = NULL;
  JsonArray *policies;

  if (root == NULL || !check_array (root, &error))
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (root, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  policies = json_node_get_array (root);
  table = cli_table_new (3);
  cli_table_add_row (table, _("ID"), _("NAME"), _("DESCRIPTION"), NULL);
  for (guint i = 0; i < json_array_get_length (policies); i++)
    {
      JsonNode *policy = json_array_get_element (policies, i);
      cli_table_add_row (table, member_string (policy, "ID"), member_string (policy, "Name"),
                         member_string (policy, "Description"), NULL);
    }
  cli_table_print (table, "");
  return CLI_EXIT_OK;
}

/* A policy is named by its ID or by its name. */
static int
policy_read_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autofree char *path = acl_path (g_uuid_string_is_valid (args[0]) ? "/v1/acl/policy/"
                                                                     : "/v1/acl/policy/name/", args[0]);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = acl_send (ctx, "GET", path, NULL, &error);

  if (root == NULL || !print_policy (ctx, root, &error))
    return cli_context_fail (ctx, error);
  return CLI_EXIT_OK;
}

static int
policy_delete_run (CliContext *ctx, const char *const *args, guint n_args)
{
  const char *id = args[0];
  g_autoptr(JsonNode) found = NULL;

  if (!g_uuid_string_is_valid (id))
    {
      g_autofree char *path = acl_path ("/v1/acl/policy/name/", id);
      g_autoptr(GError) error = NULL;

      if ((found = acl_send (ctx, "GET", path, NULL, &error)) == NULL)
        return cli_context_fail (ctx, error);
      id = member_string (found, "ID");
    }
  return delete_run (ctx, "/v1/acl/policy/", id, _("policy"));
}

/* --- The group ----------------------------------------------------------- */

static const CliCommand token_subcommands[] = {
  {
    .name = "create",
    .summary = N_("Create a token linked to policies"),
    .description = N_("Prints the new token; its SecretID is what clients send."),
    .options = token_create_options,
    .run = token_create_run,
  },
  {
    .name = "list",
    .summary = N_("List the tokens"),
    .run = token_list_run,
  },
  {
    .name = "read",
    .summary = N_("Show a token"),
    .parameters = N_("ACCESSOR-ID"),
    .min_args = 1,
    .max_args = 1,
    .run = token_read_run,
  },
  {
    .name = "delete",
    .summary = N_("Delete a token"),
    .parameters = N_("ACCESSOR-ID"),
    .min_args = 1,
    .max_args = 1,
    .run = token_delete_run,
  },
  { NULL }
};

static const CliCommand policy_subcommands[] = {
  {
    .name = "create",
    .summary = N_("Create a policy"),
    .description = N_("The rules are Consul's (HCL or JSON), e.g. "
                      "key_prefix \"team-a/\" { policy = \"write\" }."),
    .options = policy_create_options,
    .run = policy_create_run,
  },
  {
    .name = "list",
    .summary = N_("List the policies"),
    .run = policy_list_run,
  },
  {
    .name = "read",
    .summary = N_("Show a policy and its rules"),
    .parameters = N_("ID-OR-NAME"),
    .min_args = 1,
    .max_args = 1,
    .run = policy_read_run,
  },
  {
    .name = "delete",
    .summary = N_("Delete a policy"),
    .parameters = N_("ID-OR-NAME"),
    .min_args = 1,
    .max_args = 1,
    .run = policy_delete_run,
  },
  { NULL }
};

static const CliCommand acl_subcommands[] = {
  {
    .name = "bootstrap",
    .summary = N_("Create the first management token (once)"),
    .description = N_("Prints the new management token's SecretID, also saved in "
                      "<state-dir>/bootstrap-token."),
    .run = bootstrap_run,
  },
  {
    .name = "token",
    .summary = N_("Manage ACL tokens"),
    .subcommands = token_subcommands,
  },
  {
    .name = "policy",
    .summary = N_("Manage ACL policies"),
    .subcommands = policy_subcommands,
  },
  { NULL }
};

const CliCommand cli_acl_commands[] = {
  {
    .name = "acl",
    .summary = N_("Manage ACL tokens and policies"),
    .subcommands = acl_subcommands,
  },
  { NULL }
};
