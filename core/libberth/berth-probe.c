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

/**
 * SECTION:berth-probe
 * @title: BerthProbe
 * @short_description: one health probe: HTTP, TCP or a command
 *
 * The one health-check engine of Berth: discovery's Consul checks and the
 * scheduler's Marathon health checks both describe what to probe with a
 * #BerthProbe and run it with berth_probe_run_async() whenever they want
 * a result. The probe judges as Consul does:
 *
 * - HTTP: a 2xx answer is %BERTH_HEALTH_PASSING, 429 (Too Many Requests)
 *   %BERTH_HEALTH_WARNING, anything else or no answer
 *   %BERTH_HEALTH_CRITICAL. The output is the status line and the first
 *   bytes of the body. Redirects are followed.
 * - TCP: a connection made in time is %BERTH_HEALTH_PASSING, otherwise
 *   %BERTH_HEALTH_CRITICAL.
 * - Command: exit status 0 is %BERTH_HEALTH_PASSING, 1
 *   %BERTH_HEALTH_WARNING, anything else (or a signal, or no start)
 *   %BERTH_HEALTH_CRITICAL. The output is the first bytes of stdout and
 *   stderr together; the rest is read and dropped. On timeout the command's
 *   whole process group is killed.
 *
 * A probe that does not finish within its timeout is
 * %BERTH_HEALTH_CRITICAL with an output that says so; only the caller's
 * own cancellable makes berth_probe_run_finish() fail (with
 * %G_IO_ERROR_CANCELLED). I/O is asynchronous on the thread-default main
 * context of the caller, which must keep using the probe from that thread.
 * Several runs of one probe may overlap.
 *
 * |[<!-- language="C" -->
 * g_autoptr(BerthProbe) probe = berth_probe_new_http ("GET", "http://127.0.0.1:8080/health");
 * berth_probe_set_timeout (probe, 2000);
 * berth_probe_run_async (probe, cancellable, probe_done_cb, self);
 * ...
 * g_autofree char *output = NULL;
 * BerthHealth health = berth_probe_run_finish (probe, result, &output, &error);
 * ]|
 *
 * Command probes run on the host: whoever offers them to API clients must
 * keep them behind `[berthd] enable_script_checks` (or discovery's own
 * switch).
 *
 * Since: 0.1
 */


G_DEFINE_FINAL_TYPE (BerthProbe, berth_probe, G_TYPE_OBJECT)

/**
 * berth_health_to_string:
 * @health: a #BerthHealth
 *
 * Returns: Consul's name of @health: `passing`, `warning` or `critical`
 *
 * Since: 0.1
 */
const char *
berth_health_to_string (BerthHealth health)
{
  switch (health)
    {
    case BERTH_HEALTH_PASSING:
      return "passing";
    case BERTH_HEALTH_WARNING:
      return "warning";
    case BERTH_HEALTH_CRITICAL:
    default:
      return "critical";
    }
}

/**
 * berth_health_from_string:
 * @text: (nullable): `passing`, `warning` or `critical`
 * @health: (out) (optional): where to store the health
 *
 * Returns: whether @text names a health
 *
 * Since: 0.1
 */
gboolean
berth_health_from_string (const char *text, BerthHealth *health)
{
  BerthHealth h;

  if (g_strcmp0 (text, "passing") == 0)
    h = BERTH_HEALTH_PASSING;
  else if (g_strcmp0 (text, "warning") == 0)
    h = BERTH_HEALTH_WARNING;
  else if (g_strcmp0 (text, "critical") == 0)
    h = BERTH_HEALTH_CRITICAL;
  else
    return FALSE;
  if (health != NULL)
    *health = h;
  return TRUE;
}

static void
berth_probe_finalize (GObject *object)
{
  BerthProbe *self = BERTH_PROBE (object);

  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);
  g_free (self->method);
  g_free (self->url);
  g_clear_pointer (&self->headers, g_ptr_array_unref);
  g_clear_pointer (&self->body, g_bytes_unref);
  g_free (self->address);
  g_strfreev (self->argv);
  g_clear_pointer (&self->env, g_ptr_array_unref);
  G_OBJECT_CLASS (berth_probe_parent_class)->finalize (object);
}

