/* An execution the executor refused (kt_sch_on_reply, fire.c) ends FAILED in the scheduler's own commit, and that
 * change reaches the Flow triggers like any other: a flow triggered by the failure starts. Since several schedulers
 * share the store, a Flow trigger acts on a change only when its transaction takes the change's notice
 * (kt_store_notice_take), so the scheduler's own change must come with a notice. Real SQLite store, a scheduler on a
 * node whose executor never answers. And a change whose Flow triggers' commit failed is acted on again a little later
 * (its notice is still there), not only at the next start. */
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
#include "base/clock.h"
#include "base/log.h"
#include "flow/model.h"
#include "flow/state.h"

static const char *UP = "id: up\nnamespace: a.b\n"
                        "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n";
static const char *DOWN = "id: down\nnamespace: a.b\n"
                          "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                          "triggers:\n  - id: on_end\n    type: io.kestra.plugin.core.trigger.Flow\n"
                          "    states: [FAILED]\n";

static int rm_entry(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb, (void)f, (void)w;
    return remove(p);
}

static void receive_nothing(kt_actor *a, const kt_msg *m) { (void)a, (void)m; }
static const kt_actor_ops executor_ops = {.receive = receive_nothing};

static int64_t count_of(kt_store *st, const char *flow_id)
{
    kt_exec_query q = {.namespace_ = "a.b", .flow_id = flow_id, .size = 10, .page = 1};
    json_t *rows = NULL;
    int64_t total = -1;
    assert_int_equal(kt_store_executions_search(st, &q, &rows, &total), KT_OK);
    json_decref(rows);
    return total;
}

/* The executor's refusal of the ExecutionCreate numbered corr, as the scheduler receives it. */
static void deliver_refusal(kt_scheduler *s, uint64_t corr)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_REPLY, KT_SCHEDULER_ACTOR, KT_EXECUTOR_ACTOR, corr);
    kt_msg_reply r = {.status = KT_EINVAL, .message = "the flow revision does not parse"};
    kt_msg_encode_reply(&o, &r);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    kt_msg m;
    assert_int_equal(kt_msg_decode(o.sb.data, o.sb.size, &u, &m), KT_OK);
    kt_sch_on_reply(s, &m);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
}

static void test_refused_execution_reaches_flow_triggers(void **state)
{
    (void)state;
    char root[] = "/tmp/kite-schrefused-XXXXXX";
    assert_non_null(mkdtemp(root));
    kt_store *st;
    char err[256];
    assert_int_equal(kt_store_open(root, NULL, &st, err, sizeof err), KT_OK);
    int rev, changed;
    assert_int_equal(kt_store_flow_save(st, "a.b", "up", UP, &rev, &changed), KT_OK);
    assert_int_equal(kt_store_flow_save(st, "a.b", "down", DOWN, &rev, &changed), KT_OK);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *node;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &node), KT_OK);
    assert_int_equal(kt_node_spawn(node, KT_EXECUTOR_ACTOR, &executor_ops, NULL, NULL), KT_OK);
    kt_scheduler *s;
    assert_int_equal(kt_scheduler_start(node, st, NULL, &s), KT_OK);

    /* an execution of `up` the scheduler created and handed over, still CREATED, awaiting the executor's answer */
    json_t *ex = kt_execution_new("upEx1", "a.b", "up", 1, NULL, NULL, NULL, kt_now_us());
    assert_non_null(ex);
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_store_execution_put(st, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_commit(st), KT_OK);
    json_decref(ex);
    assert_int_equal(kt_map_put(s->awaiting, "77", strdup("upEx1"), NULL), KT_OK);

    deliver_refusal(s, 77);

    json_t *got = NULL;
    assert_int_equal(kt_store_execution_get(st, "upEx1", &got), KT_OK);
    assert_string_equal(kt_state_current(got), KT_S(FAILED));
    json_decref(got);
    /* the failure started the flow that waits for it, once */
    assert_int_equal(count_of(st, "down"), 1);

    kt_node_stop(node);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    kt_node_free(node);
    /* no notice is left behind (acted on: taken, or cleared by the turn's flush) */
    json_t *notices = NULL;
    assert_int_equal(kt_store_notices(st, &notices), KT_OK);
    assert_int_equal(json_array_size(notices), 0);
    json_decref(notices);
    kt_store_close(st);
    nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void refuse_new_executions(const char *root, int on)
{
    char path[128];
    snprintf(path, sizeof path, "%s/kite.db", root);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    const char *sql = on ? "CREATE TRIGGER refuse BEFORE INSERT ON executions BEGIN SELECT RAISE(ABORT, 'refused'); END"
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

/* The commit of what a change started fails (the store refuses for a moment): the change is acted on again a little
 * later, once, not only at the next start's replay of its notice. */
static void test_failed_commit_tried_again(void **state)
{
    (void)state;
    char root[] = "/tmp/kite-schrefused-XXXXXX";
    assert_non_null(mkdtemp(root));
    kt_store *st;
    char err[256];
    assert_int_equal(kt_store_open(root, NULL, &st, err, sizeof err), KT_OK);
    int rev, changed;
    assert_int_equal(kt_store_flow_save(st, "a.b", "up", UP, &rev, &changed), KT_OK);
    assert_int_equal(kt_store_flow_save(st, "a.b", "down", DOWN, &rev, &changed), KT_OK);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *node;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &node), KT_OK);
    assert_int_equal(kt_node_spawn(node, KT_EXECUTOR_ACTOR, &executor_ops, NULL, NULL), KT_OK);
    kt_scheduler *s;
    assert_int_equal(kt_scheduler_start(node, st, NULL, &s), KT_OK);

    /* `up` failed: the executor committed it with its notice */
    json_t *ex = kt_execution_new("upEx2", "a.b", "up", 1, NULL, NULL, NULL, kt_now_us());
    kt_state_set(json_object_get(ex, "state"), KT_S(FAILED), kt_now_us());
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_store_execution_put(st, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_notice_add(st, "upEx2", KT_S(FAILED)), KT_OK);
    assert_int_equal(kt_store_commit(st), KT_OK);

    refuse_new_executions(root, 1);
    kt_sch_execution_changed(s, ex);
    assert_int_equal(count_of(st, "down"), 0);
    refuse_new_executions(root, 0);
    for (int i = 0; i < 40 && count_of(st, "down") == 0; i++)
        run_ms(&loop, 100);
    assert_int_equal(count_of(st, "down"), 1);
    run_ms(&loop, 1200); /* no second one */
    assert_int_equal(count_of(st, "down"), 1);
    json_t *notices = NULL;
    assert_int_equal(kt_store_notices(st, &notices), KT_OK);
    assert_int_equal(json_array_size(notices), 0);
    json_decref(notices);
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
        cmocka_unit_test(test_refused_execution_reaches_flow_triggers),
        cmocka_unit_test(test_failed_commit_tried_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
