/* Pebble's lexer as Kestra configures it (reference 1.2): DATA text, {{ }} / {% %} / {# #} regions,
 * whitespace-trim markers, verbatim, and Kestra's single-line {% raw %} blocks (kept as text here; the
 * renderer strips their tags from the output, which is what Kestra's UUID round-trip amounts to). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/lex.h"

typedef struct lexer {
    const char *src, *end;
    const char *cur;       /* position of the line/col cursor */
    int line, col;
    kx_toks *out;
    kx_err *err;
} lexer;

static int is_jspace(char c) /* Java \s */
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Moves the line/col cursor forward to p (tokens are produced in source order). */
static void locate(lexer *lx, const char *p, int *line, int *col)
{
    while (lx->cur < p) {
        if (*lx->cur == '\n') {
            lx->line++;
            lx->col = 1;
        } else if (((unsigned char)*lx->cur & 0xC0) != 0x80) {
            lx->col++;
        }
        lx->cur++;
    }
    *line = lx->line;
    *col = lx->col;
}

static int lex_fail(lexer *lx, const char *p, const char *fmt, const char *arg)
{
    locate(lx, p, &lx->err->line, &lx->err->col);
    lx->err->kind = KX_E_PARSE;
    snprintf(lx->err->msg, sizeof lx->err->msg, fmt, arg);
    return -1;
}

static int push(lexer *lx, int type, const char *p, size_t n, char *str)
{
    kx_toks *t = lx->out;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        kx_tok *v = realloc(t->v, cap * sizeof *v);
        if (!v) {
            free(str);
            lx->err->kind = KX_E_PARSE;
            snprintf(lx->err->msg, sizeof lx->err->msg, "out of memory");
            return -1;
        }
        t->v = v;
        t->cap = cap;
    }
    kx_tok *k = &t->v[t->n++];
    k->type = type;
    k->p = p;
    k->n = n;
    k->str = str;
    locate(lx, p, &k->line, &k->col);
    return 0;
}

void kx_toks_free(kx_toks *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->v[i].str);
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

const char *kx_tok_type_name(int type)
{
    static const char *names[] = {"TEXT", "PRINT_START", "PRINT_END", "EXECUTE_START", "EXECUTE_END", "NAME",
                                  "NUMBER", "LONG", "STRING", "STRING", "OPERATOR", "PUNCTUATION", "EOF"};
    return type >= 0 && type <= KX_T_EOF ? names[type] : "?";
}

/* Matches `{%-*\s*<word>\s*-*%}` at p; returns the end or NULL. */
static const char *match_tag(const char *p, const char *end, const char *word, int dashes_any)
{
    if (end - p < 2 || p[0] != '{' || p[1] != '%') return NULL;
    p += 2;
    if (dashes_any) {
        while (p < end && *p == '-') p++;
    } else if (p < end && *p == '-') {
        p++;
    }
    while (p < end && is_jspace(*p)) p++;
    size_t wl = strlen(word);
    if ((size_t)(end - p) < wl || memcmp(p, word, wl) != 0) return NULL;
    p += wl;
    while (p < end && is_jspace(*p)) p++;
    if (dashes_any) {
        while (p < end && *p == '-') p++;
    } else if (p < end && *p == '-') {
        p++;
    }
    if (end - p < 2 || p[0] != '%' || p[1] != '}') return NULL;
    return p + 2;
}

/* Kestra's raw regex `\{%-*\s*raw\s*-*%}(.*?)\{%-*\s*endraw\s*-*%}` ('.' excludes line breaks).
 * Returns the end of the whole match, or NULL. Shared with the output post-processing. */
const char *kx_raw_match(const char *p, const char *end, const char **inner, const char **inner_end);
const char *kx_raw_match(const char *p, const char *end, const char **inner, const char **inner_end)
{
    const char *q = match_tag(p, end, "raw", 1);
    if (!q) return NULL;
    for (const char *s = q; s < end; s++) {
        if (*s == '\n' || *s == '\r') return NULL;
        if (*s == '{') {
            const char *e = match_tag(s, end, "endraw", 1);
            if (e) {
                if (inner) *inner = q;
                if (inner_end) *inner_end = s;
                return e;
            }
        }
    }
    return NULL;
}

