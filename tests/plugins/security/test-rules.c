/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ACL rules: parsing (HCL subset and JSON, malformed input) and decisions
 * (longest prefix, exact over prefix, deny, merging, lists). */
#include "config.h"

#include <string.h>

#include <berth.h>

#include "security-rules.h"

static SecurityRules *
parse_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  SecurityRules *rules = security_rules_parse (text, FALSE, &error);

  g_assert_no_error (error);
  g_assert_nonnull (rules);
  return rules;
}

/* Parses @text, which must fail naming @line and containing @fragment. */
static void
parse_bad (const char *text, guint line, const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SecurityRules) rules = security_rules_parse (text, FALSE, &error);
  g_autofree char *where = g_strdup_printf ("line %u:", line);

  g_assert_null (rules);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  if (line > 0 && strstr (error->message, where) == NULL)
    g_error ("“%s”: expected %s in “%s”", text, where, error->message);
  if (fragment != NULL && strstr (error->message, fragment) == NULL)
    g_error ("“%s”: expected “%s” in “%s”", text, fragment, error->message);
}

#define R BERTH_ACCESS_READ
#define W BERTH_ACCESS_WRITE

static void
test_key_prefix (void)
{
  g_autoptr(SecurityRules) r = parse_ok ("key_prefix \"team-a/\" {\n  policy = \"write\"\n}\n");

  g_assert_true (security_rules_allows (r, "key", "team-a/x", W));
  g_assert_true (security_rules_allows (r, "key", "team-a/x", R));
  g_assert_true (security_rules_allows (r, "key", "team-a/", W));
  g_assert_false (security_rules_allows (r, "key", "team-b/x", R));
  g_assert_false (security_rules_allows (r, "key", "team-a", R));
  g_assert_false (security_rules_allows (r, "service", "team-a/x", R));
  /* a list is allowed when anything of the kind is readable */
  g_assert_true (security_rules_allows (r, "key", NULL, R));
  g_assert_false (security_rules_allows (r, "service", NULL, R));
}

static void
test_longest_prefix_and_exact (void)
{
  g_autoptr(SecurityRules) r = parse_ok (
    "key_prefix \"\" { policy = \"read\" }\n"
    "key_prefix \"app/\" { policy = \"write\" }\n"
    "key_prefix \"app/secret/\" { policy = \"deny\" }\n"
    "key \"app/secret/public\" { policy = \"read\" }\n"
    "key \"app/frozen\" { policy = \"read\" }\n");

  g_assert_true (security_rules_allows (r, "key", "other", R));
  g_assert_false (security_rules_allows (r, "key", "other", W));
  g_assert_true (security_rules_allows (r, "key", "app/x", W));
  g_assert_false (security_rules_allows (r, "key", "app/secret/x", R));
  /* exact beats every prefix, even a longer deny */
  g_assert_true (security_rules_allows (r, "key", "app/secret/public", R));
  g_assert_false (security_rules_allows (r, "key", "app/secret/public", W));
  /* exact read beats the write prefix */
  g_assert_false (security_rules_allows (r, "key", "app/frozen", W));
  g_assert_true (security_rules_allows (r, "key", "app/frozen2", W));
  g_assert_cmpint (security_rules_lookup (r, "key", "app/secret/x"), ==, SECURITY_POLICY_DENY);
  g_assert_cmpint (security_rules_lookup (r, "key", "zzz"), ==, SECURITY_POLICY_READ);
}

static void
test_exact_only (void)
{
  g_autoptr(SecurityRules) r = parse_ok ("service \"web\" { policy = \"write\" }");

  g_assert_true (security_rules_allows (r, "service", "web", W));
  g_assert_false (security_rules_allows (r, "service", "web2", R));
  g_assert_false (security_rules_allows (r, "service", "we", R));
  g_assert_true (security_rules_allows (r, "service", NULL, R));
  g_assert_true (security_rules_allows (r, "service", NULL, W));
}

static void
test_scalar_kinds (void)
{
  g_autoptr(SecurityRules) r = parse_ok ("operator = \"read\"\nacl = \"write\"\naudit = \"read\"\nimage = \"write\"");

  g_assert_true (security_rules_allows (r, "operator", NULL, R));
  g_assert_false (security_rules_allows (r, "operator", NULL, W));
  g_assert_true (security_rules_allows (r, "acl", "anything", W));
  g_assert_true (security_rules_allows (r, "audit", NULL, R));
  g_assert_false (security_rules_allows (r, "audit", NULL, W));
  g_assert_true (security_rules_allows (r, "image", "docker.io/library/busybox:latest", W));
  g_assert_false (security_rules_allows (r, "key", "x", R));
  g_assert_false (security_rules_allows (r, "keyring", NULL, R));
}

