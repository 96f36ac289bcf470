/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "discovery-blocking.h"
#include "discovery-kv.h"
#include "discovery-kv-http.h"
#include "discovery-query.h"
#include "discovery-wan.h"

/* Consul's /v1/kv/<key>: GET (single, ?recurse, ?keys[&separator], ?raw,
 * blocking), PUT (?flags, ?cas, ?acquire, ?release) and DELETE (?recurse,
 * ?cas). */

typedef struct {
  char     *key;
  char     *separator;
  gboolean  recurse;
  gboolean  keys;
  gboolean  raw;
} KvRead;

static void
kv_read_free (KvRead *r)
{
  g_free (r->key);
  g_free (r->separator);
  g_free (r);
}

/* The entries as Consul's JSON array, written directly: Flags are unsigned
 * 64-bit, which JSON-GLib cannot represent. */
static void
answer_entries (DiscoveryAnswer *answer, GPtrArray *entries)
{
  GString *out = g_string_sized_new (128 * entries->len + 2);

  g_string_append_c (out, '[');
  for (guint i = 0; i < entries->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      berth_kv_entry_append_json (g_ptr_array_index (entries, i), out, TRUE);
    }
  g_string_append_c (out, ']');
  answer->raw = g_string_free_to_bytes (out);
  answer->content_type = "application/json";
}

static JsonNode *
keys_to_json (GPtrArray *keys)
{
  JsonArray *array = json_array_sized_new (keys->len);
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < keys->len; i++)
    {
      const char *key = g_ptr_array_index (keys, i);
      if (g_utf8_validate (key, -1, NULL))
        json_array_add_string_element (array, key);
      else
        {
          g_autofree char *valid = g_utf8_make_valid (key, -1);
          json_array_add_string_element (array, valid);
        }
    }
  json_node_take_array (node, array);
  return node;
}

/* Leaves out of a list of entries or of key names what the caller may not
 * read (Consul's filter: the answer then says it was filtered). */
static void
filter_entries (BerthRequest *req, GPtrArray *entries)
{
  for (guint i = entries->len; i > 0; i--)
    if (!berth_request_may_read (req, "key", berth_kv_entry_get_key (g_ptr_array_index (entries, i - 1))))
      g_ptr_array_remove_index (entries, i - 1);
}

static void
filter_keys (BerthRequest *req, GPtrArray *keys)
{
  for (guint i = keys->len; i > 0; i--)
    if (!berth_request_may_read (req, "key", g_ptr_array_index (keys, i - 1)))
      g_ptr_array_remove_index (keys, i - 1);
}

