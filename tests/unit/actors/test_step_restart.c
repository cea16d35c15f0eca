/* Restart, replay, markAs and change-status as pure transformations (actors/executor/restart.h, KESTRA-execution.md
 * §2.15), on executions the step itself ran: what Kestra's ExecutionServiceTest asserts (states, history sizes, ids,
 * task-run counts of replays in Sequential, EachSequential, EachParallel and Parallel trees), then the step running
 * a restarted execution again from its RESTARTED runs only. */
#include "step_fixture.h"

#include "actors/executor/restart.h"
#include "base/partition.h"

#define LOG(id) "{\"id\":\"" id "\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}"
#define SEQ(id, kids) "{\"id\":\"" id "\",\"type\":\"io.kestra.plugin.core.flow.Sequential\",\"tasks\":[" kids "]}"
#define PAR(id, kids) "{\"id\":\"" id "\",\"type\":\"io.kestra.plugin.core.flow.Parallel\",\"tasks\":[" kids "]}"
#define EACHSEQ(id, v, kids) \
    "{\"id\":\"" id "\",\"type\":\"io.kestra.plugin.core.flow.EachSequential\",\"value\":" v ",\"tasks\":[" kids "]}"
#define EACHPAR(id, v, kids) \
    "{\"id\":\"" id "\",\"type\":\"io.kestra.plugin.core.flow.EachParallel\",\"value\":" v ",\"tasks\":[" kids "]}"

/* Runs ex (new when NULL) to its end: every dispatched attempt ends with the state `fail_task` gets FAILED, others
 * SUCCESS. */
static json_t *run_from(const json_t *flow, json_t *ex, const char *fail_task)
{
    if (!ex)
        ex = new_exec();
    kt_exec_effects fx;
    int64_t now = T0 + 1000 * SEC;
    assert_int_equal(step_flow(flow, ex, ev_start(now), &fx), KT_OK);
    json_t *queue = json_array();
    for (;;) {
        for (size_t i = 0; i < fx.ndispatch; i++)
            json_array_append_new(queue, json_pack("[s,s,i]", fx.dispatch[i].taskrun_id, fx.dispatch[i].task_id,
                                                   (int)fx.dispatch[i].attempt));
        if (!json_array_size(queue))
            break;
        json_t *d = json_incref(json_array_get(queue, 0));
        json_array_remove(queue, 0);
        now += SEC;
        const char *task = json_string_value(json_array_get(d, 1));
        const char *st = fail_task && !strcmp(task, fail_task) ? "FAILED" : "SUCCESS";
        assert_int_equal(step_flow(flow, ex,
                                   ev_result(json_string_value(json_array_get(d, 0)),
                                             (uint32_t)json_integer_value(json_array_get(d, 2)), st, now),
                                   &fx),
                         KT_OK);
        json_decref(d);
    }
    json_decref(queue);
    return ex;
}

static json_t *run_all(const json_t *flow, const char *fail_task) { return run_from(flow, NULL, fail_task); }

static json_t *find_run(const json_t *ex, const char *task_id, const char *value)
{
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) {
        const char *v = json_string_value(json_object_get(tr, "value"));
        if (!strcmp(json_string_value(json_object_get(tr, "taskId")), task_id) &&
            (!value || (v && !strcmp(v, value))))
            return tr;
    }
    return NULL;
}

static size_t nhist(const json_t *holder) { return json_array_size(json_object_get(json_object_get(holder, "state"), "histories")); }
static const char *sid(const json_t *o) { return json_string_value(json_object_get(o, "id")); }

static kt_env test_env(int64_t now)
{
    kt_env env;
    kt_env_init(&env, now, 1);
    env.ids = test_idgen;
    return env;
}

