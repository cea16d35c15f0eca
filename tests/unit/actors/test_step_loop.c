/* Kestra 2.0's Loop in the executor's step (actors/executor/step_loop.c): iterations over a list, a map, a file's
 * lines; item.value/index/key and item.parent(s) at any depth; each iteration isolated (its outputs seen in it only);
 * concurrencyLimit; transmitFailed; breakWhen; per-iteration errors and finally; declared outputs; restart. And
 * LoopUntil (flowable_waitfor.c) with its defaults by type and dialect.
 *
 * A small worker stands in for the real one: each dispatched run's task is rendered in its run context (as the
 * executor renders it for a worker) and a Return answers {value: format}, a Log records its message, a Fail fails
 * when its condition holds. What the tasks saw is in the journal, in dispatch order. */
#include "step_fixture.h"

#include "actors/executor/restart.h"
#include "flow/render.h"

#define CORE "io.kestra.plugin.core."

/* ---- the stand-in worker ------------------------------------------------------------------------------------ */

static const char *g_file = "";

static int test_read(void *ud, const char *uri, char **out, size_t *len, char *err, size_t errcap)
{
    (void)ud;
    if (strcmp(uri, "kestra:///company/team/loop/executions/ex1/inputs/file/lines.txt")) {
        snprintf(err, errcap, "no file %s", uri);
        return KT_ENOTFOUND;
    }
    *out = strdup(g_file);
    *len = strlen(g_file);
    return 0;
}

static const kt_env_files g_files = {.read = test_read};

static kt_status lstep(const json_t *flow, json_t *ex, kt_exec_event ev, kt_exec_effects *fx)
{
    kt_exec_flow f = {.flow = flow};
    kt_env env;
    kt_env_init(&env, ev.now_us, 1);
    env.ids = test_idgen;
    env.files = &g_files;
    return kt_exec_step(&f, ex, &ev, &env, fx);
}

static json_t *run_by_id(const json_t *ex, const char *id)
{
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) if (!strcmp(json_string_value(json_object_get(tr, "id")), id)) return tr;
    return NULL;
}

/* Works the queue of dispatched runs (first in, first out) until nothing is left; `journal` gets "task: text" per
 * run; `first` is the dispatch count of the first step (how many iterations started at once). */
static json_t *g_stored; /* the files the stand-in actor wrote for Loops in STORE mode: uri -> outputs */

/* The actor's side of fetchType STORE (loop.c): each file asked for is "written" (kept in g_stored) and the Loop
 * hears its URI. */
static void store_files(const json_t *flow, json_t *ex, kt_exec_effects *fx, int64_t *now)
{
    while (fx->nsubflows) {
        json_t *spec = fx->subflows[0].spec, *data;
        char trid[32], uri[128];
        snprintf(trid, sizeof trid, "%s", fx->subflows[0].taskrun_id);
        for (size_t k = 1; k < fx->nsubflows; k++)
            json_decref(fx->subflows[k].spec);
        assert_true(json_is_true(json_object_get(spec, "loopStore")));
        snprintf(uri, sizeof uri, "kestra:///company/team/loop/executions/ex1/tasks/loop/%s/iteration-%lld.ion", trid,
                 (long long)json_integer_value(json_object_get(spec, "iteration")));
        if (!g_stored)
            g_stored = json_object();
        json_object_set(g_stored, uri, json_object_get(spec, "outputs"));
        data = json_pack("{s:s, s:O, s:O, s:s}", "loopRunId", trid, "iteration", json_object_get(spec, "iteration"),
                         "item", json_object_get(spec, "item"), "uri", uri);
        json_decref(spec);
        kt_exec_event ev = {.kind = KT_EV_CHILD_CREATED, .now_us = *now, .taskrun_id = trid, .outputs = data};
        assert_int_equal(lstep(flow, ex, ev, fx), KT_OK);
        json_decref(data);
    }
}

