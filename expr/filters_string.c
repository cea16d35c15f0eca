/* String filters (reference 3.4 and 6): case mapping, trim, abbreviate, split, replace and escapeChar, substrings,
 * startsWith/endsWith, indent/nindent, slugify. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "expr/filters.h"

/* ---- case mapping (Unicode subset: Latin-1, Latin Extended-A, Greek, Cyrillic) ---- */

static unsigned map_case(unsigned c, int upper)
{
    if (c < 0x80) return upper ? (unsigned)toupper((int)c) : (unsigned)tolower((int)c);
    if (upper) {
        if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 0x20;
        if (c == 0xFF) return 0x178;
        if (c >= 0x100 && c <= 0x17F) {
            if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c : c - 1;
            if (c == 0x131) return 'I';
            if (c == 0x17F) return 'S';
            if (c == 0x130 || c == 0x138 || c == 0x149 || c == 0x178) return c;
            return (c & 1) ? c - 1 : c;
        }
        if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 0x20;
        if (c == 0x3C2) return 0x3A3;
        if (c >= 0x430 && c <= 0x44F) return c - 0x20;
        if (c >= 0x450 && c <= 0x45F) return c - 0x50;
        return c;
    }
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 0x20;
    if (c == 0x178) return 0xFF;
    if (c >= 0x100 && c <= 0x17F) {
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
        if (c == 0x130) return 'i';
        if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;
        return (c & 1) ? c : c + 1;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 0x20;
    if (c >= 0x410 && c <= 0x42F) return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    return c;
}

static void enc(kt_buf *b, unsigned c)
{
    char t[4];
    if (c < 0x80) {
        kt_buf_putc(b, (char)c);
    } else if (c < 0x800) {
        t[0] = (char)(0xC0 | (c >> 6));
        t[1] = (char)(0x80 | (c & 0x3F));
        kt_buf_put(b, t, 2);
    } else if (c < 0x10000) {
        t[0] = (char)(0xE0 | (c >> 12));
        t[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        t[2] = (char)(0x80 | (c & 0x3F));
        kt_buf_put(b, t, 3);
    } else {
        t[0] = (char)(0xF0 | (c >> 18));
        t[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        t[3] = (char)(0x80 | (c & 0x3F));
        kt_buf_put(b, t, 4);
    }
}

/* mode: 0 lower, 1 upper, 2 capitalize (first non-space), 3 title (after whitespace) */
static json_t *recase(const char *s, size_t n, int mode)
{
    kt_buf b = {0};
    int at_start = 1;
    for (size_t i = 0; i < n;) {
        unsigned c;
        i += kx_utf8_dec(s + i, n - i, &c);
        int sp = c == ' ' || (c >= 9 && c <= 13);
        if (mode == 0 || mode == 1) {
            if (mode == 1 && c == 0xDF) {
                kt_buf_puts(&b, "SS");
                continue;
            }
            enc(&b, map_case(c, mode));
        } else if (mode == 2) {
            enc(&b, at_start && !sp ? map_case(c, 1) : c);
            if (!sp) at_start = 0;
        } else {
            enc(&b, at_start && !sp ? map_case(c, 1) : c);
            at_start = sp;
        }
    }
    return kx_take_str(&b);
}

KX_FILTER(kx_f_upper)
{
    if (json_is_null(in)) return json_null();
    json_t *s = kx_as_string(in), *r = recase(json_string_value(s), json_string_length(s), 1);
    json_decref(s);
    return r;
}

KX_FILTER(kx_f_lower)
{
    if (json_is_null(in)) return json_null();
    json_t *s = kx_as_string(in), *r = recase(json_string_value(s), json_string_length(s), 0);
    json_decref(s);
    return r;
}

KX_FILTER(kx_f_capitalize)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_string(in)) return kx_cast_err(env, n, in, "java.lang.String");
    return recase(json_string_value(in), json_string_length(in), 2);
}

KX_FILTER(kx_f_title)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_string(in)) return kx_cast_err(env, n, in, "java.lang.String");
    return recase(json_string_value(in), json_string_length(in), 3);
}

