/* `kite server local` end to end over HTTP on 127.0.0.1: flows CRUD, executions with inputs, the four first tasks,
 * logs, and durability across a SIGKILL of the server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

typedef kt_it_fixture fixture;

static const char *FLOW_HELLO = "id: hello\n"
                                "namespace: company.team\n"
                                "inputs:\n"
                                "  - id: user\n"
                                "    type: STRING\n"
                                "    defaults: Kestra\n"
                                "  - id: count\n"
                                "    type: INT\n"
                                "    defaults: 2\n"
                                "tasks:\n"
                                "  - id: log\n"
                                "    type: io.kestra.plugin.core.log.Log\n"
                                "    message: Hello {{ inputs.user }} from {{ flow.namespace }}.{{ flow.id }}\n"
                                "  - id: ret\n"
                                "    type: io.kestra.plugin.core.debug.Return\n"
                                "    format: \"{{ inputs.count }} for {{ execution.id }}\"\n"
                                "  - id: values\n"
                                "    type: io.kestra.plugin.core.output.OutputValues\n"
                                "    values:\n"
                                "      fromReturn: \"{{ outputs.ret.value }}\"\n"
                                "  - id: shell\n"
                                "    type: io.kestra.plugin.scripts.shell.Commands\n"
                                "    taskRunner:\n"
                                "      type: io.kestra.plugin.core.runner.Process\n"
                                "    commands:\n"
                                "      - echo out-{{ inputs.user }}\n"
                                "      - echo '::{\"outputs\":{\"n\":42,\"who\":\"{{ inputs.user }}\",\"ratio\":0.1}}::'\n";

static void test_flow_crud(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/flows", "application/x-yaml", FLOW_HELLO, &res), 200);
    assert_string_equal(json_string_value(json_object_get(res, "id")), "hello");
    assert_string_equal(json_string_value(json_object_get(res, "namespace")), "company.team");
    assert_int_equal(json_integer_value(json_object_get(res, "revision")), 1);
    assert_string_equal(json_string_value(json_object_get(res, "source")), FLOW_HELLO);
    json_decref(res);
    /* create twice: 422 on flow.id */
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/flows", "application/x-yaml", FLOW_HELLO, &res), 422);
    assert_string_equal(json_string_value(json_object_get(json_array_get(
                            json_object_get(json_object_get(res, "_embedded"), "errors"), 0), "path")),
                        "flow.id");
    json_decref(res);
    /* update: revision 2; same source again: unchanged */
    char *v2 = malloc(strlen(FLOW_HELLO) + 64);
    sprintf(v2, "%sdescription: second\n", FLOW_HELLO);
    assert_int_equal(kt_it_http_json("PUT", f->port, "/api/v1/flows/company.team/hello", "application/x-yaml", v2, &res),
                     200);
    assert_int_equal(json_integer_value(json_object_get(res, "revision")), 2);
    json_decref(res);
    assert_int_equal(kt_it_http_json("PUT", f->port, "/api/v1/flows/company.team/hello", "application/x-yaml", v2, &res),
                     200);
    assert_int_equal(json_integer_value(json_object_get(res, "revision")), 2);
    json_decref(res);
    free(v2);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/flows/company.team/hello", NULL, NULL, &res), 200);
    assert_string_equal(json_string_value(json_object_get(res, "description")), "second");
    json_decref(res);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/flows/company.team/hello?revision=1", NULL, NULL, &res),
                     200);
    assert_null(json_object_get(res, "description"));
    json_decref(res);
    /* update of an unknown flow */
    assert_int_equal(kt_it_http_json("PUT", f->port, "/api/v1/flows/company.team/nope", "application/x-yaml",
                                     "id: nope\nnamespace: company.team\ntasks:\n  - id: a\n"
                                     "    type: io.kestra.plugin.core.log.Log\n    message: x\n",
                                     &res),
                     404);
    json_decref(res);
    /* delete, then it is gone */
    char *b = NULL;
    assert_int_equal(kt_it_http("DELETE", f->port, "/api/v1/flows/company.team/hello", NULL, NULL, &b), 204);
    free(b);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/flows/company.team/hello", NULL, NULL, &res), 404);
    json_decref(res);
    assert_int_equal(kt_it_http("DELETE", f->port, "/api/v1/flows/company.team/hello", NULL, NULL, &b), 404);
    free(b);
}

