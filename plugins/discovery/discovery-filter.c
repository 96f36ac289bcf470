/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>
#include <berth.h>

#include "discovery-filter-private.h"

/* The parser of `?filter=` expressions: recursive descent over the text,
 * one function per level of the grammar (Consul's go-bexpr):
 *
 *   input  := ws? or ws? END
 *   or     := and (ws "or" ws and)*
 *   and    := not (ws "and" ws not)*
 *   not    := "not" ws not | primary
 *   primary:= "(" ws? or ws? ")" | match
 *   match  := selector ws? ("==" | "!=") ws? value
 *           | selector ws "is" ws ["not" ws] "empty"
 *           | selector ws ["not" ws] ("contains" | "matches") ws value
 *           | value ws ["not" ws] "in" ws selector
 *
 * A syntax error names its line:column (and the byte offset, as Consul
 * does) and what was expected there. */

#define MAX_DEPTH 64

typedef struct {
  const char *text;
  const char *p;
  guint       depth;
  GError     *error;
} Parser;

void
filter_node_free (FilterNode *node)
{
  if (node == NULL)
    return;
  filter_node_free (node->left);
  filter_node_free (node->right);
  g_strfreev (node->selector);
  g_free (node->value);
  g_clear_pointer (&node->regex, g_regex_unref);
  g_free (node);
}

static FilterNode *
node_new (FilterKind kind, FilterNode *left, FilterNode *right)
{
  FilterNode *node = g_new0 (FilterNode, 1);

  node->kind = kind;
  node->left = left;
  node->right = right;
  return node;
}

/* ---- errors ------------------------------------------------------------ */

/* What stands at @at, for an error message. */
static char *
describe (const char *at)
{
  const char *end = at;

  if (*at == '\0')
    return g_strdup (_("the end of the expression"));
  while (*end != '\0' && !g_ascii_isspace (*end) && g_utf8_pointer_to_offset (at, end) < 16)
    end = g_utf8_next_char (end);
  if (end == at)
    end = g_utf8_next_char (at);
  return g_strdup_printf ("“%.*s”", (int) (end - at), at);
}

/* The line and column (from 1, in characters) of byte @offset. */
void
filter_position (const char *text, guint offset, guint *line, guint *column)
{
  *line = *column = 1;
  for (const char *c = text; c < text + offset && *c != '\0'; c = g_utf8_next_char (c))
    {
      if (*c == '\n')
        {
          (*line)++;
          *column = 1;
        }
      else
        (*column)++;
    }
}

static gboolean fail (Parser *parser, const char *at, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Records the first error, at @at; always FALSE. */
static gboolean
fail (Parser *parser, const char *at, const char *format, ...)
{
  g_autofree char *what = NULL;
  guint line, column;
  va_list args;

  if (parser->error != NULL)
    return FALSE;
  filter_position (parser->text, (guint) (at - parser->text), &line, &column);
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (&parser->error, BERTH_ERROR, BERTH_ERROR_INVALID,
               _("Invalid filter expression: %u:%u (%u): %s"), line, column,
               (guint) (at - parser->text), what);
  return FALSE;
}

/* ---- lexing ------------------------------------------------------------ */

static gboolean
skip_ws (Parser *parser)
{
  const char *start = parser->p;

  while (*parser->p == ' ' || *parser->p == '\t' || *parser->p == '\r' || *parser->p == '\n')
    parser->p++;
  return parser->p != start;
}

static gboolean
is_ident_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '/';
}

/* Whether the word @word stands at @at (not the start of a longer name). */
static gboolean
word_at (const char *at, const char *word)
{
  gsize len = strlen (word);
  return strncmp (at, word, len) == 0 && !is_ident_char (at[len]) && at[len] != '.' && at[len] != '[';
}

/* Consumes @word and the whitespace after it, which must be there (or,
 * when @operand_ok, an opening parenthesis or the end, which the operand
 * that must follow then reports). */
