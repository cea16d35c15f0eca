/* The repository's executions (both backends): round trips and the indexed columns, per-run writes (in part,
 * twice, in several statements), replacing the runs, rejected documents, unfinished executions, and transactions. */
#include "store_fixture.h"

/* ---- executions ---------------------------------------------------------------------------------- */

static const char *const exec_json =
    "{\"id\":\"ex1\",\"namespace\":\"company.team\",\"flowId\":\"hello\",\"flowRevision\":3,"
    "\"inputs\":{\"user\":\"Ada\",\"n\":42,\"ratio\":1.5,\"neg\":-7,\"big\":9007199254740993,\"flag\":true,"
    "\"none\":null,\"list\":[1,\"two\",[],{}],\"uni\":\"h\\u00e9llo \\u2713\",\"empty\":\"\"},"
    "\"labels\":[{\"key\":\"system.correlationId\",\"value\":\"ex1\"}],"
    "\"state\":{\"current\":\"RUNNING\",\"histories\":[{\"state\":\"CREATED\",\"date\":\"2024-01-01T00:00:00Z\"},"
    "{\"state\":\"RUNNING\",\"date\":\"2024-01-01T00:00:01.5Z\"}]},"
    "\"taskRunList\":["
    "{\"id\":\"r0\",\"taskId\":\"t0\",\"outputs\":{\"v\":1},\"state\":{\"current\":\"SUCCESS\"},"
    "\"attempts\":[{\"state\":{\"current\":\"SUCCESS\"}}]},"
    "{\"id\":\"r1\",\"taskId\":\"t1\",\"outputs\":null,\"state\":{\"current\":\"RUNNING\"}},"
    "{\"id\":\"r2\",\"taskId\":\"t2\",\"parentTaskRunId\":\"r1\",\"value\":\"a\",\"outputs\":null,"
    "\"state\":{\"current\":\"CREATED\"}}],"
    "\"originalId\":\"ex1\",\"deleted\":false,\"metadata\":{\"attemptNumber\":1}}";

static json_t *get_exec(kt_store *s, const char *id)
{
    json_t *out = NULL;
    kt_status st = kt_store_execution_get(s, id, &out);
    if (st)
        fail_msg("execution_get(%s): %d", id, st);
    return out;
}

static void test_execution_roundtrip(void **state)
{
    fixture *f = *state;
    json_t *ex = parse(exec_json);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_t *got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    /* taskRunList order is kept */
    const char *const order[] = {"r0", "r1", "r2"};
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(got, "taskRunList"), i),
                                                              "id")),
                            order[i]);
    json_decref(got);
    /* the indexed columns */
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM executions WHERE id='ex1' AND namespace='company.team' AND "
                                      "flow_id='hello' AND state='RUNNING' AND terminal=0 AND end_us IS NULL AND "
                                      "start_us=1704067200000000 AND labels='[{\"key\":\"system.correlationId\","
                                      "\"value\":\"ex1\"}]'"),
                     1);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM taskruns WHERE execution_id='ex1'"), 3);
    /* again after a reopen */
    reopen(f);
    got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);
    json_t *none = (json_t *)0x1;
    assert_int_equal(kt_store_execution_get(f->s, "nope", &none), KT_ENOTFOUND);

    /* terminal: end_us is the last history's date */
    json_object_set_new(json_object_get(ex, "state"), "current", json_string("SUCCESS"));
    json_array_append_new(json_object_get(json_object_get(ex, "state"), "histories"),
                          parse("{\"state\":\"SUCCESS\",\"date\":\"2024-01-01T00:00:03Z\"}"));
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    assert_int_equal(sql_int(f->data, "SELECT end_us FROM executions WHERE id='ex1' AND terminal=1"),
                     1704067203000000LL);
    json_decref(ex);
}

static void set_run_state(json_t *ex, size_t i, const char *s)
{
    json_t *tr = json_array_get(json_object_get(ex, "taskRunList"), i);
    assert_non_null(tr);
    json_object_set_new(json_object_get(tr, "state"), "current", json_string(s));
}

static const char *stored_run_state(const json_t *ex, size_t i)
{
    return json_string_value(
        json_object_get(json_object_get(json_array_get(json_object_get(ex, "taskRunList"), i), "state"), "current"));
}


