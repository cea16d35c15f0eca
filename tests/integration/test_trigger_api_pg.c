/* The trigger API's read-modify-write on PostgreSQL (web/api_triggers.c): an unlock computed from a row that a
 * scheduler is changing at that moment waits for that change and applies to it, instead of overwriting it with a row
 * read before it. A side connection plays the scheduler: it holds the row (FOR UPDATE, as kt_store_trigger_claim),
 * moves its next date, and commits while the API's request waits. Skips (77) without the test PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pg/pg_schema.h"
#include "harness.h"

static char base[1024];

static const char *FLOW = "id: f\nnamespace: company.team\n"
                          "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                          "triggers:\n  - id: yearly\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                          "    cron: \"0 0 1 1 *\"\n";

static void exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

typedef struct unlock_call {
    int port;
    long status;
    char *body;
} unlock_call;

static void *unlock(void *arg)
{
    unlock_call *u = arg;
    u->status = kt_it_http("POST", u->port, "/api/v1/triggers/company.team/f/yearly/unlock", "application/json", "",
                           &u->body);
    return NULL;
}

static void test_unlock_waits_for_scheduler(void **state)
{
    kt_it_fixture *f = *state;
    char schema[64], url[1300], err[512];
    kt_test_pg_schema_name("itapi", schema, sizeof schema);
    if (kt_test_pg_schema_create(base, schema, url, sizeof url, err, sizeof err))
        fail_msg("%s", err);
    const char *extra[] = {"--store", url, NULL};
    f->server = kt_it_start_server(f->dir, "server", f->port, extra);
    kt_it_create_flow(f->port, FLOW, NULL);
    long long rows = 0;
    for (int i = 0; i < 100 && rows < 1; i++) {
        rows = kt_test_pg_int(url, "SELECT count(*) FROM triggers", err, sizeof err);
        if (rows < 1)
            kt_it_sleep_ms(50);
    }
    assert_int_equal(rows, 1);

    PGconn *side = PQconnectdb(url);
    assert_int_equal(PQstatus(side), CONNECTION_OK);
    /* locked by an execution (an unlock has something to do) */
    exec_ok(side, "UPDATE triggers SET execution_id = 'lockEx', "
                  "body = (body::jsonb || '{\"executionId\": \"lockEx\"}')::text");
    /* a scheduler holds the row and moves its next date */
    exec_ok(side, "BEGIN");
    exec_ok(side, "SELECT body FROM triggers FOR UPDATE");
    exec_ok(side, "UPDATE triggers SET next_execution_date = 4070908800000000, "
                  "body = (body::jsonb || '{\"nextExecutionDate\": \"2099-01-01T00:00:00Z\"}')::text");
    unlock_call u = {.port = f->port};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, unlock, &u), 0);
    kt_it_sleep_ms(700); /* the API's request reaches the row meanwhile */
    exec_ok(side, "COMMIT");
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(u.status, 200);
    free(u.body);

    /* both changes: the scheduler's next date and the API's unlock */
    PGresult *r = PQexec(side, "SELECT body::json->>'nextExecutionDate', body::json->>'executionId', execution_id "
                               "FROM triggers");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "2099-01-01T00:00:00Z");
    assert_true(PQgetisnull(r, 0, 1));
    assert_true(PQgetisnull(r, 0, 2));
    PQclear(r);
    PQfinish(side);
    kt_it_stop_clean(&f->server);
    kt_test_pg_schema_drop(base, schema, err, sizeof err);
}

int main(void)
{
    int rc = kt_test_pg_url(base, sizeof base);
    if (rc)
        return rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unlock_waits_for_scheduler, kt_it_setup_dir, kt_it_teardown),
    };
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
