/* A jq subset for the `jq` filter: paths (.a, .[0], .[], .[1:2], ..), pipes, commas, `//`, arithmetic,
 * comparisons, and/or, if/elif/else, array and object construction, `?`, and the common builtins
 * (length, keys, map, select, has, type, to_entries, sort, add, join, split, ...). Generators are
 * evaluated with callbacks: every output of a sub-expression is pushed to the consumer. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/jq/jq.h"

typedef struct jq {
    const char *s, *p;
    char *err;
    size_t errcap;
    int failed;
    kq_node **all;
    size_t nall, capall;
    int depth;
} jq;

static void *perr(jq *q, const char *msg)
{
    if (!q->failed) snprintf(q->err, q->errcap, "%s at position %d", msg, (int)(q->p - q->s));
    q->failed = 1;
    return NULL;
}

/* Parse nodes live in an arena owned by the parser, so error paths need no unwinding. */
static void arena_free(jq *q)
{
    for (size_t i = 0; i < q->nall; i++) {
        kq_node *n = q->all[i];
        free(n->args);
        free(n->name);
        json_decref(n->lit);
        free(n);
    }
    free(q->all);
}

static kq_node *mk(jq *q, int t)
{
    if (q->nall >= 1000) { /* jq programs in flows are tiny; this bounds evaluation depth */
        perr(q, "jq program too large");
        return NULL;
    }
    if (q->nall == q->capall) {
        size_t cap = q->capall ? q->capall * 2 : 32;
        kq_node **a = realloc(q->all, cap * sizeof *a);
        if (!a) {
            q->failed = 1;
            return NULL;
        }
        q->all = a;
        q->capall = cap;
    }
    kq_node *n = calloc(1, sizeof *n);
    if (!n) {
        q->failed = 1;
        return NULL;
    }
    n->t = t;
    q->all[q->nall++] = n;
    return n;
}


static void ws(jq *q)
{
    while (isspace((unsigned char)*q->p)) q->p++;
}

static int eat(jq *q, const char *tok)
{
    ws(q);
    size_t l = strlen(tok);
    if (strncmp(q->p, tok, l)) return 0;
    if (isalpha((unsigned char)tok[l - 1]) && (isalnum((unsigned char)q->p[l]) || q->p[l] == '_')) return 0;
    q->p += l;
    return 1;
}

static char *ident(jq *q)
{
    ws(q);
    const char *s = q->p;
    if (!isalpha((unsigned char)*s) && *s != '_') return NULL;
    while (isalnum((unsigned char)*q->p) || *q->p == '_') q->p++;
    return strndup(s, (size_t)(q->p - s));
}

static kq_node *p_pipe(jq *q);

static json_t *p_string(jq *q)
{
    /* JSON string literal (no interpolation) */
    const char *s = q->p;
    if (*s != '"') return NULL;
    const char *e = s + 1;
    while (*e && *e != '"') e += (*e == '\\' && e[1]) ? 2 : 1;
    if (!*e) return NULL;
    json_t *v = json_loadb(s, (size_t)(e + 1 - s), JSON_DECODE_ANY, NULL);
    q->p = e + 1;
    return v;
}

static kq_node *postfix(jq *q, kq_node *n)
{
    for (;;) {
        ws(q);
        if (q->p[0] == '.' && (isalpha((unsigned char)q->p[1]) || q->p[1] == '_' || q->p[1] == '"')) {
            q->p++;
            kq_node *f = mk(q, J_FIELD);
            if (!f) break;
            f->a = n;
            if (*q->p == '"') {
                json_t *s = p_string(q);
                f->name = s ? strdup(json_string_value(s)) : NULL;
                json_decref(s);
            } else {
                f->name = ident(q);
            }
            n = f;
            if (!f->name) return perr(q, "bad field name");
            continue;
        }
        if (q->p[0] == '[' || (q->p[0] == '.' && q->p[1] == '[')) {
            if (q->p[0] == '.') q->p++;
            q->p++;
            ws(q);
            if (*q->p == ']') {
                q->p++;
                kq_node *it = mk(q, J_ITER);
                if (!it) break;
                it->a = n;
                n = it;
                continue;
            }
            kq_node *from = NULL, *to = NULL;
            if (*q->p != ':') from = p_pipe(q);
            ws(q);
            if (*q->p == ':') {
                q->p++;
                ws(q);
                if (*q->p != ']') to = p_pipe(q);
                kq_node *sl = mk(q, J_SLICE);
                if (!sl) break;
                sl->a = n;
                sl->b = from;
                sl->c = to;
                n = sl;
            } else {
                kq_node *ix = mk(q, J_INDEX);
                if (!ix) break;
                ix->a = n;
                ix->b = from;
                n = ix;
            }
            if (!eat(q, "]")) return perr(q, "expected ]");
            continue;
        }
        if (q->p[0] == '?') {
            q->p++;
            kq_node *t = mk(q, J_TRY);
            if (!t) break;
            t->a = n;
            n = t;
            continue;
        }
        break;
    }
    return n;
}

