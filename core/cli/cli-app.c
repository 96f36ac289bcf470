/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-app.c - berth app deploy|ls|show|scale|restart|rm (Marathon apps) */
#include "config.h"

#include <gio/gunixinputstream.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "cli-command.h"
#include "cli-output.h"

/* shared with cli-task.c and cli-deploy.c */
char     *cli_app_path       (const char *id);
JsonNode *cli_app_request    (CliContext *ctx, const char *method, const char *path, JsonNode *body,
                              GError **error);

static gboolean opt_force;

static const GOptionEntry force_options[] = {
  { "force", 'f', 0, G_OPTION_ARG_NONE, &opt_force, N_("Override a deployment in progress"), NULL },
  { NULL }
};

/* "web/x" or "/web/x" → "/v2/apps/web/x" */
char *
cli_app_path (const char *id)
{
  while (*id == '/')
    id++;
  return g_strconcat ("/v2/apps/", id, NULL);
}

/* Sends a request with an optional JSON body; returns the JSON answer. */
JsonNode *
cli_app_request (CliContext *ctx, const char *method, const char *path, JsonNode *body, GError **error)
{
  CliClient *client = cli_context_get_client (ctx, error);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(CliResponse) response = NULL;

  if (client == NULL)
    return NULL;
  if (body != NULL)
    {
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      gsize len = 0;
      char *text;
      json_generator_set_root (gen, body);
      text = json_generator_to_data (gen, &len);
      bytes = g_bytes_new_take (text, len);
    }
  response = cli_client_send (client, method, path, bytes, error);
  if (response == NULL || !cli_response_check (response, error))
    return NULL;
  return cli_response_parse_json (response, error);
}

static GBytes *
read_input (const char *name, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  if (g_strcmp0 (name, "-") == 0)
    {
      g_autoptr(GInputStream) in = g_unix_input_stream_new (0, FALSE);
      g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
      if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, error) < 0)
        return NULL;
      return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
    }
  if (!g_file_get_contents (name, &data, &len, error))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&data), len);
}

/* a string member, or "" when missing or null */
static const char *
member_text (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return "";
  return json_node_get_string (n);
}

