/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "runtime-image-private.h"
#include "runtime-images-http.h"
#include "runtime-util.h"

/* The runtime's image API, /api/images: thin adapters between HTTP and
 * RuntimeImages, which knows nothing of HTTP.
 *
 * Import and export never touch a path the client names: the archive
 * travels in the request (import) or the response (export) body. An
 * import is bounded by the daemon's `max_body_bytes`; raise it to import
 * large images over the API. */

static RuntimeImages *
images_of (gpointer user_data)
{
  return runtime_plugin_get_images (RUNTIME_PLUGIN (user_data));
}

static gboolean
query_flag (BerthRequest *req, const char *name, gboolean *out)
{
  g_autoptr(GError) error = NULL;

  if (!berth_request_get_query_boolean (req, name, out, &error))
    {
      berth_request_respond_error (req, error);
      return FALSE;
    }
  return TRUE;
}

/* A host path: the API used to take one; it is refused now, so that no
 * client can make berthd read or write a file of its choosing. */
static gboolean
refuse_path (BerthRequest *req)
{
  if (!berth_request_has_query (req, "path"))
    return FALSE;
  berth_request_respond_message (req, 400,
                                 _("?path= is not supported: the archive travels in the request or "
                                   "response body (berth image import FILE, berth image save -o FILE)"));
  return TRUE;
}

static void
add_strings (JsonBuilder *b, const char *name, GPtrArray *a, GPtrArray *more)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; a != NULL && i < a->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (a, i));
  for (guint i = 0; more != NULL && i < more->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (more, i));
  json_builder_end_array (b);
}

/* ---------------------------------------------------------------- ACL */

/* An image is named by its references: a list shows it with the tags the
 * caller may read, and leaves it out when there is none (an untagged
 * image: when its id may not be read). */
static JsonNode *
readable_image_json (BerthRequest *req, BerthImage *image, gboolean detail)
{
  const char * const *tags = berth_image_get_repo_tags (image);
  g_autoptr(JsonNode) node = NULL;
  JsonArray *shown;

  if (tags == NULL || tags[0] == NULL)
    return berth_request_may_read (req, "image", berth_image_get_id (image))
           ? berth_image_to_json (image, detail) : NULL;
  node = berth_image_to_json (image, detail);
  shown = json_array_new ();
  for (guint i = 0; tags[i] != NULL; i++)
    if (berth_request_may_read (req, "image", tags[i]))
      json_array_add_string_element (shown, tags[i]);
  if (json_array_get_length (shown) == 0)
    {
      json_array_unref (shown);
      return NULL;
    }
  json_object_set_array_member (json_node_get_object (node), "RepoTags", shown);
  return g_steal_pointer (&node);
}

/* What a path's image key (a reference, an id or an id prefix: `*_ref`,
 * the core checks no name) needs: by reference, @access on it as the
 * runtime records it; by id, on the image's tags (read: one of
 * them, write: every one; untagged: its id). One that does not exist is
 * left to the handler's 404. */
static gboolean
authorize_key (BerthRequest *req, gpointer user_data, BerthAccess access)
{
  const char *key = berth_request_get_param (req, "_ref");
  g_autoptr(BerthImage) image = runtime_images_inspect (images_of (user_data), key, NULL);
  g_autofree char *name = key != NULL && *key != '\0' ? runtime_images_normalize_tag (key) : NULL;
  g_autoptr(GError) error = NULL;
  const char * const *tags;
  gboolean by_tag = FALSE, ok = TRUE;

  if (image == NULL)
    return TRUE;
  tags = berth_image_get_repo_tags (image);
  for (guint i = 0; name != NULL && tags != NULL && tags[i] != NULL; i++)
    by_tag = by_tag || g_str_equal (tags[i], name);
  if (by_tag)
    ok = berth_request_authorize (req, "image", name, access, &error);
  else if (tags == NULL || tags[0] == NULL)
    ok = berth_request_authorize (req, "image", berth_image_get_id (image), access, &error);
  else
    {
      /* write: every tag; read: one is enough */
      ok = access == BERTH_ACCESS_WRITE;
      for (guint i = 0; tags[i] != NULL && ok == (access == BERTH_ACCESS_WRITE); i++)
        {
          g_clear_error (&error);
          ok = berth_request_authorize (req, "image", tags[i], access, &error);
        }
    }
  if (ok)
    return TRUE;
  berth_request_respond_error (req, error);
  return FALSE;
}

