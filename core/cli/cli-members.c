/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-members.c - "berth members", "berth join --wan ADDR" and "berth dc
 * ls": the nodes and the datacenters berthd knows */
#include "config.h"

#include <glib/gi18n.h>

#include "cli-command.h"
#include "cli-output.h"

static gboolean opt_wan;

static const GOptionEntry members_options[] = {
  { "wan", 0, 0, G_OPTION_ARG_NONE, &opt_wan,
    N_("List the servers of every linked datacenter"), NULL },
  { NULL }
};

static const GOptionEntry join_options[] = {
  { "wan", 0, 0, G_OPTION_ARG_NONE, &opt_wan,
    N_("Link another datacenter (the only kind of join berthd does)"), NULL },
  { NULL }
};

static int
members_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(CliTable) table = NULL;
  CliClient *client;
  JsonArray *members;

  if ((client = cli_context_get_client (ctx, &error)) == NULL ||
      (root = cli_client_get_json (client, opt_wan ? "/v1/agent/members?wan=1" : "/v1/agent/members",
                                   &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (root, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error_literal (&error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                           _("berthd sent members that are not a JSON array"));
      return cli_context_fail (ctx, error);
    }
  members = json_node_get_array (root);
  /* the columns of `consul members` */
  table = cli_table_new (5);
  cli_table_add_row (table, _("Node"), _("Address"), _("Status"), _("Type"), _("DC"), NULL);
  for (guint i = 0; i < json_array_get_length (members); i++)
    {
      JsonObject *m = json_array_get_object_element (members, i);
      JsonObject *tags;
      g_autofree char *address = NULL;

      if (m == NULL)
        continue;
      tags = json_object_get_object_member (m, "Tags");
      address = g_strdup_printf ("%s:%" G_GINT64_FORMAT,
                                 json_object_get_string_member_with_default (m, "Addr", ""),
                                 json_object_get_int_member_with_default (m, "Port", 0));
      cli_table_add_row (table, json_object_get_string_member_with_default (m, "Name", ""), address,
                         json_object_get_int_member_with_default (m, "Status", 0) == 1 ? _("alive")
                                                                                       : _("failed"),
                         _("server"),
                         tags != NULL ? json_object_get_string_member_with_default (tags, "dc", "") : "",
                         NULL);
    }
  cli_table_print (table, NULL);
  return CLI_EXIT_OK;
}

static int
join_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CliResponse) response = NULL;
  g_autofree char *escaped = cli_escape_path (args[0]);
  g_autofree char *path = NULL;
  CliClient *client;

  if (!opt_wan)
    return cli_context_usage_error (ctx, _("berthd only joins other datacenters: use --wan"));
  path = g_strconcat ("/v1/agent/join/", escaped, "?wan=1", NULL);
  if ((client = cli_context_get_client (ctx, &error)) == NULL ||
      (response = cli_client_send (client, "PUT", path, NULL, &error)) == NULL ||
      !cli_response_check (response, &error))
    return cli_context_fail (ctx, error);
  g_print (_("Successfully joined datacenter at %s\n"), args[0]);
  return CLI_EXIT_OK;
}

static int
dc_ls_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  CliClient *client;
  JsonArray *dcs;

  if ((client = cli_context_get_client (ctx, &error)) == NULL ||
      (root = cli_client_get_json (client, "/v1/catalog/datacenters", &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (root, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error_literal (&error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                           _("berthd sent datacenters that are not a JSON array"));
      return cli_context_fail (ctx, error);
    }
  dcs = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (dcs); i++)
    {
      const char *dc = json_array_get_string_element (dcs, i);
      if (dc != NULL)
        g_print ("%s\n", dc);
    }
  return CLI_EXIT_OK;
}

static const CliCommand dc_subcommands[] = {
  {
    .name = "ls",
    .summary = N_("List this datacenter and the linked ones"),
    .min_args = 0,
    .max_args = 0,
    .run = dc_ls_run,
  },
  { NULL }
};

const CliCommand cli_members_commands[] = {
  {
    .name = "members",
    .summary = N_("List the members of this datacenter (or, with --wan, of all)"),
    .options = members_options,
    .min_args = 0,
    .max_args = 0,
    .run = members_run,
  },
  {
    .name = "join",
    .summary = N_("Link another datacenter's berthd"),
    .parameters = N_("ADDRESS"),
    .description = N_("ADDRESS is HOST:PORT of the other berthd's HTTP API. The link is "
                      "stored and goes both ways."),
    .options = join_options,
    .min_args = 1,
    .max_args = 1,
    .run = join_run,
  },
  {
    .name = "dc",
    .summary = N_("List datacenters"),
    .subcommands = dc_subcommands,
  },
  { NULL }
};
