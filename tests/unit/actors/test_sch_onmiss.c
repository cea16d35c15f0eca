/* Flow trigger onMiss (actors/scheduler/onmiss.c), through the scheduler on a real store: a window.deadline that
 * passes with dependsOn unsatisfied leaves one FAILED execution of the flow with onMiss.labels (once per window: a
 * second look, a restart, find it done); a deadline met (the trigger fired) leaves none; a deadline passed while no
 * scheduler ran is failed at the next start; the due date fires by itself at the deadline. The 1.x form of the same
 * trigger (preconditions with a DAILY_TIME_DEADLINE) never creates anything at its deadline: Kestra 1.x has no
 * onMiss. The flows are under tests/dialects/onmiss/ (their deadlines set here, relative to now). */
#include "tests/unit/actors/sch_world.h"
#include "base/clock.h"
#include "base/log.h"
#include "flow/model.h"
#include "flow/state.h"

#include <time.h>

#define US_S 1000000LL

/* tests/dialects/onmiss/onmiss.20.yaml and preconditions.1x.yaml with their deadline replaced */
static const char *ONMISS_2X =
    "id: om2x\nnamespace: a.b\nlabels:\n  team: data\n"
    "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
    "triggers:\n  - id: sla\n    type: io.kestra.plugin.core.trigger.Flow\n    dependsOn:\n"
    "      - flowId: flow_a\n        namespace: a.b\n        states: [SUCCESS]\n"
    "      - flowId: flow_b\n        namespace: a.b\n        states: [SUCCESS]\n"
    "    window:\n      deadline: \"%s\"\n    onMiss:\n      behavior: FAIL\n      labels:\n        sla: missed\n";
static const char *PRECOND_1X =
    "id: pc1x\nnamespace: a.b\n"
    "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
    "triggers:\n  - id: sla\n    type: io.kestra.plugin.core.trigger.Flow\n    preconditions:\n      id: both\n"
    "      flows:\n        - namespace: a.b\n          flowId: flow_a\n          states: [SUCCESS]\n"
    "        - namespace: a.b\n          flowId: flow_b\n          states: [SUCCESS]\n"
    "      timeWindow:\n        type: DAILY_TIME_DEADLINE\n        deadline: \"%s\"\n";

/* The time of day (UTC) `ahead_s` seconds from now, HH:MM:SS; 0 when it is on another day (the test is skipped). */
static int deadline_in(int ahead_s, char out[16])
{
    time_t now = time(NULL), then = now + ahead_s;
    struct tm a, b;
    gmtime_r(&now, &a);
    gmtime_r(&then, &b);
    if (a.tm_yday != b.tm_yday)
        return 0;
    snprintf(out, 16, "%02d:%02d:%02d", b.tm_hour, b.tm_min, b.tm_sec);
    return 1;
}

static int64_t count_in(kt_store *st, const char *flow_id, const char *state)
{
    kt_exec_query q = {.namespace_ = "a.b", .flow_id = flow_id, .size = 50, .page = 1};
    json_t *rows = NULL;
    int64_t total = -1, n = 0;
    assert_int_equal(kt_store_executions_search(st, &q, &rows, &total), KT_OK);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) n += !state || !strcmp(kt_state_current(r), state);
    json_decref(rows);
    return n;
}

static json_t *marker(kt_store *st)
{
    json_t *row = NULL;
    if (kt_store_window_get(st, "a.b", "om2x", "onMiss:sla", &row) != KT_OK)
        return NULL;
    return row;
}

static int64_t marker_deadline(kt_store *st, char *state, size_t cap)
{
    json_t *row = marker(st);
    assert_non_null(row);
    int64_t d = 0;
    assert_int_equal(kt_time_parse(json_string_value(json_object_get(row, "deadline")), &d), 0);
    snprintf(state, cap, "%s", json_string_value(json_object_get(row, "state")));
    json_decref(row);
    return d;
}