static void test_flow_invalid(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    /* YAML syntax error: 422 with a line */
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/flows", "application/x-yaml",
                                     "id: bad\nnamespace: company.team\ntasks:\n  - id: a\n   type: [\n", &res),
                     422);
    json_t *e0 = json_array_get(json_object_get(json_object_get(res, "_embedded"), "errors"), 0);
    assert_non_null(e0);
    assert_true(json_integer_value(json_object_get(e0, "line")) >= 5);
    assert_non_null(strstr(json_string_value(json_object_get(res, "message")), "Invalid entity"));
    json_decref(res);
    /* unknown property: path and line */
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/flows", "application/x-yaml",
                                     "id: bad\nnamespace: company.team\ntasks:\n  - id: a\n"
                                     "    type: io.kestra.plugin.core.log.Log\n"
                                     "    message: hi\n    colour: blue\n",
                                     &res),
                     422);
    e0 = json_array_get(json_object_get(json_object_get(res, "_embedded"), "errors"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(e0, "path")), "tasks[0]"));
    assert_int_equal(json_integer_value(json_object_get(e0, "line")), 7);
    json_decref(res);
}

/* A flow using a type that does not run yet (flow/tasks.h KT_SUPPORT_NOT_YET) is refused by every path that saves
 * one, with a constraint violation that names the type at its line:col; nothing is written. */
static void test_flow_type_not_supported_yet(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    const char *http = "id: http\nnamespace: company.team\ntasks:\n  - id: get\n"
                       "    type: io.kestra.plugin.core.state.Set\n    name: s\n";
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/flows", "application/x-yaml", http, &res), 422);
    assert_string_equal(json_string_value(json_object_get(res, "message")),
                        "Invalid entity: tasks[0].type: task type 'io.kestra.plugin.core.state.Set' is not "
                        "supported yet by Kite (at line 5, column 11)");
    json_t *errors = json_object_get(json_object_get(res, "_embedded"), "errors");
    assert_int_equal(json_array_size(errors), 1);
    json_t *e0 = json_array_get(errors, 0);
    assert_string_equal(json_string_value(json_object_get(e0, "path")), "tasks[0].type");
    assert_int_equal(json_integer_value(json_object_get(e0, "line")), 5);
    assert_int_equal(json_integer_value(json_object_get(e0, "column")), 11);
    json_decref(res);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/flows/company.team/http", NULL, NULL, &res), 404);
    json_decref(res);

    /* update: the saved revision stays */
    kt_it_create_flow(f->port, "id: kv\nnamespace: company.team\ntasks:\n  - id: a\n"
                               "    type: io.kestra.plugin.core.log.Log\n"
                               "    message: x\n", NULL);
    const char *kv = "id: kv\nnamespace: company.team\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.state.Set\n"
                     "    name: k\n";
    assert_int_equal(kt_it_http_json("PUT", f->port, "/api/v1/flows/company.team/kv", "application/x-yaml", kv, &res),
                     422);
    assert_non_null(strstr(json_string_value(json_object_get(res, "message")),
                           "task type 'io.kestra.plugin.core.state.Set' is not supported yet by Kite"));
    json_decref(res);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/flows/company.team/kv", NULL, NULL, &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res, "revision")), 1);
    json_decref(res);

    /* namespace update: one refused document refuses the whole body, under its legacy name */
    const char *body = "id: one\nnamespace: team.wf\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n"
                       "    message: 1\n---\nid: two\nnamespace: team.wf\ntasks:\n  - id: w\n"
                       "    type: io.kestra.core.tasks.flows.Template\n    namespace: a\n    templateId: t\n";
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/flows/team.wf", "application/x-yaml", body, &res), 422);
    assert_non_null(strstr(json_string_value(json_object_get(res, "message")),
                           "task type 'io.kestra.core.tasks.flows.Template' is not supported yet by Kite"));
    json_decref(res);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/flows/team.wf/one", NULL, NULL, &res), 404);
    json_decref(res);

    /* validate says the same, as a constraint */
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/flows/validate", "application/x-yaml", http, &res), 200);
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "constraints")),
                        "tasks[0].type: task type 'io.kestra.plugin.core.state.Set' is not supported yet by Kite "
                        "(at line 5, column 11)");
    json_decref(res);
}