static kq_node *p_term_inner(jq *q);
static kq_node *p_term(jq *q)
{
    if (q->depth >= 200) return perr(q, "expression nested too deeply");
    q->depth++;
    kq_node *n = p_term_inner(q);
    q->depth--;
    return n;
}

static kq_node *p_term_inner(jq *q)
{
    ws(q);
    kq_node *n = NULL;
    const char *p = q->p;
    if (p[0] == '.' && p[1] == '.') {
        q->p += 2;
        n = mk(q, J_RECURSE);
    } else if (p[0] == '.') {
        q->p++;
        n = mk(q, J_IDENTITY);
        if (n && (isalpha((unsigned char)*q->p) || *q->p == '_' || *q->p == '"')) {
            q->p--; /* let postfix read ".name" */
        }
    } else if (isdigit((unsigned char)*p)) {
        char *e;
        double d = strtod(p, &e);
        q->p = e;
        n = mk(q, J_LIT);
        if (n) n->lit = d == floor(d) && fabs(d) < 9e15 ? json_integer((json_int_t)d) : json_real(d);
    } else if (*p == '"') {
        n = mk(q, J_LIT);
        if (n && !(n->lit = p_string(q))) return perr(q, "bad string");
    } else if (*p == '(') {
        q->p++;
        n = p_pipe(q);
        if (!eat(q, ")")) return perr(q, "expected )");
    } else if (*p == '[') {
        q->p++;
        n = mk(q, J_ARRAY);
        if (n && !eat(q, "]")) {
            n->a = p_pipe(q);
            if (!eat(q, "]")) return perr(q, "expected ]");
        }
    } else if (*p == '{') {
        q->p++;
        n = mk(q, J_OBJECT);
        if (!n) return NULL;
        if (!eat(q, "}")) {
            do {
                ws(q);
                kq_node *k = NULL, *v = NULL;
                int colon = 0;
                if (*q->p == '"') {
                    k = mk(q, J_LIT);
                    if (k) k->lit = p_string(q);
                } else if (*q->p == '(') {
                    q->p++;
                    k = p_pipe(q);
                    if (!eat(q, ")")) return perr(q, "expected )");
                } else {
                    char *id = ident(q);
                    if (!id) return perr(q, "bad object key");
                    k = mk(q, J_LIT);
                    if (k) k->lit = json_string(id);
                    colon = eat(q, ":");
                    if (!colon) { /* {a} is {a: .a} */
                        v = mk(q, J_FIELD);
                        if (v) {
                            v->a = mk(q, J_IDENTITY);
                            v->name = id;
                            id = NULL;
                        }
                    }
                    free(id);
                }
                if (!v) {
                    if (!colon && !eat(q, ":")) return perr(q, "expected :");
                    /* object values bind tighter than ',' */
                    v = p_term(q);
                }
                kq_node **a = realloc(n->args, (size_t)(n->nargs + 2) * sizeof *a);
                if (!a || !k || !v) return perr(q, "out of memory");
                n->args = a;
                n->args[n->nargs++] = k;
                n->args[n->nargs++] = v;
            } while (eat(q, ","));
            if (!eat(q, "}")) return perr(q, "expected }");
        }
    } else if (*p == '-') {
        q->p++;
        n = mk(q, J_NEG);
        if (n) n->a = postfix(q, p_term(q));
    } else if (eat(q, "if")) {
        n = mk(q, J_IF);
        if (!n) return NULL;
        n->a = p_pipe(q);
        if (!eat(q, "then")) return perr(q, "expected then");
        n->b = p_pipe(q);
        kq_node *cur = n;
        while (eat(q, "elif")) {
            kq_node *e = mk(q, J_IF);
            if (!e) return NULL;
            cur->c = e;
            e->a = p_pipe(q);
            if (!eat(q, "then")) return perr(q, "expected then");
            e->b = p_pipe(q);
            cur = e;
        }
        if (eat(q, "else")) cur->c = p_pipe(q);
        if (!eat(q, "end")) return perr(q, "expected end");
    } else if (isalpha((unsigned char)*p) || *p == '_') {
        char *id = ident(q);
        if (!strcmp(id, "true") || !strcmp(id, "false") || !strcmp(id, "null")) {
            n = mk(q, J_LIT);
            if (n) n->lit = !strcmp(id, "true") ? json_true() : !strcmp(id, "false") ? json_false() : json_null();
            free(id);
        } else {
            n = mk(q, J_CALL);
            if (!n) {
                free(id);
                return NULL;
            }
            n->name = id;
            if (eat(q, "(")) {
                do {
                    kq_node **a = realloc(n->args, (size_t)(n->nargs + 1) * sizeof *a);
                    if (!a) return perr(q, "out of memory");
                    n->args = a;
                    n->args[n->nargs++] = p_pipe(q);
                } while (eat(q, ";"));
                if (!eat(q, ")")) return perr(q, "expected )");
            }
        }
    } else {
        return perr(q, "unexpected character");
    }
    if (!n) return NULL;
    return postfix(q, n);
}

