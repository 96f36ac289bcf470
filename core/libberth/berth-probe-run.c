/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "berth-probe.h"
#include "berth-probe-private.h"

/* Running a probe: one HTTP request, one TCP connection or one command,
 * bounded in time and in the output kept, judged as Consul judges. */

/* ---- one run ---------------------------------------------------------- */

typedef struct {
  BerthHealth  health;
  char        *output;
} Outcome;

static void
outcome_free (Outcome *o)
{
  g_free (o->output);
  g_free (o);
}

typedef struct {
  GCancellable  *cancellable;    /* ours: the caller's, or the timeout */
  GCancellable  *outer;
  gulong         outer_id;
  GSource       *timeout;
  gboolean       timed_out;
  SoupMessage   *msg;
  GSubprocess   *proc;
  GPid           pid;
  GInputStream  *stream;
  GByteArray    *kept;
  gboolean       drain;          /* read to the end, keeping the start */
  guint8         buf[8192];
} Run;

static void
run_free (Run *run)
{
  if (run->timeout != NULL)
    g_source_destroy (run->timeout);
  g_clear_pointer (&run->timeout, g_source_unref);
  if (run->outer_id != 0)
    g_cancellable_disconnect (run->outer, run->outer_id);
  g_clear_object (&run->outer);
  g_clear_object (&run->cancellable);
  g_clear_object (&run->msg);
  g_clear_object (&run->proc);
  if (run->stream != NULL && !g_input_stream_is_closed (run->stream))
    g_input_stream_close_async (run->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&run->stream);
  g_clear_pointer (&run->kept, g_byte_array_unref);
  g_free (run);
}

static char *
run_kept_text (Run *run)
{
  g_autofree char *text = NULL;

  if (run->kept->len == 0)
    return g_strdup ("");
  /* up to a NUL byte, as text */
  text = g_strndup ((const char *) run->kept->data, run->kept->len);
  return g_utf8_make_valid (text, -1);
}

/* Ends the run: an outcome, unless the caller cancelled. Takes @output. */
static void
run_return (GTask *task, BerthHealth health, char *output)
{
  Run *run = g_task_get_task_data (task);
  Outcome *o;

  if (run->timeout != NULL)
    {
      g_source_destroy (run->timeout);
      g_clear_pointer (&run->timeout, g_source_unref);
    }
  if (run->outer != NULL && g_cancellable_is_cancelled (run->outer))
    {
      g_free (output);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                               _("The probe was cancelled"));
      g_object_unref (task);
      return;
    }
  o = g_new0 (Outcome, 1);
  o->health = health;
  o->output = output;
  g_task_return_pointer (task, o, (GDestroyNotify) outcome_free);
  g_object_unref (task);
}

/* Why an I/O step failed, in words: the timeout or the error. */
static const char *
run_failure (Run *run, const GError *error, const char *timed_out)
{
  if (run->timed_out && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return timed_out;
  return error->message;
}

static void
outer_cancelled_cb (GCancellable *outer, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static void
kill_group (Run *run)
{
  /* only while the leader is not reaped yet: its pid (and group id) is
   * still ours then */
  if (run->proc != NULL && run->pid > 0 && g_subprocess_get_identifier (run->proc) != NULL)
    kill (-run->pid, SIGKILL);
  if (run->proc != NULL)
    g_subprocess_force_exit (run->proc);
}

static gboolean
timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);

  run->timed_out = TRUE;
  g_clear_pointer (&run->timeout, g_source_unref);
  kill_group (run);
  g_cancellable_cancel (run->cancellable);
  return G_SOURCE_REMOVE;
}

/* Reads the run's stream into kept (at most max_output bytes), then calls
 * @done with the last read's result: the end, or an error. Without drain
 * it stops once max_output bytes are kept. */
typedef struct {
  GTask               *task;
  GAsyncReadyCallback  done;
} ReadStep;

static void read_more (GTask *task, GAsyncReadyCallback done);

static void
read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReadStep *step = user_data;
  GTask *task = step->task;
  GAsyncReadyCallback done = step->done;
  BerthProbe *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  gssize n;

  g_free (step);
  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  if (n > 0)
    {
      if (run->kept->len < self->max_output)
        g_byte_array_append (run->kept, run->buf,
                             (guint) MIN ((gsize) n, self->max_output - run->kept->len));
      if (run->drain || run->kept->len < self->max_output)
        {
          read_more (task, done);
          return;
        }
    }
  /* the end, a full buffer, or an error (@done sees a timeout through
   * the cancellable, and goes on with what was read otherwise) */
  done (source, NULL, task);
}

static void
read_more (GTask *task, GAsyncReadyCallback done)
{
  Run *run = g_task_get_task_data (task);
  ReadStep *step = g_new0 (ReadStep, 1);

  step->task = task;
  step->done = done;
  g_input_stream_read_async (run->stream, run->buf, sizeof run->buf, G_PRIORITY_DEFAULT,
                             run->cancellable, read_cb, step);
}

