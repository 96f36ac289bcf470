/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

typedef struct {
  char *cni_path;     /* where the plugins are, e.g. /usr/lib/cni */
  char *bridge;       /* bridge device name */
  char *subnet;       /* e.g. 10.213.0.0/24 */
  char *data_dir;     /* host-local's lease store */
} RuntimeCniConfig;

void     runtime_cni_config_clear (RuntimeCniConfig *cfg);
gboolean runtime_cni_available    (const RuntimeCniConfig *cfg,
                                   char                  **why);

/* Blocking (worker thread): makes the network namespace
 * /run/netns/<netns>, puts the container on the bridge with an address
 * from the subnet and maps @ports ([{"host":N,"container":N,
 * "protocol":"tcp"}]). */
gboolean runtime_cni_setup        (const RuntimeCniConfig *cfg,
                                   const char             *id,
                                   const char             *netns,
                                   JsonArray              *ports,
                                   char                  **out_address,
                                   char                  **out_result,
                                   GError                **error);
void     runtime_cni_teardown     (const RuntimeCniConfig *cfg,
                                   const char             *id,
                                   const char             *netns,
                                   JsonArray              *ports,
                                   const char             *result);
char    *runtime_cni_netns_path   (const char             *netns);

G_END_DECLS
