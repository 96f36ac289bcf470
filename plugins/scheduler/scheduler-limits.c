/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "scheduler-limits.h"

/* The scheduler's limits ([scheduler] in berth.conf). Every one has a
 * default that a single machine can live with; the API refuses what is
 * beyond them (422), so that one request can neither exhaust the node nor
 * store something that cannot be loaded again. */

#define GROUP "scheduler"

void
scheduler_limits_defaults (SchedulerLimits *limits)
{
  *limits = (SchedulerLimits) {
    .context = NULL,
    .min_cpus = 0.01,
    .min_mem_mb = 4,
    .max_tasks_per_node = 1024,
    .launch_batch = 32,
    .launch_interval_ms = 100,
    .max_versions = 50,
    .max_cmd_bytes = 64 * 1024,
    .max_args = 4096,
    .max_entries = 512,
    .max_key_bytes = 256,
    .max_value_bytes = 8 * 1024,
    .node_cpus = 0,
    .node_mem_mb = 0,
  };
}

static gdouble
get_double (BerthContext *context, const char *key, gdouble fallback, gdouble min)
{
  g_autofree char *text = berth_context_dup_config_string (context, GROUP, key, NULL);
  char *end = NULL;
  gdouble v;

  if (text == NULL)
    return fallback;
  v = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !(v >= min) || v > 1e12)
    {
      g_warning (_("config: [%s] %s = %s is not a number of %g or more; using %g"), GROUP, key, text, min,
                 fallback);
      return fallback;
    }
  return v;
}

static guint64
get_uint (BerthContext *context, const char *key, guint64 fallback, guint64 min, guint64 max)
{
  guint64 v = berth_context_get_config_uint64 (context, GROUP, key, fallback);

  if (v < min || v > max)
    {
      g_warning (_("config: [%s] %s = %" G_GUINT64_FORMAT " is out of range; using %" G_GUINT64_FORMAT), GROUP,
                 key, v, fallback);
      return fallback;
    }
  return v;
}

void
scheduler_limits_load (SchedulerLimits *limits, BerthContext *context)
{
  SchedulerLimits d;

  scheduler_limits_defaults (&d);
  limits->context = context;
  limits->min_cpus = get_double (context, "min_cpus", d.min_cpus, 0.001);
  limits->min_mem_mb = get_double (context, "min_mem_mb", d.min_mem_mb, 1);
  limits->max_tasks_per_node = (guint) get_uint (context, "max_tasks_per_node", d.max_tasks_per_node, 1, 1000000);
  limits->launch_batch = (guint) get_uint (context, "launch_batch", d.launch_batch, 1, 100000);
  limits->launch_interval_ms = (guint) get_uint (context, "launch_interval_ms", d.launch_interval_ms, 0, 60000);
  limits->max_versions = (guint) get_uint (context, "max_versions", d.max_versions, 1, 1000000);
  limits->max_cmd_bytes = (gsize) get_uint (context, "max_cmd_bytes", d.max_cmd_bytes, 1, 64 * 1024 * 1024);
  limits->max_args = (guint) get_uint (context, "max_args", d.max_args, 1, 1000000);
  limits->max_entries = (guint) get_uint (context, "max_entries", d.max_entries, 1, 1000000);
  limits->max_key_bytes = (gsize) get_uint (context, "max_key_bytes", d.max_key_bytes, 1, 1024 * 1024);
  limits->max_value_bytes = (gsize) get_uint (context, "max_value_bytes", d.max_value_bytes, 1, 64 * 1024 * 1024);
  limits->node_cpus = get_double (context, "cpus", d.node_cpus, 0);
  limits->node_mem_mb = get_double (context, "mem_mb", d.node_mem_mb, 0);
  /* a core-level switch, shared with discovery's script checks */
  limits->enable_script_checks = berth_context_get_config_boolean (context, "berthd", "enable_script_checks", FALSE);
}
