/* Finding the constructs of one line of Kestra's language in a flow document (dialect_int.h): the plugins, the
 * properties the 2.0 guide added or removed, and the names inside expressions. Expressions are read with a small
 * tokenizer over the `{{ }}` and `{% %}` blocks of every string value, so prose (a description saying "json(") and
 * longer names (fromJson(, toJson, trigger.schedule) are not taken for markers. */
#include "flow/dialect_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"
#include "flow/validate.h"

#define CORE "io.kestra.plugin.core."

typedef struct walk {
    kt_dmark_fn fn;
    void *ud;
} walk;

static void emit(walk *w, kt_dmark m, const char *path, const char *key, const char *path2, const char *detail)
{
    char *p = key ? kt_validate_child(path, key) : NULL;
    w->fn(w->ud, m, key ? (p ? p : path) : path, path2, detail);
    free(p);
}

static int has(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return v && !json_is_null(v);
}

static int is(const char *canon, const char *suffix)
{
    return !strncmp(canon, CORE, strlen(CORE)) && !strcmp(canon + strlen(CORE), suffix);
}

/* ---------------------------------------------------------------- expressions */

enum { TK_END, TK_IDENT, TK_PUNCT };

typedef struct tok {
    int kind;
    const char *s;
    size_t n;
} tok;

#define MAX_TOKS 512

/* Tokens of one expression block [s, e): names, and punctuation one character each except the comparison operators
 * (==, !=, <=, >=), which stay one token so that `x == 1` is never read as a named argument. String literals are
 * skipped whole. */
static size_t tokenize(const char *s, const char *e, tok *out, size_t cap)
{
    size_t n = 0;
    while (s < e && n + 1 < cap) {
        unsigned char c = (unsigned char)*s;
        if (isspace(c)) {
            s++;
        } else if (c == '\'' || c == '"') {
            for (s++; s < e && *s != (char)c; s++)
                if (*s == '\\' && s + 1 < e)
                    s++;
            s += s < e;
        } else if (isalpha(c) || c == '_') {
            const char *b = s;
            while (s < e && (isalnum((unsigned char)*s) || *s == '_'))
                s++;
            out[n++] = (tok){TK_IDENT, b, (size_t)(s - b)};
        } else {
            size_t len = s + 1 < e && s[1] == '=' && strchr("=!<>", c) ? 2 : 1;
            out[n++] = (tok){TK_PUNCT, s, len};
            s += len;
        }
    }
    out[n] = (tok){TK_END, e, 0};
    return n;
}

static int tok_is(const tok *t, const char *word)
{
    return t->kind != TK_END && t->n == strlen(word) && !memcmp(t->s, word, t->n);
}

static int name_in(const tok *t, const char *const *words)
{
    for (; t->kind == TK_IDENT && *words; words++)
        if (tok_is(t, *words))
            return 1;
    return 0;
}

/* A named argument `name=` at the top level of the call whose "(" is t[0]. */
static int call_has_arg(const tok *t, const char *name)
{
    int depth = 0;
    for (; t->kind != TK_END; t++) {
        if (tok_is(t, "(") || tok_is(t, "[") || tok_is(t, "{"))
            depth++;
        else if (tok_is(t, ")") || tok_is(t, "]") || tok_is(t, "}"))
            if (--depth == 0)
                return 0;
        if (depth == 1 && tok_is(t, name) && tok_is(t + 1, "="))
            return 1;
    }
    return 0;
}

