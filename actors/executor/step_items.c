/* ForEachItem's `<id>_items` run (KESTRA-execution.md §2.16, ForEachItem.ForEachItemExecutable and
 * ExecutableUtils.manageIterations): it starts one child execution per batch the `<id>_split` run listed, then
 * counts its children's ends in outputs.iterations (state -> how many) until every batch has ended.
 *
 * The step asks for the children (an effect like a Subflow's, with the batches' list file to read); the actor reads
 * that file, builds the children and answers with one CHILD_CREATED carrying how many there are; each child's end
 * comes back as one SUBFLOW event carrying the actor's whole tally of ended batches (actors/executor/items.c), from
 * which the iterations are rebuilt. Kestra sends each child's intermediate states too (RUNNING); Kite's children
 * report their end only, so a child still running is counted under CREATED until it ends: the final counts are
 * Kestra's ({CREATED: 0, RUNNING: 0, SUCCESS: n}). */
#include "flow/foreachitem.h"
#include "flow/model.h"
#include "flow/render.h"
#include "actors/executor/step_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The `<id>_split` run beside this `<id>_items` run: same parent, same loop value. */
static const json_t *kt_split_run(kt_pass *p, const json_t *run)
{
    char sid[512];
    if (!kt_foreachitem_sibling(kt_step_str(run, "taskId"), KT_FOREACHITEM_SPLIT_SUFFIX, sid, sizeof sid))
        return NULL;
    size_t i;
    json_t *tr;
    json_array_foreach(kt_step_runs(p), i, tr) {
        if (kt_step_streq(kt_step_str(tr, "taskId"), sid) &&
            kt_step_streq(kt_step_str(tr, "parentTaskRunId"), kt_step_str(run, "parentTaskRunId")) &&
            kt_step_streq(kt_step_str(tr, "value"), kt_step_str(run, "value")))
            return tr;
    }
    return NULL;
}

static void kt_items_fail(kt_pass *p, json_t *run, const char *fmt, const char *arg)
{
    kt_step_log(p, run, "ERROR", fmt, arg);
    json_object_set_new(run, "attempts", json_pack("[{s:o}]", "state", kt_state_new(KT_S(FAILED), p->now)));
    kt_step_set_state(p, run, KT_S(FAILED));
}

int kt_step_is_items_run(const kt_pass *p, const json_t *run)
{
    const json_t *task = kt_step_task_of(p, kt_step_str(run, "taskId"));
    return task && kt_step_type_is(task, "ForEachItem$ForEachItemExecutable");
}

void kt_step_items_start(kt_pass *p, const json_t *task, json_t *run)
{
    kt_exec_effects *fx = p->fx;
    if (fx->nsubflows == KT_EXEC_MAX_SUBFLOWS)
        return; /* stays CREATED: the next event starts it (as kt_start_subflow) */
    const json_t *split = kt_split_run(p, run);
    const char *splits = kt_step_str(json_object_get(split, "outputs"), "splits");
    /* handleExecutableTaskRunning: RUNNING, no attempt until the end (manageIterations adds the one attempt) */
    kt_step_set_state(p, run, KT_S(RUNNING));
    if (!splits) {
        kt_items_fail(p, run, "Unable to find the batches of '%s': its split task has no `splits` output",
                      kt_step_str(task, "id"));
        return;
    }
    json_t *ctx = kt_render_context(p->f->flow, p->ex, task, run), *spec = json_object();
    static const char *const dynamic[] = {"namespace", "flowId", "revision", "labels", "scheduleDate"};
    kt_expr_error e = {0};
    for (size_t i = 0; i < sizeof dynamic / sizeof *dynamic; i++) {
        json_t *v = json_object_get(task, dynamic[i]), *r = NULL;
        if (!v)
            continue;
        if (kt_expr_render_json_cached(p->f->templates, v, ctx, p->env, &r, &e)) {
            json_decref(ctx);
            json_decref(spec);
            kt_items_fail(p, run, "%s", e.message);
            return;
        }
        json_object_set_new(spec, dynamic[i], r);
    }
    json_decref(ctx);
    /* inputs are rendered once per batch by the actor, with taskrun.items and taskrun.iteration */
    if (json_object_get(task, "inputs"))
        json_object_set(spec, "inputs", json_object_get(task, "inputs"));
    json_object_set_new(spec, "forEachItem", json_true());
    json_object_set_new(spec, "splits", json_string(splits));
    json_object_set_new(spec, "wait", json_boolean(kt_step_bool_prop(task, "wait", 1)));
    json_object_set_new(spec, "inheritLabels", json_boolean(kt_step_bool_prop(task, "inheritLabels", 0)));
    json_object_set(spec, "taskId", json_object_get(task, "id"));
    json_object_set(spec, "taskType", json_object_get(task, "type"));
    snprintf(fx->subflows[fx->nsubflows].taskrun_id, sizeof fx->subflows[0].taskrun_id, "%s", kt_step_str(run, "id"));
    fx->subflows[fx->nsubflows++].spec = spec;
}

static long kt_count(const json_t *iterations, const char *state)
{
    return (long)json_integer_value(json_object_get(iterations, state));
}

