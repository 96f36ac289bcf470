/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-kv.c - "berth kv": get, put, delete and list keys (Consul's /v1/kv) */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "cli-command.h"
#include "cli-output.h"

/* Values read from stdin beyond this are refused before sending: berthd
 * limits values far lower anyway and says so itself. */
#define MAX_STDIN_VALUE (64 * 1024 * 1024)

/* Only one command runs per process, so the kv commands share these. */
static gboolean opt_watch;
static gboolean opt_recurse;
static char *opt_flags;
static char *opt_cas;

static const GOptionEntry get_options[] = {
  { "watch", 'w', 0, G_OPTION_ARG_NONE, &opt_watch,
    N_("Keep running and print the value again each time the key is written"), NULL },
  { NULL }
};

static const GOptionEntry put_options[] = {
  { "flags", 0, 0, G_OPTION_ARG_STRING, &opt_flags,
    N_("Store this opaque number with the value"), N_("N") },
  { "cas", 0, 0, G_OPTION_ARG_STRING, &opt_cas,
    N_("Write only if the key's modify index is INDEX (0: only if it does not exist)"),
    N_("INDEX") },
  { NULL }
};

static const GOptionEntry delete_options[] = {
  { "recurse", 'r', 0, G_OPTION_ARG_NONE, &opt_recurse,
    N_("Delete every key starting with KEY"), NULL },
  { "cas", 0, 0, G_OPTION_ARG_STRING, &opt_cas,
    N_("Delete only if the key's modify index is INDEX"), N_("INDEX") },
  { NULL }
};

static const GOptionEntry list_options[] = {
  { "recurse", 'r', 0, G_OPTION_ARG_NONE, &opt_recurse,
    N_("List every key under PREFIX, not just one level"), NULL },
  { "watch", 'w', 0, G_OPTION_ARG_NONE, &opt_watch,
    N_("Keep running and print the list again each time it changes"), NULL },
  { NULL }
};

/* --- Helpers ------------------------------------------------------------- */

/* Like Consul's client, "/a/b" and "a/b" name the same key. */
static const char *
kv_key (const char *arg)
{
  return arg[0] == '/' ? arg + 1 : arg;
}

static char *
kv_path (const char *key,
         const char *query)
{
  g_autofree char *escaped = cli_escape_path (key);

  return g_strconcat ("/v1/kv/", escaped, query != NULL ? "?" : "", query, NULL);
}

static gboolean
parse_number_option (const char  *option,
                     const char  *value,
                     guint64     *number,
                     GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT64, number, &local_error))
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   _("invalid value for %s: \"%s\" is not a non-negative integer"),
                   option, value);
      return FALSE;
    }
  return TRUE;
}

/* PUT and DELETE answer a JSON boolean. */
static gboolean
parse_write_result (CliResponse  *response,
                    gboolean     *result,
                    GError      **error)
{
  g_autoptr(JsonNode) root = NULL;

  if (g_bytes_get_size (response->body) == 0)
    {
      *result = TRUE;
      return TRUE;
    }
  if ((root = cli_response_parse_json (response, error)) == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (root) || json_node_get_value_type (root) != G_TYPE_BOOLEAN)
    {
      g_set_error_literal (error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                           _("berthd answered the write with something other than true or false"));
      return FALSE;
    }
  *result = json_node_get_boolean (root);
  return TRUE;
}

static GBytes *
read_stdin (GError **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint8 buffer[16384];
  size_t n;

  while ((n = fread (buffer, 1, sizeof buffer, stdin)) > 0)
    {
      g_byte_array_append (data, buffer, n);
      if (data->len > MAX_STDIN_VALUE)
        {
          g_set_error (error, CLI_ERROR, CLI_ERROR_FAILED,
                       _("the value on standard input is larger than %u bytes"),
                       (guint) MAX_STDIN_VALUE);
          return NULL;
        }
    }
  if (ferror (stdin))
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_FAILED,
                   _("cannot read standard input: %s"), g_strerror (errno));
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

/* KV answers a missing key with a bare 404; an unknown route has a message. */
static gboolean
is_missing_key (CliResponse *response)
{
  return response->status == SOUP_STATUS_NOT_FOUND && g_bytes_get_size (response->body) == 0;
}

