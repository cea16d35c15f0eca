/* Flow parsing and validation: every acceptance flow is valid, except those using a type that does not run yet,
 * which are refused for exactly that; broken flows are rejected at the right place. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"
#include "flow/tasks.h"
#include "flow/yaml.h"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* The catalogue's list of the types a flow file uses that do not run yet ("" for none). */
static size_t unsupported_of(const char *src, size_t len, char *buf, size_t cap)
{
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    kt_diags dg;
    kt_diags_init(&dg);
    buf[0] = 0;
    size_t k = 0;
    if (kt_yaml_load(src, len, "f.yml", &docs, &n, &dg) == KT_OK && n == 1)
        k = kt_task_unsupported_in_flow(kt_yaml_doc_root(docs[0]), buf, cap);
    kt_yaml_docs_free(docs, n);
    kt_diags_clear(&dg);
    return k;
}

/* A flow using types that do not run yet must be refused for that alone: every diagnostic is "<kind> type 'T' is
 * not supported yet by Kite" on a `type`, for a T of the catalogue's list, and every T of the list is named. */
static void expect_refused_for(const char *path, const kt_diags *dg, const char *list)
{
    if (dg->count == 0)
        fail_msg("%s uses %s but was accepted", path, list);
    for (size_t k = 0; k < dg->count; k++) {
        const kt_diag *g = &dg->items[k];
        const char *q = strchr(g->message, '\''), *e = q ? strchr(q + 1, '\'') : NULL;
        size_t pl = strlen(g->path);
        if (!e || !strstr(e, "' is not supported yet by Kite") || pl < 5 || strcmp(g->path + pl - 5, ".type") ||
            g->line <= 0)
            fail_msg("%s: unexpected diagnostic %d:%d %s: %s", path, g->line, g->col, g->path, g->message);
        char type[256];
        snprintf(type, sizeof type, "%.*s", (int)(e - q - 1), q + 1);
        char *hit = strstr(list, type);
        if (!hit || (hit[strlen(type)] && hit[strlen(type)] != ','))
            fail_msg("%s: refuses %s, which is not in the catalogue's list (%s)", path, type, list);
    }
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", list);
    for (char *save = NULL, *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        int named = 0;
        for (size_t k = 0; k < dg->count; k++) {
            char want[300];
            snprintf(want, sizeof want, "'%s'", t);
            named |= strstr(dg->items[k].message, want) != NULL;
        }
        if (!named)
            fail_msg("%s: %s is in the catalogue's list but no diagnostic names it", path, t);
    }
}

static int validate_dir(const char *dir, int *count, int *refused)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (!(l > 4 && !strcmp(e->d_name + l - 4, ".yml")) && !(l > 5 && !strcmp(e->d_name + l - 5, ".yaml")))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t len = 0;
        char *src = read_file(path, &len);
        assert_non_null(src);
        kt_diags dg;
        kt_diags_init(&dg);
        kt_flow *f = NULL;
        kt_status st = kt_flow_parse(src, len, e->d_name, &f, &dg);
        char list[1024];
        if (unsupported_of(src, len, list, sizeof list)) {
            assert_int_equal(st, KT_EINVAL);
            assert_null(f);
            expect_refused_for(path, &dg, list);
            kt_diags_clear(&dg);
            free(src);
            (*refused)++;
            continue;
        }
        if (st != KT_OK) {
            char *m = kt_diags_format(&dg);
            fail_msg("%s rejected:\n%s", path, m ? m : "");
        }
        assert_non_null(kt_flow_id(f));
        assert_non_null(kt_flow_namespace(f));
        assert_true(json_array_size(kt_flow_tasks(f)) > 0);
        assert_true(json_is_false(json_object_get(kt_flow_json(f), "deleted")));
        kt_flow_free(f);
        kt_diags_clear(&dg);
        free(src);
        (*count)++;
    }
    closedir(d);
    return 0;
}

static void test_acceptance_flows(void **state)
{
    (void)state;
    char here[4096];
    snprintf(here, sizeof(here), "%s", __FILE__);
    char base[4096];
    snprintf(base, sizeof(base), "%s/../../../../shared/kestra-acceptance/flows", dirname(here));
    int count = 0, refused = 0;
    if (validate_dir(base, &count, &refused) < 0) {
        skip();
        return;
    }
    char derived[4200];
    snprintf(derived, sizeof(derived), "%s/derived", base);
    validate_dir(derived, &count, &refused);
    /* every file was seen; the refused ones (WaitFor, Template... today) stay a small part */
    assert_true(count + refused >= 100);
    assert_true(count >= 90);
}