static void work(const json_t *flow, json_t *ex, kt_exec_effects *fx, int64_t *now, json_t *journal)
{
    json_t *queue = json_array();
    for (;;) {
        for (size_t i = 0; i < fx->ndispatch; i++)
            json_array_append_new(queue, json_pack("[s,i]", fx->dispatch[i].taskrun_id, (int)fx->dispatch[i].attempt));
        if (fx->nsubflows) {
            store_files(flow, ex, fx, now);
            continue;
        }
        if (!json_array_size(queue))
            break;
        json_t *d = json_incref(json_array_get(queue, 0));
        json_array_remove(queue, 0);
        json_t *run = run_by_id(ex, json_string_value(json_array_get(d, 0)));
        assert_non_null(run);
        const json_t *task = kt_exec_find_task(flow, json_string_value(json_object_get(run, "taskId")));
        assert_non_null(task);
        kt_env env;
        kt_env_init(&env, *now, 1);
        env.files = &g_files;
        char err[256];
        json_t *r = kt_render_task(flow, NULL, &env, ex, task, run, err, sizeof err);
        if (!r)
            fail_msg("render of %s: %s", json_string_value(json_object_get(task, "id")), err);
        const char *type = json_string_value(json_object_get(task, "type"));
        const char *state = "SUCCESS";
        json_t *outputs = NULL;
        char line[512] = "";
        if (!strcmp(type, CORE "debug.Return")) {
            outputs = json_pack("{s:O}", "value", json_object_get(r, "format"));
            snprintf(line, sizeof line, "%s: %s", json_string_value(json_object_get(task, "id")),
                     json_string_value(json_object_get(r, "format")));
        } else if (!strcmp(type, CORE "log.Log")) {
            snprintf(line, sizeof line, "%s: %s", json_string_value(json_object_get(task, "id")),
                     json_string_value(json_object_get(r, "message")));
        } else if (!strcmp(type, CORE "execution.Fail")) {
            const char *c = json_string_value(json_object_get(r, "condition"));
            state = !c || (strcmp(c, "false") && strcmp(c, "")) ? "FAILED" : "SUCCESS";
            snprintf(line, sizeof line, "%s: %s", json_string_value(json_object_get(task, "id")), state);
        }
        json_array_append_new(journal, json_string(line));
        json_decref(r);
        *now += SEC;
        kt_exec_event ev = ev_result(json_string_value(json_array_get(d, 0)),
                                     (uint32_t)json_integer_value(json_array_get(d, 1)), state, *now);
        ev.outputs = outputs;
        assert_int_equal(lstep(flow, ex, ev, fx), KT_OK);
        json_decref(outputs);
        json_decref(d);
    }
    json_decref(queue);
}

/* Runs a flow of these tasks to its end: the execution (the caller decrefs), the journal in *journal, the number of
 * runs dispatched by the start in *first. */
static json_t *run_flow(const json_t *flow, json_t **journal, size_t *first)
{
    json_t *ex = kt_execution_new("ex1", "company.team", "loop", 1, NULL, NULL, NULL, T0);
    kt_exec_effects fx;
    int64_t now = T0;
    assert_int_equal(lstep(flow, ex, ev_start(now), &fx), KT_OK);
    if (first)
        *first = fx.ndispatch;
    *journal = json_array();
    work(flow, ex, &fx, &now, *journal);
    return ex;
}

static json_t *flow_of(const char *tasks)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "{\"id\":\"loop\",\"namespace\":\"company.team\",\"dialect\":\"2.x\",\"tasks\":%s}", tasks);
    return parse(buf);
}

static json_t *run_of(const json_t *ex, const char *task_id)
{
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) if (!strcmp(json_string_value(json_object_get(tr, "taskId")), task_id)) return tr;
    return NULL;
}

static void check_journal(const json_t *journal, const char *const *want, size_t n)
{
    if (json_array_size(journal) != n) {
        char *d = json_dumps(journal, 0);
        fail_msg("journal %s: %zu lines, %zu wanted", d, json_array_size(journal), n);
    }
    for (size_t i = 0; i < n; i++)
        assert_string_equal(json_string_value(json_array_get(journal, i)), want[i]);
}

static const json_t *loop_out(const json_t *ex, const char *loop, const char *key)
{
    return json_object_get(json_object_get(run_of(ex, loop), "outputs"), key);
}

/* ---- the tests ------------------------------------------------------------------------------------------------- */

/* A list: one iteration per element, elements that are not strings as JSON; item.index from 0; within an iteration
 * outputs.<task> is that iteration's run (no value key); equal values still make two iterations. */