static void
berth_probe_class_init (BerthProbeClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = berth_probe_finalize;
}

static void
berth_probe_init (BerthProbe *self)
{
  self->timeout_ms = BERTH_PROBE_DEFAULT_TIMEOUT;
  self->max_output = BERTH_PROBE_DEFAULT_MAX_OUTPUT;
}

/**
 * berth_probe_new_http:
 * @method: (nullable): the HTTP method, `GET` when %NULL
 * @url: an `http:` or `https:` URL
 *
 * A probe that sends one request. An unusable URL is not an error here:
 * every run of the probe is then %BERTH_HEALTH_CRITICAL.
 *
 * Returns: (transfer full): a new probe
 *
 * Since: 0.1
 */
BerthProbe *
berth_probe_new_http (const char *method, const char *url)
{
  BerthProbe *self;

  g_return_val_if_fail (url != NULL, NULL);

  self = g_object_new (BERTH_TYPE_PROBE, NULL);
  self->kind = BERTH_PROBE_HTTP;
  self->method = g_strdup (method != NULL && *method != '\0' ? method : "GET");
  self->url = g_strdup (url);
  self->headers = g_ptr_array_new_with_free_func (g_free);
  return self;
}

/**
 * berth_probe_new_tcp:
 * @address: `host:port`, `[v6]:port`, or a host alone
 * @default_port: the port when @address names none
 *
 * A probe that connects and hangs up.
 *
 * Returns: (transfer full): a new probe
 *
 * Since: 0.1
 */
BerthProbe *
berth_probe_new_tcp (const char *address, guint16 default_port)
{
  BerthProbe *self;

  g_return_val_if_fail (address != NULL, NULL);

  self = g_object_new (BERTH_TYPE_PROBE, NULL);
  self->kind = BERTH_PROBE_TCP;
  self->address = g_strdup (address);
  self->default_port = default_port;
  return self;
}

/**
 * berth_probe_new_command:
 * @argv: (array zero-terminated=1): the program (looked up in `PATH`) and
 *   its arguments
 *
 * A probe that runs a command on this host.
 *
 * Returns: (transfer full): a new probe
 *
 * Since: 0.1
 */
BerthProbe *
berth_probe_new_command (const char * const *argv)
{
  BerthProbe *self;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  self = g_object_new (BERTH_TYPE_PROBE, NULL);
  self->kind = BERTH_PROBE_COMMAND;
  self->argv = g_strdupv ((char **) argv);
  self->env = g_ptr_array_new_with_free_func (g_free);
  return self;
}

/**
 * berth_probe_new_shell:
 * @command: a shell command line
 *
 * A probe that runs `/bin/sh -c @command` on this host.
 *
 * Returns: (transfer full): a new probe
 *
 * Since: 0.1
 */
BerthProbe *
berth_probe_new_shell (const char *command)
{
  const char *argv[] = { "/bin/sh", "-c", command, NULL };

  g_return_val_if_fail (command != NULL, NULL);
  return berth_probe_new_command (argv);
}

/**
 * berth_probe_get_kind:
 * @self: a #BerthProbe
 *
 * Returns: what the probe does
 *
 * Since: 0.1
 */
BerthProbeKind
berth_probe_get_kind (BerthProbe *self)
{
  g_return_val_if_fail (BERTH_IS_PROBE (self), BERTH_PROBE_HTTP);
  return self->kind;
}

/**
 * berth_probe_add_header:
 * @self: an HTTP #BerthProbe
 * @name: a header name
 * @value: its value
 *
 * Adds a request header; a name may be given several times. Without a
 * `User-Agent` of its own the request says `Berth Health Check`.
 *
 * Since: 0.1
 */
