/* The date conditions of §5.9 (DateTimeBetween, TimeBetween, DayWeek, DayWeekInMonth, Weekend, PublicHoliday):
 * each renders its `date` (default "{{ trigger.date }}") and reads it as Kestra's DateUtils does:
 * ZonedDateTime.parse (ISO_ZONED_DATE_TIME: date 'T' time, an offset, an optional [zone]) for instants, and
 * LocalDate.parse then the zoned form's local date for days. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/calendar.h"
#include "flow/condition_int.h"
#include "time/holiday.h"
#include "time/isodate.h"
#include "time/tz.h"

#define US_PER_S 1000000LL
#define US_PER_DAY 86400000000LL

/* A parsed ZonedDateTime / OffsetTime: the instant (UTC µs) and the offset that applied (seconds east). */
typedef struct zoned {
    int64_t utc_us;
    int32_t off;
} zoned;

/* The readers are expr/calendar.h's, shared with the 2.0 date functions that replace these conditions. */
static int parse_zoned(const char *s, zoned *z, char *err, size_t errcap)
{
    return kt_cal_parse_zoned(s, &z->utc_us, &z->off, err, errcap);
}

static int parse_local_date(const char *s, int64_t *day, char *err, size_t errcap)
{
    return kt_cal_parse_local_date(s, day, err, errcap);
}

/* OffsetTime.parse (ISO_OFFSET_TIME) into the value OffsetTime compares: the time of day minus the offset. */
static int parse_offset_time(const char *s, int64_t *epoch_us, char *err, size_t errcap)
{
    int64_t tod;
    int k = kt_isodate_parse_time(s, &tod);
    int32_t off;
    int m = k > 0 ? kt_cal_parse_offset(s + k, &off) : 0;
    if (k <= 0 || !m || s[k + m]) {
        snprintf(err, errcap, "Text '%s' could not be parsed at index %d", s, k <= 0 ? -k - 1 : k + m);
        return -1;
    }
    *epoch_us = tod - (int64_t)off * US_PER_S;
    return 0;
}

/* ---------------------------------------------------------------- the conditions */

/* ISO day of week 1 (Monday) - 7 of a property, or 0 with err set. */
static int day_of_week(const json_t *cond, char *err, size_t errcap)
{
    const char *v = json_string_value(json_object_get(cond, "dayOfWeek"));
    int wd = kt_cal_weekday_of(v);
    if (!wd && !v)
        snprintf(err, errcap, "dayOfWeek: must not be null");
    else if (!wd)
        snprintf(err, errcap, "dayOfWeek: '%s' is not one of MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, "
                              "SATURDAY, SUNDAY", v);
    return wd;
}

/* Renders `date` (default "{{ trigger.date }}"): malloc'ed, or NULL with err set. */
static char *render_date(kc_eval *ev, const json_t *cond, char *err, size_t errcap)
{
    const json_t *d = json_object_get(cond, "date");
    const char *src = json_is_string(d) ? json_string_value(d) : "{{ trigger.date }}";
    char *out = NULL;
    if (kc_render(ev, src, NULL, &out, err, errcap))
        return NULL;
    return out;
}

/* after/before of DateTimeBetween (zoned) and TimeBetween (offset time), strict on both sides. */
static kt_cond_result test_between(kc_eval *ev, const json_t *cond, int time_only, char *err, size_t errcap)
{
    const char *after = json_string_value(json_object_get(cond, "after"));
    const char *before = json_string_value(json_object_get(cond, "before"));
    char *date = render_date(ev, cond, err, errcap);
    if (!date)
        return KT_COND_ERROR;
    kt_cond_result r = KT_COND_ERROR;
    zoned cur;
    int64_t v, a = 0, b = 0;
    if (parse_zoned(date, &cur, err, errcap))
        goto done;
    if (time_only) {
        /* toOffsetTime: the wall time of day with the date's own offset */
        int64_t local = cur.utc_us + (int64_t)cur.off * US_PER_S;
        int64_t tod = local % US_PER_DAY;
        if (tod < 0)
            tod += US_PER_DAY;
        v = tod - (int64_t)cur.off * US_PER_S;
    } else {
        v = cur.utc_us;
    }
    if (!after && !before) {
        snprintf(err, errcap, "Invalid condition with no before nor after");
        goto done;
    }
    zoned z;
    if (after && (time_only ? parse_offset_time(after, &a, err, errcap) : parse_zoned(after, &z, err, errcap)))
        goto done;
    if (after && !time_only)
        a = z.utc_us;
    if (before && (time_only ? parse_offset_time(before, &b, err, errcap) : parse_zoned(before, &z, err, errcap)))
        goto done;
    if (before && !time_only)
        b = z.utc_us;
    r = (!after || v > a) && (!before || v < b) ? KT_COND_TRUE : KT_COND_FALSE;
done:
    free(date);
    return r;
}