static void rtrim_last_text(lexer *lx)
{
    if (!lx->out->n) return;
    kx_tok *t = &lx->out->v[lx->out->n - 1];
    if (t->type != KX_T_TEXT) return;
    while (t->n && is_jspace(t->p[t->n - 1])) t->n--;
    if (!t->n) lx->out->n--;
}

static int emit_text(lexer *lx, const char *p, const char *e, int ltrim)
{
    if (ltrim)
        while (p < e && is_jspace(*p)) p++;
    if (p == e) return 0;
    return push(lx, KX_T_TEXT, p, (size_t)(e - p), NULL);
}

static const char *const k_ops[] = {"contains", "is not", "equals", "???", "and", "not", "??", "is", "or",
                                    "==", "!=", "<=", ">=", "..", "<", ">", "+", "-", "*", "/", "%", "|", "~",
                                    NULL};

static int is_name_start(unsigned char c) { return isalpha(c) || c == '_' || c >= 0x80; }
static int is_name_char(unsigned char c) { return isalnum(c) || c == '_' || c >= 0x80; }

/* Scans a double-quoted string starting after the quote; returns the closing quote or NULL.
 * *hash is set when the string contains '#', which makes it an interpolating string. */
static const char *scan_dq(const char *p, const char *end, int *hash)
{
    *hash = 0;
    int depth = 0; /* inside #{ } */
    while (p < end) {
        char c = *p;
        if (depth == 0) {
            if (c == '\\' && p + 1 < end) {
                p += 2;
                continue;
            }
            if (c == '"') return p;
            if (c == '#') {
                *hash = 1;
                if (p + 1 < end && p[1] == '{') {
                    depth = 1;
                    p += 2;
                    continue;
                }
            }
        } else {
            if (c == '\'' || c == '"') { /* a string inside an interpolation */
                char q = c;
                p++;
                while (p < end && *p != q) p += (*p == '\\' && p + 1 < end) ? 2 : 1;
                if (p >= end) return NULL;
            } else if (c == '{') {
                depth++;
            } else if (c == '}') {
                depth--;
            }
        }
        p++;
    }
    return NULL;
}

static char *unescape(const char *p, size_t n, char q)
{
    char *s = malloc(n + 1), *o = s;
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n && p[i + 1] == q) {
            *o++ = q;
            i++;
        } else {
            *o++ = p[i];
        }
    }
    *o = 0;
    return s;
}

/* The token readers of an expression region, in the order Pebble tries them. Each returns 1 with *pp past the
 * token when the text at *pp is of its kind, 0 when it is not, -1 on an error (recorded in lx->err). */

/* 1. operators; a word operator must not run into a name ("ornament" is a name) */
static int lex_op(lexer *lx, const char **pp)
{
    const char *p = *pp;
    size_t rest = (size_t)(lx->end - p);
    for (int i = 0; k_ops[i]; i++) {
        size_t ol = strlen(k_ops[i]);
        if (rest < ol || memcmp(p, k_ops[i], ol) != 0) continue;
        if (isalpha((unsigned char)k_ops[i][ol - 1]) && rest > ol && is_name_char((unsigned char)p[ol]) &&
            (unsigned char)p[ol] < 0x80)
            continue;
        if (push(lx, KX_T_OP, p, ol, NULL)) return -1;
        *pp = p + ol;
        return 1;
    }
    return 0;
}

/* 2. names */
static int lex_name(lexer *lx, const char **pp)
{
    const char *s = *pp, *p = s;
    if (!is_name_start((unsigned char)*p)) return 0;
    while (p < lx->end && is_name_char((unsigned char)*p)) p++;
    if (push(lx, KX_T_NAME, s, (size_t)(p - s), NULL)) return -1;
    *pp = p;
    return 1;
}

/* 3./4. numbers: 12, 1.5, and 12L (a Long; the L is not part of the token) */
static int lex_number(lexer *lx, const char **pp)
{
    const char *s = *pp, *p = s;
    if (!isdigit((unsigned char)*p)) return 0;
    while (p < lx->end && isdigit((unsigned char)*p)) p++;
    if (p < lx->end && *p == 'L') {
        if (push(lx, KX_T_LONG, s, (size_t)(p - s), NULL)) return -1;
        *pp = p + 1;
        return 1;
    }
    if (p + 1 < lx->end && *p == '.' && isdigit((unsigned char)p[1])) {
        p++;
        while (p < lx->end && isdigit((unsigned char)*p)) p++;
    }
    if (push(lx, KX_T_NUMBER, s, (size_t)(p - s), NULL)) return -1;
    *pp = p;
    return 1;
}

