/* The repository's task logs (both backends): appends and the filters (execution, task run, attempt, minimum level),
 * and the level ranks. */
#include "store_fixture.h"

/* ---- logs ---------------------------------------------------------------------------------------- */

/* Appended out of timestamp order; "n" is the expected position in timestamp order (ties: append order). */
static const char *const log_json =
    "["
    "{\"executionId\":\"ex1\",\"taskId\":\"t1\",\"taskRunId\":\"r1\",\"attemptNumber\":0,\"level\":\"INFO\","
    " \"timestamp\":\"2024-01-01T00:00:02Z\",\"message\":\"m2\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t1\",\"taskRunId\":\"r1\",\"attemptNumber\":0,\"level\":\"ERROR\","
    " \"timestamp\":\"2024-01-01T00:00:01Z\",\"message\":\"m1\"},"
    "{\"executionId\":\"ex1\",\"level\":\"TRACE\",\"timestamp\":\"2024-01-01T00:00:00.5Z\",\"message\":\"m0\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t1\",\"taskRunId\":\"r1\",\"attemptNumber\":1,\"level\":\"WARN\","
    " \"timestamp\":\"2024-01-01T00:00:03Z\",\"message\":\"m3\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t2\",\"taskRunId\":\"r2\",\"attemptNumber\":0,\"level\":\"DEBUG\","
    " \"timestamp\":\"2024-01-01T00:00:04Z\",\"message\":\"m4\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t2\",\"taskRunId\":\"r2\",\"attemptNumber\":0,\"level\":\"WARN\","
    " \"timestamp\":\"2024-01-01T00:00:04Z\",\"message\":\"m5\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t2\",\"taskRunId\":\"r2\",\"attemptNumber\":0,\"level\":\"INFO\","
    " \"timestamp\":\"2024-01-01T01:00:05+01:00\",\"message\":\"m6\"},"
    "{\"executionId\":\"ex2\",\"taskId\":\"t1\",\"taskRunId\":\"x1\",\"attemptNumber\":0,\"level\":\"ERROR\","
    " \"timestamp\":\"2024-01-01T00:00:00Z\",\"message\":\"other execution\"},"
    /* not storable: skipped */
    "{\"taskId\":\"t1\",\"level\":\"ERROR\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"message\":\"no execution\"},"
    "{\"executionId\":\"ex1\",\"level\":\"ERROR\",\"message\":\"no timestamp\"},"
    "{\"executionId\":\"ex1\",\"level\":\"ERROR\",\"timestamp\":\"yesterday\",\"message\":\"bad timestamp\"}"
    "]";

static void check_logs(kt_store *s, const char *exec_id, const kt_log_filter *f, const char *want)
{
    json_t *arr = NULL;
    kt_status st = kt_store_logs_get(s, exec_id, f, &arr);
    if (st)
        fail_msg("logs_get: %d", st);
    char got[512] = "";
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        if (i)
            strcat(got, ",");
        strcat(got, json_string_value(json_object_get(e, "message")));
    }
    if (strcmp(got, want))
        fail_msg("logs(min %s task %s run %s attempt %d): [%s], want [%s]", f && f->min_level ? f->min_level : "-",
                 f && f->task_id ? f->task_id : "-", f && f->taskrun_id ? f->taskrun_id : "-", f ? f->attempt : -1,
                 got, want);
    json_decref(arr);
}

