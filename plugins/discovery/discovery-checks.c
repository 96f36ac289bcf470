/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "discovery-catalog.h"
#include "discovery-catalog-parse.h"
#include "discovery-checks.h"

/* The health-check runner. The checks of this node live in the store
 * (catalog_checks, with their definition); the runner follows the store's
 * "check" changes and keeps one timer per runnable check. Each check has a
 * BerthProbe (libberth's health-check engine, shared with the scheduler):
 * async on the main loop, no thread per check. A result becomes a store write only when the status or the output
 * changes. First runs are spread at random over the interval. */

#define MAX_OUTPUT       CATALOG_MAX_OUTPUT
#define DEFAULT_TIMEOUT  10000

typedef struct _Check Check;


struct _DiscoveryChecks {
  BerthContext *context;
  BerthStore   *store;
  char         *node;
  GHashTable   *checks;     /* id -> Check */
  GHashTable   *dirty;      /* ids to sync; "" for all */
  guint         sync_id;
  gulong        changed_id;
  guint         pending;    /* probes and writes in flight */
  guint        *in_flight;  /* probes started and not finished, removed
                               checks' included: shared with the checks,
                               which may outlive this (g_rc_box) */
};

struct _Check {
  gint             ref_count;
  DiscoveryChecks *owner;     /* NULL once removed */
  guint           *in_flight; /* the owner's probe count (g_rc_box) */
  char            *id;
  char            *definition;
  char            *type;
  char            *service_id;
  JsonObject      *def;
  guint64          interval_ms;
  guint64          timeout_ms;
  guint64          ttl_ms;
  guint64          dereg_ms;
  gint64           success_before;
  gint64           failures_before;

  BerthProbe      *probe;     /* NULL for TTL checks */

  guint            timer_id;
  GCancellable    *cancellable;
  char            *status;
  char            *output;
  gint64           successes;
  gint64           failures;
  gint64           critical_since;
  gboolean         deregistering;
};

static Check *
check_ref (Check *c)
{
  c->ref_count++;
  return c;
}

static void
check_unref (Check *c)
{
  if (--c->ref_count > 0)
    return;
  g_free (c->id);
  g_free (c->definition);
  g_free (c->type);
  g_free (c->service_id);
  g_clear_pointer (&c->def, json_object_unref);
  g_clear_object (&c->cancellable);
  g_clear_object (&c->probe);
  g_free (c->status);
  g_free (c->output);
  g_rc_box_release (c->in_flight);
  g_free (c);
}

/* Stops timers and probes; the check is dropped from the table after. */
static void
check_stop (Check *c)
{
  g_clear_handle_id (&c->timer_id, g_source_remove);
  if (c->cancellable != NULL)
    g_cancellable_cancel (c->cancellable);
  c->owner = NULL;
}

static void
check_drop (gpointer data)
{
  Check *c = data;
  check_stop (c);
  check_unref (c);
}

static guint64
def_duration (JsonObject *def, const char *name)
{
  guint64 ms = 0;
  const char *text = json_object_get_string_member_with_default (def, name, NULL);

  if (text != NULL)
    berth_parse_duration (text, &ms, NULL);
  return ms;
}

static void schedule (Check *c, guint64 delay_ms);

/* ---- results ---------------------------------------------------------- */

static void
write_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DiscoveryChecks *self = user_data;
  g_autoptr(GError) error = NULL;

  self->pending--;
  if (berth_store_write_finish (BERTH_STORE (source), result, &error) == 0 &&
      !g_error_matches (error, BERTH_ERROR, BERTH_ERROR_NOT_FOUND))
    g_warning ("checks: cannot record a check result: %s", error->message);
}

static void
maybe_deregister (Check *c)
{
  DiscoveryChecks *self = c->owner;
  CatalogDeregistration *d;

  if (c->dereg_ms == 0 || c->critical_since == 0 || c->deregistering || *c->service_id == '\0')
    return;
  if (g_get_monotonic_time () - c->critical_since < (gint64) c->dereg_ms * 1000)
    return;
  g_message ("checks: check %s critical for too long: deregistering service %s",
             c->id, c->service_id);
  c->deregistering = TRUE;
  d = g_new0 (CatalogDeregistration, 1);
  d->node = g_strdup (self->node);
  d->service_id = g_strdup (c->service_id);
  self->pending++;
  berth_store_write_async (self->store, catalog_write_deregister, d,
                           (GDestroyNotify) catalog_deregistration_free, NULL, write_done_cb, self);
}

