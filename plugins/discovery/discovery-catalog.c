/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "discovery-catalog.h"
#include "discovery-catalog-parse.h"
#include <berth-store-raw.h>

/* The catalog's rows and the writes that change them; see
 * discovery-catalog.h. */

void
catalog_node_free (CatalogNode *n)
{
  if (n == NULL)
    return;
  g_free (n->name);
  g_free (n->id);
  g_free (n->address);
  g_free (n->datacenter);
  g_free (n->tagged_json);
  g_free (n->meta_json);
  g_free (n->broken);
  g_free (n);
}

void
catalog_service_free (CatalogService *s)
{
  if (s == NULL)
    return;
  g_free (s->node);
  g_free (s->id);
  g_free (s->name);
  g_free (s->tags_json);
  g_free (s->address);
  g_free (s->meta_json);
  g_free (s->tagged_json);
  g_free (s->weights_json);
  g_free (s->broken);
  g_free (s->kind);
  g_free (s);
}

void
catalog_check_free (CatalogCheck *c)
{
  if (c == NULL)
    return;
  g_free (c->node);
  g_free (c->id);
  g_free (c->name);
  g_free (c->status);
  g_free (c->notes);
  g_free (c->output);
  g_free (c->service_id);
  g_free (c->service_name);
  g_free (c->service_tags_json);
  g_free (c->type);
  g_free (c->definition_json);
  g_free (c->broken);
  g_free (c);
}

CatalogNode *
catalog_node_copy (const CatalogNode *n)
{
  CatalogNode *copy = g_new0 (CatalogNode, 1);

  *copy = *n;
  copy->name = g_strdup (n->name);
  copy->id = g_strdup (n->id);
  copy->address = g_strdup (n->address);
  copy->datacenter = g_strdup (n->datacenter);
  copy->tagged_json = g_strdup (n->tagged_json);
  copy->meta_json = g_strdup (n->meta_json);
  return copy;
}

CatalogCheck *
catalog_check_copy (const CatalogCheck *c)
{
  CatalogCheck *copy = g_new0 (CatalogCheck, 1);

  *copy = *c;
  copy->node = g_strdup (c->node);
  copy->id = g_strdup (c->id);
  copy->name = g_strdup (c->name);
  copy->status = g_strdup (c->status);
  copy->notes = g_strdup (c->notes);
  copy->output = g_strdup (c->output);
  copy->service_id = g_strdup (c->service_id);
  copy->service_name = g_strdup (c->service_name);
  copy->service_tags_json = g_strdup (c->service_tags_json);
  copy->type = g_strdup (c->type);
  copy->definition_json = g_strdup (c->definition_json);
  return copy;
}

void
catalog_registration_free (CatalogRegistration *reg)
{
  if (reg == NULL)
    return;
  g_free (reg->node_name);
  catalog_node_free (reg->node);
  catalog_service_free (reg->service);
  g_clear_pointer (&reg->checks, g_ptr_array_unref);
  g_free (reg);
}

void
catalog_deregistration_free (CatalogDeregistration *d)
{
  g_free (d->node);
  g_free (d->service_id);
  g_free (d->check_id);
  g_free (d);
}

void
catalog_check_update_free (CatalogCheckUpdate *u)
{
  g_free (u->node);
  g_free (u->check_id);
  g_free (u->status);
  g_free (u->output);
  g_free (u);
}

/* ---- helpers ---------------------------------------------------------- */

static GPtrArray *all_services (BerthStore *store, const char *node, const char *name,
                                GError **error);

static char *
col_text (sqlite3_stmt *stmt, int col)
{
  const char *text = (const char *) sqlite3_column_text (stmt, col);
  return g_strdup (text != NULL ? text : "");
}

static void
bind_text (sqlite3_stmt *stmt, int col, const char *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, col);
  else
    sqlite3_bind_text (stmt, col, text, -1, SQLITE_TRANSIENT);
}

