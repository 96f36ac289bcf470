/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-image.c - berth image pull|ls|rm|import|save|prune */
#include "config.h"

#include <gio/gunixoutputstream.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "cli-command.h"
#include "cli-output.h"

static gboolean opt_force;
static gboolean opt_all;
static gboolean opt_quiet;
static char *opt_tag;
static char *opt_output;

static const GOptionEntry rm_options[] = {
  { "force", 'f', 0, G_OPTION_ARG_NONE, &opt_force,
    N_("Remove the image even when it has other tags"), NULL },
  { NULL }
};

static const GOptionEntry prune_options[] = {
  { "all", 'a', 0, G_OPTION_ARG_NONE, &opt_all,
    N_("Remove every image no container uses, not only untagged ones"), NULL },
  { NULL }
};

static const GOptionEntry pull_options[] = {
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet,
    N_("Print only the image ID"), NULL },
  { NULL }
};

static const GOptionEntry import_options[] = {
  { "tag", 't', 0, G_OPTION_ARG_STRING, &opt_tag,
    N_("Tag the imported image NAME[:TAG]"), N_("NAME") },
  { NULL }
};

static const GOptionEntry save_options[] = {
  { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output,
    N_("Write to FILE (default: standard output)"), N_("FILE") },
  { NULL }
};

static char *
escape_query (const char *value)
{
  return g_uri_escape_string (value, NULL, TRUE);
}

static char *
human_size (gint64 bytes)
{
  return g_format_size ((guint64) MAX (bytes, 0));
}

/* Pulls @ref, printing progress; returns the image id or NULL. Shared
 * with `berth run`. */
char *cli_image_pull (CliContext *ctx, const char *ref, gboolean quiet, GError **error);

/* in cli-container.c */
typedef struct _CliStream CliStream;
void          cli_stream_free     (CliStream *stream);
GInputStream *cli_stream_get_body (CliStream *stream);
CliStream *cli_stream_open (CliContext *ctx, const char *method, const char *path, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliStream, cli_stream_free)

static void
draw_progress (const char *layer, gint64 current, gint64 total)
{
  g_autofree char *cur = g_format_size ((guint64) MAX (current, 0));
  g_autofree char *tot = g_format_size ((guint64) MAX (total, 0));
  char bar[31];
  guint filled = total > 0 ? (guint) MIN (30, current * 30 / total) : 0;

  memset (bar, ' ', 30);
  memset (bar, '=', filled);
  if (filled < 30 && filled > 0)
    bar[filled] = '>';
  bar[30] = '\0';
  g_print ("\r\033[K%s: %s [%s] %s/%s", layer, _("Downloading"), bar, cur, tot);
  fflush (stdout);
}

char *
cli_image_pull (CliContext *ctx, const char *ref, gboolean quiet, GError **error)
{
  g_autofree char *q = escape_query (ref);
  g_autofree char *path = g_strdup_printf ("/api/images/pull?ref=%s", q);
  g_autoptr(CliStream) stream = cli_stream_open (ctx, "POST", path, error);
  g_autoptr(GDataInputStream) lines = NULL;
  g_autofree char *id = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean tty = !quiet && cli_output_is_tty ();
  gboolean drawn = FALSE;

  if (stream == NULL)
    return NULL;
  lines = g_data_input_stream_new (cli_stream_get_body (stream));
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &local_error);
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonObject *obj;
      const char *status, *layer, *err;

      if (line == NULL)
        {
          if (local_error != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return NULL;
            }
          break;
        }
      if (line[0] == '\0' || !json_parser_load_from_data (parser, line, -1, NULL) ||
          !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        continue;
      obj = json_node_get_object (json_parser_get_root (parser));
      status = json_object_get_string_member_with_default (obj, "status", NULL);
      layer = json_object_get_string_member_with_default (obj, "id", NULL);
      err = json_object_get_string_member_with_default (obj, "error", NULL);
      if (drawn && (err != NULL || g_strcmp0 (status, "Downloading") != 0))
        {
          g_print ("\r\033[K");
          drawn = FALSE;
        }
      if (err != NULL)
        {
          g_set_error (error, CLI_ERROR, CLI_ERROR_FAILED, "%s", err);
          return NULL;
        }
      if (g_strcmp0 (status, "Pulled") == 0)
        {
          g_free (id);
          id = g_strdup (layer);
          continue;
        }
      if (quiet || status == NULL)
        continue;
      if (g_strcmp0 (status, "Downloading") == 0)
        {
          JsonObject *detail = json_object_get_object_member (obj, "progressDetail");
          if (tty && detail != NULL && layer != NULL)
            {
              draw_progress (layer, json_object_get_int_member_with_default (detail, "current", 0),
                             json_object_get_int_member_with_default (detail, "total", 0));
              drawn = TRUE;
            }
          continue;
        }
      /* one line per layer and step */
      {
        g_autofree char *key = g_strdup_printf ("%s %s", layer != NULL ? layer : "", status);
        if (!g_hash_table_add (seen, g_steal_pointer (&key)))
          continue;
      }
      if (layer != NULL && strlen (layer) <= 12)
        g_print ("%s: %s\n", layer, status);
      else
        g_print ("%s\n", status);
    }
  if (id == NULL)
    g_set_error (error, CLI_ERROR, CLI_ERROR_PROTOCOL, _("The pull ended without a result"));
  return g_steal_pointer (&id);
}

