/* The jq subset's parser: a recursive descent over the program text into kq_node trees held in one arena.
 * Precedence, loosest first: `|`, `,`, `//`, `or`, `and`, comparisons, `+ -`, `* / %`, then terms with their
 * postfix paths (.a, .[0], .[], .[1:2], ?). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/jq/jq_int.h"

typedef struct jq {
    const char *s, *p;
    char *err;
    size_t errcap;
    int failed;
    kq_arena *ar;
    int depth;
} jq;

static void *perr(jq *q, const char *msg)
{
    if (!q->failed) snprintf(q->err, q->errcap, "%s at position %d", msg, (int)(q->p - q->s));
    q->failed = 1;
    return NULL;
}

void kq_arena_free(kq_arena *ar)
{
    for (size_t i = 0; i < ar->n; i++) {
        kq_node *n = ar->all[i];
        free(n->args);
        free(n->name);
        json_decref(n->lit);
        free(n);
    }
    free(ar->all);
}

static kq_node *mk(jq *q, int t)
{
    kq_arena *ar = q->ar;
    if (ar->n >= 1000) { /* jq programs in flows are tiny; this bounds evaluation depth */
        perr(q, "jq program too large");
        return NULL;
    }
    if (ar->n == ar->cap) {
        size_t cap = ar->cap ? ar->cap * 2 : 32;
        kq_node **a = realloc(ar->all, cap * sizeof *a);
        if (!a) {
            q->failed = 1;
            return NULL;
        }
        ar->all = a;
        ar->cap = cap;
    }
    kq_node *n = calloc(1, sizeof *n);
    if (!n) {
        q->failed = 1;
        return NULL;
    }
    n->t = t;
    ar->all[ar->n++] = n;
    return n;
}

static void ws(jq *q)
{
    while (isspace((unsigned char)*q->p)) q->p++;
}

static int eat(jq *q, const char *tok)
{
    ws(q);
    size_t l = strlen(tok);
    if (strncmp(q->p, tok, l)) return 0;
    if (isalpha((unsigned char)tok[l - 1]) && (isalnum((unsigned char)q->p[l]) || q->p[l] == '_')) return 0;
    q->p += l;
    return 1;
}

static char *ident(jq *q)
{
    ws(q);
    const char *s = q->p;
    if (!isalpha((unsigned char)*s) && *s != '_') return NULL;
    while (isalnum((unsigned char)*q->p) || *q->p == '_') q->p++;
    return strndup(s, (size_t)(q->p - s));
}

static kq_node *p_pipe(jq *q);

static json_t *p_string(jq *q)
{
    /* JSON string literal (no interpolation) */
    const char *s = q->p;
    if (*s != '"') return NULL;
    const char *e = s + 1;
    while (*e && *e != '"') e += (*e == '\\' && e[1]) ? 2 : 1;
    if (!*e) return NULL;
    json_t *v = json_loadb(s, (size_t)(e + 1 - s), JSON_DECODE_ANY, NULL);
    q->p = e + 1;
    return v;
}

static kq_node *postfix(jq *q, kq_node *n)
{
    for (;;) {
        ws(q);
        if (q->p[0] == '.' && (isalpha((unsigned char)q->p[1]) || q->p[1] == '_' || q->p[1] == '"')) {
            q->p++;
            kq_node *f = mk(q, J_FIELD);
            if (!f) break;
            f->a = n;
            if (*q->p == '"') {
                json_t *s = p_string(q);
                f->name = s ? strdup(json_string_value(s)) : NULL;
                json_decref(s);
            } else {
                f->name = ident(q);
            }
            n = f;
            if (!f->name) return perr(q, "bad field name");
            continue;
        }
        if (q->p[0] == '[' || (q->p[0] == '.' && q->p[1] == '[')) {
            if (q->p[0] == '.') q->p++;
            q->p++;
            ws(q);
            if (*q->p == ']') {
                q->p++;
                kq_node *it = mk(q, J_ITER);
                if (!it) break;
                it->a = n;
                n = it;
                continue;
            }
            kq_node *from = NULL, *to = NULL;
            if (*q->p != ':') from = p_pipe(q);
            ws(q);
            if (*q->p == ':') {
                q->p++;
                ws(q);
                if (*q->p != ']') to = p_pipe(q);
                kq_node *sl = mk(q, J_SLICE);
                if (!sl) break;
                sl->a = n;
                sl->b = from;
                sl->c = to;
                n = sl;
            } else {
                kq_node *ix = mk(q, J_INDEX);
                if (!ix) break;
                ix->a = n;
                ix->b = from;
                n = ix;
            }
            if (!eat(q, "]")) return perr(q, "expected ]");
            continue;
        }
        if (q->p[0] == '?') {
            q->p++;
            kq_node *t = mk(q, J_TRY);
            if (!t) break;
            t->a = n;
            n = t;
            continue;
        }
        break;
    }
    return n;
}