static gboolean
run (BerthStore *store, sqlite3_stmt *stmt, GError **error)
{
  gboolean have_row;
  return berth_store_step (store, stmt, &have_row, error);
}

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
  bind_text (stmt, 1, name);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) berth_txn_get_index (txn));
  return run (store, stmt, error);
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
  g_autoptr(GPtrArray) services = all_services (store, node, NULL, error);

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

guint64
catalog_index (BerthStore *store, const char *topic, const char *key)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *name = key != NULL ? g_strconcat (topic, "/", key, NULL) : g_strdup (topic);
  gboolean have_row = FALSE;
  guint64 index = 0;

  stmt = berth_store_prepare (store, "SELECT modify_index FROM catalog_indexes WHERE name = ?", NULL);
  if (stmt == NULL)
    return 1;
  bind_text (stmt, 1, name);
  if (berth_store_step (store, stmt, &have_row, NULL) && have_row)
    index = (guint64) sqlite3_column_int64 (stmt, 0);
  /* Consul never answers index 0: clients would treat it as "no index" */
  return MAX (index, 1);
}

/* ---- rows set aside ---------------------------------------------------- */

/* The context to report broken rows to: one discovery plugin per process. */
static BerthContext *catalog_context;

void
catalog_set_context (BerthContext *context)
{
  catalog_context = context;
}

static char *
broken_id (const char *node, const char *id)
{
  return node != NULL ? g_strconcat (node, "/", id, NULL) : g_strdup (id);
}

/* A row that fails validation when loaded is kept in the store but set
 * aside: listed under "broken" in /api/status, left out of every answer
 * and never run, until it is deleted or registered again. */
static void
set_aside (const char *kind, const char *node, const char *id, const char *reason)
{
  g_autofree char *key = broken_id (node, id);

  if (catalog_context != NULL)
    berth_context_report_broken (catalog_context, "discovery", kind, key, reason);
}

static void
forget (const char *kind, const char *node, const char *id)
{
  g_autofree char *key = broken_id (node, id);

  if (catalog_context != NULL)
    berth_context_forget_broken (catalog_context, kind, key);
}

/* @rows without those whose char * at @offset (their "broken") is set. */
static GPtrArray *
usable (GPtrArray *rows, gsize offset)
{
  for (guint i = 0; rows != NULL && i < rows->len;)
    if (G_STRUCT_MEMBER (char *, g_ptr_array_index (rows, i), offset) != NULL)
      g_ptr_array_remove_index (rows, i);
    else
      i++;
  return rows;
}

/* ---- reads ------------------------------------------------------------ */

#define NODE_COLUMNS "name, id, address, datacenter, tagged_addresses, meta, create_index, modify_index"

static CatalogNode *
node_from_row (sqlite3_stmt *stmt)
{
  CatalogNode *n = g_new0 (CatalogNode, 1);
  n->name = col_text (stmt, 0);
  n->id = col_text (stmt, 1);
  n->address = col_text (stmt, 2);
  n->datacenter = col_text (stmt, 3);
  n->tagged_json = col_text (stmt, 4);
  n->meta_json = col_text (stmt, 5);
  n->create_index = (guint64) sqlite3_column_int64 (stmt, 6);
  n->modify_index = (guint64) sqlite3_column_int64 (stmt, 7);
  n->broken = catalog_node_problem (n);
  if (n->broken != NULL)
    set_aside ("node", NULL, n->name, n->broken);
  return n;
}

/* One row of @stmt (bound), made by @row_func; NULL with *@found FALSE
 * when there is none, or when it is set aside and not @even_broken (only
 * the writes that replace or delete a row want it then). */
static gpointer
one_row (BerthStore *store, sqlite3_stmt *stmt, BerthRowFunc row_func, GDestroyNotify free_func,
         gsize broken_offset, gboolean even_broken, gboolean *found, GError **error)
{
  gboolean have_row = FALSE;
  gpointer row;

  *found = TRUE;
  if (!berth_store_step (store, stmt, &have_row, error))
    return NULL;
  row = have_row ? row_func (stmt) : NULL;
  if (row != NULL && (even_broken || G_STRUCT_MEMBER (char *, row, broken_offset) == NULL))
    return row;
  g_clear_pointer (&row, free_func);
  *found = FALSE;
  return NULL;
}

