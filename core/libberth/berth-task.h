/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

#include "berth-store.h"

G_BEGIN_DECLS

/**
 * BERTH_TASK_STAGING:
 *
 * The state of a task written by the scheduler, not started yet.
 */
/**
 * BerthTaskState:
 * @BERTH_TASK_STATE_STAGING: placed, not started yet (`TASK_STAGING`)
 * @BERTH_TASK_STATE_STARTING: being started (`TASK_STARTING`)
 * @BERTH_TASK_STATE_RUNNING: running (`TASK_RUNNING`)
 * @BERTH_TASK_STATE_FINISHED: exited with status 0 (`TASK_FINISHED`)
 * @BERTH_TASK_STATE_FAILED: exited otherwise, or could not start
 *   (`TASK_FAILED`)
 * @BERTH_TASK_STATE_KILLED: stopped because it was asked to (`TASK_KILLED`)
 * @BERTH_TASK_STATE_LOST: its process vanished without a trace
 *   (`TASK_LOST`)
 *
 * A task's actual state, as the runtime reports it. On the wire and in
 * the store it is Mesos's name, given in parentheses.
 */
typedef enum {
  BERTH_TASK_STATE_STAGING,
  BERTH_TASK_STATE_STARTING,
  BERTH_TASK_STATE_RUNNING,
  BERTH_TASK_STATE_FINISHED,
  BERTH_TASK_STATE_FAILED,
  BERTH_TASK_STATE_KILLED,
  BERTH_TASK_STATE_LOST,
} BerthTaskState;

/**
 * BerthTaskDesired:
 * @BERTH_TASK_DESIRED_RUNNING: the scheduler wants it running (`running`)
 * @BERTH_TASK_DESIRED_KILLED: the scheduler wants it stopped (`killed`)
 *
 * What the scheduler wants of a task.
 */
typedef enum {
  BERTH_TASK_DESIRED_RUNNING,
  BERTH_TASK_DESIRED_KILLED,
} BerthTaskDesired;

/**
 * BERTH_TASK_HEALTH_PASSING:
 *
 * The health of a task whose health checks pass.
 */
#define BERTH_TASK_HEALTH_PASSING  "passing"
/**
 * BERTH_TASK_HEALTH_CRITICAL:
 *
 * The health of a task whose health checks fail.
 */
#define BERTH_TASK_HEALTH_CRITICAL "critical"

#define BERTH_TYPE_TASK (berth_task_get_type ())
G_DECLARE_FINAL_TYPE (BerthTask, berth_task, BERTH, TASK, GObject)

BerthTask  *berth_task_new               (const char  *id,
                                          const char  *app_id,
                                          const char  *node_id,
                                          const char  *version,
                                          JsonObject  *spec);
BerthTask  *berth_task_new_from_json     (JsonNode    *node,
                                          GError     **error);
JsonNode   *berth_task_to_json           (BerthTask   *self);

const char *berth_task_get_id            (BerthTask   *self);
const char *berth_task_get_app_id        (BerthTask   *self);
const char *berth_task_get_node_id       (BerthTask   *self);
const char *berth_task_get_version       (BerthTask   *self);
JsonObject *berth_task_get_spec          (BerthTask   *self);
BerthTaskDesired berth_task_get_desired_state (BerthTask   *self);
void        berth_task_set_desired_state (BerthTask   *self,
                                          BerthTaskDesired desired_state);
BerthTaskState berth_task_get_state      (BerthTask   *self);
void        berth_task_set_state         (BerthTask   *self,
                                          BerthTaskState state);
gboolean    berth_task_is_terminal       (BerthTask   *self);
const char *berth_task_get_host          (BerthTask   *self);
void        berth_task_set_host          (BerthTask   *self,
                                          const char  *host);
GArray     *berth_task_get_ports         (BerthTask   *self);
void        berth_task_set_ports         (BerthTask   *self,
                                          const guint *ports,
                                          guint        n_ports);
const char *berth_task_get_runtime_id    (BerthTask   *self);
void        berth_task_set_runtime_id    (BerthTask   *self,
                                          const char  *runtime_id);
gboolean    berth_task_get_exit_code     (BerthTask   *self,
                                          gint        *exit_code);
void        berth_task_set_exit_code     (BerthTask   *self,
                                          gint         exit_code);
const char *berth_task_get_message       (BerthTask   *self);
void        berth_task_set_message       (BerthTask   *self,
                                          const char  *message);
const char *berth_task_get_health        (BerthTask   *self);
void        berth_task_set_health        (BerthTask   *self,
                                          const char  *health);
const char *berth_task_get_staged_at     (BerthTask   *self);
void        berth_task_set_staged_at     (BerthTask   *self,
                                          const char  *timestamp);
const char *berth_task_get_started_at    (BerthTask   *self);
void        berth_task_set_started_at    (BerthTask   *self,
                                          const char  *timestamp);
const char *berth_task_get_finished_at   (BerthTask   *self);
void        berth_task_set_finished_at   (BerthTask   *self,
                                          const char  *timestamp);
guint64     berth_task_get_create_index  (BerthTask   *self);
guint64     berth_task_get_modify_index  (BerthTask   *self);

gboolean    berth_task_state_is_terminal (BerthTaskState state);
const char *berth_task_state_to_string   (BerthTaskState state);
gboolean    berth_task_state_from_string (const char  *text,
                                          BerthTaskState *out);
const char *berth_task_desired_to_string (BerthTaskDesired desired);
gboolean    berth_task_desired_from_string (const char *text,
                                            BerthTaskDesired *out);
char       *berth_task_timestamp_now     (void);

GPtrArray  *berth_task_list              (BerthStore  *store,
                                          const char  *app_id,
                                          const char  *node_id,
                                          GError     **error);
BerthTask  *berth_task_lookup            (BerthStore  *store,
                                          const char  *id,
                                          GError     **error);
gboolean    berth_task_insert            (BerthTask   *self,
                                          BerthTxn    *txn,
                                          GError     **error);
gboolean    berth_task_write_state       (BerthTask   *self,
                                          BerthTxn    *txn,
                                          GError     **error);
gboolean    berth_task_write_desired     (BerthTxn    *txn,
                                          const char  *id,
                                          BerthTaskDesired desired_state,
                                          GError     **error);
gboolean    berth_task_write_health      (BerthTxn    *txn,
                                          const char  *id,
                                          const char  *health,
                                          GError     **error);
gboolean    berth_task_delete            (BerthTxn    *txn,
                                          const char  *id,
                                          GError     **error);

G_END_DECLS
