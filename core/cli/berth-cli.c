/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-cli.c - berth, the command-line client of berthd
 *
 * main(), the global options and the table of command groups.  To add a
 * group: write cli-<group>.c exporting `const CliCommand cli_<group>_commands[]`,
 * declare it in cli-command.h, list it in command_tables below and in
 * meson.build.
 */
#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "cli-command.h"

static CliContext cli;

static gboolean
set_string_option (const char  *option_name,
                   const char  *value,
                   gpointer     data,
                   GError     **error)
{
  CliContext *ctx = data;
  char **field;

  if (g_str_equal (option_name, "--socket"))
    field = &ctx->socket_path;
  else if (g_str_equal (option_name, "--address"))
    field = &ctx->address;
  else if (g_str_equal (option_name, "--cacert"))
    field = &ctx->ca_file;
  else
    field = &ctx->token;

  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static const GOptionEntry global_options[] = {
  { "socket", 0, 0, G_OPTION_ARG_CALLBACK, set_string_option,
    N_("Talk to berthd over this unix socket ($BERTH_SOCKET)"), N_("PATH") },
  { "address", 0, 0, G_OPTION_ARG_CALLBACK, set_string_option,
    N_("Talk to berthd over TCP ($BERTH_HTTP_ADDR)"), N_("HOST:PORT") },
  { "cacert", 0, 0, G_OPTION_ARG_CALLBACK, set_string_option,
    N_("Trust this CA for https:// addresses ($BERTH_CACERT, then $CONSUL_CACERT)"), N_("FILE") },
  { "token", 0, 0, G_OPTION_ARG_CALLBACK, set_string_option,
    N_("ACL token to send ($BERTH_TOKEN, then $CONSUL_HTTP_TOKEN)"), N_("TOKEN") },
  { "json", 0, 0, G_OPTION_ARG_NONE, &cli.json,
    N_("Print JSON instead of text"), NULL },
  { "verbose", 0, 0, G_OPTION_ARG_NONE, &cli.verbose,
    N_("Say what was done"), NULL },
  { NULL }
};

static const GOptionEntry root_options[] = {
  { "version", 0, 0, G_OPTION_ARG_NONE, &cli.version,
    N_("Print the version and exit"), NULL },
  { NULL }
};

/* Each file adds its own top-level commands (usually one group). */
static const CliCommand *const command_tables[] = {
  cli_status_commands,
  cli_kv_commands,
  cli_service_commands,
  cli_check_commands,
  cli_members_commands,
  cli_image_commands,
  cli_container_commands,
  cli_app_commands,
  cli_task_commands,
  cli_deploy_commands,
  cli_events_commands,
  cli_acl_commands,
  cli_audit_commands,
  cli_tls_commands,
};

int
main (int    argc,
      char **argv)
{
  g_autoptr(GArray) commands = g_array_new (TRUE, TRUE, sizeof (CliCommand));
  CliCommand root = {
    .name = "berth",
    .summary = N_("Drive berthd, the datacenter in a box."),
    .options = root_options,
  };
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("berth");

  for (gsize i = 0; i < G_N_ELEMENTS (command_tables); i++)
    for (const CliCommand *command = command_tables[i]; command->name != NULL; command++)
      g_array_append_val (commands, *command);
  root.subcommands = (const CliCommand *) (gpointer) commands->data;

  cli.global_options = global_options;
  status = cli_command_main (&cli, &root, argc, argv);
  cli_context_clear (&cli);
  return status;
}
