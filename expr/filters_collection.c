/* Filters, part 2: encodings, hashes, ordering and slicing, merge/chunk/flatten, number parsing and
 * DecimalFormat (reference 3.3-3.6, 6). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_int.h"

#define F(name) static json_t *name(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)

json_t *kx_cast_err(kx_env *env, const kx_node *n, const json_t *v, const char *to);

static json_t *take_str(kt_buf *b)
{
    char *s = kt_buf_take(b);
    json_t *r = kx_str(s ? s : "");
    free(s);
    return r;
}

/* ---- encodings and hashes ---- */

F(f_b64enc)
{
    if (json_is_null(in)) return json_null();
    char *s = kx_tostring_dup(in);
    char *e = s ? kx_base64_encode(s, strlen(s)) : NULL;
    json_t *r = json_string(e ? e : "");
    free(s);
    free(e);
    return r;
}

F(f_b64dec)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_string(in)) return kx_fail(env, n, KX_E_PEBBLE, "This filter applies to String\n");
    unsigned char *o;
    size_t on;
    if (kx_base64_decode(json_string_value(in), json_string_length(in), &o, &on))
        return kx_fail(env, n, KX_E_PEBBLE, "Please provide a correctly Base64 encoded string containing an UTF-8 string\n");
    json_t *r = kx_strn((const char *)o, on);
    free(o);
    return r;
}

static json_t *hexdigest(kx_env *env, const kx_node *n, json_t *in, int algo)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_string(in)) return kx_fail(env, n, KX_E_PEBBLE, "Need a string to hash\n");
    uint8_t d[64];
    size_t dl;
    const char *s = json_string_value(in);
    size_t len = json_string_length(in);
    switch (algo) {
    case 0: kx_md5(s, len, d); dl = 16; break;
    case 1: kx_sha1(s, len, d); dl = 20; break;
    case 2: kx_sha256(s, len, d); dl = 32; break;
    default: kx_sha512(s, len, d); dl = 64; break;
    }
    char hex[129];
    for (size_t i = 0; i < dl; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return json_string(hex);
}

F(f_md5) { return hexdigest(env, n, in, 0); }
F(f_sha1) { return hexdigest(env, n, in, 1); }
F(f_sha256) { return hexdigest(env, n, in, 2); }
F(f_sha512) { return hexdigest(env, n, in, 3); }

F(f_urlencode)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_string(in)) return kx_cast_err(env, n, in, "java.lang.String");
    const unsigned char *s = (const unsigned char *)json_string_value(in);
    kt_buf b = {0};
    for (size_t i = 0; i < json_string_length(in); i++) {
        unsigned char c = s[i];
        if (isalnum(c) || c == '.' || c == '-' || c == '*' || c == '_') kt_buf_putc(&b, (char)c);
        else if (c == ' ') kt_buf_putc(&b, '+');
        else kt_buf_printf(&b, "%%%02X", c);
    }
    return take_str(&b);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

F(f_urldecode)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_string(in)) return kx_cast_err(env, n, in, "java.lang.String");
    const char *s = json_string_value(in);
    size_t len = json_string_length(in);
    kt_buf b = {0};
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            kt_buf_putc(&b, ' ');
        } else if (s[i] == '%') {
            if (i + 2 >= len) {
                free(b.p);
                return kx_fail(env, n, KX_E_JAVA, "URLDecoder: Incomplete trailing escape (%%) pattern");
            }
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) {
                free(b.p);
                return kx_fail(env, n, KX_E_JAVA, "URLDecoder: Illegal hex characters in escape (%%) pattern - Error at "
                                                  "index 0 in: \"%.2s\"", s + i + 1);
            }
            kt_buf_putc(&b, (char)(h * 16 + l));
            i += 2;
        } else {
            kt_buf_putc(&b, s[i]);
        }
    }
    return take_str(&b);
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

F(f_sort) { return sort(env, n, in, 0); }
F(f_rsort) { return sort(env, n, in, 1); }

F(f_reverse)
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

F(f_slice)
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

F(f_merge)
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

F(f_chunk)
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

F(f_flatten)
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

/* ---- numbers ---- */

/* Java Integer.decode / Long.decode: sign, 0x/0X/# hex, leading-zero octal. */
static int java_decode(const char *s, long long *out, int bits)
{
    const char *p = s;
    int neg = 0, base = 10;
    if (*p == '-' || *p == '+') neg = *p++ == '-';
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    } else if (*p == '#') {
        base = 16;
        p++;
    } else if (p[0] == '0' && p[1]) {
        base = 8;
        p++;
    }
    if (!*p || *p == '-' || *p == '+') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, base);
    if (*end || errno) return -1;
    long long lim = bits == 32 ? INT_MAX : LLONG_MAX;
    if (v > (unsigned long long)lim + (neg ? 1 : 0)) return -1;
    *out = neg ? (long long)(0 - v) : (long long)v;
    return 0;
}