static void scan_block(const tok *t, size_t n, int item_is_loop_var, unsigned long *seen)
{
    static const char *const date_fns[] = {"isWeekend",      "dayOfWeek",        "hourOfDay",  "isPublicHoliday",
                                           "isDayWeekInMonth", "isLastWorkingDay", "dayOfMonth", "monthOfYear",
                                           NULL};
    static const char *const item_keys[] = {"value", "index", "key", "parent", "parents", NULL};
    for (size_t i = 0; i < n; i++) {
        if (t[i].kind != TK_IDENT || (i && tok_is(&t[i - 1], ".")))
            continue; /* a property of something else (trigger.schedule, x.json) */
        const tok *next = &t[i + 1];
        int call = tok_is(next, "(");
        if (tok_is(&t[i], "item") && !item_is_loop_var && tok_is(next, ".") && name_in(&t[i + 2], item_keys))
            *seen |= 1ul << KT_DM_ITEM_VAR;
        else if (call && tok_is(&t[i], "loopOutputs"))
            *seen |= 1ul << KT_DM_LOOP_OUTPUTS;
        else if (call && name_in(&t[i], date_fns))
            *seen |= 1ul << KT_DM_DATE_FN;
        else if (tok_is(&t[i], "json") && i && tok_is(&t[i - 1], "|"))
            *seen |= 1ul << KT_DM_JSON_FILTER;
        else if (tok_is(&t[i], "json") && call && !(i && tok_is(&t[i - 1], "is")))
            *seen |= 1ul << KT_DM_JSON_FN;
        else if (tok_is(&t[i], "schedule") && tok_is(next, "."))
            *seen |= 1ul << KT_DM_SCHEDULE_VAR;
        else if (call && (tok_is(&t[i], "read") || tok_is(&t[i], "fileURI"))) {
            if (call_has_arg(next, "revision"))
                *seen |= 1ul << KT_DM_READ_REVISION;
            if (call_has_arg(next, "version"))
                *seen |= 1ul << KT_DM_READ_VERSION;
        }
    }
}

/* {% raw %} or {%- raw -%} */
static int is_raw(const tok *t, size_t n)
{
    int raw = 0;
    for (size_t i = 0; i < n; i++) {
        if (tok_is(&t[i], "raw") && !raw)
            raw = 1;
        else if (!tok_is(&t[i], "-"))
            return 0;
    }
    return raw;
}