/* `image` @access on the reference a request names in its query or body,
 * as the runtime records it ("base" is "docker.io/library/base:latest");
 * answers the refusal. */
static gboolean
authorize_ref (BerthRequest *req, const char *ref, BerthAccess access)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = *ref != '\0' ? runtime_images_normalize_tag (ref) : NULL;

  if (berth_request_authorize (req, "image", name != NULL ? name : ref, access, &error))
    return TRUE;
  berth_request_respond_error (req, error);
  return FALSE;
}

/* ------------------------------------------------------------ queries */

static void
images_list_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) images = runtime_images_list (images_of (user_data), &error);
  g_autoptr(JsonArray) array = NULL;
  g_autoptr(JsonNode) node = NULL;

  if (images == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  array = json_array_sized_new (images->len);
  for (guint i = 0; i < images->len; i++)
    {
      JsonNode *shown = readable_image_json (req, g_ptr_array_index (images, i), FALSE);
      if (shown != NULL)
        json_array_add_element (array, shown);
    }
  node = json_node_init_array (json_node_alloc (), array);
  berth_request_respond_json (req, 200, node);
}

static void
images_disk_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  RuntimeImagesUsage usage = { 0 };

  if (!runtime_images_get_usage (images_of (user_data), &usage, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Images");
  json_builder_add_int_value (b, usage.images);
  json_builder_set_member_name (b, "Layers");
  json_builder_add_int_value (b, usage.layers);
  json_builder_set_member_name (b, "LayersSize");
  json_builder_add_int_value (b, usage.layers_size);
  json_builder_set_member_name (b, "ImagesSize");
  json_builder_add_int_value (b, usage.images_size);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  berth_request_respond_json (req, 200, node);
}

static void
images_inspect_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BerthImage) image = runtime_images_inspect (images_of (user_data),
                                                        berth_request_get_param (req, "_ref"), &error);
  g_autoptr(JsonNode) node = NULL;

  if (image == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (!authorize_key (req, user_data, BERTH_ACCESS_READ))
    return;
  /* the image's other names only as far as the caller may read them */
  node = readable_image_json (req, image, TRUE);
  if (node == NULL)
    {
      g_set_error (&error, BERTH_ERROR, BERTH_ERROR_DENIED, _("Permission denied"));
      berth_request_respond_error (req, error);
      return;
    }
  berth_request_respond_json (req, 200, node);
}

/* ------------------------------------------------------------ removal */

/* A removal as {"Untagged", "Deleted" (images, then layers)}; a prune as
 * {"ImagesDeleted", "LayersDeleted", "SpaceReclaimed"}. */
static void
respond_removal (BerthRequest *req, RuntimeImagesRemoval *removal, const GError *error, gboolean prune)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;

  if (removal == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  json_builder_begin_object (b);
  if (prune)
    {
      add_strings (b, "ImagesDeleted", removal->deleted, NULL);
      add_strings (b, "LayersDeleted", removal->layers_deleted, NULL);
      json_builder_set_member_name (b, "SpaceReclaimed");
      json_builder_add_int_value (b, removal->reclaimed);
    }
  else
    {
      add_strings (b, "Untagged", removal->untagged, NULL);
      add_strings (b, "Deleted", removal->deleted, removal->layers_deleted);
    }
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  berth_request_respond_json (req, 200, node);
}