static void
record (Check *c, const char *result, const char *output)
{
  DiscoveryChecks *self = c->owner;
  const char *status = result;
  g_autofree char *out = catalog_output_text (output);
  gboolean held = FALSE;

  if (self == NULL)
    return;
  /* SuccessBeforePassing / FailuresBeforeCritical: consecutive results
   * needed before the status moves */
  if (g_str_equal (result, CHECK_PASSING))
    {
      c->successes++;
      c->failures = 0;
      if (c->successes < c->success_before)
        held = TRUE;
    }
  else
    {
      c->failures++;
      c->successes = 0;
      if (c->failures < c->failures_before)
        held = TRUE;
    }
  if (held)
    {
      /* not enough in a row yet: the status (and its output) stay */
      maybe_deregister (c);
      return;
    }
  if (!g_str_equal (status, CHECK_CRITICAL))
    c->critical_since = 0;
  else if (c->critical_since == 0)
    c->critical_since = g_get_monotonic_time ();

  if (g_strcmp0 (status, c->status) != 0 || g_strcmp0 (out, c->output) != 0)
    {
      CatalogCheckUpdate *u = g_new0 (CatalogCheckUpdate, 1);

      if (g_strcmp0 (status, c->status) != 0)
        g_debug ("checks: %s is now %s", c->id, status);
      u->node = g_strdup (self->node);
      u->check_id = g_strdup (c->id);
      u->status = g_strdup (status);
      u->output = g_strdup (out);
      if (status != c->status)
        {
          g_free (c->status);
          c->status = g_strdup (status);
        }
      g_free (c->output);
      c->output = g_steal_pointer (&out);
      self->pending++;
      berth_store_write_async (self->store, catalog_write_check_update, u,
                               (GDestroyNotify) catalog_check_update_free, NULL, write_done_cb, self);
    }
  maybe_deregister (c);
}

/* The end of one probe: record and plan the next. */
static void
probe_done (Check *c, BerthHealth health, const char *output)
{
  (*c->in_flight)--;
  g_clear_object (&c->cancellable);
  if (c->owner != NULL)
    {
      record (c, berth_health_to_string (health), output);
      if (c->owner != NULL)
        schedule (c, c->interval_ms);
    }
  check_unref (c);
}

static void
probe_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Check *c = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  BerthHealth health = berth_probe_run_finish (BERTH_PROBE (source), result, &output, &error);

  /* only check_stop cancels: the check is gone, nothing to record */
  if (error != NULL && c->owner == NULL)
    {
      (*c->in_flight)--;
      g_clear_object (&c->cancellable);
      check_unref (c);
      return;
    }
  probe_done (c, health, output != NULL ? output : (error != NULL ? error->message : ""));
}

/* What a check definition asks to probe (HTTP, TCP or script). */
static BerthProbe *
probe_new (const char *type, JsonObject *def, guint64 timeout_ms)
{
  g_autoptr(BerthProbe) probe = NULL;

  if (g_str_equal (type, "http"))
    {
      JsonNode *header_node = json_object_get_member (def, "Header");
      JsonObject *headers = header_node != NULL && JSON_NODE_HOLDS_OBJECT (header_node)
                              ? json_node_get_object (header_node) : NULL;

      probe = berth_probe_new_http (json_object_get_string_member_with_default (def, "Method", "GET"),
                                    json_object_get_string_member_with_default (def, "HTTP", ""));
      if (headers != NULL)
        {
          JsonObjectIter iter;
          const char *name;
          JsonNode *values;

          json_object_iter_init (&iter, headers);
          while (json_object_iter_next (&iter, &name, &values))
            {
              JsonArray *list = JSON_NODE_HOLDS_ARRAY (values) ? json_node_get_array (values) : NULL;
              for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
                {
                  JsonNode *v = json_array_get_element (list, i);
                  if (JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING)
                    berth_probe_add_header (probe, name, json_node_get_string (v));
                }
            }
        }
      berth_probe_set_tls_skip_verify (probe,
                                       json_object_get_boolean_member_with_default (def, "TLSSkipVerify",
                                                                                    FALSE));
    }
  else if (g_str_equal (type, "tcp"))
    probe = berth_probe_new_tcp (json_object_get_string_member_with_default (def, "TCP", ""), 0);
  else
    {
      JsonNode *args_node = json_object_get_member (def, "Args");
      JsonArray *args = args_node != NULL && JSON_NODE_HOLDS_ARRAY (args_node)
                          ? json_node_get_array (args_node) : NULL;
      g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
      g_auto(GStrv) argv = NULL;

      for (guint i = 0; args != NULL && i < json_array_get_length (args); i++)
        {
          JsonNode *arg = json_array_get_element (args, i);
          if (JSON_NODE_HOLDS_VALUE (arg) && json_node_get_value_type (arg) == G_TYPE_STRING)
            g_strv_builder_add (b, json_node_get_string (arg));
        }
      argv = g_strv_builder_end (b);
      if (argv[0] == NULL)
        return NULL;
      probe = berth_probe_new_command ((const char * const *) argv);
    }
  berth_probe_set_timeout (probe, (guint) MIN (timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT, G_MAXUINT));
  berth_probe_set_max_output (probe, MAX_OUTPUT);
  return g_steal_pointer (&probe);
}

