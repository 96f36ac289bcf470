/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "scheduler-controller.h"
#include "scheduler-controller-private.h"
#include "scheduler-app-extra.h"
#include "scheduler-db.h"
#include "scheduler-placement.h"
#include "scheduler-validate.h"

/* The controller: after every change of an app, a task or a deployment
 * (coalesced), it compares each app's desired instances with its tasks
 * and writes what closes the gap, in one store write:
 *
 *  - terminal tasks are removed; an unexpected end (not asked for) moves
 *    the app's launch backoff (backoffSeconds × backoffFactor^n, at most
 *    maxLaunchDelaySeconds) and records lastTaskFailure;
 *  - too many tasks of the current config: the newest are killed;
 *  - too few: new tasks are placed (scheduler-placement.c) unless the
 *    backoff says wait; what does not fit waits in the queue with why;
 *    at most [scheduler] launch_batch tasks are created per batch, one
 *    batch every launch_interval_ms, so that a large app starts while
 *    the API keeps answering (and a DELETE stops it between batches);
 *  - tasks of an older config are replaced step by step: new ones are
 *    launched within maximumOverCapacity, old ones killed only while
 *    minimumHealthCapacity stays met;
 *  - a task that failed its health check too often is killed (replaced);
 *  - a deployment is done when the app has exactly its instances, all of
 *    the current config and ready (running, healthy, and past its
 *    readiness check: scheduler-readiness.c).
 *
 * Tasks are killed by writing desired_state=killed: the runtime of their
 * node does the rest. Nothing here depends on memory surviving a restart:
 * the queue and health results are rebuilt by the next passes. */

#define SAFETY_PASS_SECONDS 5
#define COALESCE_MS 20


typedef enum {
  OP_INSERT,
  OP_KILL,
  OP_DELETE,
  OP_BACKOFF,
  OP_DEPLOYMENT_DONE,
} OpKind;

typedef struct {
  OpKind      kind;
  BerthTask  *task;
  char       *id;
  char       *app_id;       /* OP_DEPLOYMENT_DONE: the app deployed */
  gdouble     delay;
  gint64      launch_after_ms;
  JsonObject *failure;
} Op;

typedef struct {
  char       *topic;
  JsonObject *data;
} PendingEvent;


static void
queue_entry_free (QueueEntry *q)
{
  g_free (q->reason);
  g_free (q->since);
  g_free (q);
}

static void
op_free (Op *op)
{
  g_clear_object (&op->task);
  g_free (op->id);
  g_free (op->app_id);
  g_clear_pointer (&op->failure, json_object_unref);
  g_free (op);
}

static void
pending_event_free (PendingEvent *e)
{
  g_free (e->topic);
  g_clear_pointer (&e->data, json_object_unref);
  g_free (e);
}

typedef struct {
  GPtrArray *ops;
  GPtrArray *events;
} Batch;

static void
batch_free (Batch *b)
{
  g_ptr_array_unref (b->ops);
  g_ptr_array_unref (b->events);
  g_free (b);
}

static Op *
add_op (Batch *b, OpKind kind, const char *id)
{
  Op *op = g_new0 (Op, 1);
  op->kind = kind;
  op->id = g_strdup (id);
  g_ptr_array_add (b->ops, op);
  return op;
}

/* Published once the batch is committed. */
static void
add_event (Batch *b, const char *topic, JsonObject *data)
{
  PendingEvent *e = g_new0 (PendingEvent, 1);
  e->topic = g_strdup (topic);
  e->data = data;
  g_ptr_array_add (b->events, e);
}

