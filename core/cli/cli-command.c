/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-command.c - walks the command table, parses options, prints help
 *
 * "berth [GLOBAL…] GROUP [GLOBAL…] COMMAND [OPTION…] ARG…": each level gets
 * its own GOptionContext holding the global options too, so they may be
 * given anywhere.  Group levels stop parsing at the first non-option (strict
 * POSIX) so that the next level sees the rest.
 */
#include "config.h"

#include "cli-command.h"
#include "cli-output.h"

#include <stdio.h>
#include <glib/gi18n.h>

static gboolean opt_help;

static const GOptionEntry help_entries[] = {
  { "help", 'h', 0, G_OPTION_ARG_NONE, &opt_help, N_("Show help for this command"), NULL },
  { NULL }
};

static GOptionContext *
make_option_context (CliContext       *ctx,
                     const CliCommand *command,
                     const char       *path)
{
  gboolean is_group = command->subcommands != NULL;
  GOptionContext *context;
  GOptionGroup *global;
  g_autoptr(GString) summary = g_string_new (NULL);

  if (is_group)
    context = g_option_context_new (_("COMMAND [ARG…]"));
  else
    context = g_option_context_new (command->parameters != NULL ? _(command->parameters) : NULL);

  g_option_context_set_help_enabled (context, FALSE);
  g_option_context_set_strict_posix (context, is_group);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);

  /* Groups are listed in the order they are added, the command's first. */
  if (command->options != NULL)
    {
      GOptionGroup *own = g_option_group_new ("command", _("Options:"),
                                              _("Show the command's options"), ctx, NULL);

      g_option_group_set_translation_domain (own, GETTEXT_PACKAGE);
      g_option_group_add_entries (own, command->options);
      g_option_context_add_group (context, own);
    }

  global = g_option_group_new ("global", _("Global Options:"), _("Show global options"),
                               ctx, NULL);
  g_option_group_set_translation_domain (global, GETTEXT_PACKAGE);
  g_option_group_add_entries (global, help_entries);
  g_option_group_add_entries (global, ctx->global_options);
  g_option_context_add_group (context, global);

  if (command->summary != NULL)
    g_string_append (summary, _(command->summary));

  if (is_group)
    {
      gsize longest = 0;

      for (const CliCommand *sub = command->subcommands; sub->name != NULL; sub++)
        longest = MAX (longest, strlen (sub->name));

      g_string_append_printf (summary, "%s%s", summary->len > 0 ? "\n\n" : "", _("Commands:"));
      for (const CliCommand *sub = command->subcommands; sub->name != NULL; sub++)
        g_string_append_printf (summary, "\n  %-*s  %s", (int) longest, sub->name,
                                sub->summary != NULL ? _(sub->summary) : "");

      {
        g_autofree char *hint = g_strdup_printf (_("Run \"%s COMMAND --help\" for help on a command."),
                                                 path);
        g_option_context_set_description (context, hint);
      }
    }
  else if (command->description != NULL)
    g_option_context_set_description (context, _(command->description));

  if (summary->len > 0)
    g_option_context_set_summary (context, summary->str);

  return context;
}

static void
print_help (GOptionContext *context,
            const char     *path,
            FILE           *stream)
{
  g_autofree char *prgname = g_strdup (g_get_prgname ());
  g_autofree char *help = NULL;

  /* The usage line reads "Usage: <prgname> [OPTION…] ..." */
  g_set_prgname (path);
  help = g_option_context_get_help (context, FALSE, NULL);
  g_set_prgname (prgname);

  fputs (help, stream);
}

int
cli_context_usage_error (CliContext *ctx,
                         const char *format,
                         ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  cli_print_error ("%s", message);
  fprintf (stderr, _("Try \"%s --help\" for more information.\n"),
           ctx->command_path != NULL ? ctx->command_path : "berth");
  return CLI_EXIT_USAGE;
}

