/* Cron expressions: parsing errors, next/prev for every syntax form, calendars, zones and DST.
 * Expected instants are written by hand as ISO strings with the zone's offset (the DST transition instants
 * were checked with `zdump -v`), and turned into microseconds with libc's timegm, never with the code under
 * test. A brute-force scan (libc gmtime_r, minute by minute) cross-checks UTC results. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "time/cron.h"

#define S 1000000LL

/* "2025-03-30T03:00:00+02:00", "...Z", optional ".ffffff" after the seconds; microseconds since the epoch. */
static int64_t iso(const char *s)
{
    struct tm tm = {0};
    int n = 0, us = 0;
    if (sscanf(s, "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &n) != 6)
        fail_msg("bad test date %s", s);
    const char *p = s + n;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            us = us * 10 + (*p - '0');
        for (; digits < 6; digits++)
            us *= 10;
    }
    int off = 0;
    if (*p == '+' || *p == '-') {
        int h = 0, m = 0;
        if (sscanf(p + 1, "%d:%d", &h, &m) != 2)
            fail_msg("bad test offset %s", s);
        off = (h * 3600 + m * 60) * (*p == '-' ? -1 : 1);
    } else if (*p != 'Z') {
        fail_msg("test date without zone %s", s);
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return ((int64_t)timegm(&tm) - off) * S + us;
}

static void fmt_utc(int64_t us, char *buf, size_t cap)
{
    time_t t = (time_t)(us / S);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---------------------------------------------------------------- parsing */

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *expr;
        int ws;
        const char *err; /* substring of the message */
    } cases[] = {
        {"", 0, "empty cron expression"},
        {"   ", 0, "empty cron expression"},
        {NULL, 0, "empty cron expression"},
        {"* * * *", 0, "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
        {"* * * * * *", 0, "expected 5 fields"},
        {"* * * * *", 1, "expected 6 fields (second minute hour day-of-month month day-of-week), got 5"},
        {"* * * * * * *", 1, "got 7"},
        {"* * * * * * * * * *", 0, "got 10"},
        {"60 * * * *", 0, "minute: 60 is out of range 0-59"},
        {"61 * * * *", 0, "minute: 61 is out of range 0-59"},
        {"* 24 * * *", 0, "hour: 24 is out of range 0-23"},
        {"* * 0 * *", 0, "day-of-month: 0 is out of range 1-31"},
        {"* * 32 * *", 0, "day-of-month: 32 is out of range 1-31"},
        {"* * * 0 *", 0, "month: 0 is out of range 1-12"},
        {"* * * 13 *", 0, "month: 13 is out of range 1-12"},
        {"* * * * 8", 0, "day-of-week: 8 is out of range 0-7"},
        {"60 * * * * *", 1, "second: 60 is out of range 0-59"},
        {"0 60 * * * *", 1, "minute: 60 is out of range 0-59"},
        {"0-60 * * * *", 0, "minute: 60 is out of range 0-59"},
        {"* 1,2,25 * * *", 0, "hour: 25 is out of range 0-23"},
        {"99999999999 * * * *", 0, "minute: 999999 is out of range 0-59"},
        {"*/0 * * * *", 0, "minute: step 0 is out of range 1-59"},
        {"*/60 * * * *", 0, "minute: step 60 is out of range 1-59"},
        {"* */24 * * *", 0, "hour: step 24 is out of range 1-23"},
        {"* * */32 * *", 0, "day-of-month: step 32 is out of range 1-31"},
        {"* * * */13 *", 0, "month: step 13 is out of range 1-12"},
        {"* * * * */8", 0, "day-of-week: step 8 is out of range 1-7"},
        {"*/60 * * * * *", 1, "second: step 60 is out of range 1-59"},
        {"*/ * * * *", 0, "minute: step must be a number"},
        {"*/x * * * *", 0, "minute: step must be a number"},
        {"*/-1 * * * *", 0, "minute: step must be a number"},
        {"5-1 * * * *", 0, "minute: invalid range 5-1"},
        {"* * * DEC-JAN *", 0, "month: invalid range 12-1"},
        {"* * * FOO *", 0, "month: 'FOO' is not a valid value or name"},
        {"* * * * MONDAY", 0, "day-of-week: 'MONDAY' is not a valid value or name"},
        {"* * * * JAN", 0, "day-of-week: 'JAN' is not a valid value or name"},
        {"* * * MON *", 0, "month: 'MON' is not a valid value or name"},
        {"MON * * * *", 0, "minute: 'MON' is not a valid number"},
        {"* * * */JAN *", 0, "month: step must be a number"},
        {"1,,2 * * * *", 0, "minute: empty list element"},
        {"1, * * * *", 0, "minute: empty list element"},
        {",1 * * * *", 0, "minute: empty list element"},
        {"* * ? * MON", 0, "day-of-month: '?' is not supported"},
        {"* * * * ?", 0, "day-of-week: '?' is not supported"},
        {"* * L * *", 0, "day-of-month: 'L' is not supported"},
        {"* * 15W * *", 0, "day-of-month: 'W' is not supported"},
        {"* * * * 5#2", 0, "day-of-week: '#' is not supported"},
        {"* * * * 5L", 0, "day-of-week: 'L' is not supported"},
        {"@reboot", 0, "@reboot is not supported"},
        {"@every", 0, "unknown nickname '@every'"},
        {"@DAILY", 0, "unknown nickname"},
        {"@daily ", 0, "unknown nickname"},
        {"1-2-3 * * * *", 0, "minute: unexpected '-'"},
        {"-1 * * * *", 0, "minute: unexpected '-'"},
        {"* * * * 1-", 0, "day-of-week: a value is missing"},
        {"1.5 * * * *", 0, "minute: unexpected '.'"},
        {"** * * * *", 0, "minute: unexpected '*'"},
        {"*/5/2 * * * *", 0, "minute: unexpected '/'"},
        {"0 0 * * * | 0 1 * * *", 0, "expected 5 fields"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[200] = "untouched";
        kt_cron *c = (kt_cron *)&err; /* must be reset to NULL */
        kt_status st = kt_cron_parse(cases[i].expr, cases[i].ws, &c, err, sizeof err);
        if (st != KT_EINVAL || c != NULL || !strstr(err, cases[i].err))
            fail_msg("case %zu '%s': status %d, err '%s', want '%s'", i, cases[i].expr ? cases[i].expr : "(null)",
                     (int)st, err, cases[i].err);
        assert_int_equal(kt_cron_validate(cases[i].expr, cases[i].ws, NULL, 0), KT_EINVAL);
    }
}

static void test_parse_ok(void **state)
{
    (void)state;
    static const struct {
        const char *expr;
        int ws;
    } cases[] = {
        {"* * * * *", 0},         {"0 0 * * 7", 0},
        {"*/5 1-10/2 1,15 JAN-MAR mon-fri", 0},
        {"0 0 1 jan *", 0},       {"0 0 * * SUN-SAT", 0},
        {"0 0 * * 0-7", 0},       {"5/15 * * * *", 0},
        {"  0   0\t* *  *  ", 0}, {"0 0 0 * * *", 1},
        {"*/59 */23 */31 */12 */7", 0},
        {"59 59 23 31 12 7", 1},  {"@yearly", 0},
        {"@annually", 1},         {"@monthly", 0},
        {"@weekly", 0},           {"@daily", 1},
        {"@midnight", 0},         {"@hourly", 0},
        {"0,15,30,45 0-23/6 1-31/10 1,6,12 MON,wed,Fri", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[200] = "";
        kt_cron *c = NULL;
        if (kt_cron_parse(cases[i].expr, cases[i].ws, &c, err, sizeof err) != KT_OK || !c)
            fail_msg("case %zu '%s': %s", i, cases[i].expr, err);
        kt_cron_free(c);
        assert_int_equal(kt_cron_validate(cases[i].expr, cases[i].ws, NULL, 0), KT_OK);
    }
    kt_cron_free(NULL);
}

/* ---------------------------------------------------------------- next / prev */

typedef struct step_case {
    const char *expr;
    int ws;
    const char *tz;
    const char *from; /* after (next) or before (prev) */
    const char *want; /* NULL: KT_ENOTFOUND */
} step_case;

static void run_steps(const step_case *cases, size_t n, int prev)
{
    for (size_t i = 0; i < n; i++) {
        const step_case *k = &cases[i];
        kt_cron *c = NULL;
        char err[200] = "";
        if (kt_cron_parse(k->expr, k->ws, &c, err, sizeof err))
            fail_msg("%s case %zu '%s': parse: %s", prev ? "prev" : "next", i, k->expr, err);
        int64_t got = -1;
        kt_status st = prev ? kt_cron_prev(c, iso(k->from), k->tz, &got) : kt_cron_next(c, iso(k->from), k->tz, &got);
        kt_cron_free(c);
        if (!k->want) {
            if (st != KT_ENOTFOUND)
                fail_msg("%s case %zu '%s' from %s: status %d, want KT_ENOTFOUND", prev ? "prev" : "next", i,
                         k->expr, k->from, (int)st);
            continue;
        }
        if (st != KT_OK || got != iso(k->want)) {
            char g[40] = "-", w[40];
            if (st == KT_OK)
                fmt_utc(got, g, sizeof g);
            fmt_utc(iso(k->want), w, sizeof w);
            fail_msg("%s case %zu '%s' [%s] from %s: status %d, got %s, want %s (%s)", prev ? "prev" : "next", i,
                     k->expr, k->tz ? k->tz : "UTC", k->from, (int)st, g, k->want, w);
        }
    }
}

static const step_case NEXT[] = {
    /* every form, UTC */
    {"* * * * *", 0, NULL, "2025-01-01T00:00:00Z", "2025-01-01T00:01:00Z"},
    {"* * * * *", 0, NULL, "2025-01-01T00:00:30Z", "2025-01-01T00:01:00Z"},
    {"* * * * *", 0, NULL, "2025-01-01T00:00:59.999999Z", "2025-01-01T00:01:00Z"},
    {"*/5 * * * *", 0, NULL, "2025-01-01T10:07:00Z", "2025-01-01T10:10:00Z"},
    {"*/15 * * * *", 0, NULL, "2025-01-01T23:50:00Z", "2025-01-02T00:00:00Z"},
    {"5/15 * * * *", 0, NULL, "2025-01-01T10:51:00Z", "2025-01-01T11:05:00Z"},
    {"1-10/2 * * * *", 0, NULL, "2025-01-01T10:09:00Z", "2025-01-01T11:01:00Z"},
    {"0 9-17 * * *", 0, NULL, "2025-01-01T17:00:00Z", "2025-01-02T09:00:00Z"},
    {"0 9-17 * * *", 0, NULL, "2025-01-01T12:30:00Z", "2025-01-01T13:00:00Z"},
    {"30 8,12,18 * * *", 0, NULL, "2025-01-01T12:30:00Z", "2025-01-01T18:30:00Z"},
    {"0 */6 * * *", 0, "UTC", "2025-01-01T19:00:00Z", "2025-01-02T00:00:00Z"},
    {"0 0 1 * *", 0, NULL, "2025-01-15T00:00:00Z", "2025-02-01T00:00:00Z"},
    {"0 12 * JAN-MAR *", 0, NULL, "2025-03-31T12:00:00Z", "2026-01-01T12:00:00Z"},
    {"0 0 1 */4 *", 0, NULL, "2025-01-01T00:00:00Z", "2025-05-01T00:00:00Z"},
    {"59 23 31 12 *", 0, NULL, "2025-12-31T23:59:00Z", "2026-12-31T23:59:00Z"},
    /* month ends and Feb 29 */
    {"0 0 31 * *", 0, NULL, "2025-01-31T00:00:00Z", "2025-03-31T00:00:00Z"},
    {"0 0 31 * *", 0, NULL, "2025-03-31T00:00:00Z", "2025-05-31T00:00:00Z"},
    {"0 0 30 * *", 0, NULL, "2025-01-30T00:00:00Z", "2025-03-30T00:00:00Z"},
    {"0 0 29 2 *", 0, NULL, "2025-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
    {"0 0 29 2 *", 0, NULL, "2024-01-01T00:00:00Z", "2024-02-29T00:00:00Z"},
    {"0 0 29 2 *", 0, NULL, "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"}, /* 2100 is not leap */
    {"0 0 29 * *", 0, NULL, "2025-01-29T00:00:00Z", "2025-03-29T00:00:00Z"},
    {"0 0 30 2 *", 0, NULL, "2025-01-01T00:00:00Z", NULL},
    {"0 0 31 4,6,9,11 *", 0, NULL, "2025-01-01T00:00:00Z", NULL},
    /* day of week: 2025-01-01 is a Wednesday */
    {"0 0 * * MON", 0, NULL, "2025-01-01T00:00:00Z", "2025-01-06T00:00:00Z"},
    {"0 0 * * 0", 0, NULL, "2025-01-01T00:00:00Z", "2025-01-05T00:00:00Z"},
    {"0 0 * * 7", 0, NULL, "2025-01-01T00:00:00Z", "2025-01-05T00:00:00Z"},
    {"0 0 * * sun", 0, NULL, "2025-01-01T00:00:00Z", "2025-01-05T00:00:00Z"},
    {"0 0 * * 1-5", 0, NULL, "2025-01-03T00:00:00Z", "2025-01-06T00:00:00Z"},
    {"0 0 * * MON-FRI", 0, NULL, "2025-01-03T00:00:00Z", "2025-01-06T00:00:00Z"},
    {"0 0 * * 5-7", 0, NULL, "2025-01-05T00:00:00Z", "2025-01-10T00:00:00Z"},
    {"0 0 * * */2", 0, NULL, "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"}, /* Sun,Tue,Thu,Sat */
    {"0 0 * * 6,0", 0, NULL, "2025-01-05T00:00:00Z", "2025-01-11T00:00:00Z"},
    /* day-of-month OR day-of-week when both are restricted */
    {"0 0 13 * 5", 0, NULL, "2025-01-01T00:00:00Z", "2025-01-03T00:00:00Z"},
    {"0 0 13 * 5", 0, NULL, "2025-01-10T00:00:00Z", "2025-01-13T00:00:00Z"},
    {"0 0 1 * MON", 0, NULL, "2025-01-27T00:00:00Z", "2025-02-01T00:00:00Z"},
    {"0 0 */2 * 1", 0, NULL, "2025-01-05T00:00:00Z", "2025-01-06T00:00:00Z"}, /* `*` + step is restricted */
    {"0 0 * 2 1", 0, NULL, "2025-01-01T00:00:00Z", "2025-02-03T00:00:00Z"},   /* `*` defers to the weekday */
    {"0 0 30 2 MON", 0, NULL, "2025-01-01T00:00:00Z", "2025-02-03T00:00:00Z"},
    /* nicknames */
    {"@yearly", 0, NULL, "2025-06-01T00:00:00Z", "2026-01-01T00:00:00Z"},
    {"@annually", 0, NULL, "2025-06-01T00:00:00Z", "2026-01-01T00:00:00Z"},
    {"@monthly", 0, NULL, "2025-01-31T12:00:00Z", "2025-02-01T00:00:00Z"},
    {"@weekly", 0, NULL, "2025-01-01T00:00:00Z", "2025-01-05T00:00:00Z"},
    {"@daily", 0, NULL, "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"},
    {"@midnight", 0, NULL, "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"},
    {"@hourly", 0, NULL, "2025-01-01T10:00:00.5Z", "2025-01-01T11:00:00Z"},
    {"@hourly", 1, NULL, "2025-01-01T10:00:00Z", "2025-01-01T11:00:00Z"},
    /* seconds */
    {"*/10 * * * * *", 1, NULL, "2025-01-01T00:00:05Z", "2025-01-01T00:00:10Z"},
    {"30 0 12 * * *", 1, NULL, "2025-01-01T12:00:30Z", "2025-01-02T12:00:30Z"},
    {"15,45 * * * * *", 1, NULL, "2025-01-01T00:00:45Z", "2025-01-01T00:01:15Z"},
    {"* * * * * *", 1, NULL, "2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z"},
    {"* * * * * *", 1, NULL, "2025-01-01T00:00:00.999999Z", "2025-01-01T00:00:01Z"},
    {"0 0 0 * * *", 1, NULL, "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"},
    {"5-7 * * * * *", 1, NULL, "2025-01-01T00:00:07Z", "2025-01-01T00:01:05Z"},
    /* zones without DST changes */
    {"0 9 * * *", 0, "Europe/Paris", "2025-01-01T00:00:00Z", "2025-01-01T09:00:00+01:00"},
    {"0 9 * * *", 0, "Europe/Paris", "2025-07-01T00:00:00Z", "2025-07-01T09:00:00+02:00"},
    {"0 9 * * *", 0, "Asia/Kolkata", "2025-01-01T00:00:00Z", "2025-01-01T09:00:00+05:30"},
    {"30 * * * *", 0, "Asia/Kolkata", "2025-01-01T00:00:00Z", "2025-01-01T06:30:00+05:30"},
    {"0 * * * *", 0, "Asia/Kolkata", "2025-01-01T00:00:00Z", "2025-01-01T06:00:00+05:30"},
    {"0 0 * * *", 0, "America/New_York", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00-05:00"},
    {"0 0 1 1 *", 0, "America/New_York", "2025-01-01T04:00:00Z", "2025-01-01T00:00:00-05:00"},
    {"0 9 * * *", 0, "+05:30", "2025-01-01T00:00:00Z", "2025-01-01T09:00:00+05:30"},
    {"0 12 * * *", 0, "Australia/Lord_Howe", "2025-01-01T00:00:00Z", "2025-01-01T12:00:00+11:00"},
    /* spring forward gap: the missing wall time is skipped, not moved */
    {"30 2 * * *", 0, "Europe/Paris", "2025-03-29T02:30:00+01:00", "2025-03-31T02:30:00+02:00"},
    {"30 2 * * *", 0, "Europe/Paris", "2025-03-30T00:00:00+01:00", "2025-03-31T02:30:00+02:00"},
    {"0 * * * *", 0, "Europe/Paris", "2025-03-30T01:00:00+01:00", "2025-03-30T03:00:00+02:00"},
    {"*/30 * * * *", 0, "Europe/Paris", "2025-03-30T01:30:00+01:00", "2025-03-30T03:00:00+02:00"},
    {"0 3 * * *", 0, "Europe/Paris", "2025-03-29T03:00:00+01:00", "2025-03-30T03:00:00+02:00"},
    {"59 1 * * *", 0, "Europe/Paris", "2025-03-29T12:00:00Z", "2025-03-30T01:59:00+01:00"},
    {"0 2 * * 0", 0, "Europe/Paris", "2025-03-24T00:00:00Z", "2025-04-06T02:00:00+02:00"},
    {"30 2 * * *", 0, "America/New_York", "2025-03-08T02:30:00-05:00", "2025-03-10T02:30:00-04:00"},
    {"15 2 * * *", 0, "Australia/Lord_Howe", "2025-10-04T02:15:00+10:30", "2025-10-06T02:15:00+11:00"},
    {"*/15 * * * *", 0, "Australia/Lord_Howe", "2025-10-05T01:45:00+10:30", "2025-10-05T02:30:00+11:00"},
    /* fall back overlap: once for daily-like schedules, on elapsed time for interval-like ones */
    {"30 2 * * *", 0, "Europe/Paris", "2025-10-26T00:00:00+02:00", "2025-10-26T02:30:00+02:00"},
    {"30 2 * * *", 0, "Europe/Paris", "2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00"},
    {"30 2 * * *", 0, "Europe/Paris", "2025-10-26T02:45:00+02:00", "2025-10-27T02:30:00+01:00"},
    {"0 2 * * *", 0, "Europe/Paris", "2025-10-26T02:00:00+02:00", "2025-10-27T02:00:00+01:00"},
    {"0 3 * * *", 0, "Europe/Paris", "2025-10-25T03:00:00+02:00", "2025-10-26T03:00:00+01:00"},
    {"0 * * * *", 0, "Europe/Paris", "2025-10-26T02:00:00+02:00", "2025-10-26T02:00:00+01:00"},
    {"0 * * * *", 0, "Europe/Paris", "2025-10-26T02:00:00+01:00", "2025-10-26T03:00:00+01:00"},
    {"*/30 * * * *", 0, "Europe/Paris", "2025-10-26T02:30:00+02:00", "2025-10-26T02:00:00+01:00"},
    {"0,30 2 * * *", 0, "Europe/Paris", "2025-10-26T02:30:00+02:00", "2025-10-26T02:00:00+01:00"},
    {"0,30 2 * * *", 0, "Europe/Paris", "2025-10-26T02:00:00+01:00", "2025-10-26T02:30:00+01:00"},
    {"30 1 * * *", 0, "America/New_York", "2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"},
    {"45 1 * * *", 0, "Australia/Lord_Howe", "2025-04-06T01:45:00+11:00", "2025-04-07T01:45:00+10:30"},
};

static const step_case PREV[] = {
    {"*/5 * * * *", 0, NULL, "2025-01-01T10:07:00Z", "2025-01-01T10:05:00Z"},
    {"*/5 * * * *", 0, NULL, "2025-01-01T10:05:00Z", "2025-01-01T10:00:00Z"},
    {"* * * * *", 0, NULL, "2025-01-01T00:00:00.5Z", "2025-01-01T00:00:00Z"},
    {"1-10/2 * * * *", 0, NULL, "2025-01-01T11:00:00Z", "2025-01-01T10:09:00Z"},
    {"0 0 1 * *", 0, NULL, "2025-03-01T00:00:00Z", "2025-02-01T00:00:00Z"},
    {"0 0 31 * *", 0, NULL, "2025-04-15T00:00:00Z", "2025-03-31T00:00:00Z"},
    {"0 0 31 * *", 0, NULL, "2025-03-31T00:00:00Z", "2025-01-31T00:00:00Z"},
    {"0 0 29 2 *", 0, NULL, "2028-01-01T00:00:00Z", "2024-02-29T00:00:00Z"},
    {"0 0 30 2 *", 0, NULL, "2025-01-01T00:00:00Z", NULL},
    {"0 0 * * 0", 0, NULL, "2025-01-01T00:00:00Z", "2024-12-29T00:00:00Z"},
    {"0 0 * * 7", 0, NULL, "2025-01-01T00:00:00Z", "2024-12-29T00:00:00Z"},
    {"0 0 13 * 5", 0, NULL, "2025-01-13T00:00:00Z", "2025-01-10T00:00:00Z"},
    {"0 0 13 * 5", 0, NULL, "2025-01-17T00:00:00Z", "2025-01-13T00:00:00Z"},
    {"@yearly", 0, NULL, "2025-06-01T00:00:00Z", "2025-01-01T00:00:00Z"},
    {"@weekly", 0, NULL, "2025-01-05T00:00:00Z", "2024-12-29T00:00:00Z"},
    {"0 0 1 1 *", 0, NULL, "2025-01-01T00:00:00Z", "2024-01-01T00:00:00Z"},
    {"59 23 31 12 *", 0, NULL, "2025-06-01T00:00:00Z", "2024-12-31T23:59:00Z"},
    {"30 * * * * *", 1, NULL, "2025-01-01T00:00:00Z", "2024-12-31T23:59:30Z"},
    {"0 9 * * *", 0, "Europe/Paris", "2025-07-01T00:00:00Z", "2025-06-30T09:00:00+02:00"},
    {"0 17 * * MON-FRI", 0, "America/New_York", "2025-01-06T12:00:00-05:00", "2025-01-03T17:00:00-05:00"},
    {"0 9 * * *", 0, "Asia/Kolkata", "2025-01-01T03:30:00Z", "2024-12-31T09:00:00+05:30"},
    {"30 2 * * *", 0, "Europe/Paris", "2025-03-31T00:00:00+02:00", "2025-03-29T02:30:00+01:00"},
    {"0 * * * *", 0, "Europe/Paris", "2025-03-30T03:00:00+02:00", "2025-03-30T01:00:00+01:00"},
    {"30 2 * * *", 0, "Europe/Paris", "2025-10-26T12:00:00+01:00", "2025-10-26T02:30:00+02:00"},
    {"0 * * * *", 0, "Europe/Paris", "2025-10-26T03:00:00+01:00", "2025-10-26T02:00:00+01:00"},
    {"0 * * * *", 0, "Europe/Paris", "2025-10-26T02:00:00+01:00", "2025-10-26T02:00:00+02:00"},
    {"45 1 * * *", 0, "Australia/Lord_Howe", "2025-04-06T12:00:00+10:30", "2025-04-06T01:45:00+11:00"},
};

static void test_next(void **state)
{
    (void)state;
    run_steps(NEXT, sizeof NEXT / sizeof *NEXT, 0);
}

static void test_prev(void **state)
{
    (void)state;
    run_steps(PREV, sizeof PREV / sizeof *PREV, 1);
}

static void test_bad_zone_and_args(void **state)
{
    (void)state;
    kt_cron *c = NULL;
    assert_int_equal(kt_cron_parse("* * * * *", 0, &c, NULL, 0), KT_OK);
    int64_t out = 0, t = iso("2025-01-01T00:00:00Z");
    assert_int_equal(kt_cron_next(c, t, "Mars/Olympus", &out), KT_EINVAL);
    assert_int_equal(kt_cron_prev(c, t, "Mars/Olympus", &out), KT_EINVAL);
    assert_int_equal(kt_cron_next(c, t, "../../etc/passwd", &out), KT_EINVAL);
    assert_int_equal(kt_cron_next(c, INT64_MAX, NULL, &out), KT_EINVAL);
    assert_int_equal(kt_cron_prev(c, INT64_MIN, NULL, &out), KT_EINVAL);
    assert_int_equal(kt_cron_next(NULL, t, NULL, &out), KT_EINVAL);
    assert_int_equal(kt_cron_next(c, t, NULL, NULL), KT_EINVAL);
    assert_int_equal(kt_cron_next(c, t, "", &out), KT_OK); /* empty zone = UTC */
    assert_int_equal(out, iso("2025-01-01T00:01:00Z"));
    assert_int_equal(kt_cron_parse("* * * * *", 0, NULL, NULL, 0), KT_EINVAL);
    kt_cron_free(c);
}

/* Walking next from one fire to the following and back with prev must visit the same instants, across DST
 * changes in both directions, and never return a time that is not strictly after/before the query. */
static void test_walk_consistency(void **state)
{
    (void)state;
    static const struct {
        const char *expr, *tz, *from;
        int ws, steps;
    } cases[] = {
        {"30 2 * * *", "Europe/Paris", "2025-03-25T00:00:00Z", 0, 10},
        {"30 2 * * *", "Europe/Paris", "2025-10-22T00:00:00Z", 0, 10},
        {"*/20 * * * *", "Europe/Paris", "2025-10-25T23:00:00Z", 0, 20},
        {"0 * * * *", "America/New_York", "2025-11-02T02:00:00Z", 0, 10},
        {"*/15 1,2 * * *", "Australia/Lord_Howe", "2025-04-05T13:00:00Z", 0, 30},
        {"0 0 13 * 5", "Asia/Kolkata", "2025-01-01T00:00:00Z", 0, 10},
        {"*/7 * * * * *", "America/New_York", "2025-03-09T06:59:00Z", 1, 30},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kt_cron *c = NULL;
        assert_int_equal(kt_cron_parse(cases[i].expr, cases[i].ws, &c, NULL, 0), KT_OK);
        int64_t t = iso(cases[i].from), prev_fire = INT64_MIN;
        for (int s = 0; s < cases[i].steps; s++) {
            int64_t n, p;
            assert_int_equal(kt_cron_next(c, t, cases[i].tz, &n), KT_OK);
            assert_true(n > t);
            assert_int_equal(kt_cron_prev(c, n, cases[i].tz, &p), KT_OK);
            assert_true(p < n);
            if (prev_fire != INT64_MIN && p != prev_fire)
                fail_msg("case %zu step %d: prev(next) %lld != %lld", i, s, (long long)p, (long long)prev_fire);
            prev_fire = n;
            t = n;
        }
        kt_cron_free(c);
    }
}

/* Brute force oracle for UTC: scan minute by minute with libc's gmtime_r and Vixie/cron-utils matching. */
static int in_list(const int *v, int x)
{
    for (; *v >= 0; v++)
        if (*v == x)
            return 1;
    return 0;
}

static void test_bruteforce_utc(void **state)
{
    (void)state;
    /* each expression with its expanded sets by hand; -1 ends a list, NULL list = any */
    static const int every_7_min[] = {0, 7, 14, 21, 28, 35, 42, 49, 56, -1}, h345[] = {3, 4, 5, -1};
    static const int m15[] = {15, -1}, h10[] = {10, -1}, feb[] = {2, -1}, mon_wed[] = {1, 3, -1};
    static const int m0[] = {0, -1}, h12[] = {12, -1}, d1_15[] = {1, 15, -1};
    static const int m5[] = {5, -1}, h4[] = {4, -1}, d_every3[] = {1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, -1},
                     sat[] = {6, -1};
    static const int h0[] = {0, -1}, d29_31[] = {29, 30, 31, -1};
    static const struct {
        const char *expr;
        const int *min, *hour, *dom, *mon, *dow;
    } cases[] = {
        {"*/7 3-5 * * *", every_7_min, h345, NULL, NULL, NULL},
        {"15 10 * 2 MON,WED", m15, h10, NULL, feb, mon_wed},
        {"0 12 1,15 * *", m0, h12, d1_15, NULL, NULL},
        {"5 4 */3 * SAT", m5, h4, d_every3, NULL, sat},
        {"0 0 29-31 * *", m0, h0, d29_31, NULL, NULL},
    };
    static const char *starts[] = {"2024-01-30T07:13:00Z", "2024-12-28T23:59:00Z", "2025-02-27T04:05:00Z"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kt_cron *c = NULL;
        assert_int_equal(kt_cron_parse(cases[i].expr, 0, &c, NULL, 0), KT_OK);
        for (size_t s = 0; s < sizeof starts / sizeof *starts; s++) {
            int64_t from = iso(starts[s]), got;
            assert_int_equal(kt_cron_next(c, from, NULL, &got), KT_OK);
            int64_t want = -1;
            for (int64_t t = from / S + 60; t < from / S + 400LL * 86400; t += 60) {
                time_t tt = (time_t)t;
                struct tm tm;
                gmtime_r(&tt, &tm);
                int dm = !cases[i].dom || in_list(cases[i].dom, tm.tm_mday);
                int dw = !cases[i].dow || in_list(cases[i].dow, tm.tm_wday);
                int day = cases[i].dom && cases[i].dow ? dm || dw : dm && dw;
                if ((!cases[i].min || in_list(cases[i].min, tm.tm_min)) &&
                    (!cases[i].hour || in_list(cases[i].hour, tm.tm_hour)) &&
                    (!cases[i].mon || in_list(cases[i].mon, tm.tm_mon + 1)) && day) {
                    want = t * S;
                    break;
                }
            }
            if (got != want)
                fail_msg("'%s' from %s: got %lld want %lld", cases[i].expr, starts[s], (long long)got,
                         (long long)want);
            int64_t back;
            assert_int_equal(kt_cron_prev(c, got, NULL, &back), KT_OK);
            assert_true(back <= from);
        }
        kt_cron_free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),     cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_next),             cmocka_unit_test(test_prev),
        cmocka_unit_test(test_bad_zone_and_args), cmocka_unit_test(test_walk_consistency),
        cmocka_unit_test(test_bruteforce_utc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
