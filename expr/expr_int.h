/* Private to expr/: the syntax tree, the evaluation environment and the helpers the lexer,
 * parser, evaluator and the filter/function catalogues share. Prefix kx_. */
#ifndef KT_EXPR_EXPR_INT_H
#define KT_EXPR_EXPR_INT_H

#include <stdarg.h>
#include <stdint.h>

#include "base/json.h"
#include "expr/expr.h"

/* ---- errors ---- */

/* Kestra reports errors differently by family (reference 2.6), so the kind travels with the text. */
enum kx_err_kind {
    KX_E_NONE = 0,
    KX_E_NOTFOUND, /* attribute-not-found family: caught by ??, ???, is defined, default */
    KX_E_PEBBLE,   /* PebbleException: "io.pebbletemplates...PebbleException: msg (tmpl:line)" */
    KX_E_PARSE,    /* ParserException */
    KX_E_JAVA,     /* a Java runtime exception escaping as-is: just its message */
    KX_E_TYPED,    /* typed-writer IllegalArgumentException */
};

typedef struct kx_err {
    int kind;
    int line, col;
    char name[256]; /* KX_E_NOTFOUND: the attribute / variable / index text */
    char msg[512];
} kx_err;


/* ---- syntax tree ---- */

enum kx_node_type {
    /* statements */
    KX_N_BODY, KX_N_TEXT, KX_N_PRINT, KX_N_IF, KX_N_FOR, KX_N_SET, KX_N_FILTERBLK, KX_N_BLOCK, KX_N_MACRO,
    /* expressions */
    KX_N_LIT, KX_N_VAR, KX_N_ATTR, KX_N_METHOD, KX_N_LIST, KX_N_MAP, KX_N_UNARY, KX_N_BIN, KX_N_TERNARY,
    KX_N_FILTER, KX_N_TEST, KX_N_CALL, KX_N_CONCATS,
};

enum kx_op {
    KX_OP_NONE, KX_OP_OR, KX_OP_AND, KX_OP_NOT, KX_OP_NEG, KX_OP_POS,
    KX_OP_EQ, KX_OP_NE, KX_OP_LT, KX_OP_GT, KX_OP_LE, KX_OP_GE, KX_OP_CONTAINS,
    KX_OP_ADD, KX_OP_SUB, KX_OP_MUL, KX_OP_DIV, KX_OP_MOD,
    KX_OP_CONCAT, KX_OP_RANGE, KX_OP_COALESCE, KX_OP_UNDEF_COALESCE,
};

struct kx_builtin;
typedef struct kx_node kx_node;
struct kx_node {
    int type, op, line, col;
    kx_node *a, *b, *c;    /* operands / children */
    kx_node **kids;        /* body statements, list items, call arguments, if conditions */
    kx_node **kids2;       /* if bodies, map values */
    char **names;          /* call arguments: name of each named argument (NULL for positional) */
    int nkids;
    char *s;               /* name / text */
    size_t slen;
    json_t *lit;           /* literal value */
    const struct kx_builtin *bi; /* resolved filter / function / test */
    int negate;            /* is not */
    int height;            /* expression tree height, bounded at parse time */
};

/* ---- evaluation ---- */

#define KX_MAX_SCOPES 64

typedef struct kx_env {
    const json_t *ctx;
    json_t *scopes[KX_MAX_SCOPES]; /* [0] receives top-level {% set %} */
    int nscopes;
    const struct kt_tmpl *tmpl;
    kx_err *err;
    int depth;      /* nested render() calls */
    int plain;      /* printing to a plain (Java toString) buffer: macro bodies, {% filter %} */
    json_t *merged; /* cache for kt_expr_current_context / printContext */
    kt_buf *typed_out; /* renderTyped: writes to this buffer go through the typed writer */
    json_t *typed_val;
    int typed_set;
    kt_env *ambient; /* the caller's clock and random source (may be NULL): now(), uuid(), id(), randomInt() */
} kx_env;

struct kt_tmpl {
    char *src;
    size_t len;
    kx_node *root;
    kx_node **macros;
    int nmacros;
    kx_node **blocks;
    int nblocks;
};

/* Builtins: filters, functions and tests share one descriptor. For a filter `in` is the input; for a
 * function it is NULL. args has one slot per declared name (NULL = not given); variadic builtins
 * (nargs < 0) get all positional arguments. Return a new reference, or NULL with env->err set. */
