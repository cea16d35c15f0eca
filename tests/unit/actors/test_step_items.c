/* ForEachItem in the step (flow/foreachitem.h, actors/executor/step_items.c): the flow is expanded into its three
 * generated tasks; `_split` goes to a worker, `_items` asks for its children with the split's list, counts their
 * ends in outputs.iterations and ends with Kestra's final outputs and one attempt; `_merge` runs last. Pure: fixed
 * clocks, deterministic ids (ForEachItemCaseTest's assertions on the `_items` run, KESTRA-execution.md §2.16). */
#include "tests/unit/actors/step_fixture.h"

#include "flow/foreachitem.h"

static json_t *flow_items(const char *props)
{
    json_t *flow = parse("{\"id\":\"flow\",\"namespace\":\"company.team\",\"tasks\":["
                         "{\"id\":\"each\",\"type\":\"io.kestra.plugin.core.flow.ForEachItem\","
                         "\"items\":\"{{ inputs.file }}\",\"batch\":{\"rows\":4},"
                         "\"namespace\":\"company.team\",\"flowId\":\"{{ 'sub' }}\","
                         "\"inputs\":{\"items\":\"{{ taskrun.items }}\"}}]}");
    if (props) {
        json_t *p = parse(props);
        json_object_update(json_array_get(json_object_get(flow, "tasks"), 0), p);
        json_decref(p);
    }
    assert_int_equal(kt_foreachitem_expand(flow), 1);
    return flow;
}

static void free_subflows(kt_exec_effects *fx)
{
    for (size_t i = 0; i < fx->nsubflows; i++)
        json_decref(fx->subflows[i].spec);
    fx->nsubflows = 0;
}

/* Runs the flow to the `_items` run asking for its children: returns that run's id (tr3). */
static const char *start_items(const json_t *flow, json_t *ex)
{
    kt_exec_effects fx = {0};
    assert_int_equal(step_flow(flow, ex, ev_start(T0), &fx), KT_OK);
    check_dispatch(&fx, "tr2", "each_split", 0); /* tr1 = each (flowable), tr2 = each_split on a worker */
    json_t *out = json_pack("{s:s}", "splits", "kestra:///company/team/flow/executions/ex1/tasks/each-split/tr2/s.txt");
    kt_exec_event r = ev_result("tr2", 0, "SUCCESS", T0 + SEC);
    r.outputs = out;
    memset(&fx, 0, sizeof fx);
    assert_int_equal(step_flow(flow, ex, r, &fx), KT_OK);
    json_decref(out);
    assert_int_equal(fx.nsubflows, 1);
    assert_string_equal(fx.subflows[0].taskrun_id, "tr3");
    const json_t *spec = fx.subflows[0].spec;
    assert_true(json_is_true(json_object_get(spec, "forEachItem")));
    assert_string_equal(json_string_value(json_object_get(spec, "flowId")), "sub"); /* rendered by the step */
    assert_string_equal(json_string_value(json_object_get(json_object_get(spec, "inputs"), "items")),
                        "{{ taskrun.items }}"); /* left for the actor to render per batch */
    assert_string_equal(json_string_value(json_object_get(spec, "splits")),
                        "kestra:///company/team/flow/executions/ex1/tasks/each-split/tr2/s.txt");
    assert_string_equal(json_string_value(json_object_get(spec, "taskType")), KT_FOREACHITEM_ITEMS_TYPE);
    free_subflows(&fx);
    const json_t *items = taskrun_at(ex, 2);
    assert_string_equal(json_string_value(json_object_get(items, "taskId")), "each_items");
    assert_string_equal(kt_state_current(items), "RUNNING");
    assert_null(json_object_get(items, "attempts"));
    return "tr3";
}

static kt_exec_event ev_created(const char *trid, size_t n, const json_t *out, int64_t now)
{
    kt_exec_event ev = {.kind = KT_EV_CHILD_CREATED, .now_us = now, .taskrun_id = trid, .batches = n, .outputs = out};
    return ev;
}

