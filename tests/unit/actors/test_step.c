/* The executor's pure state machine (actors/executor/step.h) and the execution document helpers
 * (actors/executor/model.h): executions are driven through events with fixed clocks and a deterministic id
 * generator, and the resulting Kestra JSON is checked field by field (KESTRA-execution.md §1, §2.4). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/model.h"
#include "actors/executor/step.h"
#include "base/clock.h"
#include "base/id.h"

/* 2023-11-14T22:13:20Z */
#define T0 INT64_C(1700000000000000)
#define SEC INT64_C(1000000)

/* ---- helpers ------------------------------------------------------------------------------------- */

static int g_ids;

/* Deterministic ids: tr1, tr2, ... (reset per test). */
static void test_idgen(void *ud, char *out) { (void)ud, snprintf(out, KT_ID_LEN + 1, "tr%d", ++g_ids); }

static int reset_ids(void **state)
{
    (void)state;
    g_ids = 0;
    return 0;
}

static const char *date(int64_t us)
{
    static char buf[8][48];
    static int k;
    char *b = buf[k++ % 8];
    kt_time_format(us, b, 48);
    return b;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad test JSON %s: %s", text, e.text);
    return v;
}

/* A flow's task list t1..tn (Log tasks); props, when given, is merged into task number `which` (1-based). */
static json_t *tasks_n(int n, int which, const char *props)
{
    json_t *tasks = json_array();
    for (int i = 1; i <= n; i++) {
        char id[16];
        snprintf(id, sizeof id, "t%d", i);
        json_t *t = json_pack("{s:s, s:s, s:s}", "id", id, "type", "io.kestra.plugin.core.log.Log", "message", "hi");
        if (props && i == which) {
            json_t *p = parse(props);
            json_object_update(t, p);
            json_decref(p);
        }
        json_array_append_new(tasks, t);
    }
    return tasks;
}

static json_t *new_exec(void) { return kt_execution_new("ex1", "company.team", "flow", 3, NULL, NULL, NULL, T0); }

static kt_exec_event ev_start(int64_t now)
{
    kt_exec_event ev = {.kind = KT_EV_START, .now_us = now};
    return ev;
}

static kt_exec_event ev_result(const char *trid, uint32_t attempt, const char *state, int64_t now)
{
    kt_exec_event ev = {.kind = KT_EV_RESULT, .now_us = now, .taskrun_id = trid, .attempt = attempt, .state = state,
                        .started_us = now - SEC / 2, .ended_us = now};
    return ev;
}

static kt_exec_event ev_lost(const char *trid, int64_t now)
{
    kt_exec_event ev = {.kind = KT_EV_LOST, .now_us = now, .taskrun_id = trid};
    return ev;
}

static kt_status step(const json_t *tasks, json_t *ex, kt_exec_event ev, kt_exec_effects *fx)
{
    json_t *flow = json_pack("{s:O}", "tasks", (json_t *)tasks);
    kt_exec_flow f = {.flow = flow};
    kt_env env;
    kt_env_init(&env, ev.now_us, 1);
    env.ids = test_idgen;
    kt_status rc = kt_exec_step(&f, ex, &ev, &env, fx);
    json_decref(flow);
    return rc;
}

static json_t *taskrun_at(const json_t *ex, size_t i) { return json_array_get(json_object_get(ex, "taskRunList"), i); }
static size_t nruns(const json_t *ex) { return json_array_size(json_object_get(ex, "taskRunList")); }
static const json_t *attempt_at(const json_t *tr, size_t i) { return json_array_get(json_object_get(tr, "attempts"), i); }

/* Checks state.current and the exact histories: states (comma separated) with their dates. */
static void check_state(const json_t *holder, const char *states, const int64_t *dates)
{
    const json_t *st = json_object_get(holder, "state");
    assert_non_null(st);
    const json_t *h = json_object_get(st, "histories");
    char buf[256];
    snprintf(buf, sizeof buf, "%s", states);
    size_t n = 0;
    const char *last = NULL;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), n++) {
        const json_t *e = json_array_get(h, n);
        assert_non_null(e);
        assert_string_equal(json_string_value(json_object_get(e, "state")), tok);
        if (dates)
            assert_string_equal(json_string_value(json_object_get(e, "date")), date(dates[n]));
        last = json_string_value(json_object_get(e, "state"));
    }
    assert_int_equal(json_array_size(h), n);
    assert_string_equal(json_string_value(json_object_get(st, "current")), last);
}

static void check_dispatch(const kt_exec_effects *fx, const char *trid, const char *task_id, uint32_t attempt)
{
    assert_int_equal(fx->ndispatch, 1);
    assert_string_equal(fx->dispatch[0].taskrun_id, trid);
    assert_string_equal(fx->dispatch[0].task_id, task_id);
    assert_int_equal(fx->dispatch[0].attempt, attempt);
}

/* fx.touched must be exactly `want` (as a set; the order is not part of the contract). */
static void check_touched(const kt_exec_effects *fx, const size_t *want, size_t n)
{
    assert_int_equal(fx->touched_all, 0);
    assert_int_equal(fx->ntouched, n);
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (size_t j = 0; j < fx->ntouched; j++)
            found |= fx->touched[j] == want[i];
        if (!found)
            fail_msg("taskRunList position %zu not in fx.touched", want[i]);
    }
}

static void check_no_effect(const kt_exec_effects *fx)
{
    assert_int_equal(fx->changed, 0);
    assert_int_equal(fx->ended, 0);
    assert_int_equal(fx->ndispatch, 0);
    assert_int_equal(fx->ntouched, 0);
    assert_int_equal(fx->touched_all, 0);
}

/* ---- kt_exec_step: the sequential happy path ----------------------------------------------------- */

static void test_start_dispatches_first_task(void **state)
{
    (void)state;
    json_t *tasks = tasks_n(3, 0, NULL), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0 + SEC), &fx), KT_OK);
    assert_int_equal(fx.changed, 1);
    assert_int_equal(fx.ended, 0);
    assert_int_equal(fx.stale, 0);
    check_dispatch(&fx, "tr1", "t1", 0);
    size_t want[] = {0};
    check_touched(&fx, want, 1);

    int64_t d_ex[] = {T0, T0 + SEC};
    check_state(ex, "CREATED,RUNNING", d_ex);
    assert_int_equal(nruns(ex), 1);
    json_t *tr = taskrun_at(ex, 0);
    assert_string_equal(json_string_value(json_object_get(tr, "id")), "tr1");
    assert_string_equal(json_string_value(json_object_get(tr, "executionId")), "ex1");
    assert_string_equal(json_string_value(json_object_get(tr, "namespace")), "company.team");
    assert_string_equal(json_string_value(json_object_get(tr, "flowId")), "flow");
    assert_string_equal(json_string_value(json_object_get(tr, "taskId")), "t1");
    assert_null(json_object_get(tr, "parentTaskRunId"));
    assert_null(json_object_get(tr, "value"));
    /* outputs is always present, null until the task ends (TaskRun @JsonInclude(ALWAYS)) */
    assert_true(json_is_null(json_object_get(tr, "outputs")));
    int64_t d_run[] = {T0 + SEC, T0 + SEC};
    check_state(tr, "CREATED,RUNNING", d_run);
    assert_int_equal(kt_taskrun_attempts(tr), 1);
    check_state(attempt_at(tr, 0), "CREATED,RUNNING", d_run);
    /* the dispatched ids are borrowed from the execution */
    assert_ptr_equal(fx.dispatch[0].taskrun_id, json_string_value(json_object_get(tr, "id")));
    json_decref(ex);
    json_decref(tasks);
}

