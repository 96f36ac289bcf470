/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-time.h"

#include "berth-log-line.h"

/**
 * SECTION:berth-log-line
 * @title: BerthLogLine
 * @short_description: one line of a task's or container's output
 *
 * What a #BerthLogSource yields: when the line was written, on which
 * stream, its text (without the newline), whether it is a partial line
 * (the writer had not ended it, e.g. a progress bar or a line longer than
 * the runtime's buffer), and where it came from: the container, the task
 * and app it runs for, and the line's byte offset in that source's log, so
 * a reader can resume after a restart.
 */

struct _BerthLogLine {
  GObject         parent_instance;
  gint64          timestamp;
  BerthLogStream  stream;
  char           *text;
  gboolean        partial;
  char           *container_id;
  char           *task_id;
  char           *app_id;
  guint64         offset;
};

G_DEFINE_FINAL_TYPE (BerthLogLine, berth_log_line, G_TYPE_OBJECT)

/**
 * berth_log_line_new:
 * @timestamp_us: when it was written, microseconds since the epoch
 * @stream: which output
 * @text: the text, without its newline
 * @partial: whether the line was not ended
 *
 * Returns: (transfer full): a new line
 */
BerthLogLine *
berth_log_line_new (gint64 timestamp_us, BerthLogStream stream, const char *text, gboolean partial)
{
  BerthLogLine *self;

  g_return_val_if_fail (text != NULL, NULL);

  self = g_object_new (BERTH_TYPE_LOG_LINE, NULL);
  self->timestamp = timestamp_us;
  self->stream = stream;
  self->text = g_strdup (text);
  self->partial = partial;
  return self;
}

/**
 * berth_log_line_set_source:
 * @self: a #BerthLogLine
 * @container_id: (nullable): the container that wrote it
 * @task_id: (nullable): the task it runs for
 * @app_id: (nullable): the app of that task
 * @offset: the line's byte offset in its source's log
 *
 * Says where the line came from.
 */
void
berth_log_line_set_source (BerthLogLine *self, const char *container_id, const char *task_id,
                           const char *app_id, guint64 offset)
{
  g_return_if_fail (BERTH_IS_LOG_LINE (self));

  g_free (self->container_id);
  self->container_id = g_strdup (container_id);
  g_free (self->task_id);
  self->task_id = g_strdup (task_id);
  g_free (self->app_id);
  self->app_id = g_strdup (app_id);
  self->offset = offset;
}

/**
 * berth_log_line_get_timestamp:
 * @self: a #BerthLogLine
 *
 * Returns: when it was written, microseconds since the epoch
 */
gint64
berth_log_line_get_timestamp (BerthLogLine *self)
{
  g_return_val_if_fail (BERTH_IS_LOG_LINE (self), 0);
  return self->timestamp;
}

/**
 * berth_log_line_get_stream:
 * @self: a #BerthLogLine
 *
 * Returns: which output it came from
 */
BerthLogStream
berth_log_line_get_stream (BerthLogLine *self)
{
  g_return_val_if_fail (BERTH_IS_LOG_LINE (self), BERTH_LOG_STREAM_STDOUT);
  return self->stream;
}

/**
 * berth_log_line_get_text:
 * @self: a #BerthLogLine
 *
 * Returns: the text
 */
const char *
berth_log_line_get_text (BerthLogLine *self)
{
  g_return_val_if_fail (BERTH_IS_LOG_LINE (self), NULL);
  return self->text;
}

/**
 * berth_log_line_get_partial:
 * @self: a #BerthLogLine
 *
 * Returns: whether the writer had not ended the line
 */
gboolean
berth_log_line_get_partial (BerthLogLine *self)
{
  g_return_val_if_fail (BERTH_IS_LOG_LINE (self), FALSE);
  return self->partial;
}

/**
 * berth_log_line_get_container_id:
 * @self: a #BerthLogLine
 *
 * Returns: (nullable): the container that wrote it
 */
const char *
berth_log_line_get_container_id (BerthLogLine *self)
{
  g_return_val_if_fail (BERTH_IS_LOG_LINE (self), NULL);
  return self->container_id;
}

/**
 * berth_log_line_get_task_id:
 * @self: a #BerthLogLine
 *
 * Returns: (nullable): the task it runs for
 */
const char *
berth_log_line_get_task_id (BerthLogLine *self)
{
  g_return_val_if_fail (BERTH_IS_LOG_LINE (self), NULL);
  return self->task_id;
}

/**
 * berth_log_line_get_app_id:
 * @self: a #BerthLogLine
 *
 * Returns: (nullable): the app of its task
 */
const char *
berth_log_line_get_app_id (BerthLogLine *self)
{
  g_return_val_if_fail (BERTH_IS_LOG_LINE (self), NULL);
  return self->app_id;
}

/**
 * berth_log_line_get_offset:
 * @self: a #BerthLogLine
 *
 * Returns: the line's byte offset in its source's log
 */
guint64
berth_log_line_get_offset (BerthLogLine *self)
{
  g_return_val_if_fail (BERTH_IS_LOG_LINE (self), 0);
  return self->offset;
}

/**
 * berth_log_line_to_json:
 * @self: a #BerthLogLine
 *
 * Returns: (transfer full): `{"@timestamp", "stream", "message",
 *   "partial", "container", "task_id", "app_id", "offset"}`
 */
JsonNode *
berth_log_line_to_json (BerthLogLine *self)
{
  g_autoptr(JsonObject) obj = json_object_new ();
  g_autofree char *when = NULL;
  JsonNode *node;

  g_return_val_if_fail (BERTH_IS_LOG_LINE (self), NULL);

  when = berth_timestamp_format (self->timestamp);
  json_object_set_string_member (obj, "@timestamp", when);
  json_object_set_string_member (obj, "stream",
                                 self->stream == BERTH_LOG_STREAM_STDERR ? "stderr" : "stdout");
  json_object_set_string_member (obj, "message", self->text);
  json_object_set_boolean_member (obj, "partial", self->partial);
  if (self->container_id != NULL)
    json_object_set_string_member (obj, "container", self->container_id);
  if (self->task_id != NULL)
    json_object_set_string_member (obj, "task_id", self->task_id);
  if (self->app_id != NULL)
    json_object_set_string_member (obj, "app_id", self->app_id);
  json_object_set_int_member (obj, "offset", (gint64) self->offset);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, obj);
  return node;
}

static void
berth_log_line_finalize (GObject *object)
{
  BerthLogLine *self = BERTH_LOG_LINE (object);

  g_free (self->text);
  g_free (self->container_id);
  g_free (self->task_id);
  g_free (self->app_id);
  G_OBJECT_CLASS (berth_log_line_parent_class)->finalize (object);
}

static void
berth_log_line_class_init (BerthLogLineClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = berth_log_line_finalize;
}

static void
berth_log_line_init (BerthLogLine *self)
{
}