static void test_list(void **state)
{
    (void)state;
    json_t *flow = flow_of("[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"concurrencyLimit\":1,"
                           "\"values\":[\"a\",1,{\"k\":true},\"a\"],\"tasks\":["
                           "{\"id\":\"r\",\"type\":\"" CORE "debug.Return\",\"format\":\"{{ item.value }}@{{ item.index }}\"},"
                           "{\"id\":\"l\",\"type\":\"" CORE "log.Log\",\"message\":\"got {{ outputs.r.value }}\"}]},"
                           "{\"id\":\"after\",\"type\":\"" CORE "log.Log\",\"message\":\"{{ outputs.loop.iterationCount }} "
                           "{{ outputs.r ?? 'hidden' }}\"}]");
    json_t *journal;
    size_t first;
    json_t *ex = run_flow(flow, &journal, &first);
    static const char *const want[] = {"r: a@0", "l: got a@0", "r: 1@1", "l: got 1@1", "r: {\"k\":true}@2",
                                       "l: got {\"k\":true}@2", "r: a@3", "l: got a@3", "after: 4 hidden"};
    check_journal(journal, want, 9);
    assert_int_equal(first, 1);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    assert_string_equal(kt_state_current(run_of(ex, "loop")), "SUCCESS");
    assert_int_equal(json_integer_value(loop_out(ex, "loop", "iterationCount")), 4);
    assert_int_equal(json_integer_value(json_object_get(loop_out(ex, "loop", "terminatedIterations"), "SUCCESS")), 4);
    assert_null(loop_out(ex, "loop", "outputs")); /* none declared */
    /* the first-level runs carry the index and the item */
    json_t *r0 = run_of(ex, "r");
    assert_string_equal(json_string_value(json_object_get(r0, "value")), "0");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r0, "item"), "value")), "a");
    json_decref(journal);
    json_decref(ex);
    json_decref(flow);
}

/* A map (item.key) with declared outputs, FETCH by AUTO: outputs.loop.outputs[n].outputs.<id> in index order, read by
 * loopOutputs() after the loop; a JSON-array string works as a list. */
static void test_map_outputs(void **state)
{
    (void)state;
    json_t *flow = flow_of("[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"values\":{\"a\":\"alpha\",\"b\":\"beta\"},"
                           "\"fetchType\":\"AUTO\",\"outputs\":[{\"id\":\"label\",\"type\":\"STRING\","
                           "\"value\":\"{{ outputs.process.value }}\"}],\"tasks\":["
                           "{\"id\":\"process\",\"type\":\"" CORE "debug.Return\",\"format\":\"processed {{ item.key }}={{ item.value }}\"}]},"
                           "{\"id\":\"read\",\"type\":\"" CORE "log.Log\",\"message\":\"{{ loopOutputs(outputs.loop.outputs, 'label') }} "
                           "{{ outputs.loop.outputs[1].item.key }}\"},"
                           "{\"id\":\"str\",\"type\":\"" CORE "flow.Loop\",\"values\":\"[\\\"x\\\", \\\"y\\\"]\",\"tasks\":["
                           "{\"id\":\"s\",\"type\":\"" CORE "log.Log\",\"message\":\"{{ item.index }}={{ item.value }}\"}]}]");
    json_t *journal;
    size_t first;
    json_t *ex = run_flow(flow, &journal, &first);
    assert_int_equal(first, 2); /* concurrencyLimit 0 by default: both at once */
    static const char *const want[] = {"process: processed a=alpha", "process: processed b=beta",
                                       "read: [\"processed a=alpha\",\"processed b=beta\"] b", "s: 0=x", "s: 1=y"};
    check_journal(journal, want, 5);
    const json_t *list = loop_out(ex, "loop", "outputs");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(list, 0), "outputs"), "label")),
                        "processed a=alpha");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(list, 0), "item"), "key")), "a");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(list, 1), "item"), "iteration")), 1);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_decref(journal);
    json_decref(ex);
    json_decref(flow);
}

/* An internal-storage URI: one iteration per line (blank lines skipped, a JSON line coalesced); fetchType AUTO
 * resolves to STORE there: each iteration's outputs in a file (the Loop ends once they are written); FETCH keeps
 * them in the Loop's outputs. */
