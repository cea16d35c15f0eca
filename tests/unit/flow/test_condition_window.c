/* Multiple conditions (flow/condition.h, KESTRA-execution.md §5.6, §5.8): legacy MultipleCondition entries and
 * preconditions normalized (ids condition_<n> / condition_<n>_<id>, time windows with their defaults and
 * Kestra's validation), the preconditions' sub-conditions and filters, the window results, and the windows
 * themselves in UTC, Europe/Paris and America/New_York, DST days included. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/condition.h"
#include "time/isodate.h"
#include "tests/unit/json_parse.h"

#define C "io.kestra.plugin.core.condition."

static int64_t at(const char *iso)
{
    int64_t us;
    char *why = NULL;
    if (kt_isodate_parse_instant(iso, &us, &why))
        fail_msg("bad instant %s", iso);
    return us;
}

static const char *fmt(int64_t us)
{
    static char buf[4][40];
    static int k;
    char *b = buf[k++ % 4];
    kt_isodate_format_instant(us, b, 40);
    return b;
}

/* ---- normalization ------------------------------------------------------------------------------- */

static json_t *multiples(const char *trigger, char *err, size_t cap)
{
    json_t *t = parse(trigger);
    err[0] = '\0';
    json_t *m = kt_cond_multiples(t, err, cap);
    json_decref(t);
    return m;
}

static void test_legacy_multiple(void **state)
{
    (void)state;
    char err[256];
    json_t *m = multiples("{\"id\": \"t\", \"type\": \"io.kestra.plugin.core.trigger.Flow\", \"conditions\": ["
                          " {\"type\": \"" C "ExecutionStatus\", \"in\": [\"SUCCESS\"]},"
                          " {\"id\": \"multiple\", \"type\": \"io.kestra.core.models.conditions.types.MultipleCondition\","
                          "  \"window\": \"PT6H\", \"windowAdvance\": \"PT3H\", \"conditions\": {"
                          "   \"a\": {\"type\": \"" C "ExecutionFlow\", \"namespace\": \"n\", \"flowId\": \"a\"}}}]}",
                          err, sizeof err);
    assert_non_null(m);
    assert_int_equal(json_array_size(m), 1);
    json_t *x = json_array_get(m, 0);
    assert_string_equal(json_string_value(json_object_get(x, "id")), "multiple");
    json_t *tw = json_object_get(x, "timeWindow");
    assert_string_equal(json_string_value(json_object_get(tw, "type")), "DURATION_WINDOW");
    assert_string_equal(json_string_value(json_object_get(tw, "window")), "PT6H");
    assert_string_equal(json_string_value(json_object_get(tw, "windowAdvance")), "PT3H");
    assert_true(json_is_true(json_object_get(x, "resetOnSuccess")));
    assert_non_null(json_object_get(json_object_get(x, "conditions"), "a"));
    json_decref(m);
    /* defaults: a day-long duration window; resetOnSuccess false kept */
    m = multiples("{\"conditions\": [{\"id\": \"m\", \"type\": \"" C "MultipleCondition\", \"resetOnSuccess\": false,"
                  " \"conditions\": {\"a\": {\"type\": \"" C "Weekend\"}}}]}", err, sizeof err);
    x = json_array_get(m, 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(x, "timeWindow"), "window")), "PT24H");
    assert_null(json_object_get(json_object_get(x, "timeWindow"), "windowAdvance"));
    assert_true(json_is_false(json_object_get(x, "resetOnSuccess")));
    json_decref(m);
    /* no multiple condition at all */
    m = multiples("{\"conditions\": [{\"type\": \"" C "Weekend\"}]}", err, sizeof err);
    assert_int_equal(json_array_size(m), 0);
    json_decref(m);
    /* errors */
    assert_null(multiples("{\"conditions\": [{\"type\": \"" C "MultipleCondition\", \"conditions\": {\"a\": {}}}]}", err,
                          sizeof err));
    assert_string_equal(err, "conditions[0].id: must not be null");
    assert_null(multiples("{\"conditions\": [{\"id\": \"-x\", \"type\": \"" C "MultipleCondition\","
                          " \"conditions\": {\"a\": {}}}]}", err, sizeof err));
    assert_non_null(strstr(err, "must match"));
    assert_null(multiples("{\"conditions\": [{\"id\": \"m\", \"type\": \"" C "MultipleCondition\", \"conditions\": {}}]}",
                          err, sizeof err));
    assert_string_equal(err, "conditions[0].conditions: must not be empty");
}

