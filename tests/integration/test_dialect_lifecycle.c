/* Flow-level finally and afterExecution through a real server, in both dialects (issue 13, WP2): finally runs after
 * tasks and errors while the execution is RUNNING, afterExecution once it has ended, seeing the final state, without
 * changing it; a wait=true creation is answered once afterExecution is over too (the execution is "over" only then,
 * as Kestra's ExecutionService.isTerminated(flow, execution)); Exit and SetVariables run in the executor. The same
 * flow is posted once as `dialect: 1.x` and once as `dialect: 2.x`: these rules are the same in both lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "harness.h"

typedef kt_it_fixture fixture;

/* %s: the flow id suffix, then the dialect */
static const char *LIFECYCLE = "id: lifecycle_%s\n"
                               "namespace: company.team\n"
                               "dialect: %s\n"
                               "inputs:\n"
                               "  - id: fail\n"
                               "    type: STRING\n"
                               "    defaults: 'no'\n"
                               "variables:\n"
                               "  who: World\n"
                               "tasks:\n"
                               "  - id: set\n"
                               "    type: io.kestra.plugin.core.execution.SetVariables\n"
                               "    variables:\n"
                               "      who: Ada\n"
                               "  - id: work\n"
                               "    type: io.kestra.plugin.core.execution.Fail\n"
                               "    condition: \"{{ inputs.fail == 'yes' }}\"\n"
                               "  - id: hello\n"
                               "    type: io.kestra.plugin.core.debug.Return\n"
                               "    format: \"Hello {{ vars.who }}\"\n"
                               "errors:\n"
                               "  - id: alert\n"
                               "    type: io.kestra.plugin.core.debug.Return\n"
                               "    format: alert\n"
                               "finally:\n"
                               "  - id: cleanup\n"
                               "    type: io.kestra.plugin.core.debug.Return\n"
                               "    format: \"{{ execution.state }}\"\n"
                               "afterExecution:\n"
                               "  - id: after\n"
                               "    type: io.kestra.plugin.core.debug.Return\n"
                               "    format: \"{{ execution.state }}\"\n"
                               "  - id: onFailure\n"
                               "    runIf: \"{{ execution.state == 'FAILED' }}\"\n"
                               "    type: io.kestra.plugin.core.debug.Return\n"
                               "    format: \"failed\"\n"
                               "  - id: broken\n"
                               "    type: io.kestra.plugin.core.execution.Fail\n"
                               "    errorMessage: an afterExecution failure changes nothing\n";

static const char *value_of(json_t *ex, const char *task_id)
{
    return json_string_value(json_object_get(json_object_get(kt_it_taskrun(ex, task_id), "outputs"), "value"));
}

static void run_lifecycle(fixture *f, const char *dialect, const char *fail)
{
    char suffix[16], path[128];
    snprintf(suffix, sizeof suffix, "%c", dialect[0]);
    snprintf(path, sizeof path, "/api/v1/executions/company.team/lifecycle_%s?wait=true", suffix);
    const char *fields[] = {"fail", fail, NULL};
    json_t *res = NULL;
    assert_int_equal(kt_it_post_form(f->port, path, fields, &res), 200);
    int failing = !strcmp(fail, "yes");
    const char *final = failing ? "FAILED" : "SUCCESS";
    /* the wait=true answer comes once afterExecution is over: its runs are there, terminated */
    assert_string_equal(kt_it_state(res), final);
    assert_non_null(kt_it_taskrun(res, "broken"));
    assert_string_equal(kt_it_state(kt_it_taskrun(res, "broken")), "FAILED");
    char id[64];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_t *ex = kt_it_get_execution(f->port, id);
    assert_non_null(ex);
    if (strcmp(kt_it_state(ex), final))
        kt_it_dump_log(&f->server);
    assert_string_equal(kt_it_state(ex), final);
    /* finally ran while RUNNING, after errors */
    assert_string_equal(value_of(ex, "cleanup"), "RUNNING");
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "alert")) ? kt_it_state(kt_it_taskrun(ex, "alert")) : "none",
                        failing ? "SUCCESS" : "none");
    /* afterExecution saw the final state, its runIf chose, its failure changed nothing */
    assert_string_equal(value_of(ex, "after"), final);
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "onFailure")), failing ? "SUCCESS" : "SKIPPED");
    /* SetVariables: vars.who is Ada for the later task */
    if (!failing)
        assert_string_equal(value_of(ex, "hello"), "Hello Ada");
    /* the state never moved after the end: its last history entry is the final state */
    json_t *h = json_object_get(json_object_get(ex, "state"), "histories");
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, json_array_size(h) - 1), "state")),
                        final);
    json_decref(ex);
}

