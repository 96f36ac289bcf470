/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-service.c - "berth service": list, show, register and deregister the
 * services of the catalog (Consul's /v1/catalog and /v1/agent/service) */
#include "config.h"

#include <gio/gunixinputstream.h>
#include <glib/gi18n.h>
#include <string.h>

#include "cli-command.h"
#include "cli-output.h"

static char *
json_text (JsonObject *object, const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("");
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      g_autoptr(GString) out = g_string_new (NULL);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          const char *s = json_array_get_string_element (array, i);
          if (out->len > 0)
            g_string_append_c (out, ',');
          g_string_append (out, s != NULL ? s : "?");
        }
      return g_string_free (g_steal_pointer (&out), FALSE);
    }
  return json_to_string (node, FALSE);
}

static int
service_ls_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(CliTable) table = NULL;
  g_autoptr(GList) names = NULL;
  CliClient *client;

  if ((client = cli_context_get_client (ctx, &error)) == NULL ||
      (root = cli_client_get_json (client, "/v1/catalog/services", &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (root, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (&error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                           _("berthd sent a service list that is not a JSON object"));
      return cli_context_fail (ctx, error);
    }
  table = cli_table_new (2);
  cli_table_add_row (table, _("NAME"), _("TAGS"), NULL);
  names = g_list_sort (json_object_get_members (json_node_get_object (root)), (GCompareFunc) g_strcmp0);
  for (GList *l = names; l != NULL; l = l->next)
    {
      g_autofree char *tags = json_text (json_node_get_object (root), l->data);
      cli_table_add_row (table, l->data, tags, NULL);
    }
  cli_table_print (table, NULL);
  return CLI_EXIT_OK;
}

static int
service_show_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(CliTable) table = NULL;
  g_autofree char *escaped = cli_escape_path (args[0]);
  g_autofree char *path = g_strconcat ("/v1/health/service/", escaped, NULL);
  CliClient *client;
  JsonArray *entries;

  if ((client = cli_context_get_client (ctx, &error)) == NULL ||
      (root = cli_client_get_json (client, path, &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (root, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error_literal (&error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                           _("berthd sent instances that are not a JSON array"));
      return cli_context_fail (ctx, error);
    }
  entries = json_node_get_array (root);
  if (json_array_get_length (entries) == 0)
    {
      g_set_error (&error, CLI_ERROR, CLI_ERROR_NOT_FOUND, _("No instances of service “%s”"), args[0]);
      return cli_context_fail (ctx, error);
    }
  table = cli_table_new (6);
  cli_table_add_row (table, _("ID"), _("NODE"), _("ADDRESS"), _("PORT"), _("STATUS"), _("TAGS"), NULL);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *e = json_array_get_object_element (entries, i);
      JsonObject *node = e != NULL ? json_object_get_object_member (e, "Node") : NULL;
      JsonObject *svc = e != NULL ? json_object_get_object_member (e, "Service") : NULL;
      JsonArray *checks = e != NULL ? json_object_get_array_member (e, "Checks") : NULL;
      const char *status = "passing";
      g_autofree char *id = json_text (svc, "ID");
      g_autofree char *node_name = json_text (node, "Node");
      g_autofree char *address = json_text (svc, "Address");
      g_autofree char *port = json_text (svc, "Port");
      g_autofree char *tags = json_text (svc, "Tags");

      if (*address == '\0')
        {
          g_free (address);
          address = json_text (node, "Address");
        }
      for (guint j = 0; checks != NULL && j < json_array_get_length (checks); j++)
        {
          JsonObject *c = json_array_get_object_element (checks, j);
          const char *s = c != NULL ? json_object_get_string_member_with_default (c, "Status", "") : "";
          if (g_strcmp0 (s, "critical") == 0)
            status = "critical";
          else if (g_strcmp0 (s, "warning") == 0 && g_strcmp0 (status, "critical") != 0)
            status = "warning";
        }
      cli_table_add_row (table, id, node_name, address, port, status, tags, NULL);
    }
  cli_table_print (table, NULL);
  return CLI_EXIT_OK;
}

static int
service_register_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(CliResponse) response = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *data = NULL;
  gsize len = 0;
  CliClient *client;

  if (g_strcmp0 (args[0], "-") == 0)
    {
      g_autoptr(GInputStream) in = g_unix_input_stream_new (0, FALSE);
      g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

      if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error) < 0)
        return cli_context_fail (ctx, error);
      body = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
    }
  else
    {
      if (!g_file_get_contents (args[0], &data, &len, &error))
        return cli_context_fail (ctx, error);
      body = g_bytes_new_take (g_steal_pointer (&data), len);
    }
  {
    gsize size = 0;
    const char *text = g_bytes_get_data (body, &size);
    if (!json_parser_load_from_data (parser, text != NULL ? text : "", (gssize) size, &error))
      {
        g_prefix_error (&error, _("%s is not JSON: "), args[0]);
        return cli_context_fail (ctx, error);
      }
  }
  /* Consul's service files wrap the definition in {"service": {...}} */
  {
    JsonNode *root = json_parser_get_root (parser);
    if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
      {
        JsonObject *o = json_node_get_object (root);
        JsonNode *inner = json_object_get_member (o, "service");
        if (inner == NULL)
          inner = json_object_get_member (o, "Service");
        if (inner != NULL && JSON_NODE_HOLDS_OBJECT (inner) && json_object_get_size (o) == 1)
          {
            char *text = json_to_string (inner, FALSE);
            g_bytes_unref (body);
            body = g_bytes_new_take (text, strlen (text));
          }
      }
  }
  if ((client = cli_context_get_client (ctx, &error)) == NULL ||
      (response = cli_client_send (client, "PUT", "/v1/agent/service/register", body, &error)) == NULL ||
      !cli_response_check (response, &error))
    return cli_context_fail (ctx, error);
  return CLI_EXIT_OK;
}

static int
service_deregister_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CliResponse) response = NULL;
  g_autofree char *escaped = cli_escape_path (args[0]);
  g_autofree char *path = g_strconcat ("/v1/agent/service/deregister/", escaped, NULL);
  CliClient *client;

  if ((client = cli_context_get_client (ctx, &error)) == NULL ||
      (response = cli_client_send (client, "PUT", path, NULL, &error)) == NULL ||
      !cli_response_check (response, &error))
    return cli_context_fail (ctx, error);
  return CLI_EXIT_OK;
}

static const CliCommand service_subcommands[] = {
  {
    .name = "ls",
    .summary = N_("List the services of the catalog with their tags"),
    .min_args = 0,
    .max_args = 0,
    .run = service_ls_run,
  },
  {
    .name = "show",
    .summary = N_("Show the instances of a service with their health"),
    .parameters = N_("NAME"),
    .min_args = 1,
    .max_args = 1,
    .run = service_show_run,
  },
  {
    .name = "register",
    .summary = N_("Register a service on this node from a JSON definition"),
    .parameters = N_("FILE"),
    .description = N_("FILE holds a Consul service definition (\"-\" reads standard input), "
                      "either the definition itself or {\"service\": {...}}."),
    .min_args = 1,
    .max_args = 1,
    .run = service_register_run,
  },
  {
    .name = "deregister",
    .summary = N_("Deregister a service of this node"),
    .parameters = N_("ID"),
    .min_args = 1,
    .max_args = 1,
    .run = service_deregister_run,
  },
  { NULL }
};

const CliCommand cli_service_commands[] = {
  {
    .name = "service",
    .summary = N_("List, show, register and deregister services"),
    .subcommands = service_subcommands,
  },
  { NULL }
};
