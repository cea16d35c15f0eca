/* `kite flow migrate`, the Pebble renames and the ForEach -> Loop rule (flow/migrate.h).
 *
 * Pebble: inside {{ }} and {% %} (never in {% raw %} blocks, never in string literals) `json(` becomes
 * `fromJson(` and the `json` filter `toJson`; the `is json` test stays (https://kestra.io/docs/migration-guide/
 * v2.0.0/json-function-removed; kestra-migrate's pebble-json-rename case).
 *
 * Loop: ForEach, EachSequential and EachParallel become io.kestra.plugin.core.flow.Loop when every expression that
 * depends on the iteration has a Loop spelling (the guide's table, https://kestra.io/docs/migration-guide/v2.0.0/
 * foreach-loop): taskrun.value -> item.value, taskrun.iteration -> item.index, parent.taskrun.value -> item.value
 * (through a flowable inside the loop) or item.parent.value (directly inside an inner loop), and
 * outputs.t[taskrun.value] -> outputs.t inside the iteration. A Loop iteration is an isolated sub-execution, so a
 * task's outputs read by value or from after the loop have no mechanical form: such a loop stays as it is and each
 * place is reported. The concurrency is written out (ForEach's default was 1, EachParallel's 0) so the Loop runs
 * iterations exactly as before whatever Loop's own default is. */
#include "flow/migrate_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/tasks.h"

struct kt_mig_loop_ctx {
    const char *parent_value; /* what parent.taskrun.value becomes here; NULL when it has no Loop form */
    int in_loop;
};

typedef struct loop {
    char *path;
    const char *kind; /* "ForEach", "EachSequential", "EachParallel" */
    int ok;           /* rewritten */
    struct loop *outer;
} loop;

typedef struct plugin {
    char *path;
    const char *canon;
    const char *id;
} plugin;

struct kt_mig_loops {
    loop *loops;
    size_t nloops;
    plugin *plugins;
    size_t nplugins;
    struct kt_mig_loop_ctx direct, nested, nested_outer; /* the three contexts a string can have */
};

/* ---- Pebble ---------------------------------------------------------------------------------------------------- */

static int ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Whether s[i..] starts with the word w (not followed by an identifier character, not preceded by '.' or one). */
static int word_at(const char *s, size_t n, size_t i, const char *w)
{
    size_t k = strlen(w);
    if (i + k > n || strncmp(s + i, w, k))
        return 0;
    if (i > 0 && (ident_char(s[i - 1]) || s[i - 1] == '.'))
        return 0;
    return i + k == n || !ident_char(s[i + k]);
}

/* The previous significant token before i: returns its last character's index + 1, or 0. */
static size_t prev_tok(const char *s, size_t i)
{
    while (i > 0 && isspace((unsigned char)s[i - 1]))
        i--;
    return i;
}

static void rewrite_tag(const char *s, size_t n, const struct kt_mig_loop_ctx *loop, kt_buf *b, int *changed)
{
    for (size_t i = 0; i < n;) {
        if (s[i] == '\'') { /* a string literal: copied whole */
            size_t j = i + 1;
            while (j < n && s[j] != '\'')
                j += s[j] == '\\' ? 2 : 1;
            j = j < n ? j + 1 : n;
            kt_buf_put(b, s + i, j - i);
            i = j;
            continue;
        }
        if (word_at(s, n, i, "json")) {
            size_t p = prev_tok(s, i), after = i + 4;
            while (after < n && s[after] == ' ')
                after++;
            int is_test = p >= 2 && !strncmp(s + p - 2, "is", 2) && (p == 2 || !ident_char(s[p - 3]));
            if (!is_test && p > 0 && s[p - 1] == '|') {
                kt_buf_puts(b, "toJson");
                *changed = 1;
                i += 4;
                continue;
            }
            if (!is_test && after < n && s[after] == '(') {
                kt_buf_puts(b, "fromJson");
                *changed = 1;
                i += 4;
                continue;
            }
        }
        if (loop && loop->in_loop) {
            static const char *const from[] = {"parent.taskrun.value", "taskrun.value", "taskrun.iteration"};
            const char *to[] = {loop->parent_value, "item.value", "item.index"};
            int done = 0;
            for (int k = 0; k < 3 && !done; k++)
                if (to[k] && word_at(s, n, i, from[k])) {
                    kt_buf_puts(b, to[k]);
                    i += strlen(from[k]);
                    *changed = done = 1;
                }
            if (done)
                continue;
            /* outputs.t[taskrun.value] -> outputs.t: the iteration sees only its own task runs */
            if (word_at(s, n, i, "outputs")) {
                size_t j = i + 7;
                if (j < n && s[j] == '.') {
                    size_t k = j + 1;
                    while (k < n && (ident_char(s[k]) || s[k] == '-'))
                        k++;
                    if (k + 15 <= n && !strncmp(s + k, "[taskrun.value]", 15)) {
                        kt_buf_put(b, s + i, k - i);
                        i = k + 15;
                        *changed = 1;
                        continue;
                    }
                }
            }
        }
        if (ident_char(s[i])) { /* the rest of an identifier is copied as one, so no word starts inside it */
            size_t j = i;
            while (j < n && ident_char(s[j]))
                j++;
            kt_buf_put(b, s + i, j - i);
            i = j;
            continue;
        }
        kt_buf_putc(b, s[i++]);
    }
}

