/* Private: the jq subset's syntax tree and evaluator, shared by expr_jq.c (parser, core) and
 * expr_jq_fn.c (builtins). Outputs are pushed to an emit callback (v borrowed); -1 = error in x->err. */
#ifndef KT_EXPR_JQ_JQ_H
#define KT_EXPR_JQ_JQ_H

#include "expr/expr_int.h"

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

typedef int (*kq_emit)(void *ud, json_t *v);

typedef struct kq_ctx {
    char *err;
    size_t errcap;
    int steps;
} kq_ctx;

int kx_jq_ev(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud);
int kx_jq_call(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud);
int kx_jq_err(kq_ctx *x, const char *fmt, const char *a);
const char *kx_jq_type(const json_t *v);
int kx_jq_cmp(const json_t *a, const json_t *b);
int kx_jq_truthy(const json_t *v);
json_t *kx_jq_num(double d);
int kx_jq_collect_cb(void *ud, json_t *v);
json_t *kx_jq_collect(kq_ctx *x, const kq_node *n, json_t *in);
json_t *kx_jq_first(kq_ctx *x, const kq_node *n, json_t *in, int *err);
int kx_jq_emit_new(kq_emit emit, void *ud, json_t *v);
json_t *kx_jq_arith(kq_ctx *x, const char *op, json_t *a, json_t *b);

#endif
