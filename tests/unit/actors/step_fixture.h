/* Shared by the executor state machine's tests (tests/unit/actors/test_step*.c): executions driven through
 * kt_exec_step with fixed clocks and a deterministic id generator (tr1, tr2, ... reset per test by reset_ids),
 * and checks of the resulting Kestra JSON (KESTRA-execution.md §1, §2.4). Each test file is its own program, so
 * the helpers are static inline: a file uses the ones it needs. */
#ifndef KT_TEST_STEP_FIXTURE_H
#define KT_TEST_STEP_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/model.h"
#include "actors/executor/step.h"
#include "base/clock.h"
#include "base/id.h"
#include "tests/unit/json_parse.h"

/* 2023-11-14T22:13:20Z */
#define T0 INT64_C(1700000000000000)
#define SEC INT64_C(1000000)

static int g_ids;

/* Deterministic ids: tr1, tr2, ... (reset per test). */
static inline void test_idgen(void *ud, char *out) { (void)ud, snprintf(out, KT_ID_LEN + 1, "tr%d", ++g_ids); }

static inline int reset_ids(void **state)
{
    (void)state;
    g_ids = 0;
    return 0;
}

static inline const char *date(int64_t us)
{
    static char buf[8][48];
    static int k;
    char *b = buf[k++ % 8];
    kt_time_format(us, b, 48);
    return b;
}

/* A flow's task list t1..tn (Log tasks); props, when given, is merged into task number `which` (1-based). */
static inline json_t *tasks_n(int n, int which, const char *props)
{
    json_t *tasks = json_array();
    for (int i = 1; i <= n; i++) {
        char id[16];
        snprintf(id, sizeof id, "t%d", i);
        json_t *t = json_pack("{s:s, s:s, s:s}", "id", id, "type", "io.kestra.plugin.core.log.Log", "message", "hi");
        if (props && i == which) {
            json_t *p = parse(props);
            json_object_update(t, p);
            json_decref(p);
        }
        json_array_append_new(tasks, t);
    }
    return tasks;
}

static inline json_t *new_exec(void) { return kt_execution_new("ex1", "company.team", "flow", 3, NULL, NULL, NULL, T0); }

static inline kt_exec_event ev_start(int64_t now)
{
    kt_exec_event ev = {.kind = KT_EV_START, .now_us = now};
    return ev;
}

static inline kt_exec_event ev_result(const char *trid, uint32_t attempt, const char *state, int64_t now)
{
    kt_exec_event ev = {.kind = KT_EV_RESULT, .now_us = now, .taskrun_id = trid, .attempt = attempt, .state = state,
                        .started_us = now - SEC / 2, .ended_us = now};
    return ev;
}

static inline kt_exec_event ev_lost(const char *trid, int64_t now)
{
    kt_exec_event ev = {.kind = KT_EV_LOST, .now_us = now, .taskrun_id = trid};
    return ev;
}

/* One event on a whole flow document, with a seeded environment and the deterministic ids. */
static inline kt_status step_flow(const json_t *flow, json_t *ex, kt_exec_event ev, kt_exec_effects *fx)
{
    kt_exec_flow f = {.flow = flow};
    kt_env env;
    kt_env_init(&env, ev.now_us, 1);
    env.ids = test_idgen;
    return kt_exec_step(&f, ex, &ev, &env, fx);
}

/* One event on a flow made of this task list. */
static inline kt_status step(const json_t *tasks, json_t *ex, kt_exec_event ev, kt_exec_effects *fx)
{
    json_t *flow = json_pack("{s:O}", "tasks", (json_t *)tasks);
    kt_status rc = step_flow(flow, ex, ev, fx);
    json_decref(flow);
    return rc;
}

static inline json_t *taskrun_at(const json_t *ex, size_t i) { return json_array_get(json_object_get(ex, "taskRunList"), i); }
static inline size_t nruns(const json_t *ex) { return json_array_size(json_object_get(ex, "taskRunList")); }
static inline const json_t *attempt_at(const json_t *tr, size_t i) { return json_array_get(json_object_get(tr, "attempts"), i); }

/* Checks state.current and the exact histories: states (comma separated) with their dates. */
static inline void check_state(const json_t *holder, const char *states, const int64_t *dates)
{
    const json_t *st = json_object_get(holder, "state");
    assert_non_null(st);
    const json_t *h = json_object_get(st, "histories");
    char buf[256];
    snprintf(buf, sizeof buf, "%s", states);
    size_t n = 0;
    const char *last = NULL;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), n++) {
        const json_t *e = json_array_get(h, n);
        assert_non_null(e);
        assert_string_equal(json_string_value(json_object_get(e, "state")), tok);
        if (dates)
            assert_string_equal(json_string_value(json_object_get(e, "date")), date(dates[n]));
        last = json_string_value(json_object_get(e, "state"));
    }
    assert_int_equal(json_array_size(h), n);
    assert_string_equal(json_string_value(json_object_get(st, "current")), last);
}

static inline void check_dispatch(const kt_exec_effects *fx, const char *trid, const char *task_id, uint32_t attempt)
{
    assert_int_equal(fx->ndispatch, 1);
    assert_string_equal(fx->dispatch[0].taskrun_id, trid);
    assert_string_equal(fx->dispatch[0].task_id, task_id);
    assert_int_equal(fx->dispatch[0].attempt, attempt);
}

/* fx.touched must be exactly `want` (as a set; the order is not part of the contract). */
static inline void check_touched(const kt_exec_effects *fx, const size_t *want, size_t n)
{
    assert_int_equal(fx->touched_all, 0);
    assert_int_equal(fx->ntouched, n);
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (size_t j = 0; j < fx->ntouched; j++)
            found |= fx->touched[j] == want[i];
        if (!found)
            fail_msg("taskRunList position %zu not in fx.touched", want[i]);
    }
}

static inline void check_no_effect(const kt_exec_effects *fx)
{
    assert_int_equal(fx->changed, 0);
    assert_int_equal(fx->ended, 0);
    assert_int_equal(fx->ndispatch, 0);
    assert_int_equal(fx->ntouched, 0);
    assert_int_equal(fx->touched_all, 0);
}

#endif