/* Each broken flow must produce a diagnostic at line:col with this path and a message containing needle. */
static const struct bad_case {
    const char *name, *yaml;
    int line, col;
    const char *path, *needle;
} bad[] = {
    {"syntax", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: [x\n", 6, 1, "", "did not find expected"},
    {"unknown type", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.Nope\n", 5, 11, "tasks[0].type",
     "Invalid type: io.kestra.Nope"},
    {"missing type", "id: a\nnamespace: b\ntasks:\n  - id: t\n", 4, 5, "tasks[0].type", "Invalid type: <null>"},
    {"duplicate ids", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
                      "  - id: s\n    type: io.kestra.plugin.core.flow.Sequential\n    tasks:\n"
                      "      - id: t\n        type: io.kestra.plugin.core.debug.Return\n",
     9, 13, "tasks[1].tasks[0].id", "Duplicate task id with name [t]"},
    {"dup id in errors", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
                         "errors:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n",
     7, 9, "errors[0].id", "Duplicate task id"},
    {"bad flow id", "id: -a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n", 1, 5, "id",
     "must match"},
    {"bad namespace", "id: a\nnamespace: My.Ns\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n", 2, 12,
     "namespace", "must match"},
    {"bad task id", "id: a\nnamespace: b\ntasks:\n  - id: t.x\n    type: io.kestra.plugin.core.debug.Return\n", 4, 9,
     "tasks[0].id", "must match"},
    {"unknown property", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    formt: x\n",
     6, 5, "tasks[0].formt", "Unrecognized field \"formt\""},
    {"unknown flow property", "id: a\nnamespace: b\nwat: 1\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n",
     3, 1, "wat", "Unrecognized field"},
    /* Kestra 1.x's flow-level `finally` is a task list, checked as the others are */
    {"finally's tasks are checked", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
     "finally:\n  - id: f\n    type: io.kestra.plugin.core.debug.Return\n    formt: x\n", 9, 5, "finally[0].formt",
     "Unrecognized field"},
    {"missing required", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n", 4, 5,
     "tasks[0].message", "must not be null"},
    {"bad cron", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\ntriggers:\n"
                 "  - id: s\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: \"0 25 * * *\"\n",
     9, 11, "triggers[0].cron", "invalid cron expression '0 25 * * *'"},
    {"bad duration", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: 5 minutes\n",
     6, 15, "tasks[0].duration", "invalid duration"},
    {"bad timeout", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    timeout: PT1Y\n",
     6, 14, "tasks[0].timeout", "invalid duration"},
    {"no tasks", "id: a\nnamespace: b\ntasks: []\n", 3, 8, "tasks", "must not be empty"},
    {"tasks missing", "id: a\nnamespace: b\n", 1, 1, "tasks", "must not be null"},
    {"duplicate key", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    id: u\n",
     6, 5, "tasks[0].id", "Duplicate field 'id'"},
    {"bad input type", "id: a\nnamespace: b\ninputs:\n  - id: i\n    type: NUMBER\ntasks:\n  - id: t\n"
                       "    type: io.kestra.plugin.core.debug.Return\n",
     5, 11, "inputs[0].type", "Invalid type: NUMBER"},
    {"bad input default", "id: a\nnamespace: b\ninputs:\n  - id: i\n    type: INT\n    defaults: x\ntasks:\n  - id: t\n"
                          "    type: io.kestra.plugin.core.debug.Return\n",
     6, 15, "inputs[0].defaults", "For input string: \"x\""},
    {"nested errors", "id: a\nnamespace: b\ntasks:\n  - id: s\n    type: io.kestra.plugin.core.flow.Sequential\n"
                      "    tasks:\n      - id: t\n        type: io.kestra.plugin.core.debug.Return\n    errors:\n"
                      "      - id: e\n        type: io.kestra.plugin.core.log.Log\n        level: LOUD\n        message: x\n",
     12, 16, "tasks[0].errors[0].level", "LOUD"},
    {"bad retry", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    retry:\n"
                  "      type: sometimes\n",
     7, 13, "tasks[0].retry.type", "Invalid type: sometimes"},
    {"dag cycle", "id: a\nnamespace: b\ntasks:\n  - id: d\n    type: io.kestra.plugin.core.flow.Dag\n    tasks:\n"
                  "      - task: {id: x, type: io.kestra.plugin.core.debug.Return}\n        dependsOn: [y]\n"
                  "      - task: {id: y, type: io.kestra.plugin.core.debug.Return}\n        dependsOn: [x]\n",
     7, 7, "tasks[0]", "Cyclic dependency detected: x, y"},
    {"switch empty", "id: a\nnamespace: b\ntasks:\n  - id: s\n    type: io.kestra.plugin.core.flow.Switch\n    value: x\n",
     4, 5, "tasks[0]", "No task defined"},
    {"recursive subflow", "id: a\nnamespace: b\ntasks:\n  - id: s\n    type: io.kestra.plugin.core.flow.Subflow\n"
                          "    namespace: b\n    flowId: a\n",
     4, 5, "tasks[0]", "Recursive call to flow [b.a]"},
    {"bad label", "id: a\nnamespace: b\nlabels:\n  k: [1]\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n",
     4, 6, "labels.k", "Unsupported type for key: k"},
    {"two documents", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n---\nid: c\n",
     7, 1, "", "exactly one YAML document"},
    {"bad condition", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\ntriggers:\n"
                      "  - id: f\n    type: io.kestra.plugin.core.trigger.Flow\n    conditions:\n"
                      "      - type: io.kestra.plugin.core.condition.ExecutionStatus\n        in: [DONE]\n",
     11, 14, "triggers[0].conditions[0].in[0]", "DONE"},
    {"bad task runner", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.scripts.shell.Commands\n"
                        "    commands: [ls]\n    taskRunner:\n      type: io.kestra.plugin.ee.Kubernetes\n",
     8, 13, "tasks[0].taskRunner.type", "Invalid type"},
    {"wrong value type", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.flow.Parallel\n"
                         "    concurrent: many\n    tasks:\n      - id: u\n        type: io.kestra.plugin.core.debug.Return\n",
     6, 17, "tasks[0].concurrent", "must be an integer"},
    /* types the catalogue says do not run yet (KT_SUPPORT_NOT_YET), wherever the flow holds them */
    {"not yet: state.Set", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.state.Set\n"
                           "    name: s\n",
     5, 11, "tasks[0].type", "task type 'io.kestra.plugin.core.state.Set' is not supported yet by Kite"},
    {"not yet: an alias, named as written", "id: a\nnamespace: b\ntasks:\n  - id: t\n"
                                            "    type: io.kestra.core.tasks.states.Set\n    name: s\n",
     5, 11, "tasks[0].type", "task type 'io.kestra.core.tasks.states.Set' is not supported yet by Kite"},
    {"WorkingDirectory: runnable children only", "id: a\nnamespace: b\ntasks:\n  - id: w\n"
                               "    type: io.kestra.core.tasks.flows.Worker\n    tasks:\n      - id: t\n"
                               "        type: io.kestra.plugin.core.flow.Sequential\n        tasks:\n          - id: u\n"
                               "            type: io.kestra.plugin.core.debug.Return\n",
     4, 5, "tasks[0]", "Only runnable tasks are allowed as children of a WorkingDirectory task"},
    {"WorkingDirectory: no worker group in children", "id: a\nnamespace: b\ntasks:\n  - id: w\n"
                               "    type: io.kestra.plugin.core.flow.WorkingDirectory\n    tasks:\n      - id: t\n"
                               "        type: io.kestra.plugin.core.debug.Return\n        workerGroup:\n          key: k\n",
     4, 5, "tasks[0]", "Cannot set a Worker Group in any WorkingDirectory sub-tasks, it is only supported at the "
                       "WorkingDirectory level"},
    {"not yet: in a then branch", "id: a\nnamespace: b\ntasks:\n  - id: i\n    type: io.kestra.plugin.core.flow.If\n"
                                  "    condition: \"true\"\n    then:\n      - id: k\n"
                                  "        type: io.kestra.plugin.core.state.Set\n        name: k\n",
     9, 15, "tasks[0].then[0].type", "task type 'io.kestra.plugin.core.state.Set' is not supported yet by Kite"},
    {"not yet: in a Switch case", "id: a\nnamespace: b\ntasks:\n  - id: s\n    type: io.kestra.plugin.core.flow.Switch\n"
                                  "    value: A\n    cases:\n      A:\n        - id: g\n"
                                  "          type: io.kestra.plugin.core.state.Get\n          name: k\n",
     10, 17, "tasks[0].cases.A[0].type", "task type 'io.kestra.plugin.core.state.Get' is not supported yet by Kite"},
    {"not yet: in a Dag", "id: a\nnamespace: b\ntasks:\n  - id: d\n    type: io.kestra.plugin.core.flow.Dag\n"
                          "    tasks:\n      - task:\n          id: x\n          type: io.kestra.plugin.core.state.Set\n"
                          "          name: n\n",
     9, 17, "tasks[0].tasks[0].task.type", "task type 'io.kestra.plugin.core.state.Set' is not supported yet by Kite"},
    {"not yet: in errors", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
                           "errors:\n  - id: e\n    type: io.kestra.plugin.core.state.Delete\n    name: k\n",
     8, 11, "errors[0].type", "task type 'io.kestra.plugin.core.state.Delete' is not supported yet by Kite"},
    {"not yet: in a listener", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
                               "listeners:\n  - tasks:\n      - id: l\n        type: io.kestra.plugin.core.state.Get\n"
                               "        name: s\n",
     9, 15, "listeners[0].tasks[0].type", "task type 'io.kestra.plugin.core.state.Get' is not supported yet"},
    {"not yet: Docker task runner", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.scripts.shell.Commands\n"
                                    "    commands: [ls]\n    taskRunner:\n      type: io.kestra.plugin.scripts.runner.docker.Docker\n",
     8, 13, "tasks[0].taskRunner.type",
     "task runner type 'io.kestra.plugin.scripts.runner.docker.Docker' is not supported yet by Kite"},
    {"not yet: Docker runner from pluginDefaults", "id: a\nnamespace: b\npluginDefaults:\n  - type: io.kestra.plugin.scripts.shell\n"
                                                  "    values:\n      taskRunner:\n"
                                                  "        type: io.kestra.plugin.scripts.runner.docker.Docker\n"
                                                  "tasks:\n  - id: t\n    type: io.kestra.plugin.scripts.shell.Commands\n"
                                                  "    commands: [ls]\n",
     9, 5, "tasks[0].taskRunner.type",
     "task runner type 'io.kestra.plugin.scripts.runner.docker.Docker' is not supported yet by Kite (set by plugin defaults)"},
#define HTTP_TRIGGER_FLOW                                                                                         \
    "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"                      \
    "triggers:\n  - id: d\n    type: io.kestra.plugin.core.http.Trigger\n"
    {"http.Trigger: not an http uri", HTTP_TRIGGER_FLOW "    uri: ftp://127.0.0.1/x\n", 9, 10, "triggers[0].uri",
     "uri: invalid URI 'ftp://127.0.0.1/x': an absolute http or https URI is expected"},
    {"http.Trigger: uri without a host", HTTP_TRIGGER_FLOW "    uri: 'http:///x'\n", 9, 10, "triggers[0].uri",
     "invalid URI 'http:///x'"},
    {"http.Trigger: uri with a space", HTTP_TRIGGER_FLOW "    uri: http://a b/\n", 9, 10, "triggers[0].uri",
     "invalid URI"},
    {"http.Trigger: uri missing", HTTP_TRIGGER_FLOW "    interval: PT1S\n", 7, 5, "triggers[0].uri", "must not be null"},
    {"http.Trigger: zero interval", HTTP_TRIGGER_FLOW "    uri: http://127.0.0.1/\n    interval: PT0S\n", 10, 15,
     "triggers[0].interval", "interval: must be a positive duration, got 'PT0S'"},
    {"http.Trigger: negative interval", HTTP_TRIGGER_FLOW "    uri: http://127.0.0.1/\n    interval: PT-5S\n", 10, 15,
     "triggers[0].interval", "must be a positive duration"},
    {"http.Trigger: interval not a duration", HTTP_TRIGGER_FLOW "    uri: http://127.0.0.1/\n    interval: soon\n", 10,
     15, "triggers[0].interval", "soon"},
    {"http.Trigger alias: bad uri", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
                                   "triggers:\n  - id: d\n    type: io.kestra.plugin.fs.http.Trigger\n    uri: localhost:80\n",
     9, 10, "triggers[0].uri", "invalid URI 'localhost:80'"},
};

static void test_broken_flows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kt_diags dg;
        kt_diags_init(&dg);
        kt_flow *f = NULL;
        kt_status st = kt_flow_parse(bad[i].yaml, strlen(bad[i].yaml), "bad.yml", &f, &dg);
        if (st != KT_EINVAL || f)
            fail_msg("%s: accepted (status %d)", bad[i].name, st);
        int found = 0;
        for (size_t k = 0; k < dg.count; k++) {
            const kt_diag *g = &dg.items[k];
            found |= g->line == bad[i].line && g->col == bad[i].col && !strcmp(g->path, bad[i].path) &&
                     strstr(g->message, bad[i].needle) != NULL;
        }
        if (!found) {
            char *m = kt_diags_format(&dg);
            fail_msg("%s: want %d:%d %s ~ '%s', got:\n%s", bad[i].name, bad[i].line, bad[i].col, bad[i].path,
                     bad[i].needle, m ? m : "");
        }
        kt_diags_clear(&dg);
    }
}

