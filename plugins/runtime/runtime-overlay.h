/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean runtime_overlay_mount     (GPtrArray   *lower_dirs,
                                    const char  *container_dir,
                                    const char  *target,
                                    GError     **error);
gboolean runtime_overlay_umount    (const char  *target,
                                    GError     **error);
gboolean runtime_overlay_is_mounted (const char *target);

G_END_DECLS