/* ---- scheduling ------------------------------------------------------- */

static gboolean
run_cb (gpointer user_data)
{
  Check *c = user_data;

  c->timer_id = 0;
  if (c->owner == NULL)
    return G_SOURCE_REMOVE;
  c->cancellable = g_cancellable_new ();
  (*c->in_flight)++;
  check_ref (c);
  if (c->probe == NULL)
    {
      probe_done (c, BERTH_HEALTH_CRITICAL, _("The check has nothing to run"));
      return G_SOURCE_REMOVE;
    }
  berth_probe_run_async (c->probe, c->cancellable, probe_cb, c);
  return G_SOURCE_REMOVE;
}

static gboolean
ttl_expired_cb (gpointer user_data)
{
  Check *c = user_data;

  c->timer_id = 0;
  if (c->owner == NULL)
    return G_SOURCE_REMOVE;
  record (c, CHECK_CRITICAL, "TTL expired");
  /* keep watching: DeregisterCriticalServiceAfter may still be due */
  if (c->owner != NULL && c->dereg_ms > 0 && !c->deregistering)
    c->timer_id = g_timeout_add ((guint) MIN (c->ttl_ms, c->dereg_ms), ttl_expired_cb, c);
  return G_SOURCE_REMOVE;
}

static void
schedule (Check *c, guint64 delay_ms)
{
  g_clear_handle_id (&c->timer_id, g_source_remove);
  if (g_str_equal (c->type, "ttl"))
    c->timer_id = g_timeout_add ((guint) c->ttl_ms, ttl_expired_cb, c);
  else
    c->timer_id = g_timeout_add ((guint) delay_ms, run_cb, c);
}

void
discovery_checks_ttl_refresh (DiscoveryChecks *self, const char *check_id)
{
  Check *c;

  if (self == NULL)
    return;
  c = g_hash_table_lookup (self->checks, check_id);
  if (c != NULL && g_str_equal (c->type, "ttl"))
    schedule (c, c->ttl_ms);
}

/* ---- following the store ---------------------------------------------- */

static gboolean
runnable (const char *type)
{
  return g_strcmp0 (type, "http") == 0 || g_strcmp0 (type, "tcp") == 0 ||
         g_strcmp0 (type, "script") == 0 || g_strcmp0 (type, "ttl") == 0;
}