/* The brackets open in the current region, innermost last. */
typedef struct brackets {
    char v[256];
    int n;
} brackets;

/* 5. punctuation, checking that brackets pair up */
static int lex_punct(lexer *lx, const char **pp, brackets *br)
{
    const char *p = *pp;
    char c = *p;
    if (!strchr("()[]{}?:.,|=", c)) return 0;
    if (c == '(' || c == '[' || c == '{') {
        if (br->n == (int)sizeof br->v) return lex_fail(lx, p, "%s", "Too deeply nested brackets");
        br->v[br->n++] = c;
    } else if (c == ')' || c == ']' || c == '}') {
        char b[2] = {c, 0};
        if (!br->n) return lex_fail(lx, p, "Unexpected \"%s\"", b);
        char open = br->v[--br->n];
        char want = open == '(' ? ')' : open == '[' ? ']' : '}';
        if (want != c) {
            b[0] = want;
            return lex_fail(lx, p, "Unclosed \"%s\"", b);
        }
    }
    if (push(lx, KX_T_PUNCT, p, 1, NULL)) return -1;
    *pp = p + 1;
    return 1;
}

/* 6./7. strings: 'single' and "double"; a double-quoted one holding '#' interpolates */
static int lex_string(lexer *lx, const char **pp)
{
    const char *p = *pp, *s = p + 1, *q;
    if (*p == '\'') {
        q = s;
        while (q < lx->end && *q != '\'') q += (*q == '\\' && q + 1 < lx->end) ? 2 : 1;
        if (q >= lx->end) return lex_fail(lx, p, "Unexpected character [%s]", "'");
        char *v = unescape(s, (size_t)(q - s), '\'');
        if (!v || push(lx, KX_T_STRING, p, (size_t)(q + 1 - p), v)) return -1;
    } else if (*p == '"') {
        int hash;
        if (!(q = scan_dq(s, lx->end, &hash))) return lex_fail(lx, p, "Unexpected character [%s]", "\"");
        char *v = hash ? strndup(s, (size_t)(q - s)) : unescape(s, (size_t)(q - s), '"');
        if (!v || push(lx, hash ? KX_T_ISTRING : KX_T_STRING, p, (size_t)(q + 1 - p), v)) return -1;
    } else {
        return 0;
    }
    *pp = q + 1;
    return 1;
}

/* The closing delimiter (close = "}}" / "%}", with an optional trim dash) at p: 1 with *pp after it, else 0. */
static int lex_close(lexer *lx, const char **pp, const char *close, int *trim_next)
{
    const char *p = *pp, *q = p;
    int dash = 0;
    if (q < lx->end && *q == '-') {
        q++;
        dash = 1;
    }
    if (lx->end - q < 2 || q[0] != close[0] || q[1] != close[1]) return 0;
    if (push(lx, close[0] == '}' ? KX_T_PRINT_END : KX_T_EXEC_END, p, (size_t)(q + 2 - p), NULL)) return -1;
    *trim_next = dash;
    *pp = q + 2;
    return 1;
}

/* Lexes one expression region; stops after the closing delimiter (close = "}}" / "%}") or at end when
 * close is NULL. Returns the position after the region, or NULL on error. */
static const char *lex_expr(lexer *lx, const char *p, const char *close, int *trim_next)
{
    brackets br = {.n = 0};
    *trim_next = 0;
    for (;;) {
        while (p < lx->end && is_jspace(*p)) p++;
        if (close && br.n == 0) {
            int r = lex_close(lx, &p, close, trim_next);
            if (r) return r < 0 ? NULL : p;
        }
        if (p >= lx->end) {
            if (br.n) {
                char b[2] = {br.v[br.n - 1], 0};
                lex_fail(lx, p, "Unclosed \"%s\"", b);
                return NULL;
            }
            return p;
        }
        int r = lex_op(lx, &p);
        if (!r) r = lex_name(lx, &p);
        if (!r) r = lex_number(lx, &p);
        if (!r) r = lex_punct(lx, &p, &br);
        if (!r) r = lex_string(lx, &p);
        if (r < 0) return NULL;
        if (r) continue;
        char b[8];
        size_t cl = 1;
        if ((unsigned char)*p >= 0x80)
            while (cl < 4 && p + cl < lx->end && ((unsigned char)p[cl] & 0xC0) == 0x80) cl++;
        memcpy(b, p, cl);
        b[cl] = 0;
        lex_fail(lx, p, "Unexpected character [%s]", b);
        return NULL;
    }
}

