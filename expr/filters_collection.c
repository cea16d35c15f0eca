/* Collection filters (reference 3.3 and 6): join, length, first/last, keys/values, sort/rsort/reverse, slice,
 * merge, chunk, flatten. */
#include <stdlib.h>
#include <string.h>

#include "expr/filters.h"

KX_FILTER(kx_f_join)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_array(in))
        return kx_fail(env, n, KX_E_PEBBLE, "The 'join' filter expects that the input is either a collection or an array.");
    char *sep = a[0] && !json_is_null(a[0]) ? kx_tostring_dup(a[0]) : NULL;
    kt_buf b = {0};
    size_t i;
    json_t *x;
    json_array_foreach(in, i, x) {
        if (i && sep) kt_buf_puts(&b, sep);
        kx_tostring(&b, x);
    }
    free(sep);
    return kx_take_str(&b);
}

KX_FILTER(kx_f_length)
{
    if (json_is_string(in)) return json_integer(kx_utf16_len(json_string_value(in), json_string_length(in)));
    if (json_is_array(in)) return json_integer((json_int_t)json_array_size(in));
    if (json_is_object(in)) return json_integer((json_int_t)json_object_size(in));
    return json_integer(0);
}

static json_t *first_last(kx_env *env, const kx_node *n, json_t *in, int last)
{
    if (json_is_null(in)) return json_null();
    if (json_is_string(in)) {
        const char *s = json_string_value(in);
        size_t len = json_string_length(in);
        if (!len) return kx_fail(env, n, KX_E_JAVA, "Index %d out of bounds for length 0", last ? -1 : 0);
        size_t i = 0, start = 0;
        unsigned c;
        if (!last) return kx_strn(s, kx_utf8_dec(s, len, &c));
        while (i < len) {
            start = i;
            i += kx_utf8_dec(s + i, len - i, &c);
        }
        return kx_strn(s + start, len - start);
    }
    if (json_is_array(in)) {
        size_t sz = json_array_size(in);
        return sz ? json_incref(json_array_get(in, last ? sz - 1 : 0)) : json_null();
    }
    return kx_cast_err(env, n, in, "java.lang.Iterable");
}

KX_FILTER(kx_f_first) { return first_last(env, n, in, 0); }
KX_FILTER(kx_f_last) { return first_last(env, n, in, 1); }

KX_FILTER(kx_f_keys)
{
    if (json_is_null(in)) return json_null();
    json_t *r = json_array();
    if (json_is_object(in)) {
        const char *k;
        json_t *v;
        json_object_foreach(in, k, v) json_array_append_new(r, json_string(k));
        return r;
    }
    if (json_is_array(in)) {
        for (size_t i = 0; i < json_array_size(in); i++) json_array_append_new(r, json_integer((json_int_t)i));
        return r;
    }
    json_decref(r);
    return kx_fail(env, n, KX_E_PEBBLE, "'keys' filter can only be applied to List, Map, Array. Actual type was: %s",
                   kx_java_class(in));
}

KX_FILTER(kx_f_values)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_object(in))
        return kx_fail(env, n, KX_E_PEBBLE, "'values' filter can only be applied to Map. Actual type was: %s",
                       kx_java_class(in));
    json_t *r = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(in, k, v) json_array_append(r, v);
    return r;
}

/* ---- ordering ---- */

static _Thread_local int tl_sort_err;
static int natural_cmp(const void *x, const void *y)
{
    const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    if (json_typeof(a) != json_typeof(b) && !(json_is_boolean(a) && json_is_boolean(b))) {
        tl_sort_err = 1;
        return 0;
    }
    switch (json_typeof(a)) {
    case JSON_INTEGER: return (json_integer_value(a) > json_integer_value(b)) - (json_integer_value(a) < json_integer_value(b));
    case JSON_REAL: return (json_real_value(a) > json_real_value(b)) - (json_real_value(a) < json_real_value(b));
    case JSON_STRING: return strcmp(json_string_value(a), json_string_value(b));
    case JSON_TRUE:
    case JSON_FALSE: return json_is_true(a) - json_is_true(b);
    default: tl_sort_err = 1; return 0;
    }
}

static int natural_cmp_tl(const void *x, const void *y) { return natural_cmp(x, y); }

/* Stable merge sort over json_t* (qsort is not stable and Java's sort is). */
static void msort(json_t **v, json_t **tmp, size_t n, int desc)
{
    if (n < 2) return;
    size_t h = n / 2;
    msort(v, tmp, h, desc);
    msort(v + h, tmp, n - h, desc);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        int c = natural_cmp_tl(&v[i], &v[j]);
        if (desc ? c >= 0 : c <= 0) tmp[k++] = v[i++];
        else tmp[k++] = v[j++];
    }
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

static json_t *sort(kx_env *env, const kx_node *n, json_t *in, int desc)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_array(in)) {
        if (desc) return kx_cast_err(env, n, in, "java.util.List");
        return kx_fail(env, n, KX_E_PEBBLE, "Unsupported input type for sort filter");
    }
    size_t sz = json_array_size(in);
    json_t **v = malloc((sz + 1) * sizeof *v), **tmp = malloc((sz + 1) * sizeof *tmp);
    if (!v || !tmp) {
        free(v);
        free(tmp);
        return kx_fail(env, n, KX_E_JAVA, "out of memory");
    }
    for (size_t i = 0; i < sz; i++) v[i] = json_array_get(in, i);
    tl_sort_err = 0;
    msort(v, tmp, sz, desc);
    json_t *r = NULL;
    if (tl_sort_err) {
        kx_fail(env, n, KX_E_JAVA, "class %s cannot be cast to class java.lang.Comparable", "java.lang.Object");
    } else {
        r = json_array();
        for (size_t i = 0; i < sz; i++) json_array_append(r, v[i]);
    }
    free(v);
    free(tmp);
    return r;
}

