/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli-output.c - what berth prints: messages, raw data, tables, JSON */
#include "config.h"

#include "cli-output.h"
#include "cli-client.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <glib/gi18n.h>

void
cli_print_error (const char *format,
                 ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  fflush (stdout);
  fprintf (stderr, "berth: %s\n", message);
}

gboolean
cli_output_is_tty (void)
{
  return isatty (STDOUT_FILENO);
}

/* Binary-safe: values may hold any byte, NULs included. */
gboolean
cli_output_write (const void  *data,
                  gsize        size,
                  GError     **error)
{
  if ((size > 0 && fwrite (data, 1, size, stdout) != size) || fflush (stdout) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, CLI_ERROR, CLI_ERROR_FAILED,
                   _("cannot write to standard output: %s"), g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
cli_output_json (JsonNode  *node,
                 GError   **error)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  gsize size;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &size);

  return cli_output_write (text, size, error) && cli_output_write ("\n", 1, error);
}

/* Columns on a terminal, near enough: wide CJK characters take two. */
gsize
cli_output_width (const char *text)
{
  gsize width = 0;

  if (!g_utf8_validate (text, -1, NULL))
    return strlen (text);

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iszerowidth (c))
        continue;
      width += g_unichar_iswide (c) ? 2 : 1;
    }
  return width;
}

struct _CliTable {
  guint n_columns;
  GPtrArray *rows;   /* of GStrv, n_columns each */
};

CliTable *
cli_table_new (guint n_columns)
{
  CliTable *table = g_new0 (CliTable, 1);

  table->n_columns = n_columns;
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  return table;
}

void
cli_table_free (CliTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->rows);
  g_free (table);
}

void
cli_table_add_row (CliTable *table,
                   ...)
{
  char **row = g_new0 (char *, table->n_columns + 1);
  va_list args;

  va_start (args, table);
  for (guint i = 0; i < table->n_columns; i++)
    {
      const char *cell = va_arg (args, const char *);

      if (cell == NULL)
        {
          for (; i < table->n_columns; i++)
            row[i] = g_strdup ("");
          break;
        }
      row[i] = g_strdup (cell);
    }
  va_end (args);

  g_ptr_array_add (table->rows, row);
}

void
cli_table_print (CliTable   *table,
                 const char *indent)
{
  g_autofree gsize *widths = g_new0 (gsize, table->n_columns);
  g_autoptr(GString) line = g_string_new (NULL);

  for (guint r = 0; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);

      for (guint c = 0; c < table->n_columns; c++)
        widths[c] = MAX (widths[c], cli_output_width (row[c]));
    }

  for (guint r = 0; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);
      guint last = table->n_columns;

      while (last > 0 && *row[last - 1] == '\0')
        last--;

      g_string_assign (line, indent != NULL ? indent : "");
      for (guint c = 0; c < last; c++)
        {
          g_string_append (line, row[c]);
          if (c + 1 < last)
            for (gsize pad = cli_output_width (row[c]); pad < widths[c] + 2; pad++)
              g_string_append_c (line, ' ');
        }
      g_string_append_c (line, '\n');
      fputs (line->str, stdout);
    }
}
