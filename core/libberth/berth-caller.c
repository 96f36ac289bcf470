/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-caller.h"

/**
 * SECTION:berth-caller
 * @title: BerthCaller
 * @short_description: who is asking
 *
 * Every call that reaches a handler carries a #BerthCaller: the identity
 * its front door could establish. A unix socket gives the peer's uid, gid
 * and pid (`SO_PEERCRED`, not spoofable by the peer); TCP gives an
 * address and whatever token the client presented; TLS may add a client
 * certificate; D-Bus gives the sender's unique name and credentials;
 * plugins acting on their own behalf are %BERTH_CALLER_INTERNAL callers
 * named after the plugin. The authority decides what each may do; the
 * event bus and the audit trail record it.
 */

struct _BerthCaller {
  GObject          parent_instance;
  BerthCallerKind  kind;
  char            *plugin;
  char            *address;
  char            *sender;
  char            *token;
  GTlsCertificate *certificate;
  guint32          uid;
  guint32          gid;
  gint32           pid;
  gboolean         has_credentials;
  BerthZone        zone;
  char            *accessor;
};

G_DEFINE_FINAL_TYPE (BerthCaller, berth_caller, G_TYPE_OBJECT)

static BerthCaller *
caller_new (BerthCallerKind kind)
{
  BerthCaller *self = g_object_new (BERTH_TYPE_CALLER, NULL);
  self->kind = kind;
  /* a door sets the zone of its listener; a plugin's own work and the
   * local admin's socket act in the admin zone */
  self->zone = kind == BERTH_CALLER_INTERNAL || kind == BERTH_CALLER_UNIX
               ? BERTH_ZONE_ADMIN : BERTH_ZONE_PRIVATE;
  return self;
}

/**
 * berth_caller_new_internal:
 * @plugin: the plugin that acts, e.g. `scheduler`
 *
 * Returns: (transfer full): a caller for a plugin's own work
 */
BerthCaller *
berth_caller_new_internal (const char *plugin)
{
  BerthCaller *self;

  g_return_val_if_fail (plugin != NULL, NULL);

  self = caller_new (BERTH_CALLER_INTERNAL);
  self->plugin = g_strdup (plugin);
  return self;
}

/**
 * berth_caller_new_unix:
 * @uid: the peer's user id
 * @gid: the peer's group id
 * @pid: the peer's process id
 *
 * Returns: (transfer full): a caller on a unix socket, with the
 *   credentials the kernel reported for it
 */
BerthCaller *
berth_caller_new_unix (guint32 uid, guint32 gid, gint32 pid)
{
  BerthCaller *self = caller_new (BERTH_CALLER_UNIX);

  self->uid = uid;
  self->gid = gid;
  self->pid = pid;
  self->has_credentials = TRUE;
  self->address = g_strdup ("unix");
  return self;
}

/**
 * berth_caller_new_tcp:
 * @address: the peer's address, `host:port`
 * @tls: whether the connection is TLS
 *
 * Returns: (transfer full): a network caller
 */
BerthCaller *
berth_caller_new_tcp (const char *address, gboolean tls)
{
  BerthCaller *self;

  g_return_val_if_fail (address != NULL, NULL);

  self = caller_new (tls ? BERTH_CALLER_TLS : BERTH_CALLER_TCP);
  self->address = g_strdup (address);
  return self;
}

/**
 * berth_caller_new_dbus:
 * @sender: the peer's unique bus name
 * @uid: its user id
 * @pid: its process id
 *
 * Returns: (transfer full): a D-Bus caller
 */
BerthCaller *
berth_caller_new_dbus (const char *sender, guint32 uid, gint32 pid)
{
  BerthCaller *self;

  g_return_val_if_fail (sender != NULL, NULL);

  self = caller_new (BERTH_CALLER_DBUS);
  self->sender = g_strdup (sender);
  self->uid = uid;
  self->pid = pid;
  self->has_credentials = TRUE;
  return self;
}

/**
 * berth_caller_get_kind:
 * @self: a #BerthCaller
 *
 * Returns: where the call comes from
 */
BerthCallerKind
berth_caller_get_kind (BerthCaller *self)
{
  g_return_val_if_fail (BERTH_IS_CALLER (self), BERTH_CALLER_TCP);
  return self->kind;
}

