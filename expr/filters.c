/* The filter catalogue: the one table of every filter Kestra's Pebble offers (Kestra's Extension.getFilters() plus
 * the Pebble core filters it keeps, reference 3 and 6) with its argument names, the helpers the family files
 * share, and the filters that take a value of any type. Each family lives in its own file: filters_string.c,
 * filters_collection.c, filters_number.c, filters_encoding.c, filters_json.c, and date.c for dates. */
#include <limits.h>
#include <stdlib.h>

#include "expr/filters.h"

/* ---- shared helpers ---- */

json_t *kx_cast_err(kx_env *env, const kx_node *n, const json_t *v, const char *to)
{
    return kx_fail(env, n, KX_E_JAVA, "class %s cannot be cast to class %s", kx_java_class(v), to);
}

json_t *kx_take_str(kt_buf *b)
{
    char *s = kt_buf_take(b);
    json_t *r = kx_str(s ? s : "");
    free(s);
    return r;
}

json_t *kx_as_string(const json_t *v)
{
    if (json_is_string(v)) return json_incref((json_t *)v);
    char *s = kx_tostring_dup(v);
    json_t *r = kx_str(s ? s : "");
    free(s);
    return r;
}

size_t kx_utf8_dec(const char *s, size_t n, unsigned *cp)
{
    unsigned char c = (unsigned char)s[0];
    size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (l > n) l = 1;
    unsigned v = l == 1 ? c : c & (0x7Fu >> l);
    for (size_t i = 1; i < l; i++) v = (v << 6) | ((unsigned char)s[i] & 0x3F);
    *cp = v;
    return l;
}

/* ---- any value ---- */

KX_FILTER(kx_f_default)
{
    int empty = json_is_null(in) || (json_is_array(in) && !json_array_size(in)) ||
                (json_is_object(in) && !json_object_size(in));
    if (json_is_string(in)) {
        empty = 1;
        for (size_t i = 0; i < json_string_length(in); i++)
            if ((unsigned char)json_string_value(in)[i] > ' ') empty = 0;
    }
    if (!empty) return json_incref(in);
    return a[0] ? json_incref(a[0]) : json_null();
}

KX_FILTER(kx_f_classname)
{
    if (json_is_null(in)) return json_null();
    if (json_is_integer(in)) {
        long long v = json_integer_value(in);
        return json_string(v >= INT_MIN && v <= INT_MAX && n->a && n->a->type != KX_N_LIT ? "java.lang.Integer"
                                                                                          : "java.lang.Long");
    }
    return json_string(kx_java_class(in));
}

/* ---- the catalogue ---- */

const kx_builtin kx_filters[] = {
    /* strings */
    {"upper", kx_f_upper, {NULL}, 0},
    {"lower", kx_f_lower, {NULL}, 0},
    {"capitalize", kx_f_capitalize, {NULL}, 0},
    {"title", kx_f_title, {NULL}, 0},
    {"trim", kx_f_trim, {NULL}, 0},
    {"abbreviate", kx_f_abbreviate, {"length"}, 0},
    {"split", kx_f_split, {"delimiter", "limit"}, 0},
    {"replace", kx_f_replace, {"replace_pairs", "regexp"}, 0},
    {"escapeChar", kx_f_escapechar, {"type"}, 0},
    {"substringBefore", kx_f_sub_before, {"separator"}, 0},
    {"substringAfter", kx_f_sub_after, {"separator"}, 0},
    {"substringBeforeLast", kx_f_sub_before_last, {"separator"}, 0},
    {"substringAfterLast", kx_f_sub_after_last, {"separator"}, 0},
    {"startsWith", kx_f_starts, {"value"}, 0},
    {"endsWith", kx_f_ends, {"value"}, 0},
    {"indent", kx_f_indent, {"amount", "prefix"}, 0},
    {"nindent", kx_f_nindent, {"amount", "prefix"}, 0},
    {"slugify", kx_f_slugify, {NULL}, 0},
    /* collections */
    {"join", kx_f_join, {"separator"}, 0},
    {"length", kx_f_length, {NULL}, 0},
    {"first", kx_f_first, {NULL}, 0},
    {"last", kx_f_last, {NULL}, 0},
    {"keys", kx_f_keys, {NULL}, 0},
    {"values", kx_f_values, {NULL}, 0},
    {"sort", kx_f_sort, {NULL}, 0},
    {"rsort", kx_f_rsort, {NULL}, 0},
    {"reverse", kx_f_reverse, {NULL}, 0},
    {"slice", kx_f_slice, {"fromIndex", "toIndex"}, 0},
    {"merge", kx_f_merge, {"items"}, 0},
    {"chunk", kx_f_chunk, {"size"}, 0},
    {"flatten", kx_f_flatten, {NULL}, 0},
    /* numbers */
    {"abs", kx_f_abs, {NULL}, 0},
    {"number", kx_f_number, {"type"}, 0},
    {"numberFormat", kx_f_numberformat, {"format"}, 0},
    /* encodings and hashes */
    {"base64encode", kx_f_b64enc, {NULL}, 0},
    {"base64decode", kx_f_b64dec, {NULL}, 0},
    {"md5", kx_f_md5, {NULL}, 0},
    {"sha1", kx_f_sha1, {NULL}, 0},
    {"sha256", kx_f_sha256, {NULL}, 0},
    {"sha512", kx_f_sha512, {NULL}, 0},
    {"urlencode", kx_f_urlencode, {NULL}, 0},
    {"urldecode", kx_f_urldecode, {NULL}, 0},
    /* JSON, YAML, Ion, jq */
    {"toJson", kx_f_tojson, {NULL}, 0},
    {"json", kx_f_tojson, {NULL}, 0}, /* deprecated alias of toJson */
    {"yaml", kx_f_toyaml, {NULL}, 0},
    {"toIon", kx_f_toion, {NULL}, 0},
    {"jq", kx_f_jq, {"expression"}, 0},
    /* dates */
    {"date", kx_f_date, {"format", "timeZone", "existingFormat", "locale"}, 0},
    {"dateAdd", kx_f_dateadd, {"amount", "unit", "format", "timeZone", "existingFormat", "locale"}, 0},
    {"timestamp", kx_f_timestamp, {"timeZone", "existingFormat"}, 0},
    {"timestampMicro", kx_f_timestamp_micro, {"timeZone", "existingFormat"}, 0},
    {"timestampNano", kx_f_timestamp_nano, {"timeZone", "existingFormat"}, 0},
    /* any value */
    {"default", kx_f_default, {"default"}, 0},
    {"className", kx_f_classname, {NULL}, 0},
    {NULL, NULL, {NULL}, 0},
};
