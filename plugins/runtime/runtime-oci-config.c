/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>

#include "runtime-oci-config.h"
#include "runtime-util.h"

/* OCI runtime configs (config.json): from the image config and the
 * user's overrides, with Docker's defaults for what a container may do:
 * its capabilities, no-new-privileges, masked and read-only /proc paths,
 * a seccomp filter refusing the syscalls Docker refuses, and rlimits no
 * higher than the daemon's own (raising them needs CAP_SYS_RESOURCE,
 * which root may lack). */

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char * const default_caps[] = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
  "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL
};

static const char * const masked_paths[] = {
  "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
  "/sys/firmware", "/sys/devices/virtual/powercap", NULL
};

static const char * const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL
};

/* Syscalls refused with EPERM: those Docker's default profile leaves out
 * that a container without CAP_SYS_ADMIN & co. could still reach. */
static const char * const denied_syscalls[] = {
  "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
  "delete_module", "finit_module", "get_kernel_syms", "get_mempolicy", "init_module",
  "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
  "mbind", "mount", "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
  "perf_event_open", "pivot_root", "process_vm_readv", "process_vm_writev", "query_module",
  "quotactl", "reboot", "request_key", "set_mempolicy", "setns", "settimeofday", "stime",
  "swapon", "swapoff", "sysfs", "_sysctl", "umount", "umount2", "unshare", "uselib",
  "userfaultfd", "ustat", "vm86", "vm86old", "fsopen", "fsmount", "fsconfig", "fspick",
  "move_mount", "open_tree", NULL
};

gboolean
runtime_cgroup_is_v2 (void)
{
  struct statfs fs;

  return statfs ("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

static void
add_strv (JsonBuilder *b, const char *name, const char * const *strv)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    json_builder_add_string_value (b, strv[i]);
  json_builder_end_array (b);
}

static void
add_mount (JsonBuilder *b, const char *dest, const char *type, const char *source,
           const char * const *options)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "destination");
  json_builder_add_string_value (b, dest);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, source);
  add_strv (b, "options", options);
  json_builder_end_object (b);
}