/**
 * berth_caller_get_plugin:
 * @self: a #BerthCaller
 *
 * Returns: (nullable): the acting plugin of an internal caller
 */
const char *
berth_caller_get_plugin (BerthCaller *self)
{
  g_return_val_if_fail (BERTH_IS_CALLER (self), NULL);
  return self->plugin;
}

/**
 * berth_caller_get_uid:
 * @self: a #BerthCaller
 *
 * Returns: the peer's uid; only meaningful when
 *   berth_caller_has_credentials() is %TRUE
 */
guint32
berth_caller_get_uid (BerthCaller *self)
{
  g_return_val_if_fail (BERTH_IS_CALLER (self), G_MAXUINT32);
  return self->uid;
}

/**
 * berth_caller_get_gid:
 * @self: a #BerthCaller
 *
 * Returns: the peer's gid; only meaningful for a unix caller
 */
guint32
berth_caller_get_gid (BerthCaller *self)
{
  g_return_val_if_fail (BERTH_IS_CALLER (self), G_MAXUINT32);
  return self->gid;
}

/**
 * berth_caller_get_pid:
 * @self: a #BerthCaller
 *
 * Returns: the peer's pid, or 0 when unknown
 */
gint32
berth_caller_get_pid (BerthCaller *self)
{
  g_return_val_if_fail (BERTH_IS_CALLER (self), 0);
  return self->pid;
}

/**
 * berth_caller_has_credentials:
 * @self: a #BerthCaller
 *
 * Returns: whether the kernel vouched for the caller's uid and pid
 */
gboolean
berth_caller_has_credentials (BerthCaller *self)
{
  g_return_val_if_fail (BERTH_IS_CALLER (self), FALSE);
  return self->has_credentials;
}

/**
 * berth_caller_get_address:
 * @self: a #BerthCaller
 *
 * Returns: (nullable): the peer's address (`unix` for a unix socket)
 */
const char *
berth_caller_get_address (BerthCaller *self)
{
  g_return_val_if_fail (BERTH_IS_CALLER (self), NULL);
  return self->address;
}

/**
 * berth_caller_get_sender:
 * @self: a #BerthCaller
 *
 * Returns: (nullable): the D-Bus unique name of a D-Bus caller
 */
const char *
berth_caller_get_sender (BerthCaller *self)
{
  g_return_val_if_fail (BERTH_IS_CALLER (self), NULL);
  return self->sender;
}

/**
 * berth_caller_get_token:
 * @self: a #BerthCaller
 *
 * Returns: (nullable): the ACL token the caller presented
 */
const char *
berth_caller_get_token (BerthCaller *self)
{
  g_return_val_if_fail (BERTH_IS_CALLER (self), NULL);
  return self->token;
}

/**
 * berth_caller_set_token:
 * @self: a #BerthCaller
 * @token: (nullable): the token the caller presented
 *
 * Set by the front door, which knows where its transport carries tokens.
 */
void
berth_caller_set_token (BerthCaller *self, const char *token)
{
  g_return_if_fail (BERTH_IS_CALLER (self));
  g_free (self->token);
  self->token = g_strdup (token);
}

/**
 * berth_caller_get_certificate:
 * @self: a #BerthCaller
 *
 * Returns: (transfer none) (nullable): the verified client certificate
 */
GTlsCertificate *
berth_caller_get_certificate (BerthCaller *self)
{
  g_return_val_if_fail (BERTH_IS_CALLER (self), NULL);
  return self->certificate;
}

/**
 * berth_caller_set_certificate:
 * @self: a #BerthCaller
 * @certificate: (nullable): the verified client certificate
 */
void
berth_caller_set_certificate (BerthCaller *self, GTlsCertificate *certificate)
{
  g_return_if_fail (BERTH_IS_CALLER (self));
  g_set_object (&self->certificate, certificate);
}

/**
 * berth_caller_to_string:
 * @self: a #BerthCaller
 *
 * A short description for logs and the audit trail, e.g.
 * `unix uid=0 pid=1234`, `tcp 127.0.0.1:40212`, `internal scheduler`.
 * The token is never part of it.
 *
 * Returns: (transfer full): the description
 */
