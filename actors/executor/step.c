/* Kestra's executor rules over one execution document. See step.h for the shape of a step; the references in
 * comments are to KESTRA-execution.md. */
#include "actors/executor/step.h"
#include "actors/executor/model.h"
#include "actors/executor/render.h"
#include "actors/executor/retry.h"
#include "flow/duration.h"
#include "runtime/clock.h"
#include "flow/inputs.h"
#include "flow/tasks.h"
#include "runtime/id.h"
#include "runtime/map.h"

#include <stdint.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KT_PASS_LIMIT 10000 /* passes per step: a flow that never settles is a bug, not a reason to hang */

/* A task as the executor resolves it: for loops, one per (task, value). */
typedef struct kt_res {
    const json_t *task;
    const char *value; /* NULL outside loops */
} kt_res;

typedef struct kt_rlist {
    kt_res *v;
    size_t n, cap;
    int absent;   /* no list at all (Switch without match nor defaults): Kestra's `current == null` */
    json_t *hold; /* keeps loop value strings alive */
} kt_rlist;

/* The runs of one (parent, task) pair with their positions in taskRunList. */
typedef struct kt_slot {
    json_t *run;
    size_t pos;
} kt_slot;

typedef struct kt_bucket {
    kt_slot *v;
    size_t n, cap;
} kt_bucket;

typedef struct kt_pass {
    const kt_exec_flow *f;
    json_t *ex;
    kt_exec_idgen idgen;
    kt_exec_effects *fx;
    int64_t now;
    int changed;
    /* Index of taskRunList for the whole step (runs are only ever appended): lookups cost O(matches), so a step
     * stays O(runs) instead of O(runs x tasks). */
    kt_map *by_task; /* taskId -> kt_bucket (all parents: a task has one run per parent run and loop value) */
    kt_map *by_id;   /* taskrun id -> position + 1 */
    size_t indexed;
    /* The same (list, parent) is asked for several times per pass (depending, end check, next): remember the
     * answers until a run is appended. */
    struct kt_memo {
        uint64_t sig;
        size_t indexed;
        json_t **runs;
        size_t n;
    } memo[8];
    unsigned memo_next;
} kt_pass;

/* ---- small helpers ------------------------------------------------------------------------------- */

static const char *kt_str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static json_t *kt_runs(const kt_pass *p) { return json_object_get(p->ex, "taskRunList"); }

static int kt_streq(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static void kt_rl_push(kt_rlist *l, const json_t *task, const char *value)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        kt_res *n = realloc(l->v, cap * sizeof *n);
        if (!n)
            return;
        l->v = n;
        l->cap = cap;
    }
    l->v[l->n++] = (kt_res){task, value};
}

static void kt_rl_free(kt_rlist *l)
{
    free(l->v);
    json_decref(l->hold);
    memset(l, 0, sizeof *l);
}

static void kt_touch(kt_pass *p, size_t index)
{
    kt_exec_effects *fx = p->fx;
    fx->changed = 1;
    p->changed = 1;
    for (size_t i = 0; i < fx->ntouched; i++)
        if (fx->touched[i] == index)
            return;
    if (fx->ntouched < KT_EXEC_MAX_TOUCHED)
        fx->touched[fx->ntouched++] = index;
    else
        fx->touched_all = 1;
}

/* Adds the runs appended since the last call to the index. */
static void kt_index_sync(kt_pass *p)
{
    json_t *runs = kt_runs(p);
    size_t n = json_array_size(runs);
    for (; p->indexed < n; p->indexed++) {
        json_t *run = json_array_get(runs, p->indexed);
        const char *key = kt_str(run, "taskId");
        if (!key)
            continue;
        kt_bucket *b = kt_map_get(p->by_task, key);
        if (!b) {
            b = calloc(1, sizeof *b);
            if (!b || kt_map_put(p->by_task, key, b, NULL)) {
                free(b);
                continue;
            }
        }
        if (b->n == b->cap) {
            size_t cap = b->cap ? b->cap * 2 : 4;
            kt_slot *nv = realloc(b->v, cap * sizeof *nv);
            if (!nv)
                continue;
            b->v = nv;
            b->cap = cap;
        }
        b->v[b->n++] = (kt_slot){run, p->indexed};
        if (kt_str(run, "id"))
            kt_map_put(p->by_id, kt_str(run, "id"), (void *)(uintptr_t)(p->indexed + 1), NULL);
    }
}

static void kt_index_free(kt_pass *p)
{
    for (size_t i = 0; i < sizeof p->memo / sizeof *p->memo; i++)
        free(p->memo[i].runs);
    size_t pos = 0;
    const char *key;
    void *val;
    while (p->by_task && kt_map_next(p->by_task, &pos, &key, &val)) {
        kt_bucket *b = val;
        free(b->v);
        free(b);
    }
    kt_map_free(p->by_task);
    kt_map_free(p->by_id);
}

static size_t kt_index_of(kt_pass *p, const json_t *run)
{
    kt_index_sync(p);
    uintptr_t v = (uintptr_t)kt_map_get(p->by_id, kt_str(run, "id"));
    return v ? (size_t)(v - 1) : (size_t)-1;
}

static const kt_bucket *kt_bucket_of(kt_pass *p, const char *task_id)
{
    kt_index_sync(p);
    return task_id ? kt_map_get(p->by_task, task_id) : NULL;
}

static void kt_log(kt_pass *p, const json_t *run, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void kt_log(kt_pass *p, const json_t *run, const char *level, const char *fmt, ...)
{
    kt_exec_effects *fx = p->fx;
    if (fx->nlogs == KT_EXEC_MAX_LOGS)
        return;
    kt_exec_log *l = &fx->logs[fx->nlogs++];
    snprintf(l->taskrun_id, sizeof l->taskrun_id, "%s", run ? kt_str(run, "id") : "");
    snprintf(l->level, sizeof l->level, "%s", level);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->message, sizeof l->message, fmt, ap);
    va_end(ap);
}

static void kt_run_set_state(kt_pass *p, json_t *run, const char *state)
{
    if (kt_streq(kt_state_current(run), state))
        return;
    kt_state_set(json_object_get(run, "state"), state, p->now);
    kt_touch(p, kt_index_of(p, run));
}

/* Kestra's TruthUtils: null, "false", "0", "-0" and "" are false. */
static int kt_truthy(const char *s)
{
    return s && *s && strcmp(s, "false") && strcmp(s, "0") && strcmp(s, "-0");
}

static int kt_was_paused(const json_t *run);

/* ---- the task tree ------------------------------------------------------------------------------- */

static const json_t *kt_find_in(const json_t *tasks, const char *id);

static const json_t *kt_find_in_task(const json_t *t, const char *id)
{
    static const char *const lists[] = {"tasks", "errors", "finally", "then", "else", "defaults"};
    for (size_t k = 0; k < sizeof lists / sizeof *lists; k++) {
        const json_t *f = kt_find_in(json_object_get(t, lists[k]), id);
        if (f)
            return f;
    }
    const char *ck;
    json_t *cv;
    json_object_foreach(json_object_get(t, "cases"), ck, cv) {
        const json_t *f = kt_find_in(cv, id);
        if (f)
            return f;
    }
    return NULL;
}

static const json_t *kt_find_in(const json_t *tasks, const char *id)
{
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        /* Dag entries wrap the task: {task: {...}, dependsOn: [...]} */
        const json_t *task = json_object_get(t, "task") && !json_object_get(t, "type") ? json_object_get(t, "task") : t;
        if (kt_streq(kt_str(task, "id"), id))
            return task;
        const json_t *f = kt_find_in_task(task, id);
        if (f)
            return f;
    }
    return NULL;
}

