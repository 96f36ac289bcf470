/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* BerthProbe's fields, shared by berth-probe.c (the object and its
 * settings) and berth-probe-run.c (running it). */

#include <libsoup/soup.h>

#include "berth-probe.h"

G_BEGIN_DECLS

struct _BerthProbe {
  GObject         parent_instance;
  BerthProbeKind  kind;
  guint           timeout_ms;
  gsize           max_output;

  /* HTTP */
  char           *method;
  char           *url;
  GPtrArray      *headers;       /* name, value, name, value… */
  GBytes         *body;
  gboolean        skip_verify;
  SoupSession    *session;       /* made on first use; never shared */
  guint           http_status;

  /* TCP */
  char           *address;
  guint16         default_port;

  /* command */
  GStrv           argv;
  GPtrArray      *env;           /* name, value, name, value… */
};

G_END_DECLS
