/* The PostgreSQL store's executions, notices and windows (store/pg_exec.c): the assertions of
 * test_store_executions.c and test_store_triggers.c's windows on PostgreSQL (round trip and indexed columns, runs
 * written in part, twice, in several statements, the trim of a put of all runs, rejected documents, unfinished in
 * creation order, transactions), and an execution read back from a text-format result. Skips (77) when the fixture
 * said PostgreSQL is not there. */
#include "pg_fixture.h"
#include "store/pg_int.h"

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

static void test_execution_roundtrip(void **state)
{
    pgfix *f = *state;
    json_t *ex = parse(exec_json);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_t *got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);
    /* the indexed columns */
    assert_int_equal(pg_int(f, "SELECT count(*) FROM executions WHERE id='ex1' AND namespace='company.team' AND "
                               "flow_id='hello' AND state='RUNNING' AND terminal=0 AND end_us IS NULL AND "
                               "start_us=1704067200000000 AND labels='[{\"key\":\"system.correlationId\","
                               "\"value\":\"ex1\"}]'"),
                     1);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM taskruns WHERE execution_id='ex1'"), 3);
    pg_reopen(f);
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
    assert_int_equal(pg_int(f, "SELECT end_us FROM executions WHERE id='ex1' AND terminal=1"), 1704067203000000LL);
    json_decref(ex);
}

/* kt_pg_exec_row reads a text-format result too (a caller that used kt_pg_query): the bytea is unescaped. */
static void test_exec_row_from_text_result(void **state)
{
    pgfix *f = *state;
    json_t *ex = parse(exec_json);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    PGresult *res = PQexec(f->side, "SELECT body, id FROM executions");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQfformat(res, 0), 0);
    json_t *got = NULL;
    assert_int_equal(kt_pg_exec_row(f->s, res, 0, &got), KT_OK);
    assert_json_equal(got, ex);
    json_decref(got);
    PQclear(res);
    json_decref(ex);
}

static void test_execution_partial_put(void **state)
{
    pgfix *f = *state;
    json_t *ex = parse(exec_json);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_t *stored = json_deep_copy(ex);

    set_run_state(ex, 1, "SUCCESS");
    json_object_set_new(json_array_get(json_object_get(ex, "taskRunList"), 1), "outputs", parse("{\"x\":5}"));
    set_run_state(ex, 2, "FAILED");
    json_object_set_new(json_object_get(ex, "state"), "current", json_string("PAUSED"));
    json_object_set_new(ex, "flowRevision", json_integer(4));
    size_t runs1[] = {1};
    assert_int_equal(kt_store_execution_put(f->s, ex, runs1, 1), KT_OK);
    json_t *got = get_exec(f->s, "ex1");
    json_t *want = json_deep_copy(ex);
    json_array_set(json_object_get(want, "taskRunList"), 2, json_array_get(json_object_get(stored, "taskRunList"), 2));
    assert_json_equal(got, want);
    assert_string_equal(stored_run_state(got, 1), "SUCCESS");
    assert_string_equal(stored_run_state(got, 2), "CREATED");
    json_decref(got);
    json_decref(want);

    /* run 2 listed twice, with run 0: written once, the stored document equals the one in memory */
    size_t runs202[] = {2, 0, 2};
    assert_int_equal(kt_store_execution_put(f->s, ex, runs202, 3), KT_OK);
    got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);

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

    size_t bad[] = {0, 4};
    assert_int_equal(kt_store_execution_put(f->s, ex, bad, 2), KT_EINVAL);
    got = get_exec(f->s, "ex1"); /* refused before anything was written */
    assert_string_equal(stored_run_state(got, 3), "RUNNING");
    json_decref(got);
    json_decref(stored);
    json_decref(ex);
}

