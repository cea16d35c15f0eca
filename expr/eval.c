/* Expression evaluation (reference 1.6-1.8): strict lookups, attribute access with the few Java members
 * flows use, operators with Pebble's promotion and error-wrapping rules, filters, tests and calls.
 * Every function returns a new reference, or NULL with env->err filled. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/secrets.h"
#include "expr/expr_int.h"

void *kx_fail(kx_env *env, const kx_node *n, int kind, const char *fmt, ...)
{
    kx_err *e = env->err;
    /* formatted whole and masked before it is cut to e->msg: a message quoting a value (`x is not a valid number`)
     * cut in the middle of a secret would keep its head, which no longer matches in full */
    char *full = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = vasprintf(&full, fmt, ap);
    va_end(ap);
    if (len < 0)
        snprintf(e->msg, sizeof e->msg, "out of memory");
    else
        kt_mask_copy(e->msg, sizeof e->msg, full, (size_t)len, env->ambient ? env->ambient->secrets_used : NULL);
    free(full);
    e->kind = kind;
    e->name[0] = 0;
    e->line = n ? n->line : 0;
    e->col = n ? n->col : 0;
    return NULL;
}

void *kx_notfound(kx_env *env, const kx_node *n, const char *name)
{
    kx_fail(env, n, KX_E_NOTFOUND, "Attribute [%s] does not exist or can not be accessed and strict variables is "
                                   "set to true.", name);
    snprintf(env->err->name, sizeof env->err->name, "%s", name);
    return NULL;
}

static void clear_err(kx_env *env) { memset(env->err, 0, sizeof *env->err); }

json_t *kx_lookup(kx_env *env, const char *name)
{
    for (int i = env->nscopes - 1; i >= 0; i--) {
        json_t *v = json_object_get(env->scopes[i], name);
        if (v) return v;
    }
    json_t *v = env->ctx ? json_object_get(env->ctx, name) : NULL;
    /* `envs` is the process's (RunContextCache.envVars): it comes with the render's environment, like the clock, so
     * every render of every caller sees it without each one copying it into its context (base/secrets.h) */
    if (!v && env->ambient && env->ambient->secrets && !strcmp(name, "envs"))
        v = (json_t *)kt_secrets_envs(env->ambient->secrets);
    return v;
}

/* ---- truthiness ---- */

int kx_truthy(kx_env *env, const kx_node *n, const json_t *v, int *out, const char *what)
{
    if (!v || json_is_null(v)) {
        kx_fail(env, n, KX_E_PEBBLE, "null value given to %s and strict variables is set to true", what);
        return -1;
    }
    switch (json_typeof(v)) {
    case JSON_TRUE: *out = 1; return 0;
    case JSON_FALSE: *out = 0; return 0;
    case JSON_INTEGER: *out = json_integer_value(v) != 0; return 0;
    case JSON_REAL: *out = json_real_value(v) != 0; return 0;
    case JSON_STRING: *out = json_string_length(v) != 0; return 0;
    default:
        kx_fail(env, n, KX_E_PEBBLE, "Unsupported value type %s. Expected Boolean, String, Number in \"if\" statement",
                json_is_array(v) ? "ArrayList" : "LinkedHashMap");
        return -1;
    }
}

/* ---- arguments ---- */

void kx_free_args(json_t **slots, int n)
{
    for (int i = 0; i < n; i++) {
        json_decref(slots[i]);
        slots[i] = NULL;
    }
}

/* Pebble's argument binding: positional in declaration order, then named. Returns the number of slots
 * filled (declared count, or the positional count for variadic builtins), -1 on error. */
