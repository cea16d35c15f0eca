/* Several schedulers over one store and the Flow triggers' multiple-condition windows (flow_trigger.c): two
 * schedulers acting at once on two upstream executions both read a window, both add their condition, and whoever
 * commits second must not overwrite the first's (a lost condition: the downstream never starts) nor fire again from a
 * window the first already completed and reset (a double start). The race is played with the evaluation's two halves
 * (kt_sch_flow_triggers_plan, then _commit) apart: two plans from the same windows, one committed first; on
 * PostgreSQL also really at once, the other scheduler's transaction open on a connection of its own. The store's
 * claims themselves are tested in tests/unit/store. Also: two notices of one (execution, state) are
 * two changes, each acted on. Real store (sch_world.h: SQLite, or PostgreSQL in the `_pg` run). */
#include "tests/unit/actors/sch_world.h"
#include "base/clock.h"
#include "base/log.h"
#include "flow/model.h"
#include "flow/state.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

static const char *UP1 = "id: up1\nnamespace: a.b\n"
                         "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n";
static const char *UP2 = "id: up2\nnamespace: a.b\n"
                         "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n";
/* starts when both up1 and up2 succeeded within a day */
static const char *DOWN = "id: down\nnamespace: a.b\n"
                          "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                          "triggers:\n  - id: both\n    type: io.kestra.plugin.core.trigger.Flow\n"
                          "    preconditions:\n      id: pre\n      flows:\n"
                          "        - namespace: a.b\n          flowId: up1\n          states: [SUCCESS]\n"
                          "        - namespace: a.b\n          flowId: up2\n          states: [SUCCESS]\n";
/* starts on every failure of up1 */
static const char *ON_FAIL = "id: onfail\nnamespace: a.b\n"
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

/* An execution of flow_id ended in state, committed with its notice as the executor does. */
static json_t *ended(kt_store *st, const char *id, const char *flow_id, const char *state)
{
    json_t *ex = kt_execution_new(id, "a.b", flow_id, 1, NULL, NULL, NULL, kt_now_us());
    assert_non_null(ex);
    kt_state_set(json_object_get(ex, "state"), state, kt_now_us());
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_store_execution_put(st, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_notice_add(st, id, state), KT_OK);
    assert_int_equal(kt_store_commit(st), KT_OK);
    return ex;
}

/* Whether the stored window holds the condition of upstream flow_id (preconditions.flows[i] is condition_<i+1>:
 * up1's is condition_1, up2's condition_2; flow/condition_multiple.c). */
static int window_has(kt_store *st, const char *flow_id)
{
    json_t *w = NULL;
    if (kt_store_window_get(st, "a.b", "down", "pre", &w) != KT_OK)
        return 0;
    const char *key = !strcmp(flow_id, "up1") ? "condition_1" : "condition_2";
    int found = json_is_true(json_object_get(json_object_get(w, "results"), key));
    json_decref(w);
    return found;
}

/* Two schedulers, each with one upstream's success, both read the window empty: the second commit is refused (it
 * would drop the first's condition), and evaluated again from the window as it is, it starts the downstream. */
static void test_no_lost_condition(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"up1", UP1, "up2", UP2, "down", DOWN, NULL};
    sch_world_start(&w, flows);
    kt_store *st = w.st;
    json_t *e1 = ended(st, "e1", "up1", KT_S(SUCCESS)), *e2 = ended(st, "e2", "up2", KT_S(SUCCESS));
    int64_t now = kt_now_us();
    json_t *p1 = kt_sch_flow_triggers_plan(w.s, e1, now), *p2 = kt_sch_flow_triggers_plan(w.s, e2, now);
    assert_false(kt_sch_plan_empty(p1));
    assert_false(kt_sch_plan_empty(p2));
    int taken = 0;
    assert_int_equal(kt_sch_flow_triggers_commit(w.s, e2, p2, now, &taken), KT_OK);
    assert_int_equal(taken, 1);
    assert_true(window_has(st, "up2"));
    /* e1's plan was made from the empty window */
    assert_int_equal(kt_sch_flow_triggers_commit(w.s, e1, p1, now, &taken), KT_ECONFLICT);
    assert_true(window_has(st, "up2")); /* nothing of e1's written */
    assert_false(window_has(st, "up1"));
    assert_int_equal(count_of(st, "down"), 0);
    /* the scheduler's own path plans again and commits: both conditions met, the downstream starts once */
    kt_sch_flow_triggers(w.s, e1);
    assert_int_equal(count_of(st, "down"), 1);
    json_t *win = NULL;
    assert_int_equal(kt_store_window_get(st, "a.b", "down", "pre", &win), KT_ENOTFOUND); /* reset on success */
    json_decref(p1);
    json_decref(p2);
    json_decref(e1);
    json_decref(e2);
    sch_world_stop(&w);
    json_t *notices = NULL;
    assert_int_equal(kt_store_notices(st, &notices), KT_OK);
    assert_int_equal(json_array_size(notices), 0);
    json_decref(notices);
    sch_world_end(&w);
}

typedef struct other_scheduler {
    const char *where;
    json_t *window;   /* what it writes */
    int status;
} other_scheduler;

/* Another scheduler on a connection of its own: it opens the same window with its own condition and commits 300 ms
 * later, while this one's commit is on its way. */
