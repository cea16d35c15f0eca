/* Flow concurrency (KESTRA-execution.md §2.14): `concurrency: {limit, behavior}` checked once, when a CREATED
 * execution is taken in. It counts executions across the flow, so it lives in the actor, which holds every
 * unfinished execution, not in the per-execution state machine. */
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

/* Executions of the flow that count against the limit: RUNNING or PAUSED. */
static long kt_running_of(kt_executor *ex, const json_t *execution)
{
    long n = 0;
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(ex->runs, &pos, &key, &val)) {
        kt_run *r = val;
        const char *st = kt_state_current(r->execution);
        if (r->execution != execution && kt_same_flow(r->execution, execution) && st &&
            (!strcmp(st, "RUNNING") || !strcmp(st, "PAUSED")))
            n++;
    }
    return n;
}

int kt_executor_concurrency_admit(kt_executor *ex, kt_run *run)
{
    const json_t *c = json_object_get(run->flow.flow, "concurrency");
    json_t *limit = json_object_get(c, "limit");
    if (!json_is_integer(limit) || json_integer_value(limit) < 1)
        return 1;
    long running = kt_running_of(ex, run->execution);
    if (running < json_integer_value(limit))
        return 1;
    const char *behavior = json_string_value(json_object_get(c, "behavior"));
    json_t *state = json_object_get(run->execution, "state");
    int64_t now = kt_now_us();
    char msg[256];
    if (behavior && !strcmp(behavior, "CANCEL")) {
        kt_state_set(state, "CANCELLED", now);
    } else if (behavior && !strcmp(behavior, "FAIL")) {
        kt_executor_log(ex, run->execution, NULL, 0, "ERROR", "Flow is FAILED due to concurrency limit exceeded");
        kt_state_set(state, "FAILED", now);
    } else {
        snprintf(msg, sizeof msg, "Flow is queued due to concurrency limit exceeded, %ld running(s)", running);
        kt_executor_log(ex, run->execution, NULL, 0, "INFO", msg);
        kt_state_set(state, "QUEUED", now);
    }
    kt_executor_mark_dirty(ex, run);
    return 0;
}

void kt_executor_concurrency_release(kt_executor *ex, const json_t *ended)
{
    const json_t *flow_json = NULL;
    kt_run *oldest = NULL;
    int64_t oldest_at = 0;
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(ex->runs, &pos, &key, &val)) {
        kt_run *r = val;
        const char *st = kt_state_current(r->execution);
        if (!st || strcmp(st, "QUEUED") || !kt_same_flow(r->execution, ended))
            continue;
        int64_t at = 0;
        const json_t *h = json_object_get(json_object_get(r->execution, "state"), "histories");
        kt_time_parse(json_string_value(json_object_get(json_array_get(h, 0), "date")), &at);
        if (!oldest || at < oldest_at) {
            oldest = r;
            oldest_at = at;
            flow_json = r->flow.flow;
        }
    }
    if (!oldest)
        return;
    json_t *limit = json_object_get(json_object_get(flow_json, "concurrency"), "limit");
    if (json_is_integer(limit) && kt_running_of(ex, oldest->execution) >= json_integer_value(limit))
        return;
    /* popped and run without a new check, through a message so it gets a drain pass and commit of its own */
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, kt_actor_address(ex->self), kt_actor_address(ex->self), 0);
    kt_msg_exec_command body = {.execution_id = (char *)json_string_value(json_object_get(oldest->execution, "id")),
                                .taskrun_id = "", .command = "UNQUEUE"};
    kt_msg_encode_exec_command(&o, &body);
    kt_node_send(kt_actor_node(ex->self), kt_actor_address(ex->self), &o);
}