static const json_t *trigger_of(sch_world *w)
{
    kt_sch_flow *f = kt_sch_flow_get(w->s, "a.b", "om2x");
    assert_non_null(f);
    return json_array_get(json_object_get(f->json, "triggers"), 0);
}

static void check_at(sch_world *w, int64_t now, json_t **failed)
{
    int64_t next = 0;
    kt_sch_flow *f = kt_sch_flow_get(w->s, "a.b", "om2x");
    assert_int_equal(kt_sch_onmiss_check(w->s, f, trigger_of(w), now, &next, failed), KT_OK);
    assert_true(next > now);
}

/* An upstream execution committed with its notice, then acted on by the scheduler (as test_sch_depends_on.c). */
static void upstream(sch_world *w, const char *id, const char *flow_id, const char *state)
{
    json_t *ex = kt_execution_new(id, "a.b", flow_id, 1, NULL, NULL, NULL, kt_now_us());
    kt_state_set(json_object_get(ex, "state"), "RUNNING", kt_now_us());
    kt_state_set(json_object_get(ex, "state"), state, kt_now_us());
    assert_int_equal(kt_store_begin(w->st), KT_OK);
    assert_int_equal(kt_store_execution_put(w->st, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_notice_add(w->st, id, state), KT_OK);
    assert_int_equal(kt_store_commit(w->st), KT_OK);
    kt_sch_flow_triggers(w->s, ex);
    json_decref(ex);
}

static int has_label(const json_t *ex, const char *k, const char *v)
{
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(ex, "labels"), i, l) {
        const char *lk = json_string_value(json_object_get(l, "key"));
        const char *lv = json_string_value(json_object_get(l, "value"));
        if (lk && lv && !strcmp(lk, k) && !strcmp(lv, v))
            return 1;
    }
    return 0;
}

static void start_with_deadline(sch_world *w, const char *deadline)
{
    static char y2[2048], y1[2048];
    snprintf(y2, sizeof y2, ONMISS_2X, deadline);
    snprintf(y1, sizeof y1, PRECOND_1X, deadline);
    const char *const flows[] = {"om2x", y2, "pc1x", y1, NULL};
    sch_world_start(w, flows);
}

/* Another scheduler process on the same store: a node of its own (the first one stopped). */
static void restart(sch_world *w)
{
    static const kt_actor_ops executor_ops = {.receive = sch_receive_nothing};
    uv_loop_init(&w->loop);
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&w->loop, &cfg, &w->node), KT_OK);
    assert_int_equal(kt_node_spawn(w->node, KT_EXECUTOR_ACTOR, &executor_ops, NULL, NULL), KT_OK);
    assert_int_equal(kt_scheduler_start(w->node, w->st, NULL, &w->s), KT_OK);
}

static void test_missed_once(void **state)
{
    (void)state;
    char dl[16];
    if (!deadline_in(3600, dl))
        skip();
    sch_world w;
    start_with_deadline(&w, dl);
    char st[32];
    int64_t d = marker_deadline(w.st, st, sizeof st); /* the start watches today's deadline */
    assert_string_equal(st, "WATCHING");
    assert_true(d > kt_now_us());

    upstream(&w, "u1", "flow_a", "SUCCESS"); /* one of the two: ALL is not met */
    assert_int_equal(count_in(w.st, "om2x", NULL), 0);

    json_t *ex = NULL;
    check_at(&w, d - US_S, &ex); /* before the deadline: nothing */
    assert_null(ex);
    check_at(&w, d + US_S, &ex); /* passed: one FAILED execution */
    assert_non_null(ex);
    assert_string_equal(kt_state_current(ex), "FAILED");
    assert_true(has_label(ex, "sla", "missed"));
    assert_true(has_label(ex, "team", "data"));
    const json_t *trig = json_object_get(ex, "trigger");
    assert_string_equal(json_string_value(json_object_get(trig, "id")), "sla");
    assert_string_equal(json_string_value(json_object_get(trig, "type")), "io.kestra.plugin.core.trigger.Flow");
    int64_t got = 0;
    assert_int_equal(kt_time_parse(json_string_value(json_object_get(json_object_get(trig, "variables"), "deadline")),
                                   &got), 0);
    assert_true(got == d);
    json_decref(ex);
    assert_int_equal(count_in(w.st, "om2x", "FAILED"), 1);
    assert_int_equal(count_in(w.st, "om2x", NULL), 1);

    /* the next day is watched; the same window looked at again (another scheduler, a later timer): nothing more */
    assert_true(marker_deadline(w.st, st, sizeof st) == d + 86400 * US_S);
    assert_string_equal(st, "WATCHING");
    check_at(&w, d + 2 * US_S, &ex);
    assert_null(ex);
    assert_int_equal(count_in(w.st, "om2x", NULL), 1);

    /* the 1.x form never acts on its deadline */
    assert_int_equal(count_in(w.st, "pc1x", NULL), 0);
    sch_world_stop(&w);
    sch_world_end(&w);
}

