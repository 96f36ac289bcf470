/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-tls.c - "berth tls": the CA certificate, certificates for nodes and
 * clients, rotation of the node's certificate (berthd's /api/tls) */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "cli-command.h"
#include "cli-output.h"

/* Only one command runs per process, so the tls commands share these. */
static char *opt_node;
static char *opt_client;
static char *opt_out;
static char **opt_addresses;

static const GOptionEntry create_options[] = {
  { "node", 0, 0, G_OPTION_ARG_STRING, &opt_node,
    N_("A certificate for the node NAME (server and client use)"), N_("NAME") },
  { "client", 0, 0, G_OPTION_ARG_STRING, &opt_client,
    N_("A client certificate for NAME"), N_("NAME") },
  { "address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_addresses,
    N_("An IP address the node's certificate is valid for (repeatable)"), N_("IP") },
  { "out", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out,
    N_("Write the files in DIR (default: the current directory)"), N_("DIR") },
  { NULL }
};

static int
tls_ca_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CliResponse) response = NULL;
  CliClient *client;
  gsize len;
  const char *data;

  if ((client = cli_context_get_client (ctx, &error)) == NULL ||
      (response = cli_client_send (client, "GET", "/api/tls/ca", NULL, &error)) == NULL ||
      !cli_response_check (response, &error))
    return cli_context_fail (ctx, error);
  data = g_bytes_get_data (response->body, &len);
  if (!cli_output_write (data, len, &error))
    return cli_context_fail (ctx, error);
  return CLI_EXIT_OK;
}

static const char *
member (JsonObject *object, const char *name)
{
  return json_object_has_member (object, name) ? json_object_get_string_member_with_default (object, name, NULL)
                                               : NULL;
}

/* Writes @name in @dir; keys are readable by their owner only. */
static char *
write_file (const char *dir, const char *name, const char *text, int mode, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, mode, error))
    return NULL;
  if (g_chmod (path, mode) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), _("Cannot set the mode of %s: %s"),
                   path, g_strerror (errno));
      return NULL;
    }
  return g_steal_pointer (&path);
}

static int
tls_cert_create_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CliResponse) response = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) request = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *text = NULL;
  g_autofree char *cert_name = NULL;
  g_autofree char *key_name = NULL;
  g_autofree char *cert_path = NULL;
  g_autofree char *key_path = NULL;
  const char *dir = opt_out != NULL ? opt_out : ".";
  const char *name = opt_node != NULL ? opt_node : opt_client;
  const char *cert, *key;
  CliClient *client;
  JsonObject *object;

  if ((opt_node == NULL) == (opt_client == NULL))
    return cli_context_usage_error (ctx, _("Give one of --node NAME or --client NAME"));
  if (opt_client != NULL && opt_addresses != NULL)
    return cli_context_usage_error (ctx, _("--address is for node certificates"));
  /* the name becomes file names: berthd checks it, but not for that */
  if (*name == '\0' || strchr (name, '/') != NULL || name[0] == '.')
    return cli_context_usage_error (ctx, _("Invalid name “%s”"), name);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return cli_context_usage_error (ctx, _("%s is not a directory"), dir);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, opt_node != NULL ? "node" : "client");
  json_builder_add_string_value (builder, name);
  if (opt_addresses != NULL)
    {
      json_builder_set_member_name (builder, "addresses");
      json_builder_begin_array (builder);
      for (guint i = 0; opt_addresses[i] != NULL; i++)
        json_builder_add_string_value (builder, opt_addresses[i]);
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);
  request = json_builder_get_root (builder);
  text = json_to_string (request, FALSE);
  body = g_bytes_new (text, strlen (text));

  if ((client = cli_context_get_client (ctx, &error)) == NULL ||
      (response = cli_client_send (client, "POST", "/api/tls/certs", body, &error)) == NULL ||
      !cli_response_check (response, &error) ||
      (answer = cli_response_parse_json (response, &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (!JSON_NODE_HOLDS_OBJECT (answer))
    {
      g_set_error (&error, CLI_ERROR, CLI_ERROR_PROTOCOL, _("berthd sent no certificate"));
      return cli_context_fail (ctx, error);
    }
  object = json_node_get_object (answer);
  cert = member (object, "certificate");
  key = member (object, "private_key");
  if (cert == NULL || key == NULL)
    {
      g_set_error (&error, CLI_ERROR, CLI_ERROR_PROTOCOL, _("berthd sent no certificate"));
      return cli_context_fail (ctx, error);
    }
  cert_name = g_strdup_printf ("%s.pem", name);
  key_name = g_strdup_printf ("%s-key.pem", name);
  if ((key_path = write_file (dir, key_name, key, 0600, &error)) == NULL ||
      (cert_path = write_file (dir, cert_name, cert, 0644, &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (answer, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  printf (_("Wrote %s and %s (serial %s, valid until %s)\n"), cert_path, key_path,
          member (object, "serial") != NULL ? member (object, "serial") : "?",
          member (object, "not_after") != NULL ? member (object, "not_after") : "?");
  return CLI_EXIT_OK;
}

static int
tls_rotate_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CliResponse) response = NULL;
  g_autoptr(JsonNode) answer = NULL;
  CliClient *client;
  JsonObject *object;

  if ((client = cli_context_get_client (ctx, &error)) == NULL ||
      (response = cli_client_send (client, "POST", "/api/tls/rotate", NULL, &error)) == NULL ||
      !cli_response_check (response, &error) ||
      (answer = cli_response_parse_json (response, &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (answer, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  object = JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
  printf (_("The node's certificate is now serial %s, valid until %s\n"),
          object != NULL && member (object, "serial") != NULL ? member (object, "serial") : "?",
          object != NULL && member (object, "not_after") != NULL ? member (object, "not_after") : "?");
  return CLI_EXIT_OK;
}

static const CliCommand cert_subcommands[] = {
  {
    .name = "create",
    .summary = N_("Issue a certificate for a node or a client"),
    .description = N_("berthd's CA signs a new certificate; NAME.pem and NAME-key.pem "
                      "(readable by you only) are written in the current directory or DIR. "
                      "Needs the admin zone (the unix socket)."),
    .options = create_options,
    .min_args = 0,
    .max_args = 0,
    .run = tls_cert_create_run,
  },
  { NULL }
};

static const CliCommand tls_subcommands[] = {
  {
    .name = "ca",
    .summary = N_("Print the CA certificate"),
    .description = N_("Prints the certificate clients verify berthd's HTTPS certificate "
                      "against, e.g. for curl --cacert."),
    .min_args = 0,
    .max_args = 0,
    .run = tls_ca_run,
  },
  {
    .name = "cert",
    .summary = N_("Issue certificates"),
    .subcommands = cert_subcommands,
  },
  {
    .name = "rotate",
    .summary = N_("Renew the node's certificate now"),
    .description = N_("New connections get the new certificate; open ones keep theirs."),
    .min_args = 0,
    .max_args = 0,
    .run = tls_rotate_run,
  },
  { NULL }
};

const CliCommand cli_tls_commands[] = {
  {
    .name = "tls",
    .summary = N_("Certificates of berthd's certificate authority"),
    .subcommands = tls_subcommands,
  },
  { NULL }
};
