/* Public holidays: evaluates the rule table of time/holiday_data.c year by year, as Jollyday's parsers do
 * (FixedParser, FixedWeekdayInMonthParser, ChristianHolidayParser, RelativeToFixedParser,
 * RelativeToWeekdayInMonthParser with their ValidLimitation and MoveDateRelative). */
#include "time/holiday.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "time/holiday_int.h"
#include "time/isodate.h"

/* Floor division and modulo, so the computus stays defined for any year. */
static int64_t fdiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
static int64_t fmod64(int64_t a, int64_t b) { return a - fdiv(a, b) * b; }

int64_t kt_holiday_easter(int64_t year)
{
    /* the anonymous Gregorian algorithm (Meeus, Astronomical Algorithms, ch. 8) */
    int64_t a = fmod64(year, 19), b = fdiv(year, 100), c = fmod64(year, 100);
    int64_t d = fdiv(b, 4), e = fmod64(b, 4), f = fdiv(b + 8, 25), g = fdiv(b - f + 1, 3);
    int64_t h = fmod64(19 * a + b - d - g + 15, 30);
    int64_t i = fdiv(c, 4), k = fmod64(c, 4);
    int64_t l = fmod64(32 + 2 * e + 2 * i - h - k, 7);
    int64_t m = fdiv(a + 11 * h + 22 * l, 451);
    int64_t month = fdiv(h + l - 7 * m + 114, 31), day = fmod64(h + l - 7 * m + 114, 31) + 1;
    return kt_isodate_days_from_civil(year, (int)month, (int)day);
}

static int iso_weekday(int64_t day)
{
    int w = kt_isodate_weekday(day);
    return w ? w : 7;
}

/* java.time's TemporalAdjusters: the weekday wd on or after (dir +1) / on or before (-1) day. */
static int64_t same_or(int64_t day, int wd, int dir)
{
    int cur = iso_weekday(day);
    return dir > 0 ? day + (wd - cur + 7) % 7 : day - (cur - wd + 7) % 7;
}

/* The which-th (or last) weekday wd of a month. */
static int64_t nth_weekday(int64_t year, int month, int which, int wd)
{
    if (which == HOL_LAST)
        return same_or(kt_isodate_days_from_civil(year, month, kt_isodate_month_days(year, month)), wd, -1);
    return same_or(kt_isodate_days_from_civil(year, month, 1), wd, +1) + 7 * (which - 1);
}

/* MoveDateRelative: the first substitute rule whose weekday is the date's moves it. */
static int64_t move(const hol_rule *r, int64_t day)
{
    int cur = iso_weekday(day);
    for (size_t i = 0; i < sizeof r->mv / sizeof r->mv[0] && r->mv[i].sub; i++)
        if (r->mv[i].sub == cur)
            return same_or(day, r->mv[i].wd, r->mv[i].dir);
    return day;
}

/* ValidLimitation: validFrom/validTo (inclusive) and the cycle. */
static int valid_in(const hol_rule *r, int64_t year)
{
    if ((r->from && year < r->from) || (r->to && year > r->to))
        return 0;
    if (r->cycle == HOL_EVEN)
        return fmod64(year, 2) == 0;
    if (r->cycle == HOL_ODD)
        return fmod64(year, 2) != 0;
    return 1;
}

static int64_t rule_day(const hol_rule *r, int64_t year)
{
    int64_t d;
    switch (r->kind) {
    case HOL_FIXED:
        return move(r, kt_isodate_days_from_civil(year, r->month, r->day));
    case HOL_NTH:
        return nth_weekday(year, r->month, r->which, r->wd);
    case HOL_EASTER:
        return move(r, kt_holiday_easter(year) + r->offset);
    case HOL_REL_FIXED:
        /* the fixed date itself is never the answer: start one day away */
        d = kt_isodate_days_from_civil(year, r->month, r->day) + r->dir;
        return same_or(d, r->wd, r->dir);
    default: /* HOL_REL_NTH */
        return same_or(nth_weekday(year, r->month, r->which, r->wd2) + 1, r->wd, r->dir);
    }
}

/* Whether a rule of subdivision path `path` applies to the requested path `want`: Jollyday descends one hierarchy
 * level per argument, so a rule applies when its path is a whole-level prefix of the request. */
static int path_applies(const char *path, const char *want)
{
    if (!*path)
        return 1;
    if (!want)
        return 0;
    size_t n = strlen(path);
    return strncasecmp(path, want, n) == 0 && (want[n] == '\0' || want[n] == '/');
}

static const hol_country *country_of(const char *country)
{
    char code[8];
    size_t n = 0;
    if (country) {
        while (isspace((unsigned char)*country))
            country++;
        n = strlen(country);
        while (n && isspace((unsigned char)country[n - 1]))
            n--;
    }
    if (!n) {
        country = KT_HOLIDAY_DEFAULT_COUNTRY;
        n = strlen(country);
    }
    if (n >= sizeof code)
        return NULL;
    for (size_t i = 0; i < n; i++)
        code[i] = (char)tolower((unsigned char)country[i]);
    code[n] = '\0';
    for (size_t i = 0; i < kt_hol_ncountries; i++)
        if (!strcmp(kt_hol_countries[i].code, code))
            return &kt_hol_countries[i];
    return NULL;
}

int kt_holiday_is(const char *country, const char *subdivision, int64_t day)
{
    const hol_country *c = country_of(country);
    if (!c)
        return -1;
    int64_t y;
    int m, d;
    kt_isodate_civil_from_days(day, &y, &m, &d);
    for (size_t i = 0; i < c->n; i++) {
        const hol_rule *r = &c->rules[i];
        if (path_applies(r->sub, subdivision) && valid_in(r, y) && rule_day(r, y) == day)
            return 1;
    }
    return 0;
}

static int cmp_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int kt_holiday_list(const char *country, const char *subdivision, int64_t year, int64_t *out, size_t cap)
{
    const hol_country *c = country_of(country);
    if (!c)
        return -1;
    int64_t *all = malloc((c->n ? c->n : 1) * sizeof *all);
    if (!all)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        if (path_applies(c->rules[i].sub, subdivision) && valid_in(&c->rules[i], year))
            all[n++] = rule_day(&c->rules[i], year);
    qsort(all, n, sizeof *all, cmp_day);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && all[i] == all[i - 1])
            continue;
        if (k < cap)
            out[k] = all[i];
        k++;
    }
    free(all);
    return (int)k;
}

const char *kt_holiday_countries(void) { return "DE, FR, GB, US"; }
