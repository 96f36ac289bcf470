/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

#define BERTH_TYPE_PROGRESS (berth_progress_get_type ())
G_DECLARE_FINAL_TYPE (BerthProgress, berth_progress, BERTH, PROGRESS, GObject)

BerthProgress *berth_progress_new         (void);
void           berth_progress_update      (BerthProgress *self,
                                           const char    *id,
                                           const char    *status,
                                           guint64        current,
                                           guint64        total);
const char    *berth_progress_get_id      (BerthProgress *self);
const char    *berth_progress_get_status  (BerthProgress *self);
guint64        berth_progress_get_current (BerthProgress *self);
guint64        berth_progress_get_total   (BerthProgress *self);

G_END_DECLS
