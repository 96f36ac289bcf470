/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The runtime's BerthLogSource: the output of its containers (conmon's
 * k8s-file logs) and exec tasks (their stdout and stderr files). */
#define RUNTIME_TYPE_LOGS (runtime_logs_get_type ())
G_DECLARE_FINAL_TYPE (RuntimeLogs, runtime_logs, RUNTIME, LOGS, GObject)

/* A subscription bound to one source has read all of it (it ended, or
 * RUNTIME_LOGS_UNTIL_EOF and everything written so far was read). */
typedef void (*RuntimeLogsEndFunc) (gpointer user_data);

typedef enum {
  RUNTIME_LOGS_FOLLOW    = 0,
  RUNTIME_LOGS_UNTIL_EOF = 1 << 0,
} RuntimeLogsFlags;

RuntimeLogs *runtime_logs_new            (BerthStore         *store);
/* The sources, told by the container engine and the task executor. */
void         runtime_logs_add_container  (RuntimeLogs        *self,
                                          const char         *container_id,
                                          const char         *name,
                                          const char         *path,
                                          gboolean            live);
void         runtime_logs_add_task       (RuntimeLogs        *self,
                                          const char         *task_id,
                                          const char         *app_id,
                                          const char         *dir,
                                          gboolean            live);
/* Nothing more will be written: the subscribers read the rest now. */
void         runtime_logs_source_ended   (RuntimeLogs        *self,
                                          const char         *id);
/* Its files are going away. */
void         runtime_logs_remove         (RuntimeLogs        *self,
                                          const char         *id);
/* berth_log_source_subscribe() with more: the last @tail full lines only
 * (-1: by @since_us), an end notification, and flags. */
guint        runtime_logs_subscribe_full (RuntimeLogs        *self,
                                          const char         *id,
                                          gint64              since_us,
                                          gint64              tail,
                                          RuntimeLogsFlags    flags,
                                          BerthLogFunc        func,
                                          RuntimeLogsEndFunc  end,
                                          gpointer            user_data,
                                          GDestroyNotify      destroy,
                                          GError            **error);
/* A paused subscription reads nothing until resumed (its reader is slow). */
void         runtime_logs_set_paused     (RuntimeLogs        *self,
                                          guint               subscription,
                                          gboolean            paused);

G_END_DECLS
