/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "fuzz-common.h"
#include "runtime-unpack.h"

/* The layer unpacker (runtime-unpack.c, compiled in). The input is one
 * byte choosing the form (even: as it is, a tar or anything libarchive
 * detects; odd: gzip'd here first), then the layer. Each run unpacks
 * into a fresh directory three levels down a sandbox directory; after it,
 * the sandbox must hold nothing but the layer file and that directory:
 * an entry that escapes ("../x", through a symlink, a hardlink) aborts.
 *
 * berthd unpacks as root, and so does this when run as root, with
 * the seccomp filter (libarchive may run external decompressors). */

static char *sandbox;
static char *layer;
static char *dest;
static gboolean verbose;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_log_install ();
  fuzz_forbid_exec ();
  verbose = g_strcmp0 (g_getenv ("BERTH_FUZZ_VERBOSE"), "1") == 0;
  sandbox = fuzz_make_temp_dir ("unpack");
  layer = g_build_filename (sandbox, "layer", NULL);
  dest = g_build_filename (sandbox, "a", "b", "dest", NULL);
  return 0;
}

static GBytes *
gzip (const uint8_t *data, size_t size)
{
  g_autoptr(GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 1);
  g_autoptr(GInputStream) mem = g_memory_input_stream_new_from_data (data, (gssize) size, NULL);
  g_autoptr(GInputStream) in = g_converter_input_stream_new (mem, G_CONVERTER (z));
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

  if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, NULL) < 0)
    abort ();
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* Aborts unless @dir holds exactly the names in @allowed. */
static void
check_only (const char *dir, const char * const *allowed)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    {
      fprintf (stderr, "fuzz-unpack: %s is gone\n", dir);
      abort ();
    }
  while ((name = g_dir_read_name (d)) != NULL)
    if (!g_strv_contains (allowed, name))
      {
        fprintf (stderr, "fuzz-unpack: %s/%s appeared outside the layer's directory\n", dir, name);
        abort ();
      }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *a = g_build_filename (sandbox, "a", NULL);
  g_autofree char *b = g_build_filename (sandbox, "a", "b", NULL);
  const char * const top[] = { "layer", "a", NULL };
  const char * const in_a[] = { "b", NULL };
  const char * const in_b[] = { "dest", NULL };
  guint64 unpacked = 0;

  if (size < 1)
    return 0;
  if (data[0] & 1)
    bytes = gzip (data + 1, size - 1);
  else
    bytes = g_bytes_new_static (data + 1, size - 1);
  /* no fsync: this file lives for one run */
  if (!g_file_set_contents_full (layer, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes),
                                 G_FILE_SET_CONTENTS_NONE, 0644, &error))
    g_error ("fuzz-unpack: %s", error->message);
  if (g_mkdir_with_parents (dest, 0755) != 0)
    g_error ("fuzz-unpack: mkdir %s: %s", dest, g_strerror (errno));

  if (!runtime_unpack_layer (layer, dest, &unpacked, &error) && verbose)
    fprintf (stderr, "fuzz-unpack: %s\n", error->message);

  check_only (sandbox, top);
  check_only (a, in_a);
  check_only (b, in_b);
  fuzz_remove_tree (dest);
  return 0;
}
