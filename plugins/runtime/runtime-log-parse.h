/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* conmon's k8s-file log format, one record a line:
 * "<RFC3339Nano> stdout|stderr F|P <text>" (F: the text ends a line,
 * P: a part of a longer one). Pure functions, unit-tested. */

gboolean runtime_log_parse_time   (const char      *text,
                                   gsize            len,
                                   gint64          *usec);
/* @line without its newline; @text points into it */
gboolean runtime_log_parse_k8s    (const char      *line,
                                   gsize            len,
                                   gint64          *timestamp_us,
                                   BerthLogStream  *stream,
                                   gboolean        *partial,
                                   const char     **text,
                                   gsize           *text_len);
/* Where the last @n full lines of the file at @path begin (0 when it
 * has fewer). @k8s: only records tagged F end a line. Reads the file
 * twice, a block at a time, never all of it at once. */
goffset  runtime_log_tail_offset  (const char      *path,
                                   guint64          n,
                                   gboolean         k8s,
                                   GError         **error);

G_END_DECLS
