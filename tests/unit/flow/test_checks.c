/* Flow checks (flow/checks.c): the property table and its rules in both dialects (`condition` and `when` each
 * accepted, never both; a message; the enums), the evaluation with the inputs (true passes, false or an error
 * fails; an error is a BLOCK check with Kestra's cause message), and Check.resolveBehavior's order
 * (BLOCK < FAIL < CREATE, the lowest wins). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "flow/checks.h"
#include "flow/flow.h"

static const char *const dialects[] = {"1.x", "2.x"};

static kt_status parse(const char *d, const char *checks, kt_flow **f, kt_diags *dg)
{
    char src[4096];
    snprintf(src, sizeof src,
             "id: checked\nnamespace: company.team\ndialect: %s\ninputs:\n"
             "  - id: environment\n    type: STRING\n    defaults: dev\n"
             "  - id: n\n    type: INT\n    defaults: 1\n"
             "checks:\n%stasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n",
             d, checks);
    kt_diags_init(dg);
    return kt_flow_parse(src, strlen(src), "checks.yml", f, dg);
}

static void refused(const char *d, const char *checks, const char *want, const char *path)
{
    kt_flow *f = NULL;
    kt_diags dg;
    assert_int_equal(parse(d, checks, &f, &dg), KT_EINVAL);
    int found = 0;
    for (size_t i = 0; i < dg.count; i++)
        found |= strstr(dg.items[i].message, want) && !strcmp(dg.items[i].path, path);
    if (!found)
        fail_msg("%s: no '%s' at %s (first: %s: %s)", d, want, path, dg.count ? dg.items[0].path : "",
                 dg.count ? dg.items[0].message : "");
    kt_diags_clear(&dg);
}

static void test_validation(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        kt_flow *f = NULL;
        kt_diags dg;
        /* both names in both dialects (2.0 keeps `condition` as an alias; 1.x reads `when` as the new name) */
        assert_int_equal(parse(dialects[d],
                               "  - condition: \"{{ inputs.environment == 'prod' }}\"\n    message: prod only\n"
                               "    behavior: BLOCK_EXECUTION\n    style: ERROR\n"
                               "  - when: \"{{ inputs.n > 0 }}\"\n    message: positive\n",
                               &f, &dg),
                         KT_OK);
        kt_flow_free(f);
        kt_diags_clear(&dg);
        refused(dialects[d], "  - condition: \"{{ true }}\"\n    when: \"{{ true }}\"\n    message: m\n",
                "not both", "checks[0].when");
        refused(dialects[d], "  - message: m\n", "must not be null", "checks[0].when");
        refused(dialects[d], "  - when: \"{{ true }}\"\n", "must not be empty", "checks[0].message");
        refused(dialects[d], "  - when: \"{{ true }}\"\n    message: m\n    behavior: STOP\n", "",
                "checks[0].behavior");
        refused(dialects[d], "  - when: \"{{ true }}\"\n    message: m\n    style: LOUD\n", "", "checks[0].style");
        refused(dialects[d], "  - when: \"{{ true }}\"\n    message: m\n    color: red\n", "Unrecognized field",
                "checks[0].color");
    }
}

static kt_check_behavior evaluate(const char *d, const char *checks, const char *inputs_json, json_t **failed)
{
    kt_flow *f = NULL;
    kt_diags dg;
    if (parse(d, checks, &f, &dg) != KT_OK)
        fail_msg("%s: %s", dg.count ? dg.items[0].path : "", dg.count ? dg.items[0].message : "");
    kt_diags_clear(&dg);
    kt_env env;
    kt_env_init(&env, INT64_C(1700000000000000), 3);
    env.dialect = kt_dialect_of_flow(kt_flow_json(f));
    json_t *inputs = json_loads(inputs_json, 0, NULL);
    kt_check_behavior b = kt_checks_evaluate(kt_flow_json(f), inputs, &env, failed);
    json_decref(inputs);
    kt_flow_free(f);
    return b;
}

static void test_evaluation(void **state)
{
    (void)state;
    const char *checks = "  - condition: \"{{ inputs.environment == 'prod' }}\"\n    message: prod only\n"
                         "    behavior: CREATE_EXECUTION\n"
                         "  - when: \"{{ inputs.n > 0 }}\"\n    message: positive\n    behavior: FAIL_EXECUTION\n"
                         "  - when: \"{{ inputs.n < 100 }}\"\n    message: small\n";
    for (int d = 0; d < 2; d++) {
        json_t *failed = NULL;
        assert_int_equal(evaluate(dialects[d], checks, "{\"environment\": \"prod\", \"n\": 5}", &failed),
                         KT_CHECK_CREATE);
        assert_int_equal(json_array_size(failed), 0);
        json_decref(failed);
        /* only the CREATE check fails: created */
        assert_int_equal(evaluate(dialects[d], checks, "{\"environment\": \"dev\", \"n\": 5}", &failed),
                         KT_CHECK_CREATE);
        assert_int_equal(json_array_size(failed), 1);
        json_decref(failed);
        /* CREATE and FAIL fail: FAIL wins */
        assert_int_equal(evaluate(dialects[d], checks, "{\"environment\": \"dev\", \"n\": -1}", &failed),
                         KT_CHECK_FAIL);
        json_decref(failed);
        /* the BLOCK one (behavior's default) wins over all */
        assert_int_equal(evaluate(dialects[d], checks, "{\"environment\": \"dev\", \"n\": 500}", &failed),
                         KT_CHECK_BLOCK);
        assert_string_equal(json_string_value(json_object_get(json_array_get(failed, 0), "message")), "prod only");
        assert_string_equal(json_string_value(json_object_get(json_array_get(failed, 0), "behavior")),
                            "CREATE_EXECUTION");
        assert_string_equal(json_string_value(json_object_get(json_array_get(failed, 0), "style")), "INFO");
        assert_string_equal(json_string_value(json_object_get(json_array_get(failed, 1), "message")), "small");
        assert_string_equal(json_string_value(json_object_get(json_array_get(failed, 1), "behavior")),
                            "BLOCK_EXECUTION");
        char *m = kt_checks_blocked_message(failed);
        assert_string_equal(m, "Flow execution blocked: one or more condition checks evaluated to false.\n"
                               "Failed checks: prod only, small");
        free(m);
        json_decref(failed);
        /* a condition that does not render blocks, saying why; one rendering the text "true" is not true */
        assert_int_equal(evaluate(dialects[d], "  - when: \"{{ inputs.missing.x }}\"\n    message: m\n"
                                               "    behavior: CREATE_EXECUTION\n",
                                  "{\"n\": 1}", &failed),
                         KT_CHECK_BLOCK);
        assert_non_null(strstr(json_string_value(json_object_get(json_array_get(failed, 0), "message")),
                               "Failed to evaluate check condition. Cause: "));
        assert_string_equal(json_string_value(json_object_get(json_array_get(failed, 0), "style")), "ERROR");
        json_decref(failed);
        assert_int_equal(evaluate(dialects[d], "  - when: \"true\"\n    message: text\n", "{}", NULL), KT_CHECK_BLOCK);
        assert_int_equal(evaluate(dialects[d], "  - when: \"{{ true }}\"\n    message: bool\n", "{}", NULL),
                         KT_CHECK_CREATE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_evaluation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
