/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "security-tls.h"

/* Files in <state-dir>/tls/: ca.pem and ca-key.pem (the CA, made on the
 * first start with TLS enabled), server.pem and server-key.pem (the
 * node's certificate, valid for its name, localhost, loopback and its
 * addresses). A node given ca.pem and a server certificate but not
 * ca-key.pem serves TLS but issues nothing. The server certificate is
 * renewed when less than a third of its lifetime is left: checked at
 * start, then daily (more often for short lifetimes). */

#define CA_LIFETIME_S     (10 * 365 * 24 * 3600ULL)
#define DAY_S             (24 * 3600ULL)
#define DEFAULT_CERT_DAYS 365

struct _SecurityTls {
  GObject          parent_instance;
  BerthContext    *context;
  gboolean         enabled;
  gboolean         registered;
  char            *dir;
  char            *ca_pem;
  char            *ca_key_pem;     /* NULL on a node that does not issue */
  char            *server_pem;
  GTlsCertificate *certificate;
  GTlsDatabase    *database;
  guint64          lifetime_s;     /* of server certificates */
  guint            renew_id;
};

static void security_tls_provider_iface_init (BerthTlsProviderInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SecurityTls, security_tls, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BERTH_TYPE_TLS_PROVIDER,
                                                      security_tls_provider_iface_init))

/* ---- the provider --------------------------------------------------- */

static GTlsCertificate *
provider_get_certificate (BerthTlsProvider *provider)
{
  SecurityTls *self = SECURITY_TLS (provider);
  return self->certificate != NULL ? g_object_ref (self->certificate) : NULL;
}

static GTlsDatabase *
provider_get_database (BerthTlsProvider *provider)
{
  SecurityTls *self = SECURITY_TLS (provider);
  return self->database != NULL ? g_object_ref (self->database) : NULL;
}

static char *
provider_dup_ca_pem (BerthTlsProvider *provider)
{
  return g_strdup (SECURITY_TLS (provider)->ca_pem);
}

static void
security_tls_provider_iface_init (BerthTlsProviderInterface *iface)
{
  iface->get_certificate = provider_get_certificate;
  iface->get_database = provider_get_database;
  iface->dup_ca_pem = provider_dup_ca_pem;
}

/* ---- files ---------------------------------------------------------- */

static char *
path_of (SecurityTls *self, const char *name)
{
  return g_build_filename (self->dir, name, NULL);
}

/* Reads @name; a missing file is NULL without an error. */
static gboolean
read_pem (SecurityTls *self, const char *name, char **out, GError **error)
{
  g_autofree char *path = path_of (self, name);
  g_autoptr(GError) local = NULL;

  *out = NULL;
  if (g_file_get_contents (path, out, NULL, &local))
    return TRUE;
  if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

static gboolean
write_pem (SecurityTls *self, const char *name, const char *pem, int mode, GError **error)
{
  g_autofree char *path = path_of (self, name);

  if (!g_file_set_contents_full (path, pem, -1, G_FILE_SET_CONTENTS_CONSISTENT, mode, error))
    return FALSE;
  /* an existing file keeps its mode through the rename: set it anyway */
  if (g_chmod (path, mode) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), _("Cannot set the mode of %s: %s"),
                   path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* ---- the node's certificate ----------------------------------------- */

static void
add_address (GPtrArray *ips, const char *text)
{
  g_autoptr(GInetAddress) inet = NULL;
  g_autofree char *normal = NULL;

  if (text == NULL || *text == '\0')
    return;
  inet = g_inet_address_new_from_string (text);
  if (inet == NULL || g_inet_address_get_is_any (inet))
    return;
  normal = g_inet_address_to_string (inet);
  for (guint i = 0; i < ips->len; i++)
    if (g_str_equal (g_ptr_array_index (ips, i), normal))
      return;
  g_ptr_array_add (ips, g_steal_pointer (&normal));
}

/* The host of a HOST:PORT or [HOST]:PORT listen address. */
static void
add_listen_address (GPtrArray *ips, const char *address)
{
  g_autoptr(GSocketConnectable) parsed = NULL;

  if (address == NULL || *address == '\0')
    return;
  parsed = g_network_address_parse (address, 0, NULL);
  if (parsed != NULL)
    add_address (ips, g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed)));
}

