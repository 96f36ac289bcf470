/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "scheduler-db.h"
#include "scheduler-groups.h"
#include "scheduler-http.h"
#include "scheduler-http-private.h"

/* The Marathon REST API version /v2/info announces. */
#define SCHEDULER_MARATHON_API_VERSION "1.11.0"

/* The Marathon-compatible API under /v2 (and /ping): a thin adapter.
 * Reads answer from the store at once; writes are operations of the app
 * life cycle (scheduler-apps.c) prepared from the request and its caller,
 * answered when committed. The handlers live beside this file by
 * section: apps (scheduler-http-apps.c), tasks, deployments and the
 * queue (scheduler-http-tasks.c); the route table, /v2/info, /v2/leader
 * and /v2/events are here. */

BerthStore *
scheduler_http_store (SchedulerPlugin *self)
{
  return berth_context_get_store (berth_plugin_get_context (BERTH_PLUGIN (self)));
}

void
scheduler_http_respond_object (BerthRequest *req, guint status, JsonObject *obj)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), obj);
  berth_request_respond_json (req, status, node);
}

void
scheduler_http_respond_not_implemented (BerthRequest *req, const char *what)
{
  g_autofree char *msg = g_strdup_printf (_("%s not implemented"), what);
  berth_request_respond_message (req, 501, msg);
}

/* Takes @details. */
void
scheduler_http_respond_invalid (BerthRequest *req, JsonArray *details)
{
  g_autoptr(JsonObject) o = json_object_new ();
  json_object_set_string_member (o, "message", _("Object is not valid"));
  json_object_set_array_member (o, "details", details != NULL ? details : json_array_new ());
  scheduler_http_respond_object (req, 422, o);
}

/* ?force and ?scale into @op; answers 400 and returns FALSE when one is
 * not a boolean. */
gboolean
scheduler_http_flags (BerthRequest *req, SchedulerAppOp *op)
{
  g_autoptr(GError) error = NULL;

  if (!berth_request_get_query_boolean (req, "force", &op->force, &error) ||
      !berth_request_get_query_boolean (req, "scale", &op->scale, &error))
    {
      berth_request_respond_error (req, error);
      return FALSE;
    }
  return TRUE;
}

/* ---- ACLs on app ids ------------------------------------------------------ */

/* The core checked the route's first path parameter as it came (for
 * `/v2/apps/\*path`: "team-a/web/restart"); rules name apps by their ids
 * ("/team-a/web"), so handlers check again with the id they act on, as
 * the scheduler normalises it. A group is named by its id with a trailing
 * slash ("/team-a/"), what an `app` prefix rule on its apps matches. */
gboolean
scheduler_http_authorize_app (BerthRequest *req, const char *app_id, BerthAccess access)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = scheduler_app_normalize_id (app_id != NULL ? app_id : "/", NULL);

  if (berth_request_authorize (req, "app", id, access, &error))
    return TRUE;
  berth_request_respond_error (req, error);
  return FALSE;
}

/* `app` write on every app an operation writes (a batch: each of its
 * operations, and its group unless it is the root); answers the refusal. */
gboolean
scheduler_http_authorize_op (BerthRequest *req, SchedulerAppOp *op)
{
  if (op->kind == SCHEDULER_APP_OP_BATCH)
    {
      if (op->group_id != NULL && !g_str_equal (op->group_id, "/"))
        {
          g_autofree char *id = scheduler_app_normalize_id (op->group_id, NULL);
          g_autofree char *group = g_strconcat (id, "/", NULL);
          g_autoptr(GError) error = NULL;

          if (!berth_request_authorize (req, "app", group, BERTH_ACCESS_WRITE, &error))
            {
              berth_request_respond_error (req, error);
              return FALSE;
            }
        }
      for (guint i = 0; op->ops != NULL && i < op->ops->len; i++)
        if (!scheduler_http_authorize_op (req, g_ptr_array_index (op->ops, i)))
          return FALSE;
      return TRUE;
    }
  return op->app_id == NULL || scheduler_http_authorize_app (req, op->app_id, BERTH_ACCESS_WRITE);
}

/* Whether a list may show the app @app_id (left out otherwise). */
gboolean
scheduler_http_may_read_app (BerthRequest *req, const char *app_id)
{
  return berth_request_may_read (req, "app", app_id);
}

