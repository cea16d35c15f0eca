/* An execution the executor refused (kt_sch_on_reply, fire.c) ends FAILED in the scheduler's own commit, and that
 * change reaches the Flow triggers like any other: a flow triggered by the failure starts. Since several schedulers
 * share the store, a Flow trigger acts on a change only when its transaction takes the change's notice
 * (kt_store_notice_take), so the scheduler's own change must come with a notice. Real SQLite store, a scheduler on a
 * node whose executor never answers. And a change whose Flow triggers' commit failed is acted on again a little later
 * (its notice is still there), not only at the next start. */

#include "tests/unit/actors/sch_world.h"
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
    sch_world w;
    const char *const flows[] = {"up", UP, "down", DOWN, NULL};
    sch_world_start(&w, flows);
    kt_store *st = w.st;
    kt_scheduler *s = w.s;

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

    sch_world_stop(&w);
    /* no notice is left behind (acted on: taken, or cleared by the turn's flush) */
    json_t *notices = NULL;
    assert_int_equal(kt_store_notices(st, &notices), KT_OK);
    assert_int_equal(json_array_size(notices), 0);
    json_decref(notices);
    sch_world_end(&w);
}

/* The commit of what a change started fails (the store refuses for a moment): the change is acted on again a little
 * later, once, not only at the next start's replay of its notice. */
static void test_failed_commit_tried_again(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"up", UP, "down", DOWN, NULL};
    sch_world_start(&w, flows);
    kt_store *st = w.st;
    kt_scheduler *s = w.s;

    /* `up` failed: the executor committed it with its notice */
    json_t *ex = kt_execution_new("upEx2", "a.b", "up", 1, NULL, NULL, NULL, kt_now_us());
    kt_state_set(json_object_get(ex, "state"), KT_S(FAILED), kt_now_us());
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_store_execution_put(st, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_notice_add(st, "upEx2", KT_S(FAILED)), KT_OK);
    assert_int_equal(kt_store_commit(st), KT_OK);

    sch_store_refuse(&w, "INSERT", "executions", 1);
    kt_sch_execution_changed(s, ex);
    assert_int_equal(count_of(st, "down"), 0);
    sch_store_refuse(&w, "INSERT", "executions", 0);
    for (int i = 0; i < 40 && count_of(st, "down") == 0; i++)
        sch_run_ms(&w, 100);
    assert_int_equal(count_of(st, "down"), 1);
    sch_run_ms(&w, 1200); /* no second one */
    assert_int_equal(count_of(st, "down"), 1);
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
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_execution_reaches_flow_triggers),
        cmocka_unit_test(test_failed_commit_tried_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
