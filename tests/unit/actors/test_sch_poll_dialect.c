/* A polling trigger (http.Trigger) in each dialect, through the scheduler on a real store with a stand-in worker:
 * the TriggerEvaluate request names the flow's dialect (the worker's renders follow it: kv(), read()...), and the
 * execution a positive evaluation starts has a 2.x flow's defaults with their expressions rendered (docs/dialects.md
 * A11), a 1.x flow's none (Kestra 0.21's TriggerService.generateExecution gives it no inputs); a 2.x default that
 * does not render starts nothing. Flows: tests/dialects/onmiss/poll_defaults.*.yaml. */
#include "tests/unit/actors/sch_world.h"
#include "base/clock.h"
#include "base/log.h"
#include "flow/model.h"
#include "flow/state.h"

#define FLOW(id, dialect, dflt)                                                                                      \
    "id: " id "\nnamespace: a.b\ndialect: " dialect "\n"                                                             \
    "inputs:\n  - id: env\n    type: STRING\n    defaults: dev\n  - id: bucket\n    type: STRING\n"             \
    "    defaults: \"" dflt "\"\n"                                                                                   \
    "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"                                \
    "triggers:\n  - id: http\n    type: io.kestra.plugin.core.http.Trigger\n    uri: http://127.0.0.1:1/x\n"       \
    "    interval: PT1S\n"

static json_t *g_dialects; /* flowId -> the dialect its last request named ("none" when absent) */

static void worker_receive(kt_actor *a, const kt_msg *m)
{
    if (m->type != KT_MSG_TRIGGER_EVALUATE)
        return;
    json_t *body = NULL;
    assert_int_equal(kt_msg_decode_object(m->body, &body), KT_OK);
    const char *d = json_string_value(json_object_get(body, "dialect"));
    json_object_set_new(g_dialects, json_string_value(json_object_get(body, "flowId")), json_string(d ? d : "none"));
    json_decref(body);
    json_t *data = json_pack("{s:b, s:{s:i}}", "execute", 1, "variables", "code", 200);
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_REPLY, m->from, kt_actor_address(a), m->corr);
    kt_msg_reply r = {.status = KT_OK, .data = data};
    kt_msg_encode_reply(&o, &r);
    json_decref(data);
    kt_node_send(kt_actor_node(a), m->from, &o);
}

static json_t *only_execution(kt_store *st, const char *flow_id, int64_t *count)
{
    kt_exec_query q = {.namespace_ = "a.b", .flow_id = flow_id, .size = 50, .page = 1};
    json_t *rows = NULL, *full = NULL;
    int64_t total = -1;
    assert_int_equal(kt_store_executions_search(st, &q, &rows, &total), KT_OK);
    *count = (int64_t)json_array_size(rows);
    const char *id = json_string_value(json_object_get(json_array_get(rows, 0), "id"));
    if (id)
        assert_int_equal(kt_store_execution_get(st, id, &full), KT_OK);
    json_decref(rows);
    return full;
}

static void test_poll_by_dialect(void **state)
{
    (void)state;
    static const kt_actor_ops worker_ops = {.receive = worker_receive};
    const char *const flows[] = {"p1x",    FLOW("p1x", "1.x", "{{ flow.namespace }}-{{ inputs.env }}"),
                                 "p2x",    FLOW("p2x", "2.x", "{{ flow.namespace }}-{{ inputs.env }}"),
                                 "p2xbad", FLOW("p2xbad", "2.x", "{{ nope.x }}"), NULL};
    g_dialects = json_object();
    sch_world w;
    sch_world_start(&w, flows);
    assert_int_equal(kt_node_spawn(w.node, KT_WORKER_ACTOR, &worker_ops, NULL, NULL), KT_OK);
    sch_run_ms(&w, 2500); /* the first sends found no worker: tried again within a second */
    assert_string_equal(json_string_value(json_object_get(g_dialects, "p1x")), "1.x");
    assert_string_equal(json_string_value(json_object_get(g_dialects, "p2x")), "2.x");

    int64_t n = 0;
    json_t *ex = only_execution(w.st, "p2x", &n);
    assert_int_equal(n, 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(ex, "inputs"), "bucket")), "a.b-dev");
    json_decref(ex);
    ex = only_execution(w.st, "p1x", &n);
    assert_int_equal(n, 1);
    assert_int_equal(json_object_size(json_object_get(ex, "inputs")), 0);
    json_decref(ex);
    ex = only_execution(w.st, "p2xbad", &n);
    assert_int_equal(n, 0);
    assert_null(ex);
    sch_world_stop(&w);
    sch_world_end(&w);
    json_decref(g_dialects);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poll_by_dialect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
