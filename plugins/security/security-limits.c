/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "security-limits.h"

/* Rate limits: a token bucket per client address (the IP, not the port)
 * and one per ACL token. A bucket holds up to `burst` tokens, refills at
 * `rate` tokens a second, and every call takes one; a call that finds its
 * bucket empty is refused with BERTH_ERROR_RATE_LIMITED, and the caller
 * learns when the next token comes (the "berth-retry-after" data that
 * berth_request_respond_error() turns into Retry-After).
 *
 * Callers on the unix socket (local processes, already trusted by file
 * permissions) and plugins' own calls are not limited.
 *
 * Memory stays bounded: a bucket idle long enough to be full again is the
 * same as no bucket and is forgotten, and each table holds at most
 * MAX_BUCKETS entries (the least recently used goes first). */

#define MAX_BUCKETS       16384
#define MAX_IDLE_US       (120 * G_USEC_PER_SEC)
#define LOG_EVERY_US      (60 * G_USEC_PER_SEC)

#define DEFAULT_RATE        200
#define DEFAULT_BURST       400
#define DEFAULT_TOKEN_RATE  1000
#define DEFAULT_TOKEN_BURST 2000

typedef struct {
  char   *key;
  double  tokens;
  gint64  last_us;    /* monotonic time of the last refill */
  gint64  logged_us;  /* when its throttling was last logged, or 0 */
  GList   link;       /* in Table.lru, least recently used first */
} Bucket;

typedef struct {
  const char *what;   /* "address", "token": for the message */
  double      rate;   /* tokens a second; 0: no limit */
  double      burst;
  gint64      idle_us;
  GHashTable *buckets; /* key -> Bucket (owned) */
  GQueue      lru;
} Table;

struct _SecurityLimits {
  GObject       parent_instance;
  BerthContext *context;
  GMutex        lock;
  Table         address;
  Table         token;
};

G_DEFINE_FINAL_TYPE (SecurityLimits, security_limits, G_TYPE_OBJECT)

static void
bucket_free (Bucket *b)
{
  g_free (b->key);
  g_free (b);
}

static void
table_init (Table *t, const char *what)
{
  t->what = what;
  t->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) bucket_free);
  g_queue_init (&t->lru);
}

static void
table_clear (Table *t)
{
  g_queue_init (&t->lru);
  g_hash_table_remove_all (t->buckets);
}

static void
table_configure (Table *t, guint64 rate, guint64 burst)
{
  t->rate = (double) rate;
  /* a burst below one token would refuse everything */
  t->burst = (double) MAX (burst, 1);
  /* after burst/rate seconds of silence a bucket is full again: the same
   * as no bucket at all */
  t->idle_us = rate > 0 ? (gint64) MIN ((double) MAX_IDLE_US, t->burst / t->rate * G_USEC_PER_SEC + 1)
                        : 0;
  table_clear (t);
}

static void
table_remove (Table *t, Bucket *b)
{
  g_queue_unlink (&t->lru, &b->link);
  g_hash_table_remove (t->buckets, b->key);
}

/* Takes a token from @key's bucket. FALSE when there is none; then
 * @retry_after is the number of seconds until there is one (at least 1),
 * and @log is set when this client's throttling is worth a log line (once
 * a minute at most). */
static gboolean
table_take (Table *t, const char *key, gint64 now_us, guint *retry_after, gboolean *log)
{
  Bucket *b;

  if (t->rate <= 0)
    return TRUE;
  /* forget the buckets that have been idle long enough to be full */
  while (t->lru.head != NULL)
    {
      Bucket *oldest = t->lru.head->data;
      if (now_us - oldest->last_us < t->idle_us)
        break;
      table_remove (t, oldest);
    }
  b = g_hash_table_lookup (t->buckets, key);
  if (b == NULL)
    {
      if (g_hash_table_size (t->buckets) >= MAX_BUCKETS)
        table_remove (t, t->lru.head->data);
      b = g_new0 (Bucket, 1);
      b->key = g_strdup (key);
      b->tokens = t->burst;
      b->last_us = now_us;
      b->link.data = b;
      g_hash_table_insert (t->buckets, b->key, b);
    }
  else
    {
      g_queue_unlink (&t->lru, &b->link);
      b->tokens = MIN (t->burst, b->tokens + (double) (now_us - b->last_us) * t->rate / G_USEC_PER_SEC);
      b->last_us = now_us;
    }
  g_queue_push_tail_link (&t->lru, &b->link);
  if (b->tokens >= 1.0)
    {
      b->tokens -= 1.0;
      return TRUE;
    }
  {
    double wait = (1.0 - b->tokens) / t->rate;
    guint seconds = (guint) MIN (wait, 3600.0);

    if ((double) seconds < wait)
      seconds++;
    *retry_after = MAX (seconds, 1);
  }
  if (b->logged_us == 0 || now_us - b->logged_us >= LOG_EVERY_US)
    {
      b->logged_us = now_us;
      *log = TRUE;
    }
  return FALSE;
}

/* The IP of "ip:port", "[ip6]:port", or the whole text otherwise. */
static char *
address_ip (const char *address)
{
  const char *colon;

  if (address == NULL)
    return g_strdup ("");
  if (address[0] == '[')
    {
      const char *end = strchr (address, ']');
      if (end != NULL)
        return g_strndup (address + 1, (gsize) (end - address - 1));
    }
  colon = strrchr (address, ':');
  if (colon != NULL && strchr (address, ':') == colon)
    return g_strndup (address, (gsize) (colon - address));
  return g_strdup (address);
}

