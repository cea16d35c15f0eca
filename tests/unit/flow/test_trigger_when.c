/* Trigger `when` (flow/trigger_when.h) and the equivalence the issue asks for: a 1.x Schedule with conditions and
 * its 2.0 form with `when` (Kestra's own rewrite of each blueprint, tests/dialects/triggers/NAME.1x.yaml and NAME.2x.yaml) fire on
 * the same dates over a simulated year; the 2.0 date functions answer as the 1.x date conditions for every day of
 * several years; `when` on a Webhook's context and on a Flow trigger's variables (bare names and `trigger.`). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dialect.h"
#include "flow/condition.h"
#include "flow/flow.h"
#include "flow/trigger.h"
#include "flow/trigger_when.h"
#include "time/isodate.h"

#define SEC INT64_C(1000000)
#define DAY (86400 * SEC)

static int64_t T(const char *iso)
{
    int64_t us = 0;
    char *why = NULL;
    if (kt_isodate_parse_instant(iso, &us, &why))
        fail_msg("bad test date %s", iso);
    return us;
}

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s (%s)", e.text, text);
    return j;
}

/* A flow of tests/dialects/triggers, parsed and validated as the server does. */
static kt_flow *load(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/dialects/triggers/%s", KITE_SOURCE_DIR, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    kt_flow *f = NULL;
    kt_diags d;
    kt_diags_init(&d);
    if (kt_flow_parse(buf, n, path, &f, &d) != KT_OK) {
        char *msg = kt_diags_format(&d);
        fail_msg("%s does not validate: %s", name, msg);
    }
    kt_diags_clear(&d);
    return f;
}

/* The dates a flow's first (Schedule) trigger fires on in [from, to), evaluated at each due date as the scheduler
 * does; a JSON array of ISO dates (the trigger variables' date). */
static json_t *fired(const char *name, const char *from, const char *to)
{
    kt_flow *f = load(name);
    const json_t *flow = kt_flow_json(f);
    const json_t *def = json_array_get(json_object_get(flow, "triggers"), 0);
    kt_env env;
    kt_env_init(&env, T(from), 7);
    kt_sched *s = NULL;
    char err[256] = "";
    if (kt_sched_compile(def, flow, NULL, KT_SCHED_RECOVER_ALL, &env, &s, err, sizeof err))
        fail_msg("%s: compile: %s", name, err);
    kt_trig_state t;
    memset(&t, 0, sizeof t);
    assert_int_equal(kt_sched_init_state(s, "company.team", kt_flow_id(f), T(from), NULL, &t), KT_OK);
    json_t *dates = json_array();
    int64_t end = T(to), now = T(from);
    for (int step = 0; step < 20000 && t.next_us && t.next_us < end; step++) {
        if (t.next_us > now)
            now = t.next_us;
        kt_env_init(&env, now, 7);
        kt_sched_fire fire;
        int64_t due = 0;
        kt_sched_verdict v = kt_sched_evaluate(s, flow, &t, now, &env, &fire, &due);
        if (v == KT_SCHED_WAIT) {
            kt_sched_fire_clear(&fire);
            if (!due || due >= end)
                break;
            now = due;
            continue;
        }
        if (v == KT_SCHED_FAIL)
            fail_msg("%s: FAIL at step %d: %s", name, step, fire.error);
        if (v == KT_SCHED_FIRE && json_object_get(fire.vars, "date")) {
            json_array_append(dates, json_object_get(fire.vars, "date"));
        } else if (v == KT_SCHED_FIRE) { /* ScheduleOnDates: no variables, the execution's scheduleDate */
            char buf[48];
            kt_isodate_format_instant(fire.schedule_date_us, buf, sizeof buf);
            json_array_append_new(dates, json_string(buf));
        }
        assert_int_equal(kt_sched_advance(s, flow, &t, v, &fire, now, &env), KT_OK);
        kt_sched_fire_clear(&fire);
        if (v == KT_SCHED_FIRE)
            kt_trig_reset_execution(&t, "SUCCESS");
    }
    kt_trig_state_clear(&t);
    kt_sched_free(s);
    kt_flow_free(f);
    return dates;
}

static void assert_same_dates(const char *pair, json_t *a, json_t *b)
{
    if (!json_equal(a, b)) {
        char *sa = json_dumps(a, JSON_COMPACT), *sb = json_dumps(b, JSON_COMPACT);
        fail_msg("%s: 1.x fired %s\n2.x fired %s", pair, sa, sb);
    }
}

