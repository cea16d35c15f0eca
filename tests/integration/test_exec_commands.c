/* Pause, unqueue, force-run and scheduleDate through a real server (issue 11): a running execution paused by the API
 * (and resumed: its task ends and it goes on), a queued one unqueued past the concurrency limit, a scheduled one
 * waiting CREATED for its date (across a restart of the server) or forced to run now, each refused as Kestra refuses
 * it when its state does not allow it, one at a time and in bulk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "harness.h"

#define NS "io.kite.cmd"

static char *start(int port, const char *id, const char *query)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/executions/" NS "/%s%s", id, query ? query : "");
    json_t *e = NULL;
    long st = kt_it_http_json("POST", port, path, NULL, NULL, &e);
    if (st != 200)
        fail_msg("%s: %ld", path, st);
    char *eid = strdup(json_string_value(json_object_get(e, "id")));
    json_decref(e);
    return eid;
}

static long post(int port, const char *id, const char *what, json_t **out)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s/%s", id, what);
    return kt_it_http_json("POST", port, path, NULL, NULL, out);
}

static void test_pause_and_resume(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, "id: nap\nnamespace: " NS "\ntasks:\n  - id: sh\n"
                               "    type: io.kestra.plugin.scripts.shell.Commands\n    taskRunner:\n"
                               "      type: io.kestra.plugin.core.runner.Process\n    commands:\n      - sleep 2\n"
                               "  - id: after\n    type: io.kestra.plugin.core.log.Log\n    message: went on\n", NULL);
    char *id = start(f->port, "nap", NULL);
    assert_int_equal(kt_it_wait_task_running(f->port, id, "sh", 20000), 0);
    json_t *res = NULL;
    assert_int_equal(post(f->port, id, "pause", &res), 200);
    json_decref(res);
    json_decref(kt_it_wait_state(&f->server, f->port, id, "PAUSED", 10000));
    /* the running task finishes while paused; nothing new starts */
    kt_it_sleep_ms(3000);
    json_t *ex = kt_it_get_execution(f->port, id);
    assert_string_equal(kt_it_state(ex), "PAUSED");
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "sh")), "SUCCESS");
    assert_null(kt_it_taskrun(ex, "after"));
    json_decref(ex);
    assert_int_equal(post(f->port, id, "pause", &res), 422); /* not running */
    assert_non_null(strstr(json_string_value(json_object_get(res, "message")), "The execution is not running"));
    json_decref(res);
    const char *none[] = {NULL};
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s/resume", id);
    assert_int_equal(kt_it_post_form(f->port, path, none, &res), 204);
    json_decref(res);
    ex = kt_it_wait_execution(f->port, id, 20000);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "after")), "SUCCESS");
    json_decref(ex);
    assert_int_equal(post(f->port, "nope", "pause", &res), 404);
    json_decref(res);
    /* a flow named like an action: POST /api/v1/executions/{ns}/pause creates its execution */
    kt_it_create_flow(f->port, "id: pause\nnamespace: " NS "\ntasks:\n  - id: t\n"
                               "    type: io.kestra.plugin.core.log.Log\n    message: hi\n", NULL);
    assert_int_equal(post(f->port, NS, "pause", &res), 200);
    assert_string_equal(json_string_value(json_object_get(res, "flowId")), "pause");
    json_decref(res);
    free(id);
}

