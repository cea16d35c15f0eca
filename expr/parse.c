/* Pebble's parser, expressions (reference 1.4, 1.5): precedence climbing over the operator table of 1.4, primary
 * expressions with postfixes, filter and test invocations; and the parser state's helpers the tags share
 * (parse_tags.c parses the statements: text, prints and the tags Kestra keeps). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/parse.h"

/* Records n's height from its direct children; long operator or attribute chains would otherwise make
 * evaluation recurse without bound. Frees n and fails past the limit. */
#define KX_MAX_HEIGHT 300
static kx_node *sized(kx_parser *ps, kx_node *n);

kx_tok *kx_p_cur(kx_parser *ps) { return &ps->t[ps->i]; }
static kx_tok *peek(kx_parser *ps, size_t k) { return &ps->t[ps->i + k < ps->n ? ps->i + k : ps->n - 1]; }

int kx_p_is(const kx_tok *k, int type, const char *v)
{
    if (k->type != type) return 0;
    if (!v) return 1;
    return strlen(v) == k->n && memcmp(k->p, v, k->n) == 0;
}

void *kx_p_fail(kx_parser *ps, const kx_tok *k, const char *fmt, ...)
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

void kx_p_oom(kx_parser *ps) { kx_p_fail(ps, kx_p_cur(ps), "out of memory"); }

kx_node *kx_p_node(kx_parser *ps, int type, const kx_tok *k)
{
    kx_node *n = calloc(1, sizeof *n);
    if (!n) {
        kx_p_oom(ps);
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

static kx_node *sized(kx_parser *ps, kx_node *n)
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
        kx_p_fail(ps, kx_p_cur(ps), "Expression nested too deeply");
        kx_node_free(n);
        return NULL;
    }
    return n;
}

int kx_p_add_kid(kx_parser *ps, kx_node *n, kx_node *k, kx_node *k2, char *name)
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
            kx_p_oom(ps);
            return -1;
        }
    }
    n->kids[n->nkids] = k;
    n->kids2[n->nkids] = k2;
    n->names[n->nkids] = name;
    n->nkids++;
    return 0;
}

char *kx_p_tokdup(kx_parser *ps, const kx_tok *k)
{
    char *s = strndup(k->p, k->n);
    if (!s) kx_p_oom(ps);
    return s;
}

void *kx_p_unexpected(kx_parser *ps, const kx_tok *k, int want)
{
    char v[128];
    if (k->type == KX_T_EOF || k->type == KX_T_PRINT_END || k->type == KX_T_EXEC_END)
        snprintf(v, sizeof v, "null");
    else
        snprintf(v, sizeof v, "%.*s", (int)(k->n > 100 ? 100 : k->n), k->str ? k->str : k->p);
    return kx_p_fail(ps, k, "Unexpected token of value \"%s\" and type %s, expected token of type %s", v,
                 kx_tok_type_name(k->type), kx_tok_type_name(want));
}

int kx_p_expect(kx_parser *ps, int type, const char *v)
{
    if (kx_p_is(kx_p_cur(ps), type, v)) {
        ps->i++;
        return 0;
    }
    kx_p_unexpected(ps, kx_p_cur(ps), type);
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
        if (kx_p_is(k, KX_T_OP, o->sym)) return o;
    return NULL;
}

int kx_p_reserved(const char *s)
{
    static const char *r[] = {"true", "TRUE", "false", "FALSE", "null", "NULL", "none", "NONE", NULL};
    for (int i = 0; r[i]; i++)
        if (!strcmp(s, r[i])) return 1;
    return 0;
}

/* `(a, b, name=c)`; the opening parenthesis is current. */
int kx_parse_args(kx_parser *ps, kx_node *call)
{
    ps->i++;
    int named_seen = 0;
    if (kx_p_is(kx_p_cur(ps), KX_T_PUNCT, ")")) {
        ps->i++;
        return 0;
    }
    for (;;) {
        char *name = NULL;
        if (kx_p_cur(ps)->type == KX_T_NAME && kx_p_is(peek(ps, 1), KX_T_PUNCT, "=")) {
            if (!(name = kx_p_tokdup(ps, kx_p_cur(ps)))) return -1;
            ps->i += 2;
            named_seen = 1;
        } else if (named_seen) {
            kx_p_fail(ps, kx_p_cur(ps), "Positional arguments must be declared before any named arguments.");
            return -1;
        }
        if (kx_p_add_kid(ps, call, kx_parse_expr(ps, 0), NULL, name)) return -1;
        if (kx_p_is(kx_p_cur(ps), KX_T_PUNCT, ",")) {
            ps->i++;
            continue;
        }
        return kx_p_expect(ps, KX_T_PUNCT, ")");
    }
}