static gboolean
apply_ops (BerthTxn *txn, gpointer user_data, GError **error)
{
  Batch *b = user_data;

  for (guint i = 0; i < b->ops->len; i++)
    {
      Op *op = g_ptr_array_index (b->ops, i);
      gboolean ok = TRUE;

      switch (op->kind)
        {
        case OP_INSERT:
          ok = berth_task_insert (op->task, txn, error);
          break;
        case OP_KILL:
          ok = berth_task_write_desired (txn, op->id, BERTH_TASK_DESIRED_KILLED, error);
          break;
        case OP_DELETE:
          ok = berth_task_delete (txn, op->id, error);
          break;
        case OP_BACKOFF:
          ok = scheduler_db_set_backoff (txn, op->id, op->delay, op->launch_after_ms, op->failure, error);
          break;
        case OP_DEPLOYMENT_DONE:
          ok = scheduler_db_finish_deployment (txn, op->id, op->app_id, error);
          break;
        default:
          g_assert_not_reached ();
        }
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

static void pass (SchedulerController *self);

static gboolean
idle_cb (gpointer user_data)
{
  SchedulerController *self = user_data;
  self->idle_id = 0;
  pass (self);
  return G_SOURCE_REMOVE;
}

void
scheduler_controller_kick (SchedulerController *self)
{
  if (self->writing)
    {
      self->dirty = TRUE;
      return;
    }
  if (self->idle_id == 0)
    self->idle_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, idle_cb, self, NULL);
}

static gboolean
timer_cb (gpointer user_data)
{
  SchedulerController *self = user_data;
  self->timer_id = 0;
  scheduler_controller_kick (self);
  return G_SOURCE_REMOVE;
}

static gboolean
safety_cb (gpointer user_data)
{
  scheduler_controller_kick (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
health_changed_cb (gpointer user_data)
{
  scheduler_controller_kick (user_data);
  return G_SOURCE_REMOVE;
}

static void
publish_pending (SchedulerController *self, PendingEvent *e)
{
  berth_context_publish (self->context, e->topic, NULL, g_steal_pointer (&e->data));
}

static void
write_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Batch *b = user_data;
  SchedulerController *self = g_object_get_data (G_OBJECT (source), "scheduler-controller");
  g_autoptr(GError) error = NULL;
  gboolean ok = berth_store_write_finish (BERTH_STORE (source), result, &error) != 0 || error == NULL;

  if (!ok)
    g_warning (_("scheduler: cannot write its decisions: %s"), error->message);
  if (self != NULL)
    {
      self->writing = FALSE;
      for (guint i = 0; ok && i < b->events->len; i++)
        publish_pending (self, g_ptr_array_index (b->events, i));
      if (self->dirty || !ok)
        {
          self->dirty = FALSE;
          scheduler_controller_kick (self);
        }
    }
  batch_free (b);
}

gboolean
scheduler_controller_task_ready (SchedulerController *self, SchedulerApp *app, BerthTask *task)
{
  JsonArray *checks;
  const SchedulerHealthState *h;

  if (berth_task_get_state (task) != BERTH_TASK_STATE_RUNNING ||
      !scheduler_readiness_is_ready (self->readiness, app, task))
    return FALSE;
  checks = json_object_get_array_member (app->def, "healthChecks");
  if (checks == NULL || json_array_get_length (checks) == 0)
    return TRUE;
  h = scheduler_health_get (self->health, berth_task_get_id (task));
  return h != NULL && h->has_result && h->alive;
}

/* task.state: every state change the controller sees */
static void
publish_task_state (SchedulerController *self, BerthTask *task)
{
  JsonObject *o = json_object_new ();
  JsonArray *ports = json_array_new ();
  GArray *p = berth_task_get_ports (task);

  for (guint i = 0; i < p->len; i++)
    json_array_add_int_element (ports, g_array_index (p, guint, i));
  json_object_set_string_member (o, "taskId", berth_task_get_id (task));
  json_object_set_string_member (o, "appId", berth_task_get_app_id (task));
  json_object_set_string_member (o, "nodeId", berth_task_get_node_id (task));
  json_object_set_string_member (o, "state", berth_task_state_to_string (berth_task_get_state (task)));
  json_object_set_string_member (o, "host", berth_task_get_host (task) != NULL ? berth_task_get_host (task) : "");
  json_object_set_array_member (o, "ports", ports);
  json_object_set_string_member (o, "message", berth_task_get_message (task) != NULL ? berth_task_get_message (task) : "");
  json_object_set_string_member (o, "version", berth_task_get_version (task));
  berth_context_publish (self->context, SCHEDULER_TOPIC_TASK_STATE, NULL, o);
}

static gint
compare_newest_first (gconstpointer a, gconstpointer b)
{
  BerthTask *ta = *(BerthTask **) a;
  BerthTask *tb = *(BerthTask **) b;
  guint64 ia = berth_task_get_create_index (ta), ib = berth_task_get_create_index (tb);
  if (ia != ib)
    return ia < ib ? 1 : -1;
  return -g_strcmp0 (berth_task_get_id (ta), berth_task_get_id (tb));
}

static void
set_queue (SchedulerController *self, const char *app_id, guint count, const char *reason, gint64 launch_after_ms)
{
  QueueEntry *q = g_hash_table_lookup (self->queue, app_id);

  if (q == NULL)
    {
      q = g_new0 (QueueEntry, 1);
      q->since = berth_task_timestamp_now ();
      g_hash_table_insert (self->queue, g_strdup (app_id), q);
    }
  q->count = count;
  q->launch_after_ms = launch_after_ms;
  if (g_strcmp0 (q->reason, reason) != 0)
    {
      g_free (q->reason);
      q->reason = g_strdup (reason);
    }
}

static JsonObject *
task_failure (BerthTask *task)
{
  JsonObject *f = json_object_new ();
  json_object_set_string_member (f, "appId", berth_task_get_app_id (task));
  json_object_set_string_member (f, "host", berth_task_get_host (task) != NULL ? berth_task_get_host (task) : "");
  json_object_set_string_member (f, "message", berth_task_get_message (task) != NULL ? berth_task_get_message (task) : "");
  json_object_set_string_member (f, "state", berth_task_state_to_string (berth_task_get_state (task)));
  json_object_set_string_member (f, "taskId", berth_task_get_id (task));
  json_object_set_string_member (f, "slaveId", berth_task_get_node_id (task));
  {
    g_autofree char *now = berth_task_timestamp_now ();
    json_object_set_string_member (f, "timestamp",
                                   berth_task_get_finished_at (task) != NULL ? berth_task_get_finished_at (task) : now);
  }
  json_object_set_string_member (f, "version", berth_task_get_version (task));
  return f;
}

/* Launches up to @n tasks of @app; returns how many could not be placed. */
static guint
launch (SchedulerController *self, Batch *b, SchedulerApp *app, guint n, GPtrArray *nodes, char **reason)
{
  g_autoptr(BerthTaskSpec) typed = scheduler_app_task_spec (app);
  g_autoptr(JsonObject) spec = berth_task_spec_to_json (typed);
  SchedulerNeed need = {
    .app_id = app->id,
    .cpus = app->cpus,
    .mem_mb = app->mem,
    .disk_mb = app->disk,
    .n_ports = app->n_ports,
    .constraints = json_object_get_array_member (app->def, "constraints"),
    .max_tasks = self->limits->max_tasks_per_node,
  };

  for (guint i = 0; i < n; i++)
    {
      gint at = scheduler_place (&need, nodes, reason);
      SchedulerNodeFree *node;
      g_autoptr(GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint));
      g_autofree char *id = NULL;
      g_autofree char *now = NULL;
      Op *op;

      if (at < 0)
        return n - i;
      node = g_ptr_array_index (nodes, at);
      scheduler_node_take_ports (node, app->n_ports, ports);
      scheduler_node_free_use (node, app->id, app->cpus, app->mem, app->disk, NULL);
      id = scheduler_app_new_task_id (app->id);
      now = berth_task_timestamp_now ();
      op = add_op (b, OP_INSERT, id);
      op->task = berth_task_new (id, app->id, node->id, app->config_version, spec);
      berth_task_set_ports (op->task, (const guint *) ports->data, ports->len);
      berth_task_set_host (op->task, node->address);
      berth_task_set_staged_at (op->task, now);
    }
  return 0;
}

/* App @app_id of deployment @id is deployed; @done counts, per
 * deployment, its apps deployed in this pass. */
static void
deployment_done (Batch *b, GHashTable *done, const char *id, const char *app_id)
{
  Op *op = add_op (b, OP_DEPLOYMENT_DONE, id);

  op->app_id = g_strdup (app_id);
  g_hash_table_insert (done, (gpointer) id, GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (done, id)) + 1));
}