static void test_finally_after_execution(void **state)
{
    fixture *f = *state;
    static const char *const dialects[] = {"1.x", "2.x"};
    for (size_t d = 0; d < 2; d++) {
        char yaml[4096], suffix[16];
        snprintf(suffix, sizeof suffix, "%c", dialects[d][0]);
        snprintf(yaml, sizeof yaml, LIFECYCLE, suffix, dialects[d]);
        kt_it_create_flow(f->port, yaml, NULL);
        run_lifecycle(f, dialects[d], "no");
        run_lifecycle(f, dialects[d], "yes");
    }
}

/* Exit: WARNING ends the execution at once with that state; the next task never runs. */
static void test_exit(void **state)
{
    fixture *f = *state;
    static const char *const dialects[] = {"1.x", "2.x"};
    for (size_t d = 0; d < 2; d++) {
        char yaml[1024], path[128];
        snprintf(yaml, sizeof yaml,
                 "id: exit_%c\nnamespace: company.team\ndialect: %s\ntasks:\n"
                 "  - id: exit\n    type: io.kestra.plugin.core.execution.Exit\n    state: WARNING\n"
                 "  - id: never\n    type: io.kestra.plugin.core.log.Log\n    message: not reached\n"
                 "afterExecution:\n  - id: after\n    type: io.kestra.plugin.core.debug.Return\n"
                 "    format: \"{{ execution.state }}\"\n",
                 dialects[d][0], dialects[d]);
        kt_it_create_flow(f->port, yaml, NULL);
        snprintf(path, sizeof path, "/api/v1/executions/company.team/exit_%c?wait=true", dialects[d][0]);
        const char *none[] = {NULL};
        json_t *res = NULL;
        assert_int_equal(kt_it_post_form(f->port, path, none, &res), 200);
        assert_string_equal(kt_it_state(res), "WARNING");
        assert_string_equal(kt_it_state(kt_it_taskrun(res, "exit")), "WARNING");
        assert_null(kt_it_taskrun(res, "never"));
        assert_string_equal(value_of(res, "after"), "WARNING");
        json_decref(res);
    }
}

static json_t *executions_of(int port, const char *flow)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/search?namespace=it.after&flowId=%s&size=100", flow);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("GET", port, path, NULL, NULL, &res), 200);
    json_t *results = json_incref(json_object_get(res, "results"));
    json_decref(res);
    assert_non_null(results);
    return results;
}

static int64_t date_us(const char *s)
{
    int64_t us = 0;
    assert_non_null(s);
    assert_int_equal(kt_time_parse(s, &us), 0);
    return us;
}

/* A Flow trigger listening for SUCCESS fires on the terminal state, before afterExecution is over (its first task
 * sleeps), once, with that state; the failing afterExecution task fires nothing more. */
static void test_flow_trigger_before_after_execution(void **state)
{
    fixture *f = *state;
    static const char *const dialects[] = {"1.x", "2.x"};
    for (size_t d = 0; d < 2; d++) {
        char yaml[2048], up[16], listener[32], path[128];
        snprintf(up, sizeof up, "up_%c", dialects[d][0]);
        snprintf(listener, sizeof listener, "listener_%c", dialects[d][0]);
        snprintf(yaml, sizeof yaml,
                 "id: %s\nnamespace: it.after\ndialect: %s\ntasks:\n"
                 "  - id: ok\n    type: io.kestra.plugin.core.debug.Return\n    format: ok\n"
                 "afterExecution:\n  - id: slow\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT2S\n"
                 "  - id: broken\n    type: io.kestra.plugin.core.execution.Fail\n",
                 up, dialects[d]);
        kt_it_create_flow(f->port, yaml, NULL);
        snprintf(yaml, sizeof yaml,
                 "id: %s\nnamespace: it.after\ntasks:\n"
                 "  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ trigger.state }}\"\n"
                 "triggers:\n  - id: on_up\n    type: io.kestra.plugin.core.trigger.Flow\n    conditions:\n"
                 "      - type: io.kestra.plugin.core.condition.ExecutionFlow\n        namespace: it.after\n"
                 "        flowId: %s\n"
                 "      - type: io.kestra.plugin.core.condition.ExecutionStatus\n        in: [SUCCESS, FAILED]\n",
                 listener, up);
        kt_it_create_flow(f->port, yaml, NULL);
        snprintf(path, sizeof path, "/api/v1/executions/it.after/%s?wait=true", up);
        const char *none[] = {NULL};
        json_t *res = NULL;
        assert_int_equal(kt_it_post_form(f->port, path, none, &res), 200);
        assert_string_equal(kt_it_state(res), "SUCCESS");
        assert_string_equal(kt_it_state(kt_it_taskrun(res, "broken")), "FAILED");
        int64_t slow_end = date_us(json_string_value(
            json_object_get(json_object_get(kt_it_taskrun(res, "slow"), "state"), "endDate")));
        json_decref(res);
        json_t *list = NULL;
        for (int waited = 0; waited < 10000; waited += 100) {
            list = executions_of(f->port, listener);
            if (json_array_size(list) && !strcmp(kt_it_state(json_array_get(list, 0)), "SUCCESS"))
                break;
            json_decref(list);
            list = NULL;
            kt_it_sleep_ms(100);
        }
        assert_non_null(list);
        json_t *lex = json_array_get(list, 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(lex, "trigger"), "variables")
                                                  ? json_object_get(json_object_get(json_object_get(lex, "trigger"),
                                                                                    "variables"),
                                                                    "state")
                                                  : NULL),
                            "SUCCESS");
        /* created while the upstream's afterExecution was still sleeping */
        assert_true(date_us(json_string_value(json_object_get(json_object_get(lex, "state"), "startDate"))) <
                    slow_end);
        json_decref(list);
        kt_it_sleep_ms(500);
        list = executions_of(f->port, listener);
        assert_int_equal(json_array_size(list), 1); /* once */
        json_decref(list);
    }
}

