/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "discovery-catalog.h"
#include "discovery-catalog-private.h"

/* The writes that change the catalog's rows, run by the store in a
 * transaction; see discovery-catalog.h. */

/* ---- indexes ---------------------------------------------------------- */

static gboolean
bump_index (BerthTxn *txn, const char *name, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "INSERT INTO catalog_indexes (name, modify_index) VALUES (?1, ?2) "
                              "ON CONFLICT (name) DO UPDATE SET modify_index = ?2", error);
  if (stmt == NULL)
    return FALSE;
  catalog_bind_text (stmt, 1, name);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) berth_txn_get_index (txn));
  return catalog_run (store, stmt, error);
}

/* Records a change of @key under @topic: wakes the blocking queries on it
 * and bumps the indexes "<topic>" and "<topic>/<key>". */
static gboolean
touch (BerthTxn *txn, const char *topic, const char *key, GError **error)
{
  g_autofree char *name = NULL;

  berth_txn_changed (txn, topic, key);
  if (!bump_index (txn, topic, error))
    return FALSE;
  if (key == NULL || *key == '\0')
    return TRUE;
  name = g_strconcat (topic, "/", key, NULL);
  return bump_index (txn, name, error);
}

/* A node-wide change (node fields, node checks, the node's removal) touches
 * every service on the node: their health answers include the node. */
static gboolean
touch_node_services (BerthTxn *txn, const char *node, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(GPtrArray) services = catalog_all_services (store, node, NULL, error);

  if (services == NULL)
    return FALSE;
  for (guint i = 0; i < services->len; i++)
    {
      CatalogService *s = g_ptr_array_index (services, i);
      if (!touch (txn, "service", s->name, error))
        return FALSE;
    }
  return TRUE;
}

/* ---- events ----------------------------------------------------------- */

/* Events noted by the writes of one top-level write, published when it
 * succeeded; those of a nested write that failed are dropped. */
typedef struct {
  char       *topic;
  JsonObject *data;
} Pending;

static GPtrArray   *pending;          /* Pending */
static guint        pending_depth;
static BerthCaller *current_caller;   /* set by catalog_write_as() */

static void
pending_free (Pending *p)
{
  g_free (p->topic);
  json_object_unref (p->data);
  g_free (p);
}

static guint
events_begin (void)
{
  if (pending_depth++ == 0)
    pending = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_free);
  return pending->len;
}

static gboolean
events_end (guint mark, gboolean ok)
{
  BerthContext *context = catalog_get_context ();
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(BerthCaller) internal = NULL;

  if (!ok && pending->len > mark)
    g_ptr_array_remove_range (pending, mark, pending->len - mark);
  if (--pending_depth > 0)
    return ok;
  events = g_steal_pointer (&pending);
  if (context == NULL || events->len == 0)
    return ok;
  if (current_caller == NULL)
    internal = berth_caller_new_internal ("discovery");
  for (guint i = 0; i < events->len; i++)
    {
      Pending *p = g_ptr_array_index (events, i);
      berth_context_publish (context, p->topic, current_caller != NULL ? current_caller : internal,
                             json_object_ref (p->data));
    }
  return ok;
}

static void
note (const char *topic, JsonObject *data)
{
  Pending *p;

  if (pending == NULL)
    {
      json_object_unref (data);
      return;
    }
  p = g_new0 (Pending, 1);
  p->topic = g_strdup (topic);
  p->data = data;
  g_ptr_array_add (pending, p);
}

/* A service registered or deregistered. */
static void
note_service (const char *action, const char *node, const char *id, const char *name)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "Action", action);
  json_object_set_string_member (o, "Node", node);
  json_object_set_string_member (o, "ServiceID", id);
  json_object_set_string_member (o, "ServiceName", name);
  note ("catalog", o);
}

/* A check's status changed (@old_status NULL: a new check). */
static void
note_health (const char *node, const char *check_id, const char *name, const char *service_id,
             const char *service_name, const char *old_status, const char *status,
             const char *output)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "Node", node);
  json_object_set_string_member (o, "CheckID", check_id);
  json_object_set_string_member (o, "Name", name != NULL ? name : "");
  json_object_set_string_member (o, "ServiceID", service_id != NULL ? service_id : "");
  json_object_set_string_member (o, "ServiceName", service_name != NULL ? service_name : "");
  if (old_status != NULL)
    json_object_set_string_member (o, "OldStatus", old_status);
  else
    json_object_set_null_member (o, "OldStatus");
  json_object_set_string_member (o, "Status", status);
  json_object_set_string_member (o, "Output", output != NULL ? output : "");
  note ("health", o);
}

