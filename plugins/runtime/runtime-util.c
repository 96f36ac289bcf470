/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime-util.h"

/* Small helpers shared by the runtime plugin's files. */

static int
rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  if (flag == FTW_DP || flag == FTW_D)
    {
      if (rmdir (path) < 0 && errno != ENOENT)
        return -1;
      return 0;
    }
  if (unlink (path) < 0 && errno != ENOENT)
    return -1;
  return 0;
}

gboolean
runtime_rm_rf (const char *path, GError **error)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    return TRUE;
  if (!S_ISDIR (st.st_mode))
    {
      if (unlink (path) < 0 && errno != ENOENT)
        goto fail;
      return TRUE;
    }
  /* FTW_MOUNT: never descend into something mounted under the tree */
  if (nftw (path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
    goto fail;
  return TRUE;

fail:
  {
    int err = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), _("Cannot remove %s: %s"), path,
                 g_strerror (err));
    return FALSE;
  }
}

char *
runtime_json_to_string (JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

JsonObject *
runtime_json_object (JsonNode *node, const char *what, GError **error)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s is not a JSON object"), what);
      return NULL;
    }
  return json_node_get_object (node);
}

const char *
runtime_json_get_string (JsonObject *object, const char *member)
{
  JsonNode *node;

  if (object == NULL)
    return NULL;
  node = json_object_get_member (object, member);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

JsonArray *
runtime_json_get_array (JsonObject *object, const char *member)
{
  JsonNode *node;

  if (object == NULL)
    return NULL;
  node = json_object_get_member (object, member);
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  return json_node_get_array (node);
}

JsonObject *
runtime_json_get_object (JsonObject *object, const char *member)
{
  JsonNode *node;

  if (object == NULL)
    return NULL;
  node = json_object_get_member (object, member);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_node_get_object (node);
}

/* Writes a file the runtime makes for a container (config.json, /etc
 * files): atomically, but without fsync — they are remade if lost. */
gboolean
runtime_write_file (const char *path, const char *data, gssize len, GError **error)
{
  return g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_NONE, 0644, error);
}

/* "KILL", "SIGKILL", "kill", "9"; NULL or "" is SIGKILL */
gboolean
runtime_parse_signal (const char *text, int *sig)
{
  static const struct { const char *name; int sig; } names[] = {
    { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
    { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "STOP", SIGSTOP },
    { "CONT", SIGCONT }, { "ALRM", SIGALRM }, { "WINCH", SIGWINCH },
  };
  char *end;
  gint64 n;

  if (text == NULL || *text == '\0')
    {
      *sig = SIGKILL;
      return TRUE;
    }
  if (g_str_has_prefix (text, "SIG"))
    text += 3;
  n = g_ascii_strtoll (text, &end, 10);
  if (*end == '\0' && end != text)
    {
      *sig = (int) CLAMP (n, 0, 65);
      return n > 0 && n < 65;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (text, names[i].name) == 0)
      {
        *sig = names[i].sig;
        return TRUE;
      }
  return FALSE;
}

/* the number in a pid file, 0 when there is none */
gint
runtime_read_pidfile (const char *path)
{
  g_autofree char *data = NULL;

  if (!g_file_get_contents (path, &data, NULL, NULL))
    return 0;
  return (gint) g_ascii_strtoll (data, NULL, 10);
}