/* restart_last_failed: [a, b, c (fails)] + errors [e]: ExecutionServiceTest.restartSimple */
static void test_restart_simple(void **state)
{
    (void)state;
    json_t *flow = parse("{\"tasks\":[" LOG("a") "," LOG("b") "," LOG("c") "],\"errors\":[" LOG("e") "]}");
    json_t *ex = run_all(flow, "c");
    assert_string_equal(kt_state_current(ex), "FAILED");
    assert_int_equal(nruns(ex), 4);
    char c_id[32];
    snprintf(c_id, sizeof c_id, "%s", sid(find_run(ex, "c", NULL)));
    kt_env env = test_env(T0 + 100 * SEC);
    char err[256];
    assert_int_equal(kt_exec_restart(flow, ex, 0, &env, T0 + 100 * SEC, err, sizeof err), KT_OK);
    assert_string_equal(sid(ex), "ex1");
    assert_string_equal(kt_state_current(ex), "RESTARTED");
    assert_int_equal(nhist(ex), 4); /* CREATED, RUNNING, FAILED, RESTARTED */
    assert_int_equal(nruns(ex), 3); /* the errors run is gone */
    assert_null(find_run(ex, "e", NULL));
    json_t *c = taskrun_at(ex, 2);
    assert_string_equal(sid(c), c_id);
    check_state(c, "CREATED,RUNNING,FAILED,RESTARTED", NULL);
    check_state(taskrun_at(ex, 0), "CREATED,RUNNING,SUCCESS", NULL);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ex, "metadata"), "attemptNumber")), 2);
    assert_null(json_object_get(ex, "parentId"));

    /* the step runs it again: RUNNING, only c dispatched (its second attempt), then SUCCESS */
    kt_exec_effects fx;
    assert_int_equal(step_flow(flow, ex, ev_start(T0 + 101 * SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "RUNNING");
    check_dispatch(&fx, c_id, "c", 1);
    assert_int_equal(step_flow(flow, ex, ev_result(c_id, 1, "SUCCESS", T0 + 102 * SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    assert_int_equal(nruns(ex), 3);
    assert_int_equal(json_array_size(json_object_get(taskrun_at(ex, 0), "attempts")), 1);
    assert_int_equal(json_array_size(json_object_get(taskrun_at(ex, 2), "attempts")), 2);

    /* nothing left to restart, and an execution that has not ended */
    assert_int_equal(kt_exec_restart(flow, ex, 0, &env, T0 + 103 * SEC, err, sizeof err), KT_EINVAL);
    assert_string_equal(err, "No task found to restart execution from!");
    kt_state_set(json_object_get(ex, "state"), "RUNNING", T0 + 104 * SEC);
    assert_int_equal(kt_exec_restart(flow, ex, 0, &env, T0 + 104 * SEC, err, sizeof err), KT_ECONFLICT);
    assert_string_equal(err, "Execution must be terminated to be restarted, current state is 'RUNNING' !");
    json_decref(ex);
    json_decref(flow);
}

/* restartSimpleRevision: a new execution, linked to the old one, with new task-run ids */
static void test_restart_revision(void **state)
{
    (void)state;
    json_t *flow = parse("{\"tasks\":[" SEQ("s", LOG("x") "," LOG("y")) "]}");
    json_t *ex = run_all(flow, "y");
    json_t *old = json_deep_copy(ex);
    kt_env env = test_env(T0 + 100 * SEC);
    char err[256];
    assert_int_equal(kt_exec_restart(flow, ex, 4, &env, T0 + 100 * SEC, err, sizeof err), KT_OK);
    assert_string_not_equal(sid(ex), "ex1");
    assert_string_equal(json_string_value(json_object_get(ex, "parentId")), "ex1");
    assert_string_equal(json_string_value(json_object_get(ex, "originalId")), "ex1");
    assert_int_equal(json_integer_value(json_object_get(ex, "flowRevision")), 4);
    assert_int_equal(nruns(ex), 3);
    json_t *s = find_run(ex, "s", NULL), *x = find_run(ex, "x", NULL), *y = find_run(ex, "y", NULL);
    assert_string_not_equal(sid(s), sid(find_run(old, "s", NULL)));
    assert_string_equal(json_string_value(json_object_get(y, "parentTaskRunId")), sid(s)); /* links follow */
    assert_string_equal(json_string_value(json_object_get(y, "executionId")), sid(ex));
    assert_string_equal(kt_state_current(s), "RUNNING"); /* a flowable ancestor */
    assert_string_equal(kt_state_current(y), "RESTARTED");
    assert_string_equal(kt_state_current(x), "SUCCESS");
    json_decref(old);
    json_decref(ex);
    json_decref(flow);
}

/* A WorkingDirectory restarted whole: its children run again inside its job (restartDynamic) */
static void test_restart_working_directory(void **state)
{
    (void)state;
    json_t *flow = parse("{\"tasks\":[{\"id\":\"w\",\"type\":\"io.kestra.plugin.core.flow.WorkingDirectory\","
                         "\"tasks\":[" LOG("a") "," LOG("b") "]}]}");
    json_t *ex = new_exec();
    json_t *w = kt_taskrun_add(ex, "w1", "w", NULL, NULL, T0);
    kt_state_set(json_object_get(w, "state"), "RUNNING", T0 + SEC);
    kt_state_set(json_object_get(w, "state"), "FAILED", T0 + 2 * SEC);
    json_t *a = kt_taskrun_add(ex, "a1", "a", "w1", NULL, T0);
    kt_state_set(json_object_get(a, "state"), "SUCCESS", T0 + SEC);
    json_t *b = kt_taskrun_add(ex, "b1", "b", "w1", NULL, T0);
    kt_state_set(json_object_get(b, "state"), "FAILED", T0 + SEC);
    kt_state_set(json_object_get(ex, "state"), "FAILED", T0 + 3 * SEC);
    kt_env env = test_env(T0);
    char err[256];
    assert_int_equal(kt_exec_restart(flow, ex, 0, &env, T0 + 10 * SEC, err, sizeof err), KT_OK);
    assert_int_equal(nruns(ex), 1);
    check_state(taskrun_at(ex, 0), "CREATED,RUNNING,FAILED,RESTARTED", NULL);
    json_decref(ex);
    json_decref(flow);
}

static void replay_count(const char *flow_json, const char *task, const char *value, size_t want_runs,
                         const char *want_state)
{
    json_t *flow = parse(flow_json);
    json_t *ex = run_all(flow, NULL);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_t *from = find_run(ex, task, value);
    assert_non_null(from);
    kt_env env = test_env(T0 + 500 * SEC);
    json_t *out = NULL;
    char err[256];
    assert_int_equal(kt_exec_replay(flow, ex, sid(from), 0, &env, T0 + 500 * SEC, &out, err, sizeof err), KT_OK);
    assert_string_equal(kt_state_current(out), "RESTARTED");
    assert_int_equal(nhist(out), 4);
    if (nruns(out) != want_runs)
        fail_msg("replay from %s[%s]: %zu runs, want %zu", task, value ? value : "", nruns(out), want_runs);
    json_t *r = find_run(out, task, value);
    assert_non_null(r);
    assert_string_equal(kt_state_current(r), want_state);
    assert_int_equal(nhist(r), 4);
    assert_string_not_equal(sid(out), "ex1");
    assert_string_equal(json_string_value(json_object_get(out, "parentId")), "ex1");
    assert_string_not_equal(sid(taskrun_at(out, 1)), sid(taskrun_at(ex, 1)));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "metadata"), "attemptNumber")), 2);
    /* the step runs the replay to its end: every run of the first execution again, nothing twice */
    out = run_from(flow, out, NULL);
    if (strcmp(kt_state_current(out), "SUCCESS") || nruns(out) != nruns(ex)) {
        size_t i;
        json_t *tr;
        json_array_foreach(json_object_get(out, "taskRunList"), i, tr)
            print_message("  %s %s[%s] %s\n", json_string_value(json_object_get(tr, "id")),
                          json_string_value(json_object_get(tr, "taskId")),
                          json_string_value(json_object_get(tr, "value")) ? json_string_value(json_object_get(tr, "value")) : "",
                          kt_state_current(tr));
        fail_msg("replay from %s[%s] ran to %s with %zu runs (want SUCCESS, %zu)", task, value ? value : "",
                 kt_state_current(out), nruns(out), nruns(ex));
    }
    json_decref(out);
    json_decref(ex);
    json_decref(flow);
}

