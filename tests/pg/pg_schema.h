/* The store's tests on PostgreSQL (issue 12: the same suites on both backends). Each test, or each test server,
 * gets a schema of its own on the throwaway server (tests/pg/start.sh), so tests running at the same time never see
 * each other's rows, and the store is opened at a URL that lands in it: libpq's options parameter setting
 * search_path (…?options=-csearch_path%3Dkt_store_0123456789ab). kt_test_pg_schema_drop removes it with its tables.
 *
 * Which backend a test runs on: KITE_TEST_STORE_URL (a postgres:// URL: that server), else KITE_TEST_STORE=pg (the
 * fixture's server, tests/pg/pg_url.h: skip 77 or fail without one, as test_pg_smoke), else SQLite. */
#ifndef KT_TEST_PG_SCHEMA_H
#define KT_TEST_PG_SCHEMA_H

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "pg_url.h" /* beside this file, whatever the includer's search path */

/* 0 with base[0] = 0 for SQLite, 0 with the server's URL in base for PostgreSQL; 77 (skip) or 1 (fail) when
 * PostgreSQL is asked for and there is none (kt_test_pg_url's answer). */
static inline int kt_test_store_backend(char *base, size_t cap)
{
    const char *url = getenv("KITE_TEST_STORE_URL");
    const char *which = getenv("KITE_TEST_STORE");
    base[0] = 0;
    if (url && *url) {
        snprintf(base, cap, "%s", url);
        return 0;
    }
    if (which && !strcmp(which, "pg"))
        return kt_test_pg_url(base, cap);
    return 0;
}

/* The URL that opens base's database in schema: base with options=-csearch_path=SCHEMA (%-encoded '='), after its
 * own parameters if it has some. */
static inline void kt_test_pg_schema_url(const char *base, const char *schema, char *out, size_t cap)
{
    snprintf(out, cap, "%s%coptions=-csearch_path%%3D%s", base, strchr(base, '?') ? '&' : '?', schema);
}

/* Runs sql (no parameters, several statements allowed) in a connection of its own; 0, or -1 with the reason in err. */
static inline int kt_test_pg_exec(const char *url, const char *sql, char *err, size_t errcap)
{
    PGconn *c = PQconnectdb(url);
    int rc = -1;
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errcap, "connect: %s", PQerrorMessage(c));
    } else {
        PGresult *r = PQexec(c, sql);
        ExecStatusType es = PQresultStatus(r);
        if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK)
            rc = 0;
        else
            snprintf(err, errcap, "%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
    }
    PQfinish(c);
    return rc;
}

/* The first column of the first row of sql's answer as an integer (a boolean as 1/0); -1 when there is no row.
 * -2 with the reason in err when the query fails. */
static inline long long kt_test_pg_int(const char *url, const char *sql, char *err, size_t errcap)
{
    PGconn *c = PQconnectdb(url);
    long long v = -2;
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errcap, "connect: %s", PQerrorMessage(c));
    } else {
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            snprintf(err, errcap, "%s: %s", sql, PQresultErrorMessage(r));
        } else if (PQntuples(r) < 1 || PQnfields(r) < 1 || PQgetisnull(r, 0, 0)) {
            v = -1;
        } else {
            const char *s = PQgetvalue(r, 0, 0);
            v = !strcmp(s, "t") ? 1 : !strcmp(s, "f") ? 0 : strtoll(s, NULL, 10);
        }
        PQclear(r);
    }
    PQfinish(c);
    return v;
}

/* A schema name of its own: kt_<what>_<12 random hex digits> (lower case: no quoting needed anywhere). */
static inline void kt_test_pg_schema_name(const char *what, char *out, size_t cap)
{
    unsigned char b[6] = {0};
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        /* no randomness: the pid and an address still differ between the processes running at once */
        unsigned long x = (unsigned long)getpid() ^ (unsigned long)(uintptr_t)out;
        memcpy(b, &x, sizeof b < sizeof x ? sizeof b : sizeof x);
    }
    snprintf(out, cap, "kt_%s_%02x%02x%02x%02x%02x%02x", what, b[0], b[1], b[2], b[3], b[4], b[5]);
}

/* Creates schema (IF NOT EXISTS: a server restarted on the same schema keeps it) on base's server and puts the URL
 * landing in it into url. 0, or -1 with the reason in err. */
static inline int kt_test_pg_schema_create(const char *base, const char *schema, char *url, size_t ucap, char *err,
                                           size_t errcap)
{
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS %s", schema);
    if (kt_test_pg_exec(base, sql, err, errcap))
        return -1;
    kt_test_pg_schema_url(base, schema, url, ucap);
    return 0;
}

/* Drops schema and everything in it (the store's tables, its kite_schema). 0, or -1 with the reason in err. */
static inline int kt_test_pg_schema_drop(const char *base, const char *schema, char *err, size_t errcap)
{
    char sql[160];
    /* quietly: one NOTICE per table dropped otherwise */
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE", schema);
    return kt_test_pg_exec(base, sql, err, errcap);
}

/* ---- for a test program: the backend once, and a store location per test ---- */

/* The PostgreSQL server this program's store tests run on ("" = SQLite), and kt_test_store_check's answer. */
static char kt_test_store_base[1024];
static int kt_test_store_rc = -1;

/* For main, before the tests: 0 to run them; 77 to skip, or 1 to fail, when they are asked to run on PostgreSQL and
 * there is none. Says once on stdout which server they use (its URL redacted by the caller's rules: no password in
 * the fixture's URL, and KITE_TEST_STORE_URL is the developer's own). */
static inline int kt_test_store_check(void)
{
    if (kt_test_store_rc < 0) {
        kt_test_store_rc = kt_test_store_backend(kt_test_store_base, sizeof kt_test_store_base);
        if (!kt_test_store_rc && kt_test_store_base[0])
            printf("the store's tests on PostgreSQL, a schema per test\n");
    }
    return kt_test_store_rc;
}

static inline int kt_test_store_on_pg(void) { return kt_test_store_check() == 0 && kt_test_store_base[0] != 0; }

/* Where a test's store goes: dir itself on SQLite; on PostgreSQL the URL of a new schema, its name in schema for
 * kt_test_store_drop (schema[0] = 0 on SQLite). 0, or -1 (said on stderr). */
static inline int kt_test_store_where(const char *dir, char *where, size_t cap, char *schema, size_t scap)
{
    schema[0] = 0;
    if (!kt_test_store_on_pg()) {
        snprintf(where, cap, "%s", dir);
        return 0;
    }
    char err[512];
    kt_test_pg_schema_name("store", schema, scap);
    if (kt_test_pg_schema_create(kt_test_store_base, schema, where, cap, err, sizeof err)) {
        fprintf(stderr, "cannot make a schema for the test: %s\n", err);
        return -1;
    }
    return 0;
}

/* Drops what kt_test_store_where made (nothing on SQLite). */
static inline void kt_test_store_drop(const char *schema)
{
    char err[512];
    if (schema[0] && kt_test_pg_schema_drop(kt_test_store_base, schema, err, sizeof err))
        fprintf(stderr, "cannot drop the test's schema: %s\n", err);
}

#endif
