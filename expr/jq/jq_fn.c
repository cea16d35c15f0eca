/* jq builtins for the jq filter's subset (see expr_jq.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "expr/jq/jq_int.h"

static int argc_is(const kq_node *n, int k) { return n->nargs == k; }

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

typedef struct map_ud {
    kq_ctx *x;
    const kq_node *f;
    json_t *acc;
    int mode; /* 0 map, 1 select */
    kq_emit emit;
    void *ud;
    json_t *in;
} map_ud;

static int select_cb(void *p, json_t *c)
{
    map_ud *u = p;
    return kq_truthy(c) ? u->emit(u->ud, u->in) : 0;
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

int kq_call(kq_ctx *x, const kq_node *n, json_t *in, kq_emit emit, void *ud)
{
    const char *f = n->name;
    int e;
    if (argc_is(n, 0)) {
        if (!strcmp(f, "empty")) return 0;
        if (!strcmp(f, "not")) return emit_b(emit, ud, !kq_truthy(in));
        if (!strcmp(f, "type")) return kq_emit_new(emit, ud, json_string(kq_type(in)));
        if (!strcmp(f, "length")) {
            if (json_is_array(in)) return kq_emit_new(emit, ud, json_integer((json_int_t)json_array_size(in)));
            if (json_is_object(in)) return kq_emit_new(emit, ud, json_integer((json_int_t)json_object_size(in)));
            if (json_is_string(in))
                return kq_emit_new(emit, ud, json_integer(kx_utf16_len(json_string_value(in), json_string_length(in))));
            if (json_is_null(in)) return kq_emit_new(emit, ud, json_integer(0));
            if (json_is_number(in)) return kq_emit_new(emit, ud, kq_num(fabs(json_number_value(in))));
            return kq_err(x, "%s has no length", kq_type(in));
        }
        if (!strcmp(f, "keys") || !strcmp(f, "keys_unsorted")) {
            json_t *r = json_array();
            if (json_is_object(in)) {
                const char *k;
                json_t *v;
                json_object_foreach(in, k, v) json_array_append_new(r, json_string(k));
                if (!strcmp(f, "keys")) {
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
        if (!strcmp(f, "values")) return json_is_null(in) ? 0 : emit(ud, in);
        if (!strcmp(f, "add")) {
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
        if (!strcmp(f, "any") || !strcmp(f, "all")) {
            if (!json_is_array(in)) return kq_err(x, "Cannot iterate over %s", kq_type(in));
            int any = 0, all = 1;
            for (size_t i = 0; i < json_array_size(in); i++) {
                int t = kq_truthy(json_array_get(in, i));
                any |= t;
                all &= t;
            }
            return emit_b(emit, ud, f[1] == 'n' ? any : all);
        }
        if (!strcmp(f, "flatten")) {
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
        if (!strcmp(f, "floor") || !strcmp(f, "ceil") || !strcmp(f, "sqrt") || !strcmp(f, "fabs") || !strcmp(f, "round")) {
            if (!json_is_number(in)) return kq_err(x, "%s number required", kq_type(in));
            double d = json_number_value(in);
            d = f[0] == 'f' && f[1] == 'l' ? floor(d) : f[0] == 'c' ? ceil(d) : f[0] == 's' ? sqrt(d) : f[0] == 'r' ? round(d) : fabs(d);
            return kq_emit_new(emit, ud, kq_num(d));
        }
        if (!strcmp(f, "tostring")) {
            if (json_is_string(in)) return emit(ud, in);
            kt_buf b = {0};
            kt_json_write(&b, in);
            return kq_emit_new(emit, ud, str_new(&b));
        }
        if (!strcmp(f, "tojson")) {
            kt_buf b = {0};
            kt_json_write(&b, in);
            return kq_emit_new(emit, ud, str_new(&b));
        }
        if (!strcmp(f, "fromjson") || !strcmp(f, "tonumber")) {
            if (json_is_number(in) && f[0] == 't') return emit(ud, in);
            if (!json_is_string(in)) return kq_err(x, "%s cannot be parsed", kq_type(in));
            json_t *v = json_loads(json_string_value(in), JSON_DECODE_ANY, NULL);
            if (!v || (f[0] == 't' && !json_is_number(v))) {
                json_decref(v);
                return kq_err(x, "Cannot parse '%s'", json_string_value(in));
            }
            return kq_emit_new(emit, ud, v);
        }
        if (!strcmp(f, "ascii_downcase") || !strcmp(f, "ascii_upcase")) {
            if (!json_is_string(in)) return kq_err(x, "%s cannot be case-converted", kq_type(in));
            char *s = strdup(json_string_value(in));
            for (char *p = s; p && *p; p++)
                if (*p >= (f[6] == 'd' ? 'A' : 'a') && *p <= (f[6] == 'd' ? 'Z' : 'z')) *p ^= 0x20;
            json_t *r = kx_str(s);
            free(s);
            return kq_emit_new(emit, ud, r);
        }
        if (!strcmp(f, "sort") || !strcmp(f, "unique") || !strcmp(f, "min") || !strcmp(f, "max") || !strcmp(f, "group"))
            return sorted_family(x, f, NULL, in, emit, ud);
        if (!strcmp(f, "reverse")) {
            if (json_is_null(in)) return kq_emit_new(emit, ud, json_array());
            if (!json_is_array(in)) return kq_err(x, "Cannot reverse %s", kq_type(in));
            json_t *r = json_array();
            for (size_t i = json_array_size(in); i-- > 0;) json_array_append(r, json_array_get(in, i));
            return kq_emit_new(emit, ud, r);
        }
        if (!strcmp(f, "first") || !strcmp(f, "last")) {
            if (!json_is_array(in)) return kq_err(x, "Cannot index %s with number", kq_type(in));
            size_t sz = json_array_size(in);
            json_t *v = sz ? json_array_get(in, f[0] == 'f' ? 0 : sz - 1) : NULL;
            return emit(ud, v ? v : json_null());
        }
        if (!strcmp(f, "to_entries")) {
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
        if (!strcmp(f, "from_entries")) {
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
        if (!strcmp(f, "recurse")) {
            kq_node id = {.t = J_RECURSE};
            return kq_ev(x, &id, in, emit, ud);
        }
        if (!strcmp(f, "utf8bytelength") && json_is_string(in))
            return kq_emit_new(emit, ud, json_integer((json_int_t)json_string_length(in)));
    }
    if (argc_is(n, 1)) {
        const kq_node *a = n->args[0];
        if (!strcmp(f, "select")) {
            map_ud u = {x, a, NULL, 1, emit, ud, in};
            return kq_ev(x, a, in, select_cb, &u);
        }
        if (!strcmp(f, "map") || !strcmp(f, "map_values")) {
            if (json_is_object(in) && f[3] == '_') {
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
        if (!strcmp(f, "with_entries")) {
            kq_node te = {.t = J_CALL, .name = "to_entries"}, fe = {.t = J_CALL, .name = "from_entries"};
            kq_node m = {.t = J_CALL, .name = "map", .args = (kq_node **)&n->args[0], .nargs = 1};
            kq_node p2 = {.t = J_PIPE, .a = &m, .b = &fe}, p1 = {.t = J_PIPE, .a = &te, .b = &p2};
            return kq_ev(x, &p1, in, emit, ud);
        }
        if (!strcmp(f, "sort_by") || !strcmp(f, "group_by") || !strcmp(f, "unique_by") || !strcmp(f, "min_by") ||
            !strcmp(f, "max_by"))
            return sorted_family(x, f, a, in, emit, ud);
        if (!strcmp(f, "has")) {
            json_t *k = kq_first(x, a, in, &e);
            if (e) return -1;
            int r = json_is_object(in) && json_is_string(k) ? json_object_get(in, json_string_value(k)) != NULL
                  : json_is_array(in) && json_is_number(k) ? json_number_value(k) >= 0 && json_number_value(k) < (double)json_array_size(in)
                  : -1;
            json_decref(k);
            if (r < 0) return kq_err(x, "Cannot check whether %s has a key", kq_type(in));
            return emit_b(emit, ud, r);
        }
        if (!strcmp(f, "contains")) {
            json_t *b = kq_first(x, a, in, &e);
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
        if (!strcmp(f, "startswith") || !strcmp(f, "endswith") || !strcmp(f, "ltrimstr") || !strcmp(f, "rtrimstr") ||
            !strcmp(f, "split") || !strcmp(f, "join") || !strcmp(f, "test") || !strcmp(f, "index")) {
            json_t *s;
            if (str_arg(x, n, in, 0, &s)) return -1;
            const char *t = json_string_value(s);
            size_t tl = json_string_length(s);
            int rc;
            if (!strcmp(f, "join")) {
                if (!json_is_array(in)) {
                    json_decref(s);
                    return kq_err(x, "Cannot iterate over %s", kq_type(in));
                }
                kt_buf b = {0};
                size_t i;
                json_t *v;
                json_array_foreach(in, i, v) {
                    if (i) kt_buf_put(&b, t, tl);
                    if (json_is_string(v)) kt_buf_puts(&b, json_string_value(v));
                    else if (!json_is_null(v)) kt_json_write(&b, v);
                }
                rc = kq_emit_new(emit, ud, str_new(&b));
            } else if (!json_is_string(in)) {
                rc = kq_err(x, "%s cannot be matched, as it is not a string", kq_type(in));
            } else {
                const char *v = json_string_value(in);
                size_t vl = json_string_length(in);
                if (!strcmp(f, "startswith")) rc = emit_b(emit, ud, tl <= vl && !memcmp(v, t, tl));
                else if (!strcmp(f, "endswith")) rc = emit_b(emit, ud, tl <= vl && !memcmp(v + vl - tl, t, tl));
                else if (!strcmp(f, "ltrimstr")) rc = kq_emit_new(emit, ud, tl <= vl && !memcmp(v, t, tl) ? kx_strn(v + tl, vl - tl) : json_incref(in));
                else if (!strcmp(f, "rtrimstr")) rc = kq_emit_new(emit, ud, tl <= vl && !memcmp(v + vl - tl, t, tl) ? kx_strn(v, vl - tl) : json_incref(in));
                else if (!strcmp(f, "index")) {
                    const char *p = tl ? strstr(v, t) : NULL;
                    rc = kq_emit_new(emit, ud, p ? json_integer(p - v) : json_null());
                } else if (!strcmp(f, "split")) {
                    json_t *r = json_array();
                    const char *p = v;
                    while (tl) {
                        const char *q = strstr(p, t);
                        if (!q) break;
                        json_array_append_new(r, kx_strn(p, (size_t)(q - p)));
                        p = q + tl;
                    }
                    if (vl) json_array_append_new(r, kx_str(p));
                    rc = kq_emit_new(emit, ud, r);
                } else {
                    int ec;
                    PCRE2_SIZE eo;
                    pcre2_code *re = pcre2_compile((PCRE2_SPTR)t, tl, PCRE2_UTF, &ec, &eo, NULL);
                    if (!re) {
                        rc = kq_err(x, "%s is not a valid regex", t);
                    } else {
                        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
                        int m = pcre2_match(re, (PCRE2_SPTR)v, vl, 0, 0, md, NULL);
                        pcre2_match_data_free(md);
                        pcre2_code_free(re);
                        rc = emit_b(emit, ud, m >= 0);
                    }
                }
            }
            json_decref(s);
            return rc;
        }
        if (!strcmp(f, "range") || !strcmp(f, "limit") || !strcmp(f, "nth")) {
            json_t *k = kq_first(x, a, in, &e);
            if (e) return -1;
            long long cnt = json_is_number(k) ? (long long)json_number_value(k) : 0;
            json_decref(k);
            if (!strcmp(f, "range")) {
                for (long long i = 0; i < cnt && i < 1000000; i++)
                    if (kq_emit_new(emit, ud, json_integer(i))) return -1;
                return 0;
            }
            if (!json_is_array(in)) return kq_err(x, "Cannot index %s with number", kq_type(in));
            if (!strcmp(f, "nth")) {
                json_t *v = cnt >= 0 ? json_array_get(in, (size_t)cnt) : NULL;
                return emit(ud, v ? v : json_null());
            }
            for (long long i = 0; i < cnt && (size_t)i < json_array_size(in); i++)
                if (emit(ud, json_array_get(in, (size_t)i))) return -1;
            return 0;
        }
        if (!strcmp(f, "error")) {
            json_t *m = kq_first(x, a, in, &e);
            char *s = m ? kx_tostring_dup(m) : NULL;
            json_decref(m);
            int rc = kq_err(x, "%s", s ? s : "null");
            free(s);
            return rc;
        }
        if (!strcmp(f, "first") || !strcmp(f, "last")) {
            json_t *all = kq_collect(x, a, in);
            if (!all) return -1;
            size_t sz = json_array_size(all);
            int rc = sz ? emit(ud, json_array_get(all, f[0] == 'f' ? 0 : sz - 1)) : 0;
            json_decref(all);
            return rc;
        }
    }
    if (argc_is(n, 2) && !strcmp(f, "range")) {
        json_t *lo = kq_first(x, n->args[0], in, &e), *hi = e ? NULL : kq_first(x, n->args[1], in, &e);
        long long l = json_is_number(lo) ? (long long)json_number_value(lo) : 0, h = json_is_number(hi) ? (long long)json_number_value(hi) : 0;
        json_decref(lo);
        json_decref(hi);
        if (e) return -1;
        for (long long i = l; i < h && i - l < 1000000; i++)
            if (kq_emit_new(emit, ud, json_integer(i))) return -1;
        return 0;
    }
    snprintf(x->err, x->errcap, "%s/%d is not defined", f, n->nargs);
    return -1;
}