KX_FILTER(kx_f_trim)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_string(in)) return kx_cast_err(env, n, in, "java.lang.String");
    const char *s = json_string_value(in);
    size_t b = 0, e = json_string_length(in);
    while (b < e && (unsigned char)s[b] <= ' ') b++;
    while (e > b && (unsigned char)s[e - 1] <= ' ') e--;
    return kx_strn(s + b, e - b);
}

KX_FILTER(kx_f_abbreviate)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_string(in)) return kx_cast_err(env, n, in, "java.lang.String");
    if (!a[0] || !json_is_integer(a[0])) return kx_cast_err(env, n, a[0] ? a[0] : json_null(), "java.lang.Long");
    long long max = json_integer_value(a[0]);
    if (max < 0) return kx_fail(env, n, KX_E_PEBBLE, "Invalid argument to abbreviate filter; must be greater than zero");
    const char *s = json_string_value(in);
    size_t bl = json_string_length(in);
    long long len = kx_utf16_len(s, bl);
    if (len < max || len <= 3) return json_incref(in);
    long long keep = max <= 3 ? max : max - 3;
    size_t i = 0;
    for (long long k = 0; k < keep && i < bl; k++) {
        unsigned c;
        i += kx_utf8_dec(s + i, bl - i, &c);
    }
    kt_buf b = {0};
    kt_buf_put(&b, s, i);
    if (max > 3) kt_buf_puts(&b, "...");
    return kx_take_str(&b);
}

/* ---- regex helpers (Java regex syntax is close enough to PCRE2 for flows) ---- */

static pcre2_code *re_compile(kx_env *env, const kx_node *n, const char *pat, size_t len)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, len, PCRE2_UTF, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        kx_fail(env, n, KX_E_JAVA, "%s near index %zu\n%.*s", (const char *)msg, (size_t)eo, (int)len, pat);
    }
    return re;
}

/* Java String.split(regex, limit) */
static json_t *java_split(kx_env *env, const kx_node *n, const char *s, size_t len, const char *pat, long long limit)
{
    pcre2_code *re = re_compile(env, n, pat, strlen(pat));
    if (!re) return NULL;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    json_t *list = json_array();
    size_t index = 0, from = 0;
    int matched_any = 0;
    while (from <= len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)s, len, from, 0, md, NULL);
        if (rc < 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        from = me;
        if (ms == me) { /* an empty match: the next search starts one character later */
            unsigned c;
            from = me + (me < len ? kx_utf8_dec(s + me, len - me, &c) : 1);
        }
        if (limit <= 0 || (long long)json_array_size(list) < limit - 1) {
            if (index == 0 && ms == 0 && ms == me) continue; /* no leading empty string for a zero-width match */
            json_array_append_new(list, kx_strn(s + index, ms - index));
            index = me;
            matched_any = 1;
        } else {
            break;
        }
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    if (!matched_any) {
        json_array_clear(list);
        json_array_append_new(list, kx_strn(s, len));
        return list;
    }
    json_array_append_new(list, kx_strn(s + index, len - index));
    if (limit == 0)
        while (json_array_size(list) && !json_string_length(json_array_get(list, json_array_size(list) - 1)))
            json_array_remove(list, json_array_size(list) - 1);
    return list;
}

KX_FILTER(kx_f_split)
{
    if (json_is_null(in)) return json_null();
    if (!a[0] || json_is_null(a[0])) return kx_fail(env, n, KX_E_PEBBLE, "missing delimiter parameter in split filter");
    if (!json_is_string(in)) return kx_cast_err(env, n, in, "java.lang.String");
    json_t *d = kx_as_string(a[0]);
    long long limit = a[1] && json_is_number(a[1]) ? (long long)json_number_value(a[1]) : 0;
    json_t *r = java_split(env, n, json_string_value(in), json_string_length(in), json_string_value(d), limit);
    json_decref(d);
    return r;
}

