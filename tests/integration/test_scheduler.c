/* The scheduler on a real server: a withSeconds Schedule fires every second with trigger.date in its executions;
 * SIGKILLed and restarted 20 times while it runs, every tick between the first and the last is fired exactly once
 * (recoverMissedSchedules ALL); a disabled trigger fires nothing; a Flow trigger with a multiple condition fires once
 * when both upstream flows succeeded within its window, and again only once the window has been reset, and its
 * window survives a restart; a backfill runs past occurrences; stopAfter and the Toggle task disable a trigger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "base/clock.h"
#include "harness.h"

/* Every execution of ns.flow (the first 1000), oldest first. */
static json_t *executions_of(int port, const char *ns, const char *flow)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/executions/search?namespace=%s&flowId=%s&size=1000&sort=state.startDate:asc",
             ns, flow);
    json_t *res = NULL;
    long code = kt_it_http_json("GET", port, path, NULL, NULL, &res);
    assert_int_equal(code, 200);
    json_t *results = json_incref(json_object_get(res, "results"));
    json_decref(res);
    assert_non_null(results);
    return results;
}

/* Seconds since the epoch of an ISO-8601 date-time with an offset ("2026-12-07T03:10:05Z", "...+01:00"). */
static int64_t iso_seconds(const char *s)
{
    int64_t us;
    assert_non_null(s);
    assert_int_equal(kt_time_parse(s, &us), 0);
    return us / 1000000;
}

static const char *const tick_flow = "id: tick\n"
                                     "namespace: it.sched\n"
                                     "tasks:\n"
                                     "  - id: said\n"
                                     "    type: io.kestra.plugin.core.debug.Return\n"
                                     "    format: \"{{ trigger.date }}\"\n"
                                     "triggers:\n"
                                     "  - id: every-second\n"
                                     "    type: io.kestra.plugin.core.trigger.Schedule\n"
                                     "    cron: \"* * * * * *\"\n"
                                     "    withSeconds: true\n";

static void test_with_seconds_fires_every_second(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, tick_flow, NULL);
    json_t *list = NULL;
    for (int waited = 0; waited < 10000; waited += 200) {
        json_decref(list);
        list = executions_of(f->port, "it.sched", "tick");
        if (json_array_size(list) >= 4)
            break;
        kt_it_sleep_ms(200);
    }
    assert_true(json_array_size(list) >= 4);
    int64_t prev = 0;
    for (size_t i = 0; i < 3; i++) {
        json_t *ex = json_array_get(list, i);
        json_t *trig = json_object_get(ex, "trigger");
        assert_string_equal(json_string_value(json_object_get(trig, "id")), "every-second");
        assert_string_equal(json_string_value(json_object_get(trig, "type")), "io.kestra.plugin.core.trigger.Schedule");
        const char *date = json_string_value(json_object_get(json_object_get(trig, "variables"), "date"));
        int64_t t = iso_seconds(date);
        if (prev)
            assert_int_equal(t, prev + 1); /* one execution per second, in order */
        prev = t;
        /* the task rendered the same date: trigger.* is visible to the execution's tasks */
        json_t *done = kt_it_wait_state(&f->server, f->port, json_string_value(json_object_get(ex, "id")), "SUCCESS",
                                        10000);
        json_t *tr = kt_it_taskrun(done, "said");
        assert_string_equal(json_string_value(json_object_get(json_object_get(tr, "outputs"), "value")), date);
        json_decref(done);
    }
    json_decref(list);
}

