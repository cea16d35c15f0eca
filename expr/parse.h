/* Private to expr/parse.c (expressions) and expr/parse_tags.c (statements): the parser's state over the token
 * array and the helpers both halves use. Every failure records the first error in ps->err and returns NULL/-1. */
#ifndef KT_EXPR_PARSE_H
#define KT_EXPR_PARSE_H

#include "expr/lex.h"

typedef struct kx_parser {
    kx_tok *t;
    size_t n, i;
    kx_err *err;
    struct kt_tmpl *tmpl;
    const char *src;
    int depth; /* nesting of expressions and tags: bounded so hostile input cannot exhaust the stack */
} kx_parser;

/* ---- tokens and errors ---- */

kx_tok *kx_p_cur(kx_parser *ps);
int kx_p_is(const kx_tok *k, int type, const char *v); /* v NULL: any text */
void *kx_p_fail(kx_parser *ps, const kx_tok *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void kx_p_oom(kx_parser *ps);
/* ParserException "Unexpected token of value ... expected token of type <want>" */
void *kx_p_unexpected(kx_parser *ps, const kx_tok *k, int want);
int kx_p_expect(kx_parser *ps, int type, const char *v); /* consumes the token or fails */
char *kx_p_tokdup(kx_parser *ps, const kx_tok *k);
int kx_p_reserved(const char *s); /* true, false, null, none in either case */

/* ---- nodes ---- */

kx_node *kx_p_node(kx_parser *ps, int type, const kx_tok *k);
/* Appends k (with k2 and name, both owned) to n's kids; frees all three on failure, also when k is NULL. */
int kx_p_add_kid(kx_parser *ps, kx_node *n, kx_node *k, kx_node *k2, char *name);

/* ---- expressions ---- */

kx_node *kx_parse_expr(kx_parser *ps, int min_prec);
int kx_parse_args(kx_parser *ps, kx_node *call); /* `(a, b, name=c)`; the opening parenthesis is current */
/* `| name(args)` or `is name(args)`; the name is current. Takes input (freed on failure). */
kx_node *kx_parse_invocation(kx_parser *ps, int type, kx_node *input, int negate);

#endif
