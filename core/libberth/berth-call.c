/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-call.h"

/**
 * SECTION:berth-call
 * @title: BerthCall
 * @short_description: one call, whatever door it came through
 *
 * What every front door makes of what arrives before anything runs: the
 * operation (for HTTP the route pattern, e.g. `/v1/kv/{key}`; for D-Bus the
 * method), the resource kind and name it touches, the access it needs,
 * who asks, and a cancellable that fires when the caller goes away. The
 * door hands it to berth_context_dispatch_async(), which asks the
 * authority; only an allowed call reaches its handler.
 *
 * |[<!-- language="C" -->
 * g_autoptr(BerthCaller) caller = berth_caller_new_dbus (sender, uid, pid);
 * g_autoptr(BerthCall) call = berth_call_new ("Scale", "app", app_id,
 *                                             BERTH_ACCESS_WRITE, caller);
 * berth_context_dispatch_async (context, call, scale_allowed_cb, invocation);
 * ]|
 */

struct _BerthCall {
  GObject       parent_instance;
  char         *operation;
  char         *resource;
  char         *name;
  BerthAccess   access;
  BerthCaller  *caller;
  GCancellable *cancellable;
  char         *method;
  char         *target;
};

G_DEFINE_FINAL_TYPE (BerthCall, berth_call, G_TYPE_OBJECT)

/**
 * berth_call_new:
 * @operation: what is called, e.g. a route pattern or a D-Bus method
 * @resource: the resource kind, e.g. `key`, `service`, `app`
 * @name: (nullable): the resource's name, when the call names one
 * @access: the access the call needs
 * @caller: who asks
 *
 * Returns: (transfer full): a new call
 */
BerthCall *
berth_call_new (const char *operation, const char *resource, const char *name, BerthAccess access,
                BerthCaller *caller)
{
  BerthCall *self;

  g_return_val_if_fail (operation != NULL, NULL);
  g_return_val_if_fail (resource != NULL, NULL);
  g_return_val_if_fail (BERTH_IS_CALLER (caller), NULL);

  self = g_object_new (BERTH_TYPE_CALL, NULL);
  self->operation = g_strdup (operation);
  self->resource = g_strdup (resource);
  self->name = g_strdup (name);
  self->access = access;
  self->caller = g_object_ref (caller);
  self->cancellable = g_cancellable_new ();
  return self;
}

/**
 * berth_call_get_operation:
 * @self: a #BerthCall
 *
 * Returns: what is called
 */
const char *
berth_call_get_operation (BerthCall *self)
{
  g_return_val_if_fail (BERTH_IS_CALL (self), NULL);
  return self->operation;
}

/**
 * berth_call_get_resource:
 * @self: a #BerthCall
 *
 * Returns: the resource kind
 */
const char *
berth_call_get_resource (BerthCall *self)
{
  g_return_val_if_fail (BERTH_IS_CALL (self), NULL);
  return self->resource;
}

/**
 * berth_call_get_name:
 * @self: a #BerthCall
 *
 * Returns: (nullable): the resource's name
 */
const char *
berth_call_get_name (BerthCall *self)
{
  g_return_val_if_fail (BERTH_IS_CALL (self), NULL);
  return self->name;
}

/**
 * berth_call_set_target:
 * @self: a #BerthCall
 * @method: (nullable): the door's verb, e.g. the HTTP method
 * @target: (nullable): what exactly the caller asked for, e.g. the
 *   request's path
 *
 * Records what the caller sent, as the audit trail shows it: the
 * operation names the route, the target the actual path.
 */
void
berth_call_set_target (BerthCall *self, const char *method, const char *target)
{
  g_return_if_fail (BERTH_IS_CALL (self));
  g_free (self->method);
  self->method = g_strdup (method);
  g_free (self->target);
  self->target = g_strdup (target);
}

/**
 * berth_call_get_method:
 * @self: a #BerthCall
 *
 * Returns: (nullable): the verb given to berth_call_set_target()
 */
const char *
berth_call_get_method (BerthCall *self)
{
  g_return_val_if_fail (BERTH_IS_CALL (self), NULL);
  return self->method;
}

/**
 * berth_call_get_target:
 * @self: a #BerthCall
 *
 * Returns: (nullable): the target given to berth_call_set_target()
 */
const char *
berth_call_get_target (BerthCall *self)
{
  g_return_val_if_fail (BERTH_IS_CALL (self), NULL);
  return self->target;
}

/**
 * berth_call_get_access:
 * @self: a #BerthCall
 *
 * Returns: the access the call needs
 */
BerthAccess
berth_call_get_access (BerthCall *self)
{
  g_return_val_if_fail (BERTH_IS_CALL (self), BERTH_ACCESS_WRITE);
  return self->access;
}

/**
 * berth_call_get_caller:
 * @self: a #BerthCall
 *
 * Returns: (transfer none): who asks
 */
BerthCaller *
berth_call_get_caller (BerthCall *self)
{
  g_return_val_if_fail (BERTH_IS_CALL (self), NULL);
  return self->caller;
}

/**
 * berth_call_get_cancellable:
 * @self: a #BerthCall
 *
 * Returns: (transfer none): cancelled when the caller goes away
 */
GCancellable *
berth_call_get_cancellable (BerthCall *self)
{
  g_return_val_if_fail (BERTH_IS_CALL (self), NULL);
  return self->cancellable;
}

/**
 * berth_call_set_cancellable:
 * @self: a #BerthCall
 * @cancellable: the front door's cancellable for this call
 */
void
berth_call_set_cancellable (BerthCall *self, GCancellable *cancellable)
{
  g_return_if_fail (BERTH_IS_CALL (self));
  g_return_if_fail (G_IS_CANCELLABLE (cancellable));
  g_set_object (&self->cancellable, cancellable);
}

static void
berth_call_finalize (GObject *object)
{
  BerthCall *self = BERTH_CALL (object);

  g_free (self->operation);
  g_free (self->resource);
  g_free (self->name);
  g_free (self->method);
  g_free (self->target);
  g_clear_object (&self->caller);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (berth_call_parent_class)->finalize (object);
}

static void
berth_call_class_init (BerthCallClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = berth_call_finalize;
}

static void
berth_call_init (BerthCall *self)
{
}