static GPtrArray *
all_nodes (BerthStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store, "SELECT " NODE_COLUMNS " FROM catalog_nodes ORDER BY name", error);
  if (stmt == NULL)
    return NULL;
  return berth_store_collect (store, stmt, (BerthRowFunc) node_from_row,
                              (GDestroyNotify) catalog_node_free, error);
}

GPtrArray *
catalog_list_nodes (BerthStore *store, GError **error)
{
  return usable (all_nodes (store, error), G_STRUCT_OFFSET (CatalogNode, broken));
}

static CatalogNode *
get_node (BerthStore *store, const char *name, gboolean even_broken, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  CatalogNode *n;
  gboolean found;

  stmt = berth_store_prepare (store, "SELECT " NODE_COLUMNS " FROM catalog_nodes WHERE name = ?", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, name);
  n = one_row (store, stmt, (BerthRowFunc) node_from_row, (GDestroyNotify) catalog_node_free,
               G_STRUCT_OFFSET (CatalogNode, broken), even_broken, &found, error);
  if (!found)
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Unknown node “%s”"), name);
  return n;
}

CatalogNode *
catalog_get_node (BerthStore *store, const char *name, GError **error)
{
  return get_node (store, name, FALSE, error);
}

#define SERVICE_COLUMNS "node, id, name, tags, address, port, meta, tagged_addresses, weights," \
                        " enable_tag_override, kind, create_index, modify_index"

static CatalogService *
service_from_row (sqlite3_stmt *stmt)
{
  CatalogService *s = g_new0 (CatalogService, 1);
  s->node = col_text (stmt, 0);
  s->id = col_text (stmt, 1);
  s->name = col_text (stmt, 2);
  s->tags_json = col_text (stmt, 3);
  s->address = col_text (stmt, 4);
  s->port = sqlite3_column_int64 (stmt, 5);
  s->meta_json = col_text (stmt, 6);
  s->tagged_json = col_text (stmt, 7);
  s->weights_json = col_text (stmt, 8);
  s->enable_tag_override = sqlite3_column_int (stmt, 9) != 0;
  s->kind = col_text (stmt, 10);
  s->create_index = (guint64) sqlite3_column_int64 (stmt, 11);
  s->modify_index = (guint64) sqlite3_column_int64 (stmt, 12);
  s->broken = catalog_service_problem (s);
  if (s->broken != NULL)
    set_aside ("service", s->node, s->id, s->broken);
  return s;
}

/* Services on @node (or all nodes) named @name (or any name), the broken
 * ones included. */
static GPtrArray *
all_services (BerthStore *store, const char *node, const char *name, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "SELECT " SERVICE_COLUMNS " FROM catalog_services "
                              "WHERE (?1 IS NULL OR node = ?1) AND (?2 IS NULL OR name = ?2 COLLATE NOCASE) "
                              "ORDER BY node, id", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, node);
  bind_text (stmt, 2, name);
  return berth_store_collect (store, stmt, (BerthRowFunc) service_from_row,
                              (GDestroyNotify) catalog_service_free, error);
}

GPtrArray *
catalog_list_services (BerthStore *store, const char *node, const char *name, GError **error)
{
  return usable (all_services (store, node, name, error), G_STRUCT_OFFSET (CatalogService, broken));
}

static CatalogService *
get_service (BerthStore *store, const char *node, const char *id, gboolean even_broken,
             GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  CatalogService *s;
  gboolean found;

  stmt = berth_store_prepare (store,
                              "SELECT " SERVICE_COLUMNS " FROM catalog_services "
                              "WHERE node = ? AND id = ?", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, node);
  bind_text (stmt, 2, id);
  s = one_row (store, stmt, (BerthRowFunc) service_from_row, (GDestroyNotify) catalog_service_free,
               G_STRUCT_OFFSET (CatalogService, broken), even_broken, &found, error);
  if (!found)
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Unknown service ID “%s”"), id);
  return s;
}

