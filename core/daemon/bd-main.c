/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <berth.h>

#include "bd-config.h"
#include "bd-events.h"
#include "bd-http.h"
#include "bd-http-tls.h"
#include "bd-lock.h"
#include "bd-log.h"
#include "bd-node.h"
#include "bd-notify.h"
#include "bd-plugins.h"
#include "bd-repair.h"
#include "bd-status.h"
#include "berth-context-private.h"
#include "berth-plugin-private.h"

/* Everything the running daemon owns; it lives on main's stack. */
typedef struct {
  GMainLoop    *loop;
  BdOptions     options;
  BdConfig     *config;
  BerthContext *context;
  BdHttp       *http;
  char         *https_option;  /* --https-addr */
  char         *https_address; /* bound */
  BdStatus      status;
  int           lock_fd;
  int           exit_code;
} BdDaemon;

/* TLS 1.2 and 1.3 only, for the HTTPS listener and the datacenter links
 * (glib-networking's GnuTLS backend reads this once, at its first use). */
#define TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* --https-addr is the [tls] https_addr of the configuration, where the
 * security plugin finds it. */
static void
apply_https_option (BdDaemon *d, GKeyFile *keyfile)
{
  if (d->https_option != NULL)
    g_key_file_set_string (keyfile, "tls", "https_addr", d->https_option);
}

