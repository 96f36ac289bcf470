/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gmodule.h>
#include <string.h>
#include <berth.h>

/* A plugin for the tests of the core's dispatch path: it registers itself
 * as the authority and decides by rules a test can see from outside.
 *
 *   - a write to a KV key under `locked/` is denied;
 *   - any call naming the key `whoami` is denied with a message that
 *     describes the caller and its token, so a test can check what the
 *     front door established;
 *   - a caller whose token is `slow` is decided after 200 ms (the
 *     asynchronous path);
 *   - a caller whose token is `deny-all` is refused everything, public
 *     routes included;
 *   - a caller whose token is `team-X` (a team) may, on a named resource,
 *     only: keys under `team-X/` (and read the prefixes above them, as a
 *     recursive read names them); services named `team-X-*`; read any
 *     node, write nodes named `team-X-*`; apps `/team-X` and under
 *     `/team-X/` (a name without its leading slash, as the core passes a
 *     path's, counts as with it), and read the groups above them (`/`); containers named `team-X-*`; read any
 *     image but another team's (a path component `team-Y`), write images
 *     with a path component `team-X`; nothing of any other kind. A call
 *     that names nothing (a list, a write whose names are in its body)
 *     is allowed: the handlers check each name;
 *   - everything else is allowed.
 *
 * The synchronous `allows` (what handlers ask about names in bodies and
 * list items) decides by the same rules.
 *
 * It declares that it starts before the other plugins, and refuses every
 * call until its ready hook ran. */

#define TESTAUTH_TYPE_PLUGIN (testauth_plugin_get_type ())
G_DECLARE_FINAL_TYPE (TestauthPlugin, testauth_plugin, TESTAUTH, PLUGIN, BerthPlugin)

struct _TestauthPlugin {
  BerthPlugin parent_instance;
  gboolean    ready;
};

static void testauth_authority_iface_init (BerthAuthorityInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestauthPlugin, testauth_plugin, BERTH_TYPE_PLUGIN,
                               G_IMPLEMENT_INTERFACE (BERTH_TYPE_AUTHORITY,
                                                      testauth_authority_iface_init))

/* Whether @name is an image reference with a path component @component
 * (exactly, or, when @prefix, starting with it). */
static gboolean
image_has_component (const char *name, const char *component, gboolean prefix)
{
  g_auto(GStrv) parts = g_strsplit (name, "/", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *colon = strchr (parts[i], ':');
      /* the tag of the last component is no part of its name */
      if (parts[i + 1] == NULL && colon != NULL)
        *colon = '\0';
      if (prefix ? g_str_has_prefix (parts[i], component) : g_str_equal (parts[i], component))
        return TRUE;
    }
  return FALSE;
}

static gboolean
team_allows (const char *team, const char *resource, const char *name, BerthAccess access)
{
  g_autofree char *slash = g_strconcat (team, "/", NULL);
  g_autofree char *dash = g_strconcat (team, "-", NULL);

  if (name == NULL)
    return TRUE;
  if (g_str_equal (resource, "key"))
    return g_str_has_prefix (name, slash) ||
           (access == BERTH_ACCESS_READ && g_str_has_prefix (slash, name));
  if (g_str_equal (resource, "service") || g_str_equal (resource, "container"))
    return g_str_has_prefix (name, dash);
  if (g_str_equal (resource, "node"))
    return access != BERTH_ACCESS_WRITE || g_str_has_prefix (name, dash);
  if (g_str_equal (resource, "app"))
    {
      const char *id = name[0] == '/' ? name + 1 : name;
      g_autofree char *group = g_str_has_suffix (id, "/") || *id == '\0' ? g_strdup (id)
                                                                         : g_strconcat (id, "/", NULL);
      /* reads of the groups above the team's (the root "/") list only
       * what the team may read */
      return g_str_equal (id, team) || g_str_has_prefix (id, slash) ||
             (access == BERTH_ACCESS_READ && g_str_has_prefix (slash, group));
    }
  if (g_str_equal (resource, "image"))
    {
      if (access == BERTH_ACCESS_WRITE)
        return image_has_component (name, team, FALSE);
      return image_has_component (name, team, FALSE) || !image_has_component (name, "team-", TRUE);
    }
  return FALSE;
}