CatalogService *
catalog_get_service (BerthStore *store, const char *node, const char *id, GError **error)
{
  return get_service (store, node, id, FALSE, error);
}

#define CHECK_COLUMNS "node, id, name, status, notes, output, service_id, service_name," \
                      " service_tags, type, definition, create_index, modify_index"

static CatalogCheck *
check_from_row (sqlite3_stmt *stmt)
{
  CatalogCheck *c = g_new0 (CatalogCheck, 1);
  c->node = col_text (stmt, 0);
  c->id = col_text (stmt, 1);
  c->name = col_text (stmt, 2);
  c->status = col_text (stmt, 3);
  c->notes = col_text (stmt, 4);
  c->output = col_text (stmt, 5);
  c->service_id = col_text (stmt, 6);
  c->service_name = col_text (stmt, 7);
  c->service_tags_json = col_text (stmt, 8);
  c->type = col_text (stmt, 9);
  c->definition_json = col_text (stmt, 10);
  c->create_index = (guint64) sqlite3_column_int64 (stmt, 11);
  c->modify_index = (guint64) sqlite3_column_int64 (stmt, 12);
  c->broken = catalog_check_problem (c);
  if (c->broken != NULL)
    set_aside ("check", c->node, c->id, c->broken);
  return c;
}

static GPtrArray *
all_checks (BerthStore *store, const char *node, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "SELECT " CHECK_COLUMNS " FROM catalog_checks "
                              "WHERE (?1 IS NULL OR node = ?1) ORDER BY node, id", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, node);
  return berth_store_collect (store, stmt, (BerthRowFunc) check_from_row,
                              (GDestroyNotify) catalog_check_free, error);
}

/* Checks filtered by node, service name and status (each optional). */
GPtrArray *
catalog_list_checks (BerthStore *store, const char *node, const char *service_name,
                     const char *status, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "SELECT " CHECK_COLUMNS " FROM catalog_checks "
                              "WHERE (?1 IS NULL OR node = ?1) AND (?2 IS NULL OR service_name = ?2)"
                              " AND (?3 IS NULL OR status = ?3) ORDER BY node, id", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, node);
  bind_text (stmt, 2, service_name);
  bind_text (stmt, 3, status);
  return usable (berth_store_collect (store, stmt, (BerthRowFunc) check_from_row,
                                      (GDestroyNotify) catalog_check_free, error),
                 G_STRUCT_OFFSET (CatalogCheck, broken));
}

/* The checks that can apply to instances of @service_name: theirs and
 * every node-level check. */
GPtrArray *
catalog_list_checks_for_service (BerthStore *store, const char *service_name, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "SELECT " CHECK_COLUMNS " FROM catalog_checks "
                              "WHERE service_name = ?1 COLLATE NOCASE OR service_id = '' "
                              "ORDER BY node, id", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, service_name);
  return usable (berth_store_collect (store, stmt, (BerthRowFunc) check_from_row,
                                      (GDestroyNotify) catalog_check_free, error),
                 G_STRUCT_OFFSET (CatalogCheck, broken));
}

static CatalogCheck *
get_check (BerthStore *store, const char *node, const char *id, gboolean even_broken,
           GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  CatalogCheck *c;
  gboolean found;

  stmt = berth_store_prepare (store, "SELECT " CHECK_COLUMNS " FROM catalog_checks "
                              "WHERE node = ? AND id = ?", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, node);
  bind_text (stmt, 2, id);
  c = one_row (store, stmt, (BerthRowFunc) check_from_row, (GDestroyNotify) catalog_check_free,
               G_STRUCT_OFFSET (CatalogCheck, broken), even_broken, &found, error);
  if (!found)
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, _("Unknown check ID “%s”"), id);
  return c;
}

