/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "discovery-filter.h"

G_BEGIN_DECLS

/* The parsed form of a filter expression, shared by the parser
 * (discovery-filter.c) and the evaluator (discovery-filter-eval.c). */

typedef enum {
  FILTER_AND,
  FILTER_OR,
  FILTER_NOT,
  FILTER_MATCH,
} FilterKind;

typedef enum {
  FILTER_OP_EQUAL,
  FILTER_OP_NOT_EQUAL,
  FILTER_OP_IN,            /* "v" in S, S contains "v" */
  FILTER_OP_NOT_IN,
  FILTER_OP_IS_EMPTY,
  FILTER_OP_IS_NOT_EMPTY,
  FILTER_OP_MATCHES,
  FILTER_OP_NOT_MATCHES,
} FilterOp;

typedef struct _FilterNode FilterNode;

struct _FilterNode {
  FilterKind  kind;
  FilterNode *left;      /* AND, OR, NOT (the operand) */
  FilterNode *right;     /* AND, OR */
  /* MATCH */
  FilterOp    op;
  guint       at;        /* byte offset of the selector in the text */
  char      **selector;  /* member names, NULL-terminated */
  char       *value;     /* as written (unquoted); NULL for is (not) empty */
  GRegex     *regex;     /* for (not) matches */
};

struct _DiscoveryFilter {
  FilterNode *root;
  char       *text;
};

void filter_node_free (FilterNode *node);
void filter_position  (const char *text,
                       guint       offset,
                       guint      *line,
                       guint      *column);

G_END_DECLS
