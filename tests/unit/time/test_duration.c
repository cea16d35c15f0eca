/* ISO-8601 durations: parsing to microseconds and Java-style printing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "time/duration.h"

#define S 1000000LL

static void test_parse_table(void **state)
{
    (void)state;
    static const struct { const char *in; int ok; int64_t us; } cases[] = {
        {"PT5M", 1, 300 * S},          {"P1D", 1, 86400 * S},        {"PT1.5S", 1, 1500000},
        {"-PT1S", 1, -S},              {"PT1H30M", 1, 5400 * S},     {"pt10s", 1, 10 * S},
        {"P1DT1H", 1, 90000 * S},      {"PT0S", 1, 0},               {"PT-1.5S", 1, -1500000},
        {"PT0,25S", 1, 250000},        {"PT1.000001S", 1, 1000001},  {"PT0.0000009S", 1, 0},
        {"+PT2M", 1, 120 * S},         {"PT-6H3M", 1, -6 * 3600 * S + 180 * S},
        {"", 0, 0},                    {"P", 0, 0},                  {"PT", 0, 0},
        {"P1Y", 0, 0},                 {"P1M", 0, 0},                {"P1W", 0, 0},
        {"PT1S1M", 0, 0},              {"PT1.5M", 0, 0},             {"5", 0, 0},
        {"PT1H1H", 0, 0},              {"P1DT", 0, 0},               {"PT1.1234567891S", 0, 0},
        {"1D", 0, 0},                  {"PTS", 0, 0},                {"P1H", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t us = -42;
        int rc = kt_duration_parse(cases[i].in, &us);
        if (cases[i].ok) {
            if (rc != 0)
                fail_msg("'%s' should parse", cases[i].in);
            if (us != cases[i].us)
                fail_msg("'%s' -> %lld, want %lld", cases[i].in, (long long)us, (long long)cases[i].us);
        } else if (rc == 0) {
            fail_msg("'%s' should be rejected", cases[i].in);
        }
    }
}

static void test_format_table(void **state)
{
    (void)state;
    static const struct { int64_t us; const char *out; } cases[] = {
        {0, "PT0S"},           {S, "PT1S"},            {300 * S, "PT5M"},        {86400 * S, "PT24H"},
        {306 * S, "PT5M6S"},   {1500000, "PT1.5S"},     {-1500000, "PT-1.5S"},   {-S, "PT-1S"},
        {500000, "PT0.5S"},    {-500000, "PT-0.5S"},    {3661 * S, "PT1H1M1S"},  {1, "PT0.000001S"},
        {-60 * S, "PT-1M"},    {5400 * S, "PT1H30M"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[KT_DURATION_BUFSZ];
        kt_duration_format(cases[i].us, buf, sizeof(buf));
        if (strcmp(buf, cases[i].out) != 0)
            fail_msg("%lld -> '%s', want '%s'", (long long)cases[i].us, buf, cases[i].out);
    }
}

static void test_from_json(void **state)
{
    (void)state;
    int64_t us;
    json_t *v = json_string("PT1M");
    assert_int_equal(kt_duration_from_json(v, &us), 0);
    assert_int_equal(us, 60 * S);
    json_decref(v);
    v = json_real(1.5);
    assert_int_equal(kt_duration_from_json(v, &us), 0);
    assert_int_equal(us, 1500000);
    json_decref(v);
    v = json_integer(3);
    assert_int_equal(kt_duration_from_json(v, &us), 0);
    assert_int_equal(us, 3 * S);
    json_decref(v);
    v = json_string("2.5");
    assert_int_equal(kt_duration_from_json(v, &us), 0);
    assert_int_equal(us, 2500000);
    json_decref(v);
    v = json_string("soon");
    assert_int_not_equal(kt_duration_from_json(v, &us), 0);
    json_decref(v);
    v = json_true();
    assert_int_not_equal(kt_duration_from_json(v, &us), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_format_table),
        cmocka_unit_test(test_from_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
