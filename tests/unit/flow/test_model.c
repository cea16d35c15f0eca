/* The execution document (flow/model.h): state predicates and histories, how states are presented (duration,
 * startDate, endDate computed, never trusted), new executions and their labels, task runs (KESTRA-execution.md
 * §1, §2.4). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/model.h"
#include "base/clock.h"
#include "tests/unit/json_parse.h"

/* 2023-11-14T22:13:20Z */
#define T0 INT64_C(1700000000000000)
#define SEC INT64_C(1000000)

/* ---- helpers ------------------------------------------------------------------------------------- */

static const char *date(int64_t us)
{
    static char buf[8][48];
    static int k;
    char *b = buf[k++ % 8];
    kt_time_format(us, b, 48);
    return b;
}

static json_t *new_exec(void) { return kt_execution_new("ex1", "company.team", "flow", 3, NULL, NULL, NULL, T0); }
static json_t *taskrun_at(const json_t *ex, size_t i) { return json_array_get(json_object_get(ex, "taskRunList"), i); }
static size_t nruns(const json_t *ex) { return json_array_size(json_object_get(ex, "taskRunList")); }

/* ---- presentation of a state --------------------------------------------------------------------- */

static const struct present_case {
    const char *states;
    int64_t offsets_ms[4]; /* history dates, ms after T0 */
    int64_t now_ms;
    const char *duration;
    int has_end;
} present_cases[] = {
    /* a single entry grows with now */
    {"CREATED", {0}, 1500, "PT1.5S", 0},
    {"CREATED", {0}, 0, "PT0S", 0},
    /* two or more entries: last - first, whatever now is */
    {"CREATED,RUNNING", {0, 2000}, 10000, "PT2S", 0},
    {"CREATED,RUNNING", {0, 0}, 10000, "PT0S", 0},
    {"CREATED,RUNNING,SUCCESS", {0, 1000, 1500}, 99000, "PT1.5S", 1},
    {"CREATED,RUNNING,FAILED", {0, 1, 90000}, 99000, "PT1M30S", 1},
    {"CREATED,RUNNING,WARNING", {0, 0, 3723004}, 0, "PT1H2M3.004S", 1},
    {"CREATED,RUNNING,KILLED", {0, 0, 12}, 0, "PT0.012S", 1},
    {"CREATED,RUNNING,PAUSED", {0, 0, 500}, 9000, "PT0.5S", 1},
    {"CREATED,RUNNING,KILLING", {0, 0, 500}, 9000, "PT0.5S", 0},
    {"CREATED,QUEUED", {0, 100}, 9000, "PT0.1S", 0},
    {"CREATED,RUNNING,SKIPPED", {0, 0, 86400000}, 0, "PT24H", 1},
    {"SUCCESS", {0}, 2000, "PT2S", 1},
};

static json_t *state_from(const char *states, const int64_t *offsets_ms)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", states);
    json_t *st = NULL;
    size_t i = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
        int64_t at = T0 + offsets_ms[i] * 1000;
        if (!st)
            st = kt_state_new(tok, at);
        else
            kt_state_set(st, tok, at);
    }
    return st;
}

static void test_state_present_table(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof present_cases / sizeof *present_cases; c++) {
        const struct present_case *p = &present_cases[c];
        json_t *st = state_from(p->states, p->offsets_ms);
        json_t *orig = json_deep_copy(st);
        json_t *out = kt_state_present(st, T0 + p->now_ms * 1000);
        assert_non_null(out);
        assert_true(json_equal(st, orig)); /* the stored state is not changed */
        const char *dur = json_string_value(json_object_get(out, "duration"));
        if (!dur || strcmp(dur, p->duration))
            fail_msg("case %zu (%s): duration %s, want %s", c, p->states, dur ? dur : "(none)", p->duration);
        assert_string_equal(json_string_value(json_object_get(out, "startDate")), date(T0 + p->offsets_ms[0] * 1000));
        size_t n = json_array_size(json_object_get(st, "histories"));
        const json_t *end = json_object_get(out, "endDate");
        if (p->has_end) {
            if (!end)
                fail_msg("case %zu (%s): endDate missing", c, p->states);
            assert_string_equal(json_string_value(end), date(T0 + p->offsets_ms[n - 1] * 1000));
        } else if (end) {
            fail_msg("case %zu (%s): endDate %s present on a non-terminated state", c, p->states,
                     json_string_value(end));
        }
        /* current and histories are kept as stored */
        assert_true(json_equal(json_object_get(out, "histories"), json_object_get(st, "histories")));
        assert_true(json_equal(json_object_get(out, "current"), json_object_get(st, "current")));
        json_decref(out);
        json_decref(orig);
        json_decref(st);
    }
}

