/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>

#include <berth.h>

#include "runtime-registry.h"

/* A client for the OCI distribution (Docker registry HTTP API v2):
 * manifests and blobs, with anonymous access, Bearer tokens obtained from
 * the realm named in a `WWW-Authenticate` challenge, and basic auth. It is
 * synchronous and meant for a worker thread: each thread has its own
 * client (and SoupSession). */

#define DOCKER_HUB "docker.io"
#define MAX_MANIFEST_BYTES (4 * 1024 * 1024)
#define MAX_TOKEN_BYTES (1024 * 1024)
#define DOCKER_HUB_API "registry-1.docker.io"

struct _RuntimeRegistry {
  SoupSession *session;
  char        *registry;
  char        *base;       /* scheme://host[:port] */
  char        *username;
  char        *password;
  char        *authorization;  /* header value that worked last */
};

/* ------------------------------------------------------------ references */

void
runtime_image_ref_free (RuntimeImageRef *ref)
{
  if (ref == NULL)
    return;
  g_free (ref->registry);
  g_free (ref->repository);
  g_free (ref->tag);
  g_free (ref->digest);
  g_free (ref);
}

static gboolean
valid_repository (const char *repo)
{
  if (*repo == '\0')
    return FALSE;
  for (const char *p = repo; *p; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || strchr ("._-/", *p) != NULL))
      return FALSE;
  return repo[0] != '/' && !g_str_has_suffix (repo, "/") && strstr (repo, "//") == NULL;
}

RuntimeImageRef *
runtime_image_ref_parse (const char *text, GError **error)
{
  g_autoptr(RuntimeImageRef) ref = g_new0 (RuntimeImageRef, 1);
  g_autofree char *rest = NULL;
  const char *slash, *at, *colon;

  if (text == NULL || *text == '\0' || strlen (text) > 1024)
    goto invalid;
  rest = g_strdup (text);

  at = strchr (rest, '@');
  if (at != NULL)
    {
      ref->digest = g_strdup (at + 1);
      rest[at - rest] = '\0';
      if (!runtime_digest_is_valid (ref->digest))
        goto invalid;
    }
  slash = strchr (rest, '/');
  if (slash != NULL)
    {
      g_autofree char *first = g_strndup (rest, (gsize) (slash - rest));
      if (strchr (first, '.') != NULL || strchr (first, ':') != NULL ||
          strcmp (first, "localhost") == 0)
        {
          ref->registry = g_steal_pointer (&first);
          memmove (rest, slash + 1, strlen (slash + 1) + 1);
        }
    }
  if (ref->registry == NULL)
    ref->registry = g_strdup (DOCKER_HUB);
  colon = strrchr (rest, ':');
  if (colon != NULL && strchr (colon, '/') == NULL)
    {
      ref->tag = g_strdup (colon + 1);
      rest[colon - rest] = '\0';
      if (*ref->tag == '\0' || strlen (ref->tag) > 128)
        goto invalid;
      for (const char *p = ref->tag; *p; p++)
        if (!(g_ascii_isalnum (*p) || strchr ("._-", *p) != NULL))
          goto invalid;
    }
  if (ref->tag == NULL && ref->digest == NULL)
    ref->tag = g_strdup ("latest");
  if (strcmp (ref->registry, DOCKER_HUB) == 0 && strchr (rest, '/') == NULL)
    ref->repository = g_strconcat ("library/", rest, NULL);
  else
    ref->repository = g_strdup (rest);
  if (!valid_repository (ref->repository))
    goto invalid;
  return g_steal_pointer (&ref);

invalid:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("Invalid image reference “%s”"),
               text != NULL ? text : "");
  return NULL;
}

char *
runtime_image_ref_to_string (const RuntimeImageRef *ref)
{
  GString *s = g_string_new (ref->registry);

  g_string_append_printf (s, "/%s", ref->repository);
  if (ref->tag != NULL)
    g_string_append_printf (s, ":%s", ref->tag);
  if (ref->digest != NULL)
    g_string_append_printf (s, "@%s", ref->digest);
  return g_string_free (s, FALSE);
}

const char *
runtime_host_arch (void)
{
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__i386__)
  return "386";
#elif defined(__powerpc64__)
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv)
  return "riscv64";
#else
  return "unknown";
#endif
}

/* -------------------------------------------------------------- client */

static gboolean
is_loopback (const char *registry)
{
  return g_str_has_prefix (registry, "127.") || g_str_has_prefix (registry, "localhost") ||
         g_str_has_prefix (registry, "[::1]");
}