int kx_eval_args(kx_env *env, const kx_node *n, const char *const *names, int variadic, json_t **slots, int max)
{
    int nnames = 0;
    while (names && names[nnames]) nnames++;
    int nslots = variadic ? 0 : nnames;
    for (int i = 0; i < max; i++) slots[i] = NULL;
    for (int i = 0; i < n->nkids; i++) {
        int slot = -1;
        if (n->names[i]) {
            if (variadic || !nnames) continue; /* silently dropped */
            for (int k = 0; k < nnames; k++)
                if (!strcmp(names[k], n->names[i])) slot = k;
            if (slot < 0) {
                kx_fail(env, n, KX_E_PEBBLE, "The following named argument does not exist: %s", n->names[i]);
                goto fail;
            }
        } else if (variadic) {
            if (i >= max) continue;
            slot = i;
            nslots = i + 1;
        } else {
            if (!nnames) continue; /* "no-arg" builtins ignore positional arguments */
            if (i >= nnames) {
                kx_fail(env, n, KX_E_PEBBLE, "The argument at position %d is not allowed. Only %d argument(s) are allowed.",
                        i + 1, nnames);
                goto fail;
            }
            slot = i;
        }
        json_t *v = kx_eval(env, n->kids[i]);
        if (!v) goto fail;
        json_decref(slots[slot]);
        slots[slot] = v;
    }
    return nslots;
fail:
    kx_free_args(slots, max);
    return -1;
}

/* ---- attribute access ---- */

/* Pebble's member resolution: accessor `x` matches a Java method named x, getX, isX or hasX. */
static int member_is(const char *acc, const char *method)
{
    if (!strcasecmp(acc, method)) return 1;
    static const char *const pre[] = {"get", "is", "has"};
    for (int i = 0; i < 3; i++) {
        size_t pl = strlen(pre[i]);
        if (!strncasecmp(method, pre[i], pl) && !strcasecmp(acc, method + pl)) return 1;
    }
    return 0;
}

static int parse_java_int(const char *s, long long *out)
{
    const char *p = s;
    if (*p == '-' || *p == '+') p++;
    if (!*p) return 0;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9') return 0;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno || v < INT_MIN || v > INT_MAX) return 0;
    *out = v;
    return 1;
}

static json_t *string_member(kx_env *env, const kx_node *n, const json_t *s, const char *m, json_t **a, int na)
{
    const char *v = json_string_value(s);
    size_t len = json_string_length(s);
    if (na == 0) {
        if (member_is(m, "length")) return json_integer(kx_utf16_len(v, len));
        if (member_is(m, "isEmpty")) return json_boolean(len == 0);
        if (member_is(m, "isBlank")) {
            for (size_t i = 0; i < len; i++)
                if ((unsigned char)v[i] > ' ') return json_false();
            return json_true();
        }
        if (member_is(m, "toString") || member_is(m, "intern")) return json_incref((json_t *)s);
        if (member_is(m, "toUpperCase") || member_is(m, "toLowerCase") || member_is(m, "trim") ||
            member_is(m, "strip")) {
            const char *f = member_is(m, "toUpperCase") ? "upper" : member_is(m, "toLowerCase") ? "lower" : "trim";
            kx_node fn = {.type = KX_N_FILTER, .line = n->line, .col = n->col, .bi = kx_find_filter(f)};
            return kx_apply_filter(env, &fn, json_incref((json_t *)s));
        }
    }
    if (na == 1 && json_is_string(a[0])) {
        const char *x = json_string_value(a[0]);
        size_t xl = json_string_length(a[0]);
        if (member_is(m, "contains")) return json_boolean(memmem(v, len, x, xl) != NULL);
        if (member_is(m, "startsWith")) return json_boolean(xl <= len && !memcmp(v, x, xl));
        if (member_is(m, "endsWith")) return json_boolean(xl <= len && !memcmp(v + len - xl, x, xl));
        if (member_is(m, "equals")) return json_boolean(kx_java_equals(s, a[0]));
        if (member_is(m, "equalsIgnoreCase")) return json_boolean(len == xl && !strncasecmp(v, x, len));
        if (member_is(m, "concat")) {
            kt_buf b = {0};
            kt_buf_put(&b, v, len);
            kt_buf_put(&b, x, xl);
            char *r = kt_buf_take(&b);
            json_t *o = kx_str(r ? r : "");
            free(r);
            return o;
        }
        if (member_is(m, "indexOf")) {
            const char *f = memmem(v, len, x, xl);
            return json_integer(f ? kx_utf16_len(v, (size_t)(f - v)) : -1);
        }
        if (member_is(m, "split")) {
            kx_node fn = {.type = KX_N_FILTER, .line = n->line, .col = n->col, .bi = kx_find_filter("split")};
            kx_node arg = {.type = KX_N_LIT, .lit = a[0]};
            kx_node *kids[1] = {&arg};
            char *nm[1] = {NULL};
            fn.kids = kids;
            fn.names = nm;
            fn.nkids = 1;
            return kx_apply_filter(env, &fn, json_incref((json_t *)s));
        }
    }
    if (na == 2 && member_is(m, "replace") && json_is_string(a[0]) && json_is_string(a[1])) {
        const char *x = json_string_value(a[0]), *y = json_string_value(a[1]);
        size_t xl = json_string_length(a[0]);
        kt_buf b = {0};
        const char *p = v, *end = v + len;
        while (p <= end) {
            const char *f = xl ? memmem(p, (size_t)(end - p), x, xl) : NULL;
            if (!f) {
                kt_buf_put(&b, p, (size_t)(end - p));
                break;
            }
            kt_buf_put(&b, p, (size_t)(f - p));
            kt_buf_puts(&b, y);
            p = f + xl;
        }
        char *r = kt_buf_take(&b);
        json_t *o = kx_str(r ? r : "");
        free(r);
        return o;
    }
    return kx_notfound(env, n, m);
}