/* Computed fields that arrive with a stored document are recomputed, not trusted (KESTRA-execution.md §1.6: "These
 * three are read-only: ignored on input, recomputed on output"). */
static void test_state_present_recomputes(void **state)
{
    (void)state;
    json_t *st = kt_state_new("CREATED", T0);
    kt_state_set(st, "RUNNING", T0 + 3 * SEC);
    json_object_set_new(st, "duration", json_string("PT99S"));
    json_object_set_new(st, "endDate", json_string("2000-01-01T00:00:00Z"));
    json_object_set_new(st, "startDate", json_string("2000-01-01T00:00:00Z"));
    json_t *out = kt_state_present(st, T0 + 10 * SEC);
    assert_string_equal(json_string_value(json_object_get(out, "duration")), "PT3S");
    assert_string_equal(json_string_value(json_object_get(out, "startDate")), "2023-11-14T22:13:20Z");
    char stale[64] = "";
    if (json_object_get(out, "endDate"))
        snprintf(stale, sizeof stale, "%s", json_string_value(json_object_get(out, "endDate")));
    json_decref(out);
    json_decref(st);
    if (stale[0])
        fail_msg("(flow/model.c kt_state_present): a stale endDate of a RUNNING state survives: %s",
                 stale);
}

/* ---- states, executions, task runs, labels ------------------------------------------------------ */

static void test_state_predicates(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int terminated, running, valid;
    } cases[] = {
        {"CREATED", 0, 0, 1},  {"RUNNING", 0, 1, 1},   {"PAUSED", 0, 0, 1},   {"RESTARTED", 0, 0, 1},
        {"KILLING", 0, 1, 1},  {"SUCCESS", 1, 0, 1},   {"WARNING", 1, 0, 1},  {"FAILED", 1, 0, 1},
        {"KILLED", 1, 0, 1},   {"CANCELLED", 1, 0, 1}, {"QUEUED", 0, 0, 1},   {"RETRYING", 0, 0, 1},
        {"RETRIED", 1, 0, 1},  {"SKIPPED", 1, 0, 1},   {"success", 0, 0, 0},  {"", 0, 0, 0},
        {"SUCCESSFUL", 0, 0, 0}, {NULL, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *s = cases[i].s;
        if (!!kt_state_is_terminated(s) != cases[i].terminated || !!kt_state_is_running(s) != cases[i].running ||
            !!kt_state_is_valid(s) != cases[i].valid)
            fail_msg("state %s: terminated %d running %d valid %d", s ? s : "(null)", kt_state_is_terminated(s),
                     kt_state_is_running(s), kt_state_is_valid(s));
    }
}

static void test_state_new_and_set(void **state)
{
    (void)state;
    json_t *st = kt_state_new("CREATED", T0);
    json_t *want = parse("{\"current\":\"CREATED\",\"histories\":[{\"state\":\"CREATED\",\"date\":\"2023-11-14T22:13:20Z\"}]}");
    assert_true(json_equal(st, want));
    json_decref(want);
    kt_state_set(st, "RUNNING", T0 + 1234);
    kt_state_set(st, "RUNNING", T0 + 5 * SEC); /* withState(current): no new entry */
    kt_state_set(st, "SUCCESS", T0 + 2 * SEC + 500000);
    want = parse("{\"current\":\"SUCCESS\",\"histories\":[{\"state\":\"CREATED\",\"date\":\"2023-11-14T22:13:20Z\"},"
                 "{\"state\":\"RUNNING\",\"date\":\"2023-11-14T22:13:20.001Z\"},"  /* milliseconds, as Kestra stores them */
                 "{\"state\":\"SUCCESS\",\"date\":\"2023-11-14T22:13:22.500Z\"}]}");
    assert_true(json_equal(st, want));
    json_decref(want);
    json_t *holder = json_pack("{s:O}", "state", st);
    assert_string_equal(kt_state_current(holder), "SUCCESS");
    assert_null(kt_state_current(json_object_get(holder, "nothing")));
    json_decref(holder);
    json_decref(st);
}

