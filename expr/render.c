/* Statements and the public API: compile once, render many times (reference 1.3, 2.1-2.6). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/secrets.h"
#include "expr/expr_int.h"

/* ---- output ---- */

static int emit_value(kx_env *env, const kx_node *n, kt_buf *out, json_t *v)
{
    if (out == env->typed_out) {
        /* Kestra's TypedObjectWriter: the first write sets the value, later ones may only extend a String */
        if (json_is_null(v)) return 0;
        if (!env->typed_set) {
            env->typed_val = json_incref(v);
            env->typed_set = 1;
            return 0;
        }
        kx_fail(env, n, KX_E_TYPED, "Tried to add %s to %s", kx_java_class(v), kx_java_class(env->typed_val));
        return -1;
    }
    if (env->plain && (json_is_object(v) || json_is_array(v))) kx_tostring(out, v);
    else kx_print(out, v);
    return 0;
}

static int emit_text(kx_env *env, const kx_node *n, kt_buf *out, const char *s, size_t len)
{
    if (out == env->typed_out) {
        if (!env->typed_set) {
            env->typed_val = json_stringn(s, len);
            env->typed_set = 1;
            return 0;
        }
        if (!json_is_string(env->typed_val)) {
            kx_fail(env, n, KX_E_TYPED, "Tried to add java.lang.Character to %s", kx_java_class(env->typed_val));
            return -1;
        }
        kt_buf b = {0};
        kt_buf_put(&b, json_string_value(env->typed_val), json_string_length(env->typed_val));
        kt_buf_put(&b, s, len);
        char *t = kt_buf_take(&b);
        json_decref(env->typed_val);
        env->typed_val = kx_str(t ? t : "");
        free(t);
        return 0;
    }
    kt_buf_put(out, s, len);
    return 0;
}

/* ---- statements ---- */

static int exec_if(kx_env *env, const kx_node *n, kt_buf *out)
{
    for (int i = 0; i < n->nkids; i++) {
        json_t *c = kx_eval(env, n->kids[i]);
        int t = 0;
        if (!c || kx_truthy(env, n, c, &t, "if statement")) {
            json_decref(c);
            /* Pebble re-wraps every failure of an if condition */
            kx_fail(env, n->kids[i], KX_E_PEBBLE, "Wrong operand(s) type in conditional expression");
            return -1;
        }
        json_decref(c);
        if (t) return kx_exec_body(env, n->kids2[i], out);
    }
    return n->c ? kx_exec_body(env, n->c, out) : 0;
}

static int exec_for(kx_env *env, const kx_node *n, kt_buf *out)
{
    json_t *it = kx_eval(env, n->a);
    if (!it) return -1;
    int rc = 0;
    json_t *items = NULL;
    if (json_is_null(it)) goto done;
    if (json_is_array(it)) {
        items = json_incref(it);
    } else if (json_is_object(it)) {
        items = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(it, k, v) json_array_append_new(items, json_pack("{s:s,s:O}", "key", k, "value", v));
    } else {
        char *s = kx_tostring_dup(it);
        kx_fail(env, n->a, KX_E_PEBBLE, "Not an iterable object. Value = [%s]", s ? s : "");
        free(s);
        rc = -1;
        goto done;
    }
    size_t len = json_array_size(items);
    if (!len) {
        if (n->c) rc = kx_exec_body(env, n->c, out);
        goto done;
    }
    if (env->nscopes >= KX_MAX_SCOPES) {
        kx_fail(env, n, KX_E_PEBBLE, "Too many nested scopes");
        rc = -1;
        goto done;
    }
    json_t *scope = json_object();
    env->scopes[env->nscopes++] = scope;
    for (size_t i = 0; i < len && !rc; i++) {
        json_t *loop = json_pack("{s:I,s:I,s:b,s:b,s:I}", "index", (json_int_t)i, "revindex", (json_int_t)(len - i - 1),
                                 "first", i == 0, "last", i == len - 1, "length", (json_int_t)len);
        json_object_set_new(scope, "loop", loop);
        json_object_set(scope, n->s, json_array_get(items, i));
        rc = kx_exec_body(env, n->b, out);
    }
    env->nscopes--;
    json_decref(scope);
done:
    json_decref(items);
    json_decref(it);
    return rc;
}

