/* Package 5 of issue 13 over real HTTP (tests/dialects/inputs/, each flow in a 1.x and a 2.x version): flow checks
 * before an execution exists (BLOCK: 422 with Kestra's text and no execution; FAIL: created FAILED, no task run;
 * CREATE: created and run; POST .../validate lists the failed checks), kv() on a missing key (1.x null, 2.x the
 * task fails), defaults => required (1.x saves and runs an optional input with defaults, the default applied, a
 * prefill-only input null; 2.x refuses to save it), defaults holding an expression (1.x literal, 2.x rendered). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const char *const versions[] = {"1x", "20"};

static char *flow_source(const char *name, const char *version)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/dialects/inputs/%s.%s.yaml", KITE_SOURCE_DIR, name, version);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static void create(int port, const char *name, const char *version)
{
    char *src = flow_source(name, version);
    kt_it_create_flow(port, src, NULL);
    free(src);
}

/* POST an execution of company.team.<id> with n; the status, *out the answer. */
static long run_n(int port, const char *id, const char *n, json_t **out)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/company.team/%s", id);
    const char *fields[] = {"n", n, NULL};
    return kt_it_post_form(port, path, fields, out);
}

static size_t executions_of(int port, const char *id)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/search?namespace=company.team&flowId=%s", id);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("GET", port, path, NULL, NULL, &res), 200);
    size_t total = (size_t)json_integer_value(json_object_get(res, "total"));
    json_decref(res);
    return total;
}

static void test_checks_block_fail_create(void **state)
{
    kt_it_fixture *fx = *state;
    for (int v = 0; v < 2; v++) {
        char id[64];
        snprintf(id, sizeof id, "checks_%s", versions[v]);
        create(fx->port, "checks", versions[v]);
        json_t *res = NULL;
        /* BLOCK: Kestra's IllegalArgumentException (422) and nothing created */
        assert_int_equal(run_n(fx->port, id, "13", &res), 422);
        const char *msg = json_string_value(json_object_get(res, "message"));
        assert_non_null(msg);
        assert_string_equal(msg, "Illegal argument: Flow execution blocked: one or more condition checks evaluated "
                                 "to false.\nFailed checks: 13 is blocked");
        json_decref(res);
        assert_int_equal(executions_of(fx->port, id), 0);
        /* the validation answers the failed checks as Kestra's ApiCheckFailure, creating nothing */
        char vpath[256];
        snprintf(vpath, sizeof vpath, "/api/v1/executions/company.team/%s/validate", id);
        const char *vfields[] = {"n", "13", NULL};
        assert_int_equal(kt_it_post_form(fx->port, vpath, vfields, &res), 200);
        json_t *want = json_loads("[{\"message\": \"13 is blocked\", \"style\": \"ERROR\", "
                                  "\"behavior\": \"BLOCK_EXECUTION\"}]", 0, NULL);
        assert_true(json_equal(json_object_get(res, "checks"), want));
        json_decref(want);
        json_decref(res);
        assert_int_equal(executions_of(fx->port, id), 0);
        /* FAIL: created FAILED, no task ran */
        assert_int_equal(run_n(fx->port, id, "7", &res), 200);
        json_t *ex = kt_it_wait_execution(fx->port, json_string_value(json_object_get(res, "id")), 20000);
        json_decref(res);
        assert_non_null(ex);
        assert_string_equal(kt_it_state(ex), "FAILED");
        assert_int_equal(json_array_size(json_object_get(ex, "taskRunList")), 0);
        json_decref(ex);
        /* CREATE: created and run as usual; so is one that passes every check */
        const char *ok[] = {"5", "1"};
        for (int k = 0; k < 2; k++) {
            assert_int_equal(run_n(fx->port, id, ok[k], &res), 200);
            ex = kt_it_wait_execution(fx->port, json_string_value(json_object_get(res, "id")), 20000);
            json_decref(res);
            assert_non_null(ex);
            assert_string_equal(kt_it_state(ex), "SUCCESS");
            json_decref(ex);
        }
        assert_int_equal(executions_of(fx->port, id), 3);
    }
}

