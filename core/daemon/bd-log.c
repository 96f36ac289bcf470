/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "bd-log.h"

/* The daemon's only process-wide setting besides main's own state: how
 * verbose the log is. GLib's log writer is process-wide by design. */
static GLogLevelFlags max_level = G_LOG_LEVEL_MESSAGE;

gboolean
bd_log_set_level (const char *level, GError **error)
{
  static const struct { const char *name; GLogLevelFlags flag; } levels[] = {
    { "error", G_LOG_LEVEL_CRITICAL },
    { "warning", G_LOG_LEVEL_WARNING },
    { "message", G_LOG_LEVEL_MESSAGE },
    { "info", G_LOG_LEVEL_INFO },
    { "debug", G_LOG_LEVEL_DEBUG },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (levels); i++)
    {
      if (g_ascii_strcasecmp (level, levels[i].name) == 0)
        {
          max_level = levels[i].flag;
          return TRUE;
        }
    }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _("Unknown log level “%s” (use error, warning, message, info or debug)"), level);
  return FALSE;
}

static const char *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "ERROR";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "CRITICAL";
  if (level & G_LOG_LEVEL_WARNING)
    return "WARNING";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "MESSAGE";
  if (level & G_LOG_LEVEL_INFO)
    return "INFO";
  return "DEBUG";
}

static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  const char *domain = NULL;
  const char *message = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *stamp = NULL;

  /* lower flag value = more severe */
  if ((level & G_LOG_LEVEL_MASK) > max_level && !(level & G_LOG_FLAG_FATAL))
    return G_LOG_WRITER_HANDLED;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
    }
  now = g_date_time_new_now_utc ();
  stamp = g_date_time_format (now, "%H:%M:%S.%f");
  stamp[12] = '\0';  /* milliseconds */
  fprintf (stderr, "%s %s %s: %s\n", stamp, level_name (level),
           domain != NULL ? domain : "berthd", message != NULL ? message : "");
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

void
bd_log_install (void)
{
  g_log_set_writer_func (writer, NULL, NULL);
}

/* Whether a message of @level would be written: lets hot paths skip
 * formatting what would be dropped. */
gboolean
bd_log_enabled (GLogLevelFlags level)
{
  return (level & G_LOG_LEVEL_MASK) <= max_level;
}
