/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "scheduler-controller.h"
#include "scheduler-placement.h"

G_BEGIN_DECLS

/* The controller's state, shared by scheduler-controller.c (the passes),
 * scheduler-controller-nodes.c (what the nodes offer and their tasks take)
 * and scheduler-controller-views.c (how apps, tasks and the queue look). */

typedef struct {
  guint  count;
  char  *reason;
  char  *since;
  gint64 launch_after_ms;
} QueueEntry;

typedef struct {
  gdouble cpus;
  gdouble mem_mb;
  gdouble disk_mb;
} SchedulerTaskUsage;

struct _SchedulerController {
  BerthContext    *context;
  const SchedulerLimits *limits;
  gint64           next_batch_ms;  /* no launch before (monotonic ms) */
  BerthStore      *store;
  SchedulerHealth *health;
  SchedulerReadiness *readiness;
  gulong           changed_id;
  guint            idle_id;
  guint            timer_id;
  guint            safety_id;
  guint            soon_id;
  gboolean         writing;
  gboolean         dirty;
  GHashTable      *queue;   /* app id → QueueEntry */
  GHashTable      *seen;    /* task id → last state seen */
  GHashTable      *usage;   /* task id → SchedulerTaskUsage of a live task */
};

/* scheduler-controller-nodes.c */
GPtrArray *scheduler_controller_load_nodes (SchedulerController *self,
                                            GHashTable          *by_id);
void       scheduler_controller_use_task   (SchedulerController *self,
                                            GHashTable          *usage_now,
                                            SchedulerNodeFree   *node,
                                            BerthTask           *task);

G_END_DECLS
