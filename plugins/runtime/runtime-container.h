/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "runtime-plugin.h"

G_BEGIN_DECLS

RuntimeContainers *runtime_containers_new        (RuntimePlugin      *plugin,
                                                  GError            **error);
void               runtime_containers_free       (RuntimeContainers  *self);
gboolean           runtime_containers_reconcile  (RuntimeContainers  *self,
                                                  GError            **error);

/* HTTP handlers (they answer the request themselves) */
void runtime_containers_handle_create  (RuntimeContainers *self, BerthRequest *req);
void runtime_containers_handle_list    (RuntimeContainers *self, BerthRequest *req);
void runtime_containers_handle_inspect (RuntimeContainers *self, BerthRequest *req);
void runtime_containers_handle_start   (RuntimeContainers *self, BerthRequest *req);
void runtime_containers_handle_stop    (RuntimeContainers *self, BerthRequest *req);
void runtime_containers_handle_kill    (RuntimeContainers *self, BerthRequest *req);
void runtime_containers_handle_wait    (RuntimeContainers *self, BerthRequest *req);
void runtime_containers_handle_remove  (RuntimeContainers *self, BerthRequest *req);
void runtime_containers_handle_logs    (RuntimeContainers *self, BerthRequest *req);

G_END_DECLS
