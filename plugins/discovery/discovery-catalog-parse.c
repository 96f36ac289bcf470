/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "discovery-catalog-parse.h"
#include "discovery-json.h"

/* Service and check definitions as Consul clients send them. Whatever is
 * kept as JSON (tags, meta, weights, the check definition) is validated
 * here and stored normalised. */

static gboolean
invalid (GError **error, const char *name, const char *what)
{
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("“%s” must be %s"), name, what);
  return FALSE;
}

static gboolean
get_bool (JsonObject *o, const char *name, gboolean *out, GError **error)
{
  JsonNode *node = discovery_json_member (o, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return invalid (error, name, _("a boolean"));
  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
get_int (JsonObject *o, const char *name, gint64 min, gint64 max, gint64 *out, GError **error)
{
  JsonNode *node = discovery_json_member (o, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
      json_node_get_int (node) < min || json_node_get_int (node) > max)
    {
      g_autofree char *what = g_strdup_printf (_("an integer from %" G_GINT64_FORMAT " to %"
                                                 G_GINT64_FORMAT), min, max);
      return invalid (error, name, what);
    }
  *out = json_node_get_int (node);
  return TRUE;
}

/* A JSON array of strings, as text; "[]" when absent. */
static gboolean
get_string_array (JsonObject *o, const char *name, char **out, GError **error)
{
  JsonNode *node = discovery_json_member (o, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      *out = g_strdup ("[]");
      return TRUE;
    }
  if (!catalog_json_is_string_array (node))
    return invalid (error, name, _("an array of strings"));
  *out = json_to_string (node, FALSE);
  return TRUE;
}

static gboolean
is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

/* The shapes of the JSON kept as text, shared by the payload parsers and
 * the checks of stored rows. */
gboolean
catalog_json_is_string_array (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
    if (!is_string (json_array_get_element (json_node_get_array (node), i)))
      return FALSE;
  return TRUE;
}

/* Whether @node is an object whose every member's value is @member_ok. */
static gboolean
is_object_of (JsonNode *node, gboolean (*member_ok) (JsonNode *value))
{
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &member, &value))
    if (!member_ok (value))
      return FALSE;
  return TRUE;
}

gboolean
catalog_json_is_string_object (JsonNode *node)
{
  return is_object_of (node, is_string);
}

/* One of a service's TaggedAddresses: {"Address": "...", "Port": N} */
static gboolean
is_service_address (JsonNode *value)
{
  g_autoptr(GError) error = NULL;
  gint64 port = 0;

  if (!JSON_NODE_HOLDS_OBJECT (value))
    return FALSE;
  discovery_json_string (json_node_get_object (value), "Address", &error);
  return error == NULL && get_int (json_node_get_object (value), "Port", 0, 65535, &port, &error);
}

/* A service's TaggedAddresses: {"lan": {"Address": "...", "Port": N}, ...} */
static gboolean
is_service_addresses (JsonNode *node)
{
  return is_object_of (node, is_service_address);
}

/* A JSON object of @shape, as text; "{}" when absent. */
static gboolean
get_object (JsonObject *o, const char *name, CatalogShape shape, char **out, GError **error)
{
  JsonNode *node = discovery_json_member (o, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      *out = g_strdup ("{}");
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, name, _("an object"));
  if (shape == CATALOG_SHAPE_STRING_OBJECT && !catalog_json_is_string_object (node))
    return invalid (error, name, _("an object of strings"));
  if (shape == CATALOG_SHAPE_SERVICE_ADDRESSES && !is_service_addresses (node))
    return invalid (error, name, _("an object of {\"Address\": string, \"Port\": 0 to 65535}"));
  *out = json_to_string (node, FALSE);
  return TRUE;
}

static gboolean
meta_pair_invalid (GError **error, const char *what, const char *key, const char *value,
                   const char *problem)
{
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
               _("Invalid %s: Couldn't load metadata pair ('%s', '%s'): %s"), what, key, value,
               problem);
  return FALSE;
}

/* Consul's limits on Meta and NodeMeta: at most 64 pairs, keys of
 * [A-Za-z0-9_-] up to 128 characters and not starting with "consul-",
 * values up to 512. Configurable in [discovery]: meta_max_pairs,
 * meta_max_key_length, meta_max_value_length. */
