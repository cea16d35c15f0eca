/* The executor's state machine and retries (KESTRA-model.md §5): RETRYING, the retry timers and their
 * intervals, maxAttempt, warningOnRetry, and stale RETRY events. */
#include "step_fixture.h"

#include "actors/executor/restart.h"

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
        /* the same result told twice while RETRYING (a worker's resend): stale, no second timer or history entry */
        assert_int_equal(step(tasks, ex, ev_result("tr1", a, "FAILED", end + SEC / 10), &fx), KT_OK);
        assert_int_equal(fx.stale, 1);
        assert_int_equal(fx.ntimers, 0);
        assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "RETRYING");
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

static const char *run_id_of(const json_t *ex, const char *task_id)
{
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr)
        if (!strcmp(json_string_value(json_object_get(tr, "taskId")), task_id))
            return json_string_value(json_object_get(tr, "id"));
    return NULL;
}

/* A branch fails and retries while another waits in a Pause: the execution stays PAUSED (Kestra does not process
 * a paused execution), the retried run waits CREATED, and resuming runs it. Moving the execution to RETRYING then
 * RUNNING left a paused run that the API could no longer resume. */
static void test_retry_while_paused(void **state)
{
    (void)state;
    json_t *tasks = parse("[{\"id\":\"par\",\"type\":\"io.kestra.plugin.core.flow.Parallel\",\"tasks\":["
                          "{\"id\":\"flaky\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\","
                          "\"retry\":{\"type\":\"constant\",\"interval\":\"PT1S\",\"maxAttempt\":2}},"
                          "{\"id\":\"wait\",\"type\":\"io.kestra.plugin.core.flow.Pause\"}]}]");
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "PAUSED");
    char flaky[64];
    snprintf(flaky, sizeof flaky, "%s", run_id_of(ex, "flaky"));
    assert_int_equal(step(tasks, ex, ev_result(flaky, 0, "FAILED", T0 + SEC), &fx), KT_OK);
    assert_int_equal(fx.ntimers, 1);
    assert_string_equal(kt_state_current(ex), "PAUSED");
    assert_int_equal(step(tasks, ex, ev_retry(flaky, T0 + 2 * SEC), &fx), KT_OK);
    assert_int_equal(fx.ndispatch, 0); /* not while paused */
    assert_string_equal(kt_state_current(ex), "PAUSED");
    kt_exec_event resume = {.kind = KT_EV_RESUME, .now_us = T0 + 3 * SEC};
    assert_int_equal(step(tasks, ex, resume, &fx), KT_OK);
    check_dispatch(&fx, flaky, "flaky", 1);
    assert_int_equal(step(tasks, ex, ev_result(flaky, 1, "SUCCESS", T0 + 4 * SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_decref(ex);
    json_decref(tasks);
}

/* After a restart the executor takes a RETRYING execution in again (START): its retry is armed for the date the
 * policy gives from the stored attempts, not run at once; a date already past fires at once. */
static void test_retry_rearmed_after_restart(void **state)
{
    (void)state;
    json_t *tasks = tasks_n(1, 1, "{\"retry\":{\"type\":\"constant\",\"interval\":\"PT30S\",\"maxAttempt\":3}}");
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(step(tasks, ex, ev_result("tr1", 0, "FAILED", T0 + SEC), &fx), KT_OK);
    assert_int_equal(fx.ntimers, 1);
    int64_t due = fx.timers[0].at_us;
    assert_int_equal(due, T0 + 31 * SEC);
    /* the process restarts 5 s later: the same date, nothing run yet */
    assert_int_equal(step(tasks, ex, ev_start(T0 + 6 * SEC), &fx), KT_OK);
    assert_int_equal(fx.ntimers, 1);
    assert_string_equal(fx.timers[0].taskrun_id, "tr1");
    assert_int_equal(fx.timers[0].at_us, due);
    assert_int_equal(fx.ndispatch, 0);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "RETRYING");
    /* or a minute later: due at once */
    assert_int_equal(step(tasks, ex, ev_start(T0 + 60 * SEC), &fx), KT_OK);
    assert_int_equal(fx.ntimers, 1);
    assert_int_equal(fx.timers[0].at_us, T0 + 60 * SEC);
    assert_int_equal(step(tasks, ex, ev_retry("tr1", T0 + 60 * SEC), &fx), KT_OK);
    check_dispatch(&fx, "tr1", "t1", 1);
    json_decref(ex);
    json_decref(tasks);
}

/* CREATE_NEW_EXECUTION (§2.7): the run, its parent and the execution end RETRIED with a RETRY_FLOW timer; the replay
 * the executor makes of it counts its attempts in metadata.attemptNumber, so the third execution ends FAILED. */
static void test_retry_new_execution(void **state)
{
    (void)state;
    json_t *flow = parse("{\"tasks\":[{\"id\":\"s\",\"type\":\"io.kestra.plugin.core.flow.Sequential\",\"tasks\":["
                         "{\"id\":\"t1\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\",\"retry\":"
                         "{\"behavior\":\"CREATE_NEW_EXECUTION\",\"type\":\"constant\",\"interval\":\"PT2S\","
                         "\"maxAttempt\":3}}]}]}");
    json_t *ex = new_exec();
    kt_exec_effects fx;
    int64_t now = T0;
    for (int attempt = 1; attempt <= 3; attempt++) {
        assert_int_equal(step_flow(flow, ex, ev_start(now), &fx), KT_OK);
        assert_int_equal(fx.ndispatch, 1);
        char trid[32];
        snprintf(trid, sizeof trid, "%s", fx.dispatch[0].taskrun_id);
        now += SEC;
        assert_int_equal(step_flow(flow, ex, ev_result(trid, 0, "FAILED", now), &fx), KT_OK);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(ex, "metadata"), "attemptNumber")), attempt);
        if (attempt == 3) { /* maxAttempt reached: an ordinary failure */
            assert_string_equal(kt_state_current(ex), "FAILED");
            assert_int_equal(fx.ntimers, 0);
            break;
        }
        assert_string_equal(kt_state_current(ex), "RETRIED");
        assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "RETRIED"); /* the parent too */
        assert_string_equal(kt_state_current(taskrun_at(ex, 1)), "RETRIED");
        check_state(taskrun_at(ex, 1), "CREATED,RUNNING,FAILED,RETRIED", NULL);
        assert_int_equal(fx.ended, 1);
        assert_int_equal(fx.ntimers, 1);
        assert_int_equal(fx.timers[0].command, KT_CMD_RETRY_FLOW);
        assert_string_equal(fx.timers[0].taskrun_id, trid);
        assert_int_equal(fx.timers[0].at_us, now + 2 * SEC);
        /* a later event changes nothing: the execution has ended */
        assert_int_equal(step_flow(flow, ex, ev_result(trid, 0, "SUCCESS", now), &fx), KT_OK);
        assert_int_equal(fx.stale, 1);
        /* what the executor does when the timer comes back: replay from the start */
        kt_env env;
        kt_env_init(&env, now + 2 * SEC, 1);
        env.ids = test_idgen;
        json_t *next = NULL;
        char err[128];
        assert_int_equal(kt_exec_replay(flow, ex, NULL, 0, &env, now + 2 * SEC, &next, err, sizeof err), KT_OK);
        assert_string_equal(json_string_value(json_object_get(next, "parentId")), json_string_value(json_object_get(ex, "id")));
        assert_string_equal(json_string_value(json_object_get(next, "originalId")), "ex1");
        assert_true(json_equal(json_object_get(next, "labels"), json_object_get(ex, "labels")));
        json_decref(ex);
        ex = next;
        now += 2 * SEC;
    }
    json_decref(ex);
    json_decref(flow);
}

