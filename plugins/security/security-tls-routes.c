/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "security-tls.h"

/* GET /api/tls/ca: the CA certificate (public: clients need it to trust
 * the node). POST /api/tls/certs {"node": NAME} or {"client": NAME}:
 * a certificate and its key for another node or a client; the CA's key
 * never leaves berthd. POST /api/tls/rotate: renews the node's
 * certificate. Issuing and rotating are operator writes: admin zone. */

#define MAX_NAME 63

static gboolean
ready (SecurityTls *self, BerthRequest *req, gboolean issuing)
{
  if (!security_tls_is_enabled (self))
    {
      berth_request_respond_message (req, SOUP_STATUS_CONFLICT,
                                     _("TLS is not enabled on this node (berthd --https-addr or "
                                       "[tls] https_addr)"));
      return FALSE;
    }
  if (issuing && !security_tls_can_issue (self))
    {
      berth_request_respond_message (req, SOUP_STATUS_CONFLICT,
                                     _("This node does not hold the CA's key (tls/ca-key.pem): "
                                       "ask the node that does"));
      return FALSE;
    }
  return TRUE;
}

/* A DNS label or dotted labels of letters, digits and dashes. */
static gboolean
valid_name (const char *name)
{
  gsize len = strlen (name);
  g_auto(GStrv) labels = NULL;

  if (len == 0 || len > 253)
    return FALSE;
  labels = g_strsplit (name, ".", -1);
  for (guint i = 0; labels[i] != NULL; i++)
    {
      const char *l = labels[i];
      gsize n = strlen (l);
      if (n == 0 || n > MAX_NAME || l[0] == '-' || l[n - 1] == '-')
        return FALSE;
      for (gsize j = 0; j < n; j++)
        if (!g_ascii_isalnum (l[j]) && l[j] != '-')
          return FALSE;
    }
  return TRUE;
}

static void
add_cert_info (JsonBuilder *b, const char *cert_pem)
{
  gint64 not_after = 0;
  g_autofree char *serial = NULL;

  if (!security_ca_inspect (cert_pem, NULL, &not_after, &serial, NULL))
    return;
  json_builder_set_member_name (b, "serial");
  json_builder_add_string_value (b, serial);
  {
    g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc (not_after);
    g_autofree char *text = when != NULL ? g_date_time_format_iso8601 (when) : NULL;
    json_builder_set_member_name (b, "not_after");
    json_builder_add_string_value (b, text != NULL ? text : "");
  }
}

static void
ca_cb (BerthRequest *req, gpointer user_data)
{
  SecurityTls *self = user_data;
  g_autoptr(GBytes) body = NULL;
  const char *pem;

  if (!ready (self, req, FALSE))
    return;
  pem = security_tls_get_ca_pem (self);
  body = g_bytes_new (pem, strlen (pem));
  berth_request_respond (req, SOUP_STATUS_OK, "application/x-pem-file", body);
}

/* "addresses": optional IP addresses for a node's certificate */
static GPtrArray *
read_addresses (JsonObject *body, GError **error)
{
  g_autoptr(GPtrArray) ips = g_ptr_array_new_with_free_func (g_free);
  JsonNode *member = json_object_get_member (body, "addresses");
  JsonArray *array;

  if (member == NULL || JSON_NODE_HOLDS_NULL (member))
    return g_steal_pointer (&ips);
  if (!JSON_NODE_HOLDS_ARRAY (member))
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                           _("“addresses” must be an array of IP addresses"));
      return NULL;
    }
  array = json_node_get_array (member);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      const char *text = JSON_NODE_HOLDS_VALUE (item) &&
                         json_node_get_value_type (item) == G_TYPE_STRING ? json_node_get_string (item) : NULL;
      g_autoptr(GInetAddress) inet = text != NULL ? g_inet_address_new_from_string (text) : NULL;
      if (inet == NULL)
        {
          g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                               _("“addresses” must be an array of IP addresses"));
          return NULL;
        }
      g_ptr_array_add (ips, g_inet_address_to_string (inet));
    }
  return g_steal_pointer (&ips);
}

