/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <berth.h>

/* Self-tests of the core's contracts: JSON input, callers, services, the
 * authority, records set aside. */

static void
test_json_depth (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) ok = NULL;
  g_autoptr(GString) deep = g_string_new (NULL);
  JsonNode *node;

  ok = berth_json_parse ("{\"a\":[1,{\"b\":\"[[[[\"}]}", -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);

  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  node = berth_json_parse (deep->str, (gssize) deep->len, &error);
  g_assert_null (node);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  g_clear_error (&error);

  /* exactly the limit is fine, one more is not */
  g_string_truncate (deep, 0);
  for (guint i = 0; i < BERTH_JSON_MAX_DEPTH; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; i < BERTH_JSON_MAX_DEPTH; i++)
    g_string_append_c (deep, ']');
  node = berth_json_parse (deep->str, (gssize) deep->len, &error);
  g_assert_no_error (error);
  json_node_unref (node);
  g_string_prepend_c (deep, '[');
  g_string_append_c (deep, ']');
  node = berth_json_parse (deep->str, (gssize) deep->len, &error);
  g_assert_null (node);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  g_clear_error (&error);

  node = berth_json_parse ("{\"Name\":\"nul\\u0000svc\"}", -1, &error);
  g_assert_null (node);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  g_clear_error (&error);

  /* an escaped backslash before u0000 is not an escape of U+0000 */
  node = berth_json_parse ("[\"\\\\u0000\"]", -1, &error);
  g_assert_no_error (error);
  json_node_unref (node);

  /* one document only: json-glib leaks all but the last of several */
  {
    static const char *several[] = { "{}{}", "1[2]", "\"\"{}", "0 [1]", "[1] x", "1 2",
                                      "true false", "{\"a\":1}\n{\"b\":2}" };
    static const char *single[] = { " {} ", "1", " \"x\"\n", "[1, 2]\r\n", "-1.5e3", "null" };
    for (gsize i = 0; i < G_N_ELEMENTS (several); i++)
      {
        node = berth_json_parse (several[i], -1, &error);
        g_assert_null (node);
        g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
        g_clear_error (&error);
      }
    for (gsize i = 0; i < G_N_ELEMENTS (single); i++)
      {
        node = berth_json_parse (single[i], -1, &error);
        g_assert_no_error (error);
        json_node_unref (node);
      }
  }

  node = berth_json_parse ("", 0, &error);
  g_assert_null (node);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
}

static void
test_utf8_safe (void)
{
  g_autofree char *safe = berth_utf8_make_safe ("a\xff" "b\x01" "c\n", -1);
  g_assert_true (g_utf8_validate (safe, -1, NULL));
  g_assert_cmpstr (safe, ==, "a\xef\xbf\xbd" "bc\n");
}

static void
test_caller (void)
{
  g_autoptr(BerthCaller) unix_caller = berth_caller_new_unix (0, 0, 42);
  g_autoptr(BerthCaller) tcp = berth_caller_new_tcp ("127.0.0.1:4000", FALSE);
  g_autoptr(BerthCaller) internal = berth_caller_new_internal ("scheduler");
  g_autofree char *s1 = berth_caller_to_string (unix_caller);
  g_autofree char *s2 = NULL;

  g_assert_cmpint (berth_caller_get_kind (unix_caller), ==, BERTH_CALLER_UNIX);
  g_assert_true (berth_caller_has_credentials (unix_caller));
  g_assert_cmpstr (s1, ==, "unix uid=0 pid=42");
  g_assert_false (berth_caller_has_credentials (tcp));
  berth_caller_set_token (tcp, "secret");
  g_assert_cmpstr (berth_caller_get_token (tcp), ==, "secret");
  s2 = berth_caller_to_string (tcp);
  g_assert_null (strstr (s2, "secret"));
  g_assert_cmpstr (berth_caller_get_plugin (internal), ==, "scheduler");
}

/* An authority that allows reads only. */
#define TEST_TYPE_AUTHORITY (test_authority_get_type ())
G_DECLARE_FINAL_TYPE (TestAuthority, test_authority, TEST, AUTHORITY, GObject)
struct _TestAuthority { GObject parent_instance; guint asked; };
static void test_authority_iface_init (BerthAuthorityInterface *iface);
G_DEFINE_FINAL_TYPE_WITH_CODE (TestAuthority, test_authority, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BERTH_TYPE_AUTHORITY,
                                                      test_authority_iface_init))

