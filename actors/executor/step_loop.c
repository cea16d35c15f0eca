/* Kestra 2.0's Loop (io.kestra.plugin.core.flow.Loop) in the executor's step: which iteration runs next and what
 * state the Loop run takes from its iterations.
 *
 * Kestra runs each iteration as a sub-execution of kind LOOP (Loop.java 05f736b: isMySubExecution) whose only tasks
 * are the Loop's tasks, errors and finally. Kite runs each iteration as an isolated group of task runs inside the
 * execution, under the Loop run: the group's first-level runs carry the iteration's index as their `value` (unique,
 * so equal values still make distinct iterations) and its item in KT_LOOP_ITEM_FIELD (flow/loop.h). Isolation is the
 * run context's (flow/render.c): inside an iteration `outputs.<task>` is that iteration's run, without a value key;
 * outside, the iterations' runs are invisible and only the Loop's declared `outputs` reach later tasks. What differs
 * from Kestra: no execution document per iteration (iteration.executionId is the execution's own id, the API lists
 * no LOOP executions), and the iterations' runs are in the execution's taskRunList.
 *
 * Per iteration, as Loop.resolveNexts/resolveState in its sub-execution (FlowableUtils.resolveSequential*): the tasks
 * in sequence, the errors once one failed, then the finally tasks; the iteration's state is guessFinalState over its
 * tasks (a failed finally task fails it). Across iterations, as LoopExecutionEventMessageHandler: at most
 * concurrencyLimit iterations open at once (0: all), started in index order; after an iteration ends `breakWhen`
 * (item, iteration.executionId/state/outputs) stops new ones, and so does an iteration ended FAILED or KILLED under
 * transmitFailed (default true); once none is open the Loop ends FAILED in that case (allowFailure and allowWarning
 * apply), else SUCCESS (a WARNING iteration does not make it WARNING, as the handler's terminateLoop). Its outputs,
 * kept up to date as iterations end: iterationCount (the values' count), runningIterations, terminatedIterations
 * {state: count} and `outputs`, the declared outputs of each ended iteration in the order they ended (fetchType
 * FETCH), or for each a file of them, {uri} (STORE, AUTO for values from a file: written by the actor, loop.c; the
 * Loop ends once they are). */
#include "actors/executor/step_loop.h"
#include "flow/inputs.h"
#include "flow/loop.h"
#include "flow/model.h"
#include "flow/render.h"
#include "base/clock.h"
#include "base/id.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum kt_iter_phase { KT_IT_NEW, KT_IT_MAIN, KT_IT_FINALLY, KT_IT_DONE } kt_iter_phase;

typedef struct kt_iter {
    const json_t *item;
    char value[24];        /* the index, as the group's runs carry it */
    const json_t **t, **e, **f; /* the run of each task, errors task, finally task (NULL: none yet) */
    json_t *first;         /* the iteration's first run (its context for outputs and breakWhen) */
    kt_iter_phase phase;
    const char *state;     /* KT_IT_DONE: the iteration's state */
} kt_iter;

typedef struct kt_loop_view {
    json_t *items;
    int from_uri;
    kt_rlist tasks, errors, fin; /* the plain lists (no value) */
    kt_iter *it;
    size_t n, open, started;
} kt_loop_view;

/* As the ForEach values in flowable.c: the Loop's values, breakWhen and outputs render in the Loop run's own
 * environment (its creation date and id), so that every pass sees the same values. */
static void kt_loop_env(const json_t *run, kt_env *env, const kt_env *event_env)
{
    int64_t created = event_env->now_us;
    const json_t *first = json_array_get(json_object_get(json_object_get(run, "state"), "histories"), 0);
    if (first)
        kt_time_parse(kt_step_str(first, "date"), &created);
    const char *id = kt_step_str(run, "id");
    kt_env_init(env, created, kt_env_seed_of(id ? id : ""));
    env->files = event_env->files;
    env->secrets_used = event_env->secrets_used;
}

/* The Loop's items: values rendered in the run's context; a string naming an internal-storage file is read, one item
 * per line. -1 with err when they cannot be had. */
