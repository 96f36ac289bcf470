/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "discovery-blocking.h"
#include "discovery-query.h"

/* Consul's blocking queries: `?index=N&wait=D` holds a read until what it
 * reads changes past index N, or D (default 5 min, at most 10 min, plus up
 * to D/16 of jitter) has passed; then it answers as usual. Every read
 * endpoint answers through discovery_blocking_serve(), so that all of them
 * block the same way.
 *
 * Each client address may hold at most `[security] max_blocking_per_client`
 * blocking queries at once (default 64, 0: no cap); one more is answered
 * 429. The counts live on the context, as the "discovery-blocking-clients"
 * data: client IP -> queries held. */

#define DEFAULT_WAIT_MS (5 * 60 * 1000)
#define MAX_WAIT_MS     (10 * 60 * 1000)
#define DEFAULT_MAX_PER_CLIENT 64
#define CLIENTS_KEY     "discovery-blocking-clients"

typedef struct {
  BerthRequest      *request;
  char              *topic;
  char              *prefix;
  DiscoveryReadFunc  read;
  gpointer           user_data;
  GDestroyNotify     destroy;
  guint64            min_index;
  gint64             deadline_us;   /* monotonic */
  char              *client;        /* the IP counted in CLIENTS_KEY, or NULL */
} Query;

/* The IP of a caller's "ip:port" or "[ip6]:port"; NULL for callers
 * without an address (the unix socket, plugins). */
static char *
client_ip (BerthRequest *request)
{
  BerthCaller *caller = berth_request_get_caller (request);
  const char *address, *colon;
  BerthCallerKind kind;

  if (caller == NULL)
    return NULL;
  kind = berth_caller_get_kind (caller);
  if (kind != BERTH_CALLER_TCP && kind != BERTH_CALLER_TLS)
    return NULL;
  address = berth_caller_get_address (caller);
  if (address == NULL)
    return NULL;
  if (address[0] == '[' && strchr (address, ']') != NULL)
    return g_strndup (address + 1, (gsize) (strchr (address, ']') - address - 1));
  colon = strrchr (address, ':');
  if (colon != NULL && strchr (address, ':') == colon)
    return g_strndup (address, (gsize) (colon - address));
  return g_strdup (address);
}

static GHashTable *
clients_table (BerthContext *context)
{
  GHashTable *clients = g_object_get_data (G_OBJECT (context), CLIENTS_KEY);

  if (clients == NULL)
    {
      clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_object_set_data_full (G_OBJECT (context), CLIENTS_KEY, clients,
                              (GDestroyNotify) g_hash_table_unref);
    }
  return clients;
}

/* Counts one more blocking query for @q's client; FALSE (and nothing
 * counted) when the client already holds as many as allowed. */
static gboolean
client_hold (Query *q, GError **error)
{
  BerthContext *context = berth_request_get_context (q->request);
  guint64 max = berth_context_get_config_uint64 (context, "security", "max_blocking_per_client",
                                                 DEFAULT_MAX_PER_CLIENT);
  g_autofree char *ip = client_ip (q->request);
  GHashTable *clients;
  guint held;

  if (ip == NULL || max == 0)
    return TRUE;
  clients = clients_table (context);
  held = GPOINTER_TO_UINT (g_hash_table_lookup (clients, ip));
  if (held >= max)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_RATE_LIMITED,
                   _("Too many blocking queries from %s: at most %" G_GUINT64_FORMAT
                     " at once ([security] max_blocking_per_client)"), ip, max);
      return FALSE;
    }
  g_hash_table_insert (clients, g_strdup (ip), GUINT_TO_POINTER (held + 1));
  q->client = g_steal_pointer (&ip);
  return TRUE;
}

static void
client_release (Query *q)
{
  GHashTable *clients;
  guint held;

  if (q->client == NULL)
    return;
  clients = g_object_get_data (G_OBJECT (berth_request_get_context (q->request)), CLIENTS_KEY);
  held = clients != NULL ? GPOINTER_TO_UINT (g_hash_table_lookup (clients, q->client)) : 0;
  if (held > 1)
    g_hash_table_insert (clients, g_strdup (q->client), GUINT_TO_POINTER (held - 1));
  else if (clients != NULL)
    g_hash_table_remove (clients, q->client);
  g_clear_pointer (&q->client, g_free);
}

static void
query_free (Query *q)
{
  client_release (q);
  if (q->destroy != NULL)
    q->destroy (q->user_data);
  g_clear_object (&q->request);
  g_free (q->topic);
  g_free (q->prefix);
  g_free (q);
}

