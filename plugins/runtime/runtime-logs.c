/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime-log-parse.h"
#include "runtime-logs.h"

/* The output of every container and exec task as BerthLogLines.
 *
 * A source is a container's k8s-file log (conmon's, or the exec runtime's
 * in the same format) or an exec task's stdout and stderr files. A
 * subscription has a cursor (an offset per file) on each source it
 * follows. Reading happens in an idle pump, a block per cursor per turn,
 * so that replaying a large log never holds the main loop; a paused
 * subscription (its reader is slow) is skipped. Files are watched (inotify
 * through GFileMonitor) only while a subscription follows a live source:
 * nobody listening, nothing runs. When a source ends, its subscribers read
 * the rest at once, before anyone learns of the exit. */

#define BLOCK (64 * 1024)
#define RATE_LIMIT_MS 50

typedef struct {
  gint          ref_count;
  char         *key;
  char         *container_id;
  char         *task_id;
  char         *app_id;
  char         *name;
  gboolean      k8s;
  char         *paths[2];
  guint         n_paths;
  gboolean      live;
  GFileMonitor *monitors[2];
  guint         n_cursors;
} Src;

typedef struct {
  Src      *src;
  goffset   offset[2];
  GString  *pending[2];
  gboolean  replaying[2];
  gint64    mtime[2];
  gboolean  more;
  gboolean  done;
} Cursor;

typedef struct {
  gint                ref_count;
  guint               id;
  char               *filter;
  gint64              since_us;
  RuntimeLogsFlags    flags;
  BerthLogFunc        func;
  RuntimeLogsEndFunc  end;
  gpointer            data;
  GDestroyNotify      destroy;
  gboolean            paused;
  gboolean            ended;
  gboolean            dead;
  GPtrArray          *cursors;
} Sub;

struct _RuntimeLogs {
  GObject     parent_instance;
  BerthStore *store;
  GHashTable *sources;   /* key → Src */
  GHashTable *subs;      /* GUINT_TO_POINTER (id) → Sub */
  guint       next_id;
  guint       pump_id;
};

static void runtime_logs_iface_init (BerthLogSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RuntimeLogs, runtime_logs, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BERTH_TYPE_LOG_SOURCE, runtime_logs_iface_init))

/* ------------------------------------------------------------- sources */

static Src *
src_ref (Src *s)
{
  s->ref_count++;
  return s;
}

static void
src_unwatch (Src *s)
{
  for (guint i = 0; i < s->n_paths; i++)
    if (s->monitors[i] != NULL)
      {
        g_signal_handlers_disconnect_matched (s->monitors[i], G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, NULL);
        g_file_monitor_cancel (s->monitors[i]);
        g_clear_object (&s->monitors[i]);
      }
}

static void
src_unref (Src *s)
{
  if (--s->ref_count > 0)
    return;
  src_unwatch (s);
  g_free (s->key);
  g_free (s->container_id);
  g_free (s->task_id);
  g_free (s->app_id);
  g_free (s->name);
  for (guint i = 0; i < s->n_paths; i++)
    g_free (s->paths[i]);
  g_free (s);
}

static void schedule_pump (RuntimeLogs *self);

typedef struct {
  RuntimeLogs *logs;
  Src         *src;
} Watch;

static void
file_changed_cb (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event, gpointer user_data)
{
  Watch *w = user_data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, w->logs->subs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Sub *sub = value;
      for (guint i = 0; i < sub->cursors->len; i++)
        {
          Cursor *c = g_ptr_array_index (sub->cursors, i);
          if (c->src == w->src)
            c->more = TRUE;
        }
    }
  schedule_pump (w->logs);
}

/* watched while a cursor follows it and it may still grow */
static void
src_watch (RuntimeLogs *self, Src *s)
{
  if (!s->live || s->n_cursors == 0 || s->monitors[0] != NULL)
    return;
  for (guint i = 0; i < s->n_paths; i++)
    {
      g_autoptr(GFile) file = g_file_new_for_path (s->paths[i]);
      Watch *w = g_new0 (Watch, 1);

      w->logs = self;
      w->src = s;
      s->monitors[i] = g_file_monitor_file (file, G_FILE_MONITOR_NONE, NULL, NULL);
      if (s->monitors[i] == NULL)
        {
          g_free (w);
          continue;
        }
      g_file_monitor_set_rate_limit (s->monitors[i], RATE_LIMIT_MS);
      g_signal_connect_data (s->monitors[i], "changed", G_CALLBACK (file_changed_cb), w,
                             (GClosureNotify) (void (*) (void)) g_free, 0);
    }
}

