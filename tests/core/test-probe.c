/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <berth.h>
#include <libsoup/soup.h>

/* Self-tests of the health-check engine against a tiny local HTTP server,
 * a local listening socket and small commands. */

typedef struct {
  GMainLoop   *loop;
  BerthHealth  health;
  char        *output;
  GError      *error;
} Wait;

static void
run_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *w = user_data;

  w->health = berth_probe_run_finish (BERTH_PROBE (source), result, &w->output, &w->error);
  g_main_loop_quit (w->loop);
}

/* Runs @probe to its end; returns the health, and its output in @output. */
static BerthHealth
run (BerthProbe *probe, GCancellable *cancellable, char **output, GError **error)
{
  Wait w = { 0 };

  w.loop = g_main_loop_new (NULL, FALSE);
  berth_probe_run_async (probe, cancellable, run_done_cb, &w);
  g_main_loop_run (w.loop);
  g_main_loop_unref (w.loop);
  if (output != NULL)
    *output = w.output;
  else
    g_free (w.output);
  if (w.error != NULL)
    g_propagate_error (error, w.error);
  return w.health;
}

/* ---- HTTP ------------------------------------------------------------- */

static void
server_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer user_data)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);

  /* no keep-alive: every connection is gone when the test ends */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");

  if (g_str_equal (path, "/ok"))
    {
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, "all good", 8);
    }
  else if (g_str_equal (path, "/busy"))
    soup_server_message_set_status (msg, 429, NULL);
  else if (g_str_equal (path, "/big"))
    {
      g_autofree char *big = g_strnfill (100000, 'x');
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, big, strlen (big));
    }
  else if (g_str_equal (path, "/echo"))
    {
      SoupMessageBody *body = soup_server_message_get_request_body (msg);
      g_autofree char *text = g_strdup_printf ("%s %s %s %.*s", soup_server_message_get_method (msg),
                                               soup_message_headers_get_one (req, "X-Probe") ?: "-",
                                               soup_message_headers_get_one (req, "User-Agent") ?: "-",
                                               (int) body->length, body->data != NULL ? body->data : "");
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, text, strlen (text));
    }
  else if (g_str_equal (path, "/slow"))
    {
      /* never answered: the probe times out */
      soup_server_message_pause (msg);
    }
  else
    soup_server_message_set_status (msg, 500, NULL);
}

/* libsoup's own listener leaks the sockets it accepts (as berthd, the
 * test accepts connections itself and hands them to the server). */
static gboolean
incoming_cb (GSocketService *service, GSocketConnection *conn, GObject *source, gpointer user_data)
{
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address (conn, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (conn, NULL);

  soup_server_accept_iostream (SOUP_SERVER (user_data), G_IO_STREAM (conn), local, remote, NULL);
  return TRUE;
}

static SoupServer *
start_server (char **base)
{
  g_autoptr(GError) error = NULL;
  SoupServer *server = soup_server_new (NULL, NULL);
  GSocketService *service = g_socket_service_new ();
  guint16 port;

  soup_server_add_handler (server, NULL, server_cb, NULL, NULL);
  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (incoming_cb), server);
  g_object_set_data_full (G_OBJECT (server), "service", service, g_object_unref);
  *base = g_strdup_printf ("http://127.0.0.1:%u/", port);
  return server;
}

/* Closes the server's connections before it goes: libsoup frees them
 * only once they are closed. */
static void
stop_server (SoupServer *server)
{
  gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC / 10;

  GSocketService *service = g_object_get_data (G_OBJECT (server), "service");

  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  soup_server_disconnect (server);
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
}

static BerthProbe *
http_probe (const char *method, const char *base, const char *path)
{
  g_autofree char *url = g_strconcat (base, path + 1, NULL);
  return berth_probe_new_http (method, url);
}

