/* The stored trigger state (flow/trigger.h): Kestra's Trigger JSON both ways (KESTRA-system.md "Trigger",
 * KESTRA-execution.md §5.2), its uid, and the transitions outside an evaluation (resetExecution with stopAfter,
 * unlock, backfill removal), with every malformed member refused by name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/trigger.h"
#include "time/isodate.h"

static int64_t T(const char *iso)
{
    int64_t us = 0;
    char *why = NULL;
    assert_int_equal(kt_isodate_parse_instant(iso, &us, &why), 0);
    return us;
}

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s", e.text);
    return j;
}

static void assert_json_eq(const json_t *got, const char *want)
{
    json_t *w = J(want);
    if (!json_equal((json_t *)got, w)) {
        char *g = json_dumps(got, JSON_SORT_KEYS);
        fail_msg("got %s\nwant %s", g, want);
    }
    json_decref(w);
}

static void test_uid_and_kind(void **st)
{
    (void)st;
    char *u = kt_trig_uid("company.team", "hello", "schedule");
    assert_string_equal(u, "company.team_hello_schedule");
    free(u);
    u = kt_trig_uid(NULL, "f", "t"); /* fromParts skips null parts */
    assert_string_equal(u, "f_t");
    free(u);
    assert_int_equal(kt_trig_kind_of("io.kestra.plugin.core.trigger.Schedule"), KT_TRIG_SCHEDULE);
    assert_int_equal(kt_trig_kind_of("io.kestra.core.models.triggers.types.Schedule"), KT_TRIG_SCHEDULE);
    assert_int_equal(kt_trig_kind_of("io.kestra.plugin.core.trigger.ScheduleOnDates"), KT_TRIG_SCHEDULE_ON_DATES);
    assert_int_equal(kt_trig_kind_of("io.kestra.plugin.core.trigger.Flow"), KT_TRIG_OTHER);
    assert_int_equal(kt_trig_kind_of("io.kestra.plugin.core.trigger.Webhook"), KT_TRIG_OTHER);
    assert_int_equal(kt_trig_kind_of(NULL), KT_TRIG_OTHER);
}

static const char *full_json =
    "{\"namespace\": \"company.team\", \"flowId\": \"hello\", \"triggerId\": \"schedule\","
    " \"date\": \"2024-12-20T10:00:00Z\", \"nextExecutionDate\": \"2024-12-20T11:00:00Z\","
    " \"backfill\": {\"start\": \"2024-12-01T00:00:00Z\", \"end\": \"2024-12-02T00:00:00Z\","
    "   \"currentDate\": \"2024-12-01T01:00:00Z\", \"paused\": true, \"inputs\": {\"a\": 1},"
    "   \"labels\": [{\"key\": \"k\", \"value\": \"v\"}], \"previousNextExecutionDate\": \"2024-12-20T11:00:00Z\"},"
    " \"stopAfter\": [\"FAILED\"], \"disabled\": false, \"executionId\": \"4wjtkzwVGBM9yKnjm3yv8r\","
    " \"updatedDate\": \"2024-12-20T10:00:01.123Z\", \"evaluateRunningDate\": \"2024-12-20T10:00:00Z\","
    " \"workerId\": \"w1\"}";

static void test_json_round_trip(void **st)
{
    (void)st;
    json_t *in = J(full_json);
    kt_trig_state t;
    char err[200];
    assert_int_equal(kt_trig_state_from_json(in, &t, err, sizeof err), KT_OK);
    assert_string_equal(t.namespace_, "company.team");
    assert_int_equal(t.date_us, T("2024-12-20T10:00:00Z"));
    assert_int_equal(t.next_us, T("2024-12-20T11:00:00Z"));
    assert_non_null(t.backfill);
    assert_int_equal(t.backfill->current_us, T("2024-12-01T01:00:00Z"));
    assert_int_equal(t.backfill->prev_next_us, T("2024-12-20T11:00:00Z"));
    assert_true(t.backfill->paused);
    assert_int_equal(t.updated_us, T("2024-12-20T10:00:01.123Z"));
    assert_string_equal(t.execution_id, "4wjtkzwVGBM9yKnjm3yv8r");
    json_t *out = kt_trig_state_json(&t);
    assert_true(json_equal(in, out));
    /* members in Trigger.java's order */
    const char *order[] = {"namespace", "flowId", "triggerId", "date", "nextExecutionDate", "backfill", "stopAfter",
                           "disabled", "executionId", "updatedDate", "evaluateRunningDate", "workerId"};
    void *it = json_object_iter(out);
    for (size_t i = 0; i < sizeof order / sizeof *order; i++, it = json_object_iter_next(out, it))
        assert_string_equal(json_object_iter_key(it), order[i]);

    kt_trig_state c;
    assert_int_equal(kt_trig_state_copy(&c, &t), KT_OK);
    kt_trig_state_clear(&t);
    json_t *out2 = kt_trig_state_json(&c);
    assert_true(json_equal(in, out2));
    kt_trig_state_clear(&c);
    json_decref(in);
    json_decref(out);
    json_decref(out2);
}