RuntimeRegistry *
runtime_registry_new (const char *registry, gboolean insecure, const char *username,
                      const char *password)
{
  RuntimeRegistry *self = g_new0 (RuntimeRegistry, 1);
  const char *host = strcmp (registry, DOCKER_HUB) == 0 ? DOCKER_HUB_API : registry;

  self->session = soup_session_new_with_options ("timeout", 60, "idle-timeout", 30,
                                                 "user-agent", "berth/" BERTH_VERSION, NULL);
  self->registry = g_strdup (registry);
  self->base = g_strdup_printf ("%s://%s", insecure || is_loopback (registry) ? "http" : "https",
                                host);
  self->username = g_strdup (username);
  self->password = g_strdup (password);
  return self;
}

void
runtime_registry_free (RuntimeRegistry *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->session);
  g_free (self->registry);
  g_free (self->base);
  g_free (self->username);
  g_free (self->password);
  g_free (self->authorization);
  g_free (self);
}

/* Parses `Bearer realm="...",service="...",scope="..."` into a table. */
static GHashTable *
parse_challenge (const char *header, char **scheme)
{
  GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *space = strchr (header, ' ');
  const char *p;

  *scheme = g_ascii_strdown (header, space != NULL ? space - header : -1);
  if (space == NULL)
    return params;
  p = space + 1;
  while (*p)
    {
      const char *eq;
      g_autofree char *name = NULL;
      GString *value = g_string_new (NULL);

      while (*p == ' ' || *p == ',')
        p++;
      eq = strchr (p, '=');
      if (eq == NULL)
        {
          g_string_free (value, TRUE);
          break;
        }
      name = g_ascii_strdown (p, eq - p);
      p = eq + 1;
      if (*p == '"')
        {
          p++;
          while (*p && *p != '"')
            {
              if (*p == '\\' && p[1])
                p++;
              g_string_append_c (value, *p++);
            }
          if (*p == '"')
            p++;
        }
      else
        while (*p && *p != ',')
          g_string_append_c (value, *p++);
      g_hash_table_replace (params, g_steal_pointer (&name), g_string_free (value, FALSE));
    }
  return params;
}

static char *
basic_header (RuntimeRegistry *self)
{
  g_autofree char *pair = NULL;
  g_autofree char *b64 = NULL;

  if (self->username == NULL)
    return NULL;
  pair = g_strdup_printf ("%s:%s", self->username, self->password != NULL ? self->password : "");
  b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
  return g_strdup_printf ("Basic %s", b64);
}

/* Reads @stream to its end, refusing more than @max bytes (a hostile
 * server could send a manifest or a token reply that never ends). */
static GBytes *
read_bounded (GInputStream *stream, gsize max, const char *what, GCancellable *cancellable,
              GError **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint8 buf[16384];
  gssize n;

  while ((n = g_input_stream_read (stream, buf, sizeof buf, cancellable, error)) > 0)
    {
      if (data->len + (gsize) n > max)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("%s is too large (over %" G_GSIZE_FORMAT " bytes)"),
                       what, max);
          return NULL;
        }
      g_byte_array_append (data, buf, (guint) n);
    }
  if (n < 0)
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

