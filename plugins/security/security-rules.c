/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "security-rules.h"

/* ACL rules as Consul writes them, in its HCL subset or in JSON:
 *
 *   key_prefix "team-a/" { policy = "write" }
 *   key "team-a/secret" { policy = "deny" }
 *   operator = "read"
 *
 * plus Berth's kinds (app, container, image, log, audit). Each kind keeps
 * its exact rules and its prefix rules; kinds without names (operator,
 * acl, audit, keyring) keep their one policy as the prefix rule "". An
 * exact rule beats every prefix rule, the longest matching prefix beats
 * shorter ones, and no rule means no access. Merging the rules of several
 * policies keeps, for each rule, "deny" if any says so and otherwise the
 * most permissive policy.
 *
 * Marathon's ids are paths: "team-a/web" and "/team-a/web" name the same
 * app, and a request about an app's tasks or versions
 * ("/team-a/web/tasks") is about the app, so an exact app rule also
 * covers what lies below it (the nearest such rule wins). */

typedef struct {
  const char *name;
  gboolean    named;   /* FALSE: one scalar policy (operator = "read") */
  gboolean    list_ok; /* accepts "list" (keys) */
  gboolean    path;    /* names are paths ("/team-a/web"): see below */
} KindInfo;

static const KindInfo kinds[] = {
  { "key", TRUE, TRUE, FALSE },
  { "service", TRUE, FALSE, FALSE },
  { "node", TRUE, FALSE, FALSE },
  { "agent", TRUE, FALSE, FALSE },
  { "session", TRUE, FALSE, FALSE },
  { "event", TRUE, FALSE, FALSE },
  { "query", TRUE, FALSE, FALSE },
  { "app", TRUE, FALSE, TRUE },
  { "container", TRUE, FALSE, FALSE },
  { "image", TRUE, FALSE, FALSE },
  { "log", TRUE, FALSE, FALSE },
  { "operator", FALSE, FALSE, FALSE },
  { "acl", FALSE, FALSE, FALSE },
  { "audit", FALSE, FALSE, FALSE },
  { "keyring", FALSE, FALSE, FALSE },
};

#define N_KINDS G_N_ELEMENTS (kinds)

typedef struct {
  GHashTable *exact;   /* name → SecurityPolicy */
  GHashTable *prefix;  /* prefix → SecurityPolicy */
} KindRules;

struct _SecurityRules {
  gint      ref_count;
  gboolean  management;
  KindRules kinds[N_KINDS];
};

static gint
kind_index (const char *name, gsize len)
{
  for (gsize i = 0; i < N_KINDS; i++)
    if (strlen (kinds[i].name) == len && strncmp (kinds[i].name, name, len) == 0)
      return (gint) i;
  return -1;
}

SecurityRules *
security_rules_new (void)
{
  SecurityRules *self = g_new0 (SecurityRules, 1);

  self->ref_count = 1;
  for (gsize i = 0; i < N_KINDS; i++)
    {
      self->kinds[i].exact = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      self->kinds[i].prefix = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    }
  return self;
}

/* The rules of the global-management policy: everything. */
SecurityRules *
security_rules_new_management (void)
{
  SecurityRules *self = security_rules_new ();
  self->management = TRUE;
  return self;
}

SecurityRules *
security_rules_ref (SecurityRules *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
security_rules_unref (SecurityRules *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  for (gsize i = 0; i < N_KINDS; i++)
    {
      g_hash_table_unref (self->kinds[i].exact);
      g_hash_table_unref (self->kinds[i].prefix);
    }
  g_free (self);
}

/* Deny wins; otherwise the most permissive. */
static SecurityPolicy
combine (SecurityPolicy a, SecurityPolicy b)
{
  if (a == SECURITY_POLICY_DENY || b == SECURITY_POLICY_DENY)
    return SECURITY_POLICY_DENY;
  return MAX (a, b);
}

static void
add_rule (GHashTable *table, const char *name, SecurityPolicy policy)
{
  SecurityPolicy old = GPOINTER_TO_INT (g_hash_table_lookup (table, name));
  g_hash_table_replace (table, g_strdup (name), GINT_TO_POINTER (combine (old, policy)));
}

static void
merge_table (GHashTable *into, GHashTable *from)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, from);
  while (g_hash_table_iter_next (&iter, &key, &value))
    add_rule (into, key, GPOINTER_TO_INT (value));
}

