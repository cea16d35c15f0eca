/* The equivalence for Flow triggers, through the scheduler's own path (flow_trigger.c) on a real store: a 1.x
 * flow with conditions/preconditions and its 2.0 form with dependsOn (Kestra's rewrite of the blueprints
 * flow-downstream, flow-condition-executionflow, flow-condition-not; namespaces moved to a.b, the world's) start the
 * same executions for the same upstream executions, step by step. Then what differs by dialect: 2.x's scoped
 * trigger.outputs.<flowId> (1.x: the last upstream's outputs), a 2.x input render failure leaving a FAILED execution
 * (1.x: nothing), mode ANY / AT_LEAST, and the 2.0 default states (terminated + PAUSED) of an entry without states. */
#include "tests/unit/actors/sch_world.h"
#include "base/clock.h"
#include "base/log.h"
#include "flow/model.h"
#include "flow/state.h"

#define TASKS "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"

/* flow-downstream: both flow_a and flow_b succeeded within a day */
static const char *DOWN_1X =
    "id: down1x\nnamespace: a.b\n" TASKS "triggers:\n  - id: multiple_listen_flow\n"
    "    type: io.kestra.plugin.core.trigger.Flow\n    conditions:\n"
    "      - type: io.kestra.plugin.core.condition.ExecutionStatus\n        in:\n          - SUCCESS\n"
    "      - id: multiple\n        type: io.kestra.plugin.core.condition.MultipleCondition\n        window: P1D\n"
    "        windowAdvance: P0D\n        conditions:\n          flow_a:\n"
    "            type: io.kestra.plugin.core.condition.ExecutionFlow\n            namespace: a.b\n"
    "            flowId: flow_a\n          flow_b:\n            type: io.kestra.plugin.core.condition.ExecutionFlow\n"
    "            namespace: a.b\n            flowId: flow_b\n";
static const char *DOWN_2X =
    "id: down2x\nnamespace: a.b\n" TASKS "triggers:\n  - id: multiple_listen_flow\n"
    "    type: io.kestra.plugin.core.trigger.Flow\n    dependsOn:\n"
    "      - flowId: flow_a\n        namespace: a.b\n        states:\n          - SUCCESS\n"
    "      - flowId: flow_b\n        namespace: a.b\n        states:\n          - SUCCESS\n"
    "    window:\n      lookback: P1D\n";
/* flow-condition-executionflow: system_flow entering RUNNING */
static const char *EF_1X = "id: ef1x\nnamespace: a.b\n" TASKS "triggers:\n  - id: flow_trigger\n"
                           "    type: io.kestra.plugin.core.trigger.Flow\n    conditions:\n"
                           "      - type: io.kestra.plugin.core.condition.ExecutionFlow\n        flowId: system_flow\n"
                           "        namespace: a.b\n    states:\n      - RUNNING\n";
static const char *EF_2X = "id: ef2x\nnamespace: a.b\n" TASKS "triggers:\n  - id: flow_trigger\n"
                           "    type: io.kestra.plugin.core.trigger.Flow\n    dependsOn:\n"
                           "      - flowId: system_flow\n        namespace: a.b\n        states:\n          - RUNNING\n";
/* flow-condition-not: any execution outside company.analytics* (the filter form of Kestra's `startsWith` operator,
 * which Kite's Pebble does not parse) */
static const char *NOT_1X = "id: not1x\nnamespace: a.b\n" TASKS "triggers:\n  - id: flow_condition\n"
                            "    type: io.kestra.plugin.core.trigger.Flow\n    conditions:\n"
                            "      - type: io.kestra.plugin.core.condition.Not\n        conditions:\n"
                            "          - type: io.kestra.plugin.core.condition.ExecutionNamespace\n"
                            "            namespace: company.analytics\n            comparison: PREFIX\n";
static const char *NOT_2X = "id: not2x\nnamespace: a.b\n" TASKS "triggers:\n  - id: flow_condition\n"
                            "    type: io.kestra.plugin.core.trigger.Flow\n    dependsOn:\n"
                            "      - when: \"{{ not (trigger.namespace | startsWith('company.analytics')) }}\"\n";

