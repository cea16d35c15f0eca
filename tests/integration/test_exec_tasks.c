/* The core tasks that act on executions and logs, through a real server (issue 10): log.Fetch (the worker asks the
 * executor for the logs: KT_MSG_LOG_FETCH), execution.Resume, execution.Count, log.PurgeLogs and
 * execution.PurgeExecutions. Each flow runs through the API; outputs and stored files are checked. */
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

/* Starts flow ns.id with no inputs, waits for its end; returns the execution (the id in exid). */
static json_t *run_flow(fixture *f, const char *ns, const char *id, char *exid, size_t cap)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s/%s", ns, id);
    json_t *res = NULL;
    const char *fields[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, path, fields, &res), 200);
    snprintf(exid, cap, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_t *ex = kt_it_wait_execution(f->port, exid, 20000);
    assert_non_null(ex);
    return ex;
}

static const json_t *outputs_of(json_t *ex, const char *task_id)
{
    return json_object_get(kt_it_taskrun(ex, task_id), "outputs");
}

static char *stored(const fixture *f, const char *uri)
{
    assert_non_null(uri);
    assert_int_equal(strncmp(uri, "kestra:///", 10), 0);
    return kt_it_stored_read(f->dir, uri + strlen("kestra:///"), NULL);
}

static const char *FETCH_FLOW = "id: fetch\n"
                                "namespace: company.team\n"
                                "tasks:\n"
                                "  - id: a\n"
                                "    type: io.kestra.plugin.core.log.Log\n"
                                "    message: alpha line\n"
                                "  - id: b\n"
                                "    type: io.kestra.plugin.core.log.Log\n"
                                "    level: WARN\n"
                                "    message: beta line\n"
                                "  - id: all\n"
                                "    type: io.kestra.plugin.core.log.Fetch\n"
                                "  - id: warn\n"
                                "    type: io.kestra.plugin.core.log.Fetch\n"
                                "    level: WARN\n"
                                "  - id: only_a\n"
                                "    type: io.kestra.plugin.core.log.Fetch\n"
                                "    tasksId: [a]\n"
                                "  - id: bad\n"
                                "    type: io.kestra.plugin.core.log.Fetch\n"
                                "    namespace: company.team\n"
                                "    allowFailure: true\n";

static void test_log_fetch(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, FETCH_FLOW, NULL);
    char exid[64];
    json_t *ex = run_flow(f, "company.team", "fetch", exid, sizeof exid);
    if (strcmp(kt_it_state(ex), "WARNING"))
        kt_it_dump_log(&f->server);
    assert_string_equal(kt_it_state(ex), "WARNING"); /* `bad` failed, allowed */
    assert_int_equal(json_integer_value(json_object_get(outputs_of(ex, "all"), "size")), 2);
    assert_int_equal(json_integer_value(json_object_get(outputs_of(ex, "warn"), "size")), 1);
    assert_int_equal(json_integer_value(json_object_get(outputs_of(ex, "only_a"), "size")), 1);
    char *ion = stored(f, json_string_value(json_object_get(outputs_of(ex, "all"), "uri")));
    assert_non_null(ion);
    assert_non_null(strstr(ion, "alpha line"));
    assert_non_null(strstr(ion, "beta line"));
    assert_non_null(strstr(ion, exid));
    size_t lines = 0;
    for (const char *c = ion; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 2); /* one Ion record a line */
    free(ion);
    ion = stored(f, json_string_value(json_object_get(outputs_of(ex, "warn"), "uri")));
    assert_null(strstr(ion, "alpha line"));
    assert_non_null(strstr(ion, "beta line"));
    free(ion);
    ion = stored(f, json_string_value(json_object_get(outputs_of(ex, "only_a"), "uri")));
    assert_non_null(strstr(ion, "alpha line"));
    assert_null(strstr(ion, "beta line"));
    free(ion);
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "bad")), "WARNING");
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s", exid);
    char *logs = NULL;
    assert_int_equal(kt_it_http("GET", f->port, path, NULL, NULL, &logs), 200);
    assert_non_null(strstr(logs, "`namespace` and `flowId` should only be set when `executionId` is set."));
    free(logs);
    json_decref(ex);
}

static const char *PAUSED_FLOW = "id: paused\n"
                                 "namespace: company.team\n"
                                 "tasks:\n"
                                 "  - id: pause\n"
                                 "    type: io.kestra.plugin.core.flow.Pause\n"
                                 "    onResume:\n"
                                 "      - id: asked\n"
                                 "        type: INT\n"
                                 "  - id: last\n"
                                 "    type: io.kestra.plugin.core.debug.Return\n"
                                 "    format: \"got {{ outputs.pause.onResume.asked }}\"\n";

