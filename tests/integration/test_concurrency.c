/* Flow concurrency across a Subflow (KESTRA-execution.md §2.14, §2.16), end to end over HTTP on 127.0.0.1: a child
 * execution created by a Subflow task is admitted like any other execution of its flow, so it waits in QUEUED while
 * another execution holds the flow's only slot, and runs once that one ends. The slot is held by a Pause, so the
 * test waits on states, never on timings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/partition.h"
#include "harness.h"

typedef kt_it_fixture fixture;

/* The states of an execution's history, comma separated. */
static void history(const json_t *ex, char *out, size_t cap)
{
    size_t i, n = 0;
    json_t *h;
    out[0] = 0;
    json_array_foreach(json_object_get(json_object_get(ex, "state"), "histories"), i, h)
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", i ? "," : "",
                              json_string_value(json_object_get(h, "state")));
}

static const char *FLOW_LIMITED = "id: limited\nnamespace: company.team\n"
                                  "concurrency:\n  limit: 1\n  behavior: QUEUE\n"
                                  "inputs:\n  - id: hold\n    type: BOOLEAN\n    defaults: false\n"
                                  "tasks:\n"
                                  "  - id: gate\n    type: io.kestra.plugin.core.flow.Pause\n"
                                  "    runIf: \"{{ inputs.hold }}\"\n"
                                  "  - id: done\n    type: io.kestra.plugin.core.debug.Return\n"
                                  "    format: \"done {{ inputs.hold }}\"\n"
                                  "outputs:\n  - id: result\n    type: STRING\n"
                                  "    value: \"{{ outputs.done.value }}\"\n";

static const char *FLOW_PARENT = "id: parent\nnamespace: company.team\ntasks:\n"
                                 "  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n"
                                 "    namespace: company.team\n    flowId: limited\n"
                                 "  - id: use\n    type: io.kestra.plugin.core.debug.Return\n"
                                 "    format: \"child said {{ outputs.call.outputs.result }}\"\n";

/* Starts an execution of company.team/<flow> with hold=true: its Pause keeps the flow's only slot, as PAUSED counts
 * as running (§2.14). Its id goes to id once it is PAUSED. */
static void hold_slot(fixture *f, const char *flow, char *id, size_t cap)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/executions/company.team/%s", flow);
    const char *hold[] = {"hold", "true", NULL};
    json_t *res = NULL;
    assert_int_equal(kt_it_post_form(f->port, path, hold, &res), 200);
    snprintf(id, cap, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_decref(kt_it_wait_state(&f->server, f->port, id, "PAUSED", 10000));
}

static void test_subflow_child_queued(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_LIMITED, NULL);
    kt_it_create_flow(f->port, FLOW_PARENT, NULL);
    const char *none[] = {NULL};
    json_t *res = NULL;

    /* the holder takes the only slot and keeps it */
    char holder[64];
    hold_slot(f, "limited", holder, sizeof holder);

    /* the parent's Subflow creates a child of the limited flow: the child waits in QUEUED */
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/parent", none, &res), 200);
    char parent[64], child[64] = "";
    snprintf(parent, sizeof parent, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    for (int i = 0; i < 400 && !child[0]; i++) {
        json_t *ex = kt_it_get_execution(f->port, parent);
        const char *cid = json_string_value(json_object_get(json_object_get(kt_it_taskrun(ex, "call"), "outputs"),
                                                            "executionId"));
        if (cid)
            snprintf(child, sizeof child, "%s", cid);
        json_decref(ex);
        if (!child[0])
            kt_it_sleep_ms(25);
    }
    assert_true(child[0] != 0);
    /* every execution of the limited flow, whoever created it (the API, a Subflow), is in the flow's partition,
     * where one executor counts them (base/partition.h) */
    assert_int_equal(kt_exec_partition(holder), kt_flow_partition("company.team", "limited"));
    assert_int_equal(kt_exec_partition(child), kt_flow_partition("company.team", "limited"));
    json_t *ex = kt_it_wait_state(&f->server, f->port, child, "QUEUED", 10000);
    char h[256];
    history(ex, h, sizeof h);
    assert_string_equal(h, "CREATED,QUEUED");
    assert_null(json_object_get(ex, "taskRunList")); /* nothing of it ran */
    json_t *vars = json_object_get(json_object_get(ex, "trigger"), "variables");
    assert_string_equal(json_string_value(json_object_get(vars, "executionId")), parent);
    json_decref(ex);
    /* the queue log, on the child execution */
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s", child);
    json_t *logs = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &logs), 200);
    int queued_log = 0;
    size_t i;
    json_t *l;
    json_array_foreach(logs, i, l) queued_log |= !strcmp(json_string_value(json_object_get(l, "message")),
                                                         "Flow is queued due to concurrency limit exceeded, 1 running(s)");
    assert_true(queued_log);
    json_decref(logs);

    /* while the holder keeps its slot, the child stays QUEUED and the parent's Subflow run waits for it */
    kt_it_sleep_ms(300);
    ex = kt_it_get_execution(f->port, child);
    assert_string_equal(kt_it_state(ex), "QUEUED");
    json_decref(ex);
    ex = kt_it_get_execution(f->port, parent);
    assert_string_equal(kt_it_state(ex), "RUNNING");
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "call")), "RUNNING");
    json_decref(ex);
    ex = kt_it_get_execution(f->port, holder);
    assert_string_equal(kt_it_state(ex), "PAUSED");
    json_decref(ex);

    /* the holder ends: its slot goes to the child, which runs; the parent then goes on with the child's outputs */
    snprintf(path, sizeof path, "/api/v1/executions/%s/resume", holder);
    assert_int_equal(kt_it_post_form(f->port, path, none, &res), 204);
    json_decref(res);
    ex = kt_it_wait_execution(f->port, holder, 10000);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_decref(ex);
    ex = kt_it_wait_execution(f->port, child, 10000);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    history(ex, h, sizeof h);
    assert_string_equal(h, "CREATED,QUEUED,RUNNING,SUCCESS");
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "gate")), "SKIPPED");
    json_decref(ex);
    ex = kt_it_wait_execution(f->port, parent, 10000);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    assert_string_equal(json_string_value(json_object_get(json_object_get(kt_it_taskrun(ex, "use"), "outputs"), "value")),
                        "child said done false");
    json_decref(ex);
}