static gboolean
quit_cb (gpointer user_data)
{
  BdDaemon *d = user_data;
  g_message ("berthd: shutting down");
  bd_notify ("STOPPING=1");
  g_main_loop_quit (d->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
reload_cb (gpointer user_data)
{
  BdDaemon *d = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(BdConfig) fresh = NULL;

  bd_notify ("RELOADING=1");
  fresh = bd_config_load (&d->options, &error);
  if (fresh == NULL)
    {
      g_warning ("reload: %s; keeping the current configuration", error->message);
      bd_notify ("READY=1");
      return G_SOURCE_CONTINUE;
    }
  apply_https_option (d, fresh->keyfile);
  if (!bd_log_set_level (fresh->log_level, &error))
    g_warning ("reload: %s", error->message);
  if (g_strcmp0 (fresh->http_addr, d->config->http_addr) != 0 ||
      g_strcmp0 (fresh->state_dir, d->config->state_dir) != 0 ||
      g_strcmp0 (fresh->node_name, d->config->node_name) != 0 ||
      g_strcmp0 (fresh->datacenter, d->config->datacenter) != 0)
    g_warning ("reload: addresses, state directory, node name and datacenter change only on restart");
  bd_http_set_limits (d->http, &fresh->http);
  berth_context_set_config (d->context, fresh->keyfile);
  bd_plugins_reload (d->context);
  g_message ("berthd: configuration reloaded%s%s",
             fresh->config_path != NULL ? " from " : "",
             fresh->config_path != NULL ? fresh->config_path : "");
  bd_notify ("READY=1");
  return G_SOURCE_CONTINUE;
}

static gboolean
parse_options (BdDaemon *d, int *argc, char ***argv, GError **error)
{
  BdOptions *o = &d->options;
  const GOptionEntry entries[] = {
    { "dev", 0, 0, G_OPTION_ARG_NONE, &o->dev,
      N_("Developer mode: state in ./.berth, everything on loopback"), NULL },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config_path,
      N_("Configuration file (GKeyFile)"), N_("FILE") },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->state_dir,
      N_("Directory for the store and other state"), N_("DIR") },
    { "http-addr", 0, 0, G_OPTION_ARG_STRING, &o->http_addr,
      N_("HTTP API address (default 127.0.0.1:8500)"), N_("HOST:PORT") },
    { "dns-addr", 0, 0, G_OPTION_ARG_STRING, &o->dns_addr,
      N_("DNS address (default 127.0.0.1:8600)"), N_("HOST:PORT") },
    { "log-level", 0, 0, G_OPTION_ARG_STRING, &o->log_level,
      N_("error, warning, message, info or debug"), N_("LEVEL") },
    { "sync", 0, 0, G_OPTION_ARG_STRING, &o->sync,
      N_("Commit durability: normal (survives a crash) or full (survives power loss)"), N_("MODE") },
    { "plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->plugin_dir,
      N_("Load plugins from DIR"), N_("DIR") },
    { "disable-plugin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->disabled_plugins,
      N_("Do not load plugin NAME (repeatable)"), N_("NAME") },
    { "listen", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->listen,
      N_("Also serve the API on ADDR for ZONE: admin, private or public (repeatable)"),
      N_("ZONE=HOST:PORT") },
    { "https-addr", 0, 0, G_OPTION_ARG_STRING, &d->https_option,
      N_("Also serve the API over HTTPS, with certificates of berthd's own CA"), N_("HOST:PORT") },
    { "insecure", 0, 0, G_OPTION_ARG_NONE, &o->insecure,
      N_("Allow serving plain HTTP on non-loopback addresses"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &o->version, N_("Print the version and exit"), NULL },
    { "repair", 0, 0, G_OPTION_ARG_NONE, &o->repair,
      N_("Check the store, recover a damaged one (kept aside), and exit"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);

  g_option_context_set_summary (ctx, _("The Berth daemon: a datacenter in a box."));
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  return g_option_context_parse (ctx, argc, argv, error);
}

static gboolean
ensure_state_dir (const char *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   _("Cannot create state directory %s: %s"), dir, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static char *
https_address (BdDaemon *d)
{
  g_autofree char *address = g_key_file_get_string (d->config->keyfile, "tls", "https_addr", NULL);

  if (address == NULL || *g_strstrip (address) == '\0')
    return NULL;
  return g_steal_pointer (&address);
}

/* Checked before anything is made of it: the address, and the zone. */
static gboolean
check_https (BdDaemon *d, BerthZone *zone, GError **error)
{
  g_autofree char *address = https_address (d);
  g_autofree char *zone_name = g_key_file_get_string (d->config->keyfile, "tls", "https_zone", NULL);
  g_autoptr(GInetSocketAddress) sa = NULL;

  *zone = d->config->dev ? BERTH_ZONE_ADMIN : BERTH_ZONE_PRIVATE;
  if (address == NULL)
    return TRUE;
  if (!bd_parse_host_port (address, 8501, &sa, error))
    {
      g_prefix_error (error, "--https-addr: ");
      return FALSE;
    }
  if (zone_name != NULL && !berth_zone_from_string (g_strstrip (zone_name), zone))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   _("[tls] https_zone must be admin, private or public, not “%s”"), zone_name);
      return FALSE;
    }
  return TRUE;
}

/* The HTTPS listener, with the certificate of the security plugin's CA. */
static gboolean
listen_https (BdDaemon *d, BerthZone zone, GError **error)
{
  g_autofree char *address = https_address (d);
  BerthTlsProvider *provider;
  g_autoptr(GError) local = NULL;
  gboolean verify;

  if (address == NULL)
    return TRUE;
  provider = berth_context_get_service (d->context, BERTH_TYPE_TLS_PROVIDER);
  if (provider == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("HTTPS on %s needs the security plugin, which holds the certificate "
                     "authority: it is disabled or did not start"), address);
      return FALSE;
    }
  verify = g_key_file_get_boolean (d->config->keyfile, "tls", "verify_incoming", &local);
  if (local != NULL && !g_error_matches (local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND) &&
      !g_error_matches (local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   _("[tls] verify_incoming: %s"), local->message);
      return FALSE;
    }
  return bd_http_listen_https (d->http, address, zone, provider, verify, &d->https_address, error);
}

/* ACLs default to deny: a security plugin that is there but did not start
 * must not leave berthd serving everyone. Without one at all (disabled, or
 * not built), every request is allowed and plain listeners stay on
 * loopback unless --insecure. */
static gboolean
check_authority (BdDaemon *d, GError **error)
{
  BerthPlugin *security = berth_context_lookup_plugin (d->context, "security");

  if (berth_context_get_service (d->context, BERTH_TYPE_AUTHORITY) != NULL)
    return TRUE;
  if (security != NULL && berth_plugin_get_state (security) != BERTH_PLUGIN_STATE_DISABLED)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("The security plugin did not start (%s): berthd does not serve without its "
                     "ACLs (--disable-plugin security runs without them, on loopback only)"),
                   berth_plugin_get_error (security) != NULL ? berth_plugin_get_error (security)
                                                             : berth_plugin_state_to_string (berth_plugin_get_state (security)));
      return FALSE;
    }
  return TRUE;
}

