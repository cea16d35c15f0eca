/* The executor's pure state machine (actors/executor/step.h), driven event by event: the sequential path,
 * task outcomes and the final state, stale events, errors, LOST workers, scale, and how a stepped execution is
 * presented. Retries and flowables have their own files (test_step_retry.c, test_step_flowables.c). */
#include "step_fixture.h"

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

/* ---- presentation of a stepped execution ------------------------------------------------------- */

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

/* Labels given as a string: read as a JSON object, or the task fails saying why (it was dropped silently). */
static void test_labels_from_string(void **state)
{
    (void)state;
    json_t *tasks = parse("[{\"id\":\"l\",\"type\":\"io.kestra.plugin.core.execution.Labels\","
                          "\"labels\":\"{\\\"team\\\":\\\"{{ 'data' }}\\\"}\"}]");
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "SUCCESS");
    json_t *label = json_array_get(json_object_get(ex, "labels"), json_array_size(json_object_get(ex, "labels")) - 1);
    assert_string_equal(json_string_value(json_object_get(label, "key")), "team");
    assert_string_equal(json_string_value(json_object_get(label, "value")), "data");
    json_decref(ex);
    json_decref(tasks);

    tasks = parse("[{\"id\":\"l\",\"type\":\"io.kestra.plugin.core.execution.Labels\",\"labels\":\"team=data\"}]");
    g_ids = 0;
    ex = new_exec();
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "FAILED");
    assert_int_equal(fx.nlogs, 1);
    assert_non_null(strstr(fx.logs[0].message, "'team=data'"));
    assert_string_equal(kt_state_current(ex), "FAILED");
    json_decref(ex);
    json_decref(tasks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_labels_from_string, reset_ids),
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
        cmocka_unit_test_setup(test_execution_present, reset_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