static gboolean
decide (TestauthPlugin *self, BerthCaller *caller, const char *resource, const char *name,
        BerthAccess access, GError **error)
{
  const char *token;

  if (!self->ready)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_UNAVAILABLE, "asked before ready");
      return FALSE;
    }
  if (g_strcmp0 (berth_caller_get_token (caller), "deny-all") == 0)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_DENIED, "deny-all: %s", resource);
      return FALSE;
    }
  if (g_strcmp0 (name, "whoami") == 0)
    {
      g_autofree char *who = berth_caller_to_string (caller);
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_DENIED, "caller=%s token=%s resource=%s access=%s",
                   who, berth_caller_get_token (caller) != NULL ? berth_caller_get_token (caller) : "-",
                   resource, access == BERTH_ACCESS_WRITE ? "write" : access == BERTH_ACCESS_READ ? "read" : "none");
      return FALSE;
    }
  if (g_strcmp0 (resource, "key") == 0 && access == BERTH_ACCESS_WRITE && name != NULL &&
      g_str_has_prefix (name, "locked/"))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_DENIED, "Permission denied: key %s is locked", name);
      return FALSE;
    }
  token = berth_caller_get_token (caller);
  if (token != NULL && g_str_has_prefix (token, "team-") && token[strlen ("team-")] != '\0' &&
      !team_allows (token, resource, name, access))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_DENIED, "Permission denied: %s may not %s %s %s", token,
                   access == BERTH_ACCESS_WRITE ? "write" : "read", resource, name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
slow_cb (gpointer data)
{
  GTask *task = data;
  GError *error = g_task_get_task_data (task);

  if (error != NULL)
    g_task_return_error (task, g_error_copy (error));
  else
    g_task_return_boolean (task, TRUE);
  return G_SOURCE_REMOVE;
}

static void
check_async (BerthAuthority *authority, BerthCaller *caller, const char *resource, const char *name,
             BerthAccess access, GCancellable *cancellable, GAsyncReadyCallback callback,
             gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (authority, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  gboolean ok = decide (TESTAUTH_PLUGIN (authority), caller, resource, name, access, &error);

  if (g_strcmp0 (berth_caller_get_token (caller), "slow") == 0)
    {
      if (!ok)
        g_task_set_task_data (task, g_steal_pointer (&error), (GDestroyNotify) g_error_free);
      g_timeout_add_full (G_PRIORITY_DEFAULT, 200, slow_cb, g_object_ref (task), g_object_unref);
      return;
    }
  if (!ok)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
check_finish (BerthAuthority *authority, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The same rules, at once (the `slow` token waits only in check_async). */
static gboolean
allows (BerthAuthority *authority, BerthCaller *caller, const char *resource, const char *name,
        BerthAccess access, GError **error)
{
  return decide (TESTAUTH_PLUGIN (authority), caller, resource, name, access, error);
}

static void
testauth_authority_iface_init (BerthAuthorityInterface *iface)
{
  iface->check_async = check_async;
  iface->check_finish = check_finish;
  iface->allows = allows;
}

static gboolean
testauth_startup (BerthPlugin *plugin, GError **error)
{
  BerthContext *context = berth_plugin_get_context (plugin);
  return berth_context_add_service (context, BERTH_TYPE_AUTHORITY, plugin, error);
}

static void
testauth_ready (BerthPlugin *plugin)
{
  TESTAUTH_PLUGIN (plugin)->ready = TRUE;
}

static void
testauth_shutdown (BerthPlugin *plugin)
{
  berth_context_remove_service (berth_plugin_get_context (plugin), BERTH_TYPE_AUTHORITY, plugin);
}

static void
testauth_plugin_class_init (TestauthPluginClass *klass)
{
  BerthPluginClass *plugin_class = BERTH_PLUGIN_CLASS (klass);

  plugin_class->startup = testauth_startup;
  plugin_class->ready = testauth_ready;
  plugin_class->shutdown = testauth_shutdown;
}

static void
testauth_plugin_init (TestauthPlugin *self)
{
  /* the authority must be in place before anything acts */
  berth_plugin_add_rule (BERTH_PLUGIN (self), BERTH_PLUGIN_RULE_RUN_BEFORE, "discovery");
  berth_plugin_add_rule (BERTH_PLUGIN (self), BERTH_PLUGIN_RULE_RUN_BEFORE, "runtime");
  berth_plugin_add_rule (BERTH_PLUGIN (self), BERTH_PLUGIN_RULE_RUN_BEFORE, "scheduler");
}

G_MODULE_EXPORT GType berth_plugin_module_get_type (void);

G_MODULE_EXPORT GType
berth_plugin_module_get_type (void)
{
  return TESTAUTH_TYPE_PLUGIN;
}
