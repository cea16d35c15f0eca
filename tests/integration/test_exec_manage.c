/* Execution routes that work on the stored execution (issue 11): DELETE /api/v1/executions/{id} (its rows, logs and
 * storage folder; deleteLogs=false keeps the logs; a running one is refused), POST …/{id}/labels (Kestra's merge,
 * system labels, a running execution refused), and FlowForExecution: GET …/{id}/flow, …/flows/{ns}/{flowId},
 * …/namespaces, …/namespaces/{ns}/flows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NS "io.kite.manage"

static const char *FLOW_SHAPES =
    "id: shapes\nnamespace: " NS "\nlabels:\n  team: a\n  env: dev\ninputs:\n  - id: who\n    type: STRING\n"
    "    defaults: me\ntasks:\n"
    "  - id: branch\n    type: io.kestra.plugin.core.flow.If\n    condition: \"{{ true }}\"\n    then:\n"
    "      - id: inner\n        type: io.kestra.plugin.core.log.Log\n        message: hi\n    else:\n"
    "      - id: other\n        type: io.kestra.plugin.core.debug.Return\n        format: x\n"
    "  - id: wait\n    type: io.kestra.plugin.core.flow.Pause\n    onResume:\n      - id: ok\n        type: BOOLEAN\n"
    "  - id: child\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: " NS "\n    flowId: files\n"
    "triggers:\n  - id: every\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: \"0 0 1 1 *\"\n    disabled: true\n";
static const char *FLOW_FILES =
    "id: files\nnamespace: " NS "\nlabels:\n  team: a\n  keep: yes\ntasks:\n"
    "  - id: say\n    type: io.kestra.plugin.core.log.Log\n    message: kept line\n"
    "  - id: sh\n    type: io.kestra.plugin.scripts.shell.Commands\n    taskRunner:\n"
    "      type: io.kestra.plugin.core.runner.Process\n    outputFiles:\n      - out.txt\n"
    "    commands:\n      - echo data > out.txt\n";
static const char *FLOW_DISABLED =
    "id: off\nnamespace: io.kite.manage.off\ndisabled: true\ntasks:\n"
    "  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n";

static char *start(int port, const char *id)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/" NS "/%s", id);
    json_t *e = NULL;
    assert_int_equal(kt_it_http_json("POST", port, path, NULL, NULL, &e), 200);
    char *eid = strdup(json_string_value(json_object_get(e, "id")));
    json_decref(e);
    return eid;
}

static const char *label(const json_t *ex, const char *key)
{
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(ex, "labels"), i, l) if (!strcmp(json_string_value(json_object_get(l, "key")), key))
        return json_string_value(json_object_get(l, "value"));
    return NULL;
}

static void test_flow_for_execution(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_FILES, NULL);
    kt_it_create_flow(f->port, FLOW_SHAPES, NULL);
    kt_it_create_flow(f->port, FLOW_DISABLED, NULL);
    json_t *fl = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/executions/flows/" NS "/shapes", NULL, NULL, &fl), 200);
    assert_string_equal(json_string_value(json_object_get(fl, "id")), "shapes");
    assert_int_equal(json_integer_value(json_object_get(fl, "revision")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(fl, "inputs"), 0), "id")), "who");
    json_t *tasks = json_object_get(fl, "tasks");
    assert_int_equal(json_array_size(tasks), 3);
    json_t *branch = json_array_get(tasks, 0);
    assert_string_equal(json_string_value(json_object_get(branch, "type")), "io.kestra.plugin.core.flow.If");
    json_t *kids = json_object_get(branch, "tasks"); /* then and else: every child */
    assert_int_equal(json_array_size(kids), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(kids, 0), "id")), "inner");
    assert_string_equal(json_string_value(json_object_get(json_array_get(kids, 1), "id")), "other");
    assert_null(json_object_get(json_array_get(kids, 0), "message")); /* only id and type */
    json_t *pause_inputs = json_object_get(json_array_get(tasks, 1), "inputs");
    assert_string_equal(json_string_value(json_object_get(json_array_get(pause_inputs, 0), "id")), "ok");
    json_t *sub = json_object_get(json_array_get(tasks, 2), "subflowId");
    assert_string_equal(json_string_value(json_object_get(sub, "flowId")), "files");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(fl, "triggers"), 0), "id")),
                        "every");
    assert_null(json_object_get(json_array_get(json_object_get(fl, "triggers"), 0), "cron"));
    json_decref(fl);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/executions/flows/" NS "/nope", NULL, NULL, &fl), 404);
    json_decref(fl);

    json_t *list = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/executions/namespaces", NULL, NULL, &list), 200);
    assert_int_equal(json_array_size(list), 1); /* the disabled flow's namespace is not listed */
    assert_string_equal(json_string_value(json_array_get(list, 0)), NS);
    json_decref(list);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/executions/namespaces/" NS "/flows", NULL, NULL, &list),
                     200);
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);

    /* an execution's flow is the revision it ran */
    char *id = start(f->port, "files");
    json_decref(kt_it_wait_execution(f->port, id, 30000));
    assert_int_equal(kt_it_http("PUT", f->port, "/api/v1/flows/" NS "/files", "application/x-yaml",
                                "id: files\nnamespace: " NS "\ntasks:\n  - id: only\n"
                                "    type: io.kestra.plugin.core.log.Log\n    message: v2\n", NULL), 200);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s/flow", id);
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &fl), 200);
    assert_int_equal(json_integer_value(json_object_get(fl, "revision")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(fl, "tasks"), 0), "id")), "say");
    json_decref(fl);
    free(id);
}

