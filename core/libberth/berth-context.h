/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include "berth-caller.h"
#include "berth-event-bus.h"
#include "berth-node.h"
#include "berth-router.h"
#include "berth-store.h"

G_BEGIN_DECLS

typedef struct _BerthCall BerthCall;

/**
 * BerthDispatchFunc:
 * @call: the call
 * @refusal: (nullable): why it may not run, or %NULL to run it
 * @user_data: the front door's data
 *
 * Runs an allowed call, or answers a refused one.
 */
typedef void (*BerthDispatchFunc) (BerthCall    *call,
                                   const GError *refusal,
                                   gpointer      user_data);

typedef struct _BerthPlugin BerthPlugin;

#define BERTH_TYPE_CONTEXT (berth_context_get_type ())
G_DECLARE_FINAL_TYPE (BerthContext, berth_context, BERTH, CONTEXT, GObject)

BerthContext *berth_context_new                 (void);

BerthStore   *berth_context_get_store           (BerthContext *self);
GKeyFile     *berth_context_get_config          (BerthContext *self);
char         *berth_context_dup_config_string   (BerthContext *self,
                                                 const char   *group,
                                                 const char   *key,
                                                 const char   *default_value);
guint64       berth_context_get_config_uint64   (BerthContext *self,
                                                 const char   *group,
                                                 const char   *key,
                                                 guint64       default_value);
gboolean      berth_context_get_config_boolean  (BerthContext *self,
                                                 const char   *group,
                                                 const char   *key,
                                                 gboolean      default_value);
BerthNode    *berth_context_get_node            (BerthContext *self);
const char   *berth_context_get_state_dir       (BerthContext *self);
BerthRouter  *berth_context_get_router          (BerthContext *self);
void          berth_context_add_routes          (BerthContext         *self,
                                                 const BerthRouteSpec *specs,
                                                 gsize                 n_specs,
                                                 gpointer              user_data);
GPtrArray    *berth_context_get_plugins         (BerthContext *self);
BerthPlugin  *berth_context_lookup_plugin       (BerthContext *self,
                                                 const char   *name);
void          berth_context_add_endpoint        (BerthContext *self,
                                                 const char   *name,
                                                 const char   *address);
void          berth_context_remove_endpoint     (BerthContext *self,
                                                 const char   *name);
GHashTable   *berth_context_get_endpoints       (BerthContext *self);
void          berth_context_report_broken       (BerthContext *self,
                                                 const char   *owner,
                                                 const char   *kind,
                                                 const char   *id,
                                                 const char   *reason);
gboolean      berth_context_forget_broken       (BerthContext *self,
                                                 const char   *kind,
                                                 const char   *id);
gboolean      berth_context_is_broken           (BerthContext *self,
                                                 const char   *kind,
                                                 const char   *id);
JsonNode     *berth_context_dup_broken          (BerthContext *self);

gboolean      berth_context_add_service         (BerthContext *self,
                                                 GType         iface,
                                                 gpointer      service,
                                                 GError      **error);
void          berth_context_remove_service      (BerthContext *self,
                                                 GType         iface,
                                                 gpointer      service);
gpointer      berth_context_get_service         (BerthContext *self,
                                                 GType         iface);
BerthEventBus *berth_context_get_event_bus      (BerthContext *self);
void          berth_context_publish             (BerthContext *self,
                                                 const char   *topic,
                                                 BerthCaller  *caller,
                                                 JsonObject   *data);
void          berth_context_authorize_async     (BerthContext        *self,
                                                 BerthCaller         *caller,
                                                 const char          *resource,
                                                 const char          *name,
                                                 BerthAccess          access,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
void          berth_context_dispatch            (BerthContext        *self,
                                                 BerthCall           *call,
                                                 BerthDispatchFunc    func,
                                                 gpointer             user_data,
                                                 GDestroyNotify       destroy);
gboolean      berth_context_authorize_finish    (BerthContext  *self,
                                                 GAsyncResult  *result,
                                                 GError       **error);
gboolean      berth_context_authorize           (BerthContext  *self,
                                                 BerthCaller   *caller,
                                                 const char    *resource,
                                                 const char    *name,
                                                 BerthAccess    access,
                                                 GError       **error);

G_END_DECLS