static kq_node *bin(jq *q, int t, const char *op, kq_node *a, kq_node *b)
{
    kq_node *n = mk(q, t);
    if (!n) return NULL;
    snprintf(n->op, sizeof n->op, "%s", op);
    n->a = a;
    n->b = b;
    return n;
}

static kq_node *p_mul(jq *q)
{
    kq_node *a = p_term(q);
    for (;;) {
        ws(q);
        char c = *q->p;
        if (!a || (c != '*' && c != '/' && c != '%') || (c == '/' && q->p[1] == '/')) return a;
        q->p++;
        char op[2] = {c, 0};
        a = bin(q, J_BIN, op, a, p_term(q));
    }
}

static kq_node *p_add(jq *q)
{
    kq_node *a = p_mul(q);
    for (;;) {
        ws(q);
        char c = *q->p;
        if (!a || (c != '+' && c != '-')) return a;
        q->p++;
        char op[2] = {c, 0};
        a = bin(q, J_BIN, op, a, p_mul(q));
    }
}

static kq_node *p_cmp(jq *q)
{
    kq_node *a = p_add(q);
    static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">", NULL};
    for (int i = 0; a && ops[i]; i++)
        if (eat(q, ops[i])) return bin(q, J_BIN, ops[i], a, p_add(q));
    return a;
}

static kq_node *p_and(jq *q)
{
    kq_node *a = p_cmp(q);
    while (a && eat(q, "and")) a = bin(q, J_AND, "", a, p_cmp(q));
    return a;
}

static kq_node *p_or(jq *q)
{
    kq_node *a = p_and(q);
    while (a && eat(q, "or")) a = bin(q, J_OR, "", a, p_and(q));
    return a;
}

static kq_node *p_alt(jq *q)
{
    kq_node *a = p_or(q);
    if (a && eat(q, "//")) return bin(q, J_ALT, "", a, p_alt(q));
    return a;
}

static kq_node *p_comma(jq *q)
{
    kq_node *a = p_alt(q);
    while (a && eat(q, ",")) a = bin(q, J_COMMA, "", a, p_alt(q));
    return a;
}

static kq_node *p_pipe(jq *q)
{
    kq_node *a = p_comma(q);
    if (a && eat(q, "|")) return bin(q, J_PIPE, "", a, p_pipe(q));
    return a;
}

/* ---- evaluation ---- */

static int ev(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud);
int kx_jq_ev(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud) { return ev(x, n, in, emit, ud); }

int kx_jq_err(kq_ctx *x, const char *fmt, const char *a)
{
    snprintf(x->err, x->errcap, fmt, a);
    return -1;
}

const char *kx_jq_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

static int rank(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL: return 0;
    case JSON_FALSE: return 1;
    case JSON_TRUE: return 2;
    case JSON_INTEGER:
    case JSON_REAL: return 3;
    case JSON_STRING: return 4;
    case JSON_ARRAY: return 5;
    default: return 6;
    }
}

