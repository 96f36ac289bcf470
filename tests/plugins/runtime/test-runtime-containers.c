/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>

#include <berth.h>

#include "runtime-docker.h"
#include "runtime-log-parse.h"
#include "runtime-oci-config.h"
#include "runtime-util.h"

/* The runtime's container logic without a daemon: conmon's log lines,
 * tails, Docker's shapes, signals, the OCI config of a spec. */

static JsonObject *
parse_object (const char *text)
{
  g_autoptr(JsonNode) node = berth_json_parse (text, -1, NULL);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

static void
test_log_time (void)
{
  gint64 us = 0;
  const char *t = "2024-03-01T10:20:30.123456789Z";

  g_assert_true (runtime_log_parse_time (t, strlen (t), &us));
  g_assert_cmpint (us, ==, G_GINT64_CONSTANT (1709288430123456));
  t = "2024-03-01T12:20:30.5+02:00";
  g_assert_true (runtime_log_parse_time (t, strlen (t), &us));
  g_assert_cmpint (us, ==, G_GINT64_CONSTANT (1709288430500000));
  t = "2024-03-01T10:20:30Z";
  g_assert_true (runtime_log_parse_time (t, strlen (t), &us));
  g_assert_cmpint (us, ==, G_GINT64_CONSTANT (1709288430000000));
  for (guint i = 0; i < 6; i++)
    {
      const char *bad[] = { "", "2024-03-01", "2024-03-01T10:20:30", "2024-13-01T10:20:30Z",
                            "2024-03-01T10:20:30.Z", "2024-03-01T10:20:30Zjunk" };
      g_assert_false (runtime_log_parse_time (bad[i], strlen (bad[i]), &us));
    }
}

static void
test_log_k8s (void)
{
  const char *line = "2024-03-01T10:20:30.000000001Z stderr F hello world";
  const char *text = NULL;
  gsize len = 0;
  gint64 ts = 0;
  BerthLogStream stream = BERTH_LOG_STREAM_STDOUT;
  gboolean partial = TRUE;

  g_assert_true (runtime_log_parse_k8s (line, strlen (line), &ts, &stream, &partial, &text, &len));
  g_assert_cmpint (stream, ==, BERTH_LOG_STREAM_STDERR);
  g_assert_false (partial);
  g_assert_cmpmem (text, len, "hello world", 11);

  line = "2024-03-01T10:20:30Z stdout P part";
  g_assert_true (runtime_log_parse_k8s (line, strlen (line), &ts, &stream, &partial, &text, &len));
  g_assert_cmpint (stream, ==, BERTH_LOG_STREAM_STDOUT);
  g_assert_true (partial);
  g_assert_cmpmem (text, len, "part", 4);

  /* an empty line, and a tag with more after it */
  line = "2024-03-01T10:20:30Z stdout F";
  g_assert_true (runtime_log_parse_k8s (line, strlen (line), &ts, &stream, &partial, &text, &len));
  g_assert_cmpuint (len, ==, 0);
  line = "2024-03-01T10:20:30Z stdout F:x text";
  g_assert_true (runtime_log_parse_k8s (line, strlen (line), &ts, &stream, &partial, &text, &len));
  g_assert_cmpmem (text, len, "text", 4);

  line = "2024-03-01T10:20:30Z stdin F nope";
  g_assert_false (runtime_log_parse_k8s (line, strlen (line), &ts, &stream, &partial, &text, &len));
  line = "garbage";
  g_assert_false (runtime_log_parse_k8s (line, strlen (line), &ts, &stream, &partial, &text, &len));
  line = "2024-03-01T10:20:30Z stdout X x";
  g_assert_false (runtime_log_parse_k8s (line, strlen (line), &ts, &stream, &partial, &text, &len));
}

static void
test_log_tail (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("berth-test-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "ctr.log", NULL);
  const char *log = "2024-03-01T10:20:30Z stdout F one\n"
                    "2024-03-01T10:20:30Z stdout P tw\n"
                    "2024-03-01T10:20:30Z stdout F o\n"
                    "2024-03-01T10:20:30Z stderr F three\n";
  gsize first = strlen ("2024-03-01T10:20:30Z stdout F one\n");

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, log, -1, &error));
  /* the last line, the last two (a partial record counts with its end) */
  g_assert_cmpint (runtime_log_tail_offset (path, 1, TRUE, &error), ==, strlen (log) - strlen ("2024-03-01T10:20:30Z stderr F three\n"));
  g_assert_cmpint (runtime_log_tail_offset (path, 2, TRUE, &error), ==, first);
  g_assert_cmpint (runtime_log_tail_offset (path, 3, TRUE, &error), ==, 0);
  g_assert_cmpint (runtime_log_tail_offset (path, 100, TRUE, &error), ==, 0);
  g_assert_cmpint (runtime_log_tail_offset (path, 0, TRUE, &error), ==, strlen (log));
  /* plain output: every newline ends a line */
  g_assert_cmpint (runtime_log_tail_offset (path, 3, FALSE, &error), ==, first);
  /* no file: nothing to skip */
  g_assert_cmpint (runtime_log_tail_offset ("/nonexistent/x", 3, FALSE, &error), ==, 0);
  g_assert_no_error (error);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_docker_spec (void)
{
  g_autoptr(JsonObject) create = parse_object (
    "{\"Image\": \"busybox\", \"Name\": \"web\", \"Cmd\": [\"sh\", \"-c\", \"echo\"], \"Env\": [\"A=1\"],"
    " \"WorkingDir\": \"/srv\", \"User\": \"app\", \"Labels\": {\"x\": \"y\"},"
    " \"HostConfig\": {\"Memory\": 16777216, \"NanoCpus\": 500000000, \"NetworkMode\": \"default\","
    " \"AutoRemove\": true, \"PortBindings\": {\"80/tcp\": [{\"HostIp\": \"\", \"HostPort\": \"8080\"}]}}}");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) spec = runtime_docker_to_spec (create, &error);
  JsonObject *port;

  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (spec, "image"), ==, "busybox");
  g_assert_cmpstr (json_object_get_string_member (spec, "name"), ==, "web");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (spec, "cmd")), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (spec, "workdir"), ==, "/srv");
  g_assert_cmpstr (json_object_get_string_member (spec, "user"), ==, "app");
  g_assert_cmpint (json_object_get_int_member (spec, "memory"), ==, 16777216);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (spec, "cpus"), 0.5, 1e-9);
  g_assert_cmpstr (json_object_get_string_member (spec, "network"), ==, "bridge");
  g_assert_true (json_object_get_boolean_member (spec, "auto_remove"));
  port = json_array_get_object_element (json_object_get_array_member (spec, "ports"), 0);
  g_assert_cmpint (json_object_get_int_member (port, "host"), ==, 8080);
  g_assert_cmpint (json_object_get_int_member (port, "container"), ==, 80);
  g_assert_cmpstr (json_object_get_string_member (port, "protocol"), ==, "tcp");

  for (guint i = 0; i < 5; i++)
    {
      const char *bad[] = { "{}", "{\"Image\": 3}", "{\"Image\": \"x\", \"Env\": \"A=1\"}",
                            "{\"Image\": \"x\", \"HostConfig\": {\"PortBindings\": {\"99999/tcp\": []}}}",
                            "{\"Image\": \"x\", \"HostConfig\": {\"PortBindings\": {\"80/sctp\": []}}}" };
      g_autoptr(JsonObject) o = parse_object (bad[i]);
      g_autoptr(GError) e = NULL;
      g_autoptr(JsonObject) s = runtime_docker_to_spec (o, &e);
      g_assert_null (s);
      g_assert_error (e, BERTH_ERROR, BERTH_ERROR_INVALID);
    }
}

