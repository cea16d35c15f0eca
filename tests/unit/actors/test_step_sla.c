/* The executor's state machine and flow SLAs (KESTRA-execution.md §2.17): MAX_DURATION monitors armed from the
 * execution's start (again after a restart), the deadline's check and its behaviours (FAIL ends the last run and the
 * execution FAILED and kills the rest; NONE only labels), EXECUTION_ASSERTION at each event (CANCEL before any task
 * runs; only the first violation acts), and a deadline of an SLA the revision no longer has. */
#include "step_fixture.h"

static json_t *flow_with(const char *sla_json, int ntasks)
{
    json_t *flow = json_pack("{s:s, s:s, s:o, s:o}", "id", "flow", "namespace", "company.team", "tasks",
                             tasks_n(ntasks, 0, NULL), "sla", parse(sla_json));
    return flow;
}

static int has_label(const json_t *ex, const char *k, const char *v)
{
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(ex, "labels"), i, l) if (!strcmp(json_string_value(json_object_get(l, "key")), k) &&
                                                              !strcmp(json_string_value(json_object_get(l, "value")), v))
        return 1;
    return 0;
}

static void test_max_duration_fail(void **state)
{
    (void)state;
    json_t *flow = flow_with("[{\"id\":\"max\",\"type\":\"MAX_DURATION\",\"behavior\":\"FAIL\",\"duration\":\"PT5S\","
                             "\"labels\":{\"sla\":\"late\"}}]", 2);
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step_flow(flow, ex, ev_start(T0), &fx), KT_OK);
    /* the monitor: one millisecond past start + duration, the SLA's index as its subject */
    int found = 0;
    for (size_t i = 0; i < fx.ntimers; i++)
        if (fx.timers[i].command == KT_CMD_SLA) {
            found = 1;
            assert_string_equal(fx.timers[i].taskrun_id, "0");
            assert_int_equal(fx.timers[i].at_us, T0 + 5 * SEC + 1000);
        }
    assert_true(found);
    /* early (a timer that fired before its time): nothing happens */
    kt_exec_event due = {.kind = KT_EV_SLA, .now_us = T0 + 4 * SEC, .taskrun_id = "0"};
    assert_int_equal(step_flow(flow, ex, due, &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "RUNNING");
    due.now_us = T0 + 5 * SEC + 1000;
    assert_int_equal(step_flow(flow, ex, due, &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "FAILED");
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "FAILED");
    assert_int_equal(fx.ended, 1);
    assert_int_equal(fx.killed, 1);
    assert_true(has_label(ex, "sla", "late"));
    int warned = 0, failed = 0;
    for (size_t i = 0; i < fx.nlogs; i++) {
        warned |= strstr(fx.logs[i].message, "SLA 'max' violated: execution duration of PT5.001S exceed the maximum "
                                             "duration of PT5S.") != NULL;
        failed |= !strcmp(fx.logs[i].level, "ERROR") && strstr(fx.logs[i].message, "Execution failed due to SLA 'max'");
    }
    assert_true(warned);
    assert_true(failed);
    json_decref(ex);
    json_decref(flow);
}

