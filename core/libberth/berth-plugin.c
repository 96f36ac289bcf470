/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-plugin-private.h"

#include "berth-plugin.h"

/**
 * SECTION:berth-plugin
 * @title: BerthPlugin
 * @short_description: the base class of plugins
 *
 * A plugin is a shared module that exports %BERTH_PLUGIN_MODULE_SYMBOL, a
 * function returning a subclass of #BerthPlugin. The daemon creates one
 * instance with its #BerthContext and name, then calls
 * #BerthPluginClass.startup, in which the plugin migrates the tables it
 * owns (berth_store_migrate() with its own name as owner), adds its routes
 * and starts its controllers. Plugins never call each other: they share
 * the store and the model.
 */

typedef struct {
  char             *name;
  BerthContext     *context;  /* weak: the context owns its plugins */
  BerthPluginState  state;
  char             *error;
  GPtrArray        *rules[BERTH_PLUGIN_RULE_REQUIRES + 1];
} BerthPluginPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (BerthPlugin, berth_plugin, G_TYPE_OBJECT)

enum { PROP_0, PROP_NAME, PROP_CONTEXT, N_PROPS };
static GParamSpec *props[N_PROPS];

/**
 * berth_plugin_new_placeholder:
 * @context: the context
 * @name: the plugin's name
 *
 * Makes a plain #BerthPlugin that stands for a plugin that could not be
 * loaded or is disabled, so that its state can be reported.
 *
 * Returns: (transfer full): a new plugin object
 */
BerthPlugin *
berth_plugin_new_placeholder (BerthContext *context, const char *name)
{
  return g_object_new (BERTH_TYPE_PLUGIN, "context", context, "name", name, NULL);
}

/**
 * berth_plugin_get_name:
 * @self: a #BerthPlugin
 *
 * Returns: the plugin's name, e.g. `discovery`
 */
const char *
berth_plugin_get_name (BerthPlugin *self)
{
  BerthPluginPrivate *priv = berth_plugin_get_instance_private (self);
  g_return_val_if_fail (BERTH_IS_PLUGIN (self), NULL);
  return priv->name;
}

/**
 * berth_plugin_get_context:
 * @self: a #BerthPlugin
 *
 * Returns: (transfer none): the daemon's context
 */
BerthContext *
berth_plugin_get_context (BerthPlugin *self)
{
  BerthPluginPrivate *priv = berth_plugin_get_instance_private (self);
  g_return_val_if_fail (BERTH_IS_PLUGIN (self), NULL);
  return priv->context;
}

/**
 * berth_plugin_get_state:
 * @self: a #BerthPlugin
 *
 * Returns: the plugin's state
 */
BerthPluginState
berth_plugin_get_state (BerthPlugin *self)
{
  BerthPluginPrivate *priv = berth_plugin_get_instance_private (self);
  g_return_val_if_fail (BERTH_IS_PLUGIN (self), BERTH_PLUGIN_STATE_FAILED);
  return priv->state;
}

/**
 * berth_plugin_get_error:
 * @self: a #BerthPlugin
 *
 * Returns: (nullable): why the plugin failed, or %NULL
 */
const char *
berth_plugin_get_error (BerthPlugin *self)
{
  BerthPluginPrivate *priv = berth_plugin_get_instance_private (self);
  g_return_val_if_fail (BERTH_IS_PLUGIN (self), NULL);
  return priv->error;
}

/**
 * berth_plugin_set_state:
 * @self: a #BerthPlugin
 * @state: the new state
 * @error: (nullable): why, for %BERTH_PLUGIN_STATE_FAILED
 *
 * Records the plugin's state; the daemon calls this.
 */
void
berth_plugin_set_state (BerthPlugin *self, BerthPluginState state, const char *error)
{
  BerthPluginPrivate *priv = berth_plugin_get_instance_private (self);
  g_return_if_fail (BERTH_IS_PLUGIN (self));
  priv->state = state;
  g_free (priv->error);
  priv->error = g_strdup (error);
}

/**
 * berth_plugin_state_to_string:
 * @state: a state
 *
 * Returns: the state's name as the API reports it
 */
const char *
berth_plugin_state_to_string (BerthPluginState state)
{
  switch (state)
    {
    case BERTH_PLUGIN_STATE_LOADED:
      return "loaded";
    case BERTH_PLUGIN_STATE_RUNNING:
      return "running";
    case BERTH_PLUGIN_STATE_FAILED:
      return "failed";
    case BERTH_PLUGIN_STATE_DISABLED:
      return "disabled";
    default:
      return "unknown";
    }
}

/**
 * berth_plugin_startup:
 * @self: a #BerthPlugin
 * @error: return location for a #GError
 *
 * Starts the plugin and records its state.
 *
 * Returns: %TRUE on success
 */