/* ---- running an operation ---------------------------------------------- */

typedef struct {
  BerthRequest   *request;
  SchedulerAppOp *op;
} Pending;

static void
pending_free (Pending *p)
{
  g_object_unref (p->request);
  scheduler_app_op_unref (p->op);
  g_free (p);
}

static JsonObject *
deployment_result (SchedulerAppOp *op)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "deploymentId", op->new_deployment);
  json_object_set_string_member (o, "version", op->version);
  return o;
}

static void
respond_done (SchedulerPlugin *self, BerthRequest *req, SchedulerAppOp *op)
{
  SchedulerController *controller = scheduler_plugin_get_controller (self);
  g_autoptr(JsonObject) o = NULL;

  berth_request_set_index (req, berth_store_get_index (scheduler_http_store (self)));
  switch (op->kind)
    {
    case SCHEDULER_APP_OP_CREATE:
      {
        g_autoptr(SchedulerApp) app = scheduler_app_new (op->def);
        g_autoptr(JsonNode) node = NULL;
        g_autofree char *location = g_strdup_printf ("/v2/apps%s", op->app_id);
        app->deployment_id = g_strdup (op->new_deployment);
        node = scheduler_controller_app_json (controller, app, NULL, FALSE);
        berth_request_set_header (req, "Location", location);
        berth_request_respond_json (req, 201, node);
        return;
      }
    case SCHEDULER_APP_OP_KILL_TASKS:
      o = json_object_new ();
      if (op->task_ids != NULL && op->app_id != NULL && op->killed->len == 1)
        json_object_set_member (o, "task", scheduler_controller_task_json (controller, g_ptr_array_index (op->killed, 0)));
      else
        {
          JsonArray *list = json_array_new ();
          for (guint i = 0; i < op->killed->len; i++)
            json_array_add_element (list, scheduler_controller_task_json (controller, g_ptr_array_index (op->killed, i)));
          json_object_set_array_member (o, "tasks", list);
        }
      scheduler_http_respond_object (req, 200, o);
      return;
    case SCHEDULER_APP_OP_BATCH:
    case SCHEDULER_APP_OP_CANCEL_DEPLOYMENT:
      /* a deployment stopped where it is (a batch of them: one of
       * several apps) */
      if (op->force && (op->kind == SCHEDULER_APP_OP_CANCEL_DEPLOYMENT ||
                        (op->ops->len > 0 && ((SchedulerAppOp *) g_ptr_array_index (op->ops, 0))->kind ==
                                               SCHEDULER_APP_OP_CANCEL_DEPLOYMENT)))
        {
          o = json_object_new ();
          scheduler_http_respond_object (req, 202, o);
          return;
        }
      break;
    default:
      break;
    }
  o = deployment_result (op);
  /* a batch of no group (PUT /v2/apps) answers 200 even when it created */
  scheduler_http_respond_object (req, op->created && (op->kind != SCHEDULER_APP_OP_BATCH || op->group_id != NULL)
                                        ? 201 : 200, o);
}

static void
run_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *p = user_data;
  SchedulerPlugin *self = SCHEDULER_PLUGIN (source);
  g_autoptr(GError) error = NULL;

  if (!scheduler_apps_run_finish (self, result, &error))
    {
      if (p->op->locked_by != NULL && g_error_matches (error, BERTH_ERROR, BERTH_ERROR_CONFLICT))
        {
          g_autoptr(JsonObject) o = json_object_new ();
          JsonArray *list = json_array_new ();
          JsonObject *d = json_object_new ();
          json_object_set_string_member (o, "message", error->message);
          json_object_set_string_member (d, "id", p->op->locked_by);
          json_array_add_object_element (list, d);
          json_object_set_array_member (o, "deployments", list);
          scheduler_http_respond_object (p->request, 409, o);
        }
      else
        berth_request_respond_error (p->request, error);
    }
  else
    respond_done (self, p->request, p->op);
  pending_free (p);
}

/* Runs @op and answers @req when it is committed. */
void
scheduler_http_run (SchedulerPlugin *self, BerthRequest *req, SchedulerAppOp *op)
{
  Pending *p = g_new0 (Pending, 1);

  p->request = g_object_ref (req);
  p->op = scheduler_app_op_ref (op);
  scheduler_apps_run_async (self, op, NULL, run_done_cb, p);
}

