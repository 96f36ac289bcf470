/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "scheduler-controller.h"

G_BEGIN_DECLS

/* The controller's state, shared by scheduler-controller.c (the passes)
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

G_END_DECLS