int kx_jq_cmp(const json_t *a, const json_t *b)
{
    int ra = rank(a), rb = rank(b);
    if (ra != rb) return ra < rb ? -1 : 1;
    if (ra == 3) {
        double x = json_number_value(a), y = json_number_value(b);
        return (x > y) - (x < y);
    }
    if (ra == 4) return strcmp(json_string_value(a), json_string_value(b));
    if (ra == 5) {
        size_t na = json_array_size(a), nb = json_array_size(b);
        for (size_t i = 0; i < na && i < nb; i++) {
            int c = kx_jq_cmp(json_array_get(a, i), json_array_get(b, i));
            if (c) return c;
        }
        return (na > nb) - (na < nb);
    }
    if (ra == 6) return !json_equal((json_t *)a, (json_t *)b); /* jq orders objects by keys; equality suffices here */
    return 0;
}

int kx_jq_truthy(const json_t *v) { return !json_is_null(v) && !json_is_false(v); }

json_t *kx_jq_num(double d)
{
    if (d == floor(d) && fabs(d) < 9e15) return json_integer((json_int_t)d);
    return kx_real(d);
}

/* collect all outputs of n applied to in into an array */
int kx_jq_collect_cb(void *ud, json_t *v) { return json_array_append((json_t *)ud, v); }
json_t *kx_jq_collect(kq_ctx *x, const kq_node *n, json_t *in)
{
    json_t *a = json_array();
    if (ev(x, n, in, kx_jq_collect_cb, a)) {
        json_decref(a);
        return NULL;
    }
    return a;
}

json_t *kx_jq_arith(kq_ctx *x, const char *op, json_t *a, json_t *b)
{
    if (!strcmp(op, "==")) return json_boolean(kx_jq_cmp(a, b) == 0);
    if (!strcmp(op, "!=")) return json_boolean(kx_jq_cmp(a, b) != 0);
    if (!strcmp(op, "<")) return json_boolean(kx_jq_cmp(a, b) < 0);
    if (!strcmp(op, "<=")) return json_boolean(kx_jq_cmp(a, b) <= 0);
    if (!strcmp(op, ">")) return json_boolean(kx_jq_cmp(a, b) > 0);
    if (!strcmp(op, ">=")) return json_boolean(kx_jq_cmp(a, b) >= 0);
    if (json_is_number(a) && json_is_number(b)) {
        double p = json_number_value(a), r = json_number_value(b);
        switch (op[0]) {
        case '+': return kx_jq_num(p + r);
        case '-': return kx_jq_num(p - r);
        case '*': return kx_jq_num(p * r);
        case '/':
            if (r == 0) return kx_jq_err(x, "%s cannot be divided because the divisor is zero", "number"), NULL;
            return kx_jq_num(p / r);
        default:
            if ((long long)r == 0) return kx_jq_err(x, "%s cannot be divided because the divisor is zero", "number"), NULL;
            return json_integer((long long)p % (long long)r);
        }
    }
    if (op[0] == '+') {
        if (json_is_null(a)) return json_incref(b);
        if (json_is_null(b)) return json_incref(a);
        if (json_is_string(a) && json_is_string(b)) {
            kt_buf buf = {0};
            kt_buf_puts(&buf, json_string_value(a));
            kt_buf_puts(&buf, json_string_value(b));
            char *s = kt_buf_take(&buf);
            json_t *r = kx_str(s ? s : "");
            free(s);
            return r;
        }
        if (json_is_array(a) && json_is_array(b)) {
            json_t *r = json_copy(a);
            json_array_extend(r, b);
            return r;
        }
        if (json_is_object(a) && json_is_object(b)) {
            json_t *r = json_copy(a);
            json_object_update(r, b);
            return r;
        }
    }
    if (op[0] == '-' && json_is_array(a) && json_is_array(b)) {
        json_t *r = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) {
            int found = 0;
            for (size_t k = 0; k < json_array_size(b) && !found; k++) found = json_equal(v, json_array_get(b, k));
            if (!found) json_array_append(r, v);
        }
        return r;
    }
    snprintf(x->err, x->errcap, "%s and %s cannot be combined with %s", kx_jq_type(a), kx_jq_type(b), op);
    return NULL;
}

typedef struct pair_ud {
    kq_ctx *x;
    const kq_node *n;
    json_t *in, *left;
    kq_emit emit;
    void *ud;
    int mode; /* 0 binary op, 1 pipe, 2 index */
} pair_ud;