/* The state of a --watch loop of blocking queries. */
typedef struct {
  guint64 index;       /* the next ?index=; 0: do not block */
  guint64 last;        /* the last X-Consul-Index seen, 0: none yet */
  gboolean connected;  /* a request has been answered */
} KvWatch;

/* Sends GET @path, as a blocking query when watch->index > 0, and moves the
 * index on following Consul's rules: an index that goes backwards (a new
 * store) sets *reset, and 0 is never waited on.  Error statuses are the
 * caller's to check; 200 and 404 must carry X-Consul-Index. */
static CliResponse *
blocking_get (CliClient  *client,
              const char *path,
              KvWatch    *watch,
              gboolean   *reset,
              GError    **error)
{
  g_autofree char *url = NULL;
  g_autoptr(CliResponse) response = NULL;
  gint64 started = g_get_monotonic_time ();
  guint64 sent = watch->index;

  if (sent > 0)
    url = g_strdup_printf ("%s%cindex=%" G_GUINT64_FORMAT "&wait=%s", path,
                           strchr (path, '?') != NULL ? '&' : '?', sent, CLI_WATCH_WAIT);
  else
    url = g_strdup (path);

  *reset = FALSE;
  if ((response = cli_client_send (client, "GET", url, NULL, error)) == NULL)
    return NULL;
  watch->connected = TRUE;
  if (!SOUP_STATUS_IS_SUCCESSFUL (response->status) && !is_missing_key (response))
    return g_steal_pointer (&response);

  if (!response->has_index)
    {
      g_set_error_literal (error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                           _("berthd did not send X-Consul-Index: cannot watch"));
      return NULL;
    }

  *reset = watch->last > 0 && response->index < watch->last;
  watch->last = response->index;
  watch->index = *reset ? 0 : MAX (response->index, 1);

  /* A blocking query that returns at once without progress would spin. */
  if (sent > 0 && watch->index == sent && g_get_monotonic_time () - started < G_USEC_PER_SEC)
    g_usleep (G_USEC_PER_SEC);

  return g_steal_pointer (&response);
}

/* blocking_get(), riding out restarts of berthd once it has answered. */
static CliResponse *
watch_get (CliClient  *client,
           const char *path,
           KvWatch    *watch,
           gboolean   *reset,
           GError    **error)
{
  gulong delay = 1;
  gboolean lost = FALSE;

  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      CliResponse *response = blocking_get (client, path, watch, reset, &local_error);

      if (response != NULL)
        {
          if (lost)
            cli_print_error (_("connected to berthd at %s again"),
                             cli_client_get_location (client));
          return response;
        }
      if (!watch->connected || !g_error_matches (local_error, CLI_ERROR, CLI_ERROR_CONNECT))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }

      if (!lost)
        cli_print_error (_("%s; retrying"), local_error->message);
      lost = TRUE;
      watch->index = 0;   /* it may come back with another store */
      g_usleep (delay * G_USEC_PER_SEC);
      delay = MIN (delay * 2, 10);
    }
}

/* --- kv get -------------------------------------------------------------- */

static JsonObject *
find_entry (JsonNode    *root,
            const char  *key,
            GError     **error)
{
  JsonArray *entries;
  JsonObject *first = NULL;

  if (JSON_NODE_HOLDS_ARRAY (root))
    {
      entries = json_node_get_array (root);
      for (guint i = 0; i < json_array_get_length (entries); i++)
        {
          JsonNode *element = json_array_get_element (entries, i);
          JsonObject *entry;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          entry = json_node_get_object (element);
          if (first == NULL)
            first = entry;
          if (g_strcmp0 (json_object_get_string_member_with_default (entry, "Key", NULL), key) == 0)
            return entry;
        }
    }
  if (first == NULL)
    g_set_error_literal (error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                         _("berthd sent no KV entry"));
  return first;
}

static guint64
entry_modify_index (JsonObject *entry)
{
  return json_object_get_int_member_with_default (entry, "ModifyIndex", 0);
}

static gboolean
print_value (JsonObject  *entry,
             gboolean     always_newline,
             GError     **error)
{
  const char *encoded = json_object_get_string_member_with_default (entry, "Value", NULL);
  g_autofree guchar *value = NULL;
  gsize size = 0;

  if (encoded != NULL && *encoded != '\0')
    value = g_base64_decode (encoded, &size);

  if (!cli_output_write (value, size, error))
    return FALSE;
  if ((always_newline || cli_output_is_tty ()) && (size == 0 || value[size - 1] != '\n'))
    return cli_output_write ("\n", 1, error);
  return TRUE;
}

