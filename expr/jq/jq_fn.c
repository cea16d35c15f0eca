/* jq builtins for the jq filter's subset (jq.c): a table of {name, arity, function}, one small function per
 * builtin or per family of builtins that differ only by name (floor/ceil..., sort/unique/min/max/group and
 * their _by forms, keys/keys_unsorted, first/last...). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "expr/jq/jq_int.h"

/* ---- helpers ---- */

static json_t *str_new(kt_buf *b)
{
    char *s = kt_buf_take(b);
    json_t *r = kx_str(s ? s : "");
    free(s);
    return r;
}

/* stable insertion sort by jq order of keys[i] (small inputs) */
static void sort_pairs(json_t **keys, json_t **vals, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        json_t *k = keys[i], *v = vals[i];
        size_t j = i;
        while (j > 0 && kq_cmp(keys[j - 1], k) > 0) {
            keys[j] = keys[j - 1];
            vals[j] = vals[j - 1];
            j--;
        }
        keys[j] = k;
        vals[j] = v;
    }
}

/* sort_by / group_by / unique_by / min_by / max_by share: evaluate f per element, sort by it */
static int by_key(kq_ctx *x, const kq_node *f, json_t *in, json_t ***keys, json_t ***vals, size_t *n)
{
    if (!json_is_array(in)) return kq_err(x, "Cannot index %s with number", kq_type(in));
    *n = json_array_size(in);
    *keys = calloc(*n + 1, sizeof **keys);
    *vals = calloc(*n + 1, sizeof **vals);
    if (!*keys || !*vals) return kq_err(x, "%s", "out of memory");
    for (size_t i = 0; i < *n; i++) {
        (*vals)[i] = json_array_get(in, i);
        (*keys)[i] = f ? kq_collect(x, f, (*vals)[i]) : json_incref((*vals)[i]);
        if (!(*keys)[i]) return -1;
    }
    sort_pairs(*keys, *vals, *n);
    return 0;
}

static void free_keys(json_t **keys, json_t **vals, size_t n)
{
    for (size_t i = 0; keys && i < n; i++) json_decref(keys[i]);
    free(keys);
    free(vals);
}

static int sorted_family(kq_ctx *x, const char *name, const kq_node *f, json_t *in, kq_emit emit, void *ud)
{
    json_t **keys = NULL, **vals = NULL;
    size_t n = 0;
    int rc = by_key(x, f, in, &keys, &vals, &n);
    if (rc) {
        free_keys(keys, vals, n);
        return rc;
    }
    json_t *r = NULL;
    if (!strncmp(name, "sort", 4)) {
        r = json_array();
        for (size_t i = 0; i < n; i++) json_array_append(r, vals[i]);
    } else if (!strncmp(name, "group", 5)) {
        r = json_array();
        json_t *g = NULL;
        for (size_t i = 0; i < n; i++) {
            if (!g || kq_cmp(keys[i - 1], keys[i])) {
                g = json_array();
                json_array_append_new(r, g);
            }
            json_array_append(g, vals[i]);
        }
    } else if (!strncmp(name, "unique", 6)) {
        r = json_array();
        for (size_t i = 0; i < n; i++)
            if (i == 0 || kq_cmp(keys[i - 1], keys[i])) json_array_append(r, vals[i]);
    } else if (!strncmp(name, "min", 3)) {
        r = n ? json_incref(vals[0]) : json_null();
    } else {
        size_t best = n - 1; /* max keeps the last of equal keys */
        r = n ? json_incref(vals[best]) : json_null();
    }
    free_keys(keys, vals, n);
    return kq_emit_new(emit, ud, r);
}

static int str_arg(kq_ctx *x, const kq_node *n, json_t *in, int i, json_t **out)
{
    int e;
    *out = kq_first(x, n->args[i], in, &e);
    if (e) return -1;
    if (!json_is_string(*out)) {
        json_decref(*out);
        *out = NULL;
        return kq_err(x, "%s cannot be used as a string argument", "value");
    }
    return 0;
}

