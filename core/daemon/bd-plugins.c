/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <gmodule.h>
#include <string.h>

#include "bd-plugins.h"
#include "berth-context-private.h"
#include "berth-plugin-private.h"

/* Plugins are shared modules named berth-NAME.so in the plugin directory
 * (or one level below it, as in the build tree: plugins/NAME/). */

char *
bd_plugins_default_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  /* run from the build tree (build-aux/dev run): use the plugins built next
   * to us, not whatever an install put in $libdir */
  if (exe != NULL && g_str_has_prefix (exe, BERTH_BUILD_ROOT "/"))
    return g_strdup (BERTH_BUILD_PLUGIN_DIR);
  return g_strdup (BERTH_PLUGIN_DIR);
}

static char *
plugin_name_from_path (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  const char *name = base;

  if (g_str_has_prefix (name, "berth-"))
    name += strlen ("berth-");
  return g_strndup (name, strlen (name) - strlen (".so"));
}

static void
collect (const char *dir, guint depth, GPtrArray *paths)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *entry;

  if (d == NULL)
    return;
  while ((entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, entry, NULL);
      if (g_str_has_suffix (entry, ".so") && g_str_has_prefix (entry, "berth-") &&
          g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (paths, g_steal_pointer (&path));
      else if (depth > 0 && g_file_test (path, G_FILE_TEST_IS_DIR))
        collect (path, depth - 1, paths);
    }
}

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  g_autofree char *na = plugin_name_from_path (*(const char **) a);
  g_autofree char *nb = plugin_name_from_path (*(const char **) b);
  return g_strcmp0 (na, nb);
}

static BerthPlugin *
load_one (BerthContext *context, const char *path, const char *name, GError **error)
{
  GModule *module;
  BerthPluginModuleGetType get_type = NULL;
  GType type;

  /* resolve every symbol now: a plugin built against another libberth
   * must fail here, reported, not abort the daemon at its first call */
  module = g_module_open (path, G_MODULE_BIND_LOCAL);
  if (module == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot load %s: %s"), path,
                   g_module_error ());
      return NULL;
    }
  if (!g_module_symbol (module, BERTH_PLUGIN_MODULE_SYMBOL, (gpointer *) &get_type) ||
      get_type == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("%s does not export %s: it is not a Berth plugin"), path,
                   BERTH_PLUGIN_MODULE_SYMBOL);
      g_module_close (module);
      return NULL;
    }
  /* GTypes cannot be unregistered: the module stays loaded for good */
  g_module_make_resident (module);
  type = get_type ();
  if (!g_type_is_a (type, BERTH_TYPE_PLUGIN))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("%s returned type %s, which is not a BerthPlugin"), path, g_type_name (type));
      return NULL;
    }
  return g_object_new (type, "context", context, "name", name, NULL);
}

gboolean
bd_plugins_load (BerthContext *context, const char *dir, const BdConfig *config, GError **error)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    g_warning ("plugin directory %s does not exist: no plugins loaded", dir);
  collect (dir, 1, paths);
  g_ptr_array_sort (paths, compare_paths);

  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);
      g_autofree char *name = plugin_name_from_path (path);
      g_autoptr(BerthPlugin) plugin = NULL;
      g_autoptr(GError) local_error = NULL;

      if (berth_context_lookup_plugin (context, name) != NULL)
        {
          g_warning ("plugin %s: %s ignored, a plugin of that name is already loaded", name, path);
          continue;
        }
      if (bd_config_is_disabled (config, name))
        {
          plugin = berth_plugin_new_placeholder (context, name);
          berth_plugin_set_state (plugin, BERTH_PLUGIN_STATE_DISABLED, NULL);
          g_message ("plugin %s: disabled by configuration", name);
          berth_context_add_plugin (context, plugin);
          continue;
        }
      plugin = load_one (context, path, name, &local_error);
      if (plugin == NULL)
        {
          g_warning ("plugin %s: %s", name, local_error->message);
          if (bd_config_is_required (config, name))
            {
              g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                          _("Required plugin %s failed to load: "), name);
              return FALSE;
            }
          plugin = berth_plugin_new_placeholder (context, name);
          berth_plugin_set_state (plugin, BERTH_PLUGIN_STATE_FAILED, local_error->message);
        }
      else
        g_info ("plugin %s: loaded from %s", name, path);
      berth_context_add_plugin (context, plugin);
    }

  for (guint i = 0; config->required_plugins[i] != NULL; i++)
    if (berth_context_lookup_plugin (context, config->required_plugins[i]) == NULL)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     _("Required plugin %s was not found in %s"), config->required_plugins[i], dir);
        return FALSE;
      }
  return TRUE;
}