static void
test_authority_check_async (BerthAuthority *authority, BerthCaller *caller, const char *resource,
                            const char *name, BerthAccess access, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (authority, cancellable, callback, user_data);
  TEST_AUTHORITY (authority)->asked++;
  if (access == BERTH_ACCESS_WRITE)
    g_task_return_new_error (task, BERTH_ERROR, BERTH_ERROR_DENIED, "no writes to %s", resource);
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
test_authority_check_finish (BerthAuthority *authority, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
test_authority_iface_init (BerthAuthorityInterface *iface)
{
  iface->check_async = test_authority_check_async;
  iface->check_finish = test_authority_check_finish;
}

static void test_authority_class_init (TestAuthorityClass *klass) {}
static void test_authority_init (TestAuthority *self) {}

static void
authorize_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;
  *out = g_object_ref (result);
}

static gboolean
authorize (BerthContext *ctx, BerthCaller *caller, BerthAccess access, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  berth_context_authorize_async (ctx, caller, "key", "a/b", access, NULL, authorize_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return berth_context_authorize_finish (ctx, result, error);
}

static void
test_services_and_authority (void)
{
  g_autoptr(BerthContext) ctx = berth_context_new ();
  g_autoptr(BerthCaller) caller = berth_caller_new_tcp ("127.0.0.1:1", FALSE);
  g_autoptr(TestAuthority) authority = g_object_new (TEST_TYPE_AUTHORITY, NULL);
  g_autoptr(TestAuthority) second = g_object_new (TEST_TYPE_AUTHORITY, NULL);
  g_autoptr(GError) error = NULL;

  /* no authority: everything is allowed */
  g_assert_null (berth_context_get_service (ctx, BERTH_TYPE_AUTHORITY));
  g_assert_true (authorize (ctx, caller, BERTH_ACCESS_WRITE, &error));
  g_assert_no_error (error);

  g_assert_true (berth_context_add_service (ctx, BERTH_TYPE_AUTHORITY, authority, &error));
  g_assert_no_error (error);
  g_assert_true (berth_context_get_service (ctx, BERTH_TYPE_AUTHORITY) == (gpointer) authority);
  g_assert_false (berth_context_add_service (ctx, BERTH_TYPE_AUTHORITY, second, &error));
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT);
  g_clear_error (&error);

  g_assert_true (authorize (ctx, caller, BERTH_ACCESS_READ, &error));
  g_assert_no_error (error);
  g_assert_false (authorize (ctx, caller, BERTH_ACCESS_WRITE, &error));
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_DENIED);
  g_assert_cmpuint (authority->asked, ==, 2);
  g_clear_error (&error);

  berth_context_remove_service (ctx, BERTH_TYPE_AUTHORITY, authority);
  g_assert_null (berth_context_get_service (ctx, BERTH_TYPE_AUTHORITY));
}

static guint set_aside_logged;

/* The set-aside report is a warning, expected in this test: count it
 * instead of letting the test harness abort on it. */
static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0 &&
        strstr (fields[i].value, "set aside") != NULL)
      {
        set_aside_logged++;
        return G_LOG_WRITER_HANDLED;
      }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

static void
test_broken (void)
{
  g_autoptr(BerthContext) ctx = berth_context_new ();
  g_autoptr(JsonNode) list = NULL;
  GLogLevelFlags fatal;


  /* the report is logged as a warning: expected here, so not fatal */
  fatal = g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  berth_context_report_broken (ctx, "scheduler", "app", "/x", "bad constraint");
  g_log_set_always_fatal (fatal);
  g_assert_true (berth_context_is_broken (ctx, "app", "/x"));
  list = berth_context_dup_broken (ctx);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 1);
  g_assert_true (berth_context_forget_broken (ctx, "app", "/x"));
  g_assert_false (berth_context_is_broken (ctx, "app", "/x"));
}

static void
count_cb (BerthEventBus *bus, BerthEvent *event, gpointer user_data)
{
  guint *count = user_data;
  (*count)++;
}

static void
test_event_bus (void)
{
  g_autoptr(BerthContext) ctx = berth_context_new ();
  BerthEventBus *bus = berth_context_get_event_bus (ctx);
  g_autoptr(BerthCaller) caller = berth_caller_new_internal ("scheduler");
  g_autoptr(GPtrArray) since = NULL;
  g_autoptr(JsonNode) json = NULL;
  guint all = 0, task_state = 0;

  g_signal_connect (bus, "event", G_CALLBACK (count_cb), &all);
  g_signal_connect (bus, "event::task-state", G_CALLBACK (count_cb), &task_state);
  berth_context_publish (ctx, "task.state", caller, json_object_new ());
  berth_context_publish (ctx, "deployment", NULL, NULL);
  berth_context_publish (ctx, "task.state", caller, NULL);
  g_assert_cmpuint (all, ==, 3);
  g_assert_cmpuint (task_state, ==, 2);
  g_assert_cmpuint (berth_event_bus_get_last_sequence (bus), ==, 3);

  since = berth_event_bus_list_since (bus, 1, "task.");
  g_assert_cmpuint (since->len, ==, 1);
  g_assert_cmpuint (berth_event_get_sequence (g_ptr_array_index (since, 0)), ==, 3);
  json = berth_event_to_json (g_ptr_array_index (since, 0));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (json), "caller"), ==,
                   "internal scheduler");

  /* the backlog is bounded */
  {
    g_autoptr(BerthEventBus) small = berth_event_bus_new (2);
    g_autoptr(GPtrArray) kept = NULL;
    for (guint i = 0; i < 5; i++)
      {
        g_autoptr(BerthEvent) e = berth_event_new ("x", NULL, NULL);
        berth_event_bus_publish (small, e, 0);
      }
    kept = berth_event_bus_list_since (small, 0, NULL);
    g_assert_cmpuint (kept->len, ==, 2);
    g_assert_cmpuint (berth_event_get_sequence (g_ptr_array_index (kept, 0)), ==, 4);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (writer, NULL, NULL);
  g_test_add_func ("/core/json-depth", test_json_depth);
  g_test_add_func ("/core/utf8-safe", test_utf8_safe);
  g_test_add_func ("/core/caller", test_caller);
  g_test_add_func ("/core/services-authority", test_services_and_authority);
  g_test_add_func ("/core/broken", test_broken);
  g_test_add_func ("/core/event-bus", test_event_bus);
  return g_test_run ();
}