static void test_execution_partial_put(void **state)
{
    fixture *f = *state;
    json_t *ex = parse(exec_json);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_t *stored = json_deep_copy(ex);

    /* run 1 ends and is listed; run 2 changes in memory but is NOT listed; the header changes too */
    set_run_state(ex, 1, "SUCCESS");
    json_object_set_new(json_array_get(json_object_get(ex, "taskRunList"), 1), "outputs", parse("{\"x\":5}"));
    set_run_state(ex, 2, "FAILED");
    json_object_set_new(json_object_get(ex, "state"), "current", json_string("PAUSED"));
    json_object_set_new(ex, "flowRevision", json_integer(4));
    size_t runs1[] = {1};
    assert_int_equal(kt_store_execution_put(f->s, ex, runs1, 1), KT_OK);
    json_t *got = get_exec(f->s, "ex1");
    /* what we expect: the new header, the new run 1, the OLD run 2 (and run 0 as it was) */
    json_t *want = json_deep_copy(ex);
    json_array_set(json_object_get(want, "taskRunList"), 2, json_array_get(json_object_get(stored, "taskRunList"), 2));
    assert_json_equal(got, want);
    assert_string_equal(stored_run_state(got, 1), "SUCCESS");
    assert_string_equal(stored_run_state(got, 2), "CREATED");
    json_decref(got);
    json_decref(want);

    /* now list run 2 (with run 0, unchanged): the stored document equals the one in memory */
    size_t runs02[] = {2, 0};
    assert_int_equal(kt_store_execution_put(f->s, ex, runs02, 2), KT_OK);
    got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);
    /* a run listed twice is written once */
    size_t runs202[] = {2, 0, 2};
    assert_int_equal(kt_store_execution_put(f->s, ex, runs202, 3), KT_OK);
    got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);

    /* a new run appended and written alone lands at the end, in order */
    json_array_append_new(json_object_get(ex, "taskRunList"),
                          parse("{\"id\":\"r3\",\"taskId\":\"t3\",\"outputs\":null,\"state\":{\"current\":\"RUNNING\"}}"));
    size_t runs3[] = {3};
    assert_int_equal(kt_store_execution_put(f->s, ex, runs3, 1), KT_OK);
    got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);

    /* nruns 0 with a non-NULL list writes the header only */
    json_object_set_new(json_object_get(ex, "state"), "current", json_string("RUNNING"));
    set_run_state(ex, 3, "SUCCESS");
    assert_int_equal(kt_store_execution_put(f->s, ex, runs3, 0), KT_OK);
    got = get_exec(f->s, "ex1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(got, "state"), "current")), "RUNNING");
    assert_string_equal(stored_run_state(got, 3), "RUNNING");
    json_decref(got);

    /* a position outside taskRunList is refused, before anything of the put is written */
    size_t bad[] = {4};
    assert_int_equal(kt_store_execution_put(f->s, ex, bad, 1), KT_EINVAL);
    size_t bad_after_good[] = {0, 4};
    assert_int_equal(kt_store_execution_put(f->s, ex, bad_after_good, 2), KT_EINVAL);
    got = get_exec(f->s, "ex1");
    assert_string_equal(stored_run_state(got, 3), "RUNNING");
    json_decref(got);
    json_decref(stored);
    json_decref(ex);
}

