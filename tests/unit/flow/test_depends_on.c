/* Flow-trigger dependsOn / window / mode (flow/depends_on.h): the normalised multiple condition (entries keyed by
 * namespace + flowId whatever their order, each window group mapped to the preconditions' time window, the 2.0
 * default states), the windows they open (kt_cond_window, as the preconditions'), mode ALL / ANY / AT_LEAST on a
 * window's results, and the save-time refusals with their locations (combining window groups above all). The
 * scheduler's use of them, and the 1.x/2.x equivalence, is tests/unit/actors/test_sch_depends_on.c's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/condition.h"
#include "flow/depends_on.h"
#include "flow/flow.h"
#include "time/isodate.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s (%s)", e.text, text);
    return j;
}

static int64_t T(const char *iso)
{
    int64_t us = 0;
    char *why = NULL;
    if (kt_isodate_parse_instant(iso, &us, &why))
        fail_msg("bad test date %s", iso);
    return us;
}

static json_t *norm(const char *trigger)
{
    json_t *t = J(trigger), *m = NULL;
    char where[128], err[256];
    int rc = kt_depends_on_normalize(t, &m, where, sizeof where, err, sizeof err);
    if (rc != 1)
        fail_msg("%s: %d %s: %s", trigger, rc, where, err);
    json_decref(t);
    return m;
}

static void test_normalised_shape(void **state)
{
    (void)state;
    json_t *m = norm("{\"id\": \"up\", \"dependsOn\": [{\"flowId\": \"b\", \"namespace\": \"n\", \"states\": [\"SUCCESS\"]},"
                     "{\"flowId\": \"a\", \"namespace\": \"n\", \"labels\": {\"env\": \"prod\"}, \"when\": \"{{ x }}\"},"
                     "{\"namespace\": \"other\"}, {\"flowId\": \"a\", \"namespace\": \"n\"}]}");
    assert_string_equal(json_string_value(json_object_get(m, "id")), "dependsOn_up");
    assert_true(kt_depends_on_is(m));
    assert_true(json_is_true(json_object_get(m, "resetOnSuccess")));
    assert_string_equal(json_string_value(json_object_get(m, "mode")), "ALL");
    json_t *tw = json_object_get(m, "timeWindow");
    assert_string_equal(json_string_value(json_object_get(tw, "type")), "DURATION_WINDOW");
    assert_string_equal(json_string_value(json_object_get(tw, "window")), "P1D");
    json_t *c = json_object_get(m, "conditions");
    assert_int_equal(json_object_size(c), 4);
    json_t *b = json_object_get(c, "n.b"), *a = json_object_get(c, "n.a"), *o = json_object_get(c, "other.*");
    assert_non_null(b);
    assert_non_null(a);
    assert_non_null(o);
    assert_non_null(json_object_get(c, "n.a#2"));
    assert_string_equal(json_string_value(json_object_get(a, "type")), KT_COND_TYPE_UPSTREAM_FLOW);
    assert_string_equal(json_string_value(json_object_get(a, "when")), "{{ x }}");
    assert_int_equal(json_array_size(json_object_get(b, "states")), 1);
    /* an entry without states: every terminated state and PAUSED */
    assert_int_equal(json_array_size(json_object_get(a, "states")), 8);
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "states"), 7)), "PAUSED");
    json_decref(m);
    /* the trigger's own states filter first: no default of the entry's own */
    m = norm("{\"id\": \"up\", \"states\": [\"FAILED\"], \"dependsOn\": [{\"namespace\": \"n\"}]}");
    assert_null(json_object_get(json_object_get(json_object_get(m, "conditions"), "n.*"), "states"));
    json_decref(m);
    /* entry order does not matter: the same keys, so the same stored results */
    json_t *x = norm("{\"id\": \"t\", \"dependsOn\": [{\"flowId\": \"a\", \"namespace\": \"n\"}, {\"flowId\": \"b\", "
                     "\"namespace\": \"n\"}]}");
    json_t *y = norm("{\"id\": \"t\", \"dependsOn\": [{\"flowId\": \"b\", \"namespace\": \"n\"}, {\"flowId\": \"a\", "
                     "\"namespace\": \"n\"}]}");
    assert_true(json_equal(json_object_get(x, "conditions"), json_object_get(y, "conditions")));
    json_decref(x);
    json_decref(y);
    /* no dependsOn: nothing */
    json_t *t = J("{\"id\": \"t\", \"preconditions\": {\"id\": \"p\"}}");
    char where[64], err[128];
    assert_int_equal(kt_depends_on_normalize(t, &m, where, sizeof where, err, sizeof err), 0);
    assert_null(m);
    json_decref(t);
}

static void check_window(const char *window, const char *type, const char *now, const char *start, const char *end)
{
    char trig[256];
    snprintf(trig, sizeof trig, "{\"id\": \"t\", \"dependsOn\": [{\"flowId\": \"a\", \"namespace\": \"n\"}], "
                                "\"window\": %s}", window);
    json_t *m = norm(trig);
    assert_string_equal(json_string_value(json_object_get(json_object_get(m, "timeWindow"), "type")), type);
    int64_t s, e;
    char err[128];
    assert_int_equal(kt_cond_window(m, T(now), NULL, &s, &e, err, sizeof err), KT_OK);
    if (s != T(start) || e != T(end)) {
        char a[48], b[48];
        kt_isodate_format_instant(s, a, sizeof a);
        kt_isodate_format_instant(e, b, sizeof b);
        fail_msg("%s: [%s, %s]", window, a, b);
    }
    json_decref(m);
}

