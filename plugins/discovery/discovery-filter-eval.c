/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>
#include <berth.h>

#include "discovery-filter-private.h"

/* Evaluating a parsed filter against one JSON item, as go-bexpr evaluates
 * it against Consul's structures:
 *
 * - a selector walks object members; through a list it matches when one
 *   element does (`Checks.Status == passing`: some check passes), and a
 *   numeric part picks an element (`Service.Tags.0`);
 * - what a selector does not find (a Meta key, a member the item lacks)
 *   is empty: ==, in, is not empty and matches are false, the negated
 *   forms true;
 * - at its end: strings compare, contain substrings (`in`) and match
 *   regular expressions; numbers and booleans compare with the value read
 *   as one (`ServicePort == 80`, `EnableTagOverride == true`); lists
 *   contain elements and objects keys (`in`); strings, lists and objects
 *   can be empty. Any other pairing (`Port contains 8`, `Tags == x`) is an
 *   error, as in Consul. */

typedef enum {
  POSITIVE_EQUAL,
  POSITIVE_IN,
  POSITIVE_EMPTY,
  POSITIVE_MATCHES,
} Positive;

static Positive
positive_of (FilterOp op, gboolean *negated)
{
  *negated = op == FILTER_OP_NOT_EQUAL || op == FILTER_OP_NOT_IN ||
             op == FILTER_OP_IS_NOT_EMPTY || op == FILTER_OP_NOT_MATCHES;
  switch (op)
    {
    case FILTER_OP_EQUAL:
    case FILTER_OP_NOT_EQUAL:
      return POSITIVE_EQUAL;
    case FILTER_OP_IN:
    case FILTER_OP_NOT_IN:
      return POSITIVE_IN;
    case FILTER_OP_IS_EMPTY:
    case FILTER_OP_IS_NOT_EMPTY:
      return POSITIVE_EMPTY;
    case FILTER_OP_MATCHES:
    case FILTER_OP_NOT_MATCHES:
    default:
      return POSITIVE_MATCHES;
    }
}

static const char *
positive_name (Positive positive)
{
  switch (positive)
    {
    case POSITIVE_EQUAL:
      return "==";
    case POSITIVE_IN:
      return "in/contains";
    case POSITIVE_EMPTY:
      return "is empty";
    case POSITIVE_MATCHES:
    default:
      return "matches";
    }
}

/* Go's strconv.ParseBool, which go-bexpr uses. */
static gboolean
parse_boolean (const char *text, gboolean *out)
{
  static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True", NULL };
  static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False", NULL };

  if (g_strv_contains (yes, text))
    return *out = TRUE, TRUE;
  if (g_strv_contains (no, text))
    return *out = FALSE, TRUE;
  return FALSE;
}

static gboolean
parse_double (const char *text, double *out)
{
  char *end = NULL;

  if (*text == '\0' || g_ascii_isspace (*text))
    return FALSE;
  *out = g_ascii_strtod (text, &end);
  return end != NULL && *end == '\0';
}

/* Whether the scalar @value equals @text read as its type: 1 yes, 0 no,
 * -1 @text cannot be read as that type. */
static int
scalar_equal (JsonNode *value, const char *text)
{
  GType type = json_node_get_value_type (value);

  if (type == G_TYPE_STRING)
    return g_strcmp0 (json_node_get_string (value), text) == 0;
  if (type == G_TYPE_BOOLEAN)
    {
      gboolean b;
      if (!parse_boolean (text, &b))
        return -1;
      return json_node_get_boolean (value) == b;
    }
  if (type == G_TYPE_INT64)
    {
      gint64 i;
      double d;
      if (g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &i, NULL))
        return json_node_get_int (value) == i;
      if (!parse_double (text, &d))
        return -1;
      return (double) json_node_get_int (value) == d;
    }
  if (type == G_TYPE_DOUBLE)
    {
      double d;
      if (!parse_double (text, &d))
        return -1;
      return json_node_get_double (value) == d;
    }
  return -1;
}

static const char *
type_name (JsonNode *value)
{
  GType type;

  if (JSON_NODE_HOLDS_ARRAY (value))
    return _("a list");
  if (JSON_NODE_HOLDS_OBJECT (value))
    return _("an object");
  type = json_node_get_value_type (value);
  if (type == G_TYPE_BOOLEAN)
    return _("a boolean");
  if (type == G_TYPE_STRING)
    return _("a string");
  return _("a number");
}