gboolean
catalog_check_meta (BerthContext *context, JsonNode *meta, const char *what, GError **error)
{
  return catalog_check_meta_limits (meta,
                                    berth_context_get_config_uint64 (context, "discovery", "meta_max_pairs", 64),
                                    berth_context_get_config_uint64 (context, "discovery", "meta_max_key_length", 128),
                                    berth_context_get_config_uint64 (context, "discovery", "meta_max_value_length", 512),
                                    what, error);
}

/* catalog_check_meta() with the limits given. */
gboolean
catalog_check_meta_limits (JsonNode *meta, guint64 max_pairs, guint64 max_key, guint64 max_value,
                           const char *what, GError **error)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (meta == NULL || JSON_NODE_HOLDS_NULL (meta))
    return TRUE;
  if (!catalog_json_is_string_object (meta))
    return invalid (error, what, _("an object of strings"));
  if (json_object_get_size (json_node_get_object (meta)) > max_pairs)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                   _("Invalid %s: metadata cannot contain more than %" G_GUINT64_FORMAT
                     " key/value pairs"), what, max_pairs);
      return FALSE;
    }
  json_object_iter_init (&iter, json_node_get_object (meta));
  while (json_object_iter_next (&iter, &key, &value))
    {
      const char *text = json_node_get_string (value);
      g_autofree char *problem = NULL;

      if (*key == '\0')
        problem = g_strdup (_("Key cannot be blank"));
      else if (strspn (key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != strlen (key))
        problem = g_strdup (_("Key contains invalid characters"));
      else if (strlen (key) > max_key)
        problem = g_strdup_printf (_("Key is too long (limit: %" G_GUINT64_FORMAT " characters)"), max_key);
      else if (g_str_has_prefix (key, "consul-"))
        problem = g_strdup (_("Key prefix 'consul-' is reserved for internal use"));
      else if (strlen (text) > max_value)
        problem = g_strdup_printf (_("Value is too long (limit: %" G_GUINT64_FORMAT " characters)"), max_value);
      if (problem != NULL)
        return meta_pair_invalid (error, what, key, text, problem);
    }
  return TRUE;
}

gboolean
catalog_status_valid (const char *status)
{
  return g_strcmp0 (status, CHECK_PASSING) == 0 || g_strcmp0 (status, CHECK_WARNING) == 0 ||
         g_strcmp0 (status, CHECK_CRITICAL) == 0;
}

CatalogService *
catalog_parse_service (BerthContext *context, JsonObject *o, GError **error)
{
  g_autoptr(CatalogService) s = g_new0 (CatalogService, 1);
  const char *name, *id, *address, *kind;
  JsonNode *weights;
  gint64 passing = 1, warning = 1;

  if ((name = discovery_json_string (o, "Name", error)) == NULL && (error == NULL || *error == NULL))
    name = discovery_json_string (o, "Service", error);
  if (error != NULL && *error != NULL)
    return NULL;
  if (name == NULL || *name == '\0')
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Missing service name"));
      return NULL;
    }
  id = discovery_json_string (o, "ID", error);
  if (id == NULL && error != NULL && *error == NULL)
    id = discovery_json_string (o, "ServiceID", error);
  if (error != NULL && *error != NULL)
    return NULL;
  address = discovery_json_string (o, "Address", error);
  if (error != NULL && *error != NULL)
    return NULL;
  kind = discovery_json_string (o, "Kind", error);
  if (error != NULL && *error != NULL)
    return NULL;
  s->name = g_strdup (name);
  s->id = g_strdup (id != NULL && *id != '\0' ? id : name);
  s->address = g_strdup (address != NULL ? address : "");
  s->kind = g_strdup (kind != NULL ? kind : "");
  if (!get_int (o, "Port", 0, 65535, &s->port, error) ||
      !get_string_array (o, "Tags", &s->tags_json, error) ||
      !get_object (o, "Meta", CATALOG_SHAPE_STRING_OBJECT, &s->meta_json, error) ||
      !catalog_check_meta (context, discovery_json_member (o, "Meta"), "Service Meta", error) ||
      !get_object (o, "TaggedAddresses", CATALOG_SHAPE_SERVICE_ADDRESSES, &s->tagged_json, error) ||
      !get_bool (o, "EnableTagOverride", &s->enable_tag_override, error))
    return NULL;
  weights = discovery_json_member (o, "Weights");
  if (weights != NULL && !JSON_NODE_HOLDS_NULL (weights))
    {
      if (!JSON_NODE_HOLDS_OBJECT (weights))
        {
          invalid (error, "Weights", _("an object"));
          return NULL;
        }
      if (!get_int (json_node_get_object (weights), "Passing", 1, G_MAXINT32, &passing, error) ||
          !get_int (json_node_get_object (weights), "Warning", 0, G_MAXINT32, &warning, error))
        return NULL;
    }
  s->weights_json = g_strdup_printf ("{\"Passing\":%" G_GINT64_FORMAT ",\"Warning\":%"
                                     G_GINT64_FORMAT "}", passing, warning);
  return g_steal_pointer (&s);
}