int
cli_context_fail (CliContext   *ctx,
                  const GError *error)
{
  if (g_error_matches (error, CLI_ERROR, CLI_ERROR_USAGE))
    return cli_context_usage_error (ctx, "%s", error->message);

  cli_print_error ("%s", error->message);
  if (g_error_matches (error, CLI_ERROR, CLI_ERROR_DENIED) && ctx->token == NULL
      && g_getenv ("BERTH_TOKEN") == NULL)
    cli_print_error ("%s", _("hint: pass an ACL token with --token or $BERTH_TOKEN"));
  return CLI_EXIT_FAILURE;
}

CliClient *
cli_context_get_client (CliContext  *ctx,
                        GError     **error)
{
  if (ctx->client == NULL)
    ctx->client = cli_client_new (ctx->socket_path, ctx->address, ctx->token, ctx->ca_file, error);
  return ctx->client;
}

void
cli_context_clear (CliContext *ctx)
{
  g_clear_pointer (&ctx->client, cli_client_free);
  g_clear_pointer (&ctx->socket_path, g_free);
  g_clear_pointer (&ctx->address, g_free);
  g_clear_pointer (&ctx->token, g_free);
  g_clear_pointer (&ctx->ca_file, g_free);
  g_clear_pointer (&ctx->command_path, g_free);
}

static const CliCommand *
find_command (const CliCommand *table,
              const char       *name)
{
  for (const CliCommand *command = table; command->name != NULL; command++)
    if (g_str_equal (command->name, name))
      return command;
  return NULL;
}

static int
run_command (CliContext       *ctx,
             const CliCommand *command,
             const char       *path,
             gboolean          is_root,
             int               argc,
             char            **argv)
{
  g_autoptr(GOptionContext) context = make_option_context (ctx, command, path);
  g_autoptr(GError) error = NULL;
  const CliCommand *sub;
  g_autofree char *sub_path = NULL;
  guint n_args;

  g_free (ctx->command_path);
  ctx->command_path = g_strdup (path);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return cli_context_usage_error (ctx, "%s", error->message);

  /* GOption may leave a "--" in place: drop the first one a command sees. */
  for (int i = 1; command->subcommands == NULL && i < argc; i++)
    if (g_str_equal (argv[i], "--"))
      {
        memmove (&argv[i], &argv[i + 1], (argc - i) * sizeof (char *));
        argc--;
        break;
      }

  if (opt_help)
    {
      print_help (context, path, stdout);
      return CLI_EXIT_OK;
    }
  if (ctx->version)
    {
      g_print (_("berth %s\n"), BERTH_VERSION);
      return CLI_EXIT_OK;
    }

  if (command->subcommands == NULL)
    {
      n_args = argc - 1;
      if (n_args < command->min_args)
        return cli_context_usage_error (ctx, _("missing argument (usage: %s %s)"), path,
                                        command->parameters != NULL ? _(command->parameters) : "");
      if (n_args > command->max_args)
        return cli_context_usage_error (ctx, _("too many arguments"));
      return command->run (ctx, (const char *const *) argv + 1, n_args);
    }

  if (argc < 2)
    {
      print_help (context, path, stderr);
      return CLI_EXIT_USAGE;
    }

  /* "berth help [COMMAND…]" is "berth [COMMAND…] --help". */
  if (is_root && g_str_equal (argv[1], "help"))
    {
      g_autofree char **help_argv = g_new0 (char *, argc + 1);
      int help_argc = 0;

      help_argv[help_argc++] = argv[0];
      for (int i = 2; i < argc; i++)
        help_argv[help_argc++] = argv[i];
      help_argv[help_argc++] = (char *) "--help";

      g_clear_pointer (&context, g_option_context_free);
      return run_command (ctx, command, path, FALSE, help_argc, help_argv);
    }

  sub = find_command (command->subcommands, argv[1]);
  if (sub == NULL)
    return cli_context_usage_error (ctx, _("unknown command \"%s\""), argv[1]);

  sub_path = g_strdup_printf ("%s %s", path, sub->name);
  return run_command (ctx, sub, sub_path, FALSE, argc - 1, argv + 1);
}

int
cli_command_main (CliContext       *ctx,
                  const CliCommand *root,
                  int               argc,
                  char            **argv)
{
  return run_command (ctx, root, root->name, TRUE, argc, argv);
}
