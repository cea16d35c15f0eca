/* The execution lifecycle of Kestra 1.x, in both dialects (issue 13, WP2): flow-level `finally` (after tasks and
 * errors, while the execution is RUNNING; the final state is what tasks made it), flow-level `afterExecution` (once
 * the execution has ended; sees the final state; never changes it), execution.Exit, SetVariables and UnsetVariables.
 * The flows are tests/dialects/lifecycle/ (one YAML file each), each stepped once as written (1.x) and once with `dialect: 2.x`:
 * these rules are the same in both lines. */
#include "step_fixture.h"
#include "actors/executor/restart.h"
#include "flow/flow.h"


static json_t *g_flow; /* the flow of the running test, dialect set */

/* tests/dialects/lifecycle/<name>.yaml parsed, its dialect forced to `dialect` ("1.x" or "2.x"). */
static json_t *load_flow(const char *name, const char *dialect)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/dialects/lifecycle/%s.yaml", KITE_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 64, f);
    fclose(f);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\ndialect: %s\n", dialect);
    kt_flow *fl = NULL;
    kt_diags d;
    kt_diags_init(&d);
    kt_status st = kt_flow_parse(buf, n, path, &fl, &d);
    if (st != KT_OK) {
        char *msg = kt_diags_format(&d);
        fprintf(stderr, "%s\n", msg ? msg : "?");
        free(msg);
    }
    assert_int_equal(st, KT_OK);
    kt_diags_clear(&d);
    json_t *j = json_deep_copy(kt_flow_json(fl));
    kt_flow_free(fl);
    assert_string_equal(json_string_value(json_object_get(j, "dialect")), dialect);
    return j;
}

static kt_status go(json_t *ex, kt_exec_event ev, kt_exec_effects *fx) { return step_flow(g_flow, ex, ev, fx); }

static const json_t *run_of(const json_t *ex, const char *task_id)
{
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) if (!strcmp(
        json_string_value(json_object_get(tr, "taskId")), task_id)) return tr;
    return NULL;
}

static const char *state_of(const json_t *ex, const char *task_id)
{
    const json_t *tr = run_of(ex, task_id);
    return tr ? kt_state_current(tr) : NULL;
}

/* The run of task_id is the one dispatched (alone), then it ends in `state`. */
static void finish(json_t *ex, kt_exec_effects *fx, const char *task_id, const char *state, int64_t at)
{
    assert_int_equal(fx->ndispatch, 1);
    assert_string_equal(fx->dispatch[0].task_id, task_id);
    char trid[KT_ID_LEN + 1];
    snprintf(trid, sizeof trid, "%s", fx->dispatch[0].taskrun_id);
    assert_int_equal(go(ex, ev_result(trid, fx->dispatch[0].attempt, state, at), fx), KT_OK);
}

static const char *const dialects[] = {"1.x", "2.x"};

/* finally after a success: the two finally tasks run in order while the execution is RUNNING; errors never. */
static void test_finally_after_success(void **state)
{
    (void)state;
    for (size_t d = 0; d < 2; d++) {
        g_ids = 0;
        g_flow = load_flow("finally_success", dialects[d]);
        json_t *ex = new_exec();
        kt_exec_effects fx;
        assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
        finish(ex, &fx, "work", "SUCCESS", T0 + SEC);
        assert_string_equal(kt_state_current(ex), "RUNNING");
        finish(ex, &fx, "cleanup", "SUCCESS", T0 + 2 * SEC);
        assert_string_equal(kt_state_current(ex), "RUNNING");
        assert_int_equal(fx.ended, 0);
        finish(ex, &fx, "cleanup2", "SUCCESS", T0 + 3 * SEC);
        assert_int_equal(fx.ended, 1);
        assert_string_equal(kt_state_current(ex), "SUCCESS");
        assert_null(run_of(ex, "alert"));
        assert_int_equal(nruns(ex), 3);
        json_decref(ex);
        json_decref(g_flow);
    }
}

