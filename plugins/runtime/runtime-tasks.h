/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The task executor: runs the tasks of the core `tasks` table placed on
 * this node (see runtime-tasks.c). */
typedef struct _RuntimeTasks RuntimeTasks;
typedef struct _RuntimeLogs RuntimeLogs;

RuntimeTasks *runtime_tasks_new           (BerthContext *context,
                                           const char   *root,
                                           RuntimeLogs  *logs);
void          runtime_tasks_free          (RuntimeTasks *self);
/* the container runtime was chosen: container tasks may go on */
void          runtime_tasks_runtime_ready (RuntimeTasks *self);

G_END_DECLS