/* The names the node's certificate is for: its name, localhost, loopback,
 * its addresses and [tls] addresses. */
static void
wanted_names (SecurityTls *self, GPtrArray *dns, GPtrArray *ips)
{
  BerthNode *node = berth_context_get_node (self->context);
  const char *name = node != NULL ? berth_node_get_name (node) : g_get_host_name ();
  g_autofree char *https_addr = berth_context_dup_config_string (self->context, "tls", "https_addr", NULL);
  g_autofree char *http_addr = berth_context_dup_config_string (self->context, "berthd", "http_addr", NULL);
  g_autofree char *extra = berth_context_dup_config_string (self->context, "tls", "addresses", NULL);

  g_ptr_array_add (dns, g_strdup (name));
  if (node != NULL)
    g_ptr_array_add (dns, g_strdup_printf ("%s.node.%s.consul", name,
                                           berth_node_get_datacenter (node)));
  if (g_strcmp0 (name, "localhost") != 0)
    g_ptr_array_add (dns, g_strdup ("localhost"));
  g_ptr_array_add (dns, NULL);
  add_address (ips, "127.0.0.1");
  add_address (ips, "::1");
  if (node != NULL)
    add_address (ips, berth_node_get_address (node));
  add_listen_address (ips, https_addr);
  add_listen_address (ips, http_addr);
  if (extra != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (extra, ",", -1);
      for (guint i = 0; parts[i] != NULL; i++)
        add_address (ips, g_strstrip (parts[i]));
    }
  g_ptr_array_add (ips, NULL);
}

static gboolean
issue_server (SecurityTls *self, char **cert_pem, char **key_pem, GError **error)
{
  g_autoptr(GPtrArray) dns = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) ips = g_ptr_array_new_with_free_func (g_free);

  wanted_names (self, dns, ips);
  return security_ca_issue (self->ca_pem, self->ca_key_pem, g_ptr_array_index (dns, 0),
                            (const char * const *) dns->pdata, (const char * const *) ips->pdata,
                            SECURITY_CERT_SERVER | SECURITY_CERT_CLIENT, self->lifetime_s,
                            cert_pem, key_pem, error);
}

/* Whether @cert_pem is still for every name and address of the node (its
 * name, or an address, may have changed since it was made). */
static gboolean
covers_node (SecurityTls *self, const char *cert_pem)
{
  g_autoptr(GPtrArray) dns = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) ips = g_ptr_array_new_with_free_func (g_free);

  wanted_names (self, dns, ips);
  return security_ca_covers (cert_pem, (const char * const *) dns->pdata,
                             (const char * const *) ips->pdata);
}

/* Makes @cert_pem with @key_pem the node's certificate. */
static gboolean
use_server (SecurityTls *self, const char *cert_pem, const char *key_pem, GError **error)
{
  g_autofree char *both = g_strconcat (cert_pem, key_pem, NULL);
  g_autoptr(GTlsCertificate) certificate = g_tls_certificate_new_from_pem (both, -1, error);

  if (certificate == NULL)
    return FALSE;
  g_set_object (&self->certificate, certificate);
  g_free (self->server_pem);
  self->server_pem = g_strdup (cert_pem);
  return TRUE;
}

static gboolean
renew_server (SecurityTls *self, GError **error)
{
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *serial = NULL;

  if (!issue_server (self, &cert, &key, error) ||
      !write_pem (self, "server-key.pem", key, 0600, error) ||
      !write_pem (self, "server.pem", cert, 0644, error) ||
      !use_server (self, cert, key, error))
    return FALSE;
  security_ca_inspect (cert, NULL, NULL, &serial, NULL);
  g_message ("tls: the node's certificate is now serial %s", serial != NULL ? serial : "?");
  return TRUE;
}

/* Whether less than a third of the certificate's lifetime is left. */
static gboolean
needs_renewal (const char *cert_pem)
{
  gint64 not_before = 0, not_after = 0;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (!security_ca_inspect (cert_pem, &not_before, &not_after, NULL, NULL))
    return TRUE;
  return (not_after - now) * 3 < (not_after - not_before);
}