CatalogCheck *
catalog_get_check (BerthStore *store, const char *node, const char *id, GError **error)
{
  return get_check (store, node, id, FALSE, error);
}

/* Loads every row once, so that the broken ones are reported at start. */
void
catalog_validate_all (BerthStore *store)
{
  g_autoptr(GPtrArray) nodes = all_nodes (store, NULL);
  g_autoptr(GPtrArray) services = all_services (store, NULL, NULL, NULL);
  g_autoptr(GPtrArray) checks = all_checks (store, NULL, NULL);
}

/* ---- writes ----------------------------------------------------------- */

static gboolean
node_exists (BerthStore *store, const char *name, GError **error, gboolean *exists)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store, "SELECT 1 FROM catalog_nodes WHERE name = ?", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, name);
  return berth_store_step (store, stmt, exists, error);
}

static gboolean
upsert_node (BerthTxn *txn, CatalogNode *n, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(CatalogNode) old = get_node (store, n->name, TRUE, NULL);
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
  bind_text (stmt, 1, n->name);
  bind_text (stmt, 2, n->id != NULL ? n->id : "");
  bind_text (stmt, 3, n->address);
  bind_text (stmt, 4, n->datacenter);
  bind_text (stmt, 5, n->tagged_json != NULL ? n->tagged_json : "{}");
  bind_text (stmt, 6, n->meta_json != NULL ? n->meta_json : "{}");
  sqlite3_bind_int64 (stmt, 7, (sqlite3_int64) berth_txn_get_index (txn));
  if (!run (store, stmt, error))
    return FALSE;
  forget ("node", NULL, n->name);
  return touch (txn, "node", n->name, error) && touch_node_services (txn, n->name, error);
}

static gboolean
upsert_service (BerthTxn *txn, const char *node, CatalogService *s, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(CatalogService) old = get_service (store, node, s->id, TRUE, NULL);
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
  bind_text (stmt, 1, node);
  bind_text (stmt, 2, s->id);
  bind_text (stmt, 3, s->name);
  bind_text (stmt, 4, s->tags_json != NULL ? s->tags_json : "[]");
  bind_text (stmt, 5, s->address != NULL ? s->address : "");
  sqlite3_bind_int64 (stmt, 6, s->port);
  bind_text (stmt, 7, s->meta_json != NULL ? s->meta_json : "{}");
  bind_text (stmt, 8, s->tagged_json != NULL ? s->tagged_json : "{}");
  bind_text (stmt, 9, s->weights_json != NULL ? s->weights_json : "{\"Passing\":1,\"Warning\":1}");
  sqlite3_bind_int (stmt, 10, s->enable_tag_override ? 1 : 0);
  bind_text (stmt, 11, s->kind != NULL ? s->kind : "");
  sqlite3_bind_int64 (stmt, 12, (sqlite3_int64) berth_txn_get_index (txn));
  if (!run (store, stmt, error))
    return FALSE;
  forget ("service", node, s->id);

  /* the service's checks carry its name and tags */
  g_clear_pointer (&stmt, berth_stmt_reset);
  stmt = berth_store_prepare (store,
                              "UPDATE catalog_checks SET service_name = ?3, service_tags = ?4,"
                              " modify_index = ?5 WHERE node = ?1 AND service_id = ?2"
                              " AND (service_name != ?3 OR service_tags != ?4)", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, node);
  bind_text (stmt, 2, s->id);
  bind_text (stmt, 3, s->name);
  bind_text (stmt, 4, s->tags_json != NULL ? s->tags_json : "[]");
  sqlite3_bind_int64 (stmt, 5, (sqlite3_int64) berth_txn_get_index (txn));
  if (!run (store, stmt, error))
    return FALSE;
  return touch (txn, "service", s->name, error) && touch (txn, "node", node, error) &&
         touch (txn, "check", NULL, error);
}