static void test_flow_namespace_update(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, "id: old\nnamespace: team.ci\ntasks:\n  - id: a\n"
                               "    type: io.kestra.plugin.core.log.Log\n    message: x\n",
                      NULL);
    json_t *res = NULL;
    const char *body = "id: one\nnamespace: team.ci\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n"
                       "    message: 1\n"
                       "---\nid: two\nnamespace: team.ci\ntasks:\n  - id: a\n"
                       "    type: io.kestra.plugin.core.log.Log\n    message: 2\n";
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/flows/team.ci", "application/x-yaml", body, &res), 200);
    assert_int_equal(json_array_size(res), 3); /* old deleted, then one and two */
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "id")), "old");
    assert_true(json_is_true(json_object_get(json_array_get(res, 0), "deleted")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 2), "id")), "two");
    json_decref(res);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/flows/team.ci/old", NULL, NULL, &res), 404);
    json_decref(res);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/flows/team.ci/two?source=true", NULL, NULL, &res), 200);
    assert_non_null(strstr(json_string_value(json_object_get(res, "source")), "message: 2"));
    json_decref(res);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/flows/team.ci/two", NULL, NULL, &res), 200);
    assert_null(json_object_get(res, "source")); /* Flow, not FlowWithSource, unless source=true */
    json_decref(res);
    /* a flow of another namespace: 422, nothing written */
    const char *wrong = "id: three\nnamespace: other\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n"
                        "    message: 3\n";
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/flows/team.ci", "application/x-yaml", wrong, &res), 422);
    json_decref(res);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/flows/team.ci/one", NULL, NULL, &res), 200);
    json_decref(res);
}

static void test_flow_validate(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    const char *docs = "id: ok\nnamespace: company.team\ntasks:\n  - id: l\n    type: io.kestra.core.tasks.log.Log\n"
                       "    message: hi\n---\nid: bad\nnamespace: company.team\ntasks: []\n---\nid: [\n";
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/flows/validate", "application/x-yaml", docs, &res), 200);
    assert_int_equal(json_array_size(res), 3);
    json_t *ok = json_array_get(res, 0), *bad = json_array_get(res, 1), *broken = json_array_get(res, 2);
    assert_int_equal(json_integer_value(json_object_get(ok, "index")), 0);
    assert_null(json_object_get(ok, "constraints"));
    /* an alias is no deprecated class (FlowControllerTest.shouldValidateFlowWithWarningsAndInfos): only an info */
    assert_int_equal(json_array_size(json_object_get(ok, "deprecationPaths")), 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(ok, "infos"), 0)),
                        "io.kestra.core.tasks.log.Log is replaced by io.kestra.plugin.core.log.Log");
    assert_string_equal(json_string_value(json_object_get(bad, "flow")), "bad");
    assert_non_null(strstr(json_string_value(json_object_get(bad, "constraints")), "tasks"));
    assert_int_equal(json_integer_value(json_object_get(broken, "index")), 2);
    assert_non_null(json_object_get(broken, "constraints"));
    json_decref(res);
}

