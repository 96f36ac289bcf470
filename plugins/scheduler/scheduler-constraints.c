/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "scheduler-constraints.h"
#include "scheduler-validate.h"

/* Validation of Marathon constraints, as Marathon does it: every
 * constraint is an array of two or three strings, the operator is one
 * Marathon knows, LIKE/UNLIKE carry a valid regular expression, MAX_PER a
 * positive number and GROUP_BY one where given. Placement
 * (scheduler-placement.c) relies on this. */

static const char * const operators[] = { "UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS", NULL };

static gboolean
is_positive_integer (const char *value)
{
  guint64 n;
  return value != NULL && g_ascii_string_to_unsigned (value, 10, 1, G_MAXINT32, &n, NULL);
}

/* NULL when @c is a valid constraint, else why not. */
static char *
constraint_error (JsonArray *c, gsize max_value_bytes)
{
  guint len = json_array_get_length (c);
  const char *field, *op, *value = NULL;

  if (len < 2 || len > 3)
    return g_strdup (_("Each constraint must have either 2 or 3 fields"));
  for (guint i = 0; i < len; i++)
    {
      JsonNode *e = json_array_get_element (c, i);
      if (!scheduler_json_is_string (e))
        return g_strdup (_("error.expected.jsstring"));
      if (strlen (json_node_get_string (e)) > max_value_bytes)
        return g_strdup_printf (_("error.maxLength: at most %" G_GSIZE_FORMAT " bytes"), max_value_bytes);
    }
  field = json_array_get_string_element (c, 0);
  op = json_array_get_string_element (c, 1);
  if (len == 3)
    value = json_array_get_string_element (c, 2);
  if (*field == '\0')
    return g_strdup (_("Missing field for constraint declaration"));
  if (!g_strv_contains (operators, op))
    return g_strdup_printf (_("Constraint operator must be one of the following: %s"),
                            "UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS");
  if (g_str_equal (op, "LIKE") || g_str_equal (op, "UNLIKE"))
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *anchored = NULL;
      g_autoptr(GRegex) re = NULL;

      if (value == NULL)
        return g_strdup (_("A regular expression value must be provided"));
      anchored = g_strdup_printf ("^(?:%s)$", value);
      re = g_regex_new (anchored, G_REGEX_DEFAULT, G_REGEX_MATCH_DEFAULT, &error);
      if (re == NULL)
        return g_strdup_printf (_("'%s' is not a valid regular expression"), value);
    }
  else if (g_str_equal (op, "MAX_PER") && !is_positive_integer (value))
    return g_strdup (_("Value must be a positive integer"));
  else if (g_str_equal (op, "GROUP_BY") && value != NULL && !is_positive_integer (value))
    return g_strdup (_("Value was specified but is not a positive integer"));
  else if (g_str_equal (op, "IS") && value == NULL)
    return g_strdup (_("A value must be provided"));
  else if (g_str_equal (op, "UNIQUE") && value != NULL)
    return g_strdup (_("Value specified but not used"));
  return NULL;
}

/* The constraints of @n (NULL: none), checked; errors go to @details. */
JsonArray *
scheduler_constraints_check (JsonNode *n, guint max_entries, gsize max_value_bytes, JsonArray *details)
{
  JsonArray *out = json_array_new ();
  JsonArray *in;

  if (scheduler_json_is_null (n))
    return out;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    {
      scheduler_detail_add (details, "/constraints", _("error.expected.jsarray"));
      return out;
    }
  in = json_node_get_array (n);
  if (json_array_get_length (in) > max_entries)
    {
      scheduler_detail_addf (details, "/constraints", _("error.maxSize: at most %u elements"), max_entries);
      return out;
    }
  for (guint i = 0; i < json_array_get_length (in); i++)
    {
      JsonNode *e = json_array_get_element (in, i);
      g_autofree char *path = g_strdup_printf ("/constraints(%u)", i);
      g_autofree char *why = NULL;
      JsonArray *c;

      if (!JSON_NODE_HOLDS_ARRAY (e))
        {
          scheduler_detail_add (details, path, _("error.expected.jsarray"));
          continue;
        }
      why = constraint_error (json_node_get_array (e), max_value_bytes);
      if (why != NULL)
        {
          scheduler_detail_add (details, path, why);
          continue;
        }
      c = json_array_new ();
      for (guint j = 0; j < json_array_get_length (json_node_get_array (e)); j++)
        json_array_add_string_element (c, json_array_get_string_element (json_node_get_array (e), j));
      json_array_add_array_element (out, c);
    }
  return out;
}
