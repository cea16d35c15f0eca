/* flow/state.h: the state table against Kestra's State.java (December 2024 snapshot, KESTRA-execution.md §1.6): the
 * names and their order, every predicate, the transitions Kestra performs (allowed) and the ones it never does
 * (refused, and kt_state_set aborting on them), and kt_execution_check for documents that come in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "flow/model.h"
#include "flow/state.h"
#include "flow/tasks.h"
#include "tests/unit/abort_check.h"

#define T0 1700000000000000LL

/* State.Type's values in declaration order, as Kestra's JSON spells them. */
static const char *const kestra_types[] = {"CREATED",   "RUNNING", "PAUSED",  "RESTARTED", "KILLING",
                                           "SUCCESS",   "WARNING", "FAILED",  "KILLED",    "CANCELLED",
                                           "QUEUED",    "RETRYING", "RETRIED", "SKIPPED"};

static void test_names_round_trip(void **s)
{
    (void)s;
    assert_int_equal(KT_STATE_COUNT, sizeof kestra_types / sizeof *kestra_types);
    for (int i = 0; i < KT_STATE_COUNT; i++) {
        assert_string_equal(kt_state_name((kt_state)i), kestra_types[i]);
        assert_int_equal(kt_state_of(kestra_types[i]), i);
        assert_string_equal(kt_enum_states[i], kestra_types[i]); /* what the flow validator accepts */
        assert_true(kt_state_is_valid(kestra_types[i]));
    }
    assert_null(kt_state_names[KT_STATE_COUNT]);
    assert_null(kt_enum_states[KT_STATE_COUNT]);
    assert_string_equal(KT_S(SUCCESS), "SUCCESS");
    assert_string_equal(KT_S(RETRYING), "RETRYING");
    assert_ptr_equal(KT_S(KILLED), kt_state_name(KT_STATE_KILLED));
    /* exact and case-sensitive, as Kestra's enum deserialisation; BREAKPOINT came after this snapshot */
    static const char *const not_states[] = {"success", "", " SUCCESS", "SUCCESS ", "SUCCESSFUL", "S", "BREAKPOINT",
                                             "KILL", NULL};
    for (size_t i = 0; i < sizeof not_states / sizeof *not_states; i++) {
        assert_int_equal(kt_state_of(not_states[i]), KT_STATE_NONE);
        assert_false(kt_state_is_valid(not_states[i]));
        assert_false(kt_state_is(not_states[i], ~0u));
    }
    assert_null(kt_state_name(KT_STATE_NONE));
    assert_null(kt_state_name(KT_STATE_COUNT));
    assert_int_equal(kt_state_flags(KT_STATE_NONE), 0);
}

/* Every predicate of State.Type and State, transcribed from State.java rather than derived from the table. */
static void test_predicates_match_kestra(void **s)
{
    (void)s;
    static const struct {
        const char *name;
        int terminated, created, running, failed, paused, retrying, success, restartable, resumable;
    } kestra[] = {
        /*               term cre run fail pau retr succ restartable resumable */
        {"CREATED",      0,   1,  0,  0,   0,  0,   0,   0,          1},
        {"RUNNING",      0,   0,  1,  0,   0,  0,   0,   0,          0},
        {"PAUSED",       0,   0,  0,  0,   1,  0,   0,   1,          1},
        {"RESTARTED",    0,   1,  0,  0,   0,  0,   0,   0,          1},
        {"KILLING",      0,   0,  1,  0,   0,  0,   0,   0,          0},
        {"SUCCESS",      1,   0,  0,  0,   0,  0,   1,   0,          0},
        {"WARNING",      1,   0,  0,  0,   0,  0,   0,   0,          0},
        {"FAILED",       1,   0,  0,  1,   0,  0,   0,   1,          0},
        {"KILLED",       1,   0,  0,  0,   0,  0,   0,   0,          0},
        {"CANCELLED",    1,   0,  0,  0,   0,  0,   0,   0,          0},
        {"QUEUED",       0,   0,  0,  0,   0,  0,   0,   0,          0},
        {"RETRYING",     0,   0,  0,  0,   0,  1,   0,   0,          1},
        {"RETRIED",      1,   0,  0,  0,   0,  1,   0,   0,          1},
        {"SKIPPED",      1,   0,  0,  0,   0,  0,   0,   0,          0},
    };
    assert_int_equal(sizeof kestra / sizeof *kestra, KT_STATE_COUNT);
    size_t nterminated = 0, nrunning_types = 0;
    for (size_t i = 0; i < sizeof kestra / sizeof *kestra; i++) {
        const char *n = kestra[i].name;
        unsigned f = kt_state_flags(kt_state_of(n));
        if (!!(f & KT_SF_TERMINATED) != kestra[i].terminated || !!(f & KT_SF_CREATED) != kestra[i].created ||
            !!(f & KT_SF_RUNNING) != kestra[i].running || !!(f & KT_SF_FAILED) != kestra[i].failed ||
            !!(f & KT_SF_PAUSED) != kestra[i].paused || !!(f & KT_SF_RETRYING) != kestra[i].retrying ||
            !!(f & KT_SF_SUCCESS) != kestra[i].success || !!(f & KT_SF_RESTARTABLE) != kestra[i].restartable ||
            !!(f & KT_SF_RESUMABLE) != kestra[i].resumable)
            fail_msg("%s: flags 0x%x do not match State.java", n, f);
        /* the model's string predicates read the same table */
        assert_int_equal(!!kt_state_is_terminated(n), kestra[i].terminated);
        assert_int_equal(!!kt_state_is_running(n), kestra[i].running);
        nterminated += kestra[i].terminated;
        nrunning_types += kestra[i].running || kestra[i].created; /* State.runningTypes() */
    }
    assert_int_equal(nterminated, 7); /* terminatedTypes() */
    assert_int_equal(nrunning_types, 4); /* CREATED, RUNNING, RESTARTED, KILLING */
    assert_int_equal(__builtin_popcount((unsigned)KT_STATE_MASK_TERMINATED), 7);
    assert_false(kt_state_is_terminated(NULL));
    assert_false(kt_state_is_running(NULL));
}

