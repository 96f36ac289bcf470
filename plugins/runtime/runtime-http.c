/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "runtime-container.h"
#include "runtime-container-private.h"
#include "runtime-http.h"
#include "runtime-image-private.h"
#include "runtime-logs-http.h"
#include "runtime-util.h"

/* The runtime's REST API: /api/runtime and /api/containers (the images
 * are in runtime-images-http.c). */

static RuntimeContainers *
containers_of (gpointer user_data)
{
  return runtime_plugin_get_containers (RUNTIME_PLUGIN (user_data));
}

/* ---------------------------------------------------------- containers */

/* Thin adapters over the container engine (runtime-container*.c): each
 * reads the request, calls the engine and answers with what it gives. */

typedef struct {
  RuntimePlugin *plugin;
  BerthRequest  *req;
} Call;

static Call *
call_new (gpointer plugin, BerthRequest *req)
{
  Call *call = g_new0 (Call, 1);

  call->plugin = g_object_ref (RUNTIME_PLUGIN (plugin));
  call->req = g_object_ref (req);
  return call;
}

static void
call_free (Call *call)
{
  g_object_unref (call->plugin);
  g_object_unref (call->req);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, call_free)

static RuntimeContainers *
call_containers (Call *call)
{
  return runtime_plugin_get_containers (call->plugin);
}

static gboolean
query_flag (BerthRequest *req, const char *name, gboolean *value)
{
  g_autoptr(GError) error = NULL;

  *value = FALSE;
  if (!berth_request_get_query_boolean (req, name, value, &error))
    {
      berth_request_respond_error (req, error);
      return FALSE;
    }
  return TRUE;
}

static void
respond_object (BerthRequest *req, guint status, JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);

  berth_request_respond_json (req, status, node);
}

/* the answer of an operation that has none but its status */
static void
respond_done (Call *call, gboolean ok, gboolean unchanged, const GError *error)
{
  if (!ok)
    berth_request_respond_error (call->req, error);
  else
    berth_request_respond (call->req, unchanged ? 304 : 204, NULL, NULL);
}

#define DEFER(handler)                                                                   \
  if (runtime_plugin_defer_until_ready (RUNTIME_PLUGIN (user_data), req, handler))       \
    return

/* The path's key is a name, an id or an id prefix (`:_id`: the core
 * checks no name); rules name containers by name, so the container it
 * finds is checked by its name. One that does not exist is left to the
 * handler's 404. */
static gboolean
authorize_container (BerthRequest *req, gpointer user_data, BerthAccess access)
{
  g_autoptr(GError) error = NULL;
  Ctr *c = runtime_containers_lookup (containers_of (user_data), berth_request_get_param (req, "_id"), NULL);

  if (c == NULL || berth_request_authorize (req, "container", c->name, access, &error))
    return TRUE;
  berth_request_respond_error (req, error);
  return FALSE;
}

#define AUTHORIZE(access)                                                                \
  if (!authorize_container (req, user_data, access))                                     \
    return

/* A new container's name (none: write on every name, "") and its image
 * (read), from the spec, before anything is made. */
static gboolean
authorize_create (BerthRequest *req, JsonObject *spec)
{
  g_autoptr(GError) error = NULL;
  const char *name = runtime_json_get_string (spec, "name");
  const char *image = runtime_json_get_string (spec, "image");
  g_autofree char *ref = image != NULL ? runtime_images_normalize_tag (image) : NULL;

  if (berth_request_authorize (req, "container", name != NULL ? name : "", BERTH_ACCESS_WRITE, &error) &&
      (image == NULL || berth_request_authorize (req, "image", ref != NULL ? ref : image, BERTH_ACCESS_READ,
                                                 &error)))
    return TRUE;
  berth_request_respond_error (req, error);
  return FALSE;
}

static void
created_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(Call) call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) answer = runtime_containers_create_finish (call_containers (call), result, &error);

  if (answer == NULL)
    berth_request_respond_error (call->req, error);
  else
    respond_object (call->req, 201, answer);
}

static void
containers_create_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = NULL;

  DEFER (containers_create_cb);
  body = berth_request_parse_json (req, &error);
  if (body == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (body))
    {
      berth_request_respond_message (req, 400, _("The container spec must be a JSON object"));
      return;
    }
  if (!authorize_create (req, json_node_get_object (body)))
    return;
  runtime_containers_create_async (containers_of (user_data), json_node_get_object (body), NULL, created_cb,
                                   call_new (user_data, req));
}