/* ------------------------------------------------------------- cursors */

static gint64
file_mtime (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 ? (gint64) st.st_mtime * G_USEC_PER_SEC : 0;
}

static goffset
file_size (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 ? (goffset) st.st_size : 0;
}

static Cursor *
cursor_new (RuntimeLogs *self, Src *s, gint64 since_us, gint64 tail)
{
  Cursor *c = g_new0 (Cursor, 1);

  c->src = src_ref (s);
  s->n_cursors++;
  for (guint i = 0; i < s->n_paths; i++)
    {
      c->pending[i] = g_string_new (NULL);
      c->replaying[i] = TRUE;
      c->mtime[i] = file_mtime (s->paths[i]);
      if (since_us < 0)
        c->offset[i] = file_size (s->paths[i]);
      else if (tail >= 0)
        {
          g_autoptr(GError) error = NULL;
          goffset at = runtime_log_tail_offset (s->paths[i], (guint64) tail, s->k8s, &error);
          if (at < 0)
            g_debug ("%s: %s", s->paths[i], error->message);
          c->offset[i] = MAX (at, 0);
        }
      else if (!s->k8s && since_us > 0 && c->mtime[i] > 0 && c->mtime[i] < since_us)
        c->offset[i] = file_size (s->paths[i]);   /* no line of it is that recent */
    }
  c->more = TRUE;
  src_watch (self, s);
  return c;
}

static void
cursor_free (Cursor *c)
{
  for (guint i = 0; i < c->src->n_paths; i++)
    g_string_free (c->pending[i], TRUE);
  if (--c->src->n_cursors == 0)
    src_unwatch (c->src);
  src_unref (c->src);
  g_free (c);
}

static void
deliver (Sub *sub, Cursor *c, guint file, const char *data, gsize len, goffset offset, gboolean unended)
{
  Src *s = c->src;
  g_autoptr(BerthLogLine) line = NULL;
  g_autofree char *text = NULL;
  BerthLogStream stream = file == 0 ? BERTH_LOG_STREAM_STDOUT : BERTH_LOG_STREAM_STDERR;
  gboolean partial = unended;
  gint64 ts;

  if (sub->dead)
    return;
  if (s->k8s)
    {
      const char *t;
      gsize tlen;
      if (!runtime_log_parse_k8s (data, len, &ts, &stream, &partial, &t, &tlen))
        return;
      if (sub->since_us > 0 && ts < sub->since_us)
        return;
      text = g_strndup (t, tlen);
    }
  else
    {
      ts = c->replaying[file] && c->mtime[file] > 0 ? c->mtime[file] : g_get_real_time ();
      text = g_strndup (data, len);
    }
  if (!g_utf8_validate (text, -1, NULL))
    {
      char *valid = g_utf8_make_valid (text, -1);
      g_free (text);
      text = valid;
    }
  line = berth_log_line_new (ts, stream, text, partial);
  berth_log_line_set_source (line, s->container_id, s->task_id, s->app_id, (guint64) offset);
  sub->func (line, sub->data);
}

/* Reads up to @budget bytes of each file; returns whether a file had
 * more than that. */
static gboolean
cursor_read (Sub *sub, Cursor *c, gsize budget)
{
  Src *s = c->src;
  gboolean more = FALSE;
  g_autofree char *buf = g_malloc (BLOCK);

  for (guint i = 0; i < s->n_paths && !sub->dead; i++)
    {
      int fd = open (s->paths[i], O_RDONLY | O_CLOEXEC);
      gsize got = 0;

      if (fd < 0)
        continue;
      while (got < budget && !sub->dead)
        {
          ssize_t n = pread (fd, buf, BLOCK, c->offset[i]);
          goffset start;
          gsize pos = 0;

          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break;
          start = c->offset[i] - (goffset) c->pending[i]->len;
          g_string_append_len (c->pending[i], buf, n);
          c->offset[i] += n;
          got += (gsize) n;
          for (;;)
            {
              const char *nl = memchr (c->pending[i]->str + pos, '\n', c->pending[i]->len - pos);
              gsize line_len;
              if (nl == NULL)
                break;
              line_len = (gsize) (nl - (c->pending[i]->str + pos));
              deliver (sub, c, i, c->pending[i]->str + pos, line_len, start + (goffset) pos, FALSE);
              pos += line_len + 1;
            }
          g_string_erase (c->pending[i], 0, (gssize) pos);
          if ((gsize) n < BLOCK)
            break;
        }
      if (got >= budget)
        more = TRUE;
      else
        c->replaying[i] = FALSE;
      close (fd);
    }
  return more;
}

