/* Kestra 2.0's calendar functions (expr/func_calendar.c): each function's answer on known dates, the date's own
 * offset deciding the local fields, the holiday calendars shared with the PublicHoliday condition, and clear errors
 * for bad arguments. (That they answer as the 1.x conditions do over whole years is tests/unit/flow/
 * test_trigger_when.c's.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "expr/calendar.h"
#include "expr/expr.h"
#include "time/holiday.h"
#include "time/isodate.h"

static char *render(const char *src, const char *vars_json, kt_dialect d, kt_expr_error *err)
{
    kt_env env;
    kt_env_init(&env, 0, 1);
    env.dialect = d;
    json_t *vars = vars_json ? json_loads(vars_json, 0, NULL) : NULL;
    char *out = NULL;
    kt_status st = kt_expr_render_string(src, vars, &env, &out, err);
    json_decref(vars);
    return st == KT_OK ? out : NULL;
}

static void check(const char *src, const char *want)
{
    /* the functions are known in both dialects (a 2.x construct is accepted anywhere, and makes the flow 2.x) */
    for (int d = 0; d < 2; d++) {
        kt_expr_error e = {0};
        char *out = render(src, NULL, (kt_dialect)d, &e);
        if (!out)
            fail_msg("%s: %s", src, e.message);
        assert_string_equal(out, want);
        free(out);
    }
}

static void check_fails(const char *src, const char *needle)
{
    kt_expr_error e = {0};
    char *out = render(src, NULL, KT_DIALECT_2X, &e);
    if (out)
        fail_msg("%s rendered '%s'", src, out);
    if (!strstr(e.message, needle))
        fail_msg("%s: '%s' lacks '%s'", src, e.message, needle);
}

static void test_day_fields(void **state)
{
    (void)state;
    /* 2024-12-20 is a Friday */
    check("{{ dayOfWeek('2024-12-20T10:00:00+01:00') }}", "FRIDAY");
    check("{{ dayOfWeek('2024-12-21') }}|{{ isWeekend('2024-12-21') }}|{{ isWeekend('2024-12-20') }}",
          "SATURDAY|true|false");
    check("{{ dayOfMonth('2024-02-29T23:30:00Z') }}|{{ monthOfYear('2024-02-29T23:30:00Z') }}", "29|2");
    check("{{ hourOfDay('2024-12-20T10:15:00+01:00') }}|{{ hourOfDay('2024-12-20') }}", "10|0");
    /* the local fields are the date's own offset's: 23:30Z is already the next day at +02:00 */
    check("{{ dayOfMonth('2024-02-29T23:30:00+00:00[Europe/Paris]') }}|{{ hourOfDay('2024-06-01T22:00:00Z[Europe/Paris]') }}",
          "1|0");
    check("{{ hourOfDay('2024-06-01T22:00:00.123456-05:00') }}", "22");
    /* epoch seconds are UTC: 1700000000 = 2023-11-14T22:13:20Z, a Tuesday */
    check("{{ dayOfWeek(1700000000) }}|{{ hourOfDay(1700000000) }}", "TUESDAY|22");
    check("{% if dayOfWeek('2024-12-23') == 'MONDAY' %}monday{% endif %}", "monday");
}

static void test_day_week_in_month(void **state)
{
    (void)state;
    /* December 2024: Mondays 2, 9, 16, 23, 30; Saturdays 7 .. 28 */
    check("{{ isDayWeekInMonth('2024-12-02T11:00:00Z', 'MONDAY', 'FIRST') }}", "true");
    check("{{ isDayWeekInMonth('2024-12-09', 'MONDAY', 'FIRST') }}|{{ isDayWeekInMonth('2024-12-09', 'MONDAY', "
          "'SECOND') }}", "false|true");
    check("{{ isDayWeekInMonth('2024-12-30', 'MONDAY', 'LAST') }}|{{ isDayWeekInMonth('2024-12-23', 'MONDAY', 'LAST') "
          "}}|{{ isDayWeekInMonth('2024-12-23', 'MONDAY', 'FOURTH') }}", "true|false|true");
    check("{{ isDayWeekInMonth('2024-12-28', 'SATURDAY', 'LAST') }}", "true");
    check("{{ isDayWeekInMonth(date='2024-12-16', dayOfWeek='MONDAY', position='THIRD') }}", "true");
}