static void test_execution_without_runs(void **state)
{
    pgfix *f = *state;
    json_t *ex = parse("{\"id\":\"e0\",\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":{\"current\":\"CREATED\"},"
                       "\"deleted\":false}");
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_t *got = get_exec(f->s, "e0");
    assert_null(json_object_get(got, "taskRunList"));
    assert_json_equal(got, ex);
    json_decref(got);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM executions WHERE labels='[]' AND start_us=0"), 1);
    json_object_set_new(ex, "taskRunList",
                        parse("[{\"id\":\"r0\",\"taskId\":\"t\",\"state\":{\"current\":\"RUNNING\"}}]"));
    size_t r0[] = {0};
    assert_int_equal(kt_store_execution_put(f->s, ex, r0, 1), KT_OK);
    got = get_exec(f->s, "e0");
    assert_json_equal(got, ex);
    json_decref(got);
    json_decref(ex);
}

static void test_execution_put_all_replaces_runs(void **state)
{
    pgfix *f = *state;
    json_t *ex = parse(exec_json);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_array_remove(json_object_get(ex, "taskRunList"), 2);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_t *got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM taskruns"), 2);
    /* down to none: the rows go, the document comes back with an empty list as written */
    json_object_set_new(ex, "taskRunList", json_array());
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM taskruns"), 0);
    got = get_exec(f->s, "ex1");
    assert_null(json_object_get(got, "taskRunList")); /* as SQLite: no rows, no key */
    json_decref(got);
    json_decref(ex);
}

/* More runs than one INSERT carries (KT_PGX_RUNS_PER_STMT), in order, then a few of them rewritten. */
static void test_execution_many_runs(void **state)
{
    pgfix *f = *state;
    json_t *ex = json_pack("{s:s, s:s, s:s, s:{s:s}, s:[]}", "id", "big", "namespace", "ns", "flowId", "f", "state",
                           "current", "RUNNING", "taskRunList");
    json_t *list = json_object_get(ex, "taskRunList");
    for (int i = 0; i < 700; i++)
        json_array_append_new(list, json_pack("{s:s+, s:i, s:{s:s}}", "id", "r", i ? "x" : "", "n", i, "state",
                                              "current", "RUNNING"));
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM taskruns"), 700);
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
    pgfix *f = *state;
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
    assert_int_equal(pg_int(f, "SELECT count(*) FROM executions"), 0);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM taskruns"), 0);
}

static json_t *mini_exec(const char *id, const char *state)
{
    return json_pack("{s:s, s:s, s:s, s:{s:s}, s:[{s:s, s:{s:s}}]}", "id", id, "namespace", "ns", "flowId", "f",
                     "state", "current", state, "taskRunList", "id", "r", "state", "current", state);
}

static void check_unfinished(kt_store *s, const char *want)
{
    json_t *arr = NULL;
    assert_int_equal(kt_store_executions_unfinished(s, &arr), KT_OK);
    char got[256] = "";
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        strcat(got, json_string_value(json_object_get(e, "id")));
        strcat(got, " ");
        assert_string_equal(stored_run_state(e, 0),
                            json_string_value(json_object_get(json_object_get(e, "state"), "current")));
    }
    if (strcmp(got, want))
        fail_msg("unfinished: [%s], want [%s]", got, want);
    json_decref(arr);
}

