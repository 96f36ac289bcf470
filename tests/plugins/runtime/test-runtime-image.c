/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The runtime's image logic without a daemon: references, manifests and
 * indexes, digests, archive member paths, and safe unpacking. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>
#include <string.h>

#include "runtime-blobs.h"
#include "runtime-image-manifest.h"
#include "runtime-registry.h"
#include "runtime-unpack.h"
#include "runtime-util.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D1 "sha256:" HEX64
#define D2 "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static JsonObject *
parse_object (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = berth_json_parse (text, -1, &error);

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

/* -------------------------------------------------------- references */

static void
check_ref (const char *text, const char *normal)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RuntimeImageRef) ref = runtime_image_ref_parse (text, &error);
  g_autofree char *out = NULL;

  g_assert_no_error (error);
  out = runtime_image_ref_to_string (ref);
  g_assert_cmpstr (out, ==, normal);
}

static void
test_ref_normalize (void)
{
  check_ref ("busybox", "docker.io/library/busybox:latest");
  check_ref ("busybox:1.36", "docker.io/library/busybox:1.36");
  check_ref ("someone/tool", "docker.io/someone/tool:latest");
  check_ref ("quay.io/a/b:v1", "quay.io/a/b:v1");
  check_ref ("localhost/app", "localhost/app:latest");
  check_ref ("127.0.0.1:5000/app:2", "127.0.0.1:5000/app:2");
  check_ref ("busybox@" D1, "docker.io/library/busybox@" D1);
  check_ref ("busybox:1@" D1, "docker.io/library/busybox:1@" D1);
}

static void
test_ref_parts (void)
{
  g_autoptr(RuntimeImageRef) ref = runtime_image_ref_parse ("registry.example:8443/team/app@" D2, NULL);

  g_assert_nonnull (ref);
  g_assert_cmpstr (ref->registry, ==, "registry.example:8443");
  g_assert_cmpstr (ref->repository, ==, "team/app");
  g_assert_null (ref->tag);
  g_assert_cmpstr (ref->digest, ==, D2);
}

static void
test_ref_invalid (void)
{
  const char *bad[] = { "", "UPPER/Case", "app:", "app@sha256:short", "app@md5:" HEX64,
                        "a//b", "app:" "t*" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RuntimeImageRef) ref = runtime_image_ref_parse (bad[i], &error);
      g_assert_null (ref);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    }
  g_assert_null (runtime_image_ref_parse (NULL, NULL));
}

/* ----------------------------------------------------------- digests */