/* finally after errors (the docs' example): the failure, its errors branch, then finally; the execution FAILED. */
static void test_finally_after_errors(void **state)
{
    (void)state;
    for (size_t d = 0; d < 2; d++) {
        g_ids = 0;
        g_flow = load_flow("finally_errors", dialects[d]);
        json_t *ex = new_exec();
        kt_exec_effects fx;
        assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
        finish(ex, &fx, "fail", "FAILED", T0 + SEC);
        assert_null(run_of(ex, "cleanup_task")); /* not before errors ended */
        finish(ex, &fx, "send_alert", "SUCCESS", T0 + 2 * SEC);
        assert_string_equal(kt_state_current(ex), "RUNNING");
        finish(ex, &fx, "cleanup_task", "SUCCESS", T0 + 3 * SEC);
        assert_string_equal(kt_state_current(ex), "FAILED");
        assert_null(run_of(ex, "never"));
        /* taskRunList order: fail, send_alert, cleanup_task */
        assert_string_equal(json_string_value(json_object_get(taskrun_at(ex, 1), "taskId")), "send_alert");
        assert_string_equal(json_string_value(json_object_get(taskrun_at(ex, 2), "taskId")), "cleanup_task");
        json_decref(ex);
        json_decref(g_flow);
    }
}

/* A failing finally task: the next finally task still runs, and the execution ends as its tasks made it (SUCCESS):
 * Kestra's onEnd takes guessFinalState(flow), over `tasks` only. */
static void test_finally_failing(void **state)
{
    (void)state;
    for (size_t d = 0; d < 2; d++) {
        g_ids = 0;
        g_flow = load_flow("finally_fails", dialects[d]);
        json_t *ex = new_exec();
        kt_exec_effects fx;
        assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
        finish(ex, &fx, "work", "SUCCESS", T0 + SEC);
        finish(ex, &fx, "cleanup", "FAILED", T0 + 2 * SEC);
        assert_string_equal(kt_state_current(ex), "RUNNING");
        finish(ex, &fx, "cleanup2", "SUCCESS", T0 + 3 * SEC);
        assert_string_equal(state_of(ex, "cleanup"), "FAILED");
        assert_string_equal(kt_state_current(ex), "SUCCESS");
        json_decref(ex);
        json_decref(g_flow);
    }
}

/* afterExecution after SUCCESS and after FAILED: the runIf reads execution.state, the final one; the execution has
 * ended before they run (its state does not move), is not "over" until they are. */
static void test_after_execution_states(void **state)
{
    (void)state;
    for (size_t d = 0; d < 2; d++)
        for (int failing = 0; failing < 2; failing++) {
            g_ids = 0;
            g_flow = load_flow("after_execution", dialects[d]);
            kt_exec_flow f = {.flow = g_flow};
            json_t *ex = new_exec();
            kt_exec_effects fx;
            assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
            assert_false(kt_exec_after_pending(&f, ex));
            finish(ex, &fx, "work", failing ? "FAILED" : "SUCCESS", T0 + SEC);
            const char *final = failing ? "FAILED" : "SUCCESS";
            assert_int_equal(fx.ended, 1);
            assert_string_equal(kt_state_current(ex), final);
            /* in sequence: after FAILED, onSuccess was skipped by its runIf and onFailure dispatched in the same step;
             * after SUCCESS, onSuccess was dispatched and onFailure waits for it */
            if (failing)
                assert_string_equal(state_of(ex, "onSuccess"), "SKIPPED");
            else
                assert_null(run_of(ex, "onFailure"));
            assert_true(kt_exec_after_pending(&f, ex));
            size_t nhist = json_array_size(json_object_get(json_object_get(ex, "state"), "histories"));
            finish(ex, &fx, failing ? "onFailure" : "onSuccess", "SUCCESS", T0 + 2 * SEC);
            assert_false(fx.stale);
            assert_int_equal(fx.ended, 0);
            if (!failing)
                assert_string_equal(state_of(ex, "onFailure"), "SKIPPED");
            assert_false(kt_exec_after_pending(&f, ex));
            assert_string_equal(kt_state_current(ex), final);
            assert_int_equal(json_array_size(json_object_get(json_object_get(ex, "state"), "histories")), nhist);
            /* anything later is too late */
            assert_int_equal(go(ex, ev_result("tr1", 0, "SUCCESS", T0 + 3 * SEC), &fx), KT_OK);
            assert_true(fx.stale);
            json_decref(ex);
            json_decref(g_flow);
        }
}

