/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "berth-router.h"

/**
 * SECTION:berth-router
 * @title: BerthRouter
 * @short_description: the table of HTTP routes
 *
 * Every front door route is declared here: methods, a path pattern, the ACL
 * resource and access it needs, and a handler. The front door looks routes
 * up, answers 404 when no pattern matches and 405 (with `Allow`) when a
 * pattern matches but not the method, checks access, then invokes the
 * handler. Routes are tried in the order they were added.
 */

struct _BerthRoute {
  BerthMethod        methods;
  char              *pattern;
  char             **segments;
  char              *acl_resource;
  BerthAccess        access;
  BerthRouteHandler  handler;
  gpointer           user_data;
  GDestroyNotify     destroy;
};

struct _BerthRouter {
  GObject    parent_instance;
  GPtrArray *routes;
};

G_DEFINE_FINAL_TYPE (BerthRouter, berth_router, G_TYPE_OBJECT)

static const struct {
  const char  *name;
  BerthMethod  method;
} method_names[] = {
  { "GET", BERTH_METHOD_GET },
  { "HEAD", BERTH_METHOD_HEAD },
  { "PUT", BERTH_METHOD_PUT },
  { "POST", BERTH_METHOD_POST },
  { "DELETE", BERTH_METHOD_DELETE },
  { "PATCH", BERTH_METHOD_PATCH },
  { "OPTIONS", BERTH_METHOD_OPTIONS },
};

/**
 * berth_method_from_string:
 * @method: an HTTP method name
 *
 * Returns: the method's flag, or 0 for a method Berth does not route
 */
BerthMethod
berth_method_from_string (const char *method)
{
  g_return_val_if_fail (method != NULL, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (method_names); i++)
    if (strcmp (method, method_names[i].name) == 0)
      return method_names[i].method;
  return 0;
}

/**
 * berth_method_to_string:
 * @methods: a set of methods
 *
 * Returns: (transfer full): the methods as an `Allow` header value,
 *   e.g. `GET, HEAD, PUT`
 */
char *
berth_method_to_string (BerthMethod methods)
{
  GString *str = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (method_names); i++)
    {
      if ((methods & method_names[i].method) == 0)
        continue;
      if (str->len > 0)
        g_string_append (str, ", ");
      g_string_append (str, method_names[i].name);
    }
  return g_string_free (str, FALSE);
}

static void
route_free (BerthRoute *route)
{
  if (route->destroy != NULL)
    route->destroy (route->user_data);
  g_free (route->pattern);
  g_strfreev (route->segments);
  g_free (route->acl_resource);
  g_free (route);
}

/**
 * berth_router_new:
 *
 * Returns: (transfer full): an empty router
 */
BerthRouter *
berth_router_new (void)
{
  return g_object_new (BERTH_TYPE_ROUTER, NULL);
}

/**
 * berth_router_add:
 * @self: a #BerthRouter
 * @methods: the methods the route accepts
 * @pattern: the path pattern, see #BerthRouteSpec
 * @acl_resource: the ACL resource kind the route touches (`key`,
 *   `service`, `app`, …, or %BERTH_RESOURCE_PUBLIC)
 * @access: the access needed on it (%BERTH_ACCESS_NONE only with
 *   %BERTH_RESOURCE_PUBLIC)
 * @handler: (scope notified): the handler
 * @user_data: (closure handler): data for @handler
 * @destroy: (destroy user_data) (nullable): frees @user_data with the router
 *
 * Adds a route. Every route says what it touches, so the authority can
 * decide every call: a route that declares no resource, or no access on
 * a resource that is not public, is refused with a critical and not
 * added.
 */
