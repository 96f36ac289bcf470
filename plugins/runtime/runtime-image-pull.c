/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "runtime-image-manifest.h"
#include "runtime-image-private.h"
#include "runtime-util.h"

/* Pulls. One download per reference at a time, in a worker thread; every
 * caller that asks for the same reference meanwhile waits on it. Each
 * waiter has its own BerthProgress (fed from the main context) and its
 * own cancellable: a cancelled waiter is answered at once, and the
 * download stops when no waiter is left. */

typedef struct _Pull Pull;

typedef struct {
  Pull          *pull;
  GTask         *task;
  BerthProgress *progress;
  gulong         cancel_id;
} Waiter;

struct _Pull {
  RuntimeImages *images;       /* NULL once the images are gone */
  char          *key;          /* the normalized reference */
  GCancellable  *cancellable;  /* the download's own */
  GMainContext  *context;
  GPtrArray     *waiters;      /* Waiter* */
  gboolean       listed;       /* in images->pulls */
};

/* ------------------------------------------------------------ pulls */

static void
pull_free (Pull *pull)
{
  g_free (pull->key);
  g_object_unref (pull->cancellable);
  g_main_context_unref (pull->context);
  g_ptr_array_unref (pull->waiters);
}

static Pull *
pull_ref (Pull *pull)
{
  return g_atomic_rc_box_acquire (pull);
}

static void
pull_unref (Pull *pull)
{
  g_atomic_rc_box_release_full (pull, (GDestroyNotify) pull_free);
}

static void
pull_unlist (Pull *pull)
{
  if (pull->listed && pull->images != NULL)
    g_hash_table_remove (pull->images->pulls, pull->key);
  pull->listed = FALSE;
}

static void
waiter_free (Waiter *w)
{
  g_clear_object (&w->progress);
  g_clear_object (&w->task);
  g_free (w);
}

typedef struct {
  Pull   *pull;
  Waiter *waiter;   /* compared, not used, until found among the waiters */
} Cancelled;

static void
cancelled_free (gpointer data)
{
  Cancelled *c = data;
  pull_unref (c->pull);
  g_free (c);
}

static gboolean
waiter_cancelled_idle (gpointer data)
{
  Cancelled *c = data;
  Pull *pull = c->pull;
  Waiter *w = NULL;
  guint index;

  if (!g_ptr_array_find (pull->waiters, c->waiter, &index))
    return G_SOURCE_REMOVE;   /* answered meanwhile */
  w = g_ptr_array_index (pull->waiters, index);
  if (!g_cancellable_is_cancelled (g_task_get_cancellable (w->task)))
    return G_SOURCE_REMOVE;
  g_ptr_array_remove_index (pull->waiters, index);
  g_cancellable_disconnect (g_task_get_cancellable (w->task), w->cancel_id);
  g_task_return_new_error (w->task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The pull was cancelled"));
  waiter_free (w);
  if (pull->waiters->len == 0)
    {
      /* nobody wants it any more; a new pull of the reference starts afresh */
      pull_unlist (pull);
      g_cancellable_cancel (pull->cancellable);
    }
  return G_SOURCE_REMOVE;
}

/* may run in any thread, and inside g_cancellable_connect() */
static void
waiter_cancelled_cb (GCancellable *cancellable, gpointer data)
{
  Waiter *w = data;
  Cancelled *c = g_new0 (Cancelled, 1);
  GSource *source = g_idle_source_new ();

  c->pull = pull_ref (w->pull);
  c->waiter = w;
  /* later, never now: the cancellable's handler must not disconnect itself */
  g_source_set_callback (source, waiter_cancelled_idle, c, cancelled_free);
  g_source_attach (source, c->pull->context);
  g_source_unref (source);
}

static void
pull_answer (Pull *pull, const char *id, const GError *error)
{
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&pull->waiters);

  pull->waiters = g_ptr_array_new ();
  for (guint i = 0; i < waiters->len; i++)
    {
      Waiter *w = g_ptr_array_index (waiters, i);
      GCancellable *cancellable = g_task_get_cancellable (w->task);

      if (cancellable != NULL)
        g_cancellable_disconnect (cancellable, w->cancel_id);
      if (id != NULL)
        g_task_return_pointer (w->task, g_strdup (id), g_free);
      else
        g_task_return_error (w->task, g_error_copy (error));
      waiter_free (w);
    }
}