static void
test_docker_inspection (void)
{
  g_autoptr(JsonObject) berth = parse_object (
    "{\"Id\": \"abc\", \"Name\": \"web\", \"Image\": \"busybox\", \"ImageId\": \"sha256:1\", \"State\": \"exited\","
    " \"Running\": false, \"Pid\": 0, \"ExitCode\": 137, \"OOMKilled\": true, \"Network\": \"bridge\","
    " \"Address\": \"10.0.0.2\", \"Ports\": [{\"host\": 8080, \"container\": 80, \"protocol\": \"tcp\"}],"
    " \"Created\": \"2024-03-01T10:20:30.000000Z\", \"StartedAt\": null, \"FinishedAt\": null,"
    " \"Spec\": {\"image\": \"busybox\", \"memory\": 1048576, \"cmd\": [\"true\"]}}");
  g_autoptr(JsonObject) d = runtime_docker_inspection (berth);
  JsonObject *state = json_object_get_object_member (d, "State");
  JsonObject *ports = json_object_get_object_member (json_object_get_object_member (d, "NetworkSettings"), "Ports");
  JsonArray *binding = json_object_get_array_member (ports, "80/tcp");

  g_assert_cmpstr (json_object_get_string_member (d, "Name"), ==, "/web");
  g_assert_cmpstr (json_object_get_string_member (d, "Image"), ==, "sha256:1");
  g_assert_cmpstr (json_object_get_string_member (state, "Status"), ==, "exited");
  g_assert_false (json_object_get_boolean_member (state, "Running"));
  g_assert_cmpint (json_object_get_int_member (state, "ExitCode"), ==, 137);
  g_assert_true (json_object_get_boolean_member (state, "OOMKilled"));
  g_assert_cmpstr (json_object_get_string_member (state, "StartedAt"), ==, "0001-01-01T00:00:00Z");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (d, "HostConfig"), "Memory"), ==, 1048576);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (binding, 0), "HostPort"), ==, "8080");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (d, "Config"), "Image"), ==,
                   "busybox");
}