static int emit_b(kq_emit emit, void *ud, int b) { return emit(ud, json_boolean(b)); }

static int undefined(kq_ctx *x, const kq_node *n)
{
    snprintf(x->err, x->errcap, "%s/%d is not defined", n->name, n->nargs);
    return -1;
}

/* Every builtin has this shape: n is the call (its name tells apart the builtins that share a function, its
 * args are the jq arguments), in the input. */
#define BUILTIN(fn) static int fn(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud)

/* ---- types and values ---- */

BUILTIN(b_empty) { return 0; }
BUILTIN(b_not) { return emit_b(emit, ud, !kq_truthy(in)); }
BUILTIN(b_type) { return kq_emit_new(emit, ud, json_string(kq_type(in))); }

BUILTIN(b_length)
{
    if (json_is_array(in)) return kq_emit_new(emit, ud, json_integer((json_int_t)json_array_size(in)));
    if (json_is_object(in)) return kq_emit_new(emit, ud, json_integer((json_int_t)json_object_size(in)));
    if (json_is_string(in))
        return kq_emit_new(emit, ud, json_integer(kx_utf16_len(json_string_value(in), json_string_length(in))));
    if (json_is_null(in)) return kq_emit_new(emit, ud, json_integer(0));
    if (json_is_number(in)) return kq_emit_new(emit, ud, kq_num(fabs(json_number_value(in))));
    return kq_err(x, "%s has no length", kq_type(in));
}

BUILTIN(b_utf8bytelength)
{
    if (!json_is_string(in)) return undefined(x, n);
    return kq_emit_new(emit, ud, json_integer((json_int_t)json_string_length(in)));
}

/* keys (sorted) and keys_unsorted */
BUILTIN(b_keys)
{
    json_t *r = json_array();
    if (json_is_object(in)) {
        const char *k;
        json_t *v;
        json_object_foreach(in, k, v) json_array_append_new(r, json_string(k));
        if (!strcmp(n->name, "keys")) {
            json_t **ks = calloc(json_array_size(r) + 1, sizeof *ks), **vs = calloc(json_array_size(r) + 1, sizeof *vs);
            size_t cnt = json_array_size(r);
            for (size_t i = 0; ks && vs && i < cnt; i++) ks[i] = vs[i] = json_array_get(r, i);
            if (ks && vs) sort_pairs(ks, vs, cnt);
            json_t *s = json_array();
            for (size_t i = 0; ks && vs && i < cnt; i++) json_array_append(s, vs[i]);
            free(ks);
            free(vs);
            json_decref(r);
            r = s;
        }
    } else if (json_is_array(in)) {
        for (size_t i = 0; i < json_array_size(in); i++) json_array_append_new(r, json_integer((json_int_t)i));
    } else {
        json_decref(r);
        return kq_err(x, "%s has no keys", kq_type(in));
    }
    return kq_emit_new(emit, ud, r);
}

BUILTIN(b_values) { return json_is_null(in) ? 0 : emit(ud, in); }

BUILTIN(b_has)
{
    int e;
    json_t *k = kq_first(x, n->args[0], in, &e);
    if (e) return -1;
    int r = json_is_object(in) && json_is_string(k) ? json_object_get(in, json_string_value(k)) != NULL
          : json_is_array(in) && json_is_number(k) ? json_number_value(k) >= 0 && json_number_value(k) < (double)json_array_size(in)
          : -1;
    json_decref(k);
    if (r < 0) return kq_err(x, "Cannot check whether %s has a key", kq_type(in));
    return emit_b(emit, ud, r);
}

