/* YAML for the `yaml` filter (Kestra's Jackson YAML mapper: MINIMIZE_QUOTES, no document marker, no line
 * splitting, arrays indented as " - item") and the `yaml()` function (first document via libyaml). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "expr/expr_int.h"

/* ---- writer ---- */

static int reserved_word(const char *s)
{
    static const char *const w[] = {"true", "false", "yes", "no", "y", "n", "on", "off", "null", "~", NULL};
    for (int i = 0; w[i]; i++)
        if (!strcasecmp(s, w[i])) return 1;
    return 0;
}

static int looks_numeric(const char *s)
{
    const char *p = s;
    if (*p == '-' || *p == '+') p++;
    if (!*p) return 0;
    if (!strcasecmp(p, ".inf") || !strcasecmp(s, ".nan")) return 1;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) return 1;
    int digits = 0, dot = 0, exp = 0;
    for (; *p; p++) {
        if (isdigit((unsigned char)*p) || *p == '_') digits++;
        else if (*p == '.' && !dot && !exp) dot = 1;
        else if ((*p == 'e' || *p == 'E') && digits && !exp) {
            exp = 1;
            if (p[1] == '+' || p[1] == '-') p++;
        } else return 0;
    }
    return digits > 0;
}

/* Jackson's StringQuotingChecker plus what SnakeYAML itself refuses to write plain. */
static int needs_quotes(const char *s, size_t n)
{
    if (!n) return 1;
    if (reserved_word(s) || looks_numeric(s)) return 1;
    if (strchr("-?:,[]{}#&*!|>'\"%@` \t", s[0])) return 1;
    if (s[n - 1] == ' ' || s[n - 1] == ':' || s[n - 1] == '\t') return 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F) return 1;
        if (c == ':' && i + 1 < n && (s[i + 1] == ' ' || s[i + 1] == '\t')) return 1;
        if (c == '#' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t')) return 1;
    }
    return 0;
}

static void pad(kt_buf *b, int n)
{
    for (int i = 0; i < n; i++) kt_buf_putc(b, ' ');
}

static void write_quoted(kt_buf *b, const char *s, size_t n)
{
    kt_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': kt_buf_puts(b, "\\\""); break;
        case '\\': kt_buf_puts(b, "\\\\"); break;
        case '\n': kt_buf_puts(b, "\\n"); break;
        case '\t': kt_buf_puts(b, "\\t"); break;
        case '\r': kt_buf_puts(b, "\\r"); break;
        case 0: kt_buf_puts(b, "\\0"); break;
        default:
            if (c < 0x20 || c == 0x7F) kt_buf_printf(b, "\\x%02X", c);
            else kt_buf_putc(b, (char)c);
        }
    }
    kt_buf_putc(b, '"');
}

/* Writes a scalar after "key: " or "- "; multi-line strings become literal blocks at `indent`. */
static void write_scalar(kt_buf *b, const json_t *v, int indent)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (memchr(s, '\n', n) && !memchr(s, '\r', n)) {
            size_t trail = 0;
            while (trail < n && s[n - 1 - trail] == '\n') trail++;
            kt_buf_puts(b, trail == 0 ? "|-" : trail == 1 ? "|" : "|+");
            if (s[0] == ' ') kt_buf_putc(b, '2');
            kt_buf_putc(b, '\n');
            const char *p = s, *end = s + n - (trail ? trail : 0);
            while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *e = nl ? nl : end;
                if (e > p) pad(b, indent);
                kt_buf_put(b, p, (size_t)(e - p));
                kt_buf_putc(b, '\n');
                p = nl ? nl + 1 : end;
            }
            for (size_t i = 1; i < trail; i++) kt_buf_putc(b, '\n');
            return;
        }
        if (needs_quotes(s, n)) write_quoted(b, s, n);
        else kt_buf_put(b, s, n);
    } else {
        kt_json_write(b, v);
    }
    kt_buf_putc(b, '\n');
}

static void write_node(kt_buf *b, const json_t *v, int indent, int inline_first);

static int is_block(const json_t *v)
{
    return (json_is_object(v) && json_object_size(v)) || (json_is_array(v) && json_array_size(v));
}

static void write_key(kt_buf *b, const char *k)
{
    size_t n = strlen(k);
    if (needs_quotes(k, n) || memchr(k, '\n', n)) write_quoted(b, k, n);
    else kt_buf_put(b, k, n);
}

/* Maps: "key: value" at indent; lists: " - item" at indent + 1. inline_first means the first line
 * continues the current one (after "- "). */
