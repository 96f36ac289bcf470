/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  const char *conmon;
  const char *runtime;        /* path of runc / crun */
  const char *runtime_root;   /* --root of the runtime */
  const char *id;
  const char *name;
  const char *bundle;
  const char *log_path;
  const char *exit_dir;
  const char *persist_dir;
  const char *socket_dir;
  const char *pidfile;
  const char *conmon_pidfile;
} RuntimeConmonArgs;

/* Blocking (for a worker thread): starts conmon, which creates the
 * container with the runtime and stays as its monitor. Returns the
 * container's pid. */
gint      runtime_conmon_create   (const RuntimeConmonArgs *args,
                                   GCancellable            *cancellable,
                                   GError                 **error);

/* `<runtime> --root R <verb> args...`, async; the result is the
 * runtime's stdout */
void      runtime_oci_run_async   (const char             *runtime,
                                   const char             *runtime_root,
                                   const char * const     *args,
                                   GCancellable           *cancellable,
                                   GAsyncReadyCallback     callback,
                                   gpointer                user_data);
char     *runtime_oci_run_finish  (GAsyncResult           *result,
                                   GError                **error);
/* blocking variant */
char     *runtime_oci_run_sync    (const char             *runtime,
                                   const char             *runtime_root,
                                   const char * const     *args,
                                   GError                **error);

G_END_DECLS
