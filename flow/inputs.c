/* Input typing and validation, after Kestra's FlowInputOutput (KESTRA-execution.md §4.3-4.5). Messages are
 * Kestra's, including its Java-isms ("For input string", "java.lang.Exception: Expected ..."), because users and
 * scripts match on them. */
#include "flow/inputs.h"
#include "flow/inputs_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "time/duration.h"
#include "time/isodate.h"
#include "base/strfmt.h"
#include "flow/tasks.h"

typedef enum itype {
    T_STRING, T_ENUM, T_SELECT, T_INT, T_FLOAT, T_BOOLEAN, T_BOOL, T_DATETIME, T_DATE, T_TIME, T_DURATION,
    T_FILE, T_JSON, T_URI, T_SECRET, T_ARRAY, T_MULTISELECT, T_YAML, T_EMAIL, T_UNKNOWN
} itype;

static itype type_of(const char *s)
{
    for (int i = 0; s && kt_enum_input_types[i]; i++)
        if (strcmp(s, kt_enum_input_types[i]) == 0)
            return (itype)i; /* kt_enum_input_types is in itype order */
    return T_UNKNOWN;
}

const char *kt_input_id(const json_t *def)
{
    const char *id = json_string_value(json_object_get(def, "id"));
    return id ? id : json_string_value(json_object_get(def, "name"));
}

/* ---------------------------------------------------------------- printing */

/* Java's Float.toString is the shortest text that reads back as the same float; %g with growing precision
 * finds it, and ".0" is added to integral values as Java does. */
static void java_float(double d, char *buf, size_t cap)
{
    float f = (float)d;
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, cap, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f)
            break;
    }
    if (!strpbrk(buf, ".eEn"))
        strncat(buf, ".0", cap - strlen(buf) - 1);
}

static void java_print(FILE *out, const json_t *v)
{
    size_t i;
    json_t *x;
    const char *k;
    char buf[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        fputs(json_string_value(v), out);
        break;
    case JSON_INTEGER:
        fprintf(out, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        java_float(json_real_value(v), buf, sizeof(buf));
        fputs(buf, out);
        break;
    case JSON_TRUE:
        fputs("true", out);
        break;
    case JSON_FALSE:
        fputs("false", out);
        break;
    case JSON_ARRAY:
        fputc('[', out);
        json_array_foreach(v, i, x) {
            if (i)
                fputs(", ", out);
            java_print(out, x);
        }
        fputc(']', out);
        break;
    case JSON_OBJECT:
        fputc('{', out);
        i = 0;
        json_object_foreach((json_t *)v, k, x) {
            fprintf(out, "%s%s=", i++ ? ", " : "", k);
            java_print(out, x);
        }
        fputc('}', out);
        break;
    default:
        fputs("null", out);
    }
}

char *kt_input_java_string(const json_t *v)
{
    char *buf = NULL;
    size_t sz = 0;
    FILE *f = open_memstream(&buf, &sz);
    if (!f)
        return NULL;
    java_print(f, v);
    fclose(f);
    return buf;
}

/* Kestra wraps parse failures that are not IllegalArgumentExceptions this way. */
static char *wrapped(itype t, const json_t *v, const char *cause)
{
    char *vs = kt_input_java_string(v);
    char *s = kt_strfmt("java.lang.Exception: Expected `%s` but received `%s` with errors:\n```\n%s\n```",
                  kt_enum_input_types[t], vs ? vs : "", cause);
    free(vs);
    return s;
}

/* ---------------------------------------------------------------- parsing */

static const char *uri_re = "^[a-z]+:\\/\\/(?:www\\.)?[-a-zA-Z0-9@:%._\\+~#=]{1,256}\\.[a-zA-Z0-9()]{1,6}\\b"
                            "(?:[-a-zA-Z0-9()@:%_\\+.~#?&\\/=]*)$";

/* Full match of subject against pattern (Java's Matcher.matches()); -1 when the pattern does not compile. */
static int regex_full_match(const char *pattern, const char *subject)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
    if (!re)
        return -1;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = md ? pcre2_match(re, (PCRE2_SPTR)subject, strlen(subject), 0, PCRE2_ANCHORED | PCRE2_ENDANCHORED, md, NULL)
                : -1;
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc >= 0;
}

