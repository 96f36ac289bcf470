/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <glib/gstdio.h>
#include <sanitizer/common_interface_defs.h>

#include "bd-config.h"
#include "bd-http.h"
#include "bd-log.h"
#include "bd-node.h"
#include "bd-plugins.h"
#include "bd-status.h"
#include "fuzz-common.h"
#include "berth-context-private.h"
#include "berth-plugin-private.h"

/* ---------------------------------------------------------------- log */

static gboolean verbose;

static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    {
      g_log_writer_standard_streams (level, fields, n_fields, user_data);
      fprintf (stderr, "fuzz: a critical was logged: treating it as a crash\n");
      abort ();
    }
  if (verbose)
    return g_log_writer_standard_streams (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

void
fuzz_log_install (void)
{
  verbose = g_strcmp0 (g_getenv ("BERTH_FUZZ_VERBOSE"), "1") == 0;
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
}

/* ---------------------------------------------------------------- no exec */

void
fuzz_forbid_exec (void)
{
#if defined(__x86_64__) || defined(__aarch64__)
# if defined(__x86_64__)
#  define FUZZ_AUDIT_ARCH AUDIT_ARCH_X86_64
# else
#  define FUZZ_AUDIT_ARCH AUDIT_ARCH_AARCH64
# endif
  struct sock_filter filter[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, FUZZ_AUDIT_ARCH, 1, 0),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 1, 0),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 0, 1),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { .len = G_N_ELEMENTS (filter), .filter = filter };

  if (g_strcmp0 (g_getenv ("BERTH_FUZZ_ALLOW_EXEC"), "1") == 0)
    {
      fprintf (stderr, "fuzz: BERTH_FUZZ_ALLOW_EXEC=1: inputs may make berthd run programs\n");
      return;
    }
  /* start the sanitizers' symbolizer (llvm-symbolizer, a child that stays)
   * while it can still be run, so that reports and LSan suppressions see
   * function names */
  {
    char buf[256];
    __sanitizer_symbolize_pc (__builtin_return_address (0), "%p %F %L", buf, sizeof buf);
  }
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0)
    {
      fprintf (stderr, "fuzz: cannot forbid execve with seccomp: %s\n", g_strerror (errno));
      abort ();
    }
#else
  fprintf (stderr, "fuzz: no seccomp filter for this architecture: refusing to run\n");
  abort ();
#endif
}

/* ---------------------------------------------------------------- files */

static GPtrArray *temp_dirs;

void
fuzz_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      /* entries may have been unpacked without write or search rights */
      g_chmod (path, 0700);
      dir = g_dir_open (path, 0, NULL);
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          fuzz_remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static void
remove_temp_dirs (void)
{
  if (temp_dirs == NULL || g_strcmp0 (g_getenv ("BERTH_FUZZ_KEEP"), "1") == 0)
    return;
  for (guint i = 0; i < temp_dirs->len; i++)
    fuzz_remove_tree (g_ptr_array_index (temp_dirs, i));
}

char *
fuzz_make_temp_dir (const char *what)
{
  g_autofree char *tmpl = g_strdup_printf ("berth-fuzz-%s-XXXXXX", what);
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp (tmpl, &error);

  if (dir == NULL)
    g_error ("fuzz: %s", error->message);
  if (temp_dirs == NULL)
    {
      temp_dirs = g_ptr_array_new_with_free_func (g_free);
      atexit (remove_temp_dirs);
    }
  g_ptr_array_add (temp_dirs, g_strdup (dir));
  return dir;
}

/* ---------------------------------------------------------------- daemon */

static struct {
  BerthContext *context;
  BdConfig     *config;
  BdHttp       *http;
  BdStatus      status;
  char         *socket_path;
  gint64        deadline_us;
} fuzzd;

BerthContext *
fuzz_daemon_context (void)
{
  return fuzzd.context;
}

guint16
fuzz_daemon_dns_port (void)
{
  const char *addr = g_hash_table_lookup (berth_context_get_endpoints (fuzzd.context), "dns");
  const char *colon = addr != NULL ? strrchr (addr, ':') : NULL;

  if (colon == NULL)
    g_error ("fuzz: the discovery plugin serves no DNS");
  return (guint16) g_ascii_strtoull (colon + 1, NULL, 10);
}

