/* Plugin defaults at run time (KESTRA-model.md §2.3): a flow's pluginDefaults and the server's plugins.defaults
 * (--config FILE) reach Log, shell and python tasks, nested ones too; forced defaults win over the task's own
 * values, plain ones lose to them; the flow's defaults win over the configuration's; the stored source stays as
 * written. */
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

/* Configuration-level defaults: env for every scripts task (GREETING loses to the flow's default), a Log message
 * (loses to the flow's), a forced Log level that beats even a task's own, and a Webhook key. */
static const char *CONF = "plugins:\n"
                          "  defaults:\n"
                          "    - type: io.kestra.plugin.core.log.Log\n"
                          "      values:\n"
                          "        message: \"config message for {{ task.id }}\"\n"
                          "    - type: io.kestra.plugin.core.trigger.Webhook\n"
                          "      values:\n"
                          "        key: conf-key\n"
                          "    - type: io.kestra.plugin.scripts\n"
                          "      values:\n"
                          "        env:\n"
                          "          CONF: from-config\n"
                          "          GREETING: config-loses\n"
                          "    - type: io.kestra.plugin.core.log.Log\n"
                          "      forced: true\n"
                          "      values:\n"
                          "        level: WARN\n";

static const char *FLOW = "id: defaults\n"
                          "namespace: company.team\n"
                          "pluginDefaults:\n"
                          "  - type: io.kestra.plugin.core.log.Log\n"
                          "    values:\n"
                          "      message: \"default message for {{ task.id }}\"\n"
                          "  - type: io.kestra.plugin.scripts\n"
                          "    values:\n"
                          "      taskRunner:\n"
                          "        type: io.kestra.plugin.core.runner.Process\n"
                          "      env:\n"
                          "        GREETING: flow\n"
                          "  - type: io.kestra.plugin.scripts.shell.Commands\n"
                          "    values:\n"
                          "      commands:\n"
                          "        - echo \"first-$GREETING-$CONF\"\n"
                          "  - type: io.kestra.plugin.scripts.python.Script\n"
                          "    values:\n"
                          "      script: |\n"
                          "        import os\n"
                          "        print('py-' + os.environ['GREETING'] + '-' + os.environ.get('CONF', 'unset'))\n"
                          "        print('::{\"outputs\":{\"who\":\"' + os.environ['GREETING'] + '\"}}::')\n"
                          "  - type: io.kestra.plugin.core.debug.Return\n"
                          "    forced: true\n"
                          "    values:\n"
                          "      format: \"forced-{{ task.id }}\"\n"
                          "tasks:\n"
                          "  - id: log\n"
                          "    type: io.kestra.plugin.core.log.Log\n"
                          "  - id: own\n"
                          "    type: io.kestra.plugin.core.log.Log\n"
                          "    message: own message\n"
                          "    level: INFO\n"
                          "  - id: sh\n"
                          "    type: io.kestra.plugin.scripts.shell.Commands\n"
                          "    env:\n"
                          "      GREETING: task\n"
                          "    commands:\n"
                          "      - echo \"second-$GREETING\"\n"
                          "  - id: seq\n"
                          "    type: io.kestra.plugin.core.flow.Sequential\n"
                          "    tasks:\n"
                          "      - id: py\n"
                          "        type: io.kestra.plugin.scripts.python.Script\n"
                          "  - id: ret\n"
                          "    type: io.kestra.plugin.core.debug.Return\n"
                          "    format: own\n";

static const char *CONF_ONLY = "id: confonly\n"
                               "namespace: company.team\n"
                               "tasks:\n"
                               "  - id: hello\n"
                               "    type: io.kestra.plugin.core.log.Log\n";

/* The tasks and the Webhook trigger (no key: a default supplies it) of the flows named hook. */
#define HOOK_BODY \
    "tasks:\n" \
    "  - id: hello\n" \
    "    type: io.kestra.plugin.core.log.Log\n" \
    "    message: hooked\n" \
    "triggers:\n" \
    "  - id: wh\n" \
    "    type: io.kestra.plugin.core.trigger.Webhook\n"

static const char *HOOK = "id: hook\n"
                          "namespace: company.team\n" HOOK_BODY;

/* The server, with the configuration file DIR/kite.yml holding conf when conf is not NULL. */
static void start_server(fixture *f, const char *conf)
{
    char conf_path[300];
    snprintf(conf_path, sizeof conf_path, "%s/kite.yml", f->dir);
    const char *extra[] = {conf ? "--config" : NULL, conf_path, NULL};
    if (conf) {
        FILE *c = fopen(conf_path, "w");
        assert_non_null(c);
        fputs(conf, c);
        fclose(c);
    }
    f->server = kt_it_start_server(f->dir, "server", f->port, extra);
}

static void create_flow(fixture *f, const char *yaml)
{
    json_t *res = NULL;
    kt_it_create_flow(f->port, yaml, &res);
    /* Kestra shows the flow as written: the defaults are not folded into the source */
    assert_string_equal(json_string_value(json_object_get(res, "source")), yaml);
    json_decref(res);
}

/* Creates the flow and runs it to the end (wait=true); the ended execution. */
static json_t *run_flow(fixture *f, const char *yaml, const char *ns_id)
{
    create_flow(f, yaml);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s?wait=true", ns_id);
    const char *none[] = {NULL};
    json_t *ex = NULL;
    assert_int_equal(kt_it_post_form(f->port, path, none, &ex), 200);
    return ex;
}