/* Kestra: taskRunList is null until the first task run; such an execution comes back without the key. */
static void test_execution_without_runs(void **state)
{
    fixture *f = *state;
    json_t *ex = parse("{\"id\":\"e0\",\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":{\"current\":\"CREATED\"},"
                       "\"deleted\":false}");
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_t *got = get_exec(f->s, "e0");
    assert_null(json_object_get(got, "taskRunList"));
    assert_json_equal(got, ex);
    json_decref(got);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM executions WHERE labels='[]' AND start_us=0"), 1);
    /* its first run arrives */
    json_object_set_new(ex, "taskRunList",
                        parse("[{\"id\":\"r0\",\"taskId\":\"t\",\"state\":{\"current\":\"RUNNING\"}}]"));
    size_t r0[] = {0};
    assert_int_equal(kt_store_execution_put(f->s, ex, r0, 1), KT_OK);
    got = get_exec(f->s, "e0");
    assert_json_equal(got, ex);
    json_decref(got);
    json_decref(ex);
}

/* put with runs NULL writes "all of them": the stored execution must then be exactly the one given, also when
 * it has fewer task runs than the stored one. */
static void test_execution_put_all_replaces_runs(void **state)
{
    fixture *f = *state;
    json_t *ex = parse(exec_json);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_array_remove(json_object_get(ex, "taskRunList"), 2);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_t *got = get_exec(f->s, "ex1");
    int same = json_equal(got, ex);
    size_t n = json_array_size(json_object_get(got, "taskRunList"));
    json_decref(got);
    if (!same)
        fail_msg("(kt_store_execution_put): put with runs=NULL of an execution with 2 task runs over a stored one "
                 "with 3 leaves the stale third run: get returns %zu runs", n);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM taskruns"), 2);
    /* down to none: the rows go, the document comes back without the key (no rows, no list) */
    json_object_set_new(ex, "taskRunList", json_array());
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM taskruns"), 0);
    got = get_exec(f->s, "ex1");
    assert_null(json_object_get(got, "taskRunList"));
    json_decref(got);
    json_decref(ex);
}

/* More runs than one statement carries (PostgreSQL's KT_PGX_RUNS_PER_STMT), in order, then many of them rewritten. */
static void test_execution_many_runs(void **state)
{
    fixture *f = *state;
    json_t *ex = json_pack("{s:s, s:s, s:s, s:{s:s}, s:[]}", "id", "big", "namespace", "ns", "flowId", "f", "state",
                           "current", "RUNNING", "taskRunList");
    json_t *list = json_object_get(ex, "taskRunList");
    for (int i = 0; i < 700; i++)
        json_array_append_new(list, json_pack("{s:s+, s:i, s:{s:s}}", "id", "r", i ? "x" : "", "n", i, "state",
                                              "current", "RUNNING"));
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM taskruns"), 700);
    json_t *got = get_exec(f->s, "big");
    assert_json_equal(got, ex);
    json_decref(got);
    size_t runs[600];
    for (size_t i = 0; i < 600; i++) {
        runs[i] = (i * 7) % 700;
        set_run_state(ex, runs[i], "SUCCESS");
    }
    assert_int_equal(kt_store_execution_put(f->s, ex, runs, 600), KT_OK);
    got = get_exec(f->s, "big");
    assert_json_equal(got, ex);
    json_decref(got);
    json_decref(ex);
}

static void test_execution_put_rejects(void **state)
{
    fixture *f = *state;
    static const char *const bad[] = {
        "{\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":{\"current\":\"RUNNING\"}}",
        "{\"id\":\"b1\",\"flowId\":\"f\",\"state\":{\"current\":\"RUNNING\"}}",
        "{\"id\":\"b1\",\"namespace\":\"ns\",\"state\":{\"current\":\"RUNNING\"}}",
        "{\"id\":\"b1\",\"namespace\":\"ns\",\"flowId\":\"f\"}",
        "{\"id\":\"b1\",\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":{}}",
        "{\"id\":\"b1\",\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":\"RUNNING\"}",
        "{\"id\":\"b1\",\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":{\"current\":1}}",
        "{\"id\":1,\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":{\"current\":\"RUNNING\"}}",
        "{\"id\":\"b1\",\"namespace\":null,\"flowId\":\"f\",\"state\":{\"current\":\"RUNNING\"}}",
        "{\"id\":\"b1\",\"namespace\":\"ns\",\"flowId\":[],\"state\":{\"current\":\"RUNNING\"}}",
        "[]",
        "\"ex\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *ex = parse(bad[i]);
        kt_status st = kt_store_execution_put(f->s, ex, NULL, 0);
        if (st != KT_EINVAL)
            fail_msg("put %s: %d, want KT_EINVAL", bad[i], st);
        json_decref(ex);
    }
    json_t *none = NULL;
    assert_int_equal(kt_store_execution_get(f->s, "b1", &none), KT_ENOTFOUND);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM executions"), 0);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM taskruns"), 0);
}

static json_t *mini_exec(const char *id, const char *state)
{
    return json_pack("{s:s, s:s, s:s, s:{s:s}, s:[{s:s, s:{s:s}}]}", "id", id, "namespace", "ns", "flowId", "f",
                     "state", "current", state, "taskRunList", "id", "r", "state", "current", state);
}

static void check_unfinished(kt_store *s, const char *const *want, size_t n)
{
    json_t *arr = NULL;
    assert_int_equal(kt_store_executions_unfinished(s, &arr), KT_OK);
    assert_true(json_is_array(arr));
    char got[256] = "", exp[256] = "";
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        strcat(got, json_string_value(json_object_get(e, "id")));
        strcat(got, " ");
        /* whole documents, with their task runs */
        assert_non_null(json_object_get(e, "taskRunList"));
        assert_string_equal(stored_run_state(e, 0),
                            json_string_value(json_object_get(json_object_get(e, "state"), "current")));
    }
    for (i = 0; i < n; i++) {
        strcat(exp, want[i]);
        strcat(exp, " ");
    }
    if (strcmp(got, exp))
        fail_msg("unfinished: [%s], want [%s]", got, exp);
    json_decref(arr);
}