static gboolean
get_duration (JsonObject *o, const char *name, JsonBuilder *b, guint64 *ms, GError **error)
{
  JsonNode *node = discovery_json_member (o, name);
  g_autofree char *text = NULL;

  *ms = 0;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    text = g_strdup (json_node_get_string (node));
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64 &&
           json_node_get_int (node) >= 0)
    /* Go's JSON encoding of a Duration: nanoseconds */
    text = g_strdup_printf ("%" G_GINT64_FORMAT "ms", json_node_get_int (node) / 1000000);
  else
    return invalid (error, name, _("a duration"));
  if (*text == '\0')
    return TRUE;
  if (!berth_parse_duration (text, ms, error))
    return FALSE;
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, text);
  return TRUE;
}

/* Consul's checks.MinInterval: a shorter interval is raised to it */
#define MIN_INTERVAL_MS 1000

/* The runnable part of a check: Type and what it needs, normalised. */
static gboolean
parse_definition (JsonObject *o, char **type, char **definition, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const char *http, *tcp, *method, *script;
  JsonNode *args, *header;
  guint64 interval = 0, timeout = 0, ttl = 0, dereg = 0;
  gboolean skip_verify = FALSE;
  gint64 success = 0, failures = 0;

  json_builder_begin_object (b);
  /* kinds Berth does not run: refuse rather than run them as something else */
  {
    static const char * const unsupported[] = { "DockerContainerID", "docker_container_id", "GRPC",
                                                "H2PING", "AliasService",
                                                "AliasNode", "UDP", "OSService" };
    for (gsize i = 0; i < G_N_ELEMENTS (unsupported); i++)
      {
        JsonNode *node = discovery_json_member (o, unsupported[i]);
        if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
          {
            g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                         _("“%s” checks are not supported: use HTTP, TCP, Args or TTL"),
                         unsupported[i]);
            return FALSE;
          }
      }
  }
  if ((http = discovery_json_string (o, "HTTP", error)) == NULL && *error != NULL)
    return FALSE;
  if ((tcp = discovery_json_string (o, "TCP", error)) == NULL && *error != NULL)
    return FALSE;
  if ((method = discovery_json_string (o, "Method", error)) == NULL && *error != NULL)
    return FALSE;
  if ((script = discovery_json_string (o, "Script", error)) == NULL && *error != NULL)
    return FALSE;
  args = discovery_json_member (o, "Args");
  if (args == NULL || JSON_NODE_HOLDS_NULL (args))
    args = discovery_json_member (o, "ScriptArgs");
  if (!get_duration (o, "Interval", b, &interval, error) ||
      !get_duration (o, "Timeout", b, &timeout, error) ||
      !get_duration (o, "TTL", b, &ttl, error) ||
      !get_duration (o, "DeregisterCriticalServiceAfter", b, &dereg, error) ||
      !get_bool (o, "TLSSkipVerify", &skip_verify, error) ||
      !get_int (o, "SuccessBeforePassing", 0, 1000000, &success, error) ||
      !get_int (o, "FailuresBeforeCritical", 0, 1000000, &failures, error))
    return FALSE;

  if (http != NULL && *http != '\0')
    {
      g_autoptr(GUri) uri = g_uri_parse (http, G_URI_FLAGS_NONE, NULL);
      if (uri == NULL || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 &&
                          g_strcmp0 (g_uri_get_scheme (uri), "https") != 0))
        return invalid (error, "HTTP", _("an http:// or https:// URL"));
      *type = g_strdup ("http");
      json_builder_set_member_name (b, "HTTP");
      json_builder_add_string_value (b, http);
      json_builder_set_member_name (b, "Method");
      json_builder_add_string_value (b, method != NULL && *method != '\0' ? method : "GET");
      json_builder_set_member_name (b, "TLSSkipVerify");
      json_builder_add_boolean_value (b, skip_verify);
      header = discovery_json_member (o, "Header");
      if (header != NULL && !JSON_NODE_HOLDS_NULL (header))
        {
          JsonObjectIter iter;
          const char *member;
          JsonNode *value;

          if (!JSON_NODE_HOLDS_OBJECT (header))
            return invalid (error, "Header", _("an object of string arrays"));
          json_object_iter_init (&iter, json_node_get_object (header));
          while (json_object_iter_next (&iter, &member, &value))
            {
              if (!JSON_NODE_HOLDS_ARRAY (value))
                return invalid (error, "Header", _("an object of string arrays"));
              for (guint i = 0; i < json_array_get_length (json_node_get_array (value)); i++)
                {
                  JsonNode *e = json_array_get_element (json_node_get_array (value), i);
                  if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
                    return invalid (error, "Header", _("an object of string arrays"));
                }
            }
          json_builder_set_member_name (b, "Header");
          json_builder_add_value (b, json_node_copy (header));
        }
    }
  else if (tcp != NULL && *tcp != '\0')
    {
      *type = g_strdup ("tcp");
      json_builder_set_member_name (b, "TCP");
      json_builder_add_string_value (b, tcp);
    }
  else if ((args != NULL && !JSON_NODE_HOLDS_NULL (args)) || (script != NULL && *script != '\0'))
    {
      json_builder_set_member_name (b, "Args");
      if (args != NULL && !JSON_NODE_HOLDS_NULL (args))
        {
          JsonArray *a;
          if (!JSON_NODE_HOLDS_ARRAY (args) || json_array_get_length (json_node_get_array (args)) == 0)
            return invalid (error, "Args", _("a non-empty array of strings"));
          a = json_node_get_array (args);
          for (guint i = 0; i < json_array_get_length (a); i++)
            {
              JsonNode *e = json_array_get_element (a, i);
              if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
                return invalid (error, "Args", _("a non-empty array of strings"));
            }
          json_builder_add_value (b, json_node_copy (args));
        }
      else
        {
          /* the old "Script": a shell command line */
          json_builder_begin_array (b);
          json_builder_add_string_value (b, "/bin/sh");
          json_builder_add_string_value (b, "-c");
          json_builder_add_string_value (b, script);
          json_builder_end_array (b);
        }
      *type = g_strdup ("script");
    }
  else if (ttl > 0)
    *type = g_strdup ("ttl");
  else
    *type = g_strdup ("");

  if ((g_str_equal (*type, "http") || g_str_equal (*type, "tcp") || g_str_equal (*type, "script")) &&
      interval < MIN_INTERVAL_MS)
    {
      if (interval == 0)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                       _("Interval must be > 0 for %s checks"), *type);
          return FALSE;
        }
      g_warning (_("Check interval of %" G_GUINT64_FORMAT " ms is below the minimum of 1s: raised to 1s"),
                 interval);
      json_builder_set_member_name (b, "Interval");
      json_builder_add_string_value (b, "1s");
    }
  if (success > 0)
    {
      json_builder_set_member_name (b, "SuccessBeforePassing");
      json_builder_add_int_value (b, success);
    }
  if (failures > 0)
    {
      json_builder_set_member_name (b, "FailuresBeforeCritical");
      json_builder_add_int_value (b, failures);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  *definition = json_to_string (root, FALSE);
  return TRUE;
}