/* `{{-`/`{%-`/`{#-` is a trim marker only when whitespace follows the dash. */
static const char *open_trim(const char *p, const char *end, int *trim)
{
    *trim = 0;
    if (p < end && *p == '-' && p + 1 < end && is_jspace(p[1])) {
        *trim = 1;
        p++;
        while (p < end && is_jspace(*p)) p++;
    }
    return p;
}

int kx_lex(const char *src, size_t len, int expr_only, int line, int col, kx_toks *out, kx_err *err)
{
    lexer lx = {.src = src, .end = src + len, .cur = src, .line = line, .col = col, .out = out, .err = err};
    const char *p = src;
    int ltrim = 0, trim;
    if (expr_only) {
        if (!lex_expr(&lx, p, NULL, &trim)) return -1;
        return push(&lx, KX_T_EOF, lx.end, 0, NULL);
    }
    while (p < lx.end) {
        /* find the earliest opener, treating single-line raw blocks as text */
        const char *o = p;
        for (; o + 1 < lx.end; o++) {
            if (o[0] != '{' || (o[1] != '{' && o[1] != '%' && o[1] != '#')) continue;
            if (o[1] == '%') {
                const char *re = kx_raw_match(o, lx.end, NULL, NULL);
                if (re) {
                    o = re - 1;
                    continue;
                }
            }
            break;
        }
        if (o + 1 >= lx.end) {
            if (emit_text(&lx, p, lx.end, ltrim)) return -1;
            break;
        }
        const char *body = open_trim(o + 2, lx.end, &trim);
        if (o[1] == '#') {
            /* a comment's trim marker is "whitespace then - then #}" inside the comment */
            const char *q = o + 2, *ce = NULL;
            for (; q + 1 < lx.end; q++)
                if (q[0] == '#' && q[1] == '}') {
                    ce = q;
                    break;
                }
            if (!ce) return lex_fail(&lx, o, "%s", "Unclosed comment.");
            if (emit_text(&lx, p, o, ltrim)) return -1;
            if (trim) rtrim_last_text(&lx);
            ltrim = ce - (o + 2) >= 2 && ce[-1] == '-' && is_jspace(ce[-2]);
            p = ce + 2;
            continue;
        }
        if (emit_text(&lx, p, o, ltrim)) return -1;
        if (trim) rtrim_last_text(&lx);
        ltrim = 0;
        if (o[1] == '%') {
            const char *q = body;
            while (q < lx.end && is_jspace(*q)) q++;
            if (lx.end - q >= 8 && memcmp(q, "verbatim", 8) == 0) {
                q += 8;
                while (q < lx.end && is_jspace(*q)) q++;
                if (q < lx.end && *q == '-') q++;
                if (lx.end - q >= 2 && q[0] == '%' && q[1] == '}') {
                    const char *s = q + 2, *e = NULL, *after = NULL;
                    for (const char *r = s; r + 1 < lx.end; r++)
                        if (r[0] == '{' && r[1] == '%' && (after = match_tag(r, lx.end, "endverbatim", 0))) {
                            e = r;
                            break;
                        }
                    if (!e) return lex_fail(&lx, o, "%s", "Unclosed verbatim tag.");
                    if (e > s && push(&lx, KX_T_TEXT, s, (size_t)(e - s), NULL)) return -1;
                    p = after;
                    continue;
                }
            }
        }
        if (push(&lx, o[1] == '{' ? KX_T_PRINT_START : KX_T_EXEC_START, o, (size_t)(body - o), NULL)) return -1;
        p = lex_expr(&lx, body, o[1] == '{' ? "}}" : "%}", &ltrim);
        if (!p) return -1;
    }
    return push(&lx, KX_T_EOF, lx.end, 0, NULL);
}
