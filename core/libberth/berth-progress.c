/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-progress.h"

/**
 * SECTION:berth-progress
 * @title: BerthProgress
 * @short_description: how far a long operation got
 *
 * A long operation (an image pull: one step per layer) reports into a
 * #BerthProgress; whoever started it listens to #BerthProgress::changed
 * and shows it its own way — JSON lines on an HTTP stream, Docker's pull
 * messages, a D-Bus signal, a CLI progress line. The operation never knows
 * which. Updates are delivered on the thread that calls
 * berth_progress_update(), which must be the main context's owner.
 */

struct _BerthProgress {
  GObject  parent_instance;
  char    *id;
  char    *status;
  guint64  current;
  guint64  total;
};

G_DEFINE_FINAL_TYPE (BerthProgress, berth_progress, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

/**
 * berth_progress_new:
 *
 * Returns: (transfer full): a new progress
 */
BerthProgress *
berth_progress_new (void)
{
  return g_object_new (BERTH_TYPE_PROGRESS, NULL);
}

/**
 * berth_progress_update:
 * @self: a #BerthProgress
 * @id: (nullable): what the step is about, e.g. a layer digest
 * @status: what is happening, e.g. `Downloading`
 * @current: work done, e.g. bytes
 * @total: work in all, 0 when unknown
 *
 * Records a step and emits #BerthProgress::changed.
 */
void
berth_progress_update (BerthProgress *self, const char *id, const char *status, guint64 current,
                       guint64 total)
{
  g_return_if_fail (BERTH_IS_PROGRESS (self));
  g_return_if_fail (status != NULL);

  g_free (self->id);
  self->id = g_strdup (id);
  g_free (self->status);
  self->status = g_strdup (status);
  self->current = current;
  self->total = total;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

/**
 * berth_progress_get_id:
 * @self: a #BerthProgress
 *
 * Returns: (nullable): what the last step was about
 */
const char *
berth_progress_get_id (BerthProgress *self)
{
  g_return_val_if_fail (BERTH_IS_PROGRESS (self), NULL);
  return self->id;
}

/**
 * berth_progress_get_status:
 * @self: a #BerthProgress
 *
 * Returns: (nullable): the last status
 */
const char *
berth_progress_get_status (BerthProgress *self)
{
  g_return_val_if_fail (BERTH_IS_PROGRESS (self), NULL);
  return self->status;
}

/**
 * berth_progress_get_current:
 * @self: a #BerthProgress
 *
 * Returns: work done in the last step
 */
guint64
berth_progress_get_current (BerthProgress *self)
{
  g_return_val_if_fail (BERTH_IS_PROGRESS (self), 0);
  return self->current;
}

/**
 * berth_progress_get_total:
 * @self: a #BerthProgress
 *
 * Returns: work in all for the last step, 0 when unknown
 */
guint64
berth_progress_get_total (BerthProgress *self)
{
  g_return_val_if_fail (BERTH_IS_PROGRESS (self), 0);
  return self->total;
}

static void
berth_progress_finalize (GObject *object)
{
  BerthProgress *self = BERTH_PROGRESS (object);

  g_free (self->id);
  g_free (self->status);
  G_OBJECT_CLASS (berth_progress_parent_class)->finalize (object);
}

static void
berth_progress_class_init (BerthProgressClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = berth_progress_finalize;

  /**
   * BerthProgress::changed:
   * @self: the progress
   *
   * A step was recorded.
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
berth_progress_init (BerthProgress *self)
{
}
