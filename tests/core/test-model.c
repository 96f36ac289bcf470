/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <berth.h>

static void
test_kv_entry_json (void)
{
  static const guint8 bytes[] = { 0, 1, 2, 255, 'x' };
  g_autoptr(GBytes) value = g_bytes_new_static (bytes, sizeof bytes);
  g_autoptr(BerthKvEntry) entry = berth_kv_entry_new ("a/b", value);
  g_autoptr(BerthKvEntry) back = NULL;
  g_autoptr(JsonNode) json = NULL;
  g_autoptr(JsonNode) bare = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *obj;

  berth_kv_entry_set_flags (entry, 42);
  berth_kv_entry_set_indexes (entry, 3, 7, 0);
  json = berth_kv_entry_to_json (entry, TRUE);
  obj = json_node_get_object (json);
  g_assert_cmpstr (json_object_get_string_member (obj, "Key"), ==, "a/b");
  g_assert_cmpstr (json_object_get_string_member (obj, "Value"), ==, "AAEC/3g=");
  g_assert_cmpint (json_object_get_int_member (obj, "CreateIndex"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (obj, "ModifyIndex"), ==, 7);

  back = berth_kv_entry_new_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (berth_kv_entry_get_value (back), value));
  g_assert_cmpuint (berth_kv_entry_get_flags (back), ==, 42);
  g_assert_cmpuint (berth_kv_entry_get_modify_index (back), ==, 7);

  bare = berth_kv_entry_to_json (entry, FALSE);
  g_assert_true (json_object_get_null_member (json_node_get_object (bare), "Value"));

  {
    g_autoptr(JsonNode) not_obj = json_node_init_int (json_node_alloc (), 1);
    g_autoptr(BerthKvEntry) none = berth_kv_entry_new_from_json (not_obj, &error);
    g_assert_null (none);
    g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  }
}

static void
test_node_json (void)
{
  g_autoptr(BerthNode) node = berth_node_new ("0b7c1c3e-0000-4000-8000-000000000001", "n1", "dc1", "127.0.0.1");
  g_autoptr(BerthNode) back = NULL;
  g_autoptr(JsonNode) json = NULL;
  g_autoptr(GError) error = NULL;

  berth_node_set_resources (node, 2.0, 1024, 2048);
  berth_node_set_meta (node, "rack", "r1");
  json = berth_node_to_json (node);
  back = berth_node_new_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (berth_node_get_name (back), ==, "n1");
  g_assert_cmpstr (berth_node_get_datacenter (back), ==, "dc1");
  g_assert_cmpfloat (berth_node_get_cpus (back), ==, 2.0);
  g_assert_cmpuint (berth_node_get_memory_bytes (back), ==, 1024);
  g_assert_cmpuint (berth_node_get_disk_bytes (back), ==, 2048);
  g_assert_cmpstr (berth_node_get_meta (back, "rack"), ==, "r1");
}

static void
test_error_status (void)
{
  g_autoptr(GError) e1 = g_error_new_literal (BERTH_ERROR, BERTH_ERROR_NOT_FOUND, "x");
  g_autoptr(GError) e2 = g_error_new_literal (BERTH_ERROR, BERTH_ERROR_TOO_LARGE, "x");
  g_autoptr(GError) e3 = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  g_autoptr(GError) e4 = g_error_new_literal (BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, "x");

  g_assert_cmpuint (berth_error_to_http_status (e1), ==, 404);
  g_assert_cmpuint (berth_error_to_http_status (e2), ==, 413);
  g_assert_cmpuint (berth_error_to_http_status (e3), ==, 500);
  g_assert_cmpuint (berth_error_to_http_status (e4), ==, 422);
}

static void
test_durations (void)
{
  static const struct { const char *text; guint64 ms; } good[] = {
    { "10", 10000 }, { "5s", 5000 }, { "250ms", 250 }, { "1m30s", 90000 },
    { "1h", 3600000 }, { "1.5s", 1500 }, { "0s", 0 },
  };
  static const char *bad[] = { "", "s", "5x", "-1s", "1 s", "abc", "5s5" };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 ms = 12345;
      g_assert_true (berth_parse_duration (good[i].text, &ms, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (ms, ==, good[i].ms);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 ms = 0;
      g_assert_false (berth_parse_duration (bad[i], &ms, &error));
      g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
    }
}

static void
test_task_spec (void)
{
  static const char *bad[] = {
    "{\"kind\":\"exec\",\"cmd\":5}",
    "{\"kind\":\"exec\",\"cmd\":\"x\",\"env\":{\"A\":{}}}",
    "{\"kind\":\"exec\",\"cmd\":\"x\",\"args\":[1]}",
    "{\"kind\":\"exec\",\"cmd\":\"x\",\"cpus\":-1}",
    "{\"kind\":\"exec\",\"cmd\":\"x\",\"ports\":[{\"container\":\"x\"}]}",
    "{\"kind\":\"exec\",\"cmd\":\"x\",\"network\":\"mesh\"}",
    "{\"kind\":\"container\",\"cmd\":\"x\"}",
    "{\"kind\":\"vm\",\"cmd\":\"x\"}",
    "{\"kind\":\"exec\"}",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(BerthTaskSpec) spec = berth_task_spec_new (BERTH_TASK_KIND_CONTAINER);
  g_autoptr(BerthTaskSpec) back = NULL;
  g_autoptr(JsonObject) json = NULL;
  const char *args[] = { "sleep", "10", NULL };
  const char *protocol = NULL;

  berth_task_spec_set_image (spec, "busybox:latest");
  berth_task_spec_set_args (spec, args);
  berth_task_spec_set_resources (spec, 0.5, 64, 10);
  berth_task_spec_set_network (spec, BERTH_TASK_NETWORK_BRIDGE);
  berth_task_spec_add_port (spec, 8080, "tcp", "http");
  g_hash_table_insert (berth_task_spec_get_env (spec), g_strdup ("A"), g_strdup ("b"));
  json = berth_task_spec_to_json (spec);
  back = berth_task_spec_new_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpint (berth_task_spec_get_kind (back), ==, BERTH_TASK_KIND_CONTAINER);
  g_assert_cmpstr (berth_task_spec_get_image (back), ==, "busybox:latest");
  g_assert_cmpstr (berth_task_spec_get_args (back)[1], ==, "10");
  g_assert_cmpfloat (berth_task_spec_get_cpus (back), ==, 0.5);
  g_assert_cmpuint (berth_task_spec_get_mem_mb (back), ==, 64);
  g_assert_cmpint (berth_task_spec_get_network (back), ==, BERTH_TASK_NETWORK_BRIDGE);
  g_assert_cmpuint (berth_task_spec_get_n_ports (back), ==, 1);
  g_assert_cmpuint (berth_task_spec_get_port (back, 0, &protocol, NULL), ==, 8080);
  g_assert_cmpstr (protocol, ==, "tcp");
  g_assert_cmpstr (g_hash_table_lookup (berth_task_spec_get_env (back), "A"), ==, "b");

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(JsonNode) node = berth_json_parse (bad[i], -1, &error);
      g_autoptr(BerthTaskSpec) none = NULL;
      g_assert_no_error (error);
      none = berth_task_spec_new_from_json (json_node_get_object (node), &error);
      g_assert_null (none);
      g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
      g_clear_error (&error);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/model/kv-entry", test_kv_entry_json);
  g_test_add_func ("/model/node", test_node_json);
  g_test_add_func ("/model/error-status", test_error_status);
  g_test_add_func ("/model/durations", test_durations);
  g_test_add_func ("/model/task-spec", test_task_spec);
  return g_test_run ();
}
