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

G_END_DECLS
