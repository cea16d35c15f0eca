/* Inputs by dialect and the 1.x additions (docs/dialects.md): `prefill` (both dialects, never with `defaults`, not
 * applied by the server), defaults => required (2.x refuses `required: false` beside `defaults` at save, 1.x
 * accepts it as Kestra 0.21 did), defaults (1.x literal as in 0.21; 2.x rendered when the execution is created,
 * a failure refusing it with the reason), SELECT `autoSelectFirst`, FILE `allowedFileExtensions`, BOOL exactly as
 * BOOLEAN. Every flow is saved in both dialects (`dialect: 1.x` / `dialect: 2.x`). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "flow/flow.h"
#include "flow/inputs.h"

static const char *const dialects[] = {"1.x", "2.x"};

/* The flow `head` + "dialect: d" + `inputs`, parsed; diags filled either way. */
static kt_status parse(const char *d, const char *inputs, kt_flow **f, kt_diags *dg)
{
    char src[4096];
    snprintf(src, sizeof src,
             "id: inputs_dialect\nnamespace: company.team\ndialect: %s\ninputs:\n%stasks:\n"
             "  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n",
             d, inputs);
    kt_diags_init(dg);
    return kt_flow_parse(src, strlen(src), "inputs.yml", f, dg);
}

static int has_message(const kt_diags *dg, const char *want, const char *path)
{
    for (size_t i = 0; i < dg->count; i++)
        if (strstr(dg->items[i].message, want) && (!path || !strcmp(dg->items[i].path, path)))
            return 1;
    return 0;
}

static void saves(const char *d, const char *inputs)
{
    kt_flow *f = NULL;
    kt_diags dg;
    if (parse(d, inputs, &f, &dg) != KT_OK)
        fail_msg("%s refused: %s: %s", d, dg.count ? dg.items[0].path : "", dg.count ? dg.items[0].message : "");
    kt_flow_free(f);
    kt_diags_clear(&dg);
}

static void refused(const char *d, const char *inputs, const char *want, const char *path, int line)
{
    kt_flow *f = NULL;
    kt_diags dg;
    assert_int_equal(parse(d, inputs, &f, &dg), KT_EINVAL);
    if (!has_message(&dg, want, path))
        fail_msg("%s: no '%s' at %s (first: %s: %s)", d, want, path ? path : "-", dg.count ? dg.items[0].path : "",
                 dg.count ? dg.items[0].message : "");
    if (line)
        for (size_t i = 0; i < dg.count; i++)
            if (strstr(dg.items[i].message, want))
                assert_int_equal(dg.items[i].line, line);
    kt_diags_clear(&dg);
}

static void test_defaults_required_by_dialect(void **state)
{
    (void)state;
    const char *in = "  - id: env\n    type: STRING\n    required: false\n    defaults: dev\n";
    saves("1.x", in); /* Kestra 0.21: accepted, the default applies */
    refused("2.x", in, "Inputs with a default value must be required, since the default is always applied.",
            "inputs[0]", 5);
    for (int d = 0; d < 2; d++) /* required (the default) with defaults: both */
        saves(dialects[d], "  - id: env\n    type: STRING\n    defaults: dev\n");
    /* 1.x: not given, the default is used even though the input is optional */
    kt_flow *f = NULL;
    kt_diags dg;
    assert_int_equal(parse("1.x", in, &f, &dg), KT_OK);
    json_t *typed = NULL;
    assert_int_equal(kt_inputs_resolve(kt_flow_inputs(f), NULL, &typed, &dg), KT_OK);
    assert_string_equal(json_string_value(json_object_get(typed, "env")), "dev");
    json_decref(typed);
    kt_flow_free(f);
    kt_diags_clear(&dg);
}

static void test_prefill(void **state)
{
    (void)state;
    const char *in = "  - id: note\n    type: STRING\n    required: false\n    prefill: a suggestion\n";
    for (int d = 0; d < 2; d++) {
        saves(dialects[d], in);
        refused(dialects[d], "  - id: note\n    type: STRING\n    defaults: x\n    prefill: y\n",
                "Inputs with a default value cannot also have a prefill.", "inputs[0]", 5);
        refused(dialects[d], "  - id: n\n    type: INT\n    required: false\n    prefill: many\n",
                "Invalid input for `n`", "inputs[0].prefill", 0);
        /* the server does not apply it: absent or cleared, the execution gets null */
        kt_flow *f = NULL;
        kt_diags dg;
        assert_int_equal(parse(dialects[d], in, &f, &dg), KT_OK);
        json_t *typed = NULL, *raw = json_pack("{s:n}", "note");
        assert_int_equal(kt_inputs_resolve(kt_flow_inputs(f), NULL, &typed, &dg), KT_OK);
        assert_true(json_is_null(json_object_get(typed, "note")));
        json_decref(typed);
        assert_int_equal(kt_inputs_resolve(kt_flow_inputs(f), raw, &typed, &dg), KT_OK);
        assert_true(json_is_null(json_object_get(typed, "note")));
        json_decref(typed);
        json_decref(raw);
        /* a value given is the value */
        raw = json_pack("{s:s}", "note", "mine");
        assert_int_equal(kt_inputs_resolve(kt_flow_inputs(f), raw, &typed, &dg), KT_OK);
        assert_string_equal(json_string_value(json_object_get(typed, "note")), "mine");
        json_decref(typed);
        json_decref(raw);
        kt_flow_free(f);
        kt_diags_clear(&dg);
        /* a required input with only a prefill is still missing when not given */
        assert_int_equal(parse(dialects[d], "  - id: note\n    type: STRING\n    prefill: a suggestion\n", &f, &dg),
                         KT_OK);
        assert_int_equal(kt_inputs_resolve(kt_flow_inputs(f), NULL, &typed, &dg), KT_EINVAL);
        assert_true(has_message(&dg, "missing required input", "inputs.note"));
        kt_flow_free(f);
        kt_diags_clear(&dg);
    }
}

