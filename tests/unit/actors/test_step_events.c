/* The step's events for the changes the executor actor used to make itself (actors/executor/step_events.c):
 * flow concurrency when an execution is taken in (KT_EV_ADMIT: QUEUE, CANCEL, FAIL under and over the limit), a
 * queued execution's turn (KT_EV_UNQUEUE), a Subflow run's child built or not (KT_EV_CHILD_CREATED) and ended
 * (KT_EV_SUBFLOW), and a worker lost (KT_EV_LOST). Pure: fixed clocks, deterministic ids, no I/O; each case checks
 * the execution's states, histories and the logs the step asks for (KESTRA-execution.md §2.14, §2.16). */
#include "tests/unit/actors/step_fixture.h"

/* A flow of two Log tasks, with `concurrency: {limit, behavior}` when limit > 0 (behavior NULL: the default). */
static json_t *flow_limited(int limit, const char *behavior)
{
    json_t *flow = parse("{\"id\":\"flow\",\"namespace\":\"company.team\",\"tasks\":["
                         "{\"id\":\"t1\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"a\"},"
                         "{\"id\":\"t2\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"b\"}]}");
    if (limit > 0) {
        json_t *c = json_pack("{s:i}", "limit", limit);
        if (behavior)
            json_object_set_new(c, "behavior", json_string(behavior));
        json_object_set_new(flow, "concurrency", c);
    }
    return flow;
}

static kt_exec_event ev_admit(long running, int64_t now)
{
    kt_exec_event ev = {.kind = KT_EV_ADMIT, .now_us = now, .running = running};
    return ev;
}

/* The states of holder's history, comma separated, e.g. "CREATED,QUEUED". */
static void check_history(const json_t *holder, const char *want)
{
    char got[256] = "";
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(json_object_get(holder, "state"), "histories"), i, h) {
        if (i)
            strcat(got, ",");
        strncat(got, json_string_value(json_object_get(h, "state")), sizeof got - strlen(got) - 1);
    }
    assert_string_equal(got, want);
}

static const char *history_date(const json_t *holder, size_t i)
{
    return json_string_value(json_object_get(
        json_array_get(json_object_get(json_object_get(holder, "state"), "histories"), i), "date"));
}


/* ---- ADMIT: flow concurrency ---------------------------------------------------------------------- */

static const struct admit_case {
    const char *name;
    int limit;           /* 0: no concurrency block */
    const char *behavior;
    long running;        /* executions of the flow holding a slot */
    const char *history; /* the execution's states after the event */
    int runs;            /* the first task was dispatched */
    int ended;
    const char *level, *log; /* the execution log the step asks for, NULL for none */
} admit_cases[] = {
    {"QUEUE under the limit", 2, "QUEUE", 1, "CREATED,RUNNING", 1, 0, NULL, NULL},
    {"QUEUE at the limit", 2, "QUEUE", 2, "CREATED,QUEUED", 0, 0, "INFO",
     "Flow is queued due to concurrency limit exceeded, 2 running(s)"},
    {"QUEUE over the limit", 1, "QUEUE", 3, "CREATED,QUEUED", 0, 0, "INFO",
     "Flow is queued due to concurrency limit exceeded, 3 running(s)"},
    {"no behavior is QUEUE", 1, NULL, 1, "CREATED,QUEUED", 0, 0, "INFO",
     "Flow is queued due to concurrency limit exceeded, 1 running(s)"},
    {"CANCEL under the limit", 1, "CANCEL", 0, "CREATED,RUNNING", 1, 0, NULL, NULL},
    {"CANCEL at the limit", 1, "CANCEL", 1, "CREATED,CANCELLED", 0, 1, NULL, NULL},
    {"FAIL under the limit", 3, "FAIL", 2, "CREATED,RUNNING", 1, 0, NULL, NULL},
    {"FAIL at the limit", 3, "FAIL", 3, "CREATED,FAILED", 0, 1, "ERROR",
     "Flow is FAILED due to concurrency limit exceeded"},
    {"no limit", 0, NULL, 1000, "CREATED,RUNNING", 1, 0, NULL, NULL},
};