static void write_node(kt_buf *b, const json_t *v, int indent, int inline_first)
{
    if (json_is_object(v) && json_object_size(v)) {
        const char *k;
        json_t *x;
        int first = 1;
        json_object_foreach((json_t *)v, k, x) {
            if (!(first && inline_first)) pad(b, indent);
            first = 0;
            write_key(b, k);
            kt_buf_putc(b, ':');
            if (is_block(x)) {
                kt_buf_putc(b, '\n');
                write_node(b, x, json_is_array(x) ? indent : indent + 2, 0);
            } else {
                kt_buf_putc(b, ' ');
                write_scalar(b, x, indent + 2);
            }
        }
    } else if (json_is_array(v) && json_array_size(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (!(i == 0 && inline_first)) pad(b, indent + 1);
            kt_buf_puts(b, "- ");
            if (is_block(x)) write_node(b, x, indent + 3, 1);
            else write_scalar(b, x, indent + 3);
        }
    } else {
        write_scalar(b, v, indent + 2);
    }
}

void kx_yaml_write(kt_buf *b, const json_t *v) { write_node(b, v, 0, 0); }

/* ---- parser ---- */

static json_t *resolve_plain(const char *s, size_t n)
{
    if (!n || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL")) return json_null();
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) return json_true();
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) return json_false();
    const char *p = s + (*s == '-' || *s == '+');
    if (*p && strspn(p, "0123456789") == strlen(p)) {
        errno = 0;
        long long v = strtoll(s, NULL, 10);
        if (!errno) return json_integer(v);
        return kx_real(strtod(s, NULL));
    }
    if (p[0] == '0' && p[1] == 'x' && p[2] && strspn(p + 2, "0123456789abcdefABCDEF") == strlen(p + 2))
        return json_integer((json_int_t)strtoll(s, NULL, 16));
    if (looks_numeric(s) && !strchr(s, '_') && strpbrk(s, "0123456789")) {
        char *end;
        double d = strtod(s, &end);
        if (!*end) return kx_real(d);
    }
    return kx_strn(s, n);
}

typedef struct yp {
    yaml_parser_t p;
    char *err;
    size_t errcap;
    int depth;
} yp;

static json_t *parse_node(yp *y, yaml_event_t *ev);

static int next(yp *y, yaml_event_t *ev)
{
    if (yaml_parser_parse(&y->p, ev)) return 0;
    snprintf(y->err, y->errcap, "%s at line %zu, column %zu", y->p.problem ? y->p.problem : "syntax error",
             y->p.problem_mark.line + 1, y->p.problem_mark.column + 1);
    return -1;
}

static json_t *parse_node(yp *y, yaml_event_t *ev)
{
    json_t *r = NULL;
    if (++y->depth > 200) {
        snprintf(y->err, y->errcap, "document nested too deeply");
        goto done;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        const char *s = (const char *)ev->data.scalar.value;
        size_t n = ev->data.scalar.length;
        r = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag ? resolve_plain(s, n) : kx_strn(s, n);
        break;
    }
    case YAML_SEQUENCE_START_EVENT:
        r = json_array();
        for (;;) {
            yaml_event_t e;
            if (next(y, &e)) goto fail;
            if (e.type == YAML_SEQUENCE_END_EVENT) {
                yaml_event_delete(&e);
                break;
            }
            json_t *x = parse_node(y, &e);
            yaml_event_delete(&e);
            if (!x) goto fail;
            json_array_append_new(r, x);
        }
        break;
    case YAML_MAPPING_START_EVENT:
        r = json_object();
        for (;;) {
            yaml_event_t k;
            if (next(y, &k)) goto fail;
            if (k.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&k);
                break;
            }
            json_t *key = parse_node(y, &k);
            yaml_event_delete(&k);
            if (!key) goto fail;
            yaml_event_t v;
            if (next(y, &v)) {
                json_decref(key);
                goto fail;
            }
            json_t *val = parse_node(y, &v);
            yaml_event_delete(&v);
            char *ks = val ? (json_is_string(key) ? strdup(json_string_value(key)) : kx_tostring_dup(key)) : NULL;
            json_decref(key);
            if (!ks) {
                json_decref(val);
                goto fail;
            }
            json_object_set_new(r, ks, val);
            free(ks);
        }
        break;
    case YAML_ALIAS_EVENT: snprintf(y->err, y->errcap, "aliases are not supported"); break;
    default: snprintf(y->err, y->errcap, "unexpected YAML event"); break;
    }
    goto done;
fail:
    json_decref(r);
    r = NULL;
done:
    y->depth--;
    return r;
}

json_t *kx_yaml_parse(const char *s, char *err, size_t errcap)
{
    yp y = {.err = err, .errcap = errcap};
    if (!yaml_parser_initialize(&y.p)) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&y.p, (const unsigned char *)s, strlen(s));
    json_t *r = NULL;
    for (;;) {
        yaml_event_t ev;
        if (next(&y, &ev)) break;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT || t == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&ev);
            if (!r) r = json_null();
            break;
        }
        if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        r = parse_node(&y, &ev);
        yaml_event_delete(&ev);
        if (!r) break;
        /* only the first document matters; trailing syntax errors would surface on the next event */
        yaml_event_t end;
        if (next(&y, &end)) {
            json_decref(r);
            r = NULL;
        } else {
            yaml_event_delete(&end);
        }
        break;
    }
    yaml_parser_delete(&y.p);
    return r;
}
