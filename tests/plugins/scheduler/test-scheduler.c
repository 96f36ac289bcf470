/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the scheduler's logic that needs no daemon: placement and
 * constraints, app validation, the version history cap, task specs, the
 * script-check switch, and the translation of bus events to Marathon's. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "scheduler-app.h"
#include "scheduler-apps.h"
#include "scheduler-db.h"
#include "scheduler-events.h"
#include "scheduler-placement.h"
#include "scheduler-schema.h"

static JsonNode *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = berth_json_parse (text, -1, &error);
  g_assert_no_error (error);
  return node;
}

static SchedulerLimits *
limits_new (void)
{
  SchedulerLimits *limits = g_new0 (SchedulerLimits, 1);
  scheduler_limits_defaults (limits);
  return limits;
}

/* ---- placement --------------------------------------------------------- */

static GPtrArray *
three_nodes (void)
{
  GPtrArray *nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) scheduler_node_free_free);
  const char *racks[] = { "r1", "r1", "r2" };

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *id = g_strdup_printf ("n%u", i);
      g_autofree char *name = g_strdup_printf ("host%u", i);
      SchedulerNodeFree *node = scheduler_node_free_new (id, name, "127.0.0.1", 4, 1024 - i, 1000);
      g_hash_table_replace (node->attributes, g_strdup ("rack"), g_strdup (racks[i]));
      g_ptr_array_add (nodes, node);
    }
  return nodes;
}

/* Places @n tasks, accounting for each; returns the node indices joined
 * ("0,1,2"), "-" for a task that did not fit. */
static char *
place_n (const char *constraints, guint n, gdouble cpus, gdouble mem, guint max_tasks)
{
  g_autoptr(GPtrArray) nodes = three_nodes ();
  g_autoptr(JsonNode) c = constraints != NULL ? parse (constraints) : NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  SchedulerNeed need = {
    .app_id = "/app", .cpus = cpus, .mem_mb = mem, .disk_mb = 0, .n_ports = 1,
    .constraints = c != NULL ? json_node_get_array (c) : NULL, .max_tasks = max_tasks,
  };

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *reason = NULL;
      gint at = scheduler_place (&need, nodes, &reason);
      if (out->len > 0)
        g_string_append_c (out, ',');
      if (at < 0)
        {
          g_assert_nonnull (reason);
          g_string_append_c (out, '-');
          continue;
        }
      g_assert_null (reason);
      {
        SchedulerNodeFree *node = g_ptr_array_index (nodes, at);
        g_autoptr(GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint));
        g_assert_true (scheduler_node_take_ports (node, 1, ports));
        g_assert_cmpuint (g_array_index (ports, guint, 0), >=, SCHEDULER_PORT_MIN);
        scheduler_node_free_use (node, need.app_id, cpus, mem, 0, ports);
      }
      g_string_append_printf (out, "%d", at);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
test_placement_resources (void)
{
  g_autofree char *spread = place_n (NULL, 3, 1, 100, 0);
  g_autofree char *full = place_n (NULL, 4, 3, 10, 0);
  g_autofree char *mem = place_n (NULL, 2, 0.1, 1023, 0);
  g_autofree char *capped = place_n (NULL, 4, 0.1, 1, 1);

  /* the node with the most free memory wins: tasks spread out */
  g_assert_cmpstr (spread, ==, "0,1,2");
  /* 3 of 4 cpus each: one task per node, the fourth fits nowhere */
  g_assert_cmpstr (full, ==, "0,1,2,-");
  g_assert_cmpstr (mem, ==, "0,1");
  /* max_tasks_per_node */
  g_assert_cmpstr (capped, ==, "0,1,2,-");
}

