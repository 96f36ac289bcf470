/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-command.h - the berth command table, global options and dispatch
 *
 * Every command group lives in its own file (cli-kv.c, cli-status.c, ...)
 * and exports a NULL-terminated table of the top-level entries it adds,
 * e.g. `cli_kv_commands[]` holding one "kv" group whose subcommands are
 * "get", "put", ...  berth-cli.c lists those tables; adding a group means
 * writing one file, adding it to meson.build and to that list.
 */
#pragma once

#include <glib.h>

#include "cli-client.h"

G_BEGIN_DECLS

/* Exit codes of the berth command. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_FAILURE = 1, /* the request failed, the key was missing, ... */
  CLI_EXIT_USAGE = 2,   /* bad command line */
};

typedef struct _CliContext CliContext;
typedef struct _CliCommand CliCommand;

/* A leaf command's handler: @args are the positional arguments left after
 * option parsing (already checked against min_args/max_args).  Returns the
 * process exit code; use cli_context_fail() to report a GError. */
typedef int (*CliRunFunc) (CliContext        *ctx,
                           const char *const *args,
                           guint              n_args);

#define CLI_ARGS_UNLIMITED G_MAXUINT

struct _CliCommand {
  const char *name;
  const char *summary;          /* N_(): one line shown in command lists */
  /* Leaf commands: */
  const char *parameters;       /* N_(): e.g. "KEY [VALUE]", or NULL */
  const char *description;      /* N_(): longer text for --help, or NULL */
  const GOptionEntry *options;  /* the command's own options, or NULL */
  guint min_args;
  guint max_args;
  CliRunFunc run;
  /* Groups: a NULL-terminated (name == NULL) table of subcommands. */
  const CliCommand *subcommands;
};

/* Global options, shared by every command. */
struct _CliContext {
  char *socket_path;       /* --socket */
  char *address;           /* --address */
  char *token;             /* --token */
  char *ca_file;           /* --cacert */
  gboolean json;           /* --json */
  gboolean verbose;        /* --verbose */
  gboolean version;        /* --version (top level only) */

  const GOptionEntry *global_options; /* added to every command's options */
  char *command_path;      /* "berth kv put": for messages */
  CliClient *client;       /* created on first use */
};

/* Tables exported by the command group files. */
extern const CliCommand cli_status_commands[];
extern const CliCommand cli_kv_commands[];
extern const CliCommand cli_service_commands[];
extern const CliCommand cli_check_commands[];
extern const CliCommand cli_members_commands[];
extern const CliCommand cli_image_commands[];
extern const CliCommand cli_container_commands[];
extern const CliCommand cli_app_commands[];
extern const CliCommand cli_task_commands[];
extern const CliCommand cli_deploy_commands[];
extern const CliCommand cli_events_commands[];
extern const CliCommand cli_acl_commands[];
extern const CliCommand cli_audit_commands[];
extern const CliCommand cli_tls_commands[];

int         cli_command_main        (CliContext       *ctx,
                                     const CliCommand *root,
                                     int               argc,
                                     char            **argv);

CliClient  *cli_context_get_client  (CliContext       *ctx,
                                     GError          **error);
int         cli_context_fail        (CliContext       *ctx,
                                     const GError     *error);
int         cli_context_usage_error (CliContext       *ctx,
                                     const char       *format,
                                     ...) G_GNUC_PRINTF (2, 3);
void        cli_context_clear       (CliContext       *ctx);

G_END_DECLS