/* ---- info, leader, events ---------------------------------------------- */

static void
handle_ping (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GBytes) body = g_bytes_new_static ("pong", 4);
  berth_request_respond (req, 200, "text/plain", body);
}

static char *
leader_of (BerthRequest *req)
{
  BerthContext *ctx = berth_request_get_context (req);
  const char *host = berth_request_get_header (req, "Host");
  BerthNode *node = berth_context_get_node (ctx);

  if (host != NULL && *host != '\0')
    return g_strdup (host);
  return g_strdup_printf ("%s:8500", node != NULL ? berth_node_get_address (node) : "127.0.0.1");
}

static void
handle_info (BerthRequest *req, gpointer user_data)
{
  BerthContext *ctx = berth_request_get_context (req);
  BerthNode *node = berth_context_get_node (ctx);
  g_autofree char *leader = leader_of (req);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, "berth");
  /* version: the Marathon API Berth speaks (clients gate features on
   * it); Berth's own in buildref, as a field clients know (marathon-python
   * refuses an /v2/info with members it does not know) */
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, SCHEDULER_MARATHON_API_VERSION);
  json_builder_set_member_name (b, "buildref");
  json_builder_add_string_value (b, "berth-" BERTH_VERSION);
  json_builder_set_member_name (b, "elected");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "leader");
  json_builder_add_string_value (b, leader);
  json_builder_set_member_name (b, "frameworkId");
  json_builder_add_string_value (b, node != NULL ? berth_node_get_id (node) : "berth");
  json_builder_set_member_name (b, "event_subscriber");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "sse");
  json_builder_end_object (b);
  json_builder_set_member_name (b, "http_config");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "http_port");
  json_builder_add_int_value (b, 8500);
  json_builder_set_member_name (b, "https_port");
  json_builder_add_int_value (b, 0);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "marathon_config");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "master");
  json_builder_add_string_value (b, "local");
  json_builder_set_member_name (b, "framework_name");
  json_builder_add_string_value (b, "berth");
  json_builder_set_member_name (b, "hostname");
  json_builder_add_string_value (b, node != NULL ? berth_node_get_name (node) : "localhost");
  json_builder_set_member_name (b, "task_launch_timeout");
  json_builder_add_int_value (b, 300000);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "zookeeper_config");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "zk");
  json_builder_add_string_value (b, "none");
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  berth_request_respond_json (req, 200, root);
}

static void
handle_leader (BerthRequest *req, gpointer user_data)
{
  g_autofree char *leader = leader_of (req);
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "leader", leader);
  scheduler_http_respond_object (req, 200, o);
  json_object_unref (o);
}

/* DELETE /v2/leader: Marathon's leader steps down and the instances elect
 * one again. This node is the only instance: it is elected again at once,
 * with nothing to hand over (Marathon with one instance does the same,
 * after its election round). */
static void
handle_abdicate (BerthRequest *req, gpointer user_data)
{
  JsonObject *o = json_object_new ();

  g_message ("scheduler: leadership abdicated on request; this node, the only instance, leads again");
  json_object_set_string_member (o, "message", "Leadership abdicated");
  scheduler_http_respond_object (req, 200, o);
  json_object_unref (o);
}

static void
handle_groups (BerthRequest *req, gpointer user_data)
{
  scheduler_groups_handle (user_data, req);
}

/* ?event_type=a&event_type=b: only those events */
static void
handle_events (BerthRequest *req, gpointer user_data)
{
  g_auto(GStrv) asked = berth_request_dup_query_all (req, "event_type");
  g_autoptr(GStrvBuilder) types = g_strv_builder_new ();
  gboolean any = FALSE;

  for (guint i = 0; asked != NULL && asked[i] != NULL; i++)
    if (*asked[i] != '\0')
      {
        g_strv_builder_add (types, asked[i]);
        any = TRUE;
      }
  scheduler_events_subscribe (scheduler_plugin_get_events (user_data), req,
                              any ? g_strv_builder_end (types) : NULL);
}

