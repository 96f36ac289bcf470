/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean runtime_unpack_layer (const char  *tarball,
                               const char  *dest_dir,
                               guint64     *out_size,
                               GError     **error);

gboolean runtime_unpack_layer_fd (int          archive_fd,
                                  int          dest_dirfd,
                                  guint64     *out_size,
                                  GError     **error);

G_END_DECLS
