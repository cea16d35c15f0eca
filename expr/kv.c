/* KV values as Kestra stores and types them (see expr/kv.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "expr/expr.h"
#include "expr/kv.h"
#include "time/duration.h"
#include "time/isodate.h"

static const char *const type_names[] = {"STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON"};

const char *kt_kv_type_name(kt_kv_type t)
{
    return (unsigned)t < sizeof type_names / sizeof *type_names ? type_names[t] : "STRING";
}

int kt_kv_type_parse(const char *name, kt_kv_type *t)
{
    for (size_t i = 0; name && i < sizeof type_names / sizeof *type_names; i++)
        if (!strcmp(name, type_names[i])) {
            *t = (kt_kv_type)i;
            return 0;
        }
    return -1;
}

kt_status kt_kv_key_check(const char *key, char *err, size_t errcap)
{
    if (!key || !*key) {
        snprintf(err, errcap, "%s", KT_KV_KEY_EMPTY);
        return KT_EINVAL;
    }
    int ok = isalnum((unsigned char)key[0]) && strlen(key) <= KT_KV_KEY_MAX;
    for (const char *p = key + 1; ok && *p; p++)
        ok = isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-';
    if (!ok) {
        snprintf(err, errcap, "%s", KT_KV_KEY_INVALID);
        return KT_EINVAL;
    }
    return KT_OK;
}

char *kt_kv_uri(const char *ns, const char *key)
{
    kt_buf b = {0};
    kt_buf_puts(&b, "kestra:///");
    for (const char *p = ns; *p; p++)
        kt_buf_putc(&b, *p == '.' ? '/' : *p);
    kt_buf_printf(&b, "/_kv/%s.ion", key);
    return kt_buf_take(&b);
}

/* InternalKVStore.DURATION_PATTERN: ^P(?=[^T]|T.)(?:\d*D)?(?:T(?=.)(?:\d*H)?(?:\d*M)?(?:\d*S)?)?$ */
static int duration_shaped(const char *s)
{
    if (s[0] != 'P' || !s[1] || (s[1] == 'T' && !s[2]))
        return 0;
    const char *p = s + 1, *q = p;
    while (isdigit((unsigned char)*q))
        q++;
    if (*q == 'D')
        p = q + 1;
    if (*p == 'T') {
        if (!*++p)
            return 0;
        for (const char *u = "HMS"; *u; u++) {
            for (q = p; isdigit((unsigned char)*q);)
                q++;
            if (*q == *u)
                p = q + 1;
        }
    }
    return !*p;
}

/* An Ion timestamp's text as Kestra shows it: a date stays YYYY-MM-DD (DATE), a time makes it an Instant in UTC
 * (DATETIME; kept as written when Kite cannot read it as one, e.g. minutes-only forms). */
static json_t *timestamp_value(const char *ts, kt_kv_type *type)
{
    size_t n = strlen(ts);
    if (n == 10 || (n == 11 && ts[10] == 'T')) {
        *type = KT_KV_DATE;
        return json_stringn(ts, 10);
    }
    *type = KT_KV_DATETIME;
    int64_t us;
    char *why = NULL;
    if (kt_isodate_parse_instant(ts, &us, &why) == 0) {
        char buf[64];
        kt_isodate_format_instant(us, buf, sizeof buf);
        return json_string(buf);
    }
    free(why);
    return json_string(ts);
}

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && isspace((unsigned char)*p))
        p++;
    return p;
}

json_t *kt_kv_decode(const char *text, size_t len, kt_kv_type *type, char *err, size_t errcap)
{
    json_t *v = kt_expr_ion_parse(text, len, err, errcap);
    if (!v)
        return NULL;
    const char *p = skip_space(text, text + len);
    if (json_is_string(v) && p < text + len && isdigit((unsigned char)*p)) { /* an unquoted timestamp */
        json_t *t = timestamp_value(json_string_value(v), type);
        json_decref(v);
        return t;
    }
    if (json_is_string(v))
        *type = duration_shaped(json_string_value(v)) ? KT_KV_DURATION : KT_KV_STRING;
    else if (json_is_number(v))
        *type = KT_KV_NUMBER;
    else if (json_is_boolean(v))
        *type = KT_KV_BOOLEAN;
    else if (json_is_object(v) || json_is_array(v))
        *type = KT_KV_JSON;
    else
        *type = KT_KV_STRING; /* KVType.from(null) */
    return v;
}

/* A typed value (from kt_kv_decode or the conversions below) as Ion: dates and instants unquoted (Ion timestamps,
 * which is how Kestra's Ion mapper reads them back as LocalDate / Instant), everything else as kt_ion_write. */
