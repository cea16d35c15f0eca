/* The execution search and purges, and the log queries that go through an execution's row: explicit answers both
 * backends must give, in the same order (the store suite runs on SQLite and, as *_pg, on PostgreSQL). */
#include "tests/unit/store/store_query_checks.h"

static json_t *execution(const char *id, const char *ns, const char *flow, const char *state, const char *start,
                         const char *end, const char *labels)
{
    json_t *ex = json_pack("{s:s, s:s, s:s, s:{s:s, s:[{s:s, s:s}]}}", "id", id, "namespace", ns, "flowId", flow,
                           "state", "current", state, "histories", "state", "CREATED", "date", start);
    json_array_append_new(json_object_get(json_object_get(ex, "state"), "histories"),
                          json_pack("{s:s, s:s}", "state", state, "date", end ? end : start));
    if (labels)
        json_object_set_new(ex, "labels", parse(labels));
    json_object_set_new(ex, "taskRunList", json_pack("[{s:s, s:s, s:{s:s}}]", "id", "r", "taskId", "t", "state",
                                                     "current", state));
    return ex;
}

/* Created in this order (not the ids' order, so ties in creation order and in id order differ). */
static void seed_executions(fixture *f)
{
    json_t *ex[] = {
        execution("e1", "company", "hello", "SUCCESS", "2024-01-01T00:00:00Z", "2024-01-01T00:00:10Z",
                  "[{\"key\":\"env\",\"value\":\"prod\"},{\"key\":\"team\",\"value\":\"a\"}]"),
        execution("e4", "companyx", "hello", "SUCCESS", "2024-01-02T00:00:00Z", "2024-01-02T00:00:05Z", "[]"),
        execution("e2", "company.team", "hello", "FAILED", "2024-01-02T00:00:00Z", "2024-01-02T00:01:00Z",
                  "[{\"key\":\"env\",\"value\":\"dev\"}]"),
        execution("e3", "company.team.sub", "world", "RUNNING", "2024-01-03T00:00:00Z", NULL,
                  "[{\"key\":\"env\",\"value\":\"prod\"},{\"key\":\"k\",\"value\":\"a:b\"}]"),
        execution("e5", "Company", "Hello", "CREATED", "2024-01-04T00:00:00Z", NULL, NULL),
    };
    for (size_t i = 0; i < sizeof ex / sizeof *ex; i++) {
        kt_status st = kt_store_execution_put(f->s, ex[i], NULL, 0);
        if (st)
            fail_msg("execution_put on %s: %d", backend_name(), st);
        json_decref(ex[i]);
    }
}

static void exec_search(kt_store *s, kt_exec_query q, const char *want, int64_t want_total)
{
    json_t *res = NULL;
    int64_t total = -1;
    kt_status st = kt_store_executions_search(s, &q, &res, &total);
    if (st)
        fail_msg("executions_search on %s: %d", backend_name(), st);
    if (strcmp(joined(res, "id"), want) || total != want_total)
        fail_msg("executions_search on %s: [%s] of %lld, want [%s] of %lld", backend_name(), joined(res, "id"),
                 (long long)total, want, (long long)want_total);
    json_decref(res);
}

