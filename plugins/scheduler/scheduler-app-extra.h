/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "scheduler-limits.h"

G_BEGIN_DECLS

/* The parts of an app definition that say how its tasks are replaced and
 * killed (scheduler-app-validate-extra.c): readinessChecks,
 * killSelection, unreachableStrategy, and what Berth refuses (resident
 * tasks, persistent volumes). Each check reads the merged member and
 * adds Marathon 422 details. */

typedef enum {
  SCHEDULER_KILL_YOUNGEST_FIRST,
  SCHEDULER_KILL_OLDEST_FIRST,
} SchedulerKillSelection;

const char *scheduler_app_check_kill_selection (JsonNode              *n,
                                                JsonArray             *details);
JsonNode   *scheduler_app_check_unreachable    (JsonNode              *n,
                                                JsonArray             *details);
void        scheduler_app_check_residency      (JsonNode              *residency,
                                                JsonNode              *container,
                                                JsonArray             *details);
JsonArray  *scheduler_app_check_readiness      (JsonNode              *n,
                                                JsonObject            *def,
                                                const SchedulerLimits *limits,
                                                JsonArray             *details);

SchedulerKillSelection scheduler_app_kill_selection (JsonObject *def);
gint        scheduler_app_port_index_by_name   (JsonObject            *def,
                                                const char            *name);

G_END_DECLS