static void
images_remove_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RuntimeImagesRemoval) removal = NULL;
  gboolean force = FALSE;

  if (!query_flag (req, "force", &force) || !authorize_key (req, user_data, BERTH_ACCESS_WRITE))
    return;
  removal = runtime_images_remove (images_of (user_data), berth_request_get_param (req, "_ref"), force, &error);
  respond_removal (req, removal, error, FALSE);
}

static void
images_prune_cb (BerthRequest *req, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RuntimeImagesRemoval) removal = NULL;
  gboolean all = FALSE;

  /* a prune removes images of every name: it needs write on every one */
  if (!query_flag (req, "all", &all) || !authorize_ref (req, "", BERTH_ACCESS_WRITE))
    return;
  removal = runtime_images_prune (images_of (user_data), all, &error);
  respond_removal (req, removal, error, TRUE);
}

/* --------------------------------------------------------------- pull */

typedef struct {
  RuntimePlugin *plugin;
  BerthStream   *stream;
  BerthProgress *progress;
  gulong         changed_id;
  char          *ref;
} PullCall;

static void
pull_call_free (PullCall *call)
{
  g_clear_signal_handler (&call->changed_id, call->progress);
  g_object_unref (call->progress);
  g_object_unref (call->stream);
  g_object_unref (call->plugin);
  g_free (call->ref);
  g_free (call);
}

/* One line per step, Docker's shape: {"status", "id", "progressDetail":
 * {"current", "total"}}. */
static void
progress_changed_cb (BerthProgress *progress, gpointer user_data)
{
  PullCall *call = user_data;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  const char *id = berth_progress_get_id (progress);
  guint64 current = berth_progress_get_current (progress);
  guint64 total = berth_progress_get_total (progress);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, berth_progress_get_status (progress));
  if (id != NULL)
    {
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, id);
    }
  if (total > 0 || current > 0)
    {
      json_builder_set_member_name (b, "progressDetail");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "current");
      json_builder_add_int_value (b, (gint64) current);
      json_builder_set_member_name (b, "total");
      json_builder_add_int_value (b, (gint64) total);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  berth_stream_write_json_line (call->stream, node);
}

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
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_message (_("pull of %s: the client went away"), call->ref);
      else
        g_message (_("pull of %s failed: %s"), call->ref, error->message);
    }
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  berth_stream_write_json_line (call->stream, node);
  berth_stream_close (call->stream);
  pull_call_free (call);
}

/* POST /api/images/pull?ref=NAME (or {"ref": NAME}): streams
 * newline-delimited JSON progress, ending with {"status":"Pulled"} or
 * {"error": ...}. The pull stops when the client goes away, unless
 * another caller waits for the same image. */
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
  if (!authorize_ref (req, ref, BERTH_ACCESS_WRITE))
    return;
  call = g_new0 (PullCall, 1);
  call->plugin = g_object_ref (RUNTIME_PLUGIN (user_data));
  call->ref = g_strdup (ref);
  call->progress = berth_progress_new ();
  call->changed_id = g_signal_connect (call->progress, "changed", G_CALLBACK (progress_changed_cb), call);
  call->stream = berth_stream_new (req, "application/json");
  runtime_images_pull_async (images_of (user_data), ref, call->progress,
                             berth_stream_get_cancellable (call->stream), pull_done_cb, call);
}

/* ------------------------------------------------- import and export */

typedef struct {
  RuntimePlugin *plugin;
  BerthRequest  *req;
} FileCall;

static FileCall *
file_call_new (BerthRequest *req, gpointer user_data)
{
  FileCall *call = g_new0 (FileCall, 1);
  call->plugin = g_object_ref (RUNTIME_PLUGIN (user_data));
  call->req = g_object_ref (req);
  return call;
}

static void
file_call_free (FileCall *call)
{
  g_object_unref (call->plugin);
  g_object_unref (call->req);
  g_free (call);
}