static int is_email(const char *s)
{
    if (!*s)
        return 1;
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1])
        return 0;
    for (const char *p = s; p < at; p++) {
        unsigned char ch = (unsigned char)*p;
        if (isalnum(ch) || strchr("_!#$%&*+/=?`{|}~^.-", ch))
            continue;
        if (ch == 0xE2 && (unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0x99) { /* ’ */
            p += 2;
            continue;
        }
        return 0;
    }
    for (const char *p = at + 1; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
            return 0;
    return 1;
}

static json_t *parse_int(const json_t *v, char **err)
{
    if (json_is_integer(v))
        return json_incref((json_t *)v);
    char *s = kt_input_java_string(v);
    if (!s)
        return NULL;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    int ok = *p != 0;
    for (const char *q = p; *q; q++)
        ok &= isdigit((unsigned char)*q) != 0;
    long long x = ok ? strtoll(s, NULL, 10) : 0;
    if (!ok || x > 2147483647LL || x < -2147483648LL) {
        *err = kt_strfmt("For input string: \"%s\"", s);
        free(s);
        return NULL;
    }
    free(s);
    return json_integer(x);
}

/* A double holding the float value, printed shortest (0.1f -> 0.1, not 0.10000000149). */
static json_t *float_json(double d)
{
    char buf[64];
    java_float(d, buf, sizeof(buf));
    return json_real(strtod(buf, NULL));
}

static json_t *parse_float(const json_t *v, char **err)
{
    if (json_is_number(v))
        return float_json(json_number_value(v));
    char *s = kt_input_java_string(v);
    if (!s)
        return NULL;
    /* Float.valueOf trims, accepts a trailing f/F/d/D and Java number syntax. */
    char *b = s, *e = s + strlen(s);
    while (*b && (unsigned char)*b <= ' ')
        b++;
    while (e > b && (unsigned char)e[-1] <= ' ')
        e--;
    *e = 0;
    json_t *r = NULL;
    if (!*b) {
        *err = kt_strfmt("empty String");
    } else {
        if (e - b > 1 && strchr("fFdD", e[-1]))
            e[-1] = 0;
        int ok = isdigit((unsigned char)*b) || *b == '.' || ((*b == '-' || *b == '+') && (isdigit((unsigned char)b[1]) || b[1] == '.'));
        char *end;
        double d = ok ? strtod(b, &end) : 0;
        if (ok && !*end && isfinite((float)d))
            r = float_json(d);
        else
            *err = kt_strfmt("For input string: \"%s\"", s);
    }
    free(s);
    return r;
}

/* BOOLEAN / BOOL: a JSON boolean, or Java's Boolean.parseBoolean of the text */
static json_t *parse_bool(const json_t *v)
{
    if (json_is_boolean(v))
        return json_incref((json_t *)v);
    char *js = kt_input_java_string(v);
    json_t *r = json_boolean(js && strcasecmp(js, "true") == 0);
    free(js);
    return r;
}

static json_t *parse_datetime(itype t, const json_t *v, char **err)
{
    const char *s = json_string_value(v);
    if (!s) {
        *err = wrapped(t, v, "value is not a string");
        return NULL;
    }
    char buf[64], *why = NULL;
    int64_t x;
    int at = kt_isodate_parse_instant(s, &x, &why);
    if (at == 0) {
        kt_isodate_format_instant(x, buf, sizeof(buf));
        return json_string(buf);
    }
    char *cause = at < 0 ? kt_strfmt("Text '%s' could not be parsed: %s", s, why ? why : "")
                         : kt_strfmt("Text '%s' could not be parsed at index %d", s, at - 1);
    *err = wrapped(t, v, cause ? cause : "");
    free(cause);
    free(why);
    return NULL;
}

static json_t *parse_date(itype t, const json_t *v, char **err)
{
    const char *s = json_string_value(v);
    char buf[64], *why = NULL;
    int64_t x;
    int n = s ? kt_isodate_parse_date(s, &x, &why) : -1;
    if (n == 10 && !s[10]) {
        kt_isodate_format_date(x, buf, sizeof(buf));
        return json_string(buf);
    }
    char *cause = !s ? kt_strfmt("value is not a string")
                : n == KT_ISODATE_ERANGE ? kt_strfmt("Text '%s' could not be parsed: %s", s, why)
                            : kt_strfmt("Text '%s' could not be parsed at index %d", s, n < 0 ? -n - 1 : n);
    *err = wrapped(t, v, cause ? cause : "");
    free(cause);
    free(why);
    return NULL;
}

static json_t *parse_time(itype t, const json_t *v, char **err)
{
    const char *s = json_string_value(v);
    char buf[64];
    int64_t x;
    int n = s ? kt_isodate_parse_time(s, &x) : -1;
    if (n > 0 && !s[n]) {
        kt_isodate_format_time(x, buf, sizeof(buf));
        return json_string(buf);
    }
    char *cause = !s ? kt_strfmt("value is not a string")
                     : kt_strfmt("Text '%s' could not be parsed at index %d", s, n < 0 ? -n - 1 : n);
    *err = wrapped(t, v, cause ? cause : "");
    free(cause);
    return NULL;
}

/* an ISO-8601 duration, surrounding whitespace ignored */
static json_t *parse_duration(itype t, const json_t *v, char **err)
{
    const char *s = json_string_value(v);
    if (s) {
        while (isspace((unsigned char)*s))
            s++;
        char *tr = strdup(s), buf[64];
        for (size_t k = tr ? strlen(tr) : 0; k && isspace((unsigned char)tr[k - 1]); k--)
            tr[k - 1] = 0;
        int64_t x;
        int rc = tr ? kt_duration_parse(tr, &x) : -1;
        free(tr);
        if (rc == 0) {
            kt_duration_format(x, buf, sizeof(buf));
            return json_string(buf);
        }
    }
    *err = wrapped(t, v, s ? "Text cannot be parsed to a Duration" : "value is not a string");
    return NULL;
}

/* JSON: a string holds the JSON text; any other value is already parsed */
static json_t *parse_json(itype t, const json_t *v, char **err)
{
    const char *s = json_string_value(v);
    if (!s)
        return json_incref((json_t *)v);
    json_error_t je;
    json_t *r = json_loads(s, JSON_DECODE_ANY, &je);
    if (!r)
        *err = wrapped(t, v, je.text);
    return r;
}

/* YAML: a string holds the YAML text (its first document); any other value is already parsed */
static json_t *parse_yaml(itype t, const json_t *v, char **err)
{
    const char *s = json_string_value(v);
    if (!s)
        return json_incref((json_t *)v);
    kt_yaml_doc **docs = NULL;
    size_t nd = 0;
    kt_diags dg;
    kt_diags_init(&dg);
    json_t *r = NULL;
    if (kt_yaml_load(s, strlen(s), "", &docs, &nd, &dg) == KT_OK)
        r = json_incref(nd ? kt_yaml_doc_root(docs[0]) : json_null());
    else
        *err = wrapped(t, v, dg.count ? dg.items[0].message : "invalid YAML");
    kt_yaml_docs_free(docs, nd);
    kt_diags_clear(&dg);
    return r;
}

static json_t *parse_uri(const json_t *v, char **err)
{
    const char *s = json_string_value(v);
    if (s && regex_full_match(uri_re, s) == 1)
        return json_incref((json_t *)v);
    char *js = kt_input_java_string(v);
    *err = kt_strfmt("Expected `URI` but received `%s`", js ? js : "");
    free(js);
    return NULL;
}

static json_t *parse_items(const json_t *def, itype t, const json_t *v, char **err);

json_t *kt_input_parse_value(const json_t *def, const json_t *v, char **err)
{
    *err = NULL;
    itype t = type_of(json_string_value(json_object_get(def, "type")));
    const char *s = json_string_value(v);
    switch (t) {
    case T_STRING:
    case T_ENUM:
    case T_SELECT:
    case T_EMAIL:
    case T_SECRET: /* typed as a string here; sealed with the encryption key when stored (flow/secret_inputs.h) */
        return json_incref((json_t *)v);
    case T_INT: return parse_int(v, err);
    case T_FLOAT: return parse_float(v, err);
    case T_BOOLEAN:
    case T_BOOL: return parse_bool(v);
    case T_DATETIME: return parse_datetime(t, v, err);
    case T_DATE: return parse_date(t, v, err);
    case T_TIME: return parse_time(t, v, err);
    case T_DURATION: return parse_duration(t, v, err);
    case T_FILE:
        if (s && strncmp(s, "kestra://", 9) == 0)
            return json_incref((json_t *)v);
        *err = wrapped(t, v, "only kestra:// internal-storage URIs are accepted for FILE inputs");
        return NULL;
    case T_JSON: return parse_json(t, v, err);
    case T_YAML: return parse_yaml(t, v, err);
    case T_URI: return parse_uri(v, err);
    case T_ARRAY:
    case T_MULTISELECT: return parse_items(def, t, v, err);
    case T_UNKNOWN: break;
    }
    *err = kt_strfmt("Invalid type: %s", json_string_value(json_object_get(def, "type")));
    return NULL;
}

static json_t *parse_items(const json_t *def, itype t, const json_t *v, char **err)
{
    json_t *list = NULL;
    if (json_is_array(v)) {
        list = json_incref((json_t *)v);
    } else if (json_is_string(v)) {
        json_error_t je;
        list = json_loads(json_string_value(v), JSON_DECODE_ANY, &je);
        if (!json_is_array(list)) {
            json_decref(list);
            *err = wrapped(t, v, list ? "not a JSON array" : je.text);
            return NULL;
        }
    } else {
        *err = wrapped(t, v, "not a list");
        return NULL;
    }
    const char *it = json_string_value(json_object_get(def, "itemType"));
    if (!it && t == T_MULTISELECT)
        it = "STRING";
    if (!it)
        return list;
    json_t *idef = json_pack("{ss}", "type", it);
    json_t *out = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        char *e2 = NULL;
        json_t *y = idef && out ? kt_input_parse_value(idef, x, &e2) : NULL;
        if (!y) {
            char *js = kt_input_java_string(x);
            *err = kt_strfmt("Unable to parse array element as `%s` on `%s`", it, js ? js : "");
            free(js);
            free(e2);
            json_decref(out);
            out = NULL;
            break;
        }
        /* MULTISELECT keeps STRING items as the text sent (numbers included), as Java's toString does. */
        json_array_append_new(out, y);
    }
    json_decref(idef);
    json_decref(list);
    return out;
}

