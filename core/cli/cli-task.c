/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-task.c - berth task ls|kill */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli-command.h"
#include "cli-output.h"

/* in cli-app.c */
char     *cli_app_path    (const char *id);
JsonNode *cli_app_request (CliContext *ctx, const char *method, const char *path, JsonNode *body, GError **error);

static gboolean opt_scale;

static const GOptionEntry kill_options[] = {
  { "scale", 0, 0, G_OPTION_ARG_NONE, &opt_scale, N_("Lower the app's instances instead of replacing the task"),
    NULL },
  { NULL }
};

static int
ls_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *app_path = n_args > 0 ? cli_app_path (args[0]) : NULL;
  g_autofree char *path = n_args > 0 ? g_strconcat (app_path, "/tasks", NULL) : g_strdup ("/v2/tasks");
  g_autoptr(JsonNode) node = cli_app_request (ctx, "GET", path, NULL, &error);
  g_autoptr(CliTable) table = cli_table_new (5);
  JsonArray *tasks;

  if (node == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (node, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  tasks = json_object_get_array_member (json_node_get_object (node), "tasks");
  cli_table_add_row (table, _("TASK"), _("APP"), _("STATE"), _("HOST:PORTS"), _("STARTED"), NULL);
  for (guint i = 0; tasks != NULL && i < json_array_get_length (tasks); i++)
    {
      JsonObject *t = json_array_get_object_element (tasks, i);
      JsonArray *ports = json_object_get_array_member (t, "ports");
      g_autoptr(GString) hp = g_string_new (json_object_get_string_member_with_default (t, "host", ""));
      JsonNode *started = json_object_get_member (t, "startedAt");

      for (guint j = 0; ports != NULL && j < json_array_get_length (ports); j++)
        g_string_append_printf (hp, "%c%" G_GINT64_FORMAT, j == 0 ? ':' : ',', json_array_get_int_element (ports, j));
      cli_table_add_row (table, json_object_get_string_member_with_default (t, "id", ""),
                         json_object_get_string_member_with_default (t, "appId", ""),
                         json_object_get_string_member_with_default (t, "state", ""), hp->str,
                         started != NULL && !JSON_NODE_HOLDS_NULL (started) ? json_node_get_string (started) : "",
                         NULL);
    }
  cli_table_print (table, "");
  return CLI_EXIT_OK;
}

static int
kill_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonNode) answer = NULL;
  JsonObject *o = json_object_new ();
  JsonArray *ids = json_array_new ();
  JsonArray *killed;

  for (guint i = 0; i < n_args; i++)
    json_array_add_string_element (ids, args[i]);
  json_object_set_array_member (o, "ids", ids);
  json_node_take_object (body, o);
  answer = cli_app_request (ctx, "POST", opt_scale ? "/v2/tasks/delete?scale=true" : "/v2/tasks/delete", body,
                            &error);
  if (answer == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (answer, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  killed = json_object_get_array_member (json_node_get_object (answer), "tasks");
  if (killed == NULL || json_array_get_length (killed) == 0)
    {
      cli_print_error (_("no such task"));
      return CLI_EXIT_FAILURE;
    }
  for (guint i = 0; i < json_array_get_length (killed); i++)
    printf (_("Killing %s\n"),
            json_object_get_string_member_with_default (json_array_get_object_element (killed, i), "id", ""));
  return CLI_EXIT_OK;
}

static const CliCommand task_subcommands[] = {
  { .name = "ls", .summary = N_("List the tasks of every app, or of one"), .parameters = N_("[APP]"),
    .min_args = 0, .max_args = 1, .run = ls_run },
  { .name = "kill", .summary = N_("Kill tasks (they are replaced unless --scale)"), .parameters = N_("TASK…"),
    .options = kill_options, .min_args = 1, .max_args = CLI_ARGS_UNLIMITED, .run = kill_run },
  { NULL }
};

const CliCommand cli_task_commands[] = {
  { .name = "task", .summary = N_("List and kill the tasks of apps"), .subcommands = task_subcommands },
  { NULL }
};
