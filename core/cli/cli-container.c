/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-container.c - berth run|ps|logs|stop|rm */
#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

#include "cli-command.h"
#include "cli-output.h"

/* in cli-image.c */
char *cli_image_pull (CliContext *ctx, const char *ref, gboolean quiet, GError **error);

/* A streamed answer (logs -f, pull progress): CliClient reads whole
 * bodies, so this opens its own connection to the same place. */
typedef struct _CliStream {
  SoupSession  *session;
  SoupMessage  *message;
  GInputStream *body;
} CliStream;

void          cli_stream_free     (CliStream *stream);
GInputStream *cli_stream_get_body (CliStream *stream);
CliStream *cli_stream_open (CliContext *ctx, const char *method, const char *path, GError **error);

void
cli_stream_free (CliStream *stream)
{
  if (stream == NULL)
    return;
  g_clear_object (&stream->body);
  g_clear_object (&stream->message);
  g_clear_object (&stream->session);
  g_free (stream);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliStream, cli_stream_free)

GInputStream *
cli_stream_get_body (CliStream *stream)
{
  return stream->body;
}

CliStream *
cli_stream_open (CliContext *ctx, const char *method, const char *path, GError **error)
{
  CliClient *client = cli_context_get_client (ctx, error);
  g_autoptr(CliStream) stream = g_new0 (CliStream, 1);
  g_autofree char *url = NULL;
  const char *location;
  const char *token = ctx->token != NULL ? ctx->token : g_getenv ("BERTH_TOKEN");
  guint status;

  if (client == NULL)
    return NULL;
  location = cli_client_get_location (client);
  if (location[0] == '/')
    {
      g_autoptr(GSocketAddress) address = g_unix_socket_address_new (location);
      stream->session = soup_session_new_with_options ("remote-connectable", address, NULL);
      url = g_strconcat ("http://localhost", path, NULL);
    }
  else
    {
      const char *end = location + strlen (location);
      stream->session = soup_session_new ();
      while (end > location && end[-1] == '/')
        end--;
      url = g_strdup_printf ("%.*s%s", (int) (end - location), location, path);
    }
  soup_session_set_proxy_resolver (stream->session, NULL);
  stream->message = soup_message_new (method, url);
  if (stream->message == NULL)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, _("invalid request path %s"), path);
      return NULL;
    }
  if (token != NULL && *token != '\0')
    soup_message_headers_replace (soup_message_get_request_headers (stream->message), "X-Consul-Token", token);
  stream->body = soup_session_send (stream->session, stream->message, NULL, error);
  if (stream->body == NULL)
    return NULL;
  status = soup_message_get_status (stream->message);
  if (status >= 300)
    {
      g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
      g_autoptr(CliResponse) response = g_new0 (CliResponse, 1);
      g_output_stream_splice (out, stream->body, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, NULL);
      response->status = status;
      response->reason = g_strdup (soup_message_get_reason_phrase (stream->message));
      response->body = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
      cli_response_check (response, error);
      if (error != NULL && *error == NULL)
        g_set_error (error, CLI_ERROR, CLI_ERROR_HTTP, _("berthd answered %u"), status);
      return NULL;
    }
  return g_steal_pointer (&stream);
}

static gboolean opt_detach;
static gboolean opt_rm;
static char **opt_env;
static char **opt_publish;
static char *opt_memory;
static char *opt_cpus;
static char *opt_name;
static char *opt_network;
static char *opt_entrypoint;
static char *opt_workdir;
static char *opt_user;
static gboolean opt_read_only;
static gboolean opt_all;
static gboolean opt_follow;
static gboolean opt_timestamps;
static char *opt_tail;
static int opt_time = 10;
static gboolean opt_force;

static const GOptionEntry run_options[] = {
  { "detach", 'd', 0, G_OPTION_ARG_NONE, &opt_detach, N_("Run in the background and print the ID"), NULL },
  { "rm", 0, 0, G_OPTION_ARG_NONE, &opt_rm, N_("Remove the container when it exits"), NULL },
  { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &opt_env, N_("Set an environment variable"), N_("KEY=VALUE") },
  { "publish", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &opt_publish,
    N_("Map a host port to a container port"), N_("HOST:CONTAINER[/udp]") },
  { "memory", 'm', 0, G_OPTION_ARG_STRING, &opt_memory, N_("Memory limit (e.g. 64m, 1g)"), N_("SIZE") },
  { "cpus", 0, 0, G_OPTION_ARG_STRING, &opt_cpus, N_("CPU limit (e.g. 0.5)"), N_("N") },
  { "name", 0, 0, G_OPTION_ARG_STRING, &opt_name, N_("Name the container"), N_("NAME") },
  { "network", 0, 0, G_OPTION_ARG_STRING, &opt_network, N_("bridge, host or none"), N_("MODE") },
  { "entrypoint", 0, 0, G_OPTION_ARG_STRING, &opt_entrypoint, N_("Override the image's entrypoint"), N_("CMD") },
  { "workdir", 'w', 0, G_OPTION_ARG_STRING, &opt_workdir, N_("Working directory in the container"), N_("DIR") },
  { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, N_("User (name or uid[:gid])"), N_("USER") },
  { "read-only", 0, 0, G_OPTION_ARG_NONE, &opt_read_only, N_("Mount the root filesystem read-only"), NULL },
  { NULL }
};

