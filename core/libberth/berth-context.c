/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-context-private.h"

#include "berth-context.h"
#include "berth-authority.h"
#include "berth-call.h"
#include "berth-error.h"
#include "berth-event-bus.h"
#include "berth-plugin.h"

#include <json-glib/json-glib.h>

/**
 * SECTION:berth-context
 * @title: BerthContext
 * @short_description: what every plugin is given
 *
 * The context holds the daemon's shared things: the store, the
 * configuration (a #GKeyFile), this node's identity, the state directory,
 * the route table and the plugins. The daemon fills it before the plugins
 * start; plugins read it and add their routes to it.
 */

struct _BerthContext {
  GObject      parent_instance;
  BerthStore  *store;
  GKeyFile    *config;
  BerthNode   *node;
  char        *state_dir;
  BerthRouter *router;
  GPtrArray   *plugins;
  GHashTable  *endpoints;
  GHashTable  *broken;     /* "kind\x1fid" → JsonObject */
  GHashTable  *services;   /* interface GType → GObject implementing it */
  BerthEventBus *events;
};

G_DEFINE_FINAL_TYPE (BerthContext, berth_context, G_TYPE_OBJECT)

/**
 * berth_context_new:
 *
 * Returns: (transfer full): an empty context
 */
BerthContext *
berth_context_new (void)
{
  return g_object_new (BERTH_TYPE_CONTEXT, NULL);
}

/**
 * berth_context_get_store:
 * @self: a #BerthContext
 *
 * Returns: (transfer none) (nullable): the store
 */
BerthStore *
berth_context_get_store (BerthContext *self)
{
  g_return_val_if_fail (BERTH_IS_CONTEXT (self), NULL);
  return self->store;
}

/**
 * berth_context_set_store:
 * @self: a #BerthContext
 * @store: (nullable): the store
 *
 * Sets the store.
 */
void
berth_context_set_store (BerthContext *self, BerthStore *store)
{
  g_return_if_fail (BERTH_IS_CONTEXT (self));
  g_set_object (&self->store, store);
}

/**
 * berth_context_get_config:
 * @self: a #BerthContext
 *
 * Returns: (transfer none): the configuration
 */
GKeyFile *
berth_context_get_config (BerthContext *self)
{
  g_return_val_if_fail (BERTH_IS_CONTEXT (self), NULL);
  return self->config;
}

/**
 * berth_context_set_config:
 * @self: a #BerthContext
 * @config: the configuration
 *
 * Replaces the configuration (on start and on reload).
 */
void
berth_context_set_config (BerthContext *self, GKeyFile *config)
{
  g_return_if_fail (BERTH_IS_CONTEXT (self));
  g_return_if_fail (config != NULL);
  g_key_file_ref (config);
  g_clear_pointer (&self->config, g_key_file_unref);
  self->config = config;
}

/**
 * berth_context_dup_config_string:
 * @self: a #BerthContext
 * @group: a config group, e.g. `berthd` or a plugin's name
 * @key: a key
 * @default_value: (nullable): what to return when it is not set
 *
 * Returns: (transfer full) (nullable): the value or a copy of @default_value
 */
char *
berth_context_dup_config_string (BerthContext *self, const char *group, const char *key,
                                 const char *default_value)
{
  char *value;

  g_return_val_if_fail (BERTH_IS_CONTEXT (self), NULL);
  value = g_key_file_get_string (self->config, group, key, NULL);
  if (value == NULL || *value == '\0')
    {
      g_free (value);
      return g_strdup (default_value);
    }
  return g_strstrip (value);
}

/**
 * berth_context_get_config_uint64:
 * @self: a #BerthContext
 * @group: a config group
 * @key: a key
 * @default_value: what to return when it is not set or not a number
 *
 * Returns: the value
 */
guint64
berth_context_get_config_uint64 (BerthContext *self, const char *group, const char *key,
                                 guint64 default_value)
{
  g_autofree char *text = berth_context_dup_config_string (self, group, key, NULL);
  guint64 value;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &value, NULL))
    {
      if (text != NULL)
        g_warning ("config: [%s] %s = %s is not a number; using %" G_GUINT64_FORMAT,
                   group, key, text, default_value);
      return default_value;
    }
  return value;
}

