/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "discovery-catalog.h"

/* Reading stored JSON back, filters, and the catalog's rows as Consul's
 * JSON; see discovery-catalog.h. */

/* ---- filters ---------------------------------------------------------- */

/* Stored JSON text, read back through berth_json_parse() (no deep nesting,
 * no U+0000); null when it is not valid. */
JsonNode *
catalog_json_parse (const char *text)
{
  JsonNode *node = NULL;

  if (text != NULL && *text != '\0')
    node = berth_json_parse (text, -1, NULL);
  return node != NULL ? node : json_node_new (JSON_NODE_NULL);
}

gboolean
catalog_service_has_tag (CatalogService *service, const char *tag)
{
  g_autoptr(JsonNode) tags = catalog_json_parse (service->tags_json);

  if (!JSON_NODE_HOLDS_ARRAY (tags))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (tags)); i++)
    {
      const char *t = json_array_get_string_element (json_node_get_array (tags), i);
      if (t != NULL && g_ascii_strcasecmp (t, tag) == 0)
        return TRUE;
    }
  return FALSE;
}

/* ?node-meta=key:value (repeatable); every pair must match. */
gboolean
catalog_node_meta_match (CatalogNode *node, BerthRequest *req)
{
  g_auto(GStrv) pairs = berth_request_dup_query_all (req, "node-meta");
  g_autoptr(JsonNode) meta = NULL;

  if (pairs == NULL || pairs[0] == NULL)
    return TRUE;
  meta = catalog_json_parse (node->meta_json);
  if (!JSON_NODE_HOLDS_OBJECT (meta))
    return FALSE;
  for (guint i = 0; pairs[i] != NULL; i++)
    {
      const char *colon = strchr (pairs[i], ':');
      g_autofree char *key = NULL;
      const char *have;

      if (colon == NULL)
        return FALSE;
      key = g_strndup (pairs[i], (gsize) (colon - pairs[i]));
      have = json_object_get_string_member_with_default (json_node_get_object (meta), key, NULL);
      if (have == NULL || strcmp (have, colon + 1) != 0)
        return FALSE;
    }
  return TRUE;
}

static int
status_rank (const char *status)
{
  if (g_strcmp0 (status, CHECK_PASSING) == 0)
    return 0;
  if (g_strcmp0 (status, CHECK_WARNING) == 0)
    return 1;
  return 2;
}

const char *
catalog_status_worst (const char *a, const char *b)
{
  return status_rank (a) >= status_rank (b) ? a : b;
}

/* ---- JSON ------------------------------------------------------------- */

static void
add_json (JsonBuilder *b, const char *name, const char *text)
{
  json_builder_set_member_name (b, name);
  json_builder_add_value (b, catalog_json_parse (text));
}

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value != NULL ? value : "");
}

static void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

/* Ends the object with its CreateIndex and ModifyIndex. */
static JsonNode *
end_with_indexes (JsonBuilder *b, guint64 create_index, guint64 modify_index)
{
  add_int (b, "CreateIndex", (gint64) create_index);
  add_int (b, "ModifyIndex", (gint64) modify_index);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* A node's own fields, its Meta named @meta_name. */
static void
add_node (JsonBuilder *b, CatalogNode *n, const char *meta_name)
{
  add_string (b, "ID", n->id);
  add_string (b, "Node", n->name);
  add_string (b, "Address", n->address);
  add_string (b, "Datacenter", n->datacenter);
  add_json (b, "TaggedAddresses", n->tagged_json);
  add_json (b, meta_name, n->meta_json);
}

JsonNode *
catalog_node_to_json (CatalogNode *n)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_node (b, n, "Meta");
  return end_with_indexes (b, n->create_index, n->modify_index);
}

JsonNode *
catalog_service_to_json (CatalogService *s, gboolean with_indexes)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "ID", s->id);
  add_string (b, "Service", s->name);
  add_json (b, "Tags", s->tags_json);
  add_string (b, "Address", s->address);
  add_json (b, "TaggedAddresses", s->tagged_json);
  add_json (b, "Meta", s->meta_json);
  add_int (b, "Port", s->port);
  add_json (b, "Weights", s->weights_json);
  json_builder_set_member_name (b, "EnableTagOverride");
  json_builder_add_boolean_value (b, s->enable_tag_override);
  if (s->kind != NULL && *s->kind != '\0')
    add_string (b, "Kind", s->kind);
  if (with_indexes)
    return end_with_indexes (b, s->create_index, s->modify_index);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* A /v1/catalog/service row: the node's fields and the service's, flat. */
JsonNode *
catalog_service_row_to_json (CatalogNode *n, CatalogService *s)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_node (b, n, "NodeMeta");
  add_string (b, "ServiceKind", s->kind);
  add_string (b, "ServiceID", s->id);
  add_string (b, "ServiceName", s->name);
  add_json (b, "ServiceTags", s->tags_json);
  add_string (b, "ServiceAddress", s->address);
  add_json (b, "ServiceTaggedAddresses", s->tagged_json);
  add_json (b, "ServiceWeights", s->weights_json);
  add_json (b, "ServiceMeta", s->meta_json);
  add_int (b, "ServicePort", s->port);
  json_builder_set_member_name (b, "ServiceEnableTagOverride");
  json_builder_add_boolean_value (b, s->enable_tag_override);
  return end_with_indexes (b, s->create_index, s->modify_index);
}

JsonNode *
catalog_check_to_json (CatalogCheck *c)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "Node", c->node);
  add_string (b, "CheckID", c->id);
  add_string (b, "Name", c->name);
  add_string (b, "Status", c->status);
  add_string (b, "Notes", c->notes);
  add_string (b, "Output", c->output);
  add_string (b, "ServiceID", c->service_id);
  add_string (b, "ServiceName", c->service_name);
  add_json (b, "ServiceTags", c->service_tags_json);
  add_string (b, "Type", c->type);
  add_json (b, "Definition", c->definition_json);
  return end_with_indexes (b, c->create_index, c->modify_index);
}

/* A check's output as kept: valid UTF-8, at most CATALOG_MAX_OUTPUT bytes,
 * cut at a character boundary. */
char *
catalog_output_text (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  const char *end;

  if (strlen (valid) <= CATALOG_MAX_OUTPUT)
    return g_steal_pointer (&valid);
  end = valid + CATALOG_MAX_OUTPUT;
  while (end > valid && ((guchar) *end & 0xC0) == 0x80)
    end--;
  return g_strndup (valid, (gsize) (end - valid));
}