typedef struct move {
    const char *from, *to;
} move;

/* Transitions Kestra's code performs (KESTRA-execution.md §1.6's table and the sections it points to). */
static const move kestra_moves[] = {
    /* execution: start, concurrency (§2.14), pause/resume (§2.11), retry (§2.7), kill (§2.13), end (§2.17) */
    {"CREATED", "RUNNING"}, {"CREATED", "QUEUED"}, {"QUEUED", "RUNNING"}, {"QUEUED", "CANCELLED"},
    {"QUEUED", "FAILED"}, {"CREATED", "CANCELLED"}, {"CREATED", "FAILED"}, {"RUNNING", "PAUSED"},
    {"PAUSED", "RESTARTED"}, {"RESTARTED", "RUNNING"}, {"RUNNING", "RETRYING"}, {"RETRYING", "RUNNING"},
    {"RUNNING", "FAILED"}, {"FAILED", "RETRYING"}, {"RUNNING", "RETRIED"}, {"FAILED", "RETRIED"},
    {"CREATED", "KILLING"}, {"RUNNING", "KILLING"}, {"PAUSED", "KILLING"}, {"QUEUED", "KILLING"},
    {"RETRYING", "KILLING"}, {"RESTARTED", "KILLING"}, {"KILLING", "KILLED"}, {"RUNNING", "SUCCESS"},
    {"RUNNING", "WARNING"}, {"RUNNING", "KILLED"}, {"SUCCESS", "FAILED"}, {"WARNING", "FAILED"},
    {"PAUSED", "FAILED"}, {"PAUSED", "RUNNING"}, {"RETRYING", "PAUSED"}, {"RETRYING", "FAILED"},
    /* restart of a terminated or paused execution (§2.15), change-status (terminated to terminated) */
    {"FAILED", "RESTARTED"}, {"SUCCESS", "RESTARTED"}, {"KILLED", "RESTARTED"}, {"CANCELLED", "RESTARTED"},
    {"FAILED", "SUCCESS"}, {"SUCCESS", "WARNING"}, {"KILLED", "CANCELLED"}, {"WARNING", "SKIPPED"},
    {"SUCCESS", "RETRIED"},
    /* task runs: worker, runIf, kill before start, retry, Pause, restart ancestors, markAs */
    {"CREATED", "SKIPPED"}, {"RESTARTED", "SKIPPED"}, {"CREATED", "KILLED"}, {"RESTARTED", "KILLED"},
    {"RETRYING", "CREATED"}, {"RUNNING", "CANCELLED"}, {"RUNNING", "SKIPPED"}, {"FAILED", "RUNNING"},
    {"WARNING", "RUNNING"}, {"SUCCESS", "RUNNING"}, {"KILLED", "RUNNING"}, {"PAUSED", "SUCCESS"},
    {"KILLING", "SUCCESS"}, {"RUNNING", "RESTARTED"}, {"RETRYING", "RETRIED"},
};