static void test_execution_new(void **state)
{
    (void)state;
    json_t *flow_labels = parse("[{\"key\":\"team\",\"value\":\"data\"},{\"key\":\"system.readOnly\",\"value\":\"true\"},"
                                "{\"key\":\"systematic\",\"value\":\"x\"}]");
    json_t *labels = parse("[{\"key\":\"env\",\"value\":\"prod\"}]");
    json_t *inputs = parse("{\"user\":\"Ada\",\"n\":3}");
    json_t *ex = kt_execution_new("ex42", "company.team", "hello", 7, inputs, flow_labels, labels, T0);
    json_t *want = parse(
        "{\"id\":\"ex42\",\"namespace\":\"company.team\",\"flowId\":\"hello\",\"flowRevision\":7,"
        "\"inputs\":{\"user\":\"Ada\",\"n\":3},"
        "\"labels\":[{\"key\":\"team\",\"value\":\"data\"},{\"key\":\"systematic\",\"value\":\"x\"},"
        "{\"key\":\"env\",\"value\":\"prod\"},{\"key\":\"system.correlationId\",\"value\":\"ex42\"}],"
        "\"state\":{\"current\":\"CREATED\",\"histories\":[{\"state\":\"CREATED\",\"date\":\"2023-11-14T22:13:20Z\"}]},"
        "\"originalId\":\"ex42\",\"deleted\":false,"
        "\"metadata\":{\"attemptNumber\":1,\"originalCreatedDate\":\"2023-11-14T22:13:20Z\"}}");
    if (!json_equal(ex, want)) {
        char *got = json_dumps(ex, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("kt_execution_new: %s", got);
    }
    /* the caller keeps its references */
    assert_int_equal(inputs->refcount, 2);
    json_decref(ex);
    assert_int_equal(inputs->refcount, 1);
    json_decref(want);
    json_decref(inputs);
    json_decref(labels);
    json_decref(flow_labels);
}

static void test_execution_new_variants(void **state)
{
    (void)state;
    /* empty inputs are omitted; no labels at all still gives system.correlationId */
    json_t *empty = json_object();
    json_t *ex = kt_execution_new("e1", "ns", "f", 1, empty, NULL, NULL, T0);
    assert_null(json_object_get(ex, "inputs"));
    assert_null(json_object_get(ex, "taskRunList"));
    json_t *want = parse("[{\"key\":\"system.correlationId\",\"value\":\"e1\"}]");
    assert_true(json_equal(json_object_get(ex, "labels"), want));
    json_decref(want);
    json_decref(ex);
    ex = kt_execution_new("e1b", "ns", "f", 1, NULL, NULL, NULL, T0);
    assert_null(json_object_get(ex, "inputs"));
    json_decref(ex);
    json_decref(empty);

    /* a given system.correlationId is kept and not appended again (a subflow inherits its parent's) */
    json_t *labels = parse("[{\"key\":\"system.correlationId\",\"value\":\"parent\"},{\"key\":\"a\",\"value\":\"b\"}]");
    ex = kt_execution_new("e2", "ns", "f", 1, NULL, NULL, labels, T0);
    assert_true(json_equal(json_object_get(ex, "labels"), labels));
    json_decref(ex);
    json_decref(labels);

    /* flow labels in map form; system.* ones are dropped, even system.correlationId */
    json_t *fl = parse("{\"team\":\"data\",\"system.correlationId\":\"nope\",\"level\":3}");
    ex = kt_execution_new("e3", "ns", "f", 1, NULL, fl, NULL, T0);
    want = parse("[{\"key\":\"team\",\"value\":\"data\"},{\"key\":\"level\",\"value\":\"3\"},"
                 "{\"key\":\"system.correlationId\",\"value\":\"e3\"}]");
    if (!json_equal(json_object_get(ex, "labels"), want)) {
        char *got = json_dumps(json_object_get(ex, "labels"), JSON_COMPACT);
        fail_msg("labels %s", got);
    }
    assert_string_equal(json_string_value(json_object_get(ex, "originalId")), "e3");
    assert_true(json_is_false(json_object_get(ex, "deleted")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ex, "metadata"), "attemptNumber")), 1);
    json_decref(want);
    json_decref(ex);
    json_decref(fl);
}