static gboolean
take_word (Parser *parser, const char *word, gboolean operand_ok)
{
  const char *save = parser->p;

  if (!word_at (parser->p, word))
    return FALSE;
  parser->p += strlen (word);
  if (skip_ws (parser) || (operand_ok && (*parser->p == '(' || *parser->p == '\0')))
    return TRUE;
  parser->p = save;
  return FALSE;
}

/* A string in double quotes (with \" \\ \n \r \t escapes) or backticks
 * (taken as is); NULL after failing. */
static char *
parse_string (Parser *parser)
{
  const char *start = parser->p;
  char quote = *parser->p++;
  GString *out = g_string_new (NULL);

  while (*parser->p != quote)
    {
      if (*parser->p == '\0')
        {
          fail (parser, start, _("unterminated string (no closing %c)"), quote);
          return g_string_free (out, TRUE), NULL;
        }
      if (quote == '"' && *parser->p == '\\')
        {
          char c = parser->p[1];
          const char *replacement = c == '"' ? "\"" : c == '\\' ? "\\" : c == 'n' ? "\n"
                                    : c == 't' ? "\t" : c == 'r' ? "\r" : NULL;
          if (replacement == NULL)
            {
              fail (parser, parser->p, _("unknown escape sequence in a string: use \\\", \\\\, \\n, \\r or \\t, "
                                         "or quote with backticks"));
              return g_string_free (out, TRUE), NULL;
            }
          g_string_append (out, replacement);
          parser->p += 2;
          continue;
        }
      g_string_append_c (out, *parser->p++);
    }
  parser->p++;
  return g_string_free (out, FALSE);
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?, followed by whitespace, ")" or the end. */
static char *
parse_number (Parser *parser)
{
  const char *start = parser->p;

  if (*parser->p == '-')
    parser->p++;
  if (*parser->p == '0')
    parser->p++;
  else if (*parser->p >= '1' && *parser->p <= '9')
    while (g_ascii_isdigit (*parser->p))
      parser->p++;
  else
    {
      fail (parser, start, _("invalid number"));
      return NULL;
    }
  if (*parser->p == '.' && g_ascii_isdigit (parser->p[1]))
    {
      parser->p++;
      while (g_ascii_isdigit (*parser->p))
        parser->p++;
    }
  if (*parser->p != '\0' && *parser->p != ')' && !g_ascii_isspace (*parser->p))
    {
      fail (parser, start, _("invalid number (a number ends with a space, “)” or the end of the expression)"));
      return NULL;
    }
  return g_strndup (start, (gsize) (parser->p - start));
}

static void
builder_add_len (GStrvBuilder *builder, const char *start, gsize len)
{
  g_autofree char *part = g_strndup (start, len);
  g_strv_builder_add (builder, part);
}

/* name ("." name | "." digits | "[" ws? string ws? "]")*, a name being
 * [a-zA-Z][a-zA-Z0-9_/]*; NULL after failing. */
static char **
parse_selector (Parser *parser)
{
  g_autoptr(GStrvBuilder) parts = g_strv_builder_new ();
  const char *start;

  if (!g_ascii_isalpha (*parser->p))
    {
      g_autofree char *found = describe (parser->p);
      fail (parser, parser->p, _("expected a selector (a name such as Service.Tags), found %s"), found);
      return NULL;
    }
  start = parser->p;
  while (is_ident_char (*parser->p))
    parser->p++;
  builder_add_len (parts, start, (gsize) (parser->p - start));
  for (;;)
    {
      if (*parser->p == '.')
        {
          start = ++parser->p;
          if (g_ascii_isdigit (*parser->p))
            while (g_ascii_isdigit (*parser->p))
              parser->p++;
          else if (g_ascii_isalpha (*parser->p))
            while (is_ident_char (*parser->p))
              parser->p++;
          else
            {
              fail (parser, parser->p, _("expected a name after “.”"));
              return NULL;
            }
          builder_add_len (parts, start, (gsize) (parser->p - start));
        }
      else if (*parser->p == '[')
        {
          char *key;

          parser->p++;
          skip_ws (parser);
          if (*parser->p != '"' && *parser->p != '`')
            {
              fail (parser, parser->p, _("expected a quoted key in “[…]”"));
              return NULL;
            }
          if ((key = parse_string (parser)) == NULL)
            return NULL;
          g_strv_builder_add (parts, key);
          g_free (key);
          skip_ws (parser);
          if (*parser->p != ']')
            {
              fail (parser, parser->p, _("expected “]” to close the index"));
              return NULL;
            }
          parser->p++;
        }
      else
        return g_strv_builder_end (parts);
    }
}

/* A value: a quoted string, a number, or a name taken as written. */
static char *
parse_value (Parser *parser)
{
  const char *start = parser->p;

  if (*parser->p == '"' || *parser->p == '`')
    return parse_string (parser);
  if (*parser->p == '-' || g_ascii_isdigit (*parser->p))
    return parse_number (parser);
  if (g_ascii_isalpha (*parser->p))
    {
      g_auto(GStrv) name = parse_selector (parser);
      return name != NULL ? g_strndup (start, (gsize) (parser->p - start)) : NULL;
    }
  {
    g_autofree char *found = describe (parser->p);
    fail (parser, parser->p, _("expected a value (a quoted string, a number or a name), found %s"), found);
  }
  return NULL;
}

/* ---- grammar ----------------------------------------------------------- */

static FilterNode *parse_or (Parser *parser);

static FilterNode *
match_new (Parser *parser, const char *selector_at, FilterOp op, char **selector, char *value)
{
  FilterNode *node = node_new (FILTER_MATCH, NULL, NULL);

  node->at = (guint) (selector_at - parser->text);
  node->op = op;
  node->selector = selector;
  node->value = value;
  return node;
}

/* `value [not] in selector`, @value already read. */
static FilterNode *
parse_in (Parser *parser, char *value)
{
  g_autofree char *owned = value;
  FilterOp op;
  const char *selector_at;
  char **selector;

  if (take_word (parser, "not", FALSE) && take_word (parser, "in", TRUE))
    op = FILTER_OP_NOT_IN;
  else if (take_word (parser, "in", TRUE))
    op = FILTER_OP_IN;
  else
    {
      g_autofree char *found = describe (parser->p);
      fail (parser, parser->p, _("expected “in” or “not in” after a value, found %s"), found);
      return NULL;
    }
  selector_at = parser->p;
  if ((selector = parse_selector (parser)) == NULL)
    return NULL;
  return match_new (parser, selector_at, op, selector, g_steal_pointer (&owned));
}

static FilterNode *
parse_match (Parser *parser)
{
  const char *start = parser->p, *after;
  g_auto(GStrv) selector = NULL;
  gboolean ws;

  if (*parser->p == '"' || *parser->p == '`' || *parser->p == '-' || g_ascii_isdigit (*parser->p))
    {
      char *value = parse_value (parser);
      if (value == NULL)
        return NULL;
      if (!skip_ws (parser))
        {
          g_autofree char *found = describe (parser->p);
          g_free (value);
          fail (parser, parser->p, _("expected “in” or “not in” after a value, found %s"), found);
          return NULL;
        }
      return parse_in (parser, value);
    }
  if (!g_ascii_isalpha (*parser->p))
    {
      g_autofree char *found = describe (parser->p);
      fail (parser, parser->p, _("expected a selector, a value, “not” or “(”, found %s"), found);
      return NULL;
    }
  if ((selector = parse_selector (parser)) == NULL)
    return NULL;
  after = parser->p;
  ws = skip_ws (parser);
  if (strncmp (parser->p, "==", 2) == 0 || strncmp (parser->p, "!=", 2) == 0)
    {
      FilterOp op = parser->p[0] == '=' ? FILTER_OP_EQUAL : FILTER_OP_NOT_EQUAL;
      char *value;

      parser->p += 2;
      skip_ws (parser);
      if ((value = parse_value (parser)) == NULL)
        return NULL;
      return match_new (parser, start, op, g_steal_pointer (&selector), value);
    }
  if (ws && take_word (parser, "is", FALSE))
    {
      FilterOp op = take_word (parser, "not", FALSE) ? FILTER_OP_IS_NOT_EMPTY : FILTER_OP_IS_EMPTY;
      if (!word_at (parser->p, "empty"))
        {
          g_autofree char *found = describe (parser->p);
          fail (parser, parser->p, _("expected “empty” after “is” or “is not”, found %s"), found);
          return NULL;
        }
      parser->p += strlen ("empty");
      return match_new (parser, start, op, g_steal_pointer (&selector), NULL);
    }
  if (ws)
    {
      const char *word_start = parser->p, *value_at;
      gboolean negated = take_word (parser, "not", FALSE);
      FilterOp op;
      FilterNode *node;
      char *value;

      if (take_word (parser, "contains", FALSE))
        op = negated ? FILTER_OP_NOT_IN : FILTER_OP_IN;
      else if (take_word (parser, "matches", FALSE))
        op = negated ? FILTER_OP_NOT_MATCHES : FILTER_OP_MATCHES;
      else if (word_at (parser->p, "in"))
        {
          /* the name was a value: `primary in Service.Tags` */
          parser->p = word_start;
          return parse_in (parser, g_strndup (start, (gsize) (after - start)));
        }
      else
        goto no_operator;
      value_at = parser->p;
      value = parse_value (parser);
      if (value == NULL)
        return NULL;
      node = match_new (parser, start, op, g_steal_pointer (&selector), value);
      if (op == FILTER_OP_MATCHES || op == FILTER_OP_NOT_MATCHES)
        {
          g_autoptr(GError) regex_error = NULL;
          node->regex = g_regex_new (value, 0, 0, &regex_error);
          if (node->regex == NULL)
            {
              fail (parser, value_at, _("invalid regular expression “%s”: %s"), value,
                    regex_error->message);
              filter_node_free (node);
              return NULL;
            }
        }
      return node;
    }

no_operator:
  {
    g_autofree char *name = g_strndup (start, (gsize) (after - start));
    g_autofree char *found = describe (parser->p);
    fail (parser, parser->p, _("expected an operator after “%s” (==, !=, is empty, is not empty, "
                               "contains, not contains, matches, not matches, in, not in), found %s"),
          name, found);
  }
  return NULL;
}

static FilterNode *
parse_primary (Parser *parser)
{
  const char *open;
  FilterNode *inner;

  skip_ws (parser);
  if (*parser->p != '(')
    return parse_match (parser);
  open = parser->p++;
  if (++parser->depth > MAX_DEPTH)
    {
      fail (parser, open, _("the expression nests deeper than %d levels"), MAX_DEPTH);
      return NULL;
    }
  inner = parse_or (parser);
  parser->depth--;
  if (inner == NULL)
    return NULL;
  skip_ws (parser);
  if (*parser->p != ')')
    {
      g_autofree char *found = describe (parser->p);
      fail (parser, parser->p, _("expected “)” to close the “(” at offset %u, found %s"),
            (guint) (open - parser->text), found);
      filter_node_free (inner);
      return NULL;
    }
  parser->p++;
  return inner;
}

static FilterNode *
parse_not (Parser *parser)
{
  const char *at;
  FilterNode *operand;

  skip_ws (parser);
  at = parser->p;
  if (!take_word (parser, "not", TRUE))
    return parse_primary (parser);
  if (++parser->depth > MAX_DEPTH)
    {
      fail (parser, at, _("the expression nests deeper than %d levels"), MAX_DEPTH);
      return NULL;
    }
  operand = parse_not (parser);
  parser->depth--;
  if (operand == NULL)
    return NULL;
  /* not not X is X */
  if (operand->kind == FILTER_NOT)
    {
      FilterNode *inner = g_steal_pointer (&operand->left);
      filter_node_free (operand);
      return inner;
    }
  return node_new (FILTER_NOT, operand, NULL);
}

/* left (ws @word ws right)*, @word being "and" or "or". */
static FilterNode *
parse_chain (Parser *parser, const char *word, FilterKind kind, FilterNode *(*next) (Parser *))
{
  FilterNode *left = next (parser);

  while (left != NULL)
    {
      const char *save = parser->p;
      FilterNode *right;

      if (!skip_ws (parser) || !take_word (parser, word, TRUE))
        {
          parser->p = save;
          break;
        }
      right = next (parser);
      if (right == NULL)
        {
          filter_node_free (left);
          return NULL;
        }
      left = node_new (kind, left, right);
    }
  return left;
}

static FilterNode *
parse_and (Parser *parser)
{
  return parse_chain (parser, "and", FILTER_AND, parse_not);
}

static FilterNode *
parse_or (Parser *parser)
{
  return parse_chain (parser, "or", FILTER_OR, parse_and);
}

/**
 * discovery_filter_new:
 * @expression: a filter expression, as `?filter=` gives it
 * @error: where a syntax error goes (%BERTH_ERROR_INVALID, with its
 *   line:column)
 *
 * Returns: (transfer full) (nullable): the parsed filter
 */
DiscoveryFilter *
discovery_filter_new (const char *expression, GError **error)
{
  Parser parser = { .text = expression, .p = expression };
  FilterNode *root;
  DiscoveryFilter *filter;

  g_return_val_if_fail (expression != NULL, NULL);

  if (!g_utf8_validate (expression, -1, NULL))
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                           _("Invalid filter expression: it is not valid UTF-8"));
      return NULL;
    }
  root = parse_or (&parser);
  if (root != NULL)
    {
      skip_ws (&parser);
      if (*parser.p != '\0')
        {
          g_autofree char *found = describe (parser.p);
          fail (&parser, parser.p, _("expected “and”, “or” or the end of the expression, found %s"), found);
          g_clear_pointer (&root, filter_node_free);
        }
    }
  if (root == NULL)
    {
      g_propagate_error (error, parser.error);
      return NULL;
    }
  filter = g_new0 (DiscoveryFilter, 1);
  filter->root = root;
  filter->text = g_strdup (expression);
  return filter;
}

