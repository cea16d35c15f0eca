/* Loop's values and items (flow/loop.c), and what the run context (flow/render.c) gives a task in a Loop iteration:
 * item.*, the iteration's isolation; and the `schedule` variable, present in 1.x run contexts and gone from 2.x ones
 * (Kestra 2.0 removed it for {{ trigger }}). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/loop.h"
#include "flow/model.h"
#include "flow/render.h"
#include "tests/unit/json_parse.h"

static void check_items(const char *values_json, const char *want_json)
{
    json_t *v = parse(values_json), *want = parse(want_json);
    char err[256] = "";
    json_t *items = kt_loop_items(v, err, sizeof err);
    if (!items)
        fail_msg("%s: %s", values_json, err);
    if (!json_equal(items, want)) {
        char *d = json_dumps(items, JSON_COMPACT);
        fail_msg("%s gave %s", values_json, d);
    }
    json_decref(items);
    json_decref(want);
    json_decref(v);
}

static void check_refused(const char *values_json, const char *part)
{
    json_t *v = parse(values_json);
    char err[256] = "";
    assert_null(kt_loop_items(v, err, sizeof err));
    if (!strstr(err, part))
        fail_msg("%s: '%s' does not say '%s'", values_json, err, part);
    json_decref(v);
}

/* A list, a map (keys kept, in order), a JSON string of either; non-strings coalesced to compact JSON. */
static void test_items(void **state)
{
    (void)state;
    check_items("[\"a\", 2, true, {\"k\": [1, 2]}]",
                "[{\"value\":\"a\",\"index\":0},{\"value\":\"2\",\"index\":1},{\"value\":\"true\",\"index\":2},"
                "{\"value\":\"{\\\"k\\\":[1,2]}\",\"index\":3}]");
    check_items("{\"b\": \"beta\", \"a\": 1}",
                "[{\"value\":\"beta\",\"index\":0,\"key\":\"b\"},{\"value\":\"1\",\"index\":1,\"key\":\"a\"}]");
    check_items("\"[\\\"x\\\", \\\"x\\\"]\"", "[{\"value\":\"x\",\"index\":0},{\"value\":\"x\",\"index\":1}]");
    check_items("\"{\\\"k\\\": \\\"v\\\"}\"", "[{\"value\":\"v\",\"index\":0,\"key\":\"k\"}]");
    check_items("[]", "[]");
    check_refused("[1, null]", "null value at index 1");
    check_refused("\"plain text\"", "Unable to parse 'plain text'");
    check_refused("42", "must be a list, a map");
    check_refused("null", "must be a list, a map");
}

/* A file: one item per non-empty line; Ion/JSON lines coalesced, other lines as they are. */
static void test_lines(void **state)
{
    (void)state;
    const char *data = "plain one\r\n{a: 1, b: \"x\"}\n\n\"quoted\"\n[1, 2]";
    char err[256] = "";
    json_t *items = kt_loop_items_of_lines(data, strlen(data), err, sizeof err);
    assert_non_null(items);
    json_t *want = parse("[{\"value\":\"plain one\",\"index\":0},{\"value\":\"{\\\"a\\\":1,\\\"b\\\":\\\"x\\\"}\","
                         "\"index\":1},{\"value\":\"quoted\",\"index\":2},{\"value\":\"[1,2]\",\"index\":3}]");
    if (!json_equal(items, want))
        fail_msg("lines gave %s", json_dumps(items, JSON_COMPACT));
    json_decref(want);
    json_decref(items);
    assert_null(kt_loop_items_of_lines("{broken\n", 8, err, sizeof err));
    assert_non_null(strstr(err, "line 1"));
    assert_true(kt_loop_values_is_uri("kestra:///a/b.ion"));
    assert_false(kt_loop_values_is_uri("[\"kestra://\"]"));
}

static void test_fetch_type(void **state)
{
    (void)state;
    json_t *t = parse("{}");
    assert_string_equal(kt_loop_fetch_type(t, 0), "FETCH");
    assert_string_equal(kt_loop_fetch_type(t, 1), "STORE"); /* AUTO: STORE for a URI */
    json_object_set_new(t, "fetchType", json_string("FETCH"));
    assert_string_equal(kt_loop_fetch_type(t, 1), "FETCH");
    json_object_set_new(t, "fetchType", json_string("STORE"));
    assert_string_equal(kt_loop_fetch_type(t, 0), "STORE");
    json_decref(t);
}

/* item.* at depth 2 (item.parent, item.parents[0]); the iteration's sibling runs seen without a value key, another
 * iteration's runs not seen; after the Loop, none of its runs. */