static void test_labels_normalize(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want, *err_prefix;
    } cases[] = {
        {"[]", "[]", NULL},
        {"null", "[]", NULL},
        {"[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"b\",\"value\":\"2\"}]",
         "[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"b\",\"value\":\"2\"}]", NULL},
        /* extra fields of a list entry are dropped */
        {"[{\"key\":\"a\",\"value\":\"1\",\"x\":true}]", "[{\"key\":\"a\",\"value\":\"1\"}]", NULL},
        {"{}", "[]", NULL},
        {"{\"a\":\"x\",\"n\":42,\"r\":1.5,\"t\":true,\"f\":false,\"neg\":-3}",
         "[{\"key\":\"a\",\"value\":\"x\"},{\"key\":\"n\",\"value\":\"42\"},{\"key\":\"r\",\"value\":\"1.5\"},"
         "{\"key\":\"t\",\"value\":\"true\"},{\"key\":\"f\",\"value\":\"false\"},{\"key\":\"neg\",\"value\":\"-3\"}]",
         NULL},
        {"{\"a\":\"x\",\"bad\":{\"x\":1}}", NULL, "Unsupported type for key: bad, value: "},
        {"{\"lst\":[1,2]}", NULL, "Unsupported type for key: lst, value: "},
        {"{\"nul\":null}", NULL, "Unsupported type for key: nul, value: "},
        {"[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"b\"}]", NULL, "labels[1]"},
        {"[{\"key\":\"a\",\"value\":2}]", NULL, "labels[0]"},
        {"[\"a\"]", NULL, "labels[0]"},
        {"\"a=b\"", NULL, "labels must be"},
        {"7", NULL, "labels must be"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *in = parse(cases[i].in);
        char err[256] = "";
        json_t *out = kt_labels_normalize(in, err, sizeof err);
        if (cases[i].want) {
            json_t *want = parse(cases[i].want);
            if (!out || !json_equal(out, want)) {
                char *got = out ? json_dumps(out, JSON_COMPACT) : NULL;
                fail_msg("case %zu %s: got %s (err %s)", i, cases[i].in, got ? got : "NULL", err);
            }
            json_decref(want);
        } else {
            if (out)
                fail_msg("case %zu %s: accepted", i, cases[i].in);
            if (strncmp(err, cases[i].err_prefix, strlen(cases[i].err_prefix)))
                fail_msg("case %zu %s: err '%s', want prefix '%s'", i, cases[i].in, err, cases[i].err_prefix);
        }
        json_decref(out);
        json_decref(in);
    }
    /* NULL is an empty list */
    char err[8];
    json_t *out = kt_labels_normalize(NULL, err, sizeof err);
    assert_true(json_is_array(out));
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
}

static void test_taskrun_add_find(void **state)
{
    (void)state;
    json_t *ex = new_exec();
    assert_null(kt_taskrun_find(ex, "a"));
    json_t *a = kt_taskrun_add(ex, "a", "t1", NULL, NULL, T0);
    json_t *b = kt_taskrun_add(ex, "b", "child", "a", "v1", T0 + SEC);
    json_t *c = kt_taskrun_add(ex, "c", "child", "a", "v2", T0 + 2 * SEC);
    assert_int_equal(nruns(ex), 3);
    assert_ptr_equal(taskrun_at(ex, 0), a);
    json_t *want = parse("{\"id\":\"b\",\"executionId\":\"ex1\",\"namespace\":\"company.team\",\"flowId\":\"flow\","
                         "\"taskId\":\"child\",\"parentTaskRunId\":\"a\",\"value\":\"v1\",\"outputs\":null,"
                         "\"state\":{\"current\":\"CREATED\",\"histories\":[{\"state\":\"CREATED\","
                         "\"date\":\"2023-11-14T22:13:21Z\"}]}}");
    assert_true(json_equal(b, want));
    json_decref(want);
    assert_null(json_object_get(a, "parentTaskRunId"));
    assert_null(json_object_get(a, "value"));
    assert_null(json_object_get(a, "attempts"));
    assert_int_equal(kt_taskrun_attempts(a), 0);

    static const char *const ids[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++) {
        size_t idx = 99;
        json_t *tr = kt_taskrun_find_at(ex, ids[i], &idx);
        assert_ptr_equal(tr, taskrun_at(ex, i));
        assert_int_equal(idx, i);
        assert_ptr_equal(kt_taskrun_find(ex, ids[i]), tr);
    }
    assert_ptr_equal(kt_taskrun_find(ex, "c"), c);
    size_t idx = 99;
    assert_null(kt_taskrun_find_at(ex, "zz", &idx));
    assert_int_equal(idx, 99);
    assert_null(kt_taskrun_find(ex, ""));
    json_decref(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_present_table),
        cmocka_unit_test(test_state_present_recomputes),
        cmocka_unit_test(test_state_predicates),
        cmocka_unit_test(test_state_new_and_set),
        cmocka_unit_test(test_execution_new),
        cmocka_unit_test(test_execution_new_variants),
        cmocka_unit_test(test_labels_normalize),
        cmocka_unit_test(test_taskrun_add_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
