/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include "berth-caller.h"
#include "berth-request.h"

G_BEGIN_DECLS

/**
 * BerthMethod:
 * @BERTH_METHOD_GET: GET (HEAD is answered by GET routes too)
 * @BERTH_METHOD_HEAD: HEAD
 * @BERTH_METHOD_PUT: PUT
 * @BERTH_METHOD_POST: POST
 * @BERTH_METHOD_DELETE: DELETE
 * @BERTH_METHOD_PATCH: PATCH
 * @BERTH_METHOD_OPTIONS: OPTIONS
 *
 * HTTP methods a route accepts.
 */
typedef enum { /*< flags >*/
  BERTH_METHOD_GET     = 1 << 0,
  BERTH_METHOD_HEAD    = 1 << 1,
  BERTH_METHOD_PUT     = 1 << 2,
  BERTH_METHOD_POST    = 1 << 3,
  BERTH_METHOD_DELETE  = 1 << 4,
  BERTH_METHOD_PATCH   = 1 << 5,
  BERTH_METHOD_OPTIONS = 1 << 6,
} BerthMethod;


/**
 * BerthRouteHandler:
 * @request: the request to answer
 * @user_data: the data given when the route was added
 *
 * Serves a request. It answers with one of the berth_request_respond
 * functions, now or later (keeping a reference to @request meanwhile).
 */
typedef void (*BerthRouteHandler) (BerthRequest *request,
                                   gpointer      user_data);

/**
 * BerthRouteSpec:
 * @methods: the methods the route accepts
 * @pattern: the path pattern: literal segments, `:name` for one segment,
 *   `*name` (last) for the rest of the path, slashes included
 * @acl_resource: the ACL resource kind (`key`, `service`, `node`, `agent`,
 *   `operator`, `acl`, `app`, …); the first path parameter names the
 *   resource
 * @access: the access the route needs on it
 * @handler: the handler
 *
 * A route, as plugins declare them in static tables.
 */
typedef struct {
  BerthMethod        methods;
  const char        *pattern;
  const char        *acl_resource;
  BerthAccess        access;
  BerthRouteHandler  handler;
} BerthRouteSpec;

typedef struct _BerthRoute BerthRoute;

#define BERTH_TYPE_ROUTER (berth_router_get_type ())
G_DECLARE_FINAL_TYPE (BerthRouter, berth_router, BERTH, ROUTER, GObject)

BerthRouter *berth_router_new         (void);
void         berth_router_add         (BerthRouter       *self,
                                       BerthMethod        methods,
                                       const char        *pattern,
                                       const char        *acl_resource,
                                       BerthAccess        access,
                                       BerthRouteHandler  handler,
                                       gpointer           user_data,
                                       GDestroyNotify     destroy);
void         berth_router_add_specs   (BerthRouter          *self,
                                       const BerthRouteSpec *specs,
                                       gsize                 n_specs,
                                       gpointer              user_data);
BerthRoute  *berth_router_lookup      (BerthRouter       *self,
                                       const char        *method,
                                       const char        *path,
                                       GHashTable       **params,
                                       BerthMethod       *allowed);

GPtrArray   *berth_router_list        (BerthRouter       *self);

const char  *berth_route_get_pattern      (BerthRoute   *route);
BerthMethod  berth_route_get_methods      (BerthRoute   *route);
BerthZone    berth_route_get_zone         (BerthRoute   *route);
const char  *berth_route_get_acl_resource (BerthRoute   *route);
BerthAccess  berth_route_get_access       (BerthRoute   *route);
void         berth_route_invoke           (BerthRoute   *route,
                                           BerthRequest *request);

BerthMethod  berth_method_from_string     (const char   *method);
char        *berth_method_to_string       (BerthMethod   methods);

G_END_DECLS