BUILTIN(b_contains)
{
    int e;
    json_t *b = kq_first(x, n->args[0], in, &e);
    if (e) return -1;
    int r = json_is_string(in) && json_is_string(b) ? strstr(json_string_value(in), json_string_value(b)) != NULL
                                                    : json_equal(in, b);
    if (json_is_array(in) && json_is_array(b)) {
        r = 1;
        for (size_t i = 0; i < json_array_size(b) && r; i++) {
            int found = 0;
            for (size_t k = 0; k < json_array_size(in) && !found; k++)
                found = json_equal(json_array_get(in, k), json_array_get(b, i));
            r = found;
        }
    }
    json_decref(b);
    return emit_b(emit, ud, r);
}

BUILTIN(b_error)
{
    int e;
    json_t *m = kq_first(x, n->args[0], in, &e);
    char *s = m ? kx_tostring_dup(m) : NULL;
    json_decref(m);
    int rc = kq_err(x, "%s", s ? s : "null");
    free(s);
    return rc;
}

/* ---- numbers ---- */

static int math1(kq_ctx *x, json_t *in, kq_emit emit, void *ud, double (*fn)(double))
{
    if (!json_is_number(in)) return kq_err(x, "%s number required", kq_type(in));
    return kq_emit_new(emit, ud, kq_num(fn(json_number_value(in))));
}

BUILTIN(b_floor) { return math1(x, in, emit, ud, floor); }
BUILTIN(b_ceil) { return math1(x, in, emit, ud, ceil); }
BUILTIN(b_sqrt) { return math1(x, in, emit, ud, sqrt); }
BUILTIN(b_fabs) { return math1(x, in, emit, ud, fabs); }
BUILTIN(b_round) { return math1(x, in, emit, ud, round); }

/* ---- conversions ---- */

BUILTIN(b_tostring)
{
    if (json_is_string(in)) return emit(ud, in);
    kt_buf b = {0};
    kt_json_write(&b, in);
    return kq_emit_new(emit, ud, str_new(&b));
}

BUILTIN(b_tojson)
{
    kt_buf b = {0};
    kt_json_write(&b, in);
    return kq_emit_new(emit, ud, str_new(&b));
}

/* fromjson and tonumber */
BUILTIN(b_fromjson)
{
    int tonumber = n->name[0] == 't';
    if (json_is_number(in) && tonumber) return emit(ud, in);
    if (!json_is_string(in)) return kq_err(x, "%s cannot be parsed", kq_type(in));
    json_t *v = json_loads(json_string_value(in), JSON_DECODE_ANY, NULL);
    if (!v || (tonumber && !json_is_number(v))) {
        json_decref(v);
        return kq_err(x, "Cannot parse '%s'", json_string_value(in));
    }
    return kq_emit_new(emit, ud, v);
}

/* ascii_downcase and ascii_upcase */
BUILTIN(b_ascii_case)
{
    if (!json_is_string(in)) return kq_err(x, "%s cannot be case-converted", kq_type(in));
    int down = n->name[6] == 'd';
    char *s = strdup(json_string_value(in));
    for (char *p = s; p && *p; p++)
        if (*p >= (down ? 'A' : 'a') && *p <= (down ? 'Z' : 'z')) *p ^= 0x20;
    json_t *r = kx_str(s);
    free(s);
    return kq_emit_new(emit, ud, r);
}

BUILTIN(b_to_entries)
{
    json_t *r = json_array();
    if (json_is_object(in)) {
        const char *k;
        json_t *v;
        json_object_foreach(in, k, v) json_array_append_new(r, json_pack("{s:s,s:O}", "key", k, "value", v));
    } else if (json_is_array(in)) {
        for (size_t i = 0; i < json_array_size(in); i++)
            json_array_append_new(r, json_pack("{s:I,s:O}", "key", (json_int_t)i, "value", json_array_get(in, i)));
    } else {
        json_decref(r);
        return kq_err(x, "%s has no keys", kq_type(in));
    }
    return kq_emit_new(emit, ud, r);
}