static void test_sigkill_loop_fires_each_tick_once(void **state)
{
    kt_it_fixture *f = *state;
    f->server = kt_it_start_server(f->dir, "server", f->port, NULL);
    kt_it_create_flow(f->port, tick_flow, NULL);
    srand((unsigned)time(NULL));
    for (int i = 0; i < 20; i++) {
        kt_it_sleep_ms(200 + rand() % 1000);
        kt_it_stop(&f->server, SIGKILL);
        kt_it_sleep_ms(rand() % 1500); /* down for up to 1.5 s: ticks to recover */
        char name[32];
        snprintf(name, sizeof name, "server%d", i);
        f->server = kt_it_start_server(f->dir, name, f->port, NULL);
    }
    /* caught up: the latest tick fired is at most 2 s old */
    json_t *list = NULL;
    int64_t now = 0, last = 0;
    for (int waited = 0; waited < 20000; waited += 250) {
        json_decref(list);
        list = executions_of(f->port, "it.sched", "tick");
        now = (int64_t)time(NULL);
        last = 0;
        size_t i;
        json_t *ex;
        json_array_foreach(list, i, ex) {
            int64_t t = iso_seconds(json_string_value(
                json_object_get(json_object_get(json_object_get(ex, "trigger"), "variables"), "date")));
            if (t > last)
                last = t;
        }
        if (last >= now - 2)
            break;
        kt_it_sleep_ms(250);
    }
    assert_true(last >= now - 2);
    kt_it_stop_clean(&f->server);
    /* every second from the first tick to the last appears exactly once */
    size_t n = json_array_size(list);
    int64_t *dates = calloc(n, sizeof *dates);
    int64_t first = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        json_t *ex = json_array_get(list, i);
        dates[i] = iso_seconds(json_string_value(
            json_object_get(json_object_get(json_object_get(ex, "trigger"), "variables"), "date")));
        if (dates[i] < first)
            first = dates[i];
    }
    if (!(n > 0 && last >= first && last - first < 100000)) { /* a run of seconds, not a stray date */
        fail_msg("tick dates from %lld to %lld over %zu executions", (long long)first, (long long)last, n);
        return;
    }
    size_t span = (size_t)(last - first + 1);
    unsigned char *seen = calloc(span, 1);
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)(dates[i] - first);
        if (seen[k])
            fail_msg("tick %lld fired twice", (long long)dates[i]);
        seen[k] = 1;
    }
    for (size_t k = 0; k < span; k++)
        if (!seen[k])
            fail_msg("tick %lld never fired (%zu executions over %zu s)", (long long)(first + (int64_t)k), n, span);
    assert_int_equal(n, span);
    print_message("%zu ticks over %zu s through 20 SIGKILLs, each once\n", n, span);
    free(seen);
    free(dates);
    json_decref(list);
}

static void test_disabled_trigger_fires_nothing(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port,
                      "id: quiet\n"
                      "namespace: it.sched\n"
                      "tasks:\n"
                      "  - id: said\n"
                      "    type: io.kestra.plugin.core.debug.Return\n"
                      "    format: x\n"
                      "triggers:\n"
                      "  - id: off\n"
                      "    type: io.kestra.plugin.core.trigger.Schedule\n"
                      "    cron: \"* * * * * *\"\n"
                      "    withSeconds: true\n"
                      "    disabled: true\n"
                      "  - id: on\n"
                      "    type: io.kestra.plugin.core.trigger.Schedule\n"
                      "    cron: \"* * * * * *\"\n"
                      "    withSeconds: true\n",
                      NULL);
    /* the enabled one proves the scheduler runs; then the API disables it too */
    json_t *list = NULL;
    for (int waited = 0; waited < 10000; waited += 200) {
        json_decref(list);
        list = executions_of(f->port, "it.sched", "quiet");
        if (json_array_size(list) >= 1)
            break;
        kt_it_sleep_ms(200);
    }
    assert_true(json_array_size(list) >= 1);
    size_t i;
    json_t *ex;
    json_array_foreach(list, i, ex)
        assert_string_equal(json_string_value(json_object_get(json_object_get(ex, "trigger"), "id")), "on");
    json_decref(list);
    json_t *res = NULL;
    long code = kt_it_http_json("PUT", f->port, "/api/v1/triggers", "application/json",
                                "{\"namespace\":\"it.sched\",\"flowId\":\"quiet\",\"triggerId\":\"on\",\"disabled\":true}",
                                &res);
    assert_int_equal(code, 200);
    assert_true(json_is_true(json_object_get(res, "disabled")));
    json_decref(res);
    kt_it_sleep_ms(1500); /* an execution started before the PUT may still be committed meanwhile */
    size_t before = json_array_size(list = executions_of(f->port, "it.sched", "quiet"));
    json_decref(list);
    kt_it_sleep_ms(2500);
    list = executions_of(f->port, "it.sched", "quiet");
    assert_int_equal(json_array_size(list), before);
    json_decref(list);
}

static char *run_flow(int port, const char *ns, const char *flow)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s/%s", ns, flow);
    json_t *res = NULL;
    static const char *const none[] = {NULL};
    assert_int_equal(kt_it_post_form(port, path, none, &res), 200);
    char *id = strdup(json_string_value(json_object_get(res, "id")));
    json_decref(res);
    return id;
}