static void test_max_duration_rearmed_after_restart(void **state)
{
    (void)state;
    json_t *flow = flow_with("[{\"id\":\"max\",\"type\":\"MAX_DURATION\",\"behavior\":\"NONE\",\"duration\":\"PT1M\","
                             "\"labels\":[{\"key\":\"sla\",\"value\":\"late\"}]}]", 1);
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step_flow(flow, ex, ev_start(T0), &fx), KT_OK);
    /* a new process takes the execution in 30 s later: the deadline is still the first start's */
    assert_int_equal(step_flow(flow, ex, ev_start(T0 + 30 * SEC), &fx), KT_OK);
    int found = 0;
    for (size_t i = 0; i < fx.ntimers; i++)
        found |= fx.timers[i].command == KT_CMD_SLA && fx.timers[i].at_us == T0 + 60 * SEC + 1000;
    assert_true(found);
    kt_exec_event due = {.kind = KT_EV_SLA, .now_us = T0 + 61 * SEC, .taskrun_id = "0"};
    assert_int_equal(step_flow(flow, ex, due, &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "RUNNING"); /* NONE: labels only */
    assert_true(has_label(ex, "sla", "late"));
    assert_int_equal(fx.changed, 1);
    /* again: the labels are there already, nothing changes */
    size_t before = json_array_size(json_object_get(ex, "labels"));
    assert_int_equal(step_flow(flow, ex, due, &fx), KT_OK);
    assert_int_equal(json_array_size(json_object_get(ex, "labels")), before);
    assert_int_equal(fx.changed, 0);
    /* an index the revision does not have */
    kt_exec_event gone = {.kind = KT_EV_SLA, .now_us = T0 + 62 * SEC, .taskrun_id = "7"};
    assert_int_equal(step_flow(flow, ex, gone, &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "RUNNING");
    json_decref(ex);
    json_decref(flow);
}

static void test_assertion_cancel_first_only(void **state)
{
    (void)state;
    json_t *flow = flow_with("[{\"id\":\"a\",\"type\":\"EXECUTION_ASSERTION\",\"behavior\":\"CANCEL\","
                             "\"assert\":\"{{ 1 == 2 }}\"},"
                             "{\"id\":\"b\",\"type\":\"EXECUTION_ASSERTION\",\"behavior\":\"FAIL\","
                             "\"assert\":\"{{ false }}\",\"labels\":{\"x\":\"y\"}}]", 1);
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step_flow(flow, ex, ev_start(T0), &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "CANCELLED");
    assert_int_equal(nruns(ex), 0); /* checked before the first pass created any run */
    assert_int_equal(fx.ndispatch, 0);
    assert_false(has_label(ex, "x", "y")); /* the second violation is only logged */
    int logged_b = 0;
    for (size_t i = 0; i < fx.nlogs; i++)
        logged_b |= strstr(fx.logs[i].message, "SLA 'b' violated: assertion is false: {{ false }}.") != NULL;
    assert_true(logged_b);
    json_decref(ex);
    json_decref(flow);
}

static void test_assertion_true_runs(void **state)
{
    (void)state;
    json_t *flow = flow_with("[{\"id\":\"a\",\"type\":\"EXECUTION_ASSERTION\",\"behavior\":\"FAIL\","
                             "\"assert\":\"{{ execution.id == 'ex1' }}\"}]", 1);
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step_flow(flow, ex, ev_start(T0), &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "RUNNING");
    assert_int_equal(fx.ndispatch, 1);
    json_decref(ex);
    json_decref(flow);
}

/* Kestra never monitors an execution that waited for its scheduleDate (it comes back RUNNING, monitors are made for
 * CREATED ones): its start would otherwise count the wait */
static void test_scheduled_execution_not_monitored(void **state)
{
    (void)state;
    json_t *flow = flow_with("[{\"id\":\"max\",\"type\":\"MAX_DURATION\",\"behavior\":\"FAIL\",\"duration\":\"PT5S\"}]", 1);
    json_t *ex = new_exec();
    json_object_set_new(ex, "scheduleDate", json_string(date(T0 + 60 * SEC)));
    kt_exec_effects fx;
    kt_exec_event admit = {.kind = KT_EV_ADMIT, .now_us = T0};
    assert_int_equal(step_flow(flow, ex, admit, &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "CREATED"); /* waits */
    assert_int_equal(fx.ntimers, 1);
    assert_int_equal(fx.timers[0].command, KT_CMD_SCHEDULED);
    assert_int_equal(fx.timers[0].at_us, T0 + 60 * SEC);
    kt_exec_event due = {.kind = KT_EV_SCHEDULED, .now_us = T0 + 60 * SEC};
    assert_int_equal(step_flow(flow, ex, due, &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "RUNNING");
    for (size_t i = 0; i < fx.ntimers; i++)
        assert_int_not_equal(fx.timers[i].command, KT_CMD_SLA);
    json_decref(ex);
    json_decref(flow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_max_duration_fail, reset_ids),
        cmocka_unit_test_setup(test_max_duration_rearmed_after_restart, reset_ids),
        cmocka_unit_test_setup(test_assertion_cancel_first_only, reset_ids),
        cmocka_unit_test_setup(test_assertion_true_runs, reset_ids),
        cmocka_unit_test_setup(test_scheduled_execution_not_monitored, reset_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