static int index_value(kq_ctx *x, json_t *v, json_t *k, kq_emit emit, void *ud)
{
    if (json_is_null(v)) return emit(ud, json_null());
    if (json_is_object(v) && json_is_string(k)) {
        json_t *r = json_object_get(v, json_string_value(k));
        return emit(ud, r ? r : json_null());
    }
    if (json_is_array(v) && json_is_number(k)) {
        long long i = (long long)floor(json_number_value(k));
        if (i < 0) i += (long long)json_array_size(v);
        json_t *r = i >= 0 ? json_array_get(v, (size_t)i) : NULL;
        return emit(ud, r ? r : json_null());
    }
    snprintf(x->err, x->errcap, "Cannot index %s with %s", kx_jq_type(v), kx_jq_type(k));
    return -1;
}

static int right_cb(void *p, json_t *r)
{
    pair_ud *u = p;
    if (u->mode == 2) return index_value(u->x, u->left, r, u->emit, u->ud);
    json_t *v = kx_jq_arith(u->x, u->n->op, u->left, r);
    if (!v) return -1;
    int rc = u->emit(u->ud, v);
    json_decref(v);
    return rc;
}

static int left_cb(void *p, json_t *l)
{
    pair_ud *u = p;
    if (u->mode == 1) return ev(u->x, u->n->b, l, u->emit, u->ud);
    pair_ud v = *u;
    v.left = l;
    return ev(u->x, u->mode == 2 ? u->n->b : u->n->b, u->in, right_cb, &v);
}

static int field_cb(void *p, json_t *v)
{
    pair_ud *u = p;
    json_t *k = json_string(u->n->name);
    int rc = index_value(u->x, v, k, u->emit, u->ud);
    json_decref(k);
    return rc;
}

static int iter_cb(void *p, json_t *v)
{
    pair_ud *u = p;
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) if (u->emit(u->ud, e)) return -1;
        return 0;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) if (u->emit(u->ud, e)) return -1;
        return 0;
    }
    snprintf(u->x->err, u->x->errcap, "Cannot iterate over %s", kx_jq_type(v));
    return -1;
}

static int index_cb(void *p, json_t *v)
{
    pair_ud *u = p;
    pair_ud w = *u;
    w.left = v;
    w.mode = 2;
    return ev(u->x, u->n->b, u->in, right_cb, &w);
}

static int recurse(kq_ctx *x, json_t *v, kq_emit emit, void *ud)
{
    if (emit(ud, v)) return -1;
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) if (recurse(x, e, emit, ud)) return -1;
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) if (recurse(x, e, emit, ud)) return -1;
    }
    return 0;
}

static int first_cb(void *ud, json_t *v)
{
    json_t **slot = ud;
    if (!*slot) *slot = json_incref(v);
    return 0;
}

/* the first output of n (jq semantics for conditions and `//` take every output; one is enough here) */
json_t *kx_jq_first(kq_ctx *x, const kq_node *n, json_t *in, int *err)
{
    json_t *r = NULL;
    *err = ev(x, n, in, first_cb, &r);
    return r;
}

int kx_jq_emit_new(kq_emit emit, void *ud, json_t *v)
{
    if (!v) return -1;
    int rc = emit(ud, v);
    json_decref(v);
    return rc;
}


