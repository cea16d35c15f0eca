/* The Schedule and ScheduleOnDates rules (flow/trigger.h, KESTRA-execution.md §5.3-5.5) with an injected clock:
 * every decision is a function of (definition, stored state, now). Dates below are worked out by hand from the
 * zones' rules (Europe/Paris: CET+1/CEST+2, 2025-03-30 02:00->03:00 and 2025-10-26 03:00->02:00;
 * America/New_York: EST-5/EDT-4, 2025-03-09 02:00->03:00 and 2025-11-02 02:00->01:00). */
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

#define SEC INT64_C(1000000)

static const char *FLOW = "{\"id\": \"hello\", \"namespace\": \"company.team\", \"revision\": 3}";

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

typedef struct fx {
    json_t *flow, *def;
    kt_sched *s;
    kt_trig_state t;
    kt_env env;
} fx;

static void setup(fx *f, const char *def, const char *default_zone, kt_sched_recover rec)
{
    memset(f, 0, sizeof *f);
    f->flow = J(FLOW);
    f->def = J(def);
    kt_env_init(&f->env, T("2025-01-01T00:00:00Z"), 42);
    char err[256] = "";
    if (kt_sched_compile(f->def, f->flow, default_zone, rec, &f->env, &f->s, err, sizeof err))
        fail_msg("compile: %s", err);
}

static void state(fx *f, const char *date, const char *next)
{
    kt_trig_state_clear(&f->t);
    f->t.namespace_ = strdup("company.team");
    f->t.flow_id = strdup("hello");
    f->t.trigger_id = strdup("schedule");
    f->t.date_us = date ? T(date) : 0;
    f->t.next_us = next ? T(next) : 0;
}

static void teardown(fx *f)
{
    kt_sched_free(f->s);
    kt_trig_state_clear(&f->t);
    json_decref(f->flow);
    json_decref(f->def);
}

static const char *var(const kt_sched_fire *fi, const char *k)
{
    return json_string_value(json_object_get(fi->vars, k));
}

/* Evaluates at now expecting FIRE, checks the trigger variables (NULL: absent), advances, and checks the next
 * evaluation date. */
static void fire_and_advance(fx *f, int64_t now, const char *date, const char *next, const char *prev,
                             const char *next_eval)
{
    kt_sched_fire fi;
    int64_t due = -1;
    kt_sched_verdict v = kt_sched_evaluate(f->s, f->flow, &f->t, now, &f->env, &fi, &due);
    if (v != KT_SCHED_FIRE)
        fail_msg("verdict %d, want FIRE (%s)", v, fi.error);
    assert_string_equal(var(&fi, "date"), date);
    if (next)
        assert_string_equal(var(&fi, "next"), next);
    else
        assert_null(json_object_get(fi.vars, "next"));
    if (prev)
        assert_string_equal(var(&fi, "previous"), prev);
    else
        assert_null(json_object_get(fi.vars, "previous"));
    assert_int_equal(kt_sched_advance(f->s, f->flow, &f->t, v, &fi, now, &f->env), KT_OK);
    assert_int_equal(f->t.next_us, T(next_eval));
    kt_sched_fire_clear(&fi);
}

static kt_sched_verdict eval(fx *f, int64_t now, int64_t *due)
{
    kt_sched_fire fi;
    kt_sched_verdict v = kt_sched_evaluate(f->s, f->flow, &f->t, now, &f->env, &fi, due);
    if (v != KT_SCHED_WAIT)
        assert_int_equal(kt_sched_advance(f->s, f->flow, &f->t, v, &fi, now, &f->env), KT_OK);
    kt_sched_fire_clear(&fi);
    return v;
}

/* ---- DST ---- */

