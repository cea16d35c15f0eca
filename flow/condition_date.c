/* The date conditions of §5.9 (DateTimeBetween, TimeBetween, DayWeek, DayWeekInMonth, Weekend, PublicHoliday):
 * each renders its `date` (default "{{ trigger.date }}") and reads it as Kestra's DateUtils does:
 * ZonedDateTime.parse (ISO_ZONED_DATE_TIME: date 'T' time, an offset, an optional [zone]) for instants, and
 * LocalDate.parse then the zoned form's local date for days. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* +HH:MM[:SS] or Z at s; returns the characters read, 0 when there is no valid offset. */
static int parse_offset(const char *s, int32_t *off)
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

/* ZonedDateTime.parse: 0, or the index of the failure plus one (err gets java.time's wording). */
static int parse_zoned(const char *s, zoned *z, char *err, size_t errcap)
{
    int64_t days, tod;
    char *why = NULL;
    int n = kt_isodate_parse_date(s, &days, &why);
    if (n == KT_ISODATE_ERANGE) {
        snprintf(err, errcap, "Text '%s' could not be parsed: %s", s, why ? why : "invalid date");
        free(why);
        return 1;
    }
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
    int32_t off;
    int m = parse_offset(p, &off);
    if (!m) {
        at = (int)(p - s);
        goto bad;
    }
    p += m;
    z->utc_us = days * US_PER_DAY + tod - (int64_t)off * US_PER_S;
    z->off = off;
    if (*p == '[') {
        /* the instant stays, its wall clock is the zone's (ZonedDateTime.ofInstant) */
        const char *end = strchr(p, ']');
        char id[64];
        kt_tz_zone zone;
        if (!end || end[1] || (size_t)(end - p - 1) >= sizeof id) {
            at = (int)(p - s);
            goto bad;
        }
        memcpy(id, p + 1, (size_t)(end - p - 1));
        id[end - p - 1] = '\0';
        if (kt_tz_zone_of(id, &zone)) {
            snprintf(err, errcap, "Text '%s' could not be parsed: Unknown time-zone ID: %s", s, id);
            return (int)(p - s) + 1;
        }
        z->off = kt_tz_offset_at(&zone, z->utc_us / US_PER_S - (z->utc_us % US_PER_S < 0));
        return 0;
    }
    if (!*p)
        return 0;
    at = (int)(p - s);
bad:
    snprintf(err, errcap, "Text '%s' could not be parsed at index %d", s, at);
    return at + 1;
}

/* LocalDate.parse, else the zoned date-time's local date. */
static int parse_local_date(const char *s, int64_t *day, char *err, size_t errcap)
{
    char *why = NULL;
    if (kt_isodate_parse_date(s, day, &why) == 10 && !s[10])
        return 0;
    free(why);
    zoned z;
    if (parse_zoned(s, &z, err, errcap))
        return -1;
    int64_t local = z.utc_us + (int64_t)z.off * US_PER_S;
    *day = local / US_PER_DAY - (local % US_PER_DAY < 0);
    return 0;
}

/* OffsetTime.parse (ISO_OFFSET_TIME) into the value OffsetTime compares: the time of day minus the offset. */
static int parse_offset_time(const char *s, int64_t *epoch_us, char *err, size_t errcap)
{
    int64_t tod;
    int k = kt_isodate_parse_time(s, &tod);
    int32_t off;
    int m = k > 0 ? parse_offset(s + k, &off) : 0;
    if (k <= 0 || !m || s[k + m]) {
        snprintf(err, errcap, "Text '%s' could not be parsed at index %d", s, k <= 0 ? -k - 1 : k + m);
        return -1;
    }
    *epoch_us = tod - (int64_t)off * US_PER_S;
    return 0;
}

/* ---------------------------------------------------------------- the conditions */

static const char *const weekdays[] = {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"};

/* ISO day of week 1 (Monday) - 7 of a property, or 0 with err set. */
static int day_of_week(const json_t *cond, char *err, size_t errcap)
{
    const char *v = json_string_value(json_object_get(cond, "dayOfWeek"));
    for (int i = 0; v && i < 7; i++)
        if (!strcmp(v, weekdays[i]))
            return i + 1;
    if (!v)
        snprintf(err, errcap, "dayOfWeek: must not be null");
    else
        snprintf(err, errcap, "dayOfWeek: '%s' is not one of MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, "
                              "SATURDAY, SUNDAY", v);
    return 0;
}

static int iso_weekday(int64_t day)
{
    int w = kt_isodate_weekday(day);
    return w ? w : 7;
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

/* TemporalAdjusters.firstInMonth/lastInMonth and the `next` hops DayWeekInMonth chains: the nth (1-4) or last
 * (5) weekday wd of day's month. */
static int64_t nth_in_month(int64_t day, int wd, int nth)
{
    int64_t y;
    int m, d;
    kt_isodate_civil_from_days(day, &y, &m, &d);
    if (nth == 5) {
        int64_t last = kt_isodate_days_from_civil(y, m, kt_isodate_month_days(y, m));
        return last - (iso_weekday(last) - wd + 7) % 7;
    }
    int64_t first = kt_isodate_days_from_civil(y, m, 1);
    return first + (wd - iso_weekday(first) + 7) % 7 + 7 * (nth - 1);
}

static kt_cond_result test_day(kc_eval *ev, kc_kind kind, const json_t *cond, char *err, size_t errcap)
{
    int wd = 0, nth = 0;
    if (kind != KC_WEEKEND && !(wd = day_of_week(cond, err, errcap)))
        return KT_COND_ERROR;
    if (kind == KC_DAY_WEEK_IN_MONTH) {
        static const char *const names[] = {"FIRST", "SECOND", "THIRD", "FOURTH", "LAST"};
        const char *v = json_string_value(json_object_get(cond, "dayInMonth"));
        for (int i = 0; v && i < 5; i++)
            if (!strcmp(v, names[i]))
                nth = i + 1;
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
    int cur = iso_weekday(day);
    if (kind == KC_WEEKEND)
        return cur >= 6 ? KT_COND_TRUE : KT_COND_FALSE;
    if (kind == KC_DAY_WEEK)
        return cur == wd ? KT_COND_TRUE : KT_COND_FALSE;
    return nth_in_month(day, wd, nth) == day ? KT_COND_TRUE : KT_COND_FALSE;
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