static const json_t *kt_task_of(const kt_pass *p, const char *task_id)
{
    if (p->f->tasks)
        return task_id ? kt_map_get(p->f->tasks, task_id) : NULL;
    return kt_exec_find_task(p->f->flow, task_id);
}

static void kt_index_tasks(kt_map *m, const json_t *tasks);

static void kt_index_task(kt_map *m, const json_t *t)
{
    static const char *const lists[] = {"tasks", "errors", "finally", "then", "else", "defaults"};
    if (kt_str(t, "id"))
        kt_map_put(m, kt_str(t, "id"), (void *)t, NULL);
    for (size_t k = 0; k < sizeof lists / sizeof *lists; k++)
        kt_index_tasks(m, json_object_get(t, lists[k]));
    const char *ck;
    json_t *cv;
    json_object_foreach(json_object_get(t, "cases"), ck, cv) kt_index_tasks(m, cv);
}

static void kt_index_tasks(kt_map *m, const json_t *tasks)
{
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        const json_t *task = json_object_get(t, "task") && !json_object_get(t, "type") ? json_object_get(t, "task") : t;
        kt_index_task(m, task);
    }
}

kt_map *kt_exec_index_tasks(const json_t *flow)
{
    kt_map *m = kt_map_new();
    if (!m)
        return NULL;
    kt_index_tasks(m, json_object_get(flow, "tasks"));
    kt_index_tasks(m, json_object_get(flow, "errors"));
    return m;
}

const json_t *kt_exec_find_task(const json_t *flow, const char *task_id)
{
    const json_t *t = kt_find_in(json_object_get(flow, "tasks"), task_id);
    return t ? t : kt_find_in(json_object_get(flow, "errors"), task_id);
}

static const kt_task_def *kt_def(const json_t *task) { return kt_task_lookup(kt_str(task, "type")); }

static int kt_is_flowable(const json_t *task)
{
    const kt_task_def *d = kt_def(task);
    return d && d->kind == KT_PLUGIN_FLOWABLE;
}

static const char *kt_canon(const json_t *task) { return kt_task_canonical_type(kt_str(task, "type")); }

static int kt_type_is(const json_t *task, const char *short_name)
{
    const char *t = kt_canon(task);
    size_t n = strlen(t), m = strlen(short_name);
    return n > m && t[n - m - 1] == '.' && !strcmp(t + n - m, short_name);
}

/* Plain resolution: every enabled task of the list, no value. */
static void kt_resolve_plain(const json_t *tasks, kt_rlist *out)
{
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        if (json_is_true(json_object_get(t, "disabled")))
            continue;
        kt_rl_push(out, t, NULL);
    }
}

/* ---- runs ---------------------------------------------------------------------------------------- */

/* FlowableUtils.isTaskRunFor: same task id, same parent (or both top level), same value when one is resolved. */
static int kt_run_is_for(const json_t *run, const kt_res *r, const char *parent_id)
{
    if (!kt_streq(kt_str(run, "taskId"), kt_str(r->task, "id")))
        return 0;
    if (!kt_streq(kt_str(run, "parentTaskRunId"), parent_id))
        return 0;
    return !r->value || kt_streq(kt_str(run, "value"), r->value);
}

static json_t *kt_run_for(kt_pass *p, const kt_res *r, const char *parent_id)
{
    const kt_bucket *b = kt_bucket_of(p, kt_str(r->task, "id"));
    for (size_t i = b ? b->n : 0; i-- > 0;)
        if (kt_run_is_for(b->v[i].run, r, parent_id))
            return b->v[i].run; /* the last one wins */
    return NULL;
}

static int kt_slot_cmp(const void *a, const void *b)
{
    size_t x = ((const kt_slot *)a)->pos, y = ((const kt_slot *)b)->pos;
    return x < y ? -1 : x > y;
}

/* The runs of a resolved list under a parent, in taskRunList order. */
static json_t **kt_runs_collect(kt_pass *p, const kt_rlist *l, const char *parent_id, size_t *n)
{
    size_t cap = 16, k = 0;
    kt_slot *found = malloc(cap * sizeof *found);
    /* Each (task, value) of the list matches its own runs: a run has one value, so nothing is collected twice. */
    for (size_t j = 0; found && j < l->n; j++) {
        const kt_bucket *b = kt_bucket_of(p, kt_str(l->v[j].task, "id"));
        for (size_t i = 0; b && i < b->n; i++) {
            if (!kt_run_is_for(b->v[i].run, &l->v[j], parent_id))
                continue;
            if (k == cap) {
                cap *= 2;
                kt_slot *nn = realloc(found, cap * sizeof *nn);
                if (!nn)
                    break;
                found = nn;
            }
            found[k++] = b->v[i];
        }
    }
    qsort(found, k, sizeof *found, kt_slot_cmp);
    json_t **out = malloc((k ? k : 1) * sizeof *out);
    for (size_t i = 0; out && i < k; i++)
        out[i] = found[i].run;
    free(found);
    *n = out ? k : 0;
    return out;
}

static uint64_t kt_sig_str(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (h ^ 0xff) * 1099511628211ULL;
}

/* Same as kt_runs_collect, memoised for the pass; the array belongs to the pass (do not free it). */
static json_t **kt_runs_for(kt_pass *p, const kt_rlist *l, const char *parent_id, size_t *n)
{
    kt_index_sync(p);
    uint64_t sig = kt_sig_str(1469598103934665603ULL, parent_id);
    for (size_t i = 0; i < l->n; i++) {
        sig = (sig ^ (uint64_t)(uintptr_t)l->v[i].task) * 1099511628211ULL;
        sig = kt_sig_str(sig, l->v[i].value);
    }
    sig ^= l->n;
    for (size_t i = 0; i < sizeof p->memo / sizeof *p->memo; i++)
        if (p->memo[i].runs && p->memo[i].sig == sig && p->memo[i].indexed == p->indexed) {
            *n = p->memo[i].n;
            return p->memo[i].runs;
        }
    struct kt_memo *m = &p->memo[p->memo_next++ % (sizeof p->memo / sizeof *p->memo)];
    free(m->runs);
    m->runs = kt_runs_collect(p, l, parent_id, &m->n);
    m->sig = sig;
    m->indexed = p->indexed;
    *n = m->n;
    return m->runs;
}

static int kt_created(const char *s) { return kt_streq(s, "CREATED") || kt_streq(s, "RESTARTED"); }

/* Execution.isTerminated(tasks, parent): as many terminated runs as tasks. */
static int kt_all_terminated(kt_pass *p, const kt_rlist *l, const char *parent_id)
{
    size_t n, terminated = 0;
    json_t **runs = kt_runs_for(p, l, parent_id, &n);
    for (size_t i = 0; i < n; i++)
        terminated += kt_state_is_terminated(kt_state_current(runs[i]));
    return terminated >= l->n;
}

static int kt_any_in_state(kt_pass *p, const kt_rlist *l, const char *parent_id, const char *state)
{
    size_t n;
    int found = 0;
    json_t **runs = kt_runs_for(p, l, parent_id, &n);
    for (size_t i = 0; i < n && !found; i++)
        found = kt_streq(kt_state_current(runs[i]), state);
    return found;
}

static int kt_any_run(kt_pass *p, const kt_rlist *l, const char *parent_id)
{
    size_t n;
    kt_runs_for(p, l, parent_id, &n);
    return n > 0;
}

/* Execution.guessFinalState: KILLED, FAILED, WARNING, PAUSED else SUCCESS; then allowFailure / allowWarning. */
static const char *kt_guess_final(kt_pass *p, const kt_rlist *l, const char *parent_id, int allow_failure,
                                  int allow_warning)
{
    static const char *const order[] = {"KILLED", "FAILED", "WARNING", "PAUSED"};
    const char *st = "SUCCESS";
    for (size_t k = 0; k < sizeof order / sizeof *order; k++)
        if (kt_any_in_state(p, l, parent_id, order[k])) {
            st = order[k];
            break;
        }
    if (!strcmp(st, "FAILED") && allow_failure)
        st = "WARNING";
    if (!strcmp(st, "WARNING") && allow_warning)
        st = "SUCCESS";
    return st;
}