static kq_node *p_term_inner(jq *q);
static kq_node *p_term(jq *q)
{
    if (q->depth >= 200) return perr(q, "expression nested too deeply");
    q->depth++;
    kq_node *n = p_term_inner(q);
    q->depth--;
    return n;
}

/* {k: v, "k": v, (expr): v, k}: after the "{" */
static kq_node *p_object(jq *q)
{
    kq_node *n = mk(q, J_OBJECT);
    if (!n) return NULL;
    if (eat(q, "}")) return n;
    do {
        ws(q);
        kq_node *k = NULL, *v = NULL;
        int colon = 0;
        if (*q->p == '"') {
            k = mk(q, J_LIT);
            if (k) k->lit = p_string(q);
        } else if (*q->p == '(') {
            q->p++;
            k = p_pipe(q);
            if (!eat(q, ")")) return perr(q, "expected )");
        } else {
            char *id = ident(q);
            if (!id) return perr(q, "bad object key");
            k = mk(q, J_LIT);
            if (k) k->lit = json_string(id);
            colon = eat(q, ":");
            if (!colon) { /* {a} is {a: .a} */
                v = mk(q, J_FIELD);
                if (v) {
                    v->a = mk(q, J_IDENTITY);
                    v->name = id;
                    id = NULL;
                }
            }
            free(id);
        }
        if (!v) {
            if (!colon && !eat(q, ":")) return perr(q, "expected :");
            /* object values bind tighter than ',' */
            v = p_term(q);
        }
        kq_node **a = realloc(n->args, (size_t)(n->nargs + 2) * sizeof *a);
        if (a) n->args = a; /* the arena frees n->args, also when k or v failed to parse */
        if (!a || !k || !v) return perr(q, "out of memory");
        n->args[n->nargs++] = k;
        n->args[n->nargs++] = v;
    } while (eat(q, ","));
    if (!eat(q, "}")) return perr(q, "expected }");
    return n;
}

/* if c then a (elif c then a)* (else b)? end: after the "if" */
static kq_node *p_if(jq *q)
{
    kq_node *n = mk(q, J_IF);
    if (!n) return NULL;
    n->a = p_pipe(q);
    if (!eat(q, "then")) return perr(q, "expected then");
    n->b = p_pipe(q);
    kq_node *cur = n;
    while (eat(q, "elif")) {
        kq_node *e = mk(q, J_IF);
        if (!e) return NULL;
        cur->c = e;
        e->a = p_pipe(q);
        if (!eat(q, "then")) return perr(q, "expected then");
        e->b = p_pipe(q);
        cur = e;
    }
    if (eat(q, "else")) cur->c = p_pipe(q);
    if (!eat(q, "end")) return perr(q, "expected end");
    return n;
}

/* true, false, null, or a builtin call name(arg; arg...) */
static kq_node *p_name(jq *q)
{
    char *id = ident(q);
    kq_node *n;
    if (!strcmp(id, "true") || !strcmp(id, "false") || !strcmp(id, "null")) {
        n = mk(q, J_LIT);
        if (n) n->lit = !strcmp(id, "true") ? json_true() : !strcmp(id, "false") ? json_false() : json_null();
        free(id);
        return n;
    }
    n = mk(q, J_CALL);
    if (!n) {
        free(id);
        return NULL;
    }
    n->name = id;
    if (eat(q, "(")) {
        do {
            kq_node **a = realloc(n->args, (size_t)(n->nargs + 1) * sizeof *a);
            if (!a) return perr(q, "out of memory");
            n->args = a;
            n->args[n->nargs++] = p_pipe(q);
        } while (eat(q, ";"));
        if (!eat(q, ")")) return perr(q, "expected )");
    }
    return n;
}