static void test_preconditions_ids(void **state)
{
    (void)state;
    char err[256];
    /* the acceptance flow flow-trigger-preconditions-flow-listen.yaml, plus a legacy entry before it */
    json_t *m = multiples(
        "{\"conditions\": [{\"id\": \"legacy\", \"type\": \"" C "MultipleCondition\", \"conditions\": {\"x\":"
        "  {\"type\": \"" C "Weekend\"}}}],"
        " \"preconditions\": {\"id\": \"flow\", \"flows\": ["
        "   {\"namespace\": \"io.kestra.tests.trigger.preconditions\", \"flowId\": \"flow-a\", \"states\": [\"SUCCESS\"]},"
        "   {\"namespace\": \"io.kestra.tests.trigger.preconditions\", \"flowId\": \"flow-b\"}],"
        "  \"where\": [{\"id\": \"flow1\", \"filters\": [{\"field\": \"NAMESPACE\", \"type\": \"STARTS_WITH\", \"value\": \"io\"}]},"
        "   {\"id\": \"flow2\", \"operand\": \"OR\", \"filters\": [{\"field\": \"STATE\", \"type\": \"IN\","
        "    \"values\": [\"SUCCESS\"]}]}],"
        "  \"timeWindow\": {\"type\": \"SLIDING_WINDOW\", \"window\": \"PT1H\"}, \"resetOnSuccess\": false}}",
        err, sizeof err);
    if (!m)
        fail_msg("%s", err);
    assert_int_equal(json_array_size(m), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "id")), "legacy");
    json_t *p = json_array_get(m, 1);
    assert_string_equal(json_string_value(json_object_get(p, "id")), "flow");
    assert_true(json_is_false(json_object_get(p, "resetOnSuccess")));
    json_t *subs = json_object_get(p, "conditions");
    assert_int_equal(json_object_size(subs), 4);
    json_t *c1 = json_object_get(subs, "condition_1"), *c2 = json_object_get(subs, "condition_2");
    json_t *c3 = json_object_get(subs, "condition_3_flow1"), *c4 = json_object_get(subs, "condition_4_flow2");
    assert_non_null(c1);
    assert_non_null(c2);
    assert_non_null(c3);
    assert_non_null(c4);
    assert_string_equal(json_string_value(json_object_get(c1, "type")), KT_COND_TYPE_UPSTREAM_FLOW);
    assert_string_equal(json_string_value(json_object_get(c1, "flowId")), "flow-a");
    assert_string_equal(json_string_value(json_object_get(c3, "type")), KT_COND_TYPE_FILTER);
    assert_string_equal(json_string_value(json_object_get(c3, "operand")), "AND");
    assert_string_equal(json_string_value(json_object_get(c4, "operand")), "OR");
    json_t *tw = json_object_get(p, "timeWindow");
    assert_string_equal(json_string_value(json_object_get(tw, "type")), "SLIDING_WINDOW");
    assert_string_equal(json_string_value(json_object_get(tw, "window")), "PT1H");
    json_decref(m);
    /* only where[]: numbering starts at 1 there */
    m = multiples("{\"preconditions\": {\"id\": \"p\", \"where\": [{\"id\": \"w\", \"filters\": [{\"field\": \"FLOW_ID\","
                  " \"type\": \"IS_NOT_NULL\", \"value\": \"x\"}]}]}}", err, sizeof err);
    assert_non_null(json_object_get(json_object_get(json_array_get(m, 0), "conditions"), "condition_1_w"));
    json_decref(m);
}

