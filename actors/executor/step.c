#include "actors/executor/step.h"
#include "actors/executor/model.h"
#include "runtime/clock.h"
#include "runtime/id.h"

#include <string.h>

static const json_t *kt_task_by_id(const json_t *tasks, const char *id)
{
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        const char *tid = json_string_value(json_object_get(t, "id"));
        if (tid && !strcmp(tid, id))
            return t;
    }
    return NULL;
}

static json_t *kt_run_for_task(const json_t *execution, const char *task_id)
{
    size_t i;
    json_t *tr, *found = NULL;
    json_array_foreach(json_object_get(execution, "taskRunList"), i, tr) {
        if (json_object_get(tr, "parentTaskRunId"))
            continue;
        const char *tid = json_string_value(json_object_get(tr, "taskId"));
        if (tid && !strcmp(tid, task_id))
            found = tr; /* the last one wins, as in Kestra's lookups */
    }
    return found;
}

/* Appends an attempt {state: CREATED -> RUNNING} and moves the run to RUNNING; records the dispatch. */
static void kt_exec_start_attempt(json_t *tr, int64_t now, kt_exec_effects *fx)
{
    json_t *attempts = json_object_get(tr, "attempts");
    if (!json_is_array(attempts)) {
        attempts = json_array();
        json_object_set_new(tr, "attempts", attempts);
    }
    json_t *st = kt_state_new("CREATED", now);
    kt_state_set(st, "RUNNING", now);
    json_array_append_new(attempts, json_pack("{s:o}", "state", st));
    kt_state_set(json_object_get(tr, "state"), "RUNNING", now);
    if (fx->ndispatch < KT_EXEC_MAX_DISPATCH) {
        kt_exec_dispatch *d = &fx->dispatch[fx->ndispatch++];
        d->taskrun_id = json_string_value(json_object_get(tr, "id"));
        d->task_id = json_string_value(json_object_get(tr, "taskId"));
        d->attempt = (uint32_t)(json_array_size(attempts) - 1);
    }
    fx->changed = 1;
}

/* Kestra's guessFinalState over the top-level runs: KILLED, FAILED, WARNING, PAUSED, else SUCCESS. */
static const char *kt_exec_final_state(const json_t *execution)
{
    static const char *const order[] = {"KILLED", "FAILED", "WARNING", "PAUSED"};
    for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
        size_t i;
        json_t *tr;
        json_array_foreach(json_object_get(execution, "taskRunList"), i, tr) {
            if (!json_object_get(tr, "parentTaskRunId") && !strcmp(kt_state_current(tr), order[k]))
                return order[k];
        }
    }
    return "SUCCESS";
}

static void kt_exec_end(json_t *execution, int64_t now, kt_exec_effects *fx)
{
    kt_state_set(json_object_get(execution, "state"), kt_exec_final_state(execution), now);
    fx->changed = 1;
    fx->ended = 1;
}

/* Sequential resolution: the first task without a run starts once every earlier run has terminated; a FAILED run
 * ends the execution. */
static void kt_exec_advance(const json_t *tasks, json_t *execution, int64_t now, kt_exec_idgen idgen,
                            kt_exec_effects *fx)
{
    size_t i;
    json_t *task;
    json_array_foreach(tasks, i, task) {
        const char *id = json_string_value(json_object_get(task, "id"));
        json_t *tr = kt_run_for_task(execution, id);
        if (!tr) {
            char trid[KT_ID_LEN + 1];
            idgen(trid);
            tr = kt_taskrun_add(execution, trid, id, NULL, NULL, now);
            kt_exec_start_attempt(tr, now, fx);
            return;
        }
        const char *st = kt_state_current(tr);
        if (!kt_state_is_terminated(st))
            return; /* still running */
        if (!strcmp(st, "FAILED") || !strcmp(st, "KILLED")) {
            kt_exec_end(execution, now, fx);
            return;
        }
    }
    kt_exec_end(execution, now, fx);
}

static kt_status kt_exec_apply_result(const json_t *tasks, json_t *execution, const kt_exec_event *ev,
                                      kt_exec_effects *fx)
{
    json_t *tr = kt_taskrun_find(execution, ev->taskrun_id);
    if (!tr)
        return KT_ENOTFOUND;
    size_t n = kt_taskrun_attempts(tr);
    if (kt_state_is_terminated(kt_state_current(tr)) || n == 0 || ev->attempt != n - 1) {
        fx->stale = 1; /* a duplicate, or a late answer from an attempt we already replaced */
        return KT_OK;
    }
    if (!kt_state_is_valid(ev->state) || !kt_state_is_terminated(ev->state))
        return KT_EINVAL;
    const char *state = ev->state;
    const json_t *task = kt_task_by_id(tasks, json_string_value(json_object_get(tr, "taskId")));
    json_t *attempt = json_array_get(json_object_get(tr, "attempts"), n - 1);
    kt_state_set(json_object_get(attempt, "state"), state, ev->ended_us);
    /* Worker rules (KESTRA-execution.md §2.4 step 6): allowFailure turns FAILED into WARNING, allowWarning
     * turns WARNING into SUCCESS. */
    if (!strcmp(state, "FAILED") && task && json_is_true(json_object_get(task, "allowFailure")))
        state = "WARNING";
    if (!strcmp(state, "WARNING") && task && json_is_true(json_object_get(task, "allowWarning")))
        state = "SUCCESS";
    json_object_set_new(tr, "outputs", ev->outputs ? json_deep_copy(ev->outputs) : json_object());
    kt_state_set(json_object_get(tr, "state"), state, ev->ended_us);
    fx->changed = 1;
    return KT_OK;
}

kt_status kt_exec_step(const json_t *tasks, json_t *execution, const kt_exec_event *ev, kt_exec_idgen idgen,
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
    switch (ev->kind) {
    case KT_EV_START:
        if (!strcmp(cur, "CREATED")) {
            kt_state_set(json_object_get(execution, "state"), "RUNNING", ev->now_us);
            fx->changed = 1;
        }
        kt_exec_advance(tasks, execution, ev->now_us, idgen, fx);
        return KT_OK;
    case KT_EV_RESULT: {
        kt_status st = kt_exec_apply_result(tasks, execution, ev, fx);
        if (st || fx->stale)
            return st;
        kt_exec_advance(tasks, execution, ev->now_us, idgen, fx);
        return KT_OK;
    }
    case KT_EV_LOST: {
        json_t *tr = kt_taskrun_find(execution, ev->taskrun_id);
        if (!tr)
            return KT_ENOTFOUND;
        if (kt_state_is_terminated(kt_state_current(tr))) {
            fx->stale = 1;
            return KT_OK;
        }
        /* The interrupted attempt ends FAILED; the task runs again as a new attempt (Kestra resubmits the
         * WorkerTask of a dead worker). */
        size_t n = kt_taskrun_attempts(tr);
        if (n)
            kt_state_set(json_object_get(json_array_get(json_object_get(tr, "attempts"), n - 1), "state"), "FAILED",
                         ev->now_us);
        kt_exec_start_attempt(tr, ev->now_us, fx);
        return KT_OK;
    }
    }
    return KT_EINVAL;
}
