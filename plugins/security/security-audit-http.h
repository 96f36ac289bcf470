/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "security-audit.h"

G_BEGIN_DECLS

/* GET /v1/audit and GET /v1/audit/verify (resource "audit": admin zone). */
void security_audit_http_add_routes (BerthContext  *context,
                                     SecurityAudit *audit);

G_END_DECLS
