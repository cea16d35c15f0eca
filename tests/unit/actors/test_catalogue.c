/* The catalogue's "does it run" flag (flow/tasks.h kt_support) against the code that runs things: every runnable
 * type the worker has an implementation for, every task runner script tasks accept, every flowable, Subflow and
 * Labels the executor starts. Save-time validation refuses the types flagged KT_SUPPORT_NOT_YET, so a wrong flag
 * either refuses a flow that would run or lets through one that fails at run time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "actors/executor/step.h"
#include "actors/worker/poll.h"
#include "actors/worker/task.h"
#include "base/id.h"
#include "flow/model.h"
#include "flow/poll.h"
#include "flow/tasks.h"

static int g_ids;
static void test_idgen(void *ud, char *out) { (void)ud, snprintf(out, KT_ID_LEN + 1, "tr%d", ++g_ids); }

static int is_task(const kt_task_def *d) { return d->kind <= KT_PLUGIN_EXEC_UPDATE; }

static void test_worker_runs_what_the_catalogue_says(void **state)
{
    (void)state;
    size_t n, checked = 0;
    const kt_task_def *all = kt_task_catalogue(&n);
    for (size_t i = 0; i < n; i++) {
        const kt_task_def *d = &all[i];
        if (d->kind != KT_PLUGIN_RUNNABLE)
            continue;
        int runs = kt_worker_find_impl(d->type) != NULL;
        if (runs != (d->support == KT_SUPPORT_RUNS))
            fail_msg("%s: the worker %s it, the catalogue says support=%d", d->type, runs ? "runs" : "cannot run",
                     d->support);
        for (const char *const *a = d->aliases; a && *a; a++)
            if ((kt_worker_find_impl(*a) != NULL) != runs)
                fail_msg("alias %s of %s: not the same answer from the worker", *a, d->type);
        checked++;
    }
    assert_true(checked >= 10);
    /* a type the catalogue does not know never runs */
    assert_null(kt_worker_find_impl("io.kestra.plugin.core.Nope"));
}

static void test_task_runners(void **state)
{
    (void)state;
    size_t n, checked = 0;
    const kt_task_def *all = kt_task_catalogue(&n);
    for (size_t i = 0; i < n; i++) {
        if (all[i].kind != KT_PLUGIN_TASK_RUNNER)
            continue;
        int runs = kt_task_runner_available(all[i].type);
        if (runs != (all[i].support == KT_SUPPORT_RUNS))
            fail_msg("task runner %s: script tasks %s it, the catalogue says support=%d", all[i].type,
                     runs ? "accept" : "refuse", all[i].support);
        checked++;
    }
    assert_int_equal(checked, 2);
    assert_int_equal(kt_task_lookup("io.kestra.plugin.scripts.runner.docker.Docker")->support, KT_SUPPORT_NOT_YET);
}

/* Starts a one-task execution with `type` (given what any flowable might read) and says whether the executor
 * refused the type. */
static int executor_refuses(const char *type)
{
    json_t *flow = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:{s:s}, s:[{s:s, s:s, s:s}]}]}", "tasks",
                             "id", "p", "type", type, "namespace", "company.team", "flowId", "child", "value", "x",
                             "condition", "true", "values", "a", "labels", "k", "v", "tasks", "id", "c", "type",
                             "io.kestra.plugin.core.log.Log", "message", "hi");
    json_t *ex = kt_execution_new("ex1", "company.team", "flow", 1, NULL, NULL, NULL, INT64_C(1700000000000000));
    assert_non_null(flow);
    assert_non_null(ex);
    kt_exec_flow f = {.flow = flow};
    kt_exec_event ev = {.kind = KT_EV_START, .now_us = INT64_C(1700000001000000)};
    kt_exec_effects fx;
    g_ids = 0;
    kt_env env;
    kt_env_init(&env, ev.now_us, 1);
    env.ids = test_idgen;
    assert_int_equal(kt_exec_step(&f, ex, &ev, &env, &fx), KT_OK);
    int refused = 0;
    for (size_t i = 0; i < fx.nlogs; i++)
        refused |= strstr(fx.logs[i].message, "not supported") != NULL;
    for (size_t i = 0; i < fx.nsubflows; i++)
        json_decref(fx.subflows[i].spec);
    json_decref(ex);
    json_decref(flow);
    return refused;
}