static int
print_result (CliContext *ctx, JsonNode *node, const char *what, const char *id)
{
  g_autoptr(GError) error = NULL;
  JsonObject *o;

  if (ctx->json)
    return cli_output_json (node, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  o = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  if (o != NULL && json_object_has_member (o, "deploymentId"))
    printf (_("%s %s: deployment %s\n"), what, id,
            json_object_get_string_member_with_default (o, "deploymentId", ""));
  else
    printf ("%s %s\n", what, id);
  return CLI_EXIT_OK;
}

static int
deploy_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = read_input (args[0], &error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(JsonNode) existing = NULL;
  g_autofree char *path = NULL;
  JsonNode *root;
  const char *id;

  if (bytes == NULL)
    return cli_context_fail (ctx, error);
  {
    gsize size = 0;
    const char *text = g_bytes_get_data (bytes, &size);
    if (!json_parser_load_from_data (parser, text != NULL ? text : "", (gssize) size, &error))
      {
        g_prefix_error (&error, _("%s is not JSON: "), args[0]);
        return cli_context_fail (ctx, error);
      }
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      (id = json_object_get_string_member_with_default (json_node_get_object (root), "id", NULL)) == NULL)
    return cli_context_usage_error (ctx, _("%s: an app definition needs an \"id\""), args[0]);
  path = cli_app_path (id);
  existing = cli_app_request (ctx, "GET", path, NULL, &error);
  if (existing == NULL && !g_error_matches (error, CLI_ERROR, CLI_ERROR_NOT_FOUND))
    return cli_context_fail (ctx, error);
  g_clear_error (&error);
  if (existing == NULL)
    answer = cli_app_request (ctx, "POST", "/v2/apps", root, &error);
  else
    {
      g_autofree char *put = g_strconcat (path, opt_force ? "?force=true" : "", NULL);
      answer = cli_app_request (ctx, "PUT", put, root, &error);
    }
  if (answer == NULL)
    return cli_context_fail (ctx, error);
  if (existing == NULL && !ctx->json)
    {
      JsonObject *o = json_node_get_object (answer);
      JsonArray *deps = json_object_get_array_member (o, "deployments");
      JsonObject *d = deps != NULL && json_array_get_length (deps) > 0 ? json_array_get_object_element (deps, 0) : NULL;
      printf (_("Created %s: deployment %s\n"), json_object_get_string_member_with_default (o, "id", id),
              d != NULL ? json_object_get_string_member_with_default (d, "id", "") : "-");
      return CLI_EXIT_OK;
    }
  return print_result (ctx, answer, existing == NULL ? _("Created") : _("Updated"), id);
}

static int
ls_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = cli_app_request (ctx, "GET", "/v2/apps", NULL, &error);
  g_autoptr(CliTable) table = cli_table_new (6);
  JsonArray *apps;

  if (node == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (node, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  apps = json_object_get_array_member (json_node_get_object (node), "apps");
  cli_table_add_row (table, _("ID"), _("INSTANCES"), _("RUNNING"), _("HEALTHY"), _("DEPLOYING"), _("CMD"), NULL);
  for (guint i = 0; apps != NULL && i < json_array_get_length (apps); i++)
    {
      JsonObject *a = json_array_get_object_element (apps, i);
      JsonArray *deps = json_object_get_array_member (a, "deployments");
      g_autofree char *instances = g_strdup_printf ("%" G_GINT64_FORMAT,
                                                    json_object_get_int_member_with_default (a, "instances", 0));
      g_autofree char *running = g_strdup_printf ("%" G_GINT64_FORMAT,
                                                  json_object_get_int_member_with_default (a, "tasksRunning", 0));
      g_autofree char *healthy = g_strdup_printf ("%" G_GINT64_FORMAT,
                                                  json_object_get_int_member_with_default (a, "tasksHealthy", 0));
      cli_table_add_row (table, json_object_get_string_member_with_default (a, "id", ""), instances, running, healthy,
                         deps != NULL && json_array_get_length (deps) > 0 ? _("yes") : _("no"),
                         member_text (a, "cmd"), NULL);
    }
  cli_table_print (table, "");
  return CLI_EXIT_OK;
}

static int
show_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = cli_app_path (args[0]);
  g_autoptr(JsonNode) node = cli_app_request (ctx, "GET", path, NULL, &error);
  g_autoptr(CliTable) table = cli_table_new (4);
  JsonObject *app;
  JsonArray *tasks;
  JsonObject *failure;

  if (node == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (node, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  app = json_object_get_object_member (json_node_get_object (node), "app");
  printf (_("ID:         %s\n"), json_object_get_string_member_with_default (app, "id", ""));
  printf (_("Command:    %s\n"), member_text (app, "cmd"));
  printf (_("Instances:  %" G_GINT64_FORMAT " (%" G_GINT64_FORMAT " running, %" G_GINT64_FORMAT " healthy)\n"),
          json_object_get_int_member_with_default (app, "instances", 0),
          json_object_get_int_member_with_default (app, "tasksRunning", 0),
          json_object_get_int_member_with_default (app, "tasksHealthy", 0));
  printf (_("Resources:  %g cpus, %g MB memory\n"), json_object_get_double_member_with_default (app, "cpus", 0),
          json_object_get_double_member_with_default (app, "mem", 0));
  printf (_("Version:    %s\n"), json_object_get_string_member_with_default (app, "version", ""));
  failure = json_object_has_member (app, "lastTaskFailure") ? json_object_get_object_member (app, "lastTaskFailure")
                                                             : NULL;
  if (failure != NULL)
    printf (_("Last failure: %s %s: %s\n"), json_object_get_string_member_with_default (failure, "timestamp", ""),
            json_object_get_string_member_with_default (failure, "taskId", ""),
            json_object_get_string_member_with_default (failure, "message", ""));
  tasks = json_object_get_array_member (app, "tasks");
  if (tasks != NULL && json_array_get_length (tasks) > 0)
    {
      printf ("\n");
      cli_table_add_row (table, _("TASK"), _("STATE"), _("HOST:PORTS"), _("STARTED"), NULL);
      for (guint i = 0; i < json_array_get_length (tasks); i++)
        {
          JsonObject *t = json_array_get_object_element (tasks, i);
          JsonArray *ports = json_object_get_array_member (t, "ports");
          g_autoptr(GString) hp = g_string_new (json_object_get_string_member_with_default (t, "host", ""));
          for (guint j = 0; ports != NULL && j < json_array_get_length (ports); j++)
            g_string_append_printf (hp, "%c%" G_GINT64_FORMAT, j == 0 ? ':' : ',', json_array_get_int_element (ports, j));
          cli_table_add_row (table, json_object_get_string_member_with_default (t, "id", ""),
                             json_object_get_string_member_with_default (t, "state", ""), hp->str,
                             member_text (t, "startedAt"),
                             NULL);
        }
      cli_table_print (table, "");
    }
  return CLI_EXIT_OK;
}

static int
scale_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = cli_app_path (args[0]);
  g_autofree char *put = g_strconcat (path, opt_force ? "?force=true" : "", NULL);
  g_autoptr(JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonNode) answer = NULL;
  JsonObject *o = json_object_new ();
  guint64 n = 0;

  if (!g_ascii_string_to_unsigned (args[1], 10, 0, G_MAXINT32, &n, NULL))
    {
      json_object_unref (o);
      return cli_context_usage_error (ctx, _("%s is not a number of instances"), args[1]);
    }
  json_object_set_int_member (o, "instances", (gint64) n);
  json_node_take_object (body, o);
  answer = cli_app_request (ctx, "PUT", put, body, &error);
  if (answer == NULL)
    return cli_context_fail (ctx, error);
  return print_result (ctx, answer, _("Scaling"), args[0]);
}

static int
restart_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = cli_app_path (args[0]);
  g_autofree char *post = g_strconcat (path, "/restart", opt_force ? "?force=true" : "", NULL);
  g_autoptr(JsonNode) answer = cli_app_request (ctx, "POST", post, NULL, &error);

  if (answer == NULL)
    return cli_context_fail (ctx, error);
  return print_result (ctx, answer, _("Restarting"), args[0]);
}

static int
rm_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = cli_app_path (args[0]);
  g_autofree char *del = g_strconcat (path, opt_force ? "?force=true" : "", NULL);
  g_autoptr(JsonNode) answer = cli_app_request (ctx, "DELETE", del, NULL, &error);

  if (answer == NULL)
    return cli_context_fail (ctx, error);
  return print_result (ctx, answer, _("Removing"), args[0]);
}

