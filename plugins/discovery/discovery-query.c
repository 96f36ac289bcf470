/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "discovery-query.h"

/* berth_request_get_query_boolean() for each of the NULL-terminated
 * @names, into @out[i]. */
gboolean
discovery_query_flags (BerthRequest *request, const char *const *names, gboolean *out,
                       GError **error)
{
  for (gsize i = 0; names[i] != NULL; i++)
    if (!berth_request_get_query_boolean (request, names[i], &out[i], error))
      return FALSE;
  return TRUE;
}

/* Consul's consistency modes. This node is its datacenter's only server,
 * its own leader: every read is as consistent as ?consistent asks, as
 * fresh as ?stale could be, and never served from a cache (X-Cache: MISS).
 * What Consul refuses (?stale with ?consistent) is refused here too. */
gboolean
discovery_query_consistency (BerthRequest *request, GError **error)
{
  gboolean stale, consistent, cached;

  g_return_val_if_fail (BERTH_IS_REQUEST (request), FALSE);

  if (!berth_request_get_query_boolean (request, "stale", &stale, error) ||
      !berth_request_get_query_boolean (request, "consistent", &consistent, error) ||
      !berth_request_get_query_boolean (request, "cached", &cached, error))
    return FALSE;
  if (stale && consistent)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                           _("Cannot specify ?stale with ?consistent, conflicting consistency modes"));
      return FALSE;
    }
  berth_request_set_header (request, "X-Consul-Effective-Consistency",
                            stale ? "stale" : consistent ? "consistent" : "leader");
  if (cached)
    {
      berth_request_set_header (request, "X-Cache", "MISS");
      berth_request_set_header (request, "Age", "0");
    }
  return TRUE;
}

gboolean
discovery_query_filter (BerthRequest *request, DiscoveryFilterItem item, DiscoveryFilter **out,
                        GError **error)
{
  const char *text;

  g_return_val_if_fail (BERTH_IS_REQUEST (request), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  *out = NULL;
  text = berth_request_get_query (request, "filter");
  /* Consul reads an empty ?filter= as none */
  if (text == NULL || *text == '\0')
    return TRUE;
  *out = discovery_filter_new (text, error);
  if (*out != NULL && !discovery_filter_validate (*out, item, error))
    g_clear_pointer (out, discovery_filter_free);
  return *out != NULL;
}

gboolean
discovery_query_filter_array (BerthRequest *request, DiscoveryFilterItem item, JsonArray *array,
                              GError **error)
{
  g_autoptr(DiscoveryFilter) filter = NULL;

  return discovery_query_filter (request, item, &filter, error) &&
         discovery_filter_array (filter, array, error);
}

gboolean
discovery_query_filter_values (BerthRequest *request, DiscoveryFilterItem item, JsonObject *object,
                               GError **error)
{
  g_autoptr(DiscoveryFilter) filter = NULL;

  return discovery_query_filter (request, item, &filter, error) &&
         discovery_filter_values (filter, object, error);
}

static const char *
entry_node (JsonNode *entry, const char *member, const char *inner)
{
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (entry))
    return NULL;
  object = json_node_get_object (entry);
  if (inner != NULL)
    {
      JsonNode *holder = json_object_get_member (object, member);
      if (holder == NULL || !JSON_NODE_HOLDS_OBJECT (holder))
        return NULL;
      object = json_node_get_object (holder);
      member = inner;
    }
  return json_object_get_string_member_with_default (object, member, NULL);
}

void
discovery_query_near (BerthRequest *request, JsonArray *array, const char *member, const char *inner)
{
  const char *near = berth_request_get_query (request, "near");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) rest = NULL;

  g_return_if_fail (BERTH_IS_REQUEST (request));
  g_return_if_fail (array != NULL && member != NULL);

  if (near == NULL || *near == '\0')
    return;
  if (g_str_equal (near, "_agent"))
    near = berth_node_get_name (berth_context_get_node (berth_request_get_context (request)));
  first = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  rest = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *entry = json_array_get_element (array, i);
      g_ptr_array_add (g_strcmp0 (entry_node (entry, member, inner), near) == 0 ? first : rest,
                       json_node_ref (entry));
    }
  if (first->len == 0)
    return;
  while (json_array_get_length (array) > 0)
    json_array_remove_element (array, json_array_get_length (array) - 1);
  for (guint i = 0; i < first->len; i++)
    json_array_add_element (array, json_node_ref (g_ptr_array_index (first, i)));
  for (guint i = 0; i < rest->len; i++)
    json_array_add_element (array, json_node_ref (g_ptr_array_index (rest, i)));
}
