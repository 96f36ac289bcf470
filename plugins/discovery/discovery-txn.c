/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "discovery-json.h"
#include "discovery-kv.h"
#include "discovery-txn.h"
#include "discovery-wan.h"

/* PUT /v1/txn: Consul's transactions, KV verbs only (with the session
 * verbs lock, unlock and check-session). All operations apply
 * in one store write, or none does: the first failing operation rolls the
 * whole write back and is reported with its position. */

#define MAX_OPS 128

typedef struct {
  GArray       *ops;       /* KvOp */
  GPtrArray    *results;   /* BerthKvEntry */
  guint         failed_op;
  gboolean      op_failed;   /* the error is the failed op's, for Errors */
  BerthRequest *request;
} TxnWrite;

static void
txn_write_free (TxnWrite *t)
{
  for (guint i = 0; i < t->ops->len; i++)
    kv_op_clear (&g_array_index (t->ops, KvOp, i));
  g_array_unref (t->ops);
  g_ptr_array_unref (t->results);
  g_clear_object (&t->request);
  g_free (t);
}

static gboolean
parse_op (JsonNode *node, guint i, guint64 max_value, guint64 max_key, KvOp *op, GError **error)
{
  JsonObject *obj, *kv;
  JsonNode *kv_node;
  const char *verb, *key, *value;
  g_autoptr(GError) local_error = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Operation %u is not an object"), i);
      return FALSE;
    }
  obj = json_node_get_object (node);
  kv_node = discovery_json_member (obj, "KV");
  if (kv_node == NULL || !JSON_NODE_HOLDS_OBJECT (kv_node))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_NOT_IMPLEMENTED,
                   _("Operation %u: only KV operations are implemented in transactions"), i);
      return FALSE;
    }
  kv = json_node_get_object (kv_node);
  verb = discovery_json_string (kv, "Verb", &local_error);
  if (local_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("Operation %u: "), i);
      return FALSE;
    }
  if (verb == NULL || !discovery_kv_verb_from_string (verb, &op->verb))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Operation %u: unknown KV verb “%s”"),
                   i, verb != NULL ? verb : "");
      return FALSE;
    }
  key = discovery_json_string (kv, "Key", &local_error);
  if (local_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("Operation %u: "), i);
      return FALSE;
    }
  if ((key == NULL || *key == '\0') && op->verb != KV_VERB_GET_TREE && op->verb != KV_VERB_DELETE_TREE)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Operation %u: missing Key"), i);
      return FALSE;
    }
  if (key != NULL && !discovery_kv_check_key (key, max_key, &local_error))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("Operation %u: "), i);
      return FALSE;
    }
  op->key = g_strdup (key != NULL ? key : "");
  value = discovery_json_string (kv, "Value", &local_error);
  if (value != NULL)
    {
      gsize len = 0;

      op->value = discovery_base64_decode (value, &local_error);
      if (op->value == NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("Operation %u: "), i);
          return FALSE;
        }
      len = g_bytes_get_size (op->value);
      if (len > max_value)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_TOO_LARGE,
                       _("Operation %u: value exceeds the %" G_GUINT64_FORMAT " byte limit"),
                       i, max_value);
          return FALSE;
        }
    }
  if (local_error != NULL ||
      !discovery_json_uint64 (kv, "Flags", &op->flags, &local_error) ||
      !discovery_json_uint64 (kv, "Index", &op->index, &local_error))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("Operation %u: "), i);
      return FALSE;
    }
  if (op->verb == KV_VERB_LOCK || op->verb == KV_VERB_UNLOCK || op->verb == KV_VERB_CHECK_SESSION)
    {
      const char *session = discovery_json_string (kv, "Session", &local_error);

      if (local_error != NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("Operation %u: "), i);
          return FALSE;
        }
      if (session == NULL || *session == '\0')
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Operation %u: %s needs a Session"),
                       i, verb);
          return FALSE;
        }
      op->session = g_strdup (session);
    }
  if ((op->verb == KV_VERB_CAS || op->verb == KV_VERB_DELETE_CAS) &&
      discovery_json_member (kv, "Index") == NULL)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Operation %u: %s needs an Index"),
                   i, verb);
      return FALSE;
    }
  return TRUE;
}