static int ev(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud)
{
    if (!n) return kx_jq_err(x, "%s", "empty expression");
    if (++x->steps > 1000000) return kx_jq_err(x, "%s", "jq program too expensive");
    pair_ud u = {x, n, in, NULL, emit, ud, 0};
    switch (n->t) {
    case J_IDENTITY: return emit(ud, in);
    case J_RECURSE: return recurse(x, in, emit, ud);
    case J_LIT: return emit(ud, n->lit);
    case J_FIELD: return ev(x, n->a, in, field_cb, &u);
    case J_ITER: return ev(x, n->a, in, iter_cb, &u);
    case J_INDEX: return ev(x, n->a, in, index_cb, &u);
    case J_SLICE: {
        int e;
        json_t *v = kx_jq_first(x, n->a, in, &e);
        json_t *f = n->b && !e ? kx_jq_first(x, n->b, in, &e) : NULL, *t = n->c && !e ? kx_jq_first(x, n->c, in, &e) : NULL;
        int rc = e;
        if (!rc) {
            long long len = json_is_array(v) ? (long long)json_array_size(v) : json_is_string(v) ? (long long)json_string_length(v) : -1;
            if (json_is_null(v)) {
                rc = emit(ud, json_null());
            } else if (len < 0) {
                rc = kx_jq_err(x, "Cannot index %s with object", kx_jq_type(v));
            } else {
                long long from = f ? (long long)json_number_value(f) : 0, to = t ? (long long)json_number_value(t) : len;
                if (from < 0) from += len;
                if (to < 0) to += len;
                if (from < 0) from = 0;
                if (to > len) to = len;
                if (to < from) to = from;
                json_t *r = json_is_array(v) ? json_array() : kx_strn(json_string_value(v) + from, (size_t)(to - from));
                for (long long i = from; json_is_array(v) && i < to; i++) json_array_append(r, json_array_get(v, (size_t)i));
                rc = kx_jq_emit_new(emit, ud, r);
            }
        }
        json_decref(v);
        json_decref(f);
        json_decref(t);
        return rc;
    }
    case J_PIPE: u.mode = 1; return ev(x, n->a, in, left_cb, &u);
    case J_COMMA: return ev(x, n->a, in, emit, ud) ? -1 : ev(x, n->b, in, emit, ud);
    case J_BIN: return ev(x, n->a, in, left_cb, &u);
    case J_NEG: {
        json_t *zero = json_integer(0);
        int e;
        json_t *v = kx_jq_first(x, n->a, in, &e);
        int rc = e ? -1 : kx_jq_emit_new(emit, ud, v ? kx_jq_arith(x, "-", zero, v) : NULL);
        json_decref(v);
        json_decref(zero);
        return rc;
    }
    case J_ALT: {
        json_t *outs = kx_jq_collect(x, n->a, in);
        int any = 0;
        size_t i;
        json_t *v;
        if (outs) {
            json_array_foreach(outs, i, v) if (kx_jq_truthy(v)) {
                any = 1;
                if (emit(ud, v)) {
                    json_decref(outs);
                    return -1;
                }
            }
        }
        json_decref(outs);
        return any ? 0 : ev(x, n->b, in, emit, ud);
    }
    case J_AND:
    case J_OR: {
        int e;
        json_t *a = kx_jq_first(x, n->a, in, &e);
        if (e) return -1;
        int ta = a && kx_jq_truthy(a);
        json_decref(a);
        if (n->t == J_AND ? !ta : ta) return emit(ud, json_boolean(ta));
        json_t *b = kx_jq_first(x, n->b, in, &e);
        if (e) return -1;
        int tb = b && kx_jq_truthy(b);
        json_decref(b);
        return emit(ud, json_boolean(tb));
    }
    case J_ARRAY: return kx_jq_emit_new(emit, ud, n->a ? kx_jq_collect(x, n->a, in) : json_array());
    case J_OBJECT: {
        json_t *o = json_object();
        for (int i = 0; i < n->nargs; i += 2) {
            int e;
            json_t *k = kx_jq_first(x, n->args[i], in, &e), *v = e ? NULL : kx_jq_first(x, n->args[i + 1], in, &e);
            if (e || !json_is_string(k)) {
                json_decref(k);
                json_decref(v);
                json_decref(o);
                return e ? -1 : kx_jq_err(x, "%s", "Object keys must be strings");
            }
            json_object_set_new(o, json_string_value(k), v ? v : json_null());
            json_decref(k);
        }
        return kx_jq_emit_new(emit, ud, o);
    }
    case J_IF: {
        int e;
        json_t *c = kx_jq_first(x, n->a, in, &e);
        if (e) return -1;
        int t = c && kx_jq_truthy(c);
        json_decref(c);
        if (t) return ev(x, n->b, in, emit, ud);
        return n->c ? ev(x, n->c, in, emit, ud) : emit(ud, in);
    }
    case J_TRY: {
        json_t *outs = kx_jq_collect(x, n->a, in);
        if (!outs) {
            x->err[0] = 0;
            return 0;
        }
        size_t i;
        json_t *v;
        json_array_foreach(outs, i, v) if (emit(ud, v)) {
            json_decref(outs);
            return -1;
        }
        json_decref(outs);
        return 0;
    }
    case J_CALL: return kx_jq_call(x, n, in, emit, ud);
    default: return kx_jq_err(x, "%s", "bad node");
    }
}

json_t *kx_jq(const json_t *input, const char *expr, char *err, size_t errcap)
{
    jq q = {.s = expr, .p = expr, .err = err, .errcap = errcap};
    kq_node *prog = p_pipe(&q);
    ws(&q);
    if (!q.failed && *q.p) perr(&q, "unexpected trailing input");
    if (q.failed || !prog) {
        arena_free(&q);
        return NULL;
    }
    kq_ctx x = {.err = err, .errcap = errcap};
    json_t *r = kx_jq_collect(&x, prog, (json_t *)input);
    arena_free(&q);
    return r;
}
