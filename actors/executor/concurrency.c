/* Flow concurrency (KESTRA-execution.md §2.14): the facts it needs. How many executions of a flow hold a slot is a
 * count across executions, which only the actor has (it holds every unfinished one); what that count means for an
 * execution (run, QUEUED, CANCELLED, FAILED) is decided by the step (KT_EV_ADMIT, KT_EV_UNQUEUE in step_events.c). */
#include "actors/executor/executor_int.h"
#include "flow/model.h"
#include "base/clock.h"

#include <stdio.h>
#include <string.h>

static int kt_same_flow(const json_t *a, const json_t *b)
{
    const char *na = json_string_value(json_object_get(a, "namespace")), *nb = json_string_value(json_object_get(b, "namespace"));
    const char *fa = json_string_value(json_object_get(a, "flowId")), *fb = json_string_value(json_object_get(b, "flowId"));
    return na && nb && fa && fb && !strcmp(na, nb) && !strcmp(fa, fb);
}

/* Executions of the flow that hold a slot: RUNNING or PAUSED, and QUEUED ones already told to run (their UNQUEUE is
 * on its way), so two ends in one turn release two different executions. */
static long kt_running_of(kt_executor *ex, const json_t *execution)
{
    long n = 0;
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(ex->runs, &pos, &key, &val)) {
        kt_run *r = val;
        const char *st = kt_state_current(r->execution);
        if (r->execution == execution || !st || !kt_same_flow(r->execution, execution))
            continue;
        if (!strcmp(st, KT_S(RUNNING)) || !strcmp(st, KT_S(PAUSED)) || (!strcmp(st, KT_S(QUEUED)) && r->unqueue_sent))
            n++;
    }
    return n;
}

void kt_executor_admit(kt_executor *ex, kt_run *run)
{
    if (kt_state_current(run->execution) && !strcmp(kt_state_current(run->execution), KT_S(CREATED)))
        kt_executor_count_started(run->execution); /* Kestra counts an execution met in CREATED */
    /* counted only for a flow with a limit: the scan is over every unfinished execution */
    kt_exec_event ev = {.kind = KT_EV_ADMIT, .now_us = kt_now_us()};
    if (kt_exec_concurrency_limit(run->flow.flow) && kt_state_current(run->execution) &&
        !strcmp(kt_state_current(run->execution), KT_S(CREATED)))
        ev.running = kt_running_of(ex, run->execution);
    kt_executor_apply(ex, run, &ev);
}

/* The oldest QUEUED execution of the flow not told to run yet, or NULL. */
static kt_run *kt_oldest_queued(kt_executor *ex, const json_t *of)
{
    kt_run *oldest = NULL;
    int64_t oldest_at = 0;
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(ex->runs, &pos, &key, &val)) {
        kt_run *r = val;
        const char *st = kt_state_current(r->execution);
        if (!st || strcmp(st, KT_S(QUEUED)) || r->unqueue_sent || !kt_same_flow(r->execution, of))
            continue;
        int64_t at = 0;
        const json_t *h = json_object_get(json_object_get(r->execution, "state"), "histories");
        kt_time_parse(json_string_value(json_object_get(json_array_get(h, 0), "date")), &at);
        if (!oldest || at < oldest_at) {
            oldest = r;
            oldest_at = at;
        }
    }
    return oldest;
}

void kt_executor_concurrency_release(kt_executor *ex, const json_t *ended)
{
    kt_run *next;
    while ((next = kt_oldest_queued(ex, ended))) {
        long limit = kt_exec_concurrency_limit(next->flow.flow);
        if (limit && kt_running_of(ex, next->execution) >= limit)
            return;
        /* its turn: through a message, so the change gets a drain pass and a commit of its own */
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, kt_actor_address(ex->self), kt_actor_address(ex->self), 0);
        kt_msg_exec_command body = {.execution_id = (char *)json_string_value(json_object_get(next->execution, "id")),
                                    .taskrun_id = "", .command = KT_CMD_UNQUEUE};
        kt_msg_encode_exec_command(&o, &body);
        kt_node_send(kt_actor_node(ex->self), kt_actor_address(ex->self), &o);
        next->unqueue_sent = 1;
    }
}