/* A batch's end as the actor reports it: the whole tally of ended batches in counts (JSON), the base in out. */
static json_t *g_end_out;
static kt_exec_event ev_child_end(const char *trid, const char *state, const char *counts, int64_t now)
{
    json_decref(g_end_out);
    g_end_out = json_pack("{s:s, s:o}", "subflowOutputsBaseUri", "/company/team/flow/executions/ex1/tasks/each-items/tr3",
                          "counts", parse(counts));
    kt_exec_event ev = {.kind = KT_EV_SUBFLOW, .now_us = now, .taskrun_id = trid, .state = state, .outputs = g_end_out};
    return ev;
}

static long iteration(const json_t *run, const char *state)
{
    const json_t *it = json_object_get(json_object_get(run, "outputs"), "iterations");
    const json_t *v = json_object_get(it, state);
    return v ? (long)json_integer_value(v) : -1;
}

/* Three batches that succeed: iterations count down CREATED, then the run ends SUCCESS with one SUCCESS attempt and
 * the outputs base; `_merge` runs next, and the execution ends SUCCESS with 4 task runs. */
static void test_items_success(void **state)
{
    (void)state;
    json_t *flow = flow_items(NULL), *ex = new_exec();
    const char *items = start_items(flow, ex);
    json_t *base = json_pack("{s:s}", "subflowOutputsBaseUri", "/company/team/flow/executions/ex1/tasks/each-items/tr3");
    kt_exec_effects fx = {0};
    assert_int_equal(step_flow(flow, ex, ev_created(items, 3, base, T0 + 2 * SEC), &fx), KT_OK);
    const json_t *run = taskrun_at(ex, 2);
    assert_int_equal(iteration(run, "CREATED"), 3);
    assert_int_equal(iteration(run, "RUNNING"), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(run, "outputs"), "numberOfBatches")), 3);
    static const char *const tallies[] = {"{\"SUCCESS\":1}", "{\"SUCCESS\":2}", "{\"SUCCESS\":2}",
                                          "{\"SUCCESS\":3}"};
    for (int i = 0; i < 4; i++) { /* the third is an end heard twice: the same tally changes nothing */
        memset(&fx, 0, sizeof fx);
        assert_int_equal(step_flow(flow, ex, ev_child_end(items, "SUCCESS", tallies[i], T0 + (3 + i) * SEC), &fx),
                         KT_OK);
        assert_string_equal(kt_state_current(taskrun_at(ex, 2)), i < 3 ? "RUNNING" : "SUCCESS");
        if (i == 2)
            assert_int_equal(iteration(taskrun_at(ex, 2), "CREATED"), 1);
    }
    run = taskrun_at(ex, 2);
    assert_int_equal(iteration(run, "CREATED"), 0);
    assert_int_equal(iteration(run, "RUNNING"), 0);
    assert_int_equal(iteration(run, "SUCCESS"), 3);
    assert_int_equal(json_array_size(json_object_get(run, "attempts")), 1);
    assert_string_equal(kt_state_current(attempt_at(run, 0)), "SUCCESS");
    assert_string_equal(json_string_value(json_object_get(json_object_get(run, "outputs"), "subflowOutputsBaseUri")),
                        "/company/team/flow/executions/ex1/tasks/each-items/tr3");
    check_dispatch(&fx, "tr4", "each_merge", 0);
    memset(&fx, 0, sizeof fx);
    assert_int_equal(step_flow(flow, ex, ev_result("tr4", 0, "SUCCESS", T0 + 10 * SEC), &fx), KT_OK);
    assert_int_equal(nruns(ex), 4);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_decref(base);
    json_decref(ex);
    json_decref(flow);
}

/* transmitFailed (default): a failed batch fails the run once all have ended, and the ForEachItem with it, without
 * `_merge` (3 task runs); an extra end after that is stale. */
