/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "runtime-images-http.h"
#include "runtime-stream.h"
#include "runtime-util.h"

/* The runtime's image API, /api/images: thin adapters between HTTP and
 * RuntimeImages. */

static RuntimeImages *
images_of (gpointer user_data)
{
  return runtime_plugin_get_images (RUNTIME_PLUGIN (user_data));
}

static void
respond_result (BerthRequest *req, JsonNode *node, GError *error)
{
  if (node == NULL)
    {
      g_autoptr(GError) berr = runtime_error_to_berth (error);
      berth_request_respond_error (req, berr);
      return;
    }
  berth_request_respond_json (req, 200, node);
}

static gboolean
query_flag (BerthRequest *req, const char *name)
{
  const char *v = berth_request_get_query (req, name);
  return v != NULL && g_strcmp0 (v, "0") != 0 && g_strcmp0 (v, "false") != 0;
}


static void
images_list_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = runtime_images_list_json (images_of (user_data), &error);
  respond_result (req, node, error);
}

static void
images_disk_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = runtime_images_disk_usage_json (images_of (user_data), &error);
  respond_result (req, node, error);
}

static void
images_inspect_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = runtime_images_resolve (images_of (user_data), berth_request_get_param (req, "ref"),
                                                &error);
  g_autoptr(JsonNode) node = id != NULL ? runtime_images_inspect_json (images_of (user_data), id, &error) : NULL;
  respond_result (req, node, error);
}

static void
images_remove_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = runtime_images_remove (images_of (user_data), berth_request_get_param (req, "ref"),
                                                    query_flag (req, "force"), &error);
  respond_result (req, node, error);
}

static void
images_prune_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = runtime_images_prune (images_of (user_data), query_flag (req, "all"), &error);
  respond_result (req, node, error);
}

typedef struct {
  RuntimePlugin *plugin;
  RuntimeStream *stream;
  char          *ref;
} PullCall;

static void
pull_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PullCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = runtime_images_pull_finish (runtime_plugin_get_images (call->plugin), result, &error);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;

  json_builder_begin_object (b);
  if (id != NULL)
    {
      json_builder_set_member_name (b, "status");
      json_builder_add_string_value (b, "Pulled");
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, id);
      json_builder_set_member_name (b, "ref");
      json_builder_add_string_value (b, call->ref);
      g_message (_("pulled %s (%s)"), call->ref, id);
    }
  else
    {
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, error->message);
      g_message (_("pull of %s failed: %s"), call->ref, error->message);
    }
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  runtime_stream_write_json (call->stream, node);
  runtime_stream_close (call->stream);
  runtime_stream_unref (call->stream);
  g_object_unref (call->plugin);
  g_free (call->ref);
  g_free (call);
}

/* POST /api/images/pull?ref=NAME (or {"ref": NAME}): streams
 * newline-delimited JSON progress, ending with {"status":"Pulled"} or
 * {"error": ...}. */
static void
images_pull_cb (BerthRequest *req, gpointer user_data)
{
  const char *ref = berth_request_get_query (req, "ref");
  g_autoptr(JsonNode) body = NULL;
  PullCall *call;

  if (ref == NULL && g_bytes_get_size (berth_request_get_body (req)) > 0)
    {
      g_autoptr(GError) error = NULL;
      body = berth_request_parse_json (req, &error);
      if (body == NULL)
        {
          berth_request_respond_error (req, error);
          return;
        }
      if (JSON_NODE_HOLDS_OBJECT (body))
        ref = runtime_json_get_string (json_node_get_object (body), "ref");
    }
  if (ref == NULL || *ref == '\0')
    {
      berth_request_respond_message (req, 400, _("Missing the image reference (?ref=)"));
      return;
    }
  call = g_new0 (PullCall, 1);
  call->plugin = g_object_ref (RUNTIME_PLUGIN (user_data));
  call->ref = g_strdup (ref);
  call->stream = runtime_stream_new (req, "application/json");
  runtime_images_pull_async (images_of (user_data), ref, call->stream, NULL, pull_done_cb, call);
}

typedef struct {
  RuntimePlugin *plugin;
  BerthRequest  *req;
  char          *tmp;
} FileCall;

static void
file_call_free (FileCall *call)
{
  if (call->tmp != NULL)
    g_unlink (call->tmp);
  g_free (call->tmp);
  g_object_unref (call->plugin);
  g_object_unref (call->req);
  g_free (call);
}

