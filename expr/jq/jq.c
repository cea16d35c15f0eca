/* A jq subset for the `jq` filter: paths (.a, .[0], .[], .[1:2], ..), pipes, commas, `//`, arithmetic,
 * comparisons, and/or, if/elif/else, array and object construction, `?`, and the common builtins
 * (length, keys, map, select, has, type, to_entries, sort, add, join, split, ...; jq_fn.c). Programs are
 * parsed by jq_parse.c; this file evaluates them. Generators are evaluated with callbacks: every output of a
 * sub-expression is pushed to the consumer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/jq/jq_int.h"

/* ---- values ---- */

int kq_err(kq_ctx *x, const char *fmt, const char *a)
{
    snprintf(x->err, x->errcap, fmt, a);
    return -1;
}

const char *kq_type(const json_t *v)
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

int kq_cmp(const json_t *a, const json_t *b)
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
            int c = kq_cmp(json_array_get(a, i), json_array_get(b, i));
            if (c) return c;
        }
        return (na > nb) - (na < nb);
    }
    if (ra == 6) return !json_equal((json_t *)a, (json_t *)b); /* jq orders objects by keys; equality suffices here */
    return 0;
}

int kq_truthy(const json_t *v) { return !json_is_null(v) && !json_is_false(v); }

json_t *kq_num(double d)
{
    if (d == floor(d) && fabs(d) < 9e15) return json_integer((json_int_t)d);
    return kx_real(d);
}

/* collect all outputs of n applied to in into an array */
int kq_collect_cb(void *ud, json_t *v) { return json_array_append((json_t *)ud, v); }
json_t *kq_collect(kq_ctx *x, const kq_node *n, json_t *in)
{
    json_t *a = json_array();
    if (kq_ev(x, n, in, kq_collect_cb, a)) {
        json_decref(a);
        return NULL;
    }
    return a;
}