static void
test_berth_kinds (void)
{
  g_autoptr(SecurityRules) r = parse_ok (
    "app_prefix \"/team-a/\" { policy = \"write\" }\n"
    "app \"/shared\" { policy = \"read\" }\n"
    "container_prefix \"web-\" { policy = \"read\" }\n"
    "image \"registry/team-a/base\" { policy = \"write\" }\n"
    "image_prefix \"registry/\" { policy = \"read\" }\n"
    "log_prefix \"logs-team-a\" { policy = \"read\" }\n"
    "node_prefix \"\" { policy = \"read\" }\n"
    "agent \"vm\" { policy = \"read\" }\n"
    "session_prefix \"\" { policy = \"write\" }\n");

  g_assert_true (security_rules_allows (r, "app", "/team-a/web", W));
  g_assert_false (security_rules_allows (r, "app", "/team-b/web", R));
  g_assert_true (security_rules_allows (r, "app", "/shared", R));
  g_assert_false (security_rules_allows (r, "app", "/shared", W));
  g_assert_true (security_rules_allows (r, "container", "web-1", R));
  g_assert_false (security_rules_allows (r, "container", "web-1", W));
  g_assert_true (security_rules_allows (r, "image", "registry/team-a/base", W));
  g_assert_false (security_rules_allows (r, "image", "registry/team-b/base", W));
  g_assert_true (security_rules_allows (r, "image", "registry/team-b/base", R));
  g_assert_true (security_rules_allows (r, "log", "logs-team-a-2026", R));
  g_assert_false (security_rules_allows (r, "log", "logs-team-b", R));
  g_assert_true (security_rules_allows (r, "node", "anything", R));
  g_assert_true (security_rules_allows (r, "agent", "vm", R));
  g_assert_false (security_rules_allows (r, "agent", "vm2", R));
  g_assert_true (security_rules_allows (r, "session", "x", W));
  /* Marathon ids with or without the leading slash; an app's own paths */
  g_assert_true (security_rules_allows (r, "app", "team-a/web", W));
  g_assert_true (security_rules_allows (r, "app", "shared/tasks", R));
  g_assert_false (security_rules_allows (r, "app", "/shared/tasks", W));
  g_assert_false (security_rules_allows (r, "app", "/sharedx", R));
  g_assert_false (security_rules_allows (r, "app", "/", R));
  /* unknown kinds are never allowed */
  g_assert_false (security_rules_allows (r, "frobnicate", "x", R));
}

static void
test_app_paths (void)
{
  g_autoptr(SecurityRules) r = parse_ok ("app_prefix \"team-b/\" { policy = \"write\" }\n"
                                         "app \"team-b/locked\" { policy = \"read\" }\n"
                                         "app \"/team-b/locked/inner\" { policy = \"deny\" }\n");
  g_autoptr(SecurityRules) all = parse_ok ("app_prefix \"\" { policy = \"read\" }");

  g_assert_true (security_rules_allows (r, "app", "/team-b/web", W));
  g_assert_true (security_rules_allows (r, "app", "team-b/web/restart", W));
  g_assert_false (security_rules_allows (r, "app", "/team-b/locked", W));
  g_assert_false (security_rules_allows (r, "app", "/team-b/locked/versions", W));
  g_assert_true (security_rules_allows (r, "app", "/team-b/locked/versions", R));
  /* the nearest exact rule wins */
  g_assert_false (security_rules_allows (r, "app", "/team-b/locked/inner/tasks", R));
  g_assert_false (security_rules_allows (r, "app", "/team-c/web", R));
  g_assert_true (security_rules_allows (all, "app", "/anything/at/all", R));
  g_assert_true (security_rules_allows (all, "app", "x", R));
}

static void
test_list_policy (void)
{
  g_autoptr(SecurityRules) r = parse_ok ("key_prefix \"l/\" { policy = \"list\" }");

  g_assert_true (security_rules_allows (r, "key", "l/x", R));
  g_assert_false (security_rules_allows (r, "key", "l/x", W));
  parse_bad ("service_prefix \"\" { policy = \"list\" }", 1, "invalid policy");
}