CatalogWrite *
catalog_write_new (BerthStoreWriteFunc func, gpointer data, GDestroyNotify destroy,
                   BerthCaller *caller)
{
  CatalogWrite *w = g_new0 (CatalogWrite, 1);

  w->func = func;
  w->data = data;
  w->destroy = destroy;
  w->caller = caller != NULL ? g_object_ref (caller) : NULL;
  return w;
}

void
catalog_write_free (CatalogWrite *w)
{
  if (w->destroy != NULL)
    w->destroy (w->data);
  g_clear_object (&w->caller);
  g_free (w);
}

gboolean
catalog_write_as (BerthTxn *txn, gpointer data, GError **error)
{
  CatalogWrite *w = data;
  BerthCaller *outer = current_caller;
  guint mark;
  gboolean ok;

  current_caller = w->caller;
  mark = events_begin ();
  ok = w->func (txn, w->data, error);
  ok = events_end (mark, ok);
  current_caller = outer;
  return ok;
}

/* ---- writes ----------------------------------------------------------- */

static gboolean
upsert_node (BerthTxn *txn, CatalogNode *n, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(CatalogNode) old = catalog_get_node_row (store, n->name, TRUE, NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (old != NULL && old->broken == NULL && g_strcmp0 (old->id, n->id) == 0 && g_strcmp0 (old->address, n->address) == 0 &&
      g_strcmp0 (old->datacenter, n->datacenter) == 0 &&
      g_strcmp0 (old->tagged_json, n->tagged_json) == 0 &&
      g_strcmp0 (old->meta_json, n->meta_json) == 0)
    return TRUE;   /* unchanged: no index bump */
  g_clear_pointer (&old, catalog_node_free);

  stmt = berth_store_prepare (store,
                              "INSERT INTO catalog_nodes (name, id, address, datacenter,"
                              " tagged_addresses, meta, create_index, modify_index) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) "
                              "ON CONFLICT (name) DO UPDATE SET id = ?2, address = ?3,"
                              " datacenter = ?4, tagged_addresses = ?5, meta = ?6,"
                              " modify_index = ?7", error);
  if (stmt == NULL)
    return FALSE;
  catalog_bind_text (stmt, 1, n->name);
  catalog_bind_text (stmt, 2, n->id != NULL ? n->id : "");
  catalog_bind_text (stmt, 3, n->address);
  catalog_bind_text (stmt, 4, n->datacenter);
  catalog_bind_text (stmt, 5, n->tagged_json != NULL ? n->tagged_json : "{}");
  catalog_bind_text (stmt, 6, n->meta_json != NULL ? n->meta_json : "{}");
  sqlite3_bind_int64 (stmt, 7, (sqlite3_int64) berth_txn_get_index (txn));
  if (!catalog_run (store, stmt, error))
    return FALSE;
  catalog_forget ("node", NULL, n->name);
  return touch (txn, "node", n->name, error) && touch_node_services (txn, n->name, error);
}

/* A service's node, ID, name and tags, as ?1 to ?4: the parameters every
 * statement that writes a service starts with. */
static void
bind_service (sqlite3_stmt *stmt, const char *node, CatalogService *s)
{
  catalog_bind_text (stmt, 1, node);
  catalog_bind_text (stmt, 2, s->id);
  catalog_bind_text (stmt, 3, s->name);
  catalog_bind_text (stmt, 4, s->tags_json != NULL ? s->tags_json : "[]");
}

static gboolean
upsert_service (BerthTxn *txn, const char *node, CatalogService *s, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(CatalogService) old = catalog_get_service_row (store, node, s->id, TRUE, NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;

#define OR(a, b) ((a) != NULL ? (a) : (b))
  if (old != NULL && old->broken == NULL && g_strcmp0 (old->name, s->name) == 0 &&
      g_strcmp0 (old->tags_json, OR (s->tags_json, "[]")) == 0 &&
      g_strcmp0 (old->address, OR (s->address, "")) == 0 && old->port == s->port &&
      g_strcmp0 (old->meta_json, OR (s->meta_json, "{}")) == 0 &&
      g_strcmp0 (old->tagged_json, OR (s->tagged_json, "{}")) == 0 &&
      g_strcmp0 (old->weights_json, OR (s->weights_json, "{\"Passing\":1,\"Warning\":1}")) == 0 &&
      old->enable_tag_override == s->enable_tag_override &&
      g_strcmp0 (old->kind, OR (s->kind, "")) == 0)
    return TRUE;   /* the same again: no index bump, nobody woken */
#undef OR
  if (old != NULL && g_strcmp0 (old->name, s->name) != 0)
    {
      /* renamed: the old name loses an instance */
      if (!touch (txn, "service", old->name, error))
        return FALSE;
    }
  stmt = berth_store_prepare (store,
                              "INSERT INTO catalog_services (node, id, name, tags, address, port,"
                              " meta, tagged_addresses, weights, enable_tag_override, kind,"
                              " create_index, modify_index) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12) "
                              "ON CONFLICT (node, id) DO UPDATE SET name = ?3, tags = ?4,"
                              " address = ?5, port = ?6, meta = ?7, tagged_addresses = ?8,"
                              " weights = ?9, enable_tag_override = ?10, kind = ?11,"
                              " modify_index = ?12", error);
  if (stmt == NULL)
    return FALSE;
  bind_service (stmt, node, s);
  catalog_bind_text (stmt, 5, s->address != NULL ? s->address : "");
  sqlite3_bind_int64 (stmt, 6, s->port);
  catalog_bind_text (stmt, 7, s->meta_json != NULL ? s->meta_json : "{}");
  catalog_bind_text (stmt, 8, s->tagged_json != NULL ? s->tagged_json : "{}");
  catalog_bind_text (stmt, 9, s->weights_json != NULL ? s->weights_json : "{\"Passing\":1,\"Warning\":1}");
  sqlite3_bind_int (stmt, 10, s->enable_tag_override ? 1 : 0);
  catalog_bind_text (stmt, 11, s->kind != NULL ? s->kind : "");
  sqlite3_bind_int64 (stmt, 12, (sqlite3_int64) berth_txn_get_index (txn));
  if (!catalog_run (store, stmt, error))
    return FALSE;
  catalog_forget ("service", node, s->id);
  note_service ("register", node, s->id, s->name);

  /* the service's checks carry its name and tags */
  g_clear_pointer (&stmt, berth_stmt_reset);
  stmt = berth_store_prepare (store,
                              "UPDATE catalog_checks SET service_name = ?3, service_tags = ?4,"
                              " modify_index = ?5 WHERE node = ?1 AND service_id = ?2"
                              " AND (service_name != ?3 OR service_tags != ?4)", error);
  if (stmt == NULL)
    return FALSE;
  bind_service (stmt, node, s);
  sqlite3_bind_int64 (stmt, 5, (sqlite3_int64) berth_txn_get_index (txn));
  if (!catalog_run (store, stmt, error))
    return FALSE;
  return touch (txn, "service", s->name, error) && touch (txn, "node", node, error) &&
         touch (txn, "check", NULL, error);
}

static gboolean
upsert_check (BerthTxn *txn, const char *node, CatalogCheck *c, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(CatalogCheck) old = catalog_get_check_row (store, node, c->id, TRUE, NULL);
  g_autoptr(CatalogService) service = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const char *status = c->status;
  const char *output;

  if (c->service_id != NULL && *c->service_id != '\0')
    {
      service = catalog_get_service (store, node, c->service_id, NULL);
      if (service == NULL)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                       _("ServiceID “%s” does not exist"), c->service_id);
          return FALSE;
        }
    }
  if (!c->status_given && old != NULL)
    status = old->status;
  if (status == NULL)
    status = CHECK_CRITICAL;
  output = c->output != NULL ? c->output : (old != NULL && !c->status_given ? old->output : "");
  if (old != NULL && old->broken != NULL && !c->status_given)
    status = CHECK_CRITICAL;   /* a broken row's status is not to be trusted */
  if (old != NULL && old->broken == NULL && g_strcmp0 (old->name, c->name) == 0 &&
      g_strcmp0 (old->status, status) == 0 &&
      g_strcmp0 (old->notes, c->notes != NULL ? c->notes : "") == 0 &&
      g_strcmp0 (old->output, output) == 0 &&
      g_strcmp0 (old->service_id, service != NULL ? service->id : "") == 0 &&
      g_strcmp0 (old->type, c->type != NULL ? c->type : "") == 0 &&
      g_strcmp0 (old->definition_json, c->definition_json != NULL ? c->definition_json : "{}") == 0)
    return TRUE;   /* the same again */

  stmt = berth_store_prepare (store,
                              "INSERT INTO catalog_checks (node, id, name, status, notes, output,"
                              " service_id, service_name, service_tags, type, definition,"
                              " create_index, modify_index) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12) "
                              "ON CONFLICT (node, id) DO UPDATE SET name = ?3, status = ?4,"
                              " notes = ?5, output = ?6, service_id = ?7, service_name = ?8,"
                              " service_tags = ?9, type = ?10, definition = ?11,"
                              " modify_index = ?12", error);
  if (stmt == NULL)
    return FALSE;
  catalog_bind_text (stmt, 1, node);
  catalog_bind_text (stmt, 2, c->id);
  catalog_bind_text (stmt, 3, c->name);
  catalog_bind_text (stmt, 4, status);
  catalog_bind_text (stmt, 5, c->notes != NULL ? c->notes : "");
  catalog_bind_text (stmt, 6, output);
  catalog_bind_text (stmt, 7, service != NULL ? service->id : "");
  catalog_bind_text (stmt, 8, service != NULL ? service->name : "");
  catalog_bind_text (stmt, 9, service != NULL ? service->tags_json : "[]");
  catalog_bind_text (stmt, 10, c->type != NULL ? c->type : "");
  catalog_bind_text (stmt, 11, c->definition_json != NULL ? c->definition_json : "{}");
  sqlite3_bind_int64 (stmt, 12, (sqlite3_int64) berth_txn_get_index (txn));
  if (!catalog_run (store, stmt, error))
    return FALSE;
  catalog_forget ("check", node, c->id);
  if (old == NULL || g_strcmp0 (old->status, status) != 0)
    note_health (node, c->id, c->name, service != NULL ? service->id : "",
                 service != NULL ? service->name : "", old != NULL ? old->status : NULL, status, output);

  if (!touch (txn, "check", c->id, error) || !touch (txn, "node", node, error))
    return FALSE;
  if (old != NULL && old->service_name[0] != '\0' &&
      (service == NULL || g_strcmp0 (old->service_name, service->name) != 0) &&
      !touch (txn, "service", old->service_name, error))
    return FALSE;
  if (service != NULL)
    return touch (txn, "service", service->name, error);
  return touch_node_services (txn, node, error);
}