gboolean
berth_plugin_startup (BerthPlugin *self, GError **error)
{
  BerthPluginClass *klass;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (BERTH_IS_PLUGIN (self), FALSE);

  klass = BERTH_PLUGIN_GET_CLASS (self);
  if (klass->startup != NULL && !klass->startup (self, &local_error))
    {
      berth_plugin_set_state (self, BERTH_PLUGIN_STATE_FAILED, local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  berth_plugin_set_state (self, BERTH_PLUGIN_STATE_RUNNING, NULL);
  return TRUE;
}

/**
 * berth_plugin_shutdown:
 * @self: a #BerthPlugin
 *
 * Stops a running plugin.
 */
void
berth_plugin_shutdown (BerthPlugin *self)
{
  BerthPluginClass *klass;

  g_return_if_fail (BERTH_IS_PLUGIN (self));
  if (berth_plugin_get_state (self) != BERTH_PLUGIN_STATE_RUNNING)
    return;
  klass = BERTH_PLUGIN_GET_CLASS (self);
  if (klass->shutdown != NULL)
    klass->shutdown (self);
  berth_plugin_set_state (self, BERTH_PLUGIN_STATE_LOADED, NULL);
}

/**
 * berth_plugin_reload:
 * @self: a #BerthPlugin
 *
 * Tells a running plugin that the configuration was reloaded.
 */
void
berth_plugin_reload (BerthPlugin *self)
{
  BerthPluginClass *klass;

  g_return_if_fail (BERTH_IS_PLUGIN (self));
  if (berth_plugin_get_state (self) != BERTH_PLUGIN_STATE_RUNNING)
    return;
  klass = BERTH_PLUGIN_GET_CLASS (self);
  if (klass->reload != NULL)
    klass->reload (self);
}

/**
 * berth_plugin_ready:
 * @self: a #BerthPlugin
 *
 * Tells a running plugin that every plugin has started and the services
 * they registered can be looked up; the listeners open right after. A
 * plugin that depends on another's service resolves it here.
 */
void
berth_plugin_ready (BerthPlugin *self)
{
  BerthPluginClass *klass;

  g_return_if_fail (BERTH_IS_PLUGIN (self));
  if (berth_plugin_get_state (self) != BERTH_PLUGIN_STATE_RUNNING)
    return;
  klass = BERTH_PLUGIN_GET_CLASS (self);
  if (klass->ready != NULL)
    klass->ready (self);
}

/**
 * berth_plugin_add_rule:
 * @self: a #BerthPlugin
 * @rule: the kind of rule
 * @name: the other plugin's name
 *
 * Declares an ordering rule, from the plugin's instance init: the daemon
 * starts plugins in an order that satisfies every rule (alphabetical
 * otherwise) and refuses to start a plugin whose requirement is not
 * running.
 */
void
berth_plugin_add_rule (BerthPlugin *self, BerthPluginRule rule, const char *name)
{
  BerthPluginPrivate *priv = berth_plugin_get_instance_private (self);

  g_return_if_fail (BERTH_IS_PLUGIN (self));
  g_return_if_fail (rule <= BERTH_PLUGIN_RULE_REQUIRES);
  g_return_if_fail (name != NULL);

  if (priv->rules[rule] == NULL)
    priv->rules[rule] = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (priv->rules[rule], g_strdup (name));
}

/**
 * berth_plugin_get_rules:
 * @self: a #BerthPlugin
 * @rule: the kind of rule
 *
 * Returns: (transfer none) (nullable) (element-type utf8): the plugins
 *   named by rules of kind @rule, or %NULL when there are none
 */
GPtrArray *
berth_plugin_get_rules (BerthPlugin *self, BerthPluginRule rule)
{
  BerthPluginPrivate *priv = berth_plugin_get_instance_private (self);

  g_return_val_if_fail (BERTH_IS_PLUGIN (self), NULL);
  g_return_val_if_fail (rule <= BERTH_PLUGIN_RULE_REQUIRES, NULL);
  return priv->rules[rule];
}

static void
berth_plugin_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BerthPlugin *self = BERTH_PLUGIN (object);
  BerthPluginPrivate *priv = berth_plugin_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, priv->name);
      break;
    case PROP_CONTEXT:
      g_value_set_object (value, priv->context);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
berth_plugin_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BerthPlugin *self = BERTH_PLUGIN (object);
  BerthPluginPrivate *priv = berth_plugin_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_NAME:
      priv->name = g_value_dup_string (value);
      break;
    case PROP_CONTEXT:
      priv->context = g_value_get_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
berth_plugin_finalize (GObject *object)
{
  BerthPluginPrivate *priv = berth_plugin_get_instance_private (BERTH_PLUGIN (object));
  g_free (priv->name);
  g_free (priv->error);
  for (guint i = 0; i < G_N_ELEMENTS (priv->rules); i++)
    g_clear_pointer (&priv->rules[i], g_ptr_array_unref);
  G_OBJECT_CLASS (berth_plugin_parent_class)->finalize (object);
}

static void
berth_plugin_class_init (BerthPluginClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = berth_plugin_get_property;
  object_class->set_property = berth_plugin_set_property;
  object_class->finalize = berth_plugin_finalize;

  /**
   * BerthPlugin:name:
   *
   * The plugin's name, which is also the owner of its tables and its
   * config group.
   */
  props[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL,
                                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                          G_PARAM_STATIC_STRINGS);
  /**
   * BerthPlugin:context:
   *
   * The daemon's context.
   */
  props[PROP_CONTEXT] = g_param_spec_object ("context", NULL, NULL, BERTH_TYPE_CONTEXT,
                                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                             G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
berth_plugin_init (BerthPlugin *self)
{
}
