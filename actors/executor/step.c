/* Kestra's executor rules over one execution document. See step.h for the shape of a step; the references in
 * comments are to KESTRA-execution.md. This file holds the events and Kestra's `process` pass (starting CREATED
 * runs, the end of the execution, results, retries, resume); the flowable tasks are in flowable.c and the step's
 * index of taskRunList in step_runs.c (step_int.h says what they share). */
#include "actors/executor/step.h"
#include "flow/model.h"
#include "flow/render.h"
#include "actors/executor/retry.h"
#include "actors/executor/step_int.h"
#include "base/clock.h" /* kt_time_parse: dates of the document, never the clock */
#include "flow/inputs.h"
#include "flow/tasks.h"
#include "base/map.h"
#include "base/secrets.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kestra's TruthUtils: null, "false", "0", "-0" and "" are false. */
int kt_step_truthy(const char *s)
{
    return s && *s && strcmp(s, "false") && strcmp(s, "0") && strcmp(s, "-0");
}

/* ---- starting CREATED runs ----------------------------------------------------------------------- */

static void kt_dispatch(kt_pass *p, json_t *run)
{
    json_t *attempts = json_object_get(run, "attempts");
    if (!json_is_array(attempts)) {
        attempts = json_array();
        json_object_set_new(run, "attempts", attempts);
    }
    json_t *st = kt_state_new(KT_S(CREATED), p->now);
    kt_state_set(st, KT_S(RUNNING), p->now);
    json_array_append_new(attempts, json_pack("{s:o}", "state", st));
    kt_state_set(json_object_get(run, "state"), KT_S(RUNNING), p->now);
    kt_step_touch(p, kt_step_index_of(p, run));
    kt_exec_effects *fx = p->fx;
    if (fx->ndispatch == KT_EXEC_MAX_DISPATCH) {
        fx->dispatch_overflow = 1;
        return;
    }
    kt_exec_dispatch *d = &fx->dispatch[fx->ndispatch++];
    d->taskrun_id = kt_step_str(run, "id");
    d->task_id = kt_step_str(run, "taskId");
    d->attempt = (uint32_t)(json_array_size(attempts) - 1);
}

/* Renders one property of a task in the run's context. */
int kt_step_render_prop(kt_pass *p, const json_t *task, const json_t *run, const char *prop, char **out, char *err,
                        size_t cap)
{
    json_t *v = json_object_get(task, prop), *r = NULL;
    if (!v) {
        *out = NULL;
        return 0;
    }
    json_t *ctx = kt_render_context(p->f->flow, p->ex, task, run);
    kt_expr_error e = {0};
    int rc = kt_expr_render_json_cached(p->f->templates, v, ctx, p->env, &r, &e) ? -1 : 0;
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
    if (kt_expr_render_json_cached(p->f->templates, spec, ctx, p->env, &r, &e)) {
        snprintf(err, sizeof err, "%s", e.message);
    } else {
        if (json_is_string(r)) { /* a string rendering to a JSON object (Kestra reads it with Jackson) */
            json_error_t je;
            json_t *parsed = json_loads(json_string_value(r), 0, &je);
            if (!parsed)
                snprintf(err, sizeof err, "Unable to read the labels '%.200s' as a JSON object: %s",
                         json_string_value(r), je.text);
            json_decref(r);
            r = parsed;
        }
        if (!err[0])
            list = kt_labels_normalize(r, err, sizeof err);
    }
    json_decref(ctx);
    json_decref(r);
    size_t i;
    json_t *l;
    json_array_foreach(list, i, l) {
        if (!strncmp(kt_step_str(l, "key"), "system.", 7)) {
            snprintf(err, sizeof err, "System labels can only be set by Kestra itself, offending label: %s=%s",
                     kt_step_str(l, "key"), kt_step_str(l, "value"));
            break;
        }
    }
    json_t *attempt_state = kt_state_new(KT_S(CREATED), p->now);
    kt_state_set(attempt_state, KT_S(RUNNING), p->now);
    if (!err[0]) {
        json_t *labels = json_object_get(p->ex, "labels");
        json_array_foreach(list, i, l) {
            size_t k;
            json_t *old;
            int replaced = 0;
            json_array_foreach(labels, k, old) if (kt_step_streq(kt_step_str(old, "key"), kt_step_str(l, "key"))) {
                json_object_set(old, "value", json_object_get(l, "value"));
                replaced = 1;
            }
            if (!replaced)
                json_array_append(labels, l);
        }
        p->fx->touched_all = 1; /* the execution header changed: its row is always rewritten anyway */
    } else {
        kt_step_log(p, run, "ERROR", "%s", err);
    }
    json_decref(list);
    kt_state_set(attempt_state, err[0] ? KT_S(FAILED) : KT_S(SUCCESS), p->now);
    json_object_set_new(run, "attempts", json_pack("[{s:o}]", "state", attempt_state));
    json_object_set_new(run, "outputs", json_object());
    kt_state_set(json_object_get(run, "state"), KT_S(RUNNING), p->now);
    kt_step_set_state(p, run, err[0] ? KT_S(FAILED) : KT_S(SUCCESS));
}