/* Moves Kestra never makes: each one in Kite would be a bug. */
static const move never[] = {
    {"RUNNING", "CREATED"},  {"SUCCESS", "CREATED"},   {"PAUSED", "CREATED"},    {"QUEUED", "CREATED"},
    {"RUNNING", "QUEUED"},   {"RESTARTED", "QUEUED"},  {"FAILED", "QUEUED"},     {"SUCCESS", "KILLING"},
    {"KILLED", "KILLING"},   {"SUCCESS", "PAUSED"},    {"CREATED", "PAUSED"},    {"KILLING", "PAUSED"},
    {"QUEUED", "PAUSED"},    {"SKIPPED", "RUNNING"},   {"CANCELLED", "RUNNING"}, {"QUEUED", "SUCCESS"},
    {"QUEUED", "WARNING"},   {"QUEUED", "SKIPPED"},    {"PAUSED", "SKIPPED"},    {"KILLING", "SKIPPED"},
    {"RETRYING", "SKIPPED"}, {"SUCCESS", "RETRYING"},  {"CREATED", "RETRYING"},  {"KILLING", "RETRYING"},
    {"CREATED", "RESTARTED"}, {"QUEUED", "RESTARTED"}, {"QUEUED", "RETRIED"},    {"CREATED", "RETRIED"},
};

static void test_transitions(void **s)
{
    (void)s;
    for (size_t i = 0; i < sizeof kestra_moves / sizeof *kestra_moves; i++)
        if (!kt_state_can_move(kt_state_of(kestra_moves[i].from), kt_state_of(kestra_moves[i].to)))
            fail_msg("%s -> %s is refused, Kestra does it", kestra_moves[i].from, kestra_moves[i].to);
    for (size_t i = 0; i < sizeof never / sizeof *never; i++)
        if (kt_state_can_move(kt_state_of(never[i].from), kt_state_of(never[i].to)))
            fail_msg("%s -> %s is allowed, Kestra never does it", never[i].from, never[i].to);
    /* rules over the whole table */
    for (int a = 0; a < KT_STATE_COUNT; a++) {
        assert_true(kt_state_can_move((kt_state)a, (kt_state)a)); /* withState(current) adds nothing */
        assert_false(kt_state_can_move(KT_STATE_NONE, (kt_state)a));
        assert_false(kt_state_can_move((kt_state)a, KT_STATE_NONE));
        for (int b = 0; b < KT_STATE_COUNT; b++) {
            unsigned fa = kt_state_flags((kt_state)a), fb = kt_state_flags((kt_state)b);
            int ok = kt_state_can_move((kt_state)a, (kt_state)b);
            if ((fa & KT_SF_TERMINATED) && (fb & KT_SF_TERMINATED) && !ok) /* change-status */
                fail_msg("%s -> %s: terminated to terminated must be allowed", kestra_types[a], kestra_types[b]);
            if (a != b && b == KT_STATE_CREATED && a != KT_STATE_RETRYING && ok)
                fail_msg("%s -> CREATED: only a retry goes back to CREATED", kestra_types[a]);
            if (a != b && b == KT_STATE_QUEUED && a != KT_STATE_CREATED && ok)
                fail_msg("%s -> QUEUED: only a CREATED execution is queued", kestra_types[a]);
            if ((fa & KT_SF_TERMINATED) && b == KT_STATE_KILLING && ok)
                fail_msg("%s -> KILLING: a terminated execution is not killed", kestra_types[a]);
            if (!(fa & KT_SF_TERMINATED) && (b == KT_STATE_FAILED || b == KT_STATE_KILLED) && !ok)
                /* failedExecutionFromExecutor, an SLA, a kill: from anything still open */
                fail_msg("%s -> %s must be allowed", kestra_types[a], kestra_types[b]);
        }
    }
}