#define EACH_SEQ_NESTED                                                                                   \
    "{\"tasks\":[" EACHSEQ("1_each", "[\"s1\",\"s2\",\"s3\"]",                                          \
                           LOG("1-1_return") "," EACHSEQ("1-2_each", "\"[\\\"a a\\\", \\\"b b\\\"]\"",   \
                                                         LOG("1-2-1_return") "," LOG("1-2-2_return")) "," \
                                                 LOG("1-3_return")) "," LOG("2_return") "]}"
#define EACH_PAR_NESTED                                                                                     \
    "{\"tasks\":[" EACHPAR("1_each", "[\"value 1\",\"value 2\",\"value 3\"]",                              \
                           SEQ("2-1_seq", LOG("2-1-1_t1") "," LOG("2-1-2_t2"))) "," LOG("2_end") "]}"
#define PARALLEL_NESTED                                                                                  \
    "{\"tasks\":[" PAR("1_par", LOG("1-1") "," LOG("1-2") "," PAR("1-3_par", LOG("1-3-1") "," SEQ("1-3-2_par", \
        LOG("1-3-2-1") "," LOG("1-3-2-2_end")) "," LOG("1-3-3_end")) "," LOG("1-4_end")) "," LOG("2_end") "]}"

/* ExecutionServiceTest.replaySimple, replayEachSeq, replayEachSeq2, replayEachPara, replayParallel */
static void test_replay_counts(void **state)
{
    (void)state;
    replay_count("{\"tasks\":[" LOG("a") "," LOG("b") "," LOG("c") "," LOG("d") "," LOG("e") "]}", "b", NULL, 2,
                 "RESTARTED");
    replay_count(EACH_SEQ_NESTED, "1-2_each", "s1", 5, "RUNNING");
    replay_count(EACH_SEQ_NESTED, "1-2-1_return", "a a", 6, "RESTARTED");
    replay_count(EACH_PAR_NESTED, "2-1_seq", "value 1", 8, "RUNNING");
    replay_count(PARALLEL_NESTED, "1-3-2_par", NULL, 8, "RUNNING");
}