json_t *kq_arith(kq_ctx *x, const char *op, json_t *a, json_t *b)
{
    if (!strcmp(op, "==")) return json_boolean(kq_cmp(a, b) == 0);
    if (!strcmp(op, "!=")) return json_boolean(kq_cmp(a, b) != 0);
    if (!strcmp(op, "<")) return json_boolean(kq_cmp(a, b) < 0);
    if (!strcmp(op, "<=")) return json_boolean(kq_cmp(a, b) <= 0);
    if (!strcmp(op, ">")) return json_boolean(kq_cmp(a, b) > 0);
    if (!strcmp(op, ">=")) return json_boolean(kq_cmp(a, b) >= 0);
    if (json_is_number(a) && json_is_number(b)) {
        double p = json_number_value(a), r = json_number_value(b);
        switch (op[0]) {
        case '+': return kq_num(p + r);
        case '-': return kq_num(p - r);
        case '*': return kq_num(p * r);
        case '/':
            if (r == 0) return kq_err(x, "%s cannot be divided because the divisor is zero", "number"), NULL;
            return kq_num(p / r);
        default:
            if ((long long)r == 0) return kq_err(x, "%s cannot be divided because the divisor is zero", "number"), NULL;
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
    snprintf(x->err, x->errcap, "%s and %s cannot be combined with %s", kq_type(a), kq_type(b), op);
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
    snprintf(x->err, x->errcap, "Cannot index %s with %s", kq_type(v), kq_type(k));
    return -1;
}

static int right_cb(void *p, json_t *r)
{
    pair_ud *u = p;
    if (u->mode == 2) return index_value(u->x, u->left, r, u->emit, u->ud);
    json_t *v = kq_arith(u->x, u->n->op, u->left, r);
    if (!v) return -1;
    int rc = u->emit(u->ud, v);
    json_decref(v);
    return rc;
}

static int left_cb(void *p, json_t *l)
{
    pair_ud *u = p;
    if (u->mode == 1) return kq_ev(u->x, u->n->b, l, u->emit, u->ud);
    pair_ud v = *u;
    v.left = l;
    return kq_ev(u->x, u->mode == 2 ? u->n->b : u->n->b, u->in, right_cb, &v);
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
    snprintf(u->x->err, u->x->errcap, "Cannot iterate over %s", kq_type(v));
    return -1;
}

static int index_cb(void *p, json_t *v)
{
    pair_ud *u = p;
    pair_ud w = *u;
    w.left = v;
    w.mode = 2;
    return kq_ev(u->x, u->n->b, u->in, right_cb, &w);
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
json_t *kq_first(kq_ctx *x, const kq_node *n, json_t *in, int *err)
{
    json_t *r = NULL;
    *err = kq_ev(x, n, in, first_cb, &r);
    return r;
}

int kq_emit_new(kq_emit emit, void *ud, json_t *v)
{
    if (!v) return -1;
    int rc = emit(ud, v);
    json_decref(v);
    return rc;
}


/* ---- the nodes that are not paths ---- */

static int ev_slice(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud)
{
    int e;
    json_t *v = kq_first(x, n->a, in, &e);
    json_t *f = n->b && !e ? kq_first(x, n->b, in, &e) : NULL, *t = n->c && !e ? kq_first(x, n->c, in, &e) : NULL;
    int rc = e;
    if (!rc) {
        long long len = json_is_array(v) ? (long long)json_array_size(v) : json_is_string(v) ? (long long)json_string_length(v) : -1;
        if (json_is_null(v)) {
            rc = emit(ud, json_null());
        } else if (len < 0) {
            rc = kq_err(x, "Cannot index %s with object", kq_type(v));
        } else {
            long long from = f ? (long long)json_number_value(f) : 0, to = t ? (long long)json_number_value(t) : len;
            if (from < 0) from += len;
            if (to < 0) to += len;
            if (from < 0) from = 0;
            if (to > len) to = len;
            if (to < from) to = from;
            json_t *r = json_is_array(v) ? json_array() : kx_strn(json_string_value(v) + from, (size_t)(to - from));
            for (long long i = from; json_is_array(v) && i < to; i++) json_array_append(r, json_array_get(v, (size_t)i));
            rc = kq_emit_new(emit, ud, r);
        }
    }
    json_decref(v);
    json_decref(f);
    json_decref(t);
    return rc;
}

static int ev_neg(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud)
{
    json_t *zero = json_integer(0);
    int e;
    json_t *v = kq_first(x, n->a, in, &e);
    int rc = e ? -1 : kq_emit_new(emit, ud, v ? kq_arith(x, "-", zero, v) : NULL);
    json_decref(v);
    json_decref(zero);
    return rc;
}

/* a // b: the truthy outputs of a, or else the outputs of b */
static int ev_alt(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud)
{
    json_t *outs = kq_collect(x, n->a, in);
    int any = 0;
    size_t i;
    json_t *v;
    if (outs) {
        json_array_foreach(outs, i, v) if (kq_truthy(v)) {
            any = 1;
            if (emit(ud, v)) {
                json_decref(outs);
                return -1;
            }
        }
    }
    json_decref(outs);
    return any ? 0 : kq_ev(x, n->b, in, emit, ud);
}

static int ev_and_or(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud)
{
    int e;
    json_t *a = kq_first(x, n->a, in, &e);
    if (e) return -1;
    int ta = a && kq_truthy(a);
    json_decref(a);
    if (n->t == J_AND ? !ta : ta) return emit(ud, json_boolean(ta));
    json_t *b = kq_first(x, n->b, in, &e);
    if (e) return -1;
    int tb = b && kq_truthy(b);
    json_decref(b);
    return emit(ud, json_boolean(tb));
}

static int ev_object(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud)
{
    json_t *o = json_object();
    for (int i = 0; i < n->nargs; i += 2) {
        int e;
        json_t *k = kq_first(x, n->args[i], in, &e), *v = e ? NULL : kq_first(x, n->args[i + 1], in, &e);
        if (e || !json_is_string(k)) {
            json_decref(k);
            json_decref(v);
            json_decref(o);
            return e ? -1 : kq_err(x, "%s", "Object keys must be strings");
        }
        json_object_set_new(o, json_string_value(k), v ? v : json_null());
        json_decref(k);
    }
    return kq_emit_new(emit, ud, o);
}

static int ev_if(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud)
{
    int e;
    json_t *c = kq_first(x, n->a, in, &e);
    if (e) return -1;
    int t = c && kq_truthy(c);
    json_decref(c);
    if (t) return kq_ev(x, n->b, in, emit, ud);
    return n->c ? kq_ev(x, n->c, in, emit, ud) : emit(ud, in);
}

/* a?: the outputs of a, none if it fails (its error is dropped) */
static int ev_try(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud)
{
    json_t *outs = kq_collect(x, n->a, in);
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

int kq_ev(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud)
{
    if (!n) return kq_err(x, "%s", "empty expression");
    if (++x->steps > 1000000) return kq_err(x, "%s", "jq program too expensive");
    pair_ud u = {x, n, in, NULL, emit, ud, 0};
    switch (n->t) {
    case J_IDENTITY: return emit(ud, in);
    case J_RECURSE: return recurse(x, in, emit, ud);
    case J_LIT: return emit(ud, n->lit);
    case J_FIELD: return kq_ev(x, n->a, in, field_cb, &u);
    case J_ITER: return kq_ev(x, n->a, in, iter_cb, &u);
    case J_INDEX: return kq_ev(x, n->a, in, index_cb, &u);
    case J_SLICE: return ev_slice(x, n, in, emit, ud);
    case J_PIPE: u.mode = 1; return kq_ev(x, n->a, in, left_cb, &u);
    case J_COMMA: return kq_ev(x, n->a, in, emit, ud) ? -1 : kq_ev(x, n->b, in, emit, ud);
    case J_BIN: return kq_ev(x, n->a, in, left_cb, &u);
    case J_NEG: return ev_neg(x, n, in, emit, ud);
    case J_ALT: return ev_alt(x, n, in, emit, ud);
    case J_AND:
    case J_OR: return ev_and_or(x, n, in, emit, ud);
    case J_ARRAY: return kq_emit_new(emit, ud, n->a ? kq_collect(x, n->a, in) : json_array());
    case J_OBJECT: return ev_object(x, n, in, emit, ud);
    case J_IF: return ev_if(x, n, in, emit, ud);
    case J_TRY: return ev_try(x, n, in, emit, ud);
    case J_CALL: return kq_call(x, n, in, emit, ud);
    default: return kq_err(x, "%s", "bad node");
    }
}

json_t *kq_run(const json_t *input, const char *expr, char *err, size_t errcap)
{
    kq_arena arena = {0};
    kq_node *prog = kq_parse(expr, &arena, err, errcap);
    json_t *r = NULL;
    if (prog) {
        kq_ctx x = {.err = err, .errcap = errcap};
        r = kq_collect(&x, prog, (json_t *)input);
    }
    kq_arena_free(&arena);
    return r;
}
