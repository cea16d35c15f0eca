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

#include "base/clock.h"
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

static const char *SLOW_FLOW = "id: slow\n"
                               "namespace: company.team\n"
                               "tasks:\n"
                               "  - id: wf\n"
                               "    type: io.kestra.plugin.core.flow.WaitFor\n"
                               "    condition: \"{{ outputs.ret.value == '3' }}\"\n"
                               "    checkFrequency:\n"
                               "      interval: PT2S\n"
                               "    tasks:\n"
                               "      - id: ret\n"
                               "        type: io.kestra.plugin.core.debug.Return\n"
                               "        format: \"{{ taskrun.iteration }}\"\n";

/* The date of the n-th (0-based) entry of state `want` in the execution's histories, then of the entry after it. */
static void history_dates(const json_t *ex, const char *want, size_t n, int64_t *at, int64_t *next)
{
    const json_t *h = json_object_get(json_object_get(ex, "state"), "histories");
    size_t seen = 0;
    for (size_t i = 0; i + 1 < json_array_size(h); i++) {
        const json_t *e = json_array_get(h, i);
        if (strcmp(json_string_value(json_object_get(e, "state")), want) || seen++ != n)
            continue;
        assert_int_equal(kt_time_parse(json_string_value(json_object_get(e, "date")), at), 0);
        assert_int_equal(kt_time_parse(json_string_value(json_object_get(json_array_get(h, i + 1), "date")), next), 0);
        return;
    }
    fail_msg("no PAUSED entry %zu in the execution's histories", n);
}

/* Resumed through the API one second into its first 2 s interval: the second iteration waits its own full interval.
 * The first wait's timer still fires a second later; it is tied to iteration 1 and must not end the second wait. */
static void test_waitfor_resumed_early(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, SLOW_FLOW, NULL);
    json_t *res = NULL;
    const char *none[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/slow", none, &res), 200);
    char id[64], path[128];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_decref(kt_it_wait_state(&f->server, f->port, id, "PAUSED", 10000));
    kt_it_sleep_ms(1000);
    snprintf(path, sizeof path, "/api/v1/executions/%s/resume", id);
    assert_int_equal(kt_it_post_form(f->port, path, none, &res), 204);
    json_decref(res);
    json_t *ex = kt_it_wait_execution(f->port, id, 20000);
    assert_non_null(ex);
    if (strcmp(kt_it_state(ex), "SUCCESS"))
        kt_it_dump_log(&f->server);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(kt_it_taskrun(ex, "wf"), "iteration")), 3);
    int64_t paused, resumed;
    history_dates(ex, "PAUSED", 1, &paused, &resumed);
    if (resumed - paused < 1900000)
        fail_msg("the second wait lasted %lld ms, not its 2 s interval", (long long)((resumed - paused) / 1000));
    json_decref(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_waitfor_iterations, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_waitfor_resumed_early, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