/* Execution.findTaskDependingFlowState: the errors list once a task failed (or an error task already ran), else
 * the tasks. Without retries, a FAILED run is always "failed and not retried". */
static void kt_depending(kt_pass *p, const kt_rlist *tasks, const kt_rlist *errors, const char *parent_id,
                         kt_rlist *out)
{
    int use_errors = (errors && errors->n && kt_any_run(p, errors, parent_id)) ||
                     kt_any_in_state(p, tasks, parent_id, "FAILED");
    const kt_rlist *src = use_errors ? errors : tasks;
    memset(out, 0, sizeof *out);
    out->absent = tasks->absent && !use_errors;
    if (src)
        for (size_t i = 0; i < src->n; i++)
            kt_rl_push(out, src->v[i].task, src->v[i].value);
}

/* ---- creating runs ------------------------------------------------------------------------------- */

static json_t *kt_create_run(kt_pass *p, const kt_res *r, const json_t *parent)
{
    const char *parent_id = parent ? kt_str(parent, "id") : NULL;
    if (kt_run_for(p, r, parent_id))
        return NULL; /* JdbcExecutor.deduplicateNexts: one run per (parent, task, value) */
    char id[KT_ID_LEN + 1];
    p->idgen(id);
    json_t *run = kt_taskrun_add(p->ex, id, kt_str(r->task, "id"), parent_id, r->value, p->now);
    kt_touch(p, json_array_size(kt_runs(p)) - 1);
    if (kt_streq(kt_state_current(p->ex), "CREATED"))
        kt_state_set(json_object_get(p->ex, "state"), "RUNNING", p->now); /* "Flow started" */
    return run;
}

/* FlowableUtils.resolveSequentialNexts */
static void kt_next_sequential(kt_pass *p, const kt_rlist *cur, const json_t *parent)
{
    const char *parent_id = parent ? kt_str(parent, "id") : NULL;
    if (!cur->n || kt_streq(kt_state_current(p->ex), "KILLING"))
        return;
    size_t n;
    json_t **runs = kt_runs_for(p, cur, parent_id, &n);
    if (n == 0) {
        kt_create_run(p, &cur->v[0], parent);
        return;
    }
    long last = -1;
    for (size_t i = 0; i < n; i++) {
        const char *s = kt_state_current(runs[i]);
        if (kt_created(s) || kt_state_is_running(s))
            return;
        if (kt_state_is_terminated(s))
            last = (long)i;
    }
    if (last >= 0 && cur->n > (size_t)last + 1)
        kt_create_run(p, &cur->v[last + 1], parent);
}

/* FlowableUtils.resolveParallelNexts (and resolveDagNexts when deps is set) */
static void kt_next_parallel(kt_pass *p, const kt_rlist *cur, const json_t *parent, long concurrent,
                             const json_t *dag)
{
    const char *parent_id = parent ? kt_str(parent, "id") : NULL;
    if (!cur->n || kt_streq(kt_state_current(p->ex), "KILLING"))
        return;
    size_t n, running = 0;
    int created = 0;
    json_t **runs = kt_runs_for(p, cur, parent_id, &n);
    for (size_t i = 0; i < n; i++) {
        const char *s = kt_state_current(runs[i]);
        running += kt_state_is_running(s);
        created |= kt_created(s);
    }
    if ((concurrent > 0 && (long)running > concurrent) || created)
        return;
    long slots = concurrent > 0 ? concurrent - (long)running : -1;
    for (size_t j = 0; j < cur->n && slots != 0; j++) {
        if (kt_run_for(p, &cur->v[j], parent_id))
            continue;
        if (dag) { /* every dependsOn id has a terminated run in this Dag */
            const json_t *deps = NULL;
            size_t i;
            json_t *entry;
            json_array_foreach(dag, i, entry) if (json_object_get(entry, "task") == cur->v[j].task) deps =
                json_object_get(entry, "dependsOn");
            int ready = 1;
            json_t *d;
            json_array_foreach(deps, i, d) {
                kt_res dep = {kt_find_in(dag, json_string_value(d)), NULL};
                json_t *dr = dep.task ? kt_run_for(p, &dep, parent_id) : NULL;
                if (!dr || !kt_state_is_terminated(kt_state_current(dr)))
                    ready = 0;
            }
            if (!ready)
                continue;
        }
        kt_create_run(p, &cur->v[j], parent);
        if (slots > 0)
            slots--;
    }
}

/* FlowableUtils.resolveConcurrentNexts (ForEach with concurrencyLimit != 1): at most `limit` open runs; on each
 * pass the next task without a run of each value group, in value order. */
static void kt_next_concurrent(kt_pass *p, const kt_rlist *cur, const json_t *parent, long limit)
{
    const char *parent_id = parent ? kt_str(parent, "id") : NULL;
    if (!cur->n || kt_streq(kt_state_current(p->ex), "KILLING"))
        return;
    size_t n, open = 0;
    json_t **runs = kt_runs_for(p, cur, parent_id, &n);
    for (size_t i = 0; i < n; i++)
        open += !kt_state_is_terminated(kt_state_current(runs[i]));
    if (limit > 0 && (long)open >= limit)
        return;
    size_t slots = limit > 0 ? (size_t)(limit - (long)open) : cur->n;
    kt_res *pick = calloc(cur->n, sizeof *pick);
    size_t take = 0;
    if (!pick)
        return;
    for (size_t j = 0; j < cur->n && take < slots; j++) {
        int first_of_group = 1;
        for (size_t k = 0; k < j && first_of_group; k++)
            first_of_group = !kt_streq(cur->v[k].value, cur->v[j].value);
        if (!first_of_group)
            continue;
        for (size_t k = j; k < cur->n; k++) { /* the group's first task without a run (its first task at the start) */
            if (!kt_streq(cur->v[k].value, cur->v[j].value))
                continue;
            if (!kt_run_for(p, &cur->v[k], parent_id)) {
                pick[take++] = cur->v[k];
                break;
            }
            if (n == 0)
                break;
        }
    }
    /* With no run yet, Kestra emits the first tasks in reverse order. */
    for (size_t k = 0; k < take; k++)
        kt_create_run(p, n == 0 ? &pick[take - 1 - k] : &pick[k], parent);
    free(pick);
}

/* ---- flowable tasks: their children and their state ---------------------------------------------- */

/* ForEach values / Each value: a list, or a string rendering to a JSON array; distinct values as strings. */
static int kt_loop_values(kt_pass *p, const json_t *task, const json_t *run, json_t **values, char *err, size_t cap)
{
    const json_t *spec = json_object_get(task, kt_type_is(task, "ForEach") ? "values" : "value");
    json_t *ctx = kt_render_context(p->f->flow, p->ex, task, run), *list = NULL;
    kt_expr_error e = {0};
    int rc = -1;
    if (json_is_string(spec)) {
        json_t *r = NULL;
        if (kt_expr_render_json_cached(p->f->templates, spec, ctx, &r, &e)) {
            snprintf(err, cap, "%s", e.message);
            goto done;
        }
        json_error_t je;
        list = json_loads(json_string_value(r), JSON_DECODE_ANY, &je);
        json_decref(r);
        if (!json_is_array(list)) {
            snprintf(err, cap, "Unable to parse '%s' as a JSON array", json_string_value(spec));
            goto done;
        }
    } else if (json_is_array(spec)) {
        if (kt_expr_render_json_cached(p->f->templates, spec, ctx, &list, &e)) {
            snprintf(err, cap, "%s", e.message);
            goto done;
        }
    } else {
        snprintf(err, cap, "Unknown value type: %s", spec ? "java.util.LinkedHashMap" : "null");
        goto done;
    }
    *values = json_array();
    size_t i, nulls = 0;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (json_is_null(v)) {
            nulls++;
            continue;
        }
        char *s = json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        int dup = 0;
        size_t k;
        json_t *x;
        json_array_foreach(*values, k, x) dup |= !strcmp(json_string_value(x), s);
        if (!dup)
            json_array_append_new(*values, json_string(s));
        free(s);
    }
    if (nulls) {
        char *d = kt_input_java_string(list); /* Java's List.toString: [1, null, {key=v}] */
        snprintf(err, cap, "Found '%zu' null values on Each, with values=%s", nulls, d ? d : "[]");
        free(d);
        json_decref(*values);
        *values = NULL;
        goto done;
    }
    rc = 0;