static void
test_http_status (void)
{
  g_autofree char *base = NULL;
  g_autoptr(SoupServer) server = start_server (&base);
  g_autoptr(GError) error = NULL;
  struct { const char *path; BerthHealth health; guint status; } cases[] = {
    { "/ok", BERTH_HEALTH_PASSING, 200 },
    { "/busy", BERTH_HEALTH_WARNING, 429 },
    { "/nothing", BERTH_HEALTH_CRITICAL, 500 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(BerthProbe) probe = http_probe (NULL, base, cases[i].path);
      g_autofree char *output = NULL;
      g_autofree char *prefix = g_strdup_printf ("HTTP GET %s%s: %u ", base, cases[i].path + 1,
                                                 cases[i].status);

      g_assert_cmpint (berth_probe_get_kind (probe), ==, BERTH_PROBE_HTTP);
      g_assert_cmpint (run (probe, NULL, &output, &error), ==, cases[i].health);
      g_assert_no_error (error);
      g_assert_true (g_str_has_prefix (output, prefix));
      g_assert_cmpuint (berth_probe_get_http_status (probe), ==, cases[i].status);
    }
  stop_server (server);
}

static void
test_http_request (void)
{
  g_autofree char *base = NULL;
  g_autoptr(SoupServer) server = start_server (&base);
  g_autoptr(BerthProbe) probe = http_probe ("PUT", base, "/echo");
  g_autoptr(BerthProbe) plain = http_probe ("GET", base, "/echo");
  g_autoptr(GBytes) body = g_bytes_new_static ("hello", 5);
  g_autofree char *output = NULL;
  g_autofree char *plain_output = NULL;

  berth_probe_add_header (probe, "X-Probe", "yes");
  berth_probe_add_header (probe, "User-Agent", "mine");
  berth_probe_set_body (probe, body);
  g_assert_cmpint (run (probe, NULL, &output, NULL), ==, BERTH_HEALTH_PASSING);
  g_assert_true (g_str_has_suffix (output, "Output: PUT yes mine hello"));
  g_assert_cmpint (run (plain, NULL, &plain_output, NULL), ==, BERTH_HEALTH_PASSING);
  g_assert_true (g_str_has_suffix (plain_output, "Output: GET - Berth Health Check "));
  stop_server (server);
}

static void
test_http_bounded (void)
{
  g_autofree char *base = NULL;
  g_autoptr(SoupServer) server = start_server (&base);
  g_autoptr(BerthProbe) probe = http_probe (NULL, base, "/big");
  g_autoptr(BerthProbe) small = http_probe (NULL, base, "/big");
  g_autofree char *output = NULL;
  g_autofree char *small_output = NULL;
  const char *body;

  g_assert_cmpint (run (probe, NULL, &output, NULL), ==, BERTH_HEALTH_PASSING);
  body = strstr (output, "Output: ") + strlen ("Output: ");
  g_assert_cmpuint (strlen (body), ==, BERTH_PROBE_DEFAULT_MAX_OUTPUT);
  berth_probe_set_max_output (small, 10);
  g_assert_cmpint (run (small, NULL, &small_output, NULL), ==, BERTH_HEALTH_PASSING);
  g_assert_true (g_str_has_suffix (small_output, "Output: xxxxxxxxxx"));
  stop_server (server);
}

static void
test_http_timeout (void)
{
  g_autofree char *base = NULL;
  g_autoptr(SoupServer) server = start_server (&base);
  g_autoptr(BerthProbe) probe = http_probe (NULL, base, "/slow");
  g_autoptr(BerthProbe) refused = berth_probe_new_http ("GET", "http://127.0.0.1:1/");
  g_autoptr(BerthProbe) invalid = berth_probe_new_http ("GET", "not a url");
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  g_autofree char *refused_output = NULL;
  g_autofree char *invalid_output = NULL;
  gint64 start = g_get_monotonic_time ();

  berth_probe_set_timeout (probe, 200);
  g_assert_cmpuint (berth_probe_get_timeout (probe), ==, 200);
  g_assert_cmpint (run (probe, NULL, &output, &error), ==, BERTH_HEALTH_CRITICAL);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (output, ": timed out"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);

  g_assert_cmpint (run (refused, NULL, &refused_output, &error), ==, BERTH_HEALTH_CRITICAL);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (refused_output, "HTTP GET http://127.0.0.1:1/: "));
  g_assert_cmpint (run (invalid, NULL, &invalid_output, &error), ==, BERTH_HEALTH_CRITICAL);
  g_assert_cmpstr (invalid_output, ==, "invalid URL");
  stop_server (server);
}

/* ---- TCP -------------------------------------------------------------- */

static void
test_tcp (void)
{
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *output = NULL;
  g_autofree char *closed_output = NULL;
  g_autoptr(BerthProbe) probe = NULL;
  g_autoptr(BerthProbe) closed = NULL;
  g_autoptr(BerthProbe) by_port = NULL;
  guint16 port;

  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  g_socket_service_start (service);
  address = g_strdup_printf ("127.0.0.1:%u", port);
  probe = berth_probe_new_tcp (address, 0);
  g_assert_cmpint (run (probe, NULL, &output, &error), ==, BERTH_HEALTH_PASSING);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (output, ": Success"));
  g_assert_true (g_str_has_prefix (output, "TCP connect 127.0.0.1:"));

  by_port = berth_probe_new_tcp ("127.0.0.1", port);
  g_assert_cmpint (run (by_port, NULL, NULL, &error), ==, BERTH_HEALTH_PASSING);

  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  closed = berth_probe_new_tcp (address, 0);
  g_assert_cmpint (run (closed, NULL, &closed_output, &error), ==, BERTH_HEALTH_CRITICAL);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (closed_output, "TCP connect "));
}

/* ---- command ---------------------------------------------------------- */