static void
test_signals (void)
{
  int sig = 0;

  g_assert_true (runtime_parse_signal (NULL, &sig));
  g_assert_cmpint (sig, ==, SIGKILL);
  g_assert_true (runtime_parse_signal ("TERM", &sig));
  g_assert_cmpint (sig, ==, SIGTERM);
  g_assert_true (runtime_parse_signal ("SIGUSR1", &sig));
  g_assert_cmpint (sig, ==, SIGUSR1);
  g_assert_true (runtime_parse_signal ("hup", &sig));
  g_assert_cmpint (sig, ==, SIGHUP);
  g_assert_true (runtime_parse_signal ("9", &sig));
  g_assert_cmpint (sig, ==, 9);
  g_assert_false (runtime_parse_signal ("0", &sig));
  g_assert_false (runtime_parse_signal ("65", &sig));
  g_assert_false (runtime_parse_signal ("99999999999999999999", &sig));
  g_assert_false (runtime_parse_signal ("NOPE", &sig));
  g_assert_false (runtime_parse_signal ("9x", &sig));
}

static void
test_oci_args (void)
{
  g_autoptr(JsonObject) image = parse_object ("{\"Entrypoint\": [\"/bin/echo\"], \"Cmd\": [\"from-image\"]}");
  g_autoptr(JsonObject) none = parse_object ("{}");
  g_autoptr(JsonObject) cmd = parse_object ("{\"cmd\": [\"given\"]}");
  g_autoptr(JsonObject) entry = parse_object ("{\"entrypoint\": \"/bin/sh -c\", \"cmd\": [\"x\"]}");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) a = runtime_oci_process_args (image, none, &error);
  g_auto(GStrv) b = runtime_oci_process_args (image, cmd, &error);
  g_auto(GStrv) c = runtime_oci_process_args (image, entry, &error);
  g_auto(GStrv) d = NULL;

  g_assert_no_error (error);
  g_assert_cmpstrv (a, ((const char *[]) { "/bin/echo", "from-image", NULL }));
  g_assert_cmpstrv (b, ((const char *[]) { "/bin/echo", "given", NULL }));
  /* a given entrypoint drops the image's Cmd */
  g_assert_cmpstrv (c, ((const char *[]) { "/bin/sh", "-c", "x", NULL }));
  d = runtime_oci_process_args (none, none, &error);
  g_assert_null (d);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
}

static void
test_oci_config (void)
{
  g_autoptr(JsonObject) image = parse_object ("{\"Env\": [\"PATH=/bin\", \"KEEP=1\"], \"Cmd\": [\"sh\"],"
                                              " \"WorkingDir\": \"/app\"}");
  g_autoptr(JsonObject) spec = parse_object ("{\"env\": [\"FOO=bar\"], \"memory\": 16777216, \"cpus\": 0.5,"
                                             " \"read_only\": true}");
  g_autoptr(JsonObject) small = parse_object ("{\"memory\": 1024}");
  g_autoptr(GError) error = NULL;
  RuntimeOciOptions o = {
    .image_config = image, .spec = spec, .rootfs = "/nonexistent", .hostname = "h", .cgroups_path = "/berth/x",
    .cgroup_v2 = FALSE, .etc_dir = NULL,
  };
  g_autofree char *text = runtime_oci_config_build (&o, &error);
  g_autoptr(JsonObject) config = NULL;
  JsonObject *process, *linux, *resources;
  g_autofree char *env = NULL;

  g_assert_no_error (error);
  config = parse_object (text);
  process = json_object_get_object_member (config, "process");
  g_assert_cmpstr (json_object_get_string_member (process, "cwd"), ==, "/app");
  g_assert_true (json_object_get_boolean_member (process, "noNewPrivileges"));
  env = runtime_json_to_string (json_object_get_member (process, "env"));
  g_assert_nonnull (strstr (env, "FOO=bar"));
  g_assert_nonnull (strstr (env, "KEEP=1"));
  g_assert_cmpstr (json_object_get_string_member (config, "hostname"), ==, "h");
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (config, "root"), "readonly"));
  linux = json_object_get_object_member (config, "linux");
  g_assert_cmpstr (json_object_get_string_member (linux, "cgroupsPath"), ==, "/berth/x");
  resources = json_object_get_object_member (linux, "resources");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (resources, "memory"), "limit"), ==,
                   16777216);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (resources, "cpu"), "quota"), ==, 50000);

  o.spec = small;
  g_clear_pointer (&text, g_free);
  text = runtime_oci_config_build (&o, &error);
  g_assert_null (text);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/runtime/log/time", test_log_time);
  g_test_add_func ("/runtime/log/k8s", test_log_k8s);
  g_test_add_func ("/runtime/log/tail", test_log_tail);
  g_test_add_func ("/runtime/docker/spec", test_docker_spec);
  g_test_add_func ("/runtime/docker/inspection", test_docker_inspection);
  g_test_add_func ("/runtime/signals", test_signals);
  g_test_add_func ("/runtime/oci/args", test_oci_args);
  g_test_add_func ("/runtime/oci/config", test_oci_config);
  return g_test_run ();
}