/* A failing afterExecution task leaves SUCCESS (and the next one runs); finally ran before the end, RUNNING. */
static void test_after_execution_failing(void **state)
{
    (void)state;
    for (size_t d = 0; d < 2; d++) {
        g_ids = 0;
        g_flow = load_flow("after_fails", dialects[d]);
        kt_exec_flow f = {.flow = g_flow};
        json_t *ex = new_exec();
        kt_exec_effects fx;
        assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
        finish(ex, &fx, "work", "SUCCESS", T0 + SEC);
        assert_string_equal(kt_state_current(ex), "RUNNING"); /* finally runs while RUNNING */
        finish(ex, &fx, "cleanup", "SUCCESS", T0 + 2 * SEC);
        assert_string_equal(kt_state_current(ex), "SUCCESS");
        finish(ex, &fx, "broken", "FAILED", T0 + 3 * SEC);
        assert_string_equal(kt_state_current(ex), "SUCCESS");
        assert_true(kt_exec_after_pending(&f, ex));
        finish(ex, &fx, "after_broken", "SUCCESS", T0 + 4 * SEC);
        assert_string_equal(kt_state_current(ex), "SUCCESS");
        assert_false(kt_exec_after_pending(&f, ex));
        json_decref(ex);
        json_decref(g_flow);
    }
}

/* A killed execution runs its afterExecution too (Kestra's forceExecution). */
static void test_after_execution_on_kill(void **state)
{
    (void)state;
    g_ids = 0;
    g_flow = load_flow("after_fails", "1.x");
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
    kt_exec_event kill = {.kind = KT_EV_KILL, .now_us = T0 + SEC};
    assert_int_equal(go(ex, kill, &fx), KT_OK);
    assert_string_equal(kt_state_current(ex), "KILLED");
    assert_string_equal(state_of(ex, "work"), "KILLED");
    assert_null(run_of(ex, "cleanup")); /* no finally after a kill */
    finish(ex, &fx, "broken", "FAILED", T0 + 2 * SEC);
    finish(ex, &fx, "after_broken", "SUCCESS", T0 + 3 * SEC);
    assert_string_equal(kt_state_current(ex), "KILLED");
    json_decref(ex);
    json_decref(g_flow);
}

/* Exit with each state, beside a running sibling: KILLED kills it; the others end the Exit run, its Parallel and the
 * execution in that state and leave the sibling running. CANCELED is CANCELLED. */
static void test_exit_states(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {{"SUCCESS", "SUCCESS"}, {"WARNING", "WARNING"},     {"FAILED", "FAILED"},
                 {"KILLED", "KILLED"},   {"CANCELLED", "CANCELLED"}, {"CANCELED", "CANCELLED"}};
    for (size_t d = 0; d < 2; d++)
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            if (d == 1 && !strcmp(cases[c].in, "CANCELED"))
                continue; /* a 2.x flow naming CANCELED is refused by the validator */
            g_ids = 0;
            g_flow = load_flow("exit", dialects[d]);
            json_t *ex = new_exec();
            json_object_set_new(ex, "inputs", json_pack("{s:s}", "state", cases[c].in));
            kt_exec_effects fx;
            assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
            assert_string_equal(kt_state_current(ex), cases[c].want);
            assert_int_equal(fx.ended, 1);
            assert_string_equal(state_of(ex, "exit"), cases[c].want);
            assert_string_equal(state_of(ex, "branches"), cases[c].want);
            assert_null(run_of(ex, "never"));
            int killed = !strcmp(cases[c].want, "KILLED");
            assert_int_equal(fx.killed, killed);
            assert_string_equal(state_of(ex, "slow"), killed ? "KILLED" : "RUNNING");
            json_decref(ex);
            json_decref(g_flow);
        }
    /* a state that is none of them fails the run (and so the execution) */
    g_ids = 0;
    g_flow = load_flow("exit", "1.x");
    json_t *ex = new_exec();
    json_object_set_new(ex, "inputs", json_pack("{s:s}", "state", "DONE"));
    kt_exec_effects fx;
    assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
    assert_string_equal(state_of(ex, "exit"), "FAILED");
    /* a failed branch fails the Parallel at once (FlowableUtils.resolveState), the execution with it */
    assert_string_equal(state_of(ex, "branches"), "FAILED");
    assert_string_equal(kt_state_current(ex), "FAILED");
    json_decref(ex);
    json_decref(g_flow);
}

