#include "flow/render.h"
#include "flow/secret_inputs.h"
#include "flow/model.h"
#include "flow/tasks.h"
#include "flow/loop.h"
#include "base/dialect.h"
#include "expr/expr.h"
#include "base/map.h"
#include "base/secrets.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static json_t *kt_render_first_date(const json_t *holder)
{
    json_t *h = json_object_get(json_object_get(holder, "state"), "histories");
    return json_incref(json_object_get(json_array_get(h, 0), "date"));
}

/* Task runs by id, for walking up parentTaskRunId chains; built only when some run has a parent. */
static kt_map *kt_runs_by_id(const json_t *runs)
{
    size_t i;
    json_t *r;
    int nested = 0;
    json_array_foreach(runs, i, r) nested |= json_object_get(r, "parentTaskRunId") != NULL;
    if (!nested)
        return NULL;
    kt_map *m = kt_map_new();
    json_array_foreach(runs, i, r) {
        const char *id = json_string_value(json_object_get(r, "id"));
        if (m && id)
            kt_map_put(m, id, r, NULL);
    }
    return m;
}

static json_t *kt_run_by_id(const kt_map *byid, const char *id)
{
    return byid && id ? kt_map_get(byid, id) : NULL;
}

/* Deep merge of src into dst (maps merge, anything else replaces): Kestra's MapUtils.merge. */
static void kt_merge(json_t *dst, const json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v) {
        json_t *cur = json_object_get(dst, k);
        if (json_is_object(cur) && json_is_object(v))
            kt_merge(cur, v);
        else
            json_object_set_new(dst, k, json_deep_copy(v));
    }
}

/* The Loop iterations (flow/loop.h) a run is in, as their first-level runs (the ones carrying the item) on its way
 * up, innermost first; how many. */
static size_t kt_render_iter_path(const json_t *run, const kt_map *byid, const json_t **path, size_t cap)
{
    size_t n = 0;
    for (const json_t *a = run; a && n < cap;
         a = kt_run_by_id(byid, json_string_value(json_object_get(a, "parentTaskRunId"))))
        if (json_object_get(a, KT_LOOP_ITEM_FIELD))
            path[n++] = a;
    return n;
}

/* A Loop iteration is isolated (Kestra runs it as a sub-execution): a run is seen by the one being rendered only when
 * every iteration it is in is one the rendered run is in too (the runs before a Loop are seen inside it; a run of an
 * iteration is seen in that iteration only). */
typedef struct kt_render_scope {
    const json_t *path[16];
    size_t n;
} kt_render_scope;

static int kt_render_visible(const json_t *tr, const kt_map *byid, const kt_render_scope *scope)
{
    const json_t *path[16];
    size_t n = kt_render_iter_path(tr, byid, path, 16);
    if (n > scope->n)
        return 0;
    for (size_t i = 0; i < n; i++) { /* both innermost first: compare from the outermost */
        const json_t *a = path[n - 1 - i], *b = scope->path[scope->n - 1 - i];
        /* an iteration is its Loop run and its index: its first-level runs are siblings */
        if (a != b && (!json_equal(json_object_get(a, "parentTaskRunId"), json_object_get(b, "parentTaskRunId")) ||
                       !json_equal(json_object_get(a, "value"), json_object_get(b, "value"))))
            return 0;
    }
    return 1;
}

/* Execution.outputs(): {taskId: outputs}, nested under the loop values of the run's ancestors (outermost first)
 * and its own value (§3.4); a Loop iteration's index is no such value (the iteration is isolated: its runs' outputs
 * are plain, and seen in the iteration only). */