void
discovery_filter_free (DiscoveryFilter *filter)
{
  if (filter == NULL)
    return;
  filter_node_free (filter->root);
  g_free (filter->text);
  g_free (filter);
}

/* ---- printing (for the self-tests and logs) ---------------------------- */

static void
print_node (GString *out, FilterNode *node)
{
  static const char *const op_names[] = {
    [FILTER_OP_EQUAL] = "==", [FILTER_OP_NOT_EQUAL] = "!=",
    [FILTER_OP_IN] = "in", [FILTER_OP_NOT_IN] = "not in",
    [FILTER_OP_IS_EMPTY] = "is empty", [FILTER_OP_IS_NOT_EMPTY] = "is not empty",
    [FILTER_OP_MATCHES] = "matches", [FILTER_OP_NOT_MATCHES] = "not matches",
  };
  g_autofree char *selector = NULL;

  switch (node->kind)
    {
    case FILTER_AND:
    case FILTER_OR:
      g_string_append_c (out, '(');
      print_node (out, node->left);
      g_string_append (out, node->kind == FILTER_AND ? " and " : " or ");
      print_node (out, node->right);
      g_string_append_c (out, ')');
      return;
    case FILTER_NOT:
      g_string_append (out, "not ");
      print_node (out, node->left);
      return;
    case FILTER_MATCH:
    default:
      selector = g_strjoinv (".", node->selector);
      if (node->op == FILTER_OP_IN || node->op == FILTER_OP_NOT_IN)
        g_string_append_printf (out, "\"%s\" %s %s", node->value, op_names[node->op], selector);
      else if (node->value == NULL)
        g_string_append_printf (out, "%s %s", selector, op_names[node->op]);
      else
        g_string_append_printf (out, "%s %s \"%s\"", selector, op_names[node->op], node->value);
      return;
    }
}

/**
 * discovery_filter_to_string:
 * @filter: a filter
 *
 * The filter written back, fully parenthesized, values quoted.
 *
 * Returns: (transfer full): the text
 */
char *
discovery_filter_to_string (DiscoveryFilter *filter)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (filter != NULL, NULL);
  print_node (out, filter->root);
  return g_string_free (out, FALSE);
}