static const GOptionEntry ps_options[] = {
  { "all", 'a', 0, G_OPTION_ARG_NONE, &opt_all, N_("Show stopped containers too"), NULL },
  { NULL }
};

static const GOptionEntry logs_options[] = {
  { "follow", 'f', 0, G_OPTION_ARG_NONE, &opt_follow, N_("Keep printing until the container exits"), NULL },
  { "timestamps", 't', 0, G_OPTION_ARG_NONE, &opt_timestamps, N_("Show timestamps"), NULL },
  { "tail", 'n', 0, G_OPTION_ARG_STRING, &opt_tail, N_("Only the last N lines"), N_("N") },
  { NULL }
};

static const GOptionEntry stop_options[] = {
  { "time", 't', 0, G_OPTION_ARG_INT, &opt_time, N_("Seconds to wait before killing (default 10)"), N_("SECONDS") },
  { NULL }
};

static const GOptionEntry rm_options[] = {
  { "force", 'f', 0, G_OPTION_ARG_NONE, &opt_force, N_("Kill and remove a running container"), NULL },
  { NULL }
};

static gboolean
parse_size (const char *text, gint64 *out)
{
  char *end;
  gdouble v = g_ascii_strtod (text, &end);
  gint64 mult = 1;

  switch (g_ascii_tolower (*end))
    {
    case '\0': case 'b': mult = 1; break;
    case 'k': mult = 1024; break;
    case 'm': mult = 1024 * 1024; break;
    case 'g': mult = 1024 * 1024 * 1024; break;
    default: return FALSE;
    }
  if (*end != '\0' && end[1] != '\0' && g_ascii_strcasecmp (end + 1, "b") != 0)
    return FALSE;
  if (v <= 0 || end == text)
    return FALSE;
  *out = (gint64) (v * (gdouble) mult);
  return TRUE;
}

static gboolean
add_ports (JsonBuilder *b, GError **error)
{
  json_builder_set_member_name (b, "ports");
  json_builder_begin_array (b);
  for (guint i = 0; opt_publish != NULL && opt_publish[i] != NULL; i++)
    {
      g_autofree char *spec = g_strdup (opt_publish[i]);
      char *proto = strchr (spec, '/');
      char *colon, *end1, *end2;
      gint64 host, ctr;

      if (proto != NULL)
        *proto++ = '\0';
      colon = strrchr (spec, ':');
      if (colon == NULL)
        goto bad;
      *colon = '\0';
      /* HOST_IP:HOST:CTR: only loopback/any host addresses are ours to bind; the IP is ignored */
      if (strchr (spec, ':') != NULL)
        memmove (spec, strrchr (spec, ':') + 1, strlen (strrchr (spec, ':') + 1) + 1);
      host = g_ascii_strtoll (spec, &end1, 10);
      ctr = g_ascii_strtoll (colon + 1, &end2, 10);
      if (*end1 != '\0' || *end2 != '\0' || host <= 0 || host > 65535 || ctr <= 0 || ctr > 65535)
        goto bad;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "host");
      json_builder_add_int_value (b, host);
      json_builder_set_member_name (b, "container");
      json_builder_add_int_value (b, ctr);
      json_builder_set_member_name (b, "protocol");
      json_builder_add_string_value (b, proto != NULL ? proto : "tcp");
      json_builder_end_object (b);
      continue;
bad:
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, _("invalid port mapping “%s” (HOST:CONTAINER)"),
                   opt_publish[i]);
      return FALSE;
    }
  json_builder_end_array (b);
  return TRUE;
}