/* SetVariables merges into vars (nested maps deep-merged), UnsetVariables removes names (dotted ones inside maps),
 * overwrite: false refuses a name that exists. The If conditions read vars.* after each change. */
static void test_set_unset_variables(void **state)
{
    (void)state;
    for (size_t d = 0; d < 2; d++) {
        g_ids = 0;
        g_flow = load_flow("set_variables", dialects[d]);
        json_t *ex = new_exec();
        kt_exec_effects fx;
        assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
        assert_string_equal(state_of(ex, "set_vars"), "SUCCESS");
        assert_true(json_is_true(json_object_get(json_object_get(run_of(ex, "hello"), "outputs"), "evaluationResult")));
        finish(ex, &fx, "then1", "SUCCESS", T0 + SEC);
        assert_string_equal(state_of(ex, "unset"), "SUCCESS");
        assert_true(json_is_true(json_object_get(json_object_get(run_of(ex, "gone"), "outputs"), "evaluationResult")));
        finish(ex, &fx, "then2", "SUCCESS", T0 + 2 * SEC);
        /* keep: overwrite false on `name`, which exists */
        assert_string_equal(state_of(ex, "keep"), "FAILED");
        assert_string_equal(kt_state_current(ex), "FAILED");
        const json_t *vars = json_object_get(json_object_get(ex, "variables"), "vars");
        assert_string_equal(json_string_value(json_object_get(vars, "name")), "Ada");
        assert_null(json_object_get(vars, "message"));
        assert_int_equal(json_integer_value(json_object_get(json_object_get(vars, "nested"), "b")), 2);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(vars, "nested"), "c")), 3);
        /* the flow's own variables are untouched */
        assert_string_equal(json_string_value(json_object_get(json_object_get(g_flow, "variables"), "name")), "World");
        json_decref(ex);
        json_decref(g_flow);
    }
}

/* runIf on the execution-updating tasks: a false one is SKIPPED and changes nothing (no variable, no label, no exit),
 * a true one runs (the last Exit ends the execution WARNING). */
static void test_run_if_on_updates(void **state)
{
    (void)state;
    for (size_t d = 0; d < 2; d++) {
        g_ids = 0;
        g_flow = load_flow("run_if_updates", dialects[d]);
        json_t *ex = new_exec();
        kt_exec_effects fx;
        assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
        assert_string_equal(state_of(ex, "skipped_set"), "SKIPPED");
        assert_string_equal(state_of(ex, "skipped_labels"), "SKIPPED");
        assert_string_equal(state_of(ex, "skipped_exit"), "SKIPPED");
        assert_string_equal(state_of(ex, "done"), "WARNING");
        assert_string_equal(kt_state_current(ex), "WARNING");
        assert_null(json_object_get(json_object_get(json_object_get(ex, "variables"), "vars"), "never"));
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(ex, "labels"), i, l)
            assert_string_not_equal(json_string_value(json_object_get(l, "key")), "never");
        json_decref(ex);
        json_decref(g_flow);
    }
}

/* A restart runs errors, finally and afterExecution again from the start: their runs are removed with the failed
 * one's restart (ExecutionService.restart removes allErrorsWithChildren, allFinallyWithChildren, afterExecution). */
static void test_restart_removes_finally(void **state)
{
    (void)state;
    for (size_t d = 0; d < 2; d++) {
        g_ids = 0;
        g_flow = load_flow("finally_errors", dialects[d]);
        json_t *ex = new_exec();
        kt_exec_effects fx;
        assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
        finish(ex, &fx, "fail", "FAILED", T0 + SEC);
        finish(ex, &fx, "send_alert", "SUCCESS", T0 + 2 * SEC);
        finish(ex, &fx, "cleanup_task", "SUCCESS", T0 + 3 * SEC);
        assert_string_equal(kt_state_current(ex), "FAILED");
        kt_env env;
        kt_env_init(&env, T0 + 10 * SEC, 1);
        env.ids = test_idgen;
        char err[256];
        assert_int_equal(kt_exec_restart(g_flow, ex, 0, &env, T0 + 10 * SEC, err, sizeof err), KT_OK);
        assert_int_equal(nruns(ex), 1);
        assert_null(run_of(ex, "send_alert"));
        assert_null(run_of(ex, "cleanup_task"));
        assert_int_equal(go(ex, ev_start(T0 + 11 * SEC), &fx), KT_OK);
        finish(ex, &fx, "fail", "SUCCESS", T0 + 12 * SEC);
        finish(ex, &fx, "never", "SUCCESS", T0 + 13 * SEC);
        finish(ex, &fx, "cleanup_task", "SUCCESS", T0 + 14 * SEC);
        assert_string_equal(kt_state_current(ex), "SUCCESS");
        json_decref(ex);
        json_decref(g_flow);
    }
}

