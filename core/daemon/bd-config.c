/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "bd-config.h"

#define GROUP "berthd"

void
bd_options_clear (BdOptions *options)
{
  g_clear_pointer (&options->config_path, g_free);
  g_clear_pointer (&options->state_dir, g_free);
  g_clear_pointer (&options->http_addr, g_free);
  g_clear_pointer (&options->dns_addr, g_free);
  g_clear_pointer (&options->log_level, g_free);
  g_clear_pointer (&options->sync, g_free);
  g_clear_pointer (&options->plugin_dir, g_free);
  g_clear_pointer (&options->disabled_plugins, g_strfreev);
  g_clear_pointer (&options->listen, g_strfreev);
}

void
bd_config_free (BdConfig *config)
{
  if (config == NULL)
    return;
  g_clear_pointer (&config->keyfile, g_key_file_unref);
  g_free (config->config_path);
  g_free (config->state_dir);
  g_free (config->http_addr);
  g_free (config->dns_addr);
  g_free (config->log_level);
  g_free (config->sync);
  g_free (config->node_name);
  g_free (config->datacenter);
  g_free (config->plugin_dir);
  g_strfreev (config->disabled_plugins);
  g_strfreev (config->required_plugins);
  g_strfreev (config->listen);
  g_strfreev (config->http.allowed_origins);
  g_free (config);
}

static char *
default_state_dir (gboolean dev)
{
  if (dev)
    {
      g_autofree char *cwd = g_get_current_dir ();
      return g_build_filename (cwd, ".berth", NULL);
    }
  if (geteuid () == 0)
    return g_strdup ("/var/lib/berth");
  return g_build_filename (g_get_user_data_dir (), "berth", NULL);
}

static char *
get_string (GKeyFile *kf, const char *group, const char *key, const char *fallback)
{
  g_autofree char *value = g_key_file_get_string (kf, group, key, NULL);
  if (value == NULL || *g_strstrip (value) == '\0')
    return g_strdup (fallback);
  return g_steal_pointer (&value);
}

static char **
get_list (GKeyFile *kf, const char *group, const char *key)
{
  g_auto(GStrv) list = g_key_file_get_string_list (kf, group, key, NULL, NULL);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    {
      /* accept "a,b" as well as GKeyFile's "a;b" */
      g_auto(GStrv) parts = g_strsplit (list[i], ",", -1);
      for (guint j = 0; parts[j] != NULL; j++)
        if (*g_strstrip (parts[j]) != '\0')
          g_strv_builder_add (builder, parts[j]);
    }
  return g_strv_builder_end (builder);
}