static void
test_deny_blocks_lists (void)
{
  g_autoptr(SecurityRules) r = parse_ok ("service_prefix \"\" { policy = \"deny\" }");

  g_assert_false (security_rules_allows (r, "service", NULL, R));
  g_assert_false (security_rules_allows (r, "service", "web", R));
}

static void
test_merge (void)
{
  g_autoptr(SecurityRules) merged = security_rules_new ();
  g_autoptr(SecurityRules) a = parse_ok ("key_prefix \"x/\" { policy = \"read\" }\n"
                                         "key_prefix \"y/\" { policy = \"write\" }\n"
                                         "service \"web\" { policy = \"read\" }");
  g_autoptr(SecurityRules) b = parse_ok ("key_prefix \"x/\" { policy = \"write\" }\n"
                                         "key_prefix \"y/\" { policy = \"deny\" }\n"
                                         "operator = \"read\"");

  g_assert_true (security_rules_is_empty (merged));
  security_rules_merge (merged, a);
  security_rules_merge (merged, b);
  g_assert_false (security_rules_is_empty (merged));
  /* the most permissive wins ... */
  g_assert_true (security_rules_allows (merged, "key", "x/1", W));
  /* ... but deny beats everything */
  g_assert_false (security_rules_allows (merged, "key", "y/1", R));
  g_assert_true (security_rules_allows (merged, "service", "web", R));
  g_assert_true (security_rules_allows (merged, "operator", NULL, R));
  /* the merge does not change its sources */
  g_assert_true (security_rules_allows (a, "key", "y/1", W));
}

static void
test_management (void)
{
  g_autoptr(SecurityRules) m = security_rules_new_management ();
  g_autoptr(SecurityRules) merged = parse_ok ("key_prefix \"\" { policy = \"deny\" }");

  g_assert_true (security_rules_is_management (m));
  g_assert_true (security_rules_allows (m, "key", "anything", W));
  g_assert_true (security_rules_allows (m, "acl", NULL, W));
  g_assert_true (security_rules_allows (m, "whatever", NULL, W));
  security_rules_merge (merged, m);
  g_assert_true (security_rules_allows (merged, "key", "x", W));
}

static void
test_empty_denies (void)
{
  g_autoptr(SecurityRules) r = parse_ok ("  # nothing but a comment\n\n");

  g_assert_true (security_rules_is_empty (r));
  g_assert_false (security_rules_allows (r, "key", "x", R));
  g_assert_false (security_rules_allows (r, "key", NULL, R));
  g_assert_true (security_rules_allows (r, "key", "x", BERTH_ACCESS_NONE));
}

static void
test_hcl_syntax (void)
{
  /* comments of three kinds, commas, "=" before the block, escapes */
  g_autoptr(SecurityRules) r = parse_ok (
    "// a comment\n"
    "/* a block\n comment */ key_prefix \"a\\\"b/\" = { policy = \"write\", }\n"
    "service \"web\" { policy = \"write\" intentions = \"read\" }  # trailing\n"
    "node \"n1\" {\n"
    "  policy = \"read\"\n"
    "}\n");

  g_assert_true (security_rules_allows (r, "key", "a\"b/c", W));
  g_assert_true (security_rules_allows (r, "service", "web", W));
  g_assert_true (security_rules_allows (r, "node", "n1", R));
}

static void
test_json (void)
{
  g_autoptr(SecurityRules) r = parse_ok (
    "{\n"
    "  \"key_prefix\": { \"team-a/\": { \"policy\": \"write\" } },\n"
    "  \"key\": [ { \"team-a/locked\": { \"policy\": \"read\" } } ],\n"
    "  \"service_prefix\": { \"\": { \"policy\": \"read\" } },\n"
    "  \"operator\": \"read\"\n"
    "}\n");

  g_assert_true (security_rules_allows (r, "key", "team-a/x", W));
  g_assert_false (security_rules_allows (r, "key", "team-a/locked", W));
  g_assert_true (security_rules_allows (r, "key", "team-a/locked", R));
  g_assert_true (security_rules_allows (r, "service", "any", R));
  g_assert_true (security_rules_allows (r, "operator", NULL, R));
  g_assert_false (security_rules_allows (r, "operator", NULL, W));
}