static void test_success_chain_to_execution_success(void **state)
{
    (void)state;
    json_t *tasks = tasks_n(3, 0, NULL), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0 + SEC), &fx), KT_OK);

    /* t1 SUCCESS at T0+2s, with outputs: t2 starts */
    json_t *outs = parse("{\"value\":42,\"list\":[1,2]}");
    kt_exec_event ev = ev_result("tr1", 0, "SUCCESS", T0 + 2 * SEC);
    ev.outputs = outs;
    assert_int_equal(step(tasks, ex, ev, &fx), KT_OK);
    assert_int_equal(fx.changed, 1);
    assert_int_equal(fx.ended, 0);
    assert_int_equal(fx.stale, 0);
    check_dispatch(&fx, "tr2", "t2", 0);
    size_t want01[] = {0, 1};
    check_touched(&fx, want01, 2);
    json_t *tr1 = taskrun_at(ex, 0);
    int64_t d1[] = {T0 + SEC, T0 + SEC, T0 + 2 * SEC};
    check_state(tr1, "CREATED,RUNNING,SUCCESS", d1);
    check_state(attempt_at(tr1, 0), "CREATED,RUNNING,SUCCESS", d1);
    assert_true(json_equal(json_object_get(tr1, "outputs"), outs));
    /* the outputs are a copy: the caller's document may change afterwards */
    json_object_set_new(outs, "value", json_integer(0));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(tr1, "outputs"), "value")), 42);
    json_decref(outs);
    int64_t d2[] = {T0 + 2 * SEC, T0 + 2 * SEC};
    check_state(taskrun_at(ex, 1), "CREATED,RUNNING", d2);
    check_state(ex, "CREATED,RUNNING", NULL);

    /* t2 SUCCESS without outputs: outputs becomes {} */
    assert_int_equal(step(tasks, ex, ev_result("tr2", 0, "SUCCESS", T0 + 3 * SEC), &fx), KT_OK);
    check_dispatch(&fx, "tr3", "t3", 0);
    size_t want12[] = {1, 2};
    check_touched(&fx, want12, 2);
    const json_t *o2 = json_object_get(taskrun_at(ex, 1), "outputs");
    assert_true(json_is_object(o2));
    assert_int_equal(json_object_size(o2), 0);

    /* the last SUCCESS ends the execution SUCCESS at now_us */
    assert_int_equal(step(tasks, ex, ev_result("tr3", 0, "SUCCESS", T0 + 4 * SEC), &fx), KT_OK);
    assert_int_equal(fx.changed, 1);
    assert_int_equal(fx.ended, 1);
    assert_int_equal(fx.ndispatch, 0);
    size_t want2[] = {2};
    check_touched(&fx, want2, 1);
    int64_t d_ex[] = {T0, T0 + SEC, T0 + 4 * SEC};
    check_state(ex, "CREATED,RUNNING,SUCCESS", d_ex);
    assert_int_equal(nruns(ex), 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(kt_state_current(taskrun_at(ex, i)), "SUCCESS");
    json_decref(ex);
    json_decref(tasks);
}

/* Result dates: the attempt and the run end at ended_us (the worker's clock), the execution at now_us. */
static void test_result_dates(void **state)
{
    (void)state;
    json_t *tasks = tasks_n(1, 0, NULL), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    kt_exec_event ev = ev_result("tr1", 0, "SUCCESS", T0 + 9 * SEC);
    ev.ended_us = T0 + 7 * SEC;
    assert_int_equal(step(tasks, ex, ev, &fx), KT_OK);
    int64_t d_run[] = {T0, T0, T0 + 7 * SEC};
    check_state(taskrun_at(ex, 0), "CREATED,RUNNING,SUCCESS", d_run);
    check_state(attempt_at(taskrun_at(ex, 0), 0), "CREATED,RUNNING,SUCCESS", d_run);
    int64_t d_ex[] = {T0, T0, T0 + 9 * SEC};
    check_state(ex, "CREATED,RUNNING,SUCCESS", d_ex);
    json_decref(ex);
    json_decref(tasks);
}

/* A flow without tasks ends SUCCESS on START and never creates a taskRunList (null until the first run). */
static void test_empty_flow(void **state)
{
    (void)state;
    json_t *tasks = json_array(), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0 + SEC), &fx), KT_OK);
    assert_int_equal(fx.ended, 1);
    assert_int_equal(fx.changed, 1);
    assert_int_equal(fx.ndispatch, 0);
    assert_int_equal(fx.ntouched, 0);
    check_state(ex, "CREATED,RUNNING,SUCCESS", NULL);
    assert_null(json_object_get(ex, "taskRunList"));
    json_decref(ex);
    json_decref(tasks);
}

/* START again on a RUNNING execution (the executor resuming after a restart) does not dispatch the running task
 * twice; when the last run ended but the next was not created yet, START creates it. */
static void test_start_resume(void **state)
{
    (void)state;
    json_t *tasks = tasks_n(2, 0, NULL), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    json_t *before = json_deep_copy(ex);
    assert_int_equal(step(tasks, ex, ev_start(T0 + SEC), &fx), KT_OK);
    check_no_effect(&fx);
    assert_true(json_equal(before, ex));
    json_decref(before);

    /* t1 ended SUCCESS in the stored document but t2 was never created */
    json_t *tr1 = taskrun_at(ex, 0);
    kt_state_set(json_object_get(tr1, "state"), "SUCCESS", T0 + SEC);
    assert_int_equal(step(tasks, ex, ev_start(T0 + 2 * SEC), &fx), KT_OK);
    check_dispatch(&fx, "tr2", "t2", 0);
    size_t want[] = {1};
    check_touched(&fx, want, 1);
    check_state(ex, "CREATED,RUNNING", NULL); /* no second RUNNING entry */
    json_decref(ex);
    json_decref(tasks);
}

/* ---- outcomes of the middle task of three, with allowFailure / allowWarning ---------------------- */

static const struct outcome {
    const char *reported;  /* state the worker reports for t2 */
    const char *props;     /* t2's extra properties */
    const char *run_state; /* t2's run state after the result */
    int next_runs;         /* t3 is dispatched */
    const char *final;     /* execution's final state (after t3 SUCCESS when it runs) */
} outcomes[] = {
    {"SUCCESS", NULL, "SUCCESS", 1, "SUCCESS"},
    {"FAILED", NULL, "FAILED", 0, "FAILED"},
    /* only FAILED diverts from the sequence (KESTRA-execution.md §2.6): after a KILLED run the next task runs */
    {"KILLED", NULL, "KILLED", 1, "KILLED"},
    {"WARNING", NULL, "WARNING", 1, "WARNING"},
    {"FAILED", "{\"allowFailure\":true}", "WARNING", 1, "WARNING"},
    {"FAILED", "{\"allowFailure\":true,\"allowWarning\":true}", "SUCCESS", 1, "SUCCESS"},
    {"WARNING", "{\"allowWarning\":true}", "SUCCESS", 1, "SUCCESS"},
    {"WARNING", "{\"allowFailure\":true}", "WARNING", 1, "WARNING"},
    {"FAILED", "{\"allowWarning\":true}", "FAILED", 0, "FAILED"},
    {"KILLED", "{\"allowFailure\":true}", "KILLED", 1, "KILLED"},
    {"SUCCESS", "{\"allowFailure\":true,\"allowWarning\":true}", "SUCCESS", 1, "SUCCESS"},
    {"FAILED", "{\"allowFailure\":false}", "FAILED", 0, "FAILED"},
    /* SKIPPED / CANCELLED are terminated and count as SUCCESS in guessFinalState */
    {"SKIPPED", NULL, "SKIPPED", 1, "SUCCESS"},
    {"CANCELLED", NULL, "CANCELLED", 1, "SUCCESS"},
};