static gboolean
start (BdDaemon *d, GError **error)
{
  BerthZone https_zone;
  g_autoptr(BerthStore) store = NULL;
  g_autoptr(BerthNode) node = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *plugin_dir = NULL;
  g_autoptr(GInetSocketAddress) http_sa = NULL;
  g_autofree char *node_address = NULL;

  d->config = bd_config_load (&d->options, error);
  if (d->config == NULL)
    return FALSE;
  if (!bd_log_set_level (d->config->log_level, error))
    return FALSE;
  apply_https_option (d, d->config->keyfile);
  if (!check_https (d, &https_zone, error))
    return FALSE;
  if (!ensure_state_dir (d->config->state_dir, error))
    return FALSE;
  d->lock_fd = bd_lock_acquire (d->config->state_dir, error);
  if (d->lock_fd < 0)
    return FALSE;

  db_path = g_build_filename (d->config->state_dir, "berth.db", NULL);
  store = berth_store_new_full (db_path,
                                g_strcmp0 (d->config->sync, "full") == 0 ? BERTH_STORE_SYNC_FULL
                                                                          : BERTH_STORE_SYNC_NORMAL,
                                error);
  if (store == NULL)
    return FALSE;

  if (!bd_parse_host_port (d->config->http_addr, 8500, &http_sa, error))
    return FALSE;
  node_address = g_inet_address_to_string (g_inet_socket_address_get_address (http_sa));
  if (g_inet_address_get_is_any (g_inet_socket_address_get_address (http_sa)))
    {
      g_free (node_address);
      node_address = g_strdup ("127.0.0.1");
    }
  node = bd_node_load (d->config->state_dir, d->config->node_name, d->config->datacenter,
                       node_address, error);
  if (node == NULL)
    return FALSE;
  if (!bd_node_register (store, node, error))
    return FALSE;

  d->context = berth_context_new ();
  berth_context_set_store (d->context, store);
  berth_context_set_config (d->context, d->config->keyfile);
  berth_context_set_node (d->context, node);
  berth_context_set_state_dir (d->context, d->config->state_dir);

  d->status.started_us = g_get_monotonic_time ();
  d->status.socket_path = g_build_filename (d->config->state_dir, "berth.sock", NULL);
  bd_status_add_routes (d->context, &d->status);
  bd_events_add_routes (d->context);

  plugin_dir = d->config->plugin_dir != NULL ? g_strdup (d->config->plugin_dir)
                                             : bd_plugins_default_dir ();
  if (!bd_plugins_load (d->context, plugin_dir, d->config, error))
    return FALSE;
  if (!bd_plugins_start (d->context, d->config, error))
    return FALSE;
  if (!check_authority (d, error))
    return FALSE;

  d->http = bd_http_new (d->context, &d->config->http);
  /* --http-addr is the private zone; under --dev its loopback listener is
   * the developer's admin door too */
  if (!bd_http_listen_tcp (d->http, d->config->http_addr,
                           d->config->dev ? BERTH_ZONE_ADMIN : BERTH_ZONE_PRIVATE,
                           d->config->insecure, error))
    return FALSE;
  for (guint i = 0; d->config->listen[i] != NULL; i++)
    {
      BerthZone zone;
      g_autofree char *address = NULL;
      if (!bd_config_parse_listen (d->config->listen[i], &zone, &address, error) ||
          !bd_http_listen_tcp (d->http, address, zone, d->config->insecure, error))
        return FALSE;
    }
  if (!bd_http_listen_unix (d->http, d->status.socket_path, error))
    return FALSE;
  if (!listen_https (d, https_zone, error))
    return FALSE;
  d->status.http_address = g_strdup (bd_http_get_tcp_address (d->http));
  return TRUE;
}

/* The management token, when berthd (or `berth acl bootstrap`) made one. */
static char *
read_bootstrap_token (BdDaemon *d)
{
  g_autofree char *path = g_build_filename (d->config->state_dir, "bootstrap-token", NULL);
  g_autofree char *token = NULL;

  if (!g_file_get_contents (path, &token, NULL, NULL))
    return NULL;
  return g_strdup (g_strstrip (token));
}

static void
print_access (BdDaemon *d, const char *token)
{
  if (berth_context_get_service (d->context, BERTH_TYPE_AUTHORITY) == NULL)
    printf (_("berthd: no security plugin: every request is allowed, so berthd serves plain HTTP "
              "on loopback only unless --insecure\n"));
  else if (token == NULL)
    printf (_("berthd: ACLs deny by default; no management token yet: run “berth acl bootstrap” "
              "as root or as berthd's user\n"));
  else
    printf (_("berthd: ACLs deny by default; the management token is in %s/bootstrap-token\n"),
            d->config->state_dir);
}