static void *other_commits(void *arg)
{
    other_scheduler *o = arg;
    kt_store *st = NULL;
    char err[256];
    o->status = kt_store_open(o->where, NULL, &st, err, sizeof err);
    if (!o->status)
        o->status = kt_store_begin(st);
    if (!o->status)
        o->status = kt_store_window_insert(st, o->window);
    usleep(300 * 1000);
    if (!o->status)
        o->status = kt_store_commit(st);
    kt_store_close(st);
    return NULL;
}

/* PostgreSQL, really at once: this scheduler's commit of a window it read as absent waits for the other scheduler's
 * open transaction that creates it, then is refused, and evaluated again it starts the downstream. */
static void test_no_lost_condition_at_once(void **state)
{
    (void)state;
    if (!kt_test_store_on_pg())
        skip(); /* one writer at a time on SQLite: nothing runs at once */
    sch_world w;
    const char *const flows[] = {"up1", UP1, "up2", UP2, "down", DOWN, NULL};
    sch_world_start(&w, flows);
    kt_store *st = w.st;
    json_t *e1 = ended(st, "e1", "up1", KT_S(SUCCESS)), *e2 = ended(st, "e2", "up2", KT_S(SUCCESS));
    int64_t now = kt_now_us();
    json_t *p1 = kt_sch_flow_triggers_plan(w.s, e1, now), *p2 = kt_sch_flow_triggers_plan(w.s, e2, now);
    /* the window e2's plan makes is what the other scheduler commits */
    json_t *theirs = json_object_get(json_object_get(json_object_get(p2, "windows"), "a.b\x1f" "down\x1f" "pre"),
                                     "window");
    assert_non_null(theirs);
    other_scheduler o = {.where = w.where, .window = theirs};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, other_commits, &o), 0);
    usleep(100 * 1000); /* its insert is in, not committed */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int taken = 0;
    assert_int_equal(kt_sch_flow_triggers_commit(w.s, e1, p1, now, &taken), KT_ECONFLICT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    assert_int_equal(o.status, KT_OK);
    assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 100); /* it waited */
    assert_true(window_has(st, "up2"));
    assert_false(window_has(st, "up1"));
    kt_sch_flow_triggers(w.s, e1);
    assert_int_equal(count_of(st, "down"), 1);
    json_decref(p1);
    json_decref(p2);
    json_decref(e1);
    json_decref(e2);
    sch_world_stop(&w);
    sch_world_end(&w);
}

/* The window holds up1's condition; two schedulers each see a success of up2 and both plan a start from it: the first
 * starts the downstream and resets the window, the second is refused and, evaluated again, only opens a new window
 * with its own condition (Kestra's sequential evaluation: one start, then a window holding up2). */
static void test_no_double_start(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"up1", UP1, "up2", UP2, "down", DOWN, NULL};
    sch_world_start(&w, flows);
    kt_store *st = w.st;
    json_t *e1 = ended(st, "e1", "up1", KT_S(SUCCESS));
    kt_sch_flow_triggers(w.s, e1);
    assert_true(window_has(st, "up1"));
    json_t *a = ended(st, "e2a", "up2", KT_S(SUCCESS)), *b = ended(st, "e2b", "up2", KT_S(SUCCESS));
    int64_t now = kt_now_us();
    json_t *pa = kt_sch_flow_triggers_plan(w.s, a, now), *pb = kt_sch_flow_triggers_plan(w.s, b, now);
    assert_int_equal(json_array_size(json_object_get(pa, "created")), 1);
    assert_int_equal(json_array_size(json_object_get(pb, "created")), 1);
    int taken = 0;
    assert_int_equal(kt_sch_flow_triggers_commit(w.s, a, pa, now, &taken), KT_OK);
    assert_int_equal(count_of(st, "down"), 1);
    assert_int_equal(kt_sch_flow_triggers_commit(w.s, b, pb, now, &taken), KT_ECONFLICT);
    assert_int_equal(count_of(st, "down"), 1);
    kt_sch_flow_triggers(w.s, b);
    assert_int_equal(count_of(st, "down"), 1);
    assert_true(window_has(st, "up2"));
    assert_false(window_has(st, "up1"));
    json_decref(pa);
    json_decref(pb);
    json_decref(a);
    json_decref(b);
    json_decref(e1);
    sch_world_stop(&w);
    sch_world_end(&w);
}

/* Two failures of the same execution (failed, restarted, failed again) reach the scheduler while both notices are in
 * the store (its mailbox was behind, or it was down): each is a change, and each starts the flow waiting for failures
 * (Kestra evaluates Flow triggers on every terminal state). Taking the first notice must leave the second. */
static void test_two_alike_changes_both_acted_on(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"up1", UP1, "onfail", ON_FAIL, NULL};
    sch_world_start(&w, flows);
    kt_store *st = w.st;
    json_t *ex = ended(st, "r1", "up1", KT_S(FAILED));
    assert_int_equal(kt_store_notice_add(st, "r1", KT_S(FAILED)), KT_OK); /* the second failure's */
    kt_sch_execution_changed(w.s, ex);
    assert_int_equal(count_of(st, "onfail"), 1);
    kt_sch_execution_changed(w.s, ex);
    assert_int_equal(count_of(st, "onfail"), 2);
    kt_sch_execution_changed(w.s, ex); /* a duplicate of either: no notice left, nothing more */
    assert_int_equal(count_of(st, "onfail"), 2);
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
        cmocka_unit_test(test_no_lost_condition),
        cmocka_unit_test(test_no_double_start),
        cmocka_unit_test(test_no_lost_condition_at_once),
        cmocka_unit_test(test_two_alike_changes_both_acted_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