static void test_admit_table(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof admit_cases / sizeof *admit_cases; c++) {
        const struct admit_case *k = &admit_cases[c];
        json_t *flow = flow_limited(k->limit, k->behavior), *ex = new_exec();
        kt_exec_effects fx;
        g_ids = 0;
        if (step_flow(flow, ex, ev_admit(k->running, T0 + SEC), &fx) != KT_OK)
            fail_msg("case %s: step failed", k->name);
        check_history(ex, k->history);
        assert_string_equal(history_date(ex, 1), date(T0 + SEC));
        if (k->runs) {
            assert_int_equal(fx.ndispatch, 1);
            assert_string_equal(fx.dispatch[0].task_id, "t1");
            assert_int_equal(nruns(ex), 1);
        } else {
            assert_int_equal(fx.ndispatch, 0);
            assert_int_equal(nruns(ex), 0); /* no task run at all: processing stopped */
        }
        if (fx.changed != 1 || fx.ended != k->ended || fx.stale)
            fail_msg("case %s: changed %d ended %d stale %d", k->name, fx.changed, fx.ended, fx.stale);
        if (k->log) {
            assert_int_equal(fx.nlogs, 1);
            assert_string_equal(fx.logs[0].taskrun_id, ""); /* the execution's log, not a task run's */
            assert_string_equal(fx.logs[0].level, k->level);
            assert_string_equal(fx.logs[0].message, k->log);
        } else {
            assert_int_equal(fx.nlogs, 0);
        }
        json_decref(ex);
        json_decref(flow);
    }
}

/* The check is made once, for a CREATED execution: a RUNNING one taken in again (after a restart) goes on, whatever
 * the count; a QUEUED one keeps waiting for its UNQUEUE. */
