/* Ion text out of a JSON value (kt_ion_write, expr/expr.h): what Kestra's FileSerde writes for the records of
 * `.ion` files (one value per line), read back by fromIon() and by the storage tasks. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "expr/expr.h"

/* An Ion identifier symbol needs no quotes: [A-Za-z_$][A-Za-z0-9_$]*, not a keyword. */
static int bare_symbol(const char *s)
{
    static const char *const keywords[] = {"null", "true", "false", "nan", NULL};
    if (!*s || !(isalpha((unsigned char)*s) || *s == '_' || *s == '$'))
        return 0;
    for (const char *c = s; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '$'))
            return 0;
    for (const char *const *k = keywords; *k; k++)
        if (!strcmp(s, *k))
            return 0;
    return 1;
}

static void put_quoted(kt_buf *b, const char *s, size_t n, char q)
{
    kt_buf_putc(b, q);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)q || c == '\\') {
            kt_buf_putc(b, '\\');
            kt_buf_putc(b, (char)c);
        } else if (c == '\n') {
            kt_buf_puts(b, "\\n");
        } else if (c == '\r') {
            kt_buf_puts(b, "\\r");
        } else if (c == '\t') {
            kt_buf_puts(b, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            kt_buf_printf(b, "\\x%02x", c);
        } else {
            kt_buf_putc(b, (char)c); /* UTF-8 passes through: Ion text is UTF-8 */
        }
    }
    kt_buf_putc(b, q);
}

void kt_ion_write(kt_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL: kt_buf_puts(b, "null"); break;
    case JSON_TRUE: kt_buf_puts(b, "true"); break;
    case JSON_FALSE: kt_buf_puts(b, "false"); break;
    case JSON_INTEGER: kt_buf_printf(b, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL: {
        double d = json_real_value(v);
        if (isnan(d)) {
            kt_buf_puts(b, "nan");
        } else if (isinf(d)) {
            kt_buf_puts(b, d > 0 ? "+inf" : "-inf");
        } else {
            char num[64];
            snprintf(num, sizeof num, "%.17g", d);
            kt_buf_puts(b, num);
            if (!strchr(num, 'e'))
                kt_buf_puts(b, "e0"); /* a float, not a decimal: Java's double is an Ion float */
        }
        break;
    }
    case JSON_STRING: put_quoted(b, json_string_value(v), json_string_length(v), '"'); break;
    case JSON_ARRAY: {
        kt_buf_putc(b, '[');
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (i)
                kt_buf_putc(b, ',');
            kt_ion_write(b, e);
        }
        kt_buf_putc(b, ']');
        break;
    }
    case JSON_OBJECT: {
        kt_buf_putc(b, '{');
        const char *k;
        json_t *e;
        int first = 1;
        json_object_foreach((json_t *)v, k, e) {
            if (!first)
                kt_buf_putc(b, ',');
            first = 0;
            if (bare_symbol(k))
                kt_buf_puts(b, k);
            else
                put_quoted(b, k, strlen(k), '\'');
            kt_buf_putc(b, ':');
            kt_ion_write(b, e);
        }
        kt_buf_putc(b, '}');
        break;
    }
    }
}
