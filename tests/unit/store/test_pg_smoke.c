/* The PostgreSQL the tests run on (tests/pg/start.sh, the CTest fixture "pg") answers through libpq as the store
 * will use it: a blocking connection (version, a table written and read back with typed parameters), and the
 * non-blocking connection the store's loop needs (PQconnectStart/PQconnectPoll driven by poll() on PQsocket, then a
 * query sent and its result collected without blocking). A port nobody listens on fails both ways with an error
 * message, not a hang. Skips (77) when the fixture said PostgreSQL is not there. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/pg/pg_url.h"

static char g_url[512];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits (at most until deadline) for the socket to be ready the way libpq asked; 0 when it is. */
static int wait_socket(PGconn *c, int for_write, double deadline)
{
    struct pollfd p = {.fd = PQsocket(c), .events = for_write ? POLLOUT : POLLIN};
    if (p.fd < 0)
        return -1;
    double left = deadline - now_s();
    if (left <= 0)
        return -1;
    int rc = poll(&p, 1, (int)(left * 1000) + 1);
    return rc == 1 ? 0 : -1;
}

/* Runs PQconnectPoll until it says OK or FAILED, never waiting inside libpq. The number of polls is returned in
 * *polls so the test can see the connection really went through the non-blocking steps. */
static PostgresPollingStatusType connect_nonblocking(PGconn *c, int *polls)
{
    PostgresPollingStatusType st = PGRES_POLLING_WRITING; /* what PQconnectStart leaves: wait until writable */
    double deadline = now_s() + 10;
    *polls = 0;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        if (wait_socket(c, st == PGRES_POLLING_WRITING, deadline) != 0)
            return PGRES_POLLING_FAILED;
        st = PQconnectPoll(c);
        (*polls)++;
    }
    return st;
}

static void test_connect_and_version(void **state)
{
    (void)state;
    PGconn *c = PQconnectdb(g_url);
    assert_non_null(c);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect to %s: %s", g_url, PQerrorMessage(c));
    PGresult *r = PQexec(c, "SELECT version(), current_database(), current_user");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    assert_true(strncmp(PQgetvalue(r, 0, 0), "PostgreSQL ", 11) == 0);
    assert_string_equal(PQgetvalue(r, 0, 1), "kite");
    assert_string_equal(PQgetvalue(r, 0, 2), "kite");
    PQclear(r);
    /* the server the store will need: 13+ (DROP DATABASE ... WITH (FORCE) in start.sh, tsvector search) */
    assert_true(PQserverVersion(c) >= 130000);
    PQfinish(c);
}

static void test_table_roundtrip(void **state)
{
    (void)state;
    PGconn *c = PQconnectdb(g_url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, "DROP TABLE IF EXISTS smoke;"
                            "CREATE TABLE smoke (id bigint PRIMARY KEY, name text NOT NULL, doc jsonb)");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("create: %s", PQerrorMessage(c));
    PQclear(r);
    /* parameters as text, typed by the statement: UTF-8 and a quote travel unchanged */
    const char *name = "k\xc3\xafte's r\xc3\xbcn";
    const char *ins[] = {"9007199254740993", name, "{\"a\": [1, 2]}"};
    r = PQexecParams(c, "INSERT INTO smoke (id, name, doc) VALUES ($1, $2, $3)", 3, NULL, ins, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("insert: %s", PQerrorMessage(c));
    assert_string_equal(PQcmdTuples(r), "1");
    PQclear(r);
    /* the primary key holds */
    r = PQexecParams(c, "INSERT INTO smoke (id, name) VALUES ($1, $2)", 2, NULL, ins, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505"); /* unique_violation */
    PQclear(r);
    const char *sel[] = {"9007199254740993"};
    r = PQexecParams(c, "SELECT id, name, doc->'a'->>1 FROM smoke WHERE id = $1", 1, NULL, sel, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "9007199254740993");
    assert_string_equal(PQgetvalue(r, 0, 1), name);
    assert_string_equal(PQgetvalue(r, 0, 2), "2");
    PQclear(r);
    r = PQexec(c, "DROP TABLE smoke");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
}

static void test_nonblocking_connect_and_query(void **state)
{
    (void)state;
    PGconn *c = PQconnectStart(g_url);
    assert_non_null(c);
    assert_int_not_equal(PQstatus(c), CONNECTION_BAD);
    int polls = 0;
    if (connect_nonblocking(c, &polls) != PGRES_POLLING_OK)
        fail_msg("non-blocking connect to %s: %s", g_url, PQerrorMessage(c));
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    assert_true(polls >= 2); /* TCP connect, then the startup exchange: more than one step */
    assert_int_equal(PQsetnonblocking(c, 1), 0);
    assert_int_equal(PQisnonblocking(c), 1);

    /* a query sent, flushed and read back without a blocking call */
    assert_int_equal(PQsendQuery(c, "SELECT 40 + 2, pg_sleep(0.05)"), 1);
    double deadline = now_s() + 10;
    int flushed;
    while ((flushed = PQflush(c)) == 1)
        assert_int_equal(wait_socket(c, 1, deadline), 0);
    assert_int_equal(flushed, 0);
    int waits = 0;
    while (PQisBusy(c)) {
        assert_int_equal(wait_socket(c, 0, deadline), 0);
        assert_int_equal(PQconsumeInput(c), 1);
        waits++;
    }
    assert_true(waits >= 1); /* the server slept: the answer was not there at once */
    PGresult *r = PQgetResult(c);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "42");
    PQclear(r);
    assert_null(PQgetResult(c)); /* the end of that query's results */
    PQfinish(c);
}

/* a port on 127.0.0.1 nobody listens on: one the system just gave and took back */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_refused_connection_fails_cleanly(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "postgresql://kite@127.0.0.1:%d/kite?connect_timeout=5", closed_port());
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_BAD);
    assert_non_null(strstr(PQerrorMessage(c), "127.0.0.1"));
    PQfinish(c);

    c = PQconnectStart(url);
    assert_non_null(c);
    int polls = 0;
    if (PQstatus(c) != CONNECTION_BAD)
        assert_int_equal(connect_nonblocking(c, &polls), PGRES_POLLING_FAILED);
    assert_int_equal(PQstatus(c), CONNECTION_BAD);
    assert_true(PQerrorMessage(c)[0] != 0);
    PQfinish(c);

    /* a malformed URL is an error message, not a crash */
    c = PQconnectdb("postgresql://kite@127.0.0.1:notaport/kite");
    assert_int_equal(PQstatus(c), CONNECTION_BAD);
    assert_true(PQerrorMessage(c)[0] != 0);
    PQfinish(c);
}

int main(void)
{
    int rc = kt_test_pg_url(g_url, sizeof g_url);
    if (rc != 0)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_and_version),
        cmocka_unit_test(test_table_roundtrip),
        cmocka_unit_test(test_nonblocking_connect_and_query),
        cmocka_unit_test(test_refused_connection_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