/* Whether @a must start before @b by either one's rules. */
static gboolean
must_precede (BerthPlugin *a, BerthPlugin *b)
{
  const char *na = berth_plugin_get_name (a);
  const char *nb = berth_plugin_get_name (b);
  const BerthPluginRule after_rules[] = { BERTH_PLUGIN_RULE_RUN_AFTER, BERTH_PLUGIN_RULE_REQUIRES };

  for (guint r = 0; r < G_N_ELEMENTS (after_rules); r++)
    {
      GPtrArray *names = berth_plugin_get_rules (b, after_rules[r]);
      if (names != NULL && g_ptr_array_find_with_equal_func (names, na, g_str_equal, NULL))
        return TRUE;
    }
  {
    GPtrArray *names = berth_plugin_get_rules (a, BERTH_PLUGIN_RULE_RUN_BEFORE);
    if (names != NULL && g_ptr_array_find_with_equal_func (names, nb, g_str_equal, NULL))
      return TRUE;
  }
  return FALSE;
}

/* Orders the context's plugins so that every rule holds: repeatedly takes
 * the first plugin (in the current, alphabetical, order) that no remaining
 * plugin must precede. A cycle is reported and broken by that order. */
static void
sort_by_rules (BerthContext *context)
{
  GPtrArray *plugins = berth_context_get_plugins (context);
  g_autoptr(GPtrArray) rest = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < plugins->len; i++)
    g_ptr_array_add (rest, g_object_ref (g_ptr_array_index (plugins, i)));
  while (rest->len > 0)
    {
      guint pick = 0;
      gboolean found = FALSE;

      for (guint i = 0; i < rest->len && !found; i++)
        {
          gboolean blocked = FALSE;
          for (guint j = 0; j < rest->len && !blocked; j++)
            if (j != i && must_precede (g_ptr_array_index (rest, j), g_ptr_array_index (rest, i)))
              blocked = TRUE;
          if (!blocked)
            pick = i, found = TRUE;
        }
      if (!found)
        g_warning ("plugin ordering rules form a cycle around %s: using alphabetical order",
                   berth_plugin_get_name (g_ptr_array_index (rest, 0)));
      g_ptr_array_add (sorted, g_object_ref (g_ptr_array_index (rest, pick)));
      g_ptr_array_remove_index (rest, pick);
    }
  for (guint i = 0; i < sorted->len; i++)
    {
      BerthPlugin *old = g_ptr_array_index (plugins, i);
      g_ptr_array_index (plugins, i) = g_object_ref (g_ptr_array_index (sorted, i));
      g_object_unref (old);
    }
}

/* The first plugin @plugin requires that is not running, or NULL. */
static const char *
missing_requirement (BerthContext *context, BerthPlugin *plugin)
{
  GPtrArray *names = berth_plugin_get_rules (plugin, BERTH_PLUGIN_RULE_REQUIRES);

  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      BerthPlugin *other = berth_context_lookup_plugin (context, g_ptr_array_index (names, i));
      if (other == NULL || berth_plugin_get_state (other) != BERTH_PLUGIN_STATE_RUNNING)
        return g_ptr_array_index (names, i);
    }
  return NULL;
}

gboolean
bd_plugins_start (BerthContext *context, const BdConfig *config, GError **error)
{
  GPtrArray *plugins = berth_context_get_plugins (context);

  sort_by_rules (context);
  for (guint i = 0; i < plugins->len; i++)
    {
      BerthPlugin *plugin = g_ptr_array_index (plugins, i);
      const char *name = berth_plugin_get_name (plugin);
      g_autoptr(GError) local_error = NULL;
      const char *missing;

      if (berth_plugin_get_state (plugin) != BERTH_PLUGIN_STATE_LOADED)
        continue;
      missing = missing_requirement (context, plugin);
      if (missing != NULL)
        {
          g_set_error (&local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       _("it requires plugin %s, which is not running"), missing);
          berth_plugin_set_state (plugin, BERTH_PLUGIN_STATE_FAILED, local_error->message);
        }
      if (local_error != NULL || !berth_plugin_startup (plugin, &local_error))
        {
          g_warning ("plugin %s: failed to start: %s", name, local_error->message);
          if (bd_config_is_required (config, name))
            {
              g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                          _("Required plugin %s failed to start: "), name);
              return FALSE;
            }
          continue;
        }
      g_info ("plugin %s: running", name);
    }
  /* every plugin started: services can be looked up; listeners open next */
  for (guint i = 0; i < plugins->len; i++)
    berth_plugin_ready (g_ptr_array_index (plugins, i));
  return TRUE;
}

void
bd_plugins_stop (BerthContext *context)
{
  GPtrArray *plugins = berth_context_get_plugins (context);

  for (guint i = plugins->len; i > 0; i--)
    berth_plugin_shutdown (g_ptr_array_index (plugins, i - 1));
}

void
bd_plugins_reload (BerthContext *context)
{
  GPtrArray *plugins = berth_context_get_plugins (context);

  for (guint i = 0; i < plugins->len; i++)
    berth_plugin_reload (g_ptr_array_index (plugins, i));
}