static void
test_legacy (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SecurityRules) r = security_rules_parse ("key \"\" { policy = \"read\" }\n"
                                                     "key \"foo/\" { policy = \"write\" }\n"
                                                     "key \"foo/private/\" { policy = \"deny\" }\n",
                                                     TRUE, &error);

  g_assert_no_error (error);
  /* legacy rules match by prefix */
  g_assert_true (security_rules_allows (r, "key", "anything", R));
  g_assert_true (security_rules_allows (r, "key", "foo/bar", W));
  g_assert_false (security_rules_allows (r, "key", "foo/private/x", R));
}

static void
test_malformed (void)
{
  parse_bad ("key_prefix \"a/\" { policy = \"writ\" }", 1, "invalid policy “writ”");
  parse_bad ("\n\nfrobnicate \"a\" { policy = \"read\" }", 3, "unknown rule “frobnicate”");
  parse_bad ("key_prefix \"a/\" {\n  policy = \"read\"\n", 1, "missing “}”");
  parse_bad ("key_prefix \"a/\" {\n}\n", 1, "missing policy");
  parse_bad ("key_prefix \"a/\" {\n  color = \"red\"\n}", 2, "unknown attribute “color”");
  parse_bad ("key_prefix a/ { policy = \"read\" }", 1, NULL);
  parse_bad ("key_prefix \"a/ { policy = \"read\" }\nkey \"b\" { policy = \"read\" }", 1, NULL);
  parse_bad ("key_prefix \"a/\n\" { policy = \"read\" }", 1, "unterminated string");
  parse_bad ("key \"x\" { policy = read }", 1, "quoted string");
  parse_bad ("operator \"x\" { policy = \"read\" }", 1, "takes no name");
  parse_bad ("key_prefix = \"read\"", 1, "needs a name");
  parse_bad ("operator = \"admin\"", 1, "invalid policy");
  parse_bad ("key \"x\" policy = \"read\"", 1, "expected “{”");
  parse_bad ("\n/* never closed", 2, "unterminated comment");
  parse_bad ("key \"x\" { policy = \"read\" } }", 1, NULL);
  parse_bad ("key \"x\" { policy = \"read\" }\n\n\n@", 4, "unexpected character “@”");
  parse_bad ("key \"\\q\" { policy = \"read\" }", 1, "invalid escape");
  parse_bad ("service \"x\" { policy = \"read\" intentions = \"sometimes\" }", 1, "intentions");
  /* JSON */
  parse_bad ("{ \"key_prefix\": { \"a\": { \"policy\": \"nope\" } } }", 0, "invalid policy");
  parse_bad ("{ \"frob\": \"read\" }", 0, "unknown rule");
  parse_bad ("{ \"key_prefix\": { \"a\": { \"policy\": \"read\", \"x\": 1 } } }", 0, "unknown attribute");
  parse_bad ("{ \"key_prefix\": { \"a\": { } } }", 0, "missing policy");
  parse_bad ("{ \"operator\": { \"a\": { \"policy\": \"read\" } } }", 0, "takes a policy string");
  parse_bad ("{ \"key_prefix\": ", 0, "Failed to parse ACL rules");
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(SecurityRules) r = security_rules_parse ("key \"\xff\" { policy = \"read\" }", FALSE, &error);
    g_assert_null (r);
    g_assert_error (error, BERTH_ERROR, BERTH_ERROR_INVALID);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/security/rules/key-prefix", test_key_prefix);
  g_test_add_func ("/security/rules/longest-prefix-and-exact", test_longest_prefix_and_exact);
  g_test_add_func ("/security/rules/exact-only", test_exact_only);
  g_test_add_func ("/security/rules/scalar-kinds", test_scalar_kinds);
  g_test_add_func ("/security/rules/berth-kinds", test_berth_kinds);
  g_test_add_func ("/security/rules/app-paths", test_app_paths);
  g_test_add_func ("/security/rules/list-policy", test_list_policy);
  g_test_add_func ("/security/rules/deny-blocks-lists", test_deny_blocks_lists);
  g_test_add_func ("/security/rules/merge", test_merge);
  g_test_add_func ("/security/rules/management", test_management);
  g_test_add_func ("/security/rules/empty-denies", test_empty_denies);
  g_test_add_func ("/security/rules/hcl-syntax", test_hcl_syntax);
  g_test_add_func ("/security/rules/json", test_json);
  g_test_add_func ("/security/rules/legacy", test_legacy);
  g_test_add_func ("/security/rules/malformed", test_malformed);
  return g_test_run ();
}