static int kt_loop_resolve(kt_pass *p, const json_t *task, const json_t *run, kt_loop_view *v, char *err, size_t cap)
{
    const json_t *spec = json_object_get(task, "values");
    if (!spec) {
        snprintf(err, cap, "The Loop has no values");
        return -1;
    }
    json_t *ctx = kt_render_context(p->f->flow, p->ex, task, run), *r = NULL;
    kt_env env;
    kt_loop_env(run, &env, p->env);
    kt_expr_error e = {0};
    int rc = -1;
    if (kt_expr_render_json_cached(p->f->templates, spec, ctx, &env, &r, &e)) {
        snprintf(err, cap, "%s", e.message);
        goto done;
    }
    if (json_is_string(r) && kt_loop_values_is_uri(json_string_value(r))) {
        char *data = NULL, ferr[256] = "";
        size_t len = 0;
        if (!env.files || !env.files->read) {
            snprintf(err, cap, "The Loop values are a file (%s) and this executor has no internal storage",
                     json_string_value(r));
            goto done;
        }
        if (env.files->read(env.files->ud, json_string_value(r), &data, &len, ferr, sizeof ferr)) {
            snprintf(err, cap, "Unable to read the Loop values file %s: %s", json_string_value(r),
                     ferr[0] ? ferr : "not found");
            goto done;
        }
        v->items = kt_loop_items_of_lines(data, len, err, cap);
        v->from_uri = 1;
        free(data);
    } else {
        v->items = kt_loop_items(r, err, cap);
    }
    rc = v->items ? 0 : -1;
done:
    json_decref(r);
    json_decref(ctx);
    return rc;
}

static long kt_loop_pos(const kt_rlist *l, const char *task_id)
{
    for (size_t i = 0; i < l->n; i++)
        if (kt_step_streq(kt_step_str(l->v[i].task, "id"), task_id))
            return (long)i;
    return -1;
}

/* Every run of the list has ended (a list without tasks: ended). */
static int kt_loop_all_ended(const json_t **runs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!runs[i] || !kt_state_is_terminated(kt_state_current(runs[i])))
            return 0;
    return 1;
}

static int kt_loop_any(const json_t **runs, size_t n, const char *state)
{
    for (size_t i = 0; i < n; i++)
        if (runs[i] && kt_step_streq(kt_state_current(runs[i]), state))
            return 1;
    return 0;
}

/* One iteration's phase and, once done, its state (see the top of the file). */
static void kt_loop_phase(const kt_loop_view *v, kt_iter *it)
{
    int any = 0;
    for (size_t i = 0; i < v->tasks.n; i++)
        any |= it->t[i] != NULL;
    for (size_t i = 0; i < v->errors.n; i++)
        any |= it->e[i] != NULL;
    for (size_t i = 0; i < v->fin.n; i++)
        any |= it->f[i] != NULL;
    if (!any) {
        it->phase = KT_IT_NEW;
        return;
    }
    int failed = kt_loop_any(it->t, v->tasks.n, KT_S(FAILED));
    int errors_ran = 0;
    for (size_t i = 0; i < v->errors.n; i++)
        errors_ran |= it->e[i] != NULL;
    int on_errors = (v->errors.n && errors_ran) || failed;
    int main_done = on_errors ? (v->errors.n ? kt_loop_all_ended(it->e, v->errors.n) : 1)
                              : kt_loop_all_ended(it->t, v->tasks.n);
    if (!main_done) {
        it->phase = KT_IT_MAIN;
        return;
    }
    if (!kt_loop_all_ended(it->f, v->fin.n)) {
        it->phase = KT_IT_FINALLY;
        return;
    }
    it->phase = KT_IT_DONE;
    static const kt_state order[] = {KT_STATE_KILLED, KT_STATE_FAILED, KT_STATE_WARNING, KT_STATE_PAUSED};
    it->state = KT_S(SUCCESS);
    for (size_t k = 0; k < sizeof order / sizeof *order; k++)
        if (kt_loop_any(it->t, v->tasks.n, kt_state_name(order[k]))) {
            it->state = kt_state_name(order[k]);
            break;
        }
    if (strcmp(it->state, KT_S(KILLED)) && kt_loop_any(it->f, v->fin.n, KT_S(FAILED)))
        it->state = KT_S(FAILED);
}

static void kt_loop_view_free(kt_loop_view *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->it[i].t);
        free(v->it[i].e);
        free(v->it[i].f);
    }
    free(v->it);
    json_decref(v->items);
    kt_step_rl_free(&v->tasks);
    kt_step_rl_free(&v->errors);
    kt_step_rl_free(&v->fin);
    memset(v, 0, sizeof *v);
}