/* The source ended and all of it was read: what is left without a
 * newline goes out as a partial line. */
static void
cursor_finish (Sub *sub, Cursor *c)
{
  for (guint i = 0; i < c->src->n_paths; i++)
    if (c->pending[i]->len > 0)
      {
        if (!c->src->k8s)
          deliver (sub, c, i, c->pending[i]->str, c->pending[i]->len,
                   c->offset[i] - (goffset) c->pending[i]->len, TRUE);
        g_string_truncate (c->pending[i], 0);
      }
  c->done = TRUE;
  c->more = FALSE;
}

/* ------------------------------------------------------------- subs */

static Sub *
sub_ref (Sub *sub)
{
  sub->ref_count++;
  return sub;
}

static void
sub_unref (Sub *sub)
{
  if (--sub->ref_count > 0)
    return;
  g_ptr_array_unref (sub->cursors);
  g_free (sub->filter);
  g_free (sub);
}

static void
sub_end (Sub *sub)
{
  if (sub->ended || sub->dead)
    return;
  sub->ended = TRUE;
  if (sub->end != NULL)
    sub->end (sub->data);
}

/* after a read: whether @sub is done with what it asked for */
static void
sub_check_end (Sub *sub)
{
  gboolean all = TRUE;

  if (sub->ended || sub->dead)
    return;
  for (guint i = 0; i < sub->cursors->len; i++)
    {
      Cursor *c = g_ptr_array_index (sub->cursors, i);
      if (!(c->done || ((sub->flags & RUNTIME_LOGS_UNTIL_EOF) && !c->more)))
        all = FALSE;
    }
  if (sub->filter == NULL && !(sub->flags & RUNTIME_LOGS_UNTIL_EOF))
    all = FALSE;   /* following everything: no end */
  if (all)
    sub_end (sub);
}

static gboolean
pump_cb (gpointer user_data)
{
  RuntimeLogs *self = user_data;
  g_autoptr(GPtrArray) subs = g_ptr_array_new_with_free_func ((GDestroyNotify) sub_unref);
  gboolean again = FALSE;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->subs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (subs, sub_ref (value));
  for (guint i = 0; i < subs->len; i++)
    {
      Sub *sub = g_ptr_array_index (subs, i);
      if (sub->paused || sub->dead || sub->ended)
        continue;
      for (guint j = 0; j < sub->cursors->len && !sub->dead; j++)
        {
          Cursor *c = g_ptr_array_index (sub->cursors, j);
          if (!c->more || c->done)
            continue;
          if (cursor_read (sub, c, BLOCK))
            again = TRUE;
          else
            {
              c->more = FALSE;
              if (!c->src->live)
                cursor_finish (sub, c);
            }
        }
      sub_check_end (sub);
    }
  if (!again)
    self->pump_id = 0;
  return again ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
schedule_pump (RuntimeLogs *self)
{
  if (self->pump_id == 0)
    self->pump_id = g_idle_add (pump_cb, self);
}

static gboolean
src_matches (Src *s, const char *id)
{
  return g_strcmp0 (s->key, id) == 0 || g_strcmp0 (s->task_id, id) == 0 || g_strcmp0 (s->name, id) == 0;
}

/* a new source: the subscriptions to everything follow it too */
static void
src_added (RuntimeLogs *self, Src *s)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_replace (self->sources, s->key, s);
  g_hash_table_iter_init (&iter, self->subs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Sub *sub = value;
      if (sub->filter == NULL && !(sub->flags & RUNTIME_LOGS_UNTIL_EOF))
        g_ptr_array_add (sub->cursors, cursor_new (self, s, 0, -1));
    }
  schedule_pump (self);
}