static void test_executions_unfinished(void **state)
{
    pgfix *f = *state;
    check_unfinished(f->s, "");
    static const char *const rows[][2] = {
        {"e1", "RUNNING"},  {"e2", "SUCCESS"}, {"e3", "CREATED"},    {"e4", "FAILED"},    {"e5", "PAUSED"},
        {"e6", "WARNING"},  {"e7", "KILLED"},  {"e8", "KILLING"},    {"e9", "QUEUED"},    {"e10", "CANCELLED"},
        {"e11", "SKIPPED"}, {"e12", "RETRIED"}, {"e13", "RETRYING"}, {"e14", "RESTARTED"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        json_t *ex = mini_exec(rows[i][0], rows[i][1]);
        assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
        json_decref(ex);
    }
    check_unfinished(f->s, "e1 e3 e5 e8 e9 e13 e14 ");
    /* an update keeps the creation position; a terminated one running again comes back at its own */
    static const char *const later[][2] = {{"e1", "KILLING"}, {"e3", "SUCCESS"}, {"e2", "RESTARTED"}};
    for (size_t i = 0; i < 3; i++) {
        json_t *ex = mini_exec(later[i][0], later[i][1]);
        assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
        json_decref(ex);
    }
    check_unfinished(f->s, "e1 e2 e5 e8 e9 e13 e14 ");
    pg_reopen(f);
    check_unfinished(f->s, "e1 e2 e5 e8 e9 e13 e14 ");
}

static void test_transactions(void **state)
{
    pgfix *f = *state;
    json_t *ex = parse(exec_json);
    int rev, changed;
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_flow_save(f->s, "ns", "f", "src", &rev, &changed), KT_OK);
    assert_int_equal(kt_store_notice_add(f->s, "ex1", "SUCCESS"), KT_OK);
    json_t *got = get_exec(f->s, "ex1"); /* visible inside */
    json_decref(got);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM executions"), 0); /* not outside */
    kt_store_rollback(f->s);
    json_t *none = NULL;
    assert_int_equal(kt_store_execution_get(f->s, "ex1", &none), KT_ENOTFOUND);
    check_flow(f->s, "ns", "f", 0, KT_ENOTFOUND, 0, 0, NULL);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM taskruns"), 0);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM notices"), 0);

    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_flow_save(f->s, "ns", "f", "src", &rev, &changed), KT_OK);
    assert_int_equal(rev, 1);
    assert_int_equal(kt_store_commit(f->s), KT_OK);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM executions WHERE id='ex1'"), 1); /* another session sees it */
    pg_reopen(f);
    got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);

    /* a rolled-back update keeps the committed version */
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
    json_decref(ex2);
    json_decref(ex);
}

/* ---- notices and windows --------------------------------------------------------------------------- */

static void test_notices(void **state)
{
    pgfix *f = *state;
    json_t *got;
    assert_int_equal(kt_store_notices(f->s, &got), KT_OK);
    assert_int_equal(json_array_size(got), 0);
    json_decref(got);
    static const char *const adds[][2] = {{"e2", "SUCCESS"}, {"e1", "RUNNING"}, {"e1", "SUCCESS"}, {"e2", "SUCCESS"}};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(kt_store_notice_add(f->s, adds[i][0], adds[i][1]), KT_OK);
    assert_int_equal(kt_store_notices(f->s, &got), KT_OK);
    json_t *want = parse("[{\"executionId\":\"e2\",\"state\":\"SUCCESS\"},{\"executionId\":\"e1\",\"state\":\"RUNNING\"},"
                         "{\"executionId\":\"e1\",\"state\":\"SUCCESS\"},{\"executionId\":\"e2\",\"state\":\"SUCCESS\"}]");
    assert_json_equal(got, want);
    json_decref(got);
    json_decref(want);
    /* done deletes every notice of that execution and state, the others stay in order */
    assert_int_equal(kt_store_notice_done(f->s, "e2", "SUCCESS"), KT_OK);
    assert_int_equal(kt_store_notice_done(f->s, "e9", "SUCCESS"), KT_OK); /* none: fine */
    pg_reopen(f);
    assert_int_equal(kt_store_notices(f->s, &got), KT_OK);
    want = parse("[{\"executionId\":\"e1\",\"state\":\"RUNNING\"},{\"executionId\":\"e1\",\"state\":\"SUCCESS\"}]");
    assert_json_equal(got, want);
    json_decref(got);
    json_decref(want);
    /* take: the first one takes it, a second finds it gone */
    int taken = -1;
    assert_int_equal(kt_store_notice_take(f->s, "e1", "RUNNING", &taken), KT_OK);
    assert_int_equal(taken, 1);
    assert_int_equal(kt_store_notice_take(f->s, "e1", "RUNNING", &taken), KT_OK);
    assert_int_equal(taken, 0);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM notices WHERE execution_id='e1' AND state='SUCCESS'"), 1);
}