static size_t wait_count(int port, const char *ns, const char *flow, size_t want, int timeout_ms)
{
    size_t n = 0;
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        json_t *list = executions_of(port, ns, flow);
        n = json_array_size(list);
        json_decref(list);
        if (n >= want)
            break;
        kt_it_sleep_ms(100);
    }
    return n;
}

static void upstream(int port, kt_it_proc *server, const char *flow)
{
    char *id = run_flow(port, "it.multi", flow);
    json_decref(kt_it_wait_state(server, port, id, "SUCCESS", 10000));
    free(id);
}

/* The two upstream flows of the multiple-condition tests, it.multi.up-a and up-b (one Return each). */
static void create_upstreams(int port)
{
    kt_it_create_flow(port, "id: up-a\nnamespace: it.multi\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: a\n", NULL);
    kt_it_create_flow(port, "id: up-b\nnamespace: it.multi\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: b\n", NULL);
}

static void multiple_condition_case(kt_it_fixture *f, const char *listener_yaml)
{
    create_upstreams(f->port);
    kt_it_create_flow(f->port, listener_yaml, NULL);
    upstream(f->port, &f->server, "up-a");
    assert_int_equal(wait_count(f->port, "it.multi", "listener", 1, 700), 0); /* half the condition */
    upstream(f->port, &f->server, "up-b");
    assert_int_equal(wait_count(f->port, "it.multi", "listener", 1, 5000), 1); /* both within the window */
    upstream(f->port, &f->server, "up-a");
    assert_int_equal(wait_count(f->port, "it.multi", "listener", 2, 700), 1); /* the window was reset */
    upstream(f->port, &f->server, "up-b");
    assert_int_equal(wait_count(f->port, "it.multi", "listener", 2, 5000), 2);
    json_t *list = executions_of(f->port, "it.multi", "listener");
    json_t *trig = json_object_get(json_array_get(list, 0), "trigger");
    assert_string_equal(json_string_value(json_object_get(trig, "type")), "io.kestra.plugin.core.trigger.Flow");
    const char *upflow = json_string_value(json_object_get(json_object_get(trig, "variables"), "flowId"));
    assert_string_equal(upflow, "up-b"); /* the execution that completed the condition */
    json_decref(list);
    assert_int_equal(wait_count(f->port, "it.multi", "listener", 3, 700), 2); /* and nothing more */
}

static void test_multiple_condition_fires_once_per_window(void **state)
{
    multiple_condition_case(*state, "id: listener\n"
                                    "namespace: it.multi\n"
                                    "tasks:\n"
                                    "  - id: t\n"
                                    "    type: io.kestra.plugin.core.debug.Return\n"
                                    "    format: \"{{ trigger.executionId }}\"\n"
                                    "triggers:\n"
                                    "  - id: both\n"
                                    "    type: io.kestra.plugin.core.trigger.Flow\n"
                                    "    conditions:\n"
                                    "      - id: both\n"
                                    "        type: io.kestra.plugin.core.condition.MultipleCondition\n"
                                    "        window: PT1H\n"
                                    "        conditions:\n"
                                    "          a:\n"
                                    "            type: io.kestra.plugin.core.condition.ExecutionFlow\n"
                                    "            namespace: it.multi\n"
                                    "            flowId: up-a\n"
                                    "          b:\n"
                                    "            type: io.kestra.plugin.core.condition.ExecutionFlow\n"
                                    "            namespace: it.multi\n"
                                    "            flowId: up-b\n");
}

static void test_preconditions_fire_once_per_window(void **state)
{
    multiple_condition_case(*state, "id: listener\n"
                                    "namespace: it.multi\n"
                                    "tasks:\n"
                                    "  - id: t\n"
                                    "    type: io.kestra.plugin.core.debug.Return\n"
                                    "    format: \"{{ trigger.executionId }}\"\n"
                                    "triggers:\n"
                                    "  - id: both\n"
                                    "    type: io.kestra.plugin.core.trigger.Flow\n"
                                    "    preconditions:\n"
                                    "      id: both\n"
                                    "      timeWindow:\n"
                                    "        type: SLIDING_WINDOW\n"
                                    "        window: PT1H\n"
                                    "      flows:\n"
                                    "        - namespace: it.multi\n"
                                    "          flowId: up-a\n"
                                    "          states: [SUCCESS]\n"
                                    "        - namespace: it.multi\n"
                                    "          flowId: up-b\n"
                                    "          states: [SUCCESS]\n");
}

/* A backfill set through the API runs every past occurrence in [start, end] (here three hours), in order, with the
 * backfill's labels; then the trigger is back on its own next date. */
