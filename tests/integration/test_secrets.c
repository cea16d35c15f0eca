/* Secrets through a real server (issue 10): SECRET_<NAME> (base64) in the server's environment reaches
 * {{ secret('NAME') }}, ENV_<NAME> reaches {{ envs.name }}, and neither a secret nor a SECRET input's value is
 * shown in clear in GET /api/v1/logs/{id}, in error messages or in the execution JSON (its inputs are sealed), searched
 * after a Log task, a Shell script that echoes them (stdout, stderr), a WorkingDirectory child and failures whose
 * messages would carry them. Task and flow outputs are the exception, as in Kestra (it masks logs only): a Return of
 * a secret shows it, so a later task can use it. A missing secret fails its task with Kestra's message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NS "io.kite.sec"
#define SECRET "Sup3r-S3cr3t-42"
#define SECRET_B64 "U3VwM3ItUzNjcjN0LTQy"
#define INPUT_PW "input-pw-777"
#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static const char *FLOW_OK =
    "id: sec\n"
    "namespace: " NS "\n"
    "inputs:\n"
    "  - id: pw\n"
    "    type: SECRET\n"
    "tasks:\n"
    "  - id: log\n"
    "    type: io.kestra.plugin.core.log.Log\n"
    "    message: \"db={{ secret('DB_PASSWORD') }} pw={{ inputs.pw }} env={{ envs.greeting }}\"\n"
    "  - id: ret\n"
    "    type: io.kestra.plugin.core.debug.Return\n"
    "    format: \"value {{ secret('db_password') }}\"\n"
    "  - id: sh\n"
    "    type: io.kestra.plugin.scripts.shell.Commands\n"
    "    taskRunner:\n"
    "      type: io.kestra.plugin.core.runner.Process\n"
    "    env:\n"
    "      PW: \"{{ inputs.pw }}\"\n"
    "      DB: \"{{ secret('DB_PASSWORD') }}\"\n"
    "      PEM: \"{{ secret('PEM') }}\"\n"
    "    commands:\n"
    "      - printf 'pem %s\\n' \"$PEM\"\n"
    "      - echo \"shell says $DB and $PW\"\n"
    "      - echo \"to stderr $DB\" >&2\n"
    "      - echo \"::{\\\"outputs\\\":{\\\"leak\\\":\\\"$DB\\\"}}::\"\n"
    "  - id: dir\n"
    "    type: io.kestra.plugin.core.flow.WorkingDirectory\n"
    "    tasks:\n"
    "      - id: inner\n"
    "        type: io.kestra.plugin.scripts.shell.Commands\n"
    "        taskRunner:\n"
    "          type: io.kestra.plugin.core.runner.Process\n"
    "        commands:\n"
    "          - echo \"inner {{ secret('DB_PASSWORD') }}\"\n"
    "  - id: plain\n"
    "    type: io.kestra.plugin.core.debug.Return\n"
    "    format: \"{{ envs.greeting }}\"\n"
    "outputs:\n"
    "  - id: out\n"
    "    type: STRING\n"
    "    value: \"flow {{ secret('DB_PASSWORD') }}\"\n";

static const char *FLOW_MISSING = "id: missing\n"
                                  "namespace: " NS "\n"
                                  "tasks:\n"
                                  "  - id: nope\n"
                                  "    type: io.kestra.plugin.core.log.Log\n"
                                  "    message: \"{{ secret('NOPE') }}\"\n";

/* failures whose messages hold the secret: a filter that quotes its input, a script that exits after echoing it */
static const char *FLOW_ERRORS = "id: errors\n"
                                 "namespace: " NS "\n"
                                 "tasks:\n"
                                 "  - id: script\n"
                                 "    type: io.kestra.plugin.scripts.shell.Commands\n"
                                 "    allowFailure: true\n"
                                 "    taskRunner:\n"
                                 "      type: io.kestra.plugin.core.runner.Process\n"
                                 "    commands:\n"
                                 "      - echo \"failing with {{ secret('DB_PASSWORD') }}\" >&2\n"
                                 "      - exit 3\n"
                                 "  - id: number\n"
                                 "    type: io.kestra.plugin.core.debug.Return\n"
                                 "    format: \"{{ secret('DB_PASSWORD') | number }}\"\n"
                                 "errors:\n" /* a condition the executor renders itself, and logs when it fails */
                                 "  - id: cond\n"
                                 "    type: io.kestra.plugin.core.debug.Return\n"
                                 "    runIf: \"{{ secret('DB_PASSWORD') | number }}\"\n"
                                 "    format: never\n";