/* Each blueprint pair over 2025: the same fired dates, and the count the calendar gives. */
static void pair(const char *name, const char *from, const char *to, int want)
{
    char a[128], b[128];
    snprintf(a, sizeof a, "%s.1x.yaml", name);
    snprintf(b, sizeof b, "%s.2x.yaml", name);
    json_t *da = fired(a, from, to), *db = fired(b, from, to);
    assert_same_dates(name, da, db);
    if ((int)json_array_size(da) != want)
        fail_msg("%s: fired %zu times, want %d", name, json_array_size(da), want);
    json_decref(da);
    json_decref(db);
}

static void test_schedule_pairs_fire_the_same_dates(void **state)
{
    (void)state;
    const char *y0 = "2025-01-01T00:00:00Z", *y1 = "2026-01-01T00:00:00Z";
    /* 2025: 12 first Mondays; 52 Mondays; 12 last Saturdays; 365 - 52 days that are not Mondays; 52 Mondays + 52
     * Thursdays; France's 11 public holidays; 104 weekend days */
    pair("every-monday", y0, y1, 12);
    pair("schedule-condition-dayweek", y0, y1, 52);
    pair("schedule-condition-dayweekinmonth", y0, y1, 12);
    pair("schedule-condition-not", y0, y1, 313);
    pair("schedule-condition-or", y0, y1, 104);
    pair("schedule-condition-publicholiday", y0, y1, 11);
    pair("schedule-condition-weekend", y0, y1, 104);
}

/* The DateTimeBetween blueprint's bounds are inverted (after the end of 2025 and before its start): the 1.x form
 * never fires. Kestra's rewrite compares the date strings with `>`/`<`, which Pebble (and Kite's engine) refuses
 * for strings: the 2.x form cannot be evaluated, so every occurrence is a FAILED execution, not a skip. Left as
 * found (the expression engine is not the trigger's); the test pins both behaviours. */