static void test_items_failed(void **state)
{
    (void)state;
    json_t *flow = flow_items(NULL), *ex = new_exec();
    const char *items = start_items(flow, ex);
    kt_exec_effects fx = {0};
    assert_int_equal(step_flow(flow, ex, ev_created(items, 2, NULL, T0 + 2 * SEC), &fx), KT_OK);
    memset(&fx, 0, sizeof fx);
    assert_int_equal(step_flow(flow, ex, ev_child_end(items, "FAILED", "{\"FAILED\":1}", T0 + 3 * SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(taskrun_at(ex, 2)), "RUNNING");
    memset(&fx, 0, sizeof fx);
    assert_int_equal(step_flow(flow, ex, ev_child_end(items, "SUCCESS", "{\"FAILED\":1,\"SUCCESS\":1}", T0 + 4 * SEC), &fx),
                     KT_OK);
    const json_t *run = taskrun_at(ex, 2);
    assert_string_equal(kt_state_current(run), "FAILED");
    assert_int_equal(iteration(run, "FAILED"), 1);
    assert_int_equal(iteration(run, "SUCCESS"), 1);
    assert_string_equal(kt_state_current(attempt_at(run, 0)), "FAILED");
    assert_int_equal(nruns(ex), 3);
    assert_string_equal(kt_state_current(ex), "FAILED");
    memset(&fx, 0, sizeof fx);
    assert_int_equal(step_flow(flow, ex, ev_child_end(items, "SUCCESS", "{\"FAILED\":1,\"SUCCESS\":1}", T0 + 5 * SEC), &fx),
                     KT_OK);
    assert_true(fx.stale);
    json_decref(ex);
    json_decref(flow);
}

/* transmitFailed: false ends SUCCESS whatever the batches did; wait: false ends at once; no batch is SUCCESS
 * without outputs; a failure to build the children fails the run with the reason logged. */
static void test_items_variants(void **state)
{
    (void)state;
    json_t *flow = flow_items("{\"transmitFailed\":false}"), *ex = new_exec();
    const char *items = start_items(flow, ex);
    kt_exec_effects fx = {0};
    assert_int_equal(step_flow(flow, ex, ev_created(items, 1, NULL, T0 + 2 * SEC), &fx), KT_OK);
    assert_int_equal(step_flow(flow, ex, ev_child_end(items, "FAILED", "{\"FAILED\":1}", T0 + 3 * SEC), &fx), KT_OK);
    assert_string_equal(kt_state_current(taskrun_at(ex, 2)), "SUCCESS");
    json_decref(ex);
    json_decref(flow);

    g_ids = 0;
    flow = flow_items("{\"wait\":false}"), ex = new_exec();
    items = start_items(flow, ex);
    memset(&fx, 0, sizeof fx);
    assert_int_equal(step_flow(flow, ex, ev_created(items, 5, NULL, T0 + 2 * SEC), &fx), KT_OK);
    const json_t *run = taskrun_at(ex, 2);
    assert_string_equal(kt_state_current(run), "SUCCESS");
    assert_int_equal(iteration(run, "SUCCESS"), 5);
    assert_int_equal(iteration(run, "RUNNING"), 0);
    assert_int_equal(iteration(run, "CREATED"), -1); /* Kestra: "if we didn't wait we will only observe RUNNING and SUCCESS" */
    json_decref(ex);
    json_decref(flow);

    g_ids = 0;
    flow = flow_items(NULL), ex = new_exec();
    items = start_items(flow, ex);
    memset(&fx, 0, sizeof fx);
    assert_int_equal(step_flow(flow, ex, ev_created(items, 0, NULL, T0 + 2 * SEC), &fx), KT_OK);
    run = taskrun_at(ex, 2);
    assert_string_equal(kt_state_current(run), "SUCCESS");
    assert_true(json_is_null(json_object_get(run, "outputs"))); /* Kestra's test: outputs nullValue() */
    check_dispatch(&fx, "tr4", "each_merge", 0);
    json_decref(ex);
    json_decref(flow);

    g_ids = 0;
    flow = flow_items(NULL), ex = new_exec();
    items = start_items(flow, ex);
    memset(&fx, 0, sizeof fx);
    kt_exec_event bad = {.kind = KT_EV_CHILD_CREATED, .now_us = T0 + 2 * SEC, .taskrun_id = items,
                         .error = "Unable to find flow 'company.team'.'sub' with revision '0'"};
    assert_int_equal(step_flow(flow, ex, bad, &fx), KT_OK);
    assert_string_equal(kt_state_current(taskrun_at(ex, 2)), "FAILED");
    assert_int_equal(fx.nlogs, 1);
    assert_string_equal(fx.logs[0].message, "Unable to find flow 'company.team'.'sub' with revision '0'");
    assert_string_equal(kt_state_current(ex), "FAILED");
    json_decref(ex);
    json_decref(flow);
}

/* The generated tasks carry what ForEachItem.getTasks() gives them; batch defaults to {rows: 1}; sibling ids. */
static void test_expand(void **state)
{
    (void)state;
    json_t *flow = parse("{\"tasks\":[{\"id\":\"s\",\"type\":\"io.kestra.plugin.core.flow.Sequential\",\"tasks\":["
                         "{\"id\":\"f\",\"type\":\"io.kestra.core.tasks.flows.ForEachItem\",\"items\":\"x\","
                         "\"namespace\":\"n\",\"flowId\":\"g\",\"wait\":false}]}]}");
    assert_int_equal(kt_foreachitem_expand(flow), 1);
    const json_t *f = json_array_get(json_object_get(json_array_get(json_object_get(flow, "tasks"), 0), "tasks"), 0);
    const json_t *kids = json_object_get(f, "tasks");
    assert_int_equal(json_array_size(kids), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(kids, 0), "id")), "f_split");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(kids, 0), "batch"), "rows")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(kids, 1), "flowId")), "g");
    assert_true(json_is_false(json_object_get(json_array_get(kids, 1), "wait")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(kids, 2), "type")), KT_FOREACHITEM_MERGE_TYPE);
    assert_int_equal(kt_foreachitem_expand(flow), 0); /* once */
    char sib[64];
    assert_true(kt_foreachitem_sibling("f_items", KT_FOREACHITEM_SPLIT_SUFFIX, sib, sizeof sib));
    assert_string_equal(sib, "f_split");
    assert_false(kt_foreachitem_sibling("f", KT_FOREACHITEM_SPLIT_SUFFIX, sib, sizeof sib));
    json_decref(flow);
}

