/* The flow's task tree and Kestra's flowable tasks (Sequential, Parallel, If, Switch, ForEach, EachSequential,
 * EachParallel, Dag, AllowFailure, Pause): which task an id names, which children a flowable run has (its branch, its
 * loop values, its errors), which of them run next (FlowableUtils.resolve*Nexts) and what state the flowable takes
 * from them (resolveState). These are the rules a new flowable type touches; step.c calls them from its pass. */
#include "flow/model.h"
#include "flow/render.h"
#include "actors/executor/step_int.h"
#include "actors/executor/step_loop.h"
#include "time/duration.h"
#include "flow/inputs.h"
#include "base/clock.h"
#include "base/dialect.h"
#include "base/id.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the task tree ------------------------------------------------------------------------------- */

static const json_t *kt_find_in(const json_t *tasks, const char *id);

/* The flow's own task lists (Kestra 1.x added `finally` and `afterExecution` beside tasks and errors). */
static const char *const kt_flow_lists[] = {"tasks", "errors", "finally", "afterExecution"};

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
        if (kt_step_streq(kt_step_str(task, "id"), id))
            return task;
        const json_t *f = kt_find_in_task(task, id);
        if (f)
            return f;
    }
    return NULL;
}

const json_t *kt_step_task_of(const kt_pass *p, const char *task_id)
{
    if (p->f->tasks)
        return task_id ? kt_map_get(p->f->tasks, task_id) : NULL;
    return kt_exec_find_task(p->f->flow, task_id);
}

static void kt_index_tasks(kt_map *m, const json_t *tasks);

static void kt_index_task(kt_map *m, const json_t *t)
{
    static const char *const lists[] = {"tasks", "errors", "finally", "then", "else", "defaults"};
    if (kt_step_str(t, "id"))
        kt_map_put(m, kt_step_str(t, "id"), (void *)t, NULL);
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
    for (size_t k = 0; k < sizeof kt_flow_lists / sizeof *kt_flow_lists; k++)
        kt_index_tasks(m, json_object_get(flow, kt_flow_lists[k]));
    return m;
}

const json_t *kt_exec_find_task(const json_t *flow, const char *task_id)
{
    const json_t *t = NULL;
    for (size_t k = 0; !t && k < sizeof kt_flow_lists / sizeof *kt_flow_lists; k++)
        t = kt_find_in(json_object_get(flow, kt_flow_lists[k]), task_id);
    return t;
}

const kt_task_def *kt_step_def(const json_t *task) { return kt_task_lookup(kt_step_str(task, "type")); }

int kt_step_is_flowable(const json_t *task)
{
    const kt_task_def *d = kt_step_def(task);
    return d && d->kind == KT_PLUGIN_FLOWABLE;
}

static const char *kt_canon(const json_t *task) { return kt_task_canonical_type(kt_step_str(task, "type")); }

int kt_step_type_is(const json_t *task, const char *short_name)
{
    const char *t = kt_canon(task);
    if (!strcmp(t, "io.kestra.plugin.core.flow.LoopUntil")) /* WaitFor renamed: one machinery (flowable_waitfor.c) */
        t = "io.kestra.plugin.core.flow.WaitFor";
    size_t n = strlen(t), m = strlen(short_name);
    return n > m && t[n - m - 1] == '.' && !strcmp(t + n - m, short_name);
}

/* Plain resolution: every enabled task of the list, no value. */
void kt_step_resolve_plain(const json_t *tasks, kt_rlist *out)
{
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        if (json_is_true(json_object_get(t, "disabled")))
            continue;
        kt_step_rl_push(out, t, NULL);
    }
}

/* ---- creating runs ------------------------------------------------------------------------------- */

