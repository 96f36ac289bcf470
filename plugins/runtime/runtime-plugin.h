/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "runtime-image.h"

G_BEGIN_DECLS

typedef struct _RuntimeContainers RuntimeContainers;
typedef struct _RuntimeLogs RuntimeLogs;

#define RUNTIME_TYPE_PLUGIN (runtime_plugin_get_type ())
G_DECLARE_FINAL_TYPE (RuntimePlugin, runtime_plugin, RUNTIME, PLUGIN, BerthPlugin)

/* What the runtime found usable on this host at start. */
typedef enum {
  RUNTIME_KIND_OCI,
  RUNTIME_KIND_EXEC,
} RuntimeKind;

typedef struct {
  RuntimeKind  kind;
  char        *oci_name;      /* "runc" / "crun" */
  char        *oci_path;
  char        *conmon_path;
  gboolean     cgroup_v2;     /* unified hierarchy (else v1 or hybrid) */
  char        *why;           /* one line: how it was chosen */
} RuntimeHost;

RuntimeImages     *runtime_plugin_get_images     (RuntimePlugin *self);
RuntimeContainers *runtime_plugin_get_containers (RuntimePlugin *self);
const RuntimeHost *runtime_plugin_get_host       (RuntimePlugin *self);
const char        *runtime_plugin_get_root       (RuntimePlugin *self);
RuntimeLogs       *runtime_plugin_get_logs       (RuntimePlugin *self);
/* Whether the runtime was chosen (a probe at start); until then work
 * waits: @run (@data) runs once it is (at once if it is), then @destroy. */
gboolean           runtime_plugin_is_ready       (RuntimePlugin *self);
void               runtime_plugin_when_ready     (RuntimePlugin  *self,
                                                  GDestroyNotify  run,
                                                  gpointer        data,
                                                  GDestroyNotify  destroy);
/* Until the runtime is chosen (a probe at start), container requests
 * wait: queues @req for @handler and returns TRUE, or FALSE when ready. */
gboolean           runtime_plugin_defer_until_ready (RuntimePlugin     *self,
                                                     BerthRequest      *req,
                                                     BerthRouteHandler  handler);

G_END_DECLS