static void
test_placement_constraints (void)
{
  struct { const char *constraints; guint n; const char *expect; } cases[] = {
    { "[[\"hostname\", \"UNIQUE\"]]", 4, "0,1,2,-" },
    { "[[\"rack\", \"UNIQUE\"]]", 3, "0,2,-" },
    { "[[\"rack\", \"CLUSTER\", \"r2\"]]", 2, "2,2" },
    { "[[\"rack\", \"IS\", \"r1\"]]", 3, "0,1,0" },
    { "[[\"hostname\", \"LIKE\", \"host[12]\"]]", 2, "1,2" },
    { "[[\"hostname\", \"UNLIKE\", \"host[12]\"]]", 2, "0,0" },
    { "[[\"rack\", \"MAX_PER\", \"1\"]]", 3, "0,2,-" },
    { "[[\"rack\", \"GROUP_BY\", \"2\"]]", 3, "0,1,2" },
    { "[[\"rack\", \"CLUSTER\", \"r9\"]]", 1, "-" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = place_n (cases[i].constraints, cases[i].n, 0.1, 10, 0);
      g_test_message ("%s", cases[i].constraints);
      g_assert_cmpstr (got, ==, cases[i].expect);
    }
}

/* ---- validation -------------------------------------------------------- */

static JsonObject *
validate (const char *text, const SchedulerLimits *limits, char **first_path)
{
  g_autoptr(JsonNode) body = parse (text);
  g_autoptr(JsonArray) details = NULL;
  JsonObject *def = scheduler_app_validate (body, NULL, NULL, limits, &details);

  *first_path = NULL;
  if (def == NULL)
    {
      g_assert_nonnull (details);
      g_assert_cmpuint (json_array_get_length (details), >, 0);
      *first_path = g_strdup (json_object_get_string_member (json_array_get_object_element (details, 0), "path"));
    }
  return def;
}

static void
test_validate_good (void)
{
  g_autofree SchedulerLimits *limits = limits_new ();
  g_autofree char *path = NULL;
  g_autoptr(JsonObject) def = validate ("{\"id\": \"a//b/\", \"cmd\": \"sleep 100\", \"cpus\": 0.5, \"mem\": 64,"
                                        " \"instances\": 2, \"env\": {\"A\": \"1\"},"
                                        " \"constraints\": [[\"hostname\", \"UNIQUE\"]]}", limits, &path);
  g_autoptr(SchedulerApp) app = NULL;

  g_assert_null (path);
  g_assert_nonnull (def);
  g_assert_cmpstr (json_object_get_string_member (def, "id"), ==, "/a/b");
  app = scheduler_app_new (def);
  g_assert_cmpint (app->instances, ==, 2);
  g_assert_cmpfloat (app->cpus, ==, 0.5);
  g_assert_cmpfloat (app->mem, ==, 64);
  g_assert_false (scheduler_app_is_container (app));
}

static void
test_validate_bad (void)
{
  g_autofree SchedulerLimits *limits = limits_new ();
  struct { const char *def; const char *path; } cases[] = {
    { "{\"id\": \"/BAD\", \"cmd\": \"true\"}", "/id" },
    { "{\"id\": \"/x\", \"cmd\": \"true\", \"cpus\": \"many\"}", "/cpus" },
    { "{\"id\": \"/x\", \"cmd\": \"true\", \"instances\": -1}", "/instances" },
    { "{\"id\": \"/x\", \"cmd\": \"true\", \"env\": {\"A\": 1}}", "/env(A)" },
    { "{\"id\": \"/x\", \"cmd\": \"true\", \"constraints\": [[\"hostname\", \"NEAR\"]]}", "/constraints(0)" },
    { "{\"id\": \"/x\", \"cmd\": \"true\", \"healthChecks\": [{\"protocol\": \"TCP\", \"portIndex\": 3}]}",
      "/healthChecks(0)/portIndex" },
    { "{\"id\": \"/x\", \"cmd\": \"true\", \"healthChecks\": [{\"protocol\": \"COMMAND\"}]}",
      "/healthChecks(0)/command" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = NULL;
      g_autoptr(JsonObject) def = validate (cases[i].def, limits, &path);
      g_test_message ("%s", cases[i].def);
      g_assert_null (def);
      g_test_message ("path %s", path);
      g_assert_true (g_str_has_prefix (path, cases[i].path));
    }
}

/* A COMMAND check of an exec app runs on the host: only with the switch. */
static void
test_script_checks_switch (void)
{
  g_autofree SchedulerLimits *limits = limits_new ();
  const char *exec_app = "{\"id\": \"/x\", \"cmd\": \"sleep 100\", \"healthChecks\":"
                         " [{\"protocol\": \"MESOS_COMMAND\", \"command\": {\"value\": \"true\"}}]}";
  const char *container_app = "{\"id\": \"/x\", \"container\": {\"type\": \"DOCKER\", \"docker\": {\"image\": \"busybox\"}},"
                              " \"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": {\"value\": \"true\"}}]}";
  g_autofree char *path = NULL;
  g_autoptr(JsonObject) def = validate (exec_app, limits, &path);
  g_autoptr(JsonObject) cdef = NULL;
  g_autoptr(JsonArray) details = json_array_new ();

  g_assert_nonnull (def);
  g_assert_false (scheduler_apps_check_script_checks (def, limits, NULL, details));
  g_assert_cmpuint (json_array_get_length (details), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (details, 0), "path"), ==,
                   "/healthChecks(0)/protocol");
  g_assert_nonnull (strstr (json_array_get_string_element (
                              json_object_get_array_member (json_array_get_object_element (details, 0), "errors"), 0),
                            "enable_script_checks"));
  limits->enable_script_checks = TRUE;
  g_assert_true (scheduler_apps_check_script_checks (def, limits, NULL, details));
  limits->enable_script_checks = FALSE;
  g_clear_pointer (&path, g_free);
  cdef = validate (container_app, limits, &path);
  g_assert_nonnull (cdef);
  g_assert_true (scheduler_apps_check_script_checks (cdef, limits, NULL, details));
  g_assert_cmpuint (json_array_get_length (details), ==, 1);
}

/* ---- version history ---------------------------------------------------- */

typedef struct {
  JsonObject *def;
  guint       max;
} PutApp;

static gboolean
put_app_cb (BerthTxn *txn, gpointer data, GError **error)
{
  PutApp *p = data;
  return scheduler_db_put_app (txn, p->def, TRUE, p->max, error);
}

static void
test_version_cap (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("berth-sched-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "berth.db", NULL);
  g_autofree SchedulerLimits *limits = limits_new ();
  g_autoptr(BerthStore) store = NULL;
  g_autofree char *last = NULL;
  g_autofree char *shm = NULL;
  g_autofree char *wal = NULL;

  g_assert_no_error (error);
  store = berth_store_new (path, &error);
  g_assert_no_error (error);
  g_assert_true (berth_store_migrate (store, "scheduler", scheduler_migrations, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *text = g_strdup_printf ("{\"id\": \"/v\", \"cmd\": \"sleep %u\"}", i);
      g_autoptr(JsonNode) body = parse (text);
      g_autoptr(JsonArray) details = NULL;
      g_autoptr(JsonObject) def = scheduler_app_validate (body, NULL, NULL, limits, &details);
      g_autofree char *version = scheduler_app_next_version (last);
      PutApp p = { def, 3 };

      g_assert_nonnull (def);
      scheduler_app_set_version (def, version, TRUE);
      g_assert_cmpuint (berth_store_write_sync (store, put_app_cb, &p, &error), >, 0);
      g_assert_no_error (error);
      g_free (last);
      last = g_steal_pointer (&version);
    }
  {
    g_autoptr(JsonArray) versions = scheduler_db_list_versions (store, "/v", &error);
    g_autoptr(JsonObject) newest = scheduler_db_load_version (store, "/v", last, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (versions), ==, 3);
    g_assert_nonnull (newest);
    g_assert_cmpstr (json_object_get_string_member (newest, "cmd"), ==, "sleep 5");
  }
  berth_store_close (store);
  shm = g_strconcat (path, "-shm", NULL);
  wal = g_strconcat (path, "-wal", NULL);
  g_unlink (shm);
  g_unlink (wal);
  g_unlink (path);
  g_rmdir (dir);
}

/* ---- task specs --------------------------------------------------------- */

static BerthTaskSpec *
spec_of (const char *text, const SchedulerLimits *limits)
{
  g_autofree char *path = NULL;
  g_autoptr(JsonObject) def = validate (text, limits, &path);
  g_autoptr(SchedulerApp) app = NULL;
  g_autoptr(BerthTaskSpec) spec = NULL;
  g_autoptr(JsonObject) json = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (def);
  app = scheduler_app_new (def);
  spec = scheduler_app_task_spec (app);
  /* what is stored reads back the same */
  json = berth_task_spec_to_json (spec);
  return berth_task_spec_new_from_json (json, &error);
}

static void
test_task_spec (void)
{
  g_autofree SchedulerLimits *limits = limits_new ();
  g_autoptr(BerthTaskSpec) exec = spec_of ("{\"id\": \"/e\", \"cmd\": \"sleep 9\", \"cpus\": 0.25, \"mem\": 32,"
                                           " \"disk\": 5, \"env\": {\"A\": \"b\"}, \"labels\": {\"l\": \"v\"},"
                                           " \"taskKillGracePeriodSeconds\": 7,"
                                           " \"portDefinitions\": [{\"port\": 0, \"name\": \"http\"}]}", limits);
  g_autoptr(BerthTaskSpec) box = spec_of ("{\"id\": \"/c\", \"args\": [\"-x\"], \"mem\": 16,"
                                          " \"container\": {\"type\": \"DOCKER\", \"docker\": {\"image\": \"busybox\","
                                          " \"network\": \"BRIDGE\", \"portMappings\": [{\"containerPort\": 80,"
                                          " \"protocol\": \"tcp\"}, {\"containerPort\": 53, \"protocol\": \"udp\"}]}}}",
                                          limits);
  const char *protocol = NULL, *name = NULL;

  g_assert_nonnull (exec);
  g_assert_cmpint (berth_task_spec_get_kind (exec), ==, BERTH_TASK_KIND_EXEC);
  g_assert_cmpstr (berth_task_spec_get_cmd (exec), ==, "sleep 9");
  g_assert_cmpfloat (berth_task_spec_get_cpus (exec), ==, 0.25);
  g_assert_cmpuint (berth_task_spec_get_mem_mb (exec), ==, 32);
  g_assert_cmpuint (berth_task_spec_get_disk_mb (exec), ==, 5);
  g_assert_cmpstr (g_hash_table_lookup (berth_task_spec_get_env (exec), "A"), ==, "b");
  g_assert_cmpstr (g_hash_table_lookup (berth_task_spec_get_labels (exec), "l"), ==, "v");
  g_assert_cmpuint (berth_task_spec_get_kill_grace_seconds (exec), ==, 7);
  g_assert_cmpint (berth_task_spec_get_network (exec), ==, BERTH_TASK_NETWORK_HOST);
  g_assert_cmpuint (berth_task_spec_get_n_ports (exec), ==, 1);
  berth_task_spec_get_port (exec, 0, &protocol, &name);
  g_assert_cmpstr (name, ==, "http");

  g_assert_nonnull (box);
  g_assert_cmpint (berth_task_spec_get_kind (box), ==, BERTH_TASK_KIND_CONTAINER);
  g_assert_cmpstr (berth_task_spec_get_image (box), ==, "busybox");
  g_assert_cmpstr (berth_task_spec_get_args (box)[0], ==, "-x");
  g_assert_cmpint (berth_task_spec_get_network (box), ==, BERTH_TASK_NETWORK_BRIDGE);
  g_assert_cmpuint (berth_task_spec_get_n_ports (box), ==, 2);
  g_assert_cmpuint (berth_task_spec_get_port (box, 0, &protocol, &name), ==, 80);
  g_assert_cmpstr (protocol, ==, "tcp");
  g_assert_cmpuint (berth_task_spec_get_port (box, 1, &protocol, &name), ==, 53);
  g_assert_cmpstr (protocol, ==, "udp");
}

/* ---- bus events → Marathon ---------------------------------------------- */

static JsonObject *
translate (const char *topic, BerthCaller *caller, const char *data, const char **type)
{
  g_autoptr(JsonNode) node = parse (data);
  g_autoptr(BerthEvent) event = berth_event_new (topic, caller, json_node_get_object (node));
  return scheduler_events_translate (event, type);
}

static void
test_events_translate (void)
{
  g_autoptr(BerthCaller) caller = berth_caller_new_tcp ("10.1.2.3:4567", FALSE);
  const char *type = NULL;
  g_autoptr(JsonObject) status = translate ("task.state", NULL,
                                            "{\"taskId\": \"t1\", \"appId\": \"/a\", \"nodeId\": \"n\","
                                            " \"state\": \"TASK_RUNNING\", \"host\": \"h\", \"ports\": [10000],"
                                            " \"message\": \"\", \"version\": \"v1\"}", &type);
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(JsonObject) post = NULL;
  g_autoptr(JsonObject) scaled = NULL;
  g_autoptr(JsonObject) success = NULL;
  g_autoptr(JsonObject) failed = NULL;
  g_autoptr(JsonObject) health = NULL;
  g_autoptr(JsonObject) check = NULL;
  g_autoptr(JsonObject) other = NULL;

  g_assert_cmpstr (type, ==, "status_update_event");
  g_assert_cmpstr (json_object_get_string_member (status, "eventType"), ==, "status_update_event");
  g_assert_true (json_object_has_member (status, "timestamp"));
  g_assert_cmpstr (json_object_get_string_member (status, "slaveId"), ==, "n");
  g_assert_cmpstr (json_object_get_string_member (status, "taskStatus"), ==, "TASK_RUNNING");
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (status, "ports"), 0), ==, 10000);

  info = translate ("deployment", NULL, "{\"phase\": \"started\", \"id\": \"d1\", \"appId\": \"/a\","
                                        " \"version\": \"v2\", \"action\": \"StartApplication\"}", &type);
  g_assert_cmpstr (type, ==, "deployment_info");
  g_assert_true (json_object_has_member (info, "plan"));
  g_assert_true (json_object_has_member (info, "currentStep"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (info, "plan"), "id"), ==, "d1");

  success = translate ("deployment", NULL, "{\"phase\": \"success\", \"id\": \"d1\"}", &type);
  g_assert_cmpstr (type, ==, "deployment_success");
  g_assert_cmpstr (json_object_get_string_member (success, "id"), ==, "d1");
  failed = translate ("deployment", NULL, "{\"phase\": \"cancelled\", \"id\": \"d1\"}", &type);
  g_assert_cmpstr (type, ==, "deployment_failed");

  post = translate ("app", caller, "{\"action\": \"created\", \"appId\": \"/a\", \"definition\": {\"id\": \"/a\"}}",
                    &type);
  g_assert_cmpstr (type, ==, "api_post_event");
  g_assert_cmpstr (json_object_get_string_member (post, "clientIp"), ==, "10.1.2.3");
  g_assert_cmpstr (json_object_get_string_member (post, "uri"), ==, "/v2/apps");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (post, "appDefinition"), "id"), ==,
                   "/a");
  /* a kill with scale writes no definition: nothing for Marathon */
  scaled = translate ("app", NULL, "{\"action\": \"scaled\", \"appId\": \"/a\"}", &type);
  g_assert_null (scaled);
  g_assert_null (type);

  health = translate ("health", NULL, "{\"taskId\": \"t1\", \"appId\": \"/a\", \"version\": \"v\", \"alive\": true}",
                      &type);
  g_assert_cmpstr (type, ==, "health_status_changed_event");
  g_assert_true (json_object_get_boolean_member (health, "alive"));
  g_assert_cmpstr (json_object_get_string_member (health, "instanceId"), ==, "t1");
  check = translate ("health.check", NULL, "{\"taskId\": \"t1\", \"appId\": \"/a\", \"check\": {\"protocol\": \"TCP\"}}",
                     &type);
  g_assert_cmpstr (type, ==, "failed_health_check_event");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (check, "healthCheck"), "protocol"),
                   ==, "TCP");

  other = translate ("api.write", caller, "{}", &type);
  g_assert_null (other);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scheduler/placement/resources", test_placement_resources);
  g_test_add_func ("/scheduler/placement/constraints", test_placement_constraints);
  g_test_add_func ("/scheduler/validate/good", test_validate_good);
  g_test_add_func ("/scheduler/validate/bad", test_validate_bad);
  g_test_add_func ("/scheduler/validate/script-checks", test_script_checks_switch);
  g_test_add_func ("/scheduler/versions/cap", test_version_cap);
  g_test_add_func ("/scheduler/task-spec", test_task_spec);
  g_test_add_func ("/scheduler/events/translate", test_events_translate);
  return g_test_run ();
}
