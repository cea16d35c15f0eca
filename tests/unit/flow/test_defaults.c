/* Plugin defaults (flow/defaults.h): which plugins a default reaches, how its values merge (Kestra's
 * MapUtils.merge), forced versus not, flow versus configuration precedence, and the configuration check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/defaults.h"
#include "tests/unit/json_parse.h"

/* Asserts that v serialises (sorted keys, compact) to expect. */
static void assert_json(const json_t *v, const char *expect)
{
    char *got = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *want_j = parse(expect);
    char *want = json_dumps(want_j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    if (!got || strcmp(got, want))
        fail_msg("got %s\nwant %s", got ? got : "(null)", want);
    free(got);
    free(want);
    json_decref(want_j);
}

/* The flow after kt_defaults_apply(flow, global); the input must not change. */
static json_t *apply(const char *flow, const char *global)
{
    json_t *f = parse(flow), *g = global ? parse(global) : NULL;
    char *before = json_dumps(f, JSON_SORT_KEYS);
    json_t *out = kt_defaults_apply(f, g);
    assert_non_null(out);
    char *after = json_dumps(f, JSON_SORT_KEYS);
    assert_string_equal(before, after);
    free(before);
    free(after);
    json_decref(f);
    json_decref(g);
    return out;
}

static json_t *task(json_t *flow, const char *list, size_t i)
{
    return json_array_get(json_object_get(flow, list), i);
}

static void test_match(void **state)
{
    (void)state;
    assert_true(kt_defaults_match("io.kestra.plugin.core.log.Log", "io.kestra.plugin.core.log.Log"));
    assert_true(kt_defaults_match("io.kestra.plugin.scripts", "io.kestra.plugin.scripts.python.Script"));
    assert_true(kt_defaults_match("io.kestra.plugin.core.log", "io.kestra.plugin.core.log.Log"));
    assert_false(kt_defaults_match("io.kestra.plugin.core.log.Log", "io.kestra.plugin.core.log"));
    assert_false(kt_defaults_match("io.kestra.plugin.scripts.shell", "io.kestra.plugin.scripts.python.Script"));
    assert_false(kt_defaults_match(NULL, "x"));
    assert_false(kt_defaults_match("x", NULL));
}

static void test_merge(void **state)
{
    (void)state;
    json_t *under = parse("{\"a\":1,\"m\":{\"x\":1,\"y\":{\"p\":1}},\"l\":[1,2],\"k\":\"under\",\"n\":5,\"t\":{\"z\":1}}");
    json_t *over = parse("{\"b\":2,\"m\":{\"y\":{\"q\":2},\"z\":3},\"l\":[2,3],\"k\":\"over\",\"n\":null,\"t\":\"scalar\"}");
    json_t *m = kt_defaults_merge(under, over);
    /* maps merge at every depth, lists concatenate (the lower one first, duplicates kept as Kestra 0.21 does),
     * a null on top keeps the value below, a scalar on top replaces even a map */
    assert_json(m, "{\"a\":1,\"b\":2,\"m\":{\"x\":1,\"y\":{\"p\":1,\"q\":2},\"z\":3},\"l\":[1,2,2,3],\"k\":\"over\","
                   "\"n\":5,\"t\":\"scalar\"}");
    json_decref(m);
    assert_null(kt_defaults_merge(under, json_array_get(json_object_get(over, "l"), 0)));
    json_decref(under);
    json_decref(over);
}

static const char *LOG_FLOW_FMT = "{\"id\":\"f\",\"namespace\":\"n\",\"pluginDefaults\":%s,\"tasks\":["
                                  "{\"id\":\"bare\",\"type\":\"io.kestra.plugin.core.log.Log\"},"
                                  "{\"id\":\"own\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"own\"}]}";

static json_t *log_flow(const char *defaults, const char *global)
{
    char buf[2048];
    snprintf(buf, sizeof buf, LOG_FLOW_FMT, defaults);
    return apply(buf, global);
}

static void test_not_forced_and_forced(void **state)
{
    (void)state;
    json_t *out = log_flow("[{\"type\":\"io.kestra.plugin.core.log.Log\",\"values\":{\"message\":\"dflt\",\"level\":\"WARN\"}}]",
                           NULL);
    assert_json(task(out, "tasks", 0), "{\"id\":\"bare\",\"type\":\"io.kestra.plugin.core.log.Log\","
                                       "\"message\":\"dflt\",\"level\":\"WARN\"}");
    assert_json(task(out, "tasks", 1), "{\"id\":\"own\",\"type\":\"io.kestra.plugin.core.log.Log\","
                                       "\"message\":\"own\",\"level\":\"WARN\"}");
    /* the list itself is left as written */
    assert_json(json_object_get(out, "pluginDefaults"),
                "[{\"type\":\"io.kestra.plugin.core.log.Log\",\"values\":{\"message\":\"dflt\",\"level\":\"WARN\"}}]");
    json_decref(out);

    out = log_flow("[{\"type\":\"io.kestra.plugin.core.log\",\"forced\":true,\"values\":{\"message\":\"forced\"}}]", NULL);
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 0), "message")), "forced");
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 1), "message")), "forced");
    json_decref(out);
    /* Jackson reads "true" as true */
    out = log_flow("[{\"type\":\"io.kestra.plugin.core.log\",\"forced\":\"true\",\"values\":{\"message\":\"forced\"}}]",
                   NULL);
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 1), "message")), "forced");
    json_decref(out);
    /* another type, or a longer name than the plugin's, reaches nothing */
    out = log_flow("[{\"type\":\"io.kestra.plugin.core.log.LogX\",\"forced\":true,\"values\":{\"message\":\"x\"}},"
                   "{\"type\":\"io.kestra.plugin.scripts\",\"values\":{\"message\":\"y\"}}]",
                   NULL);
    assert_null(json_object_get(task(out, "tasks", 0), "message"));
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 1), "message")), "own");
    json_decref(out);
}