/* A deployment succeeds when its last app is deployed. */
static void
deployments_succeeded (Batch *b, GHashTable *done, GPtrArray *deployments)
{
  for (guint i = 0; i < deployments->len; i++)
    {
      SchedulerDeployment *d = g_ptr_array_index (deployments, i);
      guint rows = 0, first = G_MAXUINT;

      for (guint j = 0; j < deployments->len; j++)
        if (g_str_equal (((SchedulerDeployment *) g_ptr_array_index (deployments, j))->id, d->id))
          {
            rows++;
            first = MIN (first, j);
          }
      if (first == i && GPOINTER_TO_UINT (g_hash_table_lookup (done, d->id)) == rows)
        add_event (b, SCHEDULER_TOPIC_DEPLOYMENT,
                   scheduler_event_deployment ("success", d->id, d->app_id, d->version, NULL));
    }
}

static void
pass (SchedulerController *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) apps = NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GPtrArray) nodes = NULL;
  g_autoptr(GPtrArray) deployments = NULL;
  g_autoptr(GHashTable) nodes_by_id = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) apps_by_id = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) alive_apps = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) backoff_changed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) seen_now = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) usage_now = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) done = g_hash_table_new (g_str_hash, g_str_equal);
  Batch *b;
  gint64 now_ms = g_get_real_time () / 1000;
  gint64 mono_ms = g_get_monotonic_time () / 1000;
  gint64 next_wake = G_MAXINT64;
  /* tasks this pass may still create (one batch per launch_interval_ms) */
  guint budget = mono_ms >= self->next_batch_ms ? self->limits->launch_batch : 0;
  gboolean launched = FALSE;

  apps = scheduler_db_load_apps (self->store, self->limits, &error);
  if (apps != NULL)
    tasks = berth_task_list (self->store, NULL, NULL, &error);
  if (tasks != NULL)
    deployments = scheduler_db_load_deployments (self->store, &error);
  if (deployments == NULL)
    {
      g_warning (_("scheduler: cannot read the store: %s"), error->message);
      return;
    }
  nodes = scheduler_controller_load_nodes (self, nodes_by_id);
  for (guint i = 0; i < apps->len; i++)
    {
      SchedulerApp *app = g_ptr_array_index (apps, i);
      g_hash_table_insert (apps_by_id, app->id, app);
    }

  /* status updates, and what the live tasks use */
  for (guint i = 0; i < tasks->len; i++)
    {
      BerthTask *task = g_ptr_array_index (tasks, i);
      const char *before = g_hash_table_lookup (self->seen, berth_task_get_id (task));
      SchedulerNodeFree *node = g_hash_table_lookup (nodes_by_id, berth_task_get_node_id (task));

      if (g_strcmp0 (before, berth_task_state_to_string (berth_task_get_state (task))) != 0)
        publish_task_state (self, task);
      g_hash_table_insert (seen_now, g_strdup (berth_task_get_id (task)), g_strdup (berth_task_state_to_string (berth_task_get_state (task))));
      if (!berth_task_is_terminal (task))
        {
          g_hash_table_add (alive_apps, (gpointer) berth_task_get_app_id (task));
          if (node != NULL)
            scheduler_controller_use_task (self, usage_now, node, task);
        }
    }
  g_hash_table_unref (self->seen);
  self->seen = g_steal_pointer (&seen_now);
  g_hash_table_unref (self->usage);
  self->usage = g_steal_pointer (&usage_now);
  if (self->health != NULL)
    scheduler_health_sync (self->health, apps, tasks);
  scheduler_readiness_sync (self->readiness, apps, tasks);

  b = g_new0 (Batch, 1);
  b->ops = g_ptr_array_new_with_free_func ((GDestroyNotify) op_free);
  b->events = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_event_free);

  /* terminal tasks: forget them; unexpected ends move the backoff */
  for (guint i = 0; i < tasks->len; i++)
    {
      BerthTask *task = g_ptr_array_index (tasks, i);
      SchedulerApp *app = g_hash_table_lookup (apps_by_id, berth_task_get_app_id (task));

      if (!berth_task_is_terminal (task))
        continue;
      add_op (b, OP_DELETE, berth_task_get_id (task));
      if (app == NULL || berth_task_get_desired_state (task) != BERTH_TASK_DESIRED_RUNNING ||
          berth_task_get_state (task) == BERTH_TASK_STATE_KILLED)
        continue;
      app->backoff_delay = app->backoff_delay <= 0
                             ? app->backoff_seconds
                             : MIN (app->backoff_delay * app->backoff_factor, app->max_launch_delay);
      app->launch_after_ms = now_ms + (gint64) (app->backoff_delay * 1000);
      g_clear_pointer (&app->last_failure, json_object_unref);
      app->last_failure = task_failure (task);
      g_hash_table_add (backoff_changed, app->id);
      g_debug ("app %s: task %s ended (%s), next launch in %.1fs", app->id, berth_task_get_id (task),
               berth_task_state_to_string (berth_task_get_state (task)), app->backoff_delay);
    }

  for (guint i = 0; i < apps->len; i++)
    {
      SchedulerApp *app = g_ptr_array_index (apps, i);
      g_autoptr(GPtrArray) current = g_ptr_array_new ();
      g_autoptr(GPtrArray) old = g_ptr_array_new ();
      guint n = (guint) MAX (app->instances, 0);
      guint ready_current = 0, ready_old = 0, killed_old = 0;
      guint max_total = n + (guint) floor (n * app->max_over + 1e-9);
      guint min_healthy = (guint) ceil (n * app->min_health - 1e-9);
      gboolean old_at_start;
      guint to_launch;

      for (guint j = 0; j < tasks->len; j++)
        {
          BerthTask *task = g_ptr_array_index (tasks, j);
          const SchedulerHealthState *h;
          if (berth_task_is_terminal (task) || g_strcmp0 (berth_task_get_app_id (task), app->id) != 0 ||
              berth_task_get_desired_state (task) != BERTH_TASK_DESIRED_RUNNING)
            continue;
          h = self->health != NULL ? scheduler_health_get (self->health, berth_task_get_id (task)) : NULL;
          if (h != NULL && h->failed_too_often)
            {
              g_message (_("app %s: task %s failed its health check too often: replacing it"), app->id,
                         berth_task_get_id (task));
              add_op (b, OP_KILL, berth_task_get_id (task));
              continue;
            }
          g_ptr_array_add (g_strcmp0 (berth_task_get_version (task), app->config_version) == 0 ? current : old,
                           task);
        }
      /* too many: killSelection says which go (youngest first by default) */
      g_ptr_array_sort (current, compare_newest_first);
      while (current->len > n)
        {
          guint at = scheduler_app_kill_selection (app->def) == SCHEDULER_KILL_OLDEST_FIRST ? current->len - 1 : 0;
          add_op (b, OP_KILL, berth_task_get_id (g_ptr_array_index (current, at)));
          g_ptr_array_remove_index (current, at);
        }
      for (guint j = 0; j < current->len; j++)
        if (scheduler_controller_task_ready (self, app, g_ptr_array_index (current, j)))
          ready_current++;
      for (guint j = 0; j < old->len; j++)
        if (scheduler_controller_task_ready (self, app, g_ptr_array_index (old, j)))
          ready_old++;
      old_at_start = old->len > 0;

      /* old config: kill what does not count, then while health allows, oldest first */
      g_ptr_array_sort (old, compare_newest_first);
      for (gint j = (gint) old->len - 1; j >= 0; j--)
        {
          BerthTask *task = g_ptr_array_index (old, j);
          gboolean ready = scheduler_controller_task_ready (self, app, task);
          if (ready && ready_current + ready_old <= min_healthy)
            continue;
          if (ready)
            ready_old--;
          add_op (b, OP_KILL, berth_task_get_id (task));
          g_ptr_array_remove_index (old, (guint) j);
          killed_old++;
        }

      to_launch = n > current->len ? n - current->len : 0;
      if (old->len > 0)
        {
          guint total = current->len + old->len;
          guint room = max_total > total ? max_total - total : 0;
          to_launch = MIN (to_launch, room);
          if (to_launch == 0 && killed_old == 0 && current->len < n && ready_current == current->len)
            {
              /* no room, no health to spare and nothing new on its way:
               * make progress anyway (maximumOverCapacity 0 with
               * minimumHealthCapacity 1) */
              BerthTask *task = g_ptr_array_index (old, old->len - 1);
              add_op (b, OP_KILL, berth_task_get_id (task));
              g_ptr_array_remove_index (old, old->len - 1);
            }
        }
      if (to_launch > 0 && app->launch_after_ms > now_ms)
        {
          g_autofree char *why = g_strdup_printf (_("delayed by backoff: %.1f s left"),
                                                  (app->launch_after_ms - now_ms) / 1000.0);
          set_queue (self, app->id, to_launch, why, app->launch_after_ms);
          next_wake = MIN (next_wake, app->launch_after_ms);
        }
      else if (to_launch > 0)
        {
          g_autofree char *reason = NULL;
          guint now_n = MIN (to_launch, budget);
          guint left = now_n > 0 ? launch (self, b, app, now_n, nodes, &reason) : 0;

          budget -= now_n - left;
          launched = launched || now_n > left;
          if (left > 0)
            set_queue (self, app->id, left + (to_launch - now_n), reason, 0);
          else if (to_launch > now_n)
            {
              /* the rest in a later batch; until then the queue keeps
               * what it said (placement was not tried) */
              QueueEntry *q = g_hash_table_lookup (self->queue, app->id);
              if (now_n > 0 || q == NULL)
                {
                  g_autofree char *why = g_strdup_printf (_("launching in batches of %u tasks"),
                                                          self->limits->launch_batch);
                  if (now_n > 0)
                    set_queue (self, app->id, to_launch - now_n, why, 0);
                }
              else
                q->count = to_launch;
              next_wake = MIN (next_wake, now_ms + MAX (self->next_batch_ms - mono_ms, 0) +
                                            (launched ? self->limits->launch_interval_ms : 0));
            }
          else
            g_hash_table_remove (self->queue, app->id);
        }
      else
        g_hash_table_remove (self->queue, app->id);

      if (app->deployment_id != NULL && !old_at_start && current->len == n && ready_current == n &&
          to_launch == 0)
        {
          add_event (b, SCHEDULER_TOPIC_DEPLOYMENT,
                     scheduler_event_deployment ("step", app->deployment_id, app->id, app->version, NULL));
          deployment_done (b, done, app->deployment_id, app->id);
        }
      if (g_hash_table_contains (backoff_changed, app->id))
        {
          Op *op = add_op (b, OP_BACKOFF, app->id);
          op->delay = app->backoff_delay;
          op->launch_after_ms = app->launch_after_ms;
          op->failure = app->last_failure != NULL ? json_object_ref (app->last_failure) : NULL;
        }
    }

  /* tasks of apps that are gone (those of an app set aside as broken are
   * left as they are: deleting the app kills them) */
  for (guint i = 0; i < tasks->len; i++)
    {
      BerthTask *task = g_ptr_array_index (tasks, i);
      if (!berth_task_is_terminal (task) && !g_hash_table_contains (apps_by_id, berth_task_get_app_id (task)) &&
          berth_task_get_desired_state (task) == BERTH_TASK_DESIRED_RUNNING &&
          (berth_task_get_app_id (task) == NULL ||
           !berth_context_is_broken (self->context, "app", berth_task_get_app_id (task))))
        add_op (b, OP_KILL, berth_task_get_id (task));
    }
  /* stop deployments: done when no task of the app lives */
  for (guint i = 0; i < deployments->len; i++)
    {
      SchedulerDeployment *d = g_ptr_array_index (deployments, i);
      if (!g_hash_table_contains (apps_by_id, d->app_id) && !g_hash_table_contains (alive_apps, d->app_id))
        deployment_done (b, done, d->id, d->app_id);
    }
  deployments_succeeded (b, done, deployments);
  /* the queue only holds apps that exist */
  {
    GHashTableIter iter;
    gpointer key;
    g_hash_table_iter_init (&iter, self->queue);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      if (!g_hash_table_contains (apps_by_id, key))
        g_hash_table_iter_remove (&iter);
  }

  if (launched)
    self->next_batch_ms = mono_ms + self->limits->launch_interval_ms;
  g_clear_handle_id (&self->timer_id, g_source_remove);
  if (next_wake != G_MAXINT64)
    self->timer_id = g_timeout_add ((guint) CLAMP (next_wake - now_ms + 5, 1, G_MAXINT32), timer_cb, self);
  if (b->ops->len == 0)
    {
      for (guint i = 0; i < b->events->len; i++)
        publish_pending (self, g_ptr_array_index (b->events, i));
      batch_free (b);
      return;
    }
  self->writing = TRUE;
  self->dirty = FALSE;
  berth_store_write_async (self->store, apply_ops, b, NULL, NULL, write_done_cb, b);
}

