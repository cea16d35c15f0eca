/* The executor's state machine and WaitFor (KESTRA-model.md §6.1): iterationCount, the condition after each
 * iteration, the PAUSED interval and its timer, the next iteration (children removed, `iteration` + 1),
 * maxIterations with failOnMaxReached, and the timer armed again after a restart. */
#include "step_fixture.h"

static const char *const WF_RETURN =
    "[{\"id\":\"wf\",\"type\":\"io.kestra.plugin.core.flow.WaitFor\","
    "\"condition\":\"{{ outputs.ret.value == '3' }}\",\"checkFrequency\":{\"interval\":\"PT2S\"%s},%s"
    "\"tasks\":[{\"id\":\"ret\",\"type\":\"io.kestra.plugin.core.debug.Return\","
    "\"format\":\"{{ outputs.wf.iterationCount }}\"}]}]";

static json_t *waitfor_tasks(const char *freq, const char *extra)
{
    char buf[1024];
    snprintf(buf, sizeof buf, WF_RETURN, freq, extra);
    return parse(buf);
}

static kt_exec_event ev_value(const char *trid, const char *value, int64_t now, json_t **hold)
{
    *hold = json_pack("{s:s}", "value", value);
    kt_exec_event ev = ev_result(trid, 0, "SUCCESS", now);
    ev.outputs = *hold;
    return ev;
}

static const json_t *run_of(const json_t *ex, const char *task_id)
{
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr)
        if (!strcmp(json_string_value(json_object_get(tr, "taskId")), task_id))
            return tr;
    return NULL;
}

static json_int_t count_of(const json_t *run)
{
    return json_integer_value(json_object_get(json_object_get(run, "outputs"), "iterationCount"));
}

static void test_waitfor_loops_until_condition(void **state)
{
    (void)state;
    json_t *tasks = waitfor_tasks("", ""), *hold = NULL;
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    const json_t *wf = run_of(ex, "wf");
    assert_string_equal(kt_state_current(wf), "RUNNING");
    assert_int_equal(count_of(wf), 1);
    check_dispatch(&fx, "tr2", "ret", 0);
    assert_int_equal(json_integer_value(json_object_get(run_of(ex, "ret"), "iteration")), 1);

    /* the first iteration's child succeeds, the condition is false: PAUSED for the interval */
    assert_int_equal(step(tasks, ex, ev_value("tr2", "1", T0 + SEC, &hold), &fx), KT_OK);
    json_decref(hold);
    assert_string_equal(kt_state_current(wf), "PAUSED");
    assert_string_equal(kt_state_current(ex), "PAUSED");
    assert_int_equal(count_of(wf), 2);
    assert_int_equal(fx.ntimers, 1);
    assert_int_equal(fx.timers[0].command, KT_CMD_RESUME_FLOW);
    assert_string_equal(fx.timers[0].taskrun_id, "tr1");
    assert_int_equal(fx.timers[0].at_us, T0 + 3 * SEC);

    /* the timer: the child is gone, the WaitFor starts its second iteration */
    kt_exec_event resume = {.kind = KT_EV_RESUME, .now_us = T0 + 3 * SEC, .taskrun_id = "tr1", .state = "RUNNING"};
    assert_int_equal(step(tasks, ex, resume, &fx), KT_OK);
    assert_int_equal(fx.touched_all, 1);
    assert_int_equal(nruns(ex), 2);
    wf = run_of(ex, "wf");
    assert_string_equal(kt_state_current(wf), "RUNNING");
    assert_string_equal(kt_state_current(ex), "RUNNING");
    assert_int_equal(json_integer_value(json_object_get(wf, "iteration")), 2);
    assert_int_equal(count_of(wf), 2);
    check_state(wf, "CREATED,RUNNING", NULL);
    check_dispatch(&fx, "tr3", "ret", 0);
    assert_int_equal(json_integer_value(json_object_get(run_of(ex, "ret"), "iteration")), 2);

    assert_int_equal(step(tasks, ex, ev_value("tr3", "3", T0 + 4 * SEC, &hold), &fx), KT_OK);
    json_decref(hold);
    assert_string_equal(kt_state_current(wf), "SUCCESS");
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    assert_int_equal(count_of(wf), 3);
    json_decref(ex);
    json_decref(tasks);
}

