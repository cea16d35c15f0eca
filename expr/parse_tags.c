/* Pebble's parser, statements (reference 1.3): text, `{{ }}` prints and the tags Kestra keeps (if, for, set,
 * filter, macro, block), down to the expressions parse.c reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/parse.h"

static kx_node *parse_body(kx_parser *ps, const char *const *stops, const char **which);

static int expect_exec_end(kx_parser *ps) { return kx_p_expect(ps, KX_T_EXEC_END, NULL); }

/* The end of an if or a for whose body stopped at `which`: the else body up to `end` (into n->c) when which is
 * "else", then the end tag's closing %}. 0, or -1 with the error reported. */
static int parse_else_end(kx_parser *ps, kx_node *n, const char *which, const char *end)
{
    if (!strcmp(which, "else")) {
        const char *const stops[] = {end, NULL};
        if (expect_exec_end(ps) || !(n->c = parse_body(ps, stops, &which))) return -1;
    }
    return expect_exec_end(ps);
}

static kx_node *parse_if(kx_parser *ps, const kx_tok *tag)
{
    static const char *const stops[] = {"elseif", "else", "endif", NULL};
    kx_node *n = kx_p_node(ps, KX_N_IF, tag);
    if (!n) return NULL;
    const char *which = "elseif";
    while (!strcmp(which, "elseif")) {
        kx_node *cond = kx_parse_expr(ps, 0);
        if (!cond || expect_exec_end(ps)) {
            kx_node_free(cond);
            goto fail;
        }
        kx_node *body = parse_body(ps, stops, &which);
        if (!body) {
            kx_node_free(cond);
            goto fail;
        }
        if (kx_p_add_kid(ps, n, cond, body, NULL)) goto fail;
    }
    if (parse_else_end(ps, n, which, "endif")) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

/* The variable a `for` or a `set` assigns: a name that is not a reserved word, into n->s. 0, or -1 with the error
 * reported. */
static int parse_target(kx_parser *ps, kx_node *n)
{
    kx_tok *v = kx_p_cur(ps);
    if (v->type != KX_T_NAME) {
        kx_p_unexpected(ps, v, KX_T_NAME);
        return -1;
    }
    if (!(n->s = kx_p_tokdup(ps, v))) return -1;
    if (kx_p_reserved(n->s)) {
        kx_p_fail(ps, v, "Can not assign a value to %s", n->s);
        return -1;
    }
    ps->i++;
    return 0;
}

static kx_node *parse_for(kx_parser *ps, const kx_tok *tag)
{
    static const char *const stops[] = {"else", "endfor", NULL};
    kx_node *n = kx_p_node(ps, KX_N_FOR, tag);
    if (!n) return NULL;
    if (parse_target(ps, n)) goto fail;
    if (kx_p_expect(ps, KX_T_NAME, "in")) goto fail;
    const char *which;
    if (!(n->a = kx_parse_expr(ps, 0)) || expect_exec_end(ps) || !(n->b = parse_body(ps, stops, &which))) goto fail;
    if (parse_else_end(ps, n, which, "endfor")) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

static kx_node *parse_set(kx_parser *ps, const kx_tok *tag)
{
    kx_node *n = kx_p_node(ps, KX_N_SET, tag);
    if (!n) return NULL;
    if (parse_target(ps, n)) goto fail;
    if (kx_p_expect(ps, KX_T_PUNCT, "=") || !(n->a = kx_parse_expr(ps, 0)) || expect_exec_end(ps)) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

/* `{% filter upper | replace(...) %}`: a chain of filter invocations applied to a body placeholder. */
static kx_node *parse_filter_tag(kx_parser *ps, const kx_tok *tag)
{
    static const char *const stops[] = {"endfilter", NULL};
    kx_node *n = kx_p_node(ps, KX_N_FILTERBLK, tag);
    if (!n) return NULL;
    kx_node *chain = NULL; /* innermost input is NULL: the evaluator substitutes the body */
    for (;;) {
        kx_node *f = kx_parse_invocation(ps, KX_N_FILTER, chain, 0);
        if (!f) goto fail;
        chain = f;
        if (!kx_p_is(kx_p_cur(ps), KX_T_OP, "|")) break;
        ps->i++;
    }
    n->a = chain;
    const char *which;
    if (expect_exec_end(ps) || !(n->b = parse_body(ps, stops, &which)) || expect_exec_end(ps)) goto fail;
    return n;
fail:
    kx_node_free(n);
    return NULL;
}

static int add_named(kx_parser *ps, kx_node ***arr, int *cnt, kx_node *n)
{
    kx_node **a = realloc(*arr, (size_t)(*cnt + 1) * sizeof *a);
    if (!a) {
        kx_p_oom(ps);
        return -1;
    }
    a[(*cnt)++] = n;
    *arr = a;
    return 0;
}

static kx_node *parse_macro(kx_parser *ps, const kx_tok *tag)
{
    static const char *const stops[] = {"endmacro", NULL};
    kx_tok *nm = kx_p_cur(ps);
    if (nm->type != KX_T_NAME) return kx_p_unexpected(ps, nm, KX_T_NAME);
    kx_node *n = kx_p_node(ps, KX_N_MACRO, tag);
    if (!n || !(n->s = kx_p_tokdup(ps, nm))) goto fail;
    ps->i++;
    if (!kx_p_is(kx_p_cur(ps), KX_T_PUNCT, "(")) {
        kx_p_unexpected(ps, kx_p_cur(ps), KX_T_PUNCT);
        goto fail;
    }
    if (kx_parse_args(ps, n)) goto fail;
    for (int i = 0; i < n->nkids; i++) { /* parameters: `a` or `a = default` */
        if (n->names[i]) continue;
        if (n->kids[i]->type != KX_N_VAR) {
            kx_p_fail(ps, nm, "Macro parameters must be names");
            goto fail;
        }
        n->names[i] = n->kids[i]->s;
        n->kids[i]->s = NULL;
        kx_node_free(n->kids[i]);
        n->kids[i] = NULL;
    }
    const char *which;
    if (expect_exec_end(ps) || !(n->b = parse_body(ps, stops, &which))) goto fail;
    if (kx_p_cur(ps)->type == KX_T_NAME) ps->i++;
    if (expect_exec_end(ps)) goto fail;
    for (int i = 0; i < ps->tmpl->nmacros; i++)
        if (!strcmp(ps->tmpl->macros[i]->s, n->s)) {
            kx_p_fail(ps, nm, "More than one macro can not share the same name: %s", n->s);
            goto fail;
        }
    if (add_named(ps, &ps->tmpl->macros, &ps->tmpl->nmacros, n)) goto fail;
    return kx_p_node(ps, KX_N_BODY, tag); /* the definition prints nothing where it stands */
fail:
    kx_node_free(n);
    return NULL;
}

static kx_node *parse_block(kx_parser *ps, const kx_tok *tag)
{
    static const char *const stops[] = {"endblock", NULL};
    kx_tok *nm = kx_p_cur(ps);
    if (nm->type != KX_T_NAME && nm->type != KX_T_STRING) return kx_p_unexpected(ps, nm, KX_T_NAME);
    kx_node *n = kx_p_node(ps, KX_N_BLOCK, tag);
    if (!n || !(n->s = nm->str ? strdup(nm->str) : kx_p_tokdup(ps, nm))) goto fail;
    ps->i++;
    const char *which;
    if (expect_exec_end(ps) || !(n->b = parse_body(ps, stops, &which))) goto fail;
    if (kx_p_cur(ps)->type == KX_T_NAME || kx_p_cur(ps)->type == KX_T_STRING) ps->i++;
    if (expect_exec_end(ps)) goto fail;
    kx_node *ref = kx_p_node(ps, KX_N_BLOCK, tag); /* the tree keeps a reference node; the table owns n */
    if (!ref) goto fail;
    ref->s = strdup(n->s);
    if (!ref->s || add_named(ps, &ps->tmpl->blocks, &ps->tmpl->nblocks, n)) {
        kx_node_free(ref);
        goto fail;
    }
    return ref;
fail:
    kx_node_free(n);
    return NULL;
}

/* Parses statements until one of `stops` (tag names) is the next tag; sets *which to it, leaving the
 * token after the tag name current. stops == NULL parses to EOF. */
static kx_node *parse_body(kx_parser *ps, const char *const *stops, const char **which)
{
    if (ps->depth >= 256) return kx_p_fail(ps, kx_p_cur(ps), "Tags nested too deeply");
    kx_node *body = kx_p_node(ps, KX_N_BODY, kx_p_cur(ps));
    if (!body) return NULL;
    ps->depth++;
    for (;;) {
        kx_tok *k = kx_p_cur(ps);
        kx_node *st = NULL;
        if (k->type == KX_T_EOF) {
            if (!stops) {
                ps->depth--;
                return body;
            }
            if (!stops[1])
                kx_p_fail(ps, k, "Unexpected end of template. Pebble was looking for the \"%s\" tag", stops[0]);
            else if (!strcmp(stops[0], "elseif"))
                kx_p_fail(ps, k, "Unexpected end of template. Pebble was looking for the following tags \"else\", "
                             "\"elseif\", or \"endif\"");
            else
                kx_p_fail(ps, k, "Unexpected end of template. Pebble was looking for the \"%s\" tag", stops[1]);
            goto fail;
        }
        if (k->type == KX_T_TEXT) {
            st = kx_p_node(ps, KX_N_TEXT, k);
            if (st && !(st->s = malloc(k->n + 1))) { /* text may hold NUL bytes: copy by length */
                kx_node_free(st);
                st = NULL;
                kx_p_oom(ps);
            }
            if (st) {
                memcpy(st->s, k->p, k->n);
                st->s[k->n] = 0;
                st->slen = k->n;
            }
            ps->i++;
        } else if (k->type == KX_T_PRINT_START) {
            ps->i++;
            st = kx_p_node(ps, KX_N_PRINT, k);
            if (st && (!(st->a = kx_parse_expr(ps, 0)) || kx_p_expect(ps, KX_T_PRINT_END, NULL))) {
                kx_node_free(st);
                st = NULL;
            }
        } else if (k->type == KX_T_EXEC_START) {
            ps->i++;
            kx_tok *tag = kx_p_cur(ps);
            if (tag->type != KX_T_NAME) {
                kx_p_fail(ps, tag, "A block must start with a tag name.");
                goto fail;
            }
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)(tag->n < 31 ? tag->n : 31), tag->p);
            for (int i = 0; stops && stops[i]; i++)
                if (!strcmp(name, stops[i])) {
                    *which = stops[i];
                    ps->i++;
                    ps->depth--;
                    return body;
                }
            ps->i++;
            if (!strcmp(name, "if")) st = parse_if(ps, tag);
            else if (!strcmp(name, "for")) st = parse_for(ps, tag);
            else if (!strcmp(name, "set")) st = parse_set(ps, tag);
            else if (!strcmp(name, "filter")) st = parse_filter_tag(ps, tag);
            else if (!strcmp(name, "macro")) st = parse_macro(ps, tag);
            else if (!strcmp(name, "block")) st = parse_block(ps, tag);
            else {
                kx_p_fail(ps, tag, "Unexpected tag name \"%s\"", name);
                goto fail;
            }
        } else {
            kx_p_unexpected(ps, k, KX_T_EOF);
            goto fail;
        }
        if (kx_p_add_kid(ps, body, st, NULL, NULL)) goto fail;
    }
fail:
    ps->depth--;
    kx_node_free(body);
    return NULL;
}

kx_node *kx_parse_template(const char *src, size_t len, struct kt_tmpl *t, kx_err *err)
{
    kx_toks toks = {0};
    kx_node *root = NULL;
    if (kx_lex(src, len, 0, 1, 1, &toks, err)) goto done;
    kx_parser ps = {.t = toks.v, .n = toks.n, .err = err, .tmpl = t, .src = src};
    const char *which;
    root = parse_body(&ps, NULL, &which);
done:
    kx_toks_free(&toks);
    return root;
}
