/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* Berth's own cgroups, /sys/fs/cgroup/[<controller>/]berth/<name>, for
 * what runs outside an OCI runtime (exec-runtime containers, exec tasks):
 * made with their limits, a process joins by writing its pid into each
 * one's cgroup.procs. */

/* The cgroup directories (space separated) with @memory bytes (0: no
 * limit) and @cpus (0: no limit); "cpu" and "pids" too when @all. */
char     *runtime_cgroup_create     (const char  *name,
                                     gint64       memory,
                                     gdouble      cpus,
                                     gboolean     all,
                                     GError     **error);
void      runtime_cgroup_remove     (const char  *name);
/* whether the kernel's OOM killer ended a process of it */
gboolean  runtime_cgroup_oom_killed (const char  *name);

G_END_DECLS