static json_t *kt_render_outputs(const json_t *runs, const kt_map *byid, const kt_render_scope *scope)
{
    json_t *all = json_object();
    size_t i;
    json_t *tr;
    json_array_foreach(runs, i, tr) {
        json_t *o = json_object_get(tr, "outputs");
        const char *tid = json_string_value(json_object_get(tr, "taskId"));
        if (!json_is_object(o) || !tid || !kt_render_visible(tr, byid, scope))
            continue;
        const char *values[64];
        size_t nv = 0;
        if (json_string_value(json_object_get(tr, "value")) && !json_object_get(tr, KT_LOOP_ITEM_FIELD))
            values[nv++] = json_string_value(json_object_get(tr, "value"));
        for (const json_t *a = kt_run_by_id(byid, json_string_value(json_object_get(tr, "parentTaskRunId")));
             a && nv < 64; a = kt_run_by_id(byid, json_string_value(json_object_get(a, "parentTaskRunId"))))
            if (json_string_value(json_object_get(a, "value")) && !json_object_get(a, KT_LOOP_ITEM_FIELD))
                values[nv++] = json_string_value(json_object_get(a, "value"));
        /* innermost level first, wrapped outwards; loop levels get their own copy since they may be merged into.
         * An EncryptedString output (http.Request's encryptedBody) is read in clear. */
        json_t *opened = kt_secret_outputs_open(o, kt_secrets_installed());
        json_t *frag = nv ? json_deep_copy(opened) : json_incref(opened);
        json_decref(opened);
        for (size_t k = 0; k < nv; k++) {
            json_t *w = json_object();
            json_object_set_new(w, values[k], frag);
            frag = w;
        }
        json_t *cur = json_object_get(all, tid);
        if (json_is_object(cur) && json_is_object(frag) && nv) {
            json_t *top = json_object();
            json_object_set_new(top, tid, frag);
            kt_merge(all, top);
            json_decref(top);
        } else {
            json_object_set_new(all, tid, frag); /* a plain task: its outputs, shared, not copied */
        }
    }
    return all;
}

/* `item` of a run in a Loop iteration: the innermost iteration's item, with item.parents (closest first) and
 * item.parent (parents[0]) from the enclosing Loops. */
static json_t *kt_render_item(const kt_render_scope *scope)
{
    json_t *item = json_deep_copy(json_object_get(scope->path[0], KT_LOOP_ITEM_FIELD));
    json_t *parents = json_array();
    for (size_t i = 1; i < scope->n; i++)
        json_array_append(parents, json_object_get(scope->path[i], KT_LOOP_ITEM_FIELD));
    if (json_array_size(parents))
        json_object_set(item, "parent", json_array_get(parents, 0));
    json_object_set_new(item, "parents", parents);
    return item;
}

