/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "scheduler-placement.h"

/* Placement: a pure function from (what a task asks for, the nodes with
 * what is free on them) to a node. It reads nothing else, so more node
 * records (a replicated store) need no change here. Nothing is
 * over-committed: a task that fits nowhere is refused with the reason of
 * the node that came closest. Among the nodes that fit, the one with the
 * most free memory wins (tasks spread out). Marathon constraints are
 * evaluated on the node's hostname and attributes (its meta). */

SchedulerNodeFree *
scheduler_node_free_new (const char *id, const char *name, const char *address, gdouble cpus, gdouble mem_mb,
                         gdouble disk_mb)
{
  SchedulerNodeFree *node = g_new0 (SchedulerNodeFree, 1);

  node->id = g_strdup (id);
  node->name = g_strdup (name);
  node->address = g_strdup (address);
  node->attributes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  node->cpus_free = cpus;
  node->mem_free_mb = mem_mb;
  node->disk_free_mb = disk_mb;
  node->used_ports = g_hash_table_new (g_direct_hash, g_direct_equal);
  node->app_tasks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  node->port_cursor = SCHEDULER_PORT_MIN;
  return node;
}

void
scheduler_node_free_free (SchedulerNodeFree *node)
{
  if (node == NULL)
    return;
  g_free (node->id);
  g_free (node->name);
  g_free (node->address);
  g_hash_table_unref (node->attributes);
  g_hash_table_unref (node->used_ports);
  g_hash_table_unref (node->app_tasks);
  g_free (node);
}

/* Accounts for a task placed on @node. */
void
scheduler_node_free_use (SchedulerNodeFree *node, const char *app_id, gdouble cpus, gdouble mem_mb,
                         gdouble disk_mb, GArray *ports)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (node->app_tasks, app_id));

  node->cpus_free -= cpus;
  node->mem_free_mb -= mem_mb;
  node->disk_free_mb -= disk_mb;
  for (guint i = 0; ports != NULL && i < ports->len; i++)
    g_hash_table_add (node->used_ports, GUINT_TO_POINTER (g_array_index (ports, guint, i)));
  g_hash_table_replace (node->app_tasks, g_strdup (app_id), GUINT_TO_POINTER (n + 1));
  node->n_tasks++;
}

/* Takes @n free host ports from the pool, round robin (a port freed a
 * moment ago is not handed out again at once), skipping ports something
 * else on the host holds. */
gboolean
scheduler_node_take_ports (SchedulerNodeFree *node, guint n, GArray *out)
{
  guint span = SCHEDULER_PORT_MAX - SCHEDULER_PORT_MIN + 1;
  guint found = 0;

  for (guint tried = 0; found < n && tried < span; tried++)
    {
      guint port = node->port_cursor;
      node->port_cursor = port >= SCHEDULER_PORT_MAX ? SCHEDULER_PORT_MIN : port + 1;
      if (g_hash_table_contains (node->used_ports, GUINT_TO_POINTER (port)))
        continue;
      if (node->port_is_free != NULL && !node->port_is_free (port))
        continue;
      g_hash_table_add (node->used_ports, GUINT_TO_POINTER (port));
      g_array_append_val (out, port);
      found++;
    }
  return found == n;
}

static const char *
attribute (SchedulerNodeFree *node, const char *field)
{
  if (g_strcmp0 (field, "hostname") == 0)
    return node->name;
  return g_hash_table_lookup (node->attributes, field);
}

static gboolean
is_string (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING;
}

static guint
free_ports (SchedulerNodeFree *node)
{
  return (SCHEDULER_PORT_MAX - SCHEDULER_PORT_MIN + 1) - g_hash_table_size (node->used_ports);
}