/* 40 copies of the secret in a row (600 bytes): a message quoting them crosses the 512 bytes an expression's error is
 * cut to, so a cut before the masking would leave the head of one copy in clear (after 7 bytes of padding the cut
 * keeps 33 copies and "Sup3r-S3c", after 10 "Sup3r-"). */
#define CHAIN "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' | replace({'A': secret('DB_PASSWORD')})"
/* secrets used only in properties the executor renders itself (runIf, ForEach values, If condition, Switch value, a
 * Subflow's inputs checked against the child's types), each failing with a message that quotes the value */
static const char *FLOW_FLOWABLE = "id: flowable\n"
                                   "namespace: " NS "\n"
                                   "tasks:\n"
                                   "  - id: each\n"
                                   "    type: io.kestra.plugin.core.flow.ForEach\n"
                                   "    allowFailure: true\n"
                                   "    values: \"{{ secret('DB_PASSWORD') | number }}\"\n"
                                   "    tasks:\n"
                                   "      - id: never1\n"
                                   "        type: io.kestra.plugin.core.debug.Return\n"
                                   "        format: never\n"
                                   "  - id: chained_task\n"
                                   "    type: io.kestra.plugin.core.debug.Return\n"
                                   "    allowFailure: true\n"
                                   "    format: \"{{ ('xxxxxxxxxx' ~ " CHAIN ") | number }}\"\n"
                                   "  - id: sub\n"
                                   "    type: io.kestra.plugin.core.flow.Subflow\n"
                                   "    allowFailure: true\n"
                                   "    namespace: " NS "\n"
                                   "    flowId: child\n"
                                   "    inputs:\n"
                                   "      n: \"{{ secret('DB_PASSWORD') }}\"\n"
                                   "  - id: par\n" /* last, side by side: each of these failing fails the run */
                                   "    type: io.kestra.plugin.core.flow.Parallel\n"
                                   "    tasks:\n"
                                   "      - id: when\n"
                                   "        type: io.kestra.plugin.core.flow.If\n"
                                   "        condition: \"{{ secret('DB_PASSWORD') | number }}\"\n"
                                   "        then:\n"
                                   "          - id: never2\n"
                                   "            type: io.kestra.plugin.core.debug.Return\n"
                                   "            format: never\n"
                                   "      - id: switch\n"
                                   "        type: io.kestra.plugin.core.flow.Switch\n"
                                   "        value: \"{{ secret('DB_PASSWORD') | number }}\"\n"
                                   "        cases:\n"
                                   "          x:\n"
                                   "            - id: never3\n"
                                   "              type: io.kestra.plugin.core.debug.Return\n"
                                   "              format: never\n"
                                   "      - id: chain\n"
                                   "        type: io.kestra.plugin.core.debug.Return\n"
                                   "        runIf: \"{{ ('xxxxxxx' ~ " CHAIN ") | number }}\"\n"
                                   "        format: never\n";

