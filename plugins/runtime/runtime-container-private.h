/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "runtime-cni.h"
#include "runtime-container.h"
#include "runtime-logs.h"

G_BEGIN_DECLS

/* Shared by runtime-container*.c only: the container records and the
 * steps the files of the engine hand each other. */

#define RUNTIME_CONTAINERS_TOPIC "containers"

typedef struct _Ctr Ctr;

struct _RuntimeContainers {
  RuntimePlugin            *plugin;
  BerthContext             *context;
  const RuntimeHost        *host;
  RuntimeLogs              *logs;
  char                     *dir;
  char                     *exit_dir;
  char                     *oci_root;
  char                     *socket_dir;
  char                     *node_id;
  RuntimeCniConfig          cni;
  gboolean                  cni_ok;
  char                     *cni_why;
  GHashTable               *by_id;      /* id → Ctr */
  GFileMonitor             *exit_monitor;
  guint                     poll_id;
  RuntimeContainerExitFunc  exit_func;
  gpointer                  exit_data;
};

struct _Ctr {
  gint               ref_count;
  RuntimeContainers *owner;
  char              *id;
  char              *name;
  char              *image_id;
  char              *image_ref;
  JsonNode          *spec;
  char              *runtime;
  char              *state;
  gint               pid;
  gint               conmon_pid;
  gint               exit_code;
  gboolean           has_exit;
  char              *reason;
  char              *address;
  gint64             created_at;
  gint64             started_at;
  gint64             finished_at;
  guint64            create_index;
  guint64            modify_index;
  GPtrArray         *exit_tasks;  /* GTask*: returned the exit status at the exit */
  guint              kill_timer;
  gboolean           oci_deleting;         /* `runtime delete` after the exit in flight */
  GTask             *remove_after_delete;  /* a removal waits for it */
  gboolean           removing;
  gboolean           removed;
};

Ctr        *runtime_ctr_new            (RuntimeContainers *owner);
Ctr        *runtime_ctr_ref            (Ctr               *c);
void        runtime_ctr_unref          (Ctr               *c);
void        runtime_ctr_set_state      (Ctr               *c,
                                        const char        *state);
JsonObject *runtime_ctr_spec           (Ctr               *c);
char       *runtime_ctr_path           (Ctr               *c,
                                        const char        *name);
char       *runtime_ctr_exit_path      (Ctr               *c);
const char *runtime_ctr_network        (Ctr               *c);
gboolean    runtime_ctr_is_live        (Ctr               *c);
BerthStore *runtime_containers_store   (RuntimeContainers *self);
Ctr        *runtime_containers_lookup  (RuntimeContainers *self,
                                        const char        *key,
                                        GError           **error);
/* Saves @c: synchronously (a row that must exist before anything is
 * made), or in the background, then @task (may be NULL) returns TRUE or
 * the store's error. */
gboolean    runtime_ctr_save_sync      (Ctr               *c,
                                        GError           **error);
void        runtime_ctr_save           (Ctr               *c,
                                        GTask             *task);
void        runtime_ctr_delete_row     (RuntimeContainers *self,
                                        const char        *id,
                                        GTask             *task);
void        runtime_ctr_check_exit     (Ctr               *c);
/* Returns the exit status to @task when @c exits. */
void        runtime_ctr_on_exit        (Ctr               *c,
                                        GTask             *task);
JsonObject *runtime_ctr_exit_status    (Ctr               *c);
void        runtime_ctr_signal         (Ctr               *c,
                                        int                sig,
                                        GTask             *task);
void        runtime_ctr_remove         (Ctr               *c,
                                        GTask             *task);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Ctr, runtime_ctr_unref)

G_END_DECLS