static GBytes *
run_body (const char *image, const char *const *cmd, guint n_cmd, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  gsize len;
  char *text;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "image");
  json_builder_add_string_value (b, image);
  if (n_cmd > 0)
    {
      json_builder_set_member_name (b, "cmd");
      json_builder_begin_array (b);
      for (guint i = 0; i < n_cmd; i++)
        json_builder_add_string_value (b, cmd[i]);
      json_builder_end_array (b);
    }
  if (opt_entrypoint != NULL)
    {
      g_auto(GStrv) ep = NULL;
      if (!g_shell_parse_argv (opt_entrypoint, NULL, &ep, error))
        return NULL;
      json_builder_set_member_name (b, "entrypoint");
      json_builder_begin_array (b);
      for (guint i = 0; ep[i] != NULL; i++)
        json_builder_add_string_value (b, ep[i]);
      json_builder_end_array (b);
    }
  json_builder_set_member_name (b, "env");
  json_builder_begin_array (b);
  for (guint i = 0; opt_env != NULL && opt_env[i] != NULL; i++)
    json_builder_add_string_value (b, opt_env[i]);
  json_builder_end_array (b);
  if (!add_ports (b, error))
    return NULL;
  if (opt_memory != NULL)
    {
      gint64 bytes;
      if (!parse_size (opt_memory, &bytes))
        {
          g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, _("invalid --memory “%s”"), opt_memory);
          return NULL;
        }
      json_builder_set_member_name (b, "memory");
      json_builder_add_int_value (b, bytes);
    }
  if (opt_cpus != NULL)
    {
      char *end;
      gdouble cpus = g_ascii_strtod (opt_cpus, &end);
      if (*end != '\0' || cpus <= 0)
        {
          g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, _("invalid --cpus “%s”"), opt_cpus);
          return NULL;
        }
      json_builder_set_member_name (b, "cpus");
      json_builder_add_double_value (b, cpus);
    }
#define ADD_STRING(key, value) \
  if ((value) != NULL) { json_builder_set_member_name (b, key); json_builder_add_string_value (b, value); }
  ADD_STRING ("name", opt_name);
  ADD_STRING ("network", opt_network);
  ADD_STRING ("workdir", opt_workdir);
  ADD_STRING ("user", opt_user);
#undef ADD_STRING
  if (opt_read_only)
    {
      json_builder_set_member_name (b, "read_only");
      json_builder_add_boolean_value (b, TRUE);
    }
  if (opt_rm)
    {
      /* berthd removes it once it has exited (and told its waiters) */
      json_builder_set_member_name (b, "auto_remove");
      json_builder_add_boolean_value (b, TRUE);
    }
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, &len);
  return g_bytes_new_take (text, len);
}

static JsonNode *
post_json (CliClient *client, const char *path, GBytes *body, guint *status, GError **error)
{
  g_autoptr(CliResponse) response = cli_client_send (client, "POST", path, body, error);

  if (response == NULL)
    return NULL;
  if (status != NULL)
    *status = response->status;
  if (!cli_response_check (response, error))
    return NULL;
  if (g_bytes_get_size (response->body) == 0)
    return json_node_new (JSON_NODE_NULL);
  return cli_response_parse_json (response, error);
}

static gboolean
print_logs (CliContext *ctx, CliClient *client, const char *id, gboolean follow, GError **error)
{
  g_autofree char *esc = cli_escape_path (id);
  g_autoptr(GString) path = g_string_new (NULL);
  g_autoptr(CliResponse) response = NULL;
  gsize len;
  const char *data;

  g_string_printf (path, "/api/containers/%s/logs?", esc);
  if (follow)
    g_string_append (path, "follow=1&");
  if (opt_timestamps)
    g_string_append (path, "timestamps=1&");
  if (opt_tail != NULL)
    {
      g_autofree char *t = g_uri_escape_string (opt_tail, NULL, TRUE);
      g_string_append_printf (path, "tail=%s&", t);
    }
  g_string_truncate (path, path->len - 1);
  if (follow)
    {
      /* print as it comes */
      g_autoptr(CliStream) stream = cli_stream_open (ctx, "GET", path->str, error);
      char buf[8192];
      gssize n;

      if (stream == NULL)
        return FALSE;
      while ((n = g_input_stream_read (stream->body, buf, sizeof buf, NULL, error)) > 0)
        {
          if (!cli_output_write (buf, (gsize) n, error))
            return FALSE;
          fflush (stdout);
        }
      return n == 0;
    }
  response = cli_client_send (client, "GET", path->str, NULL, error);
  if (response == NULL || !cli_response_check (response, error))
    return FALSE;
  data = g_bytes_get_data (response->body, &len);
  return cli_output_write (data, len, error);
}