static void test_executions_unfinished(void **state)
{
    fixture *f = *state;
    check_unfinished(f->s, NULL, 0);
    static const struct {
        const char *id, *state;
    } rows[] = {
        {"e1", "RUNNING"}, {"e2", "SUCCESS"},   {"e3", "CREATED"}, {"e4", "FAILED"},  {"e5", "PAUSED"},
        {"e6", "WARNING"}, {"e7", "KILLED"},    {"e8", "KILLING"}, {"e9", "QUEUED"},  {"e10", "CANCELLED"},
        {"e11", "SKIPPED"}, {"e12", "RETRIED"}, {"e13", "RETRYING"}, {"e14", "RESTARTED"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        json_t *ex = mini_exec(rows[i].id, rows[i].state);
        assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
        json_decref(ex);
    }
    const char *const want1[] = {"e1", "e3", "e5", "e8", "e9", "e13", "e14"};
    check_unfinished(f->s, want1, 7);

    /* updating keeps the insertion position; terminating removes; a terminated one running again comes back at
     * its original position */
    json_t *ex = mini_exec("e1", "KILLING");
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_decref(ex);
    ex = mini_exec("e3", "SUCCESS");
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_decref(ex);
    ex = mini_exec("e2", "RESTARTED");
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_decref(ex);
    const char *const want2[] = {"e1", "e2", "e5", "e8", "e9", "e13", "e14"};
    check_unfinished(f->s, want2, 7);
    reopen(f);
    check_unfinished(f->s, want2, 7);
}

/* ---- transactions -------------------------------------------------------------------------------- */

static void test_transactions(void **state)
{
    fixture *f = *state;
    json_t *ex = parse(exec_json);
    json_t *entries = parse("[{\"executionId\":\"ex1\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"level\":\"INFO\","
                            "\"message\":\"m\"}]");
    int rev, changed;

    /* rollback leaves nothing */
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_flow_save(f->s, "ns", "f", "src", &rev, &changed), KT_OK);
    assert_int_equal(kt_store_logs_append(f->s, entries), KT_OK);
    assert_int_equal(kt_store_notice_add(f->s, "ex1", "SUCCESS"), KT_OK);
    /* visible inside the transaction, not outside */
    json_t *got = get_exec(f->s, "ex1");
    json_decref(got);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM executions"), 0);
    kt_store_rollback(f->s);
    json_t *none = NULL;
    assert_int_equal(kt_store_execution_get(f->s, "ex1", &none), KT_ENOTFOUND);
    check_flow(f->s, "ns", "f", 0, KT_ENOTFOUND, 0, 0, NULL);
    json_t *logs = NULL;
    assert_int_equal(kt_store_logs_get(f->s, "ex1", NULL, &logs), KT_OK);
    assert_int_equal(json_array_size(logs), 0);
    json_decref(logs);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM taskruns"), 0);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM notices"), 0);

    /* commit persists, across a reopen */
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_flow_save(f->s, "ns", "f", "src", &rev, &changed), KT_OK);
    assert_int_equal(rev, 1);
    assert_int_equal(kt_store_logs_append(f->s, entries), KT_OK);
    assert_int_equal(kt_store_commit(f->s), KT_OK);
    /* another connection sees the commit */
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM executions WHERE id='ex1'"), 1);
    reopen(f);
    got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);
    check_flow(f->s, "ns", "f", 0, KT_OK, 1, 0, "src");
    assert_int_equal(kt_store_logs_get(f->s, "ex1", NULL, &logs), KT_OK);
    assert_int_equal(json_array_size(logs), 1);
    json_decref(logs);

    /* a rolled-back update keeps the committed version; begin works again after rollback and commit */
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    json_t *ex2 = json_deep_copy(ex);
    set_run_state(ex2, 1, "FAILED");
    size_t r1[] = {1};
    assert_int_equal(kt_store_execution_put(f->s, ex2, r1, 1), KT_OK);
    kt_store_rollback(f->s);
    got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);
    kt_store_rollback(f->s); /* harmless without a transaction */
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_commit(f->s), KT_OK);
    json_decref(ex2);
    json_decref(entries);
    json_decref(ex);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    int backend = fixture_backend(); /* 77: PostgreSQL asked for, none there */
    if (backend)
        return backend;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_execution_roundtrip),
        T(test_execution_partial_put),
        T(test_execution_without_runs),
        T(test_execution_put_all_replaces_runs),
        T(test_execution_many_runs),
        T(test_execution_put_rejects),
        T(test_executions_unfinished),
        T(test_transactions),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