/* ---------------------------------------------------------- progress */

typedef struct {
  Pull    *pull;
  char    *id;
  char    *status;
  guint64  current;
  guint64  total;
} Step;

static gboolean
step_idle (gpointer data)
{
  Step *s = data;

  for (guint i = 0; i < s->pull->waiters->len; i++)
    {
      Waiter *w = g_ptr_array_index (s->pull->waiters, i);
      if (w->progress != NULL)
        berth_progress_update (w->progress, s->id, s->status, s->current, s->total);
    }
  return G_SOURCE_REMOVE;
}

static void
step_free (gpointer data)
{
  Step *s = data;
  pull_unref (s->pull);
  g_free (s->id);
  g_free (s->status);
  g_free (s);
}

/* from the worker threads */
static void
pull_progress (const char *id, const char *status, guint64 current, guint64 total, gpointer data)
{
  Pull *pull = data;
  Step *s = g_new0 (Step, 1);

  s->pull = pull_ref (pull);
  s->id = g_strdup (id);
  s->status = g_strdup (status);
  s->current = current;
  s->total = total;
  g_main_context_invoke_full (pull->context, G_PRIORITY_DEFAULT, step_idle, s, step_free);
}

/* ------------------------------------------------------------ worker */

static void
pull_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RuntimeImageJob *job = task_data;
  g_autoptr(RuntimeRegistry) reg = runtime_registry_new (job->ref->registry, job->insecure,
                                                         job->username, job->password);
  g_autoptr(GError) error = NULL;
  g_autofree char *media_type = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *ref_text = runtime_image_ref_to_string (job->ref);
  g_autoptr(GBytes) manifest = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *stored = NULL;
  RuntimeImageResult *result;
  JsonObject *obj;

  runtime_image_job_progress (job, NULL, ref_text, 0, 0);
  manifest = runtime_registry_get_manifest (reg, job->ref->repository,
                                            job->ref->digest != NULL ? job->ref->digest : job->ref->tag,
                                            &media_type, &digest, cancellable, &error);
  if (manifest == NULL)
    goto fail;
  root = berth_json_parse (g_bytes_get_data (manifest, NULL), (gssize) g_bytes_get_size (manifest), &error);
  if ((obj = runtime_json_object (root, _("The manifest"), &error)) == NULL)
    goto fail;
  if (runtime_manifest_is_index (media_type, obj))
    {
      g_autofree char *picked = runtime_manifest_pick_platform (obj, "linux", runtime_host_arch (), &error);
      if (picked == NULL)
        goto fail;
      g_clear_pointer (&manifest, g_bytes_unref);
      g_clear_pointer (&media_type, g_free);
      g_clear_pointer (&digest, g_free);
      manifest = runtime_registry_get_manifest (reg, job->ref->repository, picked, &media_type, &digest,
                                                cancellable, &error);
      if (manifest == NULL)
        goto fail;
    }
  stored = runtime_blobs_put_bytes (job->blobs, digest, manifest, &error);
  if (stored == NULL)
    goto fail;
  runtime_image_job_progress (job, NULL, "Manifest", 0, 0);
  result = runtime_image_install_manifest (job, reg, digest, cancellable, &error);
  if (result == NULL)
    goto fail;
  g_ptr_array_add (result->tags, g_steal_pointer (&ref_text));
  g_task_return_pointer (task, result, (GDestroyNotify) runtime_image_result_free);
  return;

fail:
  g_task_return_error (task, g_steal_pointer (&error));
}

static void
pull_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pull *pull = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(RuntimeImageResult) r = g_task_propagate_pointer (G_TASK (result), &error);

  pull_unlist (pull);
  if (pull->images == NULL)
    {
      g_clear_pointer (&r, runtime_image_result_free);
      if (error == NULL)
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The runtime stopped"));
    }
  else
    {
      pull->images->active_jobs--;
      g_ptr_array_remove (pull->images->pulling, pull);
      if (r != NULL && !runtime_images_record (pull->images, r, &error))
        g_clear_pointer (&r, runtime_image_result_free);
    }
  pull_answer (pull, r != NULL ? r->id : NULL, error);
  pull_unref (pull);
}