/* The Loop run's iterations, from one scan of taskRunList. -1 (logged) when its values cannot be resolved. */
static int kt_loop_scan(kt_pass *p, const json_t *task, json_t *run, kt_loop_view *v)
{
    memset(v, 0, sizeof *v);
    char err[600];
    if (kt_loop_resolve(p, task, run, v, err, sizeof err)) {
        kt_step_log(p, run, "ERROR", "Unable to resolve the Loop iterations: %s", err);
        return -1;
    }
    kt_step_resolve_plain(json_object_get(task, "tasks"), &v->tasks);
    kt_step_resolve_plain(json_object_get(task, "errors"), &v->errors);
    kt_step_resolve_plain(json_object_get(task, "finally"), &v->fin);
    v->n = json_array_size(v->items);
    v->it = kt_xcalloc(v->n ? v->n : 1, sizeof *v->it);
    for (size_t i = 0; i < v->n; i++) {
        v->it[i].item = json_array_get(v->items, i);
        snprintf(v->it[i].value, sizeof v->it[i].value, "%zu", i);
        v->it[i].t = kt_xcalloc(v->tasks.n + 1, sizeof *v->it[i].t);
        v->it[i].e = kt_xcalloc(v->errors.n + 1, sizeof *v->it[i].e);
        v->it[i].f = kt_xcalloc(v->fin.n + 1, sizeof *v->it[i].f);
    }
    const char *id = kt_step_str(run, "id");
    size_t k;
    json_t *r;
    json_array_foreach(kt_step_runs(p), k, r) {
        if (!kt_step_streq(kt_step_str(r, "parentTaskRunId"), id) || !kt_step_str(r, "value"))
            continue;
        char *end;
        unsigned long long i = strtoull(kt_step_str(r, "value"), &end, 10);
        if (*end || i >= v->n)
            continue; /* not an iteration of these values (values changed under a restart): ignored */
        kt_iter *it = &v->it[i];
        const char *tid = kt_step_str(r, "taskId");
        long pos;
        if ((pos = kt_loop_pos(&v->tasks, tid)) >= 0)
            it->t[pos] = r;
        else if ((pos = kt_loop_pos(&v->errors, tid)) >= 0)
            it->e[pos] = r;
        else if ((pos = kt_loop_pos(&v->fin, tid)) >= 0)
            it->f[pos] = r;
        if (!it->first)
            it->first = r;
    }
    for (size_t i = 0; i < v->n; i++) {
        kt_loop_phase(v, &v->it[i]);
        v->started += v->it[i].phase != KT_IT_NEW;
        v->open += v->it[i].phase == KT_IT_MAIN || v->it[i].phase == KT_IT_FINALLY;
    }
    return 0;
}

/* Runs the next task of one list of an iteration (FlowableUtils.resolveSequentialNexts), and gives the runs it
 * created their item. */
static void kt_loop_next(kt_pass *p, json_t *run, const kt_rlist *plain, kt_iter *it)
{
    kt_rlist l = {0};
    for (size_t i = 0; i < plain->n; i++)
        kt_step_rl_push(&l, plain->v[i].task, it->value);
    size_t before = json_array_size(kt_step_runs(p));
    kt_step_next_sequential(p, &l, run);
    for (size_t i = before; i < json_array_size(kt_step_runs(p)); i++) {
        json_t *r = json_array_get(kt_step_runs(p), i);
        if (kt_step_streq(kt_step_str(r, "parentTaskRunId"), kt_step_str(run, "id")) &&
            kt_step_streq(kt_step_str(r, "value"), it->value))
            json_object_set_new(r, KT_LOOP_ITEM_FIELD, json_deep_copy(it->item));
    }
    kt_step_rl_free(&l);
}

/* The declared outputs of a done iteration, typed (Loop.computeIterationOutput); {} without declarations. NULL with
 * err when one does not render or does not fit its type. */
