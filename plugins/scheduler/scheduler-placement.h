/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

#define SCHEDULER_PORT_MIN 10000
#define SCHEDULER_PORT_MAX 20000

/* A node with what is still free on it. */
typedef struct {
  char       *id;
  char       *name;
  char       *address;
  GHashTable *attributes;    /* node meta: name → value */
  gdouble     cpus_free;
  gdouble     mem_free_mb;
  gdouble     disk_free_mb;
  GHashTable *used_ports;    /* set of GUINT_TO_POINTER (port) */
  GHashTable *app_tasks;     /* app id → GUINT_TO_POINTER (count) */
  guint       n_tasks;       /* live tasks placed on the node */
  guint       port_cursor;
  /* for the node berthd runs on: whether nothing else on the host holds
   * @port (NULL: the pool is all there is to know) */
  gboolean  (*port_is_free) (guint port);
} SchedulerNodeFree;

/* What one task of an app asks for. */
typedef struct {
  const char *app_id;
  gdouble     cpus;
  gdouble     mem_mb;
  gdouble     disk_mb;
  guint       n_ports;
  JsonArray  *constraints;   /* Marathon constraints (validated), or NULL */
  guint       max_tasks;     /* at most this many live tasks per node */
} SchedulerNeed;

SchedulerNodeFree *scheduler_node_free_new   (const char        *id,
                                              const char        *name,
                                              const char        *address,
                                              gdouble            cpus,
                                              gdouble            mem_mb,
                                              gdouble            disk_mb);
void               scheduler_node_free_free  (SchedulerNodeFree *node);
void               scheduler_node_free_use   (SchedulerNodeFree *node,
                                              const char        *app_id,
                                              gdouble            cpus,
                                              gdouble            mem_mb,
                                              gdouble            disk_mb,
                                              GArray            *ports);
gint               scheduler_place           (const SchedulerNeed *need,
                                              GPtrArray           *nodes,
                                              char               **reason);
gboolean           scheduler_node_take_ports (SchedulerNodeFree   *node,
                                              guint                n,
                                              GArray              *out);

G_END_DECLS