static json_t *kt_create_run(kt_pass *p, const kt_res *r, const json_t *parent)
{
    const char *parent_id = parent ? kt_step_str(parent, "id") : NULL;
    if (kt_step_run_for(p, r, parent_id))
        return NULL; /* JdbcExecutor.deduplicateNexts: one run per (parent, task, value) */
    char id[KT_ID_LEN + 1];
    kt_env_id(p->env, id);
    json_t *run = kt_taskrun_add(p->ex, id, kt_step_str(r->task, "id"), parent_id, r->value, p->now);
    long iteration = kt_step_child_iteration(p, parent);
    if (iteration > 0) /* ResolvedTask.toNextTaskRunIncrementIteration: a WaitFor's children carry its iteration */
        json_object_set_new(run, "iteration", json_integer(iteration));
    kt_step_touch(p, json_array_size(kt_step_runs(p)) - 1);
    if (kt_step_streq(kt_state_current(p->ex), KT_S(CREATED)))
        kt_state_set(json_object_get(p->ex, "state"), KT_S(RUNNING), p->now); /* "Flow started" */
    return run;
}

/* FlowableUtils.resolveSequentialNexts: nothing while a run is still to start or running; otherwise the first task of
 * the list (in resolved order) without a run, once every one before it has ended. Kestra takes the task after the
 * last terminated run in taskRunList order, which is the same as long as runs are created in the list's order; a
 * replay from inside a loop breaks that order (the later values' runs of the tasks before the replayed one are kept,
 * ExecutionService.replay), and there Kestra's rule would start a later value's task before this value's rest. */
void kt_step_next_sequential(kt_pass *p, const kt_rlist *cur, const json_t *parent)
{
    const char *parent_id = parent ? kt_step_str(parent, "id") : NULL;
    if (!cur->n || kt_step_streq(kt_state_current(p->ex), KT_S(KILLING)))
        return;
    size_t n;
    json_t **runs = kt_step_runs_for(p, cur, parent_id, &n);
    for (size_t i = 0; i < n; i++) {
        const char *s = kt_state_current(runs[i]);
        if (kt_step_created(s) || kt_state_is_running(s))
            return;
    }
    for (size_t j = 0; j < cur->n; j++) {
        json_t *r = kt_step_run_for(p, &cur->v[j], parent_id);
        if (!r) {
            kt_create_run(p, &cur->v[j], parent);
            return;
        }
        if (!kt_state_is_terminated(kt_state_current(r)))
            return; /* PAUSED, RETRYING...: the sequence waits for it */
    }
}

