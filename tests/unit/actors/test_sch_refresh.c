/* A Schedule trigger whose row could not be written before its evaluation (kt_sch_refresh: a lock whose execution
 * ended is released first) is evaluated again later, as when its row could not be read: a store that fails for a
 * moment (PostgreSQL restarting, a connection lost) must not leave the trigger unarmed, locked for ever. Real SQLite
 * store; a second connection makes it refuse the trigger rows' updates, then accept them again. The same for the
 * release of the lock when the execution holding it ends. */

#include "tests/unit/actors/sch_world.h"
#include "base/log.h"

static const char *FLOW = "id: f\nnamespace: a.b\n"
                          "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                          "triggers:\n"
                          "  - id: daily\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: \"0 0 * * *\"\n";

static json_t *row_of(kt_store *st)
{
    json_t *row = NULL;
    assert_int_equal(kt_store_trigger_get(st, "a.b", "f", "daily", &row), KT_OK);
    return row;
}

static void test_refresh_failure_evaluated_again(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"f", FLOW, NULL};
    sch_world_start(&w, flows); /* the row, armed for its next tick */
    kt_store *st = w.st;
    kt_scheduler *s = w.s;

    /* locked by an execution that is gone (it ended while nobody could write the row) */
    json_t *row = row_of(st);
    json_object_set_new(row, "executionId", json_string("goneEx1"));
    assert_int_equal(kt_store_trigger_put(st, row), KT_OK);
    json_decref(row);

    /* the evaluation releases the lock first: the store refuses that write */
    sch_store_refuse(&w, "UPDATE", "triggers", 1);
    kt_sch_evaluate(s, "a.b", "f", "daily");
    row = row_of(st);
    assert_string_equal(json_string_value(json_object_get(row, "executionId")), "goneEx1");
    json_decref(row);

    /* the store is back: the trigger is evaluated again on its own, and its lock goes */
    sch_store_refuse(&w, "UPDATE", "triggers", 0);
    row = NULL;
    for (int i = 0; i < 40; i++) {
        sch_run_ms(&w, 100);
        json_decref(row);
        row = row_of(st);
        if (!json_object_get(row, "executionId"))
            break;
    }
    assert_null(json_object_get(row, "executionId"));
    assert_non_null(json_object_get(row, "nextExecutionDate"));
    json_decref(row);

    sch_world_stop(&w);
    sch_world_end(&w);
}

/* The end of the execution that holds the lock arrives while the store refuses the release: the lock goes once the
 * store is back, without another end or a restart. */
static void test_release_failure_evaluated_again(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"f", FLOW, NULL};
    sch_world_start(&w, flows);
    kt_store *st = w.st;
    kt_scheduler *s = w.s;

    /* its tick's execution runs (the trigger is locked by it), then ends */
    json_t *ex = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:[{s:s, s:s}, {s:s, s:s}]}}", "id", "tickEx1",
                           "namespace", "a.b", "flowId", "f", "trigger", "id", "daily", "type",
                           "io.kestra.plugin.core.trigger.Schedule", "state", "current", "SUCCESS", "histories",
                           "state", "CREATED", "date", "2024-01-01T00:00:00Z", "state", "SUCCESS", "date",
                           "2024-01-01T00:00:01Z");
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_store_execution_put(st, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_commit(st), KT_OK);
    json_t *row = row_of(st);
    json_object_set_new(row, "executionId", json_string("tickEx1"));
    assert_int_equal(kt_store_trigger_put(st, row), KT_OK);
    json_decref(row);

    sch_store_refuse(&w, "UPDATE", "triggers", 1);
    kt_sch_execution_changed(s, ex);
    row = row_of(st);
    assert_string_equal(json_string_value(json_object_get(row, "executionId")), "tickEx1");
    json_decref(row);

    sch_store_refuse(&w, "UPDATE", "triggers", 0);
    row = NULL;
    for (int i = 0; i < 40; i++) {
        sch_run_ms(&w, 100);
        json_decref(row);
        row = row_of(st);
        if (!json_object_get(row, "executionId"))
            break;
    }
    assert_null(json_object_get(row, "executionId"));
    json_decref(row);
    json_decref(ex);

    sch_world_stop(&w);
    sch_world_end(&w);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refresh_failure_evaluated_again),
        cmocka_unit_test(test_release_failure_evaluated_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