typedef json_t *(*kx_fn)(kx_env *env, const kx_node *n, json_t *in, json_t **args, int nargs);
typedef struct kx_builtin {
    const char *name;
    kx_fn fn;
    const char *argnames[7]; /* NULL-terminated; empty = "no-arg": positional ignored */
    int variadic;
} kx_builtin;

const kx_builtin *kx_find_filter(const char *name);
const kx_builtin *kx_find_function(const char *name);
const kx_builtin *kx_find_test(const char *name);
/* the catalogues, NULL-terminated: every filter (filters.c), functions and tests (func.c) */
extern const kx_builtin kx_filters[];
extern const kx_builtin kx_functions_core[];
extern const kx_builtin kx_functions_kv[];    /* kv (func_kv.c) */
extern const kx_builtin kx_functions_files[]; /* read, fileURI, fileSize... (func_files.c) */
extern const kx_builtin kx_functions_secret[]; /* secret, encrypt, decrypt (func_secret.c) */
extern const kx_builtin kx_functions_loop[];   /* loopOutputs (func_loop.c) */
extern const kx_builtin kx_tests_core[];

/* parse / lex (parse.c, parse_tags.c, lex.c) */
kx_node *kx_parse_template(const char *src, size_t len, struct kt_tmpl *t, kx_err *err);
void kx_node_free(kx_node *n);

/* eval (eval.c) */
json_t *kx_eval(kx_env *env, const kx_node *n);
int kx_exec_body(kx_env *env, const kx_node *n, kt_buf *out);
int kx_truthy(kx_env *env, const kx_node *n, const json_t *v, int *out, const char *what);
json_t *kx_lookup(kx_env *env, const char *name); /* borrowed, NULL if absent */
json_t *kx_context_view(kx_env *env);             /* borrowed merged variables */
json_t *kx_render_value(kx_env *env, const kx_node *n, json_t *v, int recursive); /* render() */
json_t *kx_apply_filter(kx_env *env, const kx_node *f, json_t *input); /* f is a KX_N_FILTER; steals input */
int kx_eval_args(kx_env *env, const kx_node *n, const char *const *names, int variadic, json_t **slots, int max);
void kx_free_args(json_t **slots, int n);
const char *kx_raw_match(const char *p, const char *end, const char **inner, const char **inner_end);

/* errors (eval.c) */
void *kx_fail(kx_env *env, const kx_node *n, int kind, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void *kx_notfound(kx_env *env, const kx_node *n, const char *name);
/* ambient: the render's environment (NULL: none), whose secrets_used are masked in the message before it is cut */
void kx_format_error(const kx_err *e, const char *src, const kt_env *ambient, kt_expr_error *out);

/* values (value.c) */
const char *kx_java_class(const json_t *v);
void kx_print(kt_buf *b, const json_t *v);           /* JsonWriter rules */
void kx_tostring(kt_buf *b, const json_t *v);        /* Java toString */
char *kx_tostring_dup(const json_t *v);              /* Java toString, malloc'ed */
int kx_java_equals(const json_t *a, const json_t *b);
json_t *kx_hashmap_order(json_t *obj, size_t initial_capacity); /* steals obj, returns reordered */
json_t *kx_real(double d);                         /* json_real that keeps NaN / Infinity (as words) */
json_t *kx_str(const char *s);                       /* json_string that tolerates NULL / bad UTF-8 */
json_t *kx_strn(const char *s, size_t n);
int kx_utf16_len(const char *s, size_t n);

/* The caller's environment for the builtin at n that needs it (now, uuid...): NULL with env->err set when the render
 * was given none (expr_func.c). */
kt_env *kx_ambient(kx_env *env, const kx_node *n, const char *fn_name);

/* hashes (hash.c) */
void kx_md5(const void *p, size_t n, uint8_t out[16]);
void kx_sha1(const void *p, size_t n, uint8_t out[20]);
void kx_sha256(const void *p, size_t n, uint8_t out[32]);
void kx_sha512(const void *p, size_t n, uint8_t out[64]);

/* yaml (yaml.c) */
void kx_yaml_write(kt_buf *b, const json_t *v);
json_t *kx_yaml_parse(const char *s, char *err, size_t errcap);

/* registered external functions (func.c) */
json_t *kx_call_registered(kx_env *env, const kx_node *n, int *found);

#endif
