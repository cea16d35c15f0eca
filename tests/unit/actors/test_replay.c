/* The executor's step is a pure function of (flow, execution, event, environment): every event of a run is applied
 * twice, to two deep copies of the execution with environments of the same clock reading and seed, and both
 * results must be byte-identical (json_dumps with JSON_SORT_KEYS), effects included. The flows render now(), uuid()
 * and randomInt() wherever the step renders (Labels, ForEach values, runIf, If conditions, Subflow inputs, flow
 * outputs), and their task-run ids come from the environment too. A different seed must give different uuids, or
 * the comparison would prove nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/executor/step.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/id.h"
#include "flow/model.h"
#include "tests/unit/json_parse.h"

/* 2023-11-14T22:13:20Z */
#define T0 INT64_C(1700000000000000)
#define SEC INT64_C(1000000)
#define LOG "io.kestra.plugin.core.log.Log"

/* Everything the step decided, as JSON, so two steps compare byte for byte. */
static json_t *effects_json(const kt_exec_effects *fx)
{
    json_t *o = json_pack("{s:i, s:i, s:i, s:i, s:[], s:[], s:[], s:[]}", "changed", fx->changed, "ended", fx->ended,
                          "stale", fx->stale, "touched_all", fx->touched_all, "dispatch", "logs", "timers", "subflows");
    for (size_t i = 0; i < fx->ndispatch; i++)
        json_array_append_new(json_object_get(o, "dispatch"),
                              json_pack("[s, s, i]", fx->dispatch[i].taskrun_id, fx->dispatch[i].task_id,
                                        (int)fx->dispatch[i].attempt));
    for (size_t i = 0; i < fx->nlogs; i++)
        json_array_append_new(json_object_get(o, "logs"), json_pack("[s, s, s]", fx->logs[i].taskrun_id,
                                                                     fx->logs[i].level, fx->logs[i].message));
    for (size_t i = 0; i < fx->ntimers; i++)
        json_array_append_new(json_object_get(o, "timers"), json_pack("[s, s, I]", fx->timers[i].taskrun_id,
                                                                      fx->timers[i].command,
                                                                      (json_int_t)fx->timers[i].at_us));
    for (size_t i = 0; i < fx->nsubflows; i++)
        json_array_append_new(json_object_get(o, "subflows"),
                              json_pack("[s, O]", fx->subflows[i].taskrun_id, fx->subflows[i].spec));
    return o;
}

static void effects_free(kt_exec_effects *fx)
{
    for (size_t i = 0; i < fx->nsubflows; i++)
        json_decref(fx->subflows[i].spec);
    fx->nsubflows = 0;
}

static char *dump(const json_t *v) { return json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT); }

/* One step of `ex` with an environment of (ev.now_us, seed), on a deep copy: the caller owns the result. */
static json_t *step_copy(const json_t *flow, const json_t *ex, const kt_exec_event *ev, uint64_t seed,
                         kt_exec_effects *fx)
{
    json_t *copy = json_deep_copy(ex);
    kt_exec_flow f = {.flow = flow};
    kt_env env;
    kt_env_init(&env, ev->now_us, seed);
    assert_int_equal(kt_exec_step(&f, copy, ev, &env, fx), KT_OK);
    return copy;
}

/* Applies ev twice with the same seed and checks both executions and both effects are byte-identical. Returns the
 * new execution (ex is released) and the effects in *fx. */
static json_t *replay(const json_t *flow, json_t *ex, const kt_exec_event *ev, uint64_t seed, kt_exec_effects *fx)
{
    kt_exec_effects again;
    json_t *a = step_copy(flow, ex, ev, seed, fx);
    json_t *b = step_copy(flow, ex, ev, seed, &again);
    char *da = dump(a), *db = dump(b);
    assert_string_equal(da, db);
    json_t *ea = effects_json(fx), *eb = effects_json(&again);
    char *dea = dump(ea), *deb = dump(eb);
    assert_string_equal(dea, deb);
    assert_true(fx->changed); /* every event of these runs changes the execution: the comparison is not vacuous */
    free(da), free(db), free(dea), free(deb);
    json_decref(ea), json_decref(eb), json_decref(b), json_decref(ex);
    effects_free(&again);
    return a;
}

