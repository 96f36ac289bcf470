/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-status.c - "berth status": the daemon, its store and its plugins */
#include "config.h"

#include <glib/gi18n.h>

#include "cli-command.h"
#include "cli-output.h"

/* A scalar member as text; NULL when absent or null. */
static char *
member_text (JsonObject *object,
             const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NULL;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return g_strdup (json_node_get_string (node));
    case G_TYPE_INT64:
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
    case G_TYPE_DOUBLE:
      return g_strdup_printf ("%g", json_node_get_double (node));
    case G_TYPE_BOOLEAN:
      return g_strdup (json_node_get_boolean (node) ? "true" : "false");
    default:
      return NULL;
    }
}

static char *
format_uptime (JsonObject *object)
{
  JsonNode *node = json_object_get_member (object, "uptime_seconds");
  gint64 seconds;
  guint days, hours, minutes, secs;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return NULL;

  seconds = MAX (json_node_get_int (node), 0);
  days = seconds / 86400;
  hours = (seconds / 3600) % 24;
  minutes = (seconds / 60) % 60;
  secs = seconds % 60;

  if (days > 0)
    return g_strdup_printf (_("%ud %uh %um %us"), days, hours, minutes, secs);
  if (hours > 0)
    return g_strdup_printf (_("%uh %um %us"), hours, minutes, secs);
  if (minutes > 0)
    return g_strdup_printf (_("%um %us"), minutes, secs);
  return g_strdup_printf (_("%us"), secs);
}

static void
add_field (CliTable   *table,
           const char *label,
           char       *value)
{
  g_autofree char *owned_value = value;
  g_autofree char *label_colon = g_strdup_printf (_("%s:"), label);

  cli_table_add_row (table, label_colon, owned_value != NULL ? owned_value : "-", NULL);
}

static void
print_plugins (JsonObject *status)
{
  JsonNode *node = json_object_get_member (status, "plugins");
  g_autoptr(CliTable) table = cli_table_new (3);
  JsonArray *plugins;
  guint n;

  g_print ("\n%s\n", _("Plugins:"));
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node)
      || (n = json_array_get_length (plugins = json_node_get_array (node))) == 0)
    {
      g_print ("  %s\n", _("(none)"));
      return;
    }

  cli_table_add_row (table, _("NAME"), _("STATE"), _("ERROR"), NULL);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *element = json_array_get_element (plugins, i);
      g_autofree char *name = NULL;
      g_autofree char *state = NULL;
      g_autofree char *error = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      name = member_text (json_node_get_object (element), "name");
      state = member_text (json_node_get_object (element), "state");
      error = member_text (json_node_get_object (element), "error");
      cli_table_add_row (table, name != NULL ? name : "?", state != NULL ? state : "?",
                         error != NULL ? error : "", NULL);
    }
  cli_table_print (table, "  ");
}

static int
status_run (CliContext        *ctx,
            const char *const *args,
            guint              n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(CliTable) table = NULL;
  CliClient *client;
  JsonObject *status;

  if ((client = cli_context_get_client (ctx, &error)) == NULL
      || (root = cli_client_get_json (client, "/api/status", &error)) == NULL)
    return cli_context_fail (ctx, error);

  if (ctx->json)
    return cli_output_json (root, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (&error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                           _("berthd sent a status that is not a JSON object"));
      return cli_context_fail (ctx, error);
    }
  status = json_node_get_object (root);

  table = cli_table_new (2);
  add_field (table, _("Version"), member_text (status, "version"));
  add_field (table, _("Node"), member_text (status, "node"));
  add_field (table, _("Datacenter"), member_text (status, "datacenter"));
  add_field (table, _("Store index"), member_text (status, "index"));
  add_field (table, _("Uptime"), format_uptime (status));
  add_field (table, _("HTTP address"), member_text (status, "http_addr"));
  add_field (table, _("Socket"), member_text (status, "socket"));
  add_field (table, _("State directory"), member_text (status, "state_dir"));
  cli_table_print (table, NULL);

  print_plugins (status);
  return CLI_EXIT_OK;
}

const CliCommand cli_status_commands[] = {
  {
    .name = "status",
    .summary = N_("Show the state of berthd and its plugins"),
    .description = N_("Asks berthd for its version, node, datacenter, store index, uptime, "
                      "addresses and the state of each plugin."),
    .min_args = 0,
    .max_args = 0,
    .run = status_run,
  },
  { NULL }
};
