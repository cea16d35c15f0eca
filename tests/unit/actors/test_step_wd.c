/* WorkingDirectory in the executor's state machine (KESTRA-model.md "WorkingDirectory", KESTRA-execution.md §2.1,
 * §2.15): one dispatch for the whole task, the children appended as the worker reports them (never created by the
 * step), the run resolved only once its job ended, its errors branch through the executor, a lost job run again
 * whole. */
#include "step_fixture.h"

#define WD "io.kestra.plugin.core.flow.WorkingDirectory"

static json_t *wd_tasks(int with_errors)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "[{\"id\":\"w\",\"type\":\"" WD "\",\"tasks\":["
             "{\"id\":\"a\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"},"
             "{\"id\":\"b\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"},"
             "{\"id\":\"off\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\",\"disabled\":true}]%s},"
             "{\"id\":\"end\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}]",
             with_errors ? ",\"errors\":[{\"id\":\"e\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}]"
                         : "");
    return parse(buf);
}

/* A child task run as the worker reports it: RUNNING with a RUNNING attempt, or ended in `state`. */
static json_t *child(const char *id, const char *task_id, const char *parent, const char *state, int64_t at)
{
    json_t *st = kt_state_new("CREATED", at - SEC / 4), *att = kt_state_new("CREATED", at - SEC / 4);
    kt_state_set(st, "RUNNING", at - SEC / 4);
    kt_state_set(att, "RUNNING", at - SEC / 4);
    if (strcmp(state, "RUNNING")) {
        kt_state_set(st, state, at);
        kt_state_set(att, state, at);
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:[{s:o}]}", "id", id, "executionId", "ex1",
                     "namespace", "company.team", "flowId", "flow", "taskId", task_id, "parentTaskRunId", parent,
                     "outputs", strcmp(state, "RUNNING") ? json_pack("{s:s}", "k", task_id) : json_null(), "state",
                     st, "attempts", "state", att);
}

static kt_exec_event ev_child(const char *wd, uint32_t attempt, const json_t *tr, int64_t now)
{
    kt_exec_event ev = {.kind = KT_EV_WD_CHILD, .now_us = now, .taskrun_id = wd, .attempt = attempt, .taskrun = tr};
    return ev;
}

static kt_status report(const json_t *tasks, json_t *ex, const char *id, const char *task_id, const char *state,
                        int64_t at, kt_exec_effects *fx)
{
    json_t *c = child(id, task_id, "tr1", state, at);
    kt_status rc = step(tasks, ex, ev_child("tr1", 0, c, at), fx);
    json_decref(c);
    return rc;
}

/* Success: one dispatch, children appended (then replaced) without value, the run waiting for its job's end, then
 * SUCCESS from its children with the job's outputs and no attempt (Kestra's WorkingDirectory run has none). */
static void test_wd_success(void **state)
{
    (void)state;
    reset_ids(NULL);
    json_t *tasks = wd_tasks(0), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    check_dispatch(&fx, "tr1", "w", 0);
    assert_int_equal(nruns(ex), 1); /* no child made by the step */
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "RUNNING");
    assert_int_equal(json_object_size(json_object_get(taskrun_at(ex, 0), "outputs")), 0);
    assert_string_equal(kt_state_current(attempt_at(taskrun_at(ex, 0), 0)), "RUNNING");

    assert_int_equal(report(tasks, ex, "c1", "a", "RUNNING", T0 + SEC, &fx), KT_OK);
    assert_int_equal(nruns(ex), 2);
    assert_int_equal(fx.ndispatch, 0); /* the worker runs it */
    assert_string_equal(json_string_value(json_object_get(taskrun_at(ex, 1), "parentTaskRunId")), "tr1");
    assert_null(json_object_get(taskrun_at(ex, 1), "value"));
    assert_int_equal(report(tasks, ex, "c1", "a", "SUCCESS", T0 + 2 * SEC, &fx), KT_OK);
    assert_int_equal(nruns(ex), 2); /* replaced, not appended */
    assert_string_equal(kt_state_current(taskrun_at(ex, 1)), "SUCCESS");
    assert_int_equal(report(tasks, ex, "c2", "b", "SUCCESS", T0 + 3 * SEC, &fx), KT_OK);
    /* every child ended, but the job has not: no resolution yet (its outputFiles may still be uploading) */
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "RUNNING");
    assert_int_equal(nruns(ex), 3);

    kt_exec_event end = ev_result("tr1", 0, "SUCCESS", T0 + 4 * SEC);
    json_t *outputs = parse("{\"outputFiles\":{\"o.txt\":\"kestra:///x\"}}");
    end.outputs = outputs;
    assert_int_equal(step(tasks, ex, end, &fx), KT_OK);
    json_t *w = taskrun_at(ex, 0);
    assert_string_equal(kt_state_current(w), "SUCCESS");
    assert_null(json_object_get(w, "attempts"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(w, "outputs"), "outputFiles"),
                                                          "o.txt")),
                        "kestra:///x");
    check_dispatch(&fx, "tr2", "end", 0); /* the flow goes on */
    json_decref(outputs);

    /* a late report of a job that ended is stale */
    assert_int_equal(report(tasks, ex, "c3", "b", "SUCCESS", T0 + 5 * SEC, &fx), KT_OK);
    assert_int_equal(fx.stale, 1);
    assert_int_equal(nruns(ex), 4);
    json_decref(ex);
    json_decref(tasks);
}