static void test_executions_search(void **state)
{
    fixture *f = *state;
    static const char *const success_failed[] = {"SUCCESS", "FAILED"};
    static const char *const env_prod[] = {"env", "prod", "team", "a"};
    static const char *const k_ab[] = {"k", "a:b"};
    static const char *const env_upper[] = {"env", "PROD"};
    int64_t d2, d3;
    kt_time_parse("2024-01-02T00:00:00Z", &d2);
    kt_time_parse("2024-01-03T00:00:00Z", &d3);
    {
        kt_store *s = f->s;
        seed_executions(f);
        /* start, then id */
        exec_search(s, (kt_exec_query){0}, "e1,e2,e4,e3,e5", 5);
        /* the namespace (exactly) and those under it (ignoring ASCII case, as SQLite's LIKE); never a pattern */
        exec_search(s, (kt_exec_query){.namespace_ = "company"}, "e1,e2,e3", 3);
        exec_search(s, (kt_exec_query){.namespace_ = "company.team"}, "e2,e3", 2);
        exec_search(s, (kt_exec_query){.namespace_ = "Company"}, "e2,e3,e5", 3);
        exec_search(s, (kt_exec_query){.namespace_ = "COMPANY"}, "e2,e3", 2);
        exec_search(s, (kt_exec_query){.namespace_ = "COMPANY.TEAM.SUB"}, "", 0);
        exec_search(s, (kt_exec_query){.namespace_ = "company_team"}, "", 0);
        exec_search(s, (kt_exec_query){.flow_id = "hello"}, "e1,e2,e4", 3);
        exec_search(s, (kt_exec_query){.states = success_failed, .nstates = 2}, "e1,e2,e4", 3);
        exec_search(s, (kt_exec_query){.states = success_failed + 1, .nstates = 1}, "e2", 1);
        /* labels: all of them */
        exec_search(s, (kt_exec_query){.labels = env_prod, .nlabels = 1}, "e1,e3", 2);
        exec_search(s, (kt_exec_query){.labels = env_prod, .nlabels = 2}, "e1", 1);
        exec_search(s, (kt_exec_query){.labels = k_ab, .nlabels = 1}, "e3", 1);
        exec_search(s, (kt_exec_query){.labels = env_upper, .nlabels = 1}, "", 0);
        /* q: a substring of the id, the namespace or the flow */
        exec_search(s, (kt_exec_query){.q = "team"}, "e2,e3", 2);
        exec_search(s, (kt_exec_query){.q = "orl"}, "e3", 1);
        exec_search(s, (kt_exec_query){.q = "e5"}, "e5", 1);
        exec_search(s, (kt_exec_query){.q = "Hell"}, "e5", 1);
        exec_search(s, (kt_exec_query){.q = "_"}, "", 0);
        exec_search(s, (kt_exec_query){.start_from_us = d2, .start_to_us = d3}, "e2,e4,e3", 3);
        exec_search(s, (kt_exec_query){.start_to_us = d2}, "e1,e2,e4", 3);
        exec_search(s, (kt_exec_query){.namespace_ = "company", .states = success_failed, .nstates = 1,
                                          .labels = env_prod, .nlabels = 1},
                    "e1", 1);
        /* sorts: NULL (no end yet) first ascending and last descending, text by bytes, ties by id the same way */
        exec_search(s, (kt_exec_query){.sort_column = kt_store_exec_sort_column("state.endDate")},
                    "e3,e5,e1,e4,e2", 5);
        exec_search(s, (kt_exec_query){.sort_column = kt_store_exec_sort_column("state.endDate"), .sort_desc = 1},
                    "e2,e4,e1,e5,e3", 5);
        exec_search(s, (kt_exec_query){.sort_column = kt_store_exec_sort_column("state.duration")},
                    "e3,e5,e4,e1,e2", 5);
        exec_search(s, (kt_exec_query){.sort_column = kt_store_exec_sort_column("namespace")}, "e5,e1,e2,e3,e4",
                    5);
        exec_search(s, (kt_exec_query){.sort_column = kt_store_exec_sort_column("flowId"), .sort_desc = 1},
                    "e3,e4,e2,e1,e5", 5);
        exec_search(s, (kt_exec_query){.sort_column = kt_store_exec_sort_column("state.current")},
                    "e5,e2,e3,e1,e4", 5);
        exec_search(s, (kt_exec_query){.sort_column = kt_store_exec_sort_column("id"), .sort_desc = 1},
                    "e5,e4,e3,e2,e1", 5);
        exec_search(s, (kt_exec_query){.sort_column = kt_store_exec_sort_column("state.startDate"), .sort_desc = 1},
                    "e5,e3,e4,e2,e1", 5);
        /* pages */
        exec_search(s, (kt_exec_query){.page = 2, .size = 2}, "e4,e3", 5);
        exec_search(s, (kt_exec_query){.page = 3, .size = 2}, "e5", 5);
        exec_search(s, (kt_exec_query){.page = 4, .size = 2}, "", 5);
        /* the documents come back whole, task runs and all */
        json_t *res = NULL, *one = NULL;
        int64_t total;
        assert_int_equal(kt_store_executions_search(s, &(kt_exec_query){.q = "e3"}, &res, &total), KT_OK);
        assert_int_equal(kt_store_execution_get(s, "e3", &one), KT_OK);
        assert_int_equal(json_array_size(res), 1);
        assert_json_same("found execution", json_array_get(res, 0), one);
        assert_int_equal(json_array_size(json_object_get(one, "taskRunList")), 1);
        json_decref(res);
        json_decref(one);
        const char *many[160];
        for (int i = 0; i < 160; i++)
            many[i] = i % 2 ? "prod" : "env";
        exec_search(s, (kt_exec_query){.labels = many, .nlabels = 32, .states = success_failed, .nstates = 2},
                    "e1", 1); /* as many as the web passes */
        /* more filters than a statement holds: refused, not run without some of them */
        res = NULL;
        assert_int_equal(kt_store_executions_search(s, &(kt_exec_query){.labels = many, .nlabels = 80}, &res, &total),
                         KT_EINVAL);
        assert_null(res);
    }
}

