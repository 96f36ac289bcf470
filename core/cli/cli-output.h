/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-output.h - what berth prints: messages, raw data, tables, JSON */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

void      cli_print_error        (const char *format,
                                  ...) G_GNUC_PRINTF (1, 2);
gboolean  cli_output_is_tty      (void);
gboolean  cli_output_write       (const void *data,
                                  gsize       size,
                                  GError    **error);
gboolean  cli_output_json        (JsonNode   *node,
                                  GError    **error);
gsize     cli_output_width       (const char *text);

/* A table with aligned columns; empty trailing cells print nothing. */
typedef struct _CliTable CliTable;

CliTable *cli_table_new          (guint       n_columns);
void      cli_table_free         (CliTable   *table);
void      cli_table_add_row      (CliTable   *table,
                                  ...) G_GNUC_NULL_TERMINATED;
void      cli_table_print        (CliTable   *table,
                                  const char *indent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliTable, cli_table_free)

G_END_DECLS