static void test_uri_lines(void **state)
{
    (void)state;
    g_file = "first line\n{\"n\": 2}\n\nthird\n";
    json_t *flow = flow_of("[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"concurrencyLimit\":1,"
                           "\"values\":\"{{ 'kestra:///company/team/loop/executions/ex1/inputs/file/lines.txt' }}\","
                           "\"outputs\":[{\"id\":\"n\",\"type\":\"INT\",\"value\":\"{{ item.index }}\"}],"
                           "\"tasks\":[{\"id\":\"log\",\"type\":\"" CORE "log.Log\",\"message\":\"line {{ item.index }}: {{ item.value }}\"}]}]");
    json_t *journal;
    json_t *ex = run_flow(flow, &journal, NULL);
    static const char *const want[] = {"log: line 0: first line", "log: line 1: {\"n\":2}", "log: line 2: third"};
    check_journal(journal, want, 3);
    assert_int_equal(json_integer_value(loop_out(ex, "loop", "iterationCount")), 3);
    /* each iteration's outputs in a file, listed as {item, outputs: {uri}} */
    const json_t *list = loop_out(ex, "loop", "outputs");
    assert_int_equal(json_array_size(list), 3);
    const char *uri = json_string_value(json_object_get(json_object_get(json_array_get(list, 2), "outputs"), "uri"));
    assert_non_null(uri);
    assert_non_null(strstr(uri, "/iteration-2.ion"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(list, 2), "item"), "value")),
                        "third");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(g_stored, uri), "n")), 2);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_decref(g_stored);
    g_stored = NULL;
    json_decref(journal);
    json_decref(ex);
    /* fetchType FETCH on a file: the outputs themselves */
    json_decref(flow);
    flow = flow_of("[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"fetchType\":\"FETCH\","
                   "\"values\":\"kestra:///company/team/loop/executions/ex1/inputs/file/lines.txt\","
                   "\"outputs\":[{\"id\":\"n\",\"type\":\"INT\",\"value\":\"{{ item.index }}\"}],"
                   "\"tasks\":[{\"id\":\"log\",\"type\":\"" CORE "log.Log\",\"message\":\"x\"}]}]");
    g_ids = 0;
    ex = run_flow(flow, &journal, NULL);
    assert_null(g_stored);
    list = loop_out(ex, "loop", "outputs");
    assert_int_equal(json_array_size(list), 3);
    json_int_t sum = 0;
    for (size_t i = 0; i < 3; i++) /* concurrencyLimit 0: in the order they ended */
        sum += json_integer_value(json_object_get(json_object_get(json_array_get(list, i), "outputs"), "n"));
    assert_int_equal(sum, 3);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_decref(journal);
    json_decref(ex);
    /* a file that is not there fails the Loop, saying why */
    flow = (json_decref(flow), flow_of("[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"values\":\"kestra:///nope.txt\","
                                       "\"tasks\":[{\"id\":\"log\",\"type\":\"" CORE "log.Log\",\"message\":\"x\"}]}]"));
    g_ids = 0;
    ex = run_flow(flow, &journal, NULL);
    assert_int_equal(json_array_size(journal), 0);
    assert_string_equal(kt_state_current(run_of(ex, "loop")), "FAILED");
    assert_string_equal(kt_state_current(ex), "FAILED");
    json_decref(journal);
    json_decref(ex);
    json_decref(flow);
}

/* Nested Loops: item.parent.value and item.parents[n].value at any depth, through a Sequential in between. */
static void test_nested_parents(void **state)
{
    (void)state;
    json_t *flow = flow_of(
        "[{\"id\":\"buckets\",\"type\":\"" CORE "flow.Loop\",\"concurrencyLimit\":1,\"values\":[\"b1\",\"b2\"],\"tasks\":["
        "{\"id\":\"years\",\"type\":\"" CORE "flow.Loop\",\"concurrencyLimit\":1,\"values\":[2025,2026],\"tasks\":["
        "{\"id\":\"seq\",\"type\":\"" CORE "flow.Sequential\",\"tasks\":["
        "{\"id\":\"months\",\"type\":\"" CORE "flow.Loop\",\"concurrencyLimit\":1,\"values\":[\"Mar\"],\"tasks\":["
        "{\"id\":\"name\",\"type\":\"" CORE "log.Log\",\"message\":"
        "\"{{ item.parents[1].value }}_{{ item.parent.value }}_{{ item.value }} {{ item.parents[0].index }}\"}]}]}]}]}]");
    json_t *journal;
    json_t *ex = run_flow(flow, &journal, NULL);
    static const char *const want[] = {"name: b1_2025_Mar 0", "name: b1_2026_Mar 1", "name: b2_2025_Mar 0",
                                       "name: b2_2026_Mar 1"};
    check_journal(journal, want, 4);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_decref(journal);
    json_decref(ex);
    json_decref(flow);
}