BUILTIN(b_from_entries)
{
    if (!json_is_array(in)) return kq_err(x, "Cannot iterate over %s", kq_type(in));
    json_t *r = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(in, i, v) {
        json_t *k = json_object_get(v, "key");
        if (!k) k = json_object_get(v, "name");
        if (!k) k = json_object_get(v, "k");
        json_t *val = json_object_get(v, "value");
        if (!val) val = json_object_get(v, "v");
        char *ks = json_is_string(k) ? strdup(json_string_value(k)) : kx_tostring_dup(k);
        json_object_set(r, ks ? ks : "null", val ? val : json_null());
        free(ks);
    }
    return kq_emit_new(emit, ud, r);
}

/* with_entries(f) is to_entries | map(f) | from_entries */
BUILTIN(b_with_entries)
{
    kq_node te = {.t = J_CALL, .name = "to_entries"}, fe = {.t = J_CALL, .name = "from_entries"};
    kq_node m = {.t = J_CALL, .name = "map", .args = (kq_node **)&n->args[0], .nargs = 1};
    kq_node p2 = {.t = J_PIPE, .a = &m, .b = &fe}, p1 = {.t = J_PIPE, .a = &te, .b = &p2};
    return kq_ev(x, &p1, in, emit, ud);
}

BUILTIN(b_recurse)
{
    kq_node id = {.t = J_RECURSE};
    return kq_ev(x, &id, in, emit, ud);
}

/* ---- arrays ---- */

BUILTIN(b_add)
{
    if (!json_is_array(in)) return kq_err(x, "Cannot iterate over %s", kq_type(in));
    json_t *acc = json_null();
    size_t i;
    json_t *v;
    json_array_foreach(in, i, v) {
        json_t *nx = kq_arith(x, "+", acc, v);
        json_decref(acc);
        if (!nx) return -1;
        acc = nx;
    }
    return kq_emit_new(emit, ud, acc);
}

/* any and all */
BUILTIN(b_any_all)
{
    if (!json_is_array(in)) return kq_err(x, "Cannot iterate over %s", kq_type(in));
    int any = 0, all = 1;
    for (size_t i = 0; i < json_array_size(in); i++) {
        int t = kq_truthy(json_array_get(in, i));
        any |= t;
        all &= t;
    }
    return emit_b(emit, ud, n->name[1] == 'n' ? any : all);
}

BUILTIN(b_flatten)
{
    if (!json_is_array(in)) return kq_err(x, "Cannot iterate over %s", kq_type(in));
    json_t *r = json_array();
    json_t *stack = json_array();
    for (size_t i = json_array_size(in); i-- > 0;) json_array_append(stack, json_array_get(in, i));
    while (json_array_size(stack)) {
        json_t *v = json_incref(json_array_get(stack, json_array_size(stack) - 1));
        json_array_remove(stack, json_array_size(stack) - 1);
        if (json_is_array(v))
            for (size_t i = json_array_size(v); i-- > 0;) json_array_append(stack, json_array_get(v, i));
        else json_array_append(r, v);
        json_decref(v);
    }
    json_decref(stack);
    return kq_emit_new(emit, ud, r);
}

/* sort, unique, min, max, group and their _by(f) forms */
BUILTIN(b_sorted) { return sorted_family(x, n->name, n->nargs ? n->args[0] : NULL, in, emit, ud); }

BUILTIN(b_reverse)
{
    if (json_is_null(in)) return kq_emit_new(emit, ud, json_array());
    if (!json_is_array(in)) return kq_err(x, "Cannot reverse %s", kq_type(in));
    json_t *r = json_array();
    for (size_t i = json_array_size(in); i-- > 0;) json_array_append(r, json_array_get(in, i));
    return kq_emit_new(emit, ud, r);
}

/* first and last of the input array */
BUILTIN(b_first_last)
{
    if (!json_is_array(in)) return kq_err(x, "Cannot index %s with number", kq_type(in));
    size_t sz = json_array_size(in);
    json_t *v = sz ? json_array_get(in, n->name[0] == 'f' ? 0 : sz - 1) : NULL;
    return emit(ud, v ? v : json_null());
}

