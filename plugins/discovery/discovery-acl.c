/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "discovery-acl.h"
#include "discovery-catalog-private.h"

/* What the core cannot check before a catalog write runs: the names the
 * body carries, and the names of the stored rows an id points at. The
 * core's own check (the route's first path parameter) stays; these come
 * on top of it. */

/* The automatic registration's marks (discovery-autoreg.c): a service
 * carrying them belongs to a task of an app. */
#define META_TASK "berth-task"
#define META_APP  "berth-app"

static gboolean
authorize_app (BerthRequest *req, const char *app_id, GError **error)
{
  g_autofree char *id = NULL;

  if (app_id == NULL || *app_id == '\0')
    return TRUE;
  id = app_id[0] == '/' ? g_strdup (app_id) : g_strconcat ("/", app_id, NULL);
  return berth_request_authorize (req, "app", id, BERTH_ACCESS_WRITE, error);
}

/* A registration whose Meta claims a task or an app speaks for that app:
 * it needs `app` write on it, so that a team's token cannot pass a service
 * off as another team's task. */
static gboolean
authorize_claim (BerthRequest *req, const CatalogService *service, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(JsonNode) meta = catalog_json_parse (service->meta_json);
  JsonObject *o;
  const char *task_id;

  if (meta == NULL || !JSON_NODE_HOLDS_OBJECT (meta))
    return TRUE;
  o = json_node_get_object (meta);
  if (!authorize_app (req, json_object_get_string_member_with_default (o, META_APP, NULL), error))
    return FALSE;
  task_id = json_object_get_string_member_with_default (o, META_TASK, NULL);
  if (task_id != NULL && *task_id != '\0')
    {
      g_autoptr(BerthTask) task = berth_task_lookup (store, task_id, NULL);

      /* the mark of a task that does not exist claims nothing: the
       * automatic registration's sweep removes such a service */
      if (task != NULL && !authorize_app (req, berth_task_get_app_id (task), error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
authorize_service_name (BerthRequest *req, const char *name, GError **error)
{
  return berth_request_authorize (req, "service", name, BERTH_ACCESS_WRITE, error);
}

static gboolean
authorize_node (BerthRequest *req, const char *node, GError **error)
{
  return berth_request_authorize (req, "node", node, BERTH_ACCESS_WRITE, error);
}

/* `service` write on the service @service_id of @node names, looked up;
 * a service that does not exist is left to the write to report.
 */
gboolean
discovery_acl_service_write (BerthRequest *req, const char *node, const char *service_id,
                             GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(CatalogService) s = NULL;

  if (service_id == NULL || *service_id == '\0')
    return TRUE;
  s = catalog_get_service_row (store, node, service_id, TRUE, NULL);
  if (s == NULL)
    return TRUE;
  return authorize_service_name (req, s->name, error) && authorize_claim (req, s, error);
}

/* A check belongs to its service, or else to its node. */
static gboolean
authorize_check (BerthRequest *req, const char *node, const CatalogCheck *c, GError **error)
{
  if (c->service_name != NULL && *c->service_name != '\0')
    return authorize_service_name (req, c->service_name, error);
  if (c->service_id != NULL && *c->service_id != '\0')
    return discovery_acl_service_write (req, node, c->service_id, error);
  return authorize_node (req, node, error);
}

/* What updating or removing the stored check @check_id of @node needs:
 * `service` write on its service, `node` write for a node-level check.
 */
gboolean
discovery_acl_check_write (BerthRequest *req, const char *node, const char *check_id, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(CatalogCheck) c = NULL;

  if (check_id == NULL || *check_id == '\0')
    return TRUE;
  c = catalog_get_check_row (store, node, check_id, TRUE, NULL);
  if (c == NULL)
    return TRUE;
  return authorize_check (req, node, c, error);
}

gboolean
discovery_acl_registration (BerthRequest *req, const CatalogRegistration *reg, GError **error)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));

  /* the node's own record changes only with `node` write */
  if (reg->node != NULL && !authorize_node (req, reg->node_name, error))
    return FALSE;
  if (reg->service != NULL)
    {
      g_autoptr(CatalogService) old = catalog_get_service_row (store, reg->node_name, reg->service->id,
                                                               TRUE, NULL);

      if (!authorize_service_name (req, reg->service->name, error) ||
          !authorize_claim (req, reg->service, error))
        return FALSE;
      /* replacing another service under the same id needs write on it too */
      if (old != NULL && (g_strcmp0 (old->name, reg->service->name) != 0 ||
                          g_strcmp0 (old->meta_json, reg->service->meta_json) != 0) &&
          (!authorize_service_name (req, old->name, error) || !authorize_claim (req, old, error)))
        return FALSE;
    }
  for (guint i = 0; reg->checks != NULL && i < reg->checks->len; i++)
    {
      CatalogCheck *c = g_ptr_array_index (reg->checks, i);
      g_autoptr(CatalogCheck) old = catalog_get_check_row (store, reg->node_name, c->id, TRUE, NULL);

      if (c->service_id != NULL && *c->service_id != '\0')
        {
          /* the registration's own service was checked above */
          if (reg->service == NULL || g_strcmp0 (c->service_id, reg->service->id) != 0)
            {
              g_autoptr(CatalogService) s = catalog_get_service_row (store, reg->node_name,
                                                                     c->service_id, TRUE, NULL);
              if (s != NULL ? !authorize_service_name (req, s->name, error)
                            : !authorize_node (req, reg->node_name, error))
                return FALSE;
            }
        }
      else if (!authorize_node (req, reg->node_name, error))
        return FALSE;
      if (old != NULL && !authorize_check (req, reg->node_name, old, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
discovery_acl_deregistration (BerthRequest *req, const char *node, const char *service_id,
                              const char *check_id, GError **error)
{
  gboolean has_service = service_id != NULL && *service_id != '\0';
  gboolean has_check = check_id != NULL && *check_id != '\0';

  if (has_service)
    return discovery_acl_service_write (req, node, service_id, error);
  if (has_check)
    return discovery_acl_check_write (req, node, check_id, error);
  /* the whole node */
  return authorize_node (req, node, error);
}

gboolean
discovery_acl_may_read_check (BerthRequest *req, const CatalogCheck *c)
{
  if (c->service_name != NULL && *c->service_name != '\0')
    return berth_request_may_read (req, "service", c->service_name);
  return berth_request_may_read (req, "node", c->node);
}