json_t *kt_render_context(const json_t *flow, const json_t *execution, const json_t *task, const json_t *taskrun)
{
    json_t *ctx = json_object();
    json_object_set_new(ctx, "globals", json_object());
    json_t *f = json_pack("{s:O?, s:O?}", "id", json_object_get(execution, "flowId"), "namespace",
                          json_object_get(execution, "namespace"));
    json_object_set(f, "revision", json_object_get(execution, "flowRevision"));
    json_object_set_new(ctx, "flow", f);
    /* the variables the execution changed (SetVariables/UnsetVariables: variables.vars) replace the flow's */
    const json_t *own_vars = json_object_get(json_object_get(execution, "variables"), "vars");
    if (json_is_object(own_vars))
        json_object_set(ctx, "vars", (json_t *)own_vars);
    else if (json_object_get(flow, "variables"))
        json_object_set(ctx, "vars", json_object_get(flow, "variables"));
    /* O? : a document without originalId (or id) still gives the other fields, never a silently missing variable */
    json_object_set_new(ctx, "execution", json_pack("{s:O?, s:o?, s:O?}", "id", json_object_get(execution, "id"),
                                                    "startDate", kt_render_first_date(execution), "originalId",
                                                    json_object_get(execution, "originalId")));
    /* execution.state (Kestra 1.x): afterExecution's runIf reads the final state */
    json_object_set(json_object_get(ctx, "execution"), "state",
                    json_object_get(json_object_get(execution, "state"), "current"));
    json_t *runs = json_object_get(execution, "taskRunList");
    kt_map *byid = kt_runs_by_id(runs);
    kt_render_scope scope = {.n = 0};
    if (taskrun)
        scope.n = kt_render_iter_path(taskrun, byid, scope.path, 16);
    if (json_is_array(runs)) {
        json_object_set_new(ctx, "outputs", kt_render_outputs(runs, byid, &scope));
        json_t *tasks = json_object();
        size_t i;
        json_t *tr;
        json_array_foreach(runs, i, tr) {
            const char *tid = json_string_value(json_object_get(tr, "taskId"));
            const char *value = json_string_value(json_object_get(tr, "value"));
            if (!tid || !kt_render_visible(tr, byid, &scope))
                continue;
            if (json_object_get(tr, KT_LOOP_ITEM_FIELD))
                value = NULL; /* a Loop iteration's index: the iteration's own runs, plain */
            json_t *st = json_pack("{s:O}", "state", json_object_get(json_object_get(tr, "state"), "current"));
            if (!value) {
                json_object_set_new(tasks, tid, st);
                continue;
            }
            json_t *byv = json_object_get(tasks, tid);
            if (!json_is_object(byv) || json_object_get(byv, "state")) {
                byv = json_object();
                json_object_set_new(tasks, tid, byv);
            }
            json_object_set_new(byv, value, st);
        }
        json_object_set_new(ctx, "tasks", tasks);
    }
    /* a triggered execution exposes what its trigger carried (RunVariables: trigger = trigger.variables) */
    json_t *trigger_vars = json_object_get(json_object_get(execution, "trigger"), "variables");
    if (trigger_vars)
        json_object_set(ctx, "trigger", trigger_vars);
    /* Execution.variables (a Schedule's {"schedule": {date, next, previous}}) are variables of their own
     * (RunVariables puts them all), under what is already there */
    const char *vk;
    json_t *vv;
    int v2 = kt_dialect_of_flow(flow) == KT_DIALECT_2X;
    json_object_foreach(json_object_get(execution, "variables"), vk, vv) {
        if (v2 && !strcmp(vk, "schedule"))
            continue; /* Kestra 2.0 removed {{ schedule }}: a 2.x flow reads {{ trigger }} (migration guide) */
        if (!json_object_get(ctx, vk))
            json_object_set(ctx, vk, vv);
    }
    json_t *inputs = json_object_get(execution, "inputs");
    if (json_object_size(inputs)) /* SECRET inputs are stored sealed: the tasks see them in clear */
        json_object_set_new(ctx, "inputs", kt_secret_inputs_open(json_object_get(flow, "inputs"), inputs,
                                                                 kt_secrets_installed(), NULL));
    json_t *labels = json_object();
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(execution, "labels"), i, l) {
        const char *k = json_string_value(json_object_get(l, "key"));
        json_t *v = json_object_get(l, "value");
        if (!k || !v)
            continue;
        /* Kestra collapses system.* labels onto one "system" entry holding the first of them as a Map.Entry
         * (RunVariables.mapLabel): `.key`/`.value` read it, and so does `labels.system.correlationId` in Kestra's
         * own flows (CorrelationIdTest), so both spellings resolve here. */
        if (!strncmp(k, "system.", 7)) {
            if (!json_object_get(labels, "system")) {
                json_t *entry = json_pack("{s:s, s:O}", "key", k + 7, "value", v);
                json_object_set(entry, k + 7, v);
                json_object_set_new(labels, "system", entry);
            }
        } else if (!json_object_get(labels, k)) {
            json_object_set(labels, k, v);
        }
    }
    json_object_set_new(ctx, "labels", labels);
    if (task)
        json_object_set_new(ctx, "task", json_pack("{s:O, s:O}", "id", json_object_get(task, "id"), "type",
                                                   json_object_get(task, "type")));
    if (taskrun) {
        json_t *t = json_pack("{s:O, s:o, s:I}", "id", json_object_get(taskrun, "id"), "startDate",
                              kt_render_first_date(taskrun), "attemptsCount",
                              (json_int_t)(kt_taskrun_attempts(taskrun) ? kt_taskrun_attempts(taskrun) - 1 : 0));
        if (json_object_get(taskrun, "parentTaskRunId"))
            json_object_set(t, "parentId", json_object_get(taskrun, "parentTaskRunId"));
        if (json_object_get(taskrun, "value"))
            json_object_set(t, "value", json_object_get(taskrun, "value"));
        if (json_object_get(taskrun, "iteration")) /* a WaitFor's child (and the WaitFor from its 2nd iteration) */
            json_object_set(t, "iteration", json_object_get(taskrun, "iteration"));
        json_object_set_new(ctx, "taskrun", t);
        /* parents: ancestors, closest first, each with its loop value and/or outputs; the others are skipped */
        json_t *parents = json_array();
        for (const json_t *a = kt_run_by_id(byid, json_string_value(json_object_get(taskrun, "parentTaskRunId"))); a;
             a = kt_run_by_id(byid, json_string_value(json_object_get(a, "parentTaskRunId")))) {
            json_t *entry = json_object();
            if (json_object_get(a, "value"))
                json_object_set_new(entry, "taskrun", json_pack("{s:O}", "value", json_object_get(a, "value")));
            json_t *o = json_object_get(a, "outputs");
            if (json_object_size(o))
                json_object_set(entry, "outputs", o);
            if (json_object_size(entry))
                json_array_append(parents, entry);
            json_decref(entry);
        }
        if (json_array_size(parents))
            json_object_set(ctx, "parent", json_array_get(parents, 0));
        json_object_set_new(ctx, "parents", parents);
        if (scope.n) /* Kestra 2.0's Loop: item.value/index/key, its enclosing Loops' items as item.parent(s) */
            json_object_set_new(ctx, "item", kt_render_item(&scope));
    }
    kt_map_free(byid);
    return ctx;
}