F(f_number)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_string(in))
        return kx_fail(env, n, KX_E_PEBBLE, "'number' filter can only be applied to String. Actual type was: %s",
                       kx_java_class(in));
    const char *s = json_string_value(in);
    char *type = a[0] && !json_is_null(a[0]) ? kx_tostring_dup(a[0]) : NULL;
    json_t *r = NULL;
    long long iv;
    char *end;
    if (type && (!strcmp(type, "INT") || !strcmp(type, "LONG") || !strcmp(type, "BIGINTEGER"))) {
        if (!java_decode(s, &iv, !strcmp(type, "INT") ? 32 : 64)) r = json_integer(iv);
        else if (!strcmp(type, "BIGINTEGER") && *s && (errno = 0, strtod(s, &end), !*end)) r = json_real(strtod(s, NULL));
    } else if (type && (!strcmp(type, "FLOAT") || !strcmp(type, "DOUBLE") || !strcmp(type, "BIGDECIMAL"))) {
        double d = strtod(s, &end);
        if (*s && !*end && !isspace((unsigned char)*s)) r = json_real(!strcmp(type, "FLOAT") ? (double)(float)d : d);
    } else {
        /* NumberUtils.createNumber */
        size_t len = strlen(s);
        char last = len ? s[len - 1] : 0;
        if (len && !isspace((unsigned char)s[0]) && !isspace((unsigned char)last)) {
            if ((last == 'L' || last == 'l') && len > 1) {
                char *t = strndup(s, len - 1);
                if (t && !java_decode(t, &iv, 64)) r = json_integer(iv);
                free(t);
            } else if (strchr("fFdD", last) && len > 1 && !strpbrk(s, "xX#")) {
                char *t = strndup(s, len - 1);
                double d = t ? strtod(t, &end) : 0;
                if (t && *t && !*end) r = json_real(strchr("fF", last) ? (double)(float)d : d);
                free(t);
            } else if (!strpbrk(s, ".eE") || strpbrk(s, "xX#")) {
                if (!java_decode(s, &iv, 64)) r = json_integer(iv);
                else if (strspn(s + (*s == '-'), "0123456789") == len - (*s == '-')) r = json_real(strtod(s, NULL));
            } else {
                double d = strtod(s, &end);
                if (!*end && strspn(s, "0123456789.eE+-") == len) r = json_real(d);
            }
        }
    }
    free(type);
    if (!r) return kx_fail(env, n, KX_E_JAVA, "%s is not a valid number.", s);
    return r;
}

/* Java DecimalFormat for the common patterns: prefix/suffix text, grouping, min/max digits, %, HALF_EVEN. */
typedef struct dfmt {
    char prefix[64], suffix[64];
    int min_int, min_frac, max_frac, group, mult;
} dfmt;

static int parse_pattern(const char *p, dfmt *f)
{
    memset(f, 0, sizeof *f);
    f->mult = 1;
    size_t pl = 0, sl = 0;
    int phase = 0, in_frac = 0, since_group = -1;
    for (const char *c = p; *c && *c != ';'; c++) {
        int special = strchr("#0,.", *c) != NULL;
        if (special && phase == 2) return -1;
        if (special) {
            phase = 1;
            if (*c == '.') {
                if (in_frac) return -1;
                in_frac = 1;
                if (since_group >= 0) f->group = since_group;
                since_group = -1;
            } else if (*c == ',') {
                if (in_frac) return -1;
                since_group = 0;
            } else if (in_frac) {
                if (*c == '0') f->min_frac++;
                f->max_frac++;
            } else {
                if (*c == '0') f->min_int++;
                if (since_group >= 0) since_group++;
            }
            continue;
        }
        if (phase == 1) phase = 2;
        char *dst = phase == 0 ? f->prefix : f->suffix;
        size_t *dl = phase == 0 ? &pl : &sl;
        if (*c == '%') f->mult = 100;
        if (!strncmp(c, "\xE2\x80\xB0", 3)) f->mult = 1000;
        if (*c == '\'') {
            if (c[1] == '\'') {
                c++;
            } else {
                for (c++; *c && *c != '\''; c++)
                    if (*dl < 62) dst[(*dl)++] = *c;
                if (!*c) break;
                continue;
            }
        }
        if (*dl < 62) dst[(*dl)++] = *c;
    }
    if (!in_frac && since_group >= 0) f->group = since_group;
    return 0;
}