/* Whether @node passes the app's constraints. */
static gboolean
constraints_ok (const SchedulerNeed *need, SchedulerNodeFree *node, GPtrArray *nodes, char **reason)
{
  for (guint i = 0; need->constraints != NULL && i < json_array_get_length (need->constraints); i++)
    {
      JsonNode *c = json_array_get_element (need->constraints, i);
      JsonArray *a = JSON_NODE_HOLDS_ARRAY (c) ? json_node_get_array (c) : NULL;
      const char *field, *op, *value;
      const char *mine;

      /* validated (scheduler-constraints.c); anything else is skipped */
      if (a == NULL || json_array_get_length (a) < 2 || json_array_get_length (a) > 3 ||
          !is_string (json_array_get_element (a, 0)) || !is_string (json_array_get_element (a, 1)) ||
          (json_array_get_length (a) > 2 && !is_string (json_array_get_element (a, 2))))
        continue;
      field = json_array_get_string_element (a, 0);
      op = json_array_get_string_element (a, 1);
      value = json_array_get_length (a) > 2 ? json_array_get_string_element (a, 2) : NULL;
      mine = attribute (node, field);
      if (g_strcmp0 (op, "UNIQUE") == 0)
        {
          /* no other task of the app on a node with the same value */
          for (guint j = 0; j < nodes->len; j++)
            {
              SchedulerNodeFree *other = g_ptr_array_index (nodes, j);
              if (g_strcmp0 (attribute (other, field), mine) == 0 &&
                  g_hash_table_lookup (other->app_tasks, need->app_id) != NULL)
                {
                  *reason = g_strdup_printf (_("constraint %s UNIQUE: already used"), field);
                  return FALSE;
                }
            }
        }
      else if (g_strcmp0 (op, "CLUSTER") == 0 || g_strcmp0 (op, "IS") == 0)
        {
          if (value != NULL && g_strcmp0 (mine, value) != 0)
            {
              *reason = g_strdup_printf (_("constraint %s %s %s not met"), field, op, value);
              return FALSE;
            }
        }
      else if (g_strcmp0 (op, "LIKE") == 0 || g_strcmp0 (op, "UNLIKE") == 0)
        {
          g_autofree char *anchored = g_strdup_printf ("^(?:%s)$", value != NULL ? value : "");
          g_autoptr(GRegex) re = g_regex_new (anchored, G_REGEX_DEFAULT, G_REGEX_MATCH_DEFAULT, NULL);
          gboolean match = re != NULL && mine != NULL && g_regex_match (re, mine, G_REGEX_MATCH_DEFAULT, NULL);
          if (match != (g_strcmp0 (op, "LIKE") == 0))
            {
              *reason = g_strdup_printf (_("constraint %s %s %s not met"), field, op, value != NULL ? value : "");
              return FALSE;
            }
        }
      else if (g_strcmp0 (op, "MAX_PER") == 0)
        {
          guint64 max = value != NULL ? g_ascii_strtoull (value, NULL, 10) : 0;
          guint count = 0;
          for (guint j = 0; j < nodes->len; j++)
            {
              SchedulerNodeFree *other = g_ptr_array_index (nodes, j);
              if (g_strcmp0 (attribute (other, field), mine) == 0)
                count += GPOINTER_TO_UINT (g_hash_table_lookup (other->app_tasks, need->app_id));
            }
          if (count >= max)
            {
              *reason = g_strdup_printf (_("constraint %s MAX_PER %s reached"), field, value != NULL ? value : "");
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* Picks a node for one task of @need; -1 with @reason when none fits. */
gint
scheduler_place (const SchedulerNeed *need, GPtrArray *nodes, char **reason)
{
  gint best = -1;
  g_autofree char *why = NULL;

  for (guint i = 0; i < nodes->len; i++)
    {
      SchedulerNodeFree *node = g_ptr_array_index (nodes, i);
      g_autofree char *no = NULL;

      if (need->max_tasks > 0 && node->n_tasks >= need->max_tasks)
        no = g_strdup_printf (_("node %s runs its maximum of %u tasks ([scheduler] max_tasks_per_node)"), node->name,
                              need->max_tasks);
      else if (node->mem_free_mb + 1e-9 < need->mem_mb)
        no = g_strdup_printf (_("insufficient memory: %.0f MB asked, %.0f MB free"), need->mem_mb,
                              MAX (node->mem_free_mb, 0));
      else if (node->cpus_free + 1e-9 < need->cpus)
        no = g_strdup_printf (_("insufficient cpus: %g asked, %g free"), need->cpus, MAX (node->cpus_free, 0));
      else if (node->disk_free_mb + 1e-9 < need->disk_mb)
        no = g_strdup_printf (_("insufficient disk: %.0f MB asked, %.0f MB free"), need->disk_mb,
                              MAX (node->disk_free_mb, 0));
      else if (free_ports (node) < need->n_ports)
        no = g_strdup_printf (_("insufficient ports: %u asked, %u free"), need->n_ports, free_ports (node));
      else
        constraints_ok (need, node, nodes, &no);
      if (no != NULL)
        {
          if (why == NULL)
            why = g_steal_pointer (&no);
          continue;
        }
      if (best < 0 || node->mem_free_mb > ((SchedulerNodeFree *) g_ptr_array_index (nodes, best))->mem_free_mb)
        best = (gint) i;
    }
  if (best < 0 && reason != NULL)
    *reason = why != NULL ? g_steal_pointer (&why) : g_strdup (_("no node is registered"));
  return best;
}