void
runtime_logs_add_container (RuntimeLogs *self, const char *container_id, const char *name, const char *path,
                            gboolean live)
{
  Src *s = g_hash_table_lookup (self->sources, container_id);

  if (s != NULL)
    {
      s->live = live;
      return;
    }
  s = g_new0 (Src, 1);
  s->ref_count = 1;
  s->key = g_strdup (container_id);
  s->container_id = g_strdup (container_id);
  s->name = g_strdup (name);
  s->k8s = TRUE;
  s->paths[0] = g_strdup (path);
  s->n_paths = 1;
  s->live = live;
  if (name != NULL && g_str_has_prefix (name, "task-"))
    {
      g_autoptr(BerthTask) task = berth_task_lookup (self->store, name + 5, NULL);
      s->task_id = g_strdup (name + 5);
      if (task != NULL)
        s->app_id = g_strdup (berth_task_get_app_id (task));
    }
  src_added (self, s);
}

void
runtime_logs_add_task (RuntimeLogs *self, const char *task_id, const char *app_id, const char *dir, gboolean live)
{
  Src *s = g_hash_table_lookup (self->sources, task_id);

  if (s != NULL)
    {
      s->live = live;
      return;
    }
  s = g_new0 (Src, 1);
  s->ref_count = 1;
  s->key = g_strdup (task_id);
  s->task_id = g_strdup (task_id);
  s->app_id = g_strdup (app_id);
  s->paths[0] = g_build_filename (dir, "stdout", NULL);
  s->paths[1] = g_build_filename (dir, "stderr", NULL);
  s->n_paths = 2;
  s->live = live;
  src_added (self, s);
}

/* every subscription with a cursor on @s, referenced */
static GPtrArray *
subs_of (RuntimeLogs *self, Src *s)
{
  GPtrArray *found = g_ptr_array_new_with_free_func ((GDestroyNotify) sub_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->subs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Sub *sub = value;
      for (guint i = 0; i < sub->cursors->len; i++)
        if (((Cursor *) g_ptr_array_index (sub->cursors, i))->src == s)
          {
            g_ptr_array_add (found, sub_ref (sub));
            break;
          }
    }
  return found;
}

void
runtime_logs_source_ended (RuntimeLogs *self, const char *id)
{
  Src *s = g_hash_table_lookup (self->sources, id);
  g_autoptr(GPtrArray) subs = NULL;

  if (s == NULL)
    return;
  s->live = FALSE;
  src_unwatch (s);
  subs = subs_of (self, s);
  for (guint i = 0; i < subs->len; i++)
    {
      Sub *sub = g_ptr_array_index (subs, i);
      for (guint j = 0; j < sub->cursors->len && !sub->dead; j++)
        {
          Cursor *c = g_ptr_array_index (sub->cursors, j);
          if (c->src != s || c->done)
            continue;
          /* all of it, now: whoever learns of the exit next finds it read */
          while (!sub->dead && cursor_read (sub, c, BLOCK))
            ;
          if (!sub->dead)
            cursor_finish (sub, c);
        }
      sub_check_end (sub);
    }
}

void
runtime_logs_remove (RuntimeLogs *self, const char *id)
{
  Src *s = g_hash_table_lookup (self->sources, id);
  g_autoptr(GPtrArray) subs = NULL;

  if (s == NULL)
    return;
  src_ref (s);
  subs = subs_of (self, s);
  for (guint i = 0; i < subs->len; i++)
    {
      Sub *sub = g_ptr_array_index (subs, i);
      for (guint j = 0; j < sub->cursors->len; j++)
        if (((Cursor *) g_ptr_array_index (sub->cursors, j))->src == s)
          {
            g_ptr_array_remove_index (sub->cursors, j);
            break;
          }
      if (sub->filter != NULL)
        sub_end (sub);
    }
  g_hash_table_remove (self->sources, id);
  src_unref (s);
}