/**
 * berth_context_get_config_boolean:
 * @self: a #BerthContext
 * @group: a config group
 * @key: a key
 * @default_value: what to return when it is not set or not a boolean
 *
 * Returns: the value
 */
gboolean
berth_context_get_config_boolean (BerthContext *self, const char *group, const char *key,
                                  gboolean default_value)
{
  g_autoptr(GError) error = NULL;
  gboolean value;

  g_return_val_if_fail (BERTH_IS_CONTEXT (self), default_value);
  if (!g_key_file_has_key (self->config, group, key, NULL))
    return default_value;
  value = g_key_file_get_boolean (self->config, group, key, &error);
  if (error != NULL)
    {
      g_warning ("config: [%s] %s: %s", group, key, error->message);
      return default_value;
    }
  return value;
}

/**
 * berth_context_get_node:
 * @self: a #BerthContext
 *
 * Returns: (transfer none) (nullable): this node
 */
BerthNode *
berth_context_get_node (BerthContext *self)
{
  g_return_val_if_fail (BERTH_IS_CONTEXT (self), NULL);
  return self->node;
}

/**
 * berth_context_set_node:
 * @self: a #BerthContext
 * @node: this node
 *
 * Sets this node's identity.
 */
void
berth_context_set_node (BerthContext *self, BerthNode *node)
{
  g_return_if_fail (BERTH_IS_CONTEXT (self));
  g_set_object (&self->node, node);
}

/**
 * berth_context_get_state_dir:
 * @self: a #BerthContext
 *
 * Returns: (nullable): the directory holding the store and other state
 */
const char *
berth_context_get_state_dir (BerthContext *self)
{
  g_return_val_if_fail (BERTH_IS_CONTEXT (self), NULL);
  return self->state_dir;
}

/**
 * berth_context_set_state_dir:
 * @self: a #BerthContext
 * @state_dir: the state directory
 *
 * Sets the state directory.
 */
void
berth_context_set_state_dir (BerthContext *self, const char *state_dir)
{
  g_return_if_fail (BERTH_IS_CONTEXT (self));
  g_free (self->state_dir);
  self->state_dir = g_strdup (state_dir);
}

/**
 * berth_context_get_router:
 * @self: a #BerthContext
 *
 * Returns: (transfer none): the route table
 */
BerthRouter *
berth_context_get_router (BerthContext *self)
{
  g_return_val_if_fail (BERTH_IS_CONTEXT (self), NULL);
  return self->router;
}

/**
 * berth_context_add_routes: (skip)
 * @self: a #BerthContext
 * @specs: (array length=n_specs): routes
 * @n_specs: how many
 * @user_data: data for every handler
 *
 * Adds a static table of routes to the route table.
 */
void
berth_context_add_routes (BerthContext *self, const BerthRouteSpec *specs, gsize n_specs,
                          gpointer user_data)
{
  g_return_if_fail (BERTH_IS_CONTEXT (self));
  berth_router_add_specs (self->router, specs, n_specs, user_data);
}

/**
 * berth_context_add_plugin:
 * @self: a #BerthContext
 * @plugin: a plugin
 *
 * Registers a plugin (loaded, failed or disabled alike).
 */
void
berth_context_add_plugin (BerthContext *self, BerthPlugin *plugin)
{
  g_return_if_fail (BERTH_IS_CONTEXT (self));
  g_return_if_fail (BERTH_IS_PLUGIN (plugin));
  g_ptr_array_add (self->plugins, g_object_ref (plugin));
}

/**
 * berth_context_get_plugins:
 * @self: a #BerthContext
 *
 * Returns: (transfer none) (element-type BerthPlugin): the plugins
 */
GPtrArray *
berth_context_get_plugins (BerthContext *self)
{
  g_return_val_if_fail (BERTH_IS_CONTEXT (self), NULL);
  return self->plugins;
}