char *kt_mig_rewrite_pebble(const char *s, size_t n, const kt_mig_loop_ctx *loop)
{
    kt_buf b = {0};
    int changed = 0, raw = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '{' && i + 1 < n && (s[i + 1] == '{' || s[i + 1] == '%')) {
            const char *close = s[i + 1] == '{' ? "}}" : "%}";
            size_t j = i + 2;
            while (j + 1 < n && strncmp(s + j, close, 2))
                j++;
            if (j + 1 >= n) {
                kt_buf_put(&b, s + i, n - i);
                break;
            }
            const char *t = s + i + 2;
            size_t tl = j - i - 2;
            while (tl && (*t == ' ' || *t == '-'))
                t++, tl--;
            if (s[i + 1] == '%' && tl >= 3 && !strncmp(t, "raw", 3) && (tl == 3 || !ident_char(t[3])))
                raw = 1;
            else if (s[i + 1] == '%' && tl >= 6 && !strncmp(t, "endraw", 6))
                raw = 0;
            kt_buf_put(&b, s + i, 2);
            if (raw || (s[i + 1] == '%' && !strncmp(t, "endraw", 6)))
                kt_buf_put(&b, s + i + 2, j - i - 2);
            else
                rewrite_tag(s + i + 2, j - i - 2, loop, &b, &changed);
            kt_buf_put(&b, close, 2);
            i = j + 2;
            continue;
        }
        kt_buf_putc(&b, s[i++]);
    }
    char *r = kt_buf_take(&b);
    if (!changed) {
        free(r);
        return NULL;
    }
    return r;
}

/* ---- ForEach -> Loop ------------------------------------------------------------------------------------------- */

static int prefix_of(const char *pre, const char *path) /* path is pre or below it */
{
    size_t n = strlen(pre);
    return !strncmp(pre, path, n) && (path[n] == 0 || path[n] == '.' || path[n] == '[');
}

/* Whether path lies in one of L's iterations (its tasks, errors or finally), not in its own properties. */
static int in_iterations(const loop *l, const char *path)
{
    size_t n = strlen(l->path);
    if (strncmp(l->path, path, n) || path[n] != '.')
        return 0;
    return !strncmp(path + n, ".tasks[", 7) || !strncmp(path + n, ".errors[", 8) || !strncmp(path + n, ".finally[", 9);
}

static const plugin *owner_of(const struct kt_mig_loops *ls, const char *path, const char *below)
{
    const plugin *best = NULL;
    for (size_t i = 0; i < ls->nplugins; i++) {
        const plugin *p = &ls->plugins[i];
        if (below && !strcmp(p->path, below))
            continue;
        if (prefix_of(p->path, path) && (!below || prefix_of(p->path, below)) &&
            (!best || strlen(p->path) > strlen(best->path)))
            best = p;
    }
    return best;
}

static loop *innermost(const struct kt_mig_loops *ls, const char *path)
{
    loop *best = NULL;
    for (size_t i = 0; i < ls->nloops; i++)
        if (in_iterations(&ls->loops[i], path) && (!best || strlen(ls->loops[i].path) > strlen(best->path)))
            best = &ls->loops[i];
    return best;
}