/* Deletes the row of @table (catalog_checks or catalog_services) for
 * @node and @id, and forgets it if it was set aside as broken. */
static gboolean
delete_row (BerthStore *store, const char *table, const char *kind, const char *node,
            const char *id, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("DELETE FROM %s WHERE node = ? AND id = ?", table);
  g_autoptr(sqlite3_stmt) stmt = berth_store_prepare (store, sql, error);

  if (stmt == NULL)
    return FALSE;
  catalog_bind_text (stmt, 1, node);
  catalog_bind_text (stmt, 2, id);
  if (!catalog_run (store, stmt, error))
    return FALSE;
  catalog_forget (kind, node, id);
  return TRUE;
}

static gboolean
delete_service_checks_except (BerthTxn *txn, const char *node, const char *service_id,
                              GPtrArray *keep, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(GPtrArray) checks = catalog_all_checks (store, node, error);

  if (checks == NULL)
    return FALSE;
  for (guint i = 0; i < checks->len; i++)
    {
      CatalogCheck *c = g_ptr_array_index (checks, i);
      gboolean kept = FALSE;

      if (g_strcmp0 (c->service_id, service_id) != 0)
        continue;
      for (guint j = 0; keep != NULL && j < keep->len; j++)
        if (g_strcmp0 (((CatalogCheck *) g_ptr_array_index (keep, j))->id, c->id) == 0)
          kept = TRUE;
      if (kept)
        continue;
      if (!delete_row (store, "catalog_checks", "check", node, c->id, error) ||
          !touch (txn, "check", c->id, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
write_register_inner (BerthTxn *txn, gpointer data, GError **error)
{
  CatalogRegistration *reg = data;
  BerthStore *store = berth_txn_get_store (txn);
  gboolean exists = FALSE;

  if (reg->node != NULL)
    {
      if (!upsert_node (txn, reg->node, error))
        return FALSE;
    }
  else
    {
      if (!catalog_node_exists (store, reg->node_name, error, &exists))
        return FALSE;
      if (!exists)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Unknown node “%s”"),
                       reg->node_name);
          return FALSE;
        }
    }
  if (reg->service != NULL)
    {
      if (!upsert_service (txn, reg->node_name, reg->service, error))
        return FALSE;
      if (reg->replace_service_checks &&
          !delete_service_checks_except (txn, reg->node_name, reg->service->id, reg->checks, error))
        return FALSE;
    }
  for (guint i = 0; reg->checks != NULL && i < reg->checks->len; i++)
    if (!upsert_check (txn, reg->node_name, g_ptr_array_index (reg->checks, i), error))
      return FALSE;
  return TRUE;
}

static gboolean
delete_check (BerthTxn *txn, const char *node, const char *id, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(CatalogCheck) old = catalog_get_check_row (store, node, id, TRUE, error);

  if (old == NULL || !delete_row (store, "catalog_checks", "check", node, id, error))
    return FALSE;
  if (!touch (txn, "check", id, error) || !touch (txn, "node", node, error))
    return FALSE;
  if (old->service_name[0] != '\0')
    return touch (txn, "service", old->service_name, error);
  return touch_node_services (txn, node, error);
}

static gboolean
delete_service (BerthTxn *txn, const char *node, const char *id, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(CatalogService) old = catalog_get_service_row (store, node, id, TRUE, error);

  if (old == NULL || !delete_service_checks_except (txn, node, id, NULL, error) ||
      !delete_row (store, "catalog_services", "service", node, id, error))
    return FALSE;
  note_service ("deregister", node, id, old->name);
  return touch (txn, "service", old->name, error) && touch (txn, "node", node, error) &&
         touch (txn, "check", NULL, error);
}

static gboolean
delete_node (BerthTxn *txn, const char *node, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(GPtrArray) services = catalog_all_services (store, node, NULL, error);
  g_autoptr(GPtrArray) checks = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean exists = FALSE;

  if (services == NULL || !catalog_node_exists (store, node, error, &exists))
    return FALSE;
  if (!exists)
    return TRUE;   /* as Consul: nothing to do is no error */
  for (guint i = 0; i < services->len; i++)
    if (!delete_service (txn, node, ((CatalogService *) g_ptr_array_index (services, i))->id, error))
      return FALSE;
  checks = catalog_all_checks (store, node, error);
  if (checks == NULL)
    return FALSE;
  for (guint i = 0; i < checks->len; i++)
    if (!delete_check (txn, node, ((CatalogCheck *) g_ptr_array_index (checks, i))->id, error))
      return FALSE;
  stmt = berth_store_prepare (store, "DELETE FROM catalog_nodes WHERE name = ?", error);
  if (stmt == NULL)
    return FALSE;
  catalog_bind_text (stmt, 1, node);
  if (!catalog_run (store, stmt, error))
    return FALSE;
  catalog_forget ("node", NULL, node);
  return touch (txn, "node", node, error);
}

static gboolean
write_deregister_inner (BerthTxn *txn, gpointer data, GError **error)
{
  CatalogDeregistration *d = data;

  if (d->service_id != NULL)
    return delete_service (txn, d->node, d->service_id, error);
  if (d->check_id != NULL)
    return delete_check (txn, d->node, d->check_id, error);
  return delete_node (txn, d->node, error);
}

static gboolean
write_check_update_inner (BerthTxn *txn, gpointer data, GError **error)
{
  CatalogCheckUpdate *u = data;
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(CatalogCheck) old = catalog_get_check (store, u->node, u->check_id, error);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const char *output;

  if (old == NULL)
    return FALSE;
  output = u->output != NULL ? u->output : old->output;
  if (g_strcmp0 (old->status, u->status) == 0 && g_strcmp0 (old->output, output) == 0)
    return TRUE;   /* nothing changed: no index bump, nobody woken */
  stmt = berth_store_prepare (store,
                              "UPDATE catalog_checks SET status = ?3, output = ?4, modify_index = ?5"
                              " WHERE node = ?1 AND id = ?2", error);
  if (stmt == NULL)
    return FALSE;
  catalog_bind_text (stmt, 1, u->node);
  catalog_bind_text (stmt, 2, u->check_id);
  catalog_bind_text (stmt, 3, u->status);
  catalog_bind_text (stmt, 4, output);
  sqlite3_bind_int64 (stmt, 5, (sqlite3_int64) berth_txn_get_index (txn));
  if (!catalog_run (store, stmt, error))
    return FALSE;
  if (g_strcmp0 (old->status, u->status) != 0)
    note_health (u->node, u->check_id, old->name, old->service_id, old->service_name, old->status,
                 u->status, output);
  if (!touch (txn, "check", u->check_id, error) || !touch (txn, "node", u->node, error))
    return FALSE;
  if (old->service_name[0] != '\0')
    return touch (txn, "service", old->service_name, error);
  return touch_node_services (txn, u->node, error);
}

gboolean
catalog_write_register (BerthTxn *txn, gpointer data, GError **error)
{
  guint mark = events_begin ();
  return events_end (mark, write_register_inner (txn, data, error));
}

gboolean
catalog_write_deregister (BerthTxn *txn, gpointer data, GError **error)
{
  guint mark = events_begin ();
  return events_end (mark, write_deregister_inner (txn, data, error));
}

gboolean
catalog_write_check_update (BerthTxn *txn, gpointer data, GError **error)
{
  guint mark = events_begin ();
  return events_end (mark, write_check_update_inner (txn, data, error));
}
