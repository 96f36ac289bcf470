/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include "berth-context.h"

G_BEGIN_DECLS

/**
 * BERTH_PLUGIN_MODULE_SYMBOL:
 *
 * The one symbol a plugin module exports: a function of type
 * #BerthPluginModuleGetType returning the plugin's #GType.
 */
#define BERTH_PLUGIN_MODULE_SYMBOL "berth_plugin_module_get_type"

/**
 * BerthPluginModuleGetType:
 *
 * The type of the function a plugin module exports as
 * %BERTH_PLUGIN_MODULE_SYMBOL.
 *
 * Returns: the plugin's #GType, a subclass of #BerthPlugin
 */
typedef GType (*BerthPluginModuleGetType) (void);

/**
 * BerthPluginState:
 * @BERTH_PLUGIN_STATE_LOADED: loaded, not started
 * @BERTH_PLUGIN_STATE_RUNNING: started
 * @BERTH_PLUGIN_STATE_FAILED: failed to load or start
 * @BERTH_PLUGIN_STATE_DISABLED: disabled by configuration
 *
 * Where a plugin is in its life.
 */
typedef enum {
  BERTH_PLUGIN_STATE_LOADED,
  BERTH_PLUGIN_STATE_RUNNING,
  BERTH_PLUGIN_STATE_FAILED,
  BERTH_PLUGIN_STATE_DISABLED,
} BerthPluginState;

/**
 * BerthPluginRule:
 * @BERTH_PLUGIN_RULE_RUN_AFTER: start after the named plugin (when it is
 *   present)
 * @BERTH_PLUGIN_RULE_RUN_BEFORE: start before the named plugin
 * @BERTH_PLUGIN_RULE_REQUIRES: do not start unless the named plugin is
 *   running (implies run-after)
 *
 * How a plugin orders itself against others, declared with
 * berth_plugin_add_rule() from its instance init.
 */
typedef enum {
  BERTH_PLUGIN_RULE_RUN_AFTER,
  BERTH_PLUGIN_RULE_RUN_BEFORE,
  BERTH_PLUGIN_RULE_REQUIRES,
} BerthPluginRule;

#define BERTH_TYPE_PLUGIN (berth_plugin_get_type ())
G_DECLARE_DERIVABLE_TYPE (BerthPlugin, berth_plugin, BERTH, PLUGIN, GObject)

/**
 * BerthPluginClass:
 * @parent_class: the parent class
 * @startup: migrate the plugin's tables, add its routes, start its
 *   controllers; return %FALSE with @error set to fail
 * @shutdown: stop timers and controllers; the store is still open
 * @reload: the configuration was reloaded (SIGHUP)
 *
 * The class of a plugin.
 */
struct _BerthPluginClass {
  GObjectClass parent_class;

  gboolean (*startup)  (BerthPlugin  *self,
                        GError      **error);
  void     (*shutdown) (BerthPlugin  *self);
  void     (*reload)   (BerthPlugin  *self);
  void     (*ready)    (BerthPlugin  *self);

  /*< private >*/
  gpointer padding[11];
};

const char       *berth_plugin_get_name     (BerthPlugin      *self);
BerthContext     *berth_plugin_get_context  (BerthPlugin      *self);
BerthPluginState  berth_plugin_get_state    (BerthPlugin      *self);
const char       *berth_plugin_get_error    (BerthPlugin      *self);
const char       *berth_plugin_state_to_string (BerthPluginState state);
void              berth_plugin_add_rule     (BerthPlugin      *self,
                                             BerthPluginRule   rule,
                                             const char       *name);
GPtrArray        *berth_plugin_get_rules    (BerthPlugin      *self,
                                             BerthPluginRule   rule);

G_END_DECLS