static gboolean
not_applicable (FilterNode *match, Positive positive, JsonNode *value, GError **error)
{
  g_autofree char *selector = g_strjoinv (".", match->selector);

  g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
               _("Invalid filter expression: “%s” does not apply to %s, which is %s"),
               positive_name (positive), selector, type_name (value));
  return FALSE;
}

/* The operator at the end of the selector, on what it found. */
static gboolean
leaf (FilterNode *match, Positive positive, JsonNode *value, gboolean *out, GError **error)
{
  if (JSON_NODE_HOLDS_NULL (value))
    {
      /* null: an empty string, list or object */
      *out = positive == POSITIVE_EMPTY ||
             (positive == POSITIVE_EQUAL && *match->value == '\0') ||
             (positive == POSITIVE_MATCHES && g_regex_match (match->regex, "", 0, NULL));
      return TRUE;
    }
  if (JSON_NODE_HOLDS_ARRAY (value))
    {
      JsonArray *array = json_node_get_array (value);

      if (positive == POSITIVE_EMPTY)
        return *out = json_array_get_length (array) == 0, TRUE;
      if (positive != POSITIVE_IN)
        return not_applicable (match, positive, value, error);
      *out = FALSE;
      for (guint i = 0; i < json_array_get_length (array) && !*out; i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          /* elements of another type never equal the value */
          *out = JSON_NODE_HOLDS_VALUE (element) && scalar_equal (element, match->value) == 1;
        }
      return TRUE;
    }
  if (JSON_NODE_HOLDS_OBJECT (value))
    {
      JsonObject *object = json_node_get_object (value);

      if (positive == POSITIVE_EMPTY)
        return *out = json_object_get_size (object) == 0, TRUE;
      if (positive != POSITIVE_IN)
        return not_applicable (match, positive, value, error);
      return *out = json_object_has_member (object, match->value), TRUE;
    }
  if (json_node_get_value_type (value) != G_TYPE_STRING)
    {
      int equal;

      if (positive != POSITIVE_EQUAL)
        return not_applicable (match, positive, value, error);
      equal = scalar_equal (value, match->value);
      if (equal < 0)
        {
          g_autofree char *selector = g_strjoinv (".", match->selector);
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                       _("Invalid filter expression: “%s” cannot be compared with %s, which is %s"),
                       match->value, selector, type_name (value));
          return FALSE;
        }
      return *out = equal == 1, TRUE;
    }
  switch (positive)
    {
    case POSITIVE_EQUAL:
      *out = g_strcmp0 (json_node_get_string (value), match->value) == 0;
      break;
    case POSITIVE_IN:
      *out = strstr (json_node_get_string (value), match->value) != NULL;
      break;
    case POSITIVE_EMPTY:
      *out = *json_node_get_string (value) == '\0';
      break;
    case POSITIVE_MATCHES:
    default:
      *out = g_regex_match (match->regex, json_node_get_string (value), 0, NULL);
      break;
    }
  return TRUE;
}

static gboolean
is_index (const char *part)
{
  for (const char *c = part; *c != '\0'; c++)
    if (!g_ascii_isdigit (*c))
      return FALSE;
  return *part != '\0';
}

/* The match from @value at part @depth of the selector: the positive
 * operator's result, negated at each end the selector reaches (so through
 * a list, `!=` holds when one element differs, as in go-bexpr). */