static void test_kv_missing_by_dialect(void **state)
{
    kt_it_fixture *fx = *state;
    const char *want[] = {"SUCCESS", "FAILED"};
    for (int v = 0; v < 2; v++) {
        char id[64], path[256];
        snprintf(id, sizeof id, "kv_missing_%s", versions[v]);
        create(fx->port, "kv_missing", versions[v]);
        snprintf(path, sizeof path, "/api/v1/executions/company.team/%s", id);
        const char *fields[] = {NULL};
        json_t *res = NULL;
        assert_int_equal(kt_it_post_form(fx->port, path, fields, &res), 200);
        json_t *ex = kt_it_wait_execution(fx->port, json_string_value(json_object_get(res, "id")), 20000);
        json_decref(res);
        assert_non_null(ex);
        assert_string_equal(kt_it_state(ex), want[v]);
        /* errorOnMissing=false gives null in both */
        assert_string_equal(kt_it_state(kt_it_taskrun(ex, "soft")), "SUCCESS");
        assert_string_equal(kt_it_state(kt_it_taskrun(ex, "hard")), want[v]);
        json_decref(ex);
    }
}

static void test_optional_input_with_defaults(void **state)
{
    kt_it_fixture *fx = *state;
    create(fx->port, "defaults_optional", "1x");
    const char *fields[] = {NULL};
    json_t *res = NULL;
    assert_int_equal(kt_it_post_form(fx->port, "/api/v1/executions/company.team/defaults_optional_1x", fields, &res),
                     200);
    json_t *ex = kt_it_wait_execution(fx->port, json_string_value(json_object_get(res, "id")), 20000);
    json_decref(res);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_t *out = json_object_get(kt_it_taskrun(ex, "ret"), "outputs");
    assert_string_equal(json_string_value(json_object_get(out, "value")), "dev|none");
    json_decref(ex);
    /* 2.x refuses it at save, at the input */
    char *src = flow_source("defaults_optional", "20");
    char *body = NULL;
    long st = kt_it_http("POST", fx->port, "/api/v1/flows", "application/x-yaml", src, &body);
    free(src);
    assert_int_equal(st, 422);
    assert_non_null(strstr(body, "Inputs with a default value must be required, since the default is always applied."));
    free(body);
}

/* 1.x takes defaults as written (Kestra 0.21: the text is the value, rendering is not recursive), 2.x renders them
 * when the execution is created (Kestra 1.0's dynamic defaults). */
static void test_dynamic_defaults_by_dialect(void **state)
{
    kt_it_fixture *fx = *state;
    const char *want[] = {"{{ flow.namespace }}-{{ inputs.env }}", "company.team-dev"};
    for (int v = 0; v < 2; v++) {
        char path[256];
        create(fx->port, "dynamic_defaults", versions[v]);
        snprintf(path, sizeof path, "/api/v1/executions/company.team/dynamic_defaults_%s", versions[v]);
        const char *fields[] = {NULL};
        json_t *res = NULL;
        assert_int_equal(kt_it_post_form(fx->port, path, fields, &res), 200);
        json_t *ex = kt_it_wait_execution(fx->port, json_string_value(json_object_get(res, "id")), 20000);
        json_decref(res);
        assert_non_null(ex);
        assert_string_equal(kt_it_state(ex), "SUCCESS");
        assert_string_equal(json_string_value(json_object_get(json_object_get(ex, "inputs"), "bucket")), want[v]);
        json_t *out = json_object_get(kt_it_taskrun(ex, "ret"), "outputs");
        assert_string_equal(json_string_value(json_object_get(out, "value")), want[v]);
        json_decref(ex);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_checks_block_fail_create, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_kv_missing_by_dialect, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_optional_input_with_defaults, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_dynamic_defaults_by_dialect, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