static void test_dynamic_defaults(void **state)
{
    (void)state;
    const char *in = "  - id: region\n    type: STRING\n    defaults: eu\n"
                     "  - id: bucket\n    type: STRING\n    defaults: \"{{ flow.namespace }}-{{ inputs.region }}\"\n"
                     "  - id: session\n    type: STRING\n    defaults: \"{{ execution.id }}\"\n";
    const char *typed_in = "  - id: n\n    type: INT\n    defaults: \"{{ 20 + 22 }}\"\n";
    kt_env env;
    kt_env_init(&env, INT64_C(1700000000000000), 7);
    kt_flow *f = NULL;
    kt_diags dg;
    json_t *typed = NULL, *raw = json_pack("{s:s}", "session", "given");
    /* 1.x (Kestra 0.21): literal, so an expression is the value, and must read as the type at save */
    assert_int_equal(parse("1.x", in, &f, &dg), KT_OK);
    assert_int_equal(kt_inputs_resolve_in(kt_flow_inputs(f), NULL, kt_flow_json(f), &env, &typed, &dg), KT_OK);
    assert_string_equal(json_string_value(json_object_get(typed, "bucket")),
                        "{{ flow.namespace }}-{{ inputs.region }}");
    assert_string_equal(json_string_value(json_object_get(typed, "session")), "{{ execution.id }}");
    json_decref(typed);
    kt_flow_free(f);
    kt_diags_clear(&dg);
    refused("1.x", typed_in, "Invalid input for `n`", "inputs[0].defaults", 7);
    /* 2.x (Kestra 1.0's dynamic defaults): rendered at creation, typed; not typed at save */
    assert_int_equal(parse("2.x", typed_in, &f, &dg), KT_OK);
    env.dialect = KT_DIALECT_2X;
    assert_int_equal(kt_inputs_resolve_in(kt_flow_inputs(f), NULL, kt_flow_json(f), &env, &typed, &dg), KT_OK);
    assert_int_equal(json_integer_value(json_object_get(typed, "n")), 42);
    json_decref(typed);
    kt_flow_free(f);
    kt_diags_clear(&dg);
    assert_int_equal(parse("2.x", in, &f, &dg), KT_OK);
    if (kt_inputs_resolve_in(kt_flow_inputs(f), raw, kt_flow_json(f), &env, &typed, &dg) != KT_OK)
        fail_msg("%s: %s", dg.items[0].path, dg.items[0].message);
    assert_string_equal(json_string_value(json_object_get(typed, "bucket")), "company.team-eu");
    assert_string_equal(json_string_value(json_object_get(typed, "session")), "given");
    json_decref(typed);
    /* no execution exists when defaults render: naming it refuses the creation, with the reason */
    assert_int_equal(kt_inputs_resolve_in(kt_flow_inputs(f), NULL, kt_flow_json(f), &env, &typed, &dg), KT_EINVAL);
    assert_true(has_message(&dg, "Unable to render the defaults", "inputs.session"));
    assert_true(has_message(&dg, "execution", "inputs.session"));
    kt_diags_clear(&dg);
    /* without an environment (kt_inputs_resolve, a resume) a default is taken as written */
    assert_int_equal(kt_inputs_resolve(kt_flow_inputs(f), raw, &typed, &dg), KT_OK);
    assert_string_equal(json_string_value(json_object_get(typed, "bucket")),
                        "{{ flow.namespace }}-{{ inputs.region }}");
    json_decref(typed);
    json_decref(raw);
    kt_flow_free(f);
    kt_diags_clear(&dg);
}

static void test_new_properties_and_bool(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        saves(dialects[d], "  - id: s\n    type: SELECT\n    values: [a, b]\n    autoSelectFirst: true\n");
        saves(dialects[d], "  - id: f\n    type: FILE\n    allowedFileExtensions: [.csv, .txt]\n");
        refused(dialects[d], "  - id: s\n    type: STRING\n    autoSelectFirst: true\n", "Unrecognized field",
                "inputs[0].autoSelectFirst", 0);
        refused(dialects[d], "  - id: s\n    type: SELECT\n    values: [a]\n    autoSelectFirst: first\n",
                "must be a boolean", "inputs[0].autoSelectFirst", 0);
        refused(dialects[d], "  - id: f\n    type: FILE\n    allowedFileExtensions: .csv\n", "must be a list",
                "inputs[0].allowedFileExtensions", 0);
        kt_flow *f = NULL;
        kt_diags dg;
        assert_int_equal(parse(dialects[d],
                               "  - id: a\n    type: BOOL\n    defaults: true\n"
                               "  - id: b\n    type: BOOLEAN\n    defaults: true\n",
                               &f, &dg),
                         KT_OK);
        const char *texts[] = {"true", "false", "TRUE", "nope"};
        for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
            json_t *typed = NULL, *raw = json_pack("{s:s, s:s}", "a", texts[i], "b", texts[i]);
            assert_int_equal(kt_inputs_resolve(kt_flow_inputs(f), raw, &typed, &dg), KT_OK);
            assert_true(json_equal(json_object_get(typed, "a"), json_object_get(typed, "b")));
            json_decref(typed);
            json_decref(raw);
        }
        kt_flow_free(f);
        kt_diags_clear(&dg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_required_by_dialect),
        cmocka_unit_test(test_prefill),
        cmocka_unit_test(test_dynamic_defaults),
        cmocka_unit_test(test_new_properties_and_bool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
