/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * BerthCallerKind:
 * @BERTH_CALLER_INTERNAL: a plugin acting on its own behalf
 * @BERTH_CALLER_UNIX: a process on this host, through a unix socket
 *   (uid, gid and pid from `SO_PEERCRED`)
 * @BERTH_CALLER_TCP: a client over TCP (peer address, maybe a token)
 * @BERTH_CALLER_TLS: a client over TLS (peer address, maybe a client
 *   certificate and a token)
 * @BERTH_CALLER_DBUS: a D-Bus peer (unique bus name, uid, pid)
 *
 * Where a call comes from.
 */
typedef enum {
  BERTH_CALLER_INTERNAL,
  BERTH_CALLER_UNIX,
  BERTH_CALLER_TCP,
  BERTH_CALLER_TLS,
  BERTH_CALLER_DBUS,
} BerthCallerKind;

/**
 * BerthAccess:
 * @BERTH_ACCESS_NONE: anyone may call the route
 * @BERTH_ACCESS_READ: the token needs read access to the resource
 * @BERTH_ACCESS_WRITE: the token needs write access to the resource
 *
 * The access a route needs on its ACL resource.
 */
/**
 * BERTH_RESOURCE_PUBLIC:
 *
 * The resource kind of routes anyone may call (Consul's
 * `/v1/status/leader`, Marathon's `/ping`): the authority still sees
 * them, to count or throttle them.
 */
#define BERTH_RESOURCE_PUBLIC "public"

typedef enum {
  BERTH_ACCESS_NONE,
  BERTH_ACCESS_READ,
  BERTH_ACCESS_WRITE,
} BerthAccess;

/**
 * BerthZone:
 * @BERTH_ZONE_PUBLIC: the public zone: only routes declared public
 * @BERTH_ZONE_PRIVATE: the private zone: the Consul, Marathon, Docker and
 *   Elasticsearch APIs, besides the public routes
 * @BERTH_ZONE_ADMIN: the admin zone: everything, ACL management, audit,
 *   operator and datacenter joins included
 *
 * The zone of the listener a call came through, and the lowest zone a
 * route serves. Zones are ordered: a listener serves the routes of its
 * zone and of every lower zone; others answer 404 there.
 */
typedef enum {
  BERTH_ZONE_PUBLIC,
  BERTH_ZONE_PRIVATE,
  BERTH_ZONE_ADMIN,
} BerthZone;

const char      *berth_zone_to_string         (BerthZone     zone);
gboolean         berth_zone_from_string       (const char   *text,
                                               BerthZone    *zone);

#define BERTH_TYPE_CALLER (berth_caller_get_type ())
G_DECLARE_FINAL_TYPE (BerthCaller, berth_caller, BERTH, CALLER, GObject)

BerthCaller     *berth_caller_new_internal    (const char   *plugin);
BerthCaller     *berth_caller_new_unix        (guint32       uid,
                                               guint32       gid,
                                               gint32        pid);
BerthCaller     *berth_caller_new_tcp         (const char   *address,
                                               gboolean      tls);
BerthCaller     *berth_caller_new_dbus        (const char   *sender,
                                               guint32       uid,
                                               gint32        pid);

BerthCallerKind  berth_caller_get_kind        (BerthCaller  *self);
const char      *berth_caller_get_plugin      (BerthCaller  *self);
guint32          berth_caller_get_uid         (BerthCaller  *self);
guint32          berth_caller_get_gid         (BerthCaller  *self);
gint32           berth_caller_get_pid         (BerthCaller  *self);
gboolean         berth_caller_has_credentials (BerthCaller  *self);
const char      *berth_caller_get_address     (BerthCaller  *self);
const char      *berth_caller_get_sender      (BerthCaller  *self);
const char      *berth_caller_get_token       (BerthCaller  *self);
void             berth_caller_set_token       (BerthCaller  *self,
                                               const char   *token);
GTlsCertificate *berth_caller_get_certificate (BerthCaller  *self);
void             berth_caller_set_certificate (BerthCaller  *self,
                                               GTlsCertificate *certificate);
char            *berth_caller_to_string       (BerthCaller  *self);
BerthZone        berth_caller_get_zone        (BerthCaller  *self);
void             berth_caller_set_zone        (BerthCaller  *self,
                                               BerthZone     zone);
const char      *berth_caller_get_accessor    (BerthCaller  *self);
void             berth_caller_set_accessor    (BerthCaller  *self,
                                               const char   *accessor);

G_END_DECLS
