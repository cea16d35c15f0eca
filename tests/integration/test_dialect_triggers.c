/* Issue 13, 2.0 triggers on a real server (127.0.0.1): each case runs the 1.x form and the 2.0 form of the same flow
 * and checks they answer the same, or, where the dialects differ, each its own way.
 *   - Webhook: conditions (1.x) vs when (2.0, Kestra's rewrite of ci-cd-github-webhook): 204 / 200 alike
 *   - Webhook wait + returnOutputs + responseContentType (1.x addition, accepted in both): the flow outputs
 *   - Flow trigger preconditions (1.x) vs dependsOn (2.0): the same downstream executions for the same upstream
 *     ones; 2.x reads trigger.outputs.<flowId> (scoped), 1.x the last upstream's outputs
 *   - a polling http.Trigger: conditions (1.x) vs when (2.0), checked before each poll */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef kt_it_fixture fixture;

#define LOG_TASK "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"

static void webhook_case(int port, const char *flow, const char *body, long want)
{
    char path[160], *raw = NULL;
    snprintf(path, sizeof path, "/api/v1/executions/webhook/it.dialect/%s/k-%s", flow, flow);
    long st = kt_it_http("POST", port, path, "application/json", body, &raw);
    if (st != want)
        fail_msg("%s %s: %ld, want %ld (%s)", flow, body, st, want, raw ? raw : "");
    free(raw);
}

static void test_webhook_when_pair(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, "id: gh1x\nnamespace: it.dialect\n" LOG_TASK
                               "triggers:\n  - id: github\n    type: io.kestra.plugin.core.trigger.Webhook\n"
                               "    key: k-gh1x\n    conditions:\n"
                               "      - type: io.kestra.plugin.core.condition.Expression\n"
                               "        expression: \"{{ trigger.body.pull_request.state == 'open' }}\"\n", NULL);
    kt_it_create_flow(f->port, "id: gh2x\nnamespace: it.dialect\n" LOG_TASK
                               "triggers:\n  - id: github\n    type: io.kestra.plugin.core.trigger.Webhook\n"
                               "    key: k-gh2x\n"
                               "    when: \"{{ trigger.body.pull_request.state == 'open' }}\"\n", NULL);
    static const struct {
        const char *body;
        long want;
    } cases[] = {
        {"{\"pull_request\": {\"state\": \"closed\"}}", 204},
        {"{\"pull_request\": {\"state\": \"open\"}}", 200},
        {"{\"other\": 1}", 204}, /* cannot render: false in both */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        webhook_case(f->port, "gh1x", cases[i].body, cases[i].want);
        webhook_case(f->port, "gh2x", cases[i].body, cases[i].want);
    }
}

static void test_webhook_wait_return_outputs(void **state)
{
    fixture *f = *state;
    for (int d = 1; d <= 2; d++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "id: wait%dx\nnamespace: it.dialect\ndialect: %d.x\ntasks:\n"
                 "  - id: out\n    type: io.kestra.plugin.core.output.OutputValues\n    values:\n      answer: 42\n"
                 "outputs:\n  - id: answer\n    type: INT\n    value: \"{{ outputs.out.values.answer }}\"\n"
                 "triggers:\n  - id: webhook\n    type: io.kestra.plugin.core.trigger.Webhook\n    key: k-wait%dx\n"
                 "    wait: true\n    returnOutputs: true\n    responseContentType: application/json\n",
                 d, d, d);
        kt_it_create_flow(f->port, yaml, NULL);
        char path[160];
        snprintf(path, sizeof path, "/api/v1/executions/webhook/it.dialect/wait%dx/k-wait%dx", d, d);
        json_t *res = NULL;
        assert_int_equal(kt_it_http_json("POST", f->port, path, "application/json", "{}", &res), 200);
        if (json_integer_value(json_object_get(res, "answer")) != 42)
            fail_msg("%d.x: %s", d, json_dumps(res, JSON_COMPACT));
        json_decref(res);
    }
    /* wait without returnOutputs: the ended execution */
    kt_it_create_flow(f->port, "id: waitexec\nnamespace: it.dialect\n" LOG_TASK
                               "triggers:\n  - id: webhook\n    type: io.kestra.plugin.core.trigger.Webhook\n"
                               "    key: k-waitexec\n    wait: true\n", NULL);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/webhook/it.dialect/waitexec/k-waitexec",
                                     "application/json", "{}", &res),
                     200);
    assert_string_equal(kt_it_state(res), "SUCCESS");
    json_decref(res);
}