static int64_t count_in(kt_store *st, const char *ns, const char *flow_id, const char *state)
{
    kt_exec_query q = {.namespace_ = ns, .flow_id = flow_id, .size = 50, .page = 1};
    json_t *rows = NULL;
    int64_t total = -1, n = 0;
    assert_int_equal(kt_store_executions_search(st, &q, &rows, &total), KT_OK);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) n += !state || !strcmp(kt_state_current(r), state);
    json_decref(rows);
    return n;
}

static int64_t count_of(kt_store *st, const char *flow_id) { return count_in(st, "a.b", flow_id, NULL); }

/* The newest execution of flow_id (NULL when none); a new reference. */
static json_t *last_of(kt_store *st, const char *flow_id)
{
    kt_exec_query q = {.namespace_ = "a.b", .flow_id = flow_id, .size = 50, .page = 1};
    json_t *rows = NULL;
    int64_t total = -1;
    assert_int_equal(kt_store_executions_search(st, &q, &rows, &total), KT_OK);
    json_t *r = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return r;
}

/* An execution of ns.flow_id in state (outputs: its flow outputs, may be NULL), committed with its notice as the
 * executor does, then acted on by the scheduler. */
static void upstream(sch_world *w, const char *id, const char *ns, const char *flow_id, const char *state,
                     const char *outputs)
{
    json_t *ex = kt_execution_new(id, ns, flow_id, 1, NULL, NULL, NULL, kt_now_us());
    assert_non_null(ex);
    if (strcmp(state, "RUNNING"))
        kt_state_set(json_object_get(ex, "state"), "RUNNING", kt_now_us());
    kt_state_set(json_object_get(ex, "state"), state, kt_now_us());
    if (outputs)
        json_object_set_new(ex, "outputs", json_loads(outputs, 0, NULL));
    assert_int_equal(kt_store_begin(w->st), KT_OK);
    assert_int_equal(kt_store_execution_put(w->st, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_notice_add(w->st, id, state), KT_OK);
    assert_int_equal(kt_store_commit(w->st), KT_OK);
    kt_sch_flow_triggers(w->s, ex);
    json_decref(ex);
}

static void test_flow_downstream_pair(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"down1x", DOWN_1X, "down2x", DOWN_2X, NULL};
    sch_world_start(&w, flows);
    static const struct {
        const char *flow, *state;
        int want; /* downstream executions after this upstream execution, for both forms */
    } steps[] = {
        {"flow_a", "SUCCESS", 0}, {"flow_a", "FAILED", 0}, {"flow_b", "SUCCESS", 1}, /* both: fires, resets */
        {"flow_b", "SUCCESS", 1}, {"flow_c", "SUCCESS", 1}, {"flow_a", "SUCCESS", 2}, {"flow_b", "FAILED", 2},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        char id[16];
        snprintf(id, sizeof id, "d%zu", i);
        upstream(&w, id, "a.b", steps[i].flow, steps[i].state, NULL);
        assert_int_equal(count_of(w.st, "down1x"), steps[i].want);
        assert_int_equal(count_of(w.st, "down2x"), steps[i].want);
    }
    sch_world_stop(&w);
    sch_world_end(&w);
}

