/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "security-audit-chain.h"
#include "security-audit-http.h"

#define DEFAULT_LIMIT 1000
#define MAX_LIMIT     100000

/* GET /v1/audit[?after=ID][&limit=N]: the rows after row ID, oldest
 * first: id, time, index (the store's), accessor, peer, zone, method,
 * path, operation, status, prev_hash, hash. */
static void
audit_list_cb (BerthRequest *request, gpointer user_data)
{
  SecurityAudit *audit = user_data;
  BerthStore *store = security_audit_get_store (audit);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) rows = NULL;
  guint64 after = 0, limit = DEFAULT_LIMIT;

  if (!berth_request_get_query_uint64 (request, "after", 0, &after, &error) ||
      !berth_request_get_query_uint64 (request, "limit", DEFAULT_LIMIT, &limit, &error))
    {
      berth_request_respond_error (request, error);
      return;
    }
  if (limit == 0 || limit > MAX_LIMIT || after > G_MAXINT64)
    {
      g_set_error (&error, BERTH_ERROR, BERTH_ERROR_INVALID,
                   _("limit must be between 1 and %u, after a row id"), MAX_LIMIT);
      berth_request_respond_error (request, error);
      return;
    }
  rows = audit_chain_list (store, (gint64) after, (guint) limit, &error);
  if (rows == NULL)
    {
      berth_request_respond_error (request, error);
      return;
    }
  berth_request_set_index (request, berth_store_get_index (store));
  berth_request_respond_json (request, 200, rows);
}

/* GET /v1/audit/verify: recomputes the chain from the newest checkpoint;
 * {"ok": true, "rows": N, "checkpoint": …} or {"ok": false,
 * "first_bad_index": ID, "reason": "Row ID was changed"}. */
static void
audit_verify_cb (BerthRequest *request, gpointer user_data)
{
  SecurityAudit *audit = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) verdict = NULL;

  verdict = audit_chain_verify (security_audit_get_store (audit), security_audit_get_key (audit), &error);
  if (verdict == NULL)
    {
      berth_request_respond_error (request, error);
      return;
    }
  berth_request_respond_json (request, 200, verdict);
}

void
security_audit_http_add_routes (BerthContext *context, SecurityAudit *audit)
{
  static const BerthRouteSpec routes[] = {
    { BERTH_METHOD_GET, "/v1/audit", "audit", BERTH_ACCESS_READ, audit_list_cb },
    { BERTH_METHOD_GET, "/v1/audit/verify", "audit", BERTH_ACCESS_READ, audit_verify_cb },
  };

  berth_context_add_routes (context, routes, G_N_ELEMENTS (routes), audit);
}