/* The executions of a flow, oldest first. */
static json_t *executions_of(int port, const char *flow)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/search?namespace=it.dialect&flowId=%s&size=100&sort=state.startDate:asc",
             flow);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("GET", port, path, NULL, NULL, &res), 200);
    json_t *r = json_incref(json_object_get(res, "results"));
    json_decref(res);
    return r;
}

/* Waits until flow has n executions, all ended; returns them (oldest first). */
static json_t *wait_count(int port, const char *flow, size_t n)
{
    for (int i = 0; i < 200; i++) {
        json_t *r = executions_of(port, flow);
        size_t ended = 0, k;
        json_t *e;
        json_array_foreach(r, k, e) ended += !strcmp(kt_it_state(e), "SUCCESS") || !strcmp(kt_it_state(e), "FAILED");
        if (json_array_size(r) == n && ended == n)
            return r;
        if (json_array_size(r) > n)
            fail_msg("%s: %zu executions, want %zu", flow, json_array_size(r), n);
        json_decref(r);
        kt_it_sleep_ms(50);
    }
    fail_msg("%s: no %zu ended executions", flow, n);
    return NULL;
}

static void run(int port, const char *flow, const char *date)
{
    char path[160], body[160];
    snprintf(path, sizeof path, "/api/v1/executions/it.dialect/%s", flow);
    const char *fields[] = {"date", date, NULL};
    json_t *res = NULL;
    assert_int_equal(kt_it_post_form(port, path, fields, &res), 200);
    snprintf(body, sizeof body, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_t *ex = kt_it_wait_execution(port, body, 10000);
    assert_non_null(ex);
    json_decref(ex);
}

static void test_flow_trigger_pair(void **state)
{
    fixture *f = *state;
    static const char *UP = "id: %s\nnamespace: it.dialect\ninputs:\n  - id: date\n    type: STRING\n"
                            "tasks:\n  - id: r\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ inputs.date }}\"\n"
                            "outputs:\n  - id: date\n    type: STRING\n    value: \"{{ outputs.r.value }}\"\n";
    char yaml[512];
    snprintf(yaml, sizeof yaml, UP, "flow_a");
    kt_it_create_flow(f->port, yaml, NULL);
    snprintf(yaml, sizeof yaml, UP, "flow_b");
    kt_it_create_flow(f->port, yaml, NULL);
    static const char *IN = "inputs:\n  - id: got\n    type: STRING\n    defaults: none\n"
                            "tasks:\n  - id: r\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ inputs.got }}\"\n";
    char down[1024];
    snprintf(down, sizeof down,
             "id: down1x\nnamespace: it.dialect\n%striggers:\n  - id: both\n    type: io.kestra.plugin.core.trigger.Flow\n"
             "    inputs:\n      got: \"{{ trigger.outputs.date }}\"\n    preconditions:\n      id: pre\n      flows:\n"
             "        - {namespace: it.dialect, flowId: flow_a, states: [SUCCESS]}\n"
             "        - {namespace: it.dialect, flowId: flow_b, states: [SUCCESS]}\n", IN);
    kt_it_create_flow(f->port, down, NULL);
    snprintf(down, sizeof down,
             "id: down2x\nnamespace: it.dialect\n%striggers:\n  - id: both\n    type: io.kestra.plugin.core.trigger.Flow\n"
             "    inputs:\n      got: \"{{ trigger.outputs.flow_a.date }}+{{ trigger.outputs.flow_b.date }}\"\n"
             "    dependsOn:\n"
             "      - {namespace: it.dialect, flowId: flow_a, states: [SUCCESS]}\n"
             "      - {namespace: it.dialect, flowId: flow_b, states: [SUCCESS]}\n"
             "    window:\n      lookback: P1D\n", IN);
    kt_it_create_flow(f->port, down, NULL);
    run(f->port, "flow_a", "A1");
    kt_it_sleep_ms(300);
    json_t *none1 = executions_of(f->port, "down1x"), *none2 = executions_of(f->port, "down2x");
    assert_int_equal(json_array_size(none1), 0);
    assert_int_equal(json_array_size(none2), 0);
    json_decref(none1);
    json_decref(none2);
    run(f->port, "flow_b", "B1");
    json_t *d1 = wait_count(f->port, "down1x", 1), *d2 = wait_count(f->port, "down2x", 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(d1, 0), "inputs"), "got")),
                        "B1"); /* 1.x: the last upstream's outputs */
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(d2, 0), "inputs"), "got")),
                        "A1+B1"); /* 2.x: each upstream's, by flow id */
    json_decref(d1);
    json_decref(d2);
    /* reset after firing: flow_b again is one of two, in both */
    run(f->port, "flow_b", "B2");
    kt_it_sleep_ms(300);
    d1 = wait_count(f->port, "down1x", 1);
    d2 = wait_count(f->port, "down2x", 1);
    json_decref(d1);
    json_decref(d2);
    run(f->port, "flow_a", "A2");
    d1 = wait_count(f->port, "down1x", 2);
    d2 = wait_count(f->port, "down2x", 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(d2, 1), "inputs"), "got")),
                        "A2+B2");
    json_decref(d1);
    json_decref(d2);
}

