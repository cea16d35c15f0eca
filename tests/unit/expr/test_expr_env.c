/* now(), uuid(), id() and randomInt() read the render's environment (base/env.h), never the system: a clock reading
 * and a seed give the same text every time, nested renders and macros see the same environment, and a render
 * without one fails with a clear error instead of reading the system. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "expr/expr.h"

/* 2023-11-14T22:13:20.123456Z */
#define NOW INT64_C(1700000000123456)

static char *render(const char *src, kt_env *env)
{
    char *out = NULL;
    kt_expr_error err = {0};
    kt_status st = kt_expr_render_string(src, NULL, env, &out, &err);
    if (st)
        fail_msg("%s: %s", src, err.message);
    return out;
}

static char *render_seeded(const char *src, uint64_t seed)
{
    kt_env env;
    kt_env_init(&env, NOW, seed);
    return render(src, &env);
}

static void check(const char *src, uint64_t seed, const char *want)
{
    char *out = render_seeded(src, seed);
    assert_string_equal(out, want);
    free(out);
}

static void test_now_is_the_clock_reading(void **state)
{
    (void)state;
    check("{{ now() }}", 1, "2023-11-14T22:13:20.123456Z");
    check("{{ now(format='iso_local_date') }}|{{ now(timeZone='Europe/Paris', format='HH:mm') }}", 1,
          "2023-11-14|23:13");
    check("{{ now() == now() }}", 1, "true"); /* one reading for the whole render: the event's "now" */
    kt_env env;
    kt_env_init(&env, 0, 1);
    char *out = render("{{ now() }}", &env);
    assert_string_equal(out, "1970-01-01T00:00:00.000000Z"); /* the engine's iso format: always 6 digits */
    free(out);
}

static void test_seeded_randomness(void **state)
{
    (void)state;
    /* the first draws of seed 42 (known answers of base/env: the same 16 bytes as a UUID and as an id) */
    check("{{ uuid() }}", 42, "16c72e0c-2e0b-4815-be3a-116d86d90461");
    check("{{ id() }}", 42, "gyr6xjkz30jf2ScCm04UD");
    const char *src = "{{ uuid() }} {{ id() }} {{ randomInt(1, 1000000) }} {{ uuid() }}";
    char *a = render_seeded(src, 9), *b = render_seeded(src, 9), *c = render_seeded(src, 10);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    free(a);
    free(b);
    free(c);
    check("{{ uuid() == uuid() }}", 9, "false"); /* each call draws */
}

static void test_randomint_range(void **state)
{
    (void)state;
    kt_env env;
    kt_env_init(&env, NOW, 3);
    int seen[4] = {0};
    for (int i = 0; i < 400; i++) {
        char *out = render("{{ randomInt(1, 4) }}", &env); /* lower inclusive, upper exclusive */
        long v = strtol(out, NULL, 10);
        assert_true(v >= 1 && v < 4);
        seen[v]++;
        free(out);
    }
    assert_true(seen[1] && seen[2] && seen[3]);
    check("{{ randomInt(5, 5) }}", 3, "5");
    check("{{ randomInt(-3, -2) }}", 3, "-3");
}

static void test_nested_renders_share_the_env(void **state)
{
    (void)state;
    /* render(), macros and the JSON renderer all draw from the caller's env: the same seed, the same text */
    const char *src = "{% macro m() %}{{ uuid() }}{% endmacro %}{{ m() }}|{{ render(\"{{ uuid() }}\") }}";
    char *a = render_seeded(src, 5), *b = render_seeded(src, 5);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 36 + 1 + 36);
    free(a);
    free(b);
    json_t *in = json_pack("{s:[s, s]}", "{{ 'k' }}", "{{ uuid() }}", "{{ now() }}"), *out[2];
    kt_tmpl_cache *cache = kt_tmpl_cache_new();
    for (int i = 0; i < 2; i++) {
        kt_env env;
        kt_env_init(&env, NOW, 5);
        kt_expr_error err;
        assert_int_equal(kt_expr_render_json_cached(cache, in, NULL, &env, &out[i], &err), KT_OK);
    }
    assert_true(json_equal(out[0], out[1]));
    assert_string_equal(json_string_value(json_array_get(json_object_get(out[0], "k"), 1)),
                        "2023-11-14T22:13:20.123456Z");
    json_decref(out[0]);
    json_decref(out[1]);
    json_decref(in);
    kt_tmpl_cache_free(cache);
}

static void test_no_env_is_an_error(void **state)
{
    (void)state;
    static const char *const srcs[] = {"{{ now() }}", "{{ uuid() }}", "{{ id() }}", "{{ randomInt(1, 2) }}"};
    static const char *const names[] = {"'now'", "'uuid'", "'id'", "'randomInt'"};
    for (size_t i = 0; i < sizeof srcs / sizeof *srcs; i++) {
        char *out = NULL;
        kt_expr_error err = {0};
        assert_int_equal(kt_expr_render_string(srcs[i], NULL, NULL, &out, &err), KT_EINVAL);
        assert_null(out);
        assert_non_null(strstr(err.message, names[i]));
        assert_non_null(strstr(err.message, "needs a clock and a random source"));
    }
    /* argument errors still come first, as in Kestra */
    char *out = NULL;
    kt_expr_error err = {0};
    assert_int_equal(kt_expr_render_string("{{ randomInt(2, 1) }}", NULL, NULL, &out, &err), KT_EINVAL);
    assert_non_null(strstr(err.message, "upper is less than lower"));
    /* templates that need no environment render without one */
    assert_int_equal(kt_expr_render_string("{{ 1 + 1 }}", NULL, NULL, &out, &err), KT_OK);
    assert_string_equal(out, "2");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_now_is_the_clock_reading),
        cmocka_unit_test(test_seeded_randomness),
        cmocka_unit_test(test_randomint_range),
        cmocka_unit_test(test_nested_renders_share_the_env),
        cmocka_unit_test(test_no_env_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