static json_t *kt_loop_iter_outputs(kt_pass *p, const json_t *task, const json_t *run, const kt_iter *it, char *err,
                                    size_t cap)
{
    const json_t *defs = json_object_get(task, "outputs");
    json_t *typed = json_object();
    if (!json_array_size(defs) || !it->first)
        return typed;
    json_t *raw = json_object(), *rendered = NULL;
    size_t i;
    json_t *d;
    json_array_foreach(defs, i, d) if (kt_step_str(d, "id")) json_object_set(
        raw, kt_step_str(d, "id"), json_object_get(d, "value") ? json_object_get(d, "value") : json_null());
    const json_t *first_task = kt_step_task_of(p, kt_step_str(it->first, "taskId"));
    json_t *ctx = kt_render_context(p->f->flow, p->ex, first_task, it->first);
    kt_env env;
    kt_loop_env(run, &env, p->env);
    kt_expr_error e = {0};
    if (kt_expr_render_json_cached(p->f->templates, raw, ctx, &env, &rendered, &e) != KT_OK) {
        snprintf(err, cap, "%s", e.message);
        goto fail;
    }
    json_array_foreach(defs, i, d) {
        const char *id = kt_step_str(d, "id");
        char *perr = NULL;
        json_t *val = id ? kt_input_parse_value(d, json_object_get(rendered, id), &perr) : NULL;
        if (!val) {
            snprintf(err, cap, "Invalid output for `%s`, %s", id ? id : "?", perr ? perr : "invalid value");
            free(perr);
            goto fail;
        }
        json_object_set_new(typed, id, val);
    }
    json_decref(ctx);
    json_decref(raw);
    json_decref(rendered);
    return typed;
fail:
    json_decref(ctx);
    json_decref(raw);
    json_decref(rendered);
    json_decref(typed);
    return NULL;
}

/* breakWhen after a done iteration: 1 when it says stop, -1 (logged) when it does not render. */
static int kt_loop_breaks(kt_pass *p, const json_t *task, json_t *run, const kt_iter *it)
{
    const json_t *when = json_object_get(task, "breakWhen");
    if (!when || !it->first)
        return 0;
    char err[600] = "";
    json_t *outputs = kt_loop_iter_outputs(p, task, run, it, err, sizeof err);
    const json_t *first_task = kt_step_task_of(p, kt_step_str(it->first, "taskId"));
    json_t *ctx = kt_render_context(p->f->flow, p->ex, first_task, it->first), *r = NULL;
    json_object_set_new(ctx, "iteration", json_pack("{s:O?, s:s, s:o}", "executionId", json_object_get(p->ex, "id"),
                                                    "state", it->state, "outputs", outputs ? outputs : json_object()));
    kt_env env;
    kt_loop_env(run, &env, p->env);
    kt_expr_error e = {0};
    int rc;
    if (kt_expr_render_json_cached(p->f->templates, when, ctx, &env, &r, &e) != KT_OK) {
        kt_step_log(p, run, "ERROR", "Unable to evaluate breakWhen after iteration %s: %s", it->value, e.message);
        rc = -1;
    } else {
        rc = json_is_string(r) ? kt_step_truthy(json_string_value(r)) : json_is_true(r) || json_is_integer(r);
    }
    json_decref(r);
    json_decref(ctx);
    return rc;
}

/* The first done iteration (in index order) whose breakWhen holds, n when none: no iteration starts after it. */
static size_t kt_loop_break_at(kt_pass *p, const json_t *task, json_t *run, const kt_loop_view *v, int *failed)
{
    *failed = 0;
    if (!json_object_get(task, "breakWhen"))
        return v->n;
    for (size_t i = 0; i < v->n; i++) {
        if (v->it[i].phase != KT_IT_DONE)
            continue;
        int b = kt_loop_breaks(p, task, run, &v->it[i]);
        if (b < 0)
            *failed = 1;
        if (b)
            return i;
    }
    return v->n;
}

/* transmitFailed (default true) and an iteration ended FAILED or KILLED: the Loop stops there
 * (LoopExecutionEventMessageHandler terminates it at once; Kite lets the iterations still open end first, since their
 * runs are the Loop run's children). */
static int kt_loop_failed_stop(const json_t *task, const kt_loop_view *v)
{
    if (!kt_step_bool_prop(task, "transmitFailed", 1))
        return 0;
    for (size_t i = 0; i < v->n; i++)
        if (v->it[i].phase == KT_IT_DONE &&
            (!strcmp(v->it[i].state, KT_S(FAILED)) || !strcmp(v->it[i].state, KT_S(KILLED))))
            return 1;
    return 0;
}

