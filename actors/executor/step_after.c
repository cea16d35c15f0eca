/* Flow-level afterExecution (Kestra 1.x, both dialects): once the execution has reached its terminal state, the
 * tasks of its `afterExecution` list run in sequence (ExecutorService.handleAfterExecution, with forceExecution: a
 * killed execution runs them too). They see the final state (`execution.state` in runIf), their runs never change
 * it, and they are not retried. The execution is over — its waiters answered, its parent told, its concurrency slot
 * freed, the actor done with it — only once they are all terminated (ExecutionService.isTerminated(flow,
 * execution)); the scheduler hears of the terminal state at once, so a Flow trigger sees the state the tasks and
 * errors made, before afterExecution (the state never changes after anyway). */
#include "actors/executor/step_int.h"
#include "flow/model.h"

/* A RETRIED execution (CREATE_NEW_EXECUTION retry) goes on as a new execution: afterExecution is that one's. */
static int kt_after_state_ok(const json_t *execution)
{
    const char *cur = kt_state_current(execution);
    return kt_state_is_terminated(cur) && !kt_step_streq(cur, KT_S(RETRIED));
}

int kt_exec_after_pending(const kt_exec_flow *flow, const json_t *execution)
{
    const json_t *list = json_object_get(flow->flow, "afterExecution");
    if (!json_array_size(list) || !kt_after_state_ok(execution))
        return 0;
    size_t i, k;
    json_t *t, *tr;
    json_array_foreach(list, i, t) {
        if (json_is_true(json_object_get(t, "disabled")))
            continue;
        int done = 0;
        json_array_foreach(json_object_get(execution, "taskRunList"), k, tr) {
            if (json_object_get(tr, "parentTaskRunId") ||
                !kt_step_streq(kt_step_str(tr, "taskId"), kt_step_str(t, "id")))
                continue;
            done = kt_state_is_terminated(kt_state_current(tr));
        }
        if (!done)
            return 1;
    }
    return 0;
}

int kt_step_after_applies(const kt_pass *p)
{
    return json_array_size(json_object_get(p->f->flow, "afterExecution")) && kt_after_state_ok(p->ex);
}

int kt_step_after_event(kt_exec_event_kind kind)
{
    switch (kind) {
    case KT_EV_RESULT:
    case KT_EV_LOST:
    case KT_EV_SUBFLOW:
    case KT_EV_CHILD_CREATED:
    case KT_EV_WD_CHILD:
        return 1;
    default:
        return 0;
    }
}
