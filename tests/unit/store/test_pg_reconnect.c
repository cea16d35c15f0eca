/* The PostgreSQL store when the server drops its connection (a restart, a failover, an administrator's
 * pg_terminate_backend): the call that meets the loss fails cleanly (KT_EDB, a message, no crash), a transaction
 * caught by it fails as a whole (its commit too), and the next call outside a transaction connects again, with the
 * same URL, instead of failing for ever. The store's message never holds the URL's password. Skips (77)
 * when the fixture said PostgreSQL is not there. */
#include "pg_fixture.h"

#include <pthread.h>

static const char *const FLOW = "id: f\nnamespace: a.b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
                                "    message: hi\n";

/* The store's URL with a password in it (the test server trusts its user: the password is never checked) and an
 * application name that finds its backend in pg_stat_activity. */
static void open_named(pgfix *f)
{
    kt_store_close(f->s);
    f->s = NULL;
    url_with(f->url, sizeof f->url, f->schema, f->schema);
    char *at = strchr(f->url, '@'), *scheme = strstr(f->url, "://");
    if (at && scheme && !memchr(scheme + 3, ':', (size_t)(at - scheme - 3))) {
        char rest[sizeof f->url];
        memcpy(rest, at, strlen(at) + 1);
        snprintf(at, sizeof f->url - (size_t)(at - f->url), ":s3cr3tpw%.900s", rest);
    }
    pg_open(f);
}

/* Ends the store's backend from the side connection and waits until the server no longer lists it. */
static void kill_backend(pgfix *f)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE application_name = '%s') t",
             f->schema);
    assert_int_equal(pg_int(f, sql), 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s'", f->schema);
    for (int i = 0; i < 500 && pg_int(f, sql) > 0; i++)
        usleep(10000);
    assert_int_equal(pg_int(f, sql), 0);
}

static void assert_no_password(pgfix *f)
{
    const char *msg = kt_store_errmsg(f->s);
    assert_non_null(msg);
    assert_null(strstr(msg, "s3cr3tpw"));
}

static void test_reconnect_after_loss(void **state)
{
    pgfix *f = *state;
    open_named(f);
    int rev = 0, changed = 0;
    assert_int_equal(kt_store_flow_save(f->s, "a.b", "f", FLOW, &rev, &changed), KT_OK);
    kill_backend(f);

    /* the call that finds the connection gone fails, with a message */
    kt_flow_row row;
    assert_int_equal(kt_store_flow_get(f->s, "a.b", "f", 0, &row), KT_EDB);
    assert_true(strlen(kt_store_errmsg(f->s)) > 0);
    assert_no_password(f);

    /* the next one connects again (in the same schema: the URL's options come along) */
    assert_int_equal(kt_store_flow_get(f->s, "a.b", "f", 0, &row), KT_OK);
    assert_int_equal(row.revision, 1);
    kt_flow_row_clear(&row);
    assert_int_equal(kt_store_flow_save(f->s, "a.b", "f", "id: f\nnamespace: a.b\n", &rev, &changed), KT_OK);
    assert_int_equal(rev, 2);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM flows"), 2);
}

static void test_loss_inside_transaction(void **state)
{
    pgfix *f = *state;
    open_named(f);
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_notice_add(f->s, "ex1", "SUCCESS"), KT_OK);
    kill_backend(f);

    /* inside the transaction nothing reconnects: the rest of it fails, its commit too */
    assert_int_equal(kt_store_notice_add(f->s, "ex2", "SUCCESS"), KT_EDB);
    assert_int_equal(kt_store_notice_add(f->s, "ex3", "SUCCESS"), KT_EDB);
    assert_int_equal(kt_store_commit(f->s), KT_EDB);
    assert_no_password(f);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM notices"), 0);

    /* the next transaction runs on a new connection */
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_notice_add(f->s, "ex4", "FAILED"), KT_OK);
    assert_int_equal(kt_store_commit(f->s), KT_OK);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM notices WHERE execution_id = 'ex4'"), 1);
    assert_int_equal(pg_int(f, "SELECT count(*) FROM notices"), 1);
}