void
fuzz_main_context_drain (guint max)
{
  for (guint i = 0; i < max && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
}

void
fuzz_daemon_start (const char *plugins_disabled, gboolean dns)
{
  g_autofree char *state_dir = fuzz_make_temp_dir ("state");
  g_autofree char *config_path = g_build_filename (state_dir, "berth.conf", NULL);
  g_autofree char *config_text = NULL;
  g_autofree char *db_path = NULL;
  g_autoptr(BerthStore) store = NULL;
  g_autoptr(BerthNode) node = NULL;
  g_autoptr(GError) error = NULL;
  BdOptions options = { 0 };
  const char *ms = g_getenv ("BERTH_FUZZ_HTTP_MS");

  fuzzd.deadline_us = (ms != NULL ? g_ascii_strtoll (ms, NULL, 10) : 500) * 1000;
  /* the runtime may only ever use the exec runtime, and no check may run
   * a command: the seccomp filter makes sure, this keeps it quiet */
  config_text = g_strdup_printf ("[berthd]\n"
                                 "state_dir=%s\n"
                                 "node_name=fuzz\n"
                                 "http_addr=127.0.0.1:0\n"
                                 "dns_addr=127.0.0.1:0\n"
                                 "log_level=%s\n"
                                 "[plugins]\n"
                                 "disabled=%s\n"
                                 "[discovery]\n"
                                 "dns=%s\n"
                                 "enable_script_checks=false\n"
                                 "dns_rrl_rate=0\n"
                                 "[security]\n"
                                 "rate_limit=0\n"
                                 "token_rate_limit=0\n"
                                 "[runtime]\n"
                                 "oci=exec\n",
                                 state_dir, verbose ? "debug" : "error",
                                 plugins_disabled != NULL ? plugins_disabled : "",
                                 dns ? "true" : "false");
  if (!g_file_set_contents (config_path, config_text, -1, &error))
    g_error ("fuzz: %s", error->message);

  options.config_path = g_strdup (config_path);
  options.plugin_dir = g_strdup (BERTH_BUILD_PLUGIN_DIR);
  fuzzd.config = bd_config_load (&options, &error);
  bd_options_clear (&options);
  if (fuzzd.config == NULL)
    g_error ("fuzz: config: %s", error->message);
  if (!bd_log_set_level (fuzzd.config->log_level, &error))
    g_error ("fuzz: %s", error->message);

  db_path = g_build_filename (fuzzd.config->state_dir, "berth.db", NULL);
  store = berth_store_new_full (db_path, BERTH_STORE_SYNC_NORMAL, &error);
  if (store == NULL)
    g_error ("fuzz: store: %s", error->message);
  node = bd_node_load (fuzzd.config->state_dir, fuzzd.config->node_name,
                       fuzzd.config->datacenter, "127.0.0.1", &error);
  if (node == NULL || !bd_node_register (store, node, &error))
    g_error ("fuzz: node: %s", error->message);

  fuzzd.context = berth_context_new ();
  berth_context_set_store (fuzzd.context, store);
  berth_context_set_config (fuzzd.context, fuzzd.config->keyfile);
  berth_context_set_node (fuzzd.context, node);
  berth_context_set_state_dir (fuzzd.context, fuzzd.config->state_dir);

  fuzzd.socket_path = g_build_filename (fuzzd.config->state_dir, "berth.sock", NULL);
  fuzzd.status.started_us = g_get_monotonic_time ();
  fuzzd.status.socket_path = g_strdup (fuzzd.socket_path);
  fuzzd.status.http_address = g_strdup ("127.0.0.1:0");
  bd_status_add_routes (fuzzd.context, &fuzzd.status);

  if (!bd_plugins_load (fuzzd.context, fuzzd.config->plugin_dir, fuzzd.config, &error) ||
      !bd_plugins_start (fuzzd.context, fuzzd.config, &error))
    g_error ("fuzz: plugins: %s", error->message);

  fuzzd.http = bd_http_new (fuzzd.context, &fuzzd.config->http);
  if (!bd_http_listen_unix (fuzzd.http, fuzzd.socket_path, &error))
    g_error ("fuzz: %s", error->message);

  /* let the plugins finish starting (runtime probe, first reconcile) */
  for (int i = 0; i < 50; i++)
    {
      fuzz_main_context_drain (1000);
      g_usleep (2000);
    }
}

/* ---------------------------------------------------------------- HTTP */

void
fuzz_append_escaped (GString *out, const guint8 *data, gsize len, const char *keep)
{
  for (gsize i = 0; i < len; i++)
    {
      guint8 c = data[i];
      if (g_ascii_isalnum (c) || (c != '\0' && strchr ("-._~", c) != NULL) ||
          (c > 0x20 && c < 0x7f && keep != NULL && strchr (keep, c) != NULL))
        g_string_append_c (out, (char) c);
      else
        g_string_append_printf (out, "%%%02X", c);
    }
}

/* TRUE when @buf holds a whole response (after any 1xx ones); sets
 * *status. Without a length or chunked encoding it ends at EOF only. */
static gboolean
response_complete (GByteArray *buf, gboolean head_request, guint *status)
{
  gsize start = 0;

  for (;;)
    {
      const char *data = (const char *) buf->data + start;
      gsize avail = buf->len - start;
      const char *end = g_strstr_len (data, (gssize) avail, "\r\n\r\n");
      g_autofree char *head = NULL;
      gsize body_start;
      guint code = 0;
      const char *p;

      if (end == NULL)
        return FALSE;
      body_start = (gsize) (end - data) + 4;
      head = g_ascii_strdown (data, (gssize) body_start);
      if (sscanf (head, "http/1.%*c %u", &code) != 1)
        return FALSE;
      if (code >= 100 && code < 200)
        {
          start += body_start;
          continue;
        }
      *status = code;
      if (head_request || code == 204 || code == 304)
        return TRUE;
      if ((p = strstr (head, "\r\ncontent-length:")) != NULL)
        return avail - body_start >= g_ascii_strtoull (p + strlen ("\r\ncontent-length:"), NULL, 10);
      if ((p = strstr (head, "\r\ntransfer-encoding:")) != NULL && strstr (p, "chunked") != NULL)
        return avail - body_start >= 5 && memcmp (data + avail - 5, "0\r\n\r\n", 5) == 0;
      return FALSE;
    }
}

guint
fuzz_http_raw (const guint8 *request, gsize len)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  g_autoptr(GByteArray) response = g_byte_array_new ();
  gboolean head_request = len >= 5 && memcmp (request, "HEAD ", 5) == 0;
  gint64 deadline = g_get_monotonic_time () + fuzzd.deadline_us;
  gint64 idle_since = g_get_monotonic_time ();
  gboolean shut = FALSE;
  gsize sent = 0;
  guint status = 0;
  int fd;

  g_assert (fuzzd.socket_path != NULL);
  g_strlcpy (sun.sun_path, fuzzd.socket_path, sizeof sun.sun_path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    g_error ("fuzz: socket: %s", g_strerror (errno));
  /* the listen backlog is short: let the server accept what is queued */
  while (connect (fd, (struct sockaddr *) &sun, sizeof sun) != 0)
    {
      if (errno != EAGAIN || g_get_monotonic_time () > deadline)
        g_error ("fuzz: connect %s: %s", fuzzd.socket_path, g_strerror (errno));
      fuzz_main_context_drain (100);
      g_usleep (1000);
    }

  while (g_get_monotonic_time () < deadline)
    {
      guint8 buf[16384];
      gboolean progress = FALSE;
      ssize_t n;

      if (sent < len)
        {
          n = send (fd, request + sent, len - sent, MSG_NOSIGNAL);
          if (n > 0)
            {
              sent += (gsize) n;
              progress = TRUE;
            }
          else if (n < 0 && errno != EAGAIN && errno != EINTR)
            sent = len;  /* the server closed: read what it said */
        }
      n = recv (fd, buf, sizeof buf, 0);
      if (n == 0)
        break;
      if (n > 0)
        {
          g_byte_array_append (response, buf, (guint) n);
          if (response_complete (response, head_request, &status))
            break;
          progress = TRUE;
        }
      else if (errno != EAGAIN && errno != EINTR)
        break;
      if (g_main_context_pending (NULL))
        {
          fuzz_main_context_drain (64);
          progress = TRUE;
        }
      if (progress)
        idle_since = g_get_monotonic_time ();
      else if (!shut && sent == len && g_get_monotonic_time () - idle_since > 50000)
        {
          /* nothing for 50 ms: a request cut short ends at EOF rather
           * than at the server's header or body timeout (not sooner: EOF
           * also makes berthd drop a request it has not answered yet) */
          shutdown (fd, SHUT_WR);
          shut = TRUE;
        }
      if (!progress)
        {
          /* waiting for a worker thread or a timer */
          struct pollfd pfd = { .fd = fd, .events = POLLIN | (sent < len ? POLLOUT : 0) };
          poll (&pfd, 1, 1);
        }
    }
  close (fd);
  fuzz_main_context_drain (1000);
  return status;
}

guint
fuzz_http_json (const char *method, const char *target, const guint8 *body, gsize body_len)
{
  g_autoptr(GString) req = g_string_new (NULL);

  g_string_append_printf (req,
                          "%s %s HTTP/1.1\r\n"
                          "Host: localhost\r\n"
                          "Content-Type: application/json\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                          "Connection: close\r\n"
                          "\r\n",
                          method, target, body_len);
  g_string_append_len (req, (const char *) body, (gssize) body_len);
  return fuzz_http_raw ((const guint8 *) req->str, req->len);
}