static gboolean
is_dns_label (const char *s)
{
  gsize len = strlen (s);

  if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
    return FALSE;
  for (const char *p = s; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

/* An unsigned key between @min and @max; @fallback when absent. */
static gboolean
get_uint (GKeyFile *kf, const char *key, guint64 fallback, guint64 min, guint64 max,
          guint64 *out, GError **error)
{
  g_autofree char *fallback_text = g_strdup_printf ("%" G_GUINT64_FORMAT, fallback);
  g_autofree char *text = get_string (kf, GROUP, key, fallback_text);

  if (!g_ascii_string_to_unsigned (text, 10, min, max, out, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("%s must be a number between %" G_GUINT64_FORMAT " and %" G_GUINT64_FORMAT
                     ", not “%s”"), key, min, max, text);
      return FALSE;
    }
  return TRUE;
}

/* An origin as browsers send it: scheme://host[:port], nothing more. */
static gboolean
is_origin (const char *origin)
{
  g_autoptr(GUri) uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);

  return uri != NULL && g_uri_get_host (uri) != NULL && *g_uri_get_host (uri) != '\0' &&
         (g_strcmp0 (g_uri_get_scheme (uri), "http") == 0 ||
          g_strcmp0 (g_uri_get_scheme (uri), "https") == 0) &&
         *g_uri_get_path (uri) == '\0' && g_uri_get_query (uri) == NULL &&
         g_uri_get_fragment (uri) == NULL && g_uri_get_userinfo (uri) == NULL;
}

static gboolean
load_http_limits (GKeyFile *kf, BdHttpLimits *http, GError **error)
{
  guint64 v;

  if (!get_uint (kf, "http_max_connections", 1024, 1, 1000000, &v, error))
    return FALSE;
  http->max_connections = (guint) v;
  if (!get_uint (kf, "http_max_connections_per_client", 256, 1, 1000000, &v, error))
    return FALSE;
  http->max_connections_per_client = (guint) v;
  if (!get_uint (kf, "http_idle_timeout", 120, 1, 86400, &v, error))
    return FALSE;
  http->idle_timeout_s = (guint) v;
  if (!get_uint (kf, "http_header_timeout", 20, 1, 3600, &v, error))
    return FALSE;
  http->header_timeout_s = (guint) v;
  /* libsoup refuses request heads over 64 KiB by dropping the connection */
  if (!get_uint (kf, "http_max_header_bytes", 32768, 1024, 65536, &v, error))
    return FALSE;
  http->max_header_bytes = (guint) v;
  if (!get_uint (kf, "http_max_url_bytes", 8192, 256, 65536, &v, error))
    return FALSE;
  http->max_url_bytes = (guint) v;
  if (!get_uint (kf, "http_max_header_count", 100, 8, 1000, &v, error))
    return FALSE;
  http->max_header_count = (guint) v;
  http->allowed_origins = get_list (kf, GROUP, "http_allowed_origins");
  for (guint i = 0; http->allowed_origins[i] != NULL; i++)
    {
      char *o = http->allowed_origins[i];
      gsize len = strlen (o);
      if (len > 0 && o[len - 1] == '/')
        o[len - 1] = '\0';
      if (!is_origin (o))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("http_allowed_origins: “%s” is not an origin (scheme://host[:port])"), o);
          return FALSE;
        }
    }
  return TRUE;
}

