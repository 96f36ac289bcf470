/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-audit.c - "berth audit": list the audit trail and verify its hash
 * chain (GET /v1/audit and /v1/audit/verify: admin zone, so through the
 * unix socket or an admin listener) */
#include "config.h"

#include <glib/gi18n.h>

#include "cli-command.h"
#include "cli-output.h"

static char *opt_after;
static char *opt_limit;

static const GOptionEntry ls_options[] = {
  { "after", 0, 0, G_OPTION_ARG_STRING, &opt_after,
    N_("Only the rows after row ID"), N_("ID") },
  { "limit", 'n', 0, G_OPTION_ARG_STRING, &opt_limit,
    N_("At most N rows (default 1000)"), N_("N") },
  { NULL }
};

static gboolean
parse_count (CliContext *ctx, const char *option, const char *text, guint64 *out)
{
  g_autoptr(GError) error = NULL;

  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, out, &error))
    {
      cli_context_usage_error (ctx, _("--%s: %s"), option, error->message);
      return FALSE;
    }
  return TRUE;
}

static const char *
text_member (JsonObject *o, const char *name)
{
  JsonNode *node = json_object_get_member (o, name);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return "-";
  return json_node_get_string (node);
}

static int
ls_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(CliTable) table = NULL;
  g_autofree char *path = NULL;
  guint64 after = 0, limit = 1000;
  CliClient *client;
  JsonArray *rows;

  if (!parse_count (ctx, "after", opt_after, &after) || !parse_count (ctx, "limit", opt_limit, &limit))
    return CLI_EXIT_USAGE;
  path = g_strdup_printf ("/v1/audit?after=%" G_GUINT64_FORMAT "&limit=%" G_GUINT64_FORMAT, after, limit);
  if ((client = cli_context_get_client (ctx, &error)) == NULL ||
      (root = cli_client_get_json (client, path, &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (root, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error_literal (&error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                           _("berthd sent an audit trail that is not a JSON array"));
      return cli_context_fail (ctx, error);
    }
  rows = json_node_get_array (root);
  table = cli_table_new (8);
  cli_table_add_row (table, _("Row"), _("Time"), _("Index"), _("Status"), _("Method"), _("Path"),
                     _("Accessor"), _("Caller"), NULL);
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *r = json_array_get_object_element (rows, i);
      g_autofree char *id = NULL;
      g_autofree char *index = NULL;
      g_autofree char *status = NULL;

      if (r == NULL)
        continue;
      id = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member_with_default (r, "id", 0));
      index = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member_with_default (r, "index", 0));
      if (json_object_get_null_member (r, "status") || !json_object_has_member (r, "status"))
        status = g_strdup ("-");
      else
        status = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (r, "status"));
      cli_table_add_row (table, id, text_member (r, "time"), index, status, text_member (r, "method"),
                         text_member (r, "path"), text_member (r, "accessor"), text_member (r, "peer"),
                         NULL);
    }
  cli_table_print (table, NULL);
  return CLI_EXIT_OK;
}

static int
verify_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  CliClient *client;
  JsonObject *verdict;
  gboolean ok;

  if ((client = cli_context_get_client (ctx, &error)) == NULL ||
      (root = cli_client_get_json (client, "/v1/audit/verify", &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (!JSON_NODE_HOLDS_OBJECT (root) ||
      !json_object_has_member (verdict = json_node_get_object (root), "ok"))
    {
      g_set_error_literal (&error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                           _("berthd sent a verdict that is not a JSON object with “ok”"));
      return cli_context_fail (ctx, error);
    }
  ok = json_object_get_boolean_member (verdict, "ok");
  if (ctx->json)
    {
      if (!cli_output_json (root, &error))
        return cli_context_fail (ctx, error);
      return ok ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
    }
  if (!ok)
    {
      cli_print_error (_("The audit trail does not verify: %s (first bad row: %" G_GINT64_FORMAT ")"),
                       text_member (verdict, "reason"),
                       json_object_get_int_member_with_default (verdict, "first_bad_index", 0));
      return CLI_EXIT_FAILURE;
    }
  {
    JsonObject *checkpoint = json_object_get_member (verdict, "checkpoint") != NULL &&
                             !json_object_get_null_member (verdict, "checkpoint")
                               ? json_object_get_object_member (verdict, "checkpoint") : NULL;
    gint64 rows = json_object_get_int_member_with_default (verdict, "rows", 0);
    if (checkpoint != NULL)
      g_print (_("The audit trail verifies: %" G_GINT64_FORMAT " rows after the signed checkpoint "
                 "of row %" G_GINT64_FORMAT "\n"),
               rows, json_object_get_int_member_with_default (checkpoint, "last_id", 0));
    else
      g_print (_("The audit trail verifies: %" G_GINT64_FORMAT " rows\n"), rows);
  }
  return CLI_EXIT_OK;
}

static const CliCommand audit_subcommands[] = {
  {
    .name = "ls",
    .summary = N_("List the audit trail: every state-changing and every refused request"),
    .options = ls_options,
    .min_args = 0,
    .max_args = 0,
    .run = ls_run,
  },
  {
    .name = "verify",
    .summary = N_("Recompute the audit trail's hash chain; name the first row changed or removed"),
    .description = N_("Exits with status 1 when a row was changed or removed."),
    .min_args = 0,
    .max_args = 0,
    .run = verify_run,
  },
  { NULL }
};

const CliCommand cli_audit_commands[] = {
  {
    .name = "audit",
    .summary = N_("The audit trail (admin: the unix socket or an admin listener)"),
    .subcommands = audit_subcommands,
  },
  { NULL }
};
