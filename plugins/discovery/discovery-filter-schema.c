/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>
#include <berth.h>

#include "discovery-filter-private.h"

/* Which selectors each list takes, as Consul documents them per endpoint:
 * a selector naming no field of the items is refused ("Selector “Foo” is
 * not valid"), rather than silently matching nothing.
 *
 * A schema is JSON shaped like the items: an object lists the fields, a
 * "*" member stands for any key of a map, a one-element list for a list
 * of such elements, "*" for a structure whose insides are not checked,
 * and any other value for a field with nothing below it. */

static const char node_schema[] =
  "{\"ID\": \"\", \"Node\": \"\", \"Address\": \"\", \"Datacenter\": \"\","
  " \"TaggedAddresses\": {\"*\": \"\"}, \"Meta\": {\"*\": \"\"}}";

static const char service_schema[] =
  "{\"Kind\": \"\", \"ID\": \"\", \"Service\": \"\", \"Tags\": [\"\"], \"Address\": \"\","
  " \"TaggedAddresses\": {\"*\": {\"Address\": \"\", \"Port\": 0}}, \"Meta\": {\"*\": \"\"},"
  " \"Port\": 0, \"Weights\": {\"Passing\": 0, \"Warning\": 0}, \"EnableTagOverride\": false,"
  " \"Proxy\": \"*\", \"Connect\": \"*\", \"Datacenter\": \"\", \"Namespace\": \"\", \"Partition\": \"\"}";

static const char service_node_schema[] =
  "{\"ID\": \"\", \"Node\": \"\", \"Address\": \"\", \"Datacenter\": \"\","
  " \"TaggedAddresses\": {\"*\": \"\"}, \"NodeMeta\": {\"*\": \"\"},"
  " \"ServiceKind\": \"\", \"ServiceID\": \"\", \"ServiceName\": \"\", \"ServiceTags\": [\"\"],"
  " \"ServiceAddress\": \"\", \"ServiceTaggedAddresses\": {\"*\": {\"Address\": \"\", \"Port\": 0}},"
  " \"ServiceWeights\": {\"Passing\": 0, \"Warning\": 0}, \"ServiceMeta\": {\"*\": \"\"},"
  " \"ServicePort\": 0, \"ServiceEnableTagOverride\": false, \"ServiceProxy\": \"*\","
  " \"ServiceConnect\": \"*\", \"Namespace\": \"\", \"Partition\": \"\"}";

static const char check_schema[] =
  "{\"Node\": \"\", \"CheckID\": \"\", \"Name\": \"\", \"Status\": \"\", \"Notes\": \"\","
  " \"Output\": \"\", \"ServiceID\": \"\", \"ServiceName\": \"\", \"ServiceTags\": [\"\"],"
  " \"Type\": \"\", \"Interval\": \"\", \"Timeout\": \"\", \"ExposedPort\": 0,"
  " \"Definition\": \"*\", \"Namespace\": \"\", \"Partition\": \"\"}";

static JsonNode *
schema_of (DiscoveryFilterItem item)
{
  JsonObject *entry;
  JsonNode *root;
  JsonArray *checks;

  switch (item)
    {
    case DISCOVERY_FILTER_NODE:
      return json_from_string (node_schema, NULL);
    case DISCOVERY_FILTER_SERVICE:
      return json_from_string (service_schema, NULL);
    case DISCOVERY_FILTER_SERVICE_NODE:
      return json_from_string (service_node_schema, NULL);
    case DISCOVERY_FILTER_CHECK:
      return json_from_string (check_schema, NULL);
    case DISCOVERY_FILTER_HEALTH_ENTRY:
    default:
      entry = json_object_new ();
      json_object_set_member (entry, "Node", json_from_string (node_schema, NULL));
      json_object_set_member (entry, "Service", json_from_string (service_schema, NULL));
      checks = json_array_new ();
      json_array_add_element (checks, json_from_string (check_schema, NULL));
      json_object_set_array_member (entry, "Checks", checks);
      root = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (root, entry);
      return root;
    }
}

static gboolean
is_index (const char *part)
{
  for (const char *c = part; *c != '\0'; c++)
    if (!g_ascii_isdigit (*c))
      return FALSE;
  return *part != '\0';
}

/* Whether @schema has the parts of @selector from @depth; if not, the
 * schema where it failed (NULL: one with nothing below). */
static gboolean
accepts (JsonNode *schema, char **selector, guint depth, JsonNode **failed_at)
{
  const char *part = selector[depth];

  if (part == NULL)
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (schema) && json_node_get_value_type (schema) == G_TYPE_STRING &&
      g_str_equal (json_node_get_string (schema), "*"))
    return TRUE;
  if (JSON_NODE_HOLDS_ARRAY (schema))
    {
      JsonNode *element = json_array_get_element (json_node_get_array (schema), 0);
      return accepts (element, selector, is_index (part) ? depth + 1 : depth, failed_at);
    }
  if (JSON_NODE_HOLDS_OBJECT (schema))
    {
      JsonObject *object = json_node_get_object (schema);
      JsonNode *member = json_object_get_member (object, part);

      if (member == NULL)
        member = json_object_get_member (object, "*");
      if (member != NULL)
        return accepts (member, selector, depth + 1, failed_at);
      *failed_at = schema;
      return FALSE;
    }
  *failed_at = NULL;
  return FALSE;
}

static gboolean
validate_node (FilterNode *node, const char *text, JsonNode *schema, GError **error)
{
  JsonNode *failed_at = NULL;
  g_autofree char *selector = NULL;
  g_autofree char *hint = NULL;
  guint line, column;

  if (node->kind != FILTER_MATCH)
    return validate_node (node->left, text, schema, error) &&
           (node->right == NULL || validate_node (node->right, text, schema, error));
  if (accepts (schema, node->selector, 0, &failed_at))
    return TRUE;
  selector = g_strjoinv (".", node->selector);
  if (failed_at != NULL)
    {
      g_autoptr(GList) names = g_list_sort (json_object_get_members (json_node_get_object (failed_at)),
                                            (GCompareFunc) g_strcmp0);
      g_autoptr(GString) list = g_string_new (NULL);

      for (GList *l = names; l != NULL; l = l->next)
        g_string_append_printf (list, "%s%s", list->len > 0 ? ", " : "", (const char *) l->data);
      hint = g_strdup_printf (_("; here: %s"), list->str);
    }
  else
    hint = g_strdup (_("; it has nothing below it"));
  filter_position (text, node->at, &line, &column);
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
               _("Invalid filter expression: %u:%u (%u): Selector “%s” is not valid%s"),
               line, column, node->at, selector, hint);
  return FALSE;
}

/**
 * discovery_filter_validate:
 * @filter: a filter
 * @item: what the list answers
 * @error: where an unknown selector fails (%BERTH_ERROR_INVALID, with its
 *   line:column)
 *
 * Returns: whether every selector of @filter names a field of @item
 */
gboolean
discovery_filter_validate (DiscoveryFilter *filter, DiscoveryFilterItem item, GError **error)
{
  g_autoptr(JsonNode) schema = NULL;

  g_return_val_if_fail (filter != NULL, FALSE);

  schema = schema_of (item);
  return validate_node (filter->root, filter->text, schema, error);
}