static void
security_limits_finalize (GObject *object)
{
  SecurityLimits *self = SECURITY_LIMITS (object);

  g_queue_init (&self->address.lru);
  g_queue_init (&self->token.lru);
  g_clear_pointer (&self->address.buckets, g_hash_table_unref);
  g_clear_pointer (&self->token.buckets, g_hash_table_unref);
  g_mutex_clear (&self->lock);
  g_clear_object (&self->context);
  G_OBJECT_CLASS (security_limits_parent_class)->finalize (object);
}

static void
security_limits_class_init (SecurityLimitsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = security_limits_finalize;
}

static void
security_limits_init (SecurityLimits *self)
{
  g_mutex_init (&self->lock);
  table_init (&self->address, "address");
  table_init (&self->token, "token");
}

/**
 * security_limits_new:
 * @context: the daemon's context, for the `[security]` configuration
 *
 * Returns: (transfer full): the rate limits, configured from `[security]
 *   rate_limit`, `rate_burst`, `token_rate_limit` and `token_rate_burst`
 */
SecurityLimits *
security_limits_new (BerthContext *context)
{
  SecurityLimits *self;

  g_return_val_if_fail (BERTH_IS_CONTEXT (context), NULL);

  self = g_object_new (SECURITY_TYPE_LIMITS, NULL);
  self->context = g_object_ref (context);
  security_limits_reload (self);
  return self;
}

/**
 * security_limits_reload:
 * @self: the rate limits
 *
 * Reads the configuration again (SIGHUP); every bucket starts full.
 */
void
security_limits_reload (SecurityLimits *self)
{
  BerthContext *ctx;
  guint64 rate, burst, token_rate, token_burst;

  g_return_if_fail (SECURITY_IS_LIMITS (self));

  ctx = self->context;
  rate = berth_context_get_config_uint64 (ctx, "security", "rate_limit", DEFAULT_RATE);
  burst = berth_context_get_config_uint64 (ctx, "security", "rate_burst", MAX (DEFAULT_BURST, rate));
  token_rate = berth_context_get_config_uint64 (ctx, "security", "token_rate_limit", DEFAULT_TOKEN_RATE);
  token_burst = berth_context_get_config_uint64 (ctx, "security", "token_rate_burst",
                                                 MAX (DEFAULT_TOKEN_BURST, token_rate));
  g_mutex_lock (&self->lock);
  table_configure (&self->address, rate, burst);
  table_configure (&self->token, token_rate, token_burst);
  g_mutex_unlock (&self->lock);
  g_debug ("rate limits: %" G_GUINT64_FORMAT "/s (burst %" G_GUINT64_FORMAT ") per address, %"
           G_GUINT64_FORMAT "/s (burst %" G_GUINT64_FORMAT ") per token",
           rate, burst, token_rate, token_burst);
}

/**
 * security_limits_admit:
 * @self: the rate limits
 * @caller: who calls
 * @error: return location for the refusal
 *
 * Counts one call of @caller against its address's and its token's
 * buckets. When either is empty, the call is refused with
 * %BERTH_ERROR_RATE_LIMITED and the seconds until the next token are set
 * on @caller as the "berth-retry-after" data (a guint in a pointer).
 *
 * Returns: %TRUE when the call may go on
 */
gboolean
security_limits_admit (SecurityLimits *self, BerthCaller *caller, GError **error)
{
  BerthCallerKind kind;
  const char *token;
  g_autofree char *ip = NULL;
  g_autofree char *token_key = NULL;
  gint64 now_us = g_get_monotonic_time ();
  guint retry_after = 0;
  gboolean log = FALSE;
  const char *over = NULL;

  g_return_val_if_fail (SECURITY_IS_LIMITS (self), FALSE);
  g_return_val_if_fail (BERTH_IS_CALLER (caller), FALSE);

  kind = berth_caller_get_kind (caller);
  if (kind == BERTH_CALLER_INTERNAL || kind == BERTH_CALLER_UNIX)
    return TRUE;
  if (kind == BERTH_CALLER_TCP || kind == BERTH_CALLER_TLS)
    ip = address_ip (berth_caller_get_address (caller));
  token = berth_caller_get_token (caller);
  /* the table keeps a digest, not the secret */
  if (token != NULL && *token != '\0')
    token_key = g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);

  g_mutex_lock (&self->lock);
  if (ip != NULL && !table_take (&self->address, ip, now_us, &retry_after, &log))
    over = self->address.what;
  else if (token_key != NULL && !table_take (&self->token, token_key, now_us, &retry_after, &log))
    over = self->token.what;
  g_mutex_unlock (&self->lock);

  if (over == NULL)
    return TRUE;
  g_object_set_data (G_OBJECT (caller), "berth-retry-after", GUINT_TO_POINTER (retry_after));
  /* who is throttled, in the log: once a minute per client at most */
  if (log && g_str_equal (over, "token"))
    g_message ("rate limit: throttling a token (SHA-256 %.12s…): over %g requests/s",
               token_key, self->token.rate);
  else if (log)
    g_message ("rate limit: throttling %s: over %g requests/s", ip, self->address.rate);
  if (g_str_equal (over, "token"))
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_RATE_LIMITED,
                 _("Too many requests with this token: retry in %u s"), retry_after);
  else
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_RATE_LIMITED,
                 _("Too many requests from %s: retry in %u s"), ip, retry_after);
  return FALSE;
}

guint
security_limits_size (SecurityLimits *self)
{
  guint n;

  g_return_val_if_fail (SECURITY_IS_LIMITS (self), 0);

  g_mutex_lock (&self->lock);
  n = g_hash_table_size (self->address.buckets) + g_hash_table_size (self->token.buckets);
  g_mutex_unlock (&self->lock);
  return n;
}
