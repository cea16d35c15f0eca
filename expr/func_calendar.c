/* Kestra 2.0's calendar functions (migration guide "trigger-conditions-redesign", docs/expressions/functions/dates),
 * the `when` replacements of the 1.x date conditions:
 *   isWeekend(date)                          Saturday or Sunday
 *   dayOfWeek(date)                          "MONDAY" .. "SUNDAY"
 *   hourOfDay(date)                          0..23, in the date's own offset
 *   dayOfMonth(date)                         1..31
 *   monthOfYear(date)                        1..12
 *   isDayWeekInMonth(date, DAY, POSITION)    POSITION: FIRST | SECOND | THIRD | FOURTH | LAST
 *   isLastWorkingDay(date[, days])           the date is a working day and no later day of its month is one;
 *                                            days: the working days (names, default MONDAY..FRIDAY)
 *   isPublicHoliday(date, country[, sub])    the PublicHoliday condition's calendars (time/holiday.h); the
 *                                            subdivision as ISO 3166-2 ("DE-BY") or bare ("BY")
 * A date is a string (an ISO date or zoned date-time, read as expr/calendar.h says) or epoch seconds (UTC). The
 * parsing and the day rules are the ones flow/condition_date.c uses, so a migrated `when` answers as the condition
 * did. The functions are known in both dialects (decision 2: a 2.x construct is accepted in any flow). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expr/calendar.h"
#include "expr/expr_int.h"
#include "time/holiday.h"
#include "time/isodate.h"
#include "time/tz.h"

#define US_PER_S 1000000LL
#define US_PER_DAY 86400000000LL

/* ---------------------------------------------------------------- shared reading */

int kt_cal_parse_offset(const char *s, int32_t *off)
{
    if (*s == 'Z') {
        *off = 0;
        return 1;
    }
    if (*s != '+' && *s != '-')
        return 0;
    int v[3] = {0, 0, 0}, n = 1, parts = 0;
    for (; parts < 3; parts++) {
        if (parts && s[n] != ':')
            break;
        if (parts)
            n++;
        if (s[n] < '0' || s[n] > '9' || s[n + 1] < '0' || s[n + 1] > '9')
            return 0;
        v[parts] = (s[n] - '0') * 10 + (s[n + 1] - '0');
        n += 2;
    }
    if (parts < 2 || v[0] > 18 || v[1] > 59 || v[2] > 59)
        return 0;
    *off = (v[0] * 3600 + v[1] * 60 + v[2]) * (*s == '-' ? -1 : 1);
    return n;
}

/* The [Zone] suffix of a zoned text at p: the instant stays, its wall clock is the zone's
 * (ZonedDateTime.ofInstant). 0, or -1 (err set when the zone is unknown, else left for the caller). */
static int zone_suffix(const char *s, const char *p, int64_t utc_us, int32_t *off, char *err, size_t errcap)
{
    const char *end = strchr(p, ']');
    char id[64];
    kt_tz_zone zone;
    if (!end || end[1] || (size_t)(end - p - 1) >= sizeof id)
        return -1;
    memcpy(id, p + 1, (size_t)(end - p - 1));
    id[end - p - 1] = '\0';
    if (kt_tz_zone_of(id, &zone)) {
        snprintf(err, errcap, "Text '%s' could not be parsed: Unknown time-zone ID: %s", s, id);
        return -2;
    }
    *off = kt_tz_offset_at(&zone, utc_us / US_PER_S - (utc_us % US_PER_S < 0));
    return 0;
}

int kt_cal_parse_zoned(const char *s, int64_t *utc_us, int32_t *off, char *err, size_t errcap)
{
    int64_t days, tod;
    char *why = NULL;
    int n = kt_isodate_parse_date(s, &days, &why);
    if (n == KT_ISODATE_ERANGE) {
        snprintf(err, errcap, "Text '%s' could not be parsed: %s", s, why ? why : "invalid date");
        free(why);
        return 1;
    }
    free(why);
    int at;
    if (n < 0) {
        at = -n - 1;
        goto bad;
    }
    if (s[10] != 'T') {
        at = 10;
        goto bad;
    }
    int k = kt_isodate_parse_time(s + 11, &tod);
    if (k < 0) {
        at = 11 + (-k - 1);
        goto bad;
    }
    const char *p = s + 11 + k;
    int m = kt_cal_parse_offset(p, off);
    if (!m) {
        at = (int)(p - s);
        goto bad;
    }
    p += m;
    *utc_us = days * US_PER_DAY + tod - (int64_t)*off * US_PER_S;
    if (*p == '[') {
        int z = zone_suffix(s, p, *utc_us, off, err, errcap);
        if (z == -2)
            return (int)(p - s) + 1;
        if (!z)
            return 0;
        at = (int)(p - s);
        goto bad;
    }
    if (!*p)
        return 0;
    at = (int)(p - s);
bad:
    snprintf(err, errcap, "Text '%s' could not be parsed at index %d", s, at);
    return at + 1;
}

