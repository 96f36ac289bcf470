/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

typedef struct {
  JsonObject *image_config;   /* the image config's "config" object, may be NULL */
  JsonObject *spec;           /* the user's container spec (overrides) */
  const char *rootfs;
  const char *hostname;
  const char *cgroups_path;
  const char *netns_path;     /* join this netns; NULL: a new one */
  gboolean    host_network;
  gboolean    cgroup_v2;
  const char *etc_dir;        /* holds hosts, hostname, resolv.conf */
} RuntimeOciOptions;

gboolean  runtime_cgroup_is_v2          (void);
char     *runtime_oci_probe_config      (gboolean                 cgroup_v2,
                                         const char              *id);
char     *runtime_oci_config_build      (const RuntimeOciOptions *opts,
                                         GError                 **error);
/* The process the container runs, as the config would: for the exec
 * runtime and for inspect. */
GStrv     runtime_oci_process_args      (JsonObject              *image_config,
                                         JsonObject              *spec,
                                         GError                 **error);
GStrv     runtime_oci_process_env       (JsonObject              *image_config,
                                         JsonObject              *spec,
                                         const char              *hostname);

/* "name", "uid", "uid:gid", "name:group", looked up in the image */
gboolean  runtime_oci_resolve_user      (const char              *rootfs,
                                         const char              *user,
                                         gint64                  *uid,
                                         gint64                  *gid,
                                         GError                 **error);

G_END_DECLS
