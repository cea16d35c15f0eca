/* Pebble's parser (reference 1.3-1.5): precedence climbing over the operator table of 1.4, the tags
 * Kestra keeps (if, for, set, filter, macro, block), and primary expressions with postfixes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/lex.h"

typedef struct parser {
    kx_tok *t;
    size_t n, i;
    kx_err *err;
    struct kt_tmpl *tmpl;
    const char *src;
    int depth; /* nesting of expressions and tags: bounded so hostile input cannot exhaust the stack */
} parser;

static kx_node *parse_expr(parser *ps, int min_prec);
static kx_node *parse_body(parser *ps, const char *const *stops, const char **which);

/* Records n's height from its direct children; long operator or attribute chains would otherwise make
 * evaluation recurse without bound. Frees n and fails past the limit. */
#define KX_MAX_HEIGHT 300
static kx_node *sized(parser *ps, kx_node *n);

static kx_tok *cur(parser *ps) { return &ps->t[ps->i]; }
static kx_tok *peek(parser *ps, size_t k) { return &ps->t[ps->i + k < ps->n ? ps->i + k : ps->n - 1]; }

static int tok_is(const kx_tok *k, int type, const char *v)
{
    if (k->type != type) return 0;
    if (!v) return 1;
    return strlen(v) == k->n && memcmp(k->p, v, k->n) == 0;
}

static void *pfail(parser *ps, const kx_tok *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void *pfail(parser *ps, const kx_tok *k, const char *fmt, ...)
{
    if (ps->err->kind) return NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err->msg, sizeof ps->err->msg, fmt, ap);
    va_end(ap);
    ps->err->kind = KX_E_PARSE;
    ps->err->line = k->line;
    ps->err->col = k->col;
    return NULL;
}

static void oom(parser *ps) { pfail(ps, cur(ps), "out of memory"); }

static kx_node *node(parser *ps, int type, const kx_tok *k)
{
    kx_node *n = calloc(1, sizeof *n);
    if (!n) {
        oom(ps);
        return NULL;
    }
    n->type = type;
    n->line = k->line;
    n->col = k->col;
    return n;
}

void kx_node_free(kx_node *n)
{
    if (!n) return;
    kx_node_free(n->a);
    kx_node_free(n->b);
    kx_node_free(n->c);
    for (int i = 0; i < n->nkids; i++) {
        if (n->kids) kx_node_free(n->kids[i]);
        if (n->kids2) kx_node_free(n->kids2[i]);
        if (n->names) free(n->names[i]);
    }
    free(n->kids);
    free(n->kids2);
    free(n->names);
    free(n->s);
    if (n->lit && (json_is_string(n->lit) || json_is_number(n->lit))) n->lit->refcount = 1;
    json_decref(n->lit);
    free(n);
}

static kx_node *sized(parser *ps, kx_node *n)
{
    if (!n) return NULL;
    int h = 0;
    const kx_node *ch[3] = {n->a, n->b, n->c};
    for (int i = 0; i < 3; i++)
        if (ch[i] && ch[i]->height > h) h = ch[i]->height;
    for (int i = 0; i < n->nkids; i++) {
        if (n->kids && n->kids[i] && n->kids[i]->height > h) h = n->kids[i]->height;
        if (n->kids2 && n->kids2[i] && n->kids2[i]->height > h) h = n->kids2[i]->height;
    }
    n->height = h + 1;
    if (n->height > KX_MAX_HEIGHT) {
        pfail(ps, cur(ps), "Expression nested too deeply");
        kx_node_free(n);
        return NULL;
    }
    return n;
}

