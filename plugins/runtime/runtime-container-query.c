/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "runtime-container-private.h"
#include "runtime-util.h"

/* Finding containers and describing them (Berth's own JSON), from the
 * in-memory records: what an operation just did is what a read sees. */

static void
set_time (JsonObject *o, const char *name, gint64 usec)
{
  if (usec <= 0)
    json_object_set_null_member (o, name);
  else
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
      g_autoptr(GDateTime) precise = dt != NULL ? g_date_time_add (dt, usec % G_USEC_PER_SEC) : NULL;
      g_autofree char *text = precise != NULL ? g_date_time_format (precise, "%Y-%m-%dT%H:%M:%S.%fZ") : NULL;
      if (text != NULL)
        json_object_set_string_member (o, name, text);
      else
        json_object_set_null_member (o, name);
    }
}

static void
set_string_or_null (JsonObject *o, const char *name, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (o, name, value);
  else
    json_object_set_null_member (o, name);
}

/* Berth's inspection of a container (GET /api/containers/:id) */
static JsonObject *
ctr_to_json (Ctr *c)
{
  JsonObject *o = json_object_new ();
  JsonObject *spec = runtime_ctr_spec (c);
  JsonArray *ports = runtime_json_get_array (spec, "ports");
  JsonArray *out_ports = json_array_new ();

  json_object_set_string_member (o, "Id", c->id);
  json_object_set_string_member (o, "Name", c->name);
  json_object_set_string_member (o, "Node", c->owner->node_id);
  set_string_or_null (o, "Image", c->image_ref);
  set_string_or_null (o, "ImageId", c->image_id);
  json_object_set_string_member (o, "Runtime", c->runtime);
  json_object_set_string_member (o, "State", c->state);
  json_object_set_boolean_member (o, "Running", g_strcmp0 (c->state, "running") == 0);
  json_object_set_int_member (o, "Pid", c->pid);
  if (c->has_exit)
    json_object_set_int_member (o, "ExitCode", c->exit_code);
  else
    json_object_set_null_member (o, "ExitCode");
  json_object_set_boolean_member (o, "OOMKilled", g_strcmp0 (c->reason, "OOMKilled") == 0);
  set_string_or_null (o, "Reason", c->reason);
  json_object_set_string_member (o, "Network", runtime_ctr_network (c));
  set_string_or_null (o, "Address", c->address);
  for (guint i = 0; ports != NULL && i < json_array_get_length (ports); i++)
    json_array_add_element (out_ports, json_node_copy (json_array_get_element (ports, i)));
  json_object_set_array_member (o, "Ports", out_ports);
  set_time (o, "Created", c->created_at);
  set_time (o, "StartedAt", c->started_at);
  set_time (o, "FinishedAt", c->finished_at);
  json_object_set_int_member (o, "CreateIndex", (gint64) c->create_index);
  json_object_set_int_member (o, "ModifyIndex", (gint64) c->modify_index);
  json_object_set_member (o, "Spec", json_node_copy (c->spec));
  return o;
}

/* Finds a container by id, name or id prefix. */
Ctr *
runtime_containers_lookup (RuntimeContainers *self, const char *key, GError **error)
{
  GHashTableIter iter;
  gpointer value;
  Ctr *found = NULL;
  gsize klen = key != NULL ? strlen (key) : 0;

  if (key == NULL || klen == 0)
    goto missing;
  found = g_hash_table_lookup (self->by_id, key);
  if (found != NULL)
    return found;
  g_hash_table_iter_init (&iter, self->by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Ctr *c = value;
      if (g_strcmp0 (c->name, key) == 0)
        return c;
    }
  if (klen >= 4)
    {
      g_hash_table_iter_init (&iter, self->by_id);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          Ctr *c = value;
          if (strncmp (c->id, key, klen) == 0)
            {
              if (found != NULL)
                {
                  g_set_error (error, BERTH_ERROR, BERTH_ERROR_CONFLICT,
                               _("“%s” matches more than one container"), key);
                  return NULL;
                }
              found = c;
            }
        }
      if (found != NULL)
        return found;
    }
missing:
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("No such container: %s"), key != NULL ? key : "");
  return NULL;
}

JsonObject *
runtime_containers_inspect (RuntimeContainers *self, const char *key, GError **error)
{
  Ctr *c = runtime_containers_lookup (self, key, error);

  return c != NULL ? ctr_to_json (c) : NULL;
}

char *
runtime_containers_resolve (RuntimeContainers *self, const char *key, gboolean *live, GError **error)
{
  Ctr *c = runtime_containers_lookup (self, key, error);

  if (c == NULL)
    return NULL;
  if (live != NULL)
    *live = runtime_ctr_is_live (c);
  return g_strdup (c->id);
}

static gint
by_create_index (gconstpointer a, gconstpointer b)
{
  const Ctr *x = *(Ctr * const *) a;
  const Ctr *y = *(Ctr * const *) b;

  if (x->create_index != y->create_index)
    return x->create_index < y->create_index ? -1 : 1;
  return x->created_at < y->created_at ? -1 : x->created_at > y->created_at;
}

JsonArray *
runtime_containers_list (RuntimeContainers *self, gboolean all)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  JsonArray *array = json_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (all || runtime_ctr_is_live (value))
      g_ptr_array_add (sorted, value);
  g_ptr_array_sort (sorted, by_create_index);
  for (guint i = 0; i < sorted->len; i++)
    json_array_add_object_element (array, ctr_to_json (g_ptr_array_index (sorted, i)));
  return array;
}