static gboolean
kv_read (BerthRequest *req, gpointer user_data, DiscoveryAnswer *answer, GError **error)
{
  KvRead *r = user_data;
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));
  g_autoptr(GError) local_error = NULL;

  if (r->keys || r->recurse)
    {
      answer->index = discovery_kv_index (store, r->key, FALSE, error);
      if (answer->index == 0)
        return FALSE;
    }

  if (r->keys)
    {
      g_autoptr(GPtrArray) keys = discovery_kv_keys (store, r->key, r->separator, error);
      if (keys == NULL)
        return FALSE;
      filter_keys (req, keys);
      answer->status = keys->len > 0 ? 200 : 404;
      if (keys->len > 0)
        answer->json = keys_to_json (keys);
      return TRUE;
    }
  if (r->recurse)
    {
      g_autoptr(GPtrArray) entries = discovery_kv_list (store, r->key, error);
      if (entries == NULL)
        return FALSE;
      filter_entries (req, entries);
      answer->status = entries->len > 0 ? 200 : 404;
      if (entries->len > 0)
        answer_entries (answer, entries);
      return TRUE;
    }

  {
    g_autoptr(BerthKvEntry) entry = discovery_kv_get (store, r->key, &local_error);
    g_autoptr(GPtrArray) one = NULL;

    if (entry == NULL)
      {
        if (!g_error_matches (local_error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
          {
            g_propagate_error (error, g_steal_pointer (&local_error));
            return FALSE;
          }
        /* Consul answers a missing key with 404 and no body */
        answer->status = 404;
        answer->index = discovery_kv_index (store, r->key, TRUE, error);
        return answer->index != 0;
      }
    /* a write clears the key's tombstone: the entry's own index is the
     * newest thing a read of it can see */
    answer->status = 200;
    answer->index = berth_kv_entry_get_modify_index (entry);
    if (r->raw)
      {
        GBytes *value = berth_kv_entry_get_value (entry);
        answer->raw = value != NULL ? g_bytes_ref (value) : g_bytes_new (NULL, 0);
        return TRUE;
      }
    one = g_ptr_array_new_with_free_func (g_object_unref);
    g_ptr_array_add (one, g_steal_pointer (&entry));
    answer_entries (answer, one);
    return TRUE;
  }
}

static void
kv_get_cb (BerthRequest *req, gpointer user_data)
{
  KvRead *r = g_new0 (KvRead, 1);
  g_autoptr(GError) error = NULL;

  r->key = g_strdup (berth_request_get_param (req, "_key"));
  /* an invalid value is refused by discovery_blocking_serve() */
  berth_request_get_query_boolean (req, "recurse", &r->recurse, NULL);
  berth_request_get_query_boolean (req, "keys", &r->keys, NULL);
  /* a read of one key needs `key` read on it; a list (?recurse, ?keys)
   * names a prefix, not a key: it answers the keys under it the caller
   * may read, as Consul does */
  if (!r->recurse && !r->keys &&
      !berth_request_authorize (req, "key", r->key, BERTH_ACCESS_READ, &error))
    {
      kv_read_free (r);
      berth_request_respond_error (req, error);
      return;
    }
  berth_request_get_query_boolean (req, "raw", &r->raw, NULL);
  r->separator = g_strdup (berth_request_get_query (req, "separator"));
  discovery_blocking_serve (req, "kv", r->key, kv_read, r, (GDestroyNotify) kv_read_free);
}

/* A write from a KV request: the op, and the request to answer. */
typedef struct {
  KvOp          op;
  BerthRequest *request;
} KvWrite;

static void
kv_write_free (KvWrite *w)
{
  kv_op_clear (&w->op);
  g_clear_object (&w->request);
  g_free (w);
}

static gboolean
kv_write_func (BerthTxn *txn, gpointer user_data, GError **error)
{
  KvWrite *w = user_data;
  return discovery_kv_apply (txn, &w->op, NULL, error);
}

static void
kv_write_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(BerthRequest) req = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = json_node_new (JSON_NODE_VALUE);
  guint64 index;

  index = berth_store_write_finish (BERTH_STORE (source), result, &error);
  if (index == 0 && !g_error_matches (error, BERTH_ERROR, BERTH_ERROR_CONFLICT))
    {
      berth_request_respond_error (req, error);
      return;
    }
  /* a failed cas is an answer, not an error: false */
  json_node_set_boolean (answer, error == NULL);
  berth_request_set_index (req, index > 0 ? index : berth_store_get_index (BERTH_STORE (source)));
  berth_request_respond_json (req, 200, answer);
}

static void
submit (BerthRequest *req, KvWrite *w)
{
  BerthStore *store = berth_context_get_store (berth_request_get_context (req));

  berth_store_write_async (store, kv_write_func, w, (GDestroyNotify) kv_write_free,
                           NULL, kv_write_done_cb, g_object_ref (req));
}

/* ?cas=N: present means check-and-set, so it needs its index (an empty
 * value would otherwise turn into 0, "only if the key does not exist"). */
static gboolean
cas_param (BerthRequest *req, guint64 *cas, GError **error)
{
  const char *value = berth_request_get_query (req, "cas");

  if (value != NULL && *value == '\0')
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                           _("Invalid value for “cas”: an index is required (0 to create only)"));
      return FALSE;
    }
  return berth_request_get_query_uint64 (req, "cas", 0, cas, error);
}

/* ?acquire=<session> / ?release=<session>: the lock verbs. An empty or
 * unknown session is refused (400); whether the lock was taken or given
 * back is the answer, true or false. */