static void test_preconditions_errors(void **state)
{
    (void)state;
    static const struct {
        const char *trigger, *err;
    } cases[] = {
        {"{\"preconditions\": {\"flows\": [{\"namespace\": \"n\"}]}}", "preconditions.id: must not be null"},
        {"{\"preconditions\": {\"id\": \"p\", \"flows\": [{\"flowId\": \"f\"}]}}",
         "preconditions.flows[0].namespace: must not be null"},
        {"{\"preconditions\": {\"id\": \"p\", \"where\": [{\"id\": \"w\", \"filters\": [{\"field\": \"FLOW_ID\","
         " \"type\": \"EQUAL_TO\"}]}]}}",
         "preconditions.where[0].filters[0]: `value` cannot be null for type EQUAL_TO"},
        {"{\"preconditions\": {\"id\": \"p\", \"where\": [{\"id\": \"w\", \"filters\": [{\"field\": \"FLOW_ID\","
         " \"type\": \"IN\", \"value\": \"a\"}]}]}}",
         "preconditions.where[0].filters[0]: `value` must be null for type IN"},
        {"{\"preconditions\": {\"id\": \"p\", \"where\": [{\"id\": \"w\", \"filters\": [{\"field\": \"FLOW_ID\","
         " \"type\": \"EQUAL_TO\", \"value\": \"a\", \"values\": [\"a\"]}]}]}}",
         "`values` must be null for type EQUAL_TO"},
        {"{\"preconditions\": {\"id\": \"p\", \"where\": [{\"id\": \"w\", \"filters\": []}]}}",
         "preconditions.where[0].filters: must not be empty"},
        {"{\"preconditions\": {\"id\": \"p\", \"where\": [{\"id\": \"w\", \"filters\": [{\"field\": \"LABEL\","
         " \"type\": \"EQUAL_TO\", \"value\": \"a\"}]}]}}", "field: must be one of"},
        {"{\"preconditions\": {\"id\": \"p\", \"timeWindow\": {\"type\": \"DAILY_TIME_DEADLINE\"}}}",
         "Time window of type `DAILY_TIME_DEADLINE` must have a deadline."},
        {"{\"preconditions\": {\"id\": \"p\", \"timeWindow\": {\"type\": \"DAILY_TIME_WINDOW\", \"startTime\": \"06:00\"}}}",
         "Time window of type `DAILY_TIME_WINDOW` must have an end time."},
        {"{\"preconditions\": {\"id\": \"p\", \"timeWindow\": {\"type\": \"SLIDING_WINDOW\", \"windowAdvance\": \"PT1H\"}}}",
         "Time window of type `SLIDING_WINDOW` cannot have a window advance."},
        {"{\"preconditions\": {\"id\": \"p\", \"timeWindow\": {\"deadline\": \"09:00\"}}}",
         "Time window of type `DURATION_WINDOW` cannot have a deadline."},
        {"{\"preconditions\": {\"id\": \"p\", \"timeWindow\": {\"type\": \"WEEKLY\"}}}", "timeWindow.type"},
        {"{\"preconditions\": {\"id\": \"p\", \"timeWindow\": {\"window\": \"1 day\"}}}", "not an ISO-8601 duration"},
        {"{\"preconditions\": {\"id\": \"p\", \"timeWindow\": {\"type\": \"DAILY_TIME_DEADLINE\", \"deadline\": \"9h\"}}}",
         "is not a time of day"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256];
        json_t *m = multiples(cases[i].trigger, err, sizeof err);
        if (m)
            fail_msg("case %zu should fail", i);
        if (!strstr(err, cases[i].err))
            fail_msg("case %zu: '%s' should contain '%s'", i, err, cases[i].err);
    }
}