static const CliCommand app_subcommands[] = {
  { .name = "deploy", .summary = N_("Create or update an app from a Marathon JSON definition"),
    .parameters = N_("FILE"), .description = N_("FILE holds a Marathon app definition (\"-\" reads standard input)."),
    .options = force_options, .min_args = 1, .max_args = 1, .run = deploy_run },
  { .name = "ls", .summary = N_("List apps"), .run = ls_run },
  { .name = "show", .summary = N_("Show an app and its tasks"), .parameters = N_("ID"), .min_args = 1,
    .max_args = 1, .run = show_run },
  { .name = "scale", .summary = N_("Change the number of instances of an app"), .parameters = N_("ID N"),
    .options = force_options, .min_args = 2, .max_args = 2, .run = scale_run },
  { .name = "restart", .summary = N_("Replace every task of an app"), .parameters = N_("ID"),
    .options = force_options, .min_args = 1, .max_args = 1, .run = restart_run },
  { .name = "rm", .summary = N_("Stop and remove an app"), .parameters = N_("ID"), .options = force_options,
    .min_args = 1, .max_args = 1, .run = rm_run },
  { NULL }
};

const CliCommand cli_app_commands[] = {
  { .name = "app", .summary = N_("Deploy, list, scale, restart and remove long-running apps"),
    .subcommands = app_subcommands },
  { NULL }
};