int kt_cal_parse_local(const char *s, int64_t *day, int64_t *tod_us, char *err, size_t errcap)
{
    char *why = NULL;
    if (kt_isodate_parse_date(s, day, &why) == 10 && !s[10]) {
        *tod_us = 0;
        return 0;
    }
    free(why);
    int64_t utc;
    int32_t off;
    if (kt_cal_parse_zoned(s, &utc, &off, err, errcap))
        return -1;
    int64_t local = utc + (int64_t)off * US_PER_S;
    *day = local / US_PER_DAY - (local % US_PER_DAY < 0);
    *tod_us = local - *day * US_PER_DAY;
    return 0;
}

int kt_cal_parse_local_date(const char *s, int64_t *day, char *err, size_t errcap)
{
    int64_t tod;
    return kt_cal_parse_local(s, day, &tod, err, errcap);
}

static const char *const weekdays[] = {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"};
static const char *const positions[] = {"FIRST", "SECOND", "THIRD", "FOURTH", "LAST"};

int kt_cal_iso_weekday(int64_t day)
{
    int w = kt_isodate_weekday(day);
    return w ? w : 7;
}

int kt_cal_weekday_of(const char *name)
{
    for (int i = 0; name && i < 7; i++)
        if (!strcmp(name, weekdays[i]))
            return i + 1;
    return 0;
}

const char *kt_cal_weekday_name(int wd) { return wd >= 1 && wd <= 7 ? weekdays[wd - 1] : "?"; }

int kt_cal_nth_of(const char *name)
{
    for (int i = 0; name && i < 5; i++)
        if (!strcmp(name, positions[i]))
            return i + 1;
    return 0;
}

int64_t kt_cal_nth_in_month(int64_t day, int wd, int nth)
{
    int64_t y;
    int m, d;
    kt_isodate_civil_from_days(day, &y, &m, &d);
    if (nth == 5) {
        int64_t last = kt_isodate_days_from_civil(y, m, kt_isodate_month_days(y, m));
        return last - (kt_cal_iso_weekday(last) - wd + 7) % 7;
    }
    int64_t first = kt_isodate_days_from_civil(y, m, 1);
    return first + (wd - kt_cal_iso_weekday(first) + 7) % 7 + 7 * (nth - 1);
}

/* ---------------------------------------------------------------- the functions */

/* The `date` argument as a local day and time of day; -1 after kx_fail. */
static int date_arg(kx_env *env, const kx_node *n, const char *fn, json_t *v, int64_t *day, int64_t *tod)
{
    if (!v || json_is_null(v)) {
        kx_fail(env, n, KX_E_PEBBLE, "The '%s' function expects an argument 'date'.", fn);
        return -1;
    }
    if (json_is_integer(v)) { /* epoch seconds, read in UTC as the date filters read them */
        int64_t us = (int64_t)json_integer_value(v) * US_PER_S;
        *day = us / US_PER_DAY - (us % US_PER_DAY < 0);
        *tod = us - *day * US_PER_DAY;
        return 0;
    }
    if (!json_is_string(v)) {
        kx_fail(env, n, KX_E_PEBBLE, "The '%s' function expects 'date' to be an ISO-8601 date, not %s", fn,
                kx_java_class(v));
        return -1;
    }
    char err[256];
    if (kt_cal_parse_local(json_string_value(v), day, tod, err, sizeof err)) {
        kx_fail(env, n, KX_E_JAVA, "%s", err);
        return -1;
    }
    return 0;
}

static json_t *fn_is_weekend(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in, (void)na;
    int64_t day, tod;
    if (date_arg(env, n, "isWeekend", a[0], &day, &tod))
        return NULL;
    return json_boolean(kt_cal_iso_weekday(day) >= 6);
}

static json_t *fn_day_of_week(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in, (void)na;
    int64_t day, tod;
    if (date_arg(env, n, "dayOfWeek", a[0], &day, &tod))
        return NULL;
    return json_string(kt_cal_weekday_name(kt_cal_iso_weekday(day)));
}

static json_t *fn_hour_of_day(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in, (void)na;
    int64_t day, tod;
    if (date_arg(env, n, "hourOfDay", a[0], &day, &tod))
        return NULL;
    return json_integer(tod / (3600 * US_PER_S));
}

static json_t *day_field(kx_env *env, const kx_node *n, const char *fn, json_t *v, int month)
{
    int64_t day, tod, y;
    int m, d;
    if (date_arg(env, n, fn, v, &day, &tod))
        return NULL;
    kt_isodate_civil_from_days(day, &y, &m, &d);
    return json_integer(month ? m : d);
}

static json_t *fn_day_of_month(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in, (void)na;
    return day_field(env, n, "dayOfMonth", a[0], 0);
}

static json_t *fn_month_of_year(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in, (void)na;
    return day_field(env, n, "monthOfYear", a[0], 1);
}

static int weekday_arg(kx_env *env, const kx_node *n, const char *fn, json_t *v)
{
    int wd = kt_cal_weekday_of(json_string_value(v));
    if (!wd)
        kx_fail(env, n, KX_E_PEBBLE,
                "The '%s' function expects a day of week (MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, "
                "SUNDAY), not '%s'", fn, json_is_string(v) ? json_string_value(v) : "(none)");
    return wd;
}

static json_t *fn_is_day_week_in_month(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in, (void)na;
    int64_t day, tod;
    if (date_arg(env, n, "isDayWeekInMonth", a[0], &day, &tod))
        return NULL;
    int wd = weekday_arg(env, n, "isDayWeekInMonth", a[1]);
    if (!wd)
        return NULL;
    int nth = kt_cal_nth_of(json_string_value(a[2]));
    if (!nth)
        return kx_fail(env, n, KX_E_PEBBLE,
                       "The 'isDayWeekInMonth' function expects a position (FIRST, SECOND, THIRD, FOURTH, LAST), "
                       "not '%s'", json_is_string(a[2]) ? json_string_value(a[2]) : "(none)");
    return json_boolean(kt_cal_nth_in_month(day, wd, nth) == day);
}

static json_t *fn_is_last_working_day(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in, (void)na;
    int64_t day, tod;
    if (date_arg(env, n, "isLastWorkingDay", a[0], &day, &tod))
        return NULL;
    int working[8] = {0, 1, 1, 1, 1, 1, 0, 0};
    if (a[1] && !json_is_null(a[1])) {
        if (!json_is_array(a[1]) || !json_array_size(a[1]))
            return kx_fail(env, n, KX_E_PEBBLE, "The 'isLastWorkingDay' function expects 'days' to be a non-empty "
                                                "list of days of week");
        memset(working, 0, sizeof working);
        size_t i;
        json_t *d;
        json_array_foreach(a[1], i, d) {
            int wd = weekday_arg(env, n, "isLastWorkingDay", d);
            if (!wd)
                return NULL;
            working[wd] = 1;
        }
    }
    if (!working[kt_cal_iso_weekday(day)])
        return json_false();
    int64_t y;
    int m, d;
    kt_isodate_civil_from_days(day, &y, &m, &d);
    for (int later = d + 1; later <= kt_isodate_month_days(y, m); later++)
        if (working[kt_cal_iso_weekday(day + (later - d))])
            return json_false();
    return json_true();
}

static json_t *fn_is_public_holiday(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in, (void)na;
    int64_t day, tod;
    if (date_arg(env, n, "isPublicHoliday", a[0], &day, &tod))
        return NULL;
    const char *country = json_string_value(a[1]), *sub = json_string_value(a[2]);
    if (!country || !*country)
        return kx_fail(env, n, KX_E_PEBBLE, "The 'isPublicHoliday' function expects an argument 'countryCode'.");
    if (a[2] && !json_is_null(a[2]) && !sub)
        return kx_fail(env, n, KX_E_PEBBLE, "The 'isPublicHoliday' function expects 'subDivision' to be a string");
    /* ISO 3166-2 "DE-BY" names the subdivision with its country: the calendars know it as "BY" */
    size_t cl = strlen(country);
    if (sub && !strncasecmp(sub, country, cl) && sub[cl] == '-')
        sub += cl + 1;
    int h = kt_holiday_is(country, sub, day);
    if (h < 0)
        return kx_fail(env, n, KX_E_PEBBLE, "isPublicHoliday: Kite has no holiday calendar for country '%s' (it has %s)",
                       country, kt_holiday_countries());
    return json_boolean(h);
}

const kx_builtin kx_functions_calendar[] = {
    {"isWeekend", fn_is_weekend, {"date"}, 0},
    {"dayOfWeek", fn_day_of_week, {"date"}, 0},
    {"hourOfDay", fn_hour_of_day, {"date"}, 0},
    {"dayOfMonth", fn_day_of_month, {"date"}, 0},
    {"monthOfYear", fn_month_of_year, {"date"}, 0},
    {"isDayWeekInMonth", fn_is_day_week_in_month, {"date", "dayOfWeek", "position"}, 0},
    {"isLastWorkingDay", fn_is_last_working_day, {"date", "days"}, 0},
    {"isPublicHoliday", fn_is_public_holiday, {"date", "countryCode", "subDivision"}, 0},
    {NULL, NULL, {NULL}, 0},
};
