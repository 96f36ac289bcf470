/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The task executor: runs the tasks of the core `tasks` table placed on
 * this node (see runtime-tasks.c). */
typedef struct _RuntimeTasks RuntimeTasks;

RuntimeTasks *runtime_tasks_new  (BerthContext *context,
                                  const char   *root);
void          runtime_tasks_free (RuntimeTasks *self);

G_END_DECLS
