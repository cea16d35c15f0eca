/* A flow change whose KT_MSG_FLOW_CHANGED a scheduler never got (sent while it was down, or refused by its full
 * mailbox) is caught by the periodic reconcile (kt_sch_resync, scheduler.c): a flow saved, changed or deleted in the
 * store behind the scheduler's back has its trigger rows brought up to date within the interval, a trigger row
 * enabled again unseen is armed, and a pass with nothing changed does nothing. Real store (sch_world.h: SQLite, or
 * PostgreSQL in the `_pg` run), the interval shortened to 200 ms. */
#include "tests/unit/actors/sch_world.h"
#include "base/log.h"

#define FLOW(id, cron)                                                                                                 \
    "id: " id "\nnamespace: a.b\n"                                                                                     \
    "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"                                  \
    "triggers:\n  - id: tick\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: \"" cron "\"\n"

/* The UTC hour of the trigger row's next date, -1 without a row. */
static int next_hour(kt_store *st, const char *flow_id)
{
    json_t *row = NULL;
    if (kt_store_trigger_get(st, "a.b", flow_id, "tick", &row) != KT_OK)
        return -1;
    const char *next = json_string_value(json_object_get(row, "nextExecutionDate"));
    assert_non_null(next);
    int hour = atoi(next + 11); /* 2026-12-07T12:00:00Z */
    json_decref(row);
    return hour;
}

static void test_unseen_changes_caught_up(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"f", FLOW("f", "0 3 * * *"), "h", FLOW("h", "0 4 * * *"), NULL};
    kt_scheduler_options o = {.recover = KT_SCHED_RECOVER_ALL, .reconcile_interval_us = 200 * 1000};
    sch_world_start_with(&w, flows, &o);
    kt_store *st = w.st;
    assert_int_equal(next_hour(st, "f"), 3);
    assert_int_equal(next_hour(st, "h"), 4);
    assert_int_equal(kt_sch_resync(w.s), 0); /* nothing changed: nothing done */

    /* behind its back: f changes its cron, g is new, h is deleted */
    int rev, changed;
    assert_int_equal(kt_store_flow_save(st, "a.b", "f", FLOW("f", "0 12 * * *"), &rev, &changed), KT_OK);
    assert_int_equal(kt_store_flow_save(st, "a.b", "g", FLOW("g", "0 5 * * *"), &rev, &changed), KT_OK);
    assert_int_equal(kt_store_flow_delete(st, "a.b", "h"), KT_OK);
    assert_int_equal(next_hour(st, "g"), -1);

    sch_run_ms(&w, 500);
    assert_int_equal(next_hour(st, "f"), 12);
    assert_int_equal(next_hour(st, "g"), 5);
    assert_int_equal(next_hour(st, "h"), -1);
    assert_int_equal(kt_sch_resync(w.s), 0); /* caught up */

    sch_world_stop(&w);
    sch_world_end(&w);
}

static int armed(kt_scheduler *s, const char *flow_id)
{
    char *key = kt_sch_key("a.b", flow_id, "tick");
    int a = kt_map_get(s->armed, key) != NULL;
    free(key);
    return a;
}

static void set_disabled(kt_store *st, const char *flow_id, int disabled)
{
    json_t *row = NULL;
    assert_int_equal(kt_store_trigger_get(st, "a.b", flow_id, "tick", &row), KT_OK);
    json_object_set_new(row, "disabled", json_boolean(disabled));
    assert_int_equal(kt_store_trigger_put(st, row), KT_OK);
    json_decref(row);
}

/* A trigger enabled again through the API whose message never came: the periodic pass arms it. */
static void test_unseen_enable_caught_up(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"f", FLOW("f", "0 3 * * *"), NULL};
    kt_scheduler_options o = {.recover = KT_SCHED_RECOVER_ALL, .reconcile_interval_us = 200 * 1000};
    sch_world_start_with(&w, flows, &o);
    assert_true(armed(w.s, "f"));
    set_disabled(w.st, "f", 1);
    kt_sch_evaluate(w.s, "a.b", "f", "tick"); /* as on its KT_MSG_TRIGGER_CHANGED */
    assert_false(armed(w.s, "f"));
    sch_run_ms(&w, 300);
    assert_false(armed(w.s, "f")); /* disabled: left alone */
    set_disabled(w.st, "f", 0); /* enabled again; the message is lost */
    sch_run_ms(&w, 500);
    assert_true(armed(w.s, "f"));
    sch_world_stop(&w);
    sch_world_end(&w);
}

int main(void)
{
    int rc = kt_test_store_check(); /* SQLite, or PostgreSQL with KITE_TEST_STORE=pg (its `_pg` run) */
    if (rc)
        return rc;
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unseen_changes_caught_up),
        cmocka_unit_test(test_unseen_enable_caught_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