static json_t *list_member(kx_env *env, const kx_node *n, const json_t *l, const char *m, json_t **a, int na)
{
    size_t sz = json_array_size(l);
    if (na == 0) {
        if (member_is(m, "size")) return json_integer((json_int_t)sz);
        if (member_is(m, "isEmpty")) return json_boolean(sz == 0);
        if (member_is(m, "getFirst") || member_is(m, "getLast")) {
            if (!sz) return kx_fail(env, n, KX_E_JAVA, "java.util.NoSuchElementException");
            return json_incref(json_array_get(l, member_is(m, "getFirst") ? 0 : sz - 1));
        }
        if (member_is(m, "toString")) {
            char *s = kx_tostring_dup(l);
            json_t *o = kx_str(s);
            free(s);
            return o;
        }
    }
    if (na == 1 && (member_is(m, "contains") || member_is(m, "indexOf"))) {
        for (size_t i = 0; i < sz; i++)
            if (kx_java_equals(json_array_get(l, i), a[0]))
                return member_is(m, "contains") ? json_true() : json_integer((json_int_t)i);
        return member_is(m, "contains") ? json_false() : json_integer(-1);
    }
    return kx_notfound(env, n, m);
}

static json_t *map_member(kx_env *env, const kx_node *n, const json_t *o, const char *m, json_t **a, int na)
{
    if (na == 0) {
        if (member_is(m, "size")) return json_integer((json_int_t)json_object_size(o));
        if (member_is(m, "isEmpty")) return json_boolean(json_object_size(o) == 0);
        if (member_is(m, "keySet") || member_is(m, "values")) {
            json_t *r = json_array();
            const char *k;
            json_t *v;
            int keys = member_is(m, "keySet");
            json_object_foreach((json_t *)o, k, v) json_array_append_new(r, keys ? json_string(k) : json_incref(v));
            return r;
        }
    }
    if (na == 1 && (member_is(m, "containsKey") || member_is(m, "get"))) {
        json_t *v = json_is_string(a[0]) ? json_object_get(o, json_string_value(a[0])) : NULL;
        if (member_is(m, "containsKey")) return json_boolean(v != NULL);
        return v ? json_incref(v) : json_null();
    }
    if (na == 1 && member_is(m, "containsValue")) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)o, k, v) if (kx_java_equals(v, a[0])) return json_true();
        return json_false();
    }
    return kx_notfound(env, n, m);
}

static json_t *member(kx_env *env, const kx_node *n, const json_t *obj, const char *m, json_t **a, int na)
{
    if (json_is_string(obj)) return string_member(env, n, obj, m, a, na);
    if (json_is_array(obj)) return list_member(env, n, obj, m, a, na);
    if (json_is_object(obj)) return map_member(env, n, obj, m, a, na);
    return kx_notfound(env, n, m);
}