done:
    json_decref(list);
    json_decref(ctx);
    return rc;
}

/* The children of a flowable run: its normal list (tasks, with loop values, or the chosen If/Switch branch) and
 * its errors. Returns -1 (and logs) when they cannot be resolved. */
static int kt_children(kt_pass *p, const json_t *task, json_t *run, kt_rlist *tasks, kt_rlist *errors)
{
    memset(tasks, 0, sizeof *tasks);
    memset(errors, 0, sizeof *errors);
    kt_resolve_plain(json_object_get(task, "errors"), errors);
    json_t *outputs = json_object_get(run, "outputs");
    if (kt_type_is(task, "If")) {
        int yes = json_is_true(json_object_get(outputs, "evaluationResult"));
        kt_resolve_plain(json_object_get(task, yes ? "then" : "else"), tasks);
        return 0;
    }
    if (kt_type_is(task, "Switch")) {
        const char *value = kt_str(outputs, "value");
        const json_t *chosen = value ? json_object_get(json_object_get(task, "cases"), value) : NULL;
        if (!json_is_array(chosen))
            chosen = json_object_get(task, "defaults");
        if (!json_is_array(chosen)) /* `defaults: null` is no defaults */
            tasks->absent = 1;
        kt_resolve_plain(chosen, tasks);
        return 0;
    }
    if (kt_type_is(task, "Dag")) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(task, "tasks"), i, e) {
            const json_t *t = json_object_get(e, "task");
            if (t && !json_is_true(json_object_get(t, "disabled")))
                kt_rl_push(tasks, t, NULL);
        }
        return 0;
    }
    if (kt_type_is(task, "ForEach") || kt_type_is(task, "EachSequential") || kt_type_is(task, "EachParallel")) {
        json_t *values = NULL;
        char err[512];
        if (kt_loop_values(p, task, run, &values, err, sizeof err)) {
            kt_log(p, run, "ERROR", "Unable to resolve the next tasks to run: %s", err);
            return -1;
        }
        tasks->hold = values;
        size_t i;
        json_t *v;
        json_array_foreach(values, i, v) {
            size_t k;
            json_t *t;
            json_array_foreach(json_object_get(task, "tasks"), k, t) {
                if (!json_is_true(json_object_get(t, "disabled")))
                    kt_rl_push(tasks, t, json_string_value(v));
            }
        }
        return 0;
    }
    kt_resolve_plain(json_object_get(task, "tasks"), tasks); /* Sequential, Parallel, AllowFailure */
    return 0;
}

static long kt_int_prop(const json_t *task, const char *name, long dflt)
{
    json_t *v = json_object_get(task, name);
    if (json_is_integer(v))
        return (long)json_integer_value(v);
    if (json_is_string(v))
        return strtol(json_string_value(v), NULL, 10);
    return dflt;
}

/* task.resolveNexts for a running flowable run */
static void kt_flowable_nexts(kt_pass *p, const json_t *task, json_t *run)
{
    kt_rlist tasks, errors, cur;
    if (kt_type_is(task, "Pause") && (!kt_was_paused(run) || kt_streq(kt_state_current(run), "PAUSED")))
        return; /* a Pause's (deprecated) subtasks run only after it was resumed */
    if (kt_children(p, task, run, &tasks, &errors))
        return;
    const char *id = kt_str(run, "id");
    kt_depending(p, &tasks, &errors, id, &cur);
    int on_errors = cur.n && errors.n && cur.v[0].task == errors.v[0].task && !cur.v[0].value;
    if (on_errors) {
        kt_next_sequential(p, &cur, run);
    } else if (kt_type_is(task, "Parallel")) {
        kt_next_parallel(p, &cur, run, kt_int_prop(task, "concurrent", 0), NULL);
    } else if (kt_type_is(task, "EachParallel")) {
        kt_next_parallel(p, &cur, run, kt_int_prop(task, "concurrent", 0), NULL);
    } else if (kt_type_is(task, "Dag")) {
        kt_next_parallel(p, &cur, run, kt_int_prop(task, "concurrent", 0), json_object_get(task, "tasks"));
    } else if (kt_type_is(task, "ForEach") && kt_int_prop(task, "concurrencyLimit", 1) != 1) {
        kt_next_concurrent(p, &cur, run, kt_int_prop(task, "concurrencyLimit", 1));
    } else {
        kt_next_sequential(p, &cur, run);
    }
    kt_rl_free(&cur);
    kt_rl_free(&tasks);
    kt_rl_free(&errors);
}

/* task.resolveState for a running flowable run: a state, or NULL while children are still going. */
static const char *kt_flowable_state(kt_pass *p, const json_t *task, json_t *run)
{
    int allow_failure = json_is_true(json_object_get(task, "allowFailure"));
    int allow_warning = json_is_true(json_object_get(task, "allowWarning"));
    kt_rlist tasks, errors, cur;
    if (kt_children(p, task, run, &tasks, &errors)) {
        kt_rl_free(&tasks);
        kt_rl_free(&errors);
        return allow_failure ? (allow_warning ? "SUCCESS" : "WARNING") : "FAILED";
    }
    const char *id = kt_str(run, "id");
    const char *st = NULL;
    if (kt_type_is(task, "Pause") && !kt_was_paused(run)) {
        st = "PAUSED";
        goto done;
    }
    if (kt_type_is(task, "Pause") && !tasks.n) {
        st = "SUCCESS";
        goto done;
    }
    int is_loop = kt_type_is(task, "ForEach") || kt_type_is(task, "EachSequential") || kt_type_is(task, "EachParallel");
    if (is_loop && tasks.n == 0) {
        st = "SUCCESS"; /* no values */
        goto done;
    }
    if (kt_type_is(task, "If") && tasks.n == 0 && !kt_any_run(p, &errors, id)) {
        st = "SUCCESS"; /* empty branch */
        goto done;
    }
    kt_depending(p, &tasks, &errors, id, &cur);
    if (cur.absent) {
        kt_log(p, run, "WARN", "No task found on flow '%s.%s', task '%s', execution '%s'", kt_str(p->ex, "namespace"),
               kt_str(p->ex, "flowId"), kt_str(task, "id"), kt_str(p->ex, "id"));
        st = allow_failure ? (allow_warning ? "SUCCESS" : "WARNING") : "FAILED";
    } else if ((cur.n && kt_all_terminated(p, &cur, id)) ||
               (!cur.n && kt_any_in_state(p, &tasks, id, "FAILED"))) {
        st = kt_guess_final(p, &tasks, id, allow_failure, allow_warning);
        if (kt_type_is(task, "AllowFailure") && !strcmp(st, "FAILED"))
            st = allow_warning ? "SUCCESS" : "WARNING";
    }
    kt_rl_free(&cur);
done:
    kt_rl_free(&tasks);
    kt_rl_free(&errors);
    return st;
}