static void test_met_deadline(void **state)
{
    (void)state;
    char dl[16];
    if (!deadline_in(3600, dl))
        skip();
    sch_world w;
    start_with_deadline(&w, dl);
    char st[32];
    int64_t d = marker_deadline(w.st, st, sizeof st);
    upstream(&w, "u1", "flow_a", "SUCCESS");
    upstream(&w, "u2", "flow_b", "SUCCESS"); /* both: the trigger fires, in both dialects */
    assert_int_equal(count_in(w.st, "om2x", "CREATED"), 1);
    assert_int_equal(count_in(w.st, "pc1x", "CREATED"), 1);
    assert_true(marker_deadline(w.st, st, sizeof st) == d);
    assert_string_equal(st, "SATISFIED");

    json_t *ex = NULL;
    check_at(&w, d + US_S, &ex); /* the deadline passes met: no FAILED execution */
    assert_null(ex);
    assert_int_equal(count_in(w.st, "om2x", "FAILED"), 0);
    assert_true(marker_deadline(w.st, st, sizeof st) == d + 86400 * US_S);
    assert_string_equal(st, "WATCHING");
    sch_world_stop(&w);
    sch_world_end(&w);
}

/* A deadline watched, then passed while no scheduler ran: the next start fails it, once; a start after it does not. */
static void test_missed_while_down(void **state)
{
    (void)state;
    char dl[16];
    if (!deadline_in(3600, dl))
        skip();
    sch_world w;
    start_with_deadline(&w, dl);
    sch_world_stop(&w);
    /* the watched deadline moved into the past, as if the process slept through it */
    json_t *row = marker(w.st);
    char past[48];
    kt_time_format(kt_now_us() - 60 * US_S, past, sizeof past);
    json_object_set_new(row, "deadline", json_string(past));
    assert_int_equal(kt_store_window_put(w.st, row), KT_OK);
    json_decref(row);

    restart(&w);
    assert_int_equal(count_in(w.st, "om2x", "FAILED"), 1);
    sch_world_stop(&w);
    restart(&w);
    assert_int_equal(count_in(w.st, "om2x", "FAILED"), 1);
    char st[32];
    assert_true(marker_deadline(w.st, st, sizeof st) > kt_now_us());
    assert_string_equal(st, "WATCHING");
    sch_world_stop(&w);
    sch_world_end(&w);
}

/* The due date armed at the deadline fires by itself: two seconds from now. */
static void test_timer(void **state)
{
    (void)state;
    char dl[16];
    if (!deadline_in(2, dl))
        skip();
    sch_world w;
    start_with_deadline(&w, dl);
    assert_int_equal(count_in(w.st, "om2x", NULL), 0);
    sch_run_ms(&w, 3500);
    assert_int_equal(count_in(w.st, "om2x", "FAILED"), 1);
    assert_int_equal(count_in(w.st, "pc1x", NULL), 0);
    sch_world_stop(&w);
    sch_world_end(&w);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missed_once),
        cmocka_unit_test(test_met_deadline),
        cmocka_unit_test(test_missed_while_down),
        cmocka_unit_test(test_timer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
