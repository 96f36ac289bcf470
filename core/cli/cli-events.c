/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-events.c - berth events (follows /v2/events) */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "cli-command.h"
#include "cli-output.h"

/* in cli-container.c */
typedef struct _CliStream CliStream;
void          cli_stream_free     (CliStream *stream);
GInputStream *cli_stream_get_body (CliStream *stream);
CliStream    *cli_stream_open     (CliContext *ctx, const char *method, const char *path, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliStream, cli_stream_free)

static void
print_event (CliContext *ctx, const char *type, const char *data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *o;
  const char *what;

  if (ctx->json)
    {
      printf ("%s\n", data);
      fflush (stdout);
      return;
    }
  if (!json_parser_load_from_data (parser, data, -1, NULL) || json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      printf ("%s %s\n", type, data);
      fflush (stdout);
      return;
    }
  o = json_node_get_object (json_parser_get_root (parser));
  what = json_object_get_string_member_with_default (o, "taskId", NULL);
  if (what == NULL)
    what = json_object_get_string_member_with_default (o, "appId", NULL);
  if (what == NULL)
    what = json_object_get_string_member_with_default (o, "id", NULL);
  if (what == NULL && json_object_has_member (o, "plan"))
    what = json_object_get_string_member_with_default (json_object_get_object_member (o, "plan"), "id", NULL);
  if (what == NULL && json_object_has_member (o, "appDefinition"))
    what = json_object_get_string_member_with_default (json_object_get_object_member (o, "appDefinition"), "id",
                                                       NULL);
  printf ("%s %s %s%s%s\n", json_object_get_string_member_with_default (o, "timestamp", ""), type,
          what != NULL ? what : "",
          json_object_has_member (o, "taskStatus") ? " " : "",
          json_object_get_string_member_with_default (o, "taskStatus", ""));
  fflush (stdout);
}

static int
events_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CliStream) stream = cli_stream_open (ctx, "GET", "/v2/events", &error);
  g_autoptr(GDataInputStream) in = NULL;
  g_autofree char *type = NULL;

  if (stream == NULL)
    return cli_context_fail (ctx, error);
  in = g_data_input_stream_new (cli_stream_get_body (stream));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (in, NULL, NULL, &error);
      if (line == NULL)
        break;
      if (g_str_has_prefix (line, "event: "))
        {
          g_free (type);
          type = g_strdup (line + strlen ("event: "));
        }
      else if (g_str_has_prefix (line, "data: "))
        print_event (ctx, type != NULL ? type : "message", line + strlen ("data: "));
    }
  if (error != NULL)
    return cli_context_fail (ctx, error);
  return CLI_EXIT_OK;
}

const CliCommand cli_events_commands[] = {
  { .name = "events", .summary = N_("Follow the scheduler's events (apps, tasks, deployments, health)"),
    .run = events_run },
  { NULL }
};