void kt_step_loop_nexts(kt_pass *p, const json_t *task, json_t *run)
{
    kt_loop_view v;
    if (kt_loop_scan(p, task, run, &v))
        return;
    for (size_t i = 0; i < v.n; i++) {
        kt_iter *it = &v.it[i];
        if (it->phase == KT_IT_MAIN) {
            int on_errors = kt_loop_any(it->t, v.tasks.n, KT_S(FAILED));
            for (size_t k = 0; k < v.errors.n; k++)
                on_errors |= it->e[k] != NULL;
            if (on_errors && !v.errors.n)
                continue; /* failed without errors tasks: nothing more runs in the main phase */
            kt_loop_next(p, run, on_errors ? &v.errors : &v.tasks, it);
        } else if (it->phase == KT_IT_FINALLY) {
            kt_loop_next(p, run, &v.fin, it);
        }
    }
    int failed;
    size_t stop = kt_loop_break_at(p, task, run, &v, &failed);
    failed |= kt_loop_failed_stop(task, &v);
    long limit = KT_LOOP_DEFAULT_CONCURRENCY;
    json_t *cl = json_object_get(task, "concurrencyLimit");
    if (json_is_integer(cl))
        limit = (long)json_integer_value(cl);
    else if (json_is_string(cl))
        limit = strtol(json_string_value(cl), NULL, 10);
    size_t open = v.open;
    for (size_t i = 0; i < v.n && stop == v.n && !failed; i++) {
        if (v.it[i].phase != KT_IT_NEW)
            continue;
        if (limit > 0 && open >= (size_t)limit)
            break;
        kt_loop_next(p, run, &v.tasks, &v.it[i]);
        open++;
    }
    kt_loop_view_free(&v);
}

/* Asks the actor (loop.c) for the file of an iteration's outputs, once per step. */
static void kt_loop_request_store(kt_pass *p, const json_t *run, const kt_iter *it, size_t i, const json_t *outputs)
{
    kt_exec_effects *fx = p->fx;
    const char *id = kt_step_str(run, "id");
    for (size_t k = 0; k < fx->nsubflows; k++)
        if (!strcmp(fx->subflows[k].taskrun_id, id) &&
            json_integer_value(json_object_get(fx->subflows[k].spec, "iteration")) == (json_int_t)i)
            return;
    if (fx->nsubflows == KT_EXEC_MAX_SUBFLOWS)
        return; /* asked again on the next event */
    snprintf(fx->subflows[fx->nsubflows].taskrun_id, sizeof fx->subflows[0].taskrun_id, "%s", id);
    fx->subflows[fx->nsubflows++].spec = json_pack("{s:b, s:I, s:O, s:O}", "loopStore", 1, "iteration",
                                                   (json_int_t)i, "item", it->item, "outputs", outputs);
}

static int kt_loop_listed(const json_t *list, json_int_t i)
{
    size_t k;
    json_t *e;
    json_array_foreach(list, k, e) if (json_integer_value(json_object_get(json_object_get(e, "item"), "iteration")) ==
                                       i) return 1;
    return 0;
}

kt_status kt_step_loop_stored(kt_pass *p, json_t *run, size_t index, const kt_exec_event *ev)
{
    json_int_t i = json_integer_value(json_object_get(ev->outputs, "iteration"));
    json_t *outputs = json_object_get(run, "outputs");
    if (!kt_step_streq(kt_state_current(run), KT_S(RUNNING)) || !json_is_object(outputs) ||
        kt_loop_listed(json_object_get(outputs, "outputs"), i)) {
        p->fx->stale = 1; /* ended meanwhile, or a second answer for the same iteration */
        return KT_OK;
    }
    const char *uri = kt_step_str(ev->outputs, "uri");
    if (!uri)
        kt_step_log(p, run, "ERROR", "Unable to store the outputs of iteration %lld: %s", (long long)i,
                    ev->error ? ev->error : "no file");
    json_t *list = json_object_get(outputs, "outputs");
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(outputs, "outputs", list);
    }
    /* a write that failed is listed without its uri: the Loop does not wait for it forever */
    json_array_append_new(list, kt_loop_output_entry(json_object_get(ev->outputs, "item"),
                                                     uri ? json_pack("{s:s}", "uri", uri) : json_object()));
    kt_step_touch(p, index);
    return KT_OK;
}