static void test_flow_before_config(void **state)
{
    (void)state;
    /* not forced: the task's own value, then the flow's default, then the configuration's */
    json_t *out = log_flow("[{\"type\":\"io.kestra.plugin.core.log.Log\",\"values\":{\"message\":\"flow\"}}]",
                           "[{\"type\":\"io.kestra.plugin.core.log.Log\",\"values\":{\"message\":\"conf\",\"level\":\"DEBUG\"}}]");
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 0), "message")), "flow");
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 1), "message")), "own");
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 0), "level")), "DEBUG");
    json_decref(out);
    /* forced on both sides: the flow's wins; forced configuration over a plain flow default */
    out = log_flow("[{\"type\":\"io.kestra.plugin.core.log.Log\",\"forced\":true,\"values\":{\"message\":\"flow\"}}]",
                   "[{\"type\":\"io.kestra.plugin.core.log.Log\",\"forced\":true,\"values\":{\"message\":\"conf\"}}]");
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 1), "message")), "flow");
    json_decref(out);
    out = log_flow("[{\"type\":\"io.kestra.plugin.core.log.Log\",\"values\":{\"message\":\"flow\"}}]",
                   "[{\"type\":\"io.kestra.plugin.core.log\",\"forced\":true,\"values\":{\"message\":\"conf\"}}]");
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 0), "message")), "conf");
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 1), "message")), "conf");
    json_decref(out);
    /* only the configuration */
    out = apply("{\"id\":\"f\",\"namespace\":\"n\",\"tasks\":[{\"id\":\"a\",\"type\":\"io.kestra.plugin.core.log.Log\"}]}",
                "[{\"type\":\"io.kestra.plugin.core.log.Log\",\"values\":{\"message\":\"conf\"}}]");
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 0), "message")), "conf");
    json_decref(out);
}

static void test_lists_and_maps(void **state)
{
    (void)state;
    const char *flow = "{\"id\":\"f\",\"namespace\":\"n\",\"pluginDefaults\":[%s],\"tasks\":[{\"id\":\"sh\","
                       "\"type\":\"io.kestra.plugin.scripts.shell.Commands\",\"commands\":[\"echo b\"],"
                       "\"env\":{\"B\":\"task\"}}]}";
    char buf[1024];
    snprintf(buf, sizeof buf, flow,
             "{\"type\":\"io.kestra.plugin.scripts\",\"values\":{\"commands\":[\"echo a\"],\"env\":{\"A\":\"d\",\"B\":\"d\"}}}");
    json_t *out = apply(buf, NULL);
    assert_json(json_object_get(task(out, "tasks", 0), "commands"), "[\"echo a\",\"echo b\"]");
    assert_json(json_object_get(task(out, "tasks", 0), "env"), "{\"A\":\"d\",\"B\":\"task\"}");
    json_decref(out);
    snprintf(buf, sizeof buf, flow,
             "{\"type\":\"io.kestra.plugin.scripts\",\"forced\":true,\"values\":{\"commands\":[\"echo a\"],"
             "\"env\":{\"A\":\"d\",\"B\":\"d\"}}}");
    out = apply(buf, NULL);
    assert_json(json_object_get(task(out, "tasks", 0), "commands"), "[\"echo b\",\"echo a\"]");
    assert_json(json_object_get(task(out, "tasks", 0), "env"), "{\"A\":\"d\",\"B\":\"d\"}");
    json_decref(out);
}