static void write_typed(kt_buf *b, kt_kv_type type, const json_t *v)
{
    if ((type == KT_KV_DATE || type == KT_KV_DATETIME) && json_is_string(v))
        kt_buf_puts(b, json_string_value(v));
    else
        kt_ion_write(b, v);
}

kt_status kt_kv_from_text(kt_buf *b, const char *text, size_t len, char *err, size_t errcap)
{
    kt_kv_type type;
    json_t *v = kt_kv_decode(text, len, &type, err, errcap);
    if (!v) {
        snprintf(err, errcap, "Invalid JSON value for: %.*s", (int)(len > 200 ? 200 : len), text);
        return KT_EINVAL;
    }
    write_typed(b, type, v);
    json_decref(v);
    return KT_OK;
}

/* Set's conversion of a string for kvType; a new reference, or NULL with err. */
static json_t *convert(const char *s, kt_kv_type type, kt_kv_type *out_type, char *err, size_t errcap)
{
    json_error_t je;
    int64_t us;
    char *why = NULL;
    *out_type = type;
    switch (type) {
    case KT_KV_NUMBER: {
        json_t *v = json_loads(s, JSON_DECODE_ANY, &je);
        if (json_is_number(v))
            return v;
        json_decref(v);
        snprintf(err, errcap, "Unable to read '%s' as a NUMBER value", s);
        return NULL;
    }
    case KT_KV_BOOLEAN:
        return json_boolean(!strcasecmp(s, "true"));
    case KT_KV_DATE:
        if (strlen(s) == 10 && kt_isodate_parse_date(s, &us, &why) == 10)
            return json_string(s);
        free(why);
        why = NULL;
        /* Kestra's Set parses DATE as an Instant too */
        __attribute__((fallthrough));
    case KT_KV_DATETIME: {
        int rc = kt_isodate_parse_instant(s, &us, &why);
        if (rc) {
            snprintf(err, errcap, "Text '%s' could not be parsed%s%s", s, why ? ": " : "", why ? why : "");
            free(why);
            return NULL;
        }
        char buf[64];
        kt_isodate_format_instant(us, buf, sizeof buf);
        *out_type = KT_KV_DATETIME;
        return json_string(buf);
    }
    case KT_KV_DURATION: {
        if (kt_duration_parse(s, &us)) {
            snprintf(err, errcap, "Text cannot be parsed to a Duration: %s", s);
            return NULL;
        }
        char buf[KT_DURATION_BUFSZ];
        kt_duration_format(us, buf, sizeof buf);
        return json_string(buf);
    }
    case KT_KV_JSON: {
        json_t *v = json_loads(s, JSON_DECODE_ANY, &je);
        if (!v)
            snprintf(err, errcap, "Unable to read '%s' as a JSON value: %s", s, je.text);
        return v;
    }
    case KT_KV_STRING:
    default:
        return json_string(s);
    }
}

kt_status kt_kv_encode(kt_buf *b, const json_t *value, const char *kv_type, char *err, size_t errcap)
{
    kt_kv_type type = KT_KV_STRING;
    if (kv_type && kt_kv_type_parse(kv_type, &type)) {
        snprintf(err, errcap, "Invalid kvType '%s': must be one of STRING, NUMBER, BOOLEAN, DATETIME, DATE, DURATION, "
                              "JSON", kv_type);
        return KT_EINVAL;
    }
    if (!kv_type || !json_is_string(value)) {
        kt_ion_write(b, value ? value : json_null());
        return KT_OK;
    }
    kt_kv_type written;
    json_t *v = convert(json_string_value(value), type, &written, err, errcap);
    if (!v)
        return KT_EINVAL;
    write_typed(b, written, v);
    json_decref(v);
    return KT_OK;
}

json_t *kt_kv_metadata(int64_t now_us, int64_t ttl_us)
{
    if (ttl_us < 0)
        return NULL;
    char buf[64];
    kt_isodate_format_instant(now_us + ttl_us, buf, sizeof buf);
    return json_pack("{ss}", "expirationDate", buf);
}

int kt_kv_expiration(const json_t *meta, int64_t *us)
{
    const char *s = json_string_value(json_object_get(meta, "expirationDate"));
    char *why = NULL;
    if (!s)
        return 0;
    if (kt_isodate_parse_instant(s, us, &why)) {
        free(why);
        return 0;
    }
    return 1;
}

int kt_kv_expired(const json_t *meta, int64_t now_us)
{
    int64_t exp;
    return kt_kv_expiration(meta, &exp) && now_us > exp;
}