static kx_node *parse_postfix(kx_parser *ps, kx_node *e)
{
    if (!e) return NULL; /* the primary failed and already said why */
    for (;;) {
        kx_tok *k = kx_p_cur(ps);
        if (kx_p_is(k, KX_T_PUNCT, ".")) {
            ps->i++;
            kx_tok *nm = kx_p_cur(ps);
            int word_op = nm->type == KX_T_OP && nm->n > 1 && nm->p[0] >= 'a' && nm->p[0] <= 'z' && !memchr(nm->p, ' ', nm->n);
            if (nm->type != KX_T_NAME && nm->type != KX_T_NUMBER && nm->type != KX_T_LONG && !word_op) {
                kx_node_free(e);
                return kx_p_unexpected(ps, nm, KX_T_NAME);
            }
            ps->i++;
            int method = kx_p_is(kx_p_cur(ps), KX_T_PUNCT, "(");
            kx_node *n = kx_p_node(ps, method ? KX_N_METHOD : KX_N_ATTR, nm);
            if (!n) {
                kx_node_free(e);
                return NULL;
            }
            n->a = e;
            if (!(n->s = kx_p_tokdup(ps, nm))) {
                kx_node_free(n);
                return NULL;
            }
            if (method) {
                if (kx_parse_args(ps, n)) {
                    kx_node_free(n);
                    return NULL;
                }
                for (int i = 0; i < n->nkids; i++)
                    if (n->names[i]) {
                        kx_node_free(n);
                        return kx_p_fail(ps, nm, "Can not use named arguments when calling a bean method");
                    }
            }
            if (!(e = sized(ps, n))) return NULL;
        } else if (kx_p_is(k, KX_T_PUNCT, "[")) {
            ps->i++;
            kx_node *n = kx_p_node(ps, KX_N_ATTR, k);
            if (!n) {
                kx_node_free(e);
                return NULL;
            }
            n->a = e;
            n->b = kx_parse_expr(ps, 0);
            if (!n->b || kx_p_expect(ps, KX_T_PUNCT, "]")) {
                kx_node_free(n);
                return NULL;
            }
            if (!(e = sized(ps, n))) return NULL;
        } else {
            return e;
        }
    }
}

static kx_node *literal(kx_parser *ps, const kx_tok *k, json_t *v)
{
    if (!v) {
        kx_p_oom(ps);
        return NULL;
    }
    kx_node *n = kx_p_node(ps, KX_N_LIT, k);
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
static kx_node *parse_istring(kx_parser *ps, const kx_tok *k)
{
    kx_node *n = kx_p_node(ps, KX_N_CONCATS, k);
    if (!n) return NULL;
    const char *s = k->str, *run = s;
    while (*s) {
        if (*s == '\\' && s[1]) {
            s += 2;
            continue;
        }
        if (s[0] == '#' && s[1] == '{') {
            if (s > run && kx_p_add_kid(ps, n, literal(ps, k, json_stringn(run, (size_t)(s - run))), NULL, NULL)) goto fail;
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
            kx_parser sp = {.t = sub.v, .n = sub.n, .err = ps->err, .tmpl = ps->tmpl, .src = ps->src};
            kx_node *x = kx_parse_expr(&sp, 0);
            if (x && sp.t[sp.i].type != KX_T_EOF) {
                kx_node_free(x);
                x = kx_p_unexpected(&sp, &sp.t[sp.i], KX_T_PUNCT);
            }
            kx_toks_free(&sub);
            if (kx_p_add_kid(ps, n, x, NULL, NULL)) goto fail;
            s = *e ? e + 1 : e;
            run = s;
            continue;
        }
        s++;
    }
    if (s > run && kx_p_add_kid(ps, n, literal(ps, k, json_stringn(run, (size_t)(s - run))), NULL, NULL)) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

/* A name: the literals true, false and null, a function call, or a variable. */
static kx_node *parse_name(kx_parser *ps, const kx_tok *k)
{
    char *name = kx_p_tokdup(ps, k);
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
    if (kx_p_reserved(name)) {
        free(name);
        return parse_postfix(ps, literal(ps, k, json_null()));
    }
    int call = kx_p_is(kx_p_cur(ps), KX_T_PUNCT, "(");
    kx_node *n = kx_p_node(ps, call ? KX_N_CALL : KX_N_VAR, k);
    if (!n) {
        free(name);
        return NULL;
    }
    n->s = name;
    if (call) {
        n->bi = kx_find_function(name);
        if (kx_parse_args(ps, n)) {
            kx_node_free(n);
            return NULL;
        }
    }
    return parse_postfix(ps, n);
}

static kx_node *parse_number(kx_parser *ps, const kx_tok *k)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)(k->n < 63 ? k->n : 63), k->p);
    ps->i++;
    json_t *v;
    if (memchr(buf, '.', strlen(buf))) {
        v = kx_real(strtod(buf, NULL));
    } else {
        errno = 0;
        long long x = strtoll(buf, NULL, 10);
        if (errno) return kx_p_fail(ps, k, "For input string: \"%s\"", buf);
        v = json_integer(x);
    }
    return parse_postfix(ps, literal(ps, k, v));
}