static void test_waitfor_max_iterations(void **state)
{
    (void)state;
    json_t *tasks = waitfor_tasks(",\"maxIterations\":1", "\"failOnMaxReached\":true,"), *hold = NULL;
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(step(tasks, ex, ev_value("tr2", "1", T0 + SEC, &hold), &fx), KT_OK);
    json_decref(hold);
    assert_int_equal(fx.ntimers, 0);
    assert_string_equal(kt_state_current(run_of(ex, "wf")), "FAILED");
    assert_string_equal(kt_state_current(ex), "FAILED");
    int warned = 0;
    for (size_t i = 0; i < fx.nlogs; i++)
        warned |= !strcmp(fx.logs[i].message, "Max iterations reached") && !strcmp(fx.logs[i].level, "WARN");
    assert_true(warned);
    json_decref(ex);
    json_decref(tasks);

    /* without failOnMaxReached the run ends from its children */
    tasks = waitfor_tasks(",\"maxIterations\":1", "");
    ex = new_exec();
    reset_ids(NULL);
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(step(tasks, ex, ev_value("tr2", "1", T0 + SEC, &hold), &fx), KT_OK);
    json_decref(hold);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_decref(ex);
    json_decref(tasks);
}

/* maxDuration counts from the run's first state, kept across iterations. */
static void test_waitfor_max_duration(void **state)
{
    (void)state;
    json_t *tasks = waitfor_tasks(",\"maxDuration\":\"PT5S\"", "\"failOnMaxReached\":true,"), *hold = NULL;
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(step(tasks, ex, ev_value("tr2", "1", T0 + SEC, &hold), &fx), KT_OK);
    json_decref(hold);
    kt_exec_event resume = {.kind = KT_EV_RESUME, .now_us = T0 + 3 * SEC, .taskrun_id = "tr1", .state = "RUNNING"};
    assert_int_equal(step(tasks, ex, resume, &fx), KT_OK);
    assert_int_equal(step(tasks, ex, ev_value("tr3", "1", T0 + 6 * SEC, &hold), &fx), KT_OK);
    json_decref(hold);
    assert_string_equal(kt_state_current(ex), "FAILED");
    json_decref(ex);
    json_decref(tasks);
}

/* A restart while the WaitFor waits: its interval timer is armed again from the date it paused. The next iteration
 * removes the direct children only (ExecutionService.retryWaitFor): a nested run stays, under a parent that is gone. */
