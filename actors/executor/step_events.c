/* The events that change an execution from outside its own task runs (step.h): flow concurrency when it is taken in
 * (ADMIT), its turn after waiting (UNQUEUE), and a Subflow run's child being built (CHILD_CREATED) or ending
 * (SUBFLOW). The actor gathers the facts they carry (how many executions of the flow hold a slot, the child it built
 * from the store's flow, the child's end) and the rules that turn them into states and logs are here, as Kestra's
 * executor has them (KESTRA-execution.md §2.14, §2.16), so they are unit-tested without I/O. See step_int.h. */
#include "actors/executor/step_int.h"
#include "actors/executor/step_loop.h"
#include "flow/flow.h"
#include "flow/model.h"

#include <stdio.h>
#include <string.h>

/* ---- flow concurrency (§2.14) -------------------------------------------------------------------- */

long kt_exec_concurrency_limit(const json_t *flow) { return kt_flow_concurrency_limit(flow); }

/* ExecutorService.checkConcurrencyLimit, for a CREATED execution: 1 when the limit is reached and the execution was
 * QUEUED (processing stops until its turn), CANCELLED or FAILED; 0 when it may run. */
int kt_step_admit(kt_pass *p, const kt_exec_event *ev)
{
    long limit = kt_exec_concurrency_limit(p->f->flow);
    if (!limit || ev->running < limit)
        return 0;
    const char *behavior = kt_step_str(json_object_get(p->f->flow, "concurrency"), "behavior");
    json_t *state = json_object_get(p->ex, "state");
    if (kt_step_streq(behavior, "CANCEL")) {
        kt_state_set(state, KT_S(CANCELLED), p->now);
        p->fx->ended = 1;
    } else if (kt_step_streq(behavior, "FAIL")) {
        kt_step_log(p, NULL, "ERROR", "Flow is FAILED due to concurrency limit exceeded");
        kt_state_set(state, KT_S(FAILED), p->now);
        p->fx->ended = 1;
    } else { /* QUEUE, the default */
        kt_step_log(p, NULL, "INFO", "Flow is queued due to concurrency limit exceeded, %ld running(s)", ev->running);
        kt_state_set(state, KT_S(QUEUED), p->now);
    }
    p->fx->changed = 1;
    return 1;
}

/* The oldest QUEUED execution is re-emitted in RUNNING and processed without a new check (§2.14); 0 when it runs,
 * -1 (stale) when it is no longer QUEUED (killed meanwhile, or a second release of the same execution). */
int kt_step_unqueue(kt_pass *p)
{
    if (!kt_step_streq(kt_state_current(p->ex), KT_S(QUEUED))) {
        p->fx->stale = 1;
        return -1;
    }
    kt_state_set(json_object_get(p->ex, "state"), KT_S(RUNNING), p->now);
    p->fx->changed = 1;
    return 0;
}

/* ---- Subflow (§2.16) ----------------------------------------------------------------------------- */

/* A Subflow run that failed on its own (no child, or the child's outputs could not be extracted): FAILED, WARNING
 * with allowFailure, SUCCESS with allowWarning too; transmitFailed is about the child's state, not this. */
static const char *kt_subflow_failed(const json_t *task)
{
    if (!json_is_true(json_object_get(task, "allowFailure")))
        return KT_S(FAILED);
    return json_is_true(json_object_get(task, "allowWarning")) ? KT_S(SUCCESS) : KT_S(WARNING);
}

/* The Subflow run ends in st with outputs (NULL: {}), its one attempt too. */
static void kt_subflow_end(kt_pass *p, json_t *tr, size_t index, const char *st, const json_t *outputs)
{
    json_object_set_new(tr, "outputs", outputs ? json_deep_copy(outputs) : json_object());
    json_t *attempts = json_object_get(tr, "attempts");
    size_t n = json_array_size(attempts);
    if (n && !kt_state_is_terminated(kt_state_current(json_array_get(attempts, n - 1))))
        kt_state_set(json_object_get(json_array_get(attempts, n - 1), "state"), st, p->now);
    kt_state_set(json_object_get(tr, "state"), st, p->now);
    kt_step_touch(p, index);
}

/* ExecutableUtils.subflowExecution's outcome for the parent: the child is named in the run's outputs and the run
 * waits for its end (wait: true), or ends SUCCESS at once (wait: false); no child fails the run. */