static void test_all_errors_in_one_pass(void **state)
{
    (void)state;
    const char *src = "id: a\nnamespace: b\ntasks:\n"
                      "  - id: t1\n    type: io.kestra.plugin.core.log.Log\n"           /* 4: missing message */
                      "  - id: t2\n    type: io.kestra.plugin.core.debug.Return\n    x: 1\n" /* 8: unknown */
                      "  - id: t1\n    type: io.kestra.plugin.core.debug.Return\n";      /* 9: duplicate */
    kt_diags dg;
    kt_diags_init(&dg);
    kt_flow *f;
    assert_int_equal(kt_flow_parse(src, strlen(src), "m.yml", &f, &dg), KT_EINVAL);
    assert_int_equal(dg.count, 3);
    assert_int_equal(dg.items[0].line, 4); /* sorted top to bottom */
    assert_int_equal(dg.items[1].line, 8);
    assert_int_equal(dg.items[2].line, 9);
    char *text = kt_diags_format(&dg);
    assert_non_null(strstr(text, "m.yml:8:5 tasks[1].x: Unrecognized field \"x\""));
    free(text);
    kt_diags_clear(&dg);
}

static void test_model_json(void **state)
{
    (void)state;
    const char *src = "id: hello\nnamespace: company.team\ndescription: hi\n"
                      "inputs:\n  - name: legacy\n    type: STRING\n    defaults: x\n"
                      "variables:\n  n: 5\n  s: \"5\"\n"
                      "tasks:\n  - id: t\n    type: io.kestra.core.tasks.log.Log\n    message: \"{{ vars.n }}\"\n";
    kt_diags dg;
    kt_diags_init(&dg);
    kt_flow *f = NULL;
    assert_int_equal(kt_flow_parse(src, strlen(src), "ok.yml", &f, &dg), KT_OK);
    assert_string_equal(kt_flow_id(f), "hello");
    assert_string_equal(kt_flow_namespace(f), "company.team");
    assert_int_equal(kt_flow_disabled(f), 0);
    const json_t *j = kt_flow_json(f);
    assert_true(json_is_false(json_object_get(j, "disabled")));
    assert_true(json_is_false(json_object_get(j, "deleted")));
    assert_string_equal(json_string_value(json_object_get(j, "description")), "hi");
    assert_true(json_is_integer(json_object_get(json_object_get(j, "variables"), "n")));
    assert_true(json_is_string(json_object_get(json_object_get(j, "variables"), "s")));
    const json_t *in0 = json_array_get(kt_flow_inputs(f), 0);
    assert_string_equal(json_string_value(json_object_get(in0, "id")), "legacy");
    const json_t *t0 = json_array_get(kt_flow_tasks(f), 0);
    assert_string_equal(json_string_value(json_object_get(t0, "type")), "io.kestra.core.tasks.log.Log"); /* as written */
    assert_null(json_object_get(j, "triggers"));
    kt_flow_free(f);

    const char *dis = "id: d\nnamespace: n\ndisabled: true\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n";
    assert_int_equal(kt_flow_parse(dis, strlen(dis), "d.yml", &f, &dg), KT_OK);
    assert_int_equal(kt_flow_disabled(f), 1);
    kt_flow_free(f);
    kt_diags_clear(&dg);
}

