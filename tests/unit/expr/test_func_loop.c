/* loopOutputs(outputs, id) (expr/func_loop.c): one declared output of a Loop across its iterations, in iteration order;
 * a missing output keeps its place as null; wrong arguments fail with a message saying what is expected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr.h"
#include "tests/unit/json_parse.h"

/* A Loop run's outputs as the executor leaves them (FETCH): outputs[n] = {item, outputs}. */
static const char *CTX = "{\"outputs\":{\"loop\":{\"iterationCount\":3,\"outputs\":["
                         "{\"item\":{\"value\":\"alpha\",\"iteration\":0},\"outputs\":{\"label\":\"A\",\"n\":1}},"
                         "{\"item\":{\"value\":\"beta\",\"iteration\":1},\"outputs\":{\"n\":2}},"
                         "{\"item\":{\"value\":\"gamma\",\"iteration\":2},\"outputs\":{\"label\":\"C\",\"n\":3}}]},"
                         "\"stored\":{\"uri\":\"kestra:///x.ion\"}}}";

static kt_status render(const char *src, char **out, kt_expr_error *err)
{
    json_t *ctx = parse(CTX);
    kt_env env;
    kt_env_init(&env, 0, 1);
    kt_status st = kt_expr_render_string(src, ctx, &env, out, err);
    json_decref(ctx);
    return st;
}

static void check(const char *src, const char *want)
{
    char *out = NULL;
    kt_expr_error err = {0};
    if (render(src, &out, &err))
        fail_msg("%s: %s", src, err.message);
    assert_string_equal(out, want);
    free(out);
}

static void check_fails(const char *src, const char *part)
{
    char *out = NULL;
    kt_expr_error err = {0};
    assert_int_not_equal(render(src, &out, &err), KT_OK);
    if (!strstr(err.message, part))
        fail_msg("%s: '%s' does not say '%s'", src, err.message, part);
    free(out);
}

static void test_loop_outputs(void **state)
{
    (void)state;
    check("{{ loopOutputs(outputs.loop.outputs, 'n') }}", "[1,2,3]");
    check("{{ loopOutputs(outputs.loop.outputs, 'label') }}", "[\"A\",null,\"C\"]");
    check("{{ loopOutputs(outputs.loop.outputs, 'n') | length }}", "3");
    check("{{ loopOutputs(outputs=outputs.loop.outputs, id='label') | first }}", "A");
    check("{{ loopOutputs([], 'n') }}", "[]");
}

static void test_loop_outputs_errors(void **state)
{
    (void)state;
    check_fails("{{ loopOutputs(null, 'n') }}", "expects an argument 'outputs'");
    check_fails("{{ loopOutputs(outputs.stored.outputs, 'n') }}", "Unable to find `outputs`"); /* strict, as Kestra */
    check_fails("{{ loopOutputs(outputs.stored, 'n') }}", "outputs.<loop>.uri");
    check_fails("{{ loopOutputs(outputs.loop.outputs) }}", "expects an argument 'id'");
    check_fails("{{ loopOutputs([1], 'n') }}", "element 0 is not one");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_outputs),
        cmocka_unit_test(test_loop_outputs_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
