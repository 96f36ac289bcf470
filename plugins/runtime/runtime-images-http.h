/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "runtime-plugin.h"

G_BEGIN_DECLS

void runtime_images_http_add_routes (RuntimePlugin *plugin);

G_END_DECLS