/* A tally that is not one (more batches than the run has, a state that is no end) changes nothing. */
static void test_items_bad_tally(void **state)
{
    (void)state;
    json_t *flow = flow_items(NULL), *ex = new_exec();
    const char *items = start_items(flow, ex);
    kt_exec_effects fx = {0};
    assert_int_equal(step_flow(flow, ex, ev_created(items, 2, NULL, T0 + 2 * SEC), &fx), KT_OK);
    static const char *const bad[] = {"{\"SUCCESS\":3}", "{\"RUNNING\":1}", "{\"SUCCESS\":-1}", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&fx, 0, sizeof fx);
        step_flow(flow, ex, ev_child_end(items, "SUCCESS", bad[i], T0 + 3 * SEC), &fx);
        assert_true(fx.stale);
        assert_string_equal(kt_state_current(taskrun_at(ex, 2)), "RUNNING");
        assert_int_equal(iteration(taskrun_at(ex, 2), "CREATED"), 2);
    }
    json_decref(ex);
    json_decref(flow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_items_success, reset_ids),
        cmocka_unit_test_setup(test_items_failed, reset_ids),
        cmocka_unit_test_setup(test_items_variants, reset_ids),
        cmocka_unit_test(test_expand),
        cmocka_unit_test_setup(test_items_bad_tally, reset_ids),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    json_decref(g_end_out);
    return rc;
}