static void test_dst_paris(void **st)
{
    (void)st;
    fx f;
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"30 2 * * *\","
              " \"timezone\": \"Europe/Paris\"}", NULL, KT_SCHED_RECOVER_ALL);
    assert_string_equal(kt_sched_zone(f.s), "Europe/Paris");
    /* spring forward: 02:30 does not exist on 2025-03-30, the day is skipped */
    state(&f, "2025-03-28T01:30:00Z", "2025-03-29T01:30:00Z");
    fire_and_advance(&f, T("2025-03-29T01:30:00Z"), "2025-03-29T02:30:00+01:00", "2025-03-31T02:30:00+02:00",
                     "2025-03-28T02:30:00+01:00", "2025-03-31T00:30:00Z");
    assert_int_equal(f.t.date_us, T("2025-03-29T01:30:00Z"));
    fire_and_advance(&f, T("2025-03-31T00:30:00Z"), "2025-03-31T02:30:00+02:00", "2025-04-01T02:30:00+02:00",
                     "2025-03-29T02:30:00+01:00", "2025-04-01T00:30:00Z");
    /* fall back: 02:30 happens twice on 2025-10-26, a daily schedule fires the first (summer) one only */
    state(&f, "2025-10-25T00:30:00Z", "2025-10-26T00:30:00Z");
    fire_and_advance(&f, T("2025-10-26T00:30:01Z"), "2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00",
                     "2025-10-25T02:30:00+02:00", "2025-10-27T01:30:00Z");
    teardown(&f);

    /* an hourly schedule keeps firing through the repeated hour: 02:00+02:00 then 02:00+01:00 */
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"0 * * * *\","
              " \"timezone\": \"Europe/Paris\"}", NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-10-25T23:00:00Z", "2025-10-26T00:00:00Z");
    fire_and_advance(&f, T("2025-10-26T00:00:00Z"), "2025-10-26T02:00:00+02:00", "2025-10-26T02:00:00+01:00",
                     "2025-10-26T01:00:00+02:00", "2025-10-26T01:00:00Z");
    fire_and_advance(&f, T("2025-10-26T01:00:00Z"), "2025-10-26T02:00:00+01:00", "2025-10-26T03:00:00+01:00",
                     "2025-10-26T02:00:00+02:00", "2025-10-26T02:00:00Z");
    teardown(&f);
}

static void test_dst_new_york(void **st)
{
    (void)st;
    fx f;
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"30 2 * * *\","
              " \"timezone\": \"America/New_York\"}", NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-03-07T07:30:00Z", "2025-03-08T07:30:00Z");
    fire_and_advance(&f, T("2025-03-08T07:30:00Z"), "2025-03-08T02:30:00-05:00", "2025-03-10T02:30:00-04:00",
                     "2025-03-07T02:30:00-05:00", "2025-03-10T06:30:00Z");
    teardown(&f);

    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"30 1 * * *\","
              " \"timezone\": \"America/New_York\"}", NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-11-01T05:30:00Z", "2025-11-02T05:30:00Z");
    fire_and_advance(&f, T("2025-11-02T05:30:00Z"), "2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00",
                     "2025-11-01T01:30:00-04:00", "2025-11-03T06:30:00Z");
    /* the repeated 01:30 (EST, 06:30Z) is not an occurrence: nothing due at it */
    int64_t due;
    assert_int_equal(eval(&f, T("2025-11-02T06:30:00Z"), &due), KT_SCHED_WAIT);
    assert_int_equal(due, T("2025-11-03T06:30:00Z"));
    teardown(&f);
}

/* ---- first date, waiting, UTC variables, withSeconds, a stored date that is not an occurrence ---- */

