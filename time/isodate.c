/* ISO-8601 dates, times and instants after java.time (see flow/isodate.h): civil-date arithmetic on days since
 * the epoch (Howard Hinnant's algorithms), strict fixed-width parsing, toString-style printing. */
#include "time/isodate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strfmt.h"

/* ---- civil calendar (proleptic Gregorian; Howard Hinnant's days_from_civil / civil_from_days) ---- */

int64_t kt_isodate_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void kt_isodate_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int kt_isodate_is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int kt_isodate_month_days(int64_t y, int m)
{
    static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && kt_isodate_is_leap(y) ? 29 : md[m - 1];
}

int kt_isodate_weekday(int64_t days)
{
    int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

void kt_isodate_local_from_seconds(int64_t s, kt_isodate_local *l)
{
    int64_t days = s / 86400, rem = s % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    kt_isodate_civil_from_days(days, &l->year, &l->month, &l->day);
    l->hour = (int)(rem / 3600);
    l->minute = (int)(rem % 3600 / 60);
    l->second = (int)(rem % 60);
}

int64_t kt_isodate_seconds_from_local(const kt_isodate_local *l)
{
    return kt_isodate_days_from_civil(l->year, l->month, l->day) * 86400 + l->hour * 3600 + l->minute * 60 +
           l->second;
}

/* ---- parsing and printing ---- */

static int ndigits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static const char *const month_names[] = {"JANUARY", "FEBRUARY", "MARCH",     "APRIL",   "MAY",      "JUNE",
                                          "JULY",    "AUGUST",   "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER"};

int kt_isodate_parse_date(const char *s, int64_t *days, char **why)
{
    int y, m, d;
    if (ndigits(s, 4, &y))
        return -1;
    if (s[4] != '-')
        return -5;
    if (ndigits(s + 5, 2, &m))
        return -6;
    if (s[7] != '-')
        return -8;
    if (ndigits(s + 8, 2, &d))
        return -9;
    if (m < 1 || m > 12) {
        *why = kt_strfmt("Invalid value for MonthOfYear (valid values 1 - 12): %d", m);
        return KT_ISODATE_ERANGE;
    }
    if (d < 1 || d > 31) {
        *why = kt_strfmt("Invalid value for DayOfMonth (valid values 1 - 28/31): %d", d);
        return KT_ISODATE_ERANGE;
    }
    if (d > kt_isodate_month_days(y, m)) {
        *why = m == 2 && d == 29 ? kt_strfmt("Invalid date 'February 29' as '%d' is not a leap year", y)
                                 : kt_strfmt("Invalid date '%s %d'", month_names[m - 1], d);
        return KT_ISODATE_ERANGE;
    }
    *days = kt_isodate_days_from_civil(y, m, d);
    return 10;
}

int kt_isodate_parse_time(const char *s, int64_t *us)
{
    int h, mi, se = 0, i = 5;
    int64_t frac = 0;
    if (ndigits(s, 2, &h))
        return -1;
    if (s[2] != ':')
        return -3;
    if (ndigits(s + 3, 2, &mi))
        return -4;
    if (s[5] == ':') {
        if (ndigits(s + 6, 2, &se))
            return -7;
        i = 8;
        if (s[8] == '.') {
            int n = 0;
            int64_t scale = 100000;
            for (i = 9; isdigit((unsigned char)s[i]) && n < 9; i++, n++) {
                frac += (s[i] - '0') * scale;
                scale /= 10;
            }
            if (!n)
                return -10;
        }
    }
    if (h > 23 || mi > 59 || se > 59)
        return -1;
    *us = ((int64_t)h * 3600 + mi * 60 + se) * 1000000 + frac;
    return i;
}

void kt_isodate_format_time(int64_t us, char *buf, size_t cap)
{
    int64_t s = us / 1000000, f = us % 1000000;
    int n = snprintf(buf, cap, "%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60));
    if (s % 60 || f)
        n += snprintf(buf + n, cap - (size_t)n, ":%02d", (int)(s % 60));
    if (f) {
        if (f % 1000 == 0)
            snprintf(buf + n, cap - (size_t)n, ".%03d", (int)(f / 1000));
        else
            snprintf(buf + n, cap - (size_t)n, ".%06d", (int)f);
    }
}

void kt_isodate_format_date(int64_t days, char *buf, size_t cap)
{
    int64_t y;
    int m, d;
    kt_isodate_civil_from_days(days, &y, &m, &d);
    snprintf(buf, cap, "%04lld-%02d-%02d", (long long)y, m, d);
}

void kt_isodate_format_instant(int64_t us, char *buf, size_t cap)
{
    int64_t days = us >= 0 ? us / 86400000000LL : -((-us + 86400000000LL - 1) / 86400000000LL);
    int64_t rem = us - days * 86400000000LL;
    kt_isodate_format_date(days, buf, cap);
    size_t n = strlen(buf);
    int64_t s = rem / 1000000, f = rem % 1000000;
    n += (size_t)snprintf(buf + n, cap - n, "T%02d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
    if (f)
        n += (size_t)(f % 1000 == 0 ? snprintf(buf + n, cap - n, ".%03d", (int)(f / 1000))
                                    : snprintf(buf + n, cap - n, ".%06d", (int)f));
    snprintf(buf + n, cap - n, "Z");
}

int kt_isodate_parse_instant(const char *s, int64_t *us, char **why)
{
    int64_t days, tus;
    int n = kt_isodate_parse_date(s, &days, why);
    if (n == KT_ISODATE_ERANGE)
        return -1;
    if (n < 0)
        return -n; /* index + 1 */
    if (s[10] != 'T' && s[10] != 't')
        return 10 + 1;
    int k = kt_isodate_parse_time(s + 11, &tus);
    if (k < 0)
        return 11 + (-k - 1) + 1;
    const char *z = s + 11 + k;
    int64_t off = 0;
    if ((*z == 'Z' || *z == 'z') && !z[1]) {
        off = 0;
    } else if (*z == '+' || *z == '-') {
        int oh, om = 0;
        if (ndigits(z + 1, 2, &oh) || oh > 18)
            return (int)(z - s) + 1;
        const char *e = z + 3;
        if (*e == ':') {
            if (ndigits(e + 1, 2, &om) || om > 59)
                return (int)(z - s) + 1;
            e += 3;
        }
        if (*e)
            return (int)(e - s) + 1;
        off = (int64_t)(oh * 3600 + om * 60) * 1000000 * (*z == '-' ? -1 : 1);
    } else {
        return (int)(z - s) + 1;
    }
    *us = days * 86400000000LL + tus - off;
    return 0;
}