static void kt_add_timer(kt_pass *p, const json_t *run, const char *command, int64_t at)
{
    kt_exec_effects *fx = p->fx;
    if (fx->ntimers == KT_EXEC_MAX_TIMERS)
        return;
    kt_exec_timer *t = &fx->timers[fx->ntimers++];
    snprintf(t->taskrun_id, sizeof t->taskrun_id, "%s", kt_str(run, "id"));
    snprintf(t->command, sizeof t->command, "%s", command);
    t->at_us = at;
}

/* ---- Pause (KESTRA-execution.md §2.11) ------------------------------------------------------------ */

static int kt_was_paused(const json_t *run)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(json_object_get(run, "state"), "histories"), i, h) if (
        kt_streq(kt_str(h, "state"), "PAUSED")) return 1;
    return 0;
}

static int kt_render_prop(kt_pass *p, const json_t *task, const json_t *run, const char *prop, char **out, char *err,
                          size_t cap);

/* The Pause's delay (resume) or else timeout (fail), from the date it paused. */
static void kt_pause_timers(kt_pass *p, const json_t *task, const json_t *run)
{
    const char *prop = json_object_get(task, "delay") ? "delay" : json_object_get(task, "timeout") ? "timeout" : NULL;
    if (!prop)
        return;
    char *v = NULL, err[512];
    int64_t us, paused_at = p->now;
    if (kt_render_prop(p, task, run, prop, &v, err, sizeof err) || !v || kt_duration_parse(v, &us)) {
        kt_log(p, run, "ERROR", "Invalid %s '%s' on Pause", prop, v ? v : err);
        free(v);
        return;
    }
    free(v);
    const json_t *h = json_object_get(json_object_get(run, "state"), "histories");
    size_t i;
    json_t *e;
    json_array_foreach(h, i, e) if (kt_streq(kt_str(e, "state"), "PAUSED")) kt_time_parse(kt_str(e, "date"), &paused_at);
    kt_add_timer(p, run, strcmp(prop, "delay") ? "PAUSE_TIMEOUT" : "RESUME_FLOW", paused_at + us);
}

/* ---- starting CREATED runs ----------------------------------------------------------------------- */

static void kt_dispatch(kt_pass *p, json_t *run)
{
    json_t *attempts = json_object_get(run, "attempts");
    if (!json_is_array(attempts)) {
        attempts = json_array();
        json_object_set_new(run, "attempts", attempts);
    }
    json_t *st = kt_state_new("CREATED", p->now);
    kt_state_set(st, "RUNNING", p->now);
    json_array_append_new(attempts, json_pack("{s:o}", "state", st));
    kt_state_set(json_object_get(run, "state"), "RUNNING", p->now);
    kt_touch(p, kt_index_of(p, run));
    kt_exec_effects *fx = p->fx;
    if (fx->ndispatch == KT_EXEC_MAX_DISPATCH) {
        fx->dispatch_overflow = 1;
        return;
    }
    kt_exec_dispatch *d = &fx->dispatch[fx->ndispatch++];
    d->taskrun_id = kt_str(run, "id");
    d->task_id = kt_str(run, "taskId");
    d->attempt = (uint32_t)(json_array_size(attempts) - 1);
}

/* Renders one property of a task in the run's context. */
static int kt_render_prop(kt_pass *p, const json_t *task, const json_t *run, const char *prop, char **out, char *err,
                          size_t cap)
{
    json_t *v = json_object_get(task, prop), *r = NULL;
    if (!v) {
        *out = NULL;
        return 0;
    }
    json_t *ctx = kt_render_context(p->f->flow, p->ex, task, run);
    kt_expr_error e = {0};
    int rc = kt_expr_render_json_cached(p->f->templates, v, ctx, &r, &e) ? -1 : 0;
    json_decref(ctx);
    if (rc) {
        snprintf(err, cap, "%s", e.message);
        return -1;
    }
    *out = json_is_string(r) ? strdup(json_string_value(r)) : json_dumps(r, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(r);
    return 0;
}

/* Labels runs in the executor: merge the rendered labels into the execution (2.2 step 9). */
static void kt_run_labels(kt_pass *p, const json_t *task, json_t *run)
{
    json_t *ctx = kt_render_context(p->f->flow, p->ex, task, run), *r = NULL;
    kt_expr_error e = {0};
    char err[600] = "";
    json_t *spec = json_object_get(task, "labels");
    json_t *list = NULL;
    if (kt_expr_render_json_cached(p->f->templates, spec, ctx, &r, &e)) {
        snprintf(err, sizeof err, "%s", e.message);
    } else {
        if (json_is_string(r)) { /* a string rendering to a JSON object */
            json_t *parsed = json_loads(json_string_value(r), 0, NULL);
            json_decref(r);
            r = parsed;
        }
        list = kt_labels_normalize(r, err, sizeof err);
    }
    json_decref(ctx);
    json_decref(r);
    size_t i;
    json_t *l;
    json_array_foreach(list, i, l) {
        if (!strncmp(kt_str(l, "key"), "system.", 7)) {
            snprintf(err, sizeof err, "System labels can only be set by Kestra itself, offending label: %s=%s",
                     kt_str(l, "key"), kt_str(l, "value"));
            break;
        }
    }
    json_t *attempt_state = kt_state_new("CREATED", p->now);
    kt_state_set(attempt_state, "RUNNING", p->now);
    if (!err[0]) {
        json_t *labels = json_object_get(p->ex, "labels");
        json_array_foreach(list, i, l) {
            size_t k;
            json_t *old;
            int replaced = 0;
            json_array_foreach(labels, k, old) if (kt_streq(kt_str(old, "key"), kt_str(l, "key"))) {
                json_object_set(old, "value", json_object_get(l, "value"));
                replaced = 1;
            }
            if (!replaced)
                json_array_append(labels, l);
        }
        p->fx->touched_all = 1; /* the execution header changed: its row is always rewritten anyway */
    } else {
        kt_log(p, run, "ERROR", "%s", err);
    }
    json_decref(list);
    kt_state_set(attempt_state, err[0] ? "FAILED" : "SUCCESS", p->now);
    json_object_set_new(run, "attempts", json_pack("[{s:o}]", "state", attempt_state));
    json_object_set_new(run, "outputs", json_object());
    kt_state_set(json_object_get(run, "state"), "RUNNING", p->now);
    kt_run_set_state(p, run, err[0] ? "FAILED" : "SUCCESS");
}

static int kt_bool_prop(const json_t *task, const char *name, int dflt)
{
    json_t *v = json_object_get(task, name);
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_string(v))
        return !strcmp(json_string_value(v), "true");
    return dflt;
}

/* Subflow (§2.16): RUNNING with one attempt; the caller creates the child execution from the rendered spec. */
static void kt_start_subflow(kt_pass *p, const json_t *task, json_t *run)
{
    json_t *st = kt_state_new("CREATED", p->now);
    kt_state_set(st, "RUNNING", p->now);
    json_object_set_new(run, "attempts", json_pack("[{s:o}]", "state", st));
    kt_run_set_state(p, run, "RUNNING");
    json_t *ctx = kt_render_context(p->f->flow, p->ex, task, run), *spec = json_object();
    static const char *const dynamic[] = {"namespace", "flowId", "revision", "inputs", "labels", "scheduleDate"};
    kt_expr_error e = {0};
    for (size_t i = 0; i < sizeof dynamic / sizeof *dynamic; i++) {
        json_t *v = json_object_get(task, dynamic[i]), *r = NULL;
        if (!v)
            continue;
        if (kt_expr_render_json_cached(p->f->templates, v, ctx, &r, &e)) {
            kt_log(p, run, "ERROR", "%s", e.message);
            json_decref(ctx);
            json_decref(spec);
            kt_run_set_state(p, run, "FAILED");
            return;
        }
        json_object_set_new(spec, dynamic[i], r);
    }
    json_decref(ctx);
    json_object_set_new(spec, "wait", json_boolean(kt_bool_prop(task, "wait", 1)));
    json_object_set_new(spec, "inheritLabels", json_boolean(kt_bool_prop(task, "inheritLabels", 0)));
    json_object_set(spec, "taskId", json_object_get(task, "id"));
    json_object_set(spec, "taskType", json_object_get(task, "type"));
    kt_exec_effects *fx = p->fx;
    if (fx->nsubflows == KT_EXEC_MAX_SUBFLOWS) {
        kt_log(p, run, "ERROR", "too many subflows started at once");
        json_decref(spec);
        kt_run_set_state(p, run, "FAILED");
        return;
    }
    snprintf(fx->subflows[fx->nsubflows].taskrun_id, sizeof fx->subflows[0].taskrun_id, "%s", kt_str(run, "id"));
    fx->subflows[fx->nsubflows++].spec = spec;
}