static void test_labels(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_FILES, NULL);
    kt_it_create_flow(f->port, FLOW_SHAPES, NULL);
    char *id = start(f->port, "files");
    json_t *done = kt_it_wait_execution(f->port, id, 30000);
    assert_string_equal(kt_it_state(done), "SUCCESS");
    json_decref(done);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s/labels", id);
    json_t *ex = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, path, "application/json",
                                     "[{\"key\":\"team\",\"value\":\"b\"},{\"key\":\"new\",\"value\":\"x\"}]", &ex), 200);
    assert_string_equal(label(ex, "team"), "b");
    assert_string_equal(label(ex, "keep"), "yes");
    assert_string_equal(label(ex, "new"), "x");
    json_decref(ex);
    ex = kt_it_get_execution(f->port, id); /* stored */
    assert_string_equal(label(ex, "team"), "b");
    assert_string_equal(label(ex, "new"), "x");
    json_decref(ex);
    /* a key given twice: the last value wins, once */
    assert_int_equal(kt_it_http_json("POST", f->port, path, "application/json",
                                     "[{\"key\":\"d\",\"value\":\"1\"},{\"key\":\"d\",\"value\":\"2\"}]", &ex), 200);
    assert_string_equal(label(ex, "d"), "2");
    size_t nd = 0, li;
    json_t *lv;
    json_array_foreach(json_object_get(ex, "labels"), li, lv) nd += !strcmp(json_string_value(json_object_get(lv, "key")), "d");
    assert_int_equal(nd, 1);
    json_decref(ex);
    assert_int_equal(kt_it_http_json("POST", f->port, path, "application/json",
                                     "[{\"key\":\"system.restarted\",\"value\":\"true\"}]", &ex), 422);
    assert_non_null(strstr(json_string_value(json_object_get(ex, "message")), "System labels can only be set by Kestra"));
    json_decref(ex);
    assert_int_equal(kt_it_http("POST", f->port, path, "application/json", "{\"key\":1}", NULL), 400);
    assert_int_equal(kt_it_http("POST", f->port, "/api/v1/executions/nope/labels", "application/json", "[]", NULL), 404);

    /* a paused execution is not terminated */
    char *paused = start(f->port, "shapes");
    json_decref(kt_it_wait_state(&f->server, f->port, paused, "PAUSED", 30000));
    snprintf(path, sizeof path, "/api/v1/executions/%s/labels", paused);
    char *body = NULL;
    assert_int_equal(kt_it_http("POST", f->port, path, "application/json", "[]", &body), 400);
    assert_string_equal(body, "The execution is not terminated");
    free(body);
    free(paused);
    free(id);
}