/**
 * berth_context_lookup_plugin:
 * @self: a #BerthContext
 * @name: a plugin name
 *
 * Returns: (transfer none) (nullable): the plugin, or %NULL
 */
BerthPlugin *
berth_context_lookup_plugin (BerthContext *self, const char *name)
{
  g_return_val_if_fail (BERTH_IS_CONTEXT (self), NULL);
  for (guint i = 0; i < self->plugins->len; i++)
    {
      BerthPlugin *plugin = g_ptr_array_index (self->plugins, i);
      if (g_strcmp0 (berth_plugin_get_name (plugin), name) == 0)
        return plugin;
    }
  return NULL;
}

/**
 * berth_context_add_endpoint:
 * @self: a #BerthContext
 * @name: what is served, e.g. `dns`, `syslog`
 * @address: where, e.g. `127.0.0.1:8600 (UDP and TCP)`
 *
 * Announces a listener a plugin opened besides the HTTP front door, so that
 * berthd prints it at start and `/api/status` lists it.
 */
void
berth_context_add_endpoint (BerthContext *self, const char *name, const char *address)
{
  g_return_if_fail (BERTH_IS_CONTEXT (self));
  g_return_if_fail (name != NULL && address != NULL);
  g_hash_table_insert (self->endpoints, g_strdup (name), g_strdup (address));
}

/**
 * berth_context_remove_endpoint:
 * @self: a #BerthContext
 * @name: an endpoint's name
 *
 * Withdraws an endpoint (its listener closed).
 */
void
berth_context_remove_endpoint (BerthContext *self, const char *name)
{
  g_return_if_fail (BERTH_IS_CONTEXT (self));
  g_hash_table_remove (self->endpoints, name);
}

/**
 * berth_context_get_endpoints:
 * @self: a #BerthContext
 *
 * Returns: (transfer none) (element-type utf8 utf8): endpoint name → address
 */
GHashTable *
berth_context_get_endpoints (BerthContext *self)
{
  g_return_val_if_fail (BERTH_IS_CONTEXT (self), NULL);
  return self->endpoints;
}

/**
 * berth_context_add_service:
 * @self: a #BerthContext
 * @iface: the interface #GType the service implements, e.g.
 *   %BERTH_TYPE_AUTHORITY
 * @service: (type GObject): an object implementing @iface
 *
 * Registers a service other plugins look up with
 * berth_context_get_service(). Plugins cooperate only through such
 * services (and the store), never by calling each other. One
 * implementation per interface: registering a second one is an error of
 * %BERTH_ERROR_CONFLICT, since two plugins would then both claim to be,
 * say, the authority.
 *
 * Returns: %TRUE on success
 */
gboolean
berth_context_add_service (BerthContext *self, GType iface, gpointer service, GError **error)
{
  g_return_val_if_fail (BERTH_IS_CONTEXT (self), FALSE);
  g_return_val_if_fail (G_TYPE_IS_INTERFACE (iface), FALSE);
  g_return_val_if_fail (G_TYPE_CHECK_INSTANCE_TYPE (service, iface), FALSE);

  if (g_hash_table_contains (self->services, GSIZE_TO_POINTER (iface)))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT,
                   "a %s service is already registered", g_type_name (iface));
      return FALSE;
    }
  g_hash_table_insert (self->services, GSIZE_TO_POINTER (iface), g_object_ref (service));
  return TRUE;
}

/**
 * berth_context_remove_service:
 * @self: a #BerthContext
 * @iface: the interface #GType
 * @service: (type GObject): the registered implementation
 *
 * Unregisters @service, when a plugin shuts down.
 */
void
berth_context_remove_service (BerthContext *self, GType iface, gpointer service)
{
  g_return_if_fail (BERTH_IS_CONTEXT (self));

  if (g_hash_table_lookup (self->services, GSIZE_TO_POINTER (iface)) == service)
    g_hash_table_remove (self->services, GSIZE_TO_POINTER (iface));
}