static json_t *window(const char *flow, const char *cond, const char *end)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:b}}", "namespace", "a", "flowId", flow, "conditionId", cond,
                     "start", "2024-01-01T00:00:00Z", "end", end, "results", "upstream", 1);
}

static void test_windows(void **state)
{
    pgfix *f = *state;
    json_t *w1 = window("f", "c1", "2024-01-01T01:00:00Z"), *w2 = window("f", "c2", "2024-01-01T03:00:00+01:00");
    json_t *w3 = window("g", "c1", "2024-01-01T05:00:00Z");
    assert_int_equal(kt_store_window_put(f->s, w1), KT_OK);
    assert_int_equal(kt_store_window_put(f->s, w2), KT_OK);
    assert_int_equal(kt_store_window_put(f->s, w3), KT_OK);
    json_t *got;
    assert_int_equal(kt_store_window_get(f->s, "a", "f", "c2", &got), KT_OK);
    assert_json_equal(got, w2);
    json_decref(got);
    assert_int_equal(pg_int(f, "SELECT end_us FROM windows WHERE condition_id='c2'"), 1704074400000000LL);
    json_object_set_new(json_object_get(w1, "results"), "other", json_true());
    assert_int_equal(kt_store_window_put(f->s, w1), KT_OK);
    assert_int_equal(kt_store_window_get(f->s, "a", "f", "c1", &got), KT_OK);
    assert_json_equal(got, w1);
    json_decref(got);
    int64_t now;
    assert_int_equal(kt_time_parse("2024-01-01T02:00:00Z", &now), 0);
    assert_int_equal(kt_store_windows_expire(f->s, now), KT_OK);
    assert_int_equal(kt_store_window_get(f->s, "a", "f", "c1", &got), KT_ENOTFOUND);
    assert_int_equal(kt_store_window_get(f->s, "a", "f", "c2", &got), KT_OK);
    json_decref(got);
    assert_int_equal(kt_store_window_delete(f->s, "a", "f", "c2"), KT_OK);
    assert_int_equal(kt_store_window_get(f->s, "a", "f", "c2", &got), KT_ENOTFOUND);
    assert_int_equal(kt_store_window_get(f->s, "a", "g", "c1", &got), KT_OK);
    json_decref(got);
    json_object_set_new(w3, "end", json_string("soon"));
    assert_int_equal(kt_store_window_put(f->s, w3), KT_EINVAL);
    json_object_set_new(w3, "end", json_string("2024-01-01T05:00:00Z"));
    json_object_set_new(w3, "conditionId", json_string(""));
    assert_int_equal(kt_store_window_put(f->s, w3), KT_EINVAL);

    /* inside a rolled back transaction: nothing */
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_window_put(f->s, w2), KT_OK);
    kt_store_rollback(f->s);
    assert_int_equal(kt_store_window_get(f->s, "a", "f", "c2", &got), KT_ENOTFOUND);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM windows"), 1);
    json_decref(w1);
    json_decref(w2);
    json_decref(w3);
}

int main(void)
{
    int rc = kt_test_pg_url(g_url, sizeof g_url);
    if (rc != 0)
        return rc;
    kt_log_set_level(KT_LOG_ERROR);
#define T(fn) cmocka_unit_test_setup_teardown(fn, pg_setup, pg_teardown)
    const struct CMUnitTest tests[] = {
        T(test_execution_roundtrip),
        T(test_exec_row_from_text_result),
        T(test_execution_partial_put),
        T(test_execution_without_runs),
        T(test_execution_put_all_replaces_runs),
        T(test_execution_many_runs),
        T(test_execution_put_rejects),
        T(test_executions_unfinished),
        T(test_transactions),
        T(test_notices),
        T(test_windows),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