static void test_executor_runs_what_the_catalogue_says(void **state)
{
    (void)state;
    size_t n, checked = 0;
    const kt_task_def *all = kt_task_catalogue(&n);
    for (size_t i = 0; i < n; i++) {
        const kt_task_def *d = &all[i];
        if (!is_task(d) || d->kind == KT_PLUGIN_RUNNABLE) /* runnables: the worker decides */
            continue;
        int refused = executor_refuses(d->type);
        if (refused != (d->support == KT_SUPPORT_NOT_YET))
            fail_msg("%s: the executor %s it, the catalogue says support=%d", d->type, refused ? "refuses" : "runs",
                     d->support);
        for (const char *const *a = d->aliases; a && *a; a++)
            if (executor_refuses(*a) != refused)
                fail_msg("alias %s of %s: not the same answer from the executor", *a, d->type);
        checked++;
    }
    assert_true(checked >= 14);
}

/* The triggers the scheduler acts on (issue 8) run, like the Webhook and the polling HTTP trigger (issue 10). */
static void test_triggers_acted_on(void **state)
{
    (void)state;
    static const char *const runs[] = {"io.kestra.plugin.core.trigger.Schedule",
                                       "io.kestra.core.models.triggers.types.Schedule",
                                       "io.kestra.plugin.core.trigger.ScheduleOnDates",
                                       "io.kestra.plugin.core.trigger.Flow",
                                       "io.kestra.core.models.triggers.types.Flow",
                                       "io.kestra.plugin.core.trigger.Webhook",
                                       "io.kestra.plugin.core.trigger.Toggle",
                                       "io.kestra.core.tasks.trigger.Toggle"};
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++)
        assert_int_equal(kt_task_lookup(runs[i])->support, KT_SUPPORT_RUNS);
    assert_int_equal(kt_task_lookup("io.kestra.plugin.core.http.Trigger")->support, KT_SUPPORT_RUNS);
    assert_int_equal(kt_task_lookup("io.kestra.plugin.fs.http.Trigger")->support, KT_SUPPORT_RUNS);
}

/* A polling trigger runs when the scheduler polls it (flow/poll.h) and the worker evaluates it (actors/worker/poll.c):
 * the catalogue's flag must follow both, aliases included. */
static void test_polling_triggers(void **state)
{
    (void)state;
    size_t n = 0, polling = 0;
    const kt_task_def *all = kt_task_catalogue(&n);
    for (size_t i = 0; i < n; i++) {
        const kt_task_def *d = &all[i];
        if (d->kind != KT_PLUGIN_TRIGGER)
            continue;
        int polls = kt_poll_type_of(d->type) != NULL;
        polling += polls;
        int runs = polls && kt_worker_poll_can_evaluate(d->type);
        if (polls && runs != (d->support == KT_SUPPORT_RUNS))
            fail_msg("%s: polling, evaluator %d, catalogue support=%d", d->type, runs, d->support);
        for (const char *const *a = d->aliases; a && *a; a++)
            if ((kt_poll_type_of(*a) != NULL) != polls || (polls && kt_worker_poll_can_evaluate(*a) != runs))
                fail_msg("alias %s of %s: not the same answer", *a, d->type);
    }
    assert_true(polling >= 1);
    assert_false(kt_worker_poll_can_evaluate("io.kestra.plugin.core.trigger.Schedule"));
    assert_null(kt_poll_type_of("io.kestra.plugin.core.trigger.Webhook"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_runs_what_the_catalogue_says),
        cmocka_unit_test(test_task_runners),
        cmocka_unit_test(test_executor_runs_what_the_catalogue_says),
        cmocka_unit_test(test_triggers_acted_on),
        cmocka_unit_test(test_polling_triggers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