static void
answer_clear (DiscoveryAnswer *answer)
{
  g_clear_pointer (&answer->json, json_node_unref);
  g_clear_pointer (&answer->raw, g_bytes_unref);
}

static void
answer_send (BerthRequest *request, DiscoveryAnswer *answer)
{
  berth_request_set_index (request, answer->index);
  if (answer->json != NULL)
    berth_request_respond_json (request, answer->status, answer->json);
  else
    berth_request_respond (request, answer->status,
                           answer->raw == NULL ? NULL
                           : answer->content_type != NULL ? answer->content_type
                           : "application/octet-stream",
                           answer->raw);
}

/* Whether a read at @index answers a client that has seen @min_index (0:
 * not a blocking query): when the data is newer, or the wait is over. */
gboolean
discovery_blocking_ready (guint64 min_index, guint64 index, gboolean timed_out, gint64 remaining_us)
{
  return min_index == 0 || index > min_index || timed_out || remaining_us <= 0;
}

/* How long a blocking query that asked for @wait_ms waits: at most
 * MAX_WAIT_MS, plus up to 1/16 of jitter chosen by @random, which spreads
 * the wake-ups of many clients that started together. */
guint64
discovery_blocking_wait_ms (guint64 wait_ms, guint32 random)
{
  wait_ms = MIN (wait_ms, MAX_WAIT_MS);
  if (wait_ms >= 16)
    wait_ms += random % (wait_ms / 16);
  return wait_ms;
}

static void wait_done_cb (GObject *source, GAsyncResult *result, gpointer user_data);

/* Reads; answers if the data is newer than the client's index or the wait
 * is over, waits again otherwise. Takes ownership of @q. */
static void
query_step (Query *q, gboolean timed_out)
{
  DiscoveryAnswer answer = { .status = 200 };
  g_autoptr(GError) error = NULL;
  BerthStore *store = berth_context_get_store (berth_request_get_context (q->request));
  gint64 remaining_us;

  if (!q->read (q->request, q->user_data, &answer, &error))
    {
      answer_clear (&answer);
      berth_request_respond_error (q->request, error);
      query_free (q);
      return;
    }
  remaining_us = q->deadline_us - g_get_monotonic_time ();
  if (discovery_blocking_ready (q->min_index, answer.index, timed_out, remaining_us))
    {
      answer_send (q->request, &answer);
      answer_clear (&answer);
      query_free (q);
      return;
    }
  answer_clear (&answer);
  berth_store_wait_async (store, q->topic, q->prefix, q->min_index,
                          (guint) MAX (1, remaining_us / 1000),
                          berth_request_get_cancellable (q->request), wait_done_cb, q);
}

static void
wait_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Query *q = user_data;
  g_autoptr(GError) error = NULL;
  gboolean woken;

  woken = berth_store_wait_finish (BERTH_STORE (source), result, &error);
  if (error != NULL)
    {
      /* the client went away, or the store is closing */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        berth_request_respond_error (q->request, error);
      query_free (q);
      return;
    }
  query_step (q, !woken);
}

/* The boolean parameters of the reads: whichever read takes them, a
 * value that is not a boolean is refused here, before any read. */
static const char * const read_flags[] = {
  "recurse", "keys", "raw", "passing", "stale", "consistent", "cached", NULL
};

void
discovery_blocking_serve (BerthRequest *request, const char *topic, const char *prefix,
                          DiscoveryReadFunc read, gpointer user_data, GDestroyNotify destroy)
{
  Query *q = g_new0 (Query, 1);
  g_autoptr(GError) error = NULL;
  gboolean flags[G_N_ELEMENTS (read_flags)];
  guint64 wait_ms = 0;

  q->request = g_object_ref (request);
  q->topic = g_strdup (topic);
  q->prefix = g_strdup (prefix);
  q->read = read;
  q->user_data = user_data;
  q->destroy = destroy;

  if (!berth_request_get_query_uint64 (request, "index", 0, &q->min_index, &error) ||
      !berth_request_get_query_duration (request, "wait", DEFAULT_WAIT_MS, &wait_ms, &error) ||
      !discovery_query_flags (request, read_flags, flags, &error) ||
      !discovery_query_consistency (request, &error))
    {
      berth_request_respond_error (request, error);
      query_free (q);
      return;
    }
  if (q->min_index > 0 && !client_hold (q, &error))
    {
      berth_request_respond_error (request, error);
      query_free (q);
      return;
    }
  wait_ms = discovery_blocking_wait_ms (wait_ms, g_random_int ());
  q->deadline_us = g_get_monotonic_time () + (gint64) wait_ms * 1000;
  query_step (q, FALSE);
}
