/* base/dialect.c: the spellings of a dialect a user may write (flows.dialect, `dialect:`, --dialect), its name, and
 * the flow JSON's "dialect" field. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/dialect.h"

static void test_parse_accepts(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        kt_dialect want;
    } ok[] = {{"1", KT_DIALECT_1X},   {"1.x", KT_DIALECT_1X},  {"1.3", KT_DIALECT_1X},   {"1.3.28", KT_DIALECT_1X},
              {"1.0", KT_DIALECT_1X}, {"2", KT_DIALECT_2X},    {"2.x", KT_DIALECT_2X},   {"2.0", KT_DIALECT_2X},
              {"2.1.4", KT_DIALECT_2X}, {"2.10", KT_DIALECT_2X}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        kt_dialect d = ok[i].want == KT_DIALECT_1X ? KT_DIALECT_2X : KT_DIALECT_1X; /* the other one */
        if (kt_dialect_parse(ok[i].text, &d) != 0 || d != ok[i].want)
            fail_msg("'%s' not read as %s", ok[i].text, kt_dialect_name(ok[i].want));
    }
}

static void test_parse_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "3", "0.21", "x", "1.", "1..3", "1.3.", "2.x.1", "2.y", "12", "1x",
                                      " 1.x", "1.x ", "v2", "2.0-rc1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kt_dialect d = KT_DIALECT_2X;
        if (kt_dialect_parse(bad[i], &d) != -1 || d != KT_DIALECT_2X)
            fail_msg("'%s' accepted (or *out changed)", bad[i]);
    }
    kt_dialect d = KT_DIALECT_2X;
    assert_int_equal(kt_dialect_parse(NULL, &d), -1);
    assert_int_equal(d, KT_DIALECT_2X);
}

static void test_names_and_flow_field(void **state)
{
    (void)state;
    assert_string_equal(kt_dialect_name(KT_DIALECT_1X), "1.x");
    assert_string_equal(kt_dialect_name(KT_DIALECT_2X), "2.x");
    for (int d = 0; d < 2; d++) { /* the name reads back as itself */
        kt_dialect back = (kt_dialect)!d;
        assert_int_equal(kt_dialect_parse(kt_dialect_name((kt_dialect)d), &back), 0);
        assert_int_equal(back, d);
    }
    json_t *flow = json_pack("{s:s}", "dialect", "2.x");
    assert_int_equal(kt_dialect_of_flow(flow), KT_DIALECT_2X);
    json_object_set_new(flow, "dialect", json_string("nonsense"));
    assert_int_equal(kt_dialect_of_flow(flow), KT_DIALECT_1X);
    json_object_set_new(flow, "dialect", json_integer(2));
    assert_int_equal(kt_dialect_of_flow(flow), KT_DIALECT_1X);
    json_object_del(flow, "dialect");
    assert_int_equal(kt_dialect_of_flow(flow), KT_DIALECT_1X);
    assert_int_equal(kt_dialect_of_flow(NULL), KT_DIALECT_1X);
    json_decref(flow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_names_and_flow_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