void
security_rules_merge (SecurityRules *self, const SecurityRules *other)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (other != NULL);

  self->management = self->management || other->management;
  for (gsize i = 0; i < N_KINDS; i++)
    {
      merge_table (self->kinds[i].exact, other->kinds[i].exact);
      merge_table (self->kinds[i].prefix, other->kinds[i].prefix);
    }
}

gboolean
security_rules_is_management (const SecurityRules *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->management;
}

gboolean
security_rules_is_empty (const SecurityRules *self)
{
  g_return_val_if_fail (self != NULL, TRUE);
  if (self->management)
    return FALSE;
  for (gsize i = 0; i < N_KINDS; i++)
    if (g_hash_table_size (self->kinds[i].exact) > 0 || g_hash_table_size (self->kinds[i].prefix) > 0)
      return FALSE;
  return TRUE;
}

/**
 * security_rules_lookup:
 * @self: rules
 * @kind: a kind ("key", "service", "operator", …)
 * @name: the resource's name (ignored for kinds without names)
 *
 * Returns: the policy the rules give @name: its exact rule, else its
 *   longest matching prefix rule, else %SECURITY_POLICY_NONE (and
 *   %SECURITY_POLICY_WRITE for management rules)
 */
SecurityPolicy
security_rules_lookup (const SecurityRules *self, const char *kind, const char *name)
{
  gint k;
  GHashTableIter iter;
  gpointer key, value;
  gsize best_len = 0;
  SecurityPolicy best = SECURITY_POLICY_NONE;
  g_autofree char *path = NULL;

  g_return_val_if_fail (self != NULL, SECURITY_POLICY_NONE);
  g_return_val_if_fail (kind != NULL, SECURITY_POLICY_NONE);

  if (self->management)
    return SECURITY_POLICY_WRITE;
  k = kind_index (kind, strlen (kind));
  if (k < 0)
    return SECURITY_POLICY_NONE;
  if (!kinds[k].named || name == NULL)
    name = "";
  if (kinds[k].path && name[0] != '/')
    name = path = g_strconcat ("/", name, NULL);
  if (g_hash_table_lookup_extended (self->kinds[k].exact, name, NULL, &value))
    return GPOINTER_TO_INT (value);
  if (kinds[k].path)
    {
      g_autofree char *up = g_strdup (name);
      char *slash;

      while ((slash = strrchr (up, '/')) != NULL && slash != up)
        {
          *slash = '\0';
          if (g_hash_table_lookup_extended (self->kinds[k].exact, up, NULL, &value))
            return GPOINTER_TO_INT (value);
        }
    }
  g_hash_table_iter_init (&iter, self->kinds[k].prefix);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gsize len = strlen (key);
      if (g_str_has_prefix (name, key) && (best == SECURITY_POLICY_NONE || len > best_len))
        {
          best = GPOINTER_TO_INT (value);
          best_len = len;
        }
    }
  return best;
}

static gboolean
policy_grants (SecurityPolicy policy, BerthAccess access)
{
  switch (policy)
    {
    case SECURITY_POLICY_WRITE:
      return TRUE;
    case SECURITY_POLICY_READ:
      return access != BERTH_ACCESS_WRITE;
    case SECURITY_POLICY_NONE:
    case SECURITY_POLICY_DENY:
    default:
      return FALSE;
    }
}