/* ---------------------------------------------------------------- validators */

static int in_values(const json_t *values, const json_t *v)
{
    size_t i;
    json_t *x;
    char *vs = kt_input_java_string(v);
    int found = 0;
    json_array_foreach(values, i, x) {
        char *xs = kt_input_java_string(x);
        found |= xs && vs && strcmp(xs, vs) == 0;
        free(xs);
    }
    free(vs);
    return found;
}

int kt_input_is_required(const json_t *def)
{
    const json_t *r = json_object_get(def, "required");
    if (json_is_boolean(r))
        return json_is_true(r);
    if (json_is_string(r))
        return strcasecmp(json_string_value(r), "true") == 0;
    return 1; /* Kestra's default */
}

/* Bound of a min/max/after/before property, typed like the input; NULL when absent or unreadable. */
static json_t *bound(const json_t *def, itype t, const char *key)
{
    const json_t *b = json_object_get(def, key);
    if (!b || json_is_null(b))
        return NULL;
    json_t *d = json_pack("{ss}", "type", kt_enum_input_types[t]);
    char *err = NULL;
    json_t *r = d ? kt_input_parse_value(d, b, &err) : NULL;
    free(err);
    json_decref(d);
    return r;
}

static double num(const json_t *v)
{
    return json_number_value(v);
}