CatalogCheck *
catalog_parse_check (JsonObject *o, const char *default_id, const char *default_name,
                     gboolean need_definition, GError **error)
{
  g_autoptr(CatalogCheck) c = g_new0 (CatalogCheck, 1);
  g_autoptr(GError) local_error = NULL;
  const char *id, *name, *notes, *status, *service_id, *output;

  id = discovery_json_string (o, "CheckID", &local_error);
  if (id == NULL && local_error == NULL)
    id = discovery_json_string (o, "ID", &local_error);
  if (local_error == NULL)
    name = discovery_json_string (o, "Name", &local_error);
  if (local_error == NULL)
    notes = discovery_json_string (o, "Notes", &local_error);
  if (local_error == NULL)
    status = discovery_json_string (o, "Status", &local_error);
  if (local_error == NULL)
    service_id = discovery_json_string (o, "ServiceID", &local_error);
  if (local_error == NULL)
    output = discovery_json_string (o, "Output", &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (name == NULL || *name == '\0')
    name = default_name;
  if (name == NULL || *name == '\0')
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Missing check name"));
      return NULL;
    }
  if (id == NULL || *id == '\0')
    id = default_id != NULL ? default_id : name;
  if (status != NULL && *status != '\0' && !catalog_status_valid (status))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                   _("Invalid check status “%s”: use passing, warning or critical"), status);
      return NULL;
    }
  c->id = g_strdup (id);
  c->name = g_strdup (name);
  c->notes = g_strdup (notes != NULL ? notes : "");
  c->status_given = status != NULL && *status != '\0';
  c->status = g_strdup (c->status_given ? status : CHECK_CRITICAL);
  c->output = output != NULL ? catalog_output_text (output) : NULL;
  c->service_id = g_strdup (service_id != NULL ? service_id : "");
  if (!parse_definition (o, &c->type, &c->definition_json, error))
    return NULL;
  if (need_definition && *c->type == '\0')
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                           _("A check needs one of HTTP, TCP, Args (or Script) with an Interval, or a TTL"));
      return NULL;
    }
  return g_steal_pointer (&c);
}