static void
handle_subscriptions (BerthRequest *req, gpointer user_data)
{
  scheduler_subscriptions_handle (scheduler_plugin_get_subscriptions (user_data), req);
}

static void
handle_not_implemented (BerthRequest *req, gpointer user_data)
{
  scheduler_http_respond_not_implemented (req, berth_request_get_path (req));
}

static const BerthRouteSpec routes[] = {
  { BERTH_METHOD_GET, "/ping", BERTH_RESOURCE_PUBLIC, BERTH_ACCESS_NONE, handle_ping },
  { BERTH_METHOD_GET, "/v2/info", "operator", BERTH_ACCESS_READ, handle_info },
  { BERTH_METHOD_GET, "/v2/leader", "operator", BERTH_ACCESS_READ, handle_leader },
  { BERTH_METHOD_DELETE, "/v2/leader", "operator", BERTH_ACCESS_WRITE, handle_abdicate },
  { BERTH_METHOD_GET, "/v2/apps", "app", BERTH_ACCESS_READ, scheduler_http_handle_apps },
  { BERTH_METHOD_POST | BERTH_METHOD_PUT, "/v2/apps", "app", BERTH_ACCESS_WRITE, scheduler_http_handle_apps },
  { BERTH_METHOD_GET, "/v2/apps/*path", "app", BERTH_ACCESS_READ, scheduler_http_handle_app_path },
  { BERTH_METHOD_POST | BERTH_METHOD_PUT | BERTH_METHOD_PATCH | BERTH_METHOD_DELETE,
    "/v2/apps/*path", "app", BERTH_ACCESS_WRITE, scheduler_http_handle_app_path },
  { BERTH_METHOD_GET, "/v2/tasks", "app", BERTH_ACCESS_READ, scheduler_http_handle_tasks },
  { BERTH_METHOD_POST, "/v2/tasks/delete", "app", BERTH_ACCESS_WRITE, scheduler_http_handle_tasks_delete },
  { BERTH_METHOD_GET, "/v2/deployments", "app", BERTH_ACCESS_READ, scheduler_http_handle_deployments },
  { BERTH_METHOD_DELETE, "/v2/deployments/:_id", "app", BERTH_ACCESS_WRITE, scheduler_http_handle_deployment },
  { BERTH_METHOD_GET, "/v2/queue", "app", BERTH_ACCESS_READ, scheduler_http_handle_queue },
  { BERTH_METHOD_DELETE, "/v2/queue/*path", "app", BERTH_ACCESS_WRITE, scheduler_http_handle_queue_delay },
  { BERTH_METHOD_GET, "/v2/groups", "app", BERTH_ACCESS_READ, handle_groups },
  { BERTH_METHOD_POST | BERTH_METHOD_PUT | BERTH_METHOD_DELETE, "/v2/groups", "app",
    BERTH_ACCESS_WRITE, handle_groups },
  /* a group is no app: its path is checked in the handler (its apps, and
   * the group as "/id/" for a write) */
  { BERTH_METHOD_GET, "/v2/groups/*_path", "app", BERTH_ACCESS_READ, handle_groups },
  { BERTH_METHOD_POST | BERTH_METHOD_PUT | BERTH_METHOD_DELETE, "/v2/groups/*_path", "app",
    BERTH_ACCESS_WRITE, handle_groups },
  { BERTH_METHOD_GET, "/v2/events", "app", BERTH_ACCESS_READ, handle_events },
  /* a callback receives the events of every app: the handler asks for
   * the root group ("/", every app) */
  { BERTH_METHOD_GET, "/v2/eventSubscriptions", "app", BERTH_ACCESS_READ, handle_subscriptions },
  { BERTH_METHOD_POST | BERTH_METHOD_DELETE, "/v2/eventSubscriptions", "app", BERTH_ACCESS_WRITE,
    handle_subscriptions },
  { BERTH_METHOD_GET | BERTH_METHOD_POST | BERTH_METHOD_PUT | BERTH_METHOD_DELETE, "/v2/pods/*path", "app",
    BERTH_ACCESS_WRITE, handle_not_implemented },
};

void
scheduler_http_add_routes (SchedulerPlugin *self)
{
  berth_context_add_routes (berth_plugin_get_context (BERTH_PLUGIN (self)), routes, G_N_ELEMENTS (routes), self);
}