/* a line longer than the 1 MiB a script's line is split at, the secret crossing the split (1 MiB - 5 bytes before it) */
static const char *FLOW_LONG_LINE = "id: longline\n"
                                    "namespace: " NS "\n"
                                    "tasks:\n"
                                    "  - id: sh\n"
                                    "    type: io.kestra.plugin.scripts.shell.Commands\n"
                                    "    taskRunner:\n"
                                    "      type: io.kestra.plugin.core.runner.Process\n"
                                    "    env:\n"
                                    "      DB: \"{{ secret('DB_PASSWORD') }}\"\n"
                                    "    commands:\n"
                                    "      - printf '%1048571s' '' | tr ' ' x; echo \"$DB and the rest of the line\"\n";

/* a Flow trigger handing a SECRET input to the flow it starts, after any execution of `up` */
static const char *FLOW_UP = "id: up\n"
                             "namespace: " NS "\n"
                             "tasks:\n"
                             "  - id: t\n"
                             "    type: io.kestra.plugin.core.debug.Return\n"
                             "    format: up\n";
static const char *FLOW_DOWN = "id: down\n"
                               "namespace: " NS "\n"
                               "inputs:\n"
                               "  - id: pw\n"
                               "    type: SECRET\n"
                               "tasks:\n"
                               "  - id: log\n"
                               "    type: io.kestra.plugin.core.log.Log\n"
                               "    message: \"down got {{ inputs.pw }}\"\n"
                               "triggers:\n"
                               "  - id: after_up\n"
                               "    type: io.kestra.plugin.core.trigger.Flow\n"
                               "    inputs:\n"
                               "      pw: \"{{ secret('DB_PASSWORD') }}\"\n"
                               "    conditions:\n"
                               "      - type: io.kestra.plugin.core.condition.ExecutionFlow\n"
                               "        namespace: " NS "\n"
                               "        flowId: up\n";
/* a Pause whose onResume input is SECRET */
static const char *FLOW_PAUSE = "id: pause\n"
                                "namespace: " NS "\n"
                                "tasks:\n"
                                "  - id: wait\n"
                                "    type: io.kestra.plugin.core.flow.Pause\n"
                                "    onResume:\n"
                                "      - id: pw\n"
                                "        type: SECRET\n"
                                "  - id: after\n"
                                "    type: io.kestra.plugin.core.debug.Return\n"
                                "    format: done\n";

static const char *FLOW_CHILD = "id: child\n"
                                "namespace: " NS "\n"
                                "inputs:\n"
                                "  - id: n\n"
                                "    type: INT\n"
                                "tasks:\n"
                                "  - id: t\n"
                                "    type: io.kestra.plugin.core.debug.Return\n"
                                "    format: \"{{ inputs.n }}\"\n";

static int setup(void **state)
{
    /* the spawned server inherits the test's environment */
    setenv("SECRET_DB_PASSWORD", SECRET_B64, 1);
    setenv("SECRET_PEM", "bGluZS1vbmUtYWFhCmxpbmUtdHdvLWJiYg==", 1); /* two lines: a script prints them apart */
    setenv("ENV_GREETING", "hello", 1);
    setenv("KITE_ENCRYPTION_SECRET_KEY", KEY, 1); /* kestra.encryption.secret-key: SECRET inputs stored sealed */
    return kt_it_setup(state);
}

static char *run(kt_it_fixture *f, const char *flow, const char *pw, const char *want, json_t **ex_out)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/" NS "/%s", flow);
    const char *fields[] = {"pw", pw, NULL};
    json_t *res = NULL;
    assert_int_equal(kt_it_post_form(f->port, path, pw ? fields : fields + 2, &res), 200);
    char *id = strdup(json_string_value(json_object_get(res, "id")));
    json_decref(res);
    *ex_out = kt_it_wait_state(&f->server, f->port, id, want, 30000);
    return id;
}

static char *logs_of(kt_it_fixture *f, const char *id)
{
    char path[256], *body = NULL;
    snprintf(path, sizeof path, "/api/v1/logs/%s", id);
    assert_int_equal(kt_it_http("GET", f->port, path, NULL, NULL, &body), 200);
    return body;
}