static void
containers_list_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonArray) list = NULL;
  g_autoptr(JsonArray) filtered = NULL;
  gboolean all;

  DEFER (containers_list_cb);
  if (!query_flag (req, "all", &all))
    return;
  list = runtime_containers_list (containers_of (user_data), all);
  filtered = json_array_new ();
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      if (berth_request_may_read (req, "container", json_object_get_string_member_with_default (c, "Name", "")))
        json_array_add_object_element (filtered, json_object_ref (c));
    }
  node = json_node_init_array (json_node_alloc (), NULL);
  json_node_take_array (node, g_steal_pointer (&filtered));
  berth_request_respond_json (req, 200, node);
}

static void
containers_inspect_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) info = NULL;

  DEFER (containers_inspect_cb);
  AUTHORIZE (BERTH_ACCESS_READ);
  info = runtime_containers_inspect (containers_of (user_data), berth_request_get_param (req, "_id"), &error);
  if (info == NULL)
    berth_request_respond_error (req, error);
  else
    respond_object (req, 200, info);
}

static void
started_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(Call) call = user_data;
  g_autoptr(GError) error = NULL;
  gboolean unchanged = FALSE;
  gboolean ok = runtime_containers_start_finish (call_containers (call), result, &unchanged, &error);

  respond_done (call, ok, unchanged, error);
}

static void
containers_start_cb (BerthRequest *req, gpointer user_data)
{
  DEFER (containers_start_cb);
  AUTHORIZE (BERTH_ACCESS_WRITE);
  runtime_containers_start_async (containers_of (user_data), berth_request_get_param (req, "_id"), NULL,
                                  started_cb, call_new (user_data, req));
}

static void
stopped_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(Call) call = user_data;
  g_autoptr(GError) error = NULL;
  gboolean unchanged = FALSE;
  gboolean ok = runtime_containers_stop_finish (call_containers (call), result, &unchanged, &error);

  respond_done (call, ok, unchanged, error);
}

static void
containers_stop_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  guint64 timeout = 10;

  DEFER (containers_stop_cb);
  AUTHORIZE (BERTH_ACCESS_WRITE);
  if (!berth_request_get_query_uint64 (req, "t", 10, &timeout, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  runtime_containers_stop_async (containers_of (user_data), berth_request_get_param (req, "_id"),
                                 (guint) MIN (timeout, 3600), NULL, stopped_cb, call_new (user_data, req));
}

static void
killed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(Call) call = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = runtime_containers_kill_finish (call_containers (call), result, &error);

  respond_done (call, ok, FALSE, error);
}

static void
containers_kill_cb (BerthRequest *req, gpointer user_data)
{
  int sig;

  DEFER (containers_kill_cb);
  AUTHORIZE (BERTH_ACCESS_WRITE);
  if (!runtime_parse_signal (berth_request_get_query (req, "signal"), &sig))
    {
      berth_request_respond_message (req, 400, _("Unknown signal"));
      return;
    }
  runtime_containers_kill_async (containers_of (user_data), berth_request_get_param (req, "_id"), sig, NULL,
                                 killed_cb, call_new (user_data, req));
}

typedef struct {
  RuntimePlugin *plugin;
  BerthStream   *stream;
} WaitCall;

static void
waited_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WaitCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) status = runtime_containers_wait_finish (NULL, result, &error);

  if (status != NULL)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), status);
      berth_stream_write_json_line (call->stream, node);
    }
  berth_stream_close (call->stream);
  g_object_unref (call->stream);
  g_object_unref (call->plugin);
  g_free (call);
}

static void
waited_now_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(Call) call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) status = runtime_containers_wait_finish (NULL, result, &error);

  if (status == NULL)
    berth_request_respond_error (call->req, error);
  else
    respond_object (call->req, 200, status);
}

static void
containers_wait_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  gboolean live = FALSE;
  g_autofree char *id = NULL;
  WaitCall *call;

  DEFER (containers_wait_cb);
  AUTHORIZE (BERTH_ACCESS_READ);
  id = runtime_containers_resolve (containers_of (user_data), berth_request_get_param (req, "_id"), &live, &error);
  if (id == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (!live)
    {
      runtime_containers_wait_async (containers_of (user_data), id, NULL, waited_now_cb, call_new (user_data, req));
      return;
    }
  /* as Docker: the headers go now, the body at the exit, so that a client
   * can wait before it starts the container */
  call = g_new0 (WaitCall, 1);
  call->plugin = g_object_ref (RUNTIME_PLUGIN (user_data));
  call->stream = berth_stream_new (req, "application/json");
  runtime_containers_wait_async (containers_of (user_data), id, berth_stream_get_cancellable (call->stream),
                                 waited_cb, call);
}