static int add_kid(parser *ps, kx_node *n, kx_node *k, kx_node *k2, char *name)
{
    if (!k) {
        free(name);
        kx_node_free(k2);
        return -1;
    }
    if ((n->nkids & (n->nkids - 1)) == 0) { /* grow at powers of two */
        size_t cap = n->nkids ? (size_t)n->nkids * 2 : 1;
        kx_node **a = realloc(n->kids, cap * sizeof *a);
        if (a) n->kids = a;
        kx_node **b = realloc(n->kids2, cap * sizeof *b);
        if (b) n->kids2 = b;
        char **c = realloc(n->names, cap * sizeof *c);
        if (c) n->names = c;
        if (!a || !b || !c) {
            kx_node_free(k);
            kx_node_free(k2);
            free(name);
            oom(ps);
            return -1;
        }
    }
    n->kids[n->nkids] = k;
    n->kids2[n->nkids] = k2;
    n->names[n->nkids] = name;
    n->nkids++;
    return 0;
}

static char *tokdup(parser *ps, const kx_tok *k)
{
    char *s = strndup(k->p, k->n);
    if (!s) oom(ps);
    return s;
}

static void *unexpected(parser *ps, const kx_tok *k, int want)
{
    char v[128];
    if (k->type == KX_T_EOF || k->type == KX_T_PRINT_END || k->type == KX_T_EXEC_END)
        snprintf(v, sizeof v, "null");
    else
        snprintf(v, sizeof v, "%.*s", (int)(k->n > 100 ? 100 : k->n), k->str ? k->str : k->p);
    return pfail(ps, k, "Unexpected token of value \"%s\" and type %s, expected token of type %s", v,
                 kx_tok_type_name(k->type), kx_tok_type_name(want));
}

static int expect(parser *ps, int type, const char *v)
{
    if (tok_is(cur(ps), type, v)) {
        ps->i++;
        return 0;
    }
    unexpected(ps, cur(ps), type);
    return -1;
}

/* ---- operators ---- */

typedef struct opdef {
    const char *sym;
    int prec, op;
} opdef;

static const opdef k_binops[] = {
    {"or", 10, KX_OP_OR},        {"and", 15, KX_OP_AND},       {"is", 20, -1},        {"is not", 20, -2},
    {"contains", 20, KX_OP_CONTAINS}, {"==", 30, KX_OP_EQ},   {"equals", 30, KX_OP_EQ}, {"!=", 30, KX_OP_NE},
    {"<", 30, KX_OP_LT},         {">", 30, KX_OP_GT},          {"<=", 30, KX_OP_LE},  {">=", 30, KX_OP_GE},
    {"+", 40, KX_OP_ADD},        {"-", 40, KX_OP_SUB},         {"*", 60, KX_OP_MUL},  {"/", 60, KX_OP_DIV},
    {"%", 60, KX_OP_MOD},        {"|", 100, -3},               {"~", 110, KX_OP_CONCAT}, {"..", 120, KX_OP_RANGE},
    {"??", 120, KX_OP_COALESCE}, {"???", 120, KX_OP_UNDEF_COALESCE}, {NULL, 0, 0},
};

static const opdef *binop(const kx_tok *k)
{
    if (k->type != KX_T_OP) return NULL;
    for (const opdef *o = k_binops; o->sym; o++)
        if (tok_is(k, KX_T_OP, o->sym)) return o;
    return NULL;
}

static int is_reserved(const char *s)
{
    static const char *r[] = {"true", "TRUE", "false", "FALSE", "null", "NULL", "none", "NONE", NULL};
    for (int i = 0; r[i]; i++)
        if (!strcmp(s, r[i])) return 1;
    return 0;
}

/* `(a, b, name=c)`; the opening parenthesis is current. */
static int parse_args(parser *ps, kx_node *call)
{
    ps->i++;
    int named_seen = 0;
    if (tok_is(cur(ps), KX_T_PUNCT, ")")) {
        ps->i++;
        return 0;
    }
    for (;;) {
        char *name = NULL;
        if (cur(ps)->type == KX_T_NAME && tok_is(peek(ps, 1), KX_T_PUNCT, "=")) {
            if (!(name = tokdup(ps, cur(ps)))) return -1;
            ps->i += 2;
            named_seen = 1;
        } else if (named_seen) {
            pfail(ps, cur(ps), "Positional arguments must be declared before any named arguments.");
            return -1;
        }
        if (add_kid(ps, call, parse_expr(ps, 0), NULL, name)) return -1;
        if (tok_is(cur(ps), KX_T_PUNCT, ",")) {
            ps->i++;
            continue;
        }
        return expect(ps, KX_T_PUNCT, ")");
    }
}