static void test_execution_end_to_end(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_HELLO, NULL);
    json_t *res = NULL;
    const char *fields[] = {"user", "Ada", NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/hello", fields, &res), 200);
    const char *id = json_string_value(json_object_get(res, "id"));
    assert_non_null(id);
    assert_string_equal(kt_it_state(res), "CREATED");
    assert_string_equal(json_string_value(json_object_get(json_object_get(res, "inputs"), "user")), "Ada");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "inputs"), "count")), 2);
    assert_int_equal(json_integer_value(json_object_get(res, "flowRevision")), 1);
    char exid[64];
    snprintf(exid, sizeof exid, "%s", id);
    json_decref(res);

    json_t *ex = kt_it_wait_execution(f->port, exid, 20000);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_t *st = json_object_get(ex, "state");
    assert_int_equal(json_array_size(json_object_get(st, "histories")), 3);
    assert_non_null(json_object_get(st, "endDate"));
    assert_non_null(json_object_get(st, "duration"));
    assert_int_equal(json_array_size(json_object_get(ex, "taskRunList")), 4);
    json_t *ret = kt_it_taskrun(ex, "ret");
    char expect[128];
    snprintf(expect, sizeof expect, "2 for %s", exid);
    assert_string_equal(json_string_value(json_object_get(json_object_get(ret, "outputs"), "value")), expect);
    json_t *values = kt_it_taskrun(ex, "values");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json_object_get(values, "outputs"), "values"), "fromReturn")),
        expect);
    json_t *shell = kt_it_taskrun(ex, "shell");
    json_t *vars = json_object_get(json_object_get(shell, "outputs"), "vars");
    assert_int_equal(json_integer_value(json_object_get(vars, "n")), 42);
    assert_string_equal(json_string_value(json_object_get(vars, "who")), "Ada");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(shell, "outputs"), "exitCode")), 0);
    /* numbers as Jackson writes them: 0.1, not jansson's 0.10000000000000001 */
    char raw_path[256], *raw = NULL;
    snprintf(raw_path, sizeof raw_path, "/api/v1/executions/%s", exid);
    assert_int_equal(kt_it_http("GET", f->port, raw_path, NULL, NULL, &raw), 200);
    assert_non_null(strstr(raw, "\"ratio\":0.1,") ? strstr(raw, "\"ratio\":0.1,") : strstr(raw, "\"ratio\":0.1}"));
    free(raw);
    assert_int_equal(json_array_size(json_object_get(shell, "attempts")), 1);
    assert_string_equal(json_string_value(json_object_get(shell, "executionId")), exid);
    json_decref(ex);

    /* logs: the Log line and the shell's stdout, in order */
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s", exid);
    json_t *logs = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &logs), 200);
    int saw_hello = 0, saw_out = 0;
    size_t i;
    json_t *l;
    json_array_foreach(logs, i, l) {
        const char *msg = json_string_value(json_object_get(l, "message"));
        if (!strcmp(msg, "Hello Ada from company.team.hello")) {
            saw_hello = 1;
            assert_string_equal(json_string_value(json_object_get(l, "level")), "INFO");
            assert_string_equal(json_string_value(json_object_get(l, "taskId")), "log");
        }
        if (!strcmp(msg, "out-Ada"))
            saw_out = 1;
        assert_true(strncmp(msg, "::{", 3)); /* protocol lines are not logged */
    }
    assert_true(saw_hello && saw_out);
    json_decref(logs);
    snprintf(path, sizeof path, "/api/v1/logs/%s?minLevel=ERROR", exid);
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &logs), 200);
    assert_int_equal(json_array_size(logs), 0);
    json_decref(logs);

    /* search: this flow's executions, paged, filtered by state */
    json_t *page = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/executions/search?namespace=company&state=SUCCESS&size=5",
                                     NULL, NULL, &page), 200);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(page, "results"), 0), "id")), exid);
    json_decref(page);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/executions/search?state=FAILED", NULL, NULL, &page), 200);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 0);
    json_decref(page);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/executions/search?sort=nocolon", NULL, NULL, &page), 422);
    json_decref(page);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/flows/search?q=hel", NULL, NULL, &page), 200);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 1);
    assert_null(json_object_get(json_array_get(json_object_get(page, "results"), 0), "source"));
    json_decref(page);

    /* follow: a finished execution is one `end` event; logs replay as `progress` events */
    char *stream = NULL;
    snprintf(path, sizeof path, "/api/v1/executions/%s/follow", exid);
    assert_int_equal(kt_it_http("GET", f->port, path, NULL, NULL, &stream), 200);
    assert_non_null(strstr(stream, "id: end\ndata: {"));
    assert_null(strstr(stream, "id: progress"));
    free(stream);
    /* a log stream never ends on its own: leave one open (curl gives up after 5 s) while the server is stopped,
     * which must still close the loop cleanly (teardown asserts exit code 0) */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "curl -sN --max-time 5 http://127.0.0.1:%d/api/v1/logs/%s/follow > %s/follow.out 2>&1 &",
             f->port, exid, f->dir);
    assert_int_equal(system(cmd), 0);
    kt_it_sleep_ms(300);

    /* wait=true: the answer is the ended execution */
    json_t *done = NULL;
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/hello?wait=true", fields, &done), 200);
    assert_string_equal(kt_it_state(done), "SUCCESS");
    assert_int_equal(json_array_size(json_object_get(done, "taskRunList")), 4);
    assert_non_null(json_object_get(done, "url"));
    json_decref(done);
}

static void test_execution_failure_and_bad_inputs(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, "id: failing\nnamespace: company.team\ninputs:\n  - id: n\n    type: INT\ntasks:\n"
                               "  - id: boom\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands:\n"
                               "      - echo about to fail >&2\n      - exit 3\n"
                               "  - id: never\n    type: io.kestra.plugin.core.log.Log\n    message: unreachable\n",
                      NULL);
    json_t *res = NULL;
    const char *bad[] = {"n", "not-a-number", NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/failing", bad, &res), 422);
    json_decref(res);
    const char *missing[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/failing", missing, &res), 422);
    json_decref(res);
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/nope", missing, &res), 404);
    json_decref(res);
    const char *ok[] = {"n", "5", NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/failing", ok, &res), 200);
    char exid[64];
    snprintf(exid, sizeof exid, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_t *ex = kt_it_wait_execution(f->port, exid, 20000);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "FAILED");
    assert_int_equal(json_array_size(json_object_get(ex, "taskRunList")), 1);
    json_t *boom = kt_it_taskrun(ex, "boom");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(boom, "outputs"), "exitCode")), 3);
    json_decref(ex);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s?minLevel=ERROR", exid);
    json_t *logs = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &logs), 200);
    assert_true(json_array_size(logs) >= 2); /* the stderr line and the exit code */
    json_decref(logs);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/executions/doesnotexist", NULL, NULL, &res), 404);
    json_decref(res);
}