static void test_delete(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_FILES, NULL);
    kt_it_create_flow(f->port, FLOW_SHAPES, NULL);
    char *id = start(f->port, "files");
    json_t *done = kt_it_wait_execution(f->port, id, 30000);
    assert_string_equal(kt_it_state(done), "SUCCESS");
    json_decref(done);
    char root[256], path[256];
    snprintf(root, sizeof root, "io/kite/manage/files/executions/%s", id);
    assert_int_equal(kt_it_stored_kind(f->dir, root), 'd');
    snprintf(path, sizeof path, "/api/v1/executions/%s", id);
    assert_int_equal(kt_it_http("DELETE", f->port, path, NULL, NULL, NULL), 204);
    assert_int_equal(kt_it_http("GET", f->port, path, NULL, NULL, NULL), 404);
    assert_int_equal(kt_it_stored_kind(f->dir, root), 0);
    json_t *logs = NULL;
    snprintf(path, sizeof path, "/api/v1/logs/%s", id);
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &logs), 200);
    assert_int_equal(json_array_size(logs), 0);
    json_decref(logs);
    snprintf(path, sizeof path, "/api/v1/executions/%s", id);
    assert_int_equal(kt_it_http("DELETE", f->port, path, NULL, NULL, NULL), 404);
    free(id);

    /* deleteLogs=false&deleteStorage=false keep both */
    id = start(f->port, "files");
    json_decref(kt_it_wait_execution(f->port, id, 30000));
    snprintf(root, sizeof root, "io/kite/manage/files/executions/%s", id);
    snprintf(path, sizeof path, "/api/v1/executions/%s?deleteLogs=false&deleteStorage=false", id);
    assert_int_equal(kt_it_http("DELETE", f->port, path, NULL, NULL, NULL), 204);
    assert_int_equal(kt_it_stored_kind(f->dir, root), 'd');
    snprintf(path, sizeof path, "/api/v1/logs/%s", id);
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &logs), 200);
    assert_true(json_array_size(logs) > 0);
    json_decref(logs);
    free(id);

    /* a paused execution still belongs to the executor */
    char *paused = start(f->port, "shapes");
    json_decref(kt_it_wait_state(&f->server, f->port, paused, "PAUSED", 30000));
    snprintf(path, sizeof path, "/api/v1/executions/%s", paused);
    assert_int_equal(kt_it_http("DELETE", f->port, path, NULL, NULL, NULL), 409);
    json_t *still = kt_it_get_execution(f->port, paused);
    assert_non_null(still);
    json_decref(still);
    free(paused);
}

static void test_bulk(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_FILES, NULL);
    kt_it_create_flow(f->port, FLOW_SHAPES, NULL);
    char *ids[3];
    for (int i = 0; i < 3; i++) {
        ids[i] = start(f->port, "files");
        json_decref(kt_it_wait_execution(f->port, ids[i], 30000));
    }
    char *paused = start(f->port, "shapes");
    json_decref(kt_it_wait_state(&f->server, f->port, paused, "PAUSED", 30000));
    char body[512];

    /* labels by ids: one not terminated -> nothing written, every invalid one listed */
    snprintf(body, sizeof body,
             "{\"executionsId\":[\"%s\",\"%s\",\"nope\"],\"executionLabels\":[{\"key\":\"bulk\",\"value\":\"1\"}]}",
             ids[0], paused);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/labels/by-ids", "application/json", body,
                                     &res), 400);
    assert_string_equal(json_string_value(json_object_get(res, "message")), "invalid bulk set labels");
    assert_int_equal(json_array_size(json_object_get(res, "invalids")), 2);
    json_decref(res);
    json_t *ex = kt_it_get_execution(f->port, ids[0]);
    assert_null(label(ex, "bulk"));
    json_decref(ex);
    snprintf(body, sizeof body,
             "{\"executionsId\":[\"%s\",\"%s\"],\"executionLabels\":[{\"key\":\"bulk\",\"value\":\"1\"}]}",
             ids[0], ids[1]);
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/labels/by-ids", "application/json", body,
                                     &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 2);
    json_decref(res);
    ex = kt_it_get_execution(f->port, ids[1]);
    assert_string_equal(label(ex, "bulk"), "1");
    assert_string_equal(label(ex, "keep"), "yes");
    json_decref(ex);
    /* by query: the search's filters; the paused one makes it invalid */
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/labels/by-query?namespace=" NS,
                                     "application/json", "[{\"key\":\"q\",\"value\":\"2\"}]", &res), 400);
    json_decref(res);
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/labels/by-query?namespace=" NS "&flowId=files",
                                     "application/json", "[{\"key\":\"q\",\"value\":\"2\"}]", &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 3);
    json_decref(res);

    /* delete by ids: a missing one refuses the whole request */
    snprintf(body, sizeof body, "[\"%s\",\"nope\"]", ids[0]);
    assert_int_equal(kt_it_http_json("DELETE", f->port, "/api/v1/executions/by-ids", "application/json", body, &res),
                     400);
    assert_string_equal(json_string_value(json_object_get(res, "message")), "invalid bulk delete");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(res, "invalids"), 0),
                                                          "invalidValue")), "nope");
    json_decref(res);
    ex = kt_it_get_execution(f->port, ids[0]);
    assert_non_null(ex);
    json_decref(ex);
    snprintf(body, sizeof body, "[\"%s\"]", ids[0]);
    assert_int_equal(kt_it_http_json("DELETE", f->port, "/api/v1/executions/by-ids", "application/json", "[\"a\",", &res),
                     400); /* a broken body: where it broke */
    assert_non_null(strstr(json_string_value(json_object_get(res, "message")), "line 1, column"));
    json_decref(res);
    assert_int_equal(kt_it_http_json("DELETE", f->port, "/api/v1/executions/by-ids", "application/json", body, &res),
                     200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 1);
    json_decref(res);
    assert_null(kt_it_get_execution(f->port, ids[0]));
    /* by query, labels filter: the two left of the flow */
    assert_int_equal(kt_it_http_json("DELETE", f->port, "/api/v1/executions/by-query?labels=q:2", NULL, NULL, &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 2);
    json_decref(res);
    assert_null(kt_it_get_execution(f->port, ids[1]));
    assert_null(kt_it_get_execution(f->port, ids[2]));
    ex = kt_it_get_execution(f->port, paused);
    assert_non_null(ex);
    json_decref(ex);
    for (int i = 0; i < 3; i++)
        free(ids[i]);
    free(paused);
}