/* A failed child: the errors branch is created by the step (as for Sequential), the run ends FAILED after it. */
static void test_wd_errors_branch(void **state)
{
    (void)state;
    reset_ids(NULL);
    json_t *tasks = wd_tasks(1), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(report(tasks, ex, "c1", "a", "FAILED", T0 + SEC, &fx), KT_OK);
    check_dispatch(&fx, "tr2", "e", 0);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "RUNNING");
    assert_int_equal(step(tasks, ex, ev_result("tr1", 0, "SUCCESS", T0 + 2 * SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "RUNNING"); /* its errors branch runs */
    assert_int_equal(step(tasks, ex, ev_result("tr2", 0, "SUCCESS", T0 + 3 * SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "FAILED");
    assert_string_equal(kt_state_current(ex), "FAILED");
    assert_int_equal(nruns(ex), 3); /* w, a, e: b and end never ran */
    json_decref(ex);
    json_decref(tasks);

    /* without errors: FAILED once its job ends */
    reset_ids(NULL);
    tasks = wd_tasks(0);
    ex = new_exec();
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(report(tasks, ex, "c1", "a", "FAILED", T0 + SEC, &fx), KT_OK);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "RUNNING");
    assert_int_equal(step(tasks, ex, ev_result("tr1", 0, "SUCCESS", T0 + 2 * SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "FAILED");
    assert_string_equal(kt_state_current(ex), "FAILED");
    json_decref(ex);
    json_decref(tasks);
}

/* The job's own failure (namespace files, inputFiles, outputFiles): the run FAILED at once with its attempt
 * (Kestra's workerTask.fail()), its errors branch not run. */
static void test_wd_job_failed(void **state)
{
    (void)state;
    reset_ids(NULL);
    json_t *tasks = wd_tasks(1), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(step(tasks, ex, ev_result("tr1", 0, "FAILED", T0 + SEC), &fx), KT_OK);
    json_t *w = taskrun_at(ex, 0);
    assert_string_equal(kt_state_current(w), "FAILED");
    assert_string_equal(kt_state_current(attempt_at(w, 0)), "FAILED");
    assert_int_equal(nruns(ex), 1);
    assert_string_equal(kt_state_current(ex), "FAILED");
    json_decref(ex);
    json_decref(tasks);
}

/* What a worker reports is checked: a child of another task, a task that is not one of the WorkingDirectory's, an
 * unknown state, a report for an older job. */
static void test_wd_child_checked(void **state)
{
    (void)state;
    reset_ids(NULL);
    json_t *tasks = wd_tasks(0), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    json_t *c = child("c1", "end", "tr1", "RUNNING", T0 + SEC); /* not a child of w */
    assert_int_equal(step(tasks, ex, ev_child("tr1", 0, c, T0 + SEC), &fx), KT_EINVAL);
    json_decref(c);
    c = child("c1", "off", "tr1", "RUNNING", T0 + SEC); /* disabled: never run */
    assert_int_equal(step(tasks, ex, ev_child("tr1", 0, c, T0 + SEC), &fx), KT_EINVAL);
    json_decref(c);
    c = child("c1", "a", "trX", "RUNNING", T0 + SEC); /* names another parent */
    assert_int_equal(step(tasks, ex, ev_child("tr1", 0, c, T0 + SEC), &fx), KT_EINVAL);
    json_decref(c);
    c = child("c1", "a", "tr1", "RUNNING", T0 + SEC);
    json_object_set_new(json_object_get(c, "state"), "current", json_string("BOGUS"));
    assert_int_equal(step(tasks, ex, ev_child("tr1", 0, c, T0 + SEC), &fx), KT_EINVAL);
    json_decref(c);
    c = child("c1", "a", "tr1", "RUNNING", T0 + SEC);
    assert_int_equal(step(tasks, ex, ev_child("tr1", 1, c, T0 + SEC), &fx), KT_OK); /* attempt 1 is not out */
    assert_int_equal(fx.stale, 1);
    assert_int_equal(nruns(ex), 1);
    json_decref(c);
    json_decref(ex);
    json_decref(tasks);
}

/* A lost job runs again whole: the children it reported are removed, the run dispatched as a new attempt; a report
 * from the old job is then stale. */
static void test_wd_lost(void **state)
{
    (void)state;
    reset_ids(NULL);
    json_t *tasks = wd_tasks(0), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(report(tasks, ex, "c1", "a", "SUCCESS", T0 + SEC, &fx), KT_OK);
    assert_int_equal(report(tasks, ex, "c2", "b", "RUNNING", T0 + SEC, &fx), KT_OK);
    assert_int_equal(nruns(ex), 3);
    /* a child is never lost on its own: it is part of its parent's job */
    assert_int_equal(step(tasks, ex, ev_lost("c2", T0 + 2 * SEC), &fx), KT_OK);
    assert_int_equal(fx.stale, 1);
    assert_int_equal(fx.ndispatch, 0);
    assert_int_equal(step(tasks, ex, ev_lost("tr1", T0 + 2 * SEC), &fx), KT_OK);
    assert_int_equal(nruns(ex), 1);
    assert_int_equal(fx.touched_all, 1); /* rows shifted: the commit rewrites them */
    check_dispatch(&fx, "tr1", "w", 1);
    json_t *w = taskrun_at(ex, 0);
    assert_string_equal(kt_state_current(attempt_at(w, 0)), "FAILED");
    assert_string_equal(kt_state_current(attempt_at(w, 1)), "RUNNING");
    assert_int_equal(report(tasks, ex, "c1", "a", "SUCCESS", T0 + 3 * SEC, &fx), KT_OK); /* the old job's attempt 0 */
    assert_int_equal(fx.stale, 1);
    json_t *c = child("c9", "a", "tr1", "SUCCESS", T0 + 3 * SEC);
    assert_int_equal(step(tasks, ex, ev_child("tr1", 1, c, T0 + 3 * SEC), &fx), KT_OK);
    assert_int_equal(nruns(ex), 2);
    json_decref(c);
    json_decref(ex);
    json_decref(tasks);
}

/* A kill ends the run and its running child KILLED; what the worker reports after is stale. */
static void test_wd_kill(void **state)
{
    (void)state;
    reset_ids(NULL);
    json_t *tasks = wd_tasks(0), *ex = new_exec();
    kt_exec_effects fx;
    assert_int_equal(step(tasks, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(report(tasks, ex, "c1", "a", "RUNNING", T0 + SEC, &fx), KT_OK);
    kt_exec_event kill = {.kind = KT_EV_KILL, .now_us = T0 + 2 * SEC};
    assert_int_equal(step(tasks, ex, kill, &fx), KT_OK);
    assert_int_equal(fx.killed, 1);
    assert_string_equal(kt_state_current(taskrun_at(ex, 0)), "KILLED");
    assert_string_equal(kt_state_current(taskrun_at(ex, 1)), "KILLED");
    assert_string_equal(kt_state_current(ex), "KILLED");
    assert_int_equal(report(tasks, ex, "c1", "a", "KILLED", T0 + 3 * SEC, &fx), KT_OK);
    assert_int_equal(fx.stale, 1);
    json_decref(ex);
    json_decref(tasks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wd_success),       cmocka_unit_test(test_wd_errors_branch),
        cmocka_unit_test(test_wd_job_failed),    cmocka_unit_test(test_wd_child_checked),
        cmocka_unit_test(test_wd_lost),          cmocka_unit_test(test_wd_kill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