static void
add_default_mounts (JsonBuilder *b, gboolean cgroup_v2)
{
  const char * const proc_opts[] = { "nosuid", "noexec", "nodev", NULL };
  const char * const dev_opts[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
  const char * const pts_opts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                    "mode=0620", "gid=5", NULL };
  const char * const shm_opts[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
  const char * const mq_opts[] = { "nosuid", "noexec", "nodev", NULL };
  const char * const sys_opts[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  const char * const cg_opts[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };

  add_mount (b, "/proc", "proc", "proc", proc_opts);
  add_mount (b, "/dev", "tmpfs", "tmpfs", dev_opts);
  add_mount (b, "/dev/pts", "devpts", "devpts", pts_opts);
  add_mount (b, "/dev/shm", "tmpfs", "shm", shm_opts);
  add_mount (b, "/dev/mqueue", "mqueue", "mqueue", mq_opts);
  add_mount (b, "/sys", "sysfs", "sysfs", sys_opts);
  add_mount (b, "/sys/fs/cgroup", cgroup_v2 ? "cgroup2" : "cgroup", "cgroup", cg_opts);
}

static void
add_rlimits (JsonBuilder *b)
{
  struct rlimit rl;

  json_builder_set_member_name (b, "rlimits");
  json_builder_begin_array (b);
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0)
    {
      guint64 hard = rl.rlim_max == RLIM_INFINITY ? 1048576 : MIN ((guint64) rl.rlim_max, 1048576);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "RLIMIT_NOFILE");
      json_builder_set_member_name (b, "hard");
      json_builder_add_int_value (b, (gint64) hard);
      json_builder_set_member_name (b, "soft");
      json_builder_add_int_value (b, (gint64) hard);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
add_capabilities (JsonBuilder *b)
{
  json_builder_set_member_name (b, "capabilities");
  json_builder_begin_object (b);
  add_strv (b, "bounding", default_caps);
  add_strv (b, "effective", default_caps);
  add_strv (b, "permitted", default_caps);
  json_builder_end_object (b);
}

static void
add_namespaces (JsonBuilder *b, gboolean host_network, const char *netns_path)
{
  const char *types[] = { "pid", "ipc", "uts", "mount", NULL };

  json_builder_set_member_name (b, "namespaces");
  json_builder_begin_array (b);
  for (guint i = 0; types[i] != NULL; i++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, types[i]);
      json_builder_end_object (b);
    }
  if (!host_network)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "network");
      if (netns_path != NULL)
        {
          json_builder_set_member_name (b, "path");
          json_builder_add_string_value (b, netns_path);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
add_seccomp (JsonBuilder *b)
{
  json_builder_set_member_name (b, "seccomp");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "defaultAction");
  json_builder_add_string_value (b, "SCMP_ACT_ALLOW");
  json_builder_set_member_name (b, "architectures");
  json_builder_begin_array (b);
#if defined(__x86_64__)
  json_builder_add_string_value (b, "SCMP_ARCH_X86_64");
  json_builder_add_string_value (b, "SCMP_ARCH_X86");
  json_builder_add_string_value (b, "SCMP_ARCH_X32");
#elif defined(__aarch64__)
  json_builder_add_string_value (b, "SCMP_ARCH_AARCH64");
  json_builder_add_string_value (b, "SCMP_ARCH_ARM");
#endif
  json_builder_end_array (b);
  json_builder_set_member_name (b, "syscalls");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_strv (b, "names", denied_syscalls);
  json_builder_set_member_name (b, "action");
  json_builder_add_string_value (b, "SCMP_ACT_ERRNO");
  json_builder_set_member_name (b, "errnoRet");
  json_builder_add_int_value (b, 1);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

char *
runtime_oci_probe_config (gboolean cgroup_v2, const char *id)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const char * const args[] = { "/bin/true", NULL };
  const char * const env[] = { "PATH=" DEFAULT_PATH, NULL };
  const char * const ro_bind[] = { "rbind", "ro", "nosuid", "nodev", NULL };
  g_autofree char *cgpath = g_strdup_printf ("/berth/%s", id);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ociVersion");
  json_builder_add_string_value (b, "1.0.2");
  json_builder_set_member_name (b, "process");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "uid");
  json_builder_add_int_value (b, 0);
  json_builder_set_member_name (b, "gid");
  json_builder_add_int_value (b, 0);
  json_builder_end_object (b);
  add_strv (b, "args", args);
  add_strv (b, "env", env);
  json_builder_set_member_name (b, "cwd");
  json_builder_add_string_value (b, "/");
  add_capabilities (b);
  add_rlimits (b);
  json_builder_set_member_name (b, "noNewPrivileges");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "root");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, "rootfs");
  json_builder_set_member_name (b, "readonly");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "mounts");
  json_builder_begin_array (b);
  add_default_mounts (b, cgroup_v2);
  add_mount (b, "/usr", "bind", "/usr", ro_bind);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "linux");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "cgroupsPath");
  json_builder_add_string_value (b, cgpath);
  json_builder_set_member_name (b, "resources");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "memory");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "limit");
  json_builder_add_int_value (b, 64 * 1024 * 1024);
  json_builder_end_object (b);
  json_builder_end_object (b);
  add_namespaces (b, FALSE, NULL);
  add_seccomp (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return runtime_json_to_string (root);
}

static GPtrArray *
strings_of (JsonArray *array)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *n = json_array_get_element (array, i);
      if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
        g_ptr_array_add (out, g_strdup (json_node_get_string (n)));
    }
  return out;
}

/* A member that may be a string (split on spaces, as Docker's shell-less
 * form) or an array of strings; NULL when absent or null. */