static gboolean
any_grants (GHashTable *table, BerthAccess access)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (policy_grants (GPOINTER_TO_INT (value), access))
      return TRUE;
  return FALSE;
}

/**
 * security_rules_allows:
 * @self: rules
 * @kind: the resource kind
 * @name: (nullable): the resource's name; %NULL for a list, allowed when
 *   any rule of @kind grants @access (the handler filters the items)
 * @access: the access wanted
 *
 * Returns: whether the rules grant @access
 */
gboolean
security_rules_allows (const SecurityRules *self, const char *kind, const char *name,
                       BerthAccess access)
{
  gint k;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (kind != NULL, FALSE);

  if (self->management || access == BERTH_ACCESS_NONE)
    return TRUE;
  k = kind_index (kind, strlen (kind));
  if (k < 0)
    return FALSE;
  if (name == NULL && kinds[k].named)
    return any_grants (self->kinds[k].exact, access) || any_grants (self->kinds[k].prefix, access);
  return policy_grants (security_rules_lookup (self, kind, name), access);
}

/* --- Parsing --------------------------------------------------------------- */

static gboolean
parse_policy (const char *text, const KindInfo *kind, SecurityPolicy *policy)
{
  if (g_strcmp0 (text, "read") == 0)
    *policy = SECURITY_POLICY_READ;
  else if (g_strcmp0 (text, "write") == 0)
    *policy = SECURITY_POLICY_WRITE;
  else if (g_strcmp0 (text, "deny") == 0)
    *policy = SECURITY_POLICY_DENY;
  else if (g_strcmp0 (text, "list") == 0 && kind->list_ok)
    *policy = SECURITY_POLICY_READ;
  else
    return FALSE;
  return TRUE;
}

/* Resolves a rule's keyword ("key", "key_prefix") to its kind. */
static gboolean
resolve_keyword (const char *word, gint *kind, gboolean *prefix)
{
  gsize len = strlen (word);

  *prefix = g_str_has_suffix (word, "_prefix");
  if (*prefix)
    len -= strlen ("_prefix");
  *kind = kind_index (word, len);
  if (*kind < 0 || (*prefix && !kinds[*kind].named))
    return FALSE;
  return TRUE;
}

static void
store_rule (SecurityRules *rules, gint kind, gboolean prefix, gboolean legacy, const char *name,
            SecurityPolicy policy)
{
  /* legacy (pre-policy) rules matched names by prefix */
  if (!kinds[kind].named)
    {
      name = "";
      prefix = TRUE;
    }
  if (legacy)
    prefix = TRUE;
  if (kinds[kind].path && name[0] != '/' && (name[0] != '\0' || !prefix))
    {
      g_autofree char *rooted = g_strconcat ("/", name, NULL);
      add_rule (prefix ? rules->kinds[kind].prefix : rules->kinds[kind].exact, rooted, policy);
      return;
    }
  add_rule (prefix ? rules->kinds[kind].prefix : rules->kinds[kind].exact, name, policy);
}

typedef enum {
  TOK_EOF,
  TOK_IDENT,
  TOK_STRING,
  TOK_EQ,
  TOK_LBRACE,
  TOK_RBRACE,
  TOK_COMMA,
} TokKind;

typedef struct {
  const char *p;
  guint       line;
  TokKind     tok;
  guint       tok_line;
  GString    *text;
} Lexer;

static gboolean G_GNUC_PRINTF (3, 4)
fail (GError **error, guint line, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  /* JSON rules are judged as a whole: no line (0) */
  if (line == 0)
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Failed to parse ACL rules: %s"), msg);
  else
    g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Failed to parse ACL rules: line %u: %s"),
                 line, msg);
  return FALSE;
}