static void test_outcomes_table(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof outcomes / sizeof *outcomes; c++) {
        const struct outcome *o = &outcomes[c];
        g_ids = 0;
        json_t *tasks = tasks_n(3, 2, o->props), *ex = new_exec();
        kt_exec_effects fx;
        assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
        assert_int_equal(step(tasks, ex, ev_result("tr1", 0, "SUCCESS", T0 + SEC), &fx), KT_OK);
        assert_int_equal(step(tasks, ex, ev_result("tr2", 0, o->reported, T0 + 2 * SEC), &fx), KT_OK);
        json_t *tr2 = taskrun_at(ex, 1);
        if (strcmp(kt_state_current(tr2), o->run_state))
            fail_msg("case %zu (%s %s): run state %s, want %s", c, o->reported, o->props ? o->props : "",
                     kt_state_current(tr2), o->run_state);
        /* the attempt keeps what the worker reported; only the run's state is turned by the flags */
        assert_string_equal(kt_state_current(attempt_at(tr2, 0)), o->reported);
        size_t want1[] = {1}, want12[] = {1, 2};
        if (o->next_runs) {
            check_dispatch(&fx, "tr3", "t3", 0);
            check_touched(&fx, want12, 2);
            assert_int_equal(fx.ended, 0);
            check_state(ex, "CREATED,RUNNING", NULL);
            assert_int_equal(step(tasks, ex, ev_result("tr3", 0, "SUCCESS", T0 + 3 * SEC), &fx), KT_OK);
        } else {
            assert_int_equal(fx.ndispatch, 0);
            check_touched(&fx, want1, 1);
            assert_int_equal(nruns(ex), 2); /* no further task run */
        }
        assert_int_equal(fx.ended, 1);
        if (strcmp(kt_state_current(ex), o->final))
            fail_msg("case %zu (%s %s): execution %s, want %s", c, o->reported, o->props ? o->props : "",
                     kt_state_current(ex), o->final);
        int64_t d_ex[] = {T0, T0, o->next_runs ? T0 + 3 * SEC : T0 + 2 * SEC};
        char hist[64];
        snprintf(hist, sizeof hist, "CREATED,RUNNING,%s", o->final);
        check_state(ex, hist, d_ex);
        json_decref(ex);
        json_decref(tasks);
    }
}

/* guessFinalState over the top-level runs: first present of KILLED, FAILED, WARNING, PAUSED, else SUCCESS. t1 must
 * not stop the sequence, so it ends WARNING, SKIPPED or SUCCESS (possibly through allowFailure). */
static const struct final_case {
    const char *s1, *p1, *s2, *p2, *final;
} final_cases[] = {
    {"WARNING", NULL, "FAILED", NULL, "FAILED"},
    {"FAILED", "{\"allowFailure\":true}", "KILLED", NULL, "KILLED"},
    {"FAILED", "{\"allowFailure\":true}", "FAILED", NULL, "FAILED"},
    {"WARNING", NULL, "SUCCESS", NULL, "WARNING"},
    {"SUCCESS", NULL, "WARNING", NULL, "WARNING"},
    {"SKIPPED", NULL, "WARNING", NULL, "WARNING"},
    {"FAILED", "{\"allowFailure\":true}", "FAILED", "{\"allowFailure\":true}", "WARNING"},
    {"WARNING", "{\"allowWarning\":true}", "SUCCESS", NULL, "SUCCESS"},
    {"CANCELLED", NULL, "SKIPPED", NULL, "SUCCESS"},
};

static void test_final_state_priority(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof final_cases / sizeof *final_cases; c++) {
        const struct final_case *fc = &final_cases[c];
        g_ids = 0;
        json_t *tasks = tasks_n(2, 1, fc->p1);
        if (fc->p2) {
            json_t *p = parse(fc->p2);
            json_object_update(json_array_get(tasks, 1), p);
            json_decref(p);
        }
        json_t *ex = new_exec();
        kt_exec_effects fx;
        assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
        assert_int_equal(step(tasks, ex, ev_result("tr1", 0, fc->s1, T0 + SEC), &fx), KT_OK);
        check_dispatch(&fx, "tr2", "t2", 0);
        assert_int_equal(step(tasks, ex, ev_result("tr2", 0, fc->s2, T0 + 2 * SEC), &fx), KT_OK);
        assert_int_equal(fx.ended, 1);
        if (strcmp(kt_state_current(ex), fc->final))
            fail_msg("case %zu (%s, %s): %s, want %s", c, fc->s1, fc->s2, kt_state_current(ex), fc->final);
        json_decref(ex);
        json_decref(tasks);
    }
}

/* A FAILED first task: the execution ends FAILED in the same step and later tasks never get a run. */
static void test_failed_first_task(void **state)
{
    (void)state;
    json_t *tasks = tasks_n(5, 0, NULL), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(step(tasks, ex, ev_result("tr1", 0, "FAILED", T0 + SEC), &fx), KT_OK);
    assert_int_equal(fx.ended, 1);
    assert_int_equal(fx.ndispatch, 0);
    assert_int_equal(nruns(ex), 1);
    assert_string_equal(kt_state_current(ex), "FAILED");
    /* START after the end is stale */
    assert_int_equal(step(tasks, ex, ev_start(T0 + 2 * SEC), &fx), KT_OK);
    assert_int_equal(fx.stale, 1);
    assert_int_equal(nruns(ex), 1);
    json_decref(ex);
    json_decref(tasks);
}

/* ---- stale events change nothing ----------------------------------------------------------------- */

enum { SETUP_RUNNING, SETUP_LOST_ONCE, SETUP_T1_DONE, SETUP_ENDED, SETUP_NO_ATTEMPT };

static const struct stale_case {
    const char *name;
    int setup;
    kt_exec_event_kind kind;
    const char *trid;
    uint32_t attempt;
    const char *state;
} stale_cases[] = {
    {"future attempt index", SETUP_RUNNING, KT_EV_RESULT, "tr1", 1, "SUCCESS"},
    {"old attempt after LOST", SETUP_LOST_ONCE, KT_EV_RESULT, "tr1", 0, "SUCCESS"},
    {"old attempt FAILED after LOST", SETUP_LOST_ONCE, KT_EV_RESULT, "tr1", 0, "FAILED"},
    {"duplicate result", SETUP_T1_DONE, KT_EV_RESULT, "tr1", 0, "SUCCESS"},
    {"duplicate result, other state", SETUP_T1_DONE, KT_EV_RESULT, "tr1", 0, "FAILED"},
    {"LOST for a terminated run", SETUP_T1_DONE, KT_EV_LOST, "tr1", 0, NULL},
    {"START on a terminated execution", SETUP_ENDED, KT_EV_START, NULL, 0, NULL},
    {"RESULT on a terminated execution", SETUP_ENDED, KT_EV_RESULT, "tr2", 0, "SUCCESS"},
    {"LOST on a terminated execution", SETUP_ENDED, KT_EV_LOST, "tr2", 0, NULL},
    {"unknown run on a terminated execution", SETUP_ENDED, KT_EV_RESULT, "nope", 0, "SUCCESS"},
    {"result for a run without attempts", SETUP_NO_ATTEMPT, KT_EV_RESULT, "bare", 0, "SUCCESS"},
};

