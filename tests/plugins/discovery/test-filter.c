/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <berth.h>

#include "discovery-filter.h"

/* Self-tests of Consul's ?filter= language: what parses (and how it
 * groups), what fails and where, and what matches which JSON item. */

static char *
parsed (const char *expression)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DiscoveryFilter) filter = discovery_filter_new (expression, &error);

  g_assert_no_error (error);
  g_assert_nonnull (filter);
  return discovery_filter_to_string (filter);
}

static void
assert_parsed (const char *expression, const char *expected)
{
  g_autofree char *text = parsed (expression);
  g_assert_cmpstr (text, ==, expected);
}

static void
test_parse_operators (void)
{
  assert_parsed ("Service == web", "Service == \"web\"");
  assert_parsed ("Service==\"web\"", "Service == \"web\"");
  assert_parsed ("Service != `we\"b`", "Service != \"we\"b\"");
  assert_parsed ("Service.Tags contains primary", "\"primary\" in Service.Tags");
  assert_parsed ("Service.Tags not contains \"a b\"", "\"a b\" not in Service.Tags");
  assert_parsed ("primary in Service.Tags", "\"primary\" in Service.Tags");
  assert_parsed ("\"primary\" not in Service.Tags", "\"primary\" not in Service.Tags");
  assert_parsed ("80 in Ports", "\"80\" in Ports");
  assert_parsed ("a in b", "\"a\" in b");
  assert_parsed ("Meta is empty", "Meta is empty");
  assert_parsed ("Meta is not empty", "Meta is not empty");
  assert_parsed ("Node matches \"^web-[0-9]+$\"", "Node matches \"^web-[0-9]+$\"");
  assert_parsed ("Node not matches `x`", "Node not matches \"x\"");
  assert_parsed ("ServiceMeta[\"env\"] == prod", "ServiceMeta.env == \"prod\"");
  assert_parsed ("Node.Meta.x == 1.5", "Node.Meta.x == \"1.5\"");
  assert_parsed ("Port == -3", "Port == \"-3\"");
  assert_parsed ("Tags.0 == a", "Tags.0 == \"a\"");
  assert_parsed ("Name == \"tab\\there\"", "Name == \"tab\there\"");
}

static void
test_parse_logic (void)
{
  /* not binds tighter than and, and tighter than or */
  assert_parsed ("a == 1 or b == 2 and not c == 3",
                 "(a == \"1\" or (b == \"2\" and not c == \"3\"))");
  assert_parsed ("(a == 1 or b == 2) and c == 3",
                 "((a == \"1\" or b == \"2\") and c == \"3\")");
  assert_parsed ("not not a == 1", "a == \"1\"");
  assert_parsed ("not (a == 1)", "not a == \"1\"");
  assert_parsed ("  ( a is empty )  ", "a is empty");
  assert_parsed ("a == 1\nand\tb == 2", "(a == \"1\" and b == \"2\")");
  /* a name starting with a keyword is a name */
  assert_parsed ("notes == x and order == y", "(notes == \"x\" and order == \"y\")");
}

static void
assert_fails (const char *expression, const char *position, const char *words)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DiscoveryFilter) filter = discovery_filter_new (expression, &error);

  if (filter != NULL)
    g_error ("“%s” parsed", expression);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  if (strstr (error->message, position) == NULL || strstr (error->message, words) == NULL)
    g_error ("“%s”: “%s” lacks “%s” or “%s”", expression, error->message, position, words);
}

static void
test_parse_errors (void)
{
  assert_fails ("", "1:1 (0)", "expected a selector");
  assert_fails ("Service ==", "1:11 (10)", "expected a value");
  assert_fails ("Service == web)", "1:15 (14)", "expected “and”, “or” or the end");
  assert_fails ("(Service == web", "1:16 (15)", "expected “)”");
  assert_fails ("Service = web", "1:9 (8)", "expected an operator after “Service”");
  assert_fails ("Service is full", "1:12 (11)", "expected “empty”");
  assert_fails ("Service == \"web", "1:12 (11)", "unterminated string");
  assert_fails ("Service == `web", "1:12 (11)", "unterminated string");
  assert_fails ("\"web\" == Service", "1:7 (6)", "expected “in” or “not in”");
  assert_fails ("Service == 12abc", "1:12 (11)", "invalid number");
  assert_fails ("Service.", "1:9 (8)", "expected a name after “.”");
  assert_fails ("Meta[env] == x", "1:6 (5)", "expected a quoted key");
  assert_fails ("Meta[\"env\" == x", "1:12 (11)", "expected “]”");
  assert_fails ("a == 1 and", "1:11 (10)", "expected a selector");
  assert_fails ("a == 1 xor b == 2", "1:8 (7)", "expected “and”, “or”");
  assert_fails ("a matches \"[\"", "1:11 (10)", "invalid regular expression");
  assert_fails ("a == \"\\q\"", "1:7 (6)", "unknown escape");
  assert_fails ("a == 1\nand b ==", "2:9 (15)", "expected a value");
  assert_fails ("a in", "1:5 (4)", "expected a selector");
  assert_fails ("a contains", "1:3 (2)", "expected an operator after “a”");
}

