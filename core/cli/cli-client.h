/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-client.h - a small synchronous HTTP client for berthd's REST API */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define CLI_ERROR (cli_error_quark ())

typedef enum {
  CLI_ERROR_USAGE,      /* bad command line: exit 2 */
  CLI_ERROR_CONNECT,    /* cannot reach berthd */
  CLI_ERROR_HTTP,       /* berthd answered with an error status */
  CLI_ERROR_DENIED,     /* 401/403 */
  CLI_ERROR_NOT_FOUND,  /* a thing the user named does not exist */
  CLI_ERROR_PROTOCOL,   /* berthd's answer makes no sense */
  CLI_ERROR_FAILED,     /* anything else */
} CliError;

GQuark cli_error_quark (void);

/* Long enough for a blocking query with wait=5m plus the server's jitter. */
#define CLI_WATCH_TIMEOUT_SECONDS 400
#define CLI_WATCH_WAIT "5m"

typedef struct {
  guint status;
  char *reason;
  guint64 index;        /* X-Consul-Index, when has_index */
  gboolean has_index;
  GBytes *body;         /* never NULL */
} CliResponse;

void cli_response_free (CliResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliResponse, cli_response_free)

gboolean   cli_response_check       (CliResponse  *response,
                                     GError      **error);
JsonNode  *cli_response_parse_json  (CliResponse  *response,
                                     GError      **error);

typedef struct _CliClient CliClient;

CliClient   *cli_client_new           (const char   *socket_path,
                                       const char   *address,
                                       const char   *token,
                                       const char   *ca_file,
                                       GError      **error);
void         cli_client_free          (CliClient    *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliClient, cli_client_free)

const char  *cli_client_get_location  (CliClient    *client);
void         cli_client_set_timeout   (CliClient    *client,
                                       guint         seconds);
CliResponse *cli_client_send          (CliClient    *client,
                                       const char   *method,
                                       const char   *path_and_query,
                                       GBytes       *body,
                                       GError      **error);
JsonNode    *cli_client_get_json      (CliClient    *client,
                                       const char   *path_and_query,
                                       GError      **error);

char        *cli_escape_path          (const char   *path);

G_END_DECLS