static void test_waitfor_restart_and_nested(void **state)
{
    (void)state;
    json_t *tasks = parse("[{\"id\":\"wf\",\"type\":\"io.kestra.plugin.core.flow.WaitFor\",\"condition\":\"false\","
                          "\"tasks\":[{\"id\":\"seq\",\"type\":\"io.kestra.plugin.core.flow.Sequential\",\"tasks\":["
                          "{\"id\":\"log\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}]}]}]");
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(nruns(ex), 3);
    assert_int_equal(step(tasks, ex, ev_result("tr3", 0, "SUCCESS", T0 + SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "PAUSED");
    assert_int_equal(fx.timers[0].at_us, T0 + 2 * SEC); /* the default interval, PT1S */
    assert_int_equal(step(tasks, ex, ev_start(T0 + 10 * SEC), &fx), KT_OK);
    assert_int_equal(fx.ntimers, 1);
    assert_int_equal(fx.timers[0].at_us, T0 + 2 * SEC);
    assert_int_equal(fx.timers[0].iteration, 1);
    kt_exec_event resume = {.kind = KT_EV_RESUME, .now_us = T0 + 10 * SEC, .taskrun_id = "tr1", .state = "RUNNING"};
    assert_int_equal(step(tasks, ex, resume, &fx), KT_OK);
    assert_int_equal(nruns(ex), 4); /* wf, the old log (orphaned), the new seq and log: the old seq is gone */
    assert_string_equal(json_string_value(json_object_get(run_of(ex, "seq"), "id")), "tr4");
    const json_t *runs = json_object_get(ex, "taskRunList");
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 1), "id")), "tr3");
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 1), "parentTaskRunId")), "tr2");
    assert_string_equal(kt_state_current(json_array_get(runs, 1)), "SUCCESS");
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 3), "id")), "tr5");
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 3), "parentTaskRunId")), "tr4");
    /* the orphan is no child of the new seq: the new log runs, and the iteration ends from it */
    assert_int_equal(step(tasks, ex, ev_result("tr5", 0, "SUCCESS", T0 + 11 * SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "PAUSED");
    assert_int_equal(fx.ntimers, 1);
    assert_int_equal(fx.timers[0].iteration, 2);
    json_decref(ex);
    json_decref(tasks);
}

/* An interval timer is tied to its iteration: after the API resumed the first wait early, its timer (iteration 1)
 * firing during the second wait is stale; the second wait's own timer (iteration 2) starts the third iteration. */
static void test_waitfor_stale_interval_timer(void **state)
{
    (void)state;
    json_t *tasks = waitfor_tasks(",\"interval\":\"PT10S\"", ""), *hold = NULL;
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(step(tasks, ex, ev_value("tr2", "1", T0 + SEC, &hold), &fx), KT_OK);
    json_decref(hold);
    assert_int_equal(fx.ntimers, 1);
    assert_int_equal(fx.timers[0].iteration, 1);
    /* the API resumes it at once (no iteration: any wait) */
    kt_exec_event api = {.kind = KT_EV_RESUME, .now_us = T0 + 2 * SEC, .taskrun_id = NULL, .state = "RUNNING"};
    assert_int_equal(step(tasks, ex, api, &fx), KT_OK);
    assert_int_equal(json_integer_value(json_object_get(run_of(ex, "wf"), "iteration")), 2);
    assert_int_equal(step(tasks, ex, ev_value("tr3", "2", T0 + 3 * SEC, &hold), &fx), KT_OK);
    json_decref(hold);
    assert_string_equal(kt_state_current(run_of(ex, "wf")), "PAUSED");
    assert_int_equal(fx.ntimers, 1);
    assert_int_equal(fx.timers[0].iteration, 2);
    assert_int_equal(fx.timers[0].at_us, T0 + 13 * SEC);
    /* the first wait's timer fires at T0 + 11s: stale, the second wait goes on */
    kt_exec_event old = {.kind = KT_EV_RESUME, .now_us = T0 + 11 * SEC, .taskrun_id = "tr1", .state = "RUNNING",
                         .iteration = 1};
    assert_int_equal(step(tasks, ex, old, &fx), KT_OK);
    assert_int_equal(fx.stale, 1);
    assert_string_equal(kt_state_current(run_of(ex, "wf")), "PAUSED");
    assert_string_equal(kt_state_current(ex), "PAUSED");
    assert_int_equal(json_integer_value(json_object_get(run_of(ex, "wf"), "iteration")), 2);
    assert_int_equal(fx.ndispatch, 0);
    /* its own timer starts the third iteration */
    kt_exec_event own = {.kind = KT_EV_RESUME, .now_us = T0 + 13 * SEC, .taskrun_id = "tr1", .state = "RUNNING",
                         .iteration = 2};
    assert_int_equal(step(tasks, ex, own, &fx), KT_OK);
    assert_int_equal(fx.stale, 0);
    assert_int_equal(json_integer_value(json_object_get(run_of(ex, "wf"), "iteration")), 3);
    assert_string_equal(kt_state_current(ex), "RUNNING");
    check_dispatch(&fx, "tr4", "ret", 0);
    json_decref(ex);
    json_decref(tasks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_waitfor_loops_until_condition, reset_ids),
        cmocka_unit_test_setup(test_waitfor_max_iterations, reset_ids),
        cmocka_unit_test_setup(test_waitfor_max_duration, reset_ids),
        cmocka_unit_test_setup(test_waitfor_restart_and_nested, reset_ids),
        cmocka_unit_test_setup(test_waitfor_stale_interval_timer, reset_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