static int
image_pull_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = cli_image_pull (ctx, args[0], opt_quiet, &error);

  if (id == NULL)
    return cli_context_fail (ctx, error);
  if (opt_quiet)
    g_print ("%s\n", id);
  else
    g_print (_("Pulled %s (%s)\n"), args[0], id);
  return CLI_EXIT_OK;
}

static int
image_ls_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(CliTable) table = cli_table_new (4);
  CliClient *client = cli_context_get_client (ctx, &error);
  JsonArray *array;

  if (client == NULL || (node = cli_client_get_json (client, "/api/images", &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (node, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return CLI_EXIT_FAILURE;
  array = json_node_get_array (node);
  cli_table_add_row (table, _("REPOSITORY"), _("TAG"), _("IMAGE ID"), _("SIZE"), NULL);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *img = json_array_get_object_element (array, i);
      JsonArray *tags = json_object_get_array_member (img, "RepoTags");
      const char *id = json_object_get_string_member_with_default (img, "Id", "");
      g_autofree char *short_id = g_strndup (g_str_has_prefix (id, "sha256:") ? id + 7 : id, 12);
      g_autofree char *size = human_size (json_object_get_int_member_with_default (img, "Size", 0));
      guint n = tags != NULL ? json_array_get_length (tags) : 0;

      if (n == 0)
        cli_table_add_row (table, "<none>", "<none>", short_id, size, NULL);
      for (guint j = 0; j < n; j++)
        {
          const char *tag = json_array_get_string_element (tags, j);
          const char *colon = strrchr (tag, ':');
          const char *slash = strrchr (tag, '/');
          g_autofree char *repo = NULL;

          if (colon != NULL && (slash == NULL || colon > slash))
            repo = g_strndup (tag, (gsize) (colon - tag));
          else
            repo = g_strdup (tag);
          cli_table_add_row (table, repo, colon != NULL && (slash == NULL || colon > slash) ? colon + 1 : "",
                             short_id, size, NULL);
        }
    }
  cli_table_print (table, "");
  return CLI_EXIT_OK;
}

static int
image_rm_run (CliContext *ctx, const char *const *args, guint n_args)
{
  CliClient *client;
  int status = CLI_EXIT_OK;

  for (guint i = 0; i < n_args; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *esc = cli_escape_path (args[i]);
      g_autofree char *path = g_strdup_printf ("/api/images/%s%s", esc, opt_force ? "?force=1" : "");
      g_autoptr(CliResponse) response = NULL;
      g_autoptr(JsonNode) node = NULL;

      if ((client = cli_context_get_client (ctx, &error)) == NULL ||
          (response = cli_client_send (client, "DELETE", path, NULL, &error)) == NULL ||
          !cli_response_check (response, &error) ||
          (node = cli_response_parse_json (response, &error)) == NULL)
        {
          cli_context_fail (ctx, error);
          status = CLI_EXIT_FAILURE;
          continue;
        }
      if (ctx->json)
        cli_output_json (node, NULL);
      else if (JSON_NODE_HOLDS_OBJECT (node))
        {
          JsonObject *obj = json_node_get_object (node);
          const char *what[] = { "Untagged", "Deleted", NULL };
          for (guint k = 0; what[k] != NULL; k++)
            {
              JsonArray *a = json_object_get_array_member (obj, what[k]);
              for (guint j = 0; a != NULL && j < json_array_get_length (a); j++)
                g_print ("%s: %s\n", what[k], json_array_get_string_element (a, j));
            }
        }
    }
  return status;
}

static int
image_prune_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CliResponse) response = NULL;
  g_autoptr(JsonNode) node = NULL;
  CliClient *client = cli_context_get_client (ctx, &error);

  if (client == NULL ||
      (response = cli_client_send (client, "POST", opt_all ? "/api/images/prune?all=1" : "/api/images/prune",
                                   NULL, &error)) == NULL ||
      !cli_response_check (response, &error) || (node = cli_response_parse_json (response, &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (node, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *obj = json_node_get_object (node);
      JsonArray *a = json_object_get_array_member (obj, "ImagesDeleted");
      g_autofree char *size = human_size (json_object_get_int_member_with_default (obj, "SpaceReclaimed", 0));
      for (guint j = 0; a != NULL && j < json_array_get_length (a); j++)
        g_print (_("Deleted: %s\n"), json_array_get_string_element (a, j));
      g_print (_("Total reclaimed space: %s\n"), size);
    }
  return CLI_EXIT_OK;
}

/* The archive travels in the request body: berthd never reads a path of
 * ours. */
static int
image_import_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tq = opt_tag != NULL ? escape_query (opt_tag) : NULL;
  g_autofree char *path = g_strdup_printf ("/api/images/import%s%s", tq != NULL ? "?tag=" : "",
                                           tq != NULL ? tq : "");
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(CliResponse) response = NULL;
  g_autoptr(JsonNode) node = NULL;
  CliClient *client;

  if (g_file_test (args[0], G_FILE_TEST_IS_DIR))
    return cli_context_usage_error (ctx, _("import takes a tar archive: pack the directory first "
                                           "(tar -C DIR -cf FILE.tar .)"));
  file = g_mapped_file_new (args[0], FALSE, &error);
  if (file == NULL)
    return cli_context_fail (ctx, error);
  body = g_mapped_file_get_bytes (file);
  client = cli_context_get_client (ctx, &error);
  if (client == NULL)
    return cli_context_fail (ctx, error);
  cli_client_set_timeout (client, 0);
  if ((response = cli_client_send (client, "POST", path, body, &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (response->status == 413)
    {
      g_autoptr(GError) check = NULL;
      cli_response_check (response, &check);
      g_set_error (&error, CLI_ERROR, CLI_ERROR_HTTP,
                   _("%s (raise max_body_bytes in berthd's configuration to import larger images)"),
                   check != NULL ? check->message : "");
      return cli_context_fail (ctx, error);
    }
  if (!cli_response_check (response, &error) || (node = cli_response_parse_json (response, &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (node, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  if (JSON_NODE_HOLDS_ARRAY (node))
    for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
      {
        JsonObject *img = json_array_get_object_element (json_node_get_array (node), i);
        JsonArray *tags = json_object_get_array_member (img, "RepoTags");
        g_print (_("Loaded image: %s\n"), tags != NULL && json_array_get_length (tags) > 0
                                              ? json_array_get_string_element (tags, 0)
                                              : json_object_get_string_member (img, "Id"));
      }
  return CLI_EXIT_OK;
}

/* The tar comes back as the response body, written here as it arrives. */
static int
image_save_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *q = escape_query (args[0]);
  g_autofree char *path = g_strdup_printf ("/api/images/export?ref=%s", q);
  g_autoptr(CliStream) stream = NULL;
  g_autoptr(GOutputStream) out = NULL;
  g_autoptr(GFile) file = NULL;

  if (opt_output == NULL && cli_output_is_tty ())
    return cli_context_usage_error (ctx, _("refusing to write a tar to a terminal: use -o FILE or a redirection"));
  stream = cli_stream_open (ctx, "GET", path, &error);
  if (stream == NULL)
    return cli_context_fail (ctx, error);
  if (opt_output != NULL)
    {
      file = g_file_new_for_commandline_arg (opt_output);
      out = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error));
    }
  else
    out = g_unix_output_stream_new (1, FALSE);
  if (out == NULL ||
      g_output_stream_splice (out, cli_stream_get_body (stream),
                              G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE | G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                              NULL, &error) < 0)
    return cli_context_fail (ctx, error);
  return CLI_EXIT_OK;
}

static const CliCommand image_subcommands[] = {
  { .name = "pull", .summary = N_("Pull an image from a registry"), .parameters = N_("IMAGE"),
    .options = pull_options, .min_args = 1, .max_args = 1, .run = image_pull_run },
  { .name = "ls", .summary = N_("List images"), .run = image_ls_run },
  { .name = "rm", .summary = N_("Remove images (and the layers nothing else uses)"),
    .parameters = N_("IMAGE…"), .options = rm_options, .min_args = 1, .max_args = CLI_ARGS_UNLIMITED,
    .run = image_rm_run },
  { .name = "prune", .summary = N_("Remove unused images"), .options = prune_options, .run = image_prune_run },
  { .name = "import", .summary = N_("Import a tar: an OCI image layout or a docker save archive"),
    .parameters = N_("FILE"), .options = import_options, .min_args = 1, .max_args = 1,
    .run = image_import_run },
  { .name = "save", .summary = N_("Write an image as a tar (OCI layout + docker manifest.json)"),
    .parameters = N_("IMAGE"), .options = save_options, .min_args = 1, .max_args = 1,
    .run = image_save_run },
  { .name = "export", .summary = N_("Write an image as a tar (the same as save)"),
    .parameters = N_("IMAGE"), .options = save_options, .min_args = 1, .max_args = 1,
    .run = image_save_run },
  { NULL }
};

const CliCommand cli_image_commands[] = {
  {
    .name = "image",
    .summary = N_("Pull, list, remove, import and save images"),
    .subcommands = image_subcommands,
  },
  { NULL }
};