void
berth_probe_add_header (BerthProbe *self, const char *name, const char *value)
{
  g_return_if_fail (BERTH_IS_PROBE (self));
  g_return_if_fail (self->kind == BERTH_PROBE_HTTP);
  g_return_if_fail (name != NULL && value != NULL);

  g_ptr_array_add (self->headers, g_strdup (name));
  g_ptr_array_add (self->headers, g_strdup (value));
}

/**
 * berth_probe_set_body:
 * @self: an HTTP #BerthProbe
 * @body: (nullable): the request body
 *
 * Sets what the request sends; its type comes from a `Content-Type`
 * header, if any.
 *
 * Since: 0.1
 */
void
berth_probe_set_body (BerthProbe *self, GBytes *body)
{
  g_return_if_fail (BERTH_IS_PROBE (self));
  g_return_if_fail (self->kind == BERTH_PROBE_HTTP);

  g_clear_pointer (&self->body, g_bytes_unref);
  if (body != NULL)
    self->body = g_bytes_ref (body);
}

/**
 * berth_probe_set_tls_skip_verify:
 * @self: an HTTP #BerthProbe
 * @skip_verify: whether any server certificate is accepted
 *
 * Since: 0.1
 */
void
berth_probe_set_tls_skip_verify (BerthProbe *self, gboolean skip_verify)
{
  g_return_if_fail (BERTH_IS_PROBE (self));
  g_return_if_fail (self->kind == BERTH_PROBE_HTTP);

  self->skip_verify = !!skip_verify;
}

/**
 * berth_probe_setenv:
 * @self: a command #BerthProbe
 * @name: a variable name
 * @value: its value
 *
 * Sets a variable in the command's environment, which is otherwise the
 * daemon's.
 *
 * Since: 0.1
 */
void
berth_probe_setenv (BerthProbe *self, const char *name, const char *value)
{
  g_return_if_fail (BERTH_IS_PROBE (self));
  g_return_if_fail (self->kind == BERTH_PROBE_COMMAND);
  g_return_if_fail (name != NULL && *name != '\0' && strchr (name, '=') == NULL);
  g_return_if_fail (value != NULL);

  g_ptr_array_add (self->env, g_strdup (name));
  g_ptr_array_add (self->env, g_strdup (value));
}

/**
 * berth_probe_set_timeout:
 * @self: a #BerthProbe
 * @timeout_ms: how long a run may take, in milliseconds; 0 for no limit
 *
 * The default is %BERTH_PROBE_DEFAULT_TIMEOUT.
 *
 * Since: 0.1
 */
void
berth_probe_set_timeout (BerthProbe *self, guint timeout_ms)
{
  g_return_if_fail (BERTH_IS_PROBE (self));
  self->timeout_ms = timeout_ms;
}

/**
 * berth_probe_get_timeout:
 * @self: a #BerthProbe
 *
 * Returns: how long a run may take, in milliseconds; 0 for no limit
 *
 * Since: 0.1
 */
guint
berth_probe_get_timeout (BerthProbe *self)
{
  g_return_val_if_fail (BERTH_IS_PROBE (self), 0);
  return self->timeout_ms;
}

/**
 * berth_probe_set_max_output:
 * @self: a #BerthProbe
 * @max_output: how many bytes of a body or a command's output to keep
 *
 * The default is %BERTH_PROBE_DEFAULT_MAX_OUTPUT.
 *
 * Since: 0.1
 */
void
berth_probe_set_max_output (BerthProbe *self, gsize max_output)
{
  g_return_if_fail (BERTH_IS_PROBE (self));
  self->max_output = max_output;
}

/**
 * berth_probe_get_http_status:
 * @self: an HTTP #BerthProbe
 *
 * Returns: the HTTP status of the last run that got an answer, 0 before
 *
 * Since: 0.1
 */
guint
berth_probe_get_http_status (BerthProbe *self)
{
  g_return_val_if_fail (BERTH_IS_PROBE (self), 0);
  return self->http_status;
}