static void test_first_wait_utc_seconds(void **st)
{
    (void)st;
    fx f;
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"@daily\"}",
          NULL, KT_SCHED_RECOVER_ALL);
    int64_t next;
    assert_int_equal(kt_sched_first(f.s, T("2025-01-01T10:00:00Z") + 123, &next), KT_OK);
    assert_int_equal(next, T("2025-01-02T00:00:00Z"));
    /* a new trigger: date = now to the second, next = first occurrence, stopAfter from the definition */
    kt_trig_state t;
    assert_int_equal(kt_sched_init_state(f.s, "company.team", "hello", T("2025-01-01T10:00:00Z") + 123, NULL, &t),
                     KT_OK);
    assert_string_equal(t.trigger_id, "schedule");
    assert_int_equal(t.date_us, T("2025-01-01T10:00:00Z"));
    assert_int_equal(t.next_us, T("2025-01-02T00:00:00Z"));
    assert_null(t.stop_after);
    f.t = t;
    int64_t due;
    assert_int_equal(eval(&f, T("2025-01-01T23:59:59Z"), &due), KT_SCHED_WAIT);
    assert_int_equal(due, T("2025-01-02T00:00:00Z"));
    /* no timezone: the server's zone (UTC), written with Z */
    fire_and_advance(&f, T("2025-01-02T00:00:00Z"), "2025-01-02T00:00:00Z", "2025-01-03T00:00:00Z",
                     "2025-01-01T00:00:00Z", "2025-01-03T00:00:00Z");
    teardown(&f);

    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"* * * * * *\","
              " \"withSeconds\": true, \"timezone\": \"Asia/Kolkata\"}", NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-01-01T00:00:00Z", "2025-01-01T00:00:01Z");
    fire_and_advance(&f, T("2025-01-01T00:00:01Z") + 400000, "2025-01-01T05:30:01+05:30", "2025-01-01T05:30:02+05:30",
                     "2025-01-01T05:30:00+05:30", "2025-01-01T00:00:02Z");
    teardown(&f);

    /* a stored next date that is not an occurrence (the cron changed): the occurrence after it is waited for
     * (never fired more than 1 s ahead), fired once, and not repeated */
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"0 * * * *\"}",
          NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-01-01T09:00:00Z", "2025-01-01T10:00:30Z");
    assert_int_equal(eval(&f, T("2025-01-01T10:00:40Z"), &due), KT_SCHED_WAIT);
    assert_int_equal(due, T("2025-01-01T11:00:00Z"));
    assert_int_equal(eval(&f, T("2025-01-01T10:59:59Z"), &due), KT_SCHED_FIRE); /* within 1 s */
    assert_int_equal(f.t.date_us, T("2025-01-01T11:00:00Z"));
    assert_int_equal(f.t.next_us, T("2025-01-01T12:00:00Z"));
    teardown(&f);
}

/* ---- lateMaximumDelay ---- */

static void test_late_maximum_delay(void **st)
{
    (void)st;
    fx f;
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"0 * * * *\","
              " \"lateMaximumDelay\": \"PT30M\"}", NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-01-01T00:00:00Z", "2025-01-01T01:00:00Z");
    int64_t due, now = T("2025-01-01T05:10:00Z");
    /* 01:00 is 4 h late (> 30 min): skipped, and the next date jumps to the first one not too late: 05:00 */
    assert_int_equal(eval(&f, now, &due), KT_SCHED_SKIP);
    assert_int_equal(f.t.date_us, T("2025-01-01T01:00:00Z"));
    assert_int_equal(f.t.next_us, T("2025-01-01T05:00:00Z"));
    fire_and_advance(&f, now, "2025-01-01T05:00:00Z", "2025-01-01T06:00:00Z", "2025-01-01T04:00:00Z",
                     "2025-01-01T06:00:00Z");
    /* 29 minutes late is still in time */
    state(&f, "2025-01-01T05:00:00Z", "2025-01-01T06:00:00Z");
    fire_and_advance(&f, T("2025-01-01T06:29:00Z"), "2025-01-01T06:00:00Z", "2025-01-01T07:00:00Z",
                     "2025-01-01T05:00:00Z", "2025-01-01T07:00:00Z");
    teardown(&f);
}

/* ---- recoverMissedSchedules: a server down from 10:30 to 14:30 missed 11:00, 12:00, 13:00, 14:00 ---- */

static int run_until_wait(fx *f, int64_t now, int64_t *fired, int max)
{
    int n = 0;
    for (;;) {
        kt_sched_fire fi;
        int64_t due;
        kt_sched_verdict v = kt_sched_evaluate(f->s, f->flow, &f->t, now, &f->env, &fi, &due);
        if (v == KT_SCHED_WAIT) {
            kt_sched_fire_clear(&fi);
            return n;
        }
        assert_true(v == KT_SCHED_FIRE || v == KT_SCHED_SKIP);
        if (v == KT_SCHED_FIRE) {
            assert_true(n < max);
            fired[n++] = fi.date_us;
        }
        assert_int_equal(kt_sched_advance(f->s, f->flow, &f->t, v, &fi, now, &f->env), KT_OK);
        f->t.execution_id = strdup("exec"); /* the lock the actor sets ... */
        kt_trig_reset_execution(&f->t, "SUCCESS"); /* ... released when the execution ends */
        kt_sched_fire_clear(&fi);
    }
}