/* first(f) and last(f): of the outputs of f */
BUILTIN(b_first_last_of)
{
    json_t *all = kq_collect(x, n->args[0], in);
    if (!all) return -1;
    size_t sz = json_array_size(all);
    int rc = sz ? emit(ud, json_array_get(all, n->name[0] == 'f' ? 0 : sz - 1)) : 0;
    json_decref(all);
    return rc;
}

/* limit(n) and nth(n) of the input array */
BUILTIN(b_limit_nth)
{
    int e;
    json_t *k = kq_first(x, n->args[0], in, &e);
    if (e) return -1;
    long long cnt = json_is_number(k) ? (long long)json_number_value(k) : 0;
    json_decref(k);
    if (!json_is_array(in)) return kq_err(x, "Cannot index %s with number", kq_type(in));
    if (!strcmp(n->name, "nth")) {
        json_t *v = cnt >= 0 ? json_array_get(in, (size_t)cnt) : NULL;
        return emit(ud, v ? v : json_null());
    }
    for (long long i = 0; i < cnt && (size_t)i < json_array_size(in); i++)
        if (emit(ud, json_array_get(in, (size_t)i))) return -1;
    return 0;
}

/* range(n) and range(from; upto) */
BUILTIN(b_range)
{
    int e;
    long long lo = 0, hi;
    if (n->nargs == 1) {
        json_t *k = kq_first(x, n->args[0], in, &e);
        if (e) return -1;
        hi = json_is_number(k) ? (long long)json_number_value(k) : 0;
        json_decref(k);
    } else {
        json_t *l = kq_first(x, n->args[0], in, &e), *h = e ? NULL : kq_first(x, n->args[1], in, &e);
        lo = json_is_number(l) ? (long long)json_number_value(l) : 0;
        hi = json_is_number(h) ? (long long)json_number_value(h) : 0;
        json_decref(l);
        json_decref(h);
        if (e) return -1;
    }
    for (long long i = lo; i < hi && i - lo < 1000000; i++)
        if (kq_emit_new(emit, ud, json_integer(i))) return -1;
    return 0;
}

/* ---- filters taking a jq expression ---- */

typedef struct select_ud {
    kq_emit emit;
    void *ud;
    json_t *in;
} select_ud;

static int select_cb(void *p, json_t *c)
{
    select_ud *u = p;
    return kq_truthy(c) ? u->emit(u->ud, u->in) : 0;
}

BUILTIN(b_select)
{
    select_ud u = {emit, ud, in};
    return kq_ev(x, n->args[0], in, select_cb, &u);
}

/* map(f) and map_values(f) */
BUILTIN(b_map)
{
    const kq_node *a = n->args[0];
    int e;
    if (json_is_object(in) && n->name[3] == '_') {
        json_t *r = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(in, k, v) {
            json_t *nv = kq_first(x, a, v, &e);
            if (e) {
                json_decref(r);
                return -1;
            }
            if (nv) json_object_set_new(r, k, nv);
        }
        return kq_emit_new(emit, ud, r);
    }
    if (!json_is_array(in) && !json_is_object(in)) return kq_err(x, "Cannot iterate over %s", kq_type(in));
    json_t *r = json_array();
    size_t i;
    json_t *v;
    const char *k;
    if (json_is_array(in)) {
        json_array_foreach(in, i, v) if (kq_ev(x, a, v, kq_collect_cb, r)) {
            json_decref(r);
            return -1;
        }
    } else {
        json_object_foreach(in, k, v) if (kq_ev(x, a, v, kq_collect_cb, r)) {
            json_decref(r);
            return -1;
        }
    }
    return kq_emit_new(emit, ud, r);
}

/* ---- strings: one string argument t[0..tl) ---- */

