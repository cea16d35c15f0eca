/* The environment of pure computations (base/env.h): a seed fixes every draw, the generator is xoshiro256** seeded
 * through splitmix64 (known answers computed with an independent implementation), and ids and UUIDs have Kestra's
 * shapes. Also the base-62 id encoding (base/id.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "base/env.h"
#include "base/id.h"

static const char k_base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void test_known_answers(void **state)
{
    (void)state;
    static const struct {
        uint64_t seed;
        uint64_t out[3];
    } cases[] = {
        {0, {UINT64_C(0x99ec5f36cb75f2b4), UINT64_C(0xbf6e1f784956452a), UINT64_C(0x1a5f849d4933e6e0)}},
        {42, {UINT64_C(0x15780b2e0c2ec716), UINT64_C(0x6104d9866d113a7e), UINT64_C(0xae17533239e499a1)}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kt_env e;
        kt_env_init(&e, 123, cases[i].seed);
        assert_int_equal(e.now_us, 123);
        assert_int_equal(e.seed, cases[i].seed);
        for (int k = 0; k < 3; k++)
            assert_int_equal(kt_env_next(&e), cases[i].out[k]);
    }
}

static void test_same_seed_same_draws(void **state)
{
    (void)state;
    kt_env a, b, c;
    kt_env_init(&a, 0, 7);
    kt_env_init(&b, 0, 7);
    kt_env_init(&c, 0, 8);
    unsigned char ba[37], bb[37], bc[37];
    kt_env_fill(&a, ba, sizeof ba); /* an odd length: the last word is cut */
    kt_env_fill(&b, bb, sizeof bb);
    kt_env_fill(&c, bc, sizeof bc);
    assert_memory_equal(ba, bb, sizeof ba);
    assert_memory_not_equal(ba, bc, sizeof ba);
    /* fill takes whole words: the next draw is the same after 37 bytes on both */
    assert_int_equal(kt_env_next(&a), kt_env_next(&b));
    for (int i = 0; i < 10000; i++) {
        double u = kt_env_unit(&a);
        assert_true(u >= 0.0 && u < 1.0);
    }
}

static void test_uuid_and_id(void **state)
{
    (void)state;
    kt_env e;
    kt_env_init(&e, 0, 42);
    unsigned char b[16];
    kt_env_uuid_bytes(&e, b);
    static const unsigned char want[16] = {0x16, 0xc7, 0x2e, 0x0c, 0x2e, 0x0b, 0x48, 0x15,
                                           0xbe, 0x3a, 0x11, 0x6d, 0x86, 0xd9, 0x04, 0x61};
    assert_memory_equal(b, want, 16);
    char id[KT_ID_LEN + 1];
    kt_env_init(&e, 0, 42);
    kt_env_id(&e, id);
    assert_string_equal(id, "gyr6xjkz30jf2ScCm04UD"); /* the same UUID in base 62 */
    for (int i = 0; i < 1000; i++) {
        kt_env_uuid_bytes(&e, b);
        assert_int_equal(b[6] >> 4, 4);       /* version 4 */
        assert_int_equal(b[8] & 0xC0, 0x80); /* IETF variant */
        kt_env_id(&e, id);
        assert_true(strlen(id) >= 1 && strlen(id) <= KT_ID_LEN);
        assert_int_equal(strspn(id, k_base62), strlen(id));
    }
}

static int g_named;
static void named_ids(void *ud, char *out) { snprintf(out, KT_ID_LEN + 1, "%s%d", (const char *)ud, ++g_named); }

static void test_ids_hook(void **state)
{
    (void)state;
    kt_env e;
    kt_env_init(&e, 0, 1);
    e.ids = named_ids;
    e.ids_ud = "tr";
    char id[KT_ID_LEN + 1];
    kt_env_id(&e, id);
    assert_string_equal(id, "tr1");
    kt_env_id(&e, id);
    assert_string_equal(id, "tr2");
}

static void test_real(void **state)
{
    (void)state;
    kt_env a, b;
    kt_env_init_real(&a);
    kt_env_init_real(&b);
    assert_true(a.now_us > INT64_C(1700000000000000)); /* after 2023-11-14 */
    assert_true(a.seed != b.seed || kt_env_next(&a) != kt_env_next(&b)); /* two fresh seeds (2^-64 to collide) */
    assert_null(a.ids);
}

static void test_id_encode(void **state)
{
    (void)state;
    unsigned char b[16];
    char id[KT_ID_LEN + 1];
    memset(b, 0, sizeof b);
    kt_id_encode(b, id);
    assert_string_equal(id, "0");
    memset(b, 0xff, sizeof b);
    kt_id_encode(b, id);
    assert_string_equal(id, "7n42DGM5Tflk9n8mt7Fhc7"); /* 2^128 - 1: the longest id, KT_ID_LEN characters */
    assert_int_equal(strlen(id), KT_ID_LEN);
    for (int i = 0; i < 16; i++)
        b[i] = (unsigned char)i;
    kt_id_encode(b, id);
    assert_string_equal(id, "SYW7RiJxkEgOGusQGwp");
    kt_id_new(id);
    assert_true(strlen(id) >= 1 && strlen(id) <= KT_ID_LEN);
    assert_int_equal(strspn(id, k_base62), strlen(id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers), cmocka_unit_test(test_same_seed_same_draws),
        cmocka_unit_test(test_uuid_and_id),   cmocka_unit_test(test_ids_hook),
        cmocka_unit_test(test_real),          cmocka_unit_test(test_id_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