static void test_recover_missed(void **st)
{
    (void)st;
    const char *def = "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\","
                      " \"cron\": \"0 * * * *\", \"recoverMissedSchedules\": \"%s\"}";
    const char *modes[] = {"ALL", "LAST", "NONE"};
    int64_t now = T("2025-01-01T14:30:00Z");
    for (int m = 0; m < 3; m++) {
        char d[256];
        snprintf(d, sizeof d, def, modes[m]);
        fx f;
        setup(&f, d, NULL, KT_SCHED_RECOVER_ALL);
        assert_int_equal(kt_sched_recover_mode(f.s), (kt_sched_recover)m);
        state(&f, "2025-01-01T10:00:00Z", "2025-01-01T11:00:00Z");
        int changed = kt_sched_recover_missed(f.s, f.flow, &f.t, now, &f.env);
        int64_t fired[16];
        int n = run_until_wait(&f, now, fired, 16);
        if (m == 0) { /* ALL: the four missed ticks, in order */
            assert_false(changed);
            assert_int_equal(n, 4);
            for (int i = 0; i < 4; i++)
                assert_int_equal(fired[i], T("2025-01-01T11:00:00Z") + i * 3600 * SEC);
        } else if (m == 1) { /* LAST: only 14:00 */
            assert_true(changed);
            assert_int_equal(n, 1);
            assert_int_equal(fired[0], T("2025-01-01T14:00:00Z"));
        } else { /* NONE: nothing until 15:00 */
            assert_true(changed);
            assert_int_equal(n, 0);
        }
        assert_int_equal(f.t.next_us, T("2025-01-01T15:00:00Z"));
        /* LAST after a short outage that missed nothing keeps the stored next date */
        if (m == 1) {
            state(&f, "2025-01-01T10:00:00Z", "2025-01-01T11:00:00Z");
            assert_false(kt_sched_recover_missed(f.s, f.flow, &f.t, T("2025-01-01T10:45:00Z"), &f.env));
            assert_int_equal(f.t.next_us, T("2025-01-01T11:00:00Z"));
        }
        teardown(&f);
    }
    /* the configured default applies when the trigger does not say */
    fx f;
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"0 * * * *\"}",
          NULL, KT_SCHED_RECOVER_NONE);
    assert_int_equal(kt_sched_recover_mode(f.s), KT_SCHED_RECOVER_NONE);
    teardown(&f);
    kt_sched_recover r;
    assert_int_equal(kt_sched_recover_of("LAST", &r), 0);
    assert_int_equal(r, KT_SCHED_RECOVER_LAST);
    assert_int_equal(kt_sched_recover_of("last", &r), -1);
}

/* ---- backfill ---- */