static void
test_digest_valid (void)
{
  g_assert_true (runtime_digest_is_valid (D1));
  g_assert_false (runtime_digest_is_valid (NULL));
  g_assert_false (runtime_digest_is_valid ("sha256:"));
  g_assert_false (runtime_digest_is_valid ("sha256:" HEX64 "0"));
  g_assert_false (runtime_digest_is_valid ("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
  g_assert_false (runtime_digest_is_valid ("sha512:" HEX64));
  g_assert_false (runtime_digest_is_valid ("sha256:../../../../etc/passwd" HEX64));
}

/* ----------------------------------------------- manifests and indexes */

static void
test_index_detection (void)
{
  g_autoptr(JsonObject) index = parse_object ("{\"manifests\": []}");
  g_autoptr(JsonObject) manifest = parse_object ("{\"layers\": [], \"config\": {}}");

  g_assert_true (runtime_manifest_is_index (RUNTIME_MT_OCI_INDEX, manifest));
  g_assert_true (runtime_manifest_is_index (RUNTIME_MT_DOCKER_LIST, manifest));
  g_assert_true (runtime_manifest_is_index (NULL, index));
  g_assert_false (runtime_manifest_is_index (NULL, manifest));
  g_assert_false (runtime_manifest_is_index (RUNTIME_MT_OCI_MANIFEST, manifest));
}

static void
test_pick_platform (void)
{
  g_autoptr(JsonObject) index = parse_object (
    "{\"manifests\": ["
    " {\"digest\": \"" D1 "\", \"platform\": {\"os\": \"linux\", \"architecture\": \"arm64\"}},"
    " \"not an object\","
    " {\"digest\": \"sha256:bad\", \"platform\": {\"os\": \"linux\", \"architecture\": \"amd64\"}},"
    " {\"digest\": \"" D2 "\"},"
    " {\"digest\": \"" D2 "\", \"platform\": {\"os\": \"linux\", \"architecture\": \"amd64\"}}]}");
  g_autoptr(GError) error = NULL;
  g_autofree char *amd64 = runtime_manifest_pick_platform (index, "linux", "amd64", &error);
  g_autofree char *arm64 = runtime_manifest_pick_platform (index, "linux", "arm64", NULL);
  g_autofree char *none = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (amd64, ==, D2);
  g_assert_cmpstr (arm64, ==, D1);
  none = runtime_manifest_pick_platform (index, "windows", "amd64", &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_manifest_parse (void)
{
  g_autoptr(JsonObject) obj = parse_object (
    "{\"config\": {\"digest\": \"" D1 "\"},"
    " \"layers\": [{\"digest\": \"" D2 "\", \"size\": 42,"
    "              \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\"},"
    "             {\"digest\": \"" D1 "\"}]}");
  g_autoptr(GError) error = NULL;
  g_autoptr(RuntimeManifest) m = runtime_manifest_parse (obj, "sha256:x", &error);
  RuntimeDescriptor *l0, *l1;

  g_assert_no_error (error);
  g_assert_cmpstr (m->config_digest, ==, D1);
  g_assert_cmpuint (m->layers->len, ==, 2);
  l0 = g_ptr_array_index (m->layers, 0);
  l1 = g_ptr_array_index (m->layers, 1);
  g_assert_cmpstr (l0->digest, ==, D2);
  g_assert_cmpuint (l0->size, ==, 42);
  g_assert_cmpstr (l1->media_type, ==, "application/vnd.oci.image.layer.v1.tar");
  g_assert_cmpuint (l1->size, ==, 0);
}

static void
test_manifest_refused (void)
{
  const char *bad[] = {
    "{\"layers\": []}",                                          /* no config */
    "{\"config\": {\"digest\": \"sha256:nope\"}, \"layers\": []}",
    "{\"config\": {\"digest\": \"" D1 "\"}}",                    /* no layers */
    "{\"config\": {\"digest\": \"" D1 "\"}, \"layers\": [{\"digest\": \"../x\"}]}",
    "{\"config\": {\"digest\": \"" D1 "\"}, \"layers\": [7]}",
    "{\"config\": {\"digest\": \"" D1 "\"}, \"layers\": [{\"digest\": \"" D2 "\","
    " \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\"}]}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(JsonObject) obj = parse_object (bad[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(RuntimeManifest) m = runtime_manifest_parse (obj, "sha256:x", &error);
      g_assert_null (m);
      g_assert_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE);
    }
}

static void
test_config_diff_ids (void)
{
  g_autoptr(JsonObject) config = parse_object ("{\"rootfs\": {\"diff_ids\": [\"" D1 "\", \"" D2 "\"]}}");
  g_autoptr(JsonObject) broken = parse_object ("{\"rootfs\": {\"diff_ids\": [\"" D1 "\", 3]}}");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = runtime_config_diff_ids (config, 2, &error);
  g_autoptr(GPtrArray) wrong = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (g_ptr_array_index (ids, 1), ==, D2);
  wrong = runtime_config_diff_ids (config, 3, &error);
  g_assert_null (wrong);
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE);
  g_clear_error (&error);
  g_assert_null (runtime_config_diff_ids (broken, 2, &error));
  g_assert_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE);
}

/* ------------------------------------------------- archive member paths */

static void
test_member_path (void)
{
  const char *bad[] = { NULL, "", "/etc/passwd", "..", "../x", "a/../../x", "a/..", "blobs/../../../etc" };
  g_autofree char *ok = runtime_archive_member_path ("/tmp/d", "blobs/sha256/abc", NULL);
  g_autofree char *dots = runtime_archive_member_path ("/tmp/d", "a..b/c...", NULL);

  g_assert_cmpstr (ok, ==, "/tmp/d/blobs/sha256/abc");
  g_assert_cmpstr (dots, ==, "/tmp/d/a..b/c...");
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = runtime_archive_member_path ("/tmp/d", bad[i], &error);
      g_assert_null (path);
      g_assert_error (error, BERTH_ERROR, BERTH_ERROR_UNPROCESSABLE);
    }
}

/* ------------------------------------------------------------ unpack */

typedef struct {
  const char *name;
  int         type;     /* AE_IFREG, AE_IFDIR, AE_IFLNK, or 0 for a hard link */
  const char *target;   /* link target, or file contents */
} Member;

