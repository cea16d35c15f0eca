/* The executor's state machine and flowables (KESTRA-model.md §2.18): children under their parent, the parents'
 * states, errors branches, Parallel and If; and child runs that the top-level sequence ignores. */
#include "step_fixture.h"

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

/* A loop whose values draw now() and uuid() settles: the values render the same on every pass and every event
 * (the loop run's creation date and id seed them), so the loop makes one child per value and ends. Rendered from
 * each event's environment they differed each time, and the step never settled. */
static void test_loop_values_random_settle(void **state)
{
    (void)state;
    json_t *tasks = parse("[{\"id\":\"each\",\"type\":\"io.kestra.plugin.core.flow.ForEach\","
                          "\"values\":[\"{{ uuid() }}\",\"{{ now() }}\",\"b\"],"
                          "\"tasks\":[{\"id\":\"x\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}]}]");
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fx.ndispatch, 1);
        char trid[KT_ID_LEN + 1];
        snprintf(trid, sizeof trid, "%s", fx.dispatch[0].taskrun_id);
        assert_int_equal(step(tasks, ex, ev_result(trid, 0, "SUCCESS", T0 + (i + 1) * SEC), &fx), KT_OK);
    }
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    assert_int_equal(nruns(ex), 4);
    const char *v0 = json_string_value(json_object_get(taskrun_at(ex, 1), "value"));
    assert_non_null(v0);
    assert_int_equal(strlen(v0), 36); /* a UUID */
    /* now() is the loop run's creation date, not a later event's */
    const char *v1 = json_string_value(json_object_get(taskrun_at(ex, 2), "value"));
    assert_non_null(v1);
    assert_non_null(strstr(v1, "2023-11-14T22:13:20"));
    assert_string_equal(json_string_value(json_object_get(taskrun_at(ex, 3), "value")), "b");
    json_decref(ex);
    json_decref(tasks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_flowables, reset_ids),
        cmocka_unit_test_setup(test_child_runs_ignored_by_sequence, reset_ids),
        cmocka_unit_test_setup(test_loop_values_random_settle, reset_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