static json_t *decimal_format(kx_env *env, const kx_node *n, json_t *v, const char *pattern)
{
    dfmt f;
    if (parse_pattern(pattern, &f)) return kx_fail(env, n, KX_E_JAVA, "Malformed pattern \"%s\"", pattern);
    char digits[512];
    int neg;
    if (json_is_integer(v) && f.max_frac == 0 && f.mult == 1) {
        long long x = json_integer_value(v);
        neg = x < 0;
        snprintf(digits, sizeof digits, "%llu", neg ? 0ULL - (unsigned long long)x : (unsigned long long)x);
    } else {
        double d = json_number_value(v) * f.mult;
        if (isnan(d)) return json_string("NaN");
        neg = signbit(d) && d != 0;
        if (isinf(d)) return json_string(neg ? "-\xE2\x88\x9E" : "\xE2\x88\x9E");
        snprintf(digits, sizeof digits, "%.*f", f.max_frac, fabs(d)); /* glibc rounds half-even on the exact value */
    }
    char *dot = strchr(digits, '.');
    char *frac = dot ? dot + 1 : "";
    if (dot) *dot = 0;
    size_t fl = strlen(frac);
    while (fl > (size_t)f.min_frac && frac[fl - 1] == '0') fl--;
    const char *ip = digits;
    while (*ip == '0' && ip[1]) ip++;
    kt_buf b = {0};
    if (neg && (strcmp(ip, "0") || fl)) kt_buf_putc(&b, '-');
    kt_buf_puts(&b, f.prefix);
    size_t il = strlen(ip);
    int skip_int = !strcmp(ip, "0") && f.min_int == 0 && fl > 0;
    if (!skip_int) {
        size_t width = il < (size_t)f.min_int ? (size_t)f.min_int : il;
        for (size_t i = 0; i < width; i++) {
            size_t from_right = width - i;
            kt_buf_putc(&b, i < width - il ? '0' : ip[i - (width - il)]);
            if (f.group > 0 && from_right > 1 && (from_right - 1) % (size_t)f.group == 0) kt_buf_putc(&b, ',');
        }
    }
    if (fl) {
        kt_buf_putc(&b, '.');
        kt_buf_put(&b, frac, fl);
    }
    kt_buf_puts(&b, f.suffix);
    return take_str(&b);
}

F(f_numberformat)
{
    if (!json_is_number(in)) return kx_fail(env, n, KX_E_PEBBLE, "The input for the 'NumberFormat' filter has to be a number.");
    if (a[0] && json_is_string(a[0])) return decimal_format(env, n, in, json_string_value(a[0]));
    return decimal_format(env, n, in, "#,##0.###");
}

/* ---- Ion ---- */

static void ion_write(kt_buf *b, const json_t *v)
{
    char tmp[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        int first = 1;
        kt_buf_putc(b, '{');
        json_object_foreach((json_t *)v, k, x) {
            if (!first) kt_buf_putc(b, ',');
            first = 0;
            int ident = (isalpha((unsigned char)k[0]) || k[0] == '_' || k[0] == '$') &&
                        strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$") == strlen(k) &&
                        strcmp(k, "null") && strcmp(k, "true") && strcmp(k, "false") && strcmp(k, "nan");
            if (ident) {
                kt_buf_puts(b, k);
            } else {
                kt_buf_putc(b, '\'');
                for (const char *c = k; *c; c++) {
                    if (*c == '\'' || *c == '\\') kt_buf_putc(b, '\\');
                    kt_buf_putc(b, *c);
                }
                kt_buf_putc(b, '\'');
            }
            kt_buf_putc(b, ':');
            ion_write(b, x);
        }
        kt_buf_putc(b, '}');
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        kt_buf_putc(b, '[');
        json_array_foreach(v, i, x) {
            if (i) kt_buf_putc(b, ',');
            ion_write(b, x);
        }
        kt_buf_putc(b, ']');
        break;
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        if (isnan(d)) {
            kt_buf_puts(b, "nan");
            break;
        }
        if (isinf(d)) {
            kt_buf_puts(b, d > 0 ? "+inf" : "-inf");
            break;
        }
        kt_fmt_double(d, tmp, sizeof tmp);
        char *e = strchr(tmp, 'E');
        if (e) *e = 'e';
        kt_buf_puts(b, tmp);
        if (!e) kt_buf_puts(b, "e0");
        break;
    }
    default: kt_json_write(b, v); break;
    }
}

F(f_toion)
{
    kt_buf b = {0};
    ion_write(&b, in);
    return take_str(&b);
}

const kx_builtin kx_filters_more[] = {
    {"base64encode", f_b64enc, {NULL}, 0},
    {"base64decode", f_b64dec, {NULL}, 0},
    {"md5", f_md5, {NULL}, 0},
    {"sha1", f_sha1, {NULL}, 0},
    {"sha256", f_sha256, {NULL}, 0},
    {"sha512", f_sha512, {NULL}, 0},
    {"urlencode", f_urlencode, {NULL}, 0},
    {"urldecode", f_urldecode, {NULL}, 0},
    {"sort", f_sort, {NULL}, 0},
    {"rsort", f_rsort, {NULL}, 0},
    {"reverse", f_reverse, {NULL}, 0},
    {"slice", f_slice, {"fromIndex", "toIndex"}, 0},
    {"merge", f_merge, {"items"}, 0},
    {"chunk", f_chunk, {"size"}, 0},
    {"flatten", f_flatten, {NULL}, 0},
    {"number", f_number, {"type"}, 0},
    {"numberFormat", f_numberformat, {"format"}, 0},
    {"toIon", f_toion, {NULL}, 0},
    {NULL, NULL, {NULL}, 0},
};