static void test_datetimebetween_rewrite_does_not_evaluate(void **state)
{
    (void)state;
    json_t *a = fired("schedule-condition-datetimebetween.1x.yaml", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z");
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    kt_flow *f = load("schedule-condition-datetimebetween.2x.yaml");
    const json_t *flow = kt_flow_json(f), *def = json_array_get(json_object_get(flow, "triggers"), 0);
    kt_env env;
    kt_env_init(&env, T("2025-03-01T11:00:00Z"), 7);
    kt_sched *s = NULL;
    char err[256];
    assert_int_equal(kt_sched_compile(def, flow, NULL, KT_SCHED_RECOVER_ALL, &env, &s, err, sizeof err), KT_OK);
    kt_trig_state t;
    memset(&t, 0, sizeof t);
    assert_int_equal(kt_sched_init_state(s, "company.team", "x", T("2025-03-01T10:00:00Z"), NULL, &t), KT_OK);
    kt_sched_fire fire;
    int64_t due = 0;
    assert_int_equal(kt_sched_evaluate(s, flow, &t, T("2025-03-01T11:00:00Z"), &env, &fire, &due), KT_SCHED_FAIL);
    assert_non_null(strstr(fire.error, "Could not perform greater than comparison"));
    kt_sched_fire_clear(&fire);
    kt_trig_state_clear(&t);
    kt_sched_free(s);
    kt_flow_free(f);
}

/* ScheduleOnDates: the same per-date `when` (its fired dates are the executions' scheduleDate; the trigger variables
 * are empty, so the count of fires is what is checked) */
static void test_schedule_on_dates_when(void **state)
{
    (void)state;
    json_t *d = fired("schedule-on-dates-when.2x.yaml", "2025-02-28T00:00:00Z", "2025-03-10T00:00:00Z");
    assert_int_equal(json_array_size(d), 2); /* the two Saturdays, not Monday the 3rd */
    assert_string_equal(json_string_value(json_array_get(d, 1)), "2025-03-08T10:00:00Z");
    json_decref(d);
}

/* TimeBetween is strict on both sides (after 08:00+02:00, before 17:00+02:00: 09:00 .. 16:00), Kestra's rewrite
 * `hourOfDay(...) >= 8 and < 17` also takes 08:00: the one place where the migration tool's output is not the same
 * schedule. Shown here rather than hidden: everything else matches. */
static void test_timebetween_rewrite_adds_the_opening_hour(void **state)
{
    (void)state;
    const char *from = "2025-06-02T00:00:00Z", *to = "2025-06-03T00:00:00Z";
    json_t *a = fired("schedule-condition-timebetween.1x.yaml", from, to);
    json_t *b = fired("schedule-condition-timebetween.2x.yaml", from, to);
    assert_int_equal(json_array_size(a), 8);
    assert_int_equal(json_array_size(b), 9);
    assert_string_equal(json_string_value(json_array_get(a, 0)), "2025-06-02T07:00:00Z"); /* 09:00+02:00 */
    assert_string_equal(json_string_value(json_array_get(b, 0)), "2025-06-02T06:00:00Z"); /* 08:00+02:00 */
    json_array_remove(b, 0);
    assert_same_dates("timebetween after 08:00", a, b);
    json_decref(a);
    json_decref(b);
}

/* The 2.0 functions against the 1.x conditions for every day of 2023-2026 at 11:00 Europe/Paris. */
static void test_functions_answer_as_the_conditions(void **state)
{
    (void)state;
    static const char *const wdays[] = {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"};
    static const char *const pos[] = {"FIRST", "SECOND", "THIRD", "FOURTH", "LAST"};
    static const char *const countries[] = {"FR", "DE", "GB", "US"};
    json_t *flow = J("{\"id\": \"f\", \"namespace\": \"company.team\"}");
    kt_env env;
    kt_env_init(&env, T("2025-01-01T00:00:00Z"), 1);
    int checked = 0;
    for (int64_t d = T("2023-01-01T10:00:00Z"); d < T("2027-01-01T00:00:00Z"); d += DAY) {
        char date[40];
        int64_t days = d / DAY;
        int64_t y;
        int m, dd;
        kt_isodate_civil_from_days(days, &y, &m, &dd);
        snprintf(date, sizeof date, "%04lld-%02d-%02dT11:00:00+01:00[Europe/Paris]", (long long)y, m, dd);
        json_t *trig = json_pack("{s:s}", "date", date);
        kt_cond_ctx ctx = {.flow = flow, .trigger = trig, .env = &env};
        char err[256];
        for (int k = 0; k < 4 + 7 + 35; k++) {
            json_t *cond, *when;
            if (k == 0) {
                cond = J("{\"type\": \"io.kestra.plugin.core.condition.Weekend\"}");
                when = json_string("{{ isWeekend(trigger.date) }}");
            } else if (k < 4) {
                cond = json_pack("{s:s, s:s}", "type", "io.kestra.plugin.core.condition.PublicHoliday", "country",
                                 countries[k]);
                char w[96];
                snprintf(w, sizeof w, "{{ isPublicHoliday(trigger.date, '%s') }}", countries[k]);
                when = json_string(w);
            } else if (k < 11) {
                cond = json_pack("{s:s, s:s}", "type", "io.kestra.plugin.core.condition.DayWeek", "dayOfWeek",
                                 wdays[k - 4]);
                char w[96];
                snprintf(w, sizeof w, "{{ dayOfWeek(trigger.date) == '%s' }}", wdays[k - 4]);
                when = json_string(w);
            } else {
                int i = k - 11;
                cond = json_pack("{s:s, s:s, s:s}", "type", "io.kestra.plugin.core.condition.DayWeekInMonth",
                                 "dayOfWeek", wdays[i / 5], "dayInMonth", pos[i % 5]);
                char w[128];
                snprintf(w, sizeof w, "{{ isDayWeekInMonth(trigger.date, '%s', '%s') }}", wdays[i / 5], pos[i % 5]);
                when = json_string(w);
            }
            json_t *tdef = json_pack("{s:s, s:o}", "id", "t", "when", when);
            kt_cond_result want = kt_cond_test(cond, &ctx, err, sizeof err);
            kt_cond_result got = kt_trigger_when_test(tdef, &ctx, err, sizeof err);
            assert_true(want != KT_COND_ERROR);
            if (want != got)
                fail_msg("%s: condition %s gives %d, when %s gives %d", date,
                         json_dumps(cond, JSON_COMPACT), want, json_string_value(json_object_get(tdef, "when")), got);
            checked++;
            json_decref(cond);
            json_decref(tdef);
        }
        json_decref(trig);
    }
    assert_true(checked > 1400 * 46);
    json_decref(flow);
}

/* A Webhook's `when` sees trigger.body / headers / parameters; no `when` holds; a render error is an error. */
static void test_webhook_when(void **state)
{
    (void)state;
    json_t *flow = J("{\"id\": \"w\", \"namespace\": \"company.team\"}");
    json_t *ex = J("{\"id\": \"e1\", \"namespace\": \"company.team\", \"flowId\": \"w\", \"state\": {\"current\": "
                   "\"CREATED\"}, \"trigger\": {\"variables\": {\"body\": {\"action\": \"deploy\", \"pull_request\": "
                   "{\"state\": \"open\", \"comments_url\": \"https://x/c\"}}, \"headers\": {\"x-kind\": [\"push\"]}, "
                   "\"parameters\": {}}}}");
    kt_env env;
    kt_env_init(&env, T("2025-01-01T00:00:00Z"), 1);
    kt_cond_ctx ctx = {.flow = flow, .execution = ex,
                       .trigger = json_object_get(json_object_get(ex, "trigger"), "variables"), .env = &env};
    char err[256];
    json_t *t = J("{\"id\": \"webhook\", \"when\": \"{{ trigger.body.action == 'deploy' }}\"}");
    assert_int_equal(kt_trigger_conditions_test(t, &ctx, err, sizeof err), KT_COND_TRUE);
    json_object_set_new(t, "when", json_string("{{ trigger.body.action == 'rollback' }}"));
    assert_int_equal(kt_trigger_conditions_test(t, &ctx, err, sizeof err), KT_COND_FALSE);
    /* the ci-cd-github-webhook blueprint's 2.0 `when` */
    json_object_set_new(t, "when", json_string("{{ trigger.body.pull_request.state == 'open' }}"));
    assert_int_equal(kt_trigger_conditions_test(t, &ctx, err, sizeof err), KT_COND_TRUE);
    /* conditions first, then when: a false condition is false whatever when says */
    json_object_set_new(t, "conditions", J("[{\"type\": \"io.kestra.plugin.core.condition.Expression\", "
                                           "\"expression\": \"{{ trigger.body.action == 'x' }}\"}]"));
    assert_int_equal(kt_trigger_conditions_test(t, &ctx, err, sizeof err), KT_COND_FALSE);
    json_object_del(t, "conditions");
    json_object_set_new(t, "when", json_string("{{ trigger.body.action | nosuchfilter }}"));
    assert_int_equal(kt_trigger_conditions_test(t, &ctx, err, sizeof err), KT_COND_ERROR);
    assert_non_null(strstr(err, "when: "));
    json_object_del(t, "when");
    assert_int_equal(kt_trigger_when_test(t, &ctx, err, sizeof err), KT_COND_TRUE);
    /* a YAML boolean is its text */
    json_object_set_new(t, "when", json_false());
    assert_int_equal(kt_trigger_when_test(t, &ctx, err, sizeof err), KT_COND_FALSE);
    json_decref(t);
    json_decref(ex);
    json_decref(flow);
}

/* A Flow trigger's `when` variables: the guide's bare names and the `trigger.` prefix Kestra's rewrite of
 * flow-condition-not uses, the upstream's flow outputs, labels as a map and hasRetryAttempt. */
static void test_flow_when_variables(void **state)
{
    (void)state;
    json_t *flow = J("{\"id\": \"down\", \"namespace\": \"company.team\", \"variables\": {\"env\": \"prod\"}}");
    json_t *up = J("{\"id\": \"up1\", \"namespace\": \"company.analytics.daily\", \"flowId\": \"extract\", "
                   "\"flowRevision\": 4, \"state\": {\"current\": \"FAILED\"}, \"outputs\": {\"ok\": true, \"n\": 3}, "
                   "\"labels\": [{\"key\": \"team\", \"value\": \"data\"}], \"taskRunList\": [{\"id\": \"r\", "
                   "\"attempts\": [{\"state\": {\"current\": \"FAILED\"}}, {\"state\": {\"current\": \"FAILED\"}}]}]}");
    json_t *v = kt_trigger_when_flow_vars(flow, up);
    kt_env env;
    kt_env_init(&env, 0, 1);
    char err[256];
    static const struct {
        const char *when;
        kt_cond_result want;
    } cases[] = {
        {"{{ namespace == trigger.namespace and flowId == 'extract' and trigger.flowId == flowId }}", KT_COND_TRUE},
        /* Kestra's rewrite of flow-condition-not writes `trigger.namespace startsWith '...'`, a binary operator
         * Kite's Pebble does not have (its parser refuses it); the filter form says the same */
        {"{{ not (trigger.namespace | startsWith('company.analytics')) }}", KT_COND_FALSE},
        {"{{ trigger.namespace startsWith 'company.analytics' }}", KT_COND_ERROR},
        {"{{ namespace | startsWith('company') }}", KT_COND_TRUE},
        {"{{ state == 'FAILED' and trigger.state == 'FAILED' }}", KT_COND_TRUE},
        {"{{ outputs.ok == true and trigger.outputs.n == 3 }}", KT_COND_TRUE},
        {"{{ labels.team == 'data' and trigger.labels.team == 'data' }}", KT_COND_TRUE},
        {"{{ hasRetryAttempt }}", KT_COND_TRUE},
        {"{{ trigger.executionId == 'up1' and executionId == 'up1' and trigger.flowRevision == 4 }}", KT_COND_TRUE},
        {"{{ flow.id == 'down' and vars.env == 'prod' }}", KT_COND_TRUE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kt_cond_result r = kt_trigger_when_eval(cases[i].when, v, &env, err, sizeof err);
        if (r != cases[i].want)
            fail_msg("%s: %d (%s)", cases[i].when, r, r == KT_COND_ERROR ? err : "");
    }
    json_decref(v);
    json_decref(up);
    json_decref(flow);
}

/* `when` makes a flow 2.x (flow/dialect.c) and the flow validates; a 1.x flow with conditions stays 1.x. */
static void test_when_flows_are_2x(void **state)
{
    (void)state;
    kt_flow *a = load("every-monday.1x.yaml"), *b = load("every-monday.2x.yaml");
    assert_int_equal(kt_dialect_of_flow(kt_flow_json(a)), KT_DIALECT_1X);
    assert_int_equal(kt_dialect_of_flow(kt_flow_json(b)), KT_DIALECT_2X);
    kt_flow_free(a);
    kt_flow_free(b);
}

/* B7: a 2.x Schedule must supply every input without defaults (prefill / required: false do not exempt one, an input
 * gated by an input dependsOn does); 1.x accepts the flow (0.21). */
static char *validate(const char *dialect, const char *trigger_inputs)
{
    char src[2048];
    snprintf(src, sizeof src,
             "id: sched_required\nnamespace: company.team\ndialect: %s\ninputs:\n  - id: region\n    type: STRING\n"
             "  - id: opt\n    type: STRING\n    required: false\n  - id: ok\n    type: STRING\n    defaults: eu\n"
             "  - id: gated\n    type: STRING\n    dependsOn:\n      inputs: [region]\n"
             "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
             "triggers:\n  - id: daily\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: \"@daily\"\n%s",
             dialect, trigger_inputs);
    kt_flow *f = NULL;
    kt_diags d;
    kt_diags_init(&d);
    kt_status st = kt_flow_parse(src, strlen(src), "f.yaml", &f, &d);
    char *msg = st == KT_OK ? NULL : kt_diags_format(&d);
    kt_diags_clear(&d);
    kt_flow_free(f);
    return msg;
}

static void test_schedule_must_supply_inputs_in_2x(void **state)
{
    (void)state;
    char *msg = validate("2.x", "");
    assert_non_null(msg);
    if (!strstr(msg, "triggers[0]: Missing inputs for Schedule Trigger 'daily', missing inputs: 'region', 'opt'"))
        fail_msg("%s", msg);
    free(msg);
    msg = validate("2.x", "    inputs:\n      region: eu\n");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "triggers[0].inputs: Missing inputs for Schedule Trigger 'daily', missing inputs: 'opt'"));
    free(msg);
    assert_null(validate("2.x", "    inputs:\n      region: eu\n      opt: x\n"));
    assert_null(validate("1.x", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule_pairs_fire_the_same_dates),
        cmocka_unit_test(test_schedule_on_dates_when),
        cmocka_unit_test(test_timebetween_rewrite_adds_the_opening_hour),
        cmocka_unit_test(test_datetimebetween_rewrite_does_not_evaluate),
        cmocka_unit_test(test_functions_answer_as_the_conditions),
        cmocka_unit_test(test_webhook_when),
        cmocka_unit_test(test_flow_when_variables),
        cmocka_unit_test(test_when_flows_are_2x),
        cmocka_unit_test(test_schedule_must_supply_inputs_in_2x),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