/* The child's end as the Subflow run's state: ExecutableUtils.guessState. */
static kt_status kt_apply_subflow(kt_pass *p, const kt_exec_event *ev)
{
    size_t index;
    json_t *tr = kt_taskrun_find_at(p->ex, ev->taskrun_id, &index);
    if (!tr)
        return KT_ENOTFOUND;
    if (kt_state_is_terminated(kt_state_current(tr)) || !ev->state) {
        p->fx->stale = 1;
        return KT_OK;
    }
    const json_t *task = kt_task_of(p, kt_str(tr, "taskId"));
    const char *child = ev->state, *st = "SUCCESS";
    if (!strcmp(child, "RUNNING")) { /* the child exists: remember which one, keep waiting */
        if (ev->outputs)
            json_object_set_new(tr, "outputs", json_deep_copy(ev->outputs));
        kt_touch(p, index);
        return KT_OK;
    }
    if (kt_bool_prop(task, "transmitFailed", 1) &&
        (!strcmp(child, "FAILED") || !strcmp(child, "PAUSED") || !strcmp(child, "KILLED") || !strcmp(child, "WARNING")))
        st = child;
    if (!strcmp(st, "FAILED") && json_is_true(json_object_get(task, "allowFailure")))
        st = "WARNING";
    if (!strcmp(st, "WARNING") && json_is_true(json_object_get(task, "allowWarning")))
        st = "SUCCESS";
    json_object_set_new(tr, "outputs", ev->outputs ? json_deep_copy(ev->outputs) : json_object());
    json_t *attempts = json_object_get(tr, "attempts");
    size_t n = json_array_size(attempts);
    if (n && !kt_state_is_terminated(kt_state_current(json_array_get(attempts, n - 1))))
        kt_state_set(json_object_get(json_array_get(attempts, n - 1), "state"), st, p->now);
    kt_state_set(json_object_get(tr, "state"), st, p->now);
    kt_touch(p, index);
    return KT_OK;
}

/* handleWorkerTask and friends: every CREATED run starts. */
static void kt_start_run(kt_pass *p, json_t *run)
{
    const json_t *task = kt_task_of(p, kt_str(run, "taskId"));
    char err[600] = "";
    if (!task) {
        kt_log(p, run, "ERROR", "task '%s' is not in this flow revision", kt_str(run, "taskId"));
        kt_run_set_state(p, run, "FAILED");
        return;
    }
    const kt_task_def *def = kt_def(task);
    if (json_object_get(task, "runIf") && (!def || def->kind == KT_PLUGIN_RUNNABLE || def->kind == KT_PLUGIN_FLOWABLE)) {
        char *v = NULL;
        if (kt_render_prop(p, task, run, "runIf", &v, err, sizeof err)) {
            kt_log(p, run, "ERROR", "Unable to evaluate the runIf condition for task %s: %s", kt_str(task, "id"), err);
            kt_run_set_state(p, run, "FAILED");
            return;
        }
        int yes = kt_truthy(v);
        free(v);
        if (!yes) {
            kt_run_set_state(p, run, "SKIPPED");
            return;
        }
    }
    if (def && def->kind == KT_PLUGIN_EXEC_UPDATE) {
        kt_run_labels(p, task, run);
        return;
    }
    if (def && def->kind == KT_PLUGIN_EXECUTABLE && kt_type_is(task, "Subflow")) {
        kt_start_subflow(p, task, run);
        return;
    }
    if (!def || def->kind == KT_PLUGIN_RUNNABLE) { /* unknown types go to the worker, which says it cannot run them */
        kt_dispatch(p, run);
        return;
    }
    if (def->kind != KT_PLUGIN_FLOWABLE || kt_type_is(task, "WaitFor") ||
        kt_type_is(task, "WorkingDirectory") || kt_type_is(task, "Template") || kt_type_is(task, "ForEachItem")) {
        kt_log(p, run, "ERROR", "Task type '%s' is not supported by this executor yet", kt_str(task, "type"));
        kt_run_set_state(p, run, "FAILED");
        return;
    }
    /* A flowable: RUNNING at once, with the outputs it decides from (saveFlowableOutput). */
    json_t *outputs = json_object();
    if (kt_type_is(task, "If")) {
        char *v = NULL;
        if (kt_render_prop(p, task, run, "condition", &v, err, sizeof err)) {
            kt_log(p, run, "ERROR", "Unable to resolve the next tasks to run: %s", err);
            json_decref(outputs);
            kt_run_set_state(p, run, "RUNNING");
            kt_run_set_state(p, run, "FAILED");
            return;
        }
        json_object_set_new(outputs, "evaluationResult", json_boolean(kt_truthy(v)));
        free(v);
    } else if (kt_type_is(task, "Switch")) {
        char *v = NULL;
        if (kt_render_prop(p, task, run, "value", &v, err, sizeof err)) {
            kt_log(p, run, "ERROR", "Unable to resolve the next tasks to run: %s", err);
            json_decref(outputs);
            kt_run_set_state(p, run, "RUNNING");
            kt_run_set_state(p, run, "FAILED");
            return;
        }
        json_object_set_new(outputs, "value", json_string(v ? v : ""));
        json_object_set_new(outputs, "defaults",
                            json_boolean(!v || !json_object_get(json_object_get(task, "cases"), v)));
        free(v);
    }
    json_object_set_new(run, "outputs", outputs);
    kt_run_set_state(p, run, "RUNNING");
}

/* ---- the pass ------------------------------------------------------------------------------------ */

/* Flow outputs (KESTRA-execution.md §4.7): rendered in the execution's context, typed like inputs. Returns -1 and
 * logs when one fails, which appends FAILED after the final state. */
static int kt_flow_outputs(kt_pass *p)
{
    const json_t *defs = json_object_get(p->f->flow, "outputs");
    if (!json_array_size(defs))
        return 0;
    json_t *raw = json_object(), *rendered = NULL, *typed = json_object();
    size_t i;
    json_t *d;
    json_array_foreach(defs, i, d) {
        const char *id = kt_str(d, "id");
        if (id)
            json_object_set(raw, id, json_object_get(d, "value") ? json_object_get(d, "value") : json_null());
    }
    json_t *ctx = kt_render_context(p->f->flow, p->ex, NULL, NULL);
    kt_expr_error e = {0};
    int rc = 0;
    if (kt_expr_render_json_cached(p->f->templates, raw, ctx, &rendered, &e)) {
        kt_log(p, NULL, "ERROR", "Failed to render output values: %s", e.message);
        rc = -1;
        goto done;
    }
    json_array_foreach(defs, i, d) {
        const char *id = kt_str(d, "id");
        char *err = NULL;
        json_t *v = id ? kt_input_parse_value(d, json_object_get(rendered, id), &err) : NULL;
        if (!v) {
            char *got = kt_input_java_string(json_object_get(rendered, id));
            kt_log(p, NULL, "ERROR", "Failed to render output values: Invalid output for `%s`, %s, but received `%s`",
                   id ? id : "?", err ? err : "invalid value", got ? got : "null");
            free(got);
            free(err);
            rc = -1;
            goto done;
        }
        json_object_set_new(typed, id, v);
    }
    if (json_object_size(typed))
        json_object_set(p->ex, "outputs", typed);
done:
    json_decref(ctx);
    json_decref(raw);
    json_decref(rendered);
    json_decref(typed);
    return rc;
}

