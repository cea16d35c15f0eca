/* Private to expr/jq/: the jq subset's syntax tree (jq_parse.c builds it), its evaluator (jq.c) and builtins
 * (jq_fn.c). Outputs are pushed to an emit callback (v borrowed); -1 = error in x->err. Prefix kq_. */
#ifndef KT_EXPR_JQ_JQ_INT_H
#define KT_EXPR_JQ_JQ_INT_H

#include "expr/expr_int.h"
#include "expr/jq/jq.h"

enum { J_IDENTITY, J_RECURSE, J_FIELD, J_INDEX, J_ITER, J_SLICE, J_LIT, J_PIPE, J_COMMA, J_ALT, J_OR, J_AND,
       J_BIN, J_NEG, J_ARRAY, J_OBJECT, J_CALL, J_IF, J_TRY };

typedef struct kq_node kq_node;
struct kq_node {
    int t;
    char op[3];
    kq_node *a, *b, *c;       /* operands; J_IF: cond a, then b, else c */
    kq_node **args;           /* J_CALL args, J_OBJECT keys/values interleaved */
    int nargs;
    char *name;
    json_t *lit;
};

/* ---- parsing (jq_parse.c) ---- */

/* Every node of a program lives in one arena, so the parser's error paths need no unwinding. */
typedef struct kq_arena {
    kq_node **all;
    size_t n, cap;
} kq_arena;

/* Parses expr into nodes owned by *arena (zeroed by the caller, released with kq_arena_free even after a
 * failure). Returns the root, or NULL with "<message> at position <n>" in err. */
kq_node *kq_parse(const char *expr, kq_arena *arena, char *err, size_t errcap);
void kq_arena_free(kq_arena *arena);

/* ---- evaluation (jq.c) ---- */

typedef int (*kq_emit)(void *ud, json_t *v);

typedef struct kq_ctx {
    char *err;
    size_t errcap;
    int steps;
} kq_ctx;

int kq_ev(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud);
int kq_err(kq_ctx *x, const char *fmt, const char *a);
const char *kq_type(const json_t *v);
int kq_cmp(const json_t *a, const json_t *b);
int kq_truthy(const json_t *v);
json_t *kq_num(double d);
int kq_collect_cb(void *ud, json_t *v);
json_t *kq_collect(kq_ctx *x, const kq_node *n, json_t *in);
json_t *kq_first(kq_ctx *x, const kq_node *n, json_t *in, int *err);
int kq_emit_new(kq_emit emit, void *ud, json_t *v);
json_t *kq_arith(kq_ctx *x, const char *op, json_t *a, json_t *b);

/* ---- builtins (jq_fn.c) ---- */

/* A J_CALL: the builtin of that name and arity, or "<name>/<arity> is not defined". */
int kq_call(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud);

#endif