static gboolean
soon_cb (gpointer user_data)
{
  SchedulerController *self = user_data;
  self->soon_id = 0;
  scheduler_controller_kick (self);
  return G_SOURCE_REMOVE;
}

/* Store changes come in bursts (a runtime reporting many tasks): they
 * are coalesced into one pass every few milliseconds. */
static void
changed_cb (BerthStore *store, guint64 index, const char *topic, const char *key, gpointer user_data)
{
  SchedulerController *self = user_data;

  if ((g_strcmp0 (topic, "task") == 0 || g_strcmp0 (topic, "app") == 0 || g_strcmp0 (topic, "deployment") == 0 ||
       g_strcmp0 (topic, "node") == 0) && self->soon_id == 0)
    self->soon_id = g_timeout_add (COALESCE_MS, soon_cb, self);
}

SchedulerController *
scheduler_controller_new (BerthContext *context, const SchedulerLimits *limits)
{
  SchedulerController *self = g_new0 (SchedulerController, 1);

  self->context = context;
  self->limits = limits;
  self->store = g_object_ref (berth_context_get_store (context));
  self->health = scheduler_health_new (context, limits, health_changed_cb, self);
  scheduler_health_set_store (self->health, self->store);
  self->readiness = scheduler_readiness_new (health_changed_cb, self);
  self->queue = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) queue_entry_free);
  self->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->usage = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_object_set_data (G_OBJECT (self->store), "scheduler-controller", self);
  self->changed_id = g_signal_connect (self->store, "changed", G_CALLBACK (changed_cb), self);
  self->safety_id = g_timeout_add_seconds (SAFETY_PASS_SECONDS, safety_cb, self);
  scheduler_controller_kick (self);
  return self;
}

void
scheduler_controller_free (SchedulerController *self)
{
  if (self == NULL)
    return;
  g_object_set_data (G_OBJECT (self->store), "scheduler-controller", NULL);
  g_clear_signal_handler (&self->changed_id, self->store);
  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_clear_handle_id (&self->safety_id, g_source_remove);
  g_clear_handle_id (&self->soon_id, g_source_remove);
  g_clear_pointer (&self->health, scheduler_health_free);
  g_clear_pointer (&self->readiness, scheduler_readiness_free);
  g_hash_table_unref (self->queue);
  g_hash_table_unref (self->seen);
  g_hash_table_unref (self->usage);
  g_object_unref (self->store);
  g_free (self);
}

SchedulerHealth *
scheduler_controller_get_health (SchedulerController *self)
{
  return self->health;
}

SchedulerReadiness *
scheduler_controller_get_readiness (SchedulerController *self)
{
  return self->readiness;
}