static int
run_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = run_body (args[0], args + 1, n_args - 1, &error);
  g_autoptr(JsonNode) created = NULL;
  g_autoptr(JsonNode) waited = NULL;
  g_autofree char *start_path = NULL;
  g_autofree char *wait_path = NULL;
  g_autofree char *esc = NULL;
  g_autoptr(CliStream) logs = NULL;
  g_autoptr(CliStream) waiting = NULL;
  CliClient *client;
  const char *id;
  guint status = 0;
  gint64 code;

  if (body == NULL)
    return cli_context_fail (ctx, error);
  if ((client = cli_context_get_client (ctx, &error)) == NULL)
    return cli_context_fail (ctx, error);
  cli_client_set_timeout (client, 0);
  created = post_json (client, "/api/containers", body, &status, &error);
  if (created == NULL && status == 404 && strstr (error->message, "No such image") != NULL)
    {
      g_autofree char *image_id = NULL;
      g_clear_error (&error);
      g_printerr (_("Unable to find image “%s” locally: pulling it\n"), args[0]);
      image_id = cli_image_pull (ctx, args[0], TRUE, &error);
      if (image_id == NULL)
        return cli_context_fail (ctx, error);
      created = post_json (client, "/api/containers", body, NULL, &error);
    }
  if (created == NULL || !JSON_NODE_HOLDS_OBJECT (created))
    return cli_context_fail (ctx, error);
  id = json_object_get_string_member (json_node_get_object (created), "Id");
  esc = cli_escape_path (id);
  start_path = g_strdup_printf ("/api/containers/%s/start", esc);
  wait_path = g_strdup_printf ("/api/containers/%s/wait", esc);
  if (!opt_detach)
    {
      /* output and exit status are asked for before the start, so that
       * nothing is missed, even when the container is gone at once */
      g_autofree char *logs_path = g_strdup_printf ("/api/containers/%s/logs?follow=1", esc);
      logs = cli_stream_open (ctx, "GET", logs_path, &error);
      if (logs == NULL || (waiting = cli_stream_open (ctx, "POST", wait_path, &error)) == NULL)
        return cli_context_fail (ctx, error);
    }
  {
    g_autoptr(JsonNode) started = post_json (client, start_path, NULL, NULL, &error);
    if (started == NULL)
      {
        if (opt_rm)
          {
            /* never started, so never auto-removed: remove it here */
            g_autofree char *path = g_strdup_printf ("/api/containers/%s?force=1", esc);
            CliResponse *response = cli_client_send (client, "DELETE", path, NULL, NULL);
            g_clear_pointer (&response, cli_response_free);
          }
        return cli_context_fail (ctx, error);
      }
  }
  if (opt_detach)
    {
      g_print ("%s\n", id);
      return CLI_EXIT_OK;
    }
  {
    char buf[8192];
    gssize n;
    while ((n = g_input_stream_read (logs->body, buf, sizeof buf, NULL, &error)) > 0)
      if (!cli_output_write (buf, (gsize) n, &error))
        return cli_context_fail (ctx, error);
    if (n < 0)
      return cli_context_fail (ctx, error);
  }
  {
    g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(JsonParser) parser = json_parser_new ();

    if (g_output_stream_splice (out, waiting->body, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error) < 0)
      return cli_context_fail (ctx, error);
    bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
    if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes),
                                     &error))
      return cli_context_fail (ctx, error);
    waited = json_node_copy (json_parser_get_root (parser));
  }
  if (waited == NULL || !JSON_NODE_HOLDS_OBJECT (waited))
    {
      cli_print_error (_("berthd did not say how the container ended"));
      return CLI_EXIT_FAILURE;
    }
  code = json_object_get_int_member_with_default (json_node_get_object (waited), "StatusCode", 1);
  if (json_object_get_boolean_member_with_default (json_node_get_object (waited), "OOMKilled", FALSE))
    g_printerr (_("The container ran out of memory and was killed\n"));
  return code >= 0 && code < 256 ? (int) code : 125;
}