/* ForEachItem's taskrun.iteration: from 1 in a 1.x flow (Kestra 0.21), from 0 in a 2.x flow still using it (Kestra
 * 1.1+). Three one-line batches; each child returns the iteration it was given. */
static void test_foreachitem_iteration_base(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port,
                      "id: batch\nnamespace: it.items\ninputs:\n  - id: n\n    type: STRING\ntasks:\n"
                      "  - id: r\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ inputs.n }}\"\n",
                      NULL);
    static const char *const dialects[] = {"1.x", "2.x"};
    for (size_t d = 0; d < 2; d++) {
        char yaml[1024], path[128];
        snprintf(yaml, sizeof yaml,
                 "id: fan_%c\nnamespace: it.items\ndialect: %s\ninputs:\n  - id: file\n    type: FILE\ntasks:\n"
                 "  - id: each\n    type: io.kestra.plugin.core.flow.ForEachItem\n    items: \"{{ inputs.file }}\"\n"
                 "    batch:\n      rows: 1\n    namespace: it.items\n    flowId: batch\n"
                 "    inputs:\n      n: \"{{ taskrun.iteration }}\"\n",
                 dialects[d][0], dialects[d]);
        kt_it_create_flow(f->port, yaml, NULL);
        snprintf(path, sizeof path, "/api/v1/executions/it.items/fan_%c?wait=true", dialects[d][0]);
        kt_it_resp r;
        const char *text = "a\nb\nc\n";
        assert_int_equal(kt_it_request("POST", f->port, path, text, strlen(text), "files", "file", &r), 200);
        json_t *res = json_loads(r.body, 0, NULL);
        free(r.body);
        assert_non_null(res);
        if (strcmp(kt_it_state(res), "SUCCESS"))
            kt_it_dump_log(&f->server);
        assert_string_equal(kt_it_state(res), "SUCCESS");
        json_decref(res);
        /* the children's inputs: {1,2,3} in 1.x, {0,1,2} in 2.x */
        json_t *list = NULL;
        assert_int_equal(kt_it_http_json("GET", f->port,
                                         "/api/v1/executions/search?namespace=it.items&flowId=batch&size=100", NULL,
                                         NULL, &list),
                         200);
        int seen[4] = {0};
        size_t i, mine = 0;
        json_t *e;
        json_array_foreach(json_object_get(list, "results"), i, e) {
            const char *parent = json_string_value(json_object_get(json_object_get(json_object_get(e, "trigger"),
                                                                                   "variables"),
                                                                   "flowId"));
            if (!parent || strcmp(parent, d ? "fan_2" : "fan_1"))
                continue;
            mine++;
            const char *n = json_string_value(json_object_get(json_object_get(e, "inputs"), "n"));
            assert_non_null(n);
            int k = atoi(n);
            assert_true(k >= 0 && k <= 3);
            seen[k]++;
        }
        assert_int_equal(mine, 3);
        for (int k = 0; k < 4; k++)
            assert_int_equal(seen[k], d ? (k <= 2) : (k >= 1));
        json_decref(list);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_finally_after_execution, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_exit, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_flow_trigger_before_after_execution, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_foreachitem_iteration_base, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