static void test_backfill(void **st)
{
    (void)st;
    fx f;
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"0 0 * * *\","
              " \"inputs\": {\"who\": \"{{ flow.id }}\", \"n\": 1}, \"labels\": {\"team\": \"{{ flow.namespace }}\"}}",
          NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-01-10T00:00:00Z", "2025-01-11T00:00:00Z");
    int64_t now = T("2025-01-10T12:00:00Z");
    kt_trig_backfill *bf = calloc(1, sizeof *bf);
    bf->start_us = T("2025-01-01T00:00:00Z");
    bf->end_us = T("2025-01-03T12:00:00Z");
    bf->inputs = J("{\"n\": 2}");
    bf->labels = J("[{\"key\": \"backfill\", \"value\": \"{{ flow.revision }}\"}]");
    assert_int_equal(kt_sched_update(f.s, f.flow, &f.t, 0, bf, now, &f.env), KT_OK);
    assert_int_equal(f.t.backfill->current_us, T("2025-01-01T00:00:00Z"));
    assert_int_equal(f.t.backfill->prev_next_us, T("2025-01-11T00:00:00Z"));
    assert_int_equal(f.t.next_us, T("2025-01-02T00:00:00Z"));

    /* first occurrence, with the trigger's and the backfill's inputs and labels */
    kt_sched_fire fi;
    int64_t due;
    assert_int_equal(kt_sched_evaluate(f.s, f.flow, &f.t, now, &f.env, &fi, &due), KT_SCHED_FIRE);
    assert_true(fi.backfill);
    assert_int_equal(fi.date_us, T("2025-01-01T00:00:00Z"));
    assert_string_equal(var(&fi, "date"), "2025-01-01T00:00:00Z");
    json_t *want_in = J("{\"who\": \"hello\", \"n\": 2}");
    assert_true(json_equal(fi.inputs, want_in));
    json_decref(want_in);
    json_t *want_lb = J("[{\"key\": \"team\", \"value\": \"company.team\"}, {\"key\": \"backfill\", \"value\": \"3\"}]");
    assert_true(json_equal(fi.labels, want_lb));
    json_decref(want_lb);
    assert_int_equal(kt_sched_advance(f.s, f.flow, &f.t, KT_SCHED_FIRE, &fi, now, &f.env), KT_OK);
    kt_sched_fire_clear(&fi);
    assert_int_equal(f.t.backfill->current_us, T("2025-01-02T00:00:00Z"));
    assert_int_equal(f.t.date_us, T("2025-01-02T00:00:00Z")); /* during a backfill: the old next date */

    /* paused: nothing, and nothing to arm */
    f.t.backfill->paused = 1;
    assert_int_equal(eval(&f, now, &due), KT_SCHED_WAIT);
    assert_int_equal(due, 0);
    f.t.backfill->paused = 0;

    int64_t fired[8];
    int n = run_until_wait(&f, now, fired, 8);
    assert_int_equal(n, 2);
    assert_int_equal(fired[0], T("2025-01-02T00:00:00Z"));
    assert_int_equal(fired[1], T("2025-01-03T00:00:00Z"));
    /* past its end the backfill is removed and the schedule's own next date restored */
    assert_null(f.t.backfill);
    assert_int_equal(f.t.next_us, T("2025-01-11T00:00:00Z"));

    /* a start between occurrences: the current date first moves to the occurrence, then it fires */
    bf = calloc(1, sizeof *bf);
    bf->start_us = T("2025-01-05T10:00:00Z"); /* no end: until now */
    assert_int_equal(kt_sched_update(f.s, f.flow, &f.t, 0, bf, now, &f.env), KT_OK);
    assert_int_equal(f.t.backfill->end_us, now);
    n = run_until_wait(&f, now, fired, 8);
    assert_int_equal(n, 5); /* 01-06 .. 01-10 */
    assert_int_equal(fired[0], T("2025-01-06T00:00:00Z"));
    assert_int_equal(fired[4], T("2025-01-10T00:00:00Z"));
    assert_null(f.t.backfill);
    assert_int_equal(f.t.next_us, T("2025-01-11T00:00:00Z"));

    /* deleted through the API: the next date restored */
    bf = calloc(1, sizeof *bf);
    bf->start_us = T("2025-01-01T00:00:00Z");
    kt_sched_update(f.s, f.flow, &f.t, 0, bf, now, &f.env);
    assert_int_not_equal(f.t.next_us, T("2025-01-11T00:00:00Z"));
    assert_int_equal(kt_trig_backfill_delete(&f.t), 0);
    assert_int_equal(f.t.next_us, T("2025-01-11T00:00:00Z"));
    teardown(&f);
}

/* ---- PUT /api/v1/triggers: disable, re-enable with recovery ---- */

static void test_update_disable_enable(void **st)
{
    (void)st;
    fx f;
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"0 * * * *\","
              " \"recoverMissedSchedules\": \"LAST\"}", NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-01-01T10:00:00Z", "2025-01-01T11:00:00Z");
    assert_int_equal(kt_sched_update(f.s, f.flow, &f.t, 1, NULL, T("2025-01-01T10:30:00Z"), &f.env), KT_OK);
    assert_true(f.t.disabled);
    assert_int_equal(f.t.next_us, 0);
    int64_t due;
    assert_int_equal(eval(&f, T("2025-01-01T14:00:00Z"), &due), KT_SCHED_WAIT);
    assert_int_equal(due, 0);
    assert_int_equal(kt_sched_update(f.s, f.flow, &f.t, 0, NULL, T("2025-01-01T14:30:00Z"), &f.env), KT_OK);
    assert_false(f.t.disabled);
    assert_int_equal(f.t.next_us, T("2025-01-01T14:00:00Z")); /* LAST */
    teardown(&f);

    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"0 * * * *\"}",
          NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-01-01T10:00:00Z", "2025-01-01T11:00:00Z");
    f.t.disabled = 1;
    assert_int_equal(kt_sched_update(f.s, f.flow, &f.t, 0, NULL, T("2025-01-01T14:30:00Z"), &f.env), KT_OK);
    assert_int_equal(f.t.next_us, T("2025-01-01T11:00:00Z")); /* ALL: from the last date */
    teardown(&f);
}

/* ---- conditions (Expression conditions; dates given to them in the server zone) ---- */