static json_t *stale_setup(const json_t *tasks, int setup)
{
    json_t *ex = new_exec();
    kt_exec_effects fx;
    g_ids = 0;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    if (setup == SETUP_NO_ATTEMPT)
        kt_taskrun_add(ex, "bare", "t9", NULL, NULL, T0);
    if (setup == SETUP_LOST_ONCE)
        assert_int_equal(step(tasks, ex, ev_lost("tr1", T0 + SEC), &fx), KT_OK);
    if (setup == SETUP_T1_DONE || setup == SETUP_ENDED)
        assert_int_equal(step(tasks, ex, ev_result("tr1", 0, "SUCCESS", T0 + SEC), &fx), KT_OK);
    if (setup == SETUP_ENDED) {
        assert_int_equal(step(tasks, ex, ev_result("tr2", 0, "SUCCESS", T0 + 2 * SEC), &fx), KT_OK);
        assert_int_equal(fx.ended, 1);
    }
    return ex;
}

static void test_stale_table(void **state)
{
    (void)state;
    json_t *tasks = tasks_n(2, 0, NULL);
    for (size_t c = 0; c < sizeof stale_cases / sizeof *stale_cases; c++) {
        const struct stale_case *s = &stale_cases[c];
        json_t *ex = stale_setup(tasks, s->setup);
        json_t *before = json_deep_copy(ex);
        kt_exec_event ev = {.kind = s->kind, .now_us = T0 + 60 * SEC, .taskrun_id = s->trid, .attempt = s->attempt,
                            .state = s->state, .started_us = T0 + 59 * SEC, .ended_us = T0 + 60 * SEC};
        kt_exec_effects fx;
        memset(&fx, 0xAB, sizeof fx); /* kt_exec_step must reset every field */
        kt_status rc = step(tasks, ex, ev, &fx);
        if (rc != KT_OK || fx.stale != 1)
            fail_msg("case %zu (%s): rc %d stale %d", c, s->name, rc, fx.stale);
        check_no_effect(&fx);
        if (!json_equal(before, ex))
            fail_msg("case %zu (%s): the execution changed", c, s->name);
        json_decref(before);
        json_decref(ex);
    }
    json_decref(tasks);
}

/* ---- errors -------------------------------------------------------------------------------------- */

static void test_unknown_taskrun(void **state)
{
    (void)state;
    json_t *tasks = tasks_n(2, 0, NULL), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    json_t *before = json_deep_copy(ex);
    assert_int_equal(step(tasks, ex, ev_result("nope", 0, "SUCCESS", T0 + SEC), &fx), KT_ENOTFOUND);
    assert_int_equal(fx.stale, 0);
    check_no_effect(&fx);
    assert_int_equal(step(tasks, ex, ev_lost("nope", T0 + SEC), &fx), KT_ENOTFOUND);
    check_no_effect(&fx);
    /* the id of a run of another execution is as unknown */
    assert_int_equal(step(tasks, ex, ev_result("tr2", 0, "SUCCESS", T0 + SEC), &fx), KT_ENOTFOUND);
    assert_true(json_equal(before, ex));
    json_decref(before);
    json_decref(ex);
    json_decref(tasks);
}

static void test_invalid_result_state(void **state)
{
    (void)state;
    /* not a State.Type, not terminated, or not written as Kestra writes it */
    static const char *const bad[] = {"BOGUS", "RUNNING", "CREATED", "PAUSED", "KILLING", "RETRYING",
                                      "QUEUED", "RESTARTED", "success", "", " SUCCESS", "SUCCESS ", NULL};
    json_t *tasks = tasks_n(2, 0, NULL), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    json_t *before = json_deep_copy(ex);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kt_status rc = step(tasks, ex, ev_result("tr1", 0, bad[i], T0 + SEC), &fx);
        if (rc != KT_EINVAL)
            fail_msg("state '%s': rc %d, want KT_EINVAL", bad[i] ? bad[i] : "(null)", rc);
        check_no_effect(&fx);
        assert_true(json_equal(before, ex));
    }
    /* the run still accepts a valid result afterwards */
    assert_int_equal(step(tasks, ex, ev_result("tr1", 0, "SUCCESS", T0 + SEC), &fx), KT_OK);
    check_dispatch(&fx, "tr2", "t2", 0);
    json_decref(before);
    json_decref(ex);
    json_decref(tasks);
}

static void test_execution_without_state(void **state)
{
    (void)state;
    json_t *tasks = tasks_n(1, 0, NULL);
    json_t *ex = parse("{\"id\":\"ex1\",\"namespace\":\"n\",\"flowId\":\"f\"}");
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_EINVAL);
    assert_null(json_object_get(ex, "taskRunList"));
    json_decref(ex);
    json_decref(tasks);
}

/* ---- LOST ---------------------------------------------------------------------------------------- */

static void test_lost_new_attempt(void **state)
{
    (void)state;
    json_t *tasks = tasks_n(2, 0, NULL), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(step(tasks, ex, ev_result("tr1", 0, "SUCCESS", T0 + SEC), &fx), KT_OK);

    assert_int_equal(step(tasks, ex, ev_lost("tr2", T0 + 5 * SEC), &fx), KT_OK);
    assert_int_equal(fx.changed, 1);
    assert_int_equal(fx.stale, 0);
    assert_int_equal(fx.ended, 0);
    check_dispatch(&fx, "tr2", "t2", 1);
    size_t want[] = {1};
    check_touched(&fx, want, 1);
    json_t *tr2 = taskrun_at(ex, 1);
    assert_int_equal(kt_taskrun_attempts(tr2), 2);
    int64_t d_a0[] = {T0 + SEC, T0 + SEC, T0 + 5 * SEC}, d_a1[] = {T0 + 5 * SEC, T0 + 5 * SEC};
    check_state(attempt_at(tr2, 0), "CREATED,RUNNING,FAILED", d_a0);
    check_state(attempt_at(tr2, 1), "CREATED,RUNNING", d_a1);
    /* the run itself stays RUNNING: no new history entry */
    int64_t d_run[] = {T0 + SEC, T0 + SEC};
    check_state(tr2, "CREATED,RUNNING", d_run);
    assert_int_equal(nruns(ex), 2);

    /* lost again: attempt 2 */
    assert_int_equal(step(tasks, ex, ev_lost("tr2", T0 + 6 * SEC), &fx), KT_OK);
    check_dispatch(&fx, "tr2", "t2", 2);
    assert_int_equal(kt_taskrun_attempts(tr2), 3);
    assert_string_equal(kt_state_current(attempt_at(tr2, 1)), "FAILED");

    /* the result of the newest attempt applies and ends the execution */
    assert_int_equal(step(tasks, ex, ev_result("tr2", 2, "SUCCESS", T0 + 7 * SEC), &fx), KT_OK);
    assert_int_equal(fx.ended, 1);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    assert_string_equal(kt_state_current(attempt_at(tr2, 2)), "SUCCESS");
    assert_string_equal(kt_state_current(attempt_at(tr2, 0)), "FAILED");
    json_decref(ex);
    json_decref(tasks);
}

/* ---- scale --------------------------------------------------------------------------------------- */