static gboolean
skip_space (Lexer *lx, GError **error)
{
  for (;;)
    {
      char c = *lx->p;
      if (c == '\n')
        {
          lx->line++;
          lx->p++;
        }
      else if (c == ' ' || c == '\t' || c == '\r')
        lx->p++;
      else if (c == '#' || (c == '/' && lx->p[1] == '/'))
        {
          while (*lx->p != '\0' && *lx->p != '\n')
            lx->p++;
        }
      else if (c == '/' && lx->p[1] == '*')
        {
          guint start = lx->line;
          lx->p += 2;
          while (*lx->p != '\0' && !(lx->p[0] == '*' && lx->p[1] == '/'))
            {
              if (*lx->p == '\n')
                lx->line++;
              lx->p++;
            }
          if (*lx->p == '\0')
            return fail (error, start, _("unterminated comment"));
          lx->p += 2;
        }
      else
        return TRUE;
    }
}

static gboolean
lex_string (Lexer *lx, GError **error)
{
  lx->p++;
  while (*lx->p != '"')
    {
      char c = *lx->p;
      if (c == '\0' || c == '\n')
        return fail (error, lx->tok_line, _("unterminated string"));
      if (c == '\\')
        {
          char e = lx->p[1];
          switch (e)
            {
            case '"': case '\\': case '/': g_string_append_c (lx->text, e); break;
            case 'n': g_string_append_c (lx->text, '\n'); break;
            case 't': g_string_append_c (lx->text, '\t'); break;
            default:
              return fail (error, lx->tok_line, _("invalid escape “\\%c” in a string"), e != '\0' ? e : ' ');
            }
          lx->p += 2;
          continue;
        }
      g_string_append_c (lx->text, c);
      lx->p++;
    }
  lx->p++;
  return TRUE;
}

static gboolean
lex_next (Lexer *lx, GError **error)
{
  char c;

  g_string_truncate (lx->text, 0);
  if (!skip_space (lx, error))
    return FALSE;
  lx->tok_line = lx->line;
  c = *lx->p;
  switch (c)
    {
    case '\0': lx->tok = TOK_EOF; return TRUE;
    case '=': lx->tok = TOK_EQ; lx->p++; return TRUE;
    case '{': lx->tok = TOK_LBRACE; lx->p++; return TRUE;
    case '}': lx->tok = TOK_RBRACE; lx->p++; return TRUE;
    case ',': lx->tok = TOK_COMMA; lx->p++; return TRUE;
    case '"': lx->tok = TOK_STRING; return lex_string (lx, error);
    default:
      break;
    }
  if (g_ascii_isalpha (c) || c == '_')
    {
      while (g_ascii_isalnum (*lx->p) || *lx->p == '_' || *lx->p == '-')
        g_string_append_c (lx->text, *lx->p++);
      lx->tok = TOK_IDENT;
      return TRUE;
    }
  if (g_ascii_isprint (c))
    return fail (error, lx->tok_line, _("unexpected character “%c”"), c);
  return fail (error, lx->tok_line, _("unexpected byte 0x%02x"), (guchar) c);
}

