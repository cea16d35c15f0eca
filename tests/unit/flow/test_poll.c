/* Polling triggers' pure rules (flow/poll.h): the types, interval and uri checks, and the row's life (due dates, one
 * evaluation in flight, a lost one given up, the next poll at now + interval). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "flow/poll.h"

#define S 1000000LL
/* 2024-06-01T10:00:00.250Z */
#define NOW (1717236000LL * S + 250000)

static json_t *def(const char *yaml_like_json)
{
    json_error_t e;
    json_t *j = json_loads(yaml_like_json, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s", e.text);
    return j;
}

static void test_types(void **state)
{
    (void)state;
    const kt_poll_type *a = kt_poll_type_of("io.kestra.plugin.core.http.Trigger");
    const kt_poll_type *b = kt_poll_type_of("io.kestra.plugin.fs.http.Trigger");
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_string_equal(a->type, "io.kestra.plugin.core.http.Trigger");
    assert_int_equal(a->default_interval_us, 60 * S); /* Trigger.java: Duration.ofSeconds(60) */
    assert_null(kt_poll_type_of("io.kestra.plugin.core.trigger.Schedule"));
    assert_null(kt_poll_type_of("io.kestra.plugin.core.http.Request"));
    assert_null(kt_poll_type_of(NULL));
    assert_int_equal(kt_trig_kind_of("io.kestra.plugin.fs.http.Trigger"), KT_TRIG_POLLING);
    assert_int_equal(kt_trig_kind_of("io.kestra.plugin.core.trigger.Schedule"), KT_TRIG_SCHEDULE);
}

static void test_interval(void **state)
{
    (void)state;
    char err[256];
    int64_t us = 0;
    json_t *d = def("{\"id\":\"h\",\"type\":\"io.kestra.plugin.core.http.Trigger\",\"uri\":\"http://x/\"}");
    assert_int_equal(kt_poll_interval(d, &us, err, sizeof err), KT_OK);
    assert_int_equal(us, 60 * S);
    json_object_set_new(d, "interval", json_string("PT1S"));
    assert_int_equal(kt_poll_interval(d, &us, err, sizeof err), KT_OK);
    assert_int_equal(us, S);
    json_object_set_new(d, "interval", json_string("PT1M30S"));
    assert_int_equal(kt_poll_interval(d, &us, err, sizeof err), KT_OK);
    assert_int_equal(us, 90 * S);
    json_object_set_new(d, "interval", json_string("PT0S"));
    assert_int_equal(kt_poll_interval(d, &us, err, sizeof err), KT_EINVAL);
    assert_non_null(strstr(err, "must be a positive duration"));
    json_object_set_new(d, "interval", json_string("every minute"));
    assert_int_equal(kt_poll_interval(d, &us, err, sizeof err), KT_EINVAL);
    assert_non_null(strstr(err, "invalid duration 'every minute'"));
    json_decref(d);
}

static void test_check(void **state)
{
    (void)state;
    char err[256];
    const char *prop = NULL;
    json_t *d = def("{\"id\":\"h\",\"type\":\"io.kestra.plugin.core.http.Trigger\",\"uri\":\"https://example.com:8443/a?b=c\"}");
    assert_int_equal(kt_poll_check(d, &prop, err, sizeof err), 0);
    json_object_set_new(d, "uri", json_string("{{ vars.base }}/health")); /* an expression: checked when rendered */
    assert_int_equal(kt_poll_check(d, &prop, err, sizeof err), 0);
    json_object_set_new(d, "uri", json_string("example.com/health"));
    assert_int_equal(kt_poll_check(d, &prop, err, sizeof err), -1);
    assert_string_equal(prop, "uri");
    json_object_set_new(d, "uri", json_string("http://ok/"));
    json_object_set_new(d, "interval", json_string("-PT1S"));
    assert_int_equal(kt_poll_check(d, &prop, err, sizeof err), -1);
    assert_string_equal(prop, "interval");
    json_decref(d);
    /* not a polling trigger: nothing to say */
    json_t *sch = def("{\"id\":\"s\",\"type\":\"io.kestra.plugin.core.trigger.Schedule\",\"interval\":\"PT0S\"}");
    assert_int_equal(kt_poll_check(sch, &prop, err, sizeof err), 0);
    json_decref(sch);
}

static void test_row_life(void **state)
{
    (void)state;
    json_t *d = def("{\"id\":\"h\",\"type\":\"io.kestra.plugin.core.http.Trigger\",\"uri\":\"http://x/\","
                    "\"stopAfter\":[\"SUCCESS\"]}");
    kt_trig_state t;
    assert_int_equal(kt_poll_init_state(d, "ns", "f", NOW, NULL, &t), KT_OK);
    assert_string_equal(t.trigger_id, "h");
    assert_int_equal(t.date_us, NOW - 250000); /* whole seconds */
    assert_int_equal(t.next_us, t.date_us);   /* due at once */
    assert_non_null(t.stop_after);
    int64_t due = -1;
    assert_int_equal(kt_poll_due(&t, NOW, 0, &due), KT_POLL_START);

    /* one evaluation in flight: nothing more until its answer, or its loss past the limit and the grace */
    assert_int_equal(kt_poll_started(d, &t, NOW), KT_OK);
    assert_int_equal(t.evaluate_running_us, NOW);
    assert_int_equal(kt_poll_due(&t, NOW + 10 * S, 0, &due), KT_POLL_WAIT);
    assert_int_equal(due, NOW + KT_POLL_EVAL_LIMIT_US + KT_POLL_REPLY_GRACE_US);
    assert_int_equal(kt_poll_due(&t, due - 1, 0, &due), KT_POLL_WAIT);
    assert_int_equal(kt_poll_due(&t, NOW + KT_POLL_EVAL_LIMIT_US + KT_POLL_REPLY_GRACE_US, 0, &due), KT_POLL_LOST);
    /* a shorter limit where the scheduler was given one */
    assert_int_equal(kt_poll_due(&t, NOW + 2 * S, 3 * S, &due), KT_POLL_WAIT);
    assert_int_equal(due, NOW + 3 * S);
    assert_int_equal(kt_poll_due(&t, NOW + 3 * S, 3 * S, &due), KT_POLL_LOST);

    /* answered without an execution: the next poll one interval later */
    assert_int_equal(kt_poll_finished(&t, NOW + 2 * S, 5 * S, NULL), KT_OK);
    assert_int_equal(t.evaluate_running_us, 0);
    assert_int_equal(t.next_us, NOW + 7 * S);
    assert_null(t.execution_id);
    assert_int_equal(kt_poll_due(&t, NOW + 6 * S, 0, &due), KT_POLL_WAIT);
    assert_int_equal(due, NOW + 7 * S);
    assert_int_equal(kt_poll_due(&t, NOW + 7 * S, 0, &due), KT_POLL_START);

    /* answered with an execution: locked until it ends, whatever the date */
    assert_int_equal(kt_poll_started(d, &t, NOW + 7 * S), KT_OK);
    assert_int_equal(kt_poll_finished(&t, NOW + 8 * S, 5 * S, "exec1"), KT_OK);
    assert_string_equal(t.execution_id, "exec1");
    assert_int_equal(kt_poll_due(&t, NOW + 60 * S, 0, &due), KT_POLL_WAIT);
    assert_int_equal(due, 0);
    /* its end with a state in stopAfter disables the trigger (Trigger.resetExecution) */
    kt_trig_reset_execution(&t, "SUCCESS");
    assert_true(t.disabled);
    assert_int_equal(kt_poll_due(&t, NOW + 60 * S, 0, &due), KT_POLL_WAIT);
    assert_int_equal(due, 0);
    t.disabled = 0;
    t.next_us = 0; /* enabled again through the API without a date: due now */
    assert_int_equal(kt_poll_due(&t, NOW + 60 * S, 0, &due), KT_POLL_START);

    /* a new definition keeps the switch and the lock, and is due now */
    kt_trig_state n;
    t.disabled = 1;
    assert_int_equal(kt_poll_init_state(d, "ns", "f", NOW + 100 * S, &t, &n), KT_OK);
    assert_true(n.disabled);
    assert_int_equal(n.next_us, NOW + 100 * S - 250000);
    assert_int_equal(n.evaluate_running_us, 0);
    kt_trig_state_clear(&n);
    kt_trig_state_clear(&t);
    json_decref(d);
}

static void test_truthy(void **state)
{
    (void)state;
    assert_true(kt_poll_truthy("true"));
    assert_true(kt_poll_truthy("200"));
    assert_true(kt_poll_truthy("null")); /* TruthUtils: only false, 0, -0 and "" are false */
    assert_false(kt_poll_truthy("false"));
    assert_false(kt_poll_truthy("0"));
    assert_false(kt_poll_truthy("-0"));
    assert_false(kt_poll_truthy(""));
    assert_false(kt_poll_truthy(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),   cmocka_unit_test(test_interval), cmocka_unit_test(test_check),
        cmocka_unit_test(test_row_life), cmocka_unit_test(test_truthy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