static gboolean
lock_param (BerthRequest *req, KvOp *op, GError **error)
{
  gboolean acquire = berth_request_has_query (req, "acquire");
  gboolean release = berth_request_has_query (req, "release");
  const char *session;

  if (!acquire && !release)
    return TRUE;
  if (acquire && release)
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                           _("“acquire” and “release” cannot be used together"));
      return FALSE;
    }
  session = berth_request_get_query (req, acquire ? "acquire" : "release");
  if (session == NULL || *session == '\0')
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Invalid value for “%s”: a session id is required"),
                   acquire ? "acquire" : "release");
      return FALSE;
    }
  op->verb = acquire ? KV_VERB_LOCK : KV_VERB_UNLOCK;
  op->session = g_strdup (session);
  return TRUE;
}

static void
kv_put_cb (BerthRequest *req, gpointer user_data)
{
  DiscoveryPlugin *plugin = user_data;
  const char *key = berth_request_get_param (req, "key");
  g_autoptr(GError) error = NULL;
  GBytes *body = berth_request_get_body (req);
  guint64 max = discovery_plugin_get_max_value_bytes (plugin);
  guint64 flags = 0, cas = 0;
  KvWrite *w;

  if (key == NULL || *key == '\0')
    {
      berth_request_respond_message (req, 400, _("Missing key name"));
      return;
    }
  if (!discovery_kv_check_key (key, discovery_plugin_get_max_key_bytes (plugin), &error) ||
      !berth_request_get_query_uint64 (req, "flags", 0, &flags, &error) ||
      !cas_param (req, &cas, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (g_bytes_get_size (body) > max)
    {
      g_autofree char *text = g_strdup_printf (_("Value of %" G_GSIZE_FORMAT " bytes exceeds the "
                                                 "%" G_GUINT64_FORMAT " byte limit"),
                                               g_bytes_get_size (body), max);
      berth_request_respond_message (req, 413, text);
      return;
    }

  w = g_new0 (KvWrite, 1);
  w->op.verb = berth_request_has_query (req, "cas") ? KV_VERB_CAS : KV_VERB_SET;
  w->op.key = g_strdup (key);
  w->op.value = g_bytes_ref (body);
  w->op.flags = flags;
  w->op.index = cas;
  if (!lock_param (req, &w->op, &error))
    {
      kv_write_free (w);
      berth_request_respond_error (req, error);
      return;
    }
  submit (req, w);
}

static void
kv_delete_cb (BerthRequest *req, gpointer user_data)
{
  const char *key = berth_request_get_param (req, "key");
  g_autoptr(GError) error = NULL;
  guint64 cas = 0;
  gboolean recurse = FALSE;
  KvWrite *w;

  if (!berth_request_get_query_boolean (req, "recurse", &recurse, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  if (!recurse && (key == NULL || *key == '\0'))
    {
      berth_request_respond_message (req, 400, _("Missing key name"));
      return;
    }
  if (!cas_param (req, &cas, &error))
    {
      berth_request_respond_error (req, error);
      return;
    }
  w = g_new0 (KvWrite, 1);
  if (recurse)
    w->op.verb = KV_VERB_DELETE_TREE;
  else if (berth_request_has_query (req, "cas"))
    w->op.verb = KV_VERB_DELETE_CAS;
  else
    w->op.verb = KV_VERB_DELETE;
  w->op.key = g_strdup (key != NULL ? key : "");
  w->op.index = cas;
  if (!discovery_kv_authorize_op (req, &w->op, &error))
    {
      kv_write_free (w);
      berth_request_respond_error (req, error);
      return;
    }
  submit (req, w);
}

static const BerthRouteSpec kv_routes[] = {
  /* `*_key`: a read's path may name a prefix, checked in the handler */
  { BERTH_METHOD_GET, "/v1/kv/*_key", "key", BERTH_ACCESS_READ, kv_get_cb },
  { BERTH_METHOD_PUT, "/v1/kv/*key", "key", BERTH_ACCESS_WRITE, kv_put_cb },
  { BERTH_METHOD_DELETE, "/v1/kv/*key", "key", BERTH_ACCESS_WRITE, kv_delete_cb },
};

void
discovery_kv_http_add_routes (DiscoveryPlugin *plugin)
{
  discovery_wan_add_routes (plugin, kv_routes, G_N_ELEMENTS (kv_routes));
}