/* ---- HTTP ------------------------------------------------------------- */

static gboolean
accept_certificate_cb (SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors,
                       gpointer user_data)
{
  return TRUE;
}

static void
http_fail (GTask *task, const char *reason)
{
  BerthProbe *self = g_task_get_source_object (task);

  run_return (task, BERTH_HEALTH_CRITICAL,
              g_strdup_printf ("HTTP %s %s: %s", self->method, self->url, reason));
}

static void
http_body_done (GObject *source, GAsyncResult *unused, gpointer user_data)
{
  GTask *task = user_data;
  BerthProbe *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  guint status = soup_message_get_status (run->msg);
  const char *reason = soup_message_get_reason_phrase (run->msg);
  g_autofree char *body = NULL;
  BerthHealth health;

  if (g_cancellable_is_cancelled (run->cancellable))
    {
      http_fail (task, run->timed_out ? _("timed out") : _("cancelled"));
      return;
    }
  /* A TLS session resumed from a skip-verify probe's connection (the
   * session cache is process-wide) must not let a verifying probe pass:
   * check what the handshake proved. */
  if (g_str_has_prefix (self->url, "https:") && !self->skip_verify &&
      (soup_message_get_tls_peer_certificate (run->msg) == NULL ||
       soup_message_get_tls_peer_certificate_errors (run->msg) != 0))
    {
      http_fail (task, _("Unacceptable TLS certificate"));
      return;
    }
  self->http_status = status;
  body = run_kept_text (run);
  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    health = BERTH_HEALTH_PASSING;
  else if (status == 429 /* Too Many Requests */)
    health = BERTH_HEALTH_WARNING;
  else
    health = BERTH_HEALTH_CRITICAL;
  run_return (task, health,
              g_strdup_printf ("HTTP %s %s: %u %s Output: %s", self->method, self->url, status,
                               reason != NULL ? reason : "", body));
}

static void
http_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  run->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (run->stream == NULL)
    {
      http_fail (task, run_failure (run, error, _("timed out")));
      return;
    }
  read_more (task, http_body_done);
}

static void
run_http (GTask *task)
{
  BerthProbe *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  SoupMessageHeaders *headers;

  run->msg = soup_message_new (self->method, self->url);
  if (run->msg == NULL)
    {
      run_return (task, BERTH_HEALTH_CRITICAL, g_strdup ("invalid URL"));
      return;
    }
  headers = soup_message_get_request_headers (run->msg);
  for (guint i = 0; i + 1 < self->headers->len; i += 2)
    soup_message_headers_append (headers, g_ptr_array_index (self->headers, i),
                                 g_ptr_array_index (self->headers, i + 1));
  if (soup_message_headers_get_one (headers, "User-Agent") == NULL)
    soup_message_headers_replace (headers, "User-Agent", "Berth Health Check");
  if (self->body != NULL)
    soup_message_set_request_body_from_bytes (run->msg, NULL, self->body);
  if (self->skip_verify)
    g_signal_connect (run->msg, "accept-certificate", G_CALLBACK (accept_certificate_cb), NULL);
  if (self->session == NULL)
    self->session = soup_session_new_with_options ("idle-timeout", 30, "timeout", 0, NULL);
  soup_session_send_async (self->session, run->msg, G_PRIORITY_DEFAULT, run->cancellable,
                           http_sent_cb, task);
}

/* ---- TCP -------------------------------------------------------------- */

static void
tcp_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BerthProbe *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) conn = NULL;

  conn = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), result, &error);
  if (conn == NULL)
    {
      run_return (task, BERTH_HEALTH_CRITICAL,
                  g_strdup_printf ("TCP connect %s: %s", self->address,
                                   run_failure (run, error, _("timed out"))));
      return;
    }
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  run_return (task, BERTH_HEALTH_PASSING, g_strdup_printf ("TCP connect %s: Success", self->address));
}

static void
run_tcp (GTask *task)
{
  BerthProbe *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GSocketClient) client = g_socket_client_new ();

  g_socket_client_connect_to_host_async (client, self->address, self->default_port,
                                         run->cancellable, tcp_done_cb, task);
}

/* ---- command ---------------------------------------------------------- */

static void
command_child_setup (gpointer user_data)
{
  /* its own process group, so that a timeout kills what it started too */
  setpgid (0, 0);
}

static void
command_fail (GTask *task, const char *reason)
{
  Run *run = g_task_get_task_data (task);

  kill_group (run);
  run_return (task, BERTH_HEALTH_CRITICAL, g_strdup (reason));
}

