/* Kestra's FlowService.injectDisabled (the text edited line by line) and generateSource (JSON written as Jackson's
 * YAML, read back to the same value by the flow YAML loader). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow_source.h"
#include "flow/yaml.h"

static void check_inject(const char *src, int disabled, const char *want)
{
    char *got = kt_flow_source_inject_disabled(src, disabled);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_inject_disabled(void **state)
{
    (void)state;
    /* none there: appended after a newline, as Kestra does (even after a trailing newline) */
    check_inject("id: a\nnamespace: b\n", 1, "id: a\nnamespace: b\n\ndisabled: true");
    check_inject("id: a", 0, "id: a\ndisabled: false");
    /* the opposite value is replaced, the blanks after it (newline included) taken by the regex */
    check_inject("id: a\ndisabled: false\ntasks: []\n", 1, "id: a\ndisabled: true\ntasks: []\n");
    check_inject("id: a\ndisabled :  true   \n\n  \ntasks: []\n", 0, "id: a\ndisabled: false\ntasks: []\n");
    /* already the wanted value: Kestra's regex does not match it, so the line is added again */
    check_inject("disabled: true\n", 1, "disabled: true\n\ndisabled: true");
    /* only at a line's start: an indented key (a task's `disabled`) is not the flow's */
    check_inject("tasks:\n  - disabled: false\n", 1, "tasks:\n  - disabled: false\n\ndisabled: true");
    /* every match is replaced, CRLF lines included */
    check_inject("disabled: false\r\nx: 1\r\ndisabled: false", 1, "disabled: true\nx: 1\r\ndisabled: true\n");
    /* `disabled: falsey` matches Java's regex too (no word boundary) */
    check_inject("disabled: falsey\n", 1, "disabled: true\ny\n");
}

/* generate then load: the same JSON back. */
static void roundtrip(const char *json, const char *want_yaml)
{
    json_t *v = json_loads(json, 0, NULL);
    assert_non_null(v);
    char *y = kt_flow_source_yaml(v);
    assert_non_null(y);
    if (want_yaml)
        assert_string_equal(y, want_yaml);
    kt_diags d;
    kt_diags_init(&d);
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    assert_int_equal(kt_yaml_load(y, strlen(y), "g.yml", &docs, &n, &d), KT_OK);
    assert_int_equal(n, 1);
    if (!json_equal(kt_yaml_doc_root(docs[0]), v)) {
        char *back = json_dumps(kt_yaml_doc_root(docs[0]), JSON_COMPACT | JSON_ENCODE_ANY);
        fail_msg("%s\n-> %s\n-> %s", json, y, back);
    }
    kt_yaml_docs_free(docs, n);
    kt_diags_clear(&d);
    free(y);
    json_decref(v);
}

static void test_generate_layout(void **state)
{
    (void)state;
    /* Jackson/SnakeYAML block style: sequences at their key's indentation, maps two spaces in */
    roundtrip("{\"id\":\"hello\",\"namespace\":\"company.team\",\"tasks\":[{\"id\":\"t\",\"type\":\"io.kestra.plugin.core."
              "log.Log\",\"message\":\"hi\",\"retry\":{\"type\":\"constant\",\"maxAttempts\":2}}],\"labels\":{\"a\":\"b\"}}",
              "id: hello\nnamespace: company.team\ntasks:\n- id: t\n  type: io.kestra.plugin.core.log.Log\n  message: hi\n"
              "  retry:\n    type: constant\n    maxAttempts: 2\nlabels:\n  a: b\n");
    roundtrip("{\"a\":[[1,2],[],{}],\"b\":{},\"c\":[]}", "a:\n- - 1\n  - 2\n- []\n- {}\nb: {}\nc: []\n");
    roundtrip("{\"x\":[{\"k\":[{\"z\":1}]}]}", "x:\n- k:\n  - z: 1\n");
}

static void test_generate_quoting(void **state)
{
    (void)state;
    /* strings a plain scalar would turn into something else are quoted */
    roundtrip("{\"a\":\"true\",\"b\":\"123\",\"c\":\"1.5\",\"d\":\"null\",\"e\":\"\",\"f\":\"yes\",\"g\":\"~\"}",
              "a: \"true\"\nb: \"123\"\nc: \"1.5\"\nd: \"null\"\ne: \"\"\nf: \"yes\"\ng: \"~\"\n");
    roundtrip("{\"m\":\"{{ inputs.name }}\",\"n\":\"a: b\",\"o\":\"x #y\",\"p\":\"line1\\nline2\\t\\\"q\\\"\\\\\"}", NULL);
    roundtrip("{\"s\":\"- dash\",\"t\":\"*star\",\"u\":\" lead\",\"v\":\"it's\",\"w\":\"'quoted'\",\"x\":\"@at\"}", NULL);
    roundtrip("{\"ints\":[0,-3,9007199254740993],\"reals\":[0.5,-2.25,1e20],\"bools\":[true,false],\"n\":[null]}", NULL);
    roundtrip("{\"unicode\":\"h\\u00e9llo \\u2603\",\"url\":\"http://x:8080/a#b\",\"123\":1,\"true\":2}", NULL);
    /* nulls in maps are left out (NON_DEFAULT), the root's revision too when generating a flow */
    json_t *f = json_pack("{s:s, s:i, s:n, s:s}", "id", "x", "revision", 4, "description", "namespace", "ns");
    char *y = kt_flow_source_generate(f);
    assert_string_equal(y, "id: x\nnamespace: ns\n");
    free(y);
    json_decref(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inject_disabled),
        cmocka_unit_test(test_generate_layout),
        cmocka_unit_test(test_generate_quoting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