KX_FILTER(kx_f_sort) { return sort(env, n, in, 0); }
KX_FILTER(kx_f_rsort) { return sort(env, n, in, 1); }

KX_FILTER(kx_f_reverse)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_array(in)) return kx_cast_err(env, n, in, "java.util.List");
    json_t *r = json_array();
    for (size_t i = json_array_size(in); i-- > 0;) json_array_append(r, json_array_get(in, i));
    return r;
}

/* byte offset of the idx-th code point */
static size_t cp_offset(const char *s, size_t len, long long idx)
{
    size_t i = 0;
    for (long long k = 0; k < idx && i < len; k++) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
    }
    return i;
}

KX_FILTER(kx_f_slice)
{
    if (json_is_null(in)) return json_null();
    long long len;
    if (json_is_string(in)) len = kx_utf16_len(json_string_value(in), json_string_length(in));
    else if (json_is_array(in)) len = (long long)json_array_size(in);
    else
        return kx_fail(env, n, KX_E_PEBBLE, "Slice filter can only be applied to String, List and array inputs. Actual type was: %s",
                       kx_java_class(in));
    long long from = 0, to = len;
    if (a[0] && !json_is_null(a[0])) {
        if (!json_is_number(a[0]))
            return kx_fail(env, n, KX_E_PEBBLE, "Argument fromIndex must be a number. Actual type: %s", kx_java_class(a[0]));
        from = (long long)json_number_value(a[0]);
    }
    if (a[1] && !json_is_null(a[1])) {
        if (!json_is_number(a[1]))
            return kx_fail(env, n, KX_E_PEBBLE, "Argument toIndex must be a number. Actual type: %s", kx_java_class(a[1]));
        to = (long long)json_number_value(a[1]);
        if (to > len) return kx_fail(env, n, KX_E_PEBBLE, "toIndex must be smaller than input size: %lld", len);
        if (to <= from) return kx_fail(env, n, KX_E_PEBBLE, "toIndex must be greater than fromIndex");
    }
    if (from < 0) return kx_fail(env, n, KX_E_JAVA, "fromIndex must be greater than 0");
    if (from > to) return kx_fail(env, n, KX_E_JAVA, "begin %lld, end %lld, length %lld", from, to, len);
    if (json_is_string(in)) {
        const char *s = json_string_value(in);
        size_t bl = json_string_length(in), b = cp_offset(s, bl, from), e = cp_offset(s, bl, to);
        return kx_strn(s + b, e - b);
    }
    json_t *r = json_array();
    for (long long i = from; i < to; i++) json_array_append(r, json_array_get(in, (size_t)i));
    return r;
}

KX_FILTER(kx_f_merge)
{
    json_t *it = a[0] && !json_is_null(a[0]) ? a[0] : NULL;
    if (json_is_null(in) && !it) return kx_fail(env, n, KX_E_PEBBLE, "The two arguments to be merged are null");
    if (json_is_null(in)) return json_incref(it);
    if (!it) return json_incref(in);
    if (json_is_object(in)) {
        json_t *r = json_object();
        json_object_update(r, in);
        if (json_is_object(it)) {
            json_object_update(r, it);
        } else if (json_is_array(it)) {
            size_t i;
            json_t *x;
            json_array_foreach(it, i, x) {
                char *k = kx_tostring_dup(x);
                json_object_set(r, k ? k : "", x);
                free(k);
            }
        } else {
            json_decref(r);
            return kx_fail(env, n, KX_E_JAVA, "Currently, only Maps and Lists can be merged with a Map. Arg2: %s",
                           kx_java_class(it));
        }
        return kx_hashmap_order(r, json_object_size(in) + json_object_size(it) + 16);
    }
    if (json_is_array(in)) {
        json_t *r = json_copy(in);
        if (json_is_array(it)) {
            json_array_extend(r, it);
        } else if (json_is_object(it)) {
            const char *k;
            json_t *x;
            json_object_foreach(it, k, x) json_array_append_new(r, json_pack("{s:O}", k, x));
        } else {
            json_decref(r);
            return kx_fail(env, n, KX_E_PEBBLE, "Currently, only Maps and Lists can be merged with a List. Arg2: %s",
                           kx_java_class(it));
        }
        return r;
    }
    return kx_fail(env, n, KX_E_PEBBLE, "The object being filtered is not a Map/List/Array");
}

KX_FILTER(kx_f_chunk)
{
    if (!a[0] || json_is_null(a[0])) return kx_fail(env, n, KX_E_PEBBLE, "'chunk' filter expects an argument 'size'.");
    if (json_is_null(in)) return json_null();
    if (!json_is_array(in))
        return kx_fail(env, n, KX_E_PEBBLE, "'chunk' filter can only be applied to List. Actual type was: %s", kx_java_class(in));
    if (!json_is_integer(a[0])) return kx_cast_err(env, n, a[0], "java.lang.Long");
    long long size = json_integer_value(a[0]);
    if (size <= 0) return kx_fail(env, n, KX_E_JAVA, "Size must be greater than 0");
    json_t *r = json_array(), *cur = NULL;
    size_t i;
    json_t *x;
    json_array_foreach(in, i, x) {
        if (i % (size_t)size == 0) {
            cur = json_array();
            json_array_append_new(r, cur);
        }
        json_array_append(cur, x);
    }
    return r;
}

KX_FILTER(kx_f_flatten)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_array(in)) return kx_fail(env, n, KX_E_PEBBLE, "The 'flatten' filter can only be applied to lists.");
    json_t *r = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(in, i, x) {
        if (json_is_array(x)) json_array_extend(r, x);
        else json_array_append(r, x);
    }
    return r;
}
