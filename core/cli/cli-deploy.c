/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-deploy.c - berth deploy ls|cancel */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli-command.h"
#include "cli-output.h"

/* in cli-app.c */
JsonNode *cli_app_request (CliContext *ctx, const char *method, const char *path, JsonNode *body, GError **error);

static gboolean opt_force;

static const GOptionEntry cancel_options[] = {
  { "force", 'f', 0, G_OPTION_ARG_NONE, &opt_force, N_("Stop the deployment where it is instead of rolling back"),
    NULL },
  { NULL }
};

static int
ls_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = cli_app_request (ctx, "GET", "/v2/deployments", NULL, &error);
  g_autoptr(CliTable) table = cli_table_new (4);
  JsonArray *list;

  if (node == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (node, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  list = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  cli_table_add_row (table, _("DEPLOYMENT"), _("APPS"), _("ACTION"), _("VERSION"), NULL);
  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonObject *d = json_array_get_object_element (list, i);
      JsonArray *apps = json_object_get_array_member (d, "affectedApps");
      JsonArray *actions = json_object_get_array_member (d, "currentActions");
      g_autoptr(GString) names = g_string_new (NULL);
      const char *action = actions != NULL && json_array_get_length (actions) > 0
                             ? json_object_get_string_member_with_default (json_array_get_object_element (actions, 0),
                                                                          "action", "")
                             : "";
      for (guint j = 0; apps != NULL && j < json_array_get_length (apps); j++)
        g_string_append_printf (names, "%s%s", j > 0 ? "," : "", json_array_get_string_element (apps, j));
      cli_table_add_row (table, json_object_get_string_member_with_default (d, "id", ""), names->str, action,
                         json_object_get_string_member_with_default (d, "version", ""), NULL);
    }
  cli_table_print (table, "");
  return CLI_EXIT_OK;
}

static int
cancel_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_strdup_printf ("/v2/deployments/%s%s", args[0], opt_force ? "?force=true" : "");
  g_autoptr(JsonNode) answer = cli_app_request (ctx, "DELETE", path, NULL, &error);
  JsonObject *o;

  if (answer == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (answer, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  o = JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
  if (o != NULL && json_object_has_member (o, "deploymentId"))
    printf (_("Rolling back %s: deployment %s\n"), args[0],
            json_object_get_string_member_with_default (o, "deploymentId", ""));
  else
    printf (_("Stopped %s\n"), args[0]);
  return CLI_EXIT_OK;
}

static const CliCommand deploy_subcommands[] = {
  { .name = "ls", .summary = N_("List the deployments in progress"), .run = ls_run },
  { .name = "cancel", .summary = N_("Roll a deployment back (or stop it with --force)"),
    .parameters = N_("DEPLOYMENT"), .options = cancel_options, .min_args = 1, .max_args = 1, .run = cancel_run },
  { NULL }
};

const CliCommand cli_deploy_commands[] = {
  { .name = "deploy", .summary = N_("List and cancel app deployments"), .subcommands = deploy_subcommands },
  { NULL }
};