/* Every plugin-typed map at any depth: flowable children, errors, finally, triggers and their conditions, task
 * runners; but a default's own values are not visited again in the same pass. */
static void test_everywhere(void **state)
{
    (void)state;
    json_t *out = apply(
        "{\"id\":\"f\",\"namespace\":\"n\",\"pluginDefaults\":["
        "{\"type\":\"io.kestra.plugin.core.log.Log\",\"values\":{\"message\":\"m\"}},"
        "{\"type\":\"io.kestra.plugin.core.runner.Process\",\"values\":{\"marker\":1}},"
        "{\"type\":\"io.kestra.plugin.scripts.python.Commands\",\"values\":{\"taskRunner\":{\"type\":"
        "\"io.kestra.plugin.core.runner.Process\"}}},"
        "{\"type\":\"io.kestra.plugin.core.trigger.Schedule\",\"values\":{\"cron\":\"@daily\"}},"
        "{\"type\":\"io.kestra.plugin.core.condition\",\"values\":{\"namespace\":\"n\"}}],"
        "\"tasks\":[{\"id\":\"p\",\"type\":\"io.kestra.plugin.core.flow.Parallel\",\"tasks\":["
        "{\"id\":\"a\",\"type\":\"io.kestra.plugin.core.log.Log\"}]},"
        "{\"id\":\"sh\",\"type\":\"io.kestra.plugin.scripts.shell.Commands\",\"commands\":[\"x\"],"
        "\"taskRunner\":{\"type\":\"io.kestra.plugin.core.runner.Process\"}},"
        "{\"id\":\"py\",\"type\":\"io.kestra.plugin.scripts.python.Commands\",\"commands\":[\"x\"]}],"
        "\"errors\":[{\"id\":\"e\",\"type\":\"io.kestra.plugin.core.log.Log\"}],"
        "\"finally\":[{\"id\":\"z\",\"type\":\"io.kestra.plugin.core.log.Log\"}],"
        "\"triggers\":[{\"id\":\"t\",\"type\":\"io.kestra.plugin.core.trigger.Schedule\",\"conditions\":["
        "{\"type\":\"io.kestra.plugin.core.condition.ExecutionFlow\",\"flowId\":\"x\"}]}]}",
        NULL);
    assert_string_equal(json_string_value(json_object_get(task(task(out, "tasks", 0), "tasks", 0), "message")), "m");
    assert_null(json_object_get(task(out, "tasks", 0), "message")); /* Parallel is not a Log */
    assert_string_equal(json_string_value(json_object_get(task(out, "errors", 0), "message")), "m");
    assert_string_equal(json_string_value(json_object_get(task(out, "finally", 0), "message")), "m");
    assert_json(json_object_get(task(out, "tasks", 1), "taskRunner"),
                "{\"type\":\"io.kestra.plugin.core.runner.Process\",\"marker\":1}");
    assert_json(json_object_get(task(out, "tasks", 2), "taskRunner"), "{\"type\":\"io.kestra.plugin.core.runner.Process\"}");
    json_t *trig = task(out, "triggers", 0);
    assert_string_equal(json_string_value(json_object_get(trig, "cron")), "@daily");
    assert_json(task(trig, "conditions", 0), "{\"type\":\"io.kestra.plugin.core.condition.ExecutionFlow\","
                                             "\"flowId\":\"x\",\"namespace\":\"n\"}");
    /* the defaults list is not a target: its entries did not get a message */
    assert_null(json_object_get(json_array_get(json_object_get(out, "pluginDefaults"), 0), "message"));
    json_decref(out);
}

