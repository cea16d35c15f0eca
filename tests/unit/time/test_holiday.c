/* Public holidays: the computus, one test per rule kind, then each country and the subdivisions that differ.
 * Expected dates are the published calendars (service-public.fr, gov.uk/bank-holidays, opm.gov, the German
 * Länder laws) as Jollyday 0.32.0 encodes them, including its substitutes (GB) and its lack of some (US). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "time/holiday.h"
#include "time/isodate.h"

static int64_t D(int y, int m, int d) { return kt_isodate_days_from_civil(y, m, d); }

static int is(const char *c, const char *sub, int y, int m, int d) { return kt_holiday_is(c, sub, D(y, m, d)); }

#define HOLIDAY(c, sub, y, m, d)                                                                                   \
    do {                                                                                                         \
        if (is(c, sub, y, m, d) != 1)                                                                            \
            fail_msg("%s/%s %04d-%02d-%02d should be a holiday", c, sub ? sub : "-", y, m, d);                   \
    } while (0)
#define WORKDAY(c, sub, y, m, d)                                                                                   \
    do {                                                                                                         \
        if (is(c, sub, y, m, d) != 0)                                                                            \
            fail_msg("%s/%s %04d-%02d-%02d should not be a holiday", c, sub ? sub : "-", y, m, d);               \
    } while (0)

static void test_easter(void **state)
{
    (void)state;
    static const int cases[][3] = {{2024, 3, 31}, {2025, 4, 20}, {2019, 4, 21}, {2000, 4, 23}, {2038, 4, 25},
                                   {1818, 3, 22}, {2008, 3, 23}, {2011, 4, 24}, {1943, 4, 25}, {2285, 3, 22}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t e = kt_holiday_easter(cases[i][0]);
        if (e != D(cases[i][0], cases[i][1], cases[i][2]))
            fail_msg("Easter %d: got day %lld", cases[i][0], (long long)e);
        assert_int_equal(kt_isodate_weekday(e), 0); /* always a Sunday */
    }
}

/* One rule of each kind, on a date where it holds and one where it does not. */
static void test_rule_kinds(void **state)
{
    (void)state;
    /* fixed date */
    HOLIDAY("FR", NULL, 2024, 7, 14);
    WORKDAY("FR", NULL, 2024, 7, 13);
    /* fixed date with a weekend substitute: GB New Year 2022 (Saturday) moves to Monday the 3rd, only there */
    HOLIDAY("GB", NULL, 2022, 1, 3);
    WORKDAY("GB", NULL, 2022, 1, 1);
    /* substitute to the previous weekday: US Juneteenth 2027 (Saturday) -> Friday 18 */
    HOLIDAY("US", NULL, 2027, 6, 18);
    WORKDAY("US", NULL, 2027, 6, 19);
    /* nth weekday of month: US Thanksgiving, fourth Thursday of November */
    HOLIDAY("US", NULL, 2023, 11, 23);
    WORKDAY("US", NULL, 2023, 11, 30);
    /* last weekday of month: US Memorial Day */
    HOLIDAY("US", NULL, 2024, 5, 27);
    WORKDAY("US", NULL, 2024, 5, 20);
    /* Easter-relative: DE Good Friday (-2), Whit Monday (+50), BY Corpus Christi (+60) */
    HOLIDAY("DE", NULL, 2024, 3, 29);
    HOLIDAY("DE", NULL, 2024, 5, 20);
    HOLIDAY("DE", "BY", 2024, 5, 30);
    WORKDAY("DE", NULL, 2024, 5, 30);
    /* weekday strictly before a fixed date: Saxony's Buß- und Bettag, the Wednesday before 23 November; in 2022
       the 23rd is itself a Wednesday and the holiday is the 16th */
    HOLIDAY("DE", "SN", 2024, 11, 20);
    HOLIDAY("DE", "SN", 2022, 11, 16);
    WORKDAY("DE", "SN", 2022, 11, 23);
    /* weekday after the nth weekday, every even year: US Election Day, the Tuesday after the first Monday of
       November (2024: Monday 4 -> Tuesday 5), not in odd years */
    HOLIDAY("US", NULL, 2024, 11, 5);
    WORKDAY("US", NULL, 2025, 11, 4);
    /* weekday before one: Maryland's Friday before the last Monday of May */
    HOLIDAY("US", "md", 2024, 5, 24);
    WORKDAY("US", NULL, 2024, 5, 24);
    /* validity years: France dropped Whit Monday 2004-2007 */
    HOLIDAY("FR", NULL, 2003, 6, 9);
    WORKDAY("FR", NULL, 2005, 5, 16);
    HOLIDAY("FR", NULL, 2008, 5, 12);
}

