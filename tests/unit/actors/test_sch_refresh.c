/* A Schedule trigger whose row could not be written before its evaluation (kt_sch_refresh: a lock whose execution
 * ended is released first) is evaluated again later, as when its row could not be read: a store that fails for a
 * moment (PostgreSQL restarting, a connection lost) must not leave the trigger unarmed, locked for ever. Real SQLite
 * store; a second connection makes it refuse the trigger rows' updates, then accept them again. The same for the
 * release of the lock when the execution holding it ends. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/names.h"
#include "actors/scheduler/scheduler_int.h"
#include "base/log.h"

static const char *FLOW = "id: f\nnamespace: a.b\n"
                          "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                          "triggers:\n"
                          "  - id: daily\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: \"0 0 * * *\"\n";

static int rm_entry(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb, (void)f, (void)w;
    return remove(p);
}

static void receive_nothing(kt_actor *a, const kt_msg *m) { (void)a, (void)m; }
static const kt_actor_ops executor_ops = {.receive = receive_nothing};

static void refuse_trigger_updates(const char *root, int on)
{
    char path[128];
    snprintf(path, sizeof path, "%s/kite.db", root);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    const char *sql = on ? "CREATE TRIGGER refuse BEFORE UPDATE ON triggers BEGIN SELECT RAISE(ABORT, 'refused'); END"
                         : "DROP TRIGGER refuse";
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void on_timeout(uv_timer_t *t) { uv_stop(t->loop); }

static void run_ms(uv_loop_t *loop, int ms)
{
    uv_timer_t t;
    uv_timer_init(loop, &t);
    uv_timer_start(&t, on_timeout, (uint64_t)ms, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

static json_t *row_of(kt_store *st)
{
    json_t *row = NULL;
    assert_int_equal(kt_store_trigger_get(st, "a.b", "f", "daily", &row), KT_OK);
    return row;
}

static void test_refresh_failure_evaluated_again(void **state)
{
    (void)state;
    char root[] = "/tmp/kite-schrefresh-XXXXXX";
    assert_non_null(mkdtemp(root));
    kt_store *st;
    char err[256];
    assert_int_equal(kt_store_open(root, NULL, &st, err, sizeof err), KT_OK);
    int rev, changed;
    assert_int_equal(kt_store_flow_save(st, "a.b", "f", FLOW, &rev, &changed), KT_OK);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *node;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &node), KT_OK);
    assert_int_equal(kt_node_spawn(node, KT_EXECUTOR_ACTOR, &executor_ops, NULL, NULL), KT_OK);
    kt_scheduler *s;
    assert_int_equal(kt_scheduler_start(node, st, NULL, &s), KT_OK); /* the row, armed for its next tick */

    /* locked by an execution that is gone (it ended while nobody could write the row) */
    json_t *row = row_of(st);
    json_object_set_new(row, "executionId", json_string("goneEx1"));
    assert_int_equal(kt_store_trigger_put(st, row), KT_OK);
    json_decref(row);

    /* the evaluation releases the lock first: the store refuses that write */
    refuse_trigger_updates(root, 1);
    kt_sch_evaluate(s, "a.b", "f", "daily");
    row = row_of(st);
    assert_string_equal(json_string_value(json_object_get(row, "executionId")), "goneEx1");
    json_decref(row);

    /* the store is back: the trigger is evaluated again on its own, and its lock goes */
    refuse_trigger_updates(root, 0);
    row = NULL;
    for (int i = 0; i < 40; i++) {
        run_ms(&loop, 100);
        json_decref(row);
        row = row_of(st);
        if (!json_object_get(row, "executionId"))
            break;
    }
    assert_null(json_object_get(row, "executionId"));
    assert_non_null(json_object_get(row, "nextExecutionDate"));
    json_decref(row);

    kt_node_stop(node);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    kt_node_free(node);
    kt_store_close(st);
    nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* The end of the execution that holds the lock arrives while the store refuses the release: the lock goes once the
 * store is back, without another end or a restart. */
static void test_release_failure_evaluated_again(void **state)
{
    (void)state;
    char root[] = "/tmp/kite-schrefresh-XXXXXX";
    assert_non_null(mkdtemp(root));
    kt_store *st;
    char err[256];
    assert_int_equal(kt_store_open(root, NULL, &st, err, sizeof err), KT_OK);
    int rev, changed;
    assert_int_equal(kt_store_flow_save(st, "a.b", "f", FLOW, &rev, &changed), KT_OK);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *node;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &node), KT_OK);
    assert_int_equal(kt_node_spawn(node, KT_EXECUTOR_ACTOR, &executor_ops, NULL, NULL), KT_OK);
    kt_scheduler *s;
    assert_int_equal(kt_scheduler_start(node, st, NULL, &s), KT_OK);

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

    refuse_trigger_updates(root, 1);
    kt_sch_execution_changed(s, ex);
    row = row_of(st);
    assert_string_equal(json_string_value(json_object_get(row, "executionId")), "tickEx1");
    json_decref(row);

    refuse_trigger_updates(root, 0);
    row = NULL;
    for (int i = 0; i < 40; i++) {
        run_ms(&loop, 100);
        json_decref(row);
        row = row_of(st);
        if (!json_object_get(row, "executionId"))
            break;
    }
    assert_null(json_object_get(row, "executionId"));
    json_decref(row);
    json_decref(ex);

    kt_node_stop(node);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    kt_node_free(node);
    kt_store_close(st);
    nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
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
