/* Dynamic input defaults (docs/dialects.md A11) on the scheduler's creation paths, each flow run in both dialects
 * (tests/dialects/onmiss/schedule_defaults.*.yaml, flow_trigger_defaults.*.yaml): a ScheduleOnDates occurrence and a
 * Flow trigger start a 2.x flow with its `defaults` expressions rendered (flow identity, earlier inputs), a 1.x flow
 * with them as written (Kestra 0.21: the Schedule takes them literally, the Flow trigger only renders its own
 * `inputs`); a 2.x default that does not render leaves a FAILED execution (the Schedule's occurrence, the Flow
 * trigger's input failure), where 1.x starts the execution with the text as written. */
#include "tests/unit/actors/sch_world.h"
#include "base/clock.h"
#include "base/log.h"
#include "flow/model.h"
#include "flow/state.h"

#define US_S 1000000LL

#define INPUTS(dflt)                                                                                                 \
    "inputs:\n  - id: env\n    type: STRING\n    defaults: dev\n  - id: bucket\n    type: STRING\n"             \
    "    defaults: \"" dflt "\"\n"
#define TASKS "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
#define GOOD "{{ flow.namespace }}-{{ inputs.env }}"
#define BAD "{{ nope.x }}"

/* a ScheduleOnDates at %s */
#define SCHED(id, dialect, dflt)                                                                                     \
    "id: " id "\nnamespace: a.b\ndialect: " dialect "\n" INPUTS(dflt) TASKS                                          \
    "triggers:\n  - id: once\n    type: io.kestra.plugin.core.trigger.ScheduleOnDates\n    dates:\n"                \
    "      - \"%s\"\n"
/* a Flow trigger on flow_a (the 1.x form with conditions, the 2.x form with dependsOn), passing `who` */
#define FLOWTRIG_1X(id, dflt)                                                                                        \
    "id: " id "\nnamespace: a.b\n" INPUTS(dflt) "  - id: who\n    type: STRING\n    required: false\n" TASKS         \
    "triggers:\n  - id: after_a\n    type: io.kestra.plugin.core.trigger.Flow\n    inputs:\n"                       \
    "      who: \"{{ trigger.flowId }}\"\n    conditions:\n"                                                        \
    "      - type: io.kestra.plugin.core.condition.ExecutionFlow\n        namespace: a.b\n        flowId: flow_a\n"
#define FLOWTRIG_2X(id, dflt)                                                                                        \
    "id: " id "\nnamespace: a.b\n" INPUTS(dflt) "  - id: who\n    type: STRING\n" TASKS                              \
    "triggers:\n  - id: after_a\n    type: io.kestra.plugin.core.trigger.Flow\n    inputs:\n"                       \
    "      who: \"{{ trigger.flowId }}\"\n    dependsOn:\n      - namespace: a.b\n        flowId: flow_a\n"

/* The newest execution of flow_id, read whole from the store (NULL when none); a new reference. */
static json_t *last_of(kt_store *st, const char *flow_id, int64_t *count)
{
    kt_exec_query q = {.namespace_ = "a.b", .flow_id = flow_id, .size = 50, .page = 1};
    json_t *rows = NULL, *full = NULL;
    int64_t total = -1;
    assert_int_equal(kt_store_executions_search(st, &q, &rows, &total), KT_OK);
    *count = (int64_t)json_array_size(rows);
    const char *id = json_string_value(json_object_get(json_array_get(rows, 0), "id"));
    if (id)
        assert_int_equal(kt_store_execution_get(st, id, &full), KT_OK);
    json_decref(rows);
    return full;
}

static const char *input_of(const json_t *ex, const char *id)
{
    return json_string_value(json_object_get(json_object_get(ex, "inputs"), id));
}

