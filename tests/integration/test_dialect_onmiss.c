/* Issue 13 (package 4b) on a real server (127.0.0.1): a Webhook starts a flow in each dialect
 * (tests/dialects/onmiss/webhook_defaults.*.yaml): a 2.x flow's execution has its inputs with the `defaults`
 * expressions rendered, as POST /executions gives them (docs/dialects.md A11), and a default that does not render
 * answers 422 with the reason and starts nothing (Kestra's invalid-request-body problem for a webhook whose inputs
 * could not render); a 1.x flow's webhook execution has no inputs, as Kestra 0.21's, and starts either way.
 * And the items tasks' filter expressions render in the flow's dialect (the job's run info names it): FilterItems
 * with kv() of a missing key keeps the items in a 1.x flow (null, Kestra 0.21) and fails in a 2.x one
 * (tests/dialects/onmiss/filter_kv.*.yaml). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef kt_it_fixture fixture;

static void flow(int port, const char *id, int dialect, const char *dflt)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "id: %s\nnamespace: it.onmiss\ndialect: %d.x\n"
             "inputs:\n  - id: env\n    type: STRING\n    defaults: dev\n"
             "  - id: bucket\n    type: STRING\n    defaults: \"%s\"\n"
             "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
             "triggers:\n  - id: hook\n    type: io.kestra.plugin.core.trigger.Webhook\n    key: k-%s\n",
             id, dialect, dflt, id);
    kt_it_create_flow(port, yaml, NULL);
}

static long hook(int port, const char *id, json_t **res)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/executions/webhook/it.onmiss/%s/k-%s", id, id);
    return kt_it_http_json("POST", port, path, "application/json", "{}", res);
}

static size_t executions(int port, const char *id)
{
    char path[200];
    snprintf(path, sizeof path, "/api/v1/executions/search?namespace=it.onmiss&flowId=%s", id);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("GET", port, path, NULL, NULL, &res), 200);
    size_t n = json_array_size(json_object_get(res, "results"));
    json_decref(res);
    return n;
}

static void test_webhook_dynamic_defaults(void **state)
{
    fixture *f = *state;
    flow(f->port, "wh1x", 1, "{{ flow.namespace }}-{{ inputs.env }}");
    flow(f->port, "wh2x", 2, "{{ flow.namespace }}-{{ inputs.env }}");
    flow(f->port, "whbad1x", 1, "{{ nope.x }}");
    flow(f->port, "whbad2x", 2, "{{ nope.x }}");

    json_t *res = NULL;
    assert_int_equal(hook(f->port, "wh2x", &res), 200);
    const json_t *in = json_object_get(res, "inputs");
    assert_string_equal(json_string_value(json_object_get(in, "bucket")), "it.onmiss-dev");
    assert_string_equal(json_string_value(json_object_get(in, "env")), "dev");
    json_decref(res);

    assert_int_equal(hook(f->port, "wh1x", &res), 200);
    assert_true(json_object_size(json_object_get(res, "inputs")) == 0); /* Kestra 0.21: no inputs */
    json_decref(res);

    char *raw = NULL;
    long st = kt_it_http("POST", f->port, "/api/v1/executions/webhook/it.onmiss/whbad2x/k-whbad2x",
                         "application/json", "{}", &raw);
    if (st != 422 || !raw || !strstr(raw, "nope"))
        fail_msg("whbad2x: %ld %s", st, raw ? raw : "");
    free(raw);
    assert_int_equal(executions(f->port, "whbad2x"), 0);

    assert_int_equal(hook(f->port, "whbad1x", &res), 200);
    json_decref(res);
    assert_int_equal(executions(f->port, "whbad1x"), 1);
}

static void test_filter_items_dialect(void **state)
{
    fixture *f = *state;
    for (int d = 1; d <= 2; d++) {
        char yaml[1024], path[160], id[64];
        snprintf(yaml, sizeof yaml,
                 "id: fk%dx\nnamespace: it.onmiss\ndialect: %d.x\ntasks:\n"
                 "  - id: write\n    type: io.kestra.plugin.core.storage.Write\n    extension: .ion\n"
                 "    content: \"{a:1}\\n{a:2}\\n\"\n"
                 "  - id: filter\n    type: io.kestra.plugin.core.storage.FilterItems\n"
                 "    from: \"{{ outputs.write.uri }}\"\n"
                 "    filterCondition: \"{{ kv('NOPE', namespace='it.onmiss') == null }}\"\n",
                 d, d);
        kt_it_create_flow(f->port, yaml, NULL);
        snprintf(path, sizeof path, "/api/v1/executions/it.onmiss/fk%dx", d);
        const char *fields[] = {NULL};
        json_t *res = NULL;
        assert_int_equal(kt_it_post_form(f->port, path, fields, &res), 200);
        snprintf(id, sizeof id, "%s", json_string_value(json_object_get(res, "id")));
        json_decref(res);
        json_t *ex = kt_it_wait_execution(f->port, id, 10000);
        assert_non_null(ex);
        const char *want = d == 1 ? "SUCCESS" : "FAILED";
        if (strcmp(kt_it_state(ex), want))
            fail_msg("fk%dx: %s, want %s", d, kt_it_state(ex), want);
        json_decref(ex);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_webhook_dynamic_defaults, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_filter_items_dialect, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