static void
sync_check (DiscoveryChecks *self, const char *id)
{
  g_autoptr(CatalogCheck) row = catalog_get_check (self->store, self->node, id, NULL);
  g_autoptr(JsonNode) def = NULL;
  Check *c = g_hash_table_lookup (self->checks, id);

  if (row == NULL || !runnable (row->type) ||
      (g_str_equal (row->type, "script") && !catalog_script_checks_enabled (self->context)))
    {
      if (c != NULL)
        g_hash_table_remove (self->checks, id);
      return;
    }
  if (c != NULL && g_str_equal (c->definition, row->definition_json) &&
      g_str_equal (c->type, row->type))
    {
      /* same check: adopt a status set through the API */
      if (g_strcmp0 (c->status, row->status) != 0)
        {
          g_free (c->status);
          c->status = g_strdup (row->status);
          if (!g_str_equal (c->status, CHECK_CRITICAL))
            c->critical_since = 0;
          else if (c->critical_since == 0)
            c->critical_since = g_get_monotonic_time ();
        }
      g_free (c->output);
      c->output = g_strdup (row->output);
      g_free (c->service_id);
      c->service_id = g_strdup (row->service_id);
      return;
    }
  def = catalog_json_parse (row->definition_json);
  if (!JSON_NODE_HOLDS_OBJECT (def))
    return;
  if (c != NULL)
    g_hash_table_remove (self->checks, id);
  c = g_new0 (Check, 1);
  c->ref_count = 1;
  c->owner = self;
  c->in_flight = g_rc_box_acquire (self->in_flight);
  c->id = g_strdup (id);
  c->definition = g_strdup (row->definition_json);
  c->type = g_strdup (row->type);
  c->service_id = g_strdup (row->service_id);
  c->def = json_object_ref (json_node_get_object (def));
  c->interval_ms = MAX (def_duration (c->def, "Interval"), 100);
  c->timeout_ms = def_duration (c->def, "Timeout");
  c->ttl_ms = MAX (def_duration (c->def, "TTL"), 1);
  c->dereg_ms = def_duration (c->def, "DeregisterCriticalServiceAfter");
  c->success_before = json_object_get_int_member_with_default (c->def, "SuccessBeforePassing", 0);
  c->failures_before = json_object_get_int_member_with_default (c->def, "FailuresBeforeCritical", 0);
  if (!g_str_equal (c->type, "ttl"))
    c->probe = probe_new (c->type, c->def, c->timeout_ms);
  c->status = g_strdup (row->status);
  c->output = g_strdup (row->output);
  if (g_str_equal (c->status, CHECK_CRITICAL))
    c->critical_since = g_get_monotonic_time ();
  g_hash_table_insert (self->checks, c->id, c);
  g_debug ("checks: running %s check %s every %" G_GUINT64_FORMAT " ms", c->type, id,
           g_str_equal (c->type, "ttl") ? c->ttl_ms : c->interval_ms);
  /* spread first runs over the interval */
  schedule (c, (guint64) g_random_int_range (0, (gint32) MIN (c->interval_ms, G_MAXINT32)));
}

static void
sync_all (DiscoveryChecks *self)
{
  g_autoptr(GPtrArray) rows = catalog_list_checks (self->store, self->node, NULL, NULL, NULL);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->checks);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (ids, g_strdup (key));
  for (guint i = 0; rows != NULL && i < rows->len; i++)
    g_ptr_array_add (ids, g_strdup (((CatalogCheck *) g_ptr_array_index (rows, i))->id));
  for (guint i = 0; i < ids->len; i++)
    sync_check (self, g_ptr_array_index (ids, i));
}

static gboolean
sync_cb (gpointer user_data)
{
  DiscoveryChecks *self = user_data;
  g_autoptr(GHashTable) dirty = g_steal_pointer (&self->dirty);
  GHashTableIter iter;
  gpointer key;

  self->sync_id = 0;
  self->dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (g_hash_table_contains (dirty, ""))
    {
      sync_all (self);
      return G_SOURCE_REMOVE;
    }
  g_hash_table_iter_init (&iter, dirty);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    sync_check (self, key);
  return G_SOURCE_REMOVE;
}

static void
changed_cb (BerthStore *store, guint64 index, const char *topic, const char *key, gpointer user_data)
{
  DiscoveryChecks *self = user_data;

  if (g_strcmp0 (topic, "check") != 0)
    return;
  g_hash_table_add (self->dirty, g_strdup (key != NULL ? key : ""));
  if (self->sync_id == 0)
    self->sync_id = g_idle_add (sync_cb, self);
}

DiscoveryChecks *
discovery_checks_new (BerthContext *context)
{
  DiscoveryChecks *self = g_new0 (DiscoveryChecks, 1);

  self->context = context;
  self->store = g_object_ref (berth_context_get_store (context));
  self->node = g_strdup (berth_node_get_name (berth_context_get_node (context)));
  self->checks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, check_drop);
  self->in_flight = g_rc_box_new0 (guint);
  self->dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->changed_id = g_signal_connect (self->store, "changed", G_CALLBACK (changed_cb), self);
  /* after a restart the checks carry on from the store */
  sync_all (self);
  return self;
}

void
discovery_checks_free (DiscoveryChecks *self)
{
  gint64 deadline;

  if (self == NULL)
    return;
  g_clear_signal_handler (&self->changed_id, self->store);
  g_clear_handle_id (&self->sync_id, g_source_remove);
  g_hash_table_remove_all (self->checks);
  /* let cancelled probes and queued writes finish, briefly */
  deadline = g_get_monotonic_time () + G_USEC_PER_SEC;
  while ((self->pending > 0 || *self->in_flight > 0) && g_get_monotonic_time () < deadline)
    {
      berth_store_flush (self->store);
      g_main_context_iteration (NULL, FALSE);
    }
  g_clear_object (&self->store);
  g_hash_table_unref (self->checks);
  g_hash_table_unref (self->dirty);
  g_rc_box_release (self->in_flight);
  g_free (self->node);
  g_free (self);
}