static kx_node *parse_postfix(parser *ps, kx_node *e)
{
    if (!e) return NULL; /* the primary failed and already said why */
    for (;;) {
        kx_tok *k = cur(ps);
        if (tok_is(k, KX_T_PUNCT, ".")) {
            ps->i++;
            kx_tok *nm = cur(ps);
            int word_op = nm->type == KX_T_OP && nm->n > 1 && nm->p[0] >= 'a' && nm->p[0] <= 'z' && !memchr(nm->p, ' ', nm->n);
            if (nm->type != KX_T_NAME && nm->type != KX_T_NUMBER && nm->type != KX_T_LONG && !word_op) {
                kx_node_free(e);
                return unexpected(ps, nm, KX_T_NAME);
            }
            ps->i++;
            int method = tok_is(cur(ps), KX_T_PUNCT, "(");
            kx_node *n = node(ps, method ? KX_N_METHOD : KX_N_ATTR, nm);
            if (!n) {
                kx_node_free(e);
                return NULL;
            }
            n->a = e;
            if (!(n->s = tokdup(ps, nm))) {
                kx_node_free(n);
                return NULL;
            }
            if (method) {
                if (parse_args(ps, n)) {
                    kx_node_free(n);
                    return NULL;
                }
                for (int i = 0; i < n->nkids; i++)
                    if (n->names[i]) {
                        kx_node_free(n);
                        return pfail(ps, nm, "Can not use named arguments when calling a bean method");
                    }
            }
            if (!(e = sized(ps, n))) return NULL;
        } else if (tok_is(k, KX_T_PUNCT, "[")) {
            ps->i++;
            kx_node *n = node(ps, KX_N_ATTR, k);
            if (!n) {
                kx_node_free(e);
                return NULL;
            }
            n->a = e;
            n->b = parse_expr(ps, 0);
            if (!n->b || expect(ps, KX_T_PUNCT, "]")) {
                kx_node_free(n);
                return NULL;
            }
            if (!(e = sized(ps, n))) return NULL;
        } else {
            return e;
        }
    }
}

static kx_node *literal(parser *ps, const kx_tok *k, json_t *v)
{
    if (!v) {
        oom(ps);
        return NULL;
    }
    kx_node *n = node(ps, KX_N_LIT, k);
    if (!n) {
        json_decref(v);
        return NULL;
    }
    n->lit = v;
    /* Literals are shared by every render of the template, possibly on several threads: pin them with
     * jansson's "immortal" refcount so evaluation never writes to them (kx_node_free unpins). */
    if (json_is_string(v) || json_is_number(v)) v->refcount = (size_t)-1;
    return n;
}