kt_status kt_step_child_created(kt_pass *p, const kt_exec_event *ev)
{
    size_t index;
    json_t *tr = ev->taskrun_id ? kt_taskrun_find_at(p->ex, ev->taskrun_id, &index) : NULL;
    if (!tr)
        return KT_ENOTFOUND;
    if (kt_step_is_items_run(p, tr))
        return kt_step_items_created(p, tr, index, ev);
    const json_t *ltask = kt_step_task_of(p, kt_step_str(tr, "taskId"));
    if (ltask && kt_step_type_is(ltask, "Loop")) /* not a child: fetchType STORE's file (step_loop.c) */
        return kt_step_loop_stored(p, tr, index, ev);
    if (!kt_step_streq(kt_state_current(tr), KT_S(RUNNING)) ||
        json_object_get(json_object_get(tr, "outputs"), "executionId")) {
        p->fx->stale = 1; /* ended meanwhile (killed), or its child is known already */
        return KT_OK;
    }
    const json_t *task = kt_step_task_of(p, kt_step_str(tr, "taskId"));
    if (!ev->child) {
        kt_step_log(p, tr, "ERROR", "%s", ev->error && *ev->error ? ev->error : "the subflow execution was not created");
        kt_subflow_end(p, tr, index, kt_subflow_failed(task), NULL);
        return KT_OK;
    }
    const char *cid = kt_step_str(ev->child, "id");
    if (!cid)
        return KT_EINVAL;
    kt_step_log(p, tr, "INFO", "Created new execution [[link execution=\"%s\" flowId=\"%s\" namespace=\"%s\"]]", cid,
                kt_step_str(ev->child, "flowId"), kt_step_str(ev->child, "namespace"));
    json_t *out = json_pack("{s:s}", "executionId", cid);
    if (kt_step_bool_prop(task, "wait", 1)) {
        json_object_set_new(tr, "outputs", out);
        kt_step_touch(p, index);
        return KT_OK;
    }
    /* Kestra answers with the child as it emitted it: CREATED, before its own executor took it in */
    const char *cst = kt_state_current(ev->child);
    json_object_set_new(out, "state", json_string(cst ? cst : KT_S(CREATED)));
    kt_subflow_end(p, tr, index, KT_S(SUCCESS), out);
    json_decref(out);
    return KT_OK;
}

/* The child's end as the Subflow run's state: ExecutableUtils.guessState. */
kt_status kt_step_subflow_ended(kt_pass *p, const kt_exec_event *ev)
{
    size_t index;
    json_t *tr = ev->taskrun_id ? kt_taskrun_find_at(p->ex, ev->taskrun_id, &index) : NULL;
    if (!tr)
        return KT_ENOTFOUND;
    if (kt_step_is_items_run(p, tr) && ev->state && kt_state_is_terminated(ev->state))
        return kt_step_items_ended(p, tr, index, ev);
    if (kt_state_is_terminated(kt_state_current(tr)) || !ev->state) {
        p->fx->stale = 1;
        return KT_OK;
    }
    const char *child = ev->state, *st = KT_S(SUCCESS);
    if (!strcmp(child, KT_S(CREATED)) || !strcmp(child, KT_S(RUNNING)) || !strcmp(child, KT_S(QUEUED)))
        return KT_EINVAL; /* not an end: a child is recorded by CHILD_CREATED */
    if (!kt_state_can_move(kt_state_of(kt_state_current(tr)), kt_state_of(child))) {
        p->fx->stale = 1; /* the child's state is outside input: one the run cannot take is ignored */
        return KT_OK;
    }
    const json_t *task = kt_step_task_of(p, kt_step_str(tr, "taskId"));
    if (ev->error) {
        kt_step_log(p, tr, "WARN", "Failed to extract outputs with the error: '%s'", ev->error);
        kt_subflow_end(p, tr, index, kt_subflow_failed(task), ev->outputs);
        return KT_OK;
    }
    if (kt_step_bool_prop(task, "transmitFailed", 1) &&
        (!strcmp(child, KT_S(FAILED)) || !strcmp(child, KT_S(PAUSED)) || !strcmp(child, KT_S(KILLED)) ||
         !strcmp(child, KT_S(WARNING))))
        st = child;
    if (!strcmp(st, KT_S(FAILED)) && json_is_true(json_object_get(task, "allowFailure")))
        st = KT_S(WARNING);
    if (!strcmp(st, KT_S(WARNING)) && json_is_true(json_object_get(task, "allowWarning")))
        st = KT_S(SUCCESS);
    if (!strcmp(st, KT_S(FAILED)) && task) {
        /* a Subflow is retried like a runnable task (handleChildWorkerTaskResult): its attempt ends FAILED, then a
         * retry starts it again (a new child) or replays the execution (CREATE_NEW_EXECUTION) */
        json_object_set_new(tr, "outputs", ev->outputs ? json_deep_copy(ev->outputs) : json_object());
        json_t *attempts = json_object_get(tr, "attempts");
        size_t n = json_array_size(attempts);
        if (n && !kt_state_is_terminated(kt_state_current(json_array_get(attempts, n - 1))))
            kt_state_set(json_object_get(json_array_get(attempts, n - 1), "state"), st, p->now);
        if (kt_step_retry_failed(p, tr, index, task))
            return KT_OK;
    }
    kt_subflow_end(p, tr, index, st, ev->outputs);
    return KT_OK;
}