guint
runtime_logs_subscribe_full (RuntimeLogs *self, const char *id, gint64 since_us, gint64 tail,
                             RuntimeLogsFlags flags, BerthLogFunc func, RuntimeLogsEndFunc end, gpointer user_data,
                             GDestroyNotify destroy, GError **error)
{
  Sub *sub;
  GHashTableIter iter;
  gpointer value;

  if (id != NULL)
    {
      Src *s = g_hash_table_lookup (self->sources, id);
      if (s == NULL)
        {
          g_hash_table_iter_init (&iter, self->sources);
          while (s == NULL && g_hash_table_iter_next (&iter, NULL, &value))
            if (src_matches (value, id))
              s = value;
        }
      if (s == NULL)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("No output of “%s” is kept"), id);
          return 0;
        }
      id = s->key;
    }
  sub = g_new0 (Sub, 1);
  sub->ref_count = 1;
  sub->id = ++self->next_id;
  sub->filter = g_strdup (id);
  sub->since_us = since_us;
  sub->flags = flags;
  sub->func = func;
  sub->end = end;
  sub->data = user_data;
  sub->destroy = destroy;
  sub->cursors = g_ptr_array_new_with_free_func ((GDestroyNotify) cursor_free);
  g_hash_table_iter_init (&iter, self->sources);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (id == NULL || value == g_hash_table_lookup (self->sources, id))
      g_ptr_array_add (sub->cursors, cursor_new (self, value, since_us, tail));
  g_hash_table_insert (self->subs, GUINT_TO_POINTER (sub->id), sub);
  schedule_pump (self);
  return sub->id;
}

void
runtime_logs_set_paused (RuntimeLogs *self, guint subscription, gboolean paused)
{
  Sub *sub = g_hash_table_lookup (self->subs, GUINT_TO_POINTER (subscription));

  if (sub == NULL || sub->paused == paused)
    return;
  sub->paused = paused;
  if (!paused)
    schedule_pump (self);
}

static guint
logs_subscribe (BerthLogSource *source, const char *id, gint64 since_us, BerthLogFunc func, gpointer user_data,
                GDestroyNotify destroy, GError **error)
{
  return runtime_logs_subscribe_full (RUNTIME_LOGS (source), id, since_us, -1, RUNTIME_LOGS_FOLLOW, func, NULL,
                                      user_data, destroy, error);
}

static void
sub_kill (Sub *sub)
{
  sub->dead = TRUE;
  if (sub->destroy != NULL)
    sub->destroy (sub->data);
  sub->destroy = NULL;
  /* its cursors go now: nothing is watched for it any more */
  g_ptr_array_set_size (sub->cursors, 0);
  sub_unref (sub);
}

static void
logs_unsubscribe (BerthLogSource *source, guint subscription)
{
  RuntimeLogs *self = RUNTIME_LOGS (source);
  Sub *sub = g_hash_table_lookup (self->subs, GUINT_TO_POINTER (subscription));

  if (sub == NULL)
    return;
  g_hash_table_steal (self->subs, GUINT_TO_POINTER (subscription));
  sub_kill (sub);
}

static void
runtime_logs_iface_init (BerthLogSourceInterface *iface)
{
  iface->subscribe = logs_subscribe;
  iface->unsubscribe = logs_unsubscribe;
}

RuntimeLogs *
runtime_logs_new (BerthStore *store)
{
  RuntimeLogs *self = g_object_new (RUNTIME_TYPE_LOGS, NULL);

  self->store = g_object_ref (store);
  return self;
}

static void
runtime_logs_dispose (GObject *object)
{
  RuntimeLogs *self = RUNTIME_LOGS (object);

  g_clear_handle_id (&self->pump_id, g_source_remove);
  if (self->subs != NULL)
    {
      g_autoptr(GList) subs = g_hash_table_get_values (self->subs);
      g_hash_table_steal_all (self->subs);
      for (GList *l = subs; l != NULL; l = l->next)
        sub_kill (l->data);
    }
  g_clear_pointer (&self->subs, g_hash_table_unref);
  g_clear_pointer (&self->sources, g_hash_table_unref);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (runtime_logs_parent_class)->dispose (object);
}

static void
runtime_logs_class_init (RuntimeLogsClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = runtime_logs_dispose;
}

static void
runtime_logs_init (RuntimeLogs *self)
{
  self->sources = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) src_unref);
  self->subs = g_hash_table_new (g_direct_hash, g_direct_equal);
}
