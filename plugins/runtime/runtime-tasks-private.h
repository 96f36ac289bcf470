/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "runtime-launch.h"
#include "runtime-logs.h"
#include "runtime-tasks.h"

G_BEGIN_DECLS

/* Shared by runtime-tasks.c (the executor), runtime-task-exec.c (plain
 * processes) and runtime-task-container.c (containers through
 * BerthRuntime). */

typedef struct {
  RuntimeTasks  *owner;
  BerthTask     *task;
  BerthTaskSpec *spec;
  char          *dir;
  GPid           sup_pid;
  gint           pid;          /* the command's pid (and process group) */
  gboolean       adopted;      /* not our child: polled */
  gboolean       reported;     /* TASK_RUNNING written */
  gboolean       killing;
  guint          watch_id;
  guint          kill_id;
  gboolean       container;
  char          *container_id;
  gboolean       pulling;      /* its image: not counted as a launch in flight */
  gboolean       exited;       /* its container exited before its start was reported */
  gint           exit_code;
  gboolean       oom_killed;
} Proc;

struct _RuntimeTasks {
  BerthContext       *context;
  BerthStore         *store;
  RuntimeLogs        *logs;
  BerthCaller        *caller;
  GCancellable       *cancellable;
  char               *node_id;
  char               *host;
  char               *dir;
  GHashTable         *procs;        /* task id → Proc* */
  GHashTable         *started;      /* task ids started by this process */
  GHashTable         *dirty;        /* task ids changed since the last pass */
  gulong              changed_id;
  guint               idle_id;
  guint               poll_id;
  BerthRuntime       *runtime;      /* while connected to its container-exited */
  gulong              exited_id;
  gboolean            runtime_ready;
  RuntimeLaunchQueue *launches;
};

Proc      *runtime_tasks_proc_new     (RuntimeTasks  *self,
                                       BerthTask     *task,
                                       BerthTaskSpec *spec);
void       runtime_tasks_report       (RuntimeTasks  *self,
                                       BerthTask     *task);
void       runtime_tasks_report_many  (RuntimeTasks  *self,
                                       GPtrArray     *tasks);
void       runtime_tasks_fail         (RuntimeTasks  *self,
                                       BerthTask     *task,
                                       BerthTaskState state,
                                       const char    *message);
/* The task ended: reports how (@have_code: with exit status @code; @oom:
 * the OOM killer ended it; else @lost says why it is lost) and forgets
 * its process. */
void       runtime_tasks_finish       (Proc          *p,
                                       gboolean       have_code,
                                       gint           code,
                                       gboolean       oom,
                                       const char    *lost);
void       runtime_tasks_kill         (RuntimeTasks  *self,
                                       Proc          *p);
GPtrArray *runtime_tasks_env_pairs    (RuntimeTasks  *self,
                                       BerthTask     *task,
                                       BerthTaskSpec *spec);

/* runtime-task-exec.c */
void       runtime_task_exec_start    (RuntimeTasks  *self,
                                       BerthTask     *task,
                                       BerthTaskSpec *spec);
void       runtime_task_exec_kill     (Proc          *p);
void       runtime_task_exec_exited   (Proc          *p);
gboolean   runtime_task_exec_adopt    (RuntimeTasks  *self,
                                       BerthTask     *task,
                                       BerthTaskSpec *spec);
void       runtime_task_exec_poll     (RuntimeTasks  *self);
char      *runtime_task_cgroup_name   (const char    *task_id);

/* runtime-task-container.c */
void       runtime_task_container_start   (RuntimeTasks  *self,
                                           BerthTask     *task,
                                           BerthTaskSpec *spec);
void       runtime_task_container_kill    (Proc          *p);
void       runtime_task_container_adopt   (RuntimeTasks  *self,
                                           BerthTask     *task,
                                           BerthTaskSpec *spec);
void       runtime_task_container_connect (RuntimeTasks  *self);
void       runtime_task_container_ready   (RuntimeTasks  *self);
void       runtime_task_container_disconnect (RuntimeTasks *self);

G_END_DECLS