/* Java Matcher.replaceAll with a Java replacement string ($1 groups, \ escapes) */
static json_t *regex_replace(kx_env *env, const kx_node *n, const char *s, size_t len, const char *pat, const char *rep)
{
    pcre2_code *re = re_compile(env, n, pat, strlen(pat));
    if (!re) return NULL;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    kt_buf b = {0};
    size_t from = 0, last = 0;
    while (from <= len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)s, len, from, 0, md, NULL);
        if (rc < 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        kt_buf_put(&b, s + last, ov[0] - last);
        for (const char *r = rep; *r; r++) {
            if (*r == '\\' && r[1]) {
                kt_buf_putc(&b, *++r);
            } else if (*r == '$' && isdigit((unsigned char)r[1])) {
                int g = 0;
                while (isdigit((unsigned char)r[1]) && g * 10 + (r[1] - '0') < rc) g = g * 10 + (*++r - '0');
                if (ov[2 * g] != PCRE2_UNSET) kt_buf_put(&b, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
            } else {
                kt_buf_putc(&b, *r);
            }
        }
        last = ov[1];
        from = ov[1];
        if (ov[0] == ov[1]) {
            if (from >= len) break;
            unsigned c;
            size_t l = kx_utf8_dec(s + from, len - from, &c);
            kt_buf_put(&b, s + from, l);
            from += l;
            last = from;
        }
    }
    if (last < len) kt_buf_put(&b, s + last, len - last);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return kx_take_str(&b);
}

static json_t *literal_replace(const char *s, size_t len, const char *x, size_t xl, const char *y)
{
    kt_buf b = {0};
    const char *p = s, *end = s + len;
    if (!xl) { /* Java replace("", y) inserts y between every char */
        kt_buf_puts(&b, y);
        for (size_t i = 0; i < len;) {
            unsigned c;
            size_t l = kx_utf8_dec(s + i, len - i, &c);
            kt_buf_put(&b, s + i, l);
            kt_buf_puts(&b, y);
            i += l;
        }
        return kx_take_str(&b);
    }
    for (;;) {
        const char *f = memmem(p, (size_t)(end - p), x, xl);
        if (!f) break;
        kt_buf_put(&b, p, (size_t)(f - p));
        kt_buf_puts(&b, y);
        p = f + xl;
    }
    kt_buf_put(&b, p, (size_t)(end - p));
    return kx_take_str(&b);
}

/* Kestra's replace and escapeChar walk lists and maps, turning every leaf into a string. */
typedef json_t *(*leaf_fn)(kx_env *env, const kx_node *n, json_t *s, void *ud);

static json_t *walk_leaves(kx_env *env, const kx_node *n, json_t *v, leaf_fn fn, void *ud)
{
    if (json_is_array(v)) {
        json_t *r = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            json_t *y = walk_leaves(env, n, x, fn, ud);
            if (!y) {
                json_decref(r);
                return NULL;
            }
            json_array_append_new(r, y);
        }
        return r;
    }
    if (json_is_object(v)) {
        json_t *r = json_object();
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            json_t *y = walk_leaves(env, n, x, fn, ud);
            if (!y) {
                json_decref(r);
                return NULL;
            }
            json_object_set_new(r, k, y);
        }
        return kx_hashmap_order(r, 16);
    }
    if (json_is_null(v)) return kx_fail(env, n, KX_E_JAVA, "java.lang.NullPointerException");
    json_t *s = kx_as_string(v), *r = fn(env, n, s, ud);
    json_decref(s);
    return r;
}

typedef struct repl_ud {
    json_t *pairs;
    int regexp;
} repl_ud;

static json_t *replace_leaf(kx_env *env, const kx_node *n, json_t *s, void *ud)
{
    repl_ud *u = ud;
    json_t *cur = json_incref(s);
    const char *k;
    json_t *v;
    json_object_foreach(u->pairs, k, v) {
        if (json_is_null(v)) {
            json_decref(cur);
            return kx_fail(env, n, KX_E_JAVA, "java.lang.NullPointerException");
        }
        char *rep = kx_tostring_dup(v);
        json_t *next = u->regexp ? regex_replace(env, n, json_string_value(cur), json_string_length(cur), k, rep)
                                 : literal_replace(json_string_value(cur), json_string_length(cur), k, strlen(k), rep);
        free(rep);
        json_decref(cur);
        if (!next) return NULL;
        cur = next;
    }
    return cur;
}