/* ---- sub-conditions and results ------------------------------------------------------------------ */

static const char *const EXEC = "{\"id\": \"e\", \"namespace\": \"io.kestra.tests.trigger.preconditions\","
                                " \"flowId\": \"flow-a\", \"state\": {\"current\": \"WARNING\"},"
                                " \"labels\": [{\"key\": \"some\", \"value\": \"label\"}, {\"key\": \"n\", \"value\": \"3\"}]}";

static kt_cond_result sub(const char *cond, const json_t *ex)
{
    kt_env env;
    kt_env_init(&env, 0, 1);
    json_t *flow = parse("{\"id\": \"listen\", \"namespace\": \"io.kestra.tests\"}");
    kt_cond_ctx ctx = {flow, ex, NULL, NULL, &env};
    json_t *c = parse(cond);
    char err[256];
    kt_cond_result r = kt_cond_test(c, &ctx, err, sizeof err);
    json_decref(c);
    json_decref(flow);
    return r;
}

#define UP "{\"type\": \"" KT_COND_TYPE_UPSTREAM_FLOW "\", "
#define FILTER(field, type, extra)                                                                               \
    "{\"type\": \"" KT_COND_TYPE_FILTER "\", \"id\": \"w\", \"filters\": [{\"field\": \"" field "\", \"type\": \"" type \
    "\", " extra "}]}"

static void test_upstream_flow(void **state)
{
    (void)state;
    json_t *ex = parse(EXEC);
    assert_int_equal(sub(UP "\"namespace\": \"io.kestra.tests.trigger.preconditions\"}", ex), KT_COND_TRUE);
    assert_int_equal(sub(UP "\"namespace\": \"io.kestra.tests\"}", ex), KT_COND_FALSE);
    assert_int_equal(sub(UP "\"namespace\": \"io.kestra.tests.trigger.preconditions\", \"flowId\": \"flow-b\"}", ex),
                     KT_COND_FALSE);
    assert_int_equal(sub(UP "\"namespace\": \"io.kestra.tests.trigger.preconditions\", \"flowId\": \"flow-a\","
                            " \"states\": [\"SUCCESS\", \"WARNING\"]}", ex), KT_COND_TRUE);
    assert_int_equal(sub(UP "\"namespace\": \"io.kestra.tests.trigger.preconditions\", \"states\": [\"SUCCESS\"]}", ex),
                     KT_COND_FALSE);
    /* labels map, values stringified */
    assert_int_equal(sub(UP "\"namespace\": \"io.kestra.tests.trigger.preconditions\", \"labels\": {\"some\": \"label\","
                            " \"n\": 3}}", ex), KT_COND_TRUE);
    assert_int_equal(sub(UP "\"namespace\": \"io.kestra.tests.trigger.preconditions\", \"labels\": {\"some\": \"x\"}}", ex),
                     KT_COND_FALSE);
    assert_int_equal(sub(UP "\"namespace\": \"n\"}", NULL), KT_COND_ERROR);
    json_decref(ex);
}