/* Answers a 401: works out the Authorization header to retry with. */
static gboolean
authenticate (RuntimeRegistry *self, SoupMessage *failed, GCancellable *cancellable, GError **error)
{
  const char *header = soup_message_headers_get_one (soup_message_get_response_headers (failed),
                                                     "WWW-Authenticate");
  g_autofree char *scheme = NULL;
  g_autoptr(GHashTable) params = NULL;

  if (header == NULL)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                   _("Registry %s refused access without a challenge"), self->registry);
      return FALSE;
    }
  params = parse_challenge (header, &scheme);
  if (strcmp (scheme, "basic") == 0)
    {
      g_free (self->authorization);
      self->authorization = basic_header (self);
      if (self->authorization == NULL)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                       _("Registry %s needs a user name and password"), self->registry);
          return FALSE;
        }
      return TRUE;
    }
  if (strcmp (scheme, "bearer") == 0)
    {
      const char *realm = g_hash_table_lookup (params, "realm");
      const char *service = g_hash_table_lookup (params, "service");
      const char *scope = g_hash_table_lookup (params, "scope");
      g_autoptr(GString) url = NULL;
      g_autoptr(SoupMessage) msg = NULL;
      g_autoptr(GInputStream) stream = NULL;
      g_autoptr(GBytes) body = NULL;
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *basic = basic_header (self);
      JsonObject *obj;
      const char *token = NULL;

      if (realm == NULL || !(g_str_has_prefix (realm, "https://") || g_str_has_prefix (realm, "http://")))
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                       _("Registry %s sent a Bearer challenge without a usable realm"),
                       self->registry);
          return FALSE;
        }
      url = g_string_new (realm);
      g_string_append_c (url, strchr (realm, '?') != NULL ? '&' : '?');
      if (service != NULL)
        {
          g_autofree char *esc = g_uri_escape_string (service, NULL, FALSE);
          g_string_append_printf (url, "service=%s&", esc);
        }
      if (scope != NULL)
        {
          g_autofree char *esc = g_uri_escape_string (scope, NULL, FALSE);
          g_string_append_printf (url, "scope=%s&", esc);
        }
      g_string_truncate (url, url->len - 1);
      msg = soup_message_new ("GET", url->str);
      if (msg == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("Invalid token realm %s"),
                       realm);
          return FALSE;
        }
      if (basic != NULL)
        soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", basic);
      stream = soup_session_send (self->session, msg, cancellable, error);
      if (stream == NULL)
        return FALSE;
      body = read_bounded (stream, MAX_TOKEN_BYTES, _("The token reply"), cancellable, error);
      if (body == NULL)
        return FALSE;
      if (soup_message_get_status (msg) != SOUP_STATUS_OK)
        {
          g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                       _("Token endpoint %s answered %u"), realm, soup_message_get_status (msg));
          return FALSE;
        }
      root = berth_json_parse_bytes (body, error);
      if (root == NULL)
        return FALSE;
      if (!JSON_NODE_HOLDS_OBJECT (root))
        goto bad_token;
      obj = json_node_get_object (root);
      if (json_object_has_member (obj, "token"))
        token = json_object_get_string_member_with_default (obj, "token", NULL);
      if (token == NULL && json_object_has_member (obj, "access_token"))
        token = json_object_get_string_member_with_default (obj, "access_token", NULL);
      if (token == NULL || *token == '\0')
        goto bad_token;
      g_free (self->authorization);
      self->authorization = g_strdup_printf ("Bearer %s", token);
      return TRUE;

bad_token:
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                   _("Token endpoint %s gave no token"), realm);
      return FALSE;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               _("Registry %s asks for unsupported authentication “%s”"), self->registry, scheme);
  return FALSE;
}

/* Sends a request, authenticating once on 401. Returns the response
 * stream; *out_msg holds the message (status, headers). */
static GInputStream *
send_request (RuntimeRegistry *self, const char *path, const char *accept, goffset range_from,
              SoupMessage **out_msg, GCancellable *cancellable, GError **error)
{
  g_autofree char *url = g_strconcat (self->base, path, NULL);

  for (int attempt = 0; attempt < 2; attempt++)
    {
      g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
      SoupMessageHeaders *headers;
      g_autoptr(GInputStream) stream = NULL;

      if (msg == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("Invalid URL %s"), url);
          return NULL;
        }
      headers = soup_message_get_request_headers (msg);
      if (accept != NULL)
        soup_message_headers_replace (headers, "Accept", accept);
      if (self->authorization != NULL)
        soup_message_headers_replace (headers, "Authorization", self->authorization);
      if (range_from > 0)
        soup_message_headers_set_range (headers, range_from, -1);
      stream = soup_session_send (self->session, msg, cancellable, error);
      if (stream == NULL)
        return NULL;
      if (soup_message_get_status (msg) == SOUP_STATUS_UNAUTHORIZED && attempt == 0)
        {
          if (!authenticate (self, msg, cancellable, error))
            return NULL;
          continue;
        }
      *out_msg = g_steal_pointer (&msg);
      return g_steal_pointer (&stream);
    }
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
               _("Registry %s refused the credentials"), self->registry);
  return NULL;
}

static gboolean
check_status (RuntimeRegistry *self, SoupMessage *msg, const char *what, GError **error)
{
  guint status = soup_message_get_status (msg);

  if (status == SOUP_STATUS_OK || status == SOUP_STATUS_PARTIAL_CONTENT)
    return TRUE;
  if (status == SOUP_STATUS_NOT_FOUND)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("%s not found on %s"), what,
                 self->registry);
  else if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE, _("Access to %s on %s denied"),
                 what, self->registry);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Registry %s answered %u for %s"),
                 self->registry, status, what);
  return FALSE;
}