static char *
format_ports (JsonArray *ports)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; ports != NULL && i < json_array_get_length (ports); i++)
    {
      JsonObject *p = json_array_get_object_element (ports, i);
      const char *proto = json_object_get_string_member_with_default (p, "protocol", "tcp");
      g_string_append_printf (s, "%s%" G_GINT64_FORMAT "->%" G_GINT64_FORMAT "/%s", s->len > 0 ? ", " : "",
                              json_object_get_int_member_with_default (p, "host", 0),
                              json_object_get_int_member_with_default (p, "container", 0), proto);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static int
ps_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(CliTable) table = cli_table_new (6);
  CliClient *client = cli_context_get_client (ctx, &error);
  JsonArray *array;

  if (client == NULL ||
      (node = cli_client_get_json (client, opt_all ? "/api/containers?all=1" : "/api/containers", &error)) == NULL)
    return cli_context_fail (ctx, error);
  if (ctx->json)
    return cli_output_json (node, &error) ? CLI_EXIT_OK : cli_context_fail (ctx, error);
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return CLI_EXIT_FAILURE;
  array = json_node_get_array (node);
  cli_table_add_row (table, _("CONTAINER ID"), _("IMAGE"), _("STATUS"), _("ADDRESS"), _("PORTS"), _("NAMES"), NULL);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *c = json_array_get_object_element (array, i);
      g_autofree char *short_id = g_strndup (json_object_get_string_member_with_default (c, "Id", ""), 12);
      g_autofree char *ports = format_ports (json_object_get_array_member (c, "Ports"));
      const char *state = json_object_get_string_member_with_default (c, "State", "");
      g_autofree char *status = NULL;
      JsonNode *code = json_object_get_member (c, "ExitCode");
      JsonNode *addr = json_object_get_member (c, "Address");

      if (g_strcmp0 (state, "exited") == 0 && code != NULL && !JSON_NODE_HOLDS_NULL (code))
        status = g_strdup_printf (_("exited (%" G_GINT64_FORMAT ")%s"), json_node_get_int (code),
                                  json_object_get_boolean_member_with_default (c, "OOMKilled", FALSE)
                                    ? " OOM" : "");
      else
        status = g_strdup (state);
      cli_table_add_row (table, short_id, json_object_get_string_member_with_default (c, "Image", ""), status,
                         addr != NULL && !JSON_NODE_HOLDS_NULL (addr) ? json_node_get_string (addr) : "",
                         ports, json_object_get_string_member_with_default (c, "Name", ""), NULL);
    }
  cli_table_print (table, "");
  return CLI_EXIT_OK;
}

static int
logs_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autoptr(GError) error = NULL;
  CliClient *client = cli_context_get_client (ctx, &error);

  if (client == NULL || !print_logs (ctx, client, args[0], opt_follow, &error))
    return cli_context_fail (ctx, error);
  return CLI_EXIT_OK;
}

static int
each_container (CliContext *ctx, const char *const *args, guint n_args, const char *method,
                const char *suffix)
{
  int status = CLI_EXIT_OK;
  CliClient *client;

  for (guint i = 0; i < n_args; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *esc = cli_escape_path (args[i]);
      g_autofree char *path = g_strdup_printf ("/api/containers/%s%s", esc, suffix);
      g_autoptr(CliResponse) response = NULL;

      if ((client = cli_context_get_client (ctx, &error)) == NULL)
        return cli_context_fail (ctx, error);
      cli_client_set_timeout (client, 0);
      response = cli_client_send (client, method, path, NULL, &error);
      if (response == NULL || !cli_response_check (response, &error))
        {
          cli_context_fail (ctx, error);
          status = CLI_EXIT_FAILURE;
          continue;
        }
      g_print ("%s\n", args[i]);
    }
  return status;
}

static int
stop_run (CliContext *ctx, const char *const *args, guint n_args)
{
  g_autofree char *suffix = g_strdup_printf ("/stop?t=%d", MAX (opt_time, 0));
  return each_container (ctx, args, n_args, "POST", suffix);
}

static int
rm_run (CliContext *ctx, const char *const *args, guint n_args)
{
  return each_container (ctx, args, n_args, "DELETE", opt_force ? "?force=1" : "");
}

const CliCommand cli_container_commands[] = {
  { .name = "run", .summary = N_("Run a command in a new container"),
    .parameters = N_("IMAGE [--] [COMMAND [ARG…]]"),
    .description = N_("Put “--” before a command that has options of its own."),
    .options = run_options, .min_args = 1, .max_args = CLI_ARGS_UNLIMITED, .run = run_run },
  { .name = "ps", .summary = N_("List containers"), .options = ps_options, .run = ps_run },
  { .name = "logs", .summary = N_("Print a container's output"), .parameters = N_("CONTAINER"),
    .options = logs_options, .min_args = 1, .max_args = 1, .run = logs_run },
  { .name = "stop", .summary = N_("Stop containers (TERM, then KILL after --time)"),
    .parameters = N_("CONTAINER…"), .options = stop_options, .min_args = 1, .max_args = CLI_ARGS_UNLIMITED,
    .run = stop_run },
  { .name = "rm", .summary = N_("Remove containers"), .parameters = N_("CONTAINER…"), .options = rm_options,
    .min_args = 1, .max_args = CLI_ARGS_UNLIMITED, .run = rm_run },
  { NULL }
};