static void
test_command_status (void)
{
  const char *t[] = { "/bin/true", NULL };
  const char *f[] = { "/bin/false", NULL };
  g_autoptr(BerthProbe) yes = berth_probe_new_command (t);
  g_autoptr(BerthProbe) no = berth_probe_new_command (f);
  g_autoptr(BerthProbe) warn = berth_probe_new_shell ("echo careful; exit 1");
  g_autoptr(BerthProbe) bad = berth_probe_new_shell ("echo broken >&2; exit 2");
  g_autoptr(BerthProbe) env = berth_probe_new_shell ("echo \"$PORT0\"");
  g_autoptr(BerthProbe) missing = NULL;
  const char *nowhere[] = { "/nonexistent/berth-probe", NULL };
  g_autofree char *warn_output = NULL;
  g_autofree char *bad_output = NULL;
  g_autofree char *env_output = NULL;
  g_autofree char *missing_output = NULL;

  g_assert_cmpint (berth_probe_get_kind (yes), ==, BERTH_PROBE_COMMAND);
  g_assert_cmpint (run (yes, NULL, NULL, NULL), ==, BERTH_HEALTH_PASSING);
  g_assert_cmpint (run (no, NULL, NULL, NULL), ==, BERTH_HEALTH_WARNING);
  g_assert_cmpint (run (warn, NULL, &warn_output, NULL), ==, BERTH_HEALTH_WARNING);
  g_assert_cmpstr (warn_output, ==, "careful\n");
  g_assert_cmpint (run (bad, NULL, &bad_output, NULL), ==, BERTH_HEALTH_CRITICAL);
  g_assert_cmpstr (bad_output, ==, "broken\n");
  berth_probe_setenv (env, "PORT0", "8080");
  g_assert_cmpint (run (env, NULL, &env_output, NULL), ==, BERTH_HEALTH_PASSING);
  g_assert_cmpstr (env_output, ==, "8080\n");

  missing = berth_probe_new_command (nowhere);
  g_assert_cmpint (run (missing, NULL, &missing_output, NULL), ==, BERTH_HEALTH_CRITICAL);
  g_assert_nonnull (missing_output);
}

static void
test_command_bounded (void)
{
  g_autoptr(BerthProbe) probe = berth_probe_new_shell ("head -c 100000 /dev/zero | tr '\\0' y");
  g_autofree char *output = NULL;

  berth_probe_set_max_output (probe, 100);
  g_assert_cmpint (run (probe, NULL, &output, NULL), ==, BERTH_HEALTH_PASSING);
  g_assert_cmpuint (strlen (output), ==, 100);
}

static void
test_command_timeout (void)
{
  /* the shell forks sleep: the whole group goes on timeout */
  g_autoptr(BerthProbe) probe = berth_probe_new_shell ("sleep 30; true");
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  gint64 start = g_get_monotonic_time ();

  berth_probe_set_timeout (probe, 200);
  g_assert_cmpint (run (probe, NULL, &output, &error), ==, BERTH_HEALTH_CRITICAL);
  g_assert_no_error (error);
  g_assert_cmpstr (output, ==, "Timed out running the check");
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (void)
{
  const char *argv[] = { "sleep", "30", NULL };
  g_autoptr(BerthProbe) probe = berth_probe_new_command (argv);
  g_autoptr(BerthProbe) again = berth_probe_new_command (argv);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;

  g_timeout_add (100, cancel_cb, cancellable);
  g_assert_cmpint (run (probe, cancellable, &output, &error), ==, BERTH_HEALTH_CRITICAL);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (output);
  g_clear_error (&error);

  /* already cancelled */
  g_assert_cmpint (run (again, cancellable, NULL, &error), ==, BERTH_HEALTH_CRITICAL);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_health_names (void)
{
  BerthHealth h = BERTH_HEALTH_CRITICAL;

  g_assert_cmpstr (berth_health_to_string (BERTH_HEALTH_PASSING), ==, "passing");
  g_assert_cmpstr (berth_health_to_string (BERTH_HEALTH_WARNING), ==, "warning");
  g_assert_cmpstr (berth_health_to_string (BERTH_HEALTH_CRITICAL), ==, "critical");
  g_assert_true (berth_health_from_string ("warning", &h));
  g_assert_cmpint (h, ==, BERTH_HEALTH_WARNING);
  g_assert_false (berth_health_from_string ("fine", &h));
  g_assert_false (berth_health_from_string (NULL, NULL));
  g_assert_cmpint (h, ==, BERTH_HEALTH_WARNING);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/probe/health-names", test_health_names);
  g_test_add_func ("/probe/http/status", test_http_status);
  g_test_add_func ("/probe/http/request", test_http_request);
  g_test_add_func ("/probe/http/bounded", test_http_bounded);
  g_test_add_func ("/probe/http/timeout", test_http_timeout);
  g_test_add_func ("/probe/tcp", test_tcp);
  g_test_add_func ("/probe/command/status", test_command_status);
  g_test_add_func ("/probe/command/bounded", test_command_bounded);
  g_test_add_func ("/probe/command/timeout", test_command_timeout);
  g_test_add_func ("/probe/cancel", test_cancel);
  return g_test_run ();
}