static void test_hundred_tasks(void **state)
{
    (void)state;
    enum { N = 100 };
    json_t *tasks = tasks_n(N, 0, NULL), *ex = new_exec();
    kt_exec_effects fx;
    size_t steps = 0;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    steps++;
    while (!fx.ended) {
        assert_int_equal(fx.ndispatch, 1);
        char trid[KT_ID_LEN + 1], tid[16];
        snprintf(trid, sizeof trid, "%s", fx.dispatch[0].taskrun_id);
        snprintf(tid, sizeof tid, "t%zu", steps);
        assert_string_equal(fx.dispatch[0].task_id, tid);
        assert_int_equal(nruns(ex), steps);
        assert_int_equal(step(tasks, ex, ev_result(trid, 0, "SUCCESS", T0 + (int64_t)steps * SEC), &fx), KT_OK);
        steps++;
        if (steps > N + 5)
            fail_msg("the execution did not end after %zu steps", steps);
    }
    assert_int_equal(steps, N + 1);
    assert_int_equal(nruns(ex), N);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    for (size_t i = 0; i < N; i++) {
        json_t *tr = taskrun_at(ex, i);
        char tid[16], trid[16];
        snprintf(tid, sizeof tid, "t%zu", i + 1);
        snprintf(trid, sizeof trid, "tr%zu", i + 1);
        assert_string_equal(json_string_value(json_object_get(tr, "taskId")), tid);
        assert_string_equal(json_string_value(json_object_get(tr, "id")), trid);
        assert_string_equal(kt_state_current(tr), "SUCCESS");
        assert_ptr_equal(kt_taskrun_find(ex, trid), tr);
    }
    json_decref(ex);
    json_decref(tasks);
}

/* ---- presentation -------------------------------------------------------------------------------- */

static const struct present_case {
    const char *states;
    int64_t offsets_ms[4]; /* history dates, ms after T0 */
    int64_t now_ms;
    const char *duration;
    int has_end;
} present_cases[] = {
    /* a single entry grows with now */
    {"CREATED", {0}, 1500, "PT1.5S", 0},
    {"CREATED", {0}, 0, "PT0S", 0},
    /* two or more entries: last - first, whatever now is */
    {"CREATED,RUNNING", {0, 2000}, 10000, "PT2S", 0},
    {"CREATED,RUNNING", {0, 0}, 10000, "PT0S", 0},
    {"CREATED,RUNNING,SUCCESS", {0, 1000, 1500}, 99000, "PT1.5S", 1},
    {"CREATED,RUNNING,FAILED", {0, 1, 90000}, 99000, "PT1M30S", 1},
    {"CREATED,RUNNING,WARNING", {0, 0, 3723004}, 0, "PT1H2M3.004S", 1},
    {"CREATED,RUNNING,KILLED", {0, 0, 12}, 0, "PT0.012S", 1},
    {"CREATED,RUNNING,PAUSED", {0, 0, 500}, 9000, "PT0.5S", 1},
    {"CREATED,RUNNING,KILLING", {0, 0, 500}, 9000, "PT0.5S", 0},
    {"CREATED,QUEUED", {0, 100}, 9000, "PT0.1S", 0},
    {"CREATED,RUNNING,SKIPPED", {0, 0, 86400000}, 0, "PT24H", 1},
    {"SUCCESS", {0}, 2000, "PT2S", 1},
};

static json_t *state_from(const char *states, const int64_t *offsets_ms)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", states);
    json_t *st = NULL;
    size_t i = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
        int64_t at = T0 + offsets_ms[i] * 1000;
        if (!st)
            st = kt_state_new(tok, at);
        else
            kt_state_set(st, tok, at);
    }
    return st;
}

static void test_state_present_table(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof present_cases / sizeof *present_cases; c++) {
        const struct present_case *p = &present_cases[c];
        json_t *st = state_from(p->states, p->offsets_ms);
        json_t *orig = json_deep_copy(st);
        json_t *out = kt_state_present(st, T0 + p->now_ms * 1000);
        assert_non_null(out);
        assert_true(json_equal(st, orig)); /* the stored state is not changed */
        const char *dur = json_string_value(json_object_get(out, "duration"));
        if (!dur || strcmp(dur, p->duration))
            fail_msg("case %zu (%s): duration %s, want %s", c, p->states, dur ? dur : "(none)", p->duration);
        assert_string_equal(json_string_value(json_object_get(out, "startDate")), date(T0 + p->offsets_ms[0] * 1000));
        size_t n = json_array_size(json_object_get(st, "histories"));
        const json_t *end = json_object_get(out, "endDate");
        if (p->has_end) {
            if (!end)
                fail_msg("case %zu (%s): endDate missing", c, p->states);
            assert_string_equal(json_string_value(end), date(T0 + p->offsets_ms[n - 1] * 1000));
        } else if (end) {
            fail_msg("case %zu (%s): endDate %s present on a non-terminated state", c, p->states,
                     json_string_value(end));
        }
        /* current and histories are kept as stored */
        assert_true(json_equal(json_object_get(out, "histories"), json_object_get(st, "histories")));
        assert_true(json_equal(json_object_get(out, "current"), json_object_get(st, "current")));
        json_decref(out);
        json_decref(orig);
        json_decref(st);
    }
}

/* Computed fields that arrive with a stored document are recomputed, not trusted (KESTRA-execution.md §1.6: "These
 * three are read-only: ignored on input, recomputed on output"). */
static void test_state_present_recomputes(void **state)
{
    (void)state;
    json_t *st = kt_state_new("CREATED", T0);
    kt_state_set(st, "RUNNING", T0 + 3 * SEC);
    json_object_set_new(st, "duration", json_string("PT99S"));
    json_object_set_new(st, "endDate", json_string("2000-01-01T00:00:00Z"));
    json_object_set_new(st, "startDate", json_string("2000-01-01T00:00:00Z"));
    json_t *out = kt_state_present(st, T0 + 10 * SEC);
    assert_string_equal(json_string_value(json_object_get(out, "duration")), "PT3S");
    assert_string_equal(json_string_value(json_object_get(out, "startDate")), "2023-11-14T22:13:20Z");
    char stale[64] = "";
    if (json_object_get(out, "endDate"))
        snprintf(stale, sizeof stale, "%s", json_string_value(json_object_get(out, "endDate")));
    json_decref(out);
    json_decref(st);
    if (stale[0])
        fail_msg("(actors/executor/model.c kt_state_present): a stale endDate of a RUNNING state survives: %s",
                 stale);
}

static void test_execution_present(void **state)
{
    (void)state;
    json_t *tasks = tasks_n(2, 0, NULL), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0 + SEC), &fx), KT_OK);
    assert_int_equal(step(tasks, ex, ev_result("tr1", 0, "SUCCESS", T0 + 2500000), &fx), KT_OK);
    json_t *orig = json_deep_copy(ex);
    json_t *out = kt_execution_present(ex, T0 + 10 * SEC);
    assert_non_null(out);
    assert_true(json_equal(orig, ex));
    assert_ptr_not_equal(out, ex);

    /* the execution: RUNNING since T0+1s, created T0 → duration CREATED..RUNNING, no endDate */
    const json_t *es = json_object_get(out, "state");
    assert_string_equal(json_string_value(json_object_get(es, "startDate")), "2023-11-14T22:13:20Z");
    assert_string_equal(json_string_value(json_object_get(es, "duration")), "PT1S");
    assert_null(json_object_get(es, "endDate"));

    /* t1: terminated, 1.5 s */
    const json_t *r1 = json_object_get(taskrun_at(out, 0), "state");
    assert_string_equal(json_string_value(json_object_get(r1, "duration")), "PT1.5S");
    assert_string_equal(json_string_value(json_object_get(r1, "startDate")), date(T0 + SEC));
    assert_string_equal(json_string_value(json_object_get(r1, "endDate")), "2023-11-14T22:13:22.500Z");
    const json_t *a1 = json_object_get(attempt_at(taskrun_at(out, 0), 0), "state");
    assert_string_equal(json_string_value(json_object_get(a1, "duration")), "PT1.5S");
    assert_string_equal(json_string_value(json_object_get(a1, "endDate")), "2023-11-14T22:13:22.500Z");

    /* t2: running, no endDate, on the run and on its attempt */
    const json_t *r2 = json_object_get(taskrun_at(out, 1), "state");
    assert_string_equal(json_string_value(json_object_get(r2, "duration")), "PT0S");
    assert_null(json_object_get(r2, "endDate"));
    const json_t *a2 = json_object_get(attempt_at(taskrun_at(out, 1), 0), "state");
    assert_non_null(json_object_get(a2, "startDate"));
    assert_null(json_object_get(a2, "endDate"));

    /* the rest of the document is untouched */
    json_t *o2 = json_deep_copy(out), *e2 = json_deep_copy(ex);
    json_object_del(o2, "state");
    json_object_del(e2, "state");
    json_object_del(o2, "taskRunList");
    json_object_del(e2, "taskRunList");
    assert_true(json_equal(o2, e2));
    json_decref(o2);
    json_decref(e2);
    json_decref(out);
    json_decref(orig);

    /* an execution without task runs */
    json_t *fresh = new_exec();
    out = kt_execution_present(fresh, T0 + 2 * SEC);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "state"), "duration")), "PT2S");
    assert_null(json_object_get(out, "taskRunList"));
    json_decref(out);
    json_decref(fresh);
    json_decref(ex);
    json_decref(tasks);
}