/* Histories written through kt_state_set: the paths of §1.6's table end as Kestra writes them. */
static void test_set_follows_kestra_paths(void **s)
{
    (void)s;
    static const char *const paths[] = {
        "CREATED,RUNNING,PAUSED,RESTARTED,RUNNING,SUCCESS",
        "CREATED,RUNNING,FAILED,RETRYING,RUNNING,WARNING",
        "CREATED,QUEUED,RUNNING,KILLING,KILLED",
        "CREATED,RUNNING,FAILED,RETRYING,CREATED,RUNNING,SUCCESS,FAILED",
        "CREATED,RUNNING,PAUSED,FAILED,RESTARTED,RUNNING,SUCCESS",
        "CREATED,SKIPPED",
        "CREATED,QUEUED,CANCELLED",
    };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s", paths[i]);
        json_t *st = NULL;
        size_t n = 0;
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), n++) {
            if (!st)
                st = kt_state_new(tok, T0);
            else
                kt_state_set(st, tok, T0 + (int64_t)n * 1000);
            kt_state_set(st, tok, T0 + (int64_t)n * 2000); /* the same state again adds nothing */
        }
        assert_int_equal(json_array_size(json_object_get(st, "histories")), n);
        json_decref(st);
    }
}

static void move_state(void *arg)
{
    const move *m = arg;
    json_t *st = kt_state_new(m->from, T0);
    kt_state_set(st, m->to, T0 + 1000);
    json_decref(st);
}

static void new_state(void *name) { json_decref(kt_state_new(name, T0)); }

static void test_set_asserts_on_refused_moves(void **s)
{
    (void)s;
    char out[512];
    for (size_t i = 0; i < sizeof never / sizeof *never; i++) {
        if (!abort_check(move_state, (void *)&never[i], out, sizeof out))
            fail_msg("%s -> %s did not abort", never[i].from, never[i].to);
        char want[64];
        snprintf(want, sizeof want, "state %s -> %s", never[i].from, never[i].to);
        if (!strstr(out, "kite: assertion failed: ") || !strstr(out, want) || !strstr(out, "model.c:"))
            fail_msg("%s -> %s: stderr was '%s'", never[i].from, never[i].to, out);
    }
    /* an allowed move does not abort */
    assert_false(abort_check(move_state, &(move){"RUNNING", "SUCCESS"}, out, sizeof out));
    assert_string_equal(out, "");
    /* a name that is not a state is a caller's bug too */
    assert_true(abort_check(move_state, &(move){"RUNNING", "DONE"}, out, sizeof out));
    assert_non_null(strstr(out, "'DONE' is not a state"));
    assert_true(abort_check(new_state, "running", out, sizeof out));
    assert_non_null(strstr(out, "'running' is not a state"));
}

static void test_execution_check(void **s)
{
    (void)s;
    char err[256];
    json_t *ex = kt_execution_new("ex1", "company.team", "flow", 1, NULL, NULL, NULL, T0);
    json_t *tr = kt_taskrun_add(ex, "tr1", "t1", NULL, NULL, T0);
    json_object_set_new(tr, "attempts", json_pack("[{s:o}]", "state", kt_state_new(KT_S(RUNNING), T0)));
    assert_int_equal(kt_execution_check(ex, err, sizeof err), KT_OK);

    json_t *bad = json_deep_copy(ex);
    json_object_set_new(json_object_get(bad, "state"), "current", json_string("DONE"));
    assert_int_equal(kt_execution_check(bad, err, sizeof err), KT_EINVAL);
    assert_string_equal(err, "execution ex1 has no valid state (DONE)");
    json_decref(bad);

    bad = json_deep_copy(ex);
    json_object_del(json_array_get(json_object_get(bad, "taskRunList"), 0), "state");
    assert_int_equal(kt_execution_check(bad, err, sizeof err), KT_EINVAL);
    assert_string_equal(err, "task run tr1 has no valid state (none)");
    json_decref(bad);

    bad = json_deep_copy(ex);
    json_t *tr1 = json_array_get(json_object_get(bad, "taskRunList"), 0);
    json_t *att = json_array_get(json_object_get(tr1, "attempts"), 0);
    json_object_set_new(json_object_get(att, "state"), "current", json_integer(3));
    assert_int_equal(kt_execution_check(bad, err, sizeof err), KT_EINVAL);
    assert_string_equal(err, "an attempt of task run tr1 has no valid state (none)");
    json_decref(bad);

    bad = json_deep_copy(ex);
    json_object_del(json_array_get(json_object_get(bad, "taskRunList"), 0), "id");
    assert_int_equal(kt_execution_check(bad, err, sizeof err), KT_EINVAL);
    assert_string_equal(err, "execution ex1 has a task run without id");
    json_decref(bad);
    json_decref(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_predicates_match_kestra),
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_set_follows_kestra_paths),
        cmocka_unit_test(test_set_asserts_on_refused_moves),
        cmocka_unit_test(test_execution_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