/**
 * berth_context_get_service:
 * @self: a #BerthContext
 * @iface: the interface #GType
 *
 * Returns: (transfer none) (nullable) (type GObject): the implementation
 *   of @iface, or %NULL when no plugin provides it
 */
gpointer
berth_context_get_service (BerthContext *self, GType iface)
{
  g_return_val_if_fail (BERTH_IS_CONTEXT (self), NULL);
  return g_hash_table_lookup (self->services, GSIZE_TO_POINTER (iface));
}

/**
 * berth_context_get_event_bus:
 * @self: a #BerthContext
 *
 * Returns: (transfer none): the daemon's event bus
 */
BerthEventBus *
berth_context_get_event_bus (BerthContext *self)
{
  g_return_val_if_fail (BERTH_IS_CONTEXT (self), NULL);
  return self->events;
}

/**
 * berth_context_publish:
 * @self: a #BerthContext
 * @topic: the event's topic, e.g. `task.state`
 * @caller: (nullable): who caused it
 * @data: (transfer full) (nullable): its details
 *
 * Publishes an event on the bus, stamped with the store's current index.
 */
void
berth_context_publish (BerthContext *self, const char *topic, BerthCaller *caller, JsonObject *data)
{
  g_autoptr(BerthEvent) event = NULL;
  g_autoptr(JsonObject) owned = data;

  g_return_if_fail (BERTH_IS_CONTEXT (self));
  g_return_if_fail (topic != NULL);

  event = berth_event_new (topic, caller, owned);
  berth_event_bus_publish (self->events, event,
                           self->store != NULL ? berth_store_get_index (self->store) : 0);
}

typedef struct {
  BerthContext     *context;
  BerthCall        *call;
  BerthDispatchFunc func;
  gpointer          user_data;
  GDestroyNotify    destroy;
} Dispatch;

static void
dispatch_free (Dispatch *d)
{
  if (d->destroy != NULL)
    d->destroy (d->user_data);
  g_object_unref (d->call);
  g_object_unref (d->context);
  g_free (d);
}

static void
dispatch_checked_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Dispatch *d = user_data;
  g_autoptr(GError) refusal = NULL;

  if (!berth_authority_check_finish (BERTH_AUTHORITY (source), result, &refusal) && refusal == NULL)
    g_set_error_literal (&refusal, BERTH_ERROR, BERTH_ERROR_DENIED, "Permission denied");
  d->func (d->call, refusal, d->user_data);
  dispatch_free (d);
}

/**
 * berth_context_dispatch:
 * @self: a #BerthContext
 * @call: the call a front door made of what arrived
 * @func: (scope notified): runs the call, or answers the refusal
 * @user_data: data for @func
 * @destroy: frees @user_data afterwards
 *
 * The one dispatch path of every front door: asks the registered
 * #BerthAuthority whether @call may run, then calls @func with %NULL (go
 * ahead) or with the refusal (%BERTH_ERROR_UNAUTHORIZED,
 * %BERTH_ERROR_DENIED, %BERTH_ERROR_RATE_LIMITED…), which the door
 * answers in its own terms. Without an authority every call is allowed and
 * @func runs before this function returns; with one, @func runs when it
 * has decided.
 */
void
berth_context_dispatch (BerthContext *self, BerthCall *call, BerthDispatchFunc func,
                        gpointer user_data, GDestroyNotify destroy)
{
  BerthAuthority *authority;
  Dispatch *d;

  g_return_if_fail (BERTH_IS_CONTEXT (self));
  g_return_if_fail (BERTH_IS_CALL (call));
  g_return_if_fail (func != NULL);

  authority = berth_context_get_service (self, BERTH_TYPE_AUTHORITY);
  if (authority == NULL)
    {
      func (call, NULL, user_data);
      if (destroy != NULL)
        destroy (user_data);
      return;
    }
  d = g_new0 (Dispatch, 1);
  d->context = g_object_ref (self);
  d->call = g_object_ref (call);
  d->func = func;
  d->user_data = user_data;
  d->destroy = destroy;
  berth_authority_check_async (authority, berth_call_get_caller (call), berth_call_get_resource (call),
                               berth_call_get_name (call), berth_call_get_access (call),
                               berth_call_get_cancellable (call), dispatch_checked_cb, d);
}

