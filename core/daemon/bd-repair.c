/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <glib/gi18n.h>

#include "bd-lock.h"
#include "bd-repair.h"

/* `berthd --repair`: the state directory's lock proves no berthd runs on
 * it; then the store is checked with SQLite's quick_check and, if it is
 * damaged, kept aside and rebuilt of what can still be read
 * (berth_store_repair()). It prints what it did and exits. */
int
bd_repair_run (const BdOptions *options)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *report = NULL;
  BdConfig *config;
  gboolean ok;
  int lock_fd;

  config = bd_config_load (options, &error);
  if (config == NULL)
    {
      g_printerr ("berthd: %s\n", error->message);
      return 1;
    }
  lock_fd = bd_lock_acquire (config->state_dir, &error);
  if (lock_fd < 0)
    {
      g_printerr ("berthd: %s\n", error->message);
      g_printerr (_("berthd: stop the running berthd before repairing its store\n"));
      bd_config_free (config);
      return 1;
    }
  db_path = g_build_filename (config->state_dir, "berth.db", NULL);
  ok = berth_store_repair (db_path, &report, &error);
  if (report != NULL)
    fputs (report, stdout);
  fflush (stdout);
  if (!ok)
    g_printerr ("berthd: %s\n", error->message);
  else
    printf (_("berthd: repair done; start berthd again without --repair\n"));
  bd_lock_release (lock_fd);
  bd_config_free (config);
  return ok ? 0 : 1;
}