void
berth_router_add (BerthRouter *self, BerthMethod methods, const char *pattern,
                  const char *acl_resource, BerthAccess access,
                  BerthRouteHandler handler, gpointer user_data, GDestroyNotify destroy)
{
  BerthRoute *route;

  g_return_if_fail (BERTH_IS_ROUTER (self));
  g_return_if_fail (pattern != NULL && pattern[0] == '/');
  g_return_if_fail (handler != NULL);
  g_return_if_fail (methods != 0);
  g_return_if_fail (acl_resource != NULL && *acl_resource != '\0');
  g_return_if_fail (access != BERTH_ACCESS_NONE || g_str_equal (acl_resource, BERTH_RESOURCE_PUBLIC));

  route = g_new0 (BerthRoute, 1);
  route->methods = methods;
  if (methods & BERTH_METHOD_GET)
    route->methods |= BERTH_METHOD_HEAD;
  route->pattern = g_strdup (pattern);
  route->segments = g_strsplit (pattern + 1, "/", -1);
  route->acl_resource = g_strdup (acl_resource);
  route->access = access;
  route->handler = handler;
  route->user_data = user_data;
  route->destroy = destroy;
  g_ptr_array_add (self->routes, route);
}

/**
 * berth_router_add_specs: (skip)
 * @self: a #BerthRouter
 * @specs: (array length=n_specs): the routes
 * @n_specs: how many
 * @user_data: data for every handler
 *
 * Adds a static table of routes sharing one @user_data.
 */
void
berth_router_add_specs (BerthRouter *self, const BerthRouteSpec *specs, gsize n_specs,
                        gpointer user_data)
{
  g_return_if_fail (BERTH_IS_ROUTER (self));
  for (gsize i = 0; i < n_specs; i++)
    berth_router_add (self, specs[i].methods, specs[i].pattern, specs[i].acl_resource,
                      specs[i].access, specs[i].handler, user_data, NULL);
}

/* Matches @parts (the path split on '/') against a route's pattern. On a
 * match, and only then, the captures go into a new table in @params. */
static gboolean
route_match (BerthRoute *route, char **parts, guint n_parts, GHashTable **params)
{
  guint i;
  const char *tail = NULL;

  for (i = 0; route->segments[i] != NULL; i++)
    {
      const char *seg = route->segments[i];

      if (seg[0] == '*')
        {
          tail = seg;
          break;
        }
      if (i >= n_parts)
        return FALSE;
      if (seg[0] == ':')
        {
          if (parts[i][0] == '\0')
            return FALSE;
        }
      else if (strcmp (seg, parts[i]) != 0)
        return FALSE;
    }
  if (tail == NULL && i != n_parts)
    return FALSE;

  if (params != NULL)
    {
      *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      for (guint j = 0; j < i; j++)
        if (route->segments[j][0] == ':')
          g_hash_table_insert (*params, g_strdup (route->segments[j] + 1), g_strdup (parts[j]));
      if (tail != NULL)
        g_hash_table_insert (*params, g_strdup (tail + 1),
                             g_strjoinv ("/", parts + MIN (i, n_parts)));
    }
  return TRUE;
}

/**
 * berth_router_lookup: (skip)
 * @self: a #BerthRouter
 * @method: the request's method
 * @path: the request's path, percent-decoded (as libsoup's server gives it,
 *   and as Consul's Go server does: decoded exactly once)
 * @params: (out) (transfer full) (optional): the path parameters of
 *   the route found
 * @allowed: (out) (optional): the methods of the routes whose pattern
 *   matched, so that a miss can answer 405 with `Allow`
 *
 * Finds the first route matching @method and @path.
 *
 * Returns: (transfer none) (nullable): the route, or %NULL
 */
BerthRoute *
berth_router_lookup (BerthRouter *self, const char *method, const char *path,
                     GHashTable **params, BerthMethod *allowed)
{
  g_auto(GStrv) parts = NULL;
  BerthMethod wanted;
  BerthMethod seen = 0;
  guint n_parts;

  g_return_val_if_fail (BERTH_IS_ROUTER (self), NULL);
  g_return_val_if_fail (method != NULL && path != NULL, NULL);

  if (params != NULL)
    *params = NULL;
  if (allowed != NULL)
    *allowed = 0;
  if (path[0] != '/')
    return NULL;

  wanted = berth_method_from_string (method);
  parts = g_strsplit (path + 1, "/", -1);
  n_parts = g_strv_length (parts);

  for (guint i = 0; i < self->routes->len; i++)
    {
      BerthRoute *route = g_ptr_array_index (self->routes, i);

      if (!route_match (route, parts, n_parts, NULL))
        continue;
      seen |= route->methods;
      if ((route->methods & wanted) == 0)
        continue;
      if (params != NULL)
        route_match (route, parts, n_parts, params);
      return route;
    }
  if (allowed != NULL)
    *allowed = seen;
  return NULL;
}