static void test_last_working_day(void **state)
{
    (void)state;
    /* November 2024 ends on a Saturday: Friday 29 is the last working day; May 2024 ends on a Friday 31 */
    check("{{ isLastWorkingDay('2024-11-29') }}|{{ isLastWorkingDay('2024-11-30') }}|{{ isLastWorkingDay('2024-11-28') "
          "}}", "true|false|false");
    check("{{ isLastWorkingDay('2024-05-31T18:00:00+02:00') }}", "true");
    /* with Saturdays worked, Saturday 30 is the last one */
    check("{{ isLastWorkingDay('2024-11-30', ['MONDAY','TUESDAY','WEDNESDAY','THURSDAY','FRIDAY','SATURDAY']) }}|"
          "{{ isLastWorkingDay('2024-11-29', ['MONDAY','TUESDAY','WEDNESDAY','THURSDAY','FRIDAY','SATURDAY']) }}",
          "true|false");
}

static void test_public_holiday(void **state)
{
    (void)state;
    check("{{ isPublicHoliday('2024-07-14T11:00:00Z', 'FR') }}|{{ isPublicHoliday('2024-07-15', 'FR') }}",
          "true|false");
    check("{{ isPublicHoliday('2024-12-25', 'US') }}|{{ isPublicHoliday('2024-07-04', 'US') }}", "true|true");
    /* Epiphany is a holiday in Bavaria only: the ISO 3166-2 form and the bare one name the same subdivision */
    check("{{ isPublicHoliday('2024-01-06', 'DE') }}|{{ isPublicHoliday('2024-01-06', 'DE', 'DE-BY') }}|"
          "{{ isPublicHoliday('2024-01-06', 'DE', 'BY') }}", "false|true|true");
    /* the same tables as the condition */
    int64_t day;
    char err[128];
    for (int64_t y = 2020; y <= 2030; y++) {
        int64_t list[64];
        int n = kt_holiday_list("FR", NULL, y, list, 64);
        assert_true(n > 8 && n <= 64);
        for (int i = 0; i < n; i++) {
            int64_t yy;
            int m, d;
            kt_isodate_civil_from_days(list[i], &yy, &m, &d);
            char src[96];
            snprintf(src, sizeof src, "{{ isPublicHoliday('%04lld-%02d-%02d', 'FR') }}", (long long)yy, m, d);
            check(src, "true");
        }
    }
    assert_int_equal(kt_cal_parse_local_date("2024-07-14T23:30:00-02:00", &day, err, sizeof err), 0);
    assert_int_equal(kt_holiday_is("FR", NULL, day), 1);
    check_fails("{{ isPublicHoliday('2024-01-01', 'ZZ') }}", "no holiday calendar for country 'ZZ'");
}

static void test_errors(void **state)
{
    (void)state;
    check_fails("{{ isWeekend('tomorrow') }}", "Text 'tomorrow' could not be parsed at index 0");
    check_fails("{{ isWeekend('2024-12-20T10:00:00') }}", "could not be parsed at index 19");
    check_fails("{{ dayOfWeek(null) }}", "expects an argument 'date'");
    check_fails("{{ dayOfWeek([1]) }}", "expects 'date' to be an ISO-8601 date");
    check_fails("{{ isDayWeekInMonth('2024-12-02', 'MON', 'FIRST') }}", "not 'MON'");
    check_fails("{{ isDayWeekInMonth('2024-12-02', 'MONDAY', 'FIFTH') }}", "not 'FIFTH'");
    check_fails("{{ isPublicHoliday('2024-12-02') }}", "expects an argument 'countryCode'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_fields),      cmocka_unit_test(test_day_week_in_month),
        cmocka_unit_test(test_last_working_day), cmocka_unit_test(test_public_holiday),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