static GPtrArray *
argv_member (JsonObject *obj, const char *name)
{
  JsonNode *n;

  if (obj == NULL || (n = json_object_get_member (obj, name)) == NULL || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  if (JSON_NODE_HOLDS_ARRAY (n))
    return strings_of (json_node_get_array (n));
  if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    {
      g_auto(GStrv) parts = NULL;
      GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
      if (g_shell_parse_argv (json_node_get_string (n), NULL, &parts, NULL))
        for (guint i = 0; parts[i] != NULL; i++)
          g_ptr_array_add (out, g_strdup (parts[i]));
      return out;
    }
  return NULL;
}

GStrv
runtime_oci_process_args (JsonObject *image_config, JsonObject *spec, GError **error)
{
  g_autoptr(GPtrArray) entrypoint = argv_member (spec, "entrypoint");
  g_autoptr(GPtrArray) cmd = argv_member (spec, "cmd");
  GPtrArray *args = g_ptr_array_new ();

  /* Docker's precedence: a given entrypoint drops the image's Cmd */
  if (entrypoint == NULL)
    {
      entrypoint = argv_member (image_config, "Entrypoint");
      if (cmd == NULL || cmd->len == 0)
        {
          g_clear_pointer (&cmd, g_ptr_array_unref);
          cmd = argv_member (image_config, "Cmd");
        }
    }
  for (guint i = 0; entrypoint != NULL && i < entrypoint->len; i++)
    g_ptr_array_add (args, g_strdup (g_ptr_array_index (entrypoint, i)));
  for (guint i = 0; cmd != NULL && i < cmd->len; i++)
    g_ptr_array_add (args, g_strdup (g_ptr_array_index (cmd, i)));
  if (args->len == 0)
    {
      g_ptr_array_unref (args);
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                           _("No command: the image has no Entrypoint or Cmd and none was given"));
      return NULL;
    }
  g_ptr_array_add (args, NULL);
  return (GStrv) g_ptr_array_free (args, FALSE);
}

static void
env_set (GPtrArray *env, const char *entry)
{
  const char *eq = strchr (entry, '=');
  gsize klen = eq != NULL ? (gsize) (eq - entry) : strlen (entry);

  if (klen == 0)
    return;
  for (guint i = 0; i < env->len; i++)
    {
      const char *e = g_ptr_array_index (env, i);
      if (strncmp (e, entry, klen) == 0 && e[klen] == '=')
        {
          g_free (env->pdata[i]);
          env->pdata[i] = eq != NULL ? g_strdup (entry) : g_strconcat (entry, "=", NULL);
          return;
        }
    }
  g_ptr_array_add (env, eq != NULL ? g_strdup (entry) : g_strconcat (entry, "=", NULL));
}

GStrv
runtime_oci_process_env (JsonObject *image_config, JsonObject *spec, const char *hostname)
{
  g_autoptr(GPtrArray) image_env = strings_of (runtime_json_get_array (image_config, "Env"));
  g_autoptr(GPtrArray) user_env = NULL;
  GPtrArray *env = g_ptr_array_new_with_free_func (g_free);
  gboolean have_path = FALSE;
  JsonNode *n = spec != NULL ? json_object_get_member (spec, "env") : NULL;

  for (guint i = 0; i < image_env->len; i++)
    env_set (env, g_ptr_array_index (image_env, i));
  if (n != NULL && JSON_NODE_HOLDS_ARRAY (n))
    {
      user_env = strings_of (json_node_get_array (n));
      for (guint i = 0; i < user_env->len; i++)
        env_set (env, g_ptr_array_index (user_env, i));
    }
  else if (n != NULL && JSON_NODE_HOLDS_OBJECT (n))
    {
      JsonObjectIter iter;
      const char *key;
      JsonNode *value;
      json_object_iter_init (&iter, json_node_get_object (n));
      while (json_object_iter_next (&iter, &key, &value))
        if (JSON_NODE_HOLDS_VALUE (value))
          {
            g_autofree char *e = g_strdup_printf ("%s=%s", key, json_node_get_string (value) != NULL
                                                                  ? json_node_get_string (value) : "");
            env_set (env, e);
          }
    }
  for (guint i = 0; i < env->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (env, i), "PATH="))
      have_path = TRUE;
  if (!have_path)
    env_set (env, "PATH=" DEFAULT_PATH);
  if (hostname != NULL)
    {
      g_autofree char *h = g_strconcat ("HOSTNAME=", hostname, NULL);
      env_set (env, h);
    }
  g_ptr_array_add (env, NULL);
  return (GStrv) g_ptr_array_free (env, FALSE);
}