static gboolean
upsert_check (BerthTxn *txn, const char *node, CatalogCheck *c, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(CatalogCheck) old = get_check (store, node, c->id, TRUE, NULL);
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
  bind_text (stmt, 1, node);
  bind_text (stmt, 2, c->id);
  bind_text (stmt, 3, c->name);
  bind_text (stmt, 4, status);
  bind_text (stmt, 5, c->notes != NULL ? c->notes : "");
  bind_text (stmt, 6, output);
  bind_text (stmt, 7, service != NULL ? service->id : "");
  bind_text (stmt, 8, service != NULL ? service->name : "");
  bind_text (stmt, 9, service != NULL ? service->tags_json : "[]");
  bind_text (stmt, 10, c->type != NULL ? c->type : "");
  bind_text (stmt, 11, c->definition_json != NULL ? c->definition_json : "{}");
  sqlite3_bind_int64 (stmt, 12, (sqlite3_int64) berth_txn_get_index (txn));
  if (!run (store, stmt, error))
    return FALSE;
  forget ("check", node, c->id);

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

static gboolean
delete_service_checks_except (BerthTxn *txn, const char *node, const char *service_id,
                              GPtrArray *keep, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(GPtrArray) checks = all_checks (store, node, error);
  g_autoptr(sqlite3_stmt) stmt = NULL;

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
      if (stmt == NULL)
        {
          stmt = berth_store_prepare (store, "DELETE FROM catalog_checks WHERE node = ? AND id = ?",
                                      error);
          if (stmt == NULL)
            return FALSE;
        }
      sqlite3_reset (stmt);
      bind_text (stmt, 1, node);
      bind_text (stmt, 2, c->id);
      if (!run (store, stmt, error) || !touch (txn, "check", c->id, error))
        return FALSE;
      forget ("check", node, c->id);
    }
  return TRUE;
}

gboolean
catalog_write_register (BerthTxn *txn, gpointer data, GError **error)
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
      if (!node_exists (store, reg->node_name, error, &exists))
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
  g_autoptr(CatalogCheck) old = get_check (store, node, id, TRUE, error);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (old == NULL)
    return FALSE;
  stmt = berth_store_prepare (store, "DELETE FROM catalog_checks WHERE node = ? AND id = ?", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, node);
  bind_text (stmt, 2, id);
  if (!run (store, stmt, error))
    return FALSE;
  forget ("check", node, id);
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
  g_autoptr(CatalogService) old = get_service (store, node, id, TRUE, error);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (old == NULL)
    return FALSE;
  if (!delete_service_checks_except (txn, node, id, NULL, error))
    return FALSE;
  stmt = berth_store_prepare (store, "DELETE FROM catalog_services WHERE node = ? AND id = ?", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, node);
  bind_text (stmt, 2, id);
  if (!run (store, stmt, error))
    return FALSE;
  forget ("service", node, id);
  return touch (txn, "service", old->name, error) && touch (txn, "node", node, error) &&
         touch (txn, "check", NULL, error);
}

static gboolean
delete_node (BerthTxn *txn, const char *node, GError **error)
{
  BerthStore *store = berth_txn_get_store (txn);
  g_autoptr(GPtrArray) services = all_services (store, node, NULL, error);
  g_autoptr(GPtrArray) checks = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean exists = FALSE;

  if (services == NULL || !node_exists (store, node, error, &exists))
    return FALSE;
  if (!exists)
    return TRUE;   /* as Consul: nothing to do is no error */
  for (guint i = 0; i < services->len; i++)
    if (!delete_service (txn, node, ((CatalogService *) g_ptr_array_index (services, i))->id, error))
      return FALSE;
  checks = all_checks (store, node, error);
  if (checks == NULL)
    return FALSE;
  for (guint i = 0; i < checks->len; i++)
    if (!delete_check (txn, node, ((CatalogCheck *) g_ptr_array_index (checks, i))->id, error))
      return FALSE;
  stmt = berth_store_prepare (store, "DELETE FROM catalog_nodes WHERE name = ?", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, node);
  if (!run (store, stmt, error))
    return FALSE;
  forget ("node", NULL, node);
  return touch (txn, "node", node, error);
}