static void test_conditions(void **st)
{
    (void)st;
    fx f;
    /* Mondays only, a daily noon schedule in Paris; the condition sees 11:00Z */
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"0 12 * * *\","
              " \"timezone\": \"Europe/Paris\", \"conditions\": [{\"type\": \"io.kestra.plugin.core.condition.Expression\","
              " \"expression\": \"{{ trigger.date is defined and (trigger.date | date('EEEE', timeZone='UTC')) == 'Monday' }}\"}]}",
          NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-01-05T11:00:00Z", "2025-01-06T11:00:00Z");
    fire_and_advance(&f, T("2025-01-06T11:00:00Z"), "2025-01-06T12:00:00+01:00", "2025-01-13T12:00:00+01:00",
                     "2024-12-30T12:00:00+01:00", "2025-01-13T11:00:00Z");
    /* a Tuesday: skipped, and the next date is the next Monday */
    state(&f, "2025-01-06T11:00:00Z", "2025-01-07T11:00:00Z");
    int64_t due;
    assert_int_equal(eval(&f, T("2025-01-07T11:00:00Z"), &due), KT_SCHED_SKIP);
    assert_int_equal(f.t.next_us, T("2025-01-13T11:00:00Z"));
    teardown(&f);

    /* no satisfying later occurrence: next is absent (Kestra's impossibleNextConditions) */
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"0 12 * * 1\","
              " \"timezone\": \"Europe/Paris\", \"conditions\": [{\"type\": \"io.kestra.plugin.core.condition.Expression\","
              " \"expression\": \"{{ ((trigger.date | date('yyyyMMdd', timeZone='UTC')) | number) < 20210803 }}\"}]}",
          NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2021-07-26T10:00:00Z", "2021-08-02T10:00:00Z");
    fire_and_advance(&f, T("2021-08-02T10:00:00Z"), "2021-08-02T12:00:00+02:00", NULL, "2021-07-26T12:00:00+02:00",
                     "2021-08-09T10:00:00Z");
    teardown(&f);
}

static void test_condition_errors(void **st)
{
    (void)st;
    fx f;
    /* fails already in the pre-check (trigger = {date}): a FAILED execution without trigger nor trigger labels,
     * the next date restarts from now, stopAfter FAILED disables */
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"0 * * * *\","
              " \"stopAfter\": [\"FAILED\"], \"labels\": {\"a\": \"b\"},"
              " \"conditions\": [{\"type\": \"io.kestra.plugin.core.condition.Expression\", \"expression\": \"{{ nope.x }}\"}]}",
          NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-01-01T09:00:00Z", "2025-01-01T10:00:00Z");
    kt_sched_fire fi;
    int64_t due, now = T("2025-01-01T12:10:00Z");
    assert_int_equal(kt_sched_evaluate(f.s, f.flow, &f.t, now, &f.env, &fi, &due), KT_SCHED_FAIL);
    assert_true(fi.precheck);
    assert_int_equal(json_array_size(fi.labels), 0);
    assert_non_null(strstr(fi.error, "Unable to evaluate the trigger 'schedule'"));
    assert_int_equal(kt_sched_advance(f.s, f.flow, &f.t, KT_SCHED_FAIL, &fi, now, &f.env), KT_OK);
    kt_sched_fire_clear(&fi);
    assert_int_equal(f.t.next_us, T("2025-01-01T13:00:00Z"));
    assert_true(f.t.disabled);
    assert_null(f.t.execution_id);
    teardown(&f);

    /* passes the pre-check but fails with the full dates: Schedule's own FAILED execution, with its labels */
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"0 * * * *\","
              " \"labels\": {\"a\": \"b\"},"
              " \"conditions\": [{\"type\": \"io.kestra.plugin.core.condition.Expression\","
              " \"expression\": \"{{ trigger.next is defined ? nope.x : true }}\"}]}",
          NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-01-01T09:00:00Z", "2025-01-01T10:00:00Z");
    now = T("2025-01-01T10:00:00Z");
    assert_int_equal(kt_sched_evaluate(f.s, f.flow, &f.t, now, &f.env, &fi, &due), KT_SCHED_FAIL);
    assert_false(fi.precheck);
    assert_non_null(strstr(fi.error, "Unable to evaluate the Schedule trigger 'schedule'"));
    json_t *want = J("[{\"key\": \"a\", \"value\": \"b\"}]");
    assert_true(json_equal(fi.labels, want));
    json_decref(want);
    assert_int_equal(kt_sched_advance(f.s, f.flow, &f.t, KT_SCHED_FAIL, &fi, now, &f.env), KT_OK);
    kt_sched_fire_clear(&fi);
    assert_int_equal(f.t.next_us, T("2025-01-01T11:00:00Z"));
    assert_false(f.t.disabled);
    teardown(&f);

    /* inputs that do not render: no execution (Kestra logs and moves on) */
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"0 * * * *\","
              " \"inputs\": {\"x\": \"{{ trigger.date }}\"}}",
          NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-01-01T09:00:00Z", "2025-01-01T10:00:00Z");
    assert_int_equal(kt_sched_evaluate(f.s, f.flow, &f.t, now, &f.env, &fi, &due), KT_SCHED_SKIP);
    assert_non_null(strstr(fi.error, "inputs"));
    kt_sched_fire_clear(&fi);
    teardown(&f);
}