static kq_node *p_term_inner(jq *q)
{
    ws(q);
    kq_node *n = NULL;
    const char *p = q->p;
    if (p[0] == '.' && p[1] == '.') {
        q->p += 2;
        n = mk(q, J_RECURSE);
    } else if (p[0] == '.') {
        q->p++;
        n = mk(q, J_IDENTITY);
        if (n && (isalpha((unsigned char)*q->p) || *q->p == '_' || *q->p == '"')) {
            q->p--; /* let postfix read ".name" */
        }
    } else if (isdigit((unsigned char)*p)) {
        char *e;
        double d = strtod(p, &e);
        q->p = e;
        n = mk(q, J_LIT);
        if (n) n->lit = d == floor(d) && fabs(d) < 9e15 ? json_integer((json_int_t)d) : kx_real(d);
    } else if (*p == '"') {
        n = mk(q, J_LIT);
        if (n && !(n->lit = p_string(q))) return perr(q, "bad string");
    } else if (*p == '(') {
        q->p++;
        n = p_pipe(q);
        if (!eat(q, ")")) return perr(q, "expected )");
    } else if (*p == '[') {
        q->p++;
        n = mk(q, J_ARRAY);
        if (n && !eat(q, "]")) {
            n->a = p_pipe(q);
            if (!eat(q, "]")) return perr(q, "expected ]");
        }
    } else if (*p == '{') {
        q->p++;
        n = p_object(q);
    } else if (*p == '-') {
        q->p++;
        n = mk(q, J_NEG);
        if (n) n->a = postfix(q, p_term(q));
    } else if (eat(q, "if")) {
        n = p_if(q);
    } else if (isalpha((unsigned char)*p) || *p == '_') {
        n = p_name(q);
    } else {
        return perr(q, "unexpected character");
    }
    if (!n) return NULL;
    return postfix(q, n);
}

static kq_node *bin(jq *q, int t, const char *op, kq_node *a, kq_node *b)
{
    kq_node *n = mk(q, t);
    if (!n) return NULL;
    snprintf(n->op, sizeof n->op, "%s", op);
    n->a = a;
    n->b = b;
    return n;
}

static kq_node *p_mul(jq *q)
{
    kq_node *a = p_term(q);
    for (;;) {
        ws(q);
        char c = *q->p;
        if (!a || (c != '*' && c != '/' && c != '%') || (c == '/' && q->p[1] == '/')) return a;
        q->p++;
        char op[2] = {c, 0};
        a = bin(q, J_BIN, op, a, p_term(q));
    }
}

static kq_node *p_add(jq *q)
{
    kq_node *a = p_mul(q);
    for (;;) {
        ws(q);
        char c = *q->p;
        if (!a || (c != '+' && c != '-')) return a;
        q->p++;
        char op[2] = {c, 0};
        a = bin(q, J_BIN, op, a, p_mul(q));
    }
}

static kq_node *p_cmp(jq *q)
{
    kq_node *a = p_add(q);
    static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">", NULL};
    for (int i = 0; a && ops[i]; i++)
        if (eat(q, ops[i])) return bin(q, J_BIN, ops[i], a, p_add(q));
    return a;
}

static kq_node *p_and(jq *q)
{
    kq_node *a = p_cmp(q);
    while (a && eat(q, "and")) a = bin(q, J_AND, "", a, p_cmp(q));
    return a;
}

static kq_node *p_or(jq *q)
{
    kq_node *a = p_and(q);
    while (a && eat(q, "or")) a = bin(q, J_OR, "", a, p_and(q));
    return a;
}

static kq_node *p_alt(jq *q)
{
    kq_node *a = p_or(q);
    if (a && eat(q, "//")) return bin(q, J_ALT, "", a, p_alt(q));
    return a;
}

static kq_node *p_comma(jq *q)
{
    kq_node *a = p_alt(q);
    while (a && eat(q, ",")) a = bin(q, J_COMMA, "", a, p_alt(q));
    return a;
}

static kq_node *p_pipe(jq *q)
{
    kq_node *a = p_comma(q);
    if (a && eat(q, "|")) return bin(q, J_PIPE, "", a, p_pipe(q));
    return a;
}

kq_node *kq_parse(const char *expr, kq_arena *arena, char *err, size_t errcap)
{
    jq q = {.s = expr, .p = expr, .err = err, .errcap = errcap, .ar = arena};
    kq_node *prog = p_pipe(&q);
    ws(&q);
    if (!q.failed && *q.p) perr(&q, "unexpected trailing input");
    return q.failed ? NULL : prog;
}