static void
import_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FileCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = runtime_images_import_finish (runtime_plugin_get_images (call->plugin), result,
                                                           &error);
  respond_result (call->req, node, error);
  file_call_free (call);
}

/* POST /api/images/import?path=FILE_OR_DIR[&tag=NAME] */
static void
images_import_cb (BerthRequest *req, gpointer user_data)
{
  const char *path = berth_request_get_query (req, "path");
  FileCall *call;

  if (path == NULL || !g_path_is_absolute (path))
    {
      berth_request_respond_message (req, 400, _("Missing ?path= (an absolute path on the daemon's host)"));
      return;
    }
  call = g_new0 (FileCall, 1);
  call->plugin = g_object_ref (RUNTIME_PLUGIN (user_data));
  call->req = g_object_ref (req);
  runtime_images_import_async (images_of (user_data), path, berth_request_get_query (req, "tag"), NULL,
                               import_done_cb, call);
}

static void
export_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FileCall *call = user_data;
  g_autoptr(GError) error = NULL;

  if (!runtime_images_export_finish (runtime_plugin_get_images (call->plugin), result, &error))
    {
      g_autoptr(GError) berr = runtime_error_to_berth (error);
      berth_request_respond_error (call->req, berr);
    }
  else if (call->tmp != NULL)
    {
      g_autoptr(GMappedFile) file = g_mapped_file_new (call->tmp, FALSE, &error);
      g_autoptr(GBytes) bytes = file != NULL ? g_mapped_file_get_bytes (file) : NULL;
      if (bytes == NULL)
        berth_request_respond_error (call->req, error);
      else
        berth_request_respond (call->req, 200, "application/x-tar", bytes);
    }
  else
    berth_request_respond (call->req, 204, NULL, NULL);
  file_call_free (call);
}

/* POST /api/images/export?ref=NAME[&path=FILE]: a tar with the OCI image
 * layout and docker's manifest.json; written to FILE on the daemon's host,
 * or sent back. */
static void
images_export_cb (BerthRequest *req, gpointer user_data)
{
  const char *ref = berth_request_get_query (req, "ref");
  const char *path = berth_request_get_query (req, "path");
  FileCall *call;

  if (ref == NULL || *ref == '\0')
    {
      berth_request_respond_message (req, 400, _("Missing ?ref="));
      return;
    }
  if (path != NULL && !g_path_is_absolute (path))
    {
      berth_request_respond_message (req, 400, _("?path= must be absolute"));
      return;
    }
  if (path != NULL && g_file_test (path, G_FILE_TEST_EXISTS))
    {
      /* berthd runs as root: never overwrite a file */
      berth_request_respond_message (req, 409, _("?path= names a file that exists already"));
      return;
    }
  call = g_new0 (FileCall, 1);
  call->plugin = g_object_ref (RUNTIME_PLUGIN (user_data));
  call->req = g_object_ref (req);
  if (path == NULL)
    {
      g_autofree char *uuid = g_uuid_string_random ();
      call->tmp = g_build_filename (runtime_plugin_get_root (call->plugin), "tmp", uuid, NULL);
      path = call->tmp;
    }
  runtime_images_export_async (images_of (user_data), ref, path, NULL, export_done_cb, call);
}

static const BerthRouteSpec routes[] = {
  { BERTH_METHOD_GET, "/api/images", "image", BERTH_ACCESS_READ, images_list_cb },
  { BERTH_METHOD_GET, "/api/images/_disk", "image", BERTH_ACCESS_READ, images_disk_cb },
  { BERTH_METHOD_POST, "/api/images/pull", "image", BERTH_ACCESS_WRITE, images_pull_cb },
  { BERTH_METHOD_POST, "/api/images/prune", "image", BERTH_ACCESS_WRITE, images_prune_cb },
  { BERTH_METHOD_POST, "/api/images/import", "image", BERTH_ACCESS_WRITE, images_import_cb },
  { BERTH_METHOD_POST, "/api/images/export", "image", BERTH_ACCESS_READ, images_export_cb },
  { BERTH_METHOD_GET, "/api/images/*ref", "image", BERTH_ACCESS_READ, images_inspect_cb },
  { BERTH_METHOD_DELETE, "/api/images/*ref", "image", BERTH_ACCESS_WRITE, images_remove_cb },
};

void
runtime_images_http_add_routes (RuntimePlugin *plugin)
{
  berth_context_add_routes (berth_plugin_get_context (BERTH_PLUGIN (plugin)), routes, G_N_ELEMENTS (routes),
                            plugin);
}