static void test_france(void **state)
{
    (void)state;
    int64_t days[32];
    assert_int_equal(kt_holiday_list("FR", NULL, 2024, days, 32), 11);
    static const int fr2024[][2] = {{1, 1},  {4, 1},  {5, 1},   {5, 8},   {5, 9},  {5, 20},
                                    {7, 14}, {8, 15}, {11, 1}, {11, 11}, {12, 25}};
    for (size_t i = 0; i < 11; i++)
        assert_int_equal(days[i], D(2024, fr2024[i][0], fr2024[i][1]));
    WORKDAY("FR", NULL, 2024, 3, 29);
    WORKDAY("FR", NULL, 2024, 12, 26);
    /* Alsace-Moselle: Good Friday in Bas-Rhin and Haut-Rhin, St Stephen in all three, under Grand Est */
    HOLIDAY("FR", "ges/67", 2024, 3, 29);
    HOLIDAY("FR", "GES/68", 2024, 12, 26);
    HOLIDAY("FR", "ges/57", 2024, 12, 26);
    WORKDAY("FR", "ges/57", 2024, 3, 29);
    /* one level at a time, as Jollyday walks Kestra's single subDivision argument */
    WORKDAY("FR", "67", 2024, 3, 29);
    WORKDAY("FR", "ges", 2024, 3, 29);
    HOLIDAY("FR", "974", 2024, 12, 20);
    assert_int_equal(kt_holiday_list("FR", "ges/67", 2024, days, 32), 13);
}

static void test_germany(void **state)
{
    (void)state;
    int64_t days[32];
    assert_int_equal(kt_holiday_list("de", NULL, 2024, days, 32), 9);
    HOLIDAY("DE", NULL, 2024, 10, 3);
    HOLIDAY("DE", NULL, 2024, 12, 26);
    /* Heilige Drei Könige in BW, BY and ST only */
    HOLIDAY("DE", "BW", 2024, 1, 6);
    HOLIDAY("DE", "by", 2024, 1, 6);
    HOLIDAY("DE", "st", 2024, 1, 6);
    WORKDAY("DE", "be", 2024, 1, 6);
    WORKDAY("DE", NULL, 2024, 1, 6);
    /* Reformationstag: national in 2017 only, else in the northern and eastern Länder */
    HOLIDAY("DE", NULL, 2017, 10, 31);
    WORKDAY("DE", NULL, 2024, 10, 31);
    HOLIDAY("DE", "sn", 2024, 10, 31);
    HOLIDAY("DE", "hh", 2018, 10, 31);
    WORKDAY("DE", "hh", 2016, 10, 31);
    /* Allerheiligen in BW, BY, NW, RP, SL */
    HOLIDAY("DE", "nw", 2024, 11, 1);
    WORKDAY("DE", "sn", 2024, 11, 1);
    /* Berlin's Frauentag since 2019; Brandenburg's Easter Sunday */
    HOLIDAY("DE", "be", 2024, 3, 8);
    WORKDAY("DE", "be", 2018, 3, 8);
    HOLIDAY("DE", "bb", 2024, 3, 31);
    WORKDAY("DE", NULL, 2024, 3, 31);
    /* a city under a Land: Augsburg's Friedensfest */
    HOLIDAY("DE", "by/ag", 2024, 8, 8);
    WORKDAY("DE", "by", 2024, 8, 8);
}

