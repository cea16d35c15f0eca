/* Several schedulers over one store (actors/scheduler/scheduler.c kt_sch_put_state): a trigger's row is written only
 * if it still holds the state the new one was computed from. Here a scheduler runs on a real SQLite store, and
 * "another scheduler" moves its row behind its back: the write computed from the old row is refused (KT_ECONFLICT)
 * and leaves the other's row as it was; the same write computed from the row as it is goes through. */
#include "tests/unit/actors/sch_world.h"
#include "base/log.h"

static const char *FLOW = "id: f\nnamespace: a.b\n"
                          "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                          "triggers:\n"
                          "  - id: daily\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: \"0 0 * * *\"\n";

static kt_trig_state read_state(kt_store *st)
{
    json_t *row = NULL;
    assert_int_equal(kt_store_trigger_get(st, "a.b", "f", "daily", &row), KT_OK);
    kt_trig_state ts = {0};
    char err[256];
    assert_int_equal(kt_trig_state_from_json(row, &ts, err, sizeof err), KT_OK);
    json_decref(row);
    return ts;
}

static void test_stale_write_refused(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"f", FLOW, NULL};
    sch_world_start(&w, flows); /* writes the row (reconcile) */
    kt_store *st = w.st;
    kt_scheduler *s = w.s;

    kt_trig_state seen = read_state(st);
    assert_true(seen.next_us > 0);
    json_t *basis = kt_trig_state_json(&seen);

    /* another scheduler fires this occurrence: its row moves a day on */
    kt_trig_state other = read_state(st);
    other.next_us += 86400LL * 1000000;
    json_t *moved = kt_trig_state_json(&other);
    assert_int_equal(kt_store_trigger_put(st, moved), KT_OK);

    /* ours, computed from the old row (the same occurrence fired again): refused, nothing written */
    kt_trig_state ours = read_state(st);
    ours.next_us = seen.next_us + 3600LL * 1000000;
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_sch_put_state(s, basis, &ours), KT_ECONFLICT);
    kt_store_rollback(st);
    kt_trig_state after = read_state(st);
    assert_int_equal(after.next_us, other.next_us);
    kt_trig_state_clear(&after);

    /* computed from the row as it is: written */
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_sch_put_state(s, moved, &ours), KT_OK);
    assert_int_equal(kt_store_commit(st), KT_OK);
    after = read_state(st);
    assert_int_equal(after.next_us, ours.next_us);
    kt_trig_state_clear(&after);

    /* a row deleted meanwhile is a conflict too (the flow lost its trigger) */
    assert_int_equal(kt_store_trigger_delete(st, "a.b", "f", "daily"), KT_OK);
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_sch_put_state(s, moved, &ours), KT_ECONFLICT);
    kt_store_rollback(st);

    json_decref(basis);
    json_decref(moved);
    kt_trig_state_clear(&seen);
    kt_trig_state_clear(&other);
    kt_trig_state_clear(&ours);
    sch_world_stop(&w);
    sch_world_end(&w);
}

/* A row the scheduler makes from nothing (a new trigger, its reconcile found no row) is written only if there is still
 * none: two schedulers reconciling one flow at once, the second must not overwrite the row the first made and may
 * already have moved past a tick it fired. */
static void test_new_row_never_overwrites(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"f", FLOW, NULL};
    sch_world_start(&w, flows);
    kt_store *st = w.st;

    /* the other scheduler's row: it fired a tick and locked the trigger with the execution */
    kt_trig_state other = read_state(st);
    other.next_us += 86400LL * 1000000;
    other.execution_id = strdup("theirs");
    json_t *moved = kt_trig_state_json(&other);
    assert_int_equal(kt_store_trigger_put(st, moved), KT_OK);

    /* ours, computed when there was no row: refused, theirs kept */
    kt_trig_state ours = read_state(st);
    free(ours.execution_id);
    ours.execution_id = NULL;
    ours.next_us = other.next_us - 86400LL * 1000000;
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_sch_put_state(w.s, NULL, &ours), KT_ECONFLICT);
    kt_store_rollback(st);
    kt_trig_state after = read_state(st);
    assert_int_equal(after.next_us, other.next_us);
    assert_string_equal(after.execution_id, "theirs");
    kt_trig_state_clear(&after);

    /* with no row there, it is made */
    assert_int_equal(kt_store_trigger_delete(st, "a.b", "f", "daily"), KT_OK);
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_sch_put_state(w.s, NULL, &ours), KT_OK);
    assert_int_equal(kt_store_commit(st), KT_OK);
    after = read_state(st);
    assert_int_equal(after.next_us, ours.next_us);
    assert_null(after.execution_id);
    kt_trig_state_clear(&after);

    json_decref(moved);
    kt_trig_state_clear(&other);
    kt_trig_state_clear(&ours);
    sch_world_stop(&w);
    sch_world_end(&w);
}

int main(void)
{
    int rc = kt_test_store_check(); /* SQLite, or PostgreSQL with KITE_TEST_STORE=pg (its `_pg` run) */
    if (rc)
        return rc;
    kt_log_set_level(KT_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stale_write_refused),
        cmocka_unit_test(test_new_row_never_overwrites),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