/* ---- the model: states, executions, task runs, labels -------------------------------------------- */

static void test_state_predicates(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int terminated, running, valid;
    } cases[] = {
        {"CREATED", 0, 0, 1},  {"RUNNING", 0, 1, 1},   {"PAUSED", 0, 0, 1},   {"RESTARTED", 0, 0, 1},
        {"KILLING", 0, 1, 1},  {"SUCCESS", 1, 0, 1},   {"WARNING", 1, 0, 1},  {"FAILED", 1, 0, 1},
        {"KILLED", 1, 0, 1},   {"CANCELLED", 1, 0, 1}, {"QUEUED", 0, 0, 1},   {"RETRYING", 0, 0, 1},
        {"RETRIED", 1, 0, 1},  {"SKIPPED", 1, 0, 1},   {"success", 0, 0, 0},  {"", 0, 0, 0},
        {"SUCCESSFUL", 0, 0, 0}, {NULL, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *s = cases[i].s;
        if (!!kt_state_is_terminated(s) != cases[i].terminated || !!kt_state_is_running(s) != cases[i].running ||
            !!kt_state_is_valid(s) != cases[i].valid)
            fail_msg("state %s: terminated %d running %d valid %d", s ? s : "(null)", kt_state_is_terminated(s),
                     kt_state_is_running(s), kt_state_is_valid(s));
    }
}

static void test_state_new_and_set(void **state)
{
    (void)state;
    json_t *st = kt_state_new("CREATED", T0);
    json_t *want = parse("{\"current\":\"CREATED\",\"histories\":[{\"state\":\"CREATED\",\"date\":\"2023-11-14T22:13:20Z\"}]}");
    assert_true(json_equal(st, want));
    json_decref(want);
    kt_state_set(st, "RUNNING", T0 + 1234);
    kt_state_set(st, "RUNNING", T0 + 5 * SEC); /* withState(current): no new entry */
    kt_state_set(st, "SUCCESS", T0 + 2 * SEC + 500000);
    want = parse("{\"current\":\"SUCCESS\",\"histories\":[{\"state\":\"CREATED\",\"date\":\"2023-11-14T22:13:20Z\"},"
                 "{\"state\":\"RUNNING\",\"date\":\"2023-11-14T22:13:20.001Z\"},"  /* milliseconds, as Kestra stores them */
                 "{\"state\":\"SUCCESS\",\"date\":\"2023-11-14T22:13:22.500Z\"}]}");
    assert_true(json_equal(st, want));
    json_decref(want);
    json_t *holder = json_pack("{s:O}", "state", st);
    assert_string_equal(kt_state_current(holder), "SUCCESS");
    assert_null(kt_state_current(json_object_get(holder, "nothing")));
    json_decref(holder);
    json_decref(st);
}

static void test_execution_new(void **state)
{
    (void)state;
    json_t *flow_labels = parse("[{\"key\":\"team\",\"value\":\"data\"},{\"key\":\"system.readOnly\",\"value\":\"true\"},"
                                "{\"key\":\"systematic\",\"value\":\"x\"}]");
    json_t *labels = parse("[{\"key\":\"env\",\"value\":\"prod\"}]");
    json_t *inputs = parse("{\"user\":\"Ada\",\"n\":3}");
    json_t *ex = kt_execution_new("ex42", "company.team", "hello", 7, inputs, flow_labels, labels, T0);
    json_t *want = parse(
        "{\"id\":\"ex42\",\"namespace\":\"company.team\",\"flowId\":\"hello\",\"flowRevision\":7,"
        "\"inputs\":{\"user\":\"Ada\",\"n\":3},"
        "\"labels\":[{\"key\":\"team\",\"value\":\"data\"},{\"key\":\"systematic\",\"value\":\"x\"},"
        "{\"key\":\"env\",\"value\":\"prod\"},{\"key\":\"system.correlationId\",\"value\":\"ex42\"}],"
        "\"state\":{\"current\":\"CREATED\",\"histories\":[{\"state\":\"CREATED\",\"date\":\"2023-11-14T22:13:20Z\"}]},"
        "\"originalId\":\"ex42\",\"deleted\":false,"
        "\"metadata\":{\"attemptNumber\":1,\"originalCreatedDate\":\"2023-11-14T22:13:20Z\"}}");
    if (!json_equal(ex, want)) {
        char *got = json_dumps(ex, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("kt_execution_new: %s", got);
    }
    /* the caller keeps its references */
    assert_int_equal(inputs->refcount, 2);
    json_decref(ex);
    assert_int_equal(inputs->refcount, 1);
    json_decref(want);
    json_decref(inputs);
    json_decref(labels);
    json_decref(flow_labels);
}

static void test_execution_new_variants(void **state)
{
    (void)state;
    /* empty inputs are omitted; no labels at all still gives system.correlationId */
    json_t *empty = json_object();
    json_t *ex = kt_execution_new("e1", "ns", "f", 1, empty, NULL, NULL, T0);
    assert_null(json_object_get(ex, "inputs"));
    assert_null(json_object_get(ex, "taskRunList"));
    json_t *want = parse("[{\"key\":\"system.correlationId\",\"value\":\"e1\"}]");
    assert_true(json_equal(json_object_get(ex, "labels"), want));
    json_decref(want);
    json_decref(ex);
    ex = kt_execution_new("e1b", "ns", "f", 1, NULL, NULL, NULL, T0);
    assert_null(json_object_get(ex, "inputs"));
    json_decref(ex);
    json_decref(empty);

    /* a given system.correlationId is kept and not appended again (a subflow inherits its parent's) */
    json_t *labels = parse("[{\"key\":\"system.correlationId\",\"value\":\"parent\"},{\"key\":\"a\",\"value\":\"b\"}]");
    ex = kt_execution_new("e2", "ns", "f", 1, NULL, NULL, labels, T0);
    assert_true(json_equal(json_object_get(ex, "labels"), labels));
    json_decref(ex);
    json_decref(labels);

    /* flow labels in map form; system.* ones are dropped, even system.correlationId */
    json_t *fl = parse("{\"team\":\"data\",\"system.correlationId\":\"nope\",\"level\":3}");
    ex = kt_execution_new("e3", "ns", "f", 1, NULL, fl, NULL, T0);
    want = parse("[{\"key\":\"team\",\"value\":\"data\"},{\"key\":\"level\",\"value\":\"3\"},"
                 "{\"key\":\"system.correlationId\",\"value\":\"e3\"}]");
    if (!json_equal(json_object_get(ex, "labels"), want)) {
        char *got = json_dumps(json_object_get(ex, "labels"), JSON_COMPACT);
        fail_msg("labels %s", got);
    }
    assert_string_equal(json_string_value(json_object_get(ex, "originalId")), "e3");
    assert_true(json_is_false(json_object_get(ex, "deleted")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ex, "metadata"), "attemptNumber")), 1);
    json_decref(want);
    json_decref(ex);
    json_decref(fl);
}