/* The block after `key "name"`: `{ policy = "read" [intentions = "…"] }`. */
static gboolean
parse_block (Lexer *lx, const KindInfo *kind, const char *what, SecurityPolicy *policy,
             GError **error)
{
  guint start = lx->tok_line;
  gboolean have_policy = FALSE;

  if (lx->tok != TOK_LBRACE)
    return fail (error, lx->tok_line, _("expected “{” after %s"), what);
  if (!lex_next (lx, error))
    return FALSE;
  while (lx->tok != TOK_RBRACE)
    {
      g_autofree char *attr = NULL;
      guint line = lx->tok_line;

      if (lx->tok == TOK_EOF)
        return fail (error, start, _("%s: missing “}”"), what);
      if (lx->tok != TOK_IDENT)
        return fail (error, line, _("%s: expected an attribute such as policy = \"read\""), what);
      attr = g_strdup (lx->text->str);
      if (!lex_next (lx, error))
        return FALSE;
      if (lx->tok != TOK_EQ)
        return fail (error, line, _("%s: expected “=” after “%s”"), what, attr);
      if (!lex_next (lx, error))
        return FALSE;
      if (lx->tok != TOK_STRING)
        return fail (error, line, _("%s: the value of “%s” must be a quoted string"), what, attr);
      if (g_str_equal (attr, "policy"))
        {
          if (!parse_policy (lx->text->str, kind, policy))
            return fail (error, line, _("%s: invalid policy “%s” (read, write or deny%s)"), what,
                         lx->text->str, kind->list_ok ? _(", or list") : "");
          have_policy = TRUE;
        }
      else if (g_str_equal (attr, "intentions") && g_str_equal (kind->name, "service"))
        {
          SecurityPolicy ignored;
          if (!parse_policy (lx->text->str, kind, &ignored))
            return fail (error, line, _("%s: invalid intentions “%s”"), what, lx->text->str);
        }
      else
        return fail (error, line, _("%s: unknown attribute “%s”"), what, attr);
      if (!lex_next (lx, error))
        return FALSE;
      if (lx->tok == TOK_COMMA && !lex_next (lx, error))
        return FALSE;
    }
  if (!have_policy)
    return fail (error, start, _("%s: missing policy"), what);
  return lex_next (lx, error);
}

static gboolean
parse_hcl (SecurityRules *rules, const char *text, gboolean legacy, GError **error)
{
  g_autoptr(GString) buffer = g_string_new (NULL);
  Lexer lx = { .p = text, .line = 1, .text = buffer };

  if (!lex_next (&lx, error))
    return FALSE;
  while (lx.tok != TOK_EOF)
    {
      g_autofree char *word = NULL;
      g_autofree char *name = NULL;
      g_autofree char *what = NULL;
      guint line = lx.tok_line;
      gint kind;
      gboolean prefix;
      SecurityPolicy policy;

      if (lx.tok != TOK_IDENT)
        return fail (error, line, _("expected a rule such as key_prefix \"…\" { policy = \"read\" }"));
      word = g_strdup (lx.text->str);
      if (!resolve_keyword (word, &kind, &prefix))
        return fail (error, line, _("unknown rule “%s”"), word);
      if (!lex_next (&lx, error))
        return FALSE;
      if (lx.tok == TOK_EQ)
        {
          /* operator = "read"; image = "write" covers every image */
          if (prefix)
            return fail (error, line, _("“%s” needs a name: %s \"…\" { policy = \"read\" }"), word, word);
          if (!lex_next (&lx, error))
            return FALSE;
          if (lx.tok != TOK_STRING)
            return fail (error, line, _("the value of “%s” must be a quoted string"), word);
          if (!parse_policy (lx.text->str, &kinds[kind], &policy))
            return fail (error, line, _("%s: invalid policy “%s” (read, write or deny)"), word, lx.text->str);
          store_rule (rules, kind, TRUE, legacy, "", policy);
          if (!lex_next (&lx, error))
            return FALSE;
          continue;
        }
      if (!kinds[kind].named)
        return fail (error, line, _("“%s” takes no name: write %s = \"read\""), word, word);
      if (lx.tok != TOK_STRING)
        return fail (error, line, _("expected a quoted name after “%s”"), word);
      name = g_strdup (lx.text->str);
      what = g_strdup_printf ("%s \"%s\"", word, name);
      if (!lex_next (&lx, error))
        return FALSE;
      if (lx.tok == TOK_EQ && !lex_next (&lx, error))
        return FALSE;
      if (!parse_block (&lx, &kinds[kind], what, &policy, error))
        return FALSE;
      store_rule (rules, kind, prefix, legacy, name, policy);
    }
  return TRUE;
}