static void test_render_item_and_isolation(void **state)
{
    (void)state;
    json_t *ex = kt_execution_new("ex1", "company.team", "f", 1, NULL, NULL, NULL, INT64_C(1700000000000000));
    kt_taskrun_add(ex, "before", "before", NULL, NULL, 0);
    kt_taskrun_add(ex, "outer", "outer", NULL, NULL, 0);
    json_t *in0 = kt_taskrun_add(ex, "in0", "inner", "outer", "0", 0); /* outer iteration 0 */
    json_object_set_new(in0, "item", parse("{\"value\":\"b1\",\"index\":0}"));
    json_t *r0 = kt_taskrun_add(ex, "r0", "r", "outer", "0", 0);
    json_object_set_new(r0, "item", parse("{\"value\":\"b1\",\"index\":0}"));
    json_t *r1 = kt_taskrun_add(ex, "r1", "r", "outer", "1", 0);
    json_object_set_new(r1, "item", parse("{\"value\":\"b2\",\"index\":1}"));
    json_t *leaf = kt_taskrun_add(ex, "leaf", "leaf", "in0", "0", 0); /* inner iteration 0 */
    json_object_set_new(leaf, "item", parse("{\"value\":\"2025\",\"index\":0}"));
    json_object_set_new(json_array_get(json_object_get(ex, "taskRunList"), 0), "outputs", parse("{\"value\":\"B\"}"));
    json_object_set_new(r0, "outputs", parse("{\"value\":\"R0\"}"));
    json_object_set_new(r1, "outputs", parse("{\"value\":\"R1\"}"));
    kt_taskrun_add(ex, "after", "after", NULL, NULL, 0);
    json_t *flow = parse("{\"id\":\"f\",\"namespace\":\"company.team\",\"dialect\":\"2.x\"}");

    json_t *ctx = kt_render_context(flow, ex, NULL, leaf);
    json_t *item = json_object_get(ctx, "item");
    assert_string_equal(json_string_value(json_object_get(item, "value")), "2025");
    assert_string_equal(json_string_value(json_object_get(json_object_get(item, "parent"), "value")), "b1");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(item, "parents"), 0), "value")),
                        "b1");
    json_t *outs = json_object_get(ctx, "outputs");
    assert_string_equal(json_string_value(json_object_get(json_object_get(outs, "before"), "value")), "B");
    assert_string_equal(json_string_value(json_object_get(json_object_get(outs, "r"), "value")), "R0"); /* its own */
    json_decref(ctx);

    ctx = kt_render_context(flow, ex, NULL, r1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(ctx, "outputs"), "r"),
                                                          "value")),
                        "R1");
    assert_int_equal(json_array_size(json_object_get(json_object_get(ctx, "item"), "parents")), 0);
    json_decref(ctx);

    ctx = kt_render_context(flow, ex, NULL, json_array_get(json_object_get(ex, "taskRunList"), 6));
    assert_null(json_object_get(json_object_get(ctx, "outputs"), "r")); /* after the Loop */
    assert_null(json_object_get(ctx, "item"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(ctx, "taskrun"), "id")), "after");
    assert_non_null(json_object_get(json_object_get(ctx, "outputs"), "before"));
    json_decref(ctx);
    json_decref(flow);
    json_decref(ex);
}

/* A scheduled execution's `schedule` variable: in a 1.x flow's run context, not in a 2.x flow's. */
static void test_schedule_by_dialect(void **state)
{
    (void)state;
    json_t *ex = kt_execution_new("ex1", "company.team", "f", 1, NULL, NULL, NULL, INT64_C(1700000000000000));
    json_object_set_new(ex, "variables", parse("{\"schedule\":{\"date\":\"2026-01-01T00:00:00Z\"}}"));
    json_object_set_new(ex, "trigger", parse("{\"variables\":{\"date\":\"2026-01-01T00:00:00Z\"}}"));
    static const char *const dialects[] = {"1.x", "2.x"};
    for (int i = 0; i < 2; i++) {
        json_t *flow = json_pack("{s:s, s:s, s:s}", "id", "f", "namespace", "company.team", "dialect", dialects[i]);
        json_t *ctx = kt_render_context(flow, ex, NULL, NULL);
        if (i == 0)
            assert_string_equal(json_string_value(json_object_get(json_object_get(ctx, "schedule"), "date")),
                                "2026-01-01T00:00:00Z");
        else
            assert_null(json_object_get(ctx, "schedule"));
        assert_non_null(json_object_get(json_object_get(ctx, "trigger"), "date")); /* both: {{ trigger.date }} */
        json_decref(ctx);
        json_decref(flow);
    }
    json_decref(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_fetch_type),
        cmocka_unit_test(test_render_item_and_isolation),
        cmocka_unit_test(test_schedule_by_dialect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