static gboolean
print_entries (CliContext *ctx,
               JsonNode   *root,
               const char *key,
               gboolean    watching,
               GError    **error)
{
  JsonObject *entry;

  if (ctx->json)
    return cli_output_json (root, error);
  if ((entry = find_entry (root, key, error)) == NULL)
    return FALSE;
  return print_value (entry, watching, error);
}

static int
kv_watch_key (CliContext *ctx,
              CliClient  *client,
              const char *key,
              const char *path)
{
  enum { UNKNOWN, PRESENT, ABSENT } state = UNKNOWN;
  KvWatch watch = { 0, };
  guint64 last_modify = 0;
  g_autoptr(GError) error = NULL;

  cli_client_set_timeout (client, CLI_WATCH_TIMEOUT_SECONDS);
  for (;;)
    {
      g_autoptr(CliResponse) response = NULL;
      g_autoptr(JsonNode) root = NULL;
      JsonObject *entry;
      gboolean reset;

      if ((response = watch_get (client, path, &watch, &reset, &error)) == NULL)
        return cli_context_fail (ctx, error);
      if (reset)
        state = UNKNOWN;

      if (is_missing_key (response))
        {
          if (state == UNKNOWN)
            cli_print_error (_("key \"%s\" not found; waiting for it to be written"), key);
          else if (state == PRESENT)
            cli_print_error (_("key \"%s\" was deleted"), key);
          state = ABSENT;
          continue;
        }

      if (!cli_response_check (response, &error)
          || (root = cli_response_parse_json (response, &error)) == NULL
          || (entry = find_entry (root, key, &error)) == NULL)
        return cli_context_fail (ctx, error);

      if (state == PRESENT && entry_modify_index (entry) == last_modify)
        continue;
      state = PRESENT;
      last_modify = entry_modify_index (entry);
      if (!print_entries (ctx, root, key, TRUE, &error))
        return cli_context_fail (ctx, error);
    }
}