/**
 * berth_context_authorize_async:
 * @self: a #BerthContext
 * @caller: who asks
 * @resource: the resource kind the call touches
 * @name: (nullable): the resource's name
 * @access: the access the call needs
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the decision
 * @user_data: data for @callback
 *
 * The one place every front door asks before it runs a handler: the
 * registered #BerthAuthority decides; when none is registered, every call
 * is allowed (Berth without its security plugin serves loopback only).
 */
void
berth_context_authorize_async (BerthContext *self, BerthCaller *caller, const char *resource,
                               const char *name, BerthAccess access, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  BerthAuthority *authority;
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (BERTH_IS_CONTEXT (self));
  g_return_if_fail (BERTH_IS_CALLER (caller));

  authority = berth_context_get_service (self, BERTH_TYPE_AUTHORITY);
  if (authority != NULL)
    {
      berth_authority_check_async (authority, caller, resource, name, access, cancellable,
                                   callback, user_data);
      return;
    }
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, berth_context_authorize_async);
  g_task_return_boolean (task, TRUE);
}

/**
 * berth_context_authorize_finish:
 * @self: a #BerthContext
 * @result: the #GAsyncResult
 * @error: return location for the refusal
 *
 * Returns: %TRUE when the call is allowed
 */
gboolean
berth_context_authorize_finish (BerthContext *self, GAsyncResult *result, GError **error)
{
  g_autoptr(GObject) source = NULL;

  g_return_val_if_fail (BERTH_IS_CONTEXT (self), FALSE);

  if (g_task_is_valid (result, self))
    return g_task_propagate_boolean (G_TASK (result), error);
  source = g_async_result_get_source_object (result);
  g_return_val_if_fail (BERTH_IS_AUTHORITY (source), FALSE);
  return berth_authority_check_finish (BERTH_AUTHORITY (source), result, error);
}

/**
 * berth_context_authorize:
 * @self: a #BerthContext
 * @caller: who asks
 * @resource: the resource kind
 * @name: (nullable): the resource's name
 * @access: the access wanted
 * @error: return location for the refusal
 *
 * The synchronous check, for what a handler learns after dispatch (names
 * in a body) and for filtering lists: the authority answers from the
 * identity it resolved when the call was dispatched. A plugin's own work
 * (%BERTH_CALLER_INTERNAL) is always allowed, as is everything when no
 * authority is registered.
 *
 * Returns: %TRUE when allowed
 */
gboolean
berth_context_authorize (BerthContext *self, BerthCaller *caller, const char *resource,
                         const char *name, BerthAccess access, GError **error)
{
  BerthAuthority *authority;

  g_return_val_if_fail (BERTH_IS_CONTEXT (self), FALSE);
  g_return_val_if_fail (BERTH_IS_CALLER (caller), FALSE);
  g_return_val_if_fail (resource != NULL, FALSE);

  if (berth_caller_get_kind (caller) == BERTH_CALLER_INTERNAL)
    return TRUE;
  authority = berth_context_get_service (self, BERTH_TYPE_AUTHORITY);
  if (authority == NULL)
    return TRUE;
  return berth_authority_allows (authority, caller, resource, name, access, error);
}

static char *
broken_key (const char *kind, const char *id)
{
  return g_strconcat (kind, "\x1f", id, NULL);
}

/**
 * berth_context_report_broken:
 * @self: a #BerthContext
 * @owner: the plugin (or `core`) that owns the record
 * @kind: what the record is, e.g. `app`, `service`, `task`
 * @id: the record's id
 * @reason: why it cannot be used
 *
 * Sets aside a stored record that fails validation when it is loaded,
 * instead of acting on it (or crashing on it at every start). The record
 * stays in the store so that nothing is lost; it is logged once, listed
 * under `broken` in `/api/status`, and its owner lets the API delete it,
 * which calls berth_context_forget_broken().
 */