/* DELETE .../kill: the running shell is stopped and everything ends KILLED. */
static void test_kill(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, "id: long\nnamespace: company.team\ntasks:\n"
                               "  - id: nap\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands:\n"
                               "      - sleep 30\n"
                               "  - id: after\n    type: io.kestra.plugin.core.log.Log\n    message: never\n", NULL);
    json_t *res = NULL;
    const char *none[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/long", none, &res), 200);
    char exid[64], path[256];
    snprintf(exid, sizeof exid, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    assert_int_equal(kt_it_wait_task_running(f->port, exid, "nap", 10000), 0);
    snprintf(path, sizeof path, "/api/v1/executions/%s/kill", exid);
    char *body = NULL;
    assert_int_equal(kt_it_http("DELETE", f->port, path, NULL, NULL, &body), 202);
    free(body);
    json_t *ex = kt_it_wait_execution(f->port, exid, 5000); /* long before the 30 s sleep would end */
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "KILLED");
    json_t *nap = kt_it_taskrun(ex, "nap");
    assert_string_equal(kt_it_state(nap), "KILLED");
    assert_null(kt_it_taskrun(ex, "after"));
    json_decref(ex);
    /* already finished: without cascade, 409 */
    snprintf(path, sizeof path, "/api/v1/executions/%s/kill?isOnKillCascade=false", exid);
    assert_int_equal(kt_it_http("DELETE", f->port, path, NULL, NULL, &body), 409);
    free(body);
    assert_int_equal(kt_it_http("DELETE", f->port, "/api/v1/executions/nope/kill", NULL, NULL, &body), 404);
    free(body);
}

/* Subflow: the child gets typed inputs and the parent's correlation id; its outputs come back to the parent. */
static void test_subflow(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, "id: child\nnamespace: company.team\ninputs:\n  - id: n\n    type: INT\n"
                               "tasks:\n  - id: double\n    type: io.kestra.plugin.core.debug.Return\n"
                               "    format: \"{{ inputs.n * 2 }}\"\n"
                               "outputs:\n  - id: result\n    type: INT\n    value: \"{{ outputs.double.value }}\"\n",
                      NULL);
    kt_it_create_flow(f->port, "id: parent\nnamespace: company.team\ntasks:\n"
                               "  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n"
                               "    namespace: company.team\n"
                               "    flowId: child\n    inputs:\n      n: 21\n"
                               "  - id: use\n    type: io.kestra.plugin.core.debug.Return\n"
                               "    format: \"got {{ outputs.call.outputs.result }}\"\n"
                               "  - id: missing\n    type: io.kestra.plugin.core.flow.Subflow\n"
                               "    namespace: company.team\n"
                               "    flowId: nowhere\n    allowFailure: true\n", NULL);
    json_t *ex = NULL;
    const char *none[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/parent?wait=true", none, &ex), 200);
    assert_string_equal(kt_it_state(ex), "WARNING");
    json_t *call = kt_it_taskrun(ex, "call");
    assert_string_equal(kt_it_state(call), "SUCCESS");
    json_t *cout = json_object_get(call, "outputs");
    assert_string_equal(json_string_value(json_object_get(cout, "state")), "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(cout, "outputs"), "result")), 42);
    json_t *use = kt_it_taskrun(ex, "use");
    assert_string_equal(json_string_value(json_object_get(json_object_get(use, "outputs"), "value")), "got 42");
    json_t *missing = kt_it_taskrun(ex, "missing");
    assert_string_equal(kt_it_state(missing), "WARNING");
    /* the child: trigger and correlation id */
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s", json_string_value(json_object_get(cout, "executionId")));
    json_t *child = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &child), 200);
    json_t *vars = json_object_get(json_object_get(child, "trigger"), "variables");
    assert_string_equal(json_string_value(json_object_get(vars, "executionId")),
                        json_string_value(json_object_get(ex, "id")));
    int corr = 0;
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(child, "labels"), i, l) {
        if (!strcmp(json_string_value(json_object_get(l, "key")), "system.correlationId"))
            corr = !strcmp(json_string_value(json_object_get(l, "value")), json_string_value(json_object_get(ex, "id")));
    }
    assert_true(corr);
    json_decref(child);
    json_decref(ex);
}

