/* FilterItems and DeduplicateItems (actors/worker/tasks_items.c) on a real worker and a real local storage: Ion line
 * files, the template rendered per item with its fields, Kestra's outputs and behaviours on errors; and the
 * executor's render leaving those templates for the worker (KT_PF_RAW). */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/render.h"
#include "base/log.h"
#include "base/secrets.h"
#include "tests/unit/actors/worker_fixture.h"

#define ST "io.kestra.plugin.core.storage."
#define TR_PREFIX "kestra:///a/b/f/executions/x1/tasks/t1/"
#define ITEMS "{id:1, name:\"a\", value:null}\n{id:2, name:'b', value:3}\r\n{id:3, name:\"c\", value:null}"

/* Runs the task and checks its counters; returns the stored result (free it). */
static char *run_items(fixture *f, const char *type, const char *props, int64_t processed, int64_t dropped,
                       int64_t keys)
{
    probe p;
    run_task(f, type, props, "tr1", 1, &p);
    if (strcmp(p.state, "SUCCESS")) {
        size_t i;
        json_t *e;
        json_array_foreach(p.logs, i, e)
            print_message("%s\n", json_string_value(json_object_get(e, "message")));
        fail_msg("%s %s ended %s", type, props, p.state);
    }
    const char *uri = json_string_value(json_object_get(p.outputs, "uri"));
    assert_non_null(uri);
    assert_int_equal(strncmp(uri, TR_PREFIX "tr1/", strlen(TR_PREFIX "tr1/")), 0);
    assert_string_equal(uri + strlen(uri) - 4, ".ion");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "processedItemsTotal")), processed);
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "droppedItemsTotal")), dropped);
    if (keys >= 0)
        assert_int_equal(json_integer_value(json_object_get(p.outputs, "numKeys")), keys);
    else
        assert_null(json_object_get(p.outputs, "numKeys"));
    char *body = stored(f, uri);
    assert_int_equal(p.work_entries, 0);
    probe_clear(&p);
    return body;
}