static void test_executionflow_and_not_pairs(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"ef1x", EF_1X, "ef2x", EF_2X, "not1x", NOT_1X, "not2x", NOT_2X, NULL};
    sch_world_start(&w, flows);
    static const struct {
        const char *ns, *flow, *state;
        int ef, not_; /* executions of the executionflow pair and of the not pair after the step */
    } steps[] = {
        {"a.b", "system_flow", "RUNNING", 1, 0},          /* RUNNING is no terminated state: Not does not listen */
        {"a.b", "system_flow", "SUCCESS", 1, 1},          /* a.b is outside company.analytics */
        {"a.b", "other", "RUNNING", 1, 1},
        {"company.analytics.daily", "x", "SUCCESS", 1, 1}, /* excluded by both */
        {"company.sales", "x", "FAILED", 1, 2},
        {"a.b", "system_flow", "RUNNING", 2, 2},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        char id[16];
        snprintf(id, sizeof id, "e%zu", i);
        upstream(&w, id, steps[i].ns, steps[i].flow, steps[i].state, NULL);
        assert_int_equal(count_of(w.st, "ef1x"), steps[i].ef);
        assert_int_equal(count_of(w.st, "ef2x"), steps[i].ef);
        assert_int_equal(count_of(w.st, "not1x"), steps[i].not_);
        assert_int_equal(count_of(w.st, "not2x"), steps[i].not_);
    }
    /* B5: an entry without states listens to the terminated states and PAUSED in 2.0; 1.x's default has no PAUSED */
    upstream(&w, "p1", "company.sales", "x", "PAUSED", NULL);
    assert_int_equal(count_of(w.st, "not1x"), 2);
    assert_int_equal(count_of(w.st, "not2x"), 3);
    sch_world_stop(&w);
    sch_world_end(&w);
}

/* trigger.outputs: 2.x scoped by upstream flow id (+ the unscoped shorthand with a single entry); 1.x the last
 * upstream's outputs. */
static const char *OUT_1X =
    "id: out1x\nnamespace: a.b\ninputs:\n  - id: date\n    type: STRING\n    defaults: none\n" TASKS
    "triggers:\n  - id: up\n    type: io.kestra.plugin.core.trigger.Flow\n    inputs:\n"
    "      date: \"{{ trigger.outputs.date ?? 'absent' }}\"\n    preconditions:\n      id: pre\n      flows:\n"
    "        - namespace: a.b\n          flowId: flow_a\n          states: [SUCCESS]\n"
    "        - namespace: a.b\n          flowId: flow_b\n          states: [SUCCESS]\n";
static const char *OUT_2X =
    "id: out2x\nnamespace: a.b\ninputs:\n  - id: date\n    type: STRING\n    defaults: none\n" TASKS
    "triggers:\n  - id: up\n    type: io.kestra.plugin.core.trigger.Flow\n    inputs:\n"
    "      date: \"{{ trigger.outputs.flow_a.date }}/{{ trigger.outputs.flow_b.date }}\"\n    dependsOn:\n"
    "      - flowId: flow_a\n        namespace: a.b\n        states: [SUCCESS]\n"
    "      - flowId: flow_b\n        namespace: a.b\n        states: [SUCCESS]\n";
static const char *OUT_ONE =
    "id: outone\nnamespace: a.b\ninputs:\n  - id: date\n    type: STRING\n    defaults: none\n" TASKS
    "triggers:\n  - id: up\n    type: io.kestra.plugin.core.trigger.Flow\n    inputs:\n"
    "      date: \"{{ trigger.outputs.date }}={{ trigger.outputs.flow_a.date }}\"\n    dependsOn:\n"
    "      - flowId: flow_a\n        namespace: a.b\n        states: [SUCCESS]\n";

static const char *input_of(kt_store *st, const char *flow_id, char *buf, size_t cap)
{
    json_t *ex = last_of(st, flow_id);
    snprintf(buf, cap, "%s", ex ? json_string_value(json_object_get(json_object_get(ex, "inputs"), "date")) : "-");
    json_decref(ex);
    return buf;
}

static void test_scoped_outputs(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"out1x", OUT_1X, "out2x", OUT_2X, "outone", OUT_ONE, NULL};
    sch_world_start(&w, flows);
    upstream(&w, "o1", "a.b", "flow_a", "SUCCESS", "{\"date\": \"2025-01-01\"}");
    char buf[128];
    assert_string_equal(input_of(w.st, "outone", buf, sizeof buf), "2025-01-01=2025-01-01");
    assert_int_equal(count_of(w.st, "out2x"), 0);
    upstream(&w, "o2", "a.b", "flow_b", "SUCCESS", "{\"date\": \"2025-01-02\"}");
    assert_string_equal(input_of(w.st, "out1x", buf, sizeof buf), "2025-01-02");            /* the last one's */
    assert_string_equal(input_of(w.st, "out2x", buf, sizeof buf), "2025-01-01/2025-01-02"); /* each its own */
    sch_world_stop(&w);
    sch_world_end(&w);
}