KX_FILTER(kx_f_replace)
{
    if (!a[0] || json_is_null(a[0])) return kx_fail(env, n, KX_E_PEBBLE, "The argument 'replace_pairs' is required.");
    if (!json_is_object(a[0])) return kx_cast_err(env, n, a[0], "java.util.Map");
    if (json_is_null(in)) return json_null();
    repl_ud u = {a[0], a[1] && json_is_true(a[1])};
    return walk_leaves(env, n, in, replace_leaf, &u);
}

static json_t *escape_leaf(kx_env *env, const kx_node *n, json_t *s, void *ud)
{
    int type = *(int *)ud;
    if (type == 0) return literal_replace(json_string_value(s), json_string_length(s), "'", 1, "\\'");
    if (type == 1) return literal_replace(json_string_value(s), json_string_length(s), "\"", 1, "\\\"");
    return literal_replace(json_string_value(s), json_string_length(s), "'", 1, "'\\''");
}

KX_FILTER(kx_f_escapechar)
{
    if (!a[0] || json_is_null(a[0])) return kx_fail(env, n, KX_E_PEBBLE, "The 'escapeChar' filter expects an argument 'type'.");
    char *t = kx_tostring_dup(a[0]);
    int type = !t ? -1 : !strcasecmp(t, "single") ? 0 : !strcasecmp(t, "double") ? 1 : !strcasecmp(t, "shell") ? 2 : -1;
    free(t);
    if (type < 0)
        return kx_fail(env, n, KX_E_PEBBLE, "The 'escapeChar' filter expects the value of 'type' to be either 'single', "
                                            "'double', or 'shell'.");
    if (json_is_null(in)) return json_null();
    return walk_leaves(env, n, in, escape_leaf, &type);
}

/* ---- substrings and predicates ---- */

static json_t *substr(kx_env *env, const kx_node *n, json_t *in, json_t *sepv, const char *name, int mode)
{
    if (!sepv) return kx_fail(env, n, KX_E_PEBBLE, "The '%s' filter expects an argument 'separator'.", name);
    if (json_is_null(in)) return json_null();
    json_t *iv = kx_as_string(in), *sv = kx_as_string(sepv), *r;
    const char *s = json_string_value(iv), *sep = json_string_value(sv);
    size_t len = json_string_length(iv), sl = json_string_length(sv);
    const char *f = NULL;
    if (!len) {
        r = json_incref(iv);
        goto done;
    }
    if (mode <= 1) {
        f = sl ? memmem(s, len, sep, sl) : NULL;
    } else if (sl) {
        for (const char *p = s; (p = memmem(p, (size_t)(s + len - p), sep, sl)) != NULL; p++) f = p;
    }
    switch (mode) {
    case 0: r = !sl ? json_string("") : f ? kx_strn(s, (size_t)(f - s)) : json_incref(iv); break;       /* before */
    case 1: r = !sl ? json_incref(iv) : f ? kx_strn(f + sl, (size_t)(s + len - f - sl)) : json_string(""); break;
    case 2: r = !sl || !f ? json_incref(iv) : kx_strn(s, (size_t)(f - s)); break;                       /* beforeLast */
    default: r = !sl || !f ? json_string("") : kx_strn(f + sl, (size_t)(s + len - f - sl)); break;       /* afterLast */
    }
done:
    json_decref(iv);
    json_decref(sv);
    return r;
}

KX_FILTER(kx_f_sub_before) { return substr(env, n, in, a[0], "substringBefore", 0); }
KX_FILTER(kx_f_sub_after) { return substr(env, n, in, a[0], "substringAfter", 1); }
KX_FILTER(kx_f_sub_before_last) { return substr(env, n, in, a[0], "substringBeforeLast", 2); }
KX_FILTER(kx_f_sub_after_last) { return substr(env, n, in, a[0], "substringAfterLast", 3); }

static json_t *starts_ends(kx_env *env, const kx_node *n, json_t *in, json_t *v, int ends)
{
    if (json_is_null(in) || !v || json_is_null(v)) return kx_fail(env, n, KX_E_JAVA, "java.lang.NullPointerException");
    json_t *s = kx_as_string(in), *x = kx_as_string(v);
    size_t l = json_string_length(s), xl = json_string_length(x);
    int r = xl <= l && !memcmp(json_string_value(s) + (ends ? l - xl : 0), json_string_value(x), xl);
    json_decref(s);
    json_decref(x);
    return json_boolean(r);
}