static void test_backfill_runs_past_occurrences(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port,
                      "id: hourly\n"
                      "namespace: it.sched\n"
                      "tasks:\n"
                      "  - id: said\n"
                      "    type: io.kestra.plugin.core.debug.Return\n"
                      "    format: \"{{ trigger.date }}\"\n"
                      "triggers:\n"
                      "  - id: h\n"
                      "    type: io.kestra.plugin.core.trigger.Schedule\n"
                      "    cron: \"0 * * * *\"\n",
                      NULL);
    time_t now = time(NULL);
    time_t hour = now - now % 3600;
    char start[32], end[32], body[512];
    time_t s0 = hour - 5 * 3600, e0 = hour - 3 * 3600; /* occurrences at -5 h, -4 h, -3 h */
    strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", gmtime(&s0));
    strftime(end, sizeof end, "%Y-%m-%dT%H:%M:%SZ", gmtime(&e0));
    snprintf(body, sizeof body,
             "{\"namespace\":\"it.sched\",\"flowId\":\"hourly\",\"triggerId\":\"h\",\"backfill\":{\"start\":\"%s\","
             "\"end\":\"%s\",\"labels\":[{\"key\":\"run\",\"value\":\"backfill\"}]}}",
             start, end);
    json_t *res = NULL;
    /* the scheduler writes the row right after the flow is saved: wait for it */
    long code = 0;
    for (int i = 0; i < 50 && code != 200; i++) {
        json_decref(res);
        res = NULL;
        code = kt_it_http_json("PUT", f->port, "/api/v1/triggers", "application/json", body, &res);
        if (code != 200)
            kt_it_sleep_ms(100);
    }
    assert_int_equal(code, 200);
    json_decref(res);
    json_t *list = NULL;
    for (int waited = 0; waited < 10000; waited += 200) {
        json_decref(list);
        list = executions_of(f->port, "it.sched", "hourly");
        if (json_array_size(list) >= 3)
            break;
        kt_it_sleep_ms(200);
    }
    kt_it_sleep_ms(500);
    json_decref(list);
    list = executions_of(f->port, "it.sched", "hourly");
    assert_int_equal(json_array_size(list), 3);
    int seen[3] = {0};
    for (size_t i = 0; i < 3; i++) {
        json_t *ex = json_array_get(list, i);
        int64_t t = iso_seconds(json_string_value(
            json_object_get(json_object_get(json_object_get(ex, "trigger"), "variables"), "date")));
        /* one per hour of the range (their start dates may tie to the millisecond, so not checked in order) */
        int64_t hour_of = (t - (int64_t)s0) / 3600;
        assert_true(t >= (int64_t)s0 && (t - (int64_t)s0) % 3600 == 0 && hour_of < 3 && !seen[hour_of]);
        seen[hour_of] = 1;
        int labelled = 0;
        size_t k;
        json_t *l;
        json_array_foreach(json_object_get(ex, "labels"), k, l) {
            if (!strcmp(json_string_value(json_object_get(l, "key")), "run") &&
                !strcmp(json_string_value(json_object_get(l, "value")), "backfill"))
                labelled = 1;
        }
        assert_true(labelled);
    }
    json_decref(list);
    /* over: the backfill is gone and the next date is the next hour again */
    res = NULL;
    for (int i = 0; i < 50; i++) {
        json_decref(res);
        kt_it_http_json("GET", f->port, "/api/v1/triggers/it.sched/hourly", NULL, NULL, &res);
        if (!json_object_get(json_array_get(json_object_get(res, "results"), 0), "backfill"))
            break;
        kt_it_sleep_ms(100);
    }
    json_t *row = json_array_get(json_object_get(res, "results"), 0);
    assert_null(json_object_get(row, "backfill"));
    assert_int_equal(iso_seconds(json_string_value(json_object_get(row, "nextExecutionDate"))), (int64_t)hour + 3600);
    json_decref(res);
}

