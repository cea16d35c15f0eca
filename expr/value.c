/* Values as Kestra prints and compares them (reference 2.2, 1.5, 1.6): Java Double.toString, the
 * JsonWriter, Java toString forms, Jackson's JSON, Java equals and Java HashMap iteration order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_int.h"

/* ---- strings ---- */

/* json_string refuses invalid UTF-8; Kestra (Java strings) would show U+FFFD instead. */
json_t *kx_strn(const char *s, size_t n)
{
    if (!s) return json_null();
    json_t *v = json_stringn(s, n);
    if (v) return v;
    kt_buf b = {0};
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = l && i + l <= n;
        for (size_t k = 1; ok && k < l; k++) ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
        if (ok && c) {
            kt_buf_put(&b, s + i, l);
            i += l;
        } else {
            kt_buf_puts(&b, "\xEF\xBF\xBD");
            i++;
        }
    }
    char *t = kt_buf_take(&b);
    v = t ? json_string(t) : NULL;
    free(t);
    return v;
}

json_t *kx_real(double d)
{
    /* jansson cannot hold NaN or infinities; Kestra prints them as these words (and JSON-quotes them) */
    if (isnan(d)) return json_string("NaN");
    if (isinf(d)) return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

json_t *kx_str(const char *s) { return s ? kx_strn(s, strlen(s)) : json_null(); }

/* Decodes one UTF-8 code point; returns its length (1 for a bad byte). */
static size_t utf8_cp(const char *s, size_t n, unsigned *cp)
{
    unsigned char c = (unsigned char)s[0];
    size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (l > n) l = 1;
    if (l == 1) {
        *cp = c;
        return 1;
    }
    unsigned v = c & (0x7F >> l);
    for (size_t i = 1; i < l; i++) v = (v << 6) | ((unsigned char)s[i] & 0x3F);
    *cp = v;
    return l;
}

int kx_utf16_len(const char *s, size_t n)
{
    int len = 0;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        i += utf8_cp(s + i, n - i, &cp);
        len += cp >= 0x10000 ? 2 : 1;
    }
    return len;
}

/* Java String.hashCode over UTF-16 code units. */
static int32_t java_hash(const char *s, size_t n)
{
    uint32_t h = 0;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        i += utf8_cp(s + i, n - i, &cp);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xD800 + (cp >> 10));
            h = 31 * h + (0xDC00 + (cp & 0x3FF));
        } else {
            h = 31 * h + cp;
        }
    }
    return (int32_t)h;
}

/* ---- Java names and printing ---- */

const char *kx_java_class(const json_t *v)
{
    if (!v) /* no value yet (a typed render that has printed nothing) */
        return "null";
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "java.util.LinkedHashMap";
    case JSON_ARRAY: return "java.util.ArrayList";
    case JSON_STRING: return "java.lang.String";
    case JSON_INTEGER: return "java.lang.Long";
    case JSON_REAL: return "java.lang.Double";
    case JSON_TRUE:
    case JSON_FALSE: return "java.lang.Boolean";
    default: return "null";
    }
}

static void scalar(kt_buf *b, const json_t *v)
{
    char tmp[64];
    switch (json_typeof(v)) {
    case JSON_STRING: kt_buf_put(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: kt_buf_printf(b, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL:
        kt_fmt_double(json_real_value(v), tmp, sizeof tmp);
        kt_buf_puts(b, tmp);
        break;
    case JSON_TRUE: kt_buf_puts(b, "true"); break;
    case JSON_FALSE: kt_buf_puts(b, "false"); break;
    default: break;
    }
}

void kx_print(kt_buf *b, const json_t *v)
{
    if (!v || json_is_null(v)) return;
    if (json_is_object(v) || json_is_array(v)) kt_json_write(b, v);
    else scalar(b, v);
}

void kx_tostring(kt_buf *b, const json_t *v)
{
    if (!v || json_is_null(v)) {
        kt_buf_puts(b, "null");
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        kt_buf_putc(b, '[');
        json_array_foreach(v, i, x) {
            if (i) kt_buf_puts(b, ", ");
            kx_tostring(b, x);
        }
        kt_buf_putc(b, ']');
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        int first = 1;
        kt_buf_putc(b, '{');
        json_object_foreach((json_t *)v, k, x) {
            if (!first) kt_buf_puts(b, ", ");
            first = 0;
            kt_buf_puts(b, k);
            kt_buf_putc(b, '=');
            kx_tostring(b, x);
        }
        kt_buf_putc(b, '}');
    } else {
        scalar(b, v);
    }
}

char *kx_tostring_dup(const json_t *v)
{
    kt_buf b = {0};
    kx_tostring(&b, v);
    return kt_buf_take(&b);
}

int kx_java_equals(const json_t *a, const json_t *b)
{
    if (!a || !b) return a == b;
    if (json_typeof(a) != json_typeof(b)) {
        return (json_is_boolean(a) && json_is_boolean(b)) ? json_is_true(a) == json_is_true(b) : 0;
    }
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b)) return 0;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)a, k, x) {
            json_t *y = json_object_get(b, k);
            if (!y || !kx_java_equals(x, y)) return 0;
        }
        return 1;
    }
    case JSON_ARRAY: {
        if (json_array_size(a) != json_array_size(b)) return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!kx_java_equals(json_array_get(a, i), json_array_get(b, i))) return 0;
        return 1;
    }
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_INTEGER: return json_integer_value(a) == json_integer_value(b);
    case JSON_REAL: return json_real_value(a) == json_real_value(b);
    default: return 1;
    }
}

/* ---- Java HashMap iteration order (reference 1.5) ---- */

typedef struct hm_ent {
    const char *key;
    json_t *val;
    uint32_t bucket;
    size_t idx;
} hm_ent;

static int hm_cmp(const void *x, const void *y)
{
    const hm_ent *a = x, *b = y;
    if (a->bucket != b->bucket) return a->bucket < b->bucket ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

json_t *kx_hashmap_order(json_t *obj, size_t initial_capacity)
{
    size_t n = json_object_size(obj);
    if (n < 2) return obj;
    uint32_t cap = 1;
    while (cap < initial_capacity && cap < (1u << 30)) cap <<= 1;
    while (n > (size_t)(cap * 0.75) && cap < (1u << 30)) cap <<= 1;
    hm_ent *e = malloc(n * sizeof *e);
    json_t *out = json_object();
    if (!e || !out) goto fail;
    const char *k;
    json_t *x;
    size_t i = 0;
    json_object_foreach(obj, k, x) {
        uint32_t h = (uint32_t)java_hash(k, strlen(k));
        e[i] = (hm_ent){k, x, (h ^ (h >> 16)) & (cap - 1), i};
        i++;
    }
    qsort(e, n, sizeof *e, hm_cmp);
    for (i = 0; i < n; i++)
        if (json_object_set(out, e[i].key, e[i].val)) goto fail;
    free(e);
    json_decref(obj);
    return out;
fail:
    free(e);
    json_decref(out);
    return obj; /* insertion order is a better fallback than failing the render */
}
