/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "discovery-catalog.h"
#include "discovery-catalog-parse.h"
#include "discovery-catalog-private.h"

/* The catalog's rows: reading them, and setting aside those that fail
 * validation; the writes are in discovery-catalog-write.c, the JSON in
 * discovery-catalog-json.c. See discovery-catalog.h. */

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

static char *
col_text (sqlite3_stmt *stmt, int col)
{
  const char *text = (const char *) sqlite3_column_text (stmt, col);
  return g_strdup (text != NULL ? text : "");
}

void
catalog_bind_text (sqlite3_stmt *stmt, int col, const char *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, col);
  else
    sqlite3_bind_text (stmt, col, text, -1, SQLITE_TRANSIENT);
}

gboolean
catalog_run (BerthStore *store, sqlite3_stmt *stmt, GError **error)
{
  gboolean have_row;
  return berth_store_step (store, stmt, &have_row, error);
}

static gpointer
index_from_row (sqlite3_stmt *stmt)
{
  guint64 *index = g_new (guint64, 1);
  *index = (guint64) sqlite3_column_int64 (stmt, 0);
  return index;
}

guint64
catalog_index (BerthStore *store, const char *topic, const char *key)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *name = key != NULL ? g_strconcat (topic, "/", key, NULL) : g_strdup (topic);
  g_autofree guint64 *index = NULL;

  stmt = berth_store_prepare (store, "SELECT modify_index FROM catalog_indexes WHERE name = ?", NULL);
  if (stmt == NULL)
    return 1;
  catalog_bind_text (stmt, 1, name);
  index = berth_store_get_one (store, stmt, index_from_row, "index", NULL);
  /* Consul never answers index 0: clients would treat it as "no index" */
  return index != NULL ? MAX (*index, 1) : 1;
}

/* ---- rows set aside ---------------------------------------------------- */

/* The context to report broken rows to: one discovery plugin per process. */
static BerthContext *catalog_context;

void
catalog_set_context (BerthContext *context)
{
  catalog_context = context;
}