static void assert_clean(const char *what, const char *text)
{
    if (strstr(text, SECRET) || strstr(text, INPUT_PW) || strstr(text, "line-one-aaa") || strstr(text, "line-two-bbb"))
        fail_msg("%s shows a secret in clear: %s", what, text);
}

static void assert_has(const char *what, const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("%s does not show '%s': %s", what, want, text);
}

/* The execution without its task and flow outputs (which show what tasks return, as Kestra's do). */
static char *dump_without_outputs(const json_t *ex)
{
    json_t *copy = json_deep_copy(ex);
    json_object_del(copy, "outputs");
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(copy, "taskRunList"), i, tr) json_object_del(tr, "outputs");
    char *text = json_dumps(copy, 0);
    json_decref(copy);
    return text;
}

static json_t *outputs_of(json_t *ex, const char *task)
{
    return json_object_get(kt_it_taskrun(ex, task), "outputs");
}

static void test_secrets_are_used_and_masked(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_OK, NULL);
    json_t *ex = NULL;
    /* WARNING: the script writes to stderr (warningOnStdErr, true by default) */
    char *id = run(f, "sec", INPUT_PW, "WARNING", &ex);
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "plain")), "SUCCESS");
    assert_string_equal(json_string_value(json_object_get(outputs_of(ex, "ret"), "value")), "value " SECRET);
    assert_string_equal(json_string_value(json_object_get(json_object_get(outputs_of(ex, "sh"), "vars"), "leak")),
                        SECRET);
    assert_string_equal(json_string_value(json_object_get(outputs_of(ex, "plain"), "value")), "hello");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ex, "outputs"), "out")), "flow " SECRET);
    /* the SECRET input is stored sealed: base64 of IV (12) + the 12 bytes + tag (16), never the value */
    const char *sealed = json_string_value(json_object_get(json_object_get(ex, "inputs"), "pw"));
    assert_non_null(sealed);
    assert_int_equal(strlen(sealed), 4 * ((12 + strlen(INPUT_PW) + 16 + 2) / 3));
    char *text = dump_without_outputs(ex);
    assert_clean("the execution", text);
    free(text);
    json_decref(ex);
    /* the execution as the API serialises it */
    char path[256], *body = NULL;
    snprintf(path, sizeof path, "/api/v1/executions/%s", id);
    assert_int_equal(kt_it_http("GET", f->port, path, NULL, NULL, &body), 200);
    json_t *api = json_loads(body, 0, NULL);
    assert_non_null(api);
    free(body);
    body = dump_without_outputs(api);
    json_decref(api);
    assert_clean("GET /api/v1/executions/{id}", body);
    free(body);
    char *logs = logs_of(f, id);
    assert_clean("the logs", logs);
    assert_has("the logs", logs, "db=****** pw=****** env=hello");
    assert_has("the logs", logs, "shell says ****** and ******");
    assert_has("the logs", logs, "to stderr ******");
    assert_has("the logs", logs, "inner ******");
    assert_has("the logs", logs, "\"pem ******\"");
    free(logs);
    free(id);
}

static void test_a_missing_secret_fails_the_task(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_MISSING, NULL);
    json_t *ex = NULL;
    char *id = run(f, "missing", NULL, "FAILED", &ex);
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "nope")), "FAILED");
    json_decref(ex);
    char *logs = logs_of(f, id);
    assert_has("the logs", logs, "Cannot find secret for key 'NOPE'.");
    free(logs);
    free(id);
}

static void test_error_messages_are_masked(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_ERRORS, NULL);
    json_t *ex = NULL;
    char *id = run(f, "errors", NULL, "FAILED", &ex);
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "script")), "WARNING");
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "number")), "FAILED");
    char *text = json_dumps(ex, 0);
    assert_clean("the execution", text);
    free(text);
    json_decref(ex);
    char *logs = logs_of(f, id);
    assert_clean("the logs", logs);
    assert_has("the logs", logs, "failing with ******");
    assert_has("the logs", logs, "****** is not a valid number");
    assert_has("the logs", logs, "Unable to evaluate the runIf condition for task cond");
    free(logs);
    free(id);
}