/* Flow concurrency (KESTRA-execution.md §2.14): a second execution while the first runs is queued, then runs; with
 * CANCEL it is cancelled. */
static void test_concurrency(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, "id: q\nnamespace: company.team\nconcurrency:\n  limit: 1\n  behavior: QUEUE\ntasks:\n"
                               "  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT0.5S\n", NULL);
    kt_it_create_flow(f->port, "id: c\nnamespace: company.team\nconcurrency:\n  limit: 1\n  behavior: CANCEL\ntasks:\n"
                               "  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT0.5S\n", NULL);
    const char *none[] = {NULL};
    char first[64], second[64];
    const char *flows[] = {"q", "c"};
    for (int k = 0; k < 2; k++) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/executions/company.team/%s", flows[k]);
        json_t *res = NULL;
        assert_int_equal(kt_it_post_form(f->port, path, none, &res), 200);
        snprintf(first, sizeof first, "%s", json_string_value(json_object_get(res, "id")));
        json_decref(res);
        assert_int_equal(kt_it_wait_task_running(f->port, first, "nap", 5000), 0);
        assert_int_equal(kt_it_post_form(f->port, path, none, &res), 200);
        snprintf(second, sizeof second, "%s", json_string_value(json_object_get(res, "id")));
        json_decref(res);
        json_t *ex = kt_it_wait_execution(f->port, second, 10000);
        assert_non_null(ex);
        json_t *h = json_object_get(json_object_get(ex, "state"), "histories");
        if (k == 0) { /* CREATED, QUEUED, RUNNING, SUCCESS */
            assert_string_equal(kt_it_state(ex), "SUCCESS");
            assert_string_equal(json_string_value(json_object_get(json_array_get(h, 1), "state")), "QUEUED");
            assert_string_equal(json_string_value(json_object_get(json_array_get(h, 2), "state")), "RUNNING");
        } else {
            assert_string_equal(kt_it_state(ex), "CANCELLED");
            assert_null(json_object_get(ex, "taskRunList"));
        }
        json_decref(ex);
        ex = kt_it_wait_execution(f->port, first, 10000);
        assert_string_equal(kt_it_state(ex), "SUCCESS");
        json_decref(ex);
    }
}

/* Webhook trigger (KESTRA-execution.md §5.7): the rendered key selects the trigger, the request becomes
 * trigger.body/headers/parameters, and a false ExpressionCondition answers 204 without starting anything. */
static void test_webhook(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, "id: hook\nnamespace: company.team\nlabels:\n  team: a\ntasks:\n"
                               "  - id: out\n    type: io.kestra.plugin.core.debug.Return\n"
                               "    format: \"{{ trigger.body.hello }}-{{ trigger.parameters.p[0] }}\"\n"
                               "triggers:\n  - id: wh\n    type: io.kestra.plugin.core.trigger.Webhook\n"
                               "    key: \"k-{{ flow.id }}\"\n"
                               "    conditions:\n      - type: io.kestra.plugin.core.condition.ExpressionCondition\n"
                               "        expression: \"{{ trigger.body.hello != 'no' }}\"\n", NULL);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/webhook/company.team/hook/wrong",
                                     "application/json", "{}", &res),
                     404);
    json_decref(res);
    res = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/webhook/company.team/absent/k-hook",
                                     "application/json", "{}", &res),
                     404);
    json_decref(res);
    char *raw = NULL;
    assert_int_equal(kt_it_http("POST", f->port, "/api/v1/executions/webhook/company.team/hook/k-hook",
                                "application/json", "{\"hello\":\"no\"}", &raw),
                     204);
    free(raw);
    res = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/webhook/company.team/hook/k-hook?p=v%201",
                                     "application/json", "{\"hello\":\"world\"}", &res),
                     200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(res, "trigger"), "id")), "wh");
    json_t *labels = json_object_get(res, "labels");
    assert_int_equal(json_array_size(labels), 1); /* the flow's label, no correlation id */
    char id[64];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_t *ex = kt_it_wait_execution(f->port, id, 10000);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_t *out = json_object_get(kt_it_taskrun(ex, "out"), "outputs");
    assert_string_equal(json_string_value(json_object_get(out, "value")), "world-v 1");
    json_decref(ex);
}