gboolean
catalog_write_deregister (BerthTxn *txn, gpointer data, GError **error)
{
  CatalogDeregistration *d = data;

  if (d->service_id != NULL)
    return delete_service (txn, d->node, d->service_id, error);
  if (d->check_id != NULL)
    return delete_check (txn, d->node, d->check_id, error);
  return delete_node (txn, d->node, error);
}

gboolean
catalog_write_check_update (BerthTxn *txn, gpointer data, GError **error)
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
  bind_text (stmt, 1, u->node);
  bind_text (stmt, 2, u->check_id);
  bind_text (stmt, 3, u->status);
  bind_text (stmt, 4, output);
  sqlite3_bind_int64 (stmt, 5, (sqlite3_int64) berth_txn_get_index (txn));
  if (!run (store, stmt, error))
    return FALSE;
  if (!touch (txn, "check", u->check_id, error) || !touch (txn, "node", u->node, error))
    return FALSE;
  if (old->service_name[0] != '\0')
    return touch (txn, "service", old->service_name, error);
  return touch_node_services (txn, u->node, error);
}

/* ---- filters ---------------------------------------------------------- */

/* Stored JSON text, read back through berth_json_parse() (no deep nesting,
 * no U+0000); null when it is not valid. */
JsonNode *
catalog_json_parse (const char *text)
{
  JsonNode *node = NULL;

  if (text != NULL && *text != '\0')
    node = berth_json_parse (text, -1, NULL);
  return node != NULL ? node : json_node_new (JSON_NODE_NULL);
}

gboolean
catalog_service_has_tag (CatalogService *service, const char *tag)
{
  g_autoptr(JsonNode) tags = catalog_json_parse (service->tags_json);

  if (!JSON_NODE_HOLDS_ARRAY (tags))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (tags)); i++)
    {
      const char *t = json_array_get_string_element (json_node_get_array (tags), i);
      if (t != NULL && g_ascii_strcasecmp (t, tag) == 0)
        return TRUE;
    }
  return FALSE;
}

/* ?node-meta=key:value (repeatable); every pair must match. */
gboolean
catalog_node_meta_match (CatalogNode *node, BerthRequest *req)
{
  SoupServerMessage *msg = berth_request_get_message (req);
  GUri *uri = msg != NULL ? soup_server_message_get_uri (msg) : NULL;
  const char *query = uri != NULL ? g_uri_get_query (uri) : NULL;
  g_auto(GStrv) pairs = NULL;
  g_autoptr(JsonNode) meta = NULL;

  if (query == NULL || strstr (query, "node-meta") == NULL)
    return TRUE;
  meta = catalog_json_parse (node->meta_json);
  pairs = g_strsplit (query, "&", -1);
  for (guint i = 0; pairs[i] != NULL; i++)
    {
      g_autofree char *value = NULL;
      const char *colon, *have;

      if (!g_str_has_prefix (pairs[i], "node-meta="))
        continue;
      value = g_uri_unescape_string (pairs[i] + strlen ("node-meta="), NULL);
      if (value == NULL)
        return FALSE;
      colon = strchr (value, ':');
      if (colon == NULL)
        return FALSE;
      value[colon - value] = '\0';
      if (!JSON_NODE_HOLDS_OBJECT (meta))
        return FALSE;
      have = json_object_get_string_member_with_default (json_node_get_object (meta), value, NULL);
      if (have == NULL || strcmp (have, colon + 1) != 0)
        return FALSE;
    }
  return TRUE;
}

static int
status_rank (const char *status)
{
  if (g_strcmp0 (status, CHECK_PASSING) == 0)
    return 0;
  if (g_strcmp0 (status, CHECK_WARNING) == 0)
    return 1;
  return 2;
}

const char *
catalog_status_worst (const char *a, const char *b)
{
  return status_rank (a) >= status_rank (b) ? a : b;
}

/* ---- JSON ------------------------------------------------------------- */