static void
command_exited_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  GSubprocess *proc = G_SUBPROCESS (source);
  g_autoptr(GError) error = NULL;
  BerthHealth health;

  if (!g_subprocess_wait_finish (proc, result, &error))
    {
      command_fail (task, run_failure (run, error, _("Timed out running the check")));
      return;
    }
  if (g_subprocess_get_if_exited (proc) && g_subprocess_get_exit_status (proc) == 0)
    health = BERTH_HEALTH_PASSING;
  else if (g_subprocess_get_if_exited (proc) && g_subprocess_get_exit_status (proc) == 1)
    health = BERTH_HEALTH_WARNING;
  else
    health = BERTH_HEALTH_CRITICAL;
  run_return (task, health, run_kept_text (run));
}

static void
command_output_done (GObject *source, GAsyncResult *unused, gpointer user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);

  if (g_cancellable_is_cancelled (run->cancellable))
    {
      command_fail (task, run->timed_out ? _("Timed out running the check") : _("cancelled"));
      return;
    }
  g_subprocess_wait_async (run->proc, run->cancellable, command_exited_cb, task);
}

static void
run_command (GTask *task)
{
  BerthProbe *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  const char *identifier;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE |
                                        G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  for (guint i = 0; i + 1 < self->env->len; i += 2)
    g_subprocess_launcher_setenv (launcher, g_ptr_array_index (self->env, i),
                                  g_ptr_array_index (self->env, i + 1), TRUE);
  g_subprocess_launcher_set_child_setup (launcher, command_child_setup, NULL, NULL);
  run->proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) self->argv, &error);
  if (run->proc == NULL)
    {
      run_return (task, BERTH_HEALTH_CRITICAL, g_strdup (error->message));
      return;
    }
  identifier = g_subprocess_get_identifier (run->proc);
  run->pid = identifier != NULL ? (GPid) g_ascii_strtoll (identifier, NULL, 10) : 0;
  run->stream = g_object_ref (g_subprocess_get_stdout_pipe (run->proc));
  run->drain = TRUE;
  read_more (task, command_output_done);
}

/**
 * berth_probe_run_async:
 * @self: a #BerthProbe
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Probes once. Finish with berth_probe_run_finish().
 *
 * Since: 0.1
 */
void
berth_probe_run_async (BerthProbe *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                       gpointer user_data)
{
  GTask *task;
  Run *run;

  g_return_if_fail (BERTH_IS_PROBE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, berth_probe_run_async);
  g_task_set_check_cancellable (task, FALSE);
  run = g_new0 (Run, 1);
  run->cancellable = g_cancellable_new ();
  run->kept = g_byte_array_new ();
  g_task_set_task_data (task, run, (GDestroyNotify) run_free);
  if (cancellable != NULL)
    {
      run->outer = g_object_ref (cancellable);
      run->outer_id = g_cancellable_connect (cancellable, G_CALLBACK (outer_cancelled_cb),
                                             g_object_ref (run->cancellable), g_object_unref);
      if (g_cancellable_is_cancelled (cancellable))
        {
          run_return (task, BERTH_HEALTH_CRITICAL, NULL);
          return;
        }
    }
  if (self->timeout_ms > 0)
    {
      run->timeout = g_timeout_source_new (self->timeout_ms);
      g_task_attach_source (task, run->timeout, timeout_cb);
    }
  switch (self->kind)
    {
    case BERTH_PROBE_HTTP:
      run_http (task);
      break;
    case BERTH_PROBE_TCP:
      run_tcp (task);
      break;
    case BERTH_PROBE_COMMAND:
    default:
      run_command (task);
      break;
    }
}

/**
 * berth_probe_run_finish:
 * @self: a #BerthProbe
 * @result: the #GAsyncResult given to the callback
 * @output: (out) (optional) (transfer full): what the probe saw: an HTTP
 *   status line and body, a connection's outcome, a command's output
 * @error: return location for a #GError
 *
 * Returns: the health, or %BERTH_HEALTH_CRITICAL with @error set when the
 *   caller's cancellable cancelled the run
 *
 * Since: 0.1
 */
BerthHealth
berth_probe_run_finish (BerthProbe *self, GAsyncResult *result, char **output, GError **error)
{
  Outcome *o;
  BerthHealth health;

  g_return_val_if_fail (BERTH_IS_PROBE (self), BERTH_HEALTH_CRITICAL);
  g_return_val_if_fail (g_task_is_valid (result, self), BERTH_HEALTH_CRITICAL);
  g_return_val_if_fail (error == NULL || *error == NULL, BERTH_HEALTH_CRITICAL);

  if (output != NULL)
    *output = NULL;
  o = g_task_propagate_pointer (G_TASK (result), error);
  if (o == NULL)
    return BERTH_HEALTH_CRITICAL;
  health = o->health;
  if (output != NULL)
    *output = g_steal_pointer (&o->output);
  outcome_free (o);
  return health;
}
