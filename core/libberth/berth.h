/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define __BERTH_H_INSIDE__

#include "berth-authority.h"
#include "berth-call.h"
#include "berth-caller.h"
#include "berth-context.h"
#include "berth-enum-types.h"
#include "berth-error.h"
#include "berth-event.h"
#include "berth-event-bus.h"
#include "berth-image.h"
#include "berth-json.h"
#include "berth-kv-entry.h"
#include "berth-log-line.h"
#include "berth-log-source.h"
#include "berth-node.h"
#include "berth-plugin.h"
#include "berth-probe.h"
#include "berth-progress.h"
#include "berth-request.h"
#include "berth-router.h"
#include "berth-runtime.h"
#include "berth-stream.h"
#include "berth-store.h"
#include "berth-task.h"
#include "berth-task-spec.h"
#include "berth-time.h"
#include "berth-tls-provider.h"
#include "berth-txn.h"

#undef __BERTH_H_INSIDE__