static void test_labels_normalize(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want, *err_prefix;
    } cases[] = {
        {"[]", "[]", NULL},
        {"null", "[]", NULL},
        {"[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"b\",\"value\":\"2\"}]",
         "[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"b\",\"value\":\"2\"}]", NULL},
        /* extra fields of a list entry are dropped */
        {"[{\"key\":\"a\",\"value\":\"1\",\"x\":true}]", "[{\"key\":\"a\",\"value\":\"1\"}]", NULL},
        {"{}", "[]", NULL},
        {"{\"a\":\"x\",\"n\":42,\"r\":1.5,\"t\":true,\"f\":false,\"neg\":-3}",
         "[{\"key\":\"a\",\"value\":\"x\"},{\"key\":\"n\",\"value\":\"42\"},{\"key\":\"r\",\"value\":\"1.5\"},"
         "{\"key\":\"t\",\"value\":\"true\"},{\"key\":\"f\",\"value\":\"false\"},{\"key\":\"neg\",\"value\":\"-3\"}]",
         NULL},
        {"{\"a\":\"x\",\"bad\":{\"x\":1}}", NULL, "Unsupported type for key: bad, value: "},
        {"{\"lst\":[1,2]}", NULL, "Unsupported type for key: lst, value: "},
        {"{\"nul\":null}", NULL, "Unsupported type for key: nul, value: "},
        {"[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"b\"}]", NULL, "labels[1]"},
        {"[{\"key\":\"a\",\"value\":2}]", NULL, "labels[0]"},
        {"[\"a\"]", NULL, "labels[0]"},
        {"\"a=b\"", NULL, "labels must be"},
        {"7", NULL, "labels must be"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *in = parse(cases[i].in);
        char err[256] = "";
        json_t *out = kt_labels_normalize(in, err, sizeof err);
        if (cases[i].want) {
            json_t *want = parse(cases[i].want);
            if (!out || !json_equal(out, want)) {
                char *got = out ? json_dumps(out, JSON_COMPACT) : NULL;
                fail_msg("case %zu %s: got %s (err %s)", i, cases[i].in, got ? got : "NULL", err);
            }
            json_decref(want);
        } else {
            if (out)
                fail_msg("case %zu %s: accepted", i, cases[i].in);
            if (strncmp(err, cases[i].err_prefix, strlen(cases[i].err_prefix)))
                fail_msg("case %zu %s: err '%s', want prefix '%s'", i, cases[i].in, err, cases[i].err_prefix);
        }
        json_decref(out);
        json_decref(in);
    }
    /* NULL is an empty list */
    char err[8];
    json_t *out = kt_labels_normalize(NULL, err, sizeof err);
    assert_true(json_is_array(out));
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
}

static void test_taskrun_add_find(void **state)
{
    (void)state;
    json_t *ex = new_exec();
    assert_null(kt_taskrun_find(ex, "a"));
    json_t *a = kt_taskrun_add(ex, "a", "t1", NULL, NULL, T0);
    json_t *b = kt_taskrun_add(ex, "b", "child", "a", "v1", T0 + SEC);
    json_t *c = kt_taskrun_add(ex, "c", "child", "a", "v2", T0 + 2 * SEC);
    assert_int_equal(nruns(ex), 3);
    assert_ptr_equal(taskrun_at(ex, 0), a);
    json_t *want = parse("{\"id\":\"b\",\"executionId\":\"ex1\",\"namespace\":\"company.team\",\"flowId\":\"flow\","
                         "\"taskId\":\"child\",\"parentTaskRunId\":\"a\",\"value\":\"v1\",\"outputs\":null,"
                         "\"state\":{\"current\":\"CREATED\",\"histories\":[{\"state\":\"CREATED\","
                         "\"date\":\"2023-11-14T22:13:21Z\"}]}}");
    assert_true(json_equal(b, want));
    json_decref(want);
    assert_null(json_object_get(a, "parentTaskRunId"));
    assert_null(json_object_get(a, "value"));
    assert_null(json_object_get(a, "attempts"));
    assert_int_equal(kt_taskrun_attempts(a), 0);

    static const char *const ids[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++) {
        size_t idx = 99;
        json_t *tr = kt_taskrun_find_at(ex, ids[i], &idx);
        assert_ptr_equal(tr, taskrun_at(ex, i));
        assert_int_equal(idx, i);
        assert_ptr_equal(kt_taskrun_find(ex, ids[i]), tr);
    }
    assert_ptr_equal(kt_taskrun_find(ex, "c"), c);
    size_t idx = 99;
    assert_null(kt_taskrun_find_at(ex, "zz", &idx));
    assert_int_equal(idx, 99);
    assert_null(kt_taskrun_find(ex, ""));
    json_decref(ex);
}

/* Task runs of a flowable (with parentTaskRunId) are not top-level: they neither count as the run of a top-level
 * task with the same id nor decide the final state. */
static void test_child_runs_ignored_by_sequence(void **state)
{
    (void)state;
    json_t *tasks = tasks_n(2, 0, NULL), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    /* a FAILED child run named like t2 */
    json_t *child = kt_taskrun_add(ex, "child", "t2", "tr1", NULL, T0);
    kt_state_set(json_object_get(child, "state"), "FAILED", T0);
    assert_int_equal(step(tasks, ex, ev_result("tr1", 0, "SUCCESS", T0 + SEC), &fx), KT_OK);
    check_dispatch(&fx, "tr2", "t2", 0);
    assert_int_equal(step(tasks, ex, ev_result("tr2", 0, "SUCCESS", T0 + 2 * SEC), &fx), KT_OK);
    assert_int_equal(fx.ended, 1);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_decref(ex);
    json_decref(tasks);
}

/* ---- retries (KESTRA-model.md §5) and flowables --------------------------------------------------- */

static kt_exec_event ev_retry(const char *trid, int64_t now)
{
    kt_exec_event ev = {.kind = KT_EV_RETRY, .now_us = now, .taskrun_id = trid};
    return ev;
}