char *
berth_caller_to_string (BerthCaller *self)
{
  g_return_val_if_fail (BERTH_IS_CALLER (self), NULL);

  switch (self->kind)
    {
    case BERTH_CALLER_INTERNAL:
      return g_strdup_printf ("internal %s", self->plugin);
    case BERTH_CALLER_UNIX:
      return g_strdup_printf ("unix uid=%u pid=%d", self->uid, self->pid);
    case BERTH_CALLER_TCP:
      return g_strdup_printf ("tcp %s", self->address);
    case BERTH_CALLER_TLS:
      return g_strdup_printf ("tls %s", self->address);
    case BERTH_CALLER_DBUS:
      return g_strdup_printf ("dbus %s uid=%u", self->sender, self->uid);
    default:
      return g_strdup ("unknown");
    }
}

/**
 * berth_caller_get_zone:
 * @self: a #BerthCaller
 *
 * Returns: the zone of the listener the call came through
 */
BerthZone
berth_caller_get_zone (BerthCaller *self)
{
  g_return_val_if_fail (BERTH_IS_CALLER (self), BERTH_ZONE_PUBLIC);
  return self->zone;
}

/**
 * berth_caller_set_zone:
 * @self: a #BerthCaller
 * @zone: the zone of the listener the call came through
 *
 * Set by the front door.
 */
void
berth_caller_set_zone (BerthCaller *self, BerthZone zone)
{
  g_return_if_fail (BERTH_IS_CALLER (self));
  g_return_if_fail (zone <= BERTH_ZONE_ADMIN);
  self->zone = zone;
}

/**
 * berth_caller_get_accessor:
 * @self: a #BerthCaller
 *
 * Returns: (nullable): the AccessorID of the token the authority resolved
 *   for this caller, or %NULL before it did (or without a token)
 */
const char *
berth_caller_get_accessor (BerthCaller *self)
{
  g_return_val_if_fail (BERTH_IS_CALLER (self), NULL);
  return self->accessor;
}

/**
 * berth_caller_set_accessor:
 * @self: a #BerthCaller
 * @accessor: (nullable): the AccessorID of the caller's token
 *
 * Set by the authority once it resolved the token, so that the audit
 * trail and the event bus can name who acted without the secret.
 */
void
berth_caller_set_accessor (BerthCaller *self, const char *accessor)
{
  g_return_if_fail (BERTH_IS_CALLER (self));
  g_free (self->accessor);
  self->accessor = g_strdup (accessor);
}

/**
 * berth_zone_to_string:
 * @zone: a #BerthZone
 *
 * Returns: `public`, `private` or `admin`
 */
const char *
berth_zone_to_string (BerthZone zone)
{
  switch (zone)
    {
    case BERTH_ZONE_PUBLIC:
      return "public";
    case BERTH_ZONE_PRIVATE:
      return "private";
    case BERTH_ZONE_ADMIN:
      return "admin";
    default:
      return "unknown";
    }
}

/**
 * berth_zone_from_string:
 * @text: `public`, `private` or `admin`
 * @zone: (out): the zone
 *
 * Returns: %TRUE if @text names a zone
 */
gboolean
berth_zone_from_string (const char *text, BerthZone *zone)
{
  g_return_val_if_fail (zone != NULL, FALSE);

  for (BerthZone z = BERTH_ZONE_PUBLIC; z <= BERTH_ZONE_ADMIN; z++)
    if (g_strcmp0 (text, berth_zone_to_string (z)) == 0)
      {
        *zone = z;
        return TRUE;
      }
  return FALSE;
}

static void
berth_caller_finalize (GObject *object)
{
  BerthCaller *self = BERTH_CALLER (object);

  g_free (self->plugin);
  g_free (self->address);
  g_free (self->sender);
  g_free (self->token);
  g_free (self->accessor);
  g_clear_object (&self->certificate);
  G_OBJECT_CLASS (berth_caller_parent_class)->finalize (object);
}

static void
berth_caller_class_init (BerthCallerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = berth_caller_finalize;
}

static void
berth_caller_init (BerthCaller *self)
{
}
