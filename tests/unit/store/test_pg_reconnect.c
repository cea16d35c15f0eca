/* The PostgreSQL store when the server drops its connection (a restart, a failover, an administrator's
 * pg_terminate_backend): the call that meets the loss fails cleanly (KT_EDB, a message, no crash), a transaction
 * caught by it fails as a whole (its commit too), and the next call outside a transaction connects again, with the
 * same URL, instead of failing for ever. The store's message never holds the URL's password. Skips (77)
 * when the fixture said PostgreSQL is not there. */
#include "pg_fixture.h"

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