static const char *const purge_lines =
    "["
    "{\"executionId\":\"e1\",\"level\":\"INFO\",\"timestamp\":\"2024-01-01T00:00:01Z\",\"message\":\"one\"},"
    "{\"executionId\":\"e1\",\"level\":\"DEBUG\",\"timestamp\":\"2024-01-01T00:00:02Z\",\"message\":\"one more\","
    " \"triggerId\":\"tr\"},"
    "{\"executionId\":\"e2\",\"level\":\"ERROR\",\"timestamp\":\"2024-01-02T00:00:01Z\",\"message\":\"two\"},"
    "{\"executionId\":\"e3\",\"level\":\"TRACE\",\"timestamp\":\"2024-01-03T00:00:01Z\",\"message\":\"three\"},"
    "{\"executionId\":\"e4\",\"level\":\"WARN\",\"timestamp\":\"2024-01-02T00:00:01Z\",\"message\":\"four\"},"
    "{\"executionId\":\"e5\",\"level\":\"INFO\",\"timestamp\":\"2024-01-04T00:00:01Z\",\"message\":\"five\"},"
    "{\"executionId\":\"gone\",\"level\":\"INFO\",\"timestamp\":\"2024-01-04T00:00:02Z\",\"message\":\"orphan\"}]";

static void test_purges(void **state)
{
    fixture *f = *state;
    int64_t d2, d3;
    kt_time_parse("2024-01-02T00:00:00Z", &d2);
    kt_time_parse("2024-01-03T00:00:00Z", &d3);
    {
        kt_store *s = f->s;
        seed_executions(f);
        json_t *lines = parse(purge_lines);
        assert_int_equal(kt_store_logs_append(s, lines), KT_OK);
        /* the log search's namespace and flow filters go through the execution's row */
        log_search(s, (kt_log_query){.namespace_ = "company"}, "one,one more,two,three", 4);
        log_search(s, (kt_log_query){.namespace_ = "company", .flow_id = "hello", .min_level = "INFO"}, "one,two",
                   2);
        log_search(s, (kt_log_query){.flow_id = "Hello"}, "five", 1);
        log_search(s, (kt_log_query){.q = "o", .sort_desc = 1}, "orphan,four,two,one more,one", 5);

        /* counts: exact namespace and flow, start range, a comma-joined list of states */
        static const struct {
            kt_store_purge_query q;
            int64_t want;
        } counts[] = {
            {{0}, 5},
            {{.namespace_ = "company"}, 1},
            {{.namespace_ = "company.team"}, 1},
            {{.flow_id = "hello"}, 3},
            {{.list = "SUCCESS,FAILED"}, 3},
            {{.list = "SUCCESS,FAIL"}, 2},
            {{.list = "RUNNING"}, 1},
            {{.list = ""}, 0},
            {{.namespace_ = "companyx", .flow_id = "hello", .list = "SUCCESS"}, 1},
        };
        for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
            int64_t n = -1;
            assert_int_equal(kt_store_executions_count(s, &counts[i].q, &n), KT_OK);
            if (n != counts[i].want)
                fail_msg("executions_count #%zu on %s: %lld, want %lld", i, backend_name(), (long long)n,
                         (long long)counts[i].want);
        }
        kt_store_purge_query range = {.from_us = d2, .to_us = d3};
        int64_t n = -1;
        assert_int_equal(kt_store_executions_count(s, &range, &n), KT_OK);
        assert_int_equal(n, 3);
        /* matches: oldest first, ties in creation order */
        json_t *m = NULL;
        assert_int_equal(kt_store_executions_match(s, &(kt_store_purge_query){.flow_id = "hello"}, &m), KT_OK);
        json_t *want = parse("[{\"id\":\"e1\",\"namespace\":\"company\",\"flowId\":\"hello\",\"state\":\"SUCCESS\"},"
                             "{\"id\":\"e4\",\"namespace\":\"companyx\",\"flowId\":\"hello\",\"state\":\"SUCCESS\"},"
                             "{\"id\":\"e2\",\"namespace\":\"company.team\",\"flowId\":\"hello\","
                             "\"state\":\"FAILED\"}]");
        assert_json_same("matches", m, want);
        json_decref(want);
        json_decref(m);

        /* log purges: levels as ranks, timestamps, namespace/flow through the execution */
        assert_int_equal(kt_store_logs_purge(s, &(kt_store_purge_query){.list = "0,1"}, &n), KT_OK);
        assert_int_equal(n, 2); /* "one more" (DEBUG), "three" (TRACE) */
        assert_int_equal(kt_store_logs_purge(s, &(kt_store_purge_query){.namespace_ = "companyx"}, &n), KT_OK);
        assert_int_equal(n, 1);
        assert_int_equal(kt_store_logs_purge(s, &(kt_store_purge_query){.from_us = d2, .to_us = d2 + 1000000}, &n),
                         KT_OK);
        assert_int_equal(n, 1); /* "two" ("four" is gone) */
        log_search(s, (kt_log_query){0}, "one,five,orphan", 3);

        /* a flow's logs, all or one trigger's */
        assert_int_equal(kt_store_logs_append(s, lines), KT_OK);
        assert_int_equal(kt_store_logs_delete_flow(s, "company", "hello", "tr", &n), KT_OK);
        assert_int_equal(n, 1);
        assert_int_equal(kt_store_logs_delete_flow(s, "company", "hello", NULL, &n), KT_OK);
        assert_int_equal(n, 2); /* "one" twice */
        assert_int_equal(kt_store_logs_delete_flow(s, "company", "nope", NULL, NULL), KT_OK);
        check_logs(s, "e1", NULL, "");

        /* one execution: its logs (counted), then its row and task runs */
        int64_t deleted = 10;
        assert_int_equal(kt_store_execution_purge(s, "e2", 0, 1, &deleted), KT_OK);
        assert_int_equal(deleted, 11);
        json_t *ex = NULL;
        assert_int_equal(kt_store_execution_get(s, "e2", &ex), KT_OK);
        json_decref(ex);
        assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM taskruns WHERE execution_id = 'e2'"), 1);
        assert_int_equal(kt_store_execution_purge(s, "e2", 1, 1, &deleted), KT_OK);
        assert_int_equal(deleted, 11);
        assert_int_equal(kt_store_execution_get(s, "e2", &ex), KT_ENOTFOUND);
        assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM taskruns WHERE execution_id = 'e2'"), 0);
        assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM executions"), 4);
        /* lines of a purged execution still show when no filter needs its row */
        log_search(s, (kt_log_query){.q = "orphan"}, "orphan,orphan", 2);
        json_decref(lines);
    }
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    int rc = fixture_backend(); /* 77: PostgreSQL asked for, none there */
    if (rc)
        return rc;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_executions_search),
        T(test_purges),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