static int
kv_get_run (CliContext        *ctx,
            const char *const *args,
            guint              n_args)
{
  const char *key = kv_key (args[0]);
  g_autofree char *path = kv_path (key, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CliResponse) response = NULL;
  g_autoptr(JsonNode) root = NULL;
  CliClient *client;

  if (*key == '\0')
    return cli_context_usage_error (ctx, _("the key must not be empty"));
  if ((client = cli_context_get_client (ctx, &error)) == NULL)
    return cli_context_fail (ctx, error);

  if (opt_watch)
    return kv_watch_key (ctx, client, key, path);

  if ((response = cli_client_send (client, "GET", path, NULL, &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (is_missing_key (response))
    {
      cli_print_error (_("key \"%s\" not found"), key);
      return CLI_EXIT_FAILURE;
    }
  if (!cli_response_check (response, &error)
      || (root = cli_response_parse_json (response, &error)) == NULL
      || !print_entries (ctx, root, key, FALSE, &error))
    return cli_context_fail (ctx, error);
  return CLI_EXIT_OK;
}

/* --- kv put -------------------------------------------------------------- */

static int
report_cas_failure (CliContext *ctx,
                    const char *key,
                    guint64     cas)
{
  if (cas == 0)
    cli_print_error (_("cas failed: key \"%s\" already exists"), key);
  else
    {
      g_autofree char *index = g_strdup_printf ("%" G_GUINT64_FORMAT, cas);

      cli_print_error (_("cas failed: key \"%s\" was modified since index %s"), key, index);
    }
  return CLI_EXIT_FAILURE;
}

static int
kv_put_run (CliContext        *ctx,
            const char *const *args,
            guint              n_args)
{
  const char *key = kv_key (args[0]);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GString) query = g_string_new (NULL);
  g_autoptr(CliResponse) response = NULL;
  g_autofree char *path = NULL;
  guint64 flags = 0, cas = 0;
  gboolean written;
  CliClient *client;

  if (*key == '\0')
    return cli_context_usage_error (ctx, _("the key must not be empty"));
  if ((opt_flags != NULL && !parse_number_option ("--flags", opt_flags, &flags, &error))
      || (opt_cas != NULL && !parse_number_option ("--cas", opt_cas, &cas, &error)))
    return cli_context_fail (ctx, error);

  if (opt_flags != NULL)
    g_string_append_printf (query, "flags=%" G_GUINT64_FORMAT, flags);
  if (opt_cas != NULL)
    g_string_append_printf (query, "%scas=%" G_GUINT64_FORMAT, query->len > 0 ? "&" : "", cas);
  path = kv_path (key, query->len > 0 ? query->str : NULL);

  if ((client = cli_context_get_client (ctx, &error)) == NULL)
    return cli_context_fail (ctx, error);

  if (n_args == 2 && !g_str_equal (args[1], "-"))
    value = g_bytes_new (args[1], strlen (args[1]));
  else if ((value = read_stdin (&error)) == NULL)
    return cli_context_fail (ctx, error);

  if ((response = cli_client_send (client, "PUT", path, value, &error)) == NULL
      || !cli_response_check (response, &error)
      || !parse_write_result (response, &written, &error))
    return cli_context_fail (ctx, error);

  if (!written && opt_cas != NULL)
    return report_cas_failure (ctx, key, cas);
  if (!written)
    {
      cli_print_error (_("berthd refused to write key \"%s\""), key);
      return CLI_EXIT_FAILURE;
    }
  if (ctx->verbose)
    g_print (_("Success! Data written to: %s\n"), key);
  return CLI_EXIT_OK;
}

/* --- kv delete ----------------------------------------------------------- */

static int
kv_delete_run (CliContext        *ctx,
               const char *const *args,
               guint              n_args)
{
  const char *key = kv_key (args[0]);
  g_autoptr(GError) error = NULL;
  g_autoptr(CliResponse) response = NULL;
  g_autofree char *path = NULL;
  g_autofree char *query = NULL;
  guint64 cas = 0;
  gboolean deleted;
  CliClient *client;

  if (*key == '\0' && !opt_recurse)
    return cli_context_usage_error (ctx, _("the key must not be empty"));
  if (opt_recurse && opt_cas != NULL)
    return cli_context_usage_error (ctx, _("--cas and --recurse cannot be used together"));
  if (opt_cas != NULL && !parse_number_option ("--cas", opt_cas, &cas, &error))
    return cli_context_fail (ctx, error);

  if (opt_recurse)
    query = g_strdup ("recurse");
  else if (opt_cas != NULL)
    query = g_strdup_printf ("cas=%" G_GUINT64_FORMAT, cas);
  path = kv_path (key, query);

  if ((client = cli_context_get_client (ctx, &error)) == NULL
      || (response = cli_client_send (client, "DELETE", path, NULL, &error)) == NULL
      || !cli_response_check (response, &error)
      || !parse_write_result (response, &deleted, &error))
    return cli_context_fail (ctx, error);

  if (!deleted && opt_cas != NULL)
    return report_cas_failure (ctx, key, cas);
  if (!deleted)
    {
      cli_print_error (_("berthd refused to delete key \"%s\""), key);
      return CLI_EXIT_FAILURE;
    }
  if (ctx->verbose && opt_recurse)
    g_print (_("Success! Deleted keys with prefix: %s\n"), key);
  else if (ctx->verbose)
    g_print (_("Success! Deleted key: %s\n"), key);
  return CLI_EXIT_OK;
}

/* --- kv list ------------------------------------------------------------- */

/* The key list of a ?keys answer; a 404 is an empty list. */
static JsonNode *
parse_key_list (CliResponse  *response,
                GError      **error)
{
  g_autoptr(JsonNode) root = NULL;
  JsonArray *keys;

  if (is_missing_key (response))
    {
      JsonNode *empty = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (empty, json_array_new ());
      return empty;
    }

  if (!cli_response_check (response, error)
      || (root = cli_response_parse_json (response, error)) == NULL)
    return NULL;

  if (!JSON_NODE_HOLDS_ARRAY (root))
    goto invalid;
  keys = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (keys); i++)
    {
      JsonNode *element = json_array_get_element (keys, i);

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        goto invalid;
    }
  return g_steal_pointer (&root);

invalid:
  g_set_error_literal (error, CLI_ERROR, CLI_ERROR_PROTOCOL,
                       _("berthd sent a key list that is not an array of strings"));
  return NULL;
}

static gboolean
print_key_list (CliContext  *ctx,
                JsonNode    *list,
                GError     **error)
{
  JsonArray *keys = json_node_get_array (list);

  if (ctx->json)
    return cli_output_json (list, error);

  for (guint i = 0; i < json_array_get_length (keys); i++)
    {
      const char *key = json_array_get_string_element (keys, i);

      if (!cli_output_write (key, strlen (key), error) || !cli_output_write ("\n", 1, error))
        return FALSE;
    }
  return TRUE;
}

static int
kv_watch_list (CliContext *ctx,
               CliClient  *client,
               const char *prefix,
               const char *path)
{
  g_autoptr(JsonNode) last = NULL;
  g_autoptr(GError) error = NULL;
  gboolean printed = FALSE;
  KvWatch watch = { 0, };

  cli_client_set_timeout (client, CLI_WATCH_TIMEOUT_SECONDS);
  for (;;)
    {
      g_autoptr(CliResponse) response = NULL;
      g_autoptr(JsonNode) list = NULL;
      gboolean reset;

      if ((response = watch_get (client, path, &watch, &reset, &error)) == NULL
          || (list = parse_key_list (response, &error)) == NULL)
        return cli_context_fail (ctx, error);

      if (last != NULL && json_node_equal (last, list))
        continue;

      if (json_array_get_length (json_node_get_array (list)) == 0 && !ctx->json)
        cli_print_error (_("no keys under \"%s\""), prefix);
      else
        {
          /* Listings follow one another, a blank line apart. */
          if (printed && !ctx->json && !cli_output_write ("\n", 1, &error))
            return cli_context_fail (ctx, error);
          if (!print_key_list (ctx, list, &error))
            return cli_context_fail (ctx, error);
          printed = TRUE;
        }

      g_clear_pointer (&last, json_node_unref);
      last = g_steal_pointer (&list);
    }
}

static int
kv_list_run (CliContext        *ctx,
             const char *const *args,
             guint              n_args)
{
  const char *prefix = n_args > 0 ? kv_key (args[0]) : "";
  g_autofree char *path = kv_path (prefix, opt_recurse ? "keys" : "keys&separator=/");
  g_autoptr(GError) error = NULL;
  g_autoptr(CliResponse) response = NULL;
  g_autoptr(JsonNode) list = NULL;
  CliClient *client;

  if ((client = cli_context_get_client (ctx, &error)) == NULL)
    return cli_context_fail (ctx, error);

  if (opt_watch)
    return kv_watch_list (ctx, client, prefix, path);

  if ((response = cli_client_send (client, "GET", path, NULL, &error)) == NULL
      || (list = parse_key_list (response, &error)) == NULL
      || !print_key_list (ctx, list, &error))
    return cli_context_fail (ctx, error);
  return CLI_EXIT_OK;
}

/* --- The group ----------------------------------------------------------- */

static const CliCommand kv_subcommands[] = {
  {
    .name = "get",
    .summary = N_("Print the value of a key"),
    .parameters = N_("KEY"),
    .description = N_("Prints the value exactly as stored (a newline is added only on a "
                      "terminal).  With --json, prints the KV entry as berthd sends it, "
                      "Value in base64.  Exits with status 1 if the key does not exist."),
    .options = get_options,
    .min_args = 1,
    .max_args = 1,
    .run = kv_get_run,
  },
  {
    .name = "put",
    .summary = N_("Write a value to a key"),
    .parameters = N_("KEY [VALUE]"),
    .description = N_("Reads the value from standard input when VALUE is missing or \"-\"."),
    .options = put_options,
    .min_args = 1,
    .max_args = 2,
    .run = kv_put_run,
  },
  {
    .name = "delete",
    .summary = N_("Delete a key, or every key under a prefix"),
    .parameters = N_("KEY"),
    .options = delete_options,
    .min_args = 1,
    .max_args = 1,
    .run = kv_delete_run,
  },
  {
    .name = "list",
    .summary = N_("List keys under a prefix"),
    .parameters = N_("[PREFIX]"),
    .description = N_("Lists the keys starting with PREFIX one level deep (folders end "
                      "with \"/\"), or all of them with --recurse."),
    .options = list_options,
    .min_args = 0,
    .max_args = 1,
    .run = kv_list_run,
  },
  { NULL }
};

const CliCommand cli_kv_commands[] = {
  {
    .name = "kv",
    .summary = N_("Read and write the key/value store"),
    .subcommands = kv_subcommands,
  },
  { NULL }
};