/* Every condition of a Webhook trigger is evaluated, under its canonical name too (issue 8: only the
 * ExpressionCondition alias was, and `io.kestra.plugin.core.condition.Expression` was silently skipped): false
 * or not evaluable answers 204 and starts nothing, all true answers 200. */
static void test_webhook_conditions(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, "id: hook2\nnamespace: company.team\ntasks:\n"
                               "  - id: out\n    type: io.kestra.plugin.core.debug.Return\n"
                               "    format: \"{{ trigger.body.ok }}\"\n"
                               "triggers:\n  - id: wh\n    type: io.kestra.plugin.core.trigger.Webhook\n"
                               "    key: k2\n    conditions:\n"
                               "      - type: io.kestra.plugin.core.condition.Expression\n"
                               "        expression: \"{{ trigger.body.ok }}\"\n"
                               "      - type: io.kestra.plugin.core.condition.ExecutionFlow\n"
                               "        namespace: company.team\n        flowId: hook2\n", NULL);
    const char *path = "/api/v1/executions/webhook/company.team/hook2/k2";
    char *raw = NULL;
    assert_int_equal(kt_it_http("POST", f->port, path, "application/json", "{\"ok\": false}", &raw), 204);
    free(raw);
    raw = NULL;
    /* trigger.body.ok undefined: the condition cannot render, which counts as false */
    assert_int_equal(kt_it_http("POST", f->port, path, "application/json", "{\"other\": 1}", &raw), 204);
    free(raw);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, path, "application/json", "{\"ok\": true}", &res), 200);
    char id[64];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_t *ex = kt_it_wait_execution(f->port, id, 10000);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_decref(ex);
    /* a condition on another flow rejects */
    kt_it_create_flow(f->port, "id: hook3\nnamespace: company.team\ntasks:\n"
                               "  - id: out\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n"
                               "triggers:\n  - id: wh\n    type: io.kestra.plugin.core.trigger.Webhook\n"
                               "    key: k3\n    conditions:\n"
                               "      - type: io.kestra.plugin.core.condition.ExecutionFlow\n"
                               "        namespace: company.team\n        flowId: hook2\n", NULL);
    raw = NULL;
    assert_int_equal(kt_it_http("POST", f->port, "/api/v1/executions/webhook/company.team/hook3/k3",
                                "application/json", "{}", &raw),
                     204);
    free(raw);
}

/* Pause, then resume with onResume inputs (KESTRA-execution.md §2.11). */
static void test_pause_resume(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, "id: approve\nnamespace: company.team\ntasks:\n"
                               "  - id: wait\n    type: io.kestra.plugin.core.flow.Pause\n    onResume:\n"
                               "      - id: who\n        type: STRING\n"
                               "  - id: after\n    type: io.kestra.plugin.core.debug.Return\n"
                               "    format: \"approved by {{ outputs.wait.onResume.who }}\"\n", NULL);
    json_t *res = NULL;
    const char *none[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/approve", none, &res), 200);
    char exid[64], path[256];
    snprintf(exid, sizeof exid, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_decref(kt_it_wait_state(&f->server, f->port, exid, "PAUSED", 5000));
    snprintf(path, sizeof path, "/api/v1/executions/%s/resume", exid);
    const char *missing[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, path, missing, &res), 422); /* `who` is required */
    json_decref(res);
    const char *who[] = {"who", "Ada", NULL};
    assert_int_equal(kt_it_post_form(f->port, path, who, &res), 204);
    json_decref(res);
    json_t *ex = kt_it_wait_execution(f->port, exid, 10000);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_t *after = kt_it_taskrun(ex, "after");
    assert_string_equal(json_string_value(json_object_get(json_object_get(after, "outputs"), "value")), "approved by Ada");
    json_decref(ex);
    assert_int_equal(kt_it_post_form(f->port, path, who, &res), 409); /* no longer paused */
    json_decref(res);
}