/**
 * berth_route_get_pattern: (skip)
 * @route: a route
 *
 * Returns: the route's pattern
 */
const char *
berth_route_get_pattern (BerthRoute *route)
{
  g_return_val_if_fail (route != NULL, NULL);
  return route->pattern;
}

/**
 * berth_route_get_acl_resource: (skip)
 * @route: a route
 *
 * Returns: (nullable): the ACL resource kind the route touches
 */
const char *
berth_route_get_acl_resource (BerthRoute *route)
{
  g_return_val_if_fail (route != NULL, NULL);
  return route->acl_resource;
}

/**
 * berth_route_get_access: (skip)
 * @route: a route
 *
 * Returns: the access the route needs
 */
BerthAccess
berth_route_get_access (BerthRoute *route)
{
  g_return_val_if_fail (route != NULL, BERTH_ACCESS_WRITE);
  return route->access;
}

/**
 * berth_route_get_methods: (skip)
 * @route: a route
 *
 * Returns: the methods the route accepts
 */
BerthMethod
berth_route_get_methods (BerthRoute *route)
{
  g_return_val_if_fail (route != NULL, 0);
  return route->methods;
}

/**
 * berth_route_get_zone: (skip)
 * @route: a route
 *
 * The lowest zone that serves the route, from what it declares: public
 * routes are served everywhere; ACL management (`acl…` resources), the
 * audit trail, plugin control, operator writes and agent writes (joining
 * datacenters) only in the admin zone; everything else in the private
 * zone and above.
 *
 * Returns: the route's zone
 */
BerthZone
berth_route_get_zone (BerthRoute *route)
{
  const char *r;

  g_return_val_if_fail (route != NULL, BERTH_ZONE_ADMIN);

  r = route->acl_resource;
  if (g_str_equal (r, BERTH_RESOURCE_PUBLIC))
    return BERTH_ZONE_PUBLIC;
  if (g_str_has_prefix (r, "acl") || g_str_equal (r, "audit") || g_str_equal (r, "plugin"))
    return BERTH_ZONE_ADMIN;
  if ((g_str_equal (r, "operator") || g_str_equal (r, "agent")) && route->access == BERTH_ACCESS_WRITE)
    return BERTH_ZONE_ADMIN;
  return BERTH_ZONE_PRIVATE;
}

/**
 * berth_router_list: (skip)
 * @self: a #BerthRouter
 *
 * Returns: (transfer container) (element-type BerthRoute): every route,
 *   in the order they were added
 */
GPtrArray *
berth_router_list (BerthRouter *self)
{
  GPtrArray *routes;

  g_return_val_if_fail (BERTH_IS_ROUTER (self), NULL);

  routes = g_ptr_array_sized_new (self->routes->len);
  for (guint i = 0; i < self->routes->len; i++)
    g_ptr_array_add (routes, g_ptr_array_index (self->routes, i));
  return routes;
}

/**
 * berth_route_invoke: (skip)
 * @route: a route
 * @request: the request
 *
 * Calls the route's handler.
 */
void
berth_route_invoke (BerthRoute *route, BerthRequest *request)
{
  g_return_if_fail (route != NULL);
  g_return_if_fail (BERTH_IS_REQUEST (request));
  route->handler (request, route->user_data);
}

static void
berth_router_finalize (GObject *object)
{
  BerthRouter *self = BERTH_ROUTER (object);
  g_ptr_array_unref (self->routes);
  G_OBJECT_CLASS (berth_router_parent_class)->finalize (object);
}

static void
berth_router_class_init (BerthRouterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = berth_router_finalize;
}

static void
berth_router_init (BerthRouter *self)
{
  self->routes = g_ptr_array_new_with_free_func ((GDestroyNotify) route_free);
}