/* `"a#{x}b"`: literal runs and interpolations, joined with ~ semantics at run time. */
static kx_node *parse_istring(parser *ps, const kx_tok *k)
{
    kx_node *n = node(ps, KX_N_CONCATS, k);
    if (!n) return NULL;
    const char *s = k->str, *run = s;
    while (*s) {
        if (*s == '\\' && s[1]) {
            s += 2;
            continue;
        }
        if (s[0] == '#' && s[1] == '{') {
            if (s > run && add_kid(ps, n, literal(ps, k, json_stringn(run, (size_t)(s - run))), NULL, NULL)) goto fail;
            const char *e = s + 2;
            int depth = 1;
            while (*e) {
                if (*e == '\'' || *e == '"') {
                    char q = *e++;
                    while (*e && *e != q) e += (*e == '\\' && e[1]) ? 2 : 1;
                    if (*e) e++;
                    continue;
                }
                if (*e == '{') depth++;
                if (*e == '}' && --depth == 0) break;
                e++;
            }
            kx_toks sub = {0};
            if (kx_lex(s + 2, (size_t)(e - s - 2), 1, k->line, k->col, &sub, ps->err)) {
                kx_toks_free(&sub);
                goto fail;
            }
            parser sp = {.t = sub.v, .n = sub.n, .err = ps->err, .tmpl = ps->tmpl, .src = ps->src};
            kx_node *x = parse_expr(&sp, 0);
            if (x && sp.t[sp.i].type != KX_T_EOF) {
                kx_node_free(x);
                x = unexpected(&sp, &sp.t[sp.i], KX_T_PUNCT);
            }
            kx_toks_free(&sub);
            if (add_kid(ps, n, x, NULL, NULL)) goto fail;
            s = *e ? e + 1 : e;
            run = s;
            continue;
        }
        s++;
    }
    if (s > run && add_kid(ps, n, literal(ps, k, json_stringn(run, (size_t)(s - run))), NULL, NULL)) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

static kx_node *parse_primary(parser *ps)
{
    kx_tok *k = cur(ps);
    kx_node *n = NULL;
    switch (k->type) {
    case KX_T_NAME: {
        char *name = tokdup(ps, k);
        if (!name) return NULL;
        ps->i++;
        if (!strcmp(name, "true") || !strcmp(name, "TRUE")) {
            free(name);
            return parse_postfix(ps, literal(ps, k, json_true()));
        }
        if (!strcmp(name, "false") || !strcmp(name, "FALSE")) {
            free(name);
            return parse_postfix(ps, literal(ps, k, json_false()));
        }
        if (is_reserved(name)) {
            free(name);
            return parse_postfix(ps, literal(ps, k, json_null()));
        }
        if (tok_is(cur(ps), KX_T_PUNCT, "(")) {
            n = node(ps, KX_N_CALL, k);
            if (!n) {
                free(name);
                return NULL;
            }
            n->s = name;
            n->bi = kx_find_function(name);
            if (parse_args(ps, n)) {
                kx_node_free(n);
                return NULL;
            }
        } else {
            n = node(ps, KX_N_VAR, k);
            if (!n) {
                free(name);
                return NULL;
            }
            n->s = name;
        }
        return parse_postfix(ps, n);
    }
    case KX_T_NUMBER:
    case KX_T_LONG: {
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)(k->n < 63 ? k->n : 63), k->p);
        ps->i++;
        json_t *v;
        if (memchr(buf, '.', strlen(buf))) {
            v = json_real(strtod(buf, NULL));
        } else {
            errno = 0;
            long long x = strtoll(buf, NULL, 10);
            if (errno) return pfail(ps, k, "For input string: \"%s\"", buf);
            v = json_integer(x);
        }
        return parse_postfix(ps, literal(ps, k, v));
    }
    case KX_T_STRING:
        ps->i++;
        return parse_postfix(ps, literal(ps, k, kx_str(k->str)));
    case KX_T_ISTRING:
        ps->i++;
        return parse_postfix(ps, parse_istring(ps, k));
    case KX_T_PUNCT:
        if (tok_is(k, KX_T_PUNCT, "[")) {
            ps->i++;
            n = node(ps, KX_N_LIST, k);
            if (!n) return NULL;
            if (!tok_is(cur(ps), KX_T_PUNCT, "]")) {
                for (;;) {
                    if (add_kid(ps, n, parse_expr(ps, 0), NULL, NULL)) goto fail;
                    if (!tok_is(cur(ps), KX_T_PUNCT, ",")) break;
                    ps->i++;
                }
            }
            if (expect(ps, KX_T_PUNCT, "]")) goto fail;
            return n; /* no postfix after a list literal (reference 1.4) */
        }
        if (tok_is(k, KX_T_PUNCT, "{")) {
            ps->i++;
            n = node(ps, KX_N_MAP, k);
            if (!n) return NULL;
            if (!tok_is(cur(ps), KX_T_PUNCT, "}")) {
                for (;;) {
                    kx_node *key = parse_expr(ps, 0);
                    if (!key) goto fail;
                    if (expect(ps, KX_T_PUNCT, ":")) {
                        kx_node_free(key);
                        goto fail;
                    }
                    kx_node *val = parse_expr(ps, 0);
                    if (!val) {
                        kx_node_free(key);
                        goto fail;
                    }
                    if (add_kid(ps, n, key, val, NULL)) goto fail;
                    if (!tok_is(cur(ps), KX_T_PUNCT, ",")) break;
                    ps->i++;
                }
            }
            if (expect(ps, KX_T_PUNCT, "}")) goto fail;
            return n;
        }
        if (tok_is(k, KX_T_PUNCT, "(")) {
            ps->i++;
            n = parse_expr(ps, 0);
            if (!n) return NULL;
            if (expect(ps, KX_T_PUNCT, ")")) goto fail;
            return parse_postfix(ps, n);
        }
        break;
    default:
        break;
    }
    {
        char v[128];
        snprintf(v, sizeof v, "%.*s", (int)(k->n > 100 ? 100 : k->n), k->p);
        return pfail(ps, k, "Unexpected token \"%s\" of value \"%s\"", kx_tok_type_name(k->type),
                     k->type == KX_T_EOF || k->type == KX_T_PRINT_END || k->type == KX_T_EXEC_END ? "null" : v);
    }