BdConfig *
bd_config_load (const BdOptions *options, GError **error)
{
  g_autoptr(BdConfig) config = g_new0 (BdConfig, 1);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *sysconf = g_build_filename (BERTH_SYSCONFDIR, "berth.conf", NULL);
  g_autofree char *max_body = NULL;
  GKeyFile *kf;

  config->keyfile = kf = g_key_file_new ();
  config->dev = options->dev;

  if (options->config_path != NULL)
    config->config_path = g_strdup (options->config_path);
  else if (!options->dev && g_file_test (sysconf, G_FILE_TEST_EXISTS))
    config->config_path = g_steal_pointer (&sysconf);

  if (config->config_path != NULL &&
      !g_key_file_load_from_file (kf, config->config_path, G_KEY_FILE_KEEP_COMMENTS, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Cannot read config file %s: %s"), config->config_path, local_error->message);
      return NULL;
    }

  /* the command line wins over the file; write it back into the key file so
   * that plugins reading the context's config see the effective values */
  if (options->state_dir != NULL)
    g_key_file_set_string (kf, GROUP, "state_dir", options->state_dir);
  if (options->http_addr != NULL)
    g_key_file_set_string (kf, GROUP, "http_addr", options->http_addr);
  if (options->dns_addr != NULL)
    g_key_file_set_string (kf, GROUP, "dns_addr", options->dns_addr);
  if (options->log_level != NULL)
    g_key_file_set_string (kf, GROUP, "log_level", options->log_level);
  if (options->sync != NULL)
    g_key_file_set_string (kf, GROUP, "sync", options->sync);
  if (options->insecure)
    g_key_file_set_boolean (kf, GROUP, "insecure", TRUE);
  /* plugins see developer mode (the security plugin bootstraps its ACLs) */
  if (options->dev)
    g_key_file_set_boolean (kf, GROUP, "dev", TRUE);
  if (options->listen != NULL)
    {
      g_auto(GStrv) old = get_list (kf, GROUP, "listen");
      g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
      g_auto(GStrv) all = NULL;
      g_strv_builder_addv (b, (const char **) old);
      g_strv_builder_addv (b, (const char **) options->listen);
      all = g_strv_builder_end (b);
      g_key_file_set_string_list (kf, GROUP, "listen", (const char * const *) all,
                                  g_strv_length (all));
    }
  if (options->disabled_plugins != NULL)
    {
      g_auto(GStrv) old = get_list (kf, "plugins", "disabled");
      g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
      g_auto(GStrv) all = NULL;
      g_strv_builder_addv (b, (const char **) old);
      g_strv_builder_addv (b, (const char **) options->disabled_plugins);
      all = g_strv_builder_end (b);
      g_key_file_set_string_list (kf, "plugins", "disabled", (const char * const *) all,
                                  g_strv_length (all));
    }

  {
    g_autofree char *fallback = default_state_dir (options->dev);
    config->state_dir = get_string (kf, GROUP, "state_dir", fallback);
  }
  if (!g_path_is_absolute (config->state_dir))
    {
      g_autofree char *cwd = g_get_current_dir ();
      g_autofree char *rel = g_steal_pointer (&config->state_dir);
      config->state_dir = g_canonicalize_filename (rel, cwd);
    }
  config->http_addr = get_string (kf, GROUP, "http_addr", "127.0.0.1:8500");
  config->dns_addr = get_string (kf, GROUP, "dns_addr", "127.0.0.1:8600");
  config->log_level = get_string (kf, GROUP, "log_level", "message");
  config->sync = get_string (kf, GROUP, "sync", "normal");
  config->node_name = get_string (kf, GROUP, "node_name", g_get_host_name ());
  config->datacenter = get_string (kf, GROUP, "datacenter", "dc1");
  config->plugin_dir = g_strdup (options->plugin_dir);
  config->insecure = g_key_file_get_boolean (kf, GROUP, "insecure", NULL);
  config->disabled_plugins = get_list (kf, "plugins", "disabled");
  config->required_plugins = get_list (kf, "plugins", "required");
  config->listen = get_list (kf, GROUP, "listen");
  for (guint i = 0; config->listen[i] != NULL; i++)
    {
      BerthZone zone;
      g_autofree char *address = NULL;
      if (!bd_config_parse_listen (config->listen[i], &zone, &address, error))
        return NULL;
    }
  max_body = get_string (kf, GROUP, "max_body_bytes", "1048576");
  if (!g_ascii_string_to_unsigned (max_body, 10, 1024, G_MAXUINT32, &config->max_body_bytes, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("max_body_bytes must be a number between 1024 and %u, not “%s”"),
                   G_MAXUINT32, max_body);
      return NULL;
    }
  if (!load_http_limits (kf, &config->http, error))
    return NULL;
  config->http.max_body_bytes = config->max_body_bytes;
  if (g_strcmp0 (config->sync, "normal") != 0 && g_strcmp0 (config->sync, "full") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("sync must be “normal” or “full”, not “%s”"), config->sync);
      return NULL;
    }
  if (!is_dns_label (config->datacenter))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("datacenter “%s” must be a plain DNS label"), config->datacenter);
      return NULL;
    }
  return g_steal_pointer (&config);
}

/* `ZONE=HOST:PORT`, the form of --listen and [berthd] listen. */
gboolean
bd_config_parse_listen (const char *spec, BerthZone *zone, char **address, GError **error)
{
  const char *eq = strchr (spec, '=');
  g_autofree char *name = NULL;

  if (eq == NULL || eq[1] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Listener “%s” must be ZONE=HOST:PORT (zones: admin, private, public)"), spec);
      return FALSE;
    }
  name = g_strndup (spec, (gsize) (eq - spec));
  if (!berth_zone_from_string (name, zone))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Listener “%s”: unknown zone “%s” (zones: admin, private, public)"), spec, name);
      return FALSE;
    }
  *address = g_strdup (eq + 1);
  return TRUE;
}

gboolean
bd_config_is_disabled (const BdConfig *config, const char *plugin)
{
  return g_strv_contains ((const char * const *) config->disabled_plugins, plugin);
}

gboolean
bd_config_is_required (const BdConfig *config, const char *plugin)
{
  return g_strv_contains ((const char * const *) config->required_plugins, plugin);
}