/* Looks a user or group name up in the container's /etc/passwd or
 * /etc/group. */
static gboolean
lookup_id (const char *rootfs, const char *file, const char *name, gint64 *id, gint64 *gid)
{
  g_autofree char *path = g_build_filename (rootfs, "etc", file, NULL);
  g_autofree char *data = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &data, NULL, NULL))
    return FALSE;
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], ":", -1);
      if (g_strv_length (f) >= 3 && strcmp (f[0], name) == 0)
        {
          *id = g_ascii_strtoll (f[2], NULL, 10);
          if (gid != NULL && g_strv_length (f) >= 4)
            *gid = g_ascii_strtoll (f[3], NULL, 10);
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
runtime_oci_resolve_user (const char *rootfs, const char *user, gint64 *uid, gint64 *gid, GError **error)
{
  g_auto(GStrv) parts = NULL;
  char *end;

  *uid = 0;
  *gid = 0;
  if (user == NULL || *user == '\0')
    return TRUE;
  parts = g_strsplit (user, ":", 2);
  *uid = g_ascii_strtoll (parts[0], &end, 10);
  if (*end != '\0' || end == parts[0])
    {
      if (!lookup_id (rootfs, "passwd", parts[0], uid, gid))
        goto unknown;
    }
  else if (parts[1] == NULL)
    {
      /* numeric uid: its primary group if the image knows it, else the same */
      *gid = *uid;
    }
  if (parts[1] != NULL)
    {
      *gid = g_ascii_strtoll (parts[1], &end, 10);
      if (*end != '\0' || end == parts[1])
        if (!lookup_id (rootfs, "group", parts[1], gid, NULL))
          goto unknown;
    }
  return TRUE;

unknown:
  g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Unknown user “%s” in the image"), user);
  return FALSE;
}

static gint64
member_int (JsonObject *obj, const char *name)
{
  JsonNode *n = obj != NULL ? json_object_get_member (obj, name) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return 0;
  if (json_node_get_value_type (n) == G_TYPE_DOUBLE)
    return (gint64) json_node_get_double (n);
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    return json_node_get_int (n);
  return 0;
}

static gdouble
member_double (JsonObject *obj, const char *name)
{
  JsonNode *n = obj != NULL ? json_object_get_member (obj, name) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return 0;
  if (json_node_get_value_type (n) == G_TYPE_DOUBLE)
    return json_node_get_double (n);
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    return (gdouble) json_node_get_int (n);
  return 0;
}

static gboolean
swap_accounting (gboolean cgroup_v2)
{
  return cgroup_v2 || g_file_test ("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", G_FILE_TEST_EXISTS);
}

char *
runtime_oci_config_build (const RuntimeOciOptions *o, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_auto(GStrv) args = runtime_oci_process_args (o->image_config, o->spec, error);
  g_auto(GStrv) env = NULL;
  const char *workdir = runtime_json_get_string (o->spec, "workdir");
  const char *user = runtime_json_get_string (o->spec, "user");
  gint64 memory = member_int (o->spec, "memory");
  gdouble cpus = member_double (o->spec, "cpus");
  gboolean read_only = json_object_get_boolean_member_with_default (o->spec, "read_only", FALSE);
  gint64 uid, gid;

  if (args == NULL)
    return NULL;
  if (workdir == NULL || *workdir == '\0')
    workdir = runtime_json_get_string (o->image_config, "WorkingDir");
  if (workdir == NULL || *workdir != '/')
    workdir = "/";
  if (user == NULL || *user == '\0')
    user = runtime_json_get_string (o->image_config, "User");
  if (!runtime_oci_resolve_user (o->rootfs, user, &uid, &gid, error))
    return NULL;
  if (memory < 0 || (memory > 0 && memory < 4 * 1024 * 1024))
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("The memory limit must be at least 4 MiB"));
      return NULL;
    }
  if (cpus < 0 || cpus > 1024)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Invalid number of CPUs"));
      return NULL;
    }
  env = runtime_oci_process_env (o->image_config, o->spec, o->hostname);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ociVersion");
  json_builder_add_string_value (b, "1.0.2");
  json_builder_set_member_name (b, "hostname");
  json_builder_add_string_value (b, o->hostname);

  json_builder_set_member_name (b, "process");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "terminal");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "user");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "uid");
  json_builder_add_int_value (b, uid);
  json_builder_set_member_name (b, "gid");
  json_builder_add_int_value (b, gid);
  json_builder_end_object (b);
  add_strv (b, "args", (const char * const *) args);
  add_strv (b, "env", (const char * const *) env);
  json_builder_set_member_name (b, "cwd");
  json_builder_add_string_value (b, workdir);
  add_capabilities (b);
  add_rlimits (b);
  json_builder_set_member_name (b, "noNewPrivileges");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "oomScoreAdj");
  json_builder_add_int_value (b, 0);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "root");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, o->rootfs);
  json_builder_set_member_name (b, "readonly");
  json_builder_add_boolean_value (b, read_only);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "mounts");
  json_builder_begin_array (b);
  add_default_mounts (b, o->cgroup_v2);
  if (o->etc_dir != NULL)
    {
      const char *files[] = { "hosts", "hostname", "resolv.conf", NULL };
      const char * const opts[] = { "rbind", "rprivate", "nosuid", "nodev", "noexec", NULL };
      for (guint i = 0; files[i] != NULL; i++)
        {
          g_autofree char *src = g_build_filename (o->etc_dir, files[i], NULL);
          g_autofree char *dst = g_build_filename ("/etc", files[i], NULL);
          if (g_file_test (src, G_FILE_TEST_EXISTS))
            add_mount (b, dst, "bind", src, opts);
        }
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "linux");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "cgroupsPath");
  json_builder_add_string_value (b, o->cgroups_path);
  json_builder_set_member_name (b, "resources");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "devices");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "allow");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "access");
  json_builder_add_string_value (b, "rwm");
  json_builder_end_object (b);
  json_builder_end_array (b);
  if (memory > 0)
    {
      json_builder_set_member_name (b, "memory");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "limit");
      json_builder_add_int_value (b, memory);
      if (swap_accounting (o->cgroup_v2))
        {
          /* no swap beyond the limit: the limit means what it says */
          json_builder_set_member_name (b, "swap");
          json_builder_add_int_value (b, memory);
        }
      json_builder_end_object (b);
    }
  if (cpus > 0)
    {
      json_builder_set_member_name (b, "cpu");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "period");
      json_builder_add_int_value (b, 100000);
      json_builder_set_member_name (b, "quota");
      json_builder_add_int_value (b, (gint64) (cpus * 100000));
      json_builder_end_object (b);
    }
  json_builder_set_member_name (b, "pids");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "limit");
  json_builder_add_int_value (b, 4096);
  json_builder_end_object (b);
  json_builder_end_object (b);
  add_namespaces (b, o->host_network, o->netns_path);
  add_strv (b, "maskedPaths", masked_paths);
  add_strv (b, "readonlyPaths", readonly_paths);
  add_seccomp (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return runtime_json_to_string (root);
}