KX_FILTER(kx_f_starts) { return starts_ends(env, n, in, a[0], 0); }
KX_FILTER(kx_f_ends) { return starts_ends(env, n, in, a[0], 1); }

static json_t *indent(kx_env *env, const kx_node *n, json_t *in, json_t **a, int pre)
{
    const char *name = pre ? "nindent" : "indent";
    if (!a[0] || !json_is_integer(a[0]))
        return kx_fail(env, n, KX_E_PEBBLE, "The '%s' filter expects an integer as argument 'amount'.", name);
    long long amount = json_integer_value(a[0]);
    if (amount < 0)
        return kx_fail(env, n, KX_E_PEBBLE, "The '%s' filter expects a positive integer >=0 as argument 'amount'.", name);
    if (json_is_null(in)) return json_null();
    json_t *sv = kx_as_string(in);
    const char *s = json_string_value(sv);
    if (!*s) return sv;
    const char *sep = strstr(s, "\r\n") ? "\r\n" : strstr(s, "\n\r") ? "\n\r" : strchr(s, '\n') ? "\n" : strchr(s, '\r') ? "\r" : "\n";
    char *prefix = a[1] && !json_is_null(a[1]) ? kx_tostring_dup(a[1]) : strdup(" ");
    kt_buf ind = {0};
    kt_buf_puts(&ind, sep);
    for (long long i = 0; i < amount && i < 100000; i++) kt_buf_puts(&ind, prefix ? prefix : " ");
    free(prefix);
    char *repl = kt_buf_take(&ind);
    kt_buf src = {0};
    if (pre) kt_buf_puts(&src, sep);
    kt_buf_puts(&src, s);
    char *text = kt_buf_take(&src);
    json_t *r = literal_replace(text ? text : "", text ? strlen(text) : 0, sep, strlen(sep), repl ? repl : "");
    free(text);
    free(repl);
    json_decref(sv);
    return r;
}

KX_FILTER(kx_f_indent) { return indent(env, n, in, a, 0); }
KX_FILTER(kx_f_nindent) { return indent(env, n, in, a, 1); }

/* Unicode NFD then drop non [A-Za-z0-9_-]: accented Latin letters keep their base letter. */
static char base_letter(unsigned c)
{
    static const char l1[] = "AAAAAA.CEEEEIIII.NOOOOO..UUUUY..aaaaaa.ceeeeiiii.nooooo..uuuuy.y";
    static const char xa[] = "AaAaAaCcCcCcCcDd..EeEeEeEeEeGgGgGgGgHh..IiIiIiIiI...JjKk.LlLlLl....NnNnNn...OoOoOo..RrRrRrSsSsSsSsTtTt..UuUuUuUuUuUuWwYyYZzZzZz.";
    if (c >= 0xC0 && c <= 0xFF) return l1[c - 0xC0] == '.' ? 0 : l1[c - 0xC0];
    if (c >= 0x100 && c <= 0x17F) return xa[c - 0x100] == '.' ? 0 : xa[c - 0x100];
    return 0;
}

KX_FILTER(kx_f_slugify)
{
    if (json_is_null(in)) return json_null();
    json_t *sv = kx_as_string(in);
    const char *s = json_string_value(sv);
    size_t len = json_string_length(sv);
    kt_buf b = {0};
    for (size_t i = 0; i < len;) {
        unsigned c;
        i += kx_utf8_dec(s + i, len - i, &c);
        char o = 0;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == '_' || c == '-') o = '-';
        else if (c < 0x80 && isalnum((int)c)) o = (char)tolower((int)c);
        else o = base_letter(c) ? (char)tolower(base_letter(c)) : 0;
        if (!o) continue;
        if (o == '-' && b.len && b.p[b.len - 1] == '-') continue; /* collapse runs */
        kt_buf_putc(&b, o);
    }
    json_decref(sv);
    char *t = kt_buf_take(&b);
    if (!t) return json_string("");
    char *p = t;
    size_t l = strlen(p);
    if (l && p[0] == '-') {
        p++;
        l--;
    }
    if (l && p[l - 1] == '-') l--;
    json_t *r = kx_strn(p, l);
    free(t);
    return r;
}