static void test_retry_constant(void **state)
{
    (void)state;
    json_t *tasks = tasks_n(2, 1, "{\"retry\":{\"type\":\"constant\",\"interval\":\"PT2S\",\"maxAttempt\":3}}");
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    for (uint32_t a = 0; a < 2; a++) {
        int64_t end = T0 + (int64_t)(a * 3 + 1) * SEC;
        assert_int_equal(step(tasks, ex, ev_result("tr1", a, "FAILED", end), &fx), KT_OK);
        assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "RETRYING");
        assert_string_equal(kt_state_current(ex), "RETRYING");
        assert_int_equal(fx.ndispatch, 0);
        assert_int_equal(fx.ntimers, 1);
        assert_string_equal(fx.timers[0].taskrun_id, "tr1");
        assert_int_equal(fx.timers[0].at_us, end + 2 * SEC); /* base = end of the last attempt */
        assert_int_equal(step(tasks, ex, ev_retry("tr1", end + 2 * SEC), &fx), KT_OK);
        check_dispatch(&fx, "tr1", "t1", a + 1);
        assert_string_equal(kt_state_current(ex), "RUNNING");
    }
    /* third failure: maxAttempt reached, the execution fails and t2 never runs */
    assert_int_equal(step(tasks, ex, ev_result("tr1", 2, "FAILED", T0 + 10 * SEC), &fx), KT_OK);
    assert_int_equal(fx.ntimers, 0);
    assert_int_equal(fx.ended, 1);
    assert_string_equal(kt_state_current(ex), "FAILED");
    assert_int_equal(json_array_size(json_object_get(taskrun_at(ex, 0), "attempts")), 3);
    assert_int_equal(nruns(ex), 1);
    /* Kestra's history for a top-level task's own policy: FAILED then RETRYING at each failure */
    check_state(ex, "CREATED,RUNNING,FAILED,RETRYING,RUNNING,FAILED,RETRYING,RUNNING,FAILED", NULL);
    json_decref(ex);
    json_decref(tasks);
}

static void test_retry_warning_and_expo(void **state)
{
    (void)state;
    /* exponential: the first retry is immediate, then interval x 2 x (n - 1), capped by maxInterval */
    json_t *tasks = tasks_n(1, 1, "{\"retry\":{\"type\":\"exponential\",\"interval\":\"PT1S\","
                                  "\"maxInterval\":\"PT3S\",\"maxAttempt\":5,\"warningOnRetry\":true}}");
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    int64_t want[] = {0, 2 * SEC, 3 * SEC};
    int64_t now = T0;
    for (uint32_t a = 0; a < 3; a++) {
        now += SEC;
        assert_int_equal(step(tasks, ex, ev_result("tr1", a, "FAILED", now), &fx), KT_OK);
        assert_int_equal(fx.ntimers, 1);
        assert_int_equal(fx.timers[0].at_us - now, want[a]);
        assert_int_equal(step(tasks, ex, ev_retry("tr1", fx.timers[0].at_us), &fx), KT_OK);
    }
    /* success on the 4th attempt, warningOnRetry: WARNING */
    assert_int_equal(step(tasks, ex, ev_result("tr1", 3, "SUCCESS", now + 5 * SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "WARNING");
    assert_string_equal(kt_state_current(ex), "WARNING");
    /* a RETRY for a run that is not retrying is stale */
    assert_int_equal(step(tasks, ex, ev_retry("tr1", now + 6 * SEC), &fx), KT_OK);
    assert_int_equal(fx.stale, 1);
    json_decref(ex);
    json_decref(tasks);
}

/* Sequential with an errors branch, then Parallel and If: children, parents' states, errors (§2.18 examples). */
static void test_flowables(void **state)
{
    (void)state;
    json_t *tasks = parse("[{\"id\":\"s\",\"type\":\"io.kestra.plugin.core.flow.Sequential\","
                          "\"tasks\":[{\"id\":\"x\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}],"
                          "\"errors\":[{\"id\":\"h\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}]},"
                          "{\"id\":\"c\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}]");
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    /* s RUNNING (a flowable: no attempt), x dispatched under it */
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "RUNNING");
    assert_null(json_object_get(taskrun_at(ex, 0), "attempts"));
    check_dispatch(&fx, "tr2", "x", 0);
    assert_string_equal(json_string_value(json_object_get(taskrun_at(ex, 1), "parentTaskRunId")), "tr1");
    assert_int_equal(step(tasks, ex, ev_result("tr2", 0, "FAILED", T0 + SEC), &fx), KT_OK);
    check_dispatch(&fx, "tr3", "h", 0); /* the errors branch */
    assert_int_equal(step(tasks, ex, ev_result("tr3", 0, "SUCCESS", T0 + 2 * SEC), &fx), KT_OK);
    /* s FAILED (guessFinalState over its tasks, not its errors), c never created, execution FAILED */
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "FAILED");
    assert_int_equal(nruns(ex), 3);
    assert_string_equal(kt_state_current(ex), "FAILED");
    json_decref(ex);
    json_decref(tasks);

    tasks = parse("[{\"id\":\"p\",\"type\":\"io.kestra.plugin.core.flow.Parallel\",\"tasks\":["
                  "{\"id\":\"a\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"},"
                  "{\"id\":\"b\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}]},"
                  "{\"id\":\"i\",\"type\":\"io.kestra.plugin.core.flow.If\",\"condition\":\"{{ 1 == 2 }}\","
                  "\"then\":[{\"id\":\"y\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}],"
                  "\"else\":[{\"id\":\"n\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}]}]");
    g_ids = 0;
    ex = new_exec();
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(fx.ndispatch, 2); /* both branches at once */
    assert_int_equal(step(tasks, ex, ev_result("tr3", 0, "SUCCESS", T0 + SEC), &fx), KT_OK);
    assert_int_equal(fx.ndispatch, 0);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "RUNNING");
    assert_int_equal(step(tasks, ex, ev_result("tr2", 0, "SUCCESS", T0 + SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "SUCCESS");
    /* the If: condition false, else branch; its outputs hold evaluationResult */
    json_t *ifrun = taskrun_at(ex, 3);
    assert_string_equal(json_string_value(json_object_get(ifrun, "taskId")), "i");
    assert_true(json_is_false(json_object_get(json_object_get(ifrun, "outputs"), "evaluationResult")));
    check_dispatch(&fx, "tr5", "n", 0);
    assert_int_equal(step(tasks, ex, ev_result("tr5", 0, "SUCCESS", T0 + 2 * SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    assert_int_equal(nruns(ex), 5);
    json_decref(ex);
    json_decref(tasks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_retry_constant, reset_ids),
        cmocka_unit_test_setup(test_retry_warning_and_expo, reset_ids),
        cmocka_unit_test_setup(test_flowables, reset_ids),
        cmocka_unit_test_setup(test_start_dispatches_first_task, reset_ids),
        cmocka_unit_test_setup(test_success_chain_to_execution_success, reset_ids),
        cmocka_unit_test_setup(test_result_dates, reset_ids),
        cmocka_unit_test_setup(test_empty_flow, reset_ids),
        cmocka_unit_test_setup(test_start_resume, reset_ids),
        cmocka_unit_test_setup(test_outcomes_table, reset_ids),
        cmocka_unit_test_setup(test_final_state_priority, reset_ids),
        cmocka_unit_test_setup(test_failed_first_task, reset_ids),
        cmocka_unit_test_setup(test_stale_table, reset_ids),
        cmocka_unit_test_setup(test_unknown_taskrun, reset_ids),
        cmocka_unit_test_setup(test_invalid_result_state, reset_ids),
        cmocka_unit_test_setup(test_execution_without_state, reset_ids),
        cmocka_unit_test_setup(test_lost_new_attempt, reset_ids),
        cmocka_unit_test_setup(test_hundred_tasks, reset_ids),
        cmocka_unit_test_setup(test_child_runs_ignored_by_sequence, reset_ids),
        cmocka_unit_test(test_state_present_table),
        cmocka_unit_test(test_state_present_recomputes),
        cmocka_unit_test_setup(test_execution_present, reset_ids),
        cmocka_unit_test(test_state_predicates),
        cmocka_unit_test(test_state_new_and_set),
        cmocka_unit_test(test_execution_new),
        cmocka_unit_test(test_execution_new_variants),
        cmocka_unit_test(test_labels_normalize),
        cmocka_unit_test(test_taskrun_add_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