/* concurrencyLimit N: at most N iterations open; the next starts when one ends. */
static void test_concurrency(void **state)
{
    (void)state;
    json_t *flow = flow_of("[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"concurrencyLimit\":2,\"values\":[1,2,3,4,5],"
                           "\"tasks\":[{\"id\":\"a\",\"type\":\"" CORE "log.Log\",\"message\":\"a{{ item.value }}\"},"
                           "{\"id\":\"b\",\"type\":\"" CORE "log.Log\",\"message\":\"b{{ item.value }}\"}]}]");
    json_t *journal;
    size_t first;
    json_t *ex = run_flow(flow, &journal, &first);
    assert_int_equal(first, 2);
    /* two groups interleave; the third starts only once the first ends */
    static const char *const want[] = {"a: a1", "a: a2", "b: b1", "b: b2", "a: a3", "a: a4", "b: b3", "b: b4",
                                       "a: a5", "b: b5"};
    check_journal(journal, want, 10);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    assert_int_equal(json_integer_value(loop_out(ex, "loop", "runningIterations")), 0);
    json_decref(journal);
    json_decref(ex);
    /* while it runs, its outputs count the open iterations */
    ex = kt_execution_new("ex1", "company.team", "loop", 1, NULL, NULL, NULL, T0);
    kt_exec_effects fx;
    g_ids = 0;
    assert_int_equal(lstep(flow, ex, ev_start(T0), &fx), KT_OK);
    assert_int_equal(json_integer_value(loop_out(ex, "loop", "runningIterations")), 2);
    assert_int_equal(json_integer_value(loop_out(ex, "loop", "iterationCount")), 5);
    json_decref(ex);
    json_decref(flow);
}

/* transmitFailed true (default): a failed iteration fails the Loop and no iteration starts after it (the handler's
 * terminateLoop); false: the others run and the Loop succeeds. */
static void test_transmit_failed(void **state)
{
    (void)state;
    for (int transmit = 0; transmit <= 1; transmit++) {
        char tasks[1024];
        snprintf(tasks, sizeof tasks,
                 "[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"concurrencyLimit\":1,%s\"values\":[1,2,3],\"tasks\":["
                 "{\"id\":\"f\",\"type\":\"" CORE "execution.Fail\",\"condition\":\"{{ item.value == '2' }}\"}]},"
                 "{\"id\":\"next\",\"type\":\"" CORE "log.Log\",\"message\":\"next\"}]",
                 transmit ? "" : "\"transmitFailed\":false,");
        json_t *flow = flow_of(tasks), *journal;
        g_ids = 0;
        json_t *ex = run_flow(flow, &journal, NULL);
        /* true: the failed iteration stops the Loop (the third never starts, `next` neither) */
        assert_int_equal(json_array_size(journal), transmit ? 2 : 4);
        assert_string_equal(kt_state_current(run_of(ex, "loop")), transmit ? "FAILED" : "SUCCESS");
        assert_string_equal(kt_state_current(ex), transmit ? "FAILED" : "SUCCESS");
        assert_int_equal(json_integer_value(json_object_get(loop_out(ex, "loop", "terminatedIterations"), "FAILED")), 1);
        json_decref(journal);
        json_decref(ex);
        json_decref(flow);
    }
    /* allowFailure: WARNING; a WARNING iteration alone leaves the Loop SUCCESS (terminateLoop knows no WARNING) */
    json_t *flow = flow_of("[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"allowFailure\":true,\"values\":[1],"
                           "\"tasks\":[{\"id\":\"f\",\"type\":\"" CORE "execution.Fail\"}]}]"),
           *journal;
    g_ids = 0;
    json_t *ex = run_flow(flow, &journal, NULL);
    assert_string_equal(kt_state_current(run_of(ex, "loop")), "WARNING");
    json_decref(journal);
    json_decref(ex);
    json_decref(flow);
    flow = flow_of("[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"values\":[1],\"tasks\":["
                   "{\"id\":\"f\",\"type\":\"" CORE "execution.Fail\",\"allowFailure\":true}]}]");
    g_ids = 0;
    ex = run_flow(flow, &journal, NULL);
    assert_string_equal(kt_state_current(run_of(ex, "f")), "WARNING");
    assert_string_equal(kt_state_current(run_of(ex, "loop")), "SUCCESS");
    json_decref(journal);
    json_decref(ex);
    json_decref(flow);
}

/* breakWhen sees item and iteration.state/outputs: no iteration starts after the one that breaks; per-iteration
 * errors (with item) and finally; the Loop-level allowFailure. */
