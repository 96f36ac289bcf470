/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "scheduler-controller-private.h"

/* What the API shows of the controller's view: tasks with their health
 * check results, apps with their counts, and the launch queue. */

JsonNode *
scheduler_controller_task_json (SchedulerController *self, BerthTask *task)
{
  JsonNode *node = berth_task_to_json (task);
  JsonArray *results = scheduler_health_results_json (self->health, berth_task_get_id (task));

  if (results != NULL)
    json_object_set_array_member (json_node_get_object (node), "healthCheckResults", results);
  return node;
}

/* An app as Marathon shows it: the definition plus counts, deployments,
 * lastTaskFailure and (with @embed_tasks) its tasks. */
JsonNode *
scheduler_controller_app_json (SchedulerController *self, SchedulerApp *app, GPtrArray *tasks,
                               gboolean embed_tasks)
{
  g_autoptr(JsonObject) obj = scheduler_object_copy (app->def);
  JsonArray *deployments = json_array_new ();
  JsonArray *list = json_array_new ();
  JsonArray *checks = json_object_get_array_member (app->def, "healthChecks");
  gboolean has_checks = checks != NULL && json_array_get_length (checks) > 0;
  gint64 staged = 0, running = 0, healthy = 0, unhealthy = 0;

  for (guint i = 0; tasks != NULL && i < tasks->len; i++)
    {
      BerthTask *task = g_ptr_array_index (tasks, i);
      if (g_strcmp0 (berth_task_get_app_id (task), app->id) != 0 || berth_task_is_terminal (task))
        continue;
      if (berth_task_get_state (task) == BERTH_TASK_STATE_RUNNING)
        {
          const SchedulerHealthState *h = scheduler_health_get (self->health, berth_task_get_id (task));
          running++;
          if (has_checks && h != NULL && h->has_result)
            {
              if (h->alive)
                healthy++;
              else
                unhealthy++;
            }
        }
      else
        staged++;
      if (embed_tasks)
        json_array_add_element (list, scheduler_controller_task_json (self, task));
    }
  if (app->deployment_id != NULL)
    {
      JsonObject *d = json_object_new ();
      json_object_set_string_member (d, "id", app->deployment_id);
      json_array_add_object_element (deployments, d);
    }
  json_object_set_int_member (obj, "tasksStaged", staged);
  json_object_set_int_member (obj, "tasksRunning", running);
  json_object_set_int_member (obj, "tasksHealthy", healthy);
  json_object_set_int_member (obj, "tasksUnhealthy", unhealthy);
  json_object_set_array_member (obj, "deployments", deployments);
  if (app->last_failure != NULL)
    json_object_set_object_member (obj, "lastTaskFailure", json_object_ref (app->last_failure));
  if (embed_tasks)
    json_object_set_array_member (obj, "tasks", list);
  else
    json_array_unref (list);
  return json_node_init_object (json_node_alloc (), obj);
}

/* /v2/queue: apps with tasks waiting (backoff, or no room). The reason is
 * in processedOffersSummary.rejectSummaryLastOffers. */
JsonArray *
scheduler_controller_queue_json (SchedulerController *self, GPtrArray *apps)
{
  JsonArray *queue = json_array_new ();
  gint64 now_ms = g_get_real_time () / 1000;

  for (guint i = 0; apps != NULL && i < apps->len; i++)
    {
      SchedulerApp *app = g_ptr_array_index (apps, i);
      QueueEntry *q = g_hash_table_lookup (self->queue, app->id);
      JsonObject *item, *delay, *summary, *reject;
      JsonArray *rejects;
      gint64 left_ms;

      if (q == NULL)
        continue;
      left_ms = MAX (q->launch_after_ms - now_ms, 0);
      item = json_object_new ();
      json_object_set_member (item, "app", scheduler_controller_app_json (self, app, NULL, FALSE));
      json_object_set_int_member (item, "count", q->count);
      delay = json_object_new ();
      json_object_set_int_member (delay, "timeLeftSeconds", (left_ms + 999) / 1000);
      json_object_set_boolean_member (delay, "overdue", left_ms == 0);
      json_object_set_object_member (item, "delay", delay);
      json_object_set_string_member (item, "since", q->since);
      summary = json_object_new ();
      json_object_set_int_member (summary, "processedOffersCount", 1);
      json_object_set_int_member (summary, "unusedOffersCount", left_ms == 0 ? 1 : 0);
      rejects = json_array_new ();
      reject = json_object_new ();
      json_object_set_string_member (reject, "reason", q->reason != NULL ? q->reason : "");
      json_object_set_int_member (reject, "declined", 1);
      json_object_set_int_member (reject, "processed", 1);
      json_array_add_object_element (rejects, reject);
      json_object_set_array_member (summary, "rejectSummaryLastOffers", rejects);
      json_object_set_object_member (item, "processedOffersSummary", summary);
      json_array_add_object_element (queue, item);
    }
  return queue;
}
