/* What is PostgreSQL's own in its executions (store/pg_exec.c): an execution read back from a text-format result
 * (kt_pg_exec_row). The rest of the executions, notices and windows is the store suite's (test_store_executions.c,
 * test_store_triggers.c), run on PostgreSQL as *_pg. Skips (77) when the fixture said PostgreSQL is not there. */
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

int main(void)
{
    int rc = kt_test_pg_url(g_url, sizeof g_url);
    if (rc != 0)
        return rc;
    kt_log_set_level(KT_LOG_ERROR);
#define T(fn) cmocka_unit_test_setup_teardown(fn, pg_setup, pg_teardown)
    const struct CMUnitTest tests[] = {
        T(test_exec_row_from_text_result),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