static void test_break_errors_finally(void **state)
{
    (void)state;
    json_t *flow = flow_of(
        "[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"concurrencyLimit\":1,\"values\":[1,2,3],\"transmitFailed\":false,"
        "\"breakWhen\":\"{{ iteration.state == 'FAILED' }}\",\"tasks\":["
        "{\"id\":\"maybe_fail\",\"type\":\"" CORE "execution.Fail\",\"condition\":\"{{ item.value == '2' }}\"}],"
        "\"errors\":[{\"id\":\"on_error\",\"type\":\"" CORE "log.Log\",\"message\":\"iteration {{ item.index }} failed\"}],"
        "\"finally\":[{\"id\":\"after\",\"type\":\"" CORE "log.Log\",\"message\":\"done {{ item.value }}\"}]}]");
    json_t *journal;
    json_t *ex = run_flow(flow, &journal, NULL);
    static const char *const want[] = {"maybe_fail: SUCCESS", "after: done 1", "maybe_fail: FAILED",
                                       "on_error: iteration 1 failed", "after: done 2"};
    check_journal(journal, want, 5);
    assert_string_equal(kt_state_current(run_of(ex, "loop")), "SUCCESS");
    assert_int_equal(json_integer_value(loop_out(ex, "loop", "iterationCount")), 3);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_decref(journal);
    json_decref(ex);
    json_decref(flow);

    /* breakWhen on the iteration's declared outputs */
    flow = flow_of("[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"concurrencyLimit\":1,\"values\":[\"a\",\"stop\",\"c\"],"
                   "\"outputs\":[{\"id\":\"v\",\"type\":\"STRING\",\"value\":\"{{ outputs.r.value }}\"}],"
                   "\"breakWhen\":\"{{ iteration.outputs.v == 'stop' }}\",\"tasks\":["
                   "{\"id\":\"r\",\"type\":\"" CORE "debug.Return\",\"format\":\"{{ item.value }}\"}]}]");
    g_ids = 0;
    ex = run_flow(flow, &journal, NULL);
    static const char *const want2[] = {"r: a", "r: stop"};
    check_journal(journal, want2, 2);
    assert_int_equal(json_array_size(loop_out(ex, "loop", "outputs")), 2);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_decref(journal);
    json_decref(ex);
    json_decref(flow);
}

/* A failed Loop restarted: the failed iteration's task runs again (RESTARTED), the ended ones are kept, and the
 * iterations the failure stopped start after it. */
static void test_restart(void **state)
{
    (void)state;
    json_t *flow = flow_of("[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"concurrencyLimit\":1,\"values\":[1,2,3],"
                           "\"tasks\":[{\"id\":\"f\",\"type\":\"" CORE "execution.Fail\","
                           "\"condition\":\"{{ item.value == '2' and taskrun.attemptsCount == 0 }}\"}]}]");
    json_t *journal;
    json_t *ex = run_flow(flow, &journal, NULL);
    assert_string_equal(kt_state_current(ex), "FAILED");
    assert_int_equal(nruns(ex), 3); /* the third iteration never started */
    json_decref(journal);
    kt_env env;
    kt_env_init(&env, T0 + 100 * SEC, 1);
    env.ids = test_idgen;
    char err[256];
    assert_int_equal(kt_exec_restart(flow, ex, 0, &env, T0 + 100 * SEC, err, sizeof err), KT_OK);
    assert_string_equal(kt_state_current(ex), "RESTARTED");
    assert_string_equal(kt_state_current(run_of(ex, "loop")), "RUNNING");
    kt_exec_effects fx;
    int64_t now = T0 + 101 * SEC;
    assert_int_equal(lstep(flow, ex, ev_start(now), &fx), KT_OK);
    assert_int_equal(fx.ndispatch, 1);
    journal = json_array();
    work(flow, ex, &fx, &now, journal);
    static const char *const want[] = {"f: SUCCESS", "f: SUCCESS"}; /* iteration 1 again, then iteration 2 */
    check_journal(journal, want, 2);
    assert_int_equal(nruns(ex), 4);
    assert_string_equal(kt_state_current(run_of(ex, "loop")), "SUCCESS");
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_decref(journal);
    json_decref(ex);
    json_decref(flow);
}

/* A failed iteration with an errors branch, restarted: its errors and finally runs go (ExecutionService.restart's
 * allErrorsWithChildren / allFinallyWithChildren) and its failed task runs again; the successful iteration, which
 * Kestra runs as a sub-execution the restart does not touch, keeps its finally run. */
