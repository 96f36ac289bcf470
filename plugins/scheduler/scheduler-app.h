/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "scheduler-limits.h"

G_BEGIN_DECLS

/* One app as the controller sees it: the normalized Marathon definition
 * plus the scheduler's bookkeeping (backoff, last failure, deployment). */
typedef struct {
  char       *id;
  JsonObject *def;               /* normalized definition (Marathon fields) */
  const char *version;           /* def.version */
  const char *config_version;    /* def.versionInfo.lastConfigChangeAt */
  gint64      instances;
  gdouble     cpus;
  gdouble     mem;
  gdouble     disk;
  guint       n_ports;
  gdouble     backoff_seconds;
  gdouble     backoff_factor;
  gdouble     max_launch_delay;
  gdouble     min_health;
  gdouble     max_over;
  gint64      kill_grace;
  /* bookkeeping (scheduler tables) */
  gdouble     backoff_delay;     /* seconds; 0 when no failure since the last change */
  gint64      launch_after_ms;   /* unix ms; no launch before */
  JsonObject *last_failure;      /* Marathon lastTaskFailure, or NULL */
  char       *deployment_id;     /* the app's deployment in progress, or NULL */
} SchedulerApp;

SchedulerApp *scheduler_app_new        (JsonObject   *def);
void          scheduler_app_free       (SchedulerApp *app);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SchedulerApp, scheduler_app_free)

gboolean    scheduler_app_is_container (SchedulerApp *app);
char       *scheduler_app_normalize_id (const char   *raw,
                                        const char   *base);
gboolean    scheduler_app_id_is_valid  (const char   *id);
JsonObject *scheduler_app_validate     (JsonNode              *body,
                                        JsonObject            *current,
                                        const char            *path_id,
                                        const SchedulerLimits *limits,
                                        JsonArray            **details);
char       *scheduler_app_check_stored (JsonObject            *def,
                                        const SchedulerLimits *limits);
gboolean    scheduler_app_is_scale_only (JsonObject  *before,
                                         JsonObject  *after);
void        scheduler_app_set_version  (JsonObject   *def,
                                        const char   *version,
                                        gboolean      config_change);
char       *scheduler_app_new_task_id  (const char   *app_id);
char       *scheduler_app_next_version (const char   *after);
BerthTaskSpec *scheduler_app_task_spec (SchedulerApp *app);
char       *scheduler_json_to_string   (JsonNode     *node);
JsonNode   *scheduler_json_parse       (const char   *text);
char       *scheduler_object_to_string (JsonObject   *obj);
JsonObject *scheduler_object_copy      (JsonObject   *obj);

G_END_DECLS