int kt_step_bool_prop(const json_t *task, const char *name, int dflt)
{
    json_t *v = json_object_get(task, name);
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_string(v))
        return !strcmp(json_string_value(v), "true");
    return dflt;
}

json_t *kt_exec_subflow_spec(const kt_exec_flow *f, const json_t *execution, const json_t *task, const json_t *run,
                             kt_env *env, char *err, size_t errcap)
{
    json_t *ctx = kt_render_context(f->flow, execution, task, run), *spec = json_object();
    static const char *const dynamic[] = {"namespace", "flowId", "revision", "inputs", "labels", "scheduleDate"};
    kt_expr_error e = {0};
    for (size_t i = 0; i < sizeof dynamic / sizeof *dynamic; i++) {
        json_t *v = json_object_get(task, dynamic[i]), *r = NULL;
        if (!v)
            continue;
        if (kt_expr_render_json_cached(f->templates, v, ctx, env, &r, &e)) {
            snprintf(err, errcap, "%s", e.message);
            json_decref(ctx);
            json_decref(spec);
            return NULL;
        }
        json_object_set_new(spec, dynamic[i], r);
    }
    json_decref(ctx);
    json_object_set_new(spec, "wait", json_boolean(kt_step_bool_prop(task, "wait", 1)));
    json_object_set_new(spec, "inheritLabels", json_boolean(kt_step_bool_prop(task, "inheritLabels", 0)));
    json_object_set(spec, "taskId", json_object_get(task, "id"));
    json_object_set(spec, "taskType", json_object_get(task, "type"));
    return spec;
}

/* Subflow (§2.16): RUNNING with one attempt; the caller creates the child execution from the rendered spec. */
static void kt_start_subflow(kt_pass *p, const json_t *task, json_t *run)
{
    kt_exec_effects *fx = p->fx;
    /* No room for one more child in this event's effects: the run stays CREATED, and the next event (the
     * CHILD_CREATED of each child created now, at the latest) starts it. */
    if (fx->nsubflows == KT_EXEC_MAX_SUBFLOWS)
        return;
    json_t *st = kt_state_new(KT_S(CREATED), p->now);
    kt_state_set(st, KT_S(RUNNING), p->now);
    /* a retry or a restart adds an attempt (one per child, as ExecutableUtils appends one per end); the previous
     * child is no longer the one the run waits for */
    if (!json_is_array(json_object_get(run, "attempts")))
        json_object_set_new(run, "attempts", json_array());
    json_array_append_new(json_object_get(run, "attempts"), json_pack("{s:o}", "state", st));
    /* restartBehavior RETRY_FAILED: a run restarted by hand restarts its failed child (subflow.c) rather than making
     * a new one; the default by dialect (kt_exec_subflow_restarts) */
    json_t *again = kt_step_streq(kt_state_current(run), KT_S(RESTARTED)) && kt_exec_subflow_restarts(p->f->flow, task)
                        ? json_incref(json_object_get(json_object_get(run, "outputs"), "executionId"))
                        : NULL;
    json_object_del(json_object_get(run, "outputs"), "executionId");
    kt_step_set_state(p, run, KT_S(RUNNING));
    char err[1024];
    json_t *spec = kt_exec_subflow_spec(p->f, p->ex, task, run, p->env, err, sizeof err);
    if (spec && json_is_string(again))
        json_object_set(spec, "restartChild", again);
    json_decref(again);
    if (!spec) {
        kt_step_log(p, run, "ERROR", "%s", err);
        kt_state_set(st, KT_S(FAILED), p->now); /* its attempt ends with it (§2.10) */
        kt_step_set_state(p, run, KT_S(FAILED));
        return;
    }
    snprintf(fx->subflows[fx->nsubflows].taskrun_id, sizeof fx->subflows[0].taskrun_id, "%s", kt_step_str(run, "id"));
    fx->subflows[fx->nsubflows++].spec = spec;
}