/* ---- ScheduleOnDates ---- */

static void test_schedule_on_dates(void **st)
{
    (void)st;
    fx f;
    setup(&f, "{\"id\": \"schedule\", \"type\": \"io.kestra.plugin.core.trigger.ScheduleOnDates\","
              " \"inputs\": {\"f\": \"{{ flow.id }}\"},"
              " \"dates\": [\"2025-01-03T10:00:00+01:00\", \"2025-01-01T10:00:00Z\", \"2025-01-02T10:00:00Z[UTC]\","
              " \"{{ '2025-02-01T00:00:00Z' }}\"]}",
          NULL, KT_SCHED_RECOVER_ALL);
    int64_t next;
    kt_sched_first(f.s, T("2024-12-31T00:00:00Z"), &next);
    assert_int_equal(next, T("2025-01-01T10:00:00Z"));
    state(&f, "2024-12-31T00:00:00Z", "2025-01-01T10:00:00Z");
    const char *want[] = {"2025-01-01T10:00:00Z", "2025-01-02T10:00:00Z", "2025-01-03T09:00:00Z",
                          "2025-02-01T00:00:00Z"};
    for (int i = 0; i < 4; i++) {
        kt_sched_fire fi;
        int64_t due, now = T(want[i]);
        assert_int_equal(kt_sched_evaluate(f.s, f.flow, &f.t, now - SEC, &f.env, &fi, &due), KT_SCHED_WAIT);
        assert_int_equal(due, T(want[i]));
        kt_sched_fire_clear(&fi);
        assert_int_equal(kt_sched_evaluate(f.s, f.flow, &f.t, now, &f.env, &fi, &due), KT_SCHED_FIRE);
        assert_int_equal(fi.schedule_date_us, T(want[i]));
        assert_int_equal(json_object_size(fi.vars), 0); /* empty trigger variables */
        assert_string_equal(json_string_value(json_object_get(fi.inputs, "f")), "hello");
        assert_int_equal(kt_sched_advance(f.s, f.flow, &f.t, KT_SCHED_FIRE, &fi, now, &f.env), KT_OK);
        kt_sched_fire_clear(&fi);
        if (i < 3)
            assert_int_equal(f.t.next_us, T(want[i + 1]));
    }
    /* none left: now + 1 year */
    assert_int_equal(f.t.next_us, T("2026-02-01T00:00:00Z"));
    int64_t due;
    assert_int_equal(eval(&f, T("2026-02-01T00:00:00Z"), &due), KT_SCHED_SKIP);
    assert_int_equal(f.t.next_us, T("2027-02-01T00:00:00Z"));
    teardown(&f);

    /* an expression giving the list */
    setup(&f, "{\"id\": \"d\", \"type\": \"io.kestra.plugin.core.trigger.ScheduleOnDates\","
              " \"dates\": \"{{ ['2025-03-01T00:00:00Z', '2025-01-01T00:00:00Z'] }}\"}", NULL, KT_SCHED_RECOVER_ALL);
    kt_sched_first(f.s, T("2024-12-31T00:00:00Z"), &next);
    assert_int_equal(next, T("2025-01-01T00:00:00Z"));
    teardown(&f);
}

/* ---- compile errors, definitions, revisions ---- */

