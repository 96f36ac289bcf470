/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* Marathon constraints: [field, operator] or [field, operator, value]. */
JsonArray *scheduler_constraints_check (JsonNode   *constraints,
                                        guint       max_entries,
                                        gsize       max_value_bytes,
                                        JsonArray  *details);

G_END_DECLS