static void test_restart_errors(void **state)
{
    (void)state;
    json_t *flow = flow_of("[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"concurrencyLimit\":1,\"values\":[1,2],"
                           "\"tasks\":[{\"id\":\"f\",\"type\":\"" CORE "execution.Fail\","
                           "\"condition\":\"{{ item.value == '2' and taskrun.attemptsCount == 0 }}\"}],"
                           "\"errors\":[{\"id\":\"e\",\"type\":\"" CORE "log.Log\",\"message\":\"e{{ item.index }}\"}],"
                           "\"finally\":[{\"id\":\"z\",\"type\":\"" CORE "log.Log\",\"message\":\"z{{ item.index }}\"}]}]");
    json_t *journal;
    json_t *ex = run_flow(flow, &journal, NULL);
    static const char *const want1[] = {"f: SUCCESS", "z: z0", "f: FAILED", "e: e1", "z: z1"};
    check_journal(journal, want1, 5);
    assert_string_equal(kt_state_current(ex), "FAILED");
    json_decref(journal);
    kt_env env;
    kt_env_init(&env, T0 + 100 * SEC, 1);
    env.ids = test_idgen;
    char err[256];
    assert_int_equal(kt_exec_restart(flow, ex, 0, &env, T0 + 100 * SEC, err, sizeof err), KT_OK);
    kt_exec_effects fx;
    int64_t now = T0 + 101 * SEC;
    assert_int_equal(lstep(flow, ex, ev_start(now), &fx), KT_OK);
    journal = json_array();
    work(flow, ex, &fx, &now, journal);
    /* the restarted iteration runs its finally again; the other iteration, untouched, keeps its own */
    static const char *const want2[] = {"f: SUCCESS", "z: z1"};
    check_journal(journal, want2, 2);
    assert_null(run_of(ex, "e"));
    assert_string_equal(kt_state_current(run_of(ex, "loop")), "SUCCESS");
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_decref(journal);
    json_decref(ex);
    json_decref(flow);
}

/* Values that are no list: the Loop fails saying so (no crash, no iteration). */
static void test_bad_values(void **state)
{
    (void)state;
    static const char *const bad[] = {"42", "\"not json\"", "[1,null]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char tasks[512];
        snprintf(tasks, sizeof tasks, "[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"values\":%s,\"tasks\":["
                 "{\"id\":\"l\",\"type\":\"" CORE "log.Log\",\"message\":\"x\"}]}]", bad[i]);
        json_t *flow = flow_of(tasks), *journal;
        g_ids = 0;
        json_t *ex = run_flow(flow, &journal, NULL);
        assert_int_equal(json_array_size(journal), 0);
        assert_string_equal(kt_state_current(ex), "FAILED");
        json_decref(journal);
        json_decref(ex);
        json_decref(flow);
    }
    /* no values: SUCCESS at once, iterationCount 0 */
    json_t *flow = flow_of("[{\"id\":\"loop\",\"type\":\"" CORE "flow.Loop\",\"values\":[],\"tasks\":["
                           "{\"id\":\"l\",\"type\":\"" CORE "log.Log\",\"message\":\"x\"}]}]"),
           *journal;
    json_t *ex = run_flow(flow, &journal, NULL);
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    assert_int_equal(json_integer_value(loop_out(ex, "loop", "iterationCount")), 0);
    json_decref(journal);
    json_decref(ex);
    json_decref(flow);
}

/* Drives a WaitFor-like loop `wf` whose child `ret` never satisfies the condition until iteration `until`: returns the
 * number of iterations it ran; *interval gets the delay of its first PAUSED timer. */
