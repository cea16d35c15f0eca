/* The step's fixed-size effects (base/limits.h): what happens when an event produces more of one kind than fits.
 * Nothing is lost silently: executor log lines beyond KT_EXEC_MAX_LOGS are counted, Pause timers beyond
 * KT_EXEC_MAX_TIMERS leave an ERROR line on their run, dispatches beyond KT_EXEC_MAX_DISPATCH raise the overflow
 * flag the executor answers with a rescan. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "actors/executor/step.h"
#include "base/id.h"
#include "flow/model.h"

#define T0 INT64_C(1700000000000000)

static int g_ids;
static void idgen(void *ud, char *out)
{
    (void)ud;
    snprintf(out, KT_ID_LEN + 1, "tr%d", ++g_ids);
}

/* {"tasks": [{id: "box", type, <extra>, tasks: [n children like child_fmt, %d = 1..n]}]} */
static json_t *flow_of(const char *type, const char *extra, int n, const char *child_fmt)
{
    json_t *children = json_array();
    for (int i = 1; i <= n; i++) {
        char text[512];
        snprintf(text, sizeof text, child_fmt, i);
        json_error_t e;
        json_t *c = json_loads(text, 0, &e);
        if (!c)
            fail_msg("bad child %s: %s", text, e.text);
        json_array_append_new(children, c);
    }
    json_t *box = json_pack("{s:s, s:s, s:o}", "id", "box", "type", type, "tasks", children);
    if (extra) {
        json_t *x = json_loads(extra, 0, NULL);
        json_object_update(box, x);
        json_decref(x);
    }
    return json_pack("{s:[o]}", "tasks", box);
}

static void start(json_t *flow, json_t **ex, kt_exec_effects *fx)
{
    g_ids = 0;
    *ex = kt_execution_new("ex1", "company.team", "limits", 1, NULL, NULL, NULL, T0);
    kt_exec_flow f = {.flow = flow};
    kt_exec_event ev = {.kind = KT_EV_START, .now_us = T0};
    kt_env env;
    kt_env_init(&env, T0, 1);
    env.ids = idgen;
    assert_int_equal(kt_exec_step(&f, *ex, &ev, &env, fx), KT_OK);
}

static size_t logs_containing(const kt_exec_effects *fx, const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->nlogs; i++)
        n += strstr(fx->logs[i].message, text) != NULL;
    return n;
}

/* Every child of a Parallel fails its runIf in the same event: one ERROR line each, the ones past the limit counted. */
static void test_logs_beyond_the_limit_are_counted(void **s)
{
    (void)s;
    const int n = KT_EXEC_MAX_LOGS + 9;
    json_t *flow = flow_of("io.kestra.plugin.core.flow.Parallel", NULL, n,
                           "{\"id\":\"c%d\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"hi\","
                           "\"runIf\":\"{{ 1 + }}\"}");
    json_t *ex;
    kt_exec_effects fx;
    start(flow, &ex, &fx);
    assert_int_equal(fx.nlogs, KT_EXEC_MAX_LOGS);
    assert_int_equal(fx.logs_dropped, 9);
    assert_int_equal(logs_containing(&fx, "Unable to evaluate the runIf condition for task c"), KT_EXEC_MAX_LOGS);
    assert_string_equal(kt_state_current(ex), KT_S(FAILED)); /* the state itself is complete */
    json_decref(ex);
    json_decref(flow);
}

/* More Pauses with a delay pause in one event than there are timers: the ones that fit get their timer, the others
 * say on their run that they must be resumed by hand; all are PAUSED. */
static void test_pause_timers_beyond_the_limit(void **s)
{
    (void)s;
    const int n = KT_EXEC_MAX_TIMERS + 3;
    json_t *flow = flow_of("io.kestra.plugin.core.flow.Parallel", NULL, n,
                           "{\"id\":\"p%d\",\"type\":\"io.kestra.plugin.core.flow.Pause\",\"delay\":\"PT1M\"}");
    json_t *ex;
    kt_exec_effects fx;
    start(flow, &ex, &fx);
    assert_string_equal(kt_state_current(ex), KT_S(PAUSED));
    assert_int_equal(fx.ntimers, KT_EXEC_MAX_TIMERS);
    for (size_t i = 0; i < fx.ntimers; i++) {
        assert_int_equal(fx.timers[i].command, KT_CMD_RESUME_FLOW);
        assert_int_equal(fx.timers[i].at_us, T0 + 60 * INT64_C(1000000));
    }
    assert_int_equal(logs_containing(&fx, "Pause delay not armed: more than"), 3);
    size_t paused = 0, i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) paused += !strcmp(kt_state_current(tr), "PAUSED");
    assert_int_equal(paused, (size_t)n);
    json_decref(ex);
    json_decref(flow);
}

/* More runnable children start at once than dispatches fit: the ones past the limit are RUNNING with an attempt and
 * the overflow flag tells the executor to find them (kt_executor_rescan). */
static void test_dispatch_overflow(void **s)
{
    (void)s;
    const int n = KT_EXEC_MAX_DISPATCH + 5;
    json_t *flow = flow_of("io.kestra.plugin.core.flow.Parallel", NULL, n,
                           "{\"id\":\"c%d\",\"type\":\"io.kestra.plugin.scripts.shell.Commands\","
                           "\"commands\":[\"true\"]}");
    json_t *ex;
    kt_exec_effects fx;
    start(flow, &ex, &fx);
    assert_int_equal(fx.ndispatch, KT_EXEC_MAX_DISPATCH);
    assert_int_equal(fx.dispatch_overflow, 1);
    size_t running = 0, i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) running +=
        !strcmp(kt_state_current(tr), "RUNNING") && kt_taskrun_attempts(tr) == 1;
    assert_int_equal(running, (size_t)n); /* every child; the Parallel is RUNNING without attempts */
    json_decref(ex);
    json_decref(flow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logs_beyond_the_limit_are_counted),
        cmocka_unit_test(test_pause_timers_beyond_the_limit),
        cmocka_unit_test(test_dispatch_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
