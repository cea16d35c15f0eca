/* Under kills (test_chaos), the end of a Schedule's execution can go unheard: the executor's message went to a
 * scheduler that died with it (or was still thought alive), and no scheduler starts afterwards to replay its notice.
 * The trigger stayed locked by an execution long ended, and the surviving scheduler never fired it again (a starved
 * Schedule). Now a locked trigger is looked at every lock_check_us and its lock released once its execution has ended
 * (as Kestra's scheduler checks on each pass), and a notice left over two periodic passes is acted on by whichever
 * scheduler sees it (its Flow triggers evaluated). Real SQLite store (sch_world.h), an executor that never answers. */
#include "tests/unit/actors/sch_world.h"
#include "base/clock.h"
#include "base/log.h"
#include "flow/model.h"
#include "flow/state.h"

static const char *TICKER = "id: ticker\nnamespace: a.b\n"
                            "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                            "triggers:\n  - id: every\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                            "    cron: \"* * * * * *\"\n    withSeconds: true\n";
static const char *UP = "id: up\nnamespace: a.b\n"
                        "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n";
static const char *DOWN = "id: down\nnamespace: a.b\n"
                          "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                          "triggers:\n  - id: on_end\n    type: io.kestra.plugin.core.trigger.Flow\n"
                          "    states: [FAILED]\n";

static int64_t count_of(kt_store *st, const char *flow_id, json_t **first)
{
    kt_exec_query q = {.namespace_ = "a.b", .flow_id = flow_id, .size = 10, .page = 1};
    json_t *rows = NULL;
    int64_t total = -1;
    assert_int_equal(kt_store_executions_search(st, &q, &rows, &total), KT_OK);
    if (first)
        *first = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return total;
}

static void test_unheard_end_releases_the_lock(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"ticker", TICKER, NULL};
    sch_world_start(&w, flows);
    w.s->lock_check_us = 300 * 1000;
    kt_store *st = w.st;
    for (int i = 0; i < 30 && count_of(st, "ticker", NULL) < 1; i++)
        sch_run_ms(&w, 100);
    json_t *ex = NULL;
    assert_int_equal(count_of(st, "ticker", &ex), 1);
    sch_run_ms(&w, 1500); /* locked: no second tick while it runs */
    json_decref(ex);
    assert_int_equal(count_of(st, "ticker", &ex), 1);

    /* it ends, committed elsewhere; the message never reaches this scheduler */
    json_t *full = NULL;
    assert_int_equal(kt_store_execution_get(st, json_string_value(json_object_get(ex, "id")), &full), KT_OK);
    kt_state_set(json_object_get(full, "state"), KT_S(SUCCESS), kt_now_us());
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_store_execution_put(st, full, NULL, 0), KT_OK);
    assert_int_equal(kt_store_commit(st), KT_OK);
    for (int i = 0; i < 30 && count_of(st, "ticker", NULL) < 2; i++)
        sch_run_ms(&w, 100);
    assert_int_equal(count_of(st, "ticker", NULL), 2); /* the next tick fired */
    json_decref(full);
    json_decref(ex);
    sch_world_stop(&w);
    sch_world_end(&w);
}

static void test_orphan_notice_acted_on(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"up", UP, "down", DOWN, NULL};
    kt_scheduler_options o = {.recover = KT_SCHED_RECOVER_ALL, .reconcile_interval_us = 200 * 1000};
    sch_world_start_with(&w, flows, &o);
    kt_store *st = w.st;
    /* `up` failed: committed with its notice by an executor whose message went to a scheduler now dead */
    json_t *ex = kt_execution_new("upEx", "a.b", "up", 1, NULL, NULL, NULL, kt_now_us());
    kt_state_set(json_object_get(ex, "state"), KT_S(FAILED), kt_now_us());
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_store_execution_put(st, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_notice_add(st, "upEx", KT_S(FAILED)), KT_OK);
    assert_int_equal(kt_store_commit(st), KT_OK);
    sch_run_ms(&w, 100);
    assert_int_equal(count_of(st, "down", NULL), 0); /* not at once: a live scheduler may be about to act on it */
    for (int i = 0; i < 20 && count_of(st, "down", NULL) < 1; i++)
        sch_run_ms(&w, 100);
    assert_int_equal(count_of(st, "down", NULL), 1);
    sch_run_ms(&w, 600);
    assert_int_equal(count_of(st, "down", NULL), 1); /* once */
    json_t *notices = NULL;
    assert_int_equal(kt_store_notices(st, &notices), KT_OK);
    assert_int_equal(json_array_size(notices), 0);
    json_decref(notices);
    json_decref(ex);
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
        cmocka_unit_test(test_unheard_end_releases_the_lock),
        cmocka_unit_test(test_orphan_notice_acted_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