static void
test_parse_depth (void)
{
  GString *deep = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  DiscoveryFilter *filter;

  for (int i = 0; i < 100; i++)
    g_string_append_c (deep, '(');
  g_string_append (deep, "a == 1");
  for (int i = 0; i < 100; i++)
    g_string_append_c (deep, ')');
  filter = discovery_filter_new (deep->str, &error);
  g_assert_null (filter);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "nests deeper"));
  g_string_free (deep, TRUE);
}

/* A health entry, as /v1/health/service answers one. */
static const char entry_json[] =
  "{\"Node\": {\"Node\": \"node1\", \"Address\": \"10.0.0.1\", \"Meta\": {\"rack\": \"r1\"}},"
  " \"Service\": {\"ID\": \"web1\", \"Service\": \"web\", \"Tags\": [\"primary\", \"v2\"],"
  "               \"Port\": 8080, \"Meta\": {}, \"EnableTagOverride\": false, \"Weights\": null},"
  " \"Checks\": [{\"CheckID\": \"serfHealth\", \"Status\": \"passing\"},"
  "              {\"CheckID\": \"service:web1\", \"Status\": \"critical\"}]}";

static gboolean
matches (const char *expression)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DiscoveryFilter) filter = discovery_filter_new (expression, &error);
  g_autoptr(JsonNode) item = json_from_string (entry_json, &error);
  gboolean matched = FALSE;

  g_assert_no_error (error);
  g_assert_true (discovery_filter_match (filter, item, &matched, &error));
  g_assert_no_error (error);
  return matched;
}

static void
test_match (void)
{
  g_assert_true (matches ("Service.Service == web"));
  g_assert_false (matches ("Service.Service == Web"));
  g_assert_true (matches ("Service.Service != db"));
  g_assert_true (matches ("Service.Tags contains primary"));
  g_assert_true (matches ("v2 in Service.Tags"));
  g_assert_false (matches ("v in Service.Tags"));
  g_assert_true (matches ("v not in Service.Tags"));
  g_assert_true (matches ("\"eb\" in Service.Service"));          /* substring */
  g_assert_true (matches ("Service.Service matches `^w.b$`"));
  g_assert_false (matches ("Service.Service not matches `^w`"));
  g_assert_true (matches ("Service.Meta is empty"));
  g_assert_false (matches ("Service.Tags is empty"));
  g_assert_true (matches ("Service.Weights is empty"));           /* null */
  g_assert_true (matches ("Node.Meta.rack == r1"));
  g_assert_true (matches ("Node.Meta[\"rack\"] is not empty"));
  g_assert_true (matches ("rack in Node.Meta"));                   /* map keys */
  /* a missing key: empty, equal to nothing */
  g_assert_false (matches ("Node.Meta.zone == r1"));
  g_assert_true (matches ("Node.Meta.zone != r1"));
  g_assert_true (matches ("Node.Meta.zone is empty"));
  g_assert_false (matches ("Node.Meta.zone matches `.*`"));
  /* numbers and booleans compare as such */
  g_assert_true (matches ("Service.Port == 8080"));
  g_assert_true (matches ("Service.Port == \"8080\""));
  g_assert_false (matches ("Service.Port == 80"));
  g_assert_true (matches ("Service.EnableTagOverride == false"));
  g_assert_true (matches ("Service.EnableTagOverride != True"));
  /* through a list: one element is enough */
  g_assert_true (matches ("Checks.Status == critical"));
  g_assert_true (matches ("Checks.Status == passing"));
  g_assert_false (matches ("Checks.Status == warning"));
  g_assert_true (matches ("Checks.Status != passing"));
  g_assert_true (matches ("not (Checks.Status == warning)"));
  g_assert_true (matches ("Checks.0.CheckID == serfHealth"));
  g_assert_true (matches ("Service.Tags.1 == v2"));
  g_assert_true (matches ("Service.Tags.5 is empty"));
  /* logic */
  g_assert_true (matches ("Service.Service == db or Service.Port == 8080"));
  g_assert_false (matches ("Service.Service == db or (Service.Port == 8080 and Node.Node == x)"));
  g_assert_true (matches ("not Service.Service == db and not Service.Tags is empty"));
}

static void
assert_eval_fails (const char *expression, const char *words)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DiscoveryFilter) filter = discovery_filter_new (expression, &error);
  g_autoptr(JsonNode) item = json_from_string (entry_json, &error);
  gboolean matched;

  g_assert_no_error (error);
  g_assert_false (discovery_filter_match (filter, item, &matched, &error));
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  if (strstr (error->message, words) == NULL)
    g_error ("“%s”: “%s” lacks “%s”", expression, error->message, words);
}

