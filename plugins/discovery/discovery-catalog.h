/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* The service catalog: nodes, service instances and health checks, as
 * Consul keeps them. Rows live in the discovery tables catalog_nodes,
 * catalog_services and catalog_checks; JSON-valued fields (tags, meta,
 * tagged addresses, weights, check definitions) are stored as JSON text.
 *
 * Every write records changes under the topics "node", "service" and
 * "check" (key: node name, service name, check id) and bumps the matching
 * rows of catalog_indexes, which the read endpoints answer as
 * X-Consul-Index. */

#define CHECK_PASSING  "passing"
#define CHECK_WARNING  "warning"
#define CHECK_CRITICAL "critical"

#define CATALOG_MAX_OUTPUT 4096

typedef struct {
  char    *name;
  char    *id;
  char    *address;
  char    *datacenter;
  char    *tagged_json;
  char    *meta_json;
  guint64  create_index;
  guint64  modify_index;
  char    *broken;      /* why the stored row is set aside, or NULL */
} CatalogNode;

typedef struct {
  char     *node;
  char     *id;
  char     *name;
  char     *tags_json;
  char     *address;
  gint64    port;
  char     *meta_json;
  char     *tagged_json;
  char     *weights_json;
  gboolean  enable_tag_override;
  char     *kind;
  guint64   create_index;
  guint64   modify_index;
  char     *broken;     /* why the stored row is set aside, or NULL */
} CatalogService;

typedef struct {
  char    *node;
  char    *id;
  char    *name;
  char    *status;
  char    *notes;
  char    *output;
  char    *service_id;
  char    *service_name;
  char    *service_tags_json;
  char    *type;
  char    *definition_json;   /* what the runner needs; "{}" for none */
  gboolean status_given;      /* only on input: keep the old status if FALSE */
  guint64  create_index;
  guint64  modify_index;
  char    *broken;            /* why the stored row is set aside, or NULL */
} CatalogCheck;

void catalog_node_free    (CatalogNode    *node);
CatalogNode  *catalog_node_copy  (const CatalogNode  *node);
CatalogCheck *catalog_check_copy (const CatalogCheck *check);
void catalog_service_free (CatalogService *service);
void catalog_check_free   (CatalogCheck   *check);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatalogNode, catalog_node_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatalogService, catalog_service_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatalogCheck, catalog_check_free)

/* One registration: an optional node (upserted), an optional service and
 * any number of checks, all on node @node_name. */
typedef struct {
  char           *node_name;
  CatalogNode    *node;        /* NULL: the node must exist */
  CatalogService *service;
  GPtrArray      *checks;      /* CatalogCheck */
  gboolean        replace_service_checks;
} CatalogRegistration;

void catalog_registration_free (CatalogRegistration *reg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatalogRegistration, catalog_registration_free)

typedef struct {
  char *node;
  char *service_id;   /* NULL: the whole node unless check_id is set */
  char *check_id;
} CatalogDeregistration;

void catalog_deregistration_free (CatalogDeregistration *dereg);

typedef struct {
  char     *node;
  char     *check_id;
  char     *status;
  char     *output;    /* NULL: keep */
} CatalogCheckUpdate;

void catalog_check_update_free (CatalogCheckUpdate *update);

/* A write on behalf of @caller (NULL: discovery itself): what it changes
 * is published on the event bus as "catalog" events (a service registered
 * or deregistered) and "health" events (a check's status changed), with
 * the caller, once the write succeeded. */
typedef struct {
  BerthStoreWriteFunc  func;
  gpointer             data;
  GDestroyNotify       destroy;
  BerthCaller         *caller;
} CatalogWrite;

CatalogWrite *catalog_write_new  (BerthStoreWriteFunc func,
                                  gpointer            data,
                                  GDestroyNotify      destroy,
                                  BerthCaller        *caller);
void          catalog_write_free (CatalogWrite       *write);
gboolean      catalog_write_as   (BerthTxn           *txn,
                                  gpointer            write,
                                  GError            **error);

/* write functions for berth_store_write_async(), data as named; the
 * events they cause are published with discovery's own caller unless
 * they run inside catalog_write_as() */
gboolean catalog_write_register     (BerthTxn *txn, gpointer reg, GError **error);
gboolean catalog_write_deregister   (BerthTxn *txn, gpointer dereg, GError **error);
gboolean catalog_write_check_update (BerthTxn *txn, gpointer update, GError **error);

/* Rows that fail validation when loaded are reported to @context as
 * broken and left out of the lists (catalog_validate_all(): all at once). */
void       catalog_set_context      (BerthContext *context);
void       catalog_validate_all     (BerthStore *store);

/* reads */
guint64    catalog_index            (BerthStore *store, const char *topic, const char *key);
GPtrArray *catalog_list_nodes       (BerthStore *store, GError **error);
CatalogNode *catalog_get_node       (BerthStore *store, const char *name, GError **error);
GPtrArray *catalog_list_services    (BerthStore *store, const char *node, const char *name,
                                     GError **error);
CatalogService *catalog_get_service (BerthStore *store, const char *node, const char *id,
                                     GError **error);
GPtrArray *catalog_list_checks      (BerthStore *store, const char *node, const char *service_name,
                                     const char *status, GError **error);
GPtrArray *catalog_list_checks_for_service (BerthStore *store, const char *service_name,
                                            GError **error);
CatalogCheck *catalog_get_check     (BerthStore *store, const char *node, const char *id,
                                     GError **error);

gboolean   catalog_service_has_tag  (CatalogService *service, const char *tag);
gboolean   catalog_node_meta_match  (CatalogNode *node, BerthRequest *req);
const char *catalog_status_worst    (const char *a, const char *b);

/* JSON */
JsonNode *catalog_json_parse        (const char *text);
JsonNode *catalog_node_to_json      (CatalogNode *node);
JsonNode *catalog_service_to_json   (CatalogService *service, gboolean with_indexes);
JsonNode *catalog_service_row_to_json (CatalogNode *node, CatalogService *service);
JsonNode *catalog_check_to_json     (CatalogCheck *check);

char     *catalog_output_text       (const char *text);

/* Consul durations ("10s", "500ms", "1m30s"); a bare number is seconds */

G_END_DECLS