static int exec_set(kx_env *env, const kx_node *n)
{
    json_t *v = kx_eval(env, n->a);
    if (!v) return -1;
    json_t *target = env->scopes[env->nscopes - 1];
    for (int i = env->nscopes - 1; i >= 0; i--)
        if (json_object_get(env->scopes[i], n->s)) {
            target = env->scopes[i];
            break;
        }
    json_object_set_new(target, n->s, v);
    json_decref(env->merged);
    env->merged = NULL;
    return 0;
}

static json_t *apply_chain(kx_env *env, const kx_node *f, json_t *body)
{
    json_t *in = f->a ? apply_chain(env, f->a, body) : json_incref(body);
    return in ? kx_apply_filter(env, f, in) : NULL;
}

static int exec_filterblk(kx_env *env, const kx_node *n, kt_buf *out)
{
    kt_buf b = {0};
    int plain = env->plain;
    env->plain = 1; /* the body prints to a plain string buffer (Java toString forms) */
    int rc = kx_exec_body(env, n->b, &b);
    env->plain = plain;
    char *s = kt_buf_take(&b);
    if (rc) {
        free(s);
        return -1;
    }
    json_t *body = kx_str(s ? s : "");
    free(s);
    json_t *r = apply_chain(env, n->a, body);
    json_decref(body);
    if (!r) return -1;
    rc = emit_value(env, n, out, r);
    json_decref(r);
    return rc;
}

int kx_exec_body(kx_env *env, const kx_node *n, kt_buf *out)
{
    for (int i = 0; i < n->nkids; i++) {
        const kx_node *s = n->kids[i];
        int rc = 0;
        switch (s->type) {
        case KX_N_TEXT: rc = emit_text(env, s, out, s->s, s->slen); break;
        case KX_N_PRINT: {
            json_t *v = kx_eval(env, s->a);
            rc = v ? emit_value(env, s, out, v) : -1;
            json_decref(v);
            break;
        }
        case KX_N_IF: rc = exec_if(env, s, out); break;
        case KX_N_FOR: rc = exec_for(env, s, out); break;
        case KX_N_SET: rc = exec_set(env, s); break;
        case KX_N_FILTERBLK: rc = exec_filterblk(env, s, out); break;
        case KX_N_BODY: rc = kx_exec_body(env, s, out); break;
        case KX_N_BLOCK:
            for (int k = 0; k < env->tmpl->nblocks; k++)
                if (!strcmp(env->tmpl->blocks[k]->s, s->s)) {
                    rc = kx_exec_body(env, env->tmpl->blocks[k]->b, out);
                    break;
                }
            break;
        default: break;
        }
        if (rc) return -1;
    }
    return 0;
}

/* ---- errors ---- */

/* Copies text into message, the secrets the render obtained masked first (a template made at run time by render()
 * may hold one), then cut at a UTF-8 boundary when it does not fit. */
static void set_message(kt_expr_error *out, kt_buf *b, const kt_env *ambient)
{
    kt_mask_copy(out->message, sizeof out->message, b->p ? b->p : "", b->p ? b->len : 0,
                 ambient ? ambient->secrets_used : NULL);
    free(b->p);
}

void kx_format_error(const kx_err *e, const char *src, const kt_env *ambient, kt_expr_error *out)
{
    if (!out) return;
    out->line = e->line > 0 ? e->line : 0;
    out->col = e->col > 0 ? e->col : 0;
    kt_buf b = {0};
    switch (e->kind) {
    case KX_E_NOTFOUND:
        kt_buf_printf(&b, "Unable to find `%s` used in the expression `%s` at line %d", e->name, src, e->line);
        break;
    case KX_E_PEBBLE:
    case KX_E_PARSE: {
        const char *cls = e->kind == KX_E_PARSE ? "ParserException" : "PebbleException";
        if (e->line < 0) kt_buf_printf(&b, "io.pebbletemplates.pebble.error.%s: %s (?:?)", cls, e->msg);
        else kt_buf_printf(&b, "io.pebbletemplates.pebble.error.%s: %s (%s:%d)", cls, e->msg, src, e->line);
        break;
    }
    default: kt_buf_puts(&b, e->msg); break;
    }
    set_message(out, &b, ambient);
}