typedef int (*str_fn)(kq_ctx *x, json_t *in, const char *t, size_t tl, kq_emit emit, void *ud);

/* Evaluates the string argument, then (unless the builtin takes any input) checks that the input is a string. */
static int with_str_arg(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud, int string_input, str_fn fn)
{
    json_t *s;
    if (str_arg(x, n, in, 0, &s)) return -1;
    int rc = string_input && !json_is_string(in)
                 ? kq_err(x, "%s cannot be matched, as it is not a string", kq_type(in))
                 : fn(x, in, json_string_value(s), json_string_length(s), emit, ud);
    json_decref(s);
    return rc;
}

static int s_join(kq_ctx *x, json_t *in, const char *t, size_t tl, kq_emit emit, void *ud)
{
    if (!json_is_array(in)) return kq_err(x, "Cannot iterate over %s", kq_type(in));
    kt_buf b = {0};
    size_t i;
    json_t *v;
    json_array_foreach(in, i, v) {
        if (i) kt_buf_put(&b, t, tl);
        if (json_is_string(v)) kt_buf_puts(&b, json_string_value(v));
        else if (!json_is_null(v)) kt_json_write(&b, v);
    }
    return kq_emit_new(emit, ud, str_new(&b));
}

static int prefixed(json_t *in, const char *t, size_t tl)
{
    return tl <= json_string_length(in) && !memcmp(json_string_value(in), t, tl);
}

static int suffixed(json_t *in, const char *t, size_t tl)
{
    size_t vl = json_string_length(in);
    return tl <= vl && !memcmp(json_string_value(in) + vl - tl, t, tl);
}

static int s_startswith(kq_ctx *x, json_t *in, const char *t, size_t tl, kq_emit emit, void *ud)
{
    return emit_b(emit, ud, prefixed(in, t, tl));
}

static int s_endswith(kq_ctx *x, json_t *in, const char *t, size_t tl, kq_emit emit, void *ud)
{
    return emit_b(emit, ud, suffixed(in, t, tl));
}

static int s_ltrimstr(kq_ctx *x, json_t *in, const char *t, size_t tl, kq_emit emit, void *ud)
{
    const char *v = json_string_value(in);
    size_t vl = json_string_length(in);
    return kq_emit_new(emit, ud, prefixed(in, t, tl) ? kx_strn(v + tl, vl - tl) : json_incref(in));
}

static int s_rtrimstr(kq_ctx *x, json_t *in, const char *t, size_t tl, kq_emit emit, void *ud)
{
    const char *v = json_string_value(in);
    size_t vl = json_string_length(in);
    return kq_emit_new(emit, ud, suffixed(in, t, tl) ? kx_strn(v, vl - tl) : json_incref(in));
}

static int s_index(kq_ctx *x, json_t *in, const char *t, size_t tl, kq_emit emit, void *ud)
{
    const char *v = json_string_value(in);
    const char *p = tl ? strstr(v, t) : NULL;
    return kq_emit_new(emit, ud, p ? json_integer(p - v) : json_null());
}

static int s_split(kq_ctx *x, json_t *in, const char *t, size_t tl, kq_emit emit, void *ud)
{
    json_t *r = json_array();
    const char *p = json_string_value(in);
    while (tl) {
        const char *q = strstr(p, t);
        if (!q) break;
        json_array_append_new(r, kx_strn(p, (size_t)(q - p)));
        p = q + tl;
    }
    if (json_string_length(in)) json_array_append_new(r, kx_str(p));
    return kq_emit_new(emit, ud, r);
}

static int s_test(kq_ctx *x, json_t *in, const char *t, size_t tl, kq_emit emit, void *ud)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)t, tl, PCRE2_UTF, &ec, &eo, NULL);
    if (!re) return kq_err(x, "%s is not a valid regex", t);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int m = pcre2_match(re, (PCRE2_SPTR)json_string_value(in), json_string_length(in), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return emit_b(emit, ud, m >= 0);
}