void kt_render_secret_inputs(const json_t *flow, const json_t *execution, json_t *used)
{
    json_t *inputs = json_object_get(execution, "inputs");
    if (json_is_object(inputs))
        json_decref(kt_secret_inputs_open(json_object_get(flow, "inputs"), inputs, kt_secrets_installed(), used));
}

/* Properties that hold tasks (rendered when those tasks run, not with their parent) or identify the task. */
static int kt_render_skip(const char *key)
{
    static const char *const skip[] = {"id", "type", "tasks", "errors", "finally", "then", "else", "cases", "defaults",
                                       "retry", "runIf", "workerGroup", "allowFailure", "allowWarning", "disabled",
                                       "logLevel"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (!strcmp(key, skip[i]))
            return 1;
    return 0;
}

static kt_status kt_render_fn_error_logs(void *ud, const json_t *args, json_t **result, kt_expr_error *err)
{
    (void)ud, (void)args, (void)err;
    const json_t *ctx = kt_expr_current_context();
    json_t *logs = json_object_get(ctx, KT_RENDER_ERROR_LOGS);
    *result = json_is_array(logs) ? json_incref(logs) : json_array();
    return KT_OK;
}

void kt_render_register_functions(void) { kt_expr_register_function("errorLogs", kt_render_fn_error_logs, NULL); }

json_t *kt_render_task(const json_t *flow, kt_tmpl_cache *cache, kt_env *env, const json_t *execution,
                       const json_t *task, const json_t *taskrun, char *err, size_t errcap)
{
    return kt_render_task_with(flow, cache, env, execution, task, taskrun, NULL, err, errcap);
}

json_t *kt_render_task_with(const json_t *flow, kt_tmpl_cache *cache, kt_env *env, const json_t *execution,
                            const json_t *task, const json_t *taskrun, const json_t *extra, char *err, size_t errcap)
{
    json_t *ctx = kt_render_context(flow, execution, task, taskrun);
    if (extra)
        json_object_update(ctx, (json_t *)extra);
    json_t *out = kt_render_task_in(cache, env, ctx, task, err, errcap);
    json_decref(ctx);
    return out;
}

json_t *kt_render_task_in(kt_tmpl_cache *cache, kt_env *env, const json_t *ctx, const json_t *task, char *err,
                          size_t errcap)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    /* the properties the task renders itself, per record (KT_PF_RAW in the catalogue) */
    const kt_task_def *def = kt_task_lookup(json_string_value(json_object_get(task, "type")) ?: "");
    json_object_foreach((json_t *)task, k, v) {
        const kt_prop *p = def ? kt_prop_find(def->props, k) : NULL;
        if (kt_render_skip(k) || (p && (p->flags & KT_PF_RAW))) {
            json_object_set(out, k, v);
            continue;
        }
        json_t *r = NULL;
        kt_expr_error e = {0};
        if (p && (p->flags & KT_PF_TYPED) && json_is_string(v)) {
            const kt_tmpl *t = NULL;
            kt_tmpl *own = NULL;
            kt_status st = cache ? kt_tmpl_cache_get(cache, json_string_value(v), &t, &e)
                                 : kt_tmpl_compile(json_string_value(v), json_string_length(v), &own, &e);
            if (!st)
                st = kt_tmpl_render_typed(own ? own : t, ctx, env, &r, &e);
            kt_tmpl_free(own);
            if (st == KT_OK) {
                json_object_set_new(out, k, r);
                continue;
            }
            /* text mixed with a value ("n={{ 1 }}"): Kestra 0.20 failed ("Tried to add java.lang.Long to
             * java.lang.String"), Kestra since 0.23 (PR #8623) concatenates into a string, which the plain render
             * below does */
            memset(&e, 0, sizeof e);
        }
        if (kt_expr_render_json_cached(cache, v, ctx, env, &r, &e) != KT_OK) {
            snprintf(err, errcap, "%s", e.message[0] ? e.message : "rendering failed");
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, k, r);
    }
    return out;
}
