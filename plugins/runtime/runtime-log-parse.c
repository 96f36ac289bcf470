/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "runtime-log-parse.h"

/* Reading conmon's k8s-file logs (and the exec tasks' plain output). */

static gboolean
digits (const char *p, const char *end, int n, int *value)
{
  int v = 0;

  if (end - p < n)
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (p[i]))
        return FALSE;
      v = v * 10 + (p[i] - '0');
    }
  *value = v;
  return TRUE;
}

/* RFC 3339 with any number of fractional digits (conmon writes
 * nanoseconds) and Z or a ±hh:mm offset. */
gboolean
runtime_log_parse_time (const char *text, gsize len, gint64 *usec)
{
  const char *p = text, *end = text + len;
  int year, month, day, hour, minute, second;
  gint64 frac = 0, scale = 1000000;
  int offset_min = 0;
  g_autoptr(GDateTime) dt = NULL;

  if (!digits (p, end, 4, &year) || end - p < 19 || p[4] != '-' || !digits (p + 5, end, 2, &month) ||
      p[7] != '-' || !digits (p + 8, end, 2, &day) || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
      !digits (p + 11, end, 2, &hour) || p[13] != ':' || !digits (p + 14, end, 2, &minute) || p[16] != ':' ||
      !digits (p + 17, end, 2, &second))
    return FALSE;
  p += 19;
  if (p < end && *p == '.')
    {
      p++;
      if (p >= end || !g_ascii_isdigit (*p))
        return FALSE;
      for (; p < end && g_ascii_isdigit (*p); p++)
        if (scale > 1)
          {
            scale /= 10;
            frac += (*p - '0') * scale;
          }
    }
  if (p < end && (*p == 'Z' || *p == 'z'))
    p++;
  else if (p < end && (*p == '+' || *p == '-'))
    {
      int oh, om;
      if (!digits (p + 1, end, 2, &oh) || end - p < 6 || p[3] != ':' || !digits (p + 4, end, 2, &om) ||
          oh > 23 || om > 59)
        return FALSE;
      offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
      p += 6;
    }
  else
    return FALSE;
  if (p != end || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return FALSE;
  dt = g_date_time_new_utc (year, month, day, hour, minute, MIN (second, 59));
  if (dt == NULL)
    return FALSE;
  *usec = g_date_time_to_unix (dt) * G_USEC_PER_SEC + frac - (gint64) offset_min * 60 * G_USEC_PER_SEC;
  return TRUE;
}

gboolean
runtime_log_parse_k8s (const char *line, gsize len, gint64 *timestamp_us, BerthLogStream *stream,
                       gboolean *partial, const char **text, gsize *text_len)
{
  const char *end = line + len;
  const char *ts_end = memchr (line, ' ', len);
  const char *st, *st_end, *tag;

  if (ts_end == NULL || !runtime_log_parse_time (line, (gsize) (ts_end - line), timestamp_us))
    return FALSE;
  st = ts_end + 1;
  st_end = memchr (st, ' ', (gsize) (end - st));
  if (st_end == NULL)
    return FALSE;
  if (st_end - st == 6 && memcmp (st, "stdout", 6) == 0)
    *stream = BERTH_LOG_STREAM_STDOUT;
  else if (st_end - st == 6 && memcmp (st, "stderr", 6) == 0)
    *stream = BERTH_LOG_STREAM_STDERR;
  else
    return FALSE;
  tag = st_end + 1;
  if (tag >= end)
    return FALSE;
  /* the tag may carry more after a colon ("F:x"); only P/F matter */
  if (*tag != 'F' && *tag != 'P')
    return FALSE;
  *partial = *tag == 'P';
  while (tag < end && *tag != ' ')
    tag++;
  *text = tag < end ? tag + 1 : end;
  *text_len = (gsize) (end - *text);
  return TRUE;
}

#define BLOCK (64 * 1024)
#define HEAD 64

/* whether a record whose first bytes are @head ends a line */
static gboolean
record_is_full (const char *head, gsize len, gboolean k8s)
{
  const char *a, *b;

  if (!k8s)
    return TRUE;
  a = memchr (head, ' ', len);
  b = a != NULL ? memchr (a + 1, ' ', len - (gsize) (a + 1 - head)) : NULL;
  return b == NULL || (gsize) (b + 1 - head) >= len || b[1] != 'P';
}

/* Counts the full lines of @fd; with @stop > 0, stops after the @stop-th
 * and returns the offset just after it in @at. */
static gboolean
scan (int fd, gboolean k8s, guint64 stop, guint64 *count, goffset *at, GError **error)
{
  g_autofree char *buf = g_malloc (BLOCK);
  char head[HEAD];
  gsize head_len = 0;
  goffset pos = 0;
  ssize_t n;

  *count = 0;
  if (lseek (fd, 0, SEEK_SET) < 0)
    goto fail;
  while ((n = read (fd, buf, BLOCK)) != 0)
    {
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          goto fail;
        }
      for (ssize_t i = 0; i < n; i++)
        {
          if (buf[i] != '\n')
            {
              if (head_len < HEAD)
                head[head_len++] = buf[i];
              continue;
            }
          if (record_is_full (head, head_len, k8s))
            {
              (*count)++;
              if (stop > 0 && *count == stop)
                {
                  *at = pos + i + 1;
                  return TRUE;
                }
            }
          head_len = 0;
        }
      pos += n;
    }
  *at = pos;
  return TRUE;

fail:
  {
    int err = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), _("Cannot read the log: %s"), g_strerror (err));
    return FALSE;
  }
}

goffset
runtime_log_tail_offset (const char *path, guint64 n, gboolean k8s, GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  guint64 total = 0;
  goffset at = 0;
  gboolean ok;

  if (fd < 0)
    {
      if (errno == ENOENT)
        return 0;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), _("Cannot read the log: %s"),
                   g_strerror (errno));
      return -1;
    }
  ok = scan (fd, k8s, 0, &total, &at, error);
  if (ok && total > n)
    ok = scan (fd, k8s, total - n, &total, &at, error);
  else if (ok)
    at = 0;
  close (fd);
  return ok ? at : -1;
}