/* stopAfter: the first execution that ends FAILED disables its trigger; nothing fires after it. */
static void test_stop_after_disables(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port,
                      "id: failing\n"
                      "namespace: it.sched\n"
                      "tasks:\n"
                      "  - id: boom\n"
                      "    type: io.kestra.plugin.core.execution.Fail\n"
                      "triggers:\n"
                      "  - id: s\n"
                      "    type: io.kestra.plugin.core.trigger.Schedule\n"
                      "    cron: \"* * * * * *\"\n"
                      "    withSeconds: true\n"
                      "    stopAfter: [FAILED]\n",
                      NULL);
    assert_int_equal(wait_count(f->port, "it.sched", "failing", 1, 10000), 1);
    kt_it_sleep_ms(3000);
    json_t *list = executions_of(f->port, "it.sched", "failing");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(kt_it_state(json_array_get(list, 0)), "FAILED");
    json_decref(list);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/triggers/it.sched/failing", NULL, NULL, &res), 200);
    json_t *row = json_array_get(json_object_get(res, "results"), 0);
    assert_true(json_is_true(json_object_get(row, "disabled")));
    assert_null(json_object_get(row, "executionId"));
    json_decref(res);
}

/* The Toggle task disables another flow's trigger through the scheduler; its schedule stops firing. */
static void test_toggle_task(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, tick_flow, NULL);
    kt_it_create_flow(f->port,
                      "id: switch\n"
                      "namespace: it.sched\n"
                      "tasks:\n"
                      "  - id: off\n"
                      "    type: io.kestra.plugin.core.trigger.Toggle\n"
                      "    flowId: tick\n"
                      "    trigger: every-second\n"
                      "    enabled: false\n",
                      NULL);
    assert_true(wait_count(f->port, "it.sched", "tick", 1, 10000) >= 1);
    char *id = run_flow(f->port, "it.sched", "switch");
    json_decref(kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 10000));
    free(id);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/triggers/it.sched/tick", NULL, NULL, &res), 200);
    assert_true(json_is_true(json_object_get(json_array_get(json_object_get(res, "results"), 0), "disabled")));
    json_decref(res);
    kt_it_sleep_ms(1500);
    size_t before = wait_count(f->port, "it.sched", "tick", 0, 0);
    kt_it_sleep_ms(2500);
    assert_int_equal(wait_count(f->port, "it.sched", "tick", 0, 0), before);
    /* a trigger that does not exist fails the task with Toggle's message */
    kt_it_create_flow(f->port,
                      "id: switch2\n"
                      "namespace: it.sched\n"
                      "tasks:\n"
                      "  - id: off\n"
                      "    type: io.kestra.plugin.core.trigger.Toggle\n"
                      "    flowId: tick\n"
                      "    trigger: nope\n",
                      NULL);
    id = run_flow(f->port, "it.sched", "switch2");
    json_decref(kt_it_wait_state(&f->server, f->port, id, "FAILED", 10000));
    char path[128], *logs = NULL;
    snprintf(path, sizeof path, "/api/v1/logs/%s", id);
    assert_int_equal(kt_it_http("GET", f->port, path, NULL, NULL, &logs), 200);
    assert_non_null(strstr(logs, "Unable to find trigger nope for the flow it.sched.tick"));
    free(logs);
    free(id);
}

/* A multiple condition's window is stored: half of it met before a restart still counts after it. */
static void test_window_survives_restart(void **state)
{
    kt_it_fixture *f = *state;
    f->server = kt_it_start_server(f->dir, "server", f->port, NULL);
    create_upstreams(f->port);
    kt_it_create_flow(f->port,
                      "id: listener\nnamespace: it.multi\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
                      "    format: x\ntriggers:\n  - id: both\n    type: io.kestra.plugin.core.trigger.Flow\n"
                      "    preconditions:\n      id: both\n      flows:\n        - namespace: it.multi\n"
                      "          flowId: up-a\n        - namespace: it.multi\n          flowId: up-b\n",
                      NULL);
    upstream(f->port, &f->server, "up-a");
    kt_it_sleep_ms(300);
    kt_it_stop(&f->server, SIGKILL);
    f->server = kt_it_start_server(f->dir, "again", f->port, NULL);
    assert_int_equal(wait_count(f->port, "it.multi", "listener", 1, 500), 0);
    upstream(f->port, &f->server, "up-b");
    assert_int_equal(wait_count(f->port, "it.multi", "listener", 1, 5000), 1);
}

/* A change of state the executor committed but no scheduler acted on (the process died between the two commits)
 * is a notice in the store; the next start replays it: the Flow trigger fires once. The notice is written here by
 * hand into a stopped server's store, for an upstream execution that ended before the listener existed. */