static void test_unqueue(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, "id: one\nnamespace: " NS "\nconcurrency:\n  limit: 1\ntasks:\n  - id: sh\n"
                               "    type: io.kestra.plugin.scripts.shell.Commands\n    taskRunner:\n"
                               "      type: io.kestra.plugin.core.runner.Process\n    commands:\n      - sleep 4\n", NULL);
    char *a = start(f->port, "one", NULL);
    json_decref(kt_it_wait_state(&f->server, f->port, a, "RUNNING", 10000));
    char *b = start(f->port, "one", NULL);
    json_decref(kt_it_wait_state(&f->server, f->port, b, "QUEUED", 10000));
    json_t *res = NULL;
    assert_int_equal(post(f->port, a, "unqueue", &res), 422);
    assert_non_null(strstr(json_string_value(json_object_get(res, "message")), "Only QUEUED execution can be unqueued"));
    json_decref(res);
    assert_int_equal(post(f->port, b, "unqueue", &res), 200);
    assert_string_equal(kt_it_state(res), "RUNNING");
    json_decref(res);
    /* b runs while a still does: past the limit */
    json_decref(kt_it_wait_state(&f->server, f->port, b, "RUNNING", 10000));
    json_t *ea = kt_it_get_execution(f->port, a);
    assert_string_equal(kt_it_state(ea), "RUNNING");
    json_decref(ea);
    json_t *eb = kt_it_wait_execution(f->port, b, 20000);
    assert_string_equal(kt_it_state(eb), "SUCCESS");
    json_decref(eb);
    json_decref(kt_it_wait_execution(f->port, a, 20000));
    free(a);
    free(b);
}

static void test_schedule_date(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, "id: later\nnamespace: " NS "\ntasks:\n  - id: t\n"
                               "    type: io.kestra.plugin.core.log.Log\n    message: hi\n", NULL);
    /* in 4 s: CREATED until then, also across a restart of the server */
    char q[128], at[48];
    kt_time_format(kt_now_us() + 4000000, at, sizeof at);
    snprintf(q, sizeof q, "?scheduleDate=%s", at);
    char *soon = start(f->port, "later", q);
    json_t *ex = kt_it_get_execution(f->port, soon);
    assert_string_equal(kt_it_state(ex), "CREATED");
    assert_non_null(json_object_get(ex, "scheduleDate"));
    json_decref(ex);
    kt_it_stop_clean(&f->server);
    f->server = kt_it_start_server(f->dir, "server2", f->port, NULL);
    ex = kt_it_get_execution(f->port, soon);
    if (!ex)
        kt_it_dump_log(&f->server);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "CREATED");
    json_decref(ex);
    ex = kt_it_wait_execution(f->port, soon, 20000);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    /* it started at its date, not before */
    const char *started = json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(ex, "state"),
                                                                                           "histories"), 1), "date"));
    int64_t s_us = 0, at_us = 0;
    kt_time_parse(started, &s_us);
    kt_time_parse(at, &at_us);
    assert_true(s_us >= at_us);
    json_decref(ex);

    /* in an hour, forced to run now; a finished one cannot be */
    kt_time_format(kt_now_us() + 3600000000LL, at, sizeof at);
    snprintf(q, sizeof q, "?scheduleDate=%s", at);
    char *far = start(f->port, "later", q);
    kt_it_sleep_ms(500);
    ex = kt_it_get_execution(f->port, far);
    assert_string_equal(kt_it_state(ex), "CREATED");
    json_decref(ex);
    json_t *res = NULL;
    assert_int_equal(post(f->port, far, "force-run", &res), 200);
    assert_string_equal(kt_it_state(res), "RUNNING");
    json_decref(res);
    ex = kt_it_wait_execution(f->port, far, 20000);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_decref(ex);
    assert_int_equal(post(f->port, far, "force-run", &res), 422);
    assert_non_null(strstr(json_string_value(json_object_get(res, "message")), "Only non terminated executions"));
    json_decref(res);
    assert_int_equal(kt_it_http("POST", f->port, "/api/v1/executions/" NS "/later?scheduleDate=tomorrow", NULL, NULL,
                                NULL), 400);

    /* bulk: force-run by query over the scheduled ones */
    char *x = start(f->port, "later", q), *y = start(f->port, "later", q);
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/force-run/by-query?flowId=later&state=CREATED",
                                     NULL, NULL, &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 2);
    json_decref(res);
    ex = kt_it_wait_execution(f->port, x, 20000);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_decref(ex);
    ex = kt_it_wait_execution(f->port, y, 20000);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_decref(ex);
    char body[128];
    snprintf(body, sizeof body, "[\"%s\"]", x);
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/pause/by-ids", "application/json", body, &res),
                     400);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(res, "invalids"), 0),
                                                          "message")), "execution not in state RUNNING");
    json_decref(res);
    free(soon);
    free(far);
    free(x);
    free(y);
}