/* With behavior CANCEL, a Subflow child over the limit is CANCELLED at once, and the parent's run learns its end. */
static void test_subflow_child_cancelled(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, "id: single\nnamespace: company.team\nconcurrency:\n  limit: 1\n  behavior: CANCEL\n"
                               "inputs:\n  - id: hold\n    type: BOOLEAN\n    defaults: false\n"
                               "tasks:\n  - id: gate\n    type: io.kestra.plugin.core.flow.Pause\n"
                               "    runIf: \"{{ inputs.hold }}\"\n",
                      NULL);
    kt_it_create_flow(f->port, "id: caller\nnamespace: company.team\ntasks:\n"
                               "  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n"
                               "    namespace: company.team\n    flowId: single\n", NULL);
    const char *none[] = {NULL};
    json_t *res = NULL;
    char holder[64];
    hold_slot(f, "single", holder, sizeof holder);
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/caller?wait=true", none, &res), 200);
    assert_string_equal(kt_it_state(res), "SUCCESS"); /* CANCELLED is not transmitted (guessState) */
    json_t *call = kt_it_taskrun(res, "call");
    const char *cid = json_string_value(json_object_get(json_object_get(call, "outputs"), "executionId"));
    assert_non_null(cid);
    assert_string_equal(json_string_value(json_object_get(json_object_get(call, "outputs"), "state")), "CANCELLED");
    json_t *ex = kt_it_get_execution(f->port, cid);
    char h[256];
    history(ex, h, sizeof h);
    assert_string_equal(h, "CREATED,CANCELLED");
    json_decref(ex);
    json_decref(res);
    ex = kt_it_get_execution(f->port, holder);
    assert_string_equal(kt_it_state(ex), "PAUSED"); /* untouched */
    json_decref(ex);
}

/* The scheduler's and the webhook's executions of a limited flow are in the flow's partition too; an unlimited
 * flow's spread (base/partition.h). */
static void test_triggered_partition(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, "id: ticking\nnamespace: company.team\nconcurrency:\n  limit: 1\n  behavior: QUEUE\n"
                               "tasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n"
                               "triggers:\n  - id: every\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                               "    cron: \"* * * * * *\"\n    withSeconds: true\n"
                               "  - id: wh\n    type: io.kestra.plugin.core.trigger.Webhook\n    key: k1\n",
                      NULL);
    int want = kt_flow_partition("company.team", "ticking");
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/webhook/company.team/ticking/k1",
                                     "application/json", "{}", &res),
                     200);
    assert_int_equal(kt_exec_partition(json_string_value(json_object_get(res, "id"))), want);
    json_decref(res);
    int scheduled = 0;
    for (int i = 0; i < 200 && scheduled < 3; i++) {
        kt_it_sleep_ms(50);
        res = NULL;
        assert_int_equal(kt_it_http_json("GET", f->port,
                                         "/api/v1/executions/search?namespace=company.team&flowId=ticking&size=100",
                                         NULL, NULL, &res),
                         200);
        size_t k;
        json_t *ex;
        scheduled = 0;
        json_array_foreach(json_object_get(res, "results"), k, ex) {
            assert_int_equal(kt_exec_partition(json_string_value(json_object_get(ex, "id"))), want);
            scheduled += json_object_get(ex, "trigger") && !strcmp(json_string_value(json_object_get(
                                                                        json_object_get(ex, "trigger"), "id")),
                                                                    "every");
        }
        json_decref(res);
    }
    assert_true(scheduled >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subflow_child_queued, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_subflow_child_cancelled, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_triggered_partition, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