/* `[a, b]`: no postfix after a list literal (reference 1.4) */
static kx_node *parse_list(kx_parser *ps, const kx_tok *k)
{
    ps->i++;
    kx_node *n = kx_p_node(ps, KX_N_LIST, k);
    if (!n) return NULL;
    if (!kx_p_is(kx_p_cur(ps), KX_T_PUNCT, "]")) {
        for (;;) {
            if (kx_p_add_kid(ps, n, kx_parse_expr(ps, 0), NULL, NULL)) goto fail;
            if (!kx_p_is(kx_p_cur(ps), KX_T_PUNCT, ",")) break;
            ps->i++;
        }
    }
    if (kx_p_expect(ps, KX_T_PUNCT, "]")) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

/* `{k: v, ...}`: keys are expressions; no postfix either */
static kx_node *parse_map(kx_parser *ps, const kx_tok *k)
{
    ps->i++;
    kx_node *n = kx_p_node(ps, KX_N_MAP, k);
    if (!n) return NULL;
    if (!kx_p_is(kx_p_cur(ps), KX_T_PUNCT, "}")) {
        for (;;) {
            kx_node *key = kx_parse_expr(ps, 0);
            if (!key) goto fail;
            if (kx_p_expect(ps, KX_T_PUNCT, ":")) {
                kx_node_free(key);
                goto fail;
            }
            kx_node *val = kx_parse_expr(ps, 0);
            if (!val) {
                kx_node_free(key);
                goto fail;
            }
            if (kx_p_add_kid(ps, n, key, val, NULL)) goto fail;
            if (!kx_p_is(kx_p_cur(ps), KX_T_PUNCT, ",")) break;
            ps->i++;
        }
    }
    if (kx_p_expect(ps, KX_T_PUNCT, "}")) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

/* `(expr)` */
static kx_node *parse_group(kx_parser *ps)
{
    ps->i++;
    kx_node *n = kx_parse_expr(ps, 0);
    if (!n) return NULL;
    if (kx_p_expect(ps, KX_T_PUNCT, ")")) {
        kx_node_free(n);
        return NULL;
    }
    return parse_postfix(ps, n);
}

static kx_node *parse_primary(kx_parser *ps)
{
    kx_tok *k = kx_p_cur(ps);
    switch (k->type) {
    case KX_T_NAME: return parse_name(ps, k);
    case KX_T_NUMBER:
    case KX_T_LONG: return parse_number(ps, k);
    case KX_T_STRING: ps->i++; return parse_postfix(ps, literal(ps, k, kx_str(k->str)));
    case KX_T_ISTRING: ps->i++; return parse_postfix(ps, parse_istring(ps, k));
    case KX_T_PUNCT:
        if (kx_p_is(k, KX_T_PUNCT, "[")) return parse_list(ps, k);
        if (kx_p_is(k, KX_T_PUNCT, "{")) return parse_map(ps, k);
        if (kx_p_is(k, KX_T_PUNCT, "(")) return parse_group(ps);
        break;
    default: break;
    }
    char v[128];
    snprintf(v, sizeof v, "%.*s", (int)(k->n > 100 ? 100 : k->n), k->p);
    return kx_p_fail(ps, k, "Unexpected token \"%s\" of value \"%s\"", kx_tok_type_name(k->type),
                     k->type == KX_T_EOF || k->type == KX_T_PRINT_END || k->type == KX_T_EXEC_END ? "null" : v);
}

/* `| name(args)` or `is name(args)`; the name is current. */
kx_node *kx_parse_invocation(kx_parser *ps, int type, kx_node *input, int negate)
{
    kx_tok *k = kx_p_cur(ps);
    if (k->type != KX_T_NAME) {
        kx_node_free(input);
        return kx_p_unexpected(ps, k, KX_T_NAME);
    }
    kx_node *n = kx_p_node(ps, type, k);
    if (!n) {
        kx_node_free(input);
        return NULL;
    }
    n->a = input;
    n->negate = negate;
    if (!(n->s = kx_p_tokdup(ps, k))) goto fail;
    n->bi = type == KX_N_FILTER ? kx_find_filter(n->s) : kx_find_test(n->s);
    ps->i++;
    if (kx_p_is(kx_p_cur(ps), KX_T_PUNCT, "(") && kx_parse_args(ps, n)) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

static kx_node *parse_expr_inner(kx_parser *ps, int min_prec);

kx_node *kx_parse_expr(kx_parser *ps, int min_prec)
{
    if (ps->depth >= 256) return kx_p_fail(ps, kx_p_cur(ps), "Expression nested too deeply");
    ps->depth++;
    kx_node *r = parse_expr_inner(ps, min_prec);
    ps->depth--;
    return r;
}

static kx_node *parse_expr_inner(kx_parser *ps, int min_prec)
{
    kx_tok *k = kx_p_cur(ps);
    kx_node *e;
    if (k->type == KX_T_OP && (kx_p_is(k, KX_T_OP, "not") || kx_p_is(k, KX_T_OP, "-") || kx_p_is(k, KX_T_OP, "+"))) {
        ps->i++;
        e = kx_p_node(ps, KX_N_UNARY, k);
        if (!e) return NULL;
        e->op = k->p[0] == 'n' ? KX_OP_NOT : k->p[0] == '-' ? KX_OP_NEG : KX_OP_POS;
        if (!(e->a = kx_parse_expr(ps, 500))) {
            kx_node_free(e);
            return NULL;
        }
        if (!(e = sized(ps, e))) return NULL;
    } else {
        e = parse_primary(ps);
        if (!e) return NULL;
    }
    for (;;) {
        kx_tok *o = kx_p_cur(ps);
        const opdef *d = binop(o);
        if (!d || d->prec < min_prec) break;
        ps->i++;
        if (d->op == -1 || d->op == -2) {
            e = kx_parse_invocation(ps, KX_N_TEST, e, d->op == -2);
        } else if (d->op == -3) {
            e = kx_parse_invocation(ps, KX_N_FILTER, e, 0);
        } else {
            kx_node *n = kx_p_node(ps, KX_N_BIN, o);
            if (!n) {
                kx_node_free(e);
                return NULL;
            }
            n->op = d->op;
            n->a = e;
            e = n;
            if (!(n->b = kx_parse_expr(ps, d->prec + 1))) {
                kx_node_free(e);
                return NULL;
            }
        }
        if (!(e = sized(ps, e))) return NULL;
    }
    if (min_prec == 0 && kx_p_is(kx_p_cur(ps), KX_T_PUNCT, "?")) {
        kx_node *n = kx_p_node(ps, KX_N_TERNARY, kx_p_cur(ps));
        if (!n) {
            kx_node_free(e);
            return NULL;
        }
        ps->i++;
        n->a = e;
        if (!(n->b = kx_parse_expr(ps, 0)) || kx_p_expect(ps, KX_T_PUNCT, ":") || !(n->c = kx_parse_expr(ps, 0))) {
            kx_node_free(n);
            return NULL;
        }
        e = sized(ps, n);
    }
    return e;
}