static void
removed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(Call) call = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = runtime_containers_remove_finish (call_containers (call), result, &error);

  respond_done (call, ok, FALSE, error);
}

static void
containers_remove_cb (BerthRequest *req, gpointer user_data)
{
  gboolean force;

  DEFER (containers_remove_cb);
  AUTHORIZE (BERTH_ACCESS_WRITE);
  if (!query_flag (req, "force", &force))
    return;
  runtime_containers_remove_async (containers_of (user_data), berth_request_get_param (req, "_id"), force, NULL,
                                   removed_cb, call_new (user_data, req));
}

static void
containers_logs_cb (BerthRequest *req, gpointer user_data)
{
  DEFER (containers_logs_cb);
  AUTHORIZE (BERTH_ACCESS_READ);
  runtime_logs_http_container (RUNTIME_PLUGIN (user_data), req);
}

static void
logs_cb (BerthRequest *req, gpointer user_data)
{
  DEFER (logs_cb);
  runtime_logs_http_lines (RUNTIME_PLUGIN (user_data), req);
}

static void
runtime_info_cb (BerthRequest *req, gpointer user_data)
{
  const RuntimeHost *host = runtime_plugin_get_host (RUNTIME_PLUGIN (user_data));
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;

  if (runtime_plugin_defer_until_ready (RUNTIME_PLUGIN (user_data), req, runtime_info_cb))
    return;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Kind");
  json_builder_add_string_value (b, host->kind == RUNTIME_KIND_OCI ? "oci" : "exec");
  json_builder_set_member_name (b, "OciRuntime");
  if (host->oci_name != NULL)
    json_builder_add_string_value (b, host->oci_name);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "OciRuntimePath");
  if (host->oci_path != NULL)
    json_builder_add_string_value (b, host->oci_path);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "Conmon");
  if (host->conmon_path != NULL)
    json_builder_add_string_value (b, host->conmon_path);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "CgroupVersion");
  json_builder_add_int_value (b, host->cgroup_v2 ? 2 : 1);
  json_builder_set_member_name (b, "Why");
  json_builder_add_string_value (b, host->why != NULL ? host->why : "");
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  berth_request_respond_json (req, 200, node);
}

static const BerthRouteSpec routes[] = {
  { BERTH_METHOD_GET, "/api/runtime", "node", BERTH_ACCESS_READ, runtime_info_cb },
  { BERTH_METHOD_GET, "/api/containers", "container", BERTH_ACCESS_READ, containers_list_cb },
  { BERTH_METHOD_POST, "/api/containers", "container", BERTH_ACCESS_WRITE, containers_create_cb },
  { BERTH_METHOD_GET, "/api/containers/:_id", "container", BERTH_ACCESS_READ, containers_inspect_cb },
  { BERTH_METHOD_DELETE, "/api/containers/:_id", "container", BERTH_ACCESS_WRITE, containers_remove_cb },
  { BERTH_METHOD_POST, "/api/containers/:_id/start", "container", BERTH_ACCESS_WRITE, containers_start_cb },
  { BERTH_METHOD_POST, "/api/containers/:_id/stop", "container", BERTH_ACCESS_WRITE, containers_stop_cb },
  { BERTH_METHOD_POST, "/api/containers/:_id/kill", "container", BERTH_ACCESS_WRITE, containers_kill_cb },
  { BERTH_METHOD_POST | BERTH_METHOD_GET, "/api/containers/:_id/wait", "container", BERTH_ACCESS_READ,
    containers_wait_cb },
  { BERTH_METHOD_GET, "/api/containers/:_id/logs", "container", BERTH_ACCESS_READ, containers_logs_cb },
  { BERTH_METHOD_GET, "/api/logs", "container", BERTH_ACCESS_READ, logs_cb },
};

void
runtime_http_add_routes (RuntimePlugin *plugin)
{
  berth_context_add_routes (berth_plugin_get_context (BERTH_PLUGIN (plugin)), routes, G_N_ELEMENTS (routes),
                            plugin);
}
