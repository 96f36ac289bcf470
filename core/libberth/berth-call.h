/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include "berth-caller.h"
#include "berth-router.h"

G_BEGIN_DECLS

#define BERTH_TYPE_CALL (berth_call_get_type ())
G_DECLARE_FINAL_TYPE (BerthCall, berth_call, BERTH, CALL, GObject)

BerthCall    *berth_call_new             (const char   *operation,
                                          const char   *resource,
                                          const char   *name,
                                          BerthAccess   access,
                                          BerthCaller  *caller);
const char   *berth_call_get_operation   (BerthCall    *self);
const char   *berth_call_get_resource    (BerthCall    *self);
const char   *berth_call_get_name        (BerthCall    *self);
BerthAccess   berth_call_get_access      (BerthCall    *self);
void          berth_call_set_target      (BerthCall    *self,
                                          const char   *method,
                                          const char   *target);
const char   *berth_call_get_method      (BerthCall    *self);
const char   *berth_call_get_target      (BerthCall    *self);
BerthCaller  *berth_call_get_caller      (BerthCall    *self);
GCancellable *berth_call_get_cancellable (BerthCall    *self);
void          berth_call_set_cancellable (BerthCall    *self,
                                          GCancellable *cancellable);

G_END_DECLS