static void kt_on_end(kt_pass *p)
{
    kt_rlist tasks = {0};
    kt_resolve_plain(json_object_get(p->f->flow, "tasks"), &tasks);
    const char *st = kt_guess_final(p, &tasks, NULL, 0, 0);
    kt_rl_free(&tasks);
    if (kt_streq(kt_state_current(p->ex), "CREATED"))
        kt_state_set(json_object_get(p->ex, "state"), "RUNNING", p->now);
    kt_state_set(json_object_get(p->ex, "state"), st, p->now);
    if (kt_flow_outputs(p))
        kt_state_set(json_object_get(p->ex, "state"), "FAILED", p->now);
    p->fx->changed = 1;
    p->fx->ended = 1;
    p->changed = 1;
}

/* One Kestra `process` pass; returns 1 when it ended the execution. */
static int kt_process(kt_pass *p)
{
    kt_rlist tasks = {0}, errors = {0}, cur;
    kt_resolve_plain(json_object_get(p->f->flow, "tasks"), &tasks);
    kt_resolve_plain(json_object_get(p->f->flow, "errors"), &errors);
    kt_depending(p, &tasks, &errors, NULL, &cur);
    int ended = 0;
    /* handleEnd (not while a retry is pending) */
    if (!kt_streq(kt_state_current(p->ex), "RETRYING") && kt_all_terminated(p, &cur, NULL)) {
        kt_on_end(p);
        ended = 1;
        goto done;
    }
    /* handleNext (top level) */
    kt_next_sequential(p, &cur, NULL);
    /* handleChildNext, then handleWorkerTask, then handleChildWorkerTaskResult, each over a snapshot of the list
     * as it is when the step begins (runs appended during a step are handled in the next pass). */
    size_t n = json_array_size(kt_runs(p));
    for (size_t i = 0; i < n; i++) {
        json_t *run = json_array_get(kt_runs(p), i);
        if (!kt_state_is_running(kt_state_current(run)))
            continue;
        const json_t *task = kt_task_of(p, kt_str(run, "taskId"));
        if (task && kt_is_flowable(task))
            kt_flowable_nexts(p, task, run);
    }
    n = json_array_size(kt_runs(p));
    for (size_t i = 0; i < n; i++) {
        json_t *run = json_array_get(kt_runs(p), i);
        if (kt_created(kt_state_current(run)))
            kt_start_run(p, run);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *run = json_array_get(kt_runs(p), i);
        if (!kt_state_is_running(kt_state_current(run)))
            continue;
        const json_t *task = kt_task_of(p, kt_str(run, "taskId"));
        if (!task || !kt_is_flowable(task))
            continue;
        const char *st = kt_flowable_state(p, task, run);
        if (st)
            kt_run_set_state(p, run, st);
        if (st && !strcmp(st, "PAUSED")) {
            kt_state_set(json_object_get(p->ex, "state"), "PAUSED", p->now);
            kt_pause_timers(p, task, run);
        }
    }
done:
    kt_rl_free(&cur);
    kt_rl_free(&tasks);
    kt_rl_free(&errors);
    return ended;
}

/* ---- events -------------------------------------------------------------------------------------- */

/* The retry policy of a failed run: its task's own, else the nearest ancestor flowable's, else the flow's. */
static const json_t *kt_retry_policy(kt_pass *p, const json_t *run, const json_t *task, int *own)
{
    *own = 0;
    if (json_object_get(task, "retry")) {
        *own = 1;
        return json_object_get(task, "retry");
    }
    kt_index_sync(p);
    for (const char *pid = kt_str(run, "parentTaskRunId"); pid;) {
        uintptr_t pos = (uintptr_t)kt_map_get(p->by_id, pid);
        const json_t *parent = pos ? json_array_get(kt_runs(p), pos - 1) : NULL;
        if (!parent)
            break;
        const json_t *ptask = kt_task_of(p, kt_str(parent, "taskId"));
        if (json_object_get(ptask, "retry"))
            return json_object_get(ptask, "retry");
        pid = kt_str(parent, "parentTaskRunId");
    }
    return json_object_get(p->f->flow, "retry");
}

/* A deterministic draw in [0, 1) for random retry intervals, so a step stays a pure function of its inputs. */
static double kt_retry_draw(const json_t *run)
{
    uint64_t h = kt_sig_str(1469598103934665603ULL, kt_str(run, "id")) + kt_taskrun_attempts(run);
    return (double)(h % 1000003) / 1000003.0;
}

/* A failed attempt with a retry due: the run and the execution go RETRYING until the timer brings it back. */
static int kt_schedule_retry(kt_pass *p, json_t *run, size_t index, const json_t *task, int64_t at)
{
    (void)task;
    kt_state_set(json_object_get(run, "state"), "FAILED", p->now);
    kt_state_set(json_object_get(run, "state"), "RETRYING", p->now);
    kt_touch(p, index);
    kt_add_timer(p, run, "RETRY", at);
    return 1;
}

static kt_status kt_apply_result(kt_pass *p, const kt_exec_event *ev)
{
    size_t index;
    json_t *tr = kt_taskrun_find_at(p->ex, ev->taskrun_id, &index);
    if (!tr)
        return KT_ENOTFOUND;
    size_t n = kt_taskrun_attempts(tr);
    if (kt_state_is_terminated(kt_state_current(tr)) || n == 0 || ev->attempt != n - 1) {
        p->fx->stale = 1; /* a duplicate, or a late answer from an attempt we already replaced */
        return KT_OK;
    }
    if (!kt_state_is_valid(ev->state) || !kt_state_is_terminated(ev->state))
        return KT_EINVAL;
    const char *state = ev->state;
    const json_t *task = kt_task_of(p, kt_str(tr, "taskId"));
    json_t *attempt = json_array_get(json_object_get(tr, "attempts"), n - 1);
    kt_state_set(json_object_get(attempt, "state"), state, ev->ended_us);
    json_object_set_new(tr, "outputs", ev->outputs ? json_deep_copy(ev->outputs) : json_object());
    const json_t *own_policy = json_object_get(task, "retry");
    if (!strcmp(state, "SUCCESS") && own_policy && kt_retry_warns(own_policy, n - 1))
        state = "WARNING"; /* warningOnRetry (§5.4) */
    if (!strcmp(state, "FAILED") && task) {
        /* Retries (§2.7): RETRY_FAILED_TASK re-runs the same task run as a new attempt once the delay is over. */
        int own;
        const json_t *policy = kt_retry_policy(p, tr, task, &own);
        int64_t at = 0;
        char err[256];
        int due = 0;
        if (policy && kt_retry_creates_execution(policy))
            kt_log(p, tr, "WARN", "retry behavior CREATE_NEW_EXECUTION is not supported yet: the task is not retried");
        else if (policy && (due = kt_retry_next(policy, tr, kt_retry_draw(tr), &at, err, sizeof err)) < 0)
            kt_log(p, tr, "ERROR", "%s", err);
        if (due > 0) {
            if (own && !kt_str(tr, "parentTaskRunId")) /* Kestra ends the execution FAILED before deciding (§2.7) */
                kt_state_set(json_object_get(p->ex, "state"), "FAILED", p->now);
            kt_state_set(json_object_get(p->ex, "state"), "RETRYING", p->now);
            return kt_schedule_retry(p, tr, index, task, at) ? KT_OK : KT_OK;
        }
    }
    /* Worker rules (2.4 step 6): allowFailure turns FAILED into WARNING, allowWarning WARNING into SUCCESS. */
    if (!strcmp(state, "FAILED") && task && json_is_true(json_object_get(task, "allowFailure")))
        state = "WARNING";
    if (!strcmp(state, "WARNING") && task && json_is_true(json_object_get(task, "allowWarning")))
        state = "SUCCESS";
    kt_state_set(json_object_get(tr, "state"), state, ev->ended_us);
    kt_touch(p, index);
    return KT_OK;
}

