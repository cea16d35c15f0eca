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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_log_fetch, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_resume, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
