/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <berth.h>

G_BEGIN_DECLS

/* What the command line says; NULL/FALSE/0 where it says nothing. */
typedef struct {
  gboolean   dev;
  char      *config_path;
  char      *state_dir;
  char      *http_addr;
  char      *dns_addr;
  char      *log_level;
  char      *sync;
  char      *plugin_dir;
  char     **disabled_plugins;
  char     **listen;           /* ZONE=HOST:PORT, repeatable */
  gboolean   insecure;
  gboolean   version;
  gboolean   repair;           /* --repair: check and recover the store, then exit */
} BdOptions;

/* Limits of the HTTP front door ([berthd] http_* keys). */
typedef struct {
  guint64    max_body_bytes;
  guint      max_connections;
  guint      max_connections_per_client;
  guint      idle_timeout_s;
  guint      header_timeout_s;
  guint      max_header_bytes;
  guint      max_url_bytes;
  guint      max_header_count;
  char     **allowed_origins;
} BdHttpLimits;

/* The effective configuration: defaults, then the config file, then the
 * command line. */
typedef struct {
  GKeyFile  *keyfile;
  char      *config_path;
  char      *state_dir;
  char      *http_addr;
  char      *dns_addr;
  char      *log_level;
  char      *sync;
  char      *node_name;
  char      *datacenter;
  char      *plugin_dir;
  char     **disabled_plugins;
  char     **required_plugins;
  char     **listen;           /* extra listeners, ZONE=HOST:PORT each */
  gboolean   insecure;
  gboolean   dev;
  guint64    max_body_bytes;
  BdHttpLimits http;
} BdConfig;

void      bd_options_clear (BdOptions *options);
BdConfig *bd_config_load   (const BdOptions *options,
                            GError         **error);
void      bd_config_free   (BdConfig        *config);
gboolean  bd_config_is_disabled (const BdConfig *config,
                                 const char     *plugin);
gboolean  bd_config_is_required (const BdConfig *config,
                                 const char     *plugin);
gboolean  bd_config_parse_listen (const char  *spec,
                                  BerthZone   *zone,
                                  char       **address,
                                  GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdConfig, bd_config_free)

G_END_DECLS