static void
import_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FileCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) images = runtime_images_import_finish (runtime_plugin_get_images (call->plugin),
                                                              result, &error);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;

  if (images == NULL)
    {
      berth_request_respond_error (call->req, error);
      file_call_free (call);
      return;
    }
  json_builder_begin_array (b);
  for (guint i = 0; i < images->len; i++)
    {
      BerthImage *image = g_ptr_array_index (images, i);
      const char * const *tags = berth_image_get_repo_tags (image);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "Id");
      json_builder_add_string_value (b, berth_image_get_id (image));
      json_builder_set_member_name (b, "RepoTags");
      json_builder_begin_array (b);
      for (guint j = 0; tags[j] != NULL; j++)
        json_builder_add_string_value (b, tags[j]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  node = json_builder_get_root (b);
  berth_request_respond_json (call->req, 200, node);
  file_call_free (call);
}

/* POST /api/images/import[?tag=NAME] with the tar as the body: an OCI
 * image layout or a `docker save` archive. */
static void
images_import_cb (BerthRequest *req, gpointer user_data)
{
  GBytes *body = berth_request_get_body (req);

  if (refuse_path (req))
    return;
  if (body == NULL || g_bytes_get_size (body) == 0)
    {
      berth_request_respond_message (req, 400,
                                     _("Send the archive (a tar: OCI image layout or docker save) as the body"));
      return;
    }
  /* the archive's own names are only known once it is read: without
   * ?tag= an import needs write on every image name ("") */
  if (!authorize_ref (req, berth_request_get_query (req, "tag") != NULL ? berth_request_get_query (req, "tag") : "",
                      BERTH_ACCESS_WRITE))
    return;
  runtime_images_import_async (images_of (user_data), body, berth_request_get_query (req, "tag"),
                               berth_request_get_cancellable (req), import_done_cb, file_call_new (req, user_data));
}

static void
export_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FileCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) tar = runtime_images_export_finish (runtime_plugin_get_images (call->plugin), result,
                                                        &error);

  if (tar == NULL)
    berth_request_respond_error (call->req, error);
  else
    berth_request_respond (call->req, 200, "application/x-tar", tar);
  file_call_free (call);
}

/* GET or POST /api/images/export?ref=NAME: the image as a tar (OCI image
 * layout and docker's manifest.json) in the response body. */
static void
images_export_cb (BerthRequest *req, gpointer user_data)
{
  const char *ref = berth_request_get_query (req, "ref");

  if (refuse_path (req))
    return;
  if (ref == NULL || *ref == '\0')
    {
      berth_request_respond_message (req, 400, _("Missing ?ref="));
      return;
    }
  if (!authorize_ref (req, ref, BERTH_ACCESS_READ))
    return;
  runtime_images_export_async (images_of (user_data), ref, berth_request_get_cancellable (req), export_done_cb,
                               file_call_new (req, user_data));
}

static const BerthRouteSpec routes[] = {
  { BERTH_METHOD_GET, "/api/images", "image", BERTH_ACCESS_READ, images_list_cb },
  { BERTH_METHOD_GET, "/api/images/_disk", "image", BERTH_ACCESS_READ, images_disk_cb },
  { BERTH_METHOD_POST, "/api/images/pull", "image", BERTH_ACCESS_WRITE, images_pull_cb },
  { BERTH_METHOD_POST, "/api/images/prune", "image", BERTH_ACCESS_WRITE, images_prune_cb },
  { BERTH_METHOD_POST, "/api/images/import", "image", BERTH_ACCESS_WRITE, images_import_cb },
  { BERTH_METHOD_GET | BERTH_METHOD_POST, "/api/images/export", "image", BERTH_ACCESS_READ, images_export_cb },
  { BERTH_METHOD_GET, "/api/images/*_ref", "image", BERTH_ACCESS_READ, images_inspect_cb },
  { BERTH_METHOD_DELETE, "/api/images/*_ref", "image", BERTH_ACCESS_WRITE, images_remove_cb },
};

void
runtime_images_http_add_routes (RuntimePlugin *plugin)
{
  berth_context_add_routes (berth_plugin_get_context (BERTH_PLUGIN (plugin)), routes, G_N_ELEMENTS (routes),
                            plugin);
}
