/* Retries of failed runs (KESTRA-execution.md §2.7, ExecutorService.handleChildWorkerTaskResult): which policy
 * applies, when the next attempt is due, and what the run and the execution become meanwhile — RETRYING for
 * RETRY_FAILED_TASK (the same run, a new attempt), RETRIED for CREATE_NEW_EXECUTION (a new execution). Part of the
 * pure step (step_int.h). */
#include "actors/executor/retry.h"
#include "actors/executor/step_int.h"
#include "base/clock.h"
#include "flow/model.h"

#include <stdint.h>

/* The retry policy of a failed run: its task's own, else the nearest ancestor flowable's, else the flow's. */
const json_t *kt_step_retry_policy(kt_pass *p, const json_t *run, const json_t *task, int *own)
{
    *own = 0;
    if (json_object_get(task, "retry")) {
        *own = 1;
        return json_object_get(task, "retry");
    }
    kt_step_index_sync(p);
    for (const char *pid = kt_step_str(run, "parentTaskRunId"); pid;) {
        uintptr_t pos = (uintptr_t)kt_map_get(p->by_id, pid);
        const json_t *parent = pos ? json_array_get(kt_step_runs(p), pos - 1) : NULL;
        if (!parent)
            break;
        const json_t *ptask = kt_step_task_of(p, kt_step_str(parent, "taskId"));
        if (json_object_get(ptask, "retry"))
            return json_object_get(ptask, "retry");
        pid = kt_step_str(parent, "parentTaskRunId");
    }
    return json_object_get(p->f->flow, "retry");
}

/* A deterministic draw in [0, 1) for random retry intervals, so a step stays a pure function of its inputs. */
double kt_step_retry_draw(const json_t *run)
{
    uint64_t h = kt_step_sig_str(1469598103934665603ULL, kt_step_str(run, "id")) + kt_taskrun_attempts(run);
    return (double)(h % 1000003) / 1000003.0;
}

/* A failed attempt with a retry due: the run and the execution go RETRYING until the timer brings it back. */
static int kt_schedule_retry(kt_pass *p, json_t *run, size_t index, const json_t *task, int64_t at)
{
    (void)task;
    kt_state_set(json_object_get(run, "state"), KT_S(FAILED), p->now);
    kt_state_set(json_object_get(run, "state"), KT_S(RETRYING), p->now);
    kt_step_touch(p, index);
    /* the event's own retry is its first timer: Pause timers only come from the passes after it */
    int full = kt_step_add_timer(p, run, KT_CMD_RETRY, at);
    KT_ASSERT(!full);
    return 1;
}

/* CREATE_NEW_EXECUTION (§2.7, markWithTaskRunAs(…, RETRIED, true)): the run and its ancestors RETRIED, the execution
 * RETRIED (it ends there); the caller replays it as a new execution when the timer comes back (KT_CMD_RETRY_FLOW). */
static void kt_retry_new_execution(kt_pass *p, json_t *run, size_t index, int64_t at)
{
    kt_state_set(json_object_get(run, "state"), KT_S(FAILED), p->now);
    kt_state_set(json_object_get(run, "state"), KT_S(RETRIED), p->now);
    kt_step_touch(p, index);
    kt_step_index_sync(p);
    for (const char *pid = kt_step_str(run, "parentTaskRunId"); pid;) {
        uintptr_t pos = (uintptr_t)kt_map_get(p->by_id, pid);
        json_t *parent = pos ? json_array_get(kt_step_runs(p), pos - 1) : NULL;
        if (!parent)
            break;
        kt_step_set_state(p, parent, KT_S(RETRIED));
        pid = kt_step_str(parent, "parentTaskRunId");
    }
    kt_state_set(json_object_get(p->ex, "state"), KT_S(RETRIED), p->now);
    p->fx->changed = p->fx->ended = 1;
    int full = kt_step_add_timer(p, run, KT_CMD_RETRY_FLOW, at);
    KT_ASSERT(!full); /* the event's own first timer */
}

/* When the next attempt of CREATE_NEW_EXECUTION is due: 1 (*at), 0 when the policy is spent, -1 (err). */
static int kt_retry_execution_due(kt_pass *p, const json_t *run, const json_t *policy, int64_t *at, char *err,
                                  size_t errcap)
{
    const json_t *md = json_object_get(p->ex, "metadata");
    long number = (long)json_integer_value(json_object_get(md, "attemptNumber"));
    size_t na = kt_taskrun_attempts(run);
    if (!na)
        return 0;
    const json_t *h = json_object_get(json_object_get(json_array_get(json_object_get(run, "attempts"), na - 1), "state"),
                                      "histories");
    int64_t last = p->now, origin = p->now;
    if (json_array_size(h))
        kt_time_parse(kt_step_str(json_array_get(h, json_array_size(h) - 1), "date"), &last);
    const char *ocd = kt_step_str(md, "originalCreatedDate");
    if (ocd)
        kt_time_parse(ocd, &origin);
    return kt_retry_next_execution(policy, number, last, origin, kt_step_retry_draw(run), at, err, errcap);
}

int kt_step_retry_failed(kt_pass *p, json_t *tr, size_t index, const json_t *task)
{
    int own;
    const json_t *policy = kt_step_retry_policy(p, tr, task, &own);
    if (!policy)
        return 0;
    int64_t at = 0;
    char err[256];
    if (kt_retry_creates_execution(policy)) {
        int due = kt_retry_execution_due(p, tr, policy, &at, err, sizeof err);
        if (due < 0)
            kt_step_log(p, tr, "ERROR", "%s", err);
        if (due <= 0)
            return 0;
        kt_retry_new_execution(p, tr, index, at < p->now ? p->now : at);
        return 1;
    }
    /* RETRY_FAILED_TASK re-runs the same task run as a new attempt once the delay is over. */
    int due = kt_retry_next(policy, tr, kt_step_retry_draw(tr), &at, err, sizeof err);
    if (due < 0)
        kt_step_log(p, tr, "ERROR", "%s", err);
    if (due <= 0)
        return 0;
    /* Kestra ends the execution FAILED before deciding (§2.7). A PAUSED execution (another branch waits in a Pause)
     * stays PAUSED: Kestra does not process it until it is resumed, and moving it would leave a paused run that
     * nothing can resume (the API resumes PAUSED executions only). */
    if (!kt_step_streq(kt_state_current(p->ex), KT_S(PAUSED))) {
        if (own && !kt_step_str(tr, "parentTaskRunId"))
            kt_state_set(json_object_get(p->ex, "state"), KT_S(FAILED), p->now);
        kt_state_set(json_object_get(p->ex, "state"), KT_S(RETRYING), p->now);
    }
    kt_schedule_retry(p, tr, index, task, at);
    return 1;
}