/* handleWorkerTask and friends: every CREATED run starts. */
static void kt_start_run(kt_pass *p, json_t *run)
{
    const json_t *task = kt_step_task_of(p, kt_step_str(run, "taskId"));
    char err[600] = "";
    if (!task) {
        kt_step_log(p, run, "ERROR", "task '%s' is not in this flow revision", kt_step_str(run, "taskId"));
        kt_step_set_state(p, run, KT_S(FAILED));
        return;
    }
    const kt_task_def *def = kt_step_def(task);
    /* runIf: 0.21 checked it where it sends worker tasks (runnables, flowables); the execution-updating tasks 1.x and
     * 2.x added (Exit, SetVariables, UnsetVariables, Kill) are written with it as the way to make them conditional,
     * and Labels with them */
    if (json_object_get(task, "runIf") && (!def || def->kind == KT_PLUGIN_RUNNABLE || def->kind == KT_PLUGIN_FLOWABLE ||
                                           def->kind == KT_PLUGIN_EXEC_UPDATE)) {
        char *v = NULL;
        if (kt_step_render_prop(p, task, run, "runIf", &v, err, sizeof err)) {
            kt_step_log(p, run, "ERROR", "Unable to evaluate the runIf condition for task %s: %s",
                        kt_step_str(task, "id"), err);
            kt_step_set_state(p, run, KT_S(FAILED));
            return;
        }
        int yes = kt_step_truthy(v);
        free(v);
        if (!yes) {
            kt_step_set_state(p, run, KT_S(SKIPPED));
            return;
        }
    }
    if (def && def->kind == KT_PLUGIN_EXEC_UPDATE) {
        if (kt_step_type_is(task, "Labels"))
            kt_run_labels(p, task, run);
        else if (kt_step_type_is(task, "Kill"))
            kt_step_run_kill(p, task, run); /* step_kill.c */
        else
            kt_step_run_update(p, task, run); /* Exit, SetVariables, UnsetVariables (step_update.c) */
        return;
    }
    if (def && def->kind == KT_PLUGIN_EXECUTABLE && kt_step_type_is(task, "Subflow")) {
        kt_start_subflow(p, task, run);
        return;
    }
    if (def && def->kind == KT_PLUGIN_EXECUTABLE && kt_step_type_is(task, "ForEachItem$ForEachItemExecutable")) {
        kt_step_items_start(p, task, run);
        return;
    }
    if (!def || def->kind == KT_PLUGIN_RUNNABLE) { /* unknown types go to the worker, which says it cannot run them */
        kt_dispatch(p, run);
        return;
    }
    if (kt_step_is_wd(task)) { /* one worker job; outputs {} until it ends (saveFlowableOutput: no outputs.ion yet) */
        json_object_set_new(run, "outputs", json_object());
        kt_dispatch(p, run);
        return;
    }
    if (def->kind != KT_PLUGIN_FLOWABLE || kt_step_type_is(task, "Template") ||
        kt_step_type_is(task, "Approval")) { /* Approval (2.0): known, not run yet (flow/tasks.c) */
        kt_step_log(p, run, "ERROR", "Task type '%s' is not supported by this executor yet", kt_step_str(task, "type"));
        kt_step_set_state(p, run, KT_S(FAILED));
        return;
    }
    /* A flowable: RUNNING at once, with the outputs it decides from (saveFlowableOutput). */
    json_t *outputs = json_object();
    if (kt_step_type_is(task, "If")) {
        char *v = NULL;
        if (kt_step_render_prop(p, task, run, "condition", &v, err, sizeof err)) {
            kt_step_log(p, run, "ERROR", "Unable to resolve the next tasks to run: %s", err);
            json_decref(outputs);
            kt_step_set_state(p, run, KT_S(RUNNING));
            kt_step_set_state(p, run, KT_S(FAILED));
            return;
        }
        json_object_set_new(outputs, "evaluationResult", json_boolean(kt_step_truthy(v)));
        free(v);
    } else if (kt_step_type_is(task, "Switch")) {
        char *v = NULL;
        if (kt_step_render_prop(p, task, run, "value", &v, err, sizeof err)) {
            kt_step_log(p, run, "ERROR", "Unable to resolve the next tasks to run: %s", err);
            json_decref(outputs);
            kt_step_set_state(p, run, KT_S(RUNNING));
            kt_step_set_state(p, run, KT_S(FAILED));
            return;
        }
        json_object_set_new(outputs, "value", json_string(v ? v : ""));
        json_object_set_new(outputs, "defaults",
                            json_boolean(!v || !json_object_get(json_object_get(task, "cases"), v)));
        free(v);
    } else if (kt_step_type_is(task, "WaitFor")) {
        kt_step_waitfor_outputs(run, outputs);
    }
    json_object_set_new(run, "outputs", outputs);
    kt_step_set_state(p, run, KT_S(RUNNING));
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
        const char *id = kt_step_str(d, "id");
        if (id)
            json_object_set(raw, id, json_object_get(d, "value") ? json_object_get(d, "value") : json_null());
    }
    json_t *ctx = kt_render_context(p->f->flow, p->ex, NULL, NULL);
    kt_expr_error e = {0};
    int rc = 0;
    /* a secret() value in the error is masked (the engine and kt_step_log mask what the render obtained); the
     * outputs themselves are not, as in Kestra (it masks logs only) */
    if (kt_expr_render_json_cached(p->f->templates, raw, ctx, p->env, &rendered, &e) != KT_OK) {
        kt_step_log(p, NULL, "ERROR", "Failed to render output values: %s", e.message);
        rc = -1;
        goto done;
    }
    json_array_foreach(defs, i, d) {
        const char *id = kt_step_str(d, "id");
        char *err = NULL;
        json_t *v = id ? kt_input_parse_value(d, json_object_get(rendered, id), &err) : NULL;
        if (!v) {
            char *got = kt_input_java_string(json_object_get(rendered, id));
            kt_step_log(p, NULL, "ERROR",
                        "Failed to render output values: Invalid output for `%s`, %s, but received `%s`",
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
    kt_step_resolve_plain(json_object_get(p->f->flow, "tasks"), &tasks);
    const char *st = kt_step_guess_final(p, &tasks, NULL, 0, 0);
    kt_step_rl_free(&tasks);
    if (kt_step_streq(kt_state_current(p->ex), KT_S(CREATED)))
        kt_state_set(json_object_get(p->ex, "state"), KT_S(RUNNING), p->now);
    kt_state_set(json_object_get(p->ex, "state"), st, p->now);
    if (kt_flow_outputs(p))
        kt_state_set(json_object_get(p->ex, "state"), KT_S(FAILED), p->now);
    p->fx->changed = 1;
    p->fx->ended = 1;
    p->changed = 1;
}

/* One Kestra `process` pass; returns 1 when it ended the execution. after: the pass of an execution that has ended,
 * over its afterExecution list (handleAfterExecution) instead of tasks, errors and finally; it never ends anything. */
static int kt_process(kt_pass *p, int after)
{
    kt_rlist tasks = {0}, errors = {0}, fin = {0}, cur = {0};
    if (after) {
        kt_step_resolve_plain(json_object_get(p->f->flow, "afterExecution"), &cur);
    } else {
        kt_step_resolve_plain(json_object_get(p->f->flow, "tasks"), &tasks);
        kt_step_resolve_plain(json_object_get(p->f->flow, "errors"), &errors);
        kt_step_resolve_plain(json_object_get(p->f->flow, "finally"), &fin);
        kt_step_depending(p, &tasks, &errors, &fin, NULL, &cur);
    }
    int ended = 0;
    /* handleEnd (not while a retry is pending) */
    if (!after && !kt_step_streq(kt_state_current(p->ex), KT_S(RETRYING)) && kt_step_all_terminated(p, &cur, NULL)) {
        kt_on_end(p);
        ended = 1;
        goto done;
    }
    /* handleNext (top level) */
    kt_step_next_sequential(p, &cur, NULL);
    /* handleChildNext, then handleWorkerTask, then handleChildWorkerTaskResult, each over a snapshot of the list
     * as it is when the step begins (runs appended during a step are handled in the next pass). */
    size_t n = json_array_size(kt_step_runs(p));
    for (size_t i = 0; i < n; i++) {
        json_t *run = json_array_get(kt_step_runs(p), i);
        if (!kt_state_is_running(kt_state_current(run)))
            continue;
        const json_t *task = kt_step_task_of(p, kt_step_str(run, "taskId"));
        if (task && kt_step_is_flowable(task))
            kt_step_flowable_nexts(p, task, run);
    }
    n = json_array_size(kt_step_runs(p));
    for (size_t i = 0; i < n; i++) {
        json_t *run = json_array_get(kt_step_runs(p), i);
        if (kt_step_created(kt_state_current(run)))
            kt_start_run(p, run);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *run = json_array_get(kt_step_runs(p), i);
        if (!kt_state_is_running(kt_state_current(run)))
            continue;
        const json_t *task = kt_step_task_of(p, kt_step_str(run, "taskId"));
        if (!task || !kt_step_is_flowable(task))
            continue;
        const char *st = kt_step_flowable_state(p, task, run);
        if (st)
            kt_step_set_state(p, run, st);
        if (st && !strcmp(st, KT_S(PAUSED)) && !after) {
            kt_state_set(json_object_get(p->ex, "state"), KT_S(PAUSED), p->now);
            kt_step_pause_timers(p, task, run);
        }
    }
done:
    kt_step_rl_free(&cur);
    kt_step_rl_free(&tasks);
    kt_step_rl_free(&errors);
    kt_step_rl_free(&fin);
    return ended;
}

/* ---- events -------------------------------------------------------------------------------------- */

static kt_status kt_apply_result(kt_pass *p, const kt_exec_event *ev)
{
    size_t index;
    json_t *tr = kt_taskrun_find_at(p->ex, ev->taskrun_id, &index);
    if (!tr)
        return KT_ENOTFOUND;
    size_t n = kt_taskrun_attempts(tr);
    /* Stale: a late answer from an attempt we already replaced, or a duplicate of one already applied — including
     * while the run is RETRYING, when the run is not terminated but its last attempt is. */
    if (kt_state_is_terminated(kt_state_current(tr)) || n == 0 || ev->attempt != n - 1 ||
        kt_state_is_terminated(kt_state_current(json_array_get(json_object_get(tr, "attempts"), n - 1)))) {
        p->fx->stale = 1;
        return KT_OK;
    }
    if (!kt_state_is_valid(ev->state) || !kt_state_is_terminated(ev->state))
        return KT_EINVAL;
    const char *state = ev->state;
    const json_t *task = kt_step_task_of(p, kt_step_str(tr, "taskId"));
    json_t *attempt = json_array_get(json_object_get(tr, "attempts"), n - 1);
    if (!kt_state_can_move(kt_state_of(kt_state_current(tr)), kt_state_of(state)) ||
        !kt_state_can_move(kt_state_of(kt_state_current(attempt)), kt_state_of(state))) {
        p->fx->stale = 1; /* a worker's word is outside input: an end the run cannot take is ignored, not asserted */
        return KT_OK;
    }
    kt_state_set(json_object_get(attempt, "state"), state, ev->ended_us);
    json_object_set_new(tr, "outputs", ev->outputs ? json_deep_copy(ev->outputs) : json_object());
    if (task && kt_step_is_wd(task)) {
        kt_step_wd_end(p, tr, index, state);
        return KT_OK;
    }
    const json_t *own_policy = json_object_get(task, "retry");
    if (!strcmp(state, KT_S(SUCCESS)) && own_policy && kt_retry_warns(own_policy, n - 1))
        state = KT_S(WARNING); /* warningOnRetry (§5.4) */
    /* an afterExecution run is not retried: a retry would take the ended execution back to RETRYING */
    if (!strcmp(state, KT_S(FAILED)) && task && !kt_state_is_terminated(kt_state_current(p->ex)) &&
        kt_step_retry_failed(p, tr, index, task))
        return KT_OK;
    /* Worker rules (2.4 step 6): allowFailure turns FAILED into WARNING, allowWarning WARNING into SUCCESS. */
    if (!strcmp(state, KT_S(FAILED)) && task && json_is_true(json_object_get(task, "allowFailure")))
        state = KT_S(WARNING);
    if (!strcmp(state, KT_S(WARNING)) && task && json_is_true(json_object_get(task, "allowWarning")))
        state = KT_S(SUCCESS);
    kt_state_set(json_object_get(tr, "state"), state, ev->ended_us);
    kt_step_touch(p, index);
    return KT_OK;
}

/* ExecutionService.resume / markAs: the paused run takes the new state, its flowable ancestors run again, and the
 * execution restarts unless another run is still paused. */
kt_status kt_step_resume(kt_pass *p, const kt_exec_event *ev)
{
    json_t *runs = kt_step_runs(p), *paused = NULL, *tr;
    size_t i, npaused = 0;
    json_array_foreach(runs, i, tr) {
        if (!kt_step_streq(kt_state_current(tr), KT_S(PAUSED)))
            continue;
        npaused++;
        if (!paused && (!ev->taskrun_id || !*ev->taskrun_id || kt_step_streq(kt_step_str(tr, "id"), ev->taskrun_id)))
            paused = tr;
    }
    const char *state = ev->state ? ev->state : KT_S(RUNNING);
    const json_t *ptask = paused ? kt_step_task_of(p, kt_step_str(paused, "taskId")) : NULL;
    if (ptask && kt_step_type_is(ptask, "WaitFor") && !strcmp(state, KT_S(RUNNING))) {
        if (ev->iteration && ev->iteration != kt_step_waitfor_iteration(paused)) {
            p->fx->stale = 1; /* the interval timer of an iteration the API resumed early: this wait has its own */
            return KT_OK;
        }
        /* the interval is over (or the API resumed it): the next iteration. With another run still PAUSED (a
         * Pause in a parallel branch) the execution stays PAUSED and the iteration starts once that one resumes. */
        kt_step_waitfor_next(p, paused);
        if (npaused == 1)
            kt_state_set(json_object_get(p->ex, "state"), KT_S(RUNNING), p->now);
        return KT_OK;
    }
    if (!paused) {
        if (!kt_step_streq(kt_state_current(p->ex), KT_S(PAUSED)) || (ev->taskrun_id && *ev->taskrun_id)) {
            p->fx->stale = 1; /* e.g. a Pause delay firing after a manual resume */
            return KT_OK;
        }
        kt_state_set(json_object_get(p->ex, "state"), state, p->now);
        p->fx->changed = 1;
        return KT_OK;
    }
    kt_step_index_sync(p);
    for (const char *pid = kt_step_str(paused, "parentTaskRunId"); pid;) {
        uintptr_t pos = (uintptr_t)kt_map_get(p->by_id, pid);
        json_t *parent = pos ? json_array_get(runs, pos - 1) : NULL;
        if (!parent)
            break;
        kt_step_set_state(p, parent, KT_S(RUNNING));
        pid = kt_step_str(parent, "parentTaskRunId");
    }
    kt_step_set_state(p, paused, state);
    const json_t *task = kt_step_task_of(p, kt_step_str(paused, "taskId"));
    if (ev->outputs && json_object_size(ev->outputs))
        json_object_set_new(paused, "outputs", json_pack("{s:O}", "onResume", (json_t *)ev->outputs));
    if (!strcmp(state, KT_S(RUNNING)) && !json_array_size(json_object_get(task, "tasks")))
        kt_step_set_state(p, paused, KT_S(SUCCESS));
    if (npaused == 1) {
        kt_state_set(json_object_get(p->ex, "state"), KT_S(RESTARTED), p->now);
        kt_state_set(json_object_get(p->ex, "state"), KT_S(RUNNING), p->now); /* handleRestart, next pass in Kestra */
    }
    p->fx->changed = 1;
    return KT_OK;
}

/* An execution taken in (START, or ADMIT once flow concurrency let it run): after a restart, the delays that lived in
 * the previous process's timers are armed again from the stored document. A PAUSED run gets its Pause delay or
 * timeout back; a RETRYING run its retry, due when its policy says counted from its last attempt's end (Kestra keeps
 * the ExecutionDelay's date across restarts), so a date already past fires at once. A retry that finds no room among
 * this event's timers runs now. */
void kt_step_start(kt_pass *p)
{
    size_t i;
    json_t *tr;
    if (kt_step_streq(kt_state_current(p->ex), KT_S(RESTARTED))) { /* handleRestart: a restart, replay or markAs */
        kt_state_set(json_object_get(p->ex, "state"), KT_S(RUNNING), p->now);
        kt_step_log(p, NULL, "INFO", "Flow restarted");
        p->fx->changed = 1;
    }
    kt_step_sla_arm(p);
    int paused = kt_step_streq(kt_state_current(p->ex), KT_S(PAUSED));
    json_array_foreach(kt_step_runs(p), i, tr) {
        const json_t *task = kt_step_task_of(p, kt_step_str(tr, "taskId"));
        if (!task)
            continue;
        if (paused && kt_step_streq(kt_state_current(tr), KT_S(PAUSED)))
            kt_step_pause_timers(p, task, tr);
        if (!kt_step_streq(kt_state_current(tr), KT_S(RETRYING)))
            continue;
        int own;
        const json_t *policy = kt_step_retry_policy(p, tr, task, &own);
        int64_t at = p->now;
        char err[256];
        if (!policy || kt_retry_next(policy, tr, kt_step_retry_draw(tr), &at, err, sizeof err) <= 0 || at < p->now)
            at = p->now;
        if (kt_step_add_timer(p, tr, KT_CMD_RETRY, at)) {
            kt_step_set_state(p, tr, KT_S(CREATED)); /* as KT_EV_RETRY does */
            if (!paused)
                kt_state_set(json_object_get(p->ex, "state"), KT_S(RUNNING), p->now);
            p->fx->changed = 1;
        }
    }
}

/* ---- events: one handler each, in a table indexed by kind -------------------------------------------- */

typedef struct kt_event_handler {
    kt_status (*apply)(kt_pass *p, const kt_exec_event *ev, kt_after_event *after);
} kt_event_handler;

static kt_status kt_ev_start(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    (void)ev, (void)after;
    kt_step_start(p);
    return KT_OK;
}

static kt_status kt_ev_admit(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    const char *cur = kt_state_current(p->ex);
    if (kt_step_streq(cur, KT_S(QUEUED))) { /* taken in again while waiting: its turn comes with UNQUEUE */
        p->fx->stale = 1;
        return KT_OK;
    }
    if (kt_step_streq(cur, KT_S(CREATED)) && kt_step_scheduled_later(p)) {
        *after = KT_DONE;
        return KT_OK;
    }
    if (kt_step_streq(cur, KT_S(CREATED)) && kt_step_admit(p, ev)) {
        *after = KT_DONE; /* QUEUED, CANCELLED or FAILED by the flow's concurrency limit */
        return KT_OK;
    }
    kt_step_start(p);
    return KT_OK;
}

static kt_status kt_ev_unqueue(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    (void)ev;
    if (kt_step_unqueue(p))
        *after = KT_DONE;
    return KT_OK;
}

static kt_status kt_ev_child_created(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    (void)after;
    return kt_step_child_created(p, ev);
}

static kt_status kt_ev_wd_child(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    (void)after;
    return kt_step_wd_child(p, ev);
}

static kt_status kt_ev_subflow(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    (void)after;
    return kt_step_subflow_ended(p, ev);
}

static kt_status kt_ev_resume(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    (void)after;
    return kt_step_resume(p, ev);
}

static kt_status kt_ev_result(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    (void)after;
    return kt_apply_result(p, ev);
}

static kt_status kt_ev_lost(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    (void)after;
    size_t index;
    json_t *tr = kt_taskrun_find_at(p->ex, ev->taskrun_id, &index);
    if (!tr)
        return KT_ENOTFOUND;
    if (!kt_state_is_running(kt_state_current(tr)) || !kt_taskrun_attempts(tr) || kt_step_wd_is_child(p, tr)) {
        p->fx->stale = 1; /* ended, not on a worker (CREATED, RETRYING, PAUSED...), or in a WorkingDirectory's job */
        return KT_OK;
    }
    /* The interrupted attempt ends FAILED; the task runs again as a new attempt (Kestra resubmits the WorkerTask of
     * a dead worker). */
    size_t n = kt_taskrun_attempts(tr);
    kt_state_set(json_object_get(json_array_get(json_object_get(tr, "attempts"), n - 1), "state"), KT_S(FAILED),
                 ev->now_us);
    const json_t *task = kt_step_task_of(p, kt_step_str(tr, "taskId"));
    if (task && kt_step_is_wd(task)) /* the whole WorkingDirectory runs again (KESTRA-execution.md §2.15) */
        kt_step_wd_prune(p, tr);
    kt_dispatch(p, tr);
    return KT_OK;
}

static kt_status kt_ev_retry(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    (void)after;
    size_t index;
    json_t *tr = kt_taskrun_find_at(p->ex, ev->taskrun_id, &index);
    if (!tr)
        return KT_ENOTFOUND;
    if (!kt_step_streq(kt_state_current(tr), KT_S(RETRYING))) {
        p->fx->stale = 1;
        return KT_OK;
    }
    /* ExecutionService.retryTask: back to CREATED (attempts kept), the execution RUNNING again, unless it is
     * PAUSED: then the run starts when the execution is resumed (the passes skip a paused execution). */
    kt_step_set_state(p, tr, KT_S(CREATED));
    if (!kt_step_streq(kt_state_current(p->ex), KT_S(PAUSED)))
        kt_state_set(json_object_get(p->ex, "state"), KT_S(RUNNING), ev->now_us);
    p->fx->changed = 1;
    return KT_OK;
}

/* KESTRA-execution.md §2.13: KILLING, then every run not terminated KILLED, the execution KILLED. Kestra lets the
 * workers report their KILLED attempts later; Kite marks them now and tells the workers to stop. */
static kt_status kt_ev_kill(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    kt_state_set(json_object_get(p->ex, "state"), KT_S(KILLING), ev->now_us);
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(p->ex, "taskRunList"), i, tr) {
        if (kt_state_is_terminated(kt_state_current(tr)))
            continue;
        size_t na = kt_taskrun_attempts(tr);
        if (na) {
            json_t *att = json_array_get(json_object_get(tr, "attempts"), na - 1);
            if (!kt_state_is_terminated(kt_state_current(att)))
                kt_state_set(json_object_get(att, "state"), KT_S(KILLED), ev->now_us);
        }
        kt_step_set_state(p, tr, KT_S(KILLED));
    }
    kt_state_set(json_object_get(p->ex, "state"), KT_S(KILLED), ev->now_us);
    p->fx->changed = p->fx->ended = p->fx->killed = 1;
    *after = KT_DONE;
    return KT_OK;
}

static const kt_event_handler kt_event_handlers[] = {
    [KT_EV_START] = {kt_ev_start},
    [KT_EV_RESULT] = {kt_ev_result},
    [KT_EV_LOST] = {kt_ev_lost},
    [KT_EV_RETRY] = {kt_ev_retry},
    [KT_EV_KILL] = {kt_ev_kill},
    [KT_EV_RESUME] = {kt_ev_resume},
    [KT_EV_SUBFLOW] = {kt_ev_subflow},
    [KT_EV_ADMIT] = {kt_ev_admit},
    [KT_EV_UNQUEUE] = {kt_ev_unqueue},
    [KT_EV_CHILD_CREATED] = {kt_ev_child_created},
    [KT_EV_WD_CHILD] = {kt_ev_wd_child},
    [KT_EV_SLA] = {kt_step_ev_sla},
    [KT_EV_PAUSE] = {kt_step_ev_pause},
    [KT_EV_FORCE_RUN] = {kt_step_ev_force_run},
    [KT_EV_SCHEDULED] = {kt_step_ev_scheduled},
};

/* Kestra's `process` passes until nothing changes. A paused execution is not processed (2.2): its running branches
 * were recorded by the event; a queued one waits for its turn. */
static void kt_settle(kt_pass *p)
{
    for (size_t i = 0;; i++) {
        const char *cur = kt_state_current(p->ex);
        if (kt_step_streq(cur, KT_S(PAUSED)) || kt_step_streq(cur, KT_S(QUEUED)) || kt_state_is_terminated(cur))
            return; /* terminated: RETRIED by CREATE_NEW_EXECUTION (an end is the last pass anyway) */
        /* base/limits.h: every legitimate event settles well inside this budget, so exhausting it is a loop */
        KT_ASSERTF(i < KT_EXEC_PASS_LIMIT + KT_EXEC_PASSES_PER_RUN * json_array_size(kt_step_runs(p)),
                   "execution %s still changes after %zu passes", kt_step_str(p->ex, "id"), i);
        p->changed = 0;
        if (kt_process(p, 0) || !p->changed)
            return;
    }
}

/* handleAfterExecution: an execution that has ended runs its afterExecution list, a sequence of its own, until
 * nothing changes; its runs never change the execution's state (step_after.c). */
static void kt_settle_after(kt_pass *p)
{
    if (!kt_step_after_applies(p))
        return;
    for (size_t i = 0;; i++) {
        KT_ASSERTF(i < KT_EXEC_PASS_LIMIT + KT_EXEC_PASSES_PER_RUN * json_array_size(kt_step_runs(p)),
                   "execution %s: afterExecution still changes after %zu passes", kt_step_str(p->ex, "id"), i);
        p->changed = 0;
        kt_process(p, 1);
        if (!p->changed)
            return;
    }
}

kt_status kt_exec_step(const kt_exec_flow *flow, json_t *execution, const kt_exec_event *ev, kt_env *env,
                       kt_exec_effects *fx)
{
    /* Only the counts and flags: the arrays (tens of kB with the limits of base/limits.h) are read up to their
     * counts, and clearing them on every event cost more than the rest of a Log task's step. */
    fx->changed = fx->ended = fx->stale = fx->killed = fx->dispatch_overflow = fx->touched_all = 0;
    fx->kill_children = 0;
    fx->ndispatch = fx->ntouched = fx->nlogs = fx->logs_dropped = fx->ntimers = fx->nsubflows = 0;
    KT_ASSERTF((size_t)ev->kind < sizeof kt_event_handlers / sizeof *kt_event_handlers &&
                   kt_event_handlers[ev->kind].apply,
               "unknown event kind %d", (int)ev->kind);
    const char *cur = kt_state_current(execution);
    if (kt_state_of(cur) == KT_STATE_NONE)
        return KT_EINVAL; /* task runs' states are checked where documents come in (kt_execution_check) */
    /* An ended execution takes only the events of its afterExecution runs (their results, a lost worker, a Subflow's
     * child) while they are not all over; anything else is too late. */
    int ended_before = kt_state_is_terminated(cur);
    if (ended_before && !(kt_exec_after_pending(flow, execution) && kt_step_after_event(ev->kind))) {
        fx->stale = 1;
        return KT_OK;
    }
    kt_pass p = {.f = flow, .ex = execution, .env = env, .fx = fx, .now = ev->now_us,
                 .by_task = kt_map_new(), .by_id = kt_map_new()};
    kt_status rc = KT_OK;
    if (!p.by_task || !p.by_id) {
        rc = KT_ENOMEM;
        goto done;
    }
    kt_after_event after = KT_SETTLE;
    rc = kt_event_handlers[ev->kind].apply(&p, ev, &after);
    /* Kestra checks the execution-changed SLAs on every execution message, before its `process` */
    if (!rc && !fx->stale && !ended_before && after == KT_SETTLE && kt_step_sla_changed(&p))
        after = KT_DONE;
    if (!rc && !fx->stale && !ended_before && after == KT_SETTLE)
        kt_settle(&p);
    /* whatever ended it (its tasks, a kill, an SLA, Exit), an ended execution goes on with its afterExecution */
    if (!rc && !fx->stale && kt_state_is_terminated(kt_state_current(execution)))
        kt_settle_after(&p);
done:
    kt_step_index_free(&p);
    return rc;
}
