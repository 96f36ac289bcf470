/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-log-source.h"

/**
 * SECTION:berth-log-source
 * @title: BerthLogSource
 * @short_description: every task's and container's output, as lines
 *
 * Look it up with `berth_context_get_service (context,
 * BERTH_TYPE_LOG_SOURCE)`.
 */

G_DEFINE_INTERFACE (BerthLogSource, berth_log_source, G_TYPE_OBJECT)

static void
berth_log_source_default_init (BerthLogSourceInterface *iface)
{
}

/**
 * berth_log_source_subscribe:
 * @self: a #BerthLogSource
 * @id: (nullable): a container or task id, or %NULL for every one
 * @since_us: replay the lines written at or after this time (microseconds
 *   since the epoch; 0 for everything kept), then follow; -1 to follow
 *   new lines only
 * @func: (scope notified): receives each line, on the main context
 * @user_data: data for @func
 * @destroy: frees @user_data when the subscription ends
 * @error: return location for a #GError
 *
 * Returns: a subscription handle for berth_log_source_unsubscribe(), or
 *   0 with %BERTH_ERROR_NOT_FOUND when @id names nothing
 */
guint
berth_log_source_subscribe (BerthLogSource *self, const char *id, gint64 since_us,
                            BerthLogFunc func, gpointer user_data, GDestroyNotify destroy,
                            GError **error)
{
  g_return_val_if_fail (BERTH_IS_LOG_SOURCE (self), 0);
  g_return_val_if_fail (func != NULL, 0);
  return BERTH_LOG_SOURCE_GET_IFACE (self)->subscribe (self, id, since_us, func, user_data,
                                                       destroy, error);
}

/**
 * berth_log_source_unsubscribe:
 * @self: a #BerthLogSource
 * @subscription: a handle from berth_log_source_subscribe()
 *
 * Ends a subscription; its destroy notify runs.
 */
void
berth_log_source_unsubscribe (BerthLogSource *self, guint subscription)
{
  g_return_if_fail (BERTH_IS_LOG_SOURCE (self));
  BERTH_LOG_SOURCE_GET_IFACE (self)->unsubscribe (self, subscription);
}