/* SIGKILL in the middle of a task: after a restart the execution completes, the task ran again as a new attempt. */
static void test_restart_after_sigkill(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, "id: slow\nnamespace: company.team\ntasks:\n"
                               "  - id: first\n    type: io.kestra.plugin.core.log.Log\n    message: before\n"
                               "  - id: nap\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands:\n"
                               "      - sleep 1\n"
                               "  - id: last\n    type: io.kestra.plugin.core.log.Log\n    message: after\n", NULL);
    json_t *res = NULL;
    const char *none[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/slow", none, &res), 200);
    char exid[64];
    snprintf(exid, sizeof exid, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    assert_int_equal(kt_it_wait_task_running(f->port, exid, "nap", 10000), 0);
    kt_it_stop(&f->server, SIGKILL);
    f->server = kt_it_start_server(f->dir, "server", f->port, NULL);
    json_t *ex = kt_it_wait_execution(f->port, exid, 20000);
    if (!ex)
        kt_it_dump_log(&f->server);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_t *nap = kt_it_taskrun(ex, "nap");
    assert_int_equal(json_array_size(json_object_get(nap, "attempts")), 2);
    assert_string_equal(kt_it_state(nap), "SUCCESS");
    assert_non_null(kt_it_taskrun(ex, "last"));
    json_decref(ex);
}

/* Kestra's kill cascades to Subflow children (isOnKillCascade defaults to true): the parent and its waiting child
 * end KILLED, and so does a child started with wait: false; with isOnKillCascade=false the children live on. */
static void test_kill_cascade(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, "id: hold\nnamespace: company.team\ntasks:\n"
                               "  - id: wait\n    type: io.kestra.plugin.core.flow.Pause\n", NULL);
    kt_it_create_flow(f->port, "id: boss\nnamespace: company.team\ntasks:\n"
                               "  - id: detached\n    type: io.kestra.plugin.core.flow.Subflow\n"
                               "    namespace: company.team\n    flowId: hold\n    wait: false\n"
                               "  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n"
                               "    namespace: company.team\n    flowId: hold\n", NULL);
    char ids[2][2][64]; /* [run][0 parent, 1 waiting child]; run 0 cascades, run 1 does not */
    char detached[2][64];
    for (int k = 0; k < 2; k++) {
        json_t *res = NULL;
        const char *none[] = {NULL};
        assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/boss", none, &res), 200);
        snprintf(ids[k][0], sizeof ids[k][0], "%s", json_string_value(json_object_get(res, "id")));
        json_decref(res);
        /* both children exist and wait in their Pause; the parent waits for `call` */
        json_t *ex = NULL;
        for (int tries = 0; tries < 200; tries++) {
            json_decref(ex);
            ex = kt_it_get_execution(f->port, ids[k][0]);
            json_t *call = ex ? kt_it_taskrun(ex, "call") : NULL;
            if (call && json_object_get(json_object_get(call, "outputs"), "executionId"))
                break;
            kt_it_sleep_ms(50);
        }
        json_t *out_call = json_object_get(kt_it_taskrun(ex, "call"), "outputs");
        json_t *out_det = json_object_get(kt_it_taskrun(ex, "detached"), "outputs");
        assert_non_null(json_object_get(out_call, "executionId"));
        snprintf(ids[k][1], sizeof ids[k][1], "%s", json_string_value(json_object_get(out_call, "executionId")));
        snprintf(detached[k], sizeof detached[k], "%s", json_string_value(json_object_get(out_det, "executionId")));
        json_decref(ex);
        json_decref(kt_it_wait_state(&f->server, f->port, ids[k][1], "PAUSED", 10000));
        json_decref(kt_it_wait_state(&f->server, f->port, detached[k], "PAUSED", 10000));
        char path[512], *body = NULL;
        snprintf(path, sizeof path, "/api/v1/executions/%s/kill%s", ids[k][0], k ? "?isOnKillCascade=false" : "");
        assert_int_equal(kt_it_http("DELETE", f->port, path, NULL, NULL, &body), 202);
        free(body);
        json_decref(kt_it_wait_state(&f->server, f->port, ids[k][0], "KILLED", 10000));
    }
    json_decref(kt_it_wait_state(&f->server, f->port, ids[0][1], "KILLED", 10000));
    json_decref(kt_it_wait_state(&f->server, f->port, detached[0], "KILLED", 10000));
    /* without the cascade the children are still paused a while later */
    kt_it_sleep_ms(300);
    for (int c = 0; c < 2; c++) {
        json_t *ex = kt_it_get_execution(f->port, c ? detached[1] : ids[1][1]);
        assert_non_null(ex);
        assert_string_equal(kt_it_state(ex), "PAUSED");
        json_decref(ex);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flow_crud, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_flow_invalid, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_flow_type_not_supported_yet, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_flow_validate, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_flow_namespace_update, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_execution_end_to_end, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_execution_failure_and_bad_inputs, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_kill, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_kill_cascade, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_pause_resume, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_subflow, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_concurrency, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_webhook, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_webhook_conditions, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_restart_after_sigkill, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