static void test_validate_inputs(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, "id: inputs\nnamespace: " NS "\ninputs:\n  - id: name\n    type: STRING\n"
                               "  - id: count\n    type: INT\n    defaults: 3\n  - id: doc\n    type: FILE\n"
                               "    required: false\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
                               "    message: hi\n", NULL);
    const char *bad[] = {"count", "many", NULL};
    json_t *res = NULL;
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/" NS "/inputs/validate", bad, &res), 200);
    assert_string_equal(json_string_value(json_object_get(res, "id")), "inputs");
    json_t *ins = json_object_get(res, "inputs");
    assert_int_equal(json_array_size(ins), 3);
    json_t *name = json_array_get(ins, 0), *count = json_array_get(ins, 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(name, "input"), "id")), "name");
    assert_int_equal(json_array_size(json_object_get(name, "errors")), 1); /* required, missing */
    assert_int_equal(json_array_size(json_object_get(count, "errors")), 1);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(json_object_get(count, "errors"), 0),
                                                             "message")), "count"));
    assert_true(json_is_true(json_object_get(count, "enabled")));
    json_decref(res);
    const char *good[] = {"name", "kite", "file:doc", "hello", NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/" NS "/inputs/validate", good, &res), 200);
    ins = json_object_get(res, "inputs");
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(json_array_size(json_object_get(json_array_get(ins, i), "errors")), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ins, 0), "value")), "kite");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ins, 1), "value")), 3); /* the default, typed */
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(ins, 2), "value")), "kestra:///"));
    json_decref(res);
    json_t *search = NULL; /* nothing was created */
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/executions/search?namespace=" NS, NULL, NULL, &search), 200);
    assert_int_equal(json_integer_value(json_object_get(search, "total")), 0);
    json_decref(search);
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/" NS "/nope/validate", good, &res), 404);
    json_decref(res);
}