static void test_logs(void **state)
{
    fixture *f = *state;
    json_t *entries = parse(log_json);
    assert_int_equal(kt_store_logs_append(f->s, entries), KT_OK);

    /* entries come back whole */
    json_t *arr = NULL;
    kt_log_filter one = {.taskrun_id = "r1", .attempt = 1};
    assert_int_equal(kt_store_logs_get(f->s, "ex1", &one, &arr), KT_OK);
    assert_int_equal(json_array_size(arr), 1);
    assert_json_equal(json_array_get(arr, 0), json_array_get(entries, 3));
    json_decref(arr);

    static const struct {
        kt_log_filter f;
        const char *want;
    } cases[] = {
        {{NULL, NULL, NULL, -1}, "m0,m1,m2,m3,m4,m5,m6"},
        {{"TRACE", NULL, NULL, -1}, "m0,m1,m2,m3,m4,m5,m6"},
        {{"DEBUG", NULL, NULL, -1}, "m1,m2,m3,m4,m5,m6"},
        {{"INFO", NULL, NULL, -1}, "m1,m2,m3,m5,m6"},
        {{"WARN", NULL, NULL, -1}, "m1,m3,m5"},
        {{"warn", NULL, NULL, -1}, "m1,m3,m5"},
        {{"ERROR", NULL, NULL, -1}, "m1"},
        {{NULL, NULL, "t1", -1}, "m1,m2,m3"},
        {{NULL, NULL, "t2", -1}, "m4,m5,m6"},
        {{NULL, NULL, "t9", -1}, ""},
        {{"WARN", NULL, "t2", -1}, "m5"},
        {{NULL, "r1", NULL, -1}, "m1,m2,m3"},
        {{NULL, "r1", NULL, 0}, "m1,m2"},
        {{NULL, "r1", NULL, 1}, "m3"},
        {{NULL, "r1", NULL, 2}, ""},
        {{"ERROR", "r1", NULL, 0}, "m1"},
        {{NULL, "r2", NULL, 0}, "m4,m5,m6"},
        /* Kestra: taskId wins over taskRunId; attempt applies only with taskRunId */
        {{NULL, "r2", "t1", -1}, "m1,m2,m3"},
        {{NULL, "r1", "t1", 1}, "m1,m2,m3"},
        {{NULL, NULL, NULL, 0}, "m0,m1,m2,m3,m4,m5,m6"},
    };
    check_logs(f->s, "ex1", NULL, "m0,m1,m2,m3,m4,m5,m6");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_logs(f->s, "ex1", &cases[i].f, cases[i].want);
    check_logs(f->s, "ex2", NULL, "other execution");
    check_logs(f->s, "nope", NULL, "");

    /* unknown minimum level */
    static const char *const bad[] = {"BOGUS", "WARNING", "", "FATAL"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kt_log_filter lf = {.min_level = bad[i], .attempt = -1};
        json_t *out = NULL;
        assert_int_equal(kt_store_logs_get(f->s, "ex1", &lf, &out), KT_EINVAL);
        assert_null(out);
    }

    /* more entries later, an unknown level is kept as INFO; everything survives a reopen */
    json_t *more = parse("[{\"executionId\":\"ex1\",\"level\":\"NOTICE\",\"timestamp\":\"2024-01-01T00:00:00.75Z\","
                         "\"message\":\"mx\"}]");
    assert_int_equal(kt_store_logs_append(f->s, more), KT_OK);
    reopen(f);
    check_logs(f->s, "ex1", NULL, "m0,mx,m1,m2,m3,m4,m5,m6");
    kt_log_filter info = {.min_level = "INFO", .attempt = -1}, warn = {.min_level = "WARN", .attempt = -1};
    check_logs(f->s, "ex1", &info, "mx,m1,m2,m3,m5,m6");
    check_logs(f->s, "ex1", &warn, "m1,m3,m5");
    /* an empty batch is fine */
    json_t *empty = json_array();
    assert_int_equal(kt_store_logs_append(f->s, empty), KT_OK);
    json_decref(empty);
    /* the 8 storable lines and mx: the three without an execution or a valid timestamp were not stored */
    assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM logs"), 9);
    json_decref(more);
    json_decref(entries);
}

static void test_level_rank(void **state)
{
    (void)state;
    static const struct {
        const char *level;
        int rank;
    } cases[] = {
        {"TRACE", 0}, {"DEBUG", 1}, {"INFO", 2}, {"WARN", 3}, {"ERROR", 4}, {"trace", 0}, {"Warn", 3},
        {"error", 4}, {"WARNING", -1}, {"ERR", -1}, {"", -1}, {"FATAL", -1}, {" INFO", -1}, {NULL, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (kt_store_level_rank(cases[i].level) != cases[i].rank)
            fail_msg("rank(%s) = %d, want %d", cases[i].level ? cases[i].level : "(null)",
                     kt_store_level_rank(cases[i].level), cases[i].rank);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    int backend = fixture_backend(); /* 77: PostgreSQL asked for, none there */
    if (backend)
        return backend;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_logs),
        cmocka_unit_test(test_level_rank),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