static json_t *eval_attr(kx_env *env, const kx_node *n)
{
    json_t *obj = kx_eval(env, n->a), *key = NULL, *r = NULL;
    if (!obj) return NULL;
    if (json_is_null(obj) && n->a->type == KX_N_VAR) {
        json_decref(obj);
        return kx_notfound(env, n->a, n->a->s);
    }
    if (n->s) {
        key = json_string(n->s);
    } else if (!(key = kx_eval(env, n->b))) {
        json_decref(obj);
        return NULL;
    }
    char *ks = json_is_string(key) ? NULL : kx_tostring_dup(key);
    const char *kt = ks ? ks : json_string_value(key);
    if (!kt) kt = "";
    if (json_is_null(obj)) {
        r = kx_notfound(env, n, kt);
    } else if (json_is_object(obj)) {
        if (json_is_number(key) && json_object_size(obj)) {
            r = kx_fail(env, n, KX_E_PEBBLE, "type class java.lang.String not supported for key %s", kt);
        } else {
            json_t *v = json_object_get(obj, kt);
            r = v ? json_incref(v) : kx_notfound(env, n, kt);
        }
    } else if (json_is_array(obj)) {
        long long idx;
        if (parse_java_int(kt, &idx)) {
            r = idx >= 0 && (size_t)idx < json_array_size(obj) ? json_incref(json_array_get(obj, (size_t)idx))
                                                               : kx_notfound(env, n, kt);
        } else {
            r = member(env, n, obj, kt, NULL, 0);
        }
    } else {
        r = member(env, n, obj, kt, NULL, 0);
    }
    free(ks);
    json_decref(key);
    json_decref(obj);
    return r;
}

static json_t *eval_method(kx_env *env, const kx_node *n)
{
    json_t *obj = kx_eval(env, n->a), *r = NULL;
    if (!obj) return NULL;
    if (json_is_null(obj)) {
        json_decref(obj);
        return n->a->type == KX_N_VAR ? kx_notfound(env, n->a, n->a->s) : kx_notfound(env, n, n->s);
    }
    json_t *args[8];
    int na = kx_eval_args(env, n, NULL, 1, args, 8);
    if (na >= 0) {
        r = member(env, n, obj, n->s, args, na);
        kx_free_args(args, 8);
    }
    json_decref(obj);
    return r;
}

/* ---- operators ---- */

static const char *const k_wrap[] = {
    [KX_OP_ADD] = "Could not perform addition",
    [KX_OP_SUB] = "Could not perform subtraction",
    [KX_OP_MUL] = "Could not perform multiplication",
    [KX_OP_DIV] = "Could not perform division",
    [KX_OP_MOD] = "Could not perform greater modulus",
    [KX_OP_LT] = "Could not perform greater modulus", /* sic: Pebble 3.2.2 reuses the modulus text */
    [KX_OP_GT] = "Could not perform greater than comparison",
    [KX_OP_GE] = "Could not perform greater than or equals comparison",
    [KX_OP_LE] = "Could not perform less than or equals comparison",
    [KX_OP_EQ] = "Could not perform equals comparison",
    [KX_OP_NE] = "Could not perform not equals comparison",
};

static json_t *concat_str(const json_t *a, const json_t *b, int null_empty)
{
    kt_buf buf = {0};
    if (!(null_empty && json_is_null(a))) kx_tostring(&buf, a);
    if (!(null_empty && json_is_null(b))) kx_tostring(&buf, b);
    char *s = kt_buf_take(&buf);
    json_t *r = kx_str(s ? s : "");
    free(s);
    return r;
}