static void
add_json (JsonBuilder *b, const char *name, const char *text)
{
  json_builder_set_member_name (b, name);
  json_builder_add_value (b, catalog_json_parse (text));
}

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value != NULL ? value : "");
}

static void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

JsonNode *
catalog_node_to_json (CatalogNode *n)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "ID", n->id);
  add_string (b, "Node", n->name);
  add_string (b, "Address", n->address);
  add_string (b, "Datacenter", n->datacenter);
  add_json (b, "TaggedAddresses", n->tagged_json);
  add_json (b, "Meta", n->meta_json);
  add_int (b, "CreateIndex", (gint64) n->create_index);
  add_int (b, "ModifyIndex", (gint64) n->modify_index);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
catalog_service_to_json (CatalogService *s, gboolean with_indexes)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "ID", s->id);
  add_string (b, "Service", s->name);
  add_json (b, "Tags", s->tags_json);
  add_string (b, "Address", s->address);
  add_json (b, "TaggedAddresses", s->tagged_json);
  add_json (b, "Meta", s->meta_json);
  add_int (b, "Port", s->port);
  add_json (b, "Weights", s->weights_json);
  json_builder_set_member_name (b, "EnableTagOverride");
  json_builder_add_boolean_value (b, s->enable_tag_override);
  if (s->kind != NULL && *s->kind != '\0')
    add_string (b, "Kind", s->kind);
  if (with_indexes)
    {
      add_int (b, "CreateIndex", (gint64) s->create_index);
      add_int (b, "ModifyIndex", (gint64) s->modify_index);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* A /v1/catalog/service row: the node's fields and the service's, flat. */
JsonNode *
catalog_service_row_to_json (CatalogNode *n, CatalogService *s)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "ID", n->id);
  add_string (b, "Node", n->name);
  add_string (b, "Address", n->address);
  add_string (b, "Datacenter", n->datacenter);
  add_json (b, "TaggedAddresses", n->tagged_json);
  add_json (b, "NodeMeta", n->meta_json);
  add_string (b, "ServiceKind", s->kind);
  add_string (b, "ServiceID", s->id);
  add_string (b, "ServiceName", s->name);
  add_json (b, "ServiceTags", s->tags_json);
  add_string (b, "ServiceAddress", s->address);
  add_json (b, "ServiceTaggedAddresses", s->tagged_json);
  add_json (b, "ServiceWeights", s->weights_json);
  add_json (b, "ServiceMeta", s->meta_json);
  add_int (b, "ServicePort", s->port);
  json_builder_set_member_name (b, "ServiceEnableTagOverride");
  json_builder_add_boolean_value (b, s->enable_tag_override);
  add_int (b, "CreateIndex", (gint64) s->create_index);
  add_int (b, "ModifyIndex", (gint64) s->modify_index);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
catalog_check_to_json (CatalogCheck *c)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "Node", c->node);
  add_string (b, "CheckID", c->id);
  add_string (b, "Name", c->name);
  add_string (b, "Status", c->status);
  add_string (b, "Notes", c->notes);
  add_string (b, "Output", c->output);
  add_string (b, "ServiceID", c->service_id);
  add_string (b, "ServiceName", c->service_name);
  add_json (b, "ServiceTags", c->service_tags_json);
  add_string (b, "Type", c->type);
  add_json (b, "Definition", c->definition_json);
  add_int (b, "CreateIndex", (gint64) c->create_index);
  add_int (b, "ModifyIndex", (gint64) c->modify_index);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* A check's output as kept: valid UTF-8, at most CATALOG_MAX_OUTPUT bytes,
 * cut at a character boundary. */
char *
catalog_output_text (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  const char *end;

  if (strlen (valid) <= CATALOG_MAX_OUTPUT)
    return g_steal_pointer (&valid);
  end = valid + CATALOG_MAX_OUTPUT;
  while (end > valid && ((guchar) *end & 0xC0) == 0x80)
    end--;
  return g_strndup (valid, (gsize) (end - valid));
}

