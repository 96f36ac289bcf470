/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "scheduler-controller-private.h"
#include "scheduler-validate.h"
#include <berth-store-raw.h>

/* The controller's view of the nodes: what each offers (for placement)
 * and what the live tasks on it take. */

/* The resources a node offers: what it registered, or for this node what
 * [scheduler] cpus / mem_mb say (Mesos agents' --resources). */
/* Whether a TCP or UDP socket could bind @port on every address of this
 * host: a port some other program holds must not be handed to a task
 * (it could not bind it, and its health checks would probe the other
 * program). */
static gboolean
host_port_is_free (guint port)
{
  const int types[] = { SOCK_STREAM, SOCK_DGRAM };

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons ((guint16) port),
                                 .sin6_addr = IN6ADDR_ANY_INIT };
      int off = 0;
      int fd = socket (AF_INET6, types[i] | SOCK_CLOEXEC, 0);
      gboolean ok;

      if (fd < 0)
        return TRUE;  /* cannot tell: the pool decides */
      /* dual stack, so that 0.0.0.0 and 127.0.0.1 holders count too */
      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
      ok = bind (fd, (struct sockaddr *) &sa, sizeof sa) == 0 || errno != EADDRINUSE;
      close (fd);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

static void
offered (SchedulerController *self, const char *node_id, JsonObject *r, gdouble *cpus, gdouble *mem_mb,
         gdouble *disk_mb)
{
  BerthNode *me = berth_context_get_node (self->context);
  JsonNode *n;

  *cpus = *mem_mb = *disk_mb = 0;
  n = r != NULL ? json_object_get_member (r, "cpus") : NULL;
  if (scheduler_json_is_number (n))
    *cpus = scheduler_json_number (n);
  n = r != NULL ? json_object_get_member (r, "mem_bytes") : NULL;
  if (scheduler_json_is_number (n))
    *mem_mb = scheduler_json_number (n) / (1024.0 * 1024.0);
  n = r != NULL ? json_object_get_member (r, "disk_bytes") : NULL;
  if (scheduler_json_is_number (n))
    *disk_mb = scheduler_json_number (n) / (1024.0 * 1024.0);
  if (me != NULL && g_strcmp0 (berth_node_get_id (me), node_id) == 0)
    {
      if (self->limits->node_cpus > 0)
        *cpus = self->limits->node_cpus;
      if (self->limits->node_mem_mb > 0)
        *mem_mb = self->limits->node_mem_mb;
    }
}

/* The nodes of the cluster with what they offer (their tasks not yet
 * counted), also by id in @by_id. */
GPtrArray *
scheduler_controller_load_nodes (SchedulerController *self, GHashTable *by_id)
{
  BerthStore *store = self->store;
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, "SELECT id, name, address, meta, resources FROM nodes",
                                                      &error);
  GPtrArray *nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) scheduler_node_free_free);
  gboolean have_row = FALSE;

  if (stmt == NULL)
    {
      g_warning ("scheduler: %s", error->message);
      return nodes;
    }
  while (berth_store_step (store, stmt, &have_row, NULL) && have_row)
    {
      g_autoptr(JsonNode) res = scheduler_json_parse ((const char *) sqlite3_column_text (stmt, 4));
      g_autoptr(JsonNode) meta = scheduler_json_parse ((const char *) sqlite3_column_text (stmt, 3));
      JsonObject *r = res != NULL && JSON_NODE_HOLDS_OBJECT (res) ? json_node_get_object (res) : NULL;
      const char *id = (const char *) sqlite3_column_text (stmt, 0);
      SchedulerNodeFree *node;
      gdouble cpus, mem_mb, disk_mb;

      if (id == NULL)
        continue;
      offered (self, id, r, &cpus, &mem_mb, &disk_mb);
      node = scheduler_node_free_new (id, (const char *) sqlite3_column_text (stmt, 1),
                                      (const char *) sqlite3_column_text (stmt, 2), cpus, mem_mb, disk_mb);
      if (meta != NULL && JSON_NODE_HOLDS_OBJECT (meta))
        {
          JsonObjectIter iter;
          const char *key;
          JsonNode *value;
          json_object_iter_init (&iter, json_node_get_object (meta));
          while (json_object_iter_next (&iter, &key, &value))
            if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
              g_hash_table_replace (node->attributes, g_strdup (key), g_strdup (json_node_get_string (value)));
        }
      if (g_strcmp0 (id, berth_node_get_id (berth_context_get_node (self->context))) == 0)
        node->port_is_free = host_port_is_free;
      g_ptr_array_add (nodes, node);
      g_hash_table_replace (by_id, node->id, node);
    }
  return nodes;
}

/* What a live task takes of its node, read from its typed spec once and
 * kept while the task lives (a spec does not change). */
void
scheduler_controller_use_task (SchedulerController *self, GHashTable *usage_now, SchedulerNodeFree *node, BerthTask *task)
{
  gpointer key = NULL, value = NULL;
  SchedulerTaskUsage *u;

  if (g_hash_table_steal_extended (self->usage, berth_task_get_id (task), &key, &value))
    u = value;
  else
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BerthTaskSpec) spec = berth_task_spec_new_from_json (berth_task_get_spec (task), &error);

      u = g_new0 (SchedulerTaskUsage, 1);
      if (spec == NULL)
        g_debug ("scheduler: task %s: %s", berth_task_get_id (task), error->message);
      else
        {
          u->cpus = berth_task_spec_get_cpus (spec);
          u->mem_mb = (gdouble) berth_task_spec_get_mem_mb (spec);
          u->disk_mb = (gdouble) berth_task_spec_get_disk_mb (spec);
        }
      key = g_strdup (berth_task_get_id (task));
    }
  g_hash_table_insert (usage_now, key, u);
  scheduler_node_free_use (node, berth_task_get_app_id (task), u->cpus, u->mem_mb, u->disk_mb,
                           berth_task_get_ports (task));
}