/* FlowableUtils.resolveParallelNexts (and resolveDagNexts when deps is set) */
static void kt_next_parallel(kt_pass *p, const kt_rlist *cur, const json_t *parent, long concurrent,
                             const json_t *dag)
{
    const char *parent_id = parent ? kt_step_str(parent, "id") : NULL;
    if (!cur->n || kt_step_streq(kt_state_current(p->ex), KT_S(KILLING)))
        return;
    size_t n, running = 0;
    int created = 0;
    json_t **runs = kt_step_runs_for(p, cur, parent_id, &n);
    for (size_t i = 0; i < n; i++) {
        const char *s = kt_state_current(runs[i]);
        running += kt_state_is_running(s);
        created |= kt_step_created(s);
    }
    if ((concurrent > 0 && (long)running > concurrent) || created)
        return;
    long slots = concurrent > 0 ? concurrent - (long)running : -1;
    for (size_t j = 0; j < cur->n && slots != 0; j++) {
        if (kt_step_run_for(p, &cur->v[j], parent_id))
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
                json_t *dr = dep.task ? kt_step_run_for(p, &dep, parent_id) : NULL;
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
    const char *parent_id = parent ? kt_step_str(parent, "id") : NULL;
    if (!cur->n || kt_step_streq(kt_state_current(p->ex), KT_S(KILLING)))
        return;
    size_t n, open = 0;
    json_t **runs = kt_step_runs_for(p, cur, parent_id, &n);
    for (size_t i = 0; i < n; i++)
        open += !kt_state_is_terminated(kt_state_current(runs[i]));
    if (limit > 0 && (long)open >= limit)
        return;
    size_t slots = limit > 0 ? (size_t)(limit - (long)open) : cur->n;
    kt_res *pick = kt_xcalloc(cur->n, sizeof *pick);
    size_t take = 0;
    for (size_t j = 0; j < cur->n && take < slots; j++) {
        int first_of_group = 1;
        for (size_t k = 0; k < j && first_of_group; k++)
            first_of_group = !kt_step_streq(cur->v[k].value, cur->v[j].value);
        if (!first_of_group)
            continue;
        for (size_t k = j; k < cur->n; k++) { /* the group's first task without a run (its first task at the start) */
            if (!kt_step_streq(cur->v[k].value, cur->v[j].value))
                continue;
            if (!kt_step_run_for(p, &cur->v[k], parent_id)) {
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

/* ---- Pause (KESTRA-execution.md §2.11) ------------------------------------------------------------ */

static int kt_was_paused(const json_t *run)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(json_object_get(run, "state"), "histories"), i, h) if (
        kt_step_streq(kt_step_str(h, "state"), KT_S(PAUSED))) return 1;
    return 0;
}

/* The Pause's delay (resume) or else timeout (fail), from the date it paused. */
void kt_step_pause_timers(kt_pass *p, const json_t *task, const json_t *run)
{
    if (kt_step_type_is(task, "WaitFor")) {
        kt_step_waitfor_timer(p, task, run);
        return;
    }
    const char *prop = json_object_get(task, "delay") ? "delay" : json_object_get(task, "timeout") ? "timeout" : NULL;
    if (!prop)
        return;
    char *v = NULL, err[512];
    int64_t us, paused_at = p->now;
    if (kt_step_render_prop(p, task, run, prop, &v, err, sizeof err) || !v || kt_duration_parse(v, &us)) {
        kt_step_log(p, run, "ERROR", "Invalid %s '%s' on Pause", prop, v ? v : err);
        free(v);
        return;
    }
    free(v);
    const json_t *h = json_object_get(json_object_get(run, "state"), "histories");
    size_t i;
    json_t *e;
    json_array_foreach(h, i, e) if (kt_step_streq(kt_step_str(e, "state"), KT_S(PAUSED)))
        kt_time_parse(kt_step_str(e, "date"), &paused_at);
    if (kt_step_add_timer(p, run, strcmp(prop, "delay") ? KT_CMD_PAUSE_TIMEOUT : KT_CMD_RESUME_FLOW, paused_at + us))
        kt_step_log(p, run, "ERROR", "Pause %s not armed: more than %d timers in one step; resume it through the API",
                    prop, KT_EXEC_MAX_TIMERS);
}

/* ---- flowable tasks: their children and their state ---------------------------------------------- */

/* The environment a loop's values render in: the loop run's creation date as the clock and its id as the seed.
 * The step renders a loop's values again on every pass and every event (as Kestra does on every message), so
 * values drawing now(), uuid() or randomInt() from the event's environment would differ each time: every pass
 * would see new values, create runs for them, and never settle. Rendered in this environment they are the same
 * each time for the same loop run, and still a replayable function of the execution. */
static void kt_loop_env(const json_t *run, kt_env *env, const kt_env *event_env)
{
    int64_t created = event_env->now_us;
    const json_t *first = json_array_get(json_object_get(json_object_get(run, "state"), "histories"), 0);
    if (first)
        kt_time_parse(kt_step_str(first, "date"), &created);
    const char *id = kt_step_str(run, "id");
    kt_env_init(env, created, kt_env_seed_of(id ? id : ""));
    env->files = event_env->files; /* the same storage: a loop's values may read() a file */
    env->secrets_used = event_env->secrets_used; /* a secret() in the values is masked where the step shows it */
    env->dialect = event_env->dialect;
}

/* ForEach values / Each value: a list, or a string rendering to a JSON array; distinct values as strings. */
static int kt_loop_values(kt_pass *p, const json_t *task, const json_t *run, json_t **values, char *err, size_t cap)
{
    const json_t *spec = json_object_get(task, kt_step_type_is(task, "ForEach") ? "values" : "value");
    json_t *ctx = kt_render_context(p->f->flow, p->ex, task, run), *list = NULL;
    kt_env loop_env;
    kt_loop_env(run, &loop_env, p->env);
    kt_expr_error e = {0};
    int rc = -1;
    if (json_is_string(spec)) {
        json_t *r = NULL;
        if (kt_expr_render_json_cached(p->f->templates, spec, ctx, &loop_env, &r, &e)) {
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
        if (kt_expr_render_json_cached(p->f->templates, spec, ctx, &loop_env, &list, &e)) {
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

/* The children of a flowable run: its normal list (tasks, with loop values, or the chosen If/Switch branch), its
 * errors and its finally (Kestra 1.x). Returns -1 (and logs) when they cannot be resolved. */
static int kt_children(kt_pass *p, const json_t *task, json_t *run, kt_rlist *tasks, kt_rlist *errors, kt_rlist *fin)
{
    memset(tasks, 0, sizeof *tasks);
    memset(errors, 0, sizeof *errors);
    memset(fin, 0, sizeof *fin);
    kt_step_resolve_plain(json_object_get(task, "errors"), errors);
    kt_step_resolve_plain(json_object_get(task, "finally"), fin);
    json_t *outputs = json_object_get(run, "outputs");
    if (kt_step_type_is(task, "If")) {
        int yes = json_is_true(json_object_get(outputs, "evaluationResult"));
        kt_step_resolve_plain(json_object_get(task, yes ? "then" : "else"), tasks);
        return 0;
    }
    if (kt_step_type_is(task, "Switch")) {
        const char *value = kt_step_str(outputs, "value");
        const json_t *chosen = value ? json_object_get(json_object_get(task, "cases"), value) : NULL;
        if (!json_is_array(chosen))
            chosen = json_object_get(task, "defaults");
        if (!json_is_array(chosen)) /* `defaults: null` is no defaults */
            tasks->absent = 1;
        kt_step_resolve_plain(chosen, tasks);
        return 0;
    }
    if (kt_step_type_is(task, "Dag")) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(task, "tasks"), i, e) {
            const json_t *t = json_object_get(e, "task");
            if (t && !json_is_true(json_object_get(t, "disabled")))
                kt_step_rl_push(tasks, t, NULL);
        }
        return 0;
    }
    if (kt_step_type_is(task, "ForEach") || kt_step_type_is(task, "EachSequential") ||
        kt_step_type_is(task, "EachParallel")) {
        json_t *values = NULL;
        char err[512];
        if (kt_loop_values(p, task, run, &values, err, sizeof err)) {
            kt_step_log(p, run, "ERROR", "Unable to resolve the next tasks to run: %s", err);
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
                    kt_step_rl_push(tasks, t, json_string_value(v));
            }
        }
        return 0;
    }
    kt_step_resolve_plain(json_object_get(task, "tasks"), tasks); /* Sequential, Parallel, AllowFailure */
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

/* Parallel and Dag's onChildFailure (Kestra 2.0, migration guide v2.0.0/parallel-dag-on-child-failure): FAIL, the
 * default in a 2.x flow, interrupts the children still running once one has failed; CONTINUE, 1.x's behaviour and
 * its default, lets them finish. */
static int kt_interrupts_on_failure(const kt_pass *p, const json_t *task)
{
    if (!kt_step_type_is(task, "Parallel") && !kt_step_type_is(task, "Dag"))
        return 0;
    const char *v = kt_step_str(task, "onChildFailure");
    if (v)
        return !strcmp(v, "FAIL");
    return kt_dialect_of_flow(p->f->flow) == KT_DIALECT_2X;
}

/* The run's direct child on its way up to parent_id (the run itself when it is one), NULL when it is not under it. */
static const json_t *kt_branch_of(kt_pass *p, const json_t *r, const char *parent_id)
{
    for (int depth = 0; r && depth < 64; depth++) {
        const char *pid = kt_step_str(r, "parentTaskRunId");
        if (!pid)
            return NULL;
        if (kt_step_streq(pid, parent_id))
            return r;
        uintptr_t pos = (uintptr_t)kt_map_get(p->by_id, pid);
        r = pos ? json_array_get(kt_step_runs(p), pos - 1) : NULL;
    }
    return NULL;
}

/* A child of the flowable failed: every run still going under its tasks (at any depth; not under its errors or
 * finally) ends FAILED, its attempt too, saying why. The worker's attempt is not stopped: its result comes to a run
 * that has ended and is ignored. */
static void kt_interrupt_siblings(kt_pass *p, const json_t *run, const kt_rlist *tasks)
{
    const char *id = kt_step_str(run, "id");
    size_t n;
    json_t **children = kt_step_runs_for(p, tasks, id, &n);
    const char *failed = NULL;
    for (size_t i = 0; i < n && !failed; i++)
        if (kt_step_streq(kt_state_current(children[i]), KT_S(FAILED)))
            failed = kt_step_str(children[i], "taskId");
    if (!failed)
        return;
    kt_step_index_sync(p);
    size_t total = json_array_size(kt_step_runs(p));
    for (size_t i = 0; i < total; i++) {
        json_t *r = json_array_get(kt_step_runs(p), i);
        const char *s = kt_state_current(r);
        if (kt_state_is_terminated(s))
            continue;
        const json_t *branch = kt_branch_of(p, r, id);
        int in_tasks = 0;
        for (size_t k = 0; branch && k < tasks->n && !in_tasks; k++)
            in_tasks = kt_step_streq(kt_step_str(branch, "taskId"), kt_step_str(tasks->v[k].task, "id"));
        if (!in_tasks)
            continue;
        size_t na = kt_taskrun_attempts(r);
        json_t *att = na ? json_array_get(json_object_get(r, "attempts"), na - 1) : NULL;
        if (att && !kt_state_is_terminated(kt_state_current(att)))
            kt_state_set(json_object_get(att, "state"), KT_S(FAILED), p->now);
        kt_step_log(p, r, "WARN", "Task terminated because sibling task '%s' failed.", failed);
        kt_step_set_state(p, r, KT_S(FAILED));
    }
}

/* task.resolveNexts for a running flowable run */
void kt_step_flowable_nexts(kt_pass *p, const json_t *task, json_t *run)
{
    kt_rlist tasks, errors, fin, cur;
    if (kt_step_type_is(task, "Loop")) { /* step_loop.c: iterations as isolated groups */
        kt_step_loop_nexts(p, task, run);
        return;
    }
    if (kt_step_type_is(task, "Pause") && (!kt_was_paused(run) || kt_step_streq(kt_state_current(run), KT_S(PAUSED))))
        return; /* a Pause's (deprecated) subtasks run only after it was resumed */
    if (kt_children(p, task, run, &tasks, &errors, &fin)) {
        kt_step_rl_free(&fin);
        return;
    }
    const char *id = kt_step_str(run, "id");
    if (kt_interrupts_on_failure(p, task))
        kt_interrupt_siblings(p, run, &tasks);
    kt_step_depending(p, &tasks, &errors, &fin, id, &cur);
    /* errors and finally are sequences whatever the flowable */
    int on_errors = cur.n && !cur.v[0].value && ((errors.n && cur.v[0].task == errors.v[0].task) ||
                                                 (fin.n && cur.v[0].task == fin.v[0].task));
    if (on_errors) {
        kt_step_next_sequential(p, &cur, run);
    } else if (kt_step_is_wd(task)) {
        /* WorkingDirectory.resolveNexts: nothing but its errors branch, the worker runs the children */
    } else if (kt_step_type_is(task, "Parallel")) {
        kt_next_parallel(p, &cur, run, kt_int_prop(task, "concurrent", 0), NULL);
    } else if (kt_step_type_is(task, "EachParallel")) {
        kt_next_parallel(p, &cur, run, kt_int_prop(task, "concurrent", 0), NULL);
    } else if (kt_step_type_is(task, "Dag")) {
        kt_next_parallel(p, &cur, run, kt_int_prop(task, "concurrent", 0), json_object_get(task, "tasks"));
    } else if (kt_step_type_is(task, "ForEach") && kt_int_prop(task, "concurrencyLimit", 1) != 1) {
        kt_next_concurrent(p, &cur, run, kt_int_prop(task, "concurrencyLimit", 1));
    } else {
        kt_step_next_sequential(p, &cur, run);
    }
    kt_step_rl_free(&cur);
    kt_step_rl_free(&tasks);
    kt_step_rl_free(&errors);
    kt_step_rl_free(&fin);
}

/* task.resolveState for a running flowable run: a state, or NULL while children are still going. */
const char *kt_step_flowable_state(kt_pass *p, const json_t *task, json_t *run)
{
    int allow_failure = json_is_true(json_object_get(task, "allowFailure"));
    int allow_warning = json_is_true(json_object_get(task, "allowWarning"));
    kt_rlist tasks, errors, fin, cur;
    if (kt_step_type_is(task, "Loop"))
        return kt_step_loop_state(p, task, run);
    if (kt_children(p, task, run, &tasks, &errors, &fin)) {
        kt_step_rl_free(&tasks);
        kt_step_rl_free(&errors);
        kt_step_rl_free(&fin);
        return allow_failure ? (allow_warning ? KT_S(SUCCESS) : KT_S(WARNING)) : KT_S(FAILED);
    }
    const char *id = kt_step_str(run, "id");
    const char *st = NULL;
    if (kt_step_type_is(task, "Pause") && !kt_was_paused(run)) {
        st = KT_S(PAUSED);
        goto done;
    }
    if (kt_step_type_is(task, "Pause") && !tasks.n) {
        st = KT_S(SUCCESS);
        goto done;
    }
    int is_loop = kt_step_type_is(task, "ForEach") || kt_step_type_is(task, "EachSequential") ||
                  kt_step_type_is(task, "EachParallel");
    if (kt_step_is_wd(task)) {
        st = kt_step_wd_state(p, task, run, &tasks, &errors, &fin);
        goto done;
    }
    if (kt_step_type_is(task, "WaitFor")) {
        int handled;
        st = kt_step_waitfor_state(p, task, run, &tasks, &handled);
        if (handled)
            goto done;
    }
    if (is_loop && tasks.n == 0 && !fin.n) {
        st = KT_S(SUCCESS); /* no values */
        goto done;
    }
    if (kt_step_type_is(task, "If") && tasks.n == 0 && !fin.n && !kt_step_any_run(p, &errors, id)) {
        st = KT_S(SUCCESS); /* empty branch */
        goto done;
    }
    kt_step_depending(p, &tasks, &errors, &fin, id, &cur);
    if (cur.absent) {
        kt_step_log(p, run, "WARN", "No task found on flow '%s.%s', task '%s', execution '%s'",
                    kt_step_str(p->ex, "namespace"), kt_step_str(p->ex, "flowId"), kt_step_str(task, "id"),
                    kt_step_str(p->ex, "id"));
        st = allow_failure ? (allow_warning ? KT_S(SUCCESS) : KT_S(WARNING)) : KT_S(FAILED);
    } else if ((cur.n && kt_step_all_terminated(p, &cur, id)) ||
               (!cur.n && kt_step_any_in_state(p, &tasks, id, KT_S(FAILED)))) {
        st = kt_step_guess_final(p, &tasks, id, allow_failure, allow_warning);
        if (kt_step_type_is(task, "AllowFailure") && !strcmp(st, KT_S(FAILED)))
            st = allow_warning ? KT_S(SUCCESS) : KT_S(WARNING);
    }
    kt_step_rl_free(&cur);
done:
    kt_step_rl_free(&tasks);
    kt_step_rl_free(&errors);
    kt_step_rl_free(&fin);
    return st;
}