static void test_loss_then_rollback(void **state)
{
    pgfix *f = *state;
    open_named(f);
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    kill_backend(f);
    assert_int_equal(kt_store_notice_add(f->s, "ex1", "SUCCESS"), KT_EDB);
    const char *why = kt_store_errmsg(f->s);
    char kept[512];
    snprintf(kept, sizeof kept, "%s", why);
    kt_store_rollback(f->s);
    /* the rollback of a lost connection keeps the message of the loss */
    assert_string_equal(kt_store_errmsg(f->s), kept);
    json_t *notices = NULL;
    assert_int_equal(kt_store_notices(f->s, &notices), KT_OK);
    assert_int_equal(json_array_size(notices), 0);
    json_decref(notices);
}

typedef struct listing {
    pgfix *f;
    kt_status st;
    json_t *out;
} listing;

static void *list_unfinished(void *arg)
{
    listing *l = arg;
    l->st = kt_store_executions_unfinished(l->f->s, &l->out);
    return NULL;
}

/* The connection is lost while the unfinished executions are read (after their headers, before their task runs): the
 * listing fails; it does not answer a list that misses an execution (it would never be resumed). */
static void test_unfinished_loss_midway(void **state)
{
    pgfix *f = *state;
    open_named(f);
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    for (int i = 0; i < 2; i++) {
        json_t *ex = json_pack("{s:s, s:s, s:s, s:{s:s, s:[{s:s, s:s}]}, s:[{s:s, s:s}]}", "id", i ? "ex2" : "ex1",
                               "namespace", "a.b", "flowId", "f", "state", "current", "RUNNING", "histories", "state",
                               "RUNNING", "date", "2024-01-01T00:00:00Z", "taskRunList", "id", "r0", "taskId", "t");
        assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
        json_decref(ex);
    }
    assert_int_equal(kt_store_commit(f->s), KT_OK);

    /* the task runs' table locked by another session: the listing waits there, after reading the headers */
    side_exec(f, "BEGIN");
    side_exec(f, "LOCK TABLE taskruns IN ACCESS EXCLUSIVE MODE");
    listing l = {.f = f};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, list_unfinished, &l), 0);
    PGconn *probe = PQconnectdb(g_url);
    assert_int_equal(PQstatus(probe), CONNECTION_OK);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s' AND "
                              "wait_event_type = 'Lock'", f->schema);
    int waiting = 0;
    for (int i = 0; i < 500 && !waiting; i++) {
        PGresult *r = PQexec(probe, sql);
        waiting = PQresultStatus(r) == PGRES_TUPLES_OK && atoi(PQgetvalue(r, 0, 0)) > 0;
        PQclear(r);
        if (!waiting)
            usleep(10000);
    }
    assert_true(waiting);
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '%s'",
             f->schema);
    PQclear(PQexec(probe, sql));
    PQfinish(probe);
    side_exec(f, "ROLLBACK"); /* a listing that went on (reconnected) is not held up */
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(l.st, KT_EDB);
    json_decref(l.out);

    /* then, connected again, both */
    json_t *out = NULL;
    assert_int_equal(kt_store_executions_unfinished(f->s, &out), KT_OK);
    assert_int_equal(json_array_size(out), 2);
    json_decref(out);
}

int main(void)
{
    int rc = kt_test_pg_url(g_url, sizeof g_url);
    if (rc != 0)
        return rc;
    kt_log_set_level(KT_LOG_ERROR);
#define T(fn) cmocka_unit_test_setup_teardown(fn, pg_setup, pg_teardown)
    const struct CMUnitTest tests[] = {
        T(test_reconnect_after_loss),
        T(test_loss_inside_transaction),
        T(test_loss_then_rollback),
        T(test_unfinished_loss_midway),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
