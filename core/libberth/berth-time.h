/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

char *berth_timestamp_format (gint64 usec) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
