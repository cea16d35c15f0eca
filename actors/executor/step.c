#include "actors/executor/step.h"
#include "actors/executor/model.h"
#include "runtime/clock.h"
#include "runtime/id.h"
#include "runtime/map.h"

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

static void kt_exec_touch(kt_exec_effects *fx, size_t index)
{
    for (size_t i = 0; i < fx->ntouched; i++)
        if (fx->touched[i] == index)
            return;
    if (fx->ntouched < KT_EXEC_MAX_TOUCHED)
        fx->touched[fx->ntouched++] = index;
    else
        fx->touched_all = 1;
}

/* Appends an attempt {state: CREATED -> RUNNING} and moves the run to RUNNING; records the dispatch. */
static void kt_exec_start_attempt(json_t *tr, size_t index, int64_t now, kt_exec_effects *fx)
{
    kt_exec_touch(fx, index);
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
 * ends the execution. One pass indexes the top-level runs by task id (the last run of a task wins, as in Kestra's
 * lookups), so a step costs O(runs), not O(tasks x runs). */
static void kt_exec_advance(const json_t *tasks, json_t *execution, int64_t now, kt_exec_idgen idgen,
                            kt_exec_effects *fx)
{
    kt_map *runs = kt_map_new();
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(execution, "taskRunList"), i, tr) {
        const char *tid = json_string_value(json_object_get(tr, "taskId"));
        if (tid && !json_object_get(tr, "parentTaskRunId"))
            kt_map_put(runs, tid, tr, NULL);
    }
    json_t *task;
    json_array_foreach(tasks, i, task) {
        const char *id = json_string_value(json_object_get(task, "id"));
        tr = id ? kt_map_get(runs, id) : NULL;
        if (!tr) {
            char trid[KT_ID_LEN + 1];
            idgen(trid);
            tr = kt_taskrun_add(execution, trid, id, NULL, NULL, now);
            kt_exec_start_attempt(tr, json_array_size(json_object_get(execution, "taskRunList")) - 1, now, fx);
            goto done;
        }
        const char *st = kt_state_current(tr);
        if (!kt_state_is_terminated(st))
            goto done; /* still running */
        if (!strcmp(st, "FAILED") || !strcmp(st, "KILLED"))
            break;
    }
    kt_exec_end(execution, now, fx);
done:
    kt_map_free(runs);
}

static kt_status kt_exec_apply_result(const json_t *tasks, json_t *execution, const kt_exec_event *ev,
                                      kt_exec_effects *fx)
{
    size_t index;
    json_t *tr = kt_taskrun_find_at(execution, ev->taskrun_id, &index);
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
    kt_exec_touch(fx, index);
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
        size_t index;
        json_t *tr = kt_taskrun_find_at(execution, ev->taskrun_id, &index);
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
        kt_exec_start_attempt(tr, index, ev->now_us, fx);
        return KT_OK;
    }
    }
    return KT_EINVAL;
}
