/* fromIon(): the Amazon Ion text values Kestra stores (Ion is a JSON superset): structs with symbol or
 * string field names, lists, s-expressions (as lists), strings (short and '''long'''), symbols (as
 * strings), ints (with _ and 0x), decimals and floats (as doubles), timestamps (as ISO strings),
 * typed nulls, annotations (dropped) and blobs/clobs (as their text). The first value is returned. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expr/expr.h"
#include "expr/expr_int.h"

typedef struct ion {
    const char *p, *end;
    char *err;
    size_t errcap;
    int depth;
} ion;

static void *ion_fail(ion *s, const char *what)
{
    if (!s->err[0]) snprintf(s->err, s->errcap, "%s", what);
    return NULL;
}

static void ion_ws(ion *s)
{
    for (;;) {
        while (s->p < s->end && isspace((unsigned char)*s->p)) s->p++;
        if (s->end - s->p >= 2 && s->p[0] == '/' && s->p[1] == '/') {
            while (s->p < s->end && *s->p != '\n') s->p++;
        } else if (s->end - s->p >= 2 && s->p[0] == '/' && s->p[1] == '*') {
            const char *e = strstr(s->p + 2, "*/");
            s->p = e ? e + 2 : s->end;
        } else {
            return;
        }
    }
}

/* A quoted run ("..." or '...'), JSON-style escapes, appended to b. */
static int ion_quoted(ion *s, char q, kt_buf *b)
{
    s->p++;
    while (s->p < s->end && *s->p != q) {
        char c = *s->p++;
        if (c != '\\') {
            kt_buf_putc(b, c);
            continue;
        }
        if (s->p >= s->end) return -1;
        c = *s->p++;
        switch (c) {
        case 'n': kt_buf_putc(b, '\n'); break;
        case 't': kt_buf_putc(b, '\t'); break;
        case 'r': kt_buf_putc(b, '\r'); break;
        case '0': kt_buf_putc(b, '\0'); break;
        case 'u':
        case 'x': {
            int len = c == 'u' ? 4 : 2;
            if (s->end - s->p < len) return -1;
            char hex[5] = {0};
            memcpy(hex, s->p, (size_t)len);
            unsigned cp = (unsigned)strtoul(hex, NULL, 16);
            s->p += len;
            char t[4];
            if (cp < 0x80) kt_buf_putc(b, (char)cp);
            else if (cp < 0x800) {
                t[0] = (char)(0xC0 | (cp >> 6));
                t[1] = (char)(0x80 | (cp & 0x3F));
                kt_buf_put(b, t, 2);
            } else {
                t[0] = (char)(0xE0 | (cp >> 12));
                t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                t[2] = (char)(0x80 | (cp & 0x3F));
                kt_buf_put(b, t, 3);
            }
            break;
        }
        case '\n': break;
        default: kt_buf_putc(b, c); break;
        }
    }
    if (s->p >= s->end) return -1;
    s->p++;
    return 0;
}

static json_t *take(kt_buf *b)
{
    char *t = kt_buf_take(b);
    json_t *r = kx_str(t ? t : "");
    free(t);
    return r;
}

static int sym_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '$'; }

static json_t *ion_value(ion *s);

static json_t *ion_scalar_word(ion *s)
{
    const char *st = s->p;
    int numeric = isdigit((unsigned char)*st) || ((*st == '-' || *st == '+') && s->p + 1 < s->end && isdigit((unsigned char)st[1]));
    /* timestamps and numbers may hold ':' '.' '-' '+'; symbols stop before "::" annotations */
    while (s->p < s->end && (sym_char(*s->p) || (numeric && strchr(".-+:", *s->p)) || (!numeric && strchr(".-+", *s->p))))
        s->p++;
    size_t n = (size_t)(s->p - st);
    char w[128];
    if (!n) return ion_fail(s, "unexpected character");
    snprintf(w, sizeof w, "%.*s", (int)(n < 127 ? n : 127), st);
    if (!strcmp(w, "null") || !strncmp(w, "null.", 5)) return json_null();
    if (!strcmp(w, "true")) return json_true();
    if (!strcmp(w, "false")) return json_false();
    if (!strcmp(w, "nan") || !strcmp(w, "+inf") || !strcmp(w, "-inf")) return kx_real(w[0] == 'n' ? NAN : w[0] == '+' ? INFINITY : -INFINITY);
    if (isdigit((unsigned char)w[0]) || ((w[0] == '-') && isdigit((unsigned char)w[1]))) {
        /* timestamps keep their text */
        if (strchr(w + 1, '-') && (strchr(w, 'T') || strlen(w) == 10 || w[strlen(w) - 1] == 'T')) return kx_strn(st, n);
        char num[128];
        size_t k = 0;
        for (size_t i = 0; w[i] && k < sizeof num - 1; i++)
            if (w[i] != '_') num[k++] = (w[i] == 'd' || w[i] == 'D') ? 'e' : w[i];
        num[k] = 0;
        char *e;
        errno = 0;
        if (!strpbrk(num, ".eE") || !strncasecmp(num + (num[0] == '-'), "0x", 2) || !strncasecmp(num + (num[0] == '-'), "0b", 2)) {
            int base = 10;
            const char *d = num + (num[0] == '-');
            if (!strncasecmp(d, "0x", 2)) base = 16;
            else if (!strncasecmp(d, "0b", 2)) base = 2;
            long long v = strtoll(base == 10 ? num : d + 2, &e, base);
            if (!*e && !errno) return json_integer(num[0] == '-' && base != 10 ? -v : v);
        }
        double d = strtod(num, &e);
        if (!*e) return kx_real(d);
        return ion_fail(s, "invalid number");
    }
    return kx_strn(st, n); /* a symbol */
}