/* The Loop run's outputs as the handler keeps them: iterationCount (the values' count), runningIterations,
 * terminatedIterations {state: count} and `outputs`, the declared outputs of each ended iteration, appended as the
 * iterations end (an iteration without any is not listed). Written only when they change. -1 with err when a
 * successful iteration's outputs do not render (it is tried again on the next pass). */
static int kt_loop_progress(kt_pass *p, const json_t *task, json_t *run, const kt_loop_view *v, size_t *pending,
                            char *err, size_t cap)
{
    int store = !strcmp(kt_loop_fetch_type(task, v->from_uri), "STORE");
    *pending = 0;
    json_t *old = json_object_get(run, "outputs");
    json_t *terminated = json_object(), *list = json_deep_copy(json_object_get(old, "outputs"));
    if (!json_is_array(list)) {
        json_decref(list);
        list = json_array();
    }
    int rc = 0, declared = json_array_size(json_object_get(task, "outputs")) > 0;
    for (size_t i = 0; i < v->n; i++) {
        const kt_iter *it = &v->it[i];
        if (it->phase != KT_IT_DONE)
            continue;
        json_t *c = json_object_get(terminated, it->state);
        json_object_set_new(terminated, it->state, json_integer(c ? json_integer_value(c) + 1 : 1));
        if (!declared || kt_loop_listed(list, (json_int_t)i))
            continue;
        char why[600] = "";
        json_t *o = kt_loop_iter_outputs(p, task, run, it, why, sizeof why);
        if (!o && !rc && (!strcmp(it->state, KT_S(SUCCESS)) || !strcmp(it->state, KT_S(WARNING)))) {
            snprintf(err, cap, "Failed to render the outputs of iteration %zu: %s", i, why);
            rc = -1;
        }
        if (o && json_object_size(o) && store) { /* listed once its file is written (kt_step_loop_stored) */
            kt_loop_request_store(p, run, it, i, o);
            (*pending)++;
        } else if (o && json_object_size(o)) {
            json_array_append_new(list, kt_loop_output_entry(it->item, json_incref(o)));
        }
        json_decref(o);
    }
    json_t *out = json_pack("{s:I, s:I, s:o}", "iterationCount", (json_int_t)v->n, "runningIterations",
                            (json_int_t)v->open, "terminatedIterations", terminated);
    if (json_array_size(list))
        json_object_set(out, "outputs", list);
    json_decref(list);
    if (!json_equal(out, old)) {
        json_object_set_new(run, "outputs", out);
        kt_step_touch(p, kt_step_index_of(p, run));
    } else {
        json_decref(out);
    }
    return rc;
}

const char *kt_step_loop_state(kt_pass *p, const json_t *task, json_t *run)
{
    int allow_failure = json_is_true(json_object_get(task, "allowFailure"));
    int allow_warning = json_is_true(json_object_get(task, "allowWarning"));
    kt_loop_view v;
    const char *st = KT_S(SUCCESS);
    if (kt_loop_scan(p, task, run, &v)) {
        st = KT_S(FAILED);
        goto apply;
    }
    char err[700] = "";
    size_t pending;
    int failed, out_failed = kt_loop_progress(p, task, run, &v, &pending, err, sizeof err);
    size_t stop = kt_loop_break_at(p, task, run, &v, &failed);
    int fail_stop = kt_loop_failed_stop(task, &v);
    if (v.open || pending || (stop == v.n && !failed && !fail_stop && v.started < v.n)) {
        kt_loop_view_free(&v);
        return NULL;
    }
    for (size_t i = 0; i < v.n && fail_stop; i++) {
        const char *s = v.it[i].phase == KT_IT_DONE ? v.it[i].state : NULL;
        if (s && (!strcmp(s, KT_S(FAILED)) || !strcmp(s, KT_S(KILLED))))
            kt_step_log(p, run, "ERROR", "Loop iteration %zu ended in %s", i, s);
    }
    /* the handler's terminateLoop: FAILED (through allowFailure/allowWarning) or SUCCESS, never WARNING from the
     * iterations */
    if (out_failed)
        kt_step_log(p, run, "ERROR", "%s", err);
    if (fail_stop || failed || out_failed)
        st = KT_S(FAILED);
    kt_loop_view_free(&v);
apply:
    if (!strcmp(st, KT_S(FAILED)) && allow_failure)
        st = allow_warning ? KT_S(SUCCESS) : KT_S(WARNING);
    return st;
}
