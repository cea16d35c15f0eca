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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_flowables, reset_ids),
        cmocka_unit_test_setup(test_child_runs_ignored_by_sequence, reset_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