static const char *
string_member (JsonObject *body, const char *name, GError **error)
{
  JsonNode *member = json_object_get_member (body, name);

  if (member == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (member) || json_node_get_value_type (member) != G_TYPE_STRING)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("“%s” must be a string"), name);
      return NULL;
    }
  return json_node_get_string (member);
}

static void
certs_cb (BerthRequest *req, gpointer user_data)
{
  SecurityTls *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GPtrArray) ips = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) answer = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  JsonObject *body;
  const char *node, *client, *name;
  const char *dns[3] = { NULL, NULL, NULL };

  if (!ready (self, req, TRUE))
    return;
  root = berth_request_parse_json (req, &error);
  if (root == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      berth_request_respond_message (req, SOUP_STATUS_BAD_REQUEST,
                                     _("The body must be {\"node\": NAME} or {\"client\": NAME}"));
      return;
    }
  body = json_node_get_object (root);
  node = string_member (body, "node", &error);
  if (error == NULL)
    client = string_member (body, "client", &error);
  if (error != NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  if ((node == NULL) == (client == NULL))
    {
      berth_request_respond_message (req, SOUP_STATUS_BAD_REQUEST,
                                     _("The body must name one of “node” or “client”"));
      return;
    }
  name = node != NULL ? node : client;
  if (!valid_name (name))
    {
      g_autofree char *text = g_strdup_printf (_("Invalid name “%s”: letters, digits and dashes, "
                                                 "in dot-separated labels of at most %u"),
                                               name, MAX_NAME);
      berth_request_respond_message (req, SOUP_STATUS_BAD_REQUEST, text);
      return;
    }
  ips = read_addresses (body, &error);
  if (ips == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (client != NULL && ips->len > 0)
    {
      berth_request_respond_message (req, SOUP_STATUS_BAD_REQUEST,
                                     _("“addresses” are for node certificates only"));
      return;
    }
  g_ptr_array_add (ips, NULL);
  dns[0] = name;
  if (!security_tls_issue (self, name, node != NULL ? dns : NULL,
                           (const char * const *) ips->pdata,
                           node != NULL ? SECURITY_CERT_SERVER | SECURITY_CERT_CLIENT
                                        : SECURITY_CERT_CLIENT,
                           &cert, &key, &error))
    {
      berth_request_respond_message (req, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, node != NULL ? "node" : "client");
  json_builder_set_member_name (b, "certificate");
  json_builder_add_string_value (b, cert);
  json_builder_set_member_name (b, "private_key");
  json_builder_add_string_value (b, key);
  json_builder_set_member_name (b, "ca");
  json_builder_add_string_value (b, security_tls_get_ca_pem (self));
  add_cert_info (b, cert);
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  g_message ("tls: issued a %s certificate for %s", node != NULL ? "node" : "client", name);
  berth_request_respond_json (req, SOUP_STATUS_OK, answer);
}

static void
rotate_cb (BerthRequest *req, gpointer user_data)
{
  SecurityTls *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) answer = NULL;

  if (!ready (self, req, TRUE))
    return;
  if (!security_tls_rotate (self, &error))
    {
      berth_request_respond_message (req, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
      return;
    }
  json_builder_begin_object (b);
  add_cert_info (b, security_tls_get_server_pem (self));
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  berth_request_respond_json (req, SOUP_STATUS_OK, answer);
}

void
security_tls_add_routes (SecurityTls *self, BerthContext *context)
{
  static const BerthRouteSpec routes[] = {
    { BERTH_METHOD_GET, "/api/tls/ca", BERTH_RESOURCE_PUBLIC, BERTH_ACCESS_NONE, ca_cb },
    { BERTH_METHOD_POST, "/api/tls/certs", "operator", BERTH_ACCESS_WRITE, certs_cb },
    { BERTH_METHOD_POST, "/api/tls/rotate", "operator", BERTH_ACCESS_WRITE, rotate_cb },
  };

  berth_context_add_routes (context, routes, G_N_ELEMENTS (routes), self);
}