static void test_json_minimal_and_offsets(void **st)
{
    (void)st;
    /* offsets and ZonedDateTime.toString's [Zone] on input; UTC Z on output; absent members stay absent;
     * disabled always written; backfill labels given as a map come out as a list */
    json_t *in = J("{\"namespace\": \"n\", \"flowId\": \"f\", \"triggerId\": \"t\","
                   " \"date\": \"2024-12-20T11:00:00+01:00[Europe/Paris]\", \"nextExecutionDate\": 1734696000,"
                   " \"backfill\": {\"start\": \"2024-12-01T00:00:00-05:00\", \"labels\": {\"k\": \"v\"}},"
                   " \"unknown\": 1, \"executionId\": null}");
    kt_trig_state t;
    char err[200];
    assert_int_equal(kt_trig_state_from_json(in, &t, err, sizeof err), KT_OK);
    json_t *out = kt_trig_state_json(&t);
    assert_json_eq(out, "{\"namespace\": \"n\", \"flowId\": \"f\", \"triggerId\": \"t\","
                        " \"date\": \"2024-12-20T10:00:00Z\", \"nextExecutionDate\": \"2024-12-20T12:00:00Z\","
                        " \"backfill\": {\"start\": \"2024-12-01T05:00:00Z\", \"paused\": false,"
                        "   \"labels\": [{\"key\": \"k\", \"value\": \"v\"}]},"
                        " \"disabled\": false}");
    kt_trig_state_clear(&t);
    json_decref(in);
    json_decref(out);
}

static void expect_invalid(const char *text, const char *want_err)
{
    json_t *in = J(text);
    kt_trig_state t;
    char err[200] = "";
    assert_int_equal(kt_trig_state_from_json(in, &t, err, sizeof err), KT_EINVAL);
    if (!strstr(err, want_err))
        fail_msg("error '%s' does not mention '%s'", err, want_err);
    assert_null(t.namespace_); /* cleared */
    json_decref(in);
}

static void test_json_errors(void **st)
{
    (void)st;
    expect_invalid("[]", "JSON object");
    expect_invalid("{\"flowId\": \"f\", \"triggerId\": \"t\"}", "namespace: must not be null");
    expect_invalid("{\"namespace\": \"n\", \"triggerId\": \"t\"}", "flowId: must not be null");
    expect_invalid("{\"namespace\": \"n\", \"flowId\": \"f\"}", "triggerId: must not be null");
    expect_invalid("{\"namespace\": 3, \"flowId\": \"f\", \"triggerId\": \"t\"}", "namespace: must be a string");
    expect_invalid("{\"namespace\": \"n\", \"flowId\": \"f\", \"triggerId\": \"t\", \"date\": \"2024-13-01T00:00:00Z\"}",
                   "date: not a date-time");
    expect_invalid("{\"namespace\": \"n\", \"flowId\": \"f\", \"triggerId\": \"t\", \"nextExecutionDate\": \"tomorrow\"}",
                   "nextExecutionDate: not a date-time");
    expect_invalid("{\"namespace\": \"n\", \"flowId\": \"f\", \"triggerId\": \"t\", \"date\": \"2024-12-01T00:00:00\"}",
                   "date: not a date-time"); /* no offset */
    expect_invalid("{\"namespace\": \"n\", \"flowId\": \"f\", \"triggerId\": \"t\", \"disabled\": \"yes\"}",
                   "disabled: must be a boolean");
    expect_invalid("{\"namespace\": \"n\", \"flowId\": \"f\", \"triggerId\": \"t\", \"stopAfter\": [\"DONE\"]}",
                   "stopAfter");
    expect_invalid("{\"namespace\": \"n\", \"flowId\": \"f\", \"triggerId\": \"t\", \"backfill\": {}}",
                   "backfill.start: must not be null");
    expect_invalid("{\"namespace\": \"n\", \"flowId\": \"f\", \"triggerId\": \"t\","
                   " \"backfill\": {\"start\": \"2024-12-01T00:00:00Z\", \"end\": \"x\"}}",
                   "backfill.end: not a date-time");
    expect_invalid("{\"namespace\": \"n\", \"flowId\": \"f\", \"triggerId\": \"t\","
                   " \"backfill\": {\"start\": \"2024-12-01T00:00:00Z\", \"labels\": [{\"key\": 1}]}}",
                   "backfill.labels");
}

static void test_reset_unlock_backfill_delete(void **st)
{
    (void)st;
    json_t *in = J(full_json);
    kt_trig_state t;
    char err[200];
    assert_int_equal(kt_trig_state_from_json(in, &t, err, sizeof err), KT_OK);
    /* stopAfter [FAILED]: SUCCESS leaves it enabled, FAILED disables it; evaluateRunningDate is kept */
    kt_trig_reset_execution(&t, "SUCCESS");
    assert_null(t.execution_id);
    assert_null(t.worker_id);
    assert_int_equal(t.updated_us, 0);
    assert_false(t.disabled);
    assert_int_equal(t.evaluate_running_us, T("2024-12-20T10:00:00Z"));
    kt_trig_reset_execution(&t, "FAILED");
    assert_true(t.disabled);
    /* without stopAfter, disabled is left alone */
    json_decref(t.stop_after);
    t.stop_after = NULL;
    t.disabled = 0;
    kt_trig_reset_execution(&t, "FAILED");
    assert_false(t.disabled);

    assert_int_equal(kt_trig_unlock(&t), 1); /* evaluateRunningDate still set */
    assert_int_equal(t.evaluate_running_us, 0);
    assert_int_equal(kt_trig_unlock(&t), 0); /* "Trigger is not locked" */

    t.next_us = T("2024-12-01T02:00:00Z");
    assert_int_equal(kt_trig_backfill_delete(&t), 0);
    assert_null(t.backfill);
    assert_int_equal(t.next_us, T("2024-12-20T11:00:00Z"));
    assert_int_equal(kt_trig_backfill_delete(&t), -1); /* "No backfill found" */
    kt_trig_state_clear(&t);
    json_decref(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uid_and_kind),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_minimal_and_offsets),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_reset_unlock_backfill_delete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