/* Orders two typed values of the same type: durations, instants, dates and times as canonical strings parse back;
 * dates/instants/times in canonical form compare correctly as text only when same-length, so use numbers. */
static int cmp_typed(itype t, const json_t *a, const json_t *b)
{
    int64_t x = 0, y = 0;
    char *why = NULL;
    switch (t) {
    case T_INT:
    case T_FLOAT:
        return num(a) < num(b) ? -1 : num(a) > num(b);
    case T_DURATION:
        kt_duration_parse(json_string_value(a), &x);
        kt_duration_parse(json_string_value(b), &y);
        break;
    case T_DATETIME:
        kt_isodate_parse_instant(json_string_value(a), &x, &why);
        kt_isodate_parse_instant(json_string_value(b), &y, &why);
        break;
    case T_DATE:
        kt_isodate_parse_date(json_string_value(a), &x, &why);
        kt_isodate_parse_date(json_string_value(b), &y, &why);
        break;
    case T_TIME:
        kt_isodate_parse_time(json_string_value(a), &x);
        kt_isodate_parse_time(json_string_value(b), &y);
        break;
    default:
        return 0;
    }
    free(why);
    return x < y ? -1 : x > y;
}

static char *range_check(const json_t *def, itype t, const json_t *typed)
{
    const char *lo = t == T_DATETIME || t == T_DATE || t == T_TIME ? "after" : "min";
    const char *hi = *lo == 'a' ? "before" : "max";
    char *msg = NULL;
    json_t *b = bound(def, t, lo);
    if (b && cmp_typed(t, typed, b) < 0) {
        char *bs = kt_input_java_string(b);
        msg = *lo == 'a' ? kt_strfmt("it must be after `%s`", bs) : kt_strfmt("%s must be more than `%s`", t == T_DURATION ? "It" : "it", bs);
        free(bs);
    }
    json_decref(b);
    if (msg)
        return msg;
    b = bound(def, t, hi);
    if (b && cmp_typed(t, typed, b) > 0) {
        char *bs = kt_input_java_string(b);
        msg = *hi == 'b' ? kt_strfmt("it must be before `%s`", bs) : kt_strfmt("%s must be less than `%s`", t == T_DURATION ? "It" : "it", bs);
        free(bs);
    }
    json_decref(b);
    return msg;
}

