/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* What the scheduler accepts and how fast it acts: [scheduler] in
 * berth.conf, read once at startup. @context is where records that fail
 * validation when loaded are reported (berth_context_report_broken). */
typedef struct {
  BerthContext *context;
  gdouble       min_cpus;            /* min_cpus: every task takes a share of the pool */
  gdouble       min_mem_mb;          /* min_mem_mb */
  guint         max_tasks_per_node;  /* max_tasks_per_node */
  guint         launch_batch;        /* launch_batch: tasks created per batch */
  guint         launch_interval_ms;  /* launch_interval_ms: time between two batches */
  guint         max_versions;        /* max_versions: versions kept per app */
  gsize         max_cmd_bytes;       /* max_cmd_bytes: cmd, and all args together */
  guint         max_args;            /* max_args */
  guint         max_entries;         /* max_entries: env, labels, constraints, checks, ports */
  gsize         max_key_bytes;       /* max_key_bytes: env/label names */
  gsize         max_value_bytes;     /* max_value_bytes: env/label values, other strings */
  gdouble       node_cpus;           /* cpus: what this node offers (0: all its processors) */
  gdouble       node_mem_mb;         /* mem_mb: what this node offers (0: all its memory) */
  gboolean      enable_script_checks; /* [berthd] enable_script_checks: COMMAND checks of exec apps on the host */
} SchedulerLimits;

void scheduler_limits_load     (SchedulerLimits       *limits,
                                BerthContext          *context);
void scheduler_limits_defaults (SchedulerLimits       *limits);

G_END_DECLS