static void test_notice_replayed_at_start(void **state)
{
    kt_it_fixture *f = *state;
    f->server = kt_it_start_server(f->dir, "server", f->port, NULL);
    create_upstreams(f->port);
    char *up = run_flow(f->port, "it.multi", "up-a");
    json_decref(kt_it_wait_state(&f->server, f->port, up, "SUCCESS", 10000));
    kt_it_create_flow(f->port,
                      "id: listener\nnamespace: it.multi\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
                      "    format: \"{{ trigger.executionId }}\"\ntriggers:\n  - id: after-a\n"
                      "    type: io.kestra.plugin.core.trigger.Flow\n    conditions:\n"
                      "      - type: io.kestra.plugin.core.condition.ExecutionFlow\n        namespace: it.multi\n"
                      "        flowId: up-a\n",
                      NULL);
    kt_it_stop_clean(&f->server);
    char path[512];
    snprintf(path, sizeof path, "%s/data/kite.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO notices(execution_id, state) VALUES (?1, 'SUCCESS')", -1, &st,
                                        NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, up, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    f->server = kt_it_start_server(f->dir, "again", f->port, NULL);
    assert_int_equal(wait_count(f->port, "it.multi", "listener", 1, 5000), 1);
    json_t *list = executions_of(f->port, "it.multi", "listener");
    json_t *trig = json_object_get(json_array_get(list, 0), "trigger");
    assert_string_equal(json_string_value(json_object_get(json_object_get(trig, "variables"), "executionId")), up);
    json_decref(list);
    /* replayed once: a second start finds no notice left */
    kt_it_stop_clean(&f->server);
    f->server = kt_it_start_server(f->dir, "third", f->port, NULL);
    assert_int_equal(wait_count(f->port, "it.multi", "listener", 2, 1000), 1);
    free(up);
}

static int64_t next_date_of(int port, const char *flow)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/triggers/it.sched/%s", flow);
    json_t *res = NULL;
    int64_t t = 0;
    for (int i = 0; i < 50 && !t; i++) {
        json_decref(res);
        res = NULL;
        kt_it_http_json("GET", port, path, NULL, NULL, &res);
        const char *d = json_string_value(
            json_object_get(json_array_get(json_object_get(res, "results"), 0), "nextExecutionDate"));
        if (d)
            t = iso_seconds(d);
        else
            kt_it_sleep_ms(100);
    }
    json_decref(res);
    return t;
}

/* A revision saved while no scheduler runs (here: a server without one) is recognised at the scheduler's next start:
 * its trigger's next date is computed from the new cron, not kept from the old one. */
static void test_revision_saved_without_scheduler(void **state)
{
    kt_it_fixture *f = *state;
    static const char *const yearly = "id: moved\nnamespace: it.sched\ntasks:\n  - id: t\n"
                                      "    type: io.kestra.plugin.core.debug.Return\n    format: x\ntriggers:\n"
                                      "  - id: s\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                                      "    cron: \"0 0 1 1 *\"\n";
    static const char *const hourly = "id: moved\nnamespace: it.sched\ntasks:\n  - id: t\n"
                                      "    type: io.kestra.plugin.core.debug.Return\n    format: x\ntriggers:\n"
                                      "  - id: s\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                                      "    cron: \"0 * * * *\"\n";
    f->server = kt_it_start_server(f->dir, "server", f->port, NULL);
    kt_it_create_flow(f->port, yearly, NULL);
    int64_t now = (int64_t)time(NULL);
    assert_true(next_date_of(f->port, "moved") > now + 3600); /* next January */
    kt_it_stop_clean(&f->server);
    static const char *const no_scheduler[] = {"--actors", "executor,worker,webserver", NULL};
    f->server = kt_it_start_server(f->dir, "plain", f->port, no_scheduler);
    char *out = NULL;
    assert_int_equal(kt_it_http("PUT", f->port, "/api/v1/flows/it.sched/moved", "application/x-yaml", hourly, &out), 200);
    free(out);
    kt_it_stop_clean(&f->server);
    f->server = kt_it_start_server(f->dir, "again", f->port, NULL);
    int64_t next = next_date_of(f->port, "moved");
    now = (int64_t)time(NULL);
    assert_true(next > now - 5 && next <= now + 3600 && next % 3600 == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_with_seconds_fires_every_second, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_disabled_trigger_fires_nothing, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_multiple_condition_fires_once_per_window, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_preconditions_fire_once_per_window, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_backfill_runs_past_occurrences, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_stop_after_disables, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_toggle_task, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_window_survives_restart, kt_it_setup_dir, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_notice_replayed_at_start, kt_it_setup_dir, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_revision_saved_without_scheduler, kt_it_setup_dir, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_sigkill_loop_fires_each_tick_once, kt_it_setup_dir, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