static void on_plugin(void *ud, const char *path, const char *type, const kt_task_def *d)
{
    struct kt_mig_loops *ls = ud;
    (void)type;
    const char *canon = d ? d->type : type;
    ls->plugins = realloc(ls->plugins, (ls->nplugins + 1) * sizeof *ls->plugins);
    ls->plugins[ls->nplugins++] = (plugin){strdup(path), canon, NULL};
    const char *kind = !strcmp(canon, "io.kestra.plugin.core.flow.ForEach")          ? "ForEach"
                       : !strcmp(canon, "io.kestra.plugin.core.flow.EachSequential") ? "EachSequential"
                       : !strcmp(canon, "io.kestra.plugin.core.flow.EachParallel")   ? "EachParallel"
                                                                                      : NULL;
    if (kind) {
        ls->loops = realloc(ls->loops, (ls->nloops + 1) * sizeof *ls->loops);
        ls->loops[ls->nloops++] = (loop){strdup(path), kind, 1, NULL};
    }
}

/* The problems one string makes for the loops: outputs of an iteration's task read by value or from outside the
 * iteration, parents[n], parent.taskrun.value with no enclosing loop. */
static void check_string(kt_mig *m, const char *path, const char *s)
{
    struct kt_mig_loops *ls = m->loops;
    loop *in = innermost(ls, path);
    for (size_t li = 0; li < ls->nloops; li++) {
        loop *l = &ls->loops[li];
        for (size_t pi = 0; pi < ls->nplugins; pi++) {
            const plugin *p = &ls->plugins[pi];
            if (!p->id || !in_iterations(l, p->path))
                continue;
            size_t idn = strlen(p->id);
            for (const char *o = strstr(s, "outputs."); o; o = strstr(o + 8, "outputs.")) {
                if (o > s && (ident_char(o[-1]) || o[-1] == '.'))
                    continue;
                if (strncmp(o + 8, p->id, idn) || ident_char(o[8 + idn]) || o[8 + idn] == '-')
                    continue;
                const char *after = o + 8 + idn;
                int inside = in_iterations(l, path);
                if (inside && *after != '[')
                    continue;
                if (inside && !strncmp(after, "[taskrun.value]", 15) && in == l)
                    continue;
                if (l->ok)
                    kt_mig_report(m, path, 0,
                                  "%s '%s' not rewritten as a Loop: outputs.%s is read %s; a Loop iteration is an "
                                  "isolated sub-execution: declare the Loop's `outputs` and read "
                                  "outputs.<loop>.outputs[n] or loopOutputs()",
                                  l->kind, json_string_value(json_object_get(kt_mig_at(m, l->path), "id")), p->id,
                                  inside ? "by iteration value" : "from outside the loop");
                l->ok = 0;
            }
        }
    }
    if (!in)
        return;
    if (strstr(s, "parents[") && in->ok) {
        kt_mig_report(m, path, 0, "%s not rewritten as a Loop: parents[n].taskrun.value has no mechanical Loop form "
                                  "(item.parent.value / item.parents[n].value depend on the nesting)", in->kind);
        in->ok = 0;
    }
    if (strstr(s, "parent.taskrun.value")) {
        const plugin *own = owner_of(ls, path, NULL);
        const plugin *up = own ? owner_of(ls, own->path, own->path) : NULL;
        int direct = up && !strcmp(up->path, in->path);
        if (direct && !in->outer && in->ok) {
            kt_mig_report(m, path, 0, "%s not rewritten as a Loop: parent.taskrun.value directly inside it reads a "
                                      "value that is not a loop's", in->kind);
            in->ok = 0;
        }
    }
}

static void walk(kt_mig *m, const json_t *v, char *path, size_t plen, size_t cap, int check)
{
    if (json_is_string(v)) {
        if (check)
            check_string(m, path, json_string_value(v));
        return;
    }
    const char *k;
    const json_t *x;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) {
            if (!plen && (!strcmp(k, "extend") || !strcmp(k, "pluginDefaults")))
                continue;
            int n = snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", k);
            if (n > 0 && (size_t)n < cap - plen)
                walk(m, x, path, plen + (size_t)n, cap, check);
            path[plen] = 0;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) {
            int n = snprintf(path + plen, cap - plen, "[%zu]", i);
            if (n > 0 && (size_t)n < cap - plen)
                walk(m, x, path, plen + (size_t)n, cap, check);
            path[plen] = 0;
        }
    }
}