/* The "Check" and "Checks" of a service definition, with Consul's IDs
 * service:<id> (one) and service:<id>:<n> (several, from 1). */
gboolean
catalog_parse_service_checks (JsonObject *o, CatalogService *service, GPtrArray *checks,
                              GError **error)
{
  JsonNode *check = discovery_json_member (o, "Check");
  JsonNode *list = discovery_json_member (o, "Checks");
  g_autoptr(GPtrArray) objects = g_ptr_array_new ();
  g_autofree char *default_name = g_strdup_printf ("Service '%s' check", service->name);

  if (check != NULL && !JSON_NODE_HOLDS_NULL (check))
    {
      if (!JSON_NODE_HOLDS_OBJECT (check))
        return invalid (error, "Check", _("an object"));
      g_ptr_array_add (objects, json_node_get_object (check));
    }
  if (list != NULL && !JSON_NODE_HOLDS_NULL (list))
    {
      if (!JSON_NODE_HOLDS_ARRAY (list))
        return invalid (error, "Checks", _("an array of objects"));
      for (guint i = 0; i < json_array_get_length (json_node_get_array (list)); i++)
        {
          JsonNode *e = json_array_get_element (json_node_get_array (list), i);
          if (!JSON_NODE_HOLDS_OBJECT (e))
            return invalid (error, "Checks", _("an array of objects"));
          g_ptr_array_add (objects, json_node_get_object (e));
        }
    }
  for (guint i = 0; i < objects->len; i++)
    {
      g_autofree char *id = objects->len == 1 ? g_strdup_printf ("service:%s", service->id)
                                              : g_strdup_printf ("service:%s:%u", service->id, i + 1);
      CatalogCheck *c = catalog_parse_check (g_ptr_array_index (objects, i), id, default_name,
                                             TRUE, error);
      if (c == NULL)
        return FALSE;
      g_free (c->service_id);
      c->service_id = g_strdup (service->id);
      g_ptr_array_add (checks, c);
    }
  return TRUE;
}

/* Script checks run commands given over HTTP on this host: as in Consul,
 * only when the configuration says so, in discovery's section or in the
 * core's (which also allows the scheduler's host-side command checks):
 * [discovery] enable_script_checks = true or [berthd] enable_script_checks
 * = true. */
gboolean
catalog_script_checks_enabled (BerthContext *context)
{
  return berth_context_get_config_boolean (context, "discovery", "enable_script_checks", FALSE) ||
         berth_context_get_config_boolean (context, "berthd", "enable_script_checks", FALSE);
}