static void test_filters(void **state)
{
    (void)state;
    json_t *ex = parse(EXEC);
    static const struct {
        const char *cond;
        kt_cond_result want;
    } cases[] = {
        {FILTER("FLOW_ID", "EQUAL_TO", "\"value\": \"flow-a\""), KT_COND_TRUE},
        {FILTER("FLOW_ID", "EQUAL_TO", "\"value\": \"flow-b\""), KT_COND_FALSE},
        {FILTER("FLOW_ID", "NOT_EQUAL_TO", "\"value\": \"flow-b\""), KT_COND_TRUE},
        {FILTER("STATE", "IN", "\"values\": [\"SUCCESS\", \"WARNING\"]"), KT_COND_TRUE},
        {FILTER("STATE", "NOT_IN", "\"values\": [\"SUCCESS\", \"WARNING\"]"), KT_COND_FALSE},
        {FILTER("NAMESPACE", "STARTS_WITH", "\"value\": \"io.kestra.tests.trigger\""), KT_COND_TRUE},
        {FILTER("NAMESPACE", "ENDS_WITH", "\"value\": \"trigger.preconditions\""), KT_COND_TRUE},
        {FILTER("NAMESPACE", "ENDS_WITH", "\"value\": \"trigger\""), KT_COND_FALSE},
        {FILTER("NAMESPACE", "CONTAINS", "\"value\": \"tests.trigger\""), KT_COND_TRUE},
        /* REGEX matches the whole value, as String.matches */
        {FILTER("FLOW_ID", "REGEX", "\"value\": \"flow-[ab]\""), KT_COND_TRUE},
        {FILTER("FLOW_ID", "REGEX", "\"value\": \"flow\""), KT_COND_FALSE},
        {FILTER("FLOW_ID", "REGEX", "\"value\": \"flow-(\""), KT_COND_ERROR},
        /* EXPRESSION: the rendered value; truthiness: false, 0, -0 and "" are false */
        {FILTER("EXPRESSION", "IS_TRUE", "\"value\": \"{{ labels.some == 'label' }}\""), KT_COND_TRUE},
        {FILTER("EXPRESSION", "IS_TRUE", "\"value\": \"{{ labels.some == 'other' }}\""), KT_COND_FALSE},
        {FILTER("EXPRESSION", "IS_FALSE", "\"value\": \"{{ 0 }}\""), KT_COND_TRUE},
        {FILTER("EXPRESSION", "IS_FALSE", "\"value\": \"-0\""), KT_COND_TRUE},
        {FILTER("EXPRESSION", "IS_TRUE", "\"value\": \"no\""), KT_COND_TRUE},
        {FILTER("EXPRESSION", "EQUAL_TO", "\"value\": \"literal\""), KT_COND_TRUE},
        {FILTER("EXPRESSION", "IS_TRUE", "\"value\": \"{{ nope.x }}\""), KT_COND_ERROR},
        {FILTER("FLOW_ID", "IS_NULL", "\"value\": \"x\""), KT_COND_FALSE},
        {FILTER("FLOW_ID", "IS_NOT_NULL", "\"value\": \"x\""), KT_COND_TRUE},
        {FILTER("FLOW_ID", "EQUAL_TO", "\"values\": [\"x\"]"), KT_COND_ERROR},
        /* operands */
        {"{\"type\": \"" KT_COND_TYPE_FILTER "\", \"id\": \"w\", \"filters\": [{\"field\": \"FLOW_ID\", \"type\": "
         "\"EQUAL_TO\", \"value\": \"flow-b\"}, {\"field\": \"STATE\", \"type\": \"EQUAL_TO\", \"value\": \"WARNING\"}]}",
         KT_COND_FALSE},
        {"{\"type\": \"" KT_COND_TYPE_FILTER "\", \"id\": \"w\", \"operand\": \"OR\", \"filters\": [{\"field\": "
         "\"FLOW_ID\", \"type\": \"EQUAL_TO\", \"value\": \"flow-b\"}, {\"field\": \"STATE\", \"type\": \"EQUAL_TO\","
         " \"value\": \"WARNING\"}]}",
         KT_COND_TRUE},
        {"{\"type\": \"" KT_COND_TYPE_FILTER "\", \"id\": \"w\", \"operand\": \"OR\", \"filters\": [{\"field\": "
         "\"FLOW_ID\", \"type\": \"EQUAL_TO\", \"value\": \"flow-b\"}]}",
         KT_COND_FALSE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kt_cond_result r = sub(cases[i].cond, ex);
        if (r != cases[i].want)
            fail_msg("case %zu: %d, want %d (%s)", i, r, cases[i].want, cases[i].cond);
    }
    assert_int_equal(sub(FILTER("FLOW_ID", "EQUAL_TO", "\"value\": \"flow-a\""), NULL), KT_COND_ERROR);
    json_decref(ex);
}

static void test_results(void **state)
{
    (void)state;
    char err[256];
    json_t *m = multiples("{\"preconditions\": {\"id\": \"p\", \"flows\": ["
                          " {\"namespace\": \"ns\", \"flowId\": \"a\", \"states\": [\"SUCCESS\"]},"
                          " {\"namespace\": \"ns\", \"flowId\": \"b\"}]}}", err, sizeof err);
    json_t *p = json_array_get(m, 0);
    kt_env env;
    kt_env_init(&env, 0, 1);
    json_t *flow = parse("{\"id\": \"listen\", \"namespace\": \"ns\"}");
    json_t *a = parse("{\"namespace\": \"ns\", \"flowId\": \"a\", \"state\": {\"current\": \"SUCCESS\"}}");
    json_t *a_failed = parse("{\"namespace\": \"ns\", \"flowId\": \"a\", \"state\": {\"current\": \"FAILED\"}}");
    json_t *b = parse("{\"namespace\": \"ns\", \"flowId\": \"b\", \"state\": {\"current\": \"FAILED\"}}");
    json_t *results = json_object();
    kt_cond_ctx ctx = {flow, a_failed, NULL, NULL, &env};
    assert_int_equal(kt_cond_multiple_eval(p, &ctx, results), 0);
    assert_int_equal(json_object_size(results), 0);
    assert_false(kt_cond_multiple_holds(p, results));
    ctx.execution = a;
    assert_int_equal(kt_cond_multiple_eval(p, &ctx, results), 1);
    assert_true(json_is_true(json_object_get(results, "condition_1")));
    assert_false(kt_cond_multiple_holds(p, results));
    /* a later false evaluation never resets a true result */
    ctx.execution = a_failed;
    kt_cond_multiple_eval(p, &ctx, results);
    assert_true(json_is_true(json_object_get(results, "condition_1")));
    ctx.execution = b;
    assert_int_equal(kt_cond_multiple_eval(p, &ctx, results), 1);
    assert_true(kt_cond_multiple_holds(p, results));
    assert_false(kt_cond_multiple_holds(p, NULL));
    /* no execution: every sub-condition errs, which counts as false */
    ctx.execution = NULL;
    json_t *fresh = json_object();
    assert_int_equal(kt_cond_multiple_eval(p, &ctx, fresh), 0);
    json_decref(fresh);
    /* preconditions without flows nor where hold on any window */
    json_t *empty = multiples("{\"preconditions\": {\"id\": \"p\"}}", err, sizeof err);
    assert_true(kt_cond_multiple_holds(json_array_get(empty, 0), NULL));
    json_decref(empty);
    json_decref(results);
    json_decref(a);
    json_decref(a_failed);
    json_decref(b);
    json_decref(flow);
    json_decref(m);
}

/* ---- windows ------------------------------------------------------------------------------------- */

static void window_is(const char *tw, const char *now, const char *zone, const char *start, const char *end)
{
    char buf[512], err[256];
    snprintf(buf, sizeof buf, "{\"id\": \"m\", \"timeWindow\": %s, \"conditions\": {}}", tw);
    json_t *m = parse(buf);
    int64_t s = 0, e = 0;
    if (kt_cond_window(m, at(now), zone, &s, &e, err, sizeof err) != KT_OK)
        fail_msg("%s at %s: %s", tw, now, err);
    json_decref(m);
    if (s != at(start) || e != at(end))
        fail_msg("%s at %s in %s: [%s, %s], want [%s, %s]", tw, now, zone ? zone : "UTC", fmt(s), fmt(e), start, end);
}

static void test_duration_window(void **state)
{
    (void)state;
    const char *now = "2024-06-15T13:47:05.123456Z";
    /* a day or more: midnight; an hour or more: the hour; minutes: the slot of the hour; seconds: now */
    window_is("{\"type\": \"DURATION_WINDOW\"}", now, NULL, "2024-06-15T00:00:00Z", "2024-06-15T23:59:59.999Z");
    window_is("{\"window\": \"PT36H\"}", now, NULL, "2024-06-15T00:00:00Z", "2024-06-16T11:59:59.999Z");
    window_is("{\"window\": \"PT1H\"}", now, NULL, "2024-06-15T13:00:00Z", "2024-06-15T13:59:59.999Z");
    window_is("{\"window\": \"PT90M\"}", now, NULL, "2024-06-15T13:00:00Z", "2024-06-15T14:29:59.999Z");
    window_is("{\"window\": \"PT10M\"}", now, NULL, "2024-06-15T13:40:00Z", "2024-06-15T13:49:59.999Z");
    window_is("{\"window\": \"PT15M\"}", now, NULL, "2024-06-15T13:45:00Z", "2024-06-15T13:59:59.999Z");
    window_is("{\"window\": \"PT30S\"}", now, NULL, "2024-06-15T13:47:05Z", "2024-06-15T13:47:34.999Z");
    /* windowAdvance shifts the start */
    window_is("{\"window\": \"P1D\", \"windowAdvance\": \"PT6H\"}", now, NULL, "2024-06-15T06:00:00Z",
              "2024-06-16T05:59:59.999Z");
    window_is("{\"window\": \"PT6H\", \"windowAdvance\": \"PT3H\"}", now, NULL, "2024-06-15T16:00:00Z",
              "2024-06-15T21:59:59.999Z");
    /* in Paris (CEST, +02:00) the day starts at 22:00 UTC the day before */
    window_is("{}", now, "Europe/Paris", "2024-06-14T22:00:00Z", "2024-06-15T21:59:59.999Z");
    window_is("{\"window\": \"PT1H\"}", now, "Asia/Kolkata", "2024-06-15T13:30:00Z", "2024-06-15T14:29:59.999Z");
}

static void test_dst_days(void **state)
{
    (void)state;
    /* Paris, 31 March 2024 (02:00 CET -> 03:00 CEST): midnight is +01:00, a day is 24 elapsed hours, so the
       window ends at 00:59:59.999 CEST the next day */
    const char *spring = "2024-03-31T10:17:42Z";
    window_is("{}", spring, "Europe/Paris", "2024-03-30T23:00:00Z", "2024-03-31T22:59:59.999Z");
    window_is("{\"window\": \"PT1H\"}", spring, "Europe/Paris", "2024-03-31T10:00:00Z", "2024-03-31T10:59:59.999Z");
    window_is("{\"type\": \"DAILY_TIME_WINDOW\", \"startTime\": \"06:00:00\", \"endTime\": \"09:00:00\"}", spring,
              "Europe/Paris", "2024-03-31T05:00:00Z", "2024-03-31T08:00:00Z");
    window_is("{\"type\": \"DAILY_TIME_DEADLINE\", \"deadline\": \"09:00\"}", spring, "Europe/Paris",
              "2024-03-30T23:00:00Z", "2024-03-31T08:00:00Z");
    /* 27 October 2024 (03:00 CEST -> 02:00 CET): midnight is +02:00; in the repeated hour the hour start keeps
       the offset in force */
    const char *autumn = "2024-10-27T12:00:00Z";
    window_is("{}", autumn, "Europe/Paris", "2024-10-26T22:00:00Z", "2024-10-27T21:59:59.999Z");
    window_is("{\"type\": \"DAILY_TIME_WINDOW\", \"startTime\": \"06:00\", \"endTime\": \"09:00\"}", autumn,
              "Europe/Paris", "2024-10-27T04:00:00Z", "2024-10-27T07:00:00Z");
    window_is("{\"window\": \"PT1H\"}", "2024-10-27T00:30:00Z", "Europe/Paris", "2024-10-27T00:00:00Z",
              "2024-10-27T00:59:59.999Z");
    window_is("{\"window\": \"PT1H\"}", "2024-10-27T01:30:00Z", "Europe/Paris", "2024-10-27T01:00:00Z",
              "2024-10-27T01:59:59.999Z");
    /* New York, 10 March 2024 (02:00 EST -> 03:00 EDT) */
    const char *ny = "2024-03-10T15:00:00Z";
    window_is("{}", ny, "America/New_York", "2024-03-10T05:00:00Z", "2024-03-11T04:59:59.999Z");
    window_is("{\"type\": \"DAILY_TIME_WINDOW\", \"startTime\": \"06:00:00\", \"endTime\": \"09:00:00\"}", ny,
              "America/New_York", "2024-03-10T11:00:00Z", "2024-03-10T14:00:00Z");
    /* the same instant an ordinary day later: 06:00 EDT */
    window_is("{\"type\": \"DAILY_TIME_WINDOW\", \"startTime\": \"06:00:00\", \"endTime\": \"09:00:00\"}",
              "2024-03-11T15:00:00Z", "America/New_York", "2024-03-11T10:00:00Z", "2024-03-11T13:00:00Z");
}

static void test_other_windows(void **state)
{
    (void)state;
    const char *now = "2024-06-15T13:47:05.900Z";
    window_is("{\"type\": \"SLIDING_WINDOW\", \"window\": \"PT2H\"}", now, NULL, "2024-06-15T13:47:05Z",
              "2024-06-15T15:47:05Z");
    window_is("{\"type\": \"SLIDING_WINDOW\"}", now, "Europe/Paris", "2024-06-15T13:47:05Z", "2024-06-16T13:47:05Z");
    window_is("{\"type\": \"DAILY_TIME_WINDOW\", \"startTime\": \"06:00:00\", \"endTime\": \"18:30:00\"}", now, NULL,
              "2024-06-15T06:00:00Z", "2024-06-15T18:30:00Z");
    window_is("{\"type\": \"DAILY_TIME_DEADLINE\", \"deadline\": \"09:00:00\"}", now, NULL, "2024-06-15T00:00:00Z",
              "2024-06-15T09:00:00Z");
    /* the normalized form of kt_cond_multiples works as is */
    char err[256];
    json_t *m = multiples("{\"preconditions\": {\"id\": \"p\", \"timeWindow\": {\"window\": \"PT10M\"}}}", err, sizeof err);
    int64_t s, e;
    assert_int_equal(kt_cond_window(json_array_get(m, 0), at(now), "UTC", &s, &e, err, sizeof err), KT_OK);
    assert_string_equal(fmt(s), "2024-06-15T13:40:00Z");
    assert_string_equal(fmt(e), "2024-06-15T13:49:59.999Z");
    assert_int_equal(kt_cond_window(json_array_get(m, 0), at(now), "Mars/Olympus", &s, &e, err, sizeof err), KT_EINVAL);
    assert_non_null(strstr(err, "Mars/Olympus"));
    json_decref(m);
    json_t *bad = parse("{\"timeWindow\": {\"type\": \"DAILY_TIME_WINDOW\", \"startTime\": \"06:00\"}}");
    assert_int_equal(kt_cond_window(bad, at(now), NULL, &s, &e, err, sizeof err), KT_EINVAL);
    json_decref(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_multiple), cmocka_unit_test(test_preconditions_ids),
        cmocka_unit_test(test_preconditions_errors), cmocka_unit_test(test_upstream_flow),
        cmocka_unit_test(test_filters),         cmocka_unit_test(test_results),
        cmocka_unit_test(test_duration_window), cmocka_unit_test(test_dst_days),
        cmocka_unit_test(test_other_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
