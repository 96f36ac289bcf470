/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* Query parameters of Consul's API, refused when their value is not one
 * the parameter can have (never silently ignored). */

gboolean discovery_query_flags (BerthRequest  *request,
                                const char    *const *names,
                                gboolean      *out,
                                GError       **error);

G_END_DECLS