static char *
write_tar (const char *dir, const Member *members, gsize n)
{
  char *path = g_build_filename (dir, "layer.tar", NULL);
  struct archive *ar = archive_write_new ();

  archive_write_set_format_pax_restricted (ar);
  g_assert_cmpint (archive_write_open_filename (ar, path), ==, ARCHIVE_OK);
  for (gsize i = 0; i < n; i++)
    {
      struct archive_entry *e = archive_entry_new ();
      gsize len = members[i].type == AE_IFREG ? strlen (members[i].target) : 0;

      archive_entry_set_pathname (e, members[i].name);
      archive_entry_set_perm (e, 0644);
      if (members[i].type == 0)
        {
          archive_entry_set_filetype (e, AE_IFREG);
          archive_entry_set_hardlink (e, members[i].target);
        }
      else
        {
          archive_entry_set_filetype (e, (unsigned int) members[i].type);
          if (members[i].type == AE_IFLNK)
            archive_entry_set_symlink (e, members[i].target);
          archive_entry_set_size (e, (la_int64_t) len);
        }
      g_assert_cmpint (archive_write_header (ar, e), ==, ARCHIVE_OK);
      if (len > 0)
        g_assert_cmpint (archive_write_data (ar, members[i].target, len), ==, (la_ssize_t) len);
      archive_entry_free (e);
    }
  g_assert_cmpint (archive_write_close (ar), ==, ARCHIVE_OK);
  archive_write_free (ar);
  return path;
}

static char *
make_tmp (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("berth-unpack-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
test_unpack_benign (void)
{
  g_autofree char *work = make_tmp ();
  g_autofree char *dest = g_build_filename (work, "dest", NULL);
  const Member members[] = {
    { "bin", AE_IFDIR, NULL },
    { "bin/tool", AE_IFREG, "#!/bin/sh\n" },
    { "bin/alias", AE_IFLNK, "/bin/tool" },
    { "bin/hard", 0, "bin/tool" },
  };
  g_autofree char *tar = write_tar (work, members, G_N_ELEMENTS (members));
  g_autofree char *alias = g_build_filename (dest, "bin", "alias", NULL);
  g_autofree char *hard = g_build_filename (dest, "bin", "hard", NULL);
  g_autofree char *target = NULL;
  g_autoptr(GError) error = NULL;
  guint64 size = 0;

  g_assert_cmpint (g_mkdir (dest, 0755), ==, 0);
  g_assert_true (runtime_unpack_layer (tar, dest, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (size, >, 0);
  target = g_file_read_link (alias, NULL);
  g_assert_cmpstr (target, ==, "/bin/tool");
  g_assert_true (g_file_test (hard, G_FILE_TEST_IS_REGULAR));
  runtime_rm_rf (work, NULL);
}

static void
check_refused (const Member *members, gsize n)
{
  g_autofree char *work = make_tmp ();
  g_autofree char *dest = g_build_filename (work, "dest", NULL);
  g_autofree char *outside = g_build_filename (work, "outside", NULL);
  g_autofree char *tar = write_tar (work, members, n);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;

  g_assert_cmpint (g_mkdir (dest, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (outside, 0755), ==, 0);
  g_assert_false (runtime_unpack_layer (tar, dest, NULL, &error));
  g_assert_nonnull (error);
  dir = g_dir_open (outside, 0, NULL);
  g_assert_null (g_dir_read_name (dir));   /* nothing written outside */
  runtime_rm_rf (work, NULL);
}

static void
test_unpack_dotdot (void)
{
  const Member m[] = { { "../outside/pwned", AE_IFREG, "x" } };
  check_refused (m, G_N_ELEMENTS (m));
}

static void
test_unpack_symlink_escape (void)
{
  const Member m[] = { { "evil", AE_IFLNK, "../outside" }, { "evil/pwned", AE_IFREG, "x" } };
  check_refused (m, G_N_ELEMENTS (m));
}

static void
test_unpack_hardlink_escape (void)
{
  const Member m[] = { { "hl", 0, "../outside/target" } };
  check_refused (m, G_N_ELEMENTS (m));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/runtime/image/ref/normalize", test_ref_normalize);
  g_test_add_func ("/runtime/image/ref/parts", test_ref_parts);
  g_test_add_func ("/runtime/image/ref/invalid", test_ref_invalid);
  g_test_add_func ("/runtime/image/digest", test_digest_valid);
  g_test_add_func ("/runtime/image/manifest/index", test_index_detection);
  g_test_add_func ("/runtime/image/manifest/platform", test_pick_platform);
  g_test_add_func ("/runtime/image/manifest/parse", test_manifest_parse);
  g_test_add_func ("/runtime/image/manifest/refused", test_manifest_refused);
  g_test_add_func ("/runtime/image/manifest/diff-ids", test_config_diff_ids);
  g_test_add_func ("/runtime/image/archive/member-path", test_member_path);
  g_test_add_func ("/runtime/image/unpack/benign", test_unpack_benign);
  g_test_add_func ("/runtime/image/unpack/dotdot", test_unpack_dotdot);
  g_test_add_func ("/runtime/image/unpack/symlink", test_unpack_symlink_escape);
  g_test_add_func ("/runtime/image/unpack/hardlink", test_unpack_hardlink_escape);
  return g_test_run ();
}