/* A flowable's finally: Sequential's after its failed child and its errors (the Sequential FAILED, the execution
 * with it); after a success, Sequential's finally then the Parallel's once both branches ended. */
static void test_flowable_finally(void **state)
{
    (void)state;
    for (size_t d = 0; d < 2; d++)
        for (int failing = 0; failing < 2; failing++) {
            g_ids = 0;
            g_flow = load_flow("flowable_finally", dialects[d]);
            json_t *ex = new_exec();
            kt_exec_effects fx;
            assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
            finish(ex, &fx, "inner", failing ? "FAILED" : "SUCCESS", T0 + SEC);
            if (failing)
                finish(ex, &fx, "inner_alert", "SUCCESS", T0 + 2 * SEC);
            assert_string_equal(state_of(ex, "seq"), "RUNNING");
            finish(ex, &fx, "inner_cleanup", "SUCCESS", T0 + 3 * SEC);
            assert_string_equal(state_of(ex, "seq"), failing ? "FAILED" : "SUCCESS");
            assert_string_equal(json_string_value(json_object_get(run_of(ex, "inner_cleanup"), "parentTaskRunId")),
                                json_string_value(json_object_get(run_of(ex, "seq"), "id")));
            if (failing) {
                assert_string_equal(kt_state_current(ex), "FAILED");
                assert_null(run_of(ex, "par"));
            } else {
                assert_int_equal(fx.ndispatch, 2); /* a and b */
                char ta[KT_ID_LEN + 1], tb[KT_ID_LEN + 1];
                snprintf(ta, sizeof ta, "%s", fx.dispatch[0].taskrun_id);
                snprintf(tb, sizeof tb, "%s", fx.dispatch[1].taskrun_id);
                assert_int_equal(go(ex, ev_result(ta, 0, "SUCCESS", T0 + 4 * SEC), &fx), KT_OK);
                assert_null(run_of(ex, "par_cleanup"));
                assert_int_equal(go(ex, ev_result(tb, 0, "WARNING", T0 + 5 * SEC), &fx), KT_OK);
                assert_string_equal(state_of(ex, "par"), "RUNNING");
                finish(ex, &fx, "par_cleanup", "FAILED", T0 + 6 * SEC);
                assert_string_equal(state_of(ex, "par"), "WARNING");
                assert_string_equal(kt_state_current(ex), "WARNING");
            }
            json_decref(ex);
            json_decref(g_flow);
        }
}

/* The dispatched run of task_id in fx, its id copied to out. */
static void dispatched(const kt_exec_effects *fx, const char *task_id, char *out)
{
    for (size_t i = 0; i < fx->ndispatch; i++)
        if (!strcmp(fx->dispatch[i].task_id, task_id)) {
            snprintf(out, KT_ID_LEN + 1, "%s", fx->dispatch[i].taskrun_id);
            return;
        }
    fail_msg("%s not dispatched", task_id);
}

/* Parallel's onChildFailure (D8): in 2.x (default FAIL) a failed child interrupts the running ones at any depth, which
 * end FAILED and say why; in 1.x (default CONTINUE) they keep running. The property overrides the dialect's default
 * either way. */