static int is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
            return 0;
    }
    return s[14] == '4'; /* version 4 */
}

static const char *label(const json_t *ex, const char *key)
{
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(ex, "labels"), i, l) {
        if (!strcmp(json_string_value(json_object_get(l, "key")), key))
            return json_string_value(json_object_get(l, "value"));
    }
    return NULL;
}

/* Labels, ForEach over rendered values with a runIf child, an If whose condition draws a uuid, flow outputs.
 * The ForEach values are the labels (drawn once) and not fresh draws: the step renders them again on every pass
 * and every later event, so values drawn there would change under the loop (a new child each time), in Kestra too. */
static const char k_flow[] =
    "{\"id\":\"replay\",\"namespace\":\"company.team\","
    "\"tasks\":["
    " {\"id\":\"labels\",\"type\":\"io.kestra.plugin.core.execution.Labels\",\"labels\":{"
    "   \"run\":\"{{ uuid() }}\",\"at\":\"{{ now() }}\",\"n\":\"{{ randomInt(1, 100) }}\"}},"
    " {\"id\":\"each\",\"type\":\"io.kestra.plugin.core.flow.ForEach\","
    "  \"values\":[\"{{ labels.run }}\",\"{{ labels.n }}\",\"{{ labels.at }}\"],"
    "  \"tasks\":[{\"id\":\"inner\",\"type\":\"" LOG "\",\"message\":\"m\",\"runIf\":\"{{ randomInt(1, 100) >= 1 }}\"}]},"
    " {\"id\":\"if\",\"type\":\"io.kestra.plugin.core.flow.If\",\"condition\":\"{{ uuid() | length == 36 }}\","
    "  \"then\":[{\"id\":\"then\",\"type\":\"" LOG "\",\"message\":\"m\"}]}],"
    "\"outputs\":[{\"id\":\"token\",\"type\":\"STRING\",\"value\":\"{{ uuid() }}\"},"
    "            {\"id\":\"when\",\"type\":\"STRING\",\"value\":\"{{ now() }}\"},"
    "            {\"id\":\"dice\",\"type\":\"INT\",\"value\":\"{{ randomInt(1, 100) }}\"}]}";

static void test_replay_whole_run(void **state)
{
    (void)state;
    json_t *flow = parse(k_flow);
    json_t *ex = kt_execution_new("ex1", "company.team", "replay", 1, NULL, NULL, NULL, T0);
    kt_exec_effects fx;
    kt_exec_event start = {.kind = KT_EV_START, .now_us = T0 + SEC};
    ex = replay(flow, ex, &start, 1, &fx);
    /* the Labels ran in the step, with the environment's clock and draws */
    assert_true(is_uuid(label(ex, "run")));
    char at[48];
    kt_time_format(T0 + SEC, at, sizeof at);
    assert_non_null(label(ex, "at"));
    assert_int_equal(strncmp(label(ex, "at"), at, 19), 0); /* now() is the event's clock reading */
    int n = atoi(label(ex, "n"));
    assert_true(n >= 1 && n < 100);
    /* answer every dispatched attempt, one event at a time, each replayed */
    char pending[64][KT_ID_LEN + 1];
    size_t npending = 0, steps = 0;
    int64_t now = T0 + SEC;
    for (;;) {
        for (size_t i = 0; i < fx.ndispatch; i++) {
            assert_true(npending < 64);
            snprintf(pending[npending++], sizeof pending[0], "%s", fx.dispatch[i].taskrun_id);
        }
        effects_free(&fx);
        if (!npending)
            break;
        char trid[KT_ID_LEN + 1];
        snprintf(trid, sizeof trid, "%s", pending[0]);
        memmove(pending[0], pending[1], --npending * sizeof pending[0]);
        now += SEC;
        kt_exec_event ev = {.kind = KT_EV_RESULT, .now_us = now, .taskrun_id = trid, .state = "SUCCESS",
                            .started_us = now - SEC / 2, .ended_us = now};
        ex = replay(flow, ex, &ev, 100 + steps, &fx);
        assert_true(++steps < 20);
    }
    assert_int_equal(steps, 4); /* three ForEach children, then the If's branch */
    assert_string_equal(kt_state_current(ex), "SUCCESS");
    /* ForEach values were rendered by the step: the label's uuid among them */
    int uuid_values = 0;
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) {
        uuid_values += is_uuid(json_string_value(json_object_get(tr, "value")));
        assert_true(strlen(json_string_value(json_object_get(tr, "id"))) <= KT_ID_LEN);
    }
    assert_int_equal(uuid_values, 1);
    /* flow outputs rendered at the end, with the last event's clock */
    json_t *outputs = json_object_get(ex, "outputs");
    assert_true(is_uuid(json_string_value(json_object_get(outputs, "token"))));
    kt_time_format(now, at, sizeof at);
    assert_int_equal(strncmp(json_string_value(json_object_get(outputs, "when")), at, 19), 0);
    assert_true(json_integer_value(json_object_get(outputs, "dice")) >= 1);
    json_decref(ex);
    json_decref(flow);
}