/* The run ends in st with Kestra's final outputs, and the one attempt manageIterations gives it. */
static void kt_items_end(kt_pass *p, json_t *run, size_t index, const char *st, json_t *iterations, long batches,
                         const char *base)
{
    json_t *out = json_pack("{s:O, s:i}", "iterations", iterations, "numberOfBatches", (json_int_t)batches);
    if (base)
        json_object_set_new(out, "subflowOutputsBaseUri", json_string(base));
    json_object_set_new(run, "outputs", out);
    json_object_set_new(run, "attempts", json_pack("[{s:o}]", "state", kt_state_new(st, p->now)));
    kt_state_set(json_object_get(run, "state"), st, p->now);
    kt_step_touch(p, index);
}

kt_status kt_step_items_created(kt_pass *p, json_t *run, size_t index, const kt_exec_event *ev)
{
    if (!kt_step_streq(kt_state_current(run), KT_S(RUNNING)) ||
        json_object_get(json_object_get(run, "outputs"), "numberOfBatches")) {
        p->fx->stale = 1; /* ended meanwhile (killed), or its children are known already */
        return KT_OK;
    }
    const json_t *task = kt_step_task_of(p, kt_step_str(run, "taskId"));
    if (ev->error) {
        kt_items_fail(p, run, "%s", ev->error);
        return KT_OK;
    }
    long n = (long)ev->batches;
    if (n == 0) { /* "if no executions we move the task to SUCCESS immediately", without outputs */
        kt_step_set_state(p, run, KT_S(SUCCESS));
        return KT_OK;
    }
    const char *base = kt_step_str(ev->outputs, "subflowOutputsBaseUri");
    if (!kt_step_bool_prop(task, "wait", 1)) { /* every child's result is SUCCESS at once */
        json_t *it = json_pack("{s:i, s:i}", "RUNNING", 0, "SUCCESS", (json_int_t)n);
        kt_items_end(p, run, index, KT_S(SUCCESS), it, n, base);
        json_decref(it);
        return KT_OK;
    }
    json_object_set_new(run, "outputs", json_pack("{s:{s:i, s:i}, s:i}", "iterations", "CREATED", (json_int_t)n,
                                                  "RUNNING", 0, "numberOfBatches", (json_int_t)n));
    kt_step_touch(p, index);
    return KT_OK;
}

/* ExecutableUtils.findTerminalState */
static const char *kt_items_final(const json_t *it, int transmit, int allow_failure, int allow_warning)
{
    if (!transmit)
        return KT_S(SUCCESS);
    if (kt_count(it, "FAILED") > 0)
        return allow_failure ? (allow_warning ? KT_S(SUCCESS) : KT_S(WARNING)) : KT_S(FAILED);
    if (kt_count(it, "KILLED") > 0)
        return KT_S(KILLED);
    if (kt_count(it, "WARNING") > 0)
        return allow_warning ? KT_S(SUCCESS) : KT_S(WARNING);
    return KT_S(SUCCESS);
}

kt_status kt_step_items_ended(kt_pass *p, json_t *run, size_t index, const kt_exec_event *ev)
{
    json_t *outputs = json_object_get(run, "outputs");
    long n = (long)json_integer_value(json_object_get(outputs, "numberOfBatches"));
    const json_t *counts = json_object_get(ev->outputs, "counts");
    if (!json_is_object(json_object_get(outputs, "iterations")) || n <= 0 || !json_is_object(counts) ||
        kt_state_is_terminated(kt_state_current(run))) {
        p->fx->stale = 1;
        return KT_OK;
    }
    const json_t *task = kt_step_task_of(p, kt_step_str(run, "taskId"));
    if (ev->error) /* the batch that ended last could not store its outputs: counted as failed by the actor */
        kt_step_log(p, run, "WARN", "Failed to extract outputs with the error: '%s'", ev->error);
    /* The actor's tally is the whole truth (each batch once): the run's iterations are rebuilt from it, so an end
     * heard twice changes nothing. Batches not ended yet are CREATED (Kite's children report their end only). */
    long ended = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)counts, k, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || !kt_state_is_terminated(k)) {
            p->fx->stale = 1;
            return KT_EINVAL;
        }
        ended += (long)json_integer_value(v);
    }
    if (ended > n) {
        p->fx->stale = 1;
        return KT_EINVAL;
    }
    json_t *it = json_pack("{s:i, s:i}", "CREATED", (json_int_t)(n - ended), "RUNNING", 0);
    json_object_update(it, (json_t *)counts);
    if (ended < n) {
        json_object_set_new(outputs, "iterations", it);
        kt_step_touch(p, index);
        return KT_OK;
    }
    const char *st = kt_items_final(it, kt_step_bool_prop(task, "transmitFailed", 1),
                                    json_is_true(json_object_get(task, "allowFailure")),
                                    json_is_true(json_object_get(task, "allowWarning")));
    kt_items_end(p, run, index, st, it, n, kt_step_str(ev->outputs, "subflowOutputsBaseUri"));
    json_decref(it);
    return KT_OK;
}