static void test_admit_only_created(void **state)
{
    (void)state;
    json_t *flow = flow_limited(1, "QUEUE"), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step_flow(flow, ex, ev_admit(0, T0 + SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "RUNNING");
    /* t1 ended in the stored document but t2 was never created: taken in again, t2 runs, no QUEUED */
    kt_state_set(json_object_get(taskrun_at(ex, 0), "state"), "SUCCESS", T0 + 2 * SEC);
    assert_int_equal(step_flow(flow, ex, ev_admit(5, T0 + 3 * SEC), &fx), KT_OK);
    check_history(ex, "CREATED,RUNNING");
    assert_int_equal(fx.ndispatch, 1);
    assert_string_equal(fx.dispatch[0].task_id, "t2");
    json_decref(ex);

    ex = new_exec();
    assert_int_equal(step_flow(flow, ex, ev_admit(1, T0 + SEC), &fx), KT_OK);
    json_t *before = json_deep_copy(ex);
    assert_int_equal(step_flow(flow, ex, ev_admit(0, T0 + 2 * SEC), &fx), KT_OK);
    assert_int_equal(fx.stale, 1);
    assert_int_equal(fx.changed, 0);
    assert_true(json_equal(before, ex));
    json_decref(before);
    json_decref(ex);
    json_decref(flow);
}

static void test_concurrency_limit(void **state)
{
    (void)state;
    static const struct {
        const char *flow;
        long limit;
    } cases[] = {
        {"{}", 0},
        {"{\"concurrency\":{}}", 0},
        {"{\"concurrency\":{\"limit\":0}}", 0},
        {"{\"concurrency\":{\"limit\":-2}}", 0},
        {"{\"concurrency\":{\"limit\":\"3\"}}", 0},
        {"{\"concurrency\":{\"limit\":3,\"behavior\":\"FAIL\"}}", 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *f = parse(cases[i].flow);
        assert_int_equal(kt_exec_concurrency_limit(f), cases[i].limit);
        json_decref(f);
    }
    assert_int_equal(kt_exec_concurrency_limit(NULL), 0);
}

/* ---- UNQUEUE --------------------------------------------------------------------------------------- */

static void test_unqueue(void **state)
{
    (void)state;
    json_t *flow = flow_limited(1, "QUEUE"), *ex = new_exec();
    kt_exec_effects fx;
    kt_exec_event unqueue = {.kind = KT_EV_UNQUEUE, .now_us = T0 + 5 * SEC};
    /* not QUEUED (CREATED): stale */
    assert_int_equal(step_flow(flow, ex, unqueue, &fx), KT_OK);
    assert_int_equal(fx.stale, 1);
    check_history(ex, "CREATED");

    assert_int_equal(step_flow(flow, ex, ev_admit(1, T0 + SEC), &fx), KT_OK);
    check_history(ex, "CREATED,QUEUED");
    /* a queued execution is not processed (2.2 step 5): a START changes nothing, creates no run */
    kt_exec_event start = {.kind = KT_EV_START, .now_us = T0 + 2 * SEC};
    assert_int_equal(step_flow(flow, ex, start, &fx), KT_OK);
    assert_int_equal(fx.changed, 0);
    assert_int_equal(nruns(ex), 0);

    /* its turn: RUNNING without a new check, the first task dispatched */
    assert_int_equal(step_flow(flow, ex, unqueue, &fx), KT_OK);
    check_history(ex, "CREATED,QUEUED,RUNNING");
    assert_string_equal(history_date(ex, 2), date(T0 + 5 * SEC));
    assert_int_equal(fx.changed, 1);
    assert_int_equal(fx.stale, 0);
    assert_int_equal(fx.ndispatch, 1);
    assert_string_equal(fx.dispatch[0].task_id, "t1");
    /* a second UNQUEUE (released twice) is stale */
    assert_int_equal(step_flow(flow, ex, unqueue, &fx), KT_OK);
    assert_int_equal(fx.stale, 1);
    assert_int_equal(fx.ndispatch, 0);
    assert_int_equal(nruns(ex), 1);
    json_decref(ex);

    /* a QUEUED execution can be killed */
    ex = new_exec();
    assert_int_equal(step_flow(flow, ex, ev_admit(1, T0 + SEC), &fx), KT_OK);
    kt_exec_event kill = {.kind = KT_EV_KILL, .now_us = T0 + 2 * SEC};
    assert_int_equal(step_flow(flow, ex, kill, &fx), KT_OK);
    check_history(ex, "CREATED,QUEUED,KILLING,KILLED");
    assert_int_equal(fx.ended, 1);
    assert_int_equal(step_flow(flow, ex, unqueue, &fx), KT_OK);
    assert_int_equal(fx.stale, 1);
    json_decref(ex);
    json_decref(flow);
}

/* ---- CHILD_CREATED and SUBFLOW ----------------------------------------------------------------------- */

/* A flow whose first task is a Subflow with the given extra properties, then a Log. */
static json_t *flow_subflow(const char *props)
{
    json_t *flow = parse("{\"id\":\"flow\",\"namespace\":\"company.team\",\"tasks\":["
                         "{\"id\":\"call\",\"type\":\"io.kestra.plugin.core.flow.Subflow\","
                         "\"namespace\":\"company.team\",\"flowId\":\"{{ 'sub' }}\"},"
                         "{\"id\":\"after\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"b\"}]}");
    if (props) {
        json_t *p = parse(props);
        json_object_update(json_array_get(json_object_get(flow, "tasks"), 0), p);
        json_decref(p);
    }
    return flow;
}

static void free_subflows(kt_exec_effects *fx)
{
    for (size_t i = 0; i < fx->nsubflows; i++)
        json_decref(fx->subflows[i].spec);
    fx->nsubflows = 0;
}

/* Starts ex on flow: the Subflow run tr1 is RUNNING and asks for its child (spec rendered). */
static void start_subflow(const json_t *flow, json_t *ex)
{
    kt_exec_effects fx;
    assert_int_equal(step_flow(flow, ex, ev_admit(0, T0), &fx), KT_OK);
    assert_int_equal(fx.nsubflows, 1);
    assert_string_equal(fx.subflows[0].taskrun_id, "tr1");
    assert_string_equal(json_string_value(json_object_get(fx.subflows[0].spec, "flowId")), "sub");
    free_subflows(&fx);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "RUNNING");
}

static kt_exec_event ev_child(const json_t *child, const char *error, int64_t now)
{
    kt_exec_event ev = {.kind = KT_EV_CHILD_CREATED, .now_us = now, .taskrun_id = "tr1", .child = child,
                        .error = error};
    return ev;
}

static void test_child_created_wait(void **state)
{
    (void)state;
    json_t *flow = flow_subflow(NULL), *ex = new_exec();
    json_t *child = kt_execution_new("child1", "company.team", "sub", 4, NULL, NULL, NULL, T0 + SEC);
    kt_exec_effects fx;
    start_subflow(flow, ex);
    assert_int_equal(step_flow(flow, ex, ev_child(child, NULL, T0 + SEC), &fx), KT_OK);
    /* the run names its child and keeps waiting */
    json_t *tr = taskrun_at(ex, 0);
    check_history(tr, "CREATED,RUNNING");
    assert_string_equal(json_string_value(json_object_get(json_object_get(tr, "outputs"), "executionId")), "child1");
    assert_int_equal(json_object_size(json_object_get(tr, "outputs")), 1);
    assert_int_equal(fx.changed, 1);
    assert_int_equal(fx.ntouched, 1);
    assert_int_equal(fx.touched[0], 0);
    assert_int_equal(fx.nlogs, 1);
    assert_string_equal(fx.logs[0].taskrun_id, "tr1");
    assert_string_equal(fx.logs[0].level, "INFO");
    assert_string_equal(fx.logs[0].message,
                        "Created new execution [[link execution=\"child1\" flowId=\"sub\" namespace=\"company.team\"]]");
    assert_int_equal(nruns(ex), 1);
    /* told twice: stale */
    assert_int_equal(step_flow(flow, ex, ev_child(child, NULL, T0 + 2 * SEC), &fx), KT_OK);
    assert_int_equal(fx.stale, 1);
    assert_int_equal(fx.nlogs, 0);

    /* a child state that is not an end is refused: the child is recorded by CHILD_CREATED only */
    kt_exec_event ended = {.kind = KT_EV_SUBFLOW, .now_us = T0 + 3 * SEC, .taskrun_id = "tr1", .state = "RUNNING"};
    assert_int_equal(step_flow(flow, ex, ended, &fx), KT_EINVAL);
    /* the child ends WARNING: transmitted (transmitFailed defaults to true), the next task runs */
    json_t *out = parse("{\"executionId\":\"child1\",\"state\":\"WARNING\",\"outputs\":{}}");
    ended.state = "WARNING";
    ended.outputs = out;
    assert_int_equal(step_flow(flow, ex, ended, &fx), KT_OK);
    check_history(tr, "CREATED,RUNNING,WARNING");
    check_history(json_array_get(json_object_get(tr, "attempts"), 0), "CREATED,RUNNING,WARNING");
    assert_true(json_equal(json_object_get(tr, "outputs"), out));
    assert_int_equal(fx.ndispatch, 1);
    assert_string_equal(fx.dispatch[0].task_id, "after");
    json_decref(out);
    json_decref(child);
    json_decref(ex);
    json_decref(flow);
}

static void test_child_created_no_wait(void **state)
{
    (void)state;
    json_t *flow = flow_subflow("{\"wait\":false}"), *ex = new_exec();
    json_t *child = kt_execution_new("child1", "company.team", "sub", 1, NULL, NULL, NULL, T0 + SEC);
    kt_exec_effects fx;
    start_subflow(flow, ex);
    assert_int_equal(step_flow(flow, ex, ev_child(child, NULL, T0 + SEC), &fx), KT_OK);
    json_t *tr = taskrun_at(ex, 0);
    check_history(tr, "CREATED,RUNNING,SUCCESS");
    check_history(json_array_get(json_object_get(tr, "attempts"), 0), "CREATED,RUNNING,SUCCESS");
    json_t *want = parse("{\"executionId\":\"child1\",\"state\":\"CREATED\"}");
    assert_true(json_equal(json_object_get(tr, "outputs"), want));
    json_decref(want);
    assert_int_equal(fx.nlogs, 1);
    assert_string_equal(fx.logs[0].level, "INFO");
    assert_int_equal(fx.ndispatch, 1); /* the parent goes on at once */
    assert_string_equal(fx.dispatch[0].task_id, "after");
    json_decref(child);
    json_decref(ex);
    json_decref(flow);
}

/* No child: the run fails with the reason; allowFailure / allowWarning apply, transmitFailed does not (it is about
 * the child's state). */
static void test_child_not_created(void **state)
{
    (void)state;
    static const struct {
        const char *props, *state;
    } cases[] = {
        {NULL, "FAILED"},
        {"{\"transmitFailed\":false}", "FAILED"},
        {"{\"allowFailure\":true}", "WARNING"},
        {"{\"allowFailure\":true,\"allowWarning\":true}", "SUCCESS"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *flow = flow_subflow(cases[i].props), *ex = new_exec();
        kt_exec_effects fx;
        g_ids = 0;
        start_subflow(flow, ex);
        const char *why = "Unable to find flow 'company.team'.'sub' with revision '0'";
        assert_int_equal(step_flow(flow, ex, ev_child(NULL, why, T0 + SEC), &fx), KT_OK);
        json_t *tr = taskrun_at(ex, 0);
        assert_string_equal(kt_state_current(tr), cases[i].state);
        assert_string_equal(kt_state_current(json_array_get(json_object_get(tr, "attempts"), 0)), cases[i].state);
        assert_int_equal(json_object_size(json_object_get(tr, "outputs")), 0);
        assert_int_equal(fx.nlogs, 1);
        assert_string_equal(fx.logs[0].taskrun_id, "tr1");
        assert_string_equal(fx.logs[0].level, "ERROR");
        assert_string_equal(fx.logs[0].message, why);
        /* FAILED ends the execution; WARNING / SUCCESS let the next task run */
        if (!strcmp(cases[i].state, "FAILED")) {
            assert_int_equal(fx.ended, 1);
            assert_string_equal(kt_state_current(ex), "FAILED");
        } else {
            assert_int_equal(fx.ndispatch, 1);
        }
        json_decref(ex);
        json_decref(flow);
    }
    /* an unknown run, or a child without an id */
    json_t *flow = flow_subflow(NULL), *ex = new_exec(), *bad = parse("{\"state\":{\"current\":\"CREATED\"}}");
    kt_exec_effects fx;
    g_ids = 0;
    start_subflow(flow, ex);
    kt_exec_event ev = ev_child(bad, NULL, T0 + SEC);
    assert_int_equal(step_flow(flow, ex, ev, &fx), KT_EINVAL);
    ev.taskrun_id = "nope";
    assert_int_equal(step_flow(flow, ex, ev, &fx), KT_ENOTFOUND);
    json_decref(bad);
    json_decref(ex);
    json_decref(flow);
}

/* The child's outputs could not be extracted: a WARN on the run, which fails (allowFailure applies). */
static void test_subflow_outputs_error(void **state)
{
    (void)state;
    const char *props[] = {"{\"transmitFailed\":false}", "{\"allowFailure\":true}"};
    const char *want[] = {"FAILED", "WARNING"};
    for (int i = 0; i < 2; i++) {
        json_t *flow = flow_subflow(props[i]), *ex = new_exec();
        json_t *child = kt_execution_new("child1", "company.team", "sub", 1, NULL, NULL, NULL, T0);
        kt_exec_effects fx;
        g_ids = 0;
        start_subflow(flow, ex);
        assert_int_equal(step_flow(flow, ex, ev_child(child, NULL, T0 + SEC), &fx), KT_OK);
        kt_exec_event ended = {.kind = KT_EV_SUBFLOW, .now_us = T0 + 2 * SEC, .taskrun_id = "tr1",
                               .state = "SUCCESS", .error = "Missing variable: 'nope'"};
        assert_int_equal(step_flow(flow, ex, ended, &fx), KT_OK);
        assert_string_equal(kt_state_current(taskrun_at(ex, 0)), want[i]);
        assert_int_equal(fx.nlogs, 1);
        assert_string_equal(fx.logs[0].level, "WARN");
        assert_string_equal(fx.logs[0].message, "Failed to extract outputs with the error: 'Missing variable: 'nope''");
        json_decref(child);
        json_decref(ex);
        json_decref(flow);
    }
}

/* ---- LOST ------------------------------------------------------------------------------------------ */

static void test_worker_lost(void **state)
{
    (void)state;
    json_t *flow = parse("{\"id\":\"flow\",\"namespace\":\"company.team\",\"tasks\":["
                         "{\"id\":\"seq\",\"type\":\"io.kestra.plugin.core.flow.Sequential\",\"tasks\":["
                         "{\"id\":\"t1\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"a\",\"retry\":"
                         "{\"type\":\"constant\",\"interval\":\"PT10S\",\"maxAttempts\":3}}]}]}");
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step_flow(flow, ex, ev_admit(0, T0), &fx), KT_OK);
    assert_int_equal(fx.ndispatch, 1);
    assert_string_equal(fx.dispatch[0].taskrun_id, "tr2");
    /* the flowable run is RUNNING but on no worker: losing a worker does not concern it */
    kt_exec_event lost = {.kind = KT_EV_LOST, .now_us = T0 + SEC, .taskrun_id = "tr1"};
    assert_int_equal(step_flow(flow, ex, lost, &fx), KT_OK);
    assert_int_equal(fx.stale, 1);
    assert_int_equal(fx.ndispatch, 0);
    assert_null(json_object_get(taskrun_at(ex, 0), "attempts"));

    /* the runnable's attempt 0 was on the dead worker: FAILED, attempt 1 RUNNING and dispatched */
    lost.taskrun_id = "tr2";
    assert_int_equal(step_flow(flow, ex, lost, &fx), KT_OK);
    assert_int_equal(fx.stale, 0);
    assert_int_equal(fx.changed, 1);
    assert_int_equal(fx.ndispatch, 1);
    assert_string_equal(fx.dispatch[0].taskrun_id, "tr2");
    assert_int_equal(fx.dispatch[0].attempt, 1);
    json_t *tr = taskrun_at(ex, 1);
    check_history(json_array_get(json_object_get(tr, "attempts"), 0), "CREATED,RUNNING,FAILED");
    check_history(json_array_get(json_object_get(tr, "attempts"), 1), "CREATED,RUNNING");
    check_history(tr, "CREATED,RUNNING"); /* the run itself goes on */

    /* attempt 1 fails: RETRYING until the timer; a lost worker now is stale (the run is on no worker) */
    kt_exec_event res = {.kind = KT_EV_RESULT, .now_us = T0 + 2 * SEC, .taskrun_id = "tr2", .attempt = 1,
                         .state = "FAILED", .started_us = T0 + SEC, .ended_us = T0 + 2 * SEC};
    assert_int_equal(step_flow(flow, ex, res, &fx), KT_OK);
    assert_string_equal(kt_state_current(tr), "RETRYING");
    assert_int_equal(fx.ntimers, 1);
    json_t *before = json_deep_copy(ex);
    lost.now_us = T0 + 3 * SEC;
    assert_int_equal(step_flow(flow, ex, lost, &fx), KT_OK);
    assert_int_equal(fx.stale, 1);
    assert_int_equal(fx.ndispatch, 0);
    assert_true(json_equal(before, ex));
    json_decref(before);
    /* an unknown run */
    lost.taskrun_id = "nope";
    assert_int_equal(step_flow(flow, ex, lost, &fx), KT_ENOTFOUND);
    json_decref(ex);
    json_decref(flow);
}

/* More Subflow runs start at once than one event's effects hold: the rest stay CREATED and start on the next event
 * (here the first child's CHILD_CREATED), so a wide fan-out is spread over events, never failed. */
static void test_subflow_fan_out_spread(void **state)
{
    (void)state;
    enum { N = KT_EXEC_MAX_SUBFLOWS + 4 };
    json_t *branches = json_array();
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%d", i);
        json_array_append_new(branches, json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", id, "type",
                                                  "io.kestra.plugin.core.flow.Subflow", "namespace", "company.team",
                                                  "flowId", "sub", "wait", 0));
    }
    json_t *flow = json_pack("{s:s, s:s, s:[{s:s, s:s, s:o}]}", "id", "flow", "namespace", "company.team", "tasks",
                             "id", "p", "type", "io.kestra.plugin.core.flow.Parallel", "tasks", branches);
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step_flow(flow, ex, ev_admit(0, T0), &fx), KT_OK);
    assert_int_equal(fx.nsubflows, KT_EXEC_MAX_SUBFLOWS);
    char first[sizeof fx.subflows[0].taskrun_id];
    memcpy(first, fx.subflows[0].taskrun_id, sizeof first);
    free_subflows(&fx);
    size_t created = 0, running = 0, i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) {
        created += !strcmp(kt_state_current(tr), "CREATED");
        running += !strcmp(kt_state_current(tr), "RUNNING");
    }
    assert_int_equal(created, N - KT_EXEC_MAX_SUBFLOWS);
    assert_int_equal(running, KT_EXEC_MAX_SUBFLOWS + 1); /* the Parallel too */

    json_t *child = kt_execution_new("child1", "company.team", "sub", 1, NULL, NULL, NULL, T0 + SEC);
    kt_exec_event ev = {.kind = KT_EV_CHILD_CREATED, .now_us = T0 + SEC, .taskrun_id = first, .child = child};
    assert_int_equal(step_flow(flow, ex, ev, &fx), KT_OK);
    assert_int_equal(fx.nsubflows, N - KT_EXEC_MAX_SUBFLOWS);
    free_subflows(&fx);
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr)
        assert_string_not_equal(kt_state_current(tr), "CREATED");
    assert_string_not_equal(kt_state_current(ex), "FAILED");
    json_decref(child);
    json_decref(ex);
    json_decref(flow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_admit_table, reset_ids),
        cmocka_unit_test_setup(test_admit_only_created, reset_ids),
        cmocka_unit_test(test_concurrency_limit),
        cmocka_unit_test_setup(test_unqueue, reset_ids),
        cmocka_unit_test_setup(test_child_created_wait, reset_ids),
        cmocka_unit_test_setup(test_child_created_no_wait, reset_ids),
        cmocka_unit_test_setup(test_child_not_created, reset_ids),
        cmocka_unit_test_setup(test_subflow_outputs_error, reset_ids),
        cmocka_unit_test_setup(test_worker_lost, reset_ids),
        cmocka_unit_test_setup(test_subflow_fan_out_spread, reset_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