static json_t *arith(kx_env *env, const kx_node *n, int op, json_t *a, json_t *b)
{
    static const char *const names[] = {[KX_OP_ADD] = "ADD", [KX_OP_SUB] = "SUBTRACT", [KX_OP_MUL] = "MULTIPLICATION",
                                        [KX_OP_DIV] = "DIVISION", [KX_OP_MOD] = "MODULUS"};
    if (op == KX_OP_ADD && (json_is_string(a) || json_is_string(b))) return concat_str(a, b, 0);
    if ((op == KX_OP_ADD || op == KX_OP_SUB) && json_is_array(a)) {
        json_t *r = json_copy(a);
        if (!r) return NULL;
        if (op == KX_OP_ADD) {
            if (json_is_array(b)) json_array_extend(r, b);
            else json_array_append(r, b);
            return r;
        }
        size_t nb = json_is_array(b) ? json_array_size(b) : 1;
        for (size_t k = 0; k < nb; k++) {
            json_t *x = json_is_array(b) ? json_array_get(b, k) : b;
            for (size_t i = 0; i < json_array_size(r); i++)
                if (kx_java_equals(json_array_get(r, i), x)) {
                    json_array_remove(r, i--);
                    if (!json_is_array(b)) break; /* List.remove removes the first occurrence only */
                }
        }
        return r;
    }
    if (!json_is_number(a) || !json_is_number(b))
        return kx_fail(env, n, KX_E_PEBBLE, "invalid operands for mathematical operation [%s]", names[op]);
    if (json_is_real(a) || json_is_real(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        switch (op) {
        case KX_OP_ADD: return kx_real(x + y);
        case KX_OP_SUB: return kx_real(x - y);
        case KX_OP_MUL: return kx_real(x * y);
        case KX_OP_DIV: return kx_real(x / y);
        default: return kx_real(fmod(x, y));
        }
    }
    /* 64-bit two's complement wrap-around, as Java long arithmetic */
    uint64_t x = (uint64_t)json_integer_value(a), y = (uint64_t)json_integer_value(b);
    long long sx = json_integer_value(a), sy = json_integer_value(b);
    switch (op) {
    case KX_OP_ADD: return json_integer((json_int_t)(x + y));
    case KX_OP_SUB: return json_integer((json_int_t)(x - y));
    case KX_OP_MUL: return json_integer((json_int_t)(x * y));
    default:
        if (sy == 0) return kx_fail(env, n, KX_E_JAVA, "/ by zero");
        if (sx == LLONG_MIN && sy == -1) return json_integer(op == KX_OP_DIV ? LLONG_MIN : 0);
        return json_integer(op == KX_OP_DIV ? sx / sy : sx % sy);
    }
}

static json_t *compare(kx_env *env, const kx_node *n, int op, json_t *a, json_t *b)
{
    if (op == KX_OP_EQ || op == KX_OP_NE) {
        int eq = json_is_number(a) && json_is_number(b) ? json_number_value(a) == json_number_value(b)
                                                        : kx_java_equals(a, b);
        return json_boolean(op == KX_OP_EQ ? eq : !eq);
    }
    if (json_is_null(a) || json_is_null(b)) return json_false();
    if (!json_is_number(a) || !json_is_number(b)) {
        static const char *const nm[] = {[KX_OP_LT] = "LESS_THAN", [KX_OP_GT] = "GREATER_THAN",
                                         [KX_OP_LE] = "LESS_THAN_EQUALS", [KX_OP_GE] = "GREATER_THAN_EQUALS"};
        return kx_fail(env, n, KX_E_PEBBLE, "invalid operands for mathematical comparison [%s]", nm[op]);
    }
    double x = json_number_value(a), y = json_number_value(b);
    switch (op) {
    case KX_OP_LT: return json_boolean(x < y);
    case KX_OP_GT: return json_boolean(x > y);
    case KX_OP_LE: return json_boolean(x <= y);
    default: return json_boolean(x >= y);
    }
}

static int logic_operand(kx_env *env, const kx_node *n, const kx_node *x, const char *opname, int *out)
{
    json_t *v = kx_eval(env, x);
    if (!v) return -1;
    int rc = 0;
    if (json_is_null(v)) {
        kx_fail(env, n, KX_E_PEBBLE, "null value used in %s operator and strict variables is set to true", opname);
        rc = -1;
    } else if (json_is_array(v) || json_is_object(v)) {
        kx_fail(env, n, KX_E_JAVA, "class %s cannot be cast to class java.lang.Boolean", kx_java_class(v));
        rc = -1;
    } else {
        rc = kx_truthy(env, n, v, out, "if");
    }
    json_decref(v);
    return rc;
}

static json_t *op_contains(kx_env *env, const kx_node *n, json_t *a, json_t *b)
{
    if (json_is_null(a)) return json_false();
    if (json_is_array(a)) {
        size_t nb = json_is_array(b) ? json_array_size(b) : 1;
        for (size_t k = 0; k < nb; k++) {
            json_t *x = json_is_array(b) ? json_array_get(b, k) : b;
            int found = 0;
            for (size_t i = 0; i < json_array_size(a) && !found; i++) found = kx_java_equals(json_array_get(a, i), x);
            if (!found) return json_false();
        }
        return json_true();
    }
    if (json_is_object(a)) return json_boolean(json_is_string(b) && json_object_get(a, json_string_value(b)));
    if (json_is_string(a)) {
        char *s = kx_tostring_dup(b);
        int f = s && memmem(json_string_value(a), json_string_length(a), s, strlen(s)) != NULL;
        free(s);
        return json_boolean(f);
    }
    return kx_fail(env, n, KX_E_PEBBLE,
                   "Contains operator can only be used on Collections, Maps and arrays. Actual type was: %s",
                   kx_java_class(a));
}

static json_t *eval_bin(kx_env *env, const kx_node *n)
{
    int op = n->op;
    if (op == KX_OP_AND || op == KX_OP_OR) {
        int x, y;
        if (logic_operand(env, n, n->a, op == KX_OP_AND ? "and" : "or", &x)) return NULL;
        if (op == KX_OP_AND ? !x : x) return json_boolean(x);
        if (logic_operand(env, n, n->b, op == KX_OP_AND ? "and" : "or", &y)) return NULL;
        return json_boolean(y);
    }
    if (op == KX_OP_COALESCE || op == KX_OP_UNDEF_COALESCE) {
        json_t *a = kx_eval(env, n->a);
        if (!a) {
            if (env->err->kind != KX_E_NOTFOUND) return NULL;
            clear_err(env);
            return kx_eval(env, n->b);
        }
        if (op == KX_OP_COALESCE && json_is_null(a)) {
            json_decref(a);
            return kx_eval(env, n->b);
        }
        return a;
    }
    json_t *a = kx_eval(env, n->a), *b = a ? kx_eval(env, n->b) : NULL, *r = NULL;
    if (a && b) {
        switch (op) {
        case KX_OP_ADD: case KX_OP_SUB: case KX_OP_MUL: case KX_OP_DIV: case KX_OP_MOD:
            r = arith(env, n, op, a, b);
            break;
        case KX_OP_CONCAT: r = concat_str(a, b, 1); break;
        case KX_OP_CONTAINS: r = op_contains(env, n, a, b); break;
        case KX_OP_RANGE: {
            const kx_builtin *bi = kx_find_function("range");
            json_t *args[3] = {a, b, NULL};
            r = bi->fn(env, n, NULL, args, 3);
            break;
        }
        default: r = compare(env, n, op, a, b); break;
        }
    }
    json_decref(a);
    json_decref(b);
    if (!r && op < (int)(sizeof k_wrap / sizeof *k_wrap) && k_wrap[op])
        kx_fail(env, n, KX_E_PEBBLE, "%s", k_wrap[op]); /* Pebble re-wraps any failure of the operation */
    return r;
}

static json_t *eval_unary(kx_env *env, const kx_node *n)
{
    json_t *v = kx_eval(env, n->a), *r = NULL;
    if (!v) return NULL;
    if (n->op == KX_OP_NOT) {
        int t;
        if (json_is_null(v)) kx_fail(env, n, KX_E_PEBBLE, "null value given to not() and strict variables is set to true");
        else if (!kx_truthy(env, n, v, &t, "if")) r = json_boolean(!t);
    } else if (json_is_integer(v)) {
        r = json_integer(n->op == KX_OP_NEG ? (json_int_t)(0 - (uint64_t)json_integer_value(v)) : json_integer_value(v));
    } else if (json_is_real(v)) {
        r = kx_real(n->op == KX_OP_NEG ? -json_real_value(v) : json_real_value(v));
    } else {
        kx_fail(env, n, KX_E_PEBBLE, "invalid operands for mathematical operation [MULTIPLICATION]");
    }
    json_decref(v);
    return r;
}

static json_t *eval_ternary(kx_env *env, const kx_node *n)
{
    json_t *c = kx_eval(env, n->a);
    if (!c) return NULL;
    int t = 0;
    if (json_is_null(c)) {
        t = 0;
    } else if (json_is_array(c) || json_is_object(c)) {
        kx_fail(env, n, KX_E_JAVA, "class %s cannot be cast to class java.lang.Boolean", kx_java_class(c));
        json_decref(c);
        return NULL;
    } else if (kx_truthy(env, n, c, &t, "if")) {
        json_decref(c);
        return NULL;
    }
    json_decref(c);
    return kx_eval(env, t ? n->b : n->c);
}

/* ---- filters, tests, calls ---- */

json_t *kx_apply_filter(kx_env *env, const kx_node *f, json_t *input)
{
    const kx_builtin *bi = f->bi ? f->bi : kx_find_filter(f->s);
    if (!bi) {
        json_decref(input);
        return kx_fail(env, f, KX_E_PEBBLE, "Filter [%s] does not exist.", f->s);
    }
    json_t *args[16];
    int na = kx_eval_args(env, f, bi->argnames, bi->variadic, args, 16);
    if (na < 0) {
        json_decref(input);
        return NULL;
    }
    json_t *r = bi->fn(env, f, input, args, na);
    kx_free_args(args, 16);
    json_decref(input);
    return r;
}

static json_t *eval_filter(kx_env *env, const kx_node *n)
{
    json_t *in = kx_eval(env, n->a);
    if (!in) {
        /* `default` swallows the attribute-not-found family on its input */
        if (env->err->kind != KX_E_NOTFOUND || strcmp(n->s, "default") != 0) return NULL;
        clear_err(env);
        in = json_null();
    }
    return kx_apply_filter(env, n, in);
}

static json_t *eval_test(kx_env *env, const kx_node *n)
{
    json_t *v = kx_eval(env, n->a);
    if (!strcmp(n->s, "defined")) {
        if (!v) {
            if (env->err->kind != KX_E_NOTFOUND) return NULL;
            clear_err(env);
            return json_boolean(n->negate);
        }
        int def = !json_is_null(v);
        json_decref(v);
        return json_boolean(n->negate ? !def : def);
    }
    if (!v) return NULL;
    const kx_builtin *bi = n->bi ? n->bi : kx_find_test(n->s);
    if (!bi) {
        json_decref(v);
        return kx_fail(env, n, KX_E_PEBBLE, "Test [%s] does not exist.", n->s);
    }
    json_t *r = bi->fn(env, n, v, NULL, 0);
    json_decref(v);
    if (r && n->negate) {
        int t = json_is_true(r);
        json_decref(r);
        r = json_boolean(!t);
    }
    return r;
}

static json_t *call_macro(kx_env *env, const kx_node *n, const kx_node *m)
{
    if (env->depth >= 64) return kx_fail(env, n, KX_E_PEBBLE, "Too many nested macro calls");
    const char *names[32];
    int np = m->nkids < 31 ? m->nkids : 31;
    for (int i = 0; i < np; i++) names[i] = m->names[i];
    names[np] = NULL;
    json_t *args[32];
    if (kx_eval_args(env, n, names, 0, args, 32) < 0) return NULL;
    json_t *scope = json_object();
    for (int i = 0; i < np; i++) {
        json_t *v = args[i];
        args[i] = NULL;
        if (!v && m->kids[i]) v = kx_eval(env, m->kids[i]); /* defaults are evaluated at call time */
        if (!v && env->err->kind) {
            json_decref(scope);
            kx_free_args(args, 32);
            return NULL;
        }
        json_object_set_new(scope, names[i], v ? v : json_null());
    }
    kx_free_args(args, 32);
    /* the body sees only its parameters */
    kx_env sub = {.ctx = NULL, .nscopes = 1, .tmpl = env->tmpl, .err = env->err, .depth = env->depth + 1, .plain = 1,
                  .ambient = env->ambient};
    sub.scopes[0] = scope;
    kt_buf b = {0};
    int rc = kx_exec_body(&sub, m->b, &b);
    json_decref(scope);
    json_decref(sub.merged);
    char *s = kt_buf_take(&b);
    json_t *r = rc ? NULL : kx_str(s ? s : "");
    free(s);
    return r;
}

static json_t *eval_call(kx_env *env, const kx_node *n)
{
    const kx_builtin *bi = n->bi ? n->bi : kx_find_function(n->s);
    if (bi) {
        json_t *args[16];
        int na = kx_eval_args(env, n, bi->argnames, bi->variadic, args, 16);
        if (na < 0) return NULL;
        json_t *r = bi->fn(env, n, NULL, args, na);
        kx_free_args(args, 16);
        return r;
    }
    int found = 0;
    json_t *r = kx_call_registered(env, n, &found);
    if (found) return r;
    for (int i = 0; i < env->tmpl->nmacros; i++)
        if (!strcmp(env->tmpl->macros[i]->s, n->s)) return call_macro(env, n, env->tmpl->macros[i]);
    if (!strcmp(n->s, "block") && n->nkids == 1) {
        json_t *nm = kx_eval(env, n->kids[0]);
        if (!nm) return NULL;
        for (int i = 0; i < env->tmpl->nblocks; i++)
            if (json_is_string(nm) && !strcmp(env->tmpl->blocks[i]->s, json_string_value(nm))) {
                json_decref(nm);
                kt_buf b = {0};
                int rc = kx_exec_body(env, env->tmpl->blocks[i]->b, &b);
                char *s = kt_buf_take(&b);
                r = rc ? NULL : kx_str(s ? s : "");
                free(s);
                return r;
            }
        json_decref(nm);
        return kx_fail(env, n, KX_E_PEBBLE, "Block does not exist");
    }
    return kx_fail(env, n, KX_E_PEBBLE, "Function or Macro [%s] does not exist.", n->s);
}

json_t *kx_eval(kx_env *env, const kx_node *n)
{
    switch (n->type) {
    case KX_N_LIT: return json_incref(n->lit);
    case KX_N_VAR: {
        json_t *v = kx_lookup(env, n->s);
        if (v) return json_incref(v);
        kx_notfound(env, n, n->s);
        snprintf(env->err->msg, sizeof env->err->msg,
                 "Root attribute [%s] does not exist or can not be accessed and strict variables is set to true.", n->s);
        return NULL;
    }
    case KX_N_ATTR: return eval_attr(env, n);
    case KX_N_METHOD: return eval_method(env, n);
    case KX_N_LIST: {
        json_t *l = json_array();
        for (int i = 0; l && i < n->nkids; i++) {
            json_t *v = kx_eval(env, n->kids[i]);
            if (!v || json_array_append_new(l, v)) {
                json_decref(l);
                return NULL;
            }
        }
        return l;
    }
    case KX_N_MAP: {
        json_t *m = json_object();
        for (int i = 0; m && i < n->nkids; i++) {
            json_t *k = kx_eval(env, n->kids[i]), *v = k ? kx_eval(env, n->kids2[i]) : NULL;
            char *ks = k && v ? kx_tostring_dup(k) : NULL;
            json_decref(k);
            if (!ks || json_object_set_new(m, ks, v)) {
                if (!ks) json_decref(v);
                free(ks);
                json_decref(m);
                return NULL;
            }
            free(ks);
        }
        return m ? kx_hashmap_order(m, (size_t)ceil(n->nkids / 0.75)) : NULL;
    }
    case KX_N_UNARY: return eval_unary(env, n);
    case KX_N_BIN: return eval_bin(env, n);
    case KX_N_TERNARY: return eval_ternary(env, n);
    case KX_N_FILTER: return eval_filter(env, n);
    case KX_N_TEST: return eval_test(env, n);
    case KX_N_CALL: return eval_call(env, n);
    case KX_N_CONCATS: {
        kt_buf b = {0};
        for (int i = 0; i < n->nkids; i++) {
            json_t *v = kx_eval(env, n->kids[i]);
            if (!v) {
                free(b.p);
                return NULL;
            }
            if (!json_is_null(v)) kx_tostring(&b, v);
            json_decref(v);
        }
        char *s = kt_buf_take(&b);
        json_t *r = kx_str(s ? s : "");
        free(s);
        return r;
    }
    default: return kx_fail(env, n, KX_E_PEBBLE, "internal: not an expression");
    }
}