/* No part of a secret in the logs: its first four bytes are enough to tell a head left by a cut. */
static void assert_no_part(const char *what, const char *text)
{
    assert_clean(what, text);
    if (strstr(text, "Sup3") || strstr(text, "S3cr3t-42"))
        fail_msg("%s shows a part of a secret: %s", what, text);
}

static void test_executor_renders_are_masked(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_CHILD, NULL);
    kt_it_create_flow(f->port, FLOW_FLOWABLE, NULL);
    json_t *ex = NULL;
    char *id = run(f, "flowable", NULL, "FAILED", &ex);
    const char *warned[] = {"each", "chained_task", "sub"}, *failed[] = {"when", "switch", "chain"};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(kt_it_state(kt_it_taskrun(ex, warned[i])), "WARNING");
        assert_string_equal(kt_it_state(kt_it_taskrun(ex, failed[i])), "FAILED");
    }
    char *text = json_dumps(ex, 0);
    assert_no_part("the execution", text);
    free(text);
    json_decref(ex);
    char *logs = logs_of(f, id);
    assert_no_part("the logs", logs);
    assert_has("the logs", logs, "****** is not a valid number"); /* ForEach values, If, Switch */
    assert_has("the logs", logs, "Unable to evaluate the runIf condition for task chain");
    assert_has("the logs", logs, "but received `******`"); /* the child's INT input refusing the secret */
    free(logs);
    free(id);
}

static void test_a_long_line_split_keeps_secrets_whole(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_LONG_LINE, NULL);
    json_t *ex = NULL;
    char *id = run(f, "longline", NULL, "SUCCESS", &ex);
    json_decref(ex);
    char *logs = logs_of(f, id);
    assert_no_part("the logs", logs);
    assert_has("the logs", logs, "\"****** and the rest of the line\""); /* the secret begins the second piece */
    assert_has("the logs", logs, "xxxxx\""); /* the first piece ends before it */
    free(logs);
    free(id);
}

/* Every execution of NS.flow (the first 100). */
static json_t *executions_of(kt_it_fixture *f, const char *flow)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/search?namespace=" NS "&flowId=%s&size=100", flow);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &res), 200);
    json_t *results = json_incref(json_object_get(res, "results"));
    json_decref(res);
    assert_non_null(results);
    return results;
}

/* The first execution of NS.flow within timeout_ms (its id, malloc'd), or NULL. */
static char *wait_first(kt_it_fixture *f, const char *flow, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        json_t *list = executions_of(f, flow);
        const char *id = json_string_value(json_object_get(json_array_get(list, 0), "id"));
        char *copy = id ? strdup(id) : NULL;
        json_decref(list);
        if (copy)
            return copy;
        kt_it_sleep_ms(100);
    }
    return NULL;
}

static void test_flow_trigger_seals_secret_inputs(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_UP, NULL);
    kt_it_create_flow(f->port, FLOW_DOWN, NULL);
    json_t *ex = NULL;
    char *up = run(f, "up", NULL, "SUCCESS", &ex);
    json_decref(ex);
    char *id = wait_first(f, "down", 10000);
    assert_non_null(id);
    ex = kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 10000);
    const char *sealed = json_string_value(json_object_get(json_object_get(ex, "inputs"), "pw"));
    assert_non_null(sealed);
    assert_int_equal(strlen(sealed), 4 * ((12 + strlen(SECRET) + 16 + 2) / 3)); /* IV + the 15 bytes + tag */
    char *text = json_dumps(ex, 0);
    assert_clean("the triggered execution", text);
    free(text);
    json_decref(ex);
    char *logs = logs_of(f, id);
    assert_clean("the logs", logs);
    assert_has("the logs", logs, "down got ******"); /* opened for the render, masked in the line */
    free(logs);
    free(id);
    free(up);
}

