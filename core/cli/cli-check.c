/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-check.c - "berth check": the health checks of this node (Consul's
 * /v1/agent/checks) */
#include "config.h"

#include <glib/gi18n.h>

#include "cli-command.h"
#include "cli-output.h"

static const char *
member (JsonObject *object, const char *name)
{
  const char *value = json_object_get_string_member_with_default (object, name, "");
  return value != NULL ? value : "";
}

static int
check_ls_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(CliTable) table = NULL;
  g_autoptr(GList) ids = NULL;
  CliClient *client;
  JsonObject *checks;

  if ((client = cli_context_get_client (ctx, &error)) == NULL ||
      (root = cli_client_get_json (client, "/v1/agent/checks", &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (root, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (&error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                           _("berthd sent checks that are not a JSON object"));
      return cli_context_fail (ctx, error);
    }
  checks = json_node_get_object (root);
  table = cli_table_new (5);
  cli_table_add_row (table, _("ID"), _("NAME"), _("TYPE"), _("SERVICE"), _("STATUS"), NULL);
  ids = g_list_sort (json_object_get_members (checks), (GCompareFunc) g_strcmp0);
  for (GList *l = ids; l != NULL; l = l->next)
    {
      JsonObject *c = json_object_get_object_member (checks, l->data);
      if (c == NULL)
        continue;
      cli_table_add_row (table, l->data, member (c, "Name"), member (c, "Type"),
                         member (c, "ServiceName"), member (c, "Status"), NULL);
    }
  cli_table_print (table, NULL);
  return CLI_EXIT_OK;
}

static const CliCommand check_subcommands[] = {
  {
    .name = "ls",
    .summary = N_("List the health checks of this node and their status"),
    .min_args = 0,
    .max_args = 0,
    .run = check_ls_run,
  },
  { NULL }
};

const CliCommand cli_check_commands[] = {
  {
    .name = "check",
    .summary = N_("List health checks"),
    .subcommands = check_subcommands,
  },
  { NULL }
};
