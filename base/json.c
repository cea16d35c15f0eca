/* A growable string buffer and the JSON text Kestra's Jackson mapper writes: Java's Double.toString for numbers,
 * Jackson's escapes for strings. In base/ because the API, the expression engine and the tests all print the
 * same JSON. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/alloc.h"

/* ---- buffer ---- */

static void buf_grow(kt_buf *b, size_t need)
{
    if (b->len + need + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + need + 1) cap *= 2;
    b->p = kt_xrealloc(b->p, cap); /* out of memory aborts: a half-written text would be a wrong one */
    b->cap = cap;
}

void kt_buf_put(kt_buf *b, const char *s, size_t n)
{
    if (!n) return;
    buf_grow(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void kt_buf_puts(kt_buf *b, const char *s) { kt_buf_put(b, s, strlen(s)); }
void kt_buf_putc(kt_buf *b, char c) { kt_buf_put(b, &c, 1); }

void kt_buf_printf(kt_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        kt_buf_put(b, tmp, (size_t)n);
        return;
    }
    buf_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *kt_buf_take(kt_buf *b)
{
    if (!b->p) buf_grow(b, 0);
    b->p[b->len] = 0;
    char *p = b->p;
    memset(b, 0, sizeof *b);
    return p;
}

void kt_fmt_double(double d, char *buf, size_t cap)
{
    if (isnan(d)) {
        snprintf(buf, cap, "NaN");
        return;
    }
    if (isinf(d)) {
        snprintf(buf, cap, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    if (d == 0) {
        snprintf(buf, cap, signbit(d) ? "-0.0" : "0.0");
        return;
    }
    /* shortest decimal that round-trips, as Java 19+ prints */
    char tmp[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
        if (strtod(tmp, NULL) == d) break;
    }
    char digits[32];
    int nd = 0, neg = 0;
    const char *s = tmp;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9' && nd < 31) digits[nd++] = *s;
    int e = atoi(s + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = 0;
    double a = fabs(d);
    kt_buf b = {0};
    if (neg) kt_buf_putc(&b, '-');
    if (a >= 1e-3 && a < 1e7) {
        if (e >= 0) {
            for (int i = 0; i <= e; i++) kt_buf_putc(&b, i < nd ? digits[i] : '0');
            kt_buf_putc(&b, '.');
            if (nd > e + 1) kt_buf_put(&b, digits + e + 1, (size_t)(nd - e - 1));
            else kt_buf_putc(&b, '0');
        } else {
            kt_buf_puts(&b, "0.");
            for (int i = 0; i < -e - 1; i++) kt_buf_putc(&b, '0');
            kt_buf_put(&b, digits, (size_t)nd);
        }
    } else {
        kt_buf_putc(&b, digits[0]);
        kt_buf_putc(&b, '.');
        if (nd > 1) kt_buf_put(&b, digits + 1, (size_t)nd - 1);
        else kt_buf_putc(&b, '0');
        kt_buf_printf(&b, "E%d", e);
    }
    char *r = kt_buf_take(&b);
    snprintf(buf, cap, "%s", r ? r : "NaN");
    free(r);
}

static void json_str(kt_buf *b, const char *s, size_t n)
{
    kt_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        kt_buf_put(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': kt_buf_puts(b, "\\\""); break;
        case '\\': kt_buf_puts(b, "\\\\"); break;
        case '\n': kt_buf_puts(b, "\\n"); break;
        case '\t': kt_buf_puts(b, "\\t"); break;
        case '\r': kt_buf_puts(b, "\\r"); break;
        case '\b': kt_buf_puts(b, "\\b"); break;
        case '\f': kt_buf_puts(b, "\\f"); break;
        default: kt_buf_printf(b, "\\u%04X", c);
        }
    }
    kt_buf_put(b, s + run, n - run);
    kt_buf_putc(b, '"');
}

static void json_write_opt(kt_buf *b, const json_t *v, int skip_null)
{
    char tmp[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        int first = 1;
        kt_buf_putc(b, '{');
        json_object_foreach((json_t *)v, k, x) {
            if (skip_null && json_is_null(x)) continue; /* Jackson NON_NULL on map content */
            if (!first) kt_buf_putc(b, ',');
            first = 0;
            json_str(b, k, strlen(k));
            kt_buf_putc(b, ':');
            json_write_opt(b, x, skip_null);
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
            json_write_opt(b, x, skip_null);
        }
        kt_buf_putc(b, ']');
        break;
    }
    case JSON_STRING: json_str(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: kt_buf_printf(b, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL: {
        double d = json_real_value(v);
        kt_fmt_double(d, tmp, sizeof tmp);
        if (isnan(d) || isinf(d)) json_str(b, tmp, strlen(tmp));
        else kt_buf_puts(b, tmp);
        break;
    }
    case JSON_TRUE: kt_buf_puts(b, "true"); break;
    case JSON_FALSE: kt_buf_puts(b, "false"); break;
    default: kt_buf_puts(b, "null"); break;
    }
}

void kt_json_write(kt_buf *b, const json_t *v) { json_write_opt(b, v, 1); }

char *kt_json_dump_jackson(const json_t *v, size_t *len)
{
    kt_buf b = {0};
    json_write_opt(&b, v, 0); /* the API decides what it omits; nulls it keeps are meant (TaskRun.outputs) */
    size_t n = b.len;
    char *out = kt_buf_take(&b);
    if (out && len)
        *len = n;
    return out;
}