static gboolean
json_rule_block (SecurityRules *rules, gint kind, gboolean prefix, gboolean legacy,
                 const char *word, JsonNode *node, GError **error)
{
  JsonObject *names;
  g_autoptr(GList) members = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, 0, _("“%s” must map names to {\"policy\": …}"), word);
  names = json_node_get_object (node);
  members = json_object_get_members (names);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *block = json_object_get_member (names, name);
      JsonObject *obj;
      JsonNode *value;
      SecurityPolicy policy;

      if (!JSON_NODE_HOLDS_OBJECT (block))
        return fail (error, 0, _("%s \"%s\": expected {\"policy\": …}"), word, name);
      obj = json_node_get_object (block);
      value = json_object_get_member (obj, "policy");
      if (value == NULL)
        return fail (error, 0, _("%s \"%s\": missing policy"), word, name);
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING ||
          !parse_policy (json_node_get_string (value), &kinds[kind], &policy))
        return fail (error, 0, _("%s \"%s\": invalid policy (read, write or deny)"), word, name);
      if (json_object_get_size (obj) > (json_object_has_member (obj, "intentions") ? 2u : 1u))
        return fail (error, 0, _("%s \"%s\": unknown attribute besides policy"), word, name);
      store_rule (rules, kind, prefix, legacy, name, policy);
    }
  return TRUE;
}

static gboolean
parse_json (SecurityRules *rules, const char *text, gboolean legacy, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) root = berth_json_parse (text, -1, &local_error);
  JsonObject *obj;
  g_autoptr(GList) members = NULL;

  if (root == NULL)
    {
      g_set_error (error, BERTH_ERROR, BERTH_ERROR_INVALID, _("Failed to parse ACL rules: %s"),
                   local_error->message);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return fail (error, 0, _("the JSON rules must be an object"));
  obj = json_node_get_object (root);
  members = json_object_get_members (obj);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *word = l->data;
      JsonNode *value = json_object_get_member (obj, word);
      gint kind;
      gboolean prefix;

      if (!resolve_keyword (word, &kind, &prefix))
        return fail (error, 0, _("unknown rule “%s”"), word);
      if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
        {
          SecurityPolicy policy;
          if (prefix || !parse_policy (json_node_get_string (value), &kinds[kind], &policy))
            return fail (error, 0, _("%s: invalid policy “%s”"), word, json_node_get_string (value));
          store_rule (rules, kind, TRUE, legacy, "", policy);
        }
      else if (!kinds[kind].named)
        return fail (error, 0, _("“%s” takes a policy string"), word);
      else if (JSON_NODE_HOLDS_ARRAY (value))
        {
          JsonArray *array = json_node_get_array (value);
          for (guint i = 0; i < json_array_get_length (array); i++)
            if (!json_rule_block (rules, kind, prefix, legacy, word, json_array_get_element (array, i), error))
              return FALSE;
        }
      else if (!json_rule_block (rules, kind, prefix, legacy, word, value, error))
        return FALSE;
    }
  return TRUE;
}

/**
 * security_rules_parse:
 * @text: rules in Consul's HCL subset, or a JSON object
 * @legacy: rules of a legacy token: `key "a"` then matches by prefix, as
 *   it did before policies
 * @error: %BERTH_ERROR_INVALID with the line of the mistake
 *
 * Returns: (transfer full) (nullable): the rules
 */
SecurityRules *
security_rules_parse (const char *text, gboolean legacy, GError **error)
{
  g_autoptr(SecurityRules) rules = security_rules_new ();
  const char *p = text;
  gboolean ok;

  g_return_val_if_fail (text != NULL, NULL);

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error_literal (error, BERTH_ERROR, BERTH_ERROR_INVALID,
                           _("Failed to parse ACL rules: not valid UTF-8"));
      return NULL;
    }
  while (g_ascii_isspace (*p))
    p++;
  ok = *p == '{' ? parse_json (rules, text, legacy, error) : parse_hcl (rules, text, legacy, error);
  return ok ? g_steal_pointer (&rules) : NULL;
}