static const char *RESUMER_FLOW = "id: resumer\n"
                                  "namespace: company.team\n"
                                  "inputs:\n"
                                  "  - id: target\n"
                                  "    type: STRING\n"
                                  "  - id: asked\n"
                                  "    type: STRING\n"
                                  "tasks:\n"
                                  "  - id: resume\n"
                                  "    type: io.kestra.plugin.core.execution.Resume\n"
                                  "    executionId: \"{{ inputs.target }}\"\n"
                                  "    inputs:\n"
                                  "      asked: \"{{ inputs.asked }}\"\n";

/* Runs resumer on target with onResume input asked; returns the execution. */
static json_t *run_resumer(fixture *f, const char *target, const char *asked, char *exid, size_t cap)
{
    json_t *res = NULL;
    const char *fields[] = {"target", target, "asked", asked, NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/resumer", fields, &res), 200);
    snprintf(exid, cap, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_t *ex = kt_it_wait_execution(f->port, exid, 20000);
    assert_non_null(ex);
    return ex;
}

static int logged(int port, const char *exid, const char *text)
{
    char path[256], *logs = NULL;
    snprintf(path, sizeof path, "/api/v1/logs/%s", exid);
    assert_int_equal(kt_it_http("GET", port, path, NULL, NULL, &logs), 200);
    int found = logs && strstr(logs, text);
    free(logs);
    return found;
}

static void test_resume(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, PAUSED_FLOW, NULL);
    kt_it_create_flow(f->port, RESUMER_FLOW, NULL);
    json_t *res = NULL;
    const char *none[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/paused", none, &res), 200);
    char paused[64], exid[64];
    snprintf(paused, sizeof paused, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_decref(kt_it_wait_state(&f->server, f->port, paused, "PAUSED", 20000));

    /* an onResume input of the wrong type: refused as the API refuses it, the execution stays PAUSED */
    json_t *ex = run_resumer(f, paused, "not a number", exid, sizeof exid);
    assert_string_equal(kt_it_state(ex), "FAILED");
    assert_true(logged(f->port, exid, "Invalid input for `asked`"));
    json_decref(ex);
    ex = kt_it_get_execution(f->port, paused);
    assert_string_equal(kt_it_state(ex), "PAUSED");
    json_decref(ex);

    ex = run_resumer(f, paused, "42", exid, sizeof exid);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_decref(ex);
    ex = kt_it_wait_execution(f->port, paused, 20000);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    assert_string_equal(json_string_value(json_object_get(outputs_of(ex, "last"), "value")), "got 42");
    json_decref(ex);

    /* not paused any more, and an id that names nothing */
    ex = run_resumer(f, paused, "1", exid, sizeof exid);
    assert_string_equal(kt_it_state(ex), "FAILED");
    assert_true(logged(f->port, exid, "The execution is not paused"));
    json_decref(ex);
    ex = run_resumer(f, "nope", "1", exid, sizeof exid);
    assert_string_equal(kt_it_state(ex), "FAILED");
    assert_true(logged(f->port, exid, "No execution found for execution id nope"));
    json_decref(ex);
}

static const char *HELLO_FLOW = "id: hello\n"
                                "namespace: company.team\n"
                                "tasks:\n"
                                "  - id: say\n"
                                "    type: io.kestra.plugin.core.log.Log\n"
                                "    message: hello there\n"
                                "  - id: keep\n"
                                "    type: io.kestra.plugin.core.log.Fetch\n"
                                "  - id: measure\n" /* two task metrics a run, for PurgeExecutions' metricsCount */
                                "    type: io.kestra.plugin.core.debug.Return\n"
                                "    format: x\n";

/* The expressions see the task's whole render context plus `count` (Count.java): flow variables, an earlier task's
 * outputs, the task's own taskrun. */
static const char *COUNT_FLOW = "id: counter\n"
                                "namespace: company.team\n"
                                "variables:\n"
                                "  atLeast: 3\n"
                                "tasks:\n"
                                "  - id: three\n"
                                "    type: io.kestra.plugin.core.execution.Count\n"
                                "    flows:\n"
                                "      - namespace: company.team\n"
                                "        flowId: hello\n"
                                "    startDate: \"2020-01-01T00:00:00Z\"\n"
                                "    expression: \"{{ count >= vars.atLeast and task.id == 'three' }}\"\n"
                                "  - id: failed\n"
                                "    type: io.kestra.plugin.core.execution.Count\n"
                                "    namespaces: [company.team]\n"
                                "    states: [FAILED]\n"
                                "    startDate: \"2020-01-01T00:00:00Z\"\n"
                                "    expression: \"{{ count == 0 and outputs.three.total == 3 and flow.id == 'counter' "
                                "and taskrun.id is not empty }}\"\n"
                                "  - id: future\n"
                                "    type: io.kestra.plugin.core.execution.Count\n"
                                "    flows:\n"
                                "      - namespace: company.team\n"
                                "        flowId: hello\n"
                                "    startDate: \"2999-01-01T00:00:00+02:00\"\n"
                                "    expression: \"{{ count > 0 }}\"\n"
                                "  - id: neither\n"
                                "    type: io.kestra.plugin.core.execution.Count\n"
                                "    startDate: \"2020-01-01T00:00:00Z\"\n"
                                "    expression: \"true\"\n"
                                "    allowFailure: true\n";

static const char *PURGE_FLOW = "id: purger\n"
                                "namespace: company.team\n"
                                "tasks:\n"
                                "  - id: logs\n"
                                "    type: io.kestra.plugin.core.log.PurgeLogs\n"
                                "    namespace: company.team\n"
                                "    flowId: hello\n"
                                "    logLevels: [INFO]\n"
                                "    endDate: \"2999-01-01T00:00:00Z\"\n"
                                "  - id: executions\n"
                                "    type: io.kestra.plugin.core.execution.PurgeExecutions\n"
                                "    namespace: company.team\n"
                                "    flowId: hello\n"
                                "    states: [SUCCESS]\n"
                                "    endDate: \"2999-01-01T00:00:00Z\"\n";

static void test_count_and_purges(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, HELLO_FLOW, NULL);
    kt_it_create_flow(f->port, COUNT_FLOW, NULL);
    kt_it_create_flow(f->port, PURGE_FLOW, NULL);
    char hello[3][64], exid[64];
    char *files[3];
    for (int i = 0; i < 3; i++) {
        json_t *ex = run_flow(f, "company.team", "hello", hello[i], sizeof hello[i]);
        assert_string_equal(kt_it_state(ex), "SUCCESS");
        const char *uri = json_string_value(json_object_get(outputs_of(ex, "keep"), "uri"));
        assert_non_null(uri);
        files[i] = strdup(uri);
        char *body = stored(f, uri);
        assert_non_null(body); /* the Fetch left a file in the execution's storage */
        free(body);
        json_decref(ex);
    }
    json_t *ex = run_flow(f, "company.team", "counter", exid, sizeof exid);
    if (strcmp(kt_it_state(ex), "WARNING"))
        kt_it_dump_log(&f->server);
    assert_string_equal(kt_it_state(ex), "WARNING"); /* `neither` failed, allowed */
    assert_int_equal(json_integer_value(json_object_get(outputs_of(ex, "three"), "total")), 3);
    const json_t *res = json_object_get(outputs_of(ex, "three"), "results");
    assert_int_equal(json_array_size(res), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "flowId")), "hello");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(res, 0), "count")), 3);
    assert_int_equal(json_integer_value(json_object_get(outputs_of(ex, "failed"), "total")), 0);
    assert_true(json_array_size(json_object_get(outputs_of(ex, "failed"), "results")) >= 3); /* every flow: 0 */
    assert_int_equal(json_array_size(json_object_get(outputs_of(ex, "future"), "results")), 0);
    assert_true(logged(f->port, exid, "You must provide a list of flows or namespaces"));
    json_decref(ex);

    ex = run_flow(f, "company.team", "purger", exid, sizeof exid);
    if (strcmp(kt_it_state(ex), "SUCCESS"))
        kt_it_dump_log(&f->server);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(outputs_of(ex, "logs"), "count")), 3); /* "hello there" x3 */
    const json_t *out = outputs_of(ex, "executions");
    assert_int_equal(json_integer_value(json_object_get(out, "executionsCount")), 3);
    assert_int_equal(json_integer_value(json_object_get(out, "storagesCount")), 3);
    assert_int_equal(json_integer_value(json_object_get(out, "metricsCount")), 6); /* Return's two, x3 */
    assert_true(json_integer_value(json_object_get(out, "logsCount")) >= 0);
    json_decref(ex);
    for (int i = 0; i < 3; i++) {
        char path[300];
        snprintf(path, sizeof path, "/api/v1/executions/%s", hello[i]);
        assert_int_equal(kt_it_http("GET", f->port, path, NULL, NULL, NULL), 404);
        snprintf(path, sizeof path, "/api/v1/logs/%s", hello[i]);
        char *logs = NULL;
        assert_int_equal(kt_it_http("GET", f->port, path, NULL, NULL, &logs), 200);
        assert_string_equal(logs, "[]");
        free(logs);
        assert_null(kt_it_stored_read(f->dir, files[i] + strlen("kestra:///"), NULL));
        free(files[i]);
    }
    /* the purger's own execution is still there */
    ex = kt_it_get_execution(f->port, exid);
    assert_non_null(ex);
    json_decref(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_log_fetch, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_resume, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_count_and_purges, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
