/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>

#include "runtime-task-api.h"

/* Async requests to berthd's own REST API through its unix socket. When
 * the client is freed, calls in flight are cancelled and their callbacks
 * are not run (only their destroy notifies). */

struct _RuntimeTaskApi {
  SoupSession  *session;
  GCancellable *cancellable;
};

typedef struct {
  RuntimeTaskApiDone  done;
  gpointer            user_data;
  GDestroyNotify      destroy;
  GCancellable       *cancellable;
  SoupMessage        *message;
} Call;

static void
call_free (Call *c)
{
  if (c->destroy != NULL)
    c->destroy (c->user_data);
  g_object_unref (c->cancellable);
  g_clear_object (&c->message);
  g_free (c);
}

RuntimeTaskApi *
runtime_task_api_new (const char *socket_path)
{
  RuntimeTaskApi *self = g_new0 (RuntimeTaskApi, 1);
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (socket_path);

  self->session = soup_session_new_with_options ("remote-connectable", address, "timeout", 0, NULL);
  soup_session_set_proxy_resolver (self->session, NULL);
  self->cancellable = g_cancellable_new ();
  return self;
}

void
runtime_task_api_free (RuntimeTaskApi *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  soup_session_abort (self->session);
  g_object_unref (self->session);
  g_object_unref (self->cancellable);
  g_free (self);
}

static void
sent_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *c = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);

  if (!g_cancellable_is_cancelled (c->cancellable))
    {
      if (body == NULL)
        c->done (0, NULL, error->message, c->user_data);
      else
        c->done (soup_message_get_status (c->message), body, NULL, c->user_data);
    }
  call_free (c);
}

void
runtime_task_api_call (RuntimeTaskApi *self, const char *method, const char *path, JsonNode *body,
                       RuntimeTaskApiDone done, gpointer user_data, GDestroyNotify destroy)
{
  g_autofree char *url = g_strconcat ("http://localhost", path, NULL);
  Call *c = g_new0 (Call, 1);

  c->done = done;
  c->user_data = user_data;
  c->destroy = destroy;
  c->cancellable = g_object_ref (self->cancellable);
  c->message = soup_message_new (method, url);
  if (c->message == NULL)
    {
      done (0, NULL, _("invalid request path"), user_data);
      call_free (c);
      return;
    }
  if (body != NULL)
    {
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      g_autoptr(GBytes) bytes = NULL;
      gsize len = 0;
      char *text;
      json_generator_set_root (gen, body);
      text = json_generator_to_data (gen, &len);
      bytes = g_bytes_new_take (text, len);
      soup_message_set_request_body_from_bytes (c->message, "application/json", bytes);
    }
  soup_session_send_and_read_async (self->session, c->message, G_PRIORITY_DEFAULT, self->cancellable, sent_cb, c);
}

JsonNode *
runtime_task_api_parse (GBytes *body)
{
  return body != NULL ? berth_json_parse_bytes (body, NULL) : NULL;
}