static void test_legacy_names(void **state)
{
    (void)state;
    /* taskDefaults is the old name of the same list */
    json_t *out = apply("{\"id\":\"f\",\"namespace\":\"n\",\"taskDefaults\":[{\"type\":\"io.kestra.plugin.core.log.Log\","
                        "\"values\":{\"message\":\"legacy\"}}],\"tasks\":[{\"id\":\"a\",\"type\":\"io.kestra.plugin.core.log.Log\"}]}",
                        NULL);
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 0), "message")), "legacy");
    json_decref(out);
    /* both: the later key wins, as Jackson sets the same field twice */
    out = apply("{\"id\":\"f\",\"namespace\":\"n\",\"pluginDefaults\":[{\"type\":\"io.kestra.plugin.core.log.Log\","
                "\"values\":{\"message\":\"first\"}}],\"taskDefaults\":[{\"type\":\"io.kestra.plugin.core.log.Log\","
                "\"values\":{\"level\":\"WARN\"}}],\"tasks\":[{\"id\":\"a\",\"type\":\"io.kestra.plugin.core.log.Log\"}]}",
                NULL);
    assert_null(json_object_get(task(out, "tasks", 0), "message"));
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 0), "level")), "WARN");
    json_decref(out);
    /* a default named by a legacy alias reaches the canonical class too; a canonical default does not reach a
     * task written with the alias (Kestra compares the type strings as written) */
    out = apply("{\"id\":\"f\",\"namespace\":\"n\",\"pluginDefaults\":[{\"type\":\"io.kestra.core.tasks.log.Log\","
                "\"values\":{\"message\":\"alias\"}}],\"tasks\":[{\"id\":\"a\",\"type\":\"io.kestra.plugin.core.log.Log\"},"
                "{\"id\":\"b\",\"type\":\"io.kestra.core.tasks.log.Log\"}]}",
                NULL);
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 0), "message")), "alias");
    assert_string_equal(json_string_value(json_object_get(task(out, "tasks", 1), "message")), "alias");
    json_decref(out);
    out = apply("{\"id\":\"f\",\"namespace\":\"n\",\"pluginDefaults\":[{\"type\":\"io.kestra.plugin.core.log.Log\","
                "\"values\":{\"message\":\"canon\"}}],\"tasks\":[{\"id\":\"b\",\"type\":\"io.kestra.core.tasks.log.Log\"}]}",
                NULL);
    assert_null(json_object_get(task(out, "tasks", 0), "message"));
    json_decref(out);
}

static void test_no_defaults(void **state)
{
    (void)state;
    json_t *out = apply("{\"id\":\"f\",\"namespace\":\"n\",\"tasks\":[{\"id\":\"a\",\"type\":\"x.Y\"}]}", "[]");
    assert_json(out, "{\"id\":\"f\",\"namespace\":\"n\",\"tasks\":[{\"id\":\"a\",\"type\":\"x.Y\"}]}");
    json_decref(out);
    /* malformed entries (the flow validator reports them at save time) are skipped, never a crash */
    out = apply("{\"id\":\"f\",\"namespace\":\"n\",\"pluginDefaults\":[1,{\"type\":2,\"values\":{\"a\":1}},"
                "{\"type\":\"x\",\"values\":[1]}],\"tasks\":[{\"id\":\"a\",\"type\":\"x.Y\"}]}",
                NULL);
    assert_json(task(out, "tasks", 0), "{\"id\":\"a\",\"type\":\"x.Y\"}");
    json_decref(out);
}

static void check_case(const char *list, int rc, const char *path, const char *msg)
{
    json_t *l = parse(list);
    char p[128], e[256];
    assert_int_equal(kt_defaults_check(l, p, sizeof p, e, sizeof e), rc);
    assert_string_equal(p, path);
    if (msg)
        assert_string_equal(e, msg);
    json_decref(l);
}

static void test_check(void **state)
{
    (void)state;
    check_case("[]", 0, "", NULL);
    check_case("[{\"type\":\"io.kestra.plugin.scripts\",\"values\":{\"a\":{\"b\":[1]}},\"forced\":false}]", 0, "", NULL);
    check_case("{}", -1, "", "expected a list of {type, values, forced}");
    check_case("[{\"type\":\"a\",\"values\":{}},3]", -1, "[1]", "expected a map with type, values and forced");
    check_case("[{\"values\":{\"a\":1}}]", -1, "[0]", "No 'type' provided");
    check_case("[{\"type\":\"a\"}]", -1, "[0]", "No 'values' provided");
    check_case("[{\"type\":\"a\",\"values\":{\"k\":null}}]", -1, "[0].values.k", "No value provided for key 'k'");
    check_case("[{\"type\":\"a\",\"values\":{},\"force\":true}]", -1, "[0].force", NULL);
    check_case("[{\"type\":\"a\",\"values\":{},\"forced\":\"yes\"}]", -1, "[0].forced", "expected true or false");
    check_case("[{\"type\":[\"a\"],\"values\":{}}]", -1, "[0].type", NULL);
    check_case("[{\"type\":\"a\",\"values\":\"v\"}]", -1, "[0].values", "expected a map of property values");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),           cmocka_unit_test(test_merge),
        cmocka_unit_test(test_not_forced_and_forced), cmocka_unit_test(test_flow_before_config),
        cmocka_unit_test(test_lists_and_maps),  cmocka_unit_test(test_everywhere),
        cmocka_unit_test(test_legacy_names),    cmocka_unit_test(test_no_defaults),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