static gboolean
renew_cb (gpointer data)
{
  SecurityTls *self = data;
  g_autoptr(GError) error = NULL;

  if (self->ca_key_pem == NULL || !needs_renewal (self->server_pem))
    return G_SOURCE_CONTINUE;
  if (!renew_server (self, &error))
    g_warning ("tls: cannot renew the node's certificate: %s", error->message);
  else
    berth_tls_provider_emit_changed (BERTH_TLS_PROVIDER (self));
  return G_SOURCE_CONTINUE;
}

/* ---- start ---------------------------------------------------------- */

static gboolean
load_or_create_ca (SecurityTls *self, GError **error)
{
  BerthNode *node = berth_context_get_node (self->context);
  g_autofree char *name = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;

  if (!read_pem (self, "ca.pem", &self->ca_pem, error) ||
      !read_pem (self, "ca-key.pem", &self->ca_key_pem, error))
    return FALSE;
  if (self->ca_pem != NULL)
    {
      if (security_ca_inspect (self->ca_pem, NULL, NULL, NULL, error))
        return TRUE;
      g_prefix_error (error, "%s/ca.pem: ", self->dir);
      return FALSE;
    }
  if (self->ca_key_pem != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("%s/ca-key.pem exists without ca.pem"), self->dir);
      return FALSE;
    }
  name = g_strdup_printf ("Berth CA %s %08x", node != NULL ? berth_node_get_datacenter (node) : "",
                          g_random_int ());
  if (!security_ca_create (name, CA_LIFETIME_S, &cert, &key, error) ||
      !write_pem (self, "ca-key.pem", key, 0600, error) ||
      !write_pem (self, "ca.pem", cert, 0644, error))
    return FALSE;
  g_message ("tls: created the certificate authority in %s", self->dir);
  self->ca_pem = g_steal_pointer (&cert);
  self->ca_key_pem = g_steal_pointer (&key);
  return TRUE;
}

static gboolean
load_or_create_server (SecurityTls *self, GError **error)
{
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;

  if (!read_pem (self, "server.pem", &cert, error) ||
      !read_pem (self, "server-key.pem", &key, error))
    return FALSE;
  if (cert != NULL && key != NULL &&
      (self->ca_key_pem == NULL || (!needs_renewal (cert) && covers_node (self, cert))))
    {
      if (use_server (self, cert, key, error))
        return TRUE;
      g_prefix_error (error, "%s/server.pem, server-key.pem: ", self->dir);
      return FALSE;
    }
  if (self->ca_key_pem == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("%s has neither the node's certificate (server.pem, server-key.pem) nor "
                     "the CA's key to issue one"), self->dir);
      return FALSE;
    }
  return renew_server (self, error);
}

/* A node given its certificate must be given the CA that signed it. */
static gboolean
check_chain (SecurityTls *self, GError **error)
{
  g_autoptr(GTlsCertificate) ca = g_tls_certificate_new_from_pem (self->ca_pem, -1, error);

  if (ca == NULL)
    return FALSE;
  if (g_tls_certificate_verify (self->certificate, NULL, ca) & G_TLS_CERTIFICATE_UNKNOWN_CA)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("TLS: %s/server.pem is not signed by the CA in ca.pem"), self->dir);
      return FALSE;
    }
  return TRUE;
}

static gboolean
start (SecurityTls *self, GError **error)
{
  g_autofree char *ca_path = NULL;
  guint64 days = berth_context_get_config_uint64 (self->context, "tls", "cert_days", DEFAULT_CERT_DAYS);
  guint64 check_s;

  if (days == 0 || days > 3650)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("[tls] cert_days must be between 1 and 3650, not %" G_GUINT64_FORMAT), days);
      return FALSE;
    }
  /* cert_lifetime_s (undocumented) is for tests of renewal */
  self->lifetime_s = berth_context_get_config_uint64 (self->context, "tls", "cert_lifetime_s",
                                                      days * DAY_S);
  if (self->lifetime_s < 3)
    self->lifetime_s = 3;
  self->dir = g_build_filename (berth_context_get_state_dir (self->context), "tls", NULL);
  if (g_mkdir_with_parents (self->dir, 0700) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), _("Cannot create %s: %s"),
                   self->dir, g_strerror (errno));
      return FALSE;
    }
  if (!load_or_create_ca (self, error) || !load_or_create_server (self, error))
    {
      g_prefix_error (error, "TLS: ");
      return FALSE;
    }
  ca_path = path_of (self, "ca.pem");
  self->database = g_tls_file_database_new (ca_path, error);
  if (self->database == NULL)
    return FALSE;
  if (!check_chain (self, error))
    return FALSE;
  if (!berth_context_add_service (self->context, BERTH_TYPE_TLS_PROVIDER, self, error))
    return FALSE;
  self->registered = TRUE;
  /* daily, or six times a lifetime for short ones */
  check_s = MIN (DAY_S, MAX (1, self->lifetime_s / 6));
  self->renew_id = g_timeout_add_seconds ((guint) check_s, renew_cb, self);
  return TRUE;
}