static void test_united_kingdom(void **state)
{
    (void)state;
    /* Christmas 2021 on a Saturday -> Monday 27, Boxing Day on the Sunday -> Tuesday 28; the 25th itself is not
       in Jollyday's set */
    HOLIDAY("GB", NULL, 2021, 12, 27);
    HOLIDAY("GB", NULL, 2021, 12, 28);
    WORKDAY("GB", NULL, 2021, 12, 25);
    WORKDAY("GB", NULL, 2021, 12, 26);
    /* 2022: Christmas on a Sunday -> Tuesday 27, Boxing Day Monday 26 stays */
    HOLIDAY("GB", NULL, 2022, 12, 26);
    HOLIDAY("GB", NULL, 2022, 12, 27);
    /* one-off days: the 2020 early May holiday on the 8th, the 2022 jubilee and state funeral */
    HOLIDAY("GB", NULL, 2020, 5, 8);
    WORKDAY("GB", NULL, 2020, 5, 4);
    HOLIDAY("GB", NULL, 2022, 6, 2);
    HOLIDAY("GB", NULL, 2022, 6, 3);
    WORKDAY("GB", NULL, 2022, 5, 30);
    HOLIDAY("GB", NULL, 2022, 9, 19);
    HOLIDAY("GB", NULL, 2024, 3, 29); /* Good Friday everywhere */
    /* England and Wales: Easter Monday, summer holiday on the last Monday of August */
    HOLIDAY("GB", "eng", 2024, 4, 1);
    HOLIDAY("GB", "WLS", 2024, 8, 26);
    WORKDAY("GB", NULL, 2024, 4, 1);
    WORKDAY("GB", "eng", 2024, 8, 5);
    /* Scotland: first Monday of August, 2 January, St Andrew (2024: Saturday 30 -> Monday 2 December) */
    HOLIDAY("GB", "sct", 2024, 8, 5);
    WORKDAY("GB", "sct", 2024, 8, 26);
    WORKDAY("GB", "sct", 2024, 4, 1);
    HOLIDAY("GB", "sct", 2024, 1, 2);
    HOLIDAY("GB", "sct", 2024, 12, 2);
    WORKDAY("GB", "sct", 2024, 11, 30);
    /* 2 January 2023 is a Monday, the day New Year's Day (a Sunday) moves to: it moves on to Tuesday 3 */
    HOLIDAY("GB", "sct", 2023, 1, 3);
    /* Northern Ireland: St Patrick (2024: Sunday 17 -> Monday 18), the Twelfth */
    HOLIDAY("GB", "nir", 2024, 3, 18);
    WORKDAY("GB", "nir", 2024, 3, 17);
    HOLIDAY("GB", "nir", 2024, 7, 12);
    WORKDAY("GB", "eng", 2024, 7, 12);
}

static void test_united_states(void **state)
{
    (void)state;
    int64_t days[32];
    assert_int_equal(kt_holiday_list("US", NULL, 2024, days, 32), 12);
    static const int us2024[][2] = {{1, 1},  {1, 15}, {2, 19},  {5, 27},  {6, 19},  {7, 4},
                                    {9, 2}, {10, 14}, {11, 5}, {11, 11}, {11, 28}, {12, 25}};
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(days[i], D(2024, us2024[i][0], us2024[i][1]));
    /* Jollyday observes Juneteenth only: Independence Day 2026 (a Saturday) is not moved */
    HOLIDAY("US", NULL, 2026, 7, 4);
    WORKDAY("US", NULL, 2026, 7, 3);
    HOLIDAY("US", NULL, 2022, 6, 20); /* Juneteenth on a Sunday -> Monday */
    WORKDAY("US", NULL, 2020, 6, 19); /* before 2021 */
    /* states */
    HOLIDAY("US", "ca", 2024, 3, 31);   /* Cesar Chavez */
    WORKDAY("US", "ny", 2024, 3, 31);
    HOLIDAY("US", "la", 2024, 2, 13);   /* Mardi Gras, Easter - 47 */
    HOLIDAY("US", "tx", 2024, 12, 24);  /* Christmas Eve in Texas */
    WORKDAY("US", NULL, 2024, 12, 24);
    HOLIDAY("US", "ny/nyc", 2024, 6, 6); /* Brooklyn-Queens Day, first Thursday of June */
    WORKDAY("US", "ny", 2024, 6, 6);
    HOLIDAY("US", "ak", 2024, 3, 25); /* Seward's Day, last Monday of March */
    HOLIDAY("US", "hi", 2024, 8, 16); /* Statehood Day, third Friday of August */
}

static void test_countries_and_defaults(void **state)
{
    (void)state;
    /* no country: the JVM's default locale in Kestra's image, en_US */
    assert_int_equal(kt_holiday_is(NULL, NULL, D(2024, 11, 28)), 1);
    assert_int_equal(kt_holiday_is("  ", NULL, D(2024, 7, 14)), 0);
    assert_int_equal(kt_holiday_is(" fr ", NULL, D(2024, 7, 14)), 1);
    /* a calendar Kite does not carry, and nonsense */
    assert_int_equal(kt_holiday_is("IT", NULL, D(2024, 1, 1)), -1);
    assert_int_equal(kt_holiday_is("FRANCE-LONG", NULL, D(2024, 1, 1)), -1);
    int64_t d;
    assert_int_equal(kt_holiday_list("XX", NULL, 2024, &d, 1), -1);
    /* an unknown subdivision is the national calendar */
    HOLIDAY("DE", "zz", 2024, 10, 3);
    WORKDAY("DE", "zz", 2024, 1, 6);
    assert_string_equal(kt_holiday_countries(), "DE, FR, GB, US");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_easter),          cmocka_unit_test(test_rule_kinds),
        cmocka_unit_test(test_france),          cmocka_unit_test(test_germany),
        cmocka_unit_test(test_united_kingdom),  cmocka_unit_test(test_united_states),
        cmocka_unit_test(test_countries_and_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