static void test_window_groups(void **state)
{
    (void)state;
    check_window("{\"deadline\": \"09:00:00\"}", "DAILY_TIME_DEADLINE", "2025-03-04T07:00:00Z",
                 "2025-03-04T00:00:00Z", "2025-03-04T09:00:00Z");
    check_window("{\"from\": \"08:00\", \"to\": \"12:00\"}", "DAILY_TIME_WINDOW", "2025-03-04T10:00:00Z",
                 "2025-03-04T08:00:00Z", "2025-03-04T12:00:00Z");
    check_window("{\"every\": \"PT1H\", \"offset\": \"PT5M\"}", "DURATION_WINDOW", "2025-03-04T10:20:00Z",
                 "2025-03-04T10:05:00Z", "2025-03-04T11:04:59.999Z");
    check_window("{\"every\": \"P1D\"}", "DURATION_WINDOW", "2025-03-04T10:20:00Z", "2025-03-04T00:00:00Z",
                 "2025-03-04T23:59:59.999Z");
    check_window("{\"lookback\": \"P1D\"}", "SLIDING_WINDOW", "2025-03-04T10:20:00Z", "2025-03-04T10:20:00Z",
                 "2025-03-05T10:20:00Z");
}

static void test_modes(void **state)
{
    (void)state;
    json_t *all = norm("{\"id\": \"t\", \"dependsOn\": [{\"flowId\": \"a\", \"namespace\": \"n\"}, {\"flowId\": \"b\", "
                       "\"namespace\": \"n\"}, {\"flowId\": \"c\", \"namespace\": \"n\"}]}");
    json_t *any = norm("{\"id\": \"t\", \"mode\": \"ANY\", \"dependsOn\": [{\"flowId\": \"a\", \"namespace\": \"n\"}, "
                       "{\"flowId\": \"b\", \"namespace\": \"n\"}]}");
    json_t *two = norm("{\"id\": \"t\", \"mode\": \"AT_LEAST\", \"minSatisfied\": 2, \"dependsOn\": [{\"flowId\": \"a\", "
                       "\"namespace\": \"n\"}, {\"flowId\": \"b\", \"namespace\": \"n\"}, {\"flowId\": \"c\", "
                       "\"namespace\": \"n\"}]}");
    json_t *r0 = J("{}"), *r1 = J("{\"n.a\": true}"), *r2 = J("{\"n.a\": true, \"n.c\": true}"),
           *r3 = J("{\"n.a\": true, \"n.b\": true, \"n.c\": true}");
    assert_false(kt_cond_multiple_holds(all, r2));
    assert_true(kt_cond_multiple_holds(all, r3));
    assert_false(kt_cond_multiple_holds(any, r0));
    assert_true(kt_cond_multiple_holds(any, r1));
    assert_false(kt_cond_multiple_holds(two, r1));
    assert_true(kt_cond_multiple_holds(two, r2));
    json_t *o[] = {all, any, two, r0, r1, r2, r3};
    for (size_t i = 0; i < 7; i++)
        json_decref(o[i]);
}

/* The save-time check through the flow validator: message and location. */
static void refused(const char *trigger_yaml, const char *want)
{
    char src[2048];
    snprintf(src, sizeof src,
             "id: f\nnamespace: n\ntasks:\n  - id: l\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
             "triggers:\n  - id: up\n    type: io.kestra.plugin.core.trigger.Flow\n%s", trigger_yaml);
    kt_flow *f = NULL;
    kt_diags d;
    kt_diags_init(&d);
    kt_status st = kt_flow_parse(src, strlen(src), "f.yaml", &f, &d);
    char *msg = kt_diags_format(&d);
    if (st == KT_OK || !msg || !strstr(msg, want))
        fail_msg("%s: got %s, want %s", trigger_yaml, msg ? msg : "(accepted)", want);
    free(msg);
    kt_diags_clear(&d);
    kt_flow_free(f);
}

static void test_refusals(void **state)
{
    (void)state;
    const char *dep = "    dependsOn:\n      - flowId: a\n        namespace: n\n";
    char y[512];
    snprintf(y, sizeof y, "%s    window:\n      deadline: \"09:00:00\"\n      lookback: PT1H\n", dep);
    refused(y, "triggers[0].window: `deadline` and `lookback` cannot be combined");
    snprintf(y, sizeof y, "%s    window:\n      from: \"08:00\"\n      every: PT1H\n", dep);
    refused(y, "triggers[0].window: `from/to` and `every/offset` cannot be combined");
    snprintf(y, sizeof y, "%s    window:\n      from: \"08:00\"\n", dep);
    refused(y, "triggers[0].window.to: `from` and `to` go together");
    snprintf(y, sizeof y, "%s    window:\n      offset: PT5M\n", dep);
    refused(y, "triggers[0].window.offset: `offset` needs `every`");
    snprintf(y, sizeof y, "%s    mode: AT_LEAST\n    minSatisfied: 3\n", dep);
    refused(y, "triggers[0].minSatisfied: mode AT_LEAST needs minSatisfied between 1 and the number of dependsOn "
               "entries (1)");
    snprintf(y, sizeof y, "%s    mode: SOME\n", dep);
    refused(y, "triggers[0].mode: must be one of ALL, ANY, AT_LEAST");
    refused("    dependsOn:\n      - flowId: a\n        state: [SUCCESS]\n",
            "triggers[0].dependsOn[0].state: Unrecognized field \"state\"");
    refused("    dependsOn:\n      - flowId: a\n        states: [DONE]\n",
            "triggers[0].dependsOn[0].states: 'DONE' is not an execution state");
    refused("    window:\n      lookback: PT1H\n", "triggers[0].window: only with dependsOn");
    snprintf(y, sizeof y, "%s    onMiss:\n      behavior: FAIL\n", dep);
    refused(y, "triggers[0].onMiss: needs a window with a deadline");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalised_shape),
        cmocka_unit_test(test_window_groups),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