/* ---- the object ----------------------------------------------------- */

static void
security_tls_finalize (GObject *object)
{
  SecurityTls *self = SECURITY_TLS (object);

  g_clear_handle_id (&self->renew_id, g_source_remove);
  g_clear_object (&self->context);
  g_clear_object (&self->certificate);
  g_clear_object (&self->database);
  g_free (self->dir);
  g_free (self->ca_pem);
  g_free (self->ca_key_pem);
  g_free (self->server_pem);
  G_OBJECT_CLASS (security_tls_parent_class)->finalize (object);
}

static void
security_tls_class_init (SecurityTlsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = security_tls_finalize;
}

static void
security_tls_init (SecurityTls *self)
{
}

SecurityTls *
security_tls_new (BerthContext *context, GError **error)
{
  g_autoptr(SecurityTls) self = g_object_new (SECURITY_TYPE_TLS, NULL);
  g_autofree char *https_addr = NULL;

  g_return_val_if_fail (BERTH_IS_CONTEXT (context), NULL);

  self->context = g_object_ref (context);
  https_addr = berth_context_dup_config_string (context, "tls", "https_addr", NULL);
  self->enabled = https_addr != NULL && *https_addr != '\0';
  if (self->enabled && !start (self, error))
    return NULL;
  security_tls_add_routes (self, context);
  return g_steal_pointer (&self);
}

void
security_tls_shutdown (SecurityTls *self)
{
  g_return_if_fail (SECURITY_IS_TLS (self));

  g_clear_handle_id (&self->renew_id, g_source_remove);
  if (self->registered)
    berth_context_remove_service (self->context, BERTH_TYPE_TLS_PROVIDER, self);
  self->registered = FALSE;
}

gboolean
security_tls_is_enabled (SecurityTls *self)
{
  g_return_val_if_fail (SECURITY_IS_TLS (self), FALSE);
  return self->enabled;
}

gboolean
security_tls_can_issue (SecurityTls *self)
{
  g_return_val_if_fail (SECURITY_IS_TLS (self), FALSE);
  return self->enabled && self->ca_key_pem != NULL;
}

const char *
security_tls_get_server_pem (SecurityTls *self)
{
  g_return_val_if_fail (SECURITY_IS_TLS (self), NULL);
  return self->server_pem;
}

const char *
security_tls_get_ca_pem (SecurityTls *self)
{
  g_return_val_if_fail (SECURITY_IS_TLS (self), NULL);
  return self->ca_pem;
}

gboolean
security_tls_issue (SecurityTls *self, const char *common_name, const char * const *dns_names,
                    const char * const *ip_addresses, SecurityCertUsage usage, char **cert_pem,
                    char **key_pem, GError **error)
{
  g_return_val_if_fail (SECURITY_IS_TLS (self), FALSE);
  g_return_val_if_fail (security_tls_can_issue (self), FALSE);

  return security_ca_issue (self->ca_pem, self->ca_key_pem, common_name, dns_names, ip_addresses,
                            usage, self->lifetime_s, cert_pem, key_pem, error);
}

gboolean
security_tls_rotate (SecurityTls *self, GError **error)
{
  g_return_val_if_fail (SECURITY_IS_TLS (self), FALSE);
  g_return_val_if_fail (security_tls_can_issue (self), FALSE);

  if (!renew_server (self, error))
    return FALSE;
  berth_tls_provider_emit_changed (BERTH_TLS_PROVIDER (self));
  return TRUE;
}