static long search_total(int port, const char *query)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/search?%s", query);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("GET", port, path, NULL, NULL, &res), 200);
    long n = (long)json_integer_value(json_object_get(res, "total"));
    json_decref(res);
    return n;
}

/* bulk restart, replay and change-status, and the manual pause force-run answers RUNNING (no paused task run) */
static void test_bulk_manual_changes(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, "id: boom\nnamespace: " NS "\ntasks:\n  - id: fail\n"
                               "    type: io.kestra.plugin.core.execution.Fail\n", NULL);
    char *a = start(f->port, "boom", NULL), *b = start(f->port, "boom", NULL);
    json_decref(kt_it_wait_execution(f->port, a, 20000));
    json_decref(kt_it_wait_execution(f->port, b, 20000));
    json_t *res = NULL;
    /* change-status needs a terminal newStatus */
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/change-status/by-query?flowId=boom&newStatus=RUNNING",
                                     NULL, NULL, &res), 422);
    json_decref(res);
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/change-status/by-query?flowId=boom", NULL, NULL,
                                     &res), 400);
    json_decref(res);
    char body[160];
    snprintf(body, sizeof body, "[\"%s\"]", a);
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/change-status/by-ids?newStatus=WARNING",
                                     "application/json", body, &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 1);
    json_decref(res);
    json_decref(kt_it_wait_state(&f->server, f->port, a, "WARNING", 10000));
    /* restart: FAILED ones only; a (WARNING now) is refused, b runs again and fails again with a second attempt */
    snprintf(body, sizeof body, "[\"%s\",\"%s\"]", a, b);
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/restart/by-ids", "application/json", body, &res),
                     400);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(res, "invalids"), 0), "message")),
                        "execution not in state FAILED");
    json_decref(res);
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/restart/by-query?flowId=boom&state=FAILED", NULL,
                                     NULL, &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 1);
    json_decref(res);
    for (int i = 0; i < 100; i++) { /* restarted, then FAILED again with a second attempt of the task */
        json_t *ex = kt_it_get_execution(f->port, b);
        size_t attempts = json_array_size(json_object_get(kt_it_taskrun(ex, "fail"), "attempts"));
        const char *st = kt_it_state(ex);
        int done = attempts == 2 && st && !strcmp(st, "FAILED");
        json_decref(ex);
        if (done)
            break;
        assert_true(i < 99);
        kt_it_sleep_ms(100);
    }
    /* replay: one new execution per id */
    long before = search_total(f->port, "flowId=boom");
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/replay/by-ids", "application/json", body, &res),
                     200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 2);
    json_decref(res);
    for (int i = 0; i < 100 && search_total(f->port, "flowId=boom") < before + 2; i++)
        kt_it_sleep_ms(100);
    assert_int_equal(search_total(f->port, "flowId=boom"), before + 2);

    /* force-run of an execution paused through the API: RUNNING (no paused task run to resume through markAs) */
    kt_it_create_flow(f->port, "id: slowly\nnamespace: " NS "\ntasks:\n  - id: sh\n"
                               "    type: io.kestra.plugin.scripts.shell.Commands\n    taskRunner:\n"
                               "      type: io.kestra.plugin.core.runner.Process\n    commands:\n      - sleep 1\n", NULL);
    char *c = start(f->port, "slowly", NULL);
    assert_int_equal(kt_it_wait_task_running(f->port, c, "sh", 20000), 0);
    assert_int_equal(post(f->port, c, "pause", &res), 200);
    json_decref(res);
    json_decref(kt_it_wait_state(&f->server, f->port, c, "PAUSED", 10000));
    assert_int_equal(post(f->port, c, "force-run", &res), 200);
    assert_string_equal(kt_it_state(res), "RUNNING");
    json_decref(res);
    json_t *ex = kt_it_wait_execution(f->port, c, 20000);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_decref(ex);
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pause_and_resume, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_unqueue, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_schedule_date, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_bulk_manual_changes, kt_it_setup, kt_it_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