static void test_canonical_types(void **state)
{
    (void)state;
    static const struct { const char *in, *out; int kind; } cases[] = {
        {"io.kestra.core.tasks.log.Log", "io.kestra.plugin.core.log.Log", KT_PLUGIN_RUNNABLE},
        {"io.kestra.core.tasks.flows.Flow", "io.kestra.plugin.core.flow.Subflow", KT_PLUGIN_EXECUTABLE},
        {"io.kestra.core.tasks.flows.Worker", "io.kestra.plugin.core.flow.WorkingDirectory", KT_PLUGIN_FLOWABLE},
        {"io.kestra.core.tasks.storages.PurgeExecution", "io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles",
         KT_PLUGIN_RUNNABLE},
        {"io.kestra.plugin.core.storage.Purge", "io.kestra.plugin.core.execution.PurgeExecutions", KT_PLUGIN_RUNNABLE},
        {"io.kestra.core.tasks.executions.Counts", "io.kestra.plugin.core.execution.Count", KT_PLUGIN_RUNNABLE},
        {"io.kestra.plugin.fs.http.Request", "io.kestra.plugin.core.http.Request", KT_PLUGIN_RUNNABLE},
        {"io.kestra.core.models.triggers.types.Schedule", "io.kestra.plugin.core.trigger.Schedule", KT_PLUGIN_TRIGGER},
        {"io.kestra.core.models.conditions.types.VariableCondition", "io.kestra.plugin.core.condition.Expression",
         KT_PLUGIN_CONDITION},
        {"io.kestra.plugin.core.condition.ExecutionStatusCondition", "io.kestra.plugin.core.condition.ExecutionStatus",
         KT_PLUGIN_CONDITION},
        {"io.kestra.core.models.conditions.types.MultipleCondition", "io.kestra.plugin.core.condition.MultipleCondition",
         KT_PLUGIN_CONDITION},
        {"io.kestra.plugin.core.execution.Labels", "io.kestra.plugin.core.execution.Labels", KT_PLUGIN_EXEC_UPDATE},
        {"io.kestra.plugin.core.runner.Process", "io.kestra.plugin.core.runner.Process", KT_PLUGIN_TASK_RUNNER},
        {"io.kestra.plugin.scripts.python.Script", "io.kestra.plugin.scripts.python.Script", KT_PLUGIN_RUNNABLE},
        {"com.example.Unknown", "com.example.Unknown", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(kt_task_canonical_type(cases[i].in), cases[i].out);
        const kt_task_def *d = kt_task_lookup(cases[i].in);
        if (cases[i].kind < 0)
            assert_null(d);
        else
            assert_int_equal(d->kind, cases[i].kind);
    }
    assert_true(kt_task_lookup("io.kestra.plugin.core.flow.WorkingDirectory")->to_worker);
    assert_false(kt_task_lookup("io.kestra.plugin.core.flow.Parallel")->to_worker);
}

static void test_cron(void **state)
{
    (void)state;
    static const struct { const char *cron; int secs, ok; } cases[] = {
        {"* * * * *", 0, 1},       {"*/15 0-6 * * MON-FRI", 0, 1}, {"0 9 1,15 * ?", 0, 0},
        {"0 0 * JAN,jul 0", 0, 1}, {"@daily", 0, 1},               {"@hourly", 0, 1},
        {"0 0 * * 7", 0, 1},       {"*/5 * * * * *", 1, 1},        {"0 0 12 * * ?", 1, 0},
        {"60 * * * *", 0, 0},      {"* 24 * * *", 0, 0},           {"* * 0 * *", 0, 0},
        {"* * * 13 *", 0, 0},      {"* * * * 8", 0, 0},            {"* * * *", 0, 0},
        {"* * * * * *", 0, 0},     {"@often", 0, 0},               {"", 0, 0},
        {"5-1 * * * *", 0, 0},     {"*/0 * * * *", 0, 0},          {"? * * * *", 0, 0},
        {"* * * * *", 1, 0},       {"a * * * *", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char why[128];
        int rc = kt_flow_check_cron(cases[i].cron, cases[i].secs, why, sizeof(why));
        if ((rc == 0) != cases[i].ok)
            fail_msg("cron '%s' (secs %d): rc %d", cases[i].cron, cases[i].secs, rc);
    }
}

static void test_plugin_defaults_satisfy_required(void **state)
{
    (void)state;
    const char *src = "id: a\nnamespace: b\npluginDefaults:\n  - type: io.kestra.plugin.core.log\n"
                      "    values:\n      message: from defaults\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n";
    kt_diags dg;
    kt_diags_init(&dg);
    kt_flow *f = NULL;
    kt_status st = kt_flow_parse(src, strlen(src), "pd.yml", &f, &dg);
    if (st != KT_OK) {
        char *m = kt_diags_format(&dg);
        fail_msg("%s", m);
    }
    kt_flow_free(f);
    kt_diags_clear(&dg);
    /* the executor would not apply these (flow/defaults.h), so they cannot satisfy `message` at save time either:
     * a canonical default for a task written with its legacy alias (Kestra compares the type strings as written),
     * and pluginDefaults when a later taskDefaults replaces the list */
    static const char *const refused[] = {
        "id: a\nnamespace: b\npluginDefaults:\n  - type: io.kestra.plugin.core.log.Log\n"
        "    values:\n      message: m\ntasks:\n  - id: t\n    type: io.kestra.core.tasks.log.Log\n",
        "id: a\nnamespace: b\npluginDefaults:\n  - type: io.kestra.plugin.core.log.Log\n    values:\n      message: m\n"
        "taskDefaults:\n  - type: io.kestra.plugin.core.log.Log\n    values:\n      level: WARN\n"
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        assert_int_equal(kt_flow_parse(refused[i], strlen(refused[i]), "pd.yml", &f, &dg), KT_EINVAL);
        char *m = kt_diags_format(&dg);
        if (!strstr(m, "tasks[0].message: must not be null"))
            fail_msg("case %zu: %s", i, m);
        free(m);
        kt_diags_clear(&dg);
    }
    /* a default named by the alias reaches the canonical type */
    src = "id: a\nnamespace: b\ntaskDefaults:\n  - type: io.kestra.core.tasks.log.Log\n"
          "    values:\n      message: m\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n";
    assert_int_equal(kt_flow_parse(src, strlen(src), "pd.yml", &f, &dg), KT_OK);
    kt_flow_free(f);
    kt_diags_clear(&dg);
}

/* What runs stays accepted: the legacy name of a running task, the Process runner, a Webhook, and the Schedule and
 * Flow triggers the scheduler acts on. A pluginDefaults entry or a variable that
 * names a type that does not run yet is not a use of it. */
static void test_supported_types_accepted(void **state)
{
    (void)state;
    const char *src = "id: a\nnamespace: b\n"
                      "variables:\n  v: {type: io.kestra.plugin.core.http.Request}\n"
                      "pluginDefaults:\n  - type: io.kestra.plugin.core.http.Request\n    values:\n      method: GET\n"
                      "tasks:\n  - id: l\n    type: io.kestra.core.tasks.log.Log\n    message: hi\n"
                      "  - id: s\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: [\"true\"]\n"
                      "    taskRunner:\n      type: io.kestra.plugin.core.runner.Process\n"
                      "triggers:\n  - id: cron\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: \"0 * * * *\"\n"
                      "  - id: after\n    type: io.kestra.core.models.triggers.types.Flow\n    conditions:\n"
                      "      - type: io.kestra.plugin.core.condition.ExecutionStatus\n        in: [SUCCESS]\n"
                      "  - id: hook\n    type: io.kestra.plugin.core.trigger.Webhook\n    key: k\n";
    kt_diags dg;
    kt_diags_init(&dg);
    kt_flow *f = NULL;
    if (kt_flow_parse(src, strlen(src), "ok.yml", &f, &dg) != KT_OK) {
        char *m = kt_diags_format(&dg);
        fail_msg("refused:\n%s", m ? m : "");
    }
    char list[64] = "x";
    assert_int_equal(kt_task_unsupported_in_flow(kt_flow_json(f), list, sizeof list), 0);
    assert_string_equal(list, "");
    kt_flow_free(f);
    /* a default Docker runner under the task's own Process runner (not forced: the task's type wins) */
    src = "id: a\nnamespace: b\npluginDefaults:\n  - type: io.kestra.plugin.scripts\n    values:\n      taskRunner:\n"
          "        type: io.kestra.plugin.scripts.runner.docker.Docker\n"
          "tasks:\n  - id: s\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: [\"true\"]\n"
          "    taskRunner:\n      type: io.kestra.plugin.core.runner.Process\n";
    if (kt_flow_parse(src, strlen(src), "ok.yml", &f, &dg) != KT_OK) {
        char *m = kt_diags_format(&dg);
        fail_msg("refused:\n%s", m ? m : "");
    }
    kt_flow_free(f);
    kt_diags_clear(&dg);
}

/* The server's plugin defaults (configuration plugins.defaults) count too: the executor applies them as well. */
static void test_server_defaults_docker_runner(void **state)
{
    (void)state;
    json_t *conf = json_loads("[{\"type\": \"io.kestra.plugin.scripts\", \"values\": {\"taskRunner\": "
                              "{\"type\": \"io.kestra.plugin.scripts.runner.docker.Docker\"}}}]",
                              0, NULL);
    assert_non_null(conf);
    const char *src = "id: a\nnamespace: b\ntasks:\n  - id: l\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                      "  - id: s\n    type: io.kestra.plugin.scripts.python.Script\n    script: print(1)\n";
    kt_diags dg;
    kt_diags_init(&dg);
    kt_flow *f = NULL;
    assert_int_equal(kt_flow_parse(src, strlen(src), "s.yml", &f, &dg), KT_OK); /* no server defaults */
    kt_flow_free(f);
    assert_int_equal(kt_flow_parse_with_defaults(src, strlen(src), "s.yml", conf, &f, &dg), KT_EINVAL);
    assert_null(f);
    assert_int_equal(dg.count, 1);
    assert_string_equal(dg.items[0].path, "tasks[1].taskRunner.type");
    assert_int_equal(dg.items[0].line, 7);
    assert_int_equal(dg.items[0].col, 5);
    assert_string_equal(dg.items[0].message, "task runner type 'io.kestra.plugin.scripts.runner.docker.Docker' is not "
                                             "supported yet by Kite (set by plugin defaults)");
    kt_diags_clear(&dg);
    json_decref(conf);
}

/* kt_task_unsupported_in_flow: each type once, as written, in document order; the count even when buf is short. */
static void test_unsupported_list(void **state)
{
    (void)state;
    json_t *flow = json_loads(
        "{\"id\": \"a\", \"namespace\": \"b\", \"tasks\": ["
        " {\"id\": \"w\", \"type\": \"io.kestra.plugin.core.flow.Sequential\", \"tasks\": ["
        "  {\"id\": \"f\", \"type\": \"io.kestra.plugin.core.state.Get\"},"
        "  {\"id\": \"f2\", \"type\": \"io.kestra.plugin.core.flow.Template\"}]},"
        " {\"id\": \"r\", \"type\": \"io.kestra.core.tasks.states.Set\", \"name\": \"x\"},"
        " {\"id\": \"r2\", \"type\": \"io.kestra.core.tasks.states.Set\", \"name\": \"x\"},"
        " {\"id\": \"l\", \"type\": \"io.kestra.plugin.core.log.Log\", \"message\": \"x\"}],"
        " \"errors\": [{\"id\": \"e\", \"type\": \"io.kestra.plugin.core.state.Delete\", \"name\": \"x\"}],"
        " \"triggers\": [{\"id\": \"t\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"@daily\"}]}",
        0, NULL);
    assert_non_null(flow);
    char buf[256];
    assert_int_equal(kt_task_unsupported_in_flow(flow, buf, sizeof buf), 4);
    assert_string_equal(buf, "io.kestra.plugin.core.state.Get, io.kestra.plugin.core.flow.Template, "
                             "io.kestra.core.tasks.states.Set, io.kestra.plugin.core.state.Delete");
    char small[16];
    assert_int_equal(kt_task_unsupported_in_flow(flow, small, sizeof small), 4);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(kt_task_unsupported_in_flow(flow, NULL, 0), 4);
    json_decref(flow);
    assert_int_equal(kt_task_unsupported_in_flow(NULL, buf, sizeof buf), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acceptance_flows),        cmocka_unit_test(test_broken_flows),
        cmocka_unit_test(test_all_errors_in_one_pass),  cmocka_unit_test(test_model_json),
        cmocka_unit_test(test_canonical_types),         cmocka_unit_test(test_cron),
        cmocka_unit_test(test_plugin_defaults_satisfy_required),
        cmocka_unit_test(test_supported_types_accepted), cmocka_unit_test(test_unsupported_list),
        cmocka_unit_test(test_server_defaults_docker_runner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