static RuntimeImageJob *
pull_job_new (RuntimeImages *self, RuntimeImageRef *ref)
{
  RuntimeImageJob *job = runtime_image_job_new (self);
  g_autofree char *group = g_strdup_printf ("registry \"%s\"", ref->registry);
  g_autofree char *insecure_list = berth_context_dup_config_string (self->context, "runtime",
                                                                    "insecure_registries", "");
  g_auto(GStrv) insecure = g_strsplit_set (insecure_list, ",; ", -1);

  job->ref = ref;
  job->username = berth_context_dup_config_string (self->context, group, "username", NULL);
  job->password = berth_context_dup_config_string (self->context, group, "password", NULL);
  job->insecure = g_strv_contains ((const char * const *) insecure, ref->registry) ||
                  berth_context_get_config_boolean (self->context, group, "insecure", FALSE);
  return job;
}

/* Starts the download of @ref, listed under @key. */
static Pull *
pull_start (RuntimeImages *self, const char *key, RuntimeImageRef *ref)
{
  Pull *pull = g_atomic_rc_box_new0 (Pull);
  RuntimeImageJob *job = pull_job_new (self, ref);
  g_autoptr(GTask) task = NULL;

  pull->images = self;
  pull->key = g_strdup (key);
  pull->cancellable = g_cancellable_new ();
  pull->context = g_main_context_ref_thread_default ();
  pull->waiters = g_ptr_array_new ();
  pull->listed = TRUE;
  g_hash_table_insert (self->pulls, pull->key, pull);
  g_ptr_array_add (self->pulling, pull);
  job->progress = pull_progress;
  job->progress_data = pull;
  /* the task's reference on the pull is released in pull_done_cb */
  task = g_task_new (NULL, pull->cancellable, pull_done_cb, pull_ref (pull));
  g_task_set_source_tag (task, pull_start);
  g_task_set_task_data (task, job, (GDestroyNotify) runtime_image_job_free);
  self->active_jobs++;
  g_task_run_in_thread (task, pull_thread);
  return pull;
}

void
runtime_images_pull_async (RuntimeImages *self, const char *ref, BerthProgress *progress,
                           GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(RuntimeImageRef) parsed = NULL;
  g_autofree char *key = NULL;
  Waiter *w;
  Pull *pull;

  g_return_if_fail (ref != NULL);
  g_return_if_fail (progress == NULL || BERTH_IS_PROGRESS (progress));

  g_task_set_source_tag (task, runtime_images_pull_async);
  parsed = runtime_image_ref_parse (ref, &error);
  if (parsed == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;
  key = runtime_image_ref_to_string (parsed);
  pull = g_hash_table_lookup (self->pulls, key);
  if (pull == NULL)
    {
      pull = pull_start (self, key, g_steal_pointer (&parsed));
      pull_unref (pull);   /* the table's and the task's references keep it */
    }
  w = g_new0 (Waiter, 1);
  w->pull = pull;
  w->task = g_object_ref (task);
  w->progress = progress != NULL ? g_object_ref (progress) : NULL;
  g_ptr_array_add (pull->waiters, w);
  if (cancellable != NULL)
    w->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (waiter_cancelled_cb), w, NULL);
}

char *
runtime_images_pull_finish (RuntimeImages *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == runtime_images_pull_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The runtime stops: pulls in flight are cancelled and will record
 * nothing. */
void
runtime_images_pulls_free (RuntimeImages *self)
{
  if (self->pulling != NULL)
    for (guint i = 0; i < self->pulling->len; i++)
      {
        Pull *pull = g_ptr_array_index (self->pulling, i);
        pull->images = NULL;
        pull->listed = FALSE;
        g_cancellable_cancel (pull->cancellable);
      }
  g_clear_pointer (&self->pulling, g_ptr_array_unref);
  g_clear_pointer (&self->pulls, g_hash_table_unref);
}