static void test_parallel_child_failure(void **state)
{
    (void)state;
    for (size_t d = 0; d < 2; d++)
        for (int override = 0; override < 2; override++) {
            g_ids = 0;
            g_flow = load_flow("parallel_child_failure", dialects[d]);
            if (override) /* 1.x flow says FAIL, 2.x flow says CONTINUE */
                json_object_set_new(json_array_get(json_object_get(g_flow, "tasks"), 0), "onChildFailure",
                                    json_string(d ? "CONTINUE" : "FAIL"));
            int interrupts = (d == 1) != override;
            json_t *ex = new_exec();
            kt_exec_effects fx;
            assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
            char ta[KT_ID_LEN + 1], tb1[KT_ID_LEN + 1], tc[KT_ID_LEN + 1];
            dispatched(&fx, "a", ta);
            dispatched(&fx, "b1", tb1);
            dispatched(&fx, "c", tc);
            assert_int_equal(go(ex, ev_result(ta, 0, "FAILED", T0 + SEC), &fx), KT_OK);
            assert_string_equal(state_of(ex, "b1"), interrupts ? "FAILED" : "RUNNING");
            assert_string_equal(state_of(ex, "b"), interrupts ? "FAILED" : "RUNNING");
            assert_string_equal(state_of(ex, "c"), interrupts ? "FAILED" : "RUNNING");
            size_t warns = 0;
            for (size_t i = 0; i < fx.nlogs; i++)
                warns += !strcmp(fx.logs[i].level, "WARN") &&
                         strstr(fx.logs[i].message, "Task terminated because sibling task 'a' failed.") != NULL;
            assert_int_equal(warns, interrupts ? 3 : 0);
            if (interrupts) /* the attempt ended with its run */
                assert_string_equal(kt_state_current(attempt_at(run_of(ex, "c"), 0)), "FAILED");
            /* errors run either way */
            finish(ex, &fx, "on_error", "SUCCESS", T0 + 2 * SEC);
            assert_string_equal(state_of(ex, "par"), "FAILED");
            assert_string_equal(kt_state_current(ex), "FAILED");
            if (interrupts) { /* a late result of an interrupted attempt is ignored */
                assert_int_equal(go(ex, ev_result(tc, 0, "SUCCESS", T0 + 3 * SEC), &fx), KT_OK);
                assert_true(fx.stale);
            }
            json_decref(ex);
            json_decref(g_flow);
        }
}

/* Dag's onChildFailure in 2.x: a failed task interrupts the running ones; a task whose dependency failed never
 * starts. */
static void test_dag_child_failure(void **state)
{
    (void)state;
    g_ids = 0;
    g_flow = parse("{\"id\":\"dag\",\"namespace\":\"company.team\",\"dialect\":\"2.x\",\"tasks\":[{\"id\":\"d\","
                   "\"type\":\"io.kestra.plugin.core.flow.Dag\",\"tasks\":["
                   "{\"task\":{\"id\":\"x\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}},"
                   "{\"task\":{\"id\":\"y\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}},"
                   "{\"task\":{\"id\":\"z\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"},"
                   "\"dependsOn\":[\"x\"]}]}]}");
    json_t *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(go(ex, ev_start(T0), &fx), KT_OK);
    char tx[KT_ID_LEN + 1], ty[KT_ID_LEN + 1];
    dispatched(&fx, "x", tx);
    dispatched(&fx, "y", ty);
    assert_int_equal(go(ex, ev_result(tx, 0, "FAILED", T0 + SEC), &fx), KT_OK);
    assert_string_equal(state_of(ex, "y"), "FAILED");
    assert_null(run_of(ex, "z"));
    assert_string_equal(state_of(ex, "d"), "FAILED");
    assert_string_equal(kt_state_current(ex), "FAILED");
    json_decref(ex);
    json_decref(g_flow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_finally_after_success, reset_ids),
        cmocka_unit_test_setup(test_finally_after_errors, reset_ids),
        cmocka_unit_test_setup(test_finally_failing, reset_ids),
        cmocka_unit_test_setup(test_after_execution_states, reset_ids),
        cmocka_unit_test_setup(test_after_execution_failing, reset_ids),
        cmocka_unit_test_setup(test_after_execution_on_kill, reset_ids),
        cmocka_unit_test_setup(test_exit_states, reset_ids),
        cmocka_unit_test_setup(test_set_unset_variables, reset_ids),
        cmocka_unit_test_setup(test_run_if_on_updates, reset_ids),
        cmocka_unit_test_setup(test_restart_removes_finally, reset_ids),
        cmocka_unit_test_setup(test_flowable_finally, reset_ids),
        cmocka_unit_test_setup(test_parallel_child_failure, reset_ids),
        cmocka_unit_test_setup(test_dag_child_failure, reset_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