static gboolean
txn_write_func (BerthTxn *txn, gpointer user_data, GError **error)
{
  TxnWrite *t = user_data;

  for (guint i = 0; i < t->ops->len; i++)
    {
      if (!discovery_kv_apply (txn, &g_array_index (t->ops, KvOp, i), t->results, error))
        {
          t->failed_op = i;
          t->op_failed = TRUE;
          g_ptr_array_set_size (t->results, 0);
          return FALSE;
        }
    }
  return TRUE;
}

static void
txn_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TxnWrite *t = user_data;
  BerthRequest *req = t->request;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GBytes) body = NULL;
  guint64 index;

  index = berth_store_write_finish (BERTH_STORE (source), result, &error);
  /* an operation that failed (a precondition, a lock not taken, an
   * invalid session) is reported in Errors; anything else is the write's */
  if (error != NULL &&
      !(t->op_failed && (g_error_matches (error, BERTH_ERROR, BERTH_ERROR_CONFLICT) ||
                         g_error_matches (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND) ||
                         g_error_matches (error, BERTH_ERROR, BERTH_ERROR_INVALID))))
    {
      berth_request_respond_error (req, error);
      txn_write_free (t);
      return;
    }

  /* written directly, as KV answers are: Flags are unsigned 64-bit */
  if (error == NULL)
    {
      gboolean first = TRUE;

      g_string_append (out, "{\"Results\":[");
      for (guint i = 0; i < t->results->len; i++)
        {
          /* a get-tree's entries: only the keys the caller may read */
          if (!berth_request_may_read (req, "key",
                                       berth_kv_entry_get_key (g_ptr_array_index (t->results, i))))
            continue;
          if (!first)
            g_string_append_c (out, ',');
          first = FALSE;
          g_string_append (out, "{\"KV\":");
          berth_kv_entry_append_json (g_ptr_array_index (t->results, i), out, TRUE);
          g_string_append_c (out, '}');
        }
      g_string_append (out, "],\"Errors\":null}");
    }
  else
    {
      g_string_append_printf (out, "{\"Results\":null,\"Errors\":[{\"OpIndex\":%u,\"What\":",
                              t->failed_op);
      berth_json_append_string (out, error->message);
      g_string_append (out, "}]}");
    }
  body = g_string_free_to_bytes (g_steal_pointer (&out));
  berth_request_set_index (req, index > 0 ? index : berth_store_get_index (BERTH_STORE (source)));
  berth_request_respond (req, error == NULL ? 200 : 409, "application/json", body);
  txn_write_free (t);
}

static void
txn_cb (BerthRequest *req, gpointer user_data)
{
  DiscoveryPlugin *plugin = user_data;
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = berth_request_parse_json (req, &error);
  JsonArray *array;
  TxnWrite *t;

  if (root == NULL)
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      berth_request_respond_message (req, 400, _("A transaction is a JSON array of operations"));
      return;
    }
  array = json_node_get_array (root);
  if (json_array_get_length (array) > MAX_OPS)
    {
      g_autofree char *text = g_strdup_printf (_("A transaction holds at most %d operations, not %u"),
                                               MAX_OPS, json_array_get_length (array));
      berth_request_respond_message (req, 413, text);
      return;
    }

  t = g_new0 (TxnWrite, 1);
  t->ops = g_array_new (FALSE, TRUE, sizeof (KvOp));
  t->results = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      KvOp op = { 0 };
      if (!parse_op (json_array_get_element (array, i), i,
                     discovery_plugin_get_max_value_bytes (plugin),
                     discovery_plugin_get_max_key_bytes (plugin), &op, &error))
        {
          kv_op_clear (&op);
          txn_write_free (t);
          berth_request_respond_error (req, error);
          return;
        }
      g_array_append_val (t->ops, op);
    }
  /* every operation's key is checked before anything is applied: one
   * refusal refuses the whole transaction */
  for (guint i = 0; i < t->ops->len; i++)
    if (!discovery_kv_authorize_op (req, &g_array_index (t->ops, KvOp, i), &error))
      {
        txn_write_free (t);
        berth_request_respond_error (req, error);
        return;
      }
  t->request = g_object_ref (req);
  /* the TxnWrite outlives the write: the callback frees it */
  berth_store_write_async (store, txn_write_func, t, NULL, NULL, txn_done_cb, t);
}

static const BerthRouteSpec txn_routes[] = {
  { BERTH_METHOD_PUT, "/v1/txn", "key", BERTH_ACCESS_WRITE, txn_cb },
};

void
discovery_txn_add_routes (DiscoveryPlugin *plugin)
{
  discovery_wan_add_routes (plugin, txn_routes, G_N_ELEMENTS (txn_routes));
}
