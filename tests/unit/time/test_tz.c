/* Time zones (flow/tz.h) and the civil calendar under them (flow/isodate.h).
 * Expected offsets are written by hand (checked with `zdump -v` and Python's zoneinfo); the long-range checks
 * compare with glibc's localtime_r, which reads the same zoneinfo files, footer TZ strings included. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "time/cron.h"
#include "time/isodate.h"
#include "time/tz.h"

/* UTC seconds of a wall time given with its offset, through libc (never the code under test). */
static int64_t utc(int y, int mo, int d, int h, int mi, int off_s)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) - off_s;
}

static void zone(const char *id, kt_tz_zone *z)
{
    if (kt_tz_zone_of(id, z))
        fail_msg("zone %s not found", id);
}

/* ---------------------------------------------------------------- calendar */

static void test_calendar(void **state)
{
    (void)state;
    assert_int_equal(kt_isodate_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(kt_isodate_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(kt_isodate_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(kt_isodate_weekday(0), 4);  /* Thursday */
    assert_int_equal(kt_isodate_weekday(-1), 3); /* Wednesday */
    assert_int_equal(kt_isodate_month_days(2024, 2), 29);
    assert_int_equal(kt_isodate_month_days(1900, 2), 28);
    assert_int_equal(kt_isodate_month_days(2000, 2), 29);
    assert_int_equal(kt_isodate_month_days(2023, 4), 30);
    /* round trip and weekday against libc over 0001..9999 (every 97th day) */
    for (int64_t days = kt_isodate_days_from_civil(1, 1, 1); days < kt_isodate_days_from_civil(9999, 12, 31);
         days += 97) {
        int64_t y;
        int m, d;
        kt_isodate_civil_from_days(days, &y, &m, &d);
        assert_int_equal(kt_isodate_days_from_civil(y, m, d), days);
        time_t t = (time_t)(days * 86400);
        struct tm tm;
        gmtime_r(&t, &tm);
        if (tm.tm_year + 1900 != y || tm.tm_mon + 1 != m || tm.tm_mday != d || tm.tm_wday != kt_isodate_weekday(days))
            fail_msg("day %lld: %lld-%d-%d", (long long)days, (long long)y, m, d);
    }
    kt_isodate_local l;
    kt_isodate_local_from_seconds(-1, &l);
    assert_true(l.year == 1969 && l.month == 12 && l.day == 31 && l.hour == 23 && l.minute == 59 && l.second == 59);
    assert_int_equal(kt_isodate_seconds_from_local(&l), -1);
}

/* ---------------------------------------------------------------- ids and fixed zones */

static void test_ids(void **state)
{
    (void)state;
    kt_tz_zone z;
    char buf[32];
    zone("+05:30", &z);
    assert_true(z.fixed && !z.region && !z.tz);
    assert_string_equal(z.id, "+05:30");
    assert_int_equal(kt_tz_offset_at(&z, 0), 19800);
    zone("UTC+1", &z);
    assert_string_equal(z.id, "UTC+01:00");
    assert_int_equal(kt_tz_offset_at(&z, 0), 3600);
    zone("Z", &z);
    assert_string_equal(z.id, "Z");
    kt_tz_zone_default(&z);
    assert_string_equal(z.id, "Etc/UTC");
    assert_string_equal(kt_tz_abbr_at(&z, 0), "UTC");
    kt_tz_offset_id(-12615, buf, sizeof buf);
    assert_string_equal(buf, "-03:30:15");
    kt_tz_offset_id(0, buf, sizeof buf);
    assert_string_equal(buf, "Z");
    assert_int_equal(kt_tz_zone_of("Mars/Olympus", &z), -1);
    assert_int_equal(kt_tz_zone_of("../etc/passwd", &z), -1);
    assert_int_equal(kt_tz_zone_of("+19:00", &z), -1);
    assert_int_equal(kt_tz_zone_of("", &z), -1);
}

/* ---------------------------------------------------------------- regions past the transition table */

static void test_after_table(void **state)
{
    (void)state;
    kt_tz_zone paris, ny, sydney;
    zone("Europe/Paris", &paris);
    zone("America/New_York", &ny);
    zone("Australia/Sydney", &sydney);
    /* inside the table */
    assert_int_equal(kt_tz_offset_at(&paris, utc(2025, 7, 1, 12, 0, 0)), 7200);
    assert_int_equal(kt_tz_offset_at(&paris, utc(2025, 1, 1, 12, 0, 0)), 3600);
    /* past it: the footer's rule */
    assert_int_equal(kt_tz_offset_at(&paris, utc(2040, 7, 1, 12, 0, 0)), 7200);
    assert_int_equal(kt_tz_offset_at(&paris, utc(2040, 1, 1, 12, 0, 0)), 3600);
    assert_string_equal(kt_tz_abbr_at(&paris, utc(2040, 7, 1, 12, 0, 0)), "CEST");
    assert_string_equal(kt_tz_abbr_at(&paris, utc(2040, 1, 1, 12, 0, 0)), "CET");
    assert_int_equal(kt_tz_offset_at(&ny, utc(2045, 7, 4, 12, 0, 0)), -14400);
    assert_int_equal(kt_tz_offset_at(&ny, utc(2045, 1, 15, 12, 0, 0)), -18000);
    assert_int_equal(kt_tz_offset_at(&sydney, utc(2050, 1, 15, 0, 0, 0)), 39600);
    assert_int_equal(kt_tz_offset_at(&sydney, utc(2050, 7, 15, 0, 0, 0)), 36000);
    /* exact 2040 transitions (zdump): Paris 2040-03-25T01:00Z and 2040-10-28T01:00Z, New York 2040-03-11T07:00Z */
    int64_t t = utc(2040, 3, 25, 1, 0, 0);
    assert_int_equal(kt_tz_offset_at(&paris, t - 1), 3600);
    assert_int_equal(kt_tz_offset_at(&paris, t), 7200);
    t = utc(2040, 10, 28, 1, 0, 0);
    assert_int_equal(kt_tz_offset_at(&paris, t - 1), 7200);
    assert_int_equal(kt_tz_offset_at(&paris, t), 3600);
    t = utc(2040, 3, 11, 7, 0, 0);
    assert_int_equal(kt_tz_offset_at(&ny, t - 1), -18000);
    assert_int_equal(kt_tz_offset_at(&ny, t), -14400);
    /* far future: the rule repeats */
    assert_int_equal(kt_tz_offset_at(&paris, utc(9999, 7, 1, 0, 0, 0)), 7200);
    assert_int_equal(kt_tz_offset_at(&paris, utc(9999, 12, 1, 0, 0, 0)), 3600);
}

/* Wall time to instant in 2040 (java's ofLocal): the gap moves forward, the overlap takes the earlier offset
 * unless the preferred one is valid. */
static void test_local_to_epoch_after_table(void **state)
{
    (void)state;
    kt_tz_zone paris;
    zone("Europe/Paris", &paris);
    kt_isodate_local gap = {2040, 3, 25, 2, 30, 0}, overlap = {2040, 10, 28, 2, 30, 0};
    assert_int_equal(kt_tz_local_to_epoch(&paris, kt_isodate_seconds_from_local(&gap), NULL),
                     utc(2040, 3, 25, 3, 30, 7200));
    int64_t o = kt_isodate_seconds_from_local(&overlap);
    int32_t winter = 3600;
    assert_int_equal(kt_tz_local_to_epoch(&paris, o, NULL), utc(2040, 10, 28, 2, 30, 7200));
    assert_int_equal(kt_tz_local_to_epoch(&paris, o, &winter), utc(2040, 10, 28, 2, 30, 3600));
    kt_isodate_local l;
    assert_int_equal(kt_tz_local_at(&paris, utc(2040, 7, 1, 12, 0, 0), &l), 7200);
    assert_true(l.year == 2040 && l.month == 7 && l.day == 1 && l.hour == 14 && l.minute == 0);
}

/* Cron in a zone past the table: the 2040 spring gap skips 02:30 as it does in 2025. */
static void test_cron_after_table(void **state)
{
    (void)state;
    kt_cron *c;
    assert_int_equal(kt_cron_parse("30 2 * * *", 0, &c, NULL, 0), KT_OK);
    int64_t next;
    assert_int_equal(kt_cron_next(c, utc(2040, 3, 24, 2, 30, 3600) * 1000000, "Europe/Paris", &next), KT_OK);
    assert_int_equal(next, utc(2040, 3, 26, 2, 30, 7200) * 1000000);
    kt_cron_free(c);
}

/* Every 30 minutes through 2037 (where the tables of Debian's fat files end) and 2038 (the footer's first
 * year), then about every 5 days on to 2200, in zones whose footers use each rule form: Mm.w.d, times past 24 h
 * and negative, southern hemisphere, negative DST, half-hour DST, no DST. */
static void test_against_libc(void **state)
{
    (void)state;
    static const char *const zones[] = {"Europe/Paris",      "America/New_York", "Australia/Sydney",
                                        "America/Santiago",  "America/Nuuk",     "Asia/Jerusalem",
                                        "Pacific/Auckland",  "Europe/Dublin",    "Australia/Lord_Howe",
                                        "Africa/Casablanca", "Asia/Tokyo",       NULL};
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    for (int i = 0; zones[i]; i++) {
        kt_tz_zone z;
        zone(zones[i], &z);
        setenv("TZ", zones[i], 1);
        tzset();
        int64_t from = utc(2037, 1, 1, 0, 0, 0), mid = utc(2039, 1, 1, 0, 0, 0), to = utc(2200, 1, 1, 0, 0, 0);
        for (int64_t t = from; t < to; t += t < mid ? 1800 : 5 * 86400 + 3607) { /* changes fall on :00 or :30 UTC */
            for (int64_t u = t - 1; u <= t; u++) {
                time_t tt = (time_t)u;
                struct tm tm;
                localtime_r(&tt, &tm);
                if (kt_tz_offset_at(&z, u) != tm.tm_gmtoff || strcmp(kt_tz_abbr_at(&z, u), tm.tm_zone))
                    fail_msg("%s at %lld: %d %s, libc %ld %s", zones[i], (long long)u, kt_tz_offset_at(&z, u),
                             kt_tz_abbr_at(&z, u), tm.tm_gmtoff, tm.tm_zone);
            }
        }
    }
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
}

/* Last, as it fills the process-wide cache: past 64 regions new ones are refused, loaded ones still work. */
static void test_cache_limit(void **state)
{
    (void)state;
    static const char *const cities[] = {
        "Europe/London",   "Europe/Berlin",    "Europe/Madrid",    "Europe/Rome",      "Europe/Vienna",
        "Europe/Zurich",   "Europe/Oslo",      "Europe/Helsinki",  "Europe/Athens",    "Europe/Lisbon",
        "Europe/Warsaw",   "Europe/Prague",    "Europe/Budapest",  "Europe/Brussels",  "Europe/Amsterdam",
        "Europe/Moscow",   "Europe/Kyiv",      "Europe/Istanbul",  "Europe/Riga",      "Europe/Vilnius",
        "America/Chicago", "America/Denver",   "America/Phoenix",  "America/Toronto",  "America/Halifax",
        "America/Lima",    "America/Bogota",   "America/Caracas",  "America/Havana",   "America/Mexico_City",
        "America/Anchorage", "America/Sao_Paulo", "America/Montevideo", "America/La_Paz", "America/Panama",
        "Asia/Kolkata",    "Asia/Shanghai",    "Asia/Singapore",   "Asia/Dubai",       "Asia/Karachi",
        "Asia/Dhaka",      "Asia/Bangkok",     "Asia/Seoul",       "Asia/Manila",      "Asia/Tehran",
        "Asia/Kathmandu",  "Asia/Baghdad",     "Asia/Riyadh",      "Asia/Tashkent",    "Asia/Yangon",
        "Africa/Cairo",    "Africa/Lagos",     "Africa/Nairobi",   "Africa/Johannesburg", "Africa/Algiers",
        "Australia/Perth", "Australia/Adelaide", "Australia/Brisbane", "Australia/Darwin", "Australia/Hobart",
        "Pacific/Honolulu", "Pacific/Fiji",    "Pacific/Guam",     "Pacific/Tahiti",   "Pacific/Chatham",
        "Etc/GMT+5",       "Etc/GMT-3",        "Etc/GMT+12",       "Etc/GMT-14",       "Etc/UCT",
        NULL};
    int ok = 0, existing = 0;
    const char *last = NULL;
    kt_tz_zone z;
    for (int i = 0; cities[i]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", cities[i]);
        if (access(path, R_OK))
            continue;
        existing++;
        last = cities[i];
        ok += kt_tz_zone_of(cities[i], &z) == 0;
    }
    assert_true(existing > 64); /* with the zones of the earlier tests, enough to fill the cache */
    assert_true(ok < existing && ok <= 64);
    assert_int_equal(kt_tz_zone_of(last, &z), -1); /* refused again, not cached behind the limit */
    zone("Europe/Paris", &z); /* loaded by an earlier test: still served from the cache */
    assert_int_equal(kt_tz_offset_at(&z, utc(2040, 7, 1, 12, 0, 0)), 7200);
    assert_int_equal(kt_tz_zone_of("Europe/London", &z), 0);
    assert_int_equal(kt_tz_zone_of("+03:00", &z), 0); /* fixed zones never need the cache */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar),         cmocka_unit_test(test_ids),
        cmocka_unit_test(test_after_table),      cmocka_unit_test(test_local_to_epoch_after_table),
        cmocka_unit_test(test_cron_after_table), cmocka_unit_test(test_against_libc),
        cmocka_unit_test(test_cache_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