/* replayFromBeginning, and a task run that is not there */
static void test_replay_from_start(void **state)
{
    (void)state;
    json_t *flow = parse("{\"tasks\":[" LOG("a") "," LOG("b") "]}");
    json_t *ex = run_all(flow, NULL);
    kt_env env = test_env(T0 + 500 * SEC);
    json_t *out = NULL;
    char err[256];
    assert_int_equal(kt_exec_replay(flow, ex, NULL, 0, &env, T0 + 500 * SEC, &out, err, sizeof err), KT_OK);
    assert_string_equal(kt_state_current(out), "CREATED");
    assert_int_equal(nhist(out), 1);
    assert_int_equal(nruns(out), 0);
    assert_string_not_equal(sid(out), "ex1");
    json_decref(out);
    assert_int_equal(kt_exec_replay(flow, ex, "nope", 0, &env, T0, &out, err, sizeof err), KT_EINVAL);
    assert_null(out);
    assert_string_equal(err, "No task found to restart execution from!");
    json_decref(ex);
    json_decref(flow);
}

/* A new execution made by restart or replay (base/partition.h): for a flow with a concurrency limit its id is in the
 * flow's partition, drawn from the environment (the same seed, the same id); without the flow (a retry's replay)
 * it stays in its source's partition; an unlimited flow's replay takes the environment's first id. */
static void test_new_execution_partition(void **state)
{
    (void)state;
    json_t *limited = parse("{\"concurrency\":{\"limit\":1},\"tasks\":[" LOG("a") "," LOG("b") "]}");
    json_t *ex = run_all(limited, "b");
    int want = kt_flow_partition("company.team", "flow");
    for (uint64_t seed = 1; seed <= 20; seed++) {
        kt_env env, same;
        kt_env_init(&env, T0, seed);
        kt_env_init(&same, T0, seed);
        json_t *out = NULL, *again = NULL;
        char err[256];
        assert_int_equal(kt_exec_replay(limited, ex, NULL, 0, &env, T0 + 500 * SEC, &out, err, sizeof err), KT_OK);
        assert_int_equal(kt_exec_partition(sid(out)), want);
        assert_int_equal(kt_exec_replay(limited, ex, NULL, 0, &same, T0 + 500 * SEC, &again, err, sizeof err),
                         KT_OK);
        assert_string_equal(sid(out), sid(again));
        json_decref(out), json_decref(again);
        json_t *copy = json_deep_copy(ex);
        assert_int_equal(kt_exec_restart(limited, copy, 4, &env, T0 + 500 * SEC, err, sizeof err), KT_OK);
        assert_string_not_equal(sid(copy), "ex1");
        assert_int_equal(kt_exec_partition(sid(copy)), want);
        json_decref(copy);
        /* no flow: the source's partition (ex1's) */
        assert_int_equal(kt_exec_replay(NULL, ex, NULL, 0, &env, T0 + 500 * SEC, &out, err, sizeof err), KT_OK);
        assert_int_equal(kt_exec_partition(sid(out)), kt_exec_partition("ex1"));
        json_decref(out);
    }
    json_t *free_flow = parse("{\"tasks\":[" LOG("a") "]}");
    kt_env env, first;
    kt_env_init(&env, T0, 99);
    kt_env_init(&first, T0, 99);
    json_t *out = NULL;
    char err[256], id[KT_ID_LEN + 1];
    assert_int_equal(kt_exec_replay(free_flow, ex, NULL, 0, &env, T0 + 500 * SEC, &out, err, sizeof err), KT_OK);
    kt_env_id(&first, id);
    assert_string_equal(sid(out), id);
    json_decref(out);
    json_decref(free_flow);
    json_decref(ex);
    json_decref(limited);
}