/* ---- raw blocks ---- */

/* Kestra's last step: every single-line `{% raw %}x{% endraw %}` left in the output becomes `x`. */
static char *strip_raw(char *s, size_t *len)
{
    if (!memmem(s, *len, "raw", 3)) return s;
    kt_buf b = {0};
    const char *p = s, *end = s + *len, *run = s;
    while ((p = memchr(p, '{', (size_t)(end - p))) != NULL) {
        const char *in, *in_end, *e = kx_raw_match(p, end, &in, &in_end);
        if (!e) {
            p++;
            continue;
        }
        kt_buf_put(&b, run, (size_t)(p - run));
        kt_buf_put(&b, in, (size_t)(in_end - in));
        p = run = e;
    }
    if (run == s) {
        free(b.p);
        return s;
    }
    kt_buf_put(&b, run, (size_t)(end - run));
    size_t n = b.len; /* the text may hold NUL bytes: keep the length, never strlen */
    char *r = kt_buf_take(&b);
    if (!r) return s;
    free(s);
    *len = n;
    return r;
}

/* ---- public API ---- */

int kt_expr_is_template(const char *s)
{
    if (!s) return 0;
    for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{'))
        if (p[1] == '{' || p[1] == '%') return 1;
    return 0;
}

/* Offset of the first byte that breaks UTF-8 (overlongs and surrogates included; NUL is a character), or len. Templates
 * come from YAML or JSON, which are UTF-8; anything else arriving through the API is refused up front so that
 * every rendered string is a valid JSON string. */
static size_t kx_utf8_invalid_at(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!n || i + n > len || (n == 2 && c < 0xC2))
            return i;
        unsigned cp = n == 1 ? c : c & (0x7F >> n);
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return i;
        i += n;
    }
    return len;
}

kt_status kt_tmpl_compile(const char *src, size_t len, kt_tmpl **out, kt_expr_error *err)
{
    *out = NULL;
    size_t bad = kx_utf8_invalid_at((const unsigned char *)src, len);
    if (bad < len) {
        if (err) {
            err->line = 1;
            for (size_t i = 0; i < bad; i++)
                err->line += src[i] == '\n';
            err->col = 0;
            snprintf(err->message, sizeof err->message, "Invalid template: not UTF-8 text (byte %zu)", bad);
        }
        return KT_EINVAL;
    }
    kt_tmpl *t = calloc(1, sizeof *t);
    if (!t || !(t->src = malloc(len + 1))) {
        free(t);
        return KT_ENOMEM;
    }
    memcpy(t->src, src, len);
    t->src[len] = 0;
    t->len = len;
    kx_err e = {0};
    t->root = kx_parse_template(t->src, len, t, &e);
    if (!t->root) {
        if (!e.kind) e.kind = KX_E_PARSE;
        kx_format_error(&e, t->src, NULL, err);
        kt_tmpl_free(t);
        return strcmp(e.msg, "out of memory") ? KT_EINVAL : KT_ENOMEM;
    }
    *out = t;
    return KT_OK;
}

void kt_tmpl_free(kt_tmpl *t)
{
    if (!t) return;
    kx_node_free(t->root);
    for (int i = 0; i < t->nmacros; i++) kx_node_free(t->macros[i]);
    for (int i = 0; i < t->nblocks; i++) kx_node_free(t->blocks[i]);
    free(t->macros);
    free(t->blocks);
    free(t->src);
    free(t);
}

const char *kt_tmpl_source(const kt_tmpl *t) { return t->src; }

static int kx_node_calls(const kx_node *n, const char *function)
{
    if (!n)
        return 0;
    if (n->type == KX_N_CALL && n->s && !strcmp(n->s, function))
        return 1;
    if (kx_node_calls(n->a, function) || kx_node_calls(n->b, function) || kx_node_calls(n->c, function))
        return 1;
    for (int i = 0; i < n->nkids; i++)
        if ((n->kids && kx_node_calls(n->kids[i], function)) || (n->kids2 && kx_node_calls(n->kids2[i], function)))
            return 1;
    return 0;
}

