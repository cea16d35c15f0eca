/* Shared by the PostgreSQL store tests (test_pg_*.c) on the server tests/pg/start.sh started (the CTest fixture
 * "pg"): each test runs in a schema of its own (CREATE SCHEMA through a side connection, the store opened on the URL
 * with options=-csearch_path), so tests never see each other's rows; the side connection probes the tables. The
 * SQLite helpers of store_fixture.h (check_flow, assert_json_equal, a SQLite store to compare with) come along. */
#ifndef KT_TEST_PG_FIXTURE_H
#define KT_TEST_PG_FIXTURE_H

#include "store_fixture.h"
#include "tests/pg/pg_schema.h"

#include <libpq-fe.h>
#include <time.h>

static char g_url[512]; /* kt_test_pg_url's, set by main */

typedef struct pgfix {
    char schema[48];
    char url[1024];
    kt_store *s;
    PGconn *side; /* probes and schema management, search_path on the test's schema */
} pgfix;

/* The base URL landing in schema (tests/pg/pg_schema.h), plus an application name when given. */
static inline void url_with(char *out, size_t cap, const char *schema, const char *application)
{
    kt_test_pg_schema_url(g_url, schema, out, cap);
    size_t n = strlen(out);
    if (application)
        snprintf(out + n, cap - n, "&application_name=%s", application);
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
    char err[512];
    kt_test_pg_schema_name("pg", f->schema, sizeof f->schema);
    if (kt_test_pg_schema_create(g_url, f->schema, f->url, sizeof f->url, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    f->side = PQconnectdb(f->url); /* lands in the schema too */
    if (PQstatus(f->side) != CONNECTION_OK) {
        fprintf(stderr, "connect: %s", PQerrorMessage(f->side));
        return -1;
    }
    side_exec(f, "SET client_min_messages = warning");
    pg_open(f);
    *state = f;
    return 0;
}

static inline int pg_teardown(void **state)
{
    pgfix *f = *state;
    kt_store_close(f->s);
    PQfinish(f->side);
    char err[512];
    int rc = kt_test_pg_schema_drop(g_url, f->schema, err, sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    free(f);
    return rc;
}

#endif