static void
print_banner (BdDaemon *d)
{
  g_autofree char *token = read_bootstrap_token (d);
  const char *addr = d->status.http_address;
  g_autofree char *dns_host = g_strdup (d->config->dns_addr);
  char *colon = strrchr (dns_host, ':');
  const char *dns_port = "8600";

  if (colon != NULL)
    {
      *colon = '\0';
      dns_port = colon + 1;
    }
  GPtrArray *plugins = berth_context_get_plugins (d->context);

  printf (_("berthd %s: node %s, datacenter %s, state in %s\n"), BERTH_VERSION,
          d->config->node_name, d->config->datacenter, d->config->state_dir);
  printf (_("berthd: HTTP API on http://%s/\n"), addr);
  if (d->https_address != NULL)
    printf (_("berthd: HTTPS API on https://%s/\n"), d->https_address);
  printf (_("berthd: unix socket %s\n"), d->status.socket_path);
  for (guint i = 0; i < plugins->len; i++)
    {
      BerthPlugin *p = g_ptr_array_index (plugins, i);
      printf (_("berthd: plugin %s: %s%s%s\n"), berth_plugin_get_name (p),
              berth_plugin_state_to_string (berth_plugin_get_state (p)),
              berth_plugin_get_error (p) != NULL ? " — " : "",
              berth_plugin_get_error (p) != NULL ? berth_plugin_get_error (p) : "");
    }
  {
    g_autoptr(GList) names = g_hash_table_get_keys (berth_context_get_endpoints (d->context));
    names = g_list_sort (names, (GCompareFunc) g_strcmp0);
    for (GList *l = names; l != NULL; l = l->next)
      printf (_("berthd: %s on %s\n"), (const char *) l->data,
              (const char *) g_hash_table_lookup (berth_context_get_endpoints (d->context), l->data));
  }
  print_access (d, token);
  if (d->config->dev)
    {
      const char *t = token != NULL ? token : "TOKEN";
      if (token != NULL)
        printf (_("berthd: bootstrap token: %s\n"), token);
      printf (_("\nTry it:\n"));
      printf ("  curl -H 'X-Consul-Token: %s' -X PUT --data-binary hello http://%s/v1/kv/greeting\n", t, addr);
      printf ("  curl -H 'X-Consul-Token: %s' http://%s/v1/kv/greeting?raw\n", t, addr);
      printf ("  build/core/cli/berth --socket %s kv get greeting\n", d->status.socket_path);
      printf (_("  a browser at http://%s/api/status?token=%s\n"), addr, t);
      if (g_hash_table_contains (berth_context_get_endpoints (d->context), "dns"))
        printf ("  dig @%s -p %s %s.node.consul\n", dns_host, dns_port, d->config->node_name);
      printf ("\n");
    }
  printf (_("berthd: ready\n"));
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  BdDaemon d = { .lock_fd = -1 };
  g_autoptr(GError) error = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  bd_log_install ();
  g_setenv ("G_TLS_GNUTLS_PRIORITY", TLS_PRIORITY, TRUE);

  if (!parse_options (&d, &argc, &argv, &error))
    {
      g_printerr ("berthd: %s\n", error->message);
      g_printerr (_("Run “berthd --help” to see the options.\n"));
      return 2;
    }
  if (d.options.version)
    {
      printf ("berthd %s\n", BERTH_VERSION);
      return 0;
    }
  if (d.options.repair)
    {
      int status = bd_repair_run (&d.options);
      bd_options_clear (&d.options);
      return status;
    }

  d.loop = g_main_loop_new (NULL, FALSE);
  if (!start (&d, &error))
    {
      g_printerr ("berthd: %s\n", error->message);
      d.exit_code = 1;
    }
  else
    {
      guint sigint = g_unix_signal_add (SIGINT, quit_cb, &d);
      guint sigterm = g_unix_signal_add (SIGTERM, quit_cb, &d);
      guint sighup = g_unix_signal_add (SIGHUP, reload_cb, &d);

      print_banner (&d);
      bd_notify ("READY=1");
      g_main_loop_run (d.loop);
      g_source_remove (sigint);
      g_source_remove (sigterm);
      g_source_remove (sighup);
    }

  /* stop taking requests, then stop the controllers, then the store */
  g_clear_pointer (&d.http, bd_http_free);
  if (d.context != NULL)
    {
      BerthStore *store = berth_context_get_store (d.context);
      bd_plugins_stop (d.context);
      if (store != NULL)
        berth_store_close (store);
    }
  g_clear_object (&d.context);
  bd_lock_release (d.lock_fd);
  bd_config_free (d.config);
  bd_options_clear (&d.options);
  g_free (d.status.http_address);
  g_free (d.https_option);
  g_free (d.https_address);
  g_free (d.status.socket_path);
  g_main_loop_unref (d.loop);
  return d.exit_code;
}
