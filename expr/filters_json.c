/* Serialisation filters (reference 3.2): toJson (and its alias json: removed by Kestra 2.0, read in a 2.x flow as a
 * deprecation, docs/dialects.md C9), yaml, toIon, jq. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr/filters.h"
#include "expr/jq/jq.h"

KX_FILTER(kx_f_tojson)
{
    kt_buf b = {0};
    kt_json_write(&b, in);
    return kx_take_str(&b);
}

KX_FILTER(kx_f_toyaml)
{
    if (json_is_null(in)) return json_string("null");
    kt_buf b = {0};
    kx_yaml_write(&b, in);
    return kx_take_str(&b);
}

KX_FILTER(kx_f_jq)
{
    if (!a[0] || json_is_null(a[0])) return kx_fail(env, n, KX_E_PEBBLE, "The 'jq' filter expects an argument 'expression'.");
    json_t *doc = json_incref(in);
    if (json_is_string(in)) {
        json_decref(doc);
        doc = json_loadb(json_string_value(in), json_string_length(in), JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
    }
    char err[256] = "";
    json_t *expr = kx_as_string(a[0]);
    json_t *r = doc ? kq_run(doc, json_string_value(expr), err, sizeof err) : NULL;
    json_decref(expr);
    json_decref(doc);
    if (!r) {
        char *s = kx_tostring_dup(in);
        kx_fail(env, n, KX_E_PEBBLE, "Unable to parse jq value '%.200s' with type '%s'", s ? s : "", kx_java_class(in));
        free(s);
    }
    return r;
}

/* Amazon Ion text as Kestra's Ion mapper writes it: symbol field names unquoted, nulls kept, floats in e notation. */
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

KX_FILTER(kx_f_toion)
{
    kt_buf b = {0};
    ion_write(&b, in);
    return kx_take_str(&b);
}