BerthContext *
catalog_get_context (void)
{
  return catalog_context;
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

void
catalog_forget (const char *kind, const char *node, const char *id)
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

/* One row of @stmt (bound), made by @row_func, through
 * berth_store_get_one(); NULL with BERTH_ERROR_NOT_FOUND and @message when
 * there is none, or when it is set aside and not @even_broken (only the
 * writes that replace or delete a row want it then). */
static gpointer
get_row (BerthStore *store, sqlite3_stmt *stmt, BerthRowFunc row_func, GDestroyNotify free_func,
         gsize broken_offset, gboolean even_broken, const char *what, const char *message,
         GError **error)
{
  g_autoptr(GError) local = NULL;
  gpointer row = berth_store_get_one (store, stmt, row_func, what, &local);

  if (row != NULL && !even_broken && G_STRUCT_MEMBER (char *, row, broken_offset) != NULL)
    {
      g_clear_pointer (&row, free_func);
      g_set_error_literal (&local, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, message);
    }
  if (row == NULL && g_error_matches (local, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
    g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND, message);
  else if (row == NULL)
    g_propagate_error (error, g_steal_pointer (&local));
  return row;
}

GPtrArray *
catalog_all_nodes (BerthStore *store, GError **error)
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
  return usable (catalog_all_nodes (store, error), G_STRUCT_OFFSET (CatalogNode, broken));
}

CatalogNode *
catalog_get_node_row (BerthStore *store, const char *name, gboolean even_broken, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *message = g_strdup_printf (_("Unknown node “%s”"), name);
  g_autofree char *what = g_strdup_printf ("node “%s”", name);

  stmt = berth_store_prepare (store, "SELECT " NODE_COLUMNS " FROM catalog_nodes WHERE name = ?", error);
  if (stmt == NULL)
    return NULL;
  catalog_bind_text (stmt, 1, name);
  return get_row (store, stmt, (BerthRowFunc) node_from_row, (GDestroyNotify) catalog_node_free,
                  G_STRUCT_OFFSET (CatalogNode, broken), even_broken, what, message, error);
}

CatalogNode *
catalog_get_node (BerthStore *store, const char *name, GError **error)
{
  return catalog_get_node_row (store, name, FALSE, error);
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
GPtrArray *
catalog_all_services (BerthStore *store, const char *node, const char *name, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "SELECT " SERVICE_COLUMNS " FROM catalog_services "
                              "WHERE (?1 IS NULL OR node = ?1) AND (?2 IS NULL OR name = ?2 COLLATE NOCASE) "
                              "ORDER BY node, id", error);
  if (stmt == NULL)
    return NULL;
  catalog_bind_text (stmt, 1, node);
  catalog_bind_text (stmt, 2, name);
  return berth_store_collect (store, stmt, (BerthRowFunc) service_from_row,
                              (GDestroyNotify) catalog_service_free, error);
}

GPtrArray *
catalog_list_services (BerthStore *store, const char *node, const char *name, GError **error)
{
  return usable (catalog_all_services (store, node, name, error), G_STRUCT_OFFSET (CatalogService, broken));
}

CatalogService *
catalog_get_service_row (BerthStore *store, const char *node, const char *id, gboolean even_broken,
             GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *message = g_strdup_printf (_("Unknown service ID “%s”"), id);
  g_autofree char *what = g_strdup_printf ("service “%s”", id);

  stmt = berth_store_prepare (store,
                              "SELECT " SERVICE_COLUMNS " FROM catalog_services "
                              "WHERE node = ? AND id = ?", error);
  if (stmt == NULL)
    return NULL;
  catalog_bind_text (stmt, 1, node);
  catalog_bind_text (stmt, 2, id);
  return get_row (store, stmt, (BerthRowFunc) service_from_row, (GDestroyNotify) catalog_service_free,
                  G_STRUCT_OFFSET (CatalogService, broken), even_broken, what, message, error);
}

CatalogService *
catalog_get_service (BerthStore *store, const char *node, const char *id, GError **error)
{
  return catalog_get_service_row (store, node, id, FALSE, error);
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

GPtrArray *
catalog_all_checks (BerthStore *store, const char *node, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = berth_store_prepare (store,
                              "SELECT " CHECK_COLUMNS " FROM catalog_checks "
                              "WHERE (?1 IS NULL OR node = ?1) ORDER BY node, id", error);
  if (stmt == NULL)
    return NULL;
  catalog_bind_text (stmt, 1, node);
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
  catalog_bind_text (stmt, 1, node);
  catalog_bind_text (stmt, 2, service_name);
  catalog_bind_text (stmt, 3, status);
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
  catalog_bind_text (stmt, 1, service_name);
  return usable (berth_store_collect (store, stmt, (BerthRowFunc) check_from_row,
                                      (GDestroyNotify) catalog_check_free, error),
                 G_STRUCT_OFFSET (CatalogCheck, broken));
}

CatalogCheck *
catalog_get_check_row (BerthStore *store, const char *node, const char *id, gboolean even_broken,
           GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *message = g_strdup_printf (_("Unknown check ID “%s”"), id);
  g_autofree char *what = g_strdup_printf ("check “%s”", id);

  stmt = berth_store_prepare (store, "SELECT " CHECK_COLUMNS " FROM catalog_checks "
                              "WHERE node = ? AND id = ?", error);
  if (stmt == NULL)
    return NULL;
  catalog_bind_text (stmt, 1, node);
  catalog_bind_text (stmt, 2, id);
  return get_row (store, stmt, (BerthRowFunc) check_from_row, (GDestroyNotify) catalog_check_free,
                  G_STRUCT_OFFSET (CatalogCheck, broken), even_broken, what, message, error);
}

CatalogCheck *
catalog_get_check (BerthStore *store, const char *node, const char *id, GError **error)
{
  return catalog_get_check_row (store, node, id, FALSE, error);
}

/* Loads every row once, so that the broken ones are reported at start. */
void
catalog_validate_all (BerthStore *store)
{
  GPtrArray *rows;

  rows = catalog_all_nodes (store, NULL);
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = catalog_all_services (store, NULL, NULL, NULL);
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = catalog_all_checks (store, NULL, NULL);
  g_clear_pointer (&rows, g_ptr_array_unref);
}

static gpointer
exists_from_row (sqlite3_stmt *stmt)
{
  return GINT_TO_POINTER (1);
}

gboolean
catalog_node_exists (BerthStore *store, const char *name, GError **error, gboolean *exists)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GError) local = NULL;

  *exists = FALSE;
  stmt = berth_store_prepare (store, "SELECT 1 FROM catalog_nodes WHERE name = ?", error);
  if (stmt == NULL)
    return FALSE;
  catalog_bind_text (stmt, 1, name);
  *exists = berth_store_get_one (store, stmt, exists_from_row, "node", &local) != NULL;
  if (local != NULL && !g_error_matches (local, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return TRUE;
}