BUILTIN(b_join) { return with_str_arg(x, n, in, emit, ud, 0, s_join); }
BUILTIN(b_startswith) { return with_str_arg(x, n, in, emit, ud, 1, s_startswith); }
BUILTIN(b_endswith) { return with_str_arg(x, n, in, emit, ud, 1, s_endswith); }
BUILTIN(b_ltrimstr) { return with_str_arg(x, n, in, emit, ud, 1, s_ltrimstr); }
BUILTIN(b_rtrimstr) { return with_str_arg(x, n, in, emit, ud, 1, s_rtrimstr); }
BUILTIN(b_index) { return with_str_arg(x, n, in, emit, ud, 1, s_index); }
BUILTIN(b_split) { return with_str_arg(x, n, in, emit, ud, 1, s_split); }
BUILTIN(b_test) { return with_str_arg(x, n, in, emit, ud, 1, s_test); }

/* ---- the table ---- */

typedef int (*kq_builtin_fn)(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud);

static const struct kq_builtin {
    const char *name;
    int arity;
    kq_builtin_fn fn;
} k_builtins[] = {
    {"empty", 0, b_empty},
    {"not", 0, b_not},
    {"type", 0, b_type},
    {"length", 0, b_length},
    {"utf8bytelength", 0, b_utf8bytelength},
    {"keys", 0, b_keys},
    {"keys_unsorted", 0, b_keys},
    {"values", 0, b_values},
    {"has", 1, b_has},
    {"contains", 1, b_contains},
    {"error", 1, b_error},
    {"floor", 0, b_floor},
    {"ceil", 0, b_ceil},
    {"sqrt", 0, b_sqrt},
    {"fabs", 0, b_fabs},
    {"round", 0, b_round},
    {"tostring", 0, b_tostring},
    {"tojson", 0, b_tojson},
    {"fromjson", 0, b_fromjson},
    {"tonumber", 0, b_fromjson},
    {"ascii_downcase", 0, b_ascii_case},
    {"ascii_upcase", 0, b_ascii_case},
    {"to_entries", 0, b_to_entries},
    {"from_entries", 0, b_from_entries},
    {"with_entries", 1, b_with_entries},
    {"recurse", 0, b_recurse},
    {"add", 0, b_add},
    {"any", 0, b_any_all},
    {"all", 0, b_any_all},
    {"flatten", 0, b_flatten},
    {"sort", 0, b_sorted},
    {"unique", 0, b_sorted},
    {"min", 0, b_sorted},
    {"max", 0, b_sorted},
    {"group", 0, b_sorted},
    {"sort_by", 1, b_sorted},
    {"group_by", 1, b_sorted},
    {"unique_by", 1, b_sorted},
    {"min_by", 1, b_sorted},
    {"max_by", 1, b_sorted},
    {"reverse", 0, b_reverse},
    {"first", 0, b_first_last},
    {"last", 0, b_first_last},
    {"first", 1, b_first_last_of},
    {"last", 1, b_first_last_of},
    {"limit", 1, b_limit_nth},
    {"nth", 1, b_limit_nth},
    {"range", 1, b_range},
    {"range", 2, b_range},
    {"select", 1, b_select},
    {"map", 1, b_map},
    {"map_values", 1, b_map},
    {"join", 1, b_join},
    {"startswith", 1, b_startswith},
    {"endswith", 1, b_endswith},
    {"ltrimstr", 1, b_ltrimstr},
    {"rtrimstr", 1, b_rtrimstr},
    {"index", 1, b_index},
    {"split", 1, b_split},
    {"test", 1, b_test},
};

int kq_call(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud)
{
    for (size_t i = 0; i < sizeof k_builtins / sizeof *k_builtins; i++)
        if (k_builtins[i].arity == n->nargs && !strcmp(k_builtins[i].name, n->name))
            return k_builtins[i].fn(x, n, in, emit, ud);
    return undefined(x, n);
}
