/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>

#include "bd-notify.h"

/* Tells the service manager about our state, the way sd_notify(3) does,
 * without linking libsystemd: one datagram to $NOTIFY_SOCKET. */
void
bd_notify (const char *state)
{
  const char *path = g_getenv ("NOTIFY_SOCKET");
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) error = NULL;

  if (path == NULL || path[0] == '\0')
    return;
  if (path[0] == '@')
    address = g_unix_socket_address_new_with_type (path + 1, -1, G_UNIX_SOCKET_ADDRESS_ABSTRACT);
  else if (path[0] == '/')
    address = g_unix_socket_address_new (path);
  else
    return;

  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, 0, &error);
  if (socket == NULL ||
      g_socket_send_to (socket, address, state, strlen (state), NULL, &error) < 0)
    g_debug ("sd_notify %s: %s", state, error->message);
}
