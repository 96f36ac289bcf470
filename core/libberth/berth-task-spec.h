/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * BerthTaskKind:
 * @BERTH_TASK_KIND_EXEC: a command run as a plain process
 * @BERTH_TASK_KIND_CONTAINER: a command run in a container of an image
 *
 * How a task runs.
 */
typedef enum {
  BERTH_TASK_KIND_EXEC,
  BERTH_TASK_KIND_CONTAINER,
} BerthTaskKind;

/**
 * BerthTaskNetwork:
 * @BERTH_TASK_NETWORK_HOST: the host's network
 * @BERTH_TASK_NETWORK_BRIDGE: its own namespace on a bridge, ports mapped
 * @BERTH_TASK_NETWORK_NONE: its own namespace with loopback only
 *
 * The network a task gets.
 */
typedef enum {
  BERTH_TASK_NETWORK_HOST,
  BERTH_TASK_NETWORK_BRIDGE,
  BERTH_TASK_NETWORK_NONE,
} BerthTaskNetwork;

#define BERTH_TYPE_TASK_SPEC (berth_task_spec_get_type ())
G_DECLARE_FINAL_TYPE (BerthTaskSpec, berth_task_spec, BERTH, TASK_SPEC, GObject)

BerthTaskSpec     *berth_task_spec_new                (BerthTaskKind     kind);
BerthTaskSpec     *berth_task_spec_new_from_json      (JsonObject       *object,
                                                       GError          **error);
JsonObject        *berth_task_spec_to_json            (BerthTaskSpec    *self);

BerthTaskKind      berth_task_spec_get_kind           (BerthTaskSpec    *self);
const char        *berth_task_spec_get_cmd            (BerthTaskSpec    *self);
void               berth_task_spec_set_cmd            (BerthTaskSpec    *self,
                                                       const char       *cmd);
const char * const *berth_task_spec_get_args          (BerthTaskSpec    *self);
void               berth_task_spec_set_args           (BerthTaskSpec    *self,
                                                       const char * const *args);
const char        *berth_task_spec_get_image          (BerthTaskSpec    *self);
void               berth_task_spec_set_image          (BerthTaskSpec    *self,
                                                       const char       *image);
GHashTable        *berth_task_spec_get_env            (BerthTaskSpec    *self);
GHashTable        *berth_task_spec_get_labels         (BerthTaskSpec    *self);
gdouble            berth_task_spec_get_cpus           (BerthTaskSpec    *self);
guint64            berth_task_spec_get_mem_mb         (BerthTaskSpec    *self);
guint64            berth_task_spec_get_disk_mb        (BerthTaskSpec    *self);
void               berth_task_spec_set_resources      (BerthTaskSpec    *self,
                                                       gdouble           cpus,
                                                       guint64           mem_mb,
                                                       guint64           disk_mb);
BerthTaskNetwork   berth_task_spec_get_network        (BerthTaskSpec    *self);
void               berth_task_spec_set_network        (BerthTaskSpec    *self,
                                                       BerthTaskNetwork  network);
guint              berth_task_spec_get_n_ports        (BerthTaskSpec    *self);
guint              berth_task_spec_get_port           (BerthTaskSpec    *self,
                                                       guint             i,
                                                       const char      **protocol,
                                                       const char      **name);
void               berth_task_spec_add_port           (BerthTaskSpec    *self,
                                                       guint             container_port,
                                                       const char       *protocol,
                                                       const char       *name);
guint              berth_task_spec_get_kill_grace_seconds (BerthTaskSpec *self);
void               berth_task_spec_set_kill_grace_seconds (BerthTaskSpec *self,
                                                           guint          seconds);

G_END_DECLS