fail:
    kx_node_free(n);
    return NULL;
}

/* `| name(args)` or `is name(args)`; the name is current. */
static kx_node *parse_invocation(parser *ps, int type, kx_node *input, int negate)
{
    kx_tok *k = cur(ps);
    if (k->type != KX_T_NAME) {
        kx_node_free(input);
        return unexpected(ps, k, KX_T_NAME);
    }
    kx_node *n = node(ps, type, k);
    if (!n) {
        kx_node_free(input);
        return NULL;
    }
    n->a = input;
    n->negate = negate;
    if (!(n->s = tokdup(ps, k))) goto fail;
    n->bi = type == KX_N_FILTER ? kx_find_filter(n->s) : kx_find_test(n->s);
    ps->i++;
    if (tok_is(cur(ps), KX_T_PUNCT, "(") && parse_args(ps, n)) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

static kx_node *parse_expr_inner(parser *ps, int min_prec);
static kx_node *parse_expr(parser *ps, int min_prec)
{
    if (ps->depth >= 256) return pfail(ps, cur(ps), "Expression nested too deeply");
    ps->depth++;
    kx_node *r = parse_expr_inner(ps, min_prec);
    ps->depth--;
    return r;
}

static kx_node *parse_expr_inner(parser *ps, int min_prec)
{
    kx_tok *k = cur(ps);
    kx_node *e;
    if (k->type == KX_T_OP && (tok_is(k, KX_T_OP, "not") || tok_is(k, KX_T_OP, "-") || tok_is(k, KX_T_OP, "+"))) {
        ps->i++;
        e = node(ps, KX_N_UNARY, k);
        if (!e) return NULL;
        e->op = k->p[0] == 'n' ? KX_OP_NOT : k->p[0] == '-' ? KX_OP_NEG : KX_OP_POS;
        if (!(e->a = parse_expr(ps, 500))) {
            kx_node_free(e);
            return NULL;
        }
        if (!(e = sized(ps, e))) return NULL;
    } else {
        e = parse_primary(ps);
        if (!e) return NULL;
    }
    for (;;) {
        kx_tok *o = cur(ps);
        const opdef *d = binop(o);
        if (!d || d->prec < min_prec) break;
        ps->i++;
        if (d->op == -1 || d->op == -2) {
            e = parse_invocation(ps, KX_N_TEST, e, d->op == -2);
        } else if (d->op == -3) {
            e = parse_invocation(ps, KX_N_FILTER, e, 0);
        } else {
            kx_node *n = node(ps, KX_N_BIN, o);
            if (!n) {
                kx_node_free(e);
                return NULL;
            }
            n->op = d->op;
            n->a = e;
            e = n;
            if (!(n->b = parse_expr(ps, d->prec + 1))) {
                kx_node_free(e);
                return NULL;
            }
        }
        if (!(e = sized(ps, e))) return NULL;
    }
    if (min_prec == 0 && tok_is(cur(ps), KX_T_PUNCT, "?")) {
        kx_node *n = node(ps, KX_N_TERNARY, cur(ps));
        if (!n) {
            kx_node_free(e);
            return NULL;
        }
        ps->i++;
        n->a = e;
        if (!(n->b = parse_expr(ps, 0)) || expect(ps, KX_T_PUNCT, ":") || !(n->c = parse_expr(ps, 0))) {
            kx_node_free(n);
            return NULL;
        }
        e = sized(ps, n);
    }
    return e;
}

/* ---- tags ---- */

static int expect_exec_end(parser *ps) { return expect(ps, KX_T_EXEC_END, NULL); }

static kx_node *parse_if(parser *ps, const kx_tok *tag)
{
    static const char *const stops[] = {"elseif", "else", "endif", NULL};
    kx_node *n = node(ps, KX_N_IF, tag);
    if (!n) return NULL;
    const char *which = "elseif";
    while (!strcmp(which, "elseif")) {
        kx_node *cond = parse_expr(ps, 0);
        if (!cond || expect_exec_end(ps)) {
            kx_node_free(cond);
            goto fail;
        }
        kx_node *body = parse_body(ps, stops, &which);
        if (!body) {
            kx_node_free(cond);
            goto fail;
        }
        if (add_kid(ps, n, cond, body, NULL)) goto fail;
    }
    if (!strcmp(which, "else")) {
        static const char *const stops2[] = {"endif", NULL};
        if (expect_exec_end(ps) || !(n->c = parse_body(ps, stops2, &which))) goto fail;
    }
    if (expect_exec_end(ps)) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

static kx_node *parse_for(parser *ps, const kx_tok *tag)
{
    static const char *const stops[] = {"else", "endfor", NULL};
    kx_node *n = node(ps, KX_N_FOR, tag);
    if (!n) return NULL;
    kx_tok *v = cur(ps);
    if (v->type != KX_T_NAME) {
        unexpected(ps, v, KX_T_NAME);
        goto fail;
    }
    if (!(n->s = tokdup(ps, v))) goto fail;
    if (is_reserved(n->s)) {
        pfail(ps, v, "Can not assign a value to %s", n->s);
        goto fail;
    }
    ps->i++;
    if (expect(ps, KX_T_NAME, "in")) goto fail;
    const char *which;
    if (!(n->a = parse_expr(ps, 0)) || expect_exec_end(ps) || !(n->b = parse_body(ps, stops, &which))) goto fail;
    if (!strcmp(which, "else")) {
        static const char *const stops2[] = {"endfor", NULL};
        if (expect_exec_end(ps) || !(n->c = parse_body(ps, stops2, &which))) goto fail;
    }
    if (expect_exec_end(ps)) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

static kx_node *parse_set(parser *ps, const kx_tok *tag)
{
    kx_node *n = node(ps, KX_N_SET, tag);
    if (!n) return NULL;
    kx_tok *v = cur(ps);
    if (v->type != KX_T_NAME) {
        unexpected(ps, v, KX_T_NAME);
        goto fail;
    }
    if (!(n->s = tokdup(ps, v))) goto fail;
    if (is_reserved(n->s)) {
        pfail(ps, v, "Can not assign a value to %s", n->s);
        goto fail;
    }
    ps->i++;
    if (expect(ps, KX_T_PUNCT, "=") || !(n->a = parse_expr(ps, 0)) || expect_exec_end(ps)) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

/* `{% filter upper | replace(...) %}`: a chain of filter invocations applied to a body placeholder. */
static kx_node *parse_filter_tag(parser *ps, const kx_tok *tag)
{
    static const char *const stops[] = {"endfilter", NULL};
    kx_node *n = node(ps, KX_N_FILTERBLK, tag);
    if (!n) return NULL;
    kx_node *chain = NULL; /* innermost input is NULL: the evaluator substitutes the body */
    for (;;) {
        kx_node *f = parse_invocation(ps, KX_N_FILTER, chain, 0);
        if (!f) goto fail;
        chain = f;
        if (!tok_is(cur(ps), KX_T_OP, "|")) break;
        ps->i++;
    }
    n->a = chain;
    const char *which;
    if (expect_exec_end(ps) || !(n->b = parse_body(ps, stops, &which)) || expect_exec_end(ps)) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

static int add_named(parser *ps, kx_node ***arr, int *cnt, kx_node *n)
{
    kx_node **a = realloc(*arr, (size_t)(*cnt + 1) * sizeof *a);
    if (!a) {
        oom(ps);
        return -1;
    }
    a[(*cnt)++] = n;
    *arr = a;
    return 0;
}

static kx_node *parse_macro(parser *ps, const kx_tok *tag)
{
    static const char *const stops[] = {"endmacro", NULL};
    kx_tok *nm = cur(ps);
    if (nm->type != KX_T_NAME) return unexpected(ps, nm, KX_T_NAME);
    kx_node *n = node(ps, KX_N_MACRO, tag);
    if (!n || !(n->s = tokdup(ps, nm))) goto fail;
    ps->i++;
    if (!tok_is(cur(ps), KX_T_PUNCT, "(")) {
        unexpected(ps, cur(ps), KX_T_PUNCT);
        goto fail;
    }
    if (parse_args(ps, n)) goto fail;
    for (int i = 0; i < n->nkids; i++) { /* parameters: `a` or `a = default` */
        if (n->names[i]) continue;
        if (n->kids[i]->type != KX_N_VAR) {
            pfail(ps, nm, "Macro parameters must be names");
            goto fail;
        }
        n->names[i] = n->kids[i]->s;
        n->kids[i]->s = NULL;
        kx_node_free(n->kids[i]);
        n->kids[i] = NULL;
    }
    const char *which;
    if (expect_exec_end(ps) || !(n->b = parse_body(ps, stops, &which))) goto fail;
    if (cur(ps)->type == KX_T_NAME) ps->i++;
    if (expect_exec_end(ps)) goto fail;
    for (int i = 0; i < ps->tmpl->nmacros; i++)
        if (!strcmp(ps->tmpl->macros[i]->s, n->s)) {
            pfail(ps, nm, "More than one macro can not share the same name: %s", n->s);
            goto fail;
        }
    if (add_named(ps, &ps->tmpl->macros, &ps->tmpl->nmacros, n)) goto fail;
    return node(ps, KX_N_BODY, tag); /* the definition prints nothing where it stands */
fail:
    kx_node_free(n);
    return NULL;
}

static kx_node *parse_block(parser *ps, const kx_tok *tag)
{
    static const char *const stops[] = {"endblock", NULL};
    kx_tok *nm = cur(ps);
    if (nm->type != KX_T_NAME && nm->type != KX_T_STRING) return unexpected(ps, nm, KX_T_NAME);
    kx_node *n = node(ps, KX_N_BLOCK, tag);
    if (!n || !(n->s = nm->str ? strdup(nm->str) : tokdup(ps, nm))) goto fail;
    ps->i++;
    const char *which;
    if (expect_exec_end(ps) || !(n->b = parse_body(ps, stops, &which))) goto fail;
    if (cur(ps)->type == KX_T_NAME || cur(ps)->type == KX_T_STRING) ps->i++;
    if (expect_exec_end(ps)) goto fail;
    kx_node *ref = node(ps, KX_N_BLOCK, tag); /* the tree keeps a reference node; the table owns n */
    if (!ref) goto fail;
    ref->s = strdup(n->s);
    if (!ref->s || add_named(ps, &ps->tmpl->blocks, &ps->tmpl->nblocks, n)) {
        kx_node_free(ref);
        goto fail;
    }
    return ref;
fail:
    kx_node_free(n);
    return NULL;
}

/* Parses statements until one of `stops` (tag names) is the next tag; sets *which to it, leaving the
 * token after the tag name current. stops == NULL parses to EOF. */
static kx_node *parse_body(parser *ps, const char *const *stops, const char **which)
{
    if (ps->depth >= 256) return pfail(ps, cur(ps), "Tags nested too deeply");
    kx_node *body = node(ps, KX_N_BODY, cur(ps));
    if (!body) return NULL;
    ps->depth++;
    for (;;) {
        kx_tok *k = cur(ps);
        kx_node *st = NULL;
        if (k->type == KX_T_EOF) {
            if (!stops) {
                ps->depth--;
                return body;
            }
            if (!stops[1])
                pfail(ps, k, "Unexpected end of template. Pebble was looking for the \"%s\" tag", stops[0]);
            else if (!strcmp(stops[0], "elseif"))
                pfail(ps, k, "Unexpected end of template. Pebble was looking for the following tags \"else\", "
                             "\"elseif\", or \"endif\"");
            else
                pfail(ps, k, "Unexpected end of template. Pebble was looking for the \"%s\" tag", stops[1]);
            goto fail;
        }
        if (k->type == KX_T_TEXT) {
            st = node(ps, KX_N_TEXT, k);
            if (st && !(st->s = malloc(k->n + 1))) { /* text may hold NUL bytes: copy by length */
                kx_node_free(st);
                st = NULL;
                oom(ps);
            }
            if (st) {
                memcpy(st->s, k->p, k->n);
                st->s[k->n] = 0;
                st->slen = k->n;
            }
            ps->i++;
        } else if (k->type == KX_T_PRINT_START) {
            ps->i++;
            st = node(ps, KX_N_PRINT, k);
            if (st && (!(st->a = parse_expr(ps, 0)) || expect(ps, KX_T_PRINT_END, NULL))) {
                kx_node_free(st);
                st = NULL;
            }
        } else if (k->type == KX_T_EXEC_START) {
            ps->i++;
            kx_tok *tag = cur(ps);
            if (tag->type != KX_T_NAME) {
                pfail(ps, tag, "A block must start with a tag name.");
                goto fail;
            }
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)(tag->n < 31 ? tag->n : 31), tag->p);
            for (int i = 0; stops && stops[i]; i++)
                if (!strcmp(name, stops[i])) {
                    *which = stops[i];
                    ps->i++;
                    ps->depth--;
                    return body;
                }
            ps->i++;
            if (!strcmp(name, "if")) st = parse_if(ps, tag);
            else if (!strcmp(name, "for")) st = parse_for(ps, tag);
            else if (!strcmp(name, "set")) st = parse_set(ps, tag);
            else if (!strcmp(name, "filter")) st = parse_filter_tag(ps, tag);
            else if (!strcmp(name, "macro")) st = parse_macro(ps, tag);
            else if (!strcmp(name, "block")) st = parse_block(ps, tag);
            else {
                pfail(ps, tag, "Unexpected tag name \"%s\"", name);
                goto fail;
            }
        } else {
            unexpected(ps, k, KX_T_EOF);
            goto fail;
        }
        if (add_kid(ps, body, st, NULL, NULL)) goto fail;
    }
fail:
    ps->depth--;
    kx_node_free(body);
    return NULL;
}

kx_node *kx_parse_template(const char *src, size_t len, struct kt_tmpl *t, kx_err *err)
{
    kx_toks toks = {0};
    kx_node *root = NULL;
    if (kx_lex(src, len, 0, 1, 1, &toks, err)) goto done;
    parser ps = {.t = toks.v, .n = toks.n, .err = err, .tmpl = t, .src = src};
    const char *which;
    root = parse_body(&ps, NULL, &which);
done:
    kx_toks_free(&toks);
    return root;
}
