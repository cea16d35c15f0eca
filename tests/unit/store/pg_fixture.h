/* Shared by the PostgreSQL store tests (test_pg_*.c) on the server tests/pg/start.sh started (the CTest fixture
 * "pg"): each test runs in a schema of its own (CREATE SCHEMA through a side connection, the store opened on the URL
 * with options=-csearch_path), so tests never see each other's rows; the side connection probes the tables. The
 * SQLite helpers of store_fixture.h (check_flow, assert_json_equal, a SQLite store to compare with) come along. */
#ifndef KT_TEST_PG_FIXTURE_H
#define KT_TEST_PG_FIXTURE_H

#include "store_fixture.h"
#include "tests/pg/pg_url.h"

#include <libpq-fe.h>
#include <time.h>

static char g_url[512]; /* kt_test_pg_url's, set by main */

typedef struct pgfix {
    char schema[40];
    char url[1024];
    kt_store *s;
    PGconn *side; /* probes and schema management, search_path on the test's schema */
} pgfix;

/* The base URL plus libpq options: a query string of its own, or the one the URL has. */
static inline void url_with(char *out, size_t cap, const char *schema, const char *application)
{
    int n = snprintf(out, cap, "%s%coptions=-csearch_path%%3D%s", g_url, strchr(g_url, '?') ? '&' : '?', schema);
    if (application)
        snprintf(out + n, cap - (size_t)n, "&application_name=%s", application);
}

static inline void side_exec(pgfix *f, const char *sql)
{
    PGresult *r = PQexec(f->side, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(f->side));
    PQclear(r);
}

/* One integer from the side connection (-1 without a row). */
static inline long long pg_int(pgfix *f, const char *sql)
{
    PGresult *r = PQexec(f->side, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(f->side));
    long long v = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return v;
}

static inline void pg_open(pgfix *f)
{
    char err[512] = "";
    kt_status st = kt_store_open(f->url, NULL, &f->s, err, sizeof err);
    if (st)
        fail_msg("kt_store_open(schema %s): %d %s", f->schema, st, err);
}

static inline void pg_reopen(pgfix *f)
{
    kt_store_close(f->s);
    f->s = NULL;
    pg_open(f);
}

static inline int pg_setup(void **state)
{
    pgfix *f = calloc(1, sizeof *f);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    srand((unsigned)(ts.tv_nsec ^ getpid()));
    snprintf(f->schema, sizeof f->schema, "kt_%d_%08x", (int)getpid(), (unsigned)rand());
    f->side = PQconnectdb(g_url);
    if (PQstatus(f->side) != CONNECTION_OK) {
        fprintf(stderr, "connect: %s", PQerrorMessage(f->side));
        return -1;
    }
    char sql[256];
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; CREATE SCHEMA %s; SET search_path TO %s",
             f->schema, f->schema);
    side_exec(f, sql);
    url_with(f->url, sizeof f->url, f->schema, NULL);
    pg_open(f);
    *state = f;
    return 0;
}

static inline int pg_teardown(void **state)
{
    pgfix *f = *state;
    kt_store_close(f->s);
    char sql[96];
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", f->schema);
    side_exec(f, sql);
    PQfinish(f->side);
    free(f);
    return 0;
}

#endif
