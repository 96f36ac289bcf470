/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A queue of task ids launched at a bounded rate (see runtime-launch.c). */
typedef struct _RuntimeLaunchQueue RuntimeLaunchQueue;

/* Launches the task @id; returns whether something was started (and so
 * counts against the rate). */
typedef gboolean (*RuntimeLaunchFunc)   (const char *id,
                                         gpointer    user_data);
/* How many launches have not finished starting yet. */
typedef guint    (*RuntimeInFlightFunc) (gpointer    user_data);

RuntimeLaunchQueue *runtime_launch_queue_new    (guint                per_second,
                                                 guint                max_in_flight,
                                                 RuntimeLaunchFunc    launch,
                                                 RuntimeInFlightFunc  in_flight,
                                                 gpointer             user_data);
void                runtime_launch_queue_free   (RuntimeLaunchQueue  *self);
void                runtime_launch_queue_push   (RuntimeLaunchQueue  *self,
                                                 const char          *id);
gboolean            runtime_launch_queue_remove (RuntimeLaunchQueue  *self,
                                                 const char          *id);
gboolean            runtime_launch_queue_has    (RuntimeLaunchQueue  *self,
                                                 const char          *id);

G_END_DECLS