static void test_schedule(void **state)
{
    (void)state;
    char at[48], y1[1024], y2[1024], y2bad[1024];
    kt_time_format((kt_now_us() / US_S + 2) * US_S, at, sizeof at);
    snprintf(y1, sizeof y1, SCHED("sd1x", "1.x", GOOD), at);
    snprintf(y2, sizeof y2, SCHED("sd2x", "2.x", GOOD), at);
    snprintf(y2bad, sizeof y2bad, SCHED("sd2xbad", "2.x", BAD), at);
    const char *const flows[] = {"sd1x", y1, "sd2x", y2, "sd2xbad", y2bad, NULL};
    sch_world w;
    sch_world_start(&w, flows);
    sch_run_ms(&w, 3500);
    int64_t n = 0;
    json_t *ex = last_of(w.st, "sd1x", &n);
    assert_int_equal(n, 1);
    assert_string_equal(input_of(ex, "bucket"), GOOD); /* 1.x: as written */
    assert_string_equal(kt_state_current(ex), "CREATED");
    json_decref(ex);
    ex = last_of(w.st, "sd2x", &n);
    assert_int_equal(n, 1);
    assert_string_equal(input_of(ex, "bucket"), "a.b-dev"); /* 2.x: rendered with the flow and earlier inputs */
    json_decref(ex);
    ex = last_of(w.st, "sd2xbad", &n); /* 2.x: the occurrence could not start: FAILED, saying why */
    assert_int_equal(n, 1);
    assert_string_equal(kt_state_current(ex), "FAILED");
    json_t *logs = NULL;
    assert_int_equal(kt_store_logs_get(w.st, json_string_value(json_object_get(ex, "id")), NULL, &logs),
                     KT_OK);
    const char *msg = json_string_value(json_object_get(json_array_get(logs, 0), "message"));
    assert_non_null(msg);
    assert_non_null(strstr(msg, "nope"));
    json_decref(logs);
    json_decref(ex);
    sch_world_stop(&w);
    sch_world_end(&w);
}

static void upstream(sch_world *w, const char *id, const char *flow_id, const char *state)
{
    json_t *ex = kt_execution_new(id, "a.b", flow_id, 1, NULL, NULL, NULL, kt_now_us());
    kt_state_set(json_object_get(ex, "state"), "RUNNING", kt_now_us());
    kt_state_set(json_object_get(ex, "state"), state, kt_now_us());
    assert_int_equal(kt_store_begin(w->st), KT_OK);
    assert_int_equal(kt_store_execution_put(w->st, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_notice_add(w->st, id, state), KT_OK);
    assert_int_equal(kt_store_commit(w->st), KT_OK);
    kt_sch_flow_triggers(w->s, ex);
    json_decref(ex);
}

static void test_flow_trigger(void **state)
{
    (void)state;
    const char *const flows[] = {"ft1x",    FLOWTRIG_1X("ft1x", GOOD), "ft2x",   FLOWTRIG_2X("ft2x", GOOD),
                                 "ft1xbad", FLOWTRIG_1X("ft1xbad", BAD), "ft2xbad", FLOWTRIG_2X("ft2xbad", BAD),
                                 NULL};
    sch_world w;
    sch_world_start(&w, flows);
    upstream(&w, "u1", "flow_a", "SUCCESS");
    int64_t n = 0;
    json_t *ex = last_of(w.st, "ft2x", &n);
    assert_int_equal(n, 1);
    assert_string_equal(kt_state_current(ex), "CREATED");
    assert_string_equal(input_of(ex, "bucket"), "a.b-dev"); /* 2.x: typed, defaults rendered */
    assert_string_equal(input_of(ex, "env"), "dev");
    assert_string_equal(input_of(ex, "who"), "flow_a");
    json_decref(ex);
    ex = last_of(w.st, "ft1x", &n); /* 1.x (Kestra 0.21): the trigger's inputs rendered, nothing rendered else */
    assert_int_equal(n, 1);
    assert_string_equal(input_of(ex, "who"), "flow_a");
    assert_true(!input_of(ex, "bucket") || !strcmp(input_of(ex, "bucket"), GOOD));
    json_decref(ex);
    ex = last_of(w.st, "ft2xbad", &n); /* 2.x: an input failure leaves a FAILED execution */
    assert_int_equal(n, 1);
    assert_string_equal(kt_state_current(ex), "FAILED");
    json_decref(ex);
    ex = last_of(w.st, "ft1xbad", &n); /* 1.x: started, the default never rendered */
    assert_int_equal(n, 1);
    assert_string_equal(kt_state_current(ex), "CREATED");
    json_decref(ex);
    sch_world_stop(&w);
    sch_world_end(&w);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_flow_trigger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
