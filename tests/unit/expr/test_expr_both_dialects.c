/* The 2.0 rules the issue lists that Kite already followed before dialects (docs/dialects.md, "no difference" rows),
 * shown in both dialects: a missing secret() fails the render, rendering is not recursive (a variable holding an
 * expression comes out as written, render() renders it), and JSON is written NON_NULL with empty lists and maps
 * present. Each case renders the same template with env.dialect 1.x and 2.x and asserts the same answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/json.h"
#include "base/secrets.h"
#include "expr/expr.h"

#define NOW INT64_C(1700000000000000)

static kt_secrets *g_secrets;

static kt_status render(kt_dialect d, const char *src, char **out, kt_expr_error *err)
{
    kt_env env;
    kt_env_init(&env, NOW, 1);
    env.secrets = g_secrets;
    env.dialect = d;
    json_t *ctx = json_pack("{s{ss}s{ss}}", "inputs", "name", "Ada", "vars", "greeting", "Hello {{ inputs.name }}");
    kt_status st = kt_expr_render_string(src, ctx, &env, out, err);
    json_decref(ctx);
    return st;
}

static void test_secret_missing_fails(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        char *out = NULL;
        kt_expr_error err = {0};
        if (render((kt_dialect)d, "{{ secret('DOES_NOT_EXIST') }}", &out, &err) == KT_OK)
            fail_msg("%s: a missing secret rendered '%s'", kt_dialect_name((kt_dialect)d), out);
        assert_non_null(strstr(err.message, "DOES_NOT_EXIST"));
        free(out);
        assert_int_equal(render((kt_dialect)d, "{{ secret('MY_TOKEN') }}", &out, &err), KT_OK);
        assert_string_equal(out, "s3cret");
        free(out);
    }
}

static void test_rendering_not_recursive(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        char *out = NULL;
        kt_expr_error err = {0};
        assert_int_equal(render((kt_dialect)d, "{{ vars.greeting }}", &out, &err), KT_OK);
        assert_string_equal(out, "Hello {{ inputs.name }}");
        free(out);
        assert_int_equal(render((kt_dialect)d, "{{ render(vars.greeting) }}", &out, &err), KT_OK);
        assert_string_equal(out, "Hello Ada");
        free(out);
    }
}

/* Outputs as the API writes them (kt_json_write): a null member dropped, empty lists and maps kept. The writer takes
 * no dialect: the same bytes for every flow. */
static void test_json_non_null(void **state)
{
    (void)state;
    json_t *v = json_pack("{s[]s{}sns[n]}", "empty", "m", "gone", "list");
    kt_buf b = {0};
    kt_json_write(&b, v);
    char *s = kt_buf_take(&b);
    assert_string_equal(s, "{\"empty\":[],\"m\":{},\"list\":[null]}");
    free(s);
    json_decref(v);
}

int main(void)
{
    char *envp[] = {"SECRET_MY_TOKEN=czNjcmV0", NULL}; /* base64 of s3cret */
    char *warn = NULL;
    g_secrets = kt_secrets_new(envp, NULL, NULL, &warn);
    free(warn);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_missing_fails),
        cmocka_unit_test(test_rendering_not_recursive),
        cmocka_unit_test(test_json_non_null),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    kt_secrets_free(g_secrets);
    return rc;
}