/* A Subflow whose child failed is retried like a runnable (flow policy): its attempt FAILED, the run and the
 * execution RETRYING, then a second attempt asks for a new child. */
static void test_retry_subflow(void **state)
{
    (void)state;
    json_t *flow = parse("{\"retry\":{\"type\":\"constant\",\"interval\":\"PT1S\",\"maxAttempt\":2},"
                         "\"tasks\":[{\"id\":\"sub\",\"type\":\"io.kestra.plugin.core.flow.Subflow\","
                         "\"namespace\":\"company.team\",\"flowId\":\"child\"}]}");
    json_t *ex = new_exec();
    kt_exec_effects fx;
    for (int attempt = 1; attempt <= 2; attempt++) {
        int64_t t = T0 + attempt * 10 * SEC;
        if (attempt == 1)
            assert_int_equal(step_flow(flow, ex, ev_start(t), &fx), KT_OK);
        else
            assert_int_equal(step_flow(flow, ex, ev_retry("tr1", t), &fx), KT_OK);
        assert_int_equal(fx.nsubflows, 1);
        json_decref(fx.subflows[0].spec);
        json_t *tr = taskrun_at(ex, 0);
        assert_string_equal(kt_state_current(tr), "RUNNING");
        assert_int_equal(json_array_size(json_object_get(tr, "attempts")), (size_t)attempt);
        char cid[16];
        snprintf(cid, sizeof cid, "child%d", attempt);
        json_t *child = kt_execution_new(cid, "company.team", "child", 1, NULL, NULL, NULL, t);
        kt_exec_event created = {.kind = KT_EV_CHILD_CREATED, .now_us = t + SEC, .taskrun_id = "tr1", .child = child};
        assert_int_equal(step_flow(flow, ex, created, &fx), KT_OK);
        assert_int_equal(fx.stale, 0); /* the new child is recorded, though the run knew another one */
        json_t *out = json_pack("{s:s, s:s, s:{}}", "executionId", cid, "state", "FAILED", "outputs");
        kt_exec_event ended = {.kind = KT_EV_SUBFLOW, .now_us = t + 2 * SEC, .taskrun_id = "tr1", .state = "FAILED",
                               .outputs = out};
        assert_int_equal(step_flow(flow, ex, ended, &fx), KT_OK);
        json_decref(out);
        json_decref(child);
        assert_string_equal(kt_state_current(attempt_at(tr, (size_t)attempt - 1)), "FAILED");
        if (attempt == 2)
            break;
        assert_string_equal(kt_state_current(tr), "RETRYING");
        assert_string_equal(kt_state_current(ex), "RETRYING");
        assert_int_equal(fx.ntimers, 1);
        assert_int_equal(fx.timers[0].command, KT_CMD_RETRY);
    }
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "FAILED");
    assert_string_equal(kt_state_current(ex), "FAILED");
    assert_int_equal(json_array_size(json_object_get(taskrun_at(ex, 0), "attempts")), 2);
    json_decref(ex);
    json_decref(flow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_retry_constant, reset_ids),
        cmocka_unit_test_setup(test_retry_warning_and_expo, reset_ids),
        cmocka_unit_test_setup(test_retry_while_paused, reset_ids),
        cmocka_unit_test_setup(test_retry_rearmed_after_restart, reset_ids),
        cmocka_unit_test_setup(test_retry_new_execution, reset_ids),
        cmocka_unit_test_setup(test_retry_subflow, reset_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