int kt_tmpl_calls(const kt_tmpl *t, const char *function)
{
    if (!t || !function)
        return 0;
    if (kx_node_calls(t->root, function))
        return 1;
    for (int i = 0; i < t->nmacros; i++)
        if (kx_node_calls(t->macros[i], function))
            return 1;
    for (int i = 0; i < t->nblocks; i++)
        if (kx_node_calls(t->blocks[i], function))
            return 1;
    return 0;
}

static int run(const kt_tmpl *t, const json_t *ctx, kt_env *ambient, kt_buf *out, int typed, json_t **typed_val,
               kx_err *e, int depth)
{
    kx_env env = {.ctx = ctx && json_is_object(ctx) ? ctx : NULL, .nscopes = 1, .tmpl = t, .err = e, .depth = depth,
                  .ambient = ambient};
    env.scopes[0] = json_object();
    if (!env.scopes[0]) return -1;
    if (typed) env.typed_out = out;
    int rc = kx_exec_body(&env, t->root, out);
    json_decref(env.scopes[0]);
    json_decref(env.merged);
    if (typed && !rc) *typed_val = env.typed_set ? env.typed_val : json_null();
    else json_decref(env.typed_val);
    return rc;
}

/* Renders t to a string; depth counts nested render() calls. */
static int kx_render_to_string(const kt_tmpl *t, const json_t *ctx, kt_env *ambient, char **out, size_t *out_len,
                               kx_err *e, int depth)
{
    kt_buf b = {0};
    *out = NULL;
    if (run(t, ctx, ambient, &b, 0, NULL, e, depth)) {
        free(b.p);
        return -1;
    }
    size_t len = b.len;
    char *s = kt_buf_take(&b);
    if (!s) return -1;
    *out = strip_raw(s, &len);
    if (out_len) *out_len = len;
    return 0;
}

kt_status kt_tmpl_render(const kt_tmpl *t, const json_t *ctx, kt_env *env, char **out, size_t *out_len,
                         kt_expr_error *err)
{
    kx_err e = {0};
    if (kx_render_to_string(t, ctx, env, out, out_len, &e, 0)) {
        kx_format_error(&e, t->src, env, err);
        return strcmp(e.msg, "out of memory") ? KT_EINVAL : KT_ENOMEM;
    }
    return KT_OK;
}

/* Literal strings and numbers are pinned in their template (jansson's immortal refcount, parse.c) and freed with it,
 * whoever still points at them. A value leaving the engine must therefore hold none: each pinned one it carries is
 * replaced by a copy of its own. Containers made by the render are fixed in place; scalars are copied. */
static json_t *kx_unpin(json_t *v)
{
    if ((json_is_string(v) || json_is_number(v)) && v->refcount == (size_t)-1)
        return json_copy(v);
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *e = json_array_get(v, i), *u = kx_unpin(e);
            if (u != e)
                json_array_set_new(v, i, u);
        }
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        void *tmp;
        json_object_foreach_safe(v, tmp, k, e) {
            json_t *u = kx_unpin(e);
            if (u != e)
                json_object_set_new(v, k, u);
        }
    }
    return v;
}

kt_status kt_tmpl_render_typed(const kt_tmpl *t, const json_t *ctx, kt_env *env, json_t **out, kt_expr_error *err)
{
    kx_err e = {0};
    kt_buf b = {0};
    *out = NULL;
    int rc = run(t, ctx, env, &b, 1, out, &e, 0);
    free(b.p);
    if (rc) {
        kx_format_error(&e, t->src, env, err);
        return KT_EINVAL;
    }
    *out = kx_unpin(*out);
    if (json_is_string(*out) && strstr(json_string_value(*out), "raw")) {
        size_t len = json_string_length(*out);
        char *s = malloc(len + 1);
        if (s) {
            memcpy(s, json_string_value(*out), len + 1);
            s = strip_raw(s, &len);
            json_decref(*out);
            *out = kx_strn(s, len);
            free(s);
        }
    }
    return KT_OK;
}

