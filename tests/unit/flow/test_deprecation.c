/* Kestra's deprecation paths (FlowService.deprecationTraversal, its quirks kept) and flow warnings, on the flows of
 * FlowControllerTest (validateMultipleValidFlows.yaml, warningsAndInfos.yaml) and more. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "flow/deprecation.h"
#include "flow/yaml.h"

static json_t *load(const char *src)
{
    kt_diags d;
    kt_diags_init(&d);
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    assert_int_equal(kt_yaml_load(src, strlen(src), "t.yml", &docs, &n, &d), KT_OK);
    json_t *root = json_incref(kt_yaml_doc_root(docs[0]));
    kt_yaml_docs_free(docs, n);
    kt_diags_clear(&d);
    return root;
}

static void check_paths(const char *src, const char *want_json)
{
    json_t *flow = load(src), *got = kt_flow_deprecation_paths(flow), *want = json_loads(want_json, 0, NULL);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT);
        fail_msg("got %s, want %s", g, want_json);
    }
    json_decref(flow);
    json_decref(got);
    json_decref(want);
}

static void test_paths(void **state)
{
    (void)state;
    /* warningsAndInfos.yaml: Echo is deprecated, the alias is not */
    check_paths("id: w\nnamespace: n\ntasks:\n  - id: echo\n    type: io.kestra.plugin.core.debug.Echo\n"
                "    format: x\n  - id: alias\n    type: io.kestra.core.tasks.log.Log\n    message: m\n",
                "[\"tasks[0]\"]");
    /* the second flow of validateMultipleValidFlows.yaml: two Echo tasks */
    check_paths("id: s\nnamespace: v\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Echo\n    format: f\n"
                "  - id: b\n    type: io.kestra.plugin.core.debug.Echo\n    format: g\n",
                "[\"tasks[0]\",\"tasks[1]\"]");
    /* deprecated flow properties, a legacy alias of a deprecated class, an input's name, ENUM inputs */
    check_paths("id: f\nnamespace: n\ninputs:\n  - name: a\n    type: STRING\n  - id: b\n    type: ENUM\n"
                "    values: [x]\n  - id: c\n    type: MULTISELECT\n    options: [x]\n"
                "tasks:\n  - id: e\n    type: io.kestra.core.tasks.debugs.Echo\n    format: x\n"
                "listeners:\n  - tasks:\n      - id: l\n        type: io.kestra.plugin.core.log.Log\n        message: m\n",
                "[\"inputs[0].name\",\"inputs[1]\",\"inputs[2].options\",\"tasks[0]\",\"listeners\"]");
    /* nested lists: Kestra's path keeps only the last list (tasks[1] inside tasks[0]) */
    check_paths("id: f\nnamespace: n\ntasks:\n  - id: seq\n    type: io.kestra.plugin.core.flow.Sequential\n"
                "    tasks:\n      - id: ok\n        type: io.kestra.plugin.core.log.Log\n        message: m\n"
                "      - id: old\n        type: io.kestra.plugin.core.flow.EachSequential\n        value: [1]\n"
                "        tasks:\n          - id: p\n            type: io.kestra.plugin.core.flow.Pause\n"
                "            tasks: []\n",
                "[\"tasks[1]\",\"tasks[0].tasks\"]");
    /* trigger properties and conditions */
    check_paths("id: f\nnamespace: n\ntasks: []\ntriggers:\n  - id: s\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                "    cron: '* * * * *'\n    backfill: {}\n    scheduleConditions: []\n"
                "  - id: t\n    type: io.kestra.plugin.core.trigger.Flow\n    conditions:\n"
                "      - type: io.kestra.plugin.core.condition.FlowCondition\n        namespace: a\n        flowId: b\n",
                "[\"triggers[0].backfill\",\"triggers[0].scheduleConditions\",\"conditions[0]\"]");
    /* nothing deprecated */
    check_paths("id: f\nnamespace: n\ntasks:\n  - id: l\n    type: io.kestra.plugin.core.log.Log\n    message: m\n", "[]");
}

static void test_warnings(void **state)
{
    (void)state;
    json_t *flow = load("id: f\nnamespace: n\ntasks: []\ntriggers:\n  - id: every\n"
                        "    type: io.kestra.plugin.core.trigger.Flow\n  - id: filtered\n"
                        "    type: io.kestra.plugin.core.trigger.Flow\n    preconditions:\n      id: p\n"
                        "  - id: legacy\n    type: io.kestra.core.models.triggers.types.Flow\n    conditions: []\n"
                        "  - id: cond\n    type: io.kestra.plugin.core.trigger.Flow\n    conditions:\n"
                        "      - type: io.kestra.plugin.core.condition.ExecutionStatus\n        in: [SUCCESS]\n");
    json_t *w = kt_flow_warnings(flow);
    assert_int_equal(json_array_size(w), 2);
    assert_string_equal(json_string_value(json_array_get(w, 0)),
                        "This flow will be triggered for EVERY execution of EVERY flow on your instance. We recommend "
                        "adding the preconditions property to the Flow trigger 'every'.");
    assert_non_null(strstr(json_string_value(json_array_get(w, 1)), "'legacy'"));
    json_decref(w);
    json_decref(flow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_warnings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
