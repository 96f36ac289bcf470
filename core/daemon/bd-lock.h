/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int  bd_lock_acquire (const char *state_dir, GError **error);
void bd_lock_release (int fd);

G_END_DECLS