static char *validate(const json_t *def, itype t, const json_t *typed)
{
    const json_t *values = json_object_get(def, "values");
    switch (t) {
    case T_STRING:
    case T_SECRET: {
        const char *re = json_string_value(json_object_get(def, "validator"));
        char *vs = re ? kt_input_java_string(typed) : NULL;
        int m = re && vs ? regex_full_match(re, vs) : 1;
        free(vs);
        return m == 1 ? NULL : kt_strfmt("it must match the pattern `%s`", re);
    }
    case T_ENUM:
    case T_SELECT:
        if (t == T_SELECT && json_is_true(json_object_get(def, "allowCustomValue")))
            return NULL;
        if (json_is_array(values) && !in_values(values, typed) && (t == T_SELECT || kt_input_is_required(def))) {
            char *vs = kt_input_java_string(values), *m = kt_strfmt("it must match the values `%s`", vs);
            free(vs);
            return m;
        }
        return NULL;
    case T_MULTISELECT: {
        const json_t *options = json_object_get(def, "options");
        if (values && options)
            return kt_strfmt("you can't define both `values` and `options`");
        const json_t *allowed = values ? values : options;
        if (json_is_true(json_object_get(def, "allowCustomValue")) || !json_is_array(allowed))
            return NULL;
        size_t i;
        json_t *x;
        json_array_foreach(typed, i, x) {
            if (!in_values(allowed, x)) {
                char *vs = kt_input_java_string(allowed), *m = kt_strfmt("it must match the values `%s`", vs);
                free(vs);
                return m;
            }
        }
        return NULL;
    }
    case T_INT:
    case T_FLOAT:
    case T_DURATION:
    case T_DATETIME:
    case T_DATE:
    case T_TIME:
        return range_check(def, t, typed);
    case T_EMAIL: {
        char *vs = kt_input_java_string(typed);
        int ok = vs && is_email(vs);
        free(vs);
        return ok ? NULL : kt_strfmt("The input must be a valid email");
    }
    default:
        return NULL;
    }
}

char *kt_input_invalid(const char *id, const char *detail, const json_t *raw)
{
    char *vs = kt_input_java_string(raw ? raw : json_null());
    char *m = kt_strfmt("Invalid input for `%s`, %s, but received `%s`", id ? id : "", detail ? detail : "", vs ? vs : "");
    free(vs);
    return m;
}

json_t *kt_input_check_value(const json_t *def, const json_t *value, char **err)
{
    itype t = type_of(json_string_value(json_object_get(def, "type")));
    char *detail = NULL;
    json_t *typed = kt_input_parse_value(def, value, &detail);
    if (typed) {
        detail = validate(def, t, typed);
        if (detail) {
            json_decref(typed);
            typed = NULL;
        }
    }
    if (!typed)
        *err = kt_input_invalid(kt_input_id(def), detail, value);
    free(detail);
    return typed;
}