kt_status kt_expr_render_string(const char *src, const json_t *ctx, kt_env *env, char **out, kt_expr_error *err)
{
    *out = NULL;
    if (!src) return KT_EINVAL;
    if (!strchr(src, '{')) { /* Kestra returns a string without '{' unparsed */
        *out = strdup(src);
        return *out ? KT_OK : KT_ENOMEM;
    }
    kt_tmpl *t;
    kt_status st = kt_tmpl_compile(src, strlen(src), &t, err);
    if (st) return st;
    st = kt_tmpl_render(t, ctx, env, out, NULL, err);
    kt_tmpl_free(t);
    return st;
}

/* ---- template cache: compile once per flow revision, render many times ---- */

typedef struct kx_cache_slot {
    char *src;
    kt_tmpl *tmpl;
} kx_cache_slot;

struct kt_tmpl_cache {
    kx_cache_slot *slots;
    size_t cap, size;
};

kt_tmpl_cache *kt_tmpl_cache_new(void) { return calloc(1, sizeof(kt_tmpl_cache)); }

void kt_tmpl_cache_free(kt_tmpl_cache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->cap; i++) {
        free(c->slots[i].src);
        kt_tmpl_free(c->slots[i].tmpl);
    }
    free(c->slots);
    free(c);
}

static size_t kx_cache_hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int kx_cache_grow(kt_tmpl_cache *c)
{
    size_t cap = c->cap ? c->cap * 2 : 32;
    kx_cache_slot *n = calloc(cap, sizeof *n);
    if (!n) return -1;
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->slots[i].src) continue;
        size_t j = kx_cache_hash(c->slots[i].src) & (cap - 1);
        while (n[j].src) j = (j + 1) & (cap - 1);
        n[j] = c->slots[i];
    }
    free(c->slots);
    c->slots = n;
    c->cap = cap;
    return 0;
}

kt_status kt_tmpl_cache_get(kt_tmpl_cache *c, const char *src, const kt_tmpl **out, kt_expr_error *err)
{
    if ((c->size + 1) * 4 >= c->cap * 3 && kx_cache_grow(c)) return KT_ENOMEM;
    size_t i = kx_cache_hash(src) & (c->cap - 1);
    for (; c->slots[i].src; i = (i + 1) & (c->cap - 1))
        if (!strcmp(c->slots[i].src, src)) {
            *out = c->slots[i].tmpl;
            return KT_OK;
        }
    kt_tmpl *t;
    kt_status st = kt_tmpl_compile(src, strlen(src), &t, err);
    if (st) return st; /* syntax errors are not cached: they are reported each time, like Kestra */
    char *copy = strdup(src);
    if (!copy) {
        kt_tmpl_free(t);
        return KT_ENOMEM;
    }
    c->slots[i].src = copy;
    c->slots[i].tmpl = t;
    c->size++;
    *out = t;
    return KT_OK;
}

static kt_status kx_render_string_cached(kt_tmpl_cache *c, const char *src, const json_t *ctx, kt_env *env,
                                         char **out, kt_expr_error *err)
{
    if (!c || !strchr(src, '{')) return kt_expr_render_string(src, ctx, env, out, err);
    const kt_tmpl *t;
    kt_status st = kt_tmpl_cache_get(c, src, &t, err);
    return st ? st : kt_tmpl_render(t, ctx, env, out, NULL, err);
}