static long drive_until(const json_t *flow, long until, int64_t *interval)
{
    json_t *ex = kt_execution_new("ex1", "company.team", "loop", 1, NULL, NULL, NULL, T0);
    kt_exec_effects fx;
    int64_t now = T0;
    assert_int_equal(lstep(flow, ex, ev_start(now), &fx), KT_OK);
    long iterations = 0;
    *interval = -1;
    while (fx.ndispatch == 1) {
        iterations++;
        char trid[32], value[24];
        snprintf(trid, sizeof trid, "%s", fx.dispatch[0].taskrun_id);
        snprintf(value, sizeof value, "%ld", iterations);
        json_t *out = json_pack("{s:s}", "value", value);
        kt_exec_event ev = ev_result(trid, 0, "SUCCESS", now += SEC);
        ev.outputs = out;
        assert_int_equal(lstep(flow, ex, ev, &fx), KT_OK);
        json_decref(out);
        if (!fx.ntimers)
            break;
        if (*interval < 0)
            *interval = fx.timers[0].at_us - now;
        kt_exec_event resume = {.kind = KT_EV_RESUME, .now_us = fx.timers[0].at_us, .taskrun_id = fx.timers[0].taskrun_id,
                                .state = "RUNNING", .iteration = fx.timers[0].iteration};
        now = fx.timers[0].at_us;
        assert_int_equal(lstep(flow, ex, resume, &fx), KT_OK);
        if (iterations > until + 5)
            break;
    }
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    json_decref(ex);
    return iterations;
}

/* LoopUntil is WaitFor under its 0.22 name with 0.23's defaults (interval PT1M, no maximum), in both dialects;
 * WaitFor keeps 0.21's (PT1S, 100 iterations) in a 1.x flow and takes LoopUntil's in a 2.x flow. */
static void test_loop_until(void **state)
{
    (void)state;
    static const struct {
        const char *type, *dialect;
        long iterations;
        int64_t interval;
    } cases[] = {
        {"LoopUntil", "1.x", 103, 60 * SEC},
        {"LoopUntil", "2.x", 103, 60 * SEC},
        {"WaitFor", "1.x", 100, SEC}, /* stops after 100 iterations: "Max iterations reached" */
        {"WaitFor", "2.x", 103, 60 * SEC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char buf[1024];
        snprintf(buf, sizeof buf,
                 "{\"id\":\"loop\",\"namespace\":\"company.team\",\"dialect\":\"%s\",\"tasks\":["
                 "{\"id\":\"wf\",\"type\":\"" CORE "flow.%s\",\"condition\":\"{{ outputs.ret.value == '103' }}\","
                 "\"tasks\":[{\"id\":\"ret\",\"type\":\"" CORE "debug.Return\",\"format\":\"x\"}]}]}",
                 cases[i].dialect, cases[i].type);
        json_t *flow = parse(buf);
        g_ids = 0;
        int64_t interval;
        long n = drive_until(flow, 103, &interval);
        if (n != cases[i].iterations || interval != cases[i].interval)
            fail_msg("%s in %s: %ld iterations, interval %lld us", cases[i].type, cases[i].dialect, n,
                     (long long)interval);
        json_decref(flow);
    }
}

/* Subflow restartBehavior: explicit values win; unset, RETRY_FAILED in a 2.x flow, NEW_EXECUTION in a 1.x flow. */
static void test_subflow_restart_rule(void **state)
{
    (void)state;
    json_t *f1 = parse("{\"dialect\":\"1.x\"}"), *f2 = parse("{\"dialect\":\"2.x\"}"), *none = parse("{}");
    json_t *plain = parse("{\"id\":\"s\"}"), *retry = parse("{\"restartBehavior\":\"RETRY_FAILED\"}"),
           *fresh = parse("{\"restartBehavior\":\"NEW_EXECUTION\"}");
    assert_int_equal(kt_exec_subflow_restarts(f1, plain), 0);
    assert_int_equal(kt_exec_subflow_restarts(none, plain), 0);
    assert_int_equal(kt_exec_subflow_restarts(f2, plain), 1);
    assert_int_equal(kt_exec_subflow_restarts(f1, retry), 1);
    assert_int_equal(kt_exec_subflow_restarts(f2, fresh), 0);
    json_decref(f1), json_decref(f2), json_decref(none), json_decref(plain), json_decref(retry), json_decref(fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_list, reset_ids),
        cmocka_unit_test_setup(test_map_outputs, reset_ids),
        cmocka_unit_test_setup(test_uri_lines, reset_ids),
        cmocka_unit_test_setup(test_nested_parents, reset_ids),
        cmocka_unit_test_setup(test_concurrency, reset_ids),
        cmocka_unit_test_setup(test_transmit_failed, reset_ids),
        cmocka_unit_test_setup(test_break_errors_finally, reset_ids),
        cmocka_unit_test_setup(test_restart, reset_ids),
        cmocka_unit_test_setup(test_restart_errors, reset_ids),
        cmocka_unit_test_setup(test_bad_values, reset_ids),
        cmocka_unit_test_setup(test_loop_until, reset_ids),
        cmocka_unit_test(test_subflow_restart_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
