/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* BerthTask's fields, shared by berth-task.c (the object) and
 * berth-task-db.c (its rows in the core `tasks` table). */

#include "berth-task.h"

G_BEGIN_DECLS

struct _BerthTask {
  GObject     parent_instance;
  char       *id;
  char       *app_id;
  char       *node_id;
  char       *version;
  JsonObject *spec;
  BerthTaskDesired desired_state;
  BerthTaskState state;
  char       *host;
  GArray     *ports;
  char       *runtime_id;
  gboolean    has_exit_code;
  gint        exit_code;
  char       *message;
  char       *health;
  char       *staged_at;
  char       *started_at;
  char       *finished_at;
  guint64     create_index;
  guint64     modify_index;
};

G_END_DECLS
