/* kt_tmpl_calls: whether a compiled template calls a function, read from its syntax tree (the executor decides with it,
 * once per flow revision, which tasks need errorLogs() in their render context). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "expr/expr.h"

static const struct {
    const char *src;
    int calls; /* calls errorLogs() */
} k_cases[] = {
    {"{{ errorLogs() }}", 1},
    {"{%- for log in errorLogs() -%}- {{ log.message }}{%- endfor -%}", 1},
    {"{{ errorLogs() | length > 0 ? 'x' : 'y' }}", 1},
    {"{% if true %}{{ [1, errorLogs()] | first }}{% endif %}", 1},
    {"{{ {'k': errorLogs()} }}", 1},
    {"{% set l = errorLogs() %}{{ l }}", 1},
    {"{% macro m() %}{{ errorLogs() }}{% endmacro %}{{ m() }}", 1},
    {"{{ upper(coalesce(null, errorLogs())) }}", 1},
    {"no template errorLogs()", 0},          /* plain text: not a call */
    {"{{ 'errorLogs()' }}", 0},              /* a string literal */
    {"{{ errorLogs }}", 0},                  /* a variable of that name */
    {"{{ outputs.errorLogs.value }}", 0},    /* an attribute */
    {"{{ errorLogsX() }}{{ now() }}", 0},
    {"{{ x.errorLogs() }}", 0},              /* a method call on a value */
};

static void test_calls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_cases / sizeof *k_cases; i++) {
        kt_tmpl *t = NULL;
        kt_expr_error e = {0};
        if (kt_tmpl_compile(k_cases[i].src, strlen(k_cases[i].src), &t, &e) != KT_OK)
            fail_msg("case %zu (%s) does not compile: %s", i, k_cases[i].src, e.message);
        if (kt_tmpl_calls(t, "errorLogs") != k_cases[i].calls)
            fail_msg("case %zu (%s): calls %d", i, k_cases[i].src, !k_cases[i].calls);
        kt_tmpl_free(t);
    }
    assert_int_equal(kt_tmpl_calls(NULL, "errorLogs"), 0);
}

/* Through the flow revision's cache, as the executor asks. */
static void test_calls_cached(void **state)
{
    (void)state;
    kt_tmpl_cache *c = kt_tmpl_cache_new();
    const kt_tmpl *t = NULL;
    kt_expr_error e = {0};
    assert_int_equal(kt_tmpl_cache_get(c, "{{ errorLogs()[0].message }}", &t, &e), KT_OK);
    assert_int_equal(kt_tmpl_calls(t, "errorLogs"), 1);
    assert_int_equal(kt_tmpl_calls(t, "now"), 0);
    kt_tmpl_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calls),
        cmocka_unit_test(test_calls_cached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