static kt_cond_result test_day(kc_eval *ev, kc_kind kind, const json_t *cond, char *err, size_t errcap)
{
    int wd = 0, nth = 0;
    if (kind != KC_WEEKEND && !(wd = day_of_week(cond, err, errcap)))
        return KT_COND_ERROR;
    if (kind == KC_DAY_WEEK_IN_MONTH) {
        const char *v = json_string_value(json_object_get(cond, "dayInMonth"));
        nth = kt_cal_nth_of(v);
        if (!nth) {
            snprintf(err, errcap, v ? "Invalid dayInMonth" : "dayInMonth: must not be null");
            return KT_COND_ERROR;
        }
    }
    char *date = render_date(ev, cond, err, errcap);
    if (!date)
        return KT_COND_ERROR;
    int64_t day;
    int bad = parse_local_date(date, &day, err, errcap);
    free(date);
    if (bad)
        return KT_COND_ERROR;
    int cur = kt_cal_iso_weekday(day);
    if (kind == KC_WEEKEND)
        return cur >= 6 ? KT_COND_TRUE : KT_COND_FALSE;
    if (kind == KC_DAY_WEEK)
        return cur == wd ? KT_COND_TRUE : KT_COND_FALSE;
    return kt_cal_nth_in_month(day, wd, nth) == day ? KT_COND_TRUE : KT_COND_FALSE;
}

/* A dynamic property rendered, NULL when absent (then *out is NULL and 0 is returned). */
static int render_optional(kc_eval *ev, const json_t *cond, const char *prop, char **out, char *err, size_t errcap)
{
    *out = NULL;
    const char *v = json_string_value(json_object_get(cond, prop));
    if (!v)
        return 0;
    if (kc_render(ev, v, NULL, out, err, errcap)) {
        size_t n = strlen(err);
        if (n + strlen(prop) + 3 < errcap) {
            memmove(err + strlen(prop) + 2, err, n + 1);
            memcpy(err, prop, strlen(prop));
            memcpy(err + strlen(prop), ": ", 2);
        }
        return -1;
    }
    return 0;
}

static kt_cond_result test_public_holiday(kc_eval *ev, const json_t *cond, char *err, size_t errcap)
{
    char *country = NULL, *sub = NULL, *date = NULL;
    kt_cond_result r = KT_COND_ERROR;
    if (render_optional(ev, cond, "country", &country, err, errcap) ||
        render_optional(ev, cond, "subDivision", &sub, err, errcap))
        goto done;
    if (!(date = render_date(ev, cond, err, errcap)))
        goto done;
    int64_t day;
    if (parse_local_date(date, &day, err, errcap))
        goto done;
    int h = kt_holiday_is(country, sub, day);
    if (h < 0) {
        snprintf(err, errcap, "PublicHoliday: Kite has no holiday calendar for country '%s' (it has %s)",
                 country, kt_holiday_countries());
        goto done;
    }
    r = h ? KT_COND_TRUE : KT_COND_FALSE;
done:
    free(country);
    free(sub);
    free(date);
    return r;
}

kt_cond_result kc_test_date(kc_eval *ev, kc_kind kind, const json_t *cond, char *err, size_t errcap)
{
    switch (kind) {
    case KC_DATE_TIME_BETWEEN:
        return test_between(ev, cond, 0, err, errcap);
    case KC_TIME_BETWEEN:
        return test_between(ev, cond, 1, err, errcap);
    case KC_PUBLIC_HOLIDAY:
        return test_public_holiday(ev, cond, err, errcap);
    default:
        return test_day(ev, kind, cond, err, errcap);
    }
}