static void test_filter(void **state)
{
    fixture *f = *state;
    put(f, "a/b/f/executions/x1/items.ion", ITEMS);
    char *b = run_items(f, ST "FilterItems",
                        "{\"from\":\"kestra:///a/b/f/executions/x1/items.ion\", \"filterCondition\":\" {{ value == null }}\"}",
                        3, 1, -1);
    assert_string_equal(b, "{id:1, name:\"a\", value:null}\n{id:3, name:\"c\", value:null}\n");
    free(b);
    b = run_items(f, "io.kestra.core.tasks.storages.FilterItems",
                  "{\"from\":\"kestra:///a/b/f/executions/x1/items.ion\", \"filterCondition\":\"{{ value == null }}\","
                  " \"filterType\":\"EXCLUDE\"}",
                  3, 2, -1);
    assert_string_equal(b, "{id:2, name:'b', value:3}\n");
    free(b);
    /* TruthUtils: "0", "-0", "" and "false" are false, anything else true */
    b = run_items(f, ST "FilterItems",
                  "{\"from\":\"kestra:///a/b/f/executions/x1/items.ion\", \"filterCondition\":\"{{ id - 2 }}\"}", 3, 1,
                  -1);
    assert_string_equal(b, "{id:1, name:\"a\", value:null}\n{id:3, name:\"c\", value:null}\n");
    free(b);
    /* a failing expression: FAIL stops, INCLUDE keeps, EXCLUDE drops */
    const char *bad = "{\"from\":\"kestra:///a/b/f/executions/x1/items.ion\", \"filterCondition\":\"{{ name | number }}\"";
    char props[400];
    snprintf(props, sizeof props, "%s, \"errorOrNullBehavior\":\"INCLUDE\"}", bad);
    b = run_items(f, ST "FilterItems", props, 3, 0, -1);
    assert_string_equal(b, "{id:1, name:\"a\", value:null}\n{id:2, name:'b', value:3}\n{id:3, name:\"c\", value:null}\n");
    free(b);
    snprintf(props, sizeof props, "%s, \"errorOrNullBehavior\":\"EXCLUDE\"}", bad);
    b = run_items(f, ST "FilterItems", props, 3, 3, -1);
    assert_string_equal(b, "");
    free(b);
    snprintf(props, sizeof props, "%s}", bad);
    probe p;
    run_task(f, ST "FilterItems", props, "tr2", 1, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(json_array_size(p.logs) >= 1);
    probe_clear(&p);
    /* not Ion structs: a failure whatever errorOrNullBehavior says */
    put(f, "a/b/f/executions/x1/bad.ion", "{id:1}\n[1, 2]\n");
    assert_failed(f, ST "FilterItems",
                  "{\"from\":\"kestra:///a/b/f/executions/x1/bad.ion\", \"filterCondition\":\"true\","
                  " \"errorOrNullBehavior\":\"INCLUDE\"}",
                  "cannot read the item `[1, 2]`");
    assert_failed(f, ST "FilterItems", "{\"from\":\"kestra:///a/b/f/executions/x1/items.ion\"}",
                  "filterCondition: must not be null");
    assert_failed(f, ST "FilterItems",
                  "{\"from\":\"kestra:///a/b/f/executions/x1/items.ion\", \"filterCondition\":\"x\", \"filterType\":\"BOTH\"}",
                  "filterType: 'BOTH' is not one of INCLUDE, EXCLUDE");
    assert_failed(f, ST "FilterItems", "{\"from\":\"kestra:///a/b/f/executions/x1/none.ion\", \"filterCondition\":\"x\"}",
                  "none.ion");
    assert_failed(f, ST "FilterItems", "{\"from\":\"http://x/items.ion\", \"filterCondition\":\"x\"}",
                  "Invalid internal storage scheme, got uri 'http://x/items.ion'");
}

static void test_dedup(void **state)
{
    fixture *f = *state;
    put(f, "a/b/f/executions/x1/d.ion", "{k:1,v:\"a\"}\n{k:2,v:\"b\"}\n{k:1,v:\"c\"}\n{k:3,v:\"d\"}\n{k:2,v:\"e\"}\n");
    /* the last item of each key stays, in the file's order */
    char *b = run_items(f, ST "DeduplicateItems", "{\"from\":\"kestra:///a/b/f/executions/x1/d.ion\", \"expr\":\"{{ k }}\"}",
                        5, 2, 3);
    assert_string_equal(b, "{k:1,v:\"c\"}\n{k:3,v:\"d\"}\n{k:2,v:\"e\"}\n");
    free(b);
    b = run_items(f, "io.kestra.core.tasks.storages.DeduplicateItems",
                  "{\"from\":\"kestra:///a/b/f/executions/x1/d.ion\", \"expr\":\"{{ k }}-{{ v }}\"}", 5, 0, 5);
    assert_string_equal(b, "{k:1,v:\"a\"}\n{k:2,v:\"b\"}\n{k:1,v:\"c\"}\n{k:3,v:\"d\"}\n{k:2,v:\"e\"}\n");
    free(b);
    b = run_items(f, ST "DeduplicateItems", "{\"from\":\"kestra:///a/b/f/executions/x1/d.ion\", \"expr\":\"same\"}", 5, 4,
                  1);
    assert_string_equal(b, "{k:2,v:\"e\"}\n");
    free(b);
    put(f, "a/b/f/executions/x1/e.ion", "");
    b = run_items(f, ST "DeduplicateItems", "{\"from\":\"kestra:///a/b/f/executions/x1/e.ion\", \"expr\":\"{{ k }}\"}", 0,
                  0, 0);
    assert_string_equal(b, "");
    free(b);
    assert_failed(f, ST "DeduplicateItems", "{\"from\":\"kestra:///a/b/f/executions/x1/d.ion\", \"expr\":\"{{ k | number('#') }\"}",
                  "");
    assert_failed(f, ST "DeduplicateItems", "{\"from\":\"kestra:///a/b/f/executions/x1/d.ion\"}", "expr: must not be null");
}

/* The executor renders `from` but leaves filterCondition and expr to the worker. */
static void test_executor_leaves_templates(void **state)
{
    (void)state;
    json_t *flow = parse("{\"id\":\"f\",\"namespace\":\"a.b\",\"tasks\":[]}");
    json_t *ex = parse("{\"id\":\"x1\",\"namespace\":\"a.b\",\"flowId\":\"f\",\"inputs\":{\"file\":\"kestra:///a/b/in.ion\"},"
                       "\"taskRunList\":[],\"state\":{\"current\":\"RUNNING\"}}");
    const char *types[] = {ST "FilterItems", "io.kestra.core.tasks.storages.FilterItems", ST "DeduplicateItems"};
    for (size_t i = 0; i < 3; i++) {
        json_t *task = json_pack("{s:s, s:s, s:s, s:s}", "id", "t", "type", types[i], "from", "{{ inputs.file }}",
                                 i < 2 ? "filterCondition" : "expr", i < 2 ? "{{ value == null }}" : "{{ key }}");
        char err[256] = "";
        json_t *out = kt_render_task(flow, NULL, NULL, ex, task, NULL, err, sizeof err);
        if (!out)
            fail_msg("render: %s", err);
        assert_string_equal(json_string_value(json_object_get(out, "from")), "kestra:///a/b/in.ion");
        if (i < 2)
            assert_string_equal(json_string_value(json_object_get(out, "filterCondition")), "{{ value == null }}");
        else
            assert_string_equal(json_string_value(json_object_get(out, "expr")), "{{ key }}");
        json_decref(out);
        json_decref(task);
    }
    json_decref(flow);
    json_decref(ex);
}

/* The templates render in the environment every worker render gets: secret() and `envs` work, and what secret()
 * returned is masked in the run's logs (the failure quoting it). */
static void test_secrets_and_envs(void **state)
{
    fixture *f = *state;
    char *envp[] = {"SECRET_WANTED=czNjcjN0", "ENV_TEAM=data", NULL}; /* s3cr3t */
    kt_secrets *sec = kt_secrets_new(envp, NULL, NULL, NULL);
    kt_secrets_install(sec);
    put(f, "a/b/f/executions/x1/s.ion", "{id:1, name:\"s3cr3t\"}\n{id:2, name:\"other\"}\n");
    char *b = run_items(f, ST "FilterItems",
                        "{\"from\":\"kestra:///a/b/f/executions/x1/s.ion\", \"filterCondition\":"
                        "\"{{ name == secret('WANTED') }}\"}",
                        2, 1, -1);
    assert_string_equal(b, "{id:1, name:\"s3cr3t\"}\n");
    free(b);
    b = run_items(f, ST "DeduplicateItems",
                  "{\"from\":\"kestra:///a/b/f/executions/x1/s.ion\", \"expr\":\"{{ envs.team }}\"}", 2, 1, 1);
    assert_string_equal(b, "{id:2, name:\"other\"}\n");
    free(b);
    probe p;
    run_task(f, ST "FilterItems",
             "{\"from\":\"kestra:///a/b/f/executions/x1/s.ion\", \"filterCondition\":\"{{ secret('WANTED') | number }}\"}",
             "tr3", 1, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "****** is not a valid number"));
    size_t i;
    json_t *e;
    json_array_foreach(p.logs, i, e) assert_null(strstr(json_string_value(json_object_get(e, "message")), "s3cr3t"));
    probe_clear(&p);
    kt_secrets_install(NULL);
    kt_secrets_free(sec);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets_and_envs, setup, teardown),
        cmocka_unit_test(test_executor_leaves_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