static void rewrite_loop(kt_mig *m, const loop *l)
{
    const json_t *node = kt_mig_at(m, l->path);
    char p[512];
    size_t s, e, ks, ke;
    snprintf(p, sizeof p, "%s.type", l->path);
    if (kt_mig_scalar_span(m, p, &s, &e) || kt_mig_key_span(m, p, &ks, &ke))
        return;
    size_t ls = ks; /* the key's column, as spaces: Loop's new property lines up with it */
    while (ls > 0 && m->src[ls - 1] != '\n')
        ls--;
    int col = (int)(ks - ls);
    kt_buf b = {0};
    kt_buf_puts(&b, "io.kestra.plugin.core.flow.Loop");
    const char *conc = !strcmp(l->kind, "EachParallel") ? "concurrent" : "concurrencyLimit";
    if (!json_object_get(node, conc)) {
        kt_buf_putc(&b, '\n');
        kt_mig_indent(&b, col);
        kt_buf_printf(&b, "concurrencyLimit: %d", !strcmp(l->kind, "EachParallel") ? 0 : 1);
    }
    char *t = kt_buf_take(&b);
    kt_mig_edit_add(m, s, e, t, 0);
    free(t);
    if (strcmp(l->kind, "ForEach")) {
        snprintf(p, sizeof p, "%s.value", l->path);
        if (!kt_mig_key_span(m, p, &ks, &ke))
            kt_mig_edit_add(m, ks, ke, "values", 0);
    }
    if (!strcmp(l->kind, "EachParallel")) {
        snprintf(p, sizeof p, "%s.concurrent", l->path);
        if (!kt_mig_key_span(m, p, &ks, &ke))
            kt_mig_edit_add(m, ks, ke, "concurrencyLimit", 0);
    }
}

void kt_mig_rules_loops(kt_mig *m)
{
    struct kt_mig_loops *ls = calloc(1, sizeof *ls);
    m->loops = ls;
    kt_task_walk_flow(m->root, on_plugin, ls);
    if (!ls->nloops)
        return;
    for (size_t i = 0; i < ls->nplugins; i++)
        ls->plugins[i].id = json_string_value(json_object_get(kt_mig_at(m, ls->plugins[i].path), "id"));
    for (size_t i = 0; i < ls->nloops; i++) { /* the enclosing loop of each */
        for (size_t j = 0; j < ls->nloops; j++)
            if (i != j && in_iterations(&ls->loops[j], ls->loops[i].path) &&
                (!ls->loops[i].outer || strlen(ls->loops[j].path) > strlen(ls->loops[i].outer->path)))
                ls->loops[i].outer = &ls->loops[j];
    }
    char path[1024] = "";
    walk(m, m->root, path, 0, sizeof path, 1);
    for (size_t i = 0; i < ls->nloops; i++)
        if (ls->loops[i].ok)
            rewrite_loop(m, &ls->loops[i]);
    ls->direct = (struct kt_mig_loop_ctx){"item.parent.value", 1};
    ls->nested = (struct kt_mig_loop_ctx){"item.value", 1};
    ls->nested_outer = (struct kt_mig_loop_ctx){NULL, 1};
}

const kt_mig_loop_ctx *kt_mig_loop_ctx_for(const kt_mig *m, const char *path)
{
    const struct kt_mig_loops *ls = m->loops;
    if (!ls || !ls->nloops)
        return NULL;
    const loop *in = innermost(ls, path);
    if (!in || !in->ok)
        return NULL;
    const plugin *own = owner_of(ls, path, NULL);
    const plugin *up = own ? owner_of(ls, own->path, own->path) : NULL;
    if (up && !strcmp(up->path, in->path))
        return in->outer && in->outer->ok ? &ls->direct : &ls->nested_outer;
    return &ls->nested;
}

void kt_mig_loops_free(kt_mig *m)
{
    struct kt_mig_loops *ls = m->loops;
    if (!ls)
        return;
    for (size_t i = 0; i < ls->nloops; i++)
        free(ls->loops[i].path);
    for (size_t i = 0; i < ls->nplugins; i++)
        free(ls->plugins[i].path);
    free(ls->loops);
    free(ls->plugins);
    free(ls);
    m->loops = NULL;
}