/* The level of the log line `message` of task_id, or NULL when there is none. */
static const char *log_level(json_t *logs, const char *task_id, const char *message)
{
    size_t i;
    json_t *l;
    json_array_foreach(logs, i, l) {
        if (!strcmp(json_string_value(json_object_get(l, "taskId")), task_id) &&
            !strcmp(json_string_value(json_object_get(l, "message")), message))
            return json_string_value(json_object_get(l, "level"));
    }
    return NULL;
}

static json_t *logs_of(fixture *f, json_t *ex)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s", json_string_value(json_object_get(ex, "id")));
    json_t *logs = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &logs), 200);
    return logs;
}

static void test_flow_and_config_defaults(void **state)
{
    fixture *f = *state;
    start_server(f, CONF);
    json_t *ex = run_flow(f, FLOW, "company.team/defaults");
    if (strcmp(kt_it_state(ex), "SUCCESS")) {
        kt_it_dump_log(&f->server);
        char *d = json_dumps(ex, JSON_INDENT(1));
        fail_msg("execution not SUCCESS: %s", d);
    }
    json_t *logs = logs_of(f, ex);
    /* the message comes from the flow's default, rendered for this task; the level from the forced configuration
     * default, which also beats the task's own INFO */
    const char *lvl = log_level(logs, "log", "default message for log");
    assert_non_null(lvl);
    assert_string_equal(lvl, "WARN");
    lvl = log_level(logs, "own", "own message");
    assert_non_null(lvl);
    assert_string_equal(lvl, "WARN");
    assert_null(log_level(logs, "own", "default message for own"));
    /* shell: the default's command runs first (lists concatenate), the task's env wins over both defaults, the
     * configuration's CONF arrives */
    assert_non_null(log_level(logs, "sh", "first-task-from-config"));
    assert_non_null(log_level(logs, "sh", "second-task"));
    /* python, nested in a Sequential: the script comes from the flow default; GREETING from the flow beats the
     * configuration's */
    assert_non_null(log_level(logs, "py", "py-flow-from-config"));
    json_t *py = kt_it_taskrun(ex, "py");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(py, "outputs"), "vars"),
                                                          "who")), "flow");
    /* a forced flow default beats the task's own format */
    json_t *ret = kt_it_taskrun(ex, "ret");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ret, "outputs"), "value")), "forced-ret");
    json_decref(logs);
    json_decref(ex);

    /* a flow whose required message only the configuration supplies: saved (Kestra injects every default before
     * validating), and run with it */
    ex = run_flow(f, CONF_ONLY, "company.team/confonly");
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    logs = logs_of(f, ex);
    lvl = log_level(logs, "hello", "config message for hello");
    assert_non_null(lvl);
    assert_string_equal(lvl, "WARN");
    json_decref(logs);
    json_decref(ex);

    /* triggers too: the Webhook key comes from the configuration */
    create_flow(f, HOOK);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/webhook/company.team/hook/conf-key",
                                     "application/json", "{}", &res),
                     200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(res, "trigger"), "id")), "wh");
    json_decref(res);
}

/* Without a configuration: the flow's own defaults only (the Log that used to fail with "Invalid message type
 * 'null'"), the legacy taskDefaults name included. */
static void test_flow_defaults_only(void **state)
{
    fixture *f = *state;
    start_server(f, NULL);
    json_t *ex = run_flow(f, FLOW, "company.team/defaults");
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_t *logs = logs_of(f, ex);
    const char *lvl = log_level(logs, "log", "default message for log");
    assert_non_null(lvl);
    assert_string_equal(lvl, "INFO");
    assert_string_equal(log_level(logs, "own", "own message"), "INFO");
    /* $CONF is unset: the shell expands it to nothing */
    assert_non_null(log_level(logs, "sh", "first-task-"));
    assert_non_null(log_level(logs, "py", "py-flow-unset"));
    json_decref(logs);
    json_decref(ex);

    static const char *LEGACY = "id: legacy\n"
                                "namespace: company.team\n"
                                "taskDefaults:\n"
                                "  - type: io.kestra.core.tasks.log.Log\n"
                                "    values:\n"
                                "      message: legacy default\n"
                                "tasks:\n"
                                "  - id: hello\n"
                                "    type: io.kestra.plugin.core.log.Log\n";
    ex = run_flow(f, LEGACY, "company.team/legacy");
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    logs = logs_of(f, ex);
    assert_non_null(log_level(logs, "hello", "legacy default"));
    json_decref(logs);
    json_decref(ex);

    /* without the configuration nothing supplies the message (or the key): refused at save, as Kestra does */
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/flows", "application/x-yaml", CONF_ONLY, &res), 422);
    char *d = json_dumps(res, 0);
    assert_non_null(strstr(d, "tasks[0].message: must not be null"));
    free(d);
    json_decref(res);
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/flows", "application/x-yaml", HOOK, &res), 422);
    json_decref(res);

    /* a flow-level default reaches a trigger: the Webhook key */
    static const char *FLOW_HOOK = "id: hook\n"
                                   "namespace: company.team\n"
                                   "pluginDefaults:\n"
                                   "  - type: io.kestra.plugin.core.trigger\n"
                                   "    values:\n"
                                   "      key: flow-key-{{ flow.id }}\n" HOOK_BODY;
    create_flow(f, FLOW_HOOK);
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/webhook/company.team/hook/flow-key-hook",
                                     "application/json", "{}", &res),
                     200);
    char id[64];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    ex = kt_it_wait_execution(f->port, id, 10000);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_decref(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flow_and_config_defaults, kt_it_setup_dir, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_flow_defaults_only, kt_it_setup_dir, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