static gboolean
walk (FilterNode *match, Positive positive, gboolean negated, JsonNode *value, guint depth,
      gboolean *out, GError **error)
{
  const char *part = match->selector[depth];
  JsonNode *next = NULL;

  if (part == NULL)
    {
      if (!leaf (match, positive, value, out, error))
        return FALSE;
      *out = *out != negated;
      return TRUE;
    }
  if (JSON_NODE_HOLDS_OBJECT (value))
    next = json_object_get_member (json_node_get_object (value), part);
  else if (JSON_NODE_HOLDS_ARRAY (value))
    {
      JsonArray *array = json_node_get_array (value);

      if (!is_index (part))
        {
          *out = FALSE;
          for (guint i = 0; i < json_array_get_length (array) && !*out; i++)
            if (!walk (match, positive, negated, json_array_get_element (array, i), depth, out, error))
              return FALSE;
          return TRUE;
        }
      if (g_ascii_strtoull (part, NULL, 10) < json_array_get_length (array))
        next = json_array_get_element (array, (guint) g_ascii_strtoull (part, NULL, 10));
    }
  else if (!JSON_NODE_HOLDS_NULL (value))
    {
      g_autofree char *selector = g_strjoinv (".", match->selector);
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                   _("Invalid filter expression: selector “%s”: “%s” is %s, it has no member “%s”"),
                   selector, depth > 0 ? match->selector[depth - 1] : "", type_name (value), part);
      return FALSE;
    }
  if (next == NULL)
    {
      /* nothing there: empty, equal to nothing, containing nothing */
      *out = (positive == POSITIVE_EMPTY) != negated;
      return TRUE;
    }
  return walk (match, positive, negated, next, depth + 1, out, error);
}

static gboolean
evaluate (FilterNode *node, JsonNode *item, gboolean *out, GError **error)
{
  switch (node->kind)
    {
    case FILTER_AND:
      if (!evaluate (node->left, item, out, error))
        return FALSE;
      return !*out || evaluate (node->right, item, out, error);
    case FILTER_OR:
      if (!evaluate (node->left, item, out, error))
        return FALSE;
      return *out || evaluate (node->right, item, out, error);
    case FILTER_NOT:
      if (!evaluate (node->left, item, out, error))
        return FALSE;
      *out = !*out;
      return TRUE;
    case FILTER_MATCH:
    default:
      {
        gboolean negated;
        Positive positive = positive_of (node->op, &negated);

        return walk (node, positive, negated, item, 0, out, error);
      }
    }
}

/**
 * discovery_filter_match:
 * @filter: (nullable): a filter; %NULL matches everything
 * @item: a JSON item of a list answer
 * @matched: (out): whether @item passes the filter
 * @error: where an expression that cannot apply to @item fails
 *
 * Returns: %FALSE on error
 */
gboolean
discovery_filter_match (DiscoveryFilter *filter, JsonNode *item, gboolean *matched, GError **error)
{
  g_return_val_if_fail (item != NULL, FALSE);
  g_return_val_if_fail (matched != NULL, FALSE);

  if (filter == NULL)
    return *matched = TRUE, TRUE;
  return evaluate (filter->root, item, matched, error);
}

/**
 * discovery_filter_array:
 * @filter: (nullable): a filter
 * @array: a list answer
 * @error: where an expression that cannot apply fails
 *
 * Removes the elements of @array that do not pass @filter.
 *
 * Returns: %FALSE on error (@array then partly filtered)
 */
gboolean
discovery_filter_array (DiscoveryFilter *filter, JsonArray *array, GError **error)
{
  g_return_val_if_fail (array != NULL, FALSE);

  for (guint i = json_array_get_length (array); filter != NULL && i > 0; i--)
    {
      gboolean keep;
      if (!discovery_filter_match (filter, json_array_get_element (array, i - 1), &keep, error))
        return FALSE;
      if (!keep)
        json_array_remove_element (array, i - 1);
    }
  return TRUE;
}

/**
 * discovery_filter_values:
 * @filter: (nullable): a filter
 * @object: a map answer (id → item)
 * @error: where an expression that cannot apply fails
 *
 * Removes the members of @object whose values do not pass @filter.
 *
 * Returns: %FALSE on error
 */
gboolean
discovery_filter_values (DiscoveryFilter *filter, JsonObject *object, GError **error)
{
  g_autoptr(GList) names = NULL;

  g_return_val_if_fail (object != NULL, FALSE);

  if (filter == NULL)
    return TRUE;
  names = json_object_get_members (object);
  for (GList *l = names; l != NULL; l = l->next)
    {
      g_autofree char *name = g_strdup (l->data);
      gboolean keep;

      if (!discovery_filter_match (filter, json_object_get_member (object, name), &keep, error))
        return FALSE;
      if (!keep)
        json_object_remove_member (object, name);
    }
  return TRUE;
}
