/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "runtime-plugin.h"

G_BEGIN_DECLS

/* GET /api/containers/:id/logs (text, as `docker logs`) */
void runtime_logs_http_container (RuntimePlugin *plugin,
                                  BerthRequest  *req);
/* GET /api/logs[?id=][&since=][&tail=][&follow=]: BerthLogLines as
 * newline-delimited JSON */
void runtime_logs_http_lines     (RuntimePlugin *plugin,
                                  BerthRequest  *req);

G_END_DECLS