static void test_on_resume_secret_inputs_are_sealed(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_PAUSE, NULL);
    json_t *ex = NULL;
    char *id = run(f, "pause", NULL, "PAUSED", &ex);
    json_decref(ex);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s/resume", id);
    const char *fields[] = {"pw", INPUT_PW, NULL};
    json_t *res = NULL;
    assert_int_equal(kt_it_post_form(f->port, path, fields, &res), 204);
    json_decref(res);
    ex = kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 10000);
    /* the Pause's outputs hold the sealed value, as Kestra's readExecutionInputs leaves it */
    const char *sealed = json_string_value(
        json_object_get(json_object_get(json_object_get(kt_it_taskrun(ex, "wait"), "outputs"), "onResume"), "pw"));
    assert_non_null(sealed);
    assert_int_equal(strlen(sealed), 4 * ((12 + strlen(INPUT_PW) + 16 + 2) / 3));
    char *text = json_dumps(ex, 0);
    assert_clean("the execution", text);
    free(text);
    json_decref(ex);
    free(id);
}

/* Without an encryption key a SECRET input is refused as Kestra refuses it: it would be stored and shown in clear. */
static int setup_no_key(void **state)
{
    unsetenv("KITE_ENCRYPTION_SECRET_KEY");
    setenv("SECRET_DB_PASSWORD", SECRET_B64, 1);
    return kt_it_setup(state);
}

static void test_secret_input_needs_a_key(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_OK, NULL);
    const char *fields[] = {"pw", INPUT_PW, NULL};
    json_t *res = NULL;
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/" NS "/sec", fields, &res), 422);
    char *text = json_dumps(res, 0);
    assert_non_null(strstr(text, "Unable to use a `SECRET` input/output as encryption is not configured"));
    assert_null(strstr(text, INPUT_PW));
    free(text);
    json_decref(res);
}

/* Without a key a Flow trigger starts nothing (its SECRET input would be stored in clear) and a resume with a SECRET
 * onResume value is refused with Kestra's message. */
static void test_no_key_refuses_trigger_and_resume_secrets(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_UP, NULL);
    kt_it_create_flow(f->port, FLOW_DOWN, NULL);
    kt_it_create_flow(f->port, FLOW_PAUSE, NULL);
    json_t *ex = NULL;
    char *up = run(f, "up", NULL, "SUCCESS", &ex);
    json_decref(ex);
    char *id = run(f, "pause", NULL, "PAUSED", &ex);
    json_decref(ex);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s/resume", id);
    const char *fields[] = {"pw", INPUT_PW, NULL};
    json_t *res = NULL;
    assert_int_equal(kt_it_post_form(f->port, path, fields, &res), 422);
    char *text = json_dumps(res, 0);
    assert_non_null(strstr(text, "Unable to use a `SECRET` input/output as encryption is not configured"));
    assert_null(strstr(text, INPUT_PW));
    free(text);
    json_decref(res);
    ex = kt_it_get_execution(f->port, id);
    assert_string_equal(kt_it_state(ex), "PAUSED");
    json_decref(ex);
    char *down = wait_first(f, "down", 1500); /* the trigger had long fired by now: nothing was started */
    assert_null(down);
    free(id);
    free(up);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_secrets_are_used_and_masked, setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_a_missing_secret_fails_the_task, setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_error_messages_are_masked, setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_executor_renders_are_masked, setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_a_long_line_split_keeps_secrets_whole, setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_flow_trigger_seals_secret_inputs, setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_on_resume_secret_inputs_are_sealed, setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_secret_input_needs_a_key, setup_no_key, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_no_key_refuses_trigger_and_resume_secrets, setup_no_key, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