/* Inputs that do not render: 1.x drops the event (0.21), 2.x leaves a FAILED execution. */
static const char *BAD_1X = "id: bad1x\nnamespace: a.b\n" TASKS "triggers:\n  - id: up\n"
                            "    type: io.kestra.plugin.core.trigger.Flow\n    inputs:\n"
                            "      x: \"{{ nosuchfunction() }}\"\n    conditions:\n"
                            "      - type: io.kestra.plugin.core.condition.ExecutionFlow\n        namespace: a.b\n"
                            "        flowId: flow_a\n";
static const char *BAD_2X = "id: bad2x\nnamespace: a.b\n" TASKS "triggers:\n  - id: up\n"
                            "    type: io.kestra.plugin.core.trigger.Flow\n    inputs:\n"
                            "      x: \"{{ nosuchfunction() }}\"\n    dependsOn:\n"
                            "      - namespace: a.b\n        flowId: flow_a\n";
/* mode ANY: either upstream; AT_LEAST 2 of 3 */
static const char *ANY_2X = "id: any2x\nnamespace: a.b\n" TASKS "triggers:\n  - id: up\n"
                            "    type: io.kestra.plugin.core.trigger.Flow\n    mode: ANY\n    dependsOn:\n"
                            "      - {namespace: a.b, flowId: flow_a, states: [SUCCESS]}\n"
                            "      - {namespace: a.b, flowId: flow_b, states: [SUCCESS]}\n";
static const char *LEAST_2X = "id: least2x\nnamespace: a.b\n" TASKS "triggers:\n  - id: up\n"
                              "    type: io.kestra.plugin.core.trigger.Flow\n    mode: AT_LEAST\n    minSatisfied: 2\n"
                              "    window:\n      every: P1D\n    dependsOn:\n"
                              "      - {namespace: a.b, flowId: flow_a, states: [SUCCESS]}\n"
                              "      - {namespace: a.b, flowId: flow_b, states: [SUCCESS]}\n"
                              "      - {namespace: a.b, flowId: flow_c, states: [SUCCESS], "
                              "when: \"{{ outputs.ok == true }}\"}\n";

static void test_render_failure_and_modes(void **state)
{
    (void)state;
    sch_world w;
    const char *const flows[] = {"bad1x", BAD_1X, "bad2x", BAD_2X, "any2x", ANY_2X, "least2x", LEAST_2X, NULL};
    sch_world_start(&w, flows);
    upstream(&w, "m1", "a.b", "flow_a", "SUCCESS", NULL);
    assert_int_equal(count_of(w.st, "bad1x"), 0);
    assert_int_equal(count_in(w.st, "a.b", "bad2x", "FAILED"), 1);
    assert_int_equal(count_of(w.st, "any2x"), 1);
    assert_int_equal(count_of(w.st, "least2x"), 0);
    upstream(&w, "m2", "a.b", "flow_c", "SUCCESS", "{\"ok\": false}"); /* its when is false: not counted */
    assert_int_equal(count_of(w.st, "least2x"), 0);
    assert_int_equal(count_of(w.st, "any2x"), 1);
    upstream(&w, "m3", "a.b", "flow_c", "SUCCESS", "{\"ok\": true}");
    assert_int_equal(count_of(w.st, "least2x"), 1); /* flow_a + flow_c */
    upstream(&w, "m4", "a.b", "flow_b", "SUCCESS", NULL);
    assert_int_equal(count_of(w.st, "any2x"), 2);
    assert_int_equal(count_of(w.st, "least2x"), 1); /* reset after firing: flow_b alone is one of two */
    sch_world_stop(&w);
    sch_world_end(&w);
}

int main(void)
{
    int rc = kt_test_store_check(); /* SQLite, or PostgreSQL with KITE_TEST_STORE=pg */
    if (rc)
        return rc;
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow_downstream_pair),
        cmocka_unit_test(test_executionflow_and_not_pairs),
        cmocka_unit_test(test_scoped_outputs),
        cmocka_unit_test(test_render_failure_and_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