static void test_seed_changes_draws(void **state)
{
    (void)state;
    json_t *flow = parse(k_flow);
    json_t *ex = kt_execution_new("ex1", "company.team", "replay", 1, NULL, NULL, NULL, T0);
    kt_exec_event start = {.kind = KT_EV_START, .now_us = T0 + SEC};
    kt_exec_effects fx1, fx2;
    json_t *a = step_copy(flow, ex, &start, 1, &fx1), *b = step_copy(flow, ex, &start, 2, &fx2);
    assert_true(is_uuid(label(a, "run")) && is_uuid(label(b, "run")));
    assert_string_not_equal(label(a, "run"), label(b, "run"));
    /* the task-run ids come from the environment as well */
    const char *ida = json_string_value(json_object_get(json_array_get(json_object_get(a, "taskRunList"), 0), "id"));
    const char *idb = json_string_value(json_object_get(json_array_get(json_object_get(b, "taskRunList"), 0), "id"));
    assert_string_not_equal(ida, idb);
    char *da = dump(a), *db = dump(b);
    assert_string_not_equal(da, db);
    free(da), free(db);
    /* the same seed with another clock reading: the same draws, another now() */
    kt_exec_event later = start;
    later.now_us += 60 * SEC;
    kt_exec_effects fx3;
    json_t *c = step_copy(flow, ex, &later, 1, &fx3);
    assert_string_equal(label(a, "run"), label(c, "run"));
    assert_string_not_equal(label(a, "at"), label(c, "at"));
    effects_free(&fx1), effects_free(&fx2), effects_free(&fx3);
    json_decref(a), json_decref(b), json_decref(c), json_decref(ex), json_decref(flow);
}

static void test_replay_subflow_spec(void **state)
{
    (void)state;
    /* the Subflow's inputs and labels are rendered by the step into the effect the caller creates the child from */
    json_t *flow = parse("{\"id\":\"parent\",\"namespace\":\"company.team\",\"tasks\":["
                         "{\"id\":\"call\",\"type\":\"io.kestra.plugin.core.flow.Subflow\",\"namespace\":\"company.team\","
                         "\"flowId\":\"child\",\"inputs\":{\"token\":\"{{ uuid() }}\",\"dice\":\"{{ randomInt(1, 100) }}\"},"
                         "\"labels\":{\"at\":\"{{ now() }}\"}}]}");
    json_t *ex = kt_execution_new("ex1", "company.team", "parent", 1, NULL, NULL, NULL, T0);
    kt_exec_effects fx;
    kt_exec_event start = {.kind = KT_EV_START, .now_us = T0 + SEC};
    ex = replay(flow, ex, &start, 7, &fx);
    assert_int_equal(fx.nsubflows, 1);
    const json_t *inputs = json_object_get(fx.subflows[0].spec, "inputs");
    assert_true(is_uuid(json_string_value(json_object_get(inputs, "token"))));
    effects_free(&fx);
    json_decref(ex);
    json_decref(flow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_whole_run),
        cmocka_unit_test(test_seed_changes_draws),
        cmocka_unit_test(test_replay_subflow_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