static void expect_compile_error(const char *def, const char *want)
{
    json_t *d = J(def), *flow = J(FLOW);
    kt_sched *s = (kt_sched *)1;
    char err[256] = "";
    kt_env env;
    kt_env_init(&env, 0, 1);
    assert_int_equal(kt_sched_compile(d, flow, NULL, KT_SCHED_RECOVER_ALL, &env, &s, err, sizeof err), KT_EINVAL);
    assert_null(s);
    if (!strstr(err, want))
        fail_msg("error '%s' does not mention '%s'", err, want);
    json_decref(d);
    json_decref(flow);
}

static void test_compile_errors(void **st)
{
    (void)st;
    const char *S = "\"id\": \"s\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\"";
    char buf[512];
#define BAD(extra, want) (snprintf(buf, sizeof buf, "{%s%s}", S, extra), expect_compile_error(buf, want))
    BAD("", "cron: required");
    BAD(", \"cron\": \"61 * * * *\"", "cron: minute");
    BAD(", \"cron\": \"0 * * * * *\"", "cron:");
    BAD(", \"cron\": \"0 * * * *\", \"timezone\": \"Mars/Olympus\"", "timezone: unknown time zone 'Mars/Olympus'");
    BAD(", \"cron\": \"0 * * * *\", \"recoverMissedSchedules\": \"SOME\"", "recoverMissedSchedules");
    BAD(", \"cron\": \"0 * * * *\", \"lateMaximumDelay\": \"soon\"", "lateMaximumDelay");
    BAD(", \"cron\": \"0 * * * *\", \"conditions\": {}", "conditions");
#undef BAD
    expect_compile_error("{\"id\": \"w\", \"type\": \"io.kestra.plugin.core.trigger.Webhook\", \"key\": \"k\"}",
                         "is not a Schedule");
    expect_compile_error("{\"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"@daily\"}", "id: required");
    expect_compile_error("{\"id\": \"d\", \"type\": \"io.kestra.plugin.core.trigger.ScheduleOnDates\","
                         " \"dates\": [\"2025-01-01\"]}", "dates[0]");
    expect_compile_error("{\"id\": \"d\", \"type\": \"io.kestra.plugin.core.trigger.ScheduleOnDates\"}", "dates");
    expect_compile_error("{\"id\": \"d\", \"type\": \"io.kestra.plugin.core.trigger.ScheduleOnDates\","
                         " \"dates\": [\"{{ nope.x }}\"]}", "dates:");
}

static void test_revisions(void **st)
{
    (void)st;
    json_t *a = J("{\"id\": \"s\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"0 * * * *\"}");
    json_t *b = J("{\"cron\": \"0 * * * *\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"id\": \"s\"}");
    json_t *c = J("{\"id\": \"s\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"30 * * * *\"}");
    assert_true(kt_sched_same_definition(a, b));
    assert_false(kt_sched_same_definition(a, c));
    assert_false(kt_sched_same_definition(a, NULL));
    /* a changed definition: a new state from now, keeping disabled and the running execution's lock */
    fx f;
    setup(&f, "{\"id\": \"s\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"30 * * * *\","
              " \"stopAfter\": [\"FAILED\", \"KILLED\"]}", NULL, KT_SCHED_RECOVER_ALL);
    state(&f, "2025-01-01T09:00:00Z", "2025-01-01T10:00:00Z");
    f.t.disabled = 1;
    f.t.execution_id = strdup("running");
    kt_trig_state n;
    assert_int_equal(kt_sched_init_state(f.s, "company.team", "hello", T("2025-01-01T09:40:00Z"), &f.t, &n), KT_OK);
    assert_int_equal(n.date_us, T("2025-01-01T09:40:00Z"));
    assert_int_equal(n.next_us, T("2025-01-01T10:30:00Z"));
    assert_true(n.disabled);
    assert_string_equal(n.execution_id, "running");
    assert_int_equal(json_array_size(n.stop_after), 2);
    assert_string_equal(kt_sched_id(f.s), "s");
    assert_true(kt_sched_same_definition(kt_sched_definition(f.s), f.def));
    kt_trig_state_clear(&n);
    teardown(&f);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dst_paris),
        cmocka_unit_test(test_dst_new_york),
        cmocka_unit_test(test_first_wait_utc_seconds),
        cmocka_unit_test(test_late_maximum_delay),
        cmocka_unit_test(test_recover_missed),
        cmocka_unit_test(test_backfill),
        cmocka_unit_test(test_update_disable_enable),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_condition_errors),
        cmocka_unit_test(test_schedule_on_dates),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_revisions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