GBytes *
runtime_registry_get_manifest (RuntimeRegistry *self, const char *repository, const char *reference,
                               char **out_media_type, char **out_digest,
                               GCancellable *cancellable, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/v2/%s/manifests/%s", repository, reference);
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autofree char *what = g_strdup_printf ("%s:%s", repository, reference);
  g_autofree char *digest = NULL;
  const char *ctype;
  GBytes *bytes;

  stream = send_request (self, path,
                         RUNTIME_MT_OCI_INDEX ", " RUNTIME_MT_DOCKER_LIST ", "
                         RUNTIME_MT_OCI_MANIFEST ", " RUNTIME_MT_DOCKER_MANIFEST,
                         0, &msg, cancellable, error);
  if (stream == NULL)
    return NULL;
  if (!check_status (self, msg, what, error))
    return NULL;
  {
    g_autofree char *label = g_strdup_printf (_("Manifest %s"), what);
    bytes = read_bounded (stream, MAX_MANIFEST_BYTES, label, cancellable, error);
  }
  if (bytes == NULL)
    return NULL;
  digest = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  if (g_str_has_prefix (reference, "sha256:") && strcmp (reference + 7, digest) != 0)
    {
      g_bytes_unref (bytes);
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE,
                   _("Manifest %s does not match its digest"), what);
      return NULL;
    }
  ctype = soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL);
  *out_media_type = g_strdup (ctype);
  *out_digest = g_strconcat ("sha256:", digest, NULL);
  return bytes;
}

gboolean
runtime_registry_fetch_blob (RuntimeRegistry *self, const char *repository, const char *digest,
                             RuntimeBlobs *blobs, RuntimeProgressFunc progress,
                             gpointer progress_data, GCancellable *cancellable, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/v2/%s/blobs/%s", repository, digest);
  g_autoptr(RuntimeBlobWriter) writer = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autofree char *committed = NULL;
  g_autofree char *short_id = g_strndup (digest + 7, 12);
  g_autoptr(GError) local_error = NULL;
  goffset done = 0;
  goffset total;
  gint64 last = 0;
  char buf[65536];
  gssize n;

  if (runtime_blobs_has (blobs, digest))
    {
      if (progress != NULL)
        progress (short_id, "Already exists", 0, 0, progress_data);
      return TRUE;
    }
  writer = runtime_blob_writer_open (blobs, digest, &done, &local_error);
  if (writer == NULL)
    {
      /* another pull wrote it meanwhile */
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        {
          if (progress != NULL)
            progress (short_id, "Already exists", 0, 0, progress_data);
          return TRUE;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  stream = send_request (self, path, NULL, done, &msg, cancellable, error);
  if (stream == NULL)
    return FALSE;
  if (!check_status (self, msg, digest, error))
    {
      runtime_blob_writer_discard (writer);
      return FALSE;
    }
  if (done > 0 && soup_message_get_status (msg) != SOUP_STATUS_PARTIAL_CONTENT)
    {
      /* the server ignored the range: start over */
      g_clear_pointer (&writer, runtime_blob_writer_free);
      writer = runtime_blob_writer_open (blobs, digest, NULL, &local_error);
      if (writer == NULL)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
            return TRUE;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      done = 0;
    }
  else if (done > 0 && progress != NULL)
    progress (short_id, "Resuming", (guint64) done, 0, progress_data);
  total = soup_message_headers_get_content_length (soup_message_get_response_headers (msg)) + done;

  while ((n = g_input_stream_read (stream, buf, sizeof buf, cancellable, error)) > 0)
    {
      gint64 now;

      if (!runtime_blob_writer_write (writer, buf, (gsize) n, error))
        return FALSE;
      done += n;
      now = g_get_monotonic_time ();
      if (progress != NULL && now - last > 200 * G_TIME_SPAN_MILLISECOND)
        {
          last = now;
          progress (short_id, "Downloading", (guint64) done, (guint64) total, progress_data);
        }
    }
  if (n < 0)
    return FALSE;   /* the partial file stays for a resume */
  committed = runtime_blob_writer_commit (writer, error);
  if (committed == NULL)
    return FALSE;
  if (progress != NULL)
    progress (short_id, "Download complete", (guint64) done, (guint64) done, progress_data);
  return TRUE;
}
