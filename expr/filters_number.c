/* Number filters (reference 3.6 and 6): abs, number (Java's decode and NumberUtils.createNumber), numberFormat
 * (Java DecimalFormat). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/filters.h"

KX_FILTER(kx_f_abs)
{
    if (json_is_null(in)) return kx_fail(env, n, KX_E_PEBBLE, "Can not pass null value to \"abs\" filter.");
    if (json_is_integer(in)) {
        long long v = json_integer_value(in);
        return json_integer(v < 0 ? (json_int_t)(0 - (unsigned long long)v) : v);
    }
    if (json_is_real(in)) return json_real(fabs(json_real_value(in)));
    return kx_fail(env, n, KX_E_PEBBLE, "The 'abs' filter does require as input a number.");
}

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

KX_FILTER(kx_f_number)
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
        else if (!strcmp(type, "BIGINTEGER") && *s && (errno = 0, strtod(s, &end), !*end)) r = kx_real(strtod(s, NULL));
    } else if (type && (!strcmp(type, "FLOAT") || !strcmp(type, "DOUBLE") || !strcmp(type, "BIGDECIMAL"))) {
        double d = strtod(s, &end);
        if (*s && !*end && !isspace((unsigned char)*s)) r = kx_real(!strcmp(type, "FLOAT") ? (double)(float)d : d);
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
                if (t && *t && !*end) r = kx_real(strchr("fF", last) ? (double)(float)d : d);
                free(t);
            } else if (!strpbrk(s, ".eE") || strpbrk(s, "xX#")) {
                if (!java_decode(s, &iv, 64)) r = json_integer(iv);
                else if (strspn(s + (*s == '-'), "0123456789") == len - (*s == '-')) r = kx_real(strtod(s, NULL));
            } else {
                double d = strtod(s, &end);
                if (!*end && strspn(s, "0123456789.eE+-") == len) r = kx_real(d);
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
    return kx_take_str(&b);
}

KX_FILTER(kx_f_numberformat)
{
    if (!json_is_number(in)) return kx_fail(env, n, KX_E_PEBBLE, "The input for the 'NumberFormat' filter has to be a number.");
    if (a[0] && json_is_string(a[0])) return decimal_format(env, n, in, json_string_value(a[0]));
    return decimal_format(env, n, in, "#,##0.###");
}