kt_status kt_expr_render_json_cached(kt_tmpl_cache *c, const json_t *in, const json_t *ctx, kt_env *env,
                                     json_t **out, kt_expr_error *err)
{
    *out = NULL;
    if (json_is_string(in)) {
        const char *s = json_string_value(in);
        if (!strchr(s, '{')) {
            *out = json_incref((json_t *)in);
            return KT_OK;
        }
        char *r;
        kt_status st = kx_render_string_cached(c, s, ctx, env, &r, err);
        if (st) return st;
        *out = kx_str(r);
        free(r);
        return *out ? KT_OK : KT_ENOMEM;
    }
    if (json_is_array(in)) {
        json_t *a = json_array();
        if (!a) return KT_ENOMEM;
        size_t i;
        json_t *x;
        json_array_foreach(in, i, x) {
            json_t *y;
            kt_status st = kt_expr_render_json_cached(c, x, ctx, env, &y, err);
            if (st) {
                json_decref(a);
                return st;
            }
            json_array_append_new(a, y);
        }
        *out = a;
        return KT_OK;
    }
    if (json_is_object(in)) {
        json_t *o = json_object();
        if (!o) return KT_ENOMEM;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)in, k, x) {
            char *rk = NULL;
            json_t *y = NULL;
            kt_status st = kx_render_string_cached(c, k, ctx, env, &rk, err);
            if (!st) st = kt_expr_render_json_cached(c, x, ctx, env, &y, err);
            if (st) {
                free(rk);
                json_decref(o);
                return st;
            }
            if (!json_object_get(o, rk)) json_object_set_new(o, rk, y); /* collisions keep the first entry */
            else json_decref(y);
            free(rk);
        }
        *out = o;
        return KT_OK;
    }
    *out = in ? json_incref((json_t *)in) : json_null();
    return KT_OK;
}

kt_status kt_expr_render_json(const json_t *in, const json_t *ctx, kt_env *env, json_t **out, kt_expr_error *err)
{
    return kt_expr_render_json_cached(NULL, in, ctx, env, out, err);
}

/* ---- render() / renderOnce() support ---- */

json_t *kx_context_view(kx_env *env)
{
    if (env->merged) return env->merged;
    json_t *m = env->ctx ? json_copy((json_t *)env->ctx) : json_object();
    for (int i = 0; m && i < env->nscopes; i++) json_object_update(m, env->scopes[i]);
    env->merged = m;
    return m;
}

static json_t *render_str(kx_env *env, const kx_node *n, const char *s, json_t *vars, int recursive)
{
    char *cur = strdup(s);
    if (!cur) return NULL;
    for (int attempt = 0;; attempt++) {
        if (attempt > 100) {
            free(cur);
            kx_fail(env, n, KX_E_PEBBLE, "Too many rendering attempts");
            env->err->line = -1;
            return NULL;
        }
        if (!strchr(cur, '{')) break;
        kt_tmpl *t;
        kt_expr_error ee;
        kx_err e = {0};
        char *r = NULL;
        if (kt_tmpl_compile(cur, strlen(cur), &t, &ee)) {
            free(cur);
            kx_fail(env, n, KX_E_PEBBLE, "%s", ee.message);
            env->err->line = -1;
            return NULL;
        }
        int rc = kx_render_to_string(t, vars, env->ambient, &r, NULL, &e, env->depth + 1);
        if (rc) {
            kx_format_error(&e, t->src, env->ambient, &ee);
            kt_tmpl_free(t);
            free(cur);
            /* inner messages that already carry no position keep their own text */
            kx_fail(env, n, KX_E_PEBBLE, "%s", e.kind == KX_E_PEBBLE && e.line < 0 ? e.msg : ee.message);
            env->err->line = -1;
            return NULL;
        }
        kt_tmpl_free(t);
        int same = !strcmp(r, cur);
        free(cur);
        cur = r;
        if (same || !recursive) break;
    }
    json_t *v = kx_str(cur);
    free(cur);
    return v;
}

json_t *kx_render_value(kx_env *env, const kx_node *n, json_t *v, int recursive)
{
    if (env->depth > 16) return kx_fail(env, n, KX_E_PEBBLE, "Too many rendering attempts");
    if (!v || json_is_null(v)) return json_null();
    json_t *vars = kx_context_view(env);
    if (json_is_string(v)) return render_str(env, n, json_string_value(v), vars, recursive);
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            json_t *y = kx_render_value(env, n, x, recursive);
            if (!y) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, y);
        }
        return a;
    }
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            json_t *rk = render_str(env, n, k, vars, recursive);
            json_t *y = rk ? kx_render_value(env, n, x, recursive) : NULL;
            if (!y) {
                json_decref(rk);
                json_decref(o);
                return NULL;
            }
            json_object_set_new(o, json_string_value(rk), y);
            json_decref(rk);
        }
        return o;
    }
    return json_incref(v);
}
