/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

gint     runtime_exec_create (const char  *dir,
                              const char  *exit_dir,
                              const char  *id,
                              JsonObject  *image_config,
                              JsonObject  *spec,
                              const char  *rootfs,
                              const char  *hostname,
                              GError     **error);
gboolean runtime_exec_start  (const char  *dir,
                              const char  *id,
                              GError     **error);
void     runtime_exec_signal (const char  *dir,
                              const char  *id,
                              int          sig);
void     runtime_exec_check  (const char  *dir,
                              const char  *id,
                              gint        *pid);
void     runtime_exec_cleanup (const char *id);

G_END_DECLS