static json_t *ion_value(ion *s)
{
    if (++s->depth > 200) return ion_fail(s, "nested too deeply");
    json_t *r = NULL;
    ion_ws(s);
    if (s->p >= s->end) {
        r = ion_fail(s, "No content to map due to end-of-input");
        goto done;
    }
    char c = *s->p;
    if (c == '{' && s->p + 1 < s->end && s->p[1] == '{') { /* blob / clob */
        const char *e = strstr(s->p + 2, "}}");
        if (!e) {
            r = ion_fail(s, "unterminated blob");
            goto done;
        }
        const char *b = s->p + 2;
        while (b < e && isspace((unsigned char)*b)) b++;
        const char *be = e;
        while (be > b && isspace((unsigned char)be[-1])) be--;
        r = kx_strn(b, (size_t)(be - b));
        s->p = e + 2;
    } else if (c == '{') {
        s->p++;
        r = json_object();
        for (;;) {
            ion_ws(s);
            if (s->p < s->end && *s->p == '}') {
                s->p++;
                break;
            }
            kt_buf kb = {0};
            if (s->p < s->end && (*s->p == '"' || *s->p == '\'')) {
                if (ion_quoted(s, *s->p, &kb)) {
                    free(kb.p);
                    goto fail;
                }
            } else {
                const char *st = s->p;
                while (s->p < s->end && sym_char(*s->p)) s->p++;
                if (s->p == st) goto fail;
                kt_buf_put(&kb, st, (size_t)(s->p - st));
            }
            char *key = kt_buf_take(&kb);
            ion_ws(s);
            if (!key || s->p >= s->end || *s->p != ':') {
                free(key);
                goto fail;
            }
            s->p++;
            json_t *v = ion_value(s);
            if (!v) {
                free(key);
                goto fail;
            }
            json_object_set_new(r, key, v);
            free(key);
            ion_ws(s);
            if (s->p < s->end && *s->p == ',') s->p++;
        }
    } else if (c == '[' || c == '(') {
        char close = c == '[' ? ']' : ')';
        s->p++;
        r = json_array();
        for (;;) {
            ion_ws(s);
            if (s->p < s->end && *s->p == close) {
                s->p++;
                break;
            }
            json_t *v = ion_value(s);
            if (!v) goto fail;
            json_array_append_new(r, v);
            ion_ws(s);
            if (s->p < s->end && *s->p == ',') s->p++;
        }
    } else if (c == '"') {
        kt_buf b = {0};
        if (ion_quoted(s, '"', &b)) {
            free(b.p);
            r = ion_fail(s, "unterminated string");
            goto done;
        }
        r = take(&b);
    } else if (c == '\'') {
        kt_buf b = {0};
        if (s->end - s->p >= 3 && !strncmp(s->p, "'''", 3)) { /* long strings concatenate */
            while (s->end - s->p >= 3 && !strncmp(s->p, "'''", 3)) {
                s->p += 3;
                const char *e = strstr(s->p, "'''");
                if (!e) {
                    free(b.p);
                    r = ion_fail(s, "unterminated long string");
                    goto done;
                }
                kt_buf_put(&b, s->p, (size_t)(e - s->p));
                s->p = e + 3;
                ion_ws(s);
            }
            r = take(&b);
        } else if (ion_quoted(s, '\'', &b)) {
            free(b.p);
            r = ion_fail(s, "unterminated symbol");
            goto done;
        } else {
            r = take(&b);
        }
    } else {
        r = ion_scalar_word(s);
    }
    /* annotation: `name::value` drops the name */
    ion_ws(s);
    if (r && json_is_string(r) && s->end - s->p >= 2 && s->p[0] == ':' && s->p[1] == ':') {
        s->p += 2;
        json_decref(r);
        r = ion_value(s);
    }
    goto done;
fail:
    json_decref(r);
    r = ion_fail(s, "Unexpected token");
done:
    s->depth--;
    return r;
}

json_t *kx_ion_parse(const char *text, size_t len, char *err, size_t errcap);
json_t *kx_ion_parse(const char *text, size_t len, char *err, size_t errcap)
{
    err[0] = 0;
    ion s = {.p = text, .end = text + len, .err = err, .errcap = errcap};
    return ion_value(&s);
}

json_t *kt_expr_ion_parse(const char *text, size_t len, char *err, size_t errcap)
{
    return kx_ion_parse(text, len, err, errcap);
}