static void test_bulk_kill_resume(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_FILES, NULL);
    kt_it_create_flow(f->port, FLOW_SHAPES, NULL);
    kt_it_create_flow(f->port, "id: slow\nnamespace: " NS "\ntasks:\n  - id: nap\n"
                               "    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT60S\n", NULL);
    char *p1 = start(f->port, "shapes"), *p2 = start(f->port, "shapes");
    json_decref(kt_it_wait_state(&f->server, f->port, p1, "PAUSED", 30000));
    json_decref(kt_it_wait_state(&f->server, f->port, p2, "PAUSED", 30000));
    /* resume/validate: the onResume inputs checked, nothing resumed */
    char vpath[256];
    snprintf(vpath, sizeof vpath, "/api/v1/executions/%s/resume/validate", p1);
    const char *bad[] = {"other", "x", NULL}, *good[] = {"ok", "true", NULL}; /* bad: the required one missing */
    json_t *v = NULL;
    assert_int_equal(kt_it_post_form(f->port, vpath, good, &v), 200);
    json_t *in0 = json_array_get(json_object_get(v, "inputs"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(in0, "input"), "id")), "ok");
    assert_true(json_is_true(json_object_get(in0, "value")));
    assert_int_equal(json_array_size(json_object_get(in0, "errors")), 0);
    json_decref(v);
    assert_int_equal(kt_it_post_form(f->port, vpath, bad, &v), 200);
    assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(v, "inputs"), 0), "errors")), 1);
    json_decref(v);
    v = kt_it_get_execution(f->port, p1);
    assert_string_equal(kt_it_state(v), "PAUSED");
    json_decref(v);
    char body[256];
    snprintf(body, sizeof body, "[\"%s\",\"%s\"]", p1, p2);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/resume/by-ids", "application/json", body,
                                     &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 2);
    json_decref(res);
    json_t *e1 = kt_it_wait_execution(f->port, p1, 30000), *e2 = kt_it_wait_execution(f->port, p2, 30000);
    assert_string_equal(kt_it_state(e1), "SUCCESS"); /* resumed, then its subflow ran */
    assert_string_equal(kt_it_state(e2), "SUCCESS");
    json_decref(e1);
    json_decref(e2);
    /* resuming them again: not paused any more */
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/resume/by-ids", "application/json", body,
                                     &res), 400);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(res, "invalids"), 0),
                                                          "message")), "execution not in state PAUSED");
    json_decref(res);

    char *s1 = start(f->port, "slow"), *s2 = start(f->port, "slow");
    json_decref(kt_it_wait_state(&f->server, f->port, s1, "RUNNING", 30000));
    json_decref(kt_it_wait_state(&f->server, f->port, s2, "RUNNING", 30000));
    assert_int_equal(kt_it_http_json("DELETE", f->port, "/api/v1/executions/kill/by-query?flowId=slow&state=RUNNING",
                                     NULL, NULL, &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 2);
    json_decref(res);
    e1 = kt_it_wait_execution(f->port, s1, 30000);
    e2 = kt_it_wait_execution(f->port, s2, 30000);
    assert_string_equal(kt_it_state(e1), "KILLED");
    assert_string_equal(kt_it_state(e2), "KILLED");
    json_decref(e1);
    json_decref(e2);
    snprintf(body, sizeof body, "[\"%s\"]", s1);
    assert_int_equal(kt_it_http_json("DELETE", f->port, "/api/v1/executions/kill/by-ids", "application/json", body,
                                     &res), 400);
    assert_string_equal(json_string_value(json_object_get(res, "message")), "invalid bulk kill");
    json_decref(res);
    free(p1);
    free(p2);
    free(s1);
    free(s2);
}

static void test_eval(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, "id: ev\nnamespace: " NS "\ninputs:\n  - id: who\n    type: STRING\n    defaults: kite\n"
                               "tasks:\n  - id: ret\n    type: io.kestra.plugin.core.debug.Return\n"
                               "    format: \"hello {{ inputs.who }}\"\n", NULL);
    char *id = start(f->port, "ev");
    json_t *ex = kt_it_wait_execution(f->port, id, 30000);
    const char *rid = json_string_value(json_object_get(kt_it_taskrun(ex, "ret"), "id"));
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s/eval/%s", id, rid);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, path, "text/plain",
                                     "{{ outputs.ret.value }} / {{ taskrun.id }} / {{ task.id }} / {{ inputs.who | upper }}",
                                     &res), 200);
    char want[256];
    snprintf(want, sizeof want, "hello kite / %s / ret / KITE", rid);
    assert_string_equal(json_string_value(json_object_get(res, "result")), want);
    json_decref(res);
    assert_int_equal(kt_it_http_json("POST", f->port, path, "text/plain", "{{ missing.thing }}", &res), 200);
    assert_null(json_object_get(res, "result"));
    assert_non_null(strstr(json_string_value(json_object_get(res, "error")), "missing"));
    json_decref(res);
    snprintf(path, sizeof path, "/api/v1/executions/%s/eval/nope", id);
    assert_int_equal(kt_it_http_json("POST", f->port, path, "text/plain", "{{ 1 }}", &res), 404);
    json_decref(res);
    json_decref(ex);
    free(id);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flow_for_execution, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_labels, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_delete, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_bulk, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_validate_inputs, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_bulk_kill_resume, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_eval, kt_it_setup, kt_it_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