/* ExecutionService.resume / markAs: the paused run takes the new state, its flowable ancestors run again, and the
 * execution restarts unless another run is still paused. */
static kt_status kt_resume(kt_pass *p, const kt_exec_event *ev)
{
    json_t *runs = kt_runs(p), *paused = NULL, *tr;
    size_t i, npaused = 0;
    json_array_foreach(runs, i, tr) {
        if (!kt_streq(kt_state_current(tr), "PAUSED"))
            continue;
        npaused++;
        if (!paused && (!ev->taskrun_id || !*ev->taskrun_id || kt_streq(kt_str(tr, "id"), ev->taskrun_id)))
            paused = tr;
    }
    const char *state = ev->state ? ev->state : "RUNNING";
    if (!paused) {
        if (!kt_streq(kt_state_current(p->ex), "PAUSED") || (ev->taskrun_id && *ev->taskrun_id)) {
            p->fx->stale = 1; /* e.g. a Pause delay firing after a manual resume */
            return KT_OK;
        }
        kt_state_set(json_object_get(p->ex, "state"), state, p->now);
        p->fx->changed = 1;
        return KT_OK;
    }
    kt_index_sync(p);
    for (const char *pid = kt_str(paused, "parentTaskRunId"); pid;) {
        uintptr_t pos = (uintptr_t)kt_map_get(p->by_id, pid);
        json_t *parent = pos ? json_array_get(runs, pos - 1) : NULL;
        if (!parent)
            break;
        kt_run_set_state(p, parent, "RUNNING");
        pid = kt_str(parent, "parentTaskRunId");
    }
    kt_run_set_state(p, paused, state);
    const json_t *task = kt_task_of(p, kt_str(paused, "taskId"));
    if (ev->outputs && json_object_size(ev->outputs))
        json_object_set_new(paused, "outputs", json_pack("{s:O}", "onResume", (json_t *)ev->outputs));
    if (!strcmp(state, "RUNNING") && !json_array_size(json_object_get(task, "tasks")))
        kt_run_set_state(p, paused, "SUCCESS");
    if (npaused == 1) {
        kt_state_set(json_object_get(p->ex, "state"), "RESTARTED", p->now);
        kt_state_set(json_object_get(p->ex, "state"), "RUNNING", p->now); /* handleRestart, next pass in Kestra */
    }
    p->fx->changed = 1;
    return KT_OK;
}

kt_status kt_exec_step(const kt_exec_flow *flow, json_t *execution, const kt_exec_event *ev, kt_exec_idgen idgen,
                       kt_exec_effects *fx)
{
    memset(fx, 0, sizeof *fx);
    const char *cur = kt_state_current(execution);
    if (!cur)
        return KT_EINVAL;
    if (kt_state_is_terminated(cur)) {
        fx->stale = 1;
        return KT_OK;
    }
    kt_pass p = {.f = flow, .ex = execution, .idgen = idgen, .fx = fx, .now = ev->now_us,
                 .by_task = kt_map_new(), .by_id = kt_map_new()};
    kt_status rc = KT_OK;
    if (!p.by_task || !p.by_id) {
        rc = KT_ENOMEM;
        goto done;
    }
    switch (ev->kind) {
    case KT_EV_START:
        if (kt_streq(cur, "PAUSED")) { /* resumed after a restart: the Pause timers lived in the old process */
            size_t i;
            json_t *tr;
            json_array_foreach(json_object_get(execution, "taskRunList"), i, tr) {
                const json_t *task = kt_task_of(&p, kt_str(tr, "taskId"));
                if (task && kt_streq(kt_state_current(tr), "PAUSED"))
                    kt_pause_timers(&p, task, tr);
            }
        }
        break;
    case KT_EV_SUBFLOW: {
        rc = kt_apply_subflow(&p, ev);
        if (rc || fx->stale)
            goto done;
        break;
    }
    case KT_EV_RESUME: {
        rc = kt_resume(&p, ev);
        if (rc || fx->stale)
            goto done;
        break;
    }
    case KT_EV_RESULT: {
        rc = kt_apply_result(&p, ev);
        if (rc || fx->stale)
            goto done;
        break;
    }
    case KT_EV_LOST: {
        size_t index;
        json_t *tr = kt_taskrun_find_at(execution, ev->taskrun_id, &index);
        if (!tr) {
            rc = KT_ENOTFOUND;
            goto done;
        }
        if (kt_state_is_terminated(kt_state_current(tr))) {
            fx->stale = 1;
            goto done;
        }
        /* The interrupted attempt ends FAILED; the task runs again as a new attempt (Kestra resubmits the
         * WorkerTask of a dead worker). */
        size_t n = kt_taskrun_attempts(tr);
        if (n)
            kt_state_set(json_object_get(json_array_get(json_object_get(tr, "attempts"), n - 1), "state"), "FAILED",
                         ev->now_us);
        kt_dispatch(&p, tr);
        break;
    }
    case KT_EV_RETRY: {
        size_t index;
        json_t *tr = kt_taskrun_find_at(execution, ev->taskrun_id, &index);
        if (!tr) {
            rc = KT_ENOTFOUND;
            goto done;
        }
        if (!kt_streq(kt_state_current(tr), "RETRYING")) {
            fx->stale = 1;
            goto done;
        }
        /* ExecutionService.retryTask: back to CREATED (attempts kept), the execution RUNNING again */
        kt_run_set_state(&p, tr, "CREATED");
        kt_state_set(json_object_get(execution, "state"), "RUNNING", ev->now_us);
        fx->changed = 1;
        break;
    }
    case KT_EV_KILL: {
        /* KESTRA-execution.md §2.13: KILLING, then every run not terminated KILLED, the execution KILLED. Kestra lets
         * the workers report their KILLED attempts later; Kite marks them now and tells the workers to stop. */
        kt_state_set(json_object_get(execution, "state"), "KILLING", ev->now_us);
        size_t i;
        json_t *tr;
        json_array_foreach(json_object_get(execution, "taskRunList"), i, tr) {
            if (kt_state_is_terminated(kt_state_current(tr)))
                continue;
            size_t na = kt_taskrun_attempts(tr);
            if (na) {
                json_t *att = json_array_get(json_object_get(tr, "attempts"), na - 1);
                if (!kt_state_is_terminated(kt_state_current(att)))
                    kt_state_set(json_object_get(att, "state"), "KILLED", ev->now_us);
            }
            kt_run_set_state(&p, tr, "KILLED");
        }
        kt_state_set(json_object_get(execution, "state"), "KILLED", ev->now_us);
        fx->changed = fx->ended = fx->killed = 1;
        goto done;
    }
    default: rc = KT_EINVAL; goto done;
    }
    for (int i = 0; i < KT_PASS_LIMIT; i++) {
        if (kt_streq(kt_state_current(execution), "PAUSED"))
            break; /* a paused execution is not processed; results of running branches were recorded above */
        p.changed = 0;
        if (kt_process(&p) || !p.changed)
            break;
    }
done:
    kt_index_free(&p);
    return rc;
}