/* A polling http.Trigger (polling Kite's own /health): 1.x conditions vs 2.0 when, checked before each poll; false
 * in both starts nothing while the true pair starts executions. */
static void test_polling_when_pair(void **state)
{
    fixture *f = *state;
    static const char *const forms[][2] = {
        {"poll1x_yes", "    conditions:\n      - type: io.kestra.plugin.core.condition.Expression\n"
                       "        expression: \"{{ flow.id == 'poll1x_yes' }}\"\n"},
        {"poll2x_yes", "    when: \"{{ flow.id == 'poll2x_yes' }}\"\n"},
        {"poll1x_no", "    conditions:\n      - type: io.kestra.plugin.core.condition.Expression\n"
                      "        expression: \"{{ flow.id == 'another' }}\"\n"},
        {"poll2x_no", "    when: \"{{ flow.id == 'another' }}\"\n"},
    };
    for (size_t i = 0; i < 4; i++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "id: %s\nnamespace: it.dialect\n" LOG_TASK
                 "triggers:\n  - id: http\n    type: io.kestra.plugin.core.http.Trigger\n"
                 "    uri: http://127.0.0.1:%d/health\n    interval: PT1S\n    stopAfter:\n      - SUCCESS\n%s",
                 forms[i][0], f->port, forms[i][1]);
        kt_it_create_flow(f->port, yaml, NULL);
    }
    json_t *a = wait_count(f->port, "poll1x_yes", 1), *b = wait_count(f->port, "poll2x_yes", 1);
    json_decref(a);
    json_decref(b);
    kt_it_sleep_ms(1500); /* more polls of the false pair */
    json_t *c = executions_of(f->port, "poll1x_no"), *d = executions_of(f->port, "poll2x_no");
    assert_int_equal(json_array_size(c), 0);
    assert_int_equal(json_array_size(d), 0);
    json_decref(c);
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_webhook_when_pair, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_webhook_wait_return_outputs, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_flow_trigger_pair, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_polling_when_pair, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