void
berth_context_report_broken (BerthContext *self, const char *owner, const char *kind,
                             const char *id, const char *reason)
{
  g_autofree char *key = NULL;
  JsonObject *record;

  g_return_if_fail (BERTH_IS_CONTEXT (self));
  g_return_if_fail (owner != NULL && kind != NULL && id != NULL && reason != NULL);

  key = broken_key (kind, id);
  if (!g_hash_table_contains (self->broken, key))
    g_warning ("%s: stored %s “%s” is broken and set aside: %s", owner, kind, id, reason);
  record = json_object_new ();
  json_object_set_string_member (record, "owner", owner);
  json_object_set_string_member (record, "kind", kind);
  json_object_set_string_member (record, "id", id);
  json_object_set_string_member (record, "reason", reason);
  g_hash_table_replace (self->broken, g_steal_pointer (&key), record);
}

/**
 * berth_context_forget_broken:
 * @self: a #BerthContext
 * @kind: what the record is
 * @id: the record's id
 *
 * Drops a record from the broken list, once it was removed or repaired.
 *
 * Returns: whether it was listed
 */
gboolean
berth_context_forget_broken (BerthContext *self, const char *kind, const char *id)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (BERTH_IS_CONTEXT (self), FALSE);
  g_return_val_if_fail (kind != NULL && id != NULL, FALSE);

  key = broken_key (kind, id);
  return g_hash_table_remove (self->broken, key);
}

/**
 * berth_context_is_broken:
 * @self: a #BerthContext
 * @kind: what the record is
 * @id: the record's id
 *
 * Returns: whether the record was set aside with
 *   berth_context_report_broken()
 */
gboolean
berth_context_is_broken (BerthContext *self, const char *kind, const char *id)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (BERTH_IS_CONTEXT (self), FALSE);
  g_return_val_if_fail (kind != NULL && id != NULL, FALSE);

  key = broken_key (kind, id);
  return g_hash_table_contains (self->broken, key);
}

/**
 * berth_context_dup_broken:
 * @self: a #BerthContext
 *
 * Returns: (transfer full): a JSON array of the records set aside, each an
 *   object with `owner`, `kind`, `id` and `reason`
 */
JsonNode *
berth_context_dup_broken (BerthContext *self)
{
  JsonArray *array;
  GHashTableIter iter;
  gpointer value;
  JsonNode *node;

  g_return_val_if_fail (BERTH_IS_CONTEXT (self), NULL);

  array = json_array_new ();
  g_hash_table_iter_init (&iter, self->broken);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    json_array_add_object_element (array, json_object_ref (value));
  node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, array);
  return node;
}

static void
berth_context_dispose (GObject *object)
{
  BerthContext *self = BERTH_CONTEXT (object);
  g_ptr_array_set_size (self->plugins, 0);
  g_clear_object (&self->router);
  g_clear_object (&self->store);
  g_clear_object (&self->node);
  G_OBJECT_CLASS (berth_context_parent_class)->dispose (object);
}

static void
berth_context_finalize (GObject *object)
{
  BerthContext *self = BERTH_CONTEXT (object);
  g_ptr_array_unref (self->plugins);
  g_clear_pointer (&self->config, g_key_file_unref);
  g_hash_table_unref (self->endpoints);
  g_hash_table_unref (self->broken);
  g_hash_table_unref (self->services);
  g_clear_object (&self->events);
  g_free (self->state_dir);
  G_OBJECT_CLASS (berth_context_parent_class)->finalize (object);
}

static void
berth_context_class_init (BerthContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = berth_context_dispose;
  object_class->finalize = berth_context_finalize;
}

static void
berth_context_init (BerthContext *self)
{
  self->config = g_key_file_new ();
  self->router = berth_router_new ();
  self->plugins = g_ptr_array_new_with_free_func (g_object_unref);
  self->endpoints = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->events = berth_event_bus_new (1024);
  self->services = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->broken = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) json_object_unref);
}
