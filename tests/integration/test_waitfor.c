/* WaitFor through a real server: the interval timer brings each next iteration back (the execution is PAUSED in
 * between, as Kestra's), children see taskrun.iteration, the previous iteration's runs are gone, and the API shows
 * the final iterationCount. */
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

static const char *FLOW = "id: loop\n"
                          "namespace: company.team\n"
                          "tasks:\n"
                          "  - id: wf\n"
                          "    type: io.kestra.plugin.core.flow.WaitFor\n"
                          "    condition: \"{{ outputs.ret.value == '3' }}\"\n"
                          "    checkFrequency:\n"
                          "      interval: PT0.2S\n"
                          "    tasks:\n"
                          "      - id: ret\n"
                          "        type: io.kestra.plugin.core.debug.Return\n"
                          "        format: \"{{ taskrun.iteration }}\"\n"
                          "  - id: after\n"
                          "    type: io.kestra.plugin.core.debug.Return\n"
                          "    format: \"{{ outputs.wf.iterationCount }}/{{ outputs.ret.value }}\"\n";

static void test_waitfor_iterations(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, FLOW, NULL);
    json_t *res = NULL;
    const char *none[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/loop", none, &res), 200);
    char id[64];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_t *ex = kt_it_wait_execution(f->port, id, 20000);
    assert_non_null(ex);
    if (strcmp(kt_it_state(ex), "SUCCESS"))
        kt_it_dump_log(&f->server);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    /* wf, the last iteration's ret, after: the two earlier rets were removed */
    assert_int_equal(json_array_size(json_object_get(ex, "taskRunList")), 3);
    json_t *wf = kt_it_taskrun(ex, "wf"), *ret = kt_it_taskrun(ex, "ret");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(wf, "outputs"), "iterationCount")), 4);
    assert_int_equal(json_integer_value(json_object_get(wf, "iteration")), 3);
    assert_int_equal(json_integer_value(json_object_get(ret, "iteration")), 3);
    assert_string_equal(json_string_value(json_object_get(json_object_get(kt_it_taskrun(ex, "after"), "outputs"),
                                                          "value")),
                        "4/3");
    /* the execution went PAUSED between iterations (twice), as Kestra's does */
    size_t i, paused = 0;
    json_t *h;
    json_array_foreach(json_object_get(json_object_get(ex, "state"), "histories"), i, h)
        paused += !strcmp(json_string_value(json_object_get(h, "state")), "PAUSED");
    assert_int_equal(paused, 2);
    json_decref(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_waitfor_iterations, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
