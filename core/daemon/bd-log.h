/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean bd_log_set_level (const char *level, GError **error);
void     bd_log_install   (void);
gboolean bd_log_enabled   (GLogLevelFlags level);

G_END_DECLS
