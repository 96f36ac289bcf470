/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include "berth-log-line.h"

G_BEGIN_DECLS

/**
 * BerthLogFunc:
 * @line: a line
 * @user_data: the subscriber's data
 *
 * Receives the lines of a subscription, on the main context.
 */
typedef void (*BerthLogFunc) (BerthLogLine *line,
                              gpointer      user_data);

#define BERTH_TYPE_LOG_SOURCE (berth_log_source_get_type ())
G_DECLARE_INTERFACE (BerthLogSource, berth_log_source, BERTH, LOG_SOURCE, GObject)

/**
 * BerthLogSourceInterface:
 * @subscribe: start delivering lines, see berth_log_source_subscribe()
 * @unsubscribe: stop a subscription
 *
 * The output of every task and container, as typed lines. The runtime
 * implements it; Berth's log API, monitoring and D-Bus read from it.
 */
struct _BerthLogSourceInterface {
  GTypeInterface parent_iface;

  guint (*subscribe)   (BerthLogSource *self,
                        const char     *id,
                        gint64          since_us,
                        BerthLogFunc    func,
                        gpointer        user_data,
                        GDestroyNotify  destroy,
                        GError        **error);
  void  (*unsubscribe) (BerthLogSource *self,
                        guint           subscription);
};

guint berth_log_source_subscribe   (BerthLogSource *self,
                                    const char     *id,
                                    gint64          since_us,
                                    BerthLogFunc    func,
                                    gpointer        user_data,
                                    GDestroyNotify  destroy,
                                    GError        **error);
void  berth_log_source_unsubscribe (BerthLogSource *self,
                                    guint           subscription);

G_END_DECLS