gboolean
catalog_checks_allowed (BerthContext *context, GPtrArray *checks, GError **error)
{
  if (catalog_script_checks_enabled (context))
    return TRUE;
  for (guint i = 0; checks != NULL && i < checks->len; i++)
    if (g_strcmp0 (((CatalogCheck *) g_ptr_array_index (checks, i))->type, "script") == 0)
      {
        g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                             _("Script checks are disabled: set [berthd] enable_script_checks = "
                               "true in berth.conf (which also allows the scheduler's command "
                               "checks on the host), or [discovery] enable_script_checks = true "
                               "(discovery's alone), to allow them"));
        return FALSE;
      }
  return TRUE;
}

/* ---- stored rows -------------------------------------------------------- */

/* Why the JSON text @text of column @field is not of @shape, or NULL. */
static char *
json_problem (const char *field, const char *text, CatalogShape shape)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = berth_json_parse (text != NULL ? text : "", -1, &error);
  gboolean ok;

  if (root == NULL)
    return g_strdup_printf (_("%s is not valid JSON: %s"), field, error->message);
  switch (shape)
    {
    case CATALOG_SHAPE_STRING_ARRAY:
      ok = catalog_json_is_string_array (root);
      break;
    case CATALOG_SHAPE_STRING_OBJECT:
      ok = catalog_json_is_string_object (root);
      break;
    case CATALOG_SHAPE_SERVICE_ADDRESSES:
      ok = is_service_addresses (root);
      break;
    case CATALOG_SHAPE_OBJECT:
    default:
      ok = JSON_NODE_HOLDS_OBJECT (root);
      break;
    }
  return ok ? NULL : g_strdup_printf (_("%s has the wrong shape"), field);
}

/* Each returns why a row read from the store cannot be used, or NULL:
 * such a row is set aside rather than acted on. */
char *
catalog_node_problem (const CatalogNode *n)
{
  char *problem = json_problem ("meta", n->meta_json, CATALOG_SHAPE_STRING_OBJECT);

  if (problem == NULL)
    problem = json_problem ("tagged_addresses", n->tagged_json, CATALOG_SHAPE_STRING_OBJECT);
  return problem;
}

char *
catalog_service_problem (const CatalogService *s)
{
  char *problem = json_problem ("tags", s->tags_json, CATALOG_SHAPE_STRING_ARRAY);

  if (problem == NULL)
    problem = json_problem ("meta", s->meta_json, CATALOG_SHAPE_STRING_OBJECT);
  if (problem == NULL)
    problem = json_problem ("tagged_addresses", s->tagged_json, CATALOG_SHAPE_SERVICE_ADDRESSES);
  if (problem == NULL)
    problem = json_problem ("weights", s->weights_json, CATALOG_SHAPE_OBJECT);
  if (problem == NULL && (s->port < 0 || s->port > 65535))
    problem = g_strdup (_("port is out of range"));
  return problem;
}

/* A check's definition must still be what parse_definition() makes of it:
 * the runner reads it without further checks. */
char *
catalog_check_problem (const CatalogCheck *c)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) def = NULL;
  g_autofree char *type = NULL, *normal = NULL;
  char *problem = json_problem ("service_tags", c->service_tags_json, CATALOG_SHAPE_STRING_ARRAY);

  if (problem == NULL)
    problem = json_problem ("definition", c->definition_json, CATALOG_SHAPE_OBJECT);
  if (problem != NULL)
    return problem;
  if (!catalog_status_valid (c->status))
    return g_strdup_printf (_("unknown status “%s”"), c->status);
  if (g_strcmp0 (c->type, "http") != 0 && g_strcmp0 (c->type, "tcp") != 0 &&
      g_strcmp0 (c->type, "script") != 0 && g_strcmp0 (c->type, "ttl") != 0)
    return NULL;   /* not run here: the definition is only shown */
  def = berth_json_parse (c->definition_json, -1, NULL);
  if (!parse_definition (json_node_get_object (def), &type, &normal, &error))
    return g_strdup_printf (_("definition: %s"), error->message);
  if (g_strcmp0 (type, c->type) != 0)
    return g_strdup_printf (_("definition is not of a %s check"), c->type);
  return NULL;
}