/* markAs: the run and its last attempt take the state, its flowable parents RUNNING, the execution RESTARTED; the
 * step then goes on from there */
static void test_mark_as(void **state)
{
    (void)state;
    json_t *flow = parse("{\"tasks\":[" SEQ("s", LOG("x") "," LOG("y")) "," LOG("z") "]}");
    json_t *ex = run_all(flow, "x");
    assert_string_equal(kt_state_current(ex), "FAILED");
    assert_int_equal(nruns(ex), 2); /* s, x */
    json_t *x = find_run(ex, "x", NULL);
    char err[256];
    assert_int_equal(kt_exec_mark_as(flow, ex, "nope", "SUCCESS", T0, err, sizeof err), KT_EINVAL);
    assert_int_equal(kt_exec_mark_as(flow, ex, sid(x), "BOGUS", T0, err, sizeof err), KT_EINVAL);
    assert_int_equal(kt_exec_mark_as(flow, ex, sid(x), "SUCCESS", T0 + 50 * SEC, err, sizeof err), KT_OK);
    assert_string_equal(kt_state_current(ex), "RESTARTED");
    assert_string_equal(kt_state_current(x), "SUCCESS");
    assert_string_equal(kt_state_current(attempt_at(x, 0)), "SUCCESS");
    assert_string_equal(kt_state_current(find_run(ex, "s", NULL)), "RUNNING");
    kt_exec_effects fx;
    assert_int_equal(step_flow(flow, ex, ev_start(T0 + 51 * SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "RUNNING");
    check_dispatch(&fx, sid(find_run(ex, "y", NULL)), "y", 0);
    json_decref(ex);

    /* another run still PAUSED: the execution keeps its state */
    ex = new_exec();
    kt_taskrun_add(ex, "p1", "x", NULL, NULL, T0);
    json_t *p = kt_taskrun_add(ex, "p2", "y", NULL, NULL, T0);
    kt_state_set(json_object_get(taskrun_at(ex, 0), "state"), "RUNNING", T0);
    kt_state_set(json_object_get(p, "state"), "RUNNING", T0);
    kt_state_set(json_object_get(p, "state"), "PAUSED", T0);
    kt_state_set(json_object_get(ex, "state"), "RUNNING", T0);
    kt_state_set(json_object_get(ex, "state"), "PAUSED", T0);
    /* a change Kestra never makes is refused, nothing changed (the step would assert on it) */
    assert_int_equal(kt_exec_mark_as(flow, ex, "p1", "CREATED", T0 + SEC, err, sizeof err), KT_EINVAL);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "RUNNING");
    assert_int_equal(kt_exec_mark_as(flow, ex, "p1", "FAILED", T0 + SEC, err, sizeof err), KT_OK);
    assert_string_equal(kt_state_current(ex), "PAUSED");
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "FAILED");
    json_decref(ex);
    json_decref(flow);
}

static void test_change_status(void **state)
{
    (void)state;
    json_t *ex = new_exec();
    char err[256];
    assert_int_equal(kt_exec_change_status(ex, "SUCCESS", T0, err, sizeof err), KT_EINVAL);
    assert_string_equal(err, "You can only change the status of a terminated execution.");
    kt_state_set(json_object_get(ex, "state"), "FAILED", T0 + SEC);
    assert_int_equal(kt_exec_change_status(ex, "RUNNING", T0, err, sizeof err), KT_EINVAL);
    assert_string_equal(err, "You can only change the status of an execution to a terminal state.");
    assert_int_equal(kt_exec_change_status(ex, "SUCCESS", T0 + 2 * SEC, err, sizeof err), KT_OK);
    check_state(ex, "CREATED,FAILED,SUCCESS", NULL);
    json_decref(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_restart_simple, reset_ids),
        cmocka_unit_test_setup(test_restart_revision, reset_ids),
        cmocka_unit_test_setup(test_restart_working_directory, reset_ids),
        cmocka_unit_test_setup(test_replay_counts, reset_ids),
        cmocka_unit_test_setup(test_replay_from_start, reset_ids),
        cmocka_unit_test_setup(test_new_execution_partition, reset_ids),
        cmocka_unit_test_setup(test_mark_as, reset_ids),
        cmocka_unit_test_setup(test_change_status, reset_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
