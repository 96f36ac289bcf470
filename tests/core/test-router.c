/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <berth.h>

static void
handler_a (BerthRequest *req, gpointer data)
{
}

static void
handler_b (BerthRequest *req, gpointer data)
{
}

static void
test_match_params (void)
{
  g_autoptr(BerthRouter) router = berth_router_new ();
  g_autoptr(GHashTable) params = NULL;
  BerthMethod allowed = 0;
  BerthRoute *route;

  berth_router_add (router, BERTH_METHOD_GET, "/v1/kv/*key", "key", BERTH_ACCESS_READ, handler_a, NULL, NULL);
  berth_router_add (router, BERTH_METHOD_PUT, "/v1/kv/*key", "key", BERTH_ACCESS_WRITE, handler_b, NULL, NULL);
  berth_router_add (router, BERTH_METHOD_GET | BERTH_METHOD_PUT, "/v1/agent/service/deregister/:id",
                    "service", BERTH_ACCESS_WRITE, handler_a, NULL, NULL);

  /* tail capture: slashes kept; the path comes decoded from libsoup, and
   * is not decoded again */
  route = berth_router_lookup (router, "GET", "/v1/kv/a/b/c%20d", &params, &allowed);
  g_assert_nonnull (route);
  g_assert_cmpstr (berth_route_get_pattern (route), ==, "/v1/kv/*key");
  g_assert_cmpint (berth_route_get_access (route), ==, BERTH_ACCESS_READ);
  g_assert_cmpstr (g_hash_table_lookup (params, "key"), ==, "a/b/c%20d");
  g_clear_pointer (&params, g_hash_table_unref);

  /* empty tail */
  route = berth_router_lookup (router, "GET", "/v1/kv/", &params, NULL);
  g_assert_nonnull (route);
  g_assert_cmpstr (g_hash_table_lookup (params, "key"), ==, "");
  g_clear_pointer (&params, g_hash_table_unref);

  /* the method picks the route */
  route = berth_router_lookup (router, "PUT", "/v1/kv/x", &params, NULL);
  g_assert_nonnull (route);
  g_assert_cmpint (berth_route_get_access (route), ==, BERTH_ACCESS_WRITE);
  g_clear_pointer (&params, g_hash_table_unref);

  /* HEAD is served by GET routes */
  route = berth_router_lookup (router, "HEAD", "/v1/kv/x", &params, NULL);
  g_assert_nonnull (route);
  g_clear_pointer (&params, g_hash_table_unref);

  /* one segment parameter */
  route = berth_router_lookup (router, "GET", "/v1/agent/service/deregister/web 1", &params, NULL);
  g_assert_nonnull (route);
  g_assert_cmpstr (g_hash_table_lookup (params, "id"), ==, "web 1");
  g_clear_pointer (&params, g_hash_table_unref);
  g_assert_null (berth_router_lookup (router, "GET", "/v1/agent/service/deregister/", &params, NULL));
  g_assert_null (berth_router_lookup (router, "GET", "/v1/agent/service/deregister/a/b", &params, NULL));

  /* a % stays as it is */
  route = berth_router_lookup (router, "GET", "/v1/kv/100%/a%zz", &params, NULL);
  g_assert_nonnull (route);
  g_assert_cmpstr (g_hash_table_lookup (params, "key"), ==, "100%/a%zz");
  g_clear_pointer (&params, g_hash_table_unref);
}

static void
test_method_not_allowed (void)
{
  g_autoptr(BerthRouter) router = berth_router_new ();
  g_autoptr(GHashTable) params = NULL;
  g_autofree char *allow = NULL;
  BerthMethod allowed = 0;

  berth_router_add (router, BERTH_METHOD_GET, "/v1/status/leader", BERTH_RESOURCE_PUBLIC, BERTH_ACCESS_NONE, handler_a, NULL, NULL);
  berth_router_add (router, BERTH_METHOD_PUT, "/v1/txn", "key", BERTH_ACCESS_WRITE, handler_a, NULL, NULL);

  g_assert_null (berth_router_lookup (router, "POST", "/v1/status/leader", &params, &allowed));
  g_assert_null (params);
  allow = berth_method_to_string (allowed);
  g_assert_cmpstr (allow, ==, "GET, HEAD");

  /* no pattern matches at all: nothing allowed, a 404 */
  g_assert_null (berth_router_lookup (router, "GET", "/v1/nope", &params, &allowed));
  g_assert_cmpint (allowed, ==, 0);
  g_assert_null (berth_router_lookup (router, "BREW", "/v1/txn", &params, &allowed));
  g_assert_cmpint (allowed, ==, BERTH_METHOD_PUT);
}

static void
test_methods (void)
{
  g_assert_cmpint (berth_method_from_string ("DELETE"), ==, BERTH_METHOD_DELETE);
  g_assert_cmpint (berth_method_from_string ("get"), ==, 0);
}

/* Every route says what it touches: one that does not is not added. */
static void
test_undeclared_routes_refused (void)
{
  g_autoptr(BerthRouter) router = berth_router_new ();
  g_autoptr(GHashTable) params = NULL;
  BerthMethod allowed = 0;

  if (g_test_subprocess ())
    {
      berth_router_add (router, BERTH_METHOD_GET, "/v1/anything", NULL, BERTH_ACCESS_READ,
                        handler_a, NULL, NULL);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*acl_resource != NULL*");

  /* no access on a resource that is not public: refused too */
  if (g_test_subprocess ())
    return;
  g_test_trap_subprocess ("/router/undeclared/no-access", 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();

  berth_router_add (router, BERTH_METHOD_GET, "/ping", BERTH_RESOURCE_PUBLIC, BERTH_ACCESS_NONE,
                    handler_a, NULL, NULL);
  g_assert_nonnull (berth_router_lookup (router, "GET", "/ping", &params, &allowed));
}

static void
test_undeclared_no_access (void)
{
  g_autoptr(BerthRouter) router = berth_router_new ();

  if (!g_test_subprocess ())
    return;
  berth_router_add (router, BERTH_METHOD_GET, "/v1/kv/*key", "key", BERTH_ACCESS_NONE,
                    handler_a, NULL, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/router/match", test_match_params);
  g_test_add_func ("/router/405", test_method_not_allowed);
  g_test_add_func ("/router/methods", test_methods);
  g_test_add_func ("/router/undeclared", test_undeclared_routes_refused);
  g_test_add_func ("/router/undeclared/no-access", test_undeclared_no_access);
  return g_test_run ();
}