static void
test_match_errors (void)
{
  assert_eval_fails ("Service.Port == eighty", "cannot be compared with Service.Port, which is a number");
  assert_eval_fails ("Service.EnableTagOverride == maybe", "which is a boolean");
  assert_eval_fails ("Service.Port contains 8", "“in/contains” does not apply to Service.Port");
  assert_eval_fails ("Service.Tags == primary", "“==” does not apply to Service.Tags, which is a list");
  assert_eval_fails ("Service.Port is empty", "does not apply");
  assert_eval_fails ("Node.Node.x == 1", "“Node” is a string, it has no member “x”");
}

static void
test_array_and_values (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DiscoveryFilter) filter = discovery_filter_new ("Tags contains a", &error);
  g_autoptr(JsonNode) list = json_from_string ("[{\"ID\": \"1\", \"Tags\": [\"a\"]}, {\"ID\": \"2\", \"Tags\": []},"
                                               " {\"ID\": \"3\", \"Tags\": [\"b\", \"a\"]}]", &error);
  g_autoptr(JsonNode) map = json_from_string ("{\"x\": {\"Tags\": [\"a\"]}, \"y\": {\"Tags\": null}}", &error);
  JsonArray *array = json_node_get_array (list);

  g_assert_no_error (error);
  g_assert_true (discovery_filter_array (filter, array, &error));
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (array, 0), "ID"), ==, "1");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (array, 1), "ID"), ==, "3");
  g_assert_true (discovery_filter_values (filter, json_node_get_object (map), &error));
  g_assert_true (json_object_has_member (json_node_get_object (map), "x"));
  g_assert_false (json_object_has_member (json_node_get_object (map), "y"));
  /* no filter: everything */
  g_assert_true (discovery_filter_array (NULL, array, &error));
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
}

static void
assert_valid (const char *expression, DiscoveryFilterItem item, const char *problem)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DiscoveryFilter) filter = discovery_filter_new (expression, &error);

  g_assert_no_error (error);
  if (problem == NULL)
    {
      g_assert_true (discovery_filter_validate (filter, item, &error));
      g_assert_no_error (error);
      return;
    }
  g_assert_false (discovery_filter_validate (filter, item, &error));
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  if (strstr (error->message, problem) == NULL)
    g_error ("“%s”: “%s” lacks “%s”", expression, error->message, problem);
}

static void
test_validate (void)
{
  assert_valid ("Service.Tags contains x and Checks.Status == passing and Node.Meta.rack == r",
                DISCOVERY_FILTER_HEALTH_ENTRY, NULL);
  assert_valid ("Checks.0.Status == passing or Service.Proxy.DestinationServiceName == x",
                DISCOVERY_FILTER_HEALTH_ENTRY, NULL);
  assert_valid ("ServiceTaggedAddresses.lan.Address == x and ServiceMeta[\"any key\"] is empty",
                DISCOVERY_FILTER_SERVICE_NODE, NULL);
  assert_valid ("Servic == x", DISCOVERY_FILTER_HEALTH_ENTRY,
                "1:1 (0): Selector “Servic” is not valid; here: Checks, Node, Service");
  assert_valid ("Node == a or\n  not Service.Nme == x", DISCOVERY_FILTER_HEALTH_ENTRY,
                "2:7 (19): Selector “Service.Nme” is not valid; here: Address, Connect,");
  assert_valid ("ServicePort.x == 1", DISCOVERY_FILTER_SERVICE_NODE, "it has nothing below it");
  assert_valid ("ServiceTaggedAddresses.lan.Foo == 1", DISCOVERY_FILTER_SERVICE_NODE,
                "here: Address, Port");
  assert_valid ("x in CreateIndex", DISCOVERY_FILTER_NODE, "1:6 (5): Selector “CreateIndex”");
  assert_valid ("Status == passing and Definition.HTTP is not empty", DISCOVERY_FILTER_CHECK, NULL);
  assert_valid ("Tags contains x and Port == 1", DISCOVERY_FILTER_SERVICE, NULL);
  assert_valid ("ServiceName == x", DISCOVERY_FILTER_SERVICE, "Selector “ServiceName”");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/discovery/filter/parse-operators", test_parse_operators);
  g_test_add_func ("/discovery/filter/parse-logic", test_parse_logic);
  g_test_add_func ("/discovery/filter/parse-errors", test_parse_errors);
  g_test_add_func ("/discovery/filter/parse-depth", test_parse_depth);
  g_test_add_func ("/discovery/filter/match", test_match);
  g_test_add_func ("/discovery/filter/match-errors", test_match_errors);
  g_test_add_func ("/discovery/filter/array-and-values", test_array_and_values);
  g_test_add_func ("/discovery/filter/validate", test_validate);
  return g_test_run ();
}