/* `{% for item in ... %}`: the template names its own loop variable item, whose .key/.value are not Loop's. */
static int declares_item(const char *s)
{
    for (const char *p = strstr(s, "for"); p; p = strstr(p + 3, "for")) {
        const char *q = p + 3;
        if (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue;
        if (!isspace((unsigned char)*q))
            continue;
        while (isspace((unsigned char)*q))
            q++;
        if (!strncmp(q, "item", 4) && !(isalnum((unsigned char)q[4]) || q[4] == '_'))
            return 1;
    }
    return 0;
}

static void scan_string(walk *w, const char *s, const char *path)
{
    if (!strchr(s, '{'))
        return;
    unsigned long seen = 0;
    int item_is_loop_var = declares_item(s);
    tok toks[MAX_TOKS + 1];
    for (const char *p = s; (p = strchr(p, '{')) != NULL;) {
        const char *close = p[1] == '{' ? "}}" : p[1] == '%' ? "%}" : NULL;
        if (!close) {
            p++;
            continue;
        }
        const char *b = p + 2, *e = strstr(b, close);
        if (!e)
            e = b + strlen(b);
        size_t n = tokenize(b, e, toks, MAX_TOKS);
        p = *e ? e + 2 : e;
        if (close[0] == '%' && is_raw(toks, n)) { /* {% raw %}: text up to {% endraw %} */
            const char *end = strstr(p, "endraw");
            const char *after = end ? strstr(end, "%}") : NULL;
            p = after ? after + 2 : p + strlen(p);
            continue;
        }
        scan_block(toks, n, item_is_loop_var, &seen);
    }
    for (int m = 0; m < KT_DM_COUNT; m++)
        if (seen & (1ul << m))
            w->fn(w->ud, (kt_dmark)m, path, NULL, NULL);
}

/* ---------------------------------------------------------------- plugins and properties */

static const char *const removed_types[] = {CORE "execution.Count", CORE "execution.Resume", CORE "trigger.Toggle",
                                            CORE "flow.Template",    CORE "debug.Echo",       CORE "storage.LocalFiles",
                                            NULL};
static const char *const types_2x[] = {CORE "flow.Approval", CORE "execution.Kill", CORE "trigger.BatchWebhook",
                                       CORE "trigger.McpToolTrigger", NULL};

static int in_list(const char *const *l, const char *s)
{
    for (; *l; l++)
        if (!strcmp(*l, s))
            return 1;
    return 0;
}

static void check_plugin(walk *w, const json_t *o, const char *path, const char *type)
{
    const char *canon = kt_task_canonical_type(type);
    if (!strncmp(type, "io.kestra.core.tasks.scripts.", 29) || in_list(removed_types, canon) ||
        !strncmp(canon, CORE "state.", strlen(CORE "state.")))
        emit(w, KT_DM_REMOVED_TYPE, path, "type", NULL, type);
    else if (strcmp(canon, type) || !strncmp(type, "io.kestra.core.tasks.", 21))
        emit(w, KT_DM_LEGACY_ALIAS, path, "type", NULL, type);
    if (is(canon, "flow.Loop"))
        emit(w, KT_DM_LOOP, path, "type", NULL, type);
    else if (is(canon, "flow.ForEach") || is(canon, "flow.ForEachItem") || is(canon, "flow.EachSequential") ||
             is(canon, "flow.EachParallel"))
        emit(w, KT_DM_FOREACH, path, "type", NULL, type);
    else if (in_list(types_2x, canon))
        emit(w, KT_DM_TYPE_2X, path, "type", NULL, type);
    const char *state = json_string_value(json_object_get(o, "state"));
    if (is(canon, "execution.Exit") && state && !strcmp(state, "CANCELED"))
        emit(w, KT_DM_EXIT_CANCELED, path, "state", NULL, state);
    if (is(canon, "flow.Pause") && has(o, "delay"))
        emit(w, KT_DM_PAUSE_DELAY, path, "delay", NULL, NULL);
    if (is(canon, "flow.Pause") && has(o, "tasks"))
        emit(w, KT_DM_PAUSE_TASKS, path, "tasks", NULL, NULL);
    if (is(canon, "flow.Subflow") && has(o, "outputs"))
        emit(w, KT_DM_SUBFLOW_OUTPUTS, path, "outputs", NULL, NULL);
    if (is(canon, "trigger.Schedule") && has(o, "backfill"))
        emit(w, KT_DM_SCHEDULE_BACKFILL, path, "backfill", NULL, NULL);
    if (!strncmp(canon, "io.kestra.plugin.scripts.", 25) && has(o, "runner"))
        emit(w, KT_DM_SCRIPT_RUNNER, path, "runner", NULL, NULL);
    if (has(o, "workerSelector"))
        emit(w, KT_DM_WORKER_SELECTOR, path, "workerSelector", NULL, NULL);
    static const char *const responses[] = {"responseCode", "responseHeaders", "responseBody", NULL};
    for (const char *const *k = responses; is(canon, "trigger.Webhook") && *k; k++)
        if (has(o, *k)) {
            emit(w, KT_DM_WEBHOOK_RESPONSE, path, *k, NULL, NULL);
            break;
        }
}

static void check_retry(walk *w, const json_t *r, const char *path)
{
    if (!json_is_object(r) || !has(r, "maxAttempt"))
        return;
    if (has(r, "maxAttempts")) {
        char *other = kt_validate_child(path, "maxAttempts");
        emit(w, KT_DM_AMB_MAXATTEMPT, path, "maxAttempt", other, NULL);
        free(other);
    } else {
        emit(w, KT_DM_RETRY_MAXATTEMPT, path, "maxAttempt", NULL, NULL);
    }
}

static void check_input(walk *w, const json_t *in, const char *path)
{
    const char *type = json_string_value(json_object_get(in, "type"));
    if (!json_is_object(in))
        return;
    if (type && !strcmp(type, "BOOLEAN"))
        emit(w, KT_DM_INPUT_BOOLEAN, path, "type", NULL, type);
    else if (type && !strcmp(type, "ENUM"))
        emit(w, KT_DM_INPUT_ENUM, path, "type", NULL, type);
    else if (type && (!strcmp(type, "ION") || !strcmp(type, "OBJECT") || !strcmp(type, "TABLE")))
        emit(w, KT_DM_INPUT_2X, path, "type", NULL, type);
    if (has(in, "name"))
        emit(w, KT_DM_INPUT_NAME, path, "name", NULL, NULL);
    if (type && !strcmp(type, "MULTISELECT") && has(in, "options"))
        emit(w, KT_DM_MULTISELECT_OPTIONS, path, "options", NULL, NULL);
    if (type && !strcmp(type, "FILE") && has(in, "extension"))
        emit(w, KT_DM_FILE_EXTENSION, path, "extension", NULL, NULL);
}

/* A trigger's conditions are a 1.x construct alone, and ambiguous beside the 2.x property that replaces them. */
static void check_trigger(walk *w, const json_t *t, const char *path)
{
    const char *type = json_string_value(json_object_get(t, "type"));
    int is_flow = type && is(kt_task_canonical_type(type), "trigger.Flow");
    static const char *const depends[] = {"dependsOn", "window", "mode", "minSatisfied", "onMiss", NULL};
    const char *dep = NULL;
    for (const char *const *k = depends; is_flow && *k && !dep; k++)
        if (has(t, *k))
            dep = *k;
    char *when = has(t, "when") ? kt_validate_child(path, "when") : NULL;
    char *deppath = dep ? kt_validate_child(path, dep) : NULL;
    if (when)
        w->fn(w->ud, KT_DM_TRIGGER_WHEN, when, NULL, NULL);
    if (deppath)
        w->fn(w->ud, KT_DM_FLOW_DEPENDS, deppath, NULL, dep);
    static const char *const olds[] = {"conditions", "scheduleConditions", "preconditions", NULL};
    for (const char *const *k = olds; *k; k++) {
        if (!has(t, *k))
            continue;
        if (when && strcmp(*k, "preconditions"))
            emit(w, KT_DM_AMB_CONDITIONS_WHEN, path, *k, when, *k);
        else if (deppath)
            emit(w, KT_DM_AMB_CONDITIONS_DEPENDS, path, *k, deppath, *k);
        else
            emit(w,
                 !strcmp(*k, "conditions")           ? KT_DM_TRIGGER_CONDITIONS
                 : !strcmp(*k, "scheduleConditions") ? KT_DM_SCHEDULE_CONDITIONS
                                                     : KT_DM_PRECONDITIONS,
                 path, *k, NULL, NULL);
    }
    free(when);
    free(deppath);
}

static void check_checks(walk *w, const json_t *checks)
{
    size_t i;
    json_t *c;
    json_array_foreach(checks, i, c) {
        if (!json_is_object(c) || !has(c, "when"))
            continue;
        char *p = kt_validate_item("checks", i), *wp = kt_validate_child(p, "when");
        w->fn(w->ud, KT_DM_CHECK_WHEN, wp, NULL, NULL);
        /* `condition` beside `when` is refused by flow/checks.c's own rule (in both dialects), not twice here */
        free(wp);
        free(p);
    }
}

/* Everything below the root: plugins wherever an object names a dotted type (outside the places that hold data,
 * not plugins), retry policies, Pause's onResume inputs, and the expressions in every string. */
static void walk_value(walk *w, const json_t *v, const char *path, int plugins)
{
    if (json_is_string(v)) {
        scan_string(w, json_string_value(v), path);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            char *p = kt_validate_item(path, i);
            if (p)
                walk_value(w, x, p, plugins);
            free(p);
        }
    } else if (json_is_object(v)) {
        const char *type = json_string_value(json_object_get(v, "type"));
        if (plugins && type && strchr(type, '.'))
            check_plugin(w, v, path, type);
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            char *p = kt_validate_child(path, k);
            if (!p)
                continue;
            if (!strcmp(k, "retry"))
                check_retry(w, x, p);
            size_t i;
            json_t *in;
            if (plugins && !strcmp(k, "onResume"))
                json_array_foreach(x, i, in) {
                    char *ip = kt_validate_item(p, i);
                    check_input(w, in, ip);
                    free(ip);
                }
            int data = !strcmp(k, "variables") || !strcmp(k, "labels") || !strcmp(k, "pluginDefaults") ||
                       !strcmp(k, "taskDefaults") || !strcmp(k, "extend");
            walk_value(w, x, p, plugins && !data);
            free(p);
        }
    }
}

void kt_dialect_find_marks(const json_t *flow, kt_dmark_fn fn, void *ud)
{
    walk w = {fn, ud};
    if (!json_is_object(flow))
        return;
    const char *const root_keys[] = {"pluginDefaults", "taskDefaults", "listeners", "policyRefs"};
    const kt_dmark root_marks[] = {KT_DM_PLUGIN_DEFAULTS, KT_DM_PLUGIN_DEFAULTS, KT_DM_LISTENERS, KT_DM_POLICY_REFS};
    for (size_t i = 0; i < sizeof root_keys / sizeof *root_keys; i++)
        if (has(flow, root_keys[i]))
            fn(ud, root_marks[i], root_keys[i], NULL, NULL);
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(flow, "inputs"), i, x) {
        char *p = kt_validate_item("inputs", i);
        check_input(&w, x, p);
        free(p);
    }
    json_array_foreach(json_object_get(flow, "triggers"), i, x) {
        char *p = kt_validate_item("triggers", i);
        if (json_is_object(x))
            check_trigger(&w, x, p);
        free(p);
    }
    check_checks(&w, json_object_get(flow, "checks"));
    walk_value(&w, flow, "", 1);
}
