/* Shared by the PostgreSQL store's query tests (test_pg_query.c, test_pg_executions.c): each test gets a fresh
 * PostgreSQL schema (CREATE SCHEMA through a side connection, the store opened at the URL with
 * options=-csearch_path=...) and a fresh SQLite directory, and runs every check on both backends (s[PG], s[LITE]);
 * probes read either database. Static helpers: each test file is its own program. */
#ifndef KT_TEST_PG_QUERY_FIXTURE_H
#define KT_TEST_PG_QUERY_FIXTURE_H

#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "store/store.h"
#include "tests/pg/pg_schema.h"
#include "tests/unit/json_parse.h"

enum { PG, LITE, NB }; /* the backends, in the order each check runs on them */
static const char *const backend[NB] = {"postgresql", "sqlite"};

static char g_url[512];

typedef struct fixture {
    kt_store *s[NB];
    PGconn *side;   /* made the schema; the probes' connection, its search_path on the schema */
    char schema[48];
    char url[1024]; /* g_url with the schema as search_path */
    char root[64];  /* the SQLite store's directory */
} fixture;

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void side_exec(fixture *f, const char *sql)
{
    PGresult *r = PQexec(f->side, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(f->side));
    PQclear(r);
}

static inline void open_backend(fixture *f, int b)
{
    char err[512] = "";
    kt_status st = kt_store_open(b == PG ? f->url : f->root, NULL, &f->s[b], err, sizeof err);
    if (st)
        fail_msg("kt_store_open(%s): %d %s", backend[b], st, err);
}

static inline void reopen(fixture *f, int b)
{
    kt_store_close(f->s[b]);
    f->s[b] = NULL;
    open_backend(f, b);
}

static inline int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[512];
    kt_test_pg_schema_name("pgq", f->schema, sizeof f->schema);
    if (kt_test_pg_schema_create(g_url, f->schema, f->url, sizeof f->url, err, sizeof err))
        fail_msg("%s", err);
    f->side = PQconnectdb(f->url); /* lands in the schema too */
    if (PQstatus(f->side) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(f->side));
    side_exec(f, "SET client_min_messages = warning");
    snprintf(f->root, sizeof f->root, "/tmp/kite-test-pgq-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    for (int b = 0; b < NB; b++)
        open_backend(f, b);
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    fixture *f = *state;
    for (int b = 0; b < NB; b++)
        kt_store_close(f->s[b]);
    PQfinish(f->side);
    char err[512];
    if (kt_test_pg_schema_drop(g_url, f->schema, err, sizeof err))
        fail_msg("%s", err);
    int rc = nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

/* One integer from a SQL probe written the same for both databases (-1 without a row). */
static inline long long probe(fixture *f, int b, const char *sql)
{
    if (b == PG) {
        PGresult *r = PQexec(f->side, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            fail_msg("%s: %s", sql, PQerrorMessage(f->side));
        long long v = PQntuples(r) && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
        PQclear(r);
        return v;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/kite.db", f->root);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static inline void assert_json_same(int b, const char *what, const json_t *got, const json_t *want)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        char *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
        fail_msg("%s on %s differs\n got: %s\nwant: %s", what, backend[b], g ? g : "NULL", w ? w : "NULL");
    }
}

/* The member `key` of each object of a list, joined with commas (a static inline buffer, one at a time). */
static inline const char *joined(const json_t *list, const char *key)
{
    static char buf[2048];
    buf[0] = 0;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *v = json_string_value(json_object_get(e, key));
        strncat(buf, i ? "," : "", sizeof buf - strlen(buf) - 1);
        strncat(buf, v ? v : "?", sizeof buf - strlen(buf) - 1);
    }
    return buf;
}

/* ---- log checks both test files make ---------------------------------------------------------------------------- */

static inline void check_logs(kt_store *s, int b, const char *exec_id, const kt_log_filter *f, const char *want)
{
    json_t *arr = NULL;
    kt_status st = kt_store_logs_get(s, exec_id, f, &arr);
    if (st)
        fail_msg("logs_get on %s: %d", backend[b], st);
    if (strcmp(joined(arr, "message"), want))
        fail_msg("logs on %s (min %s task %s run %s attempt %d): [%s], want [%s]", backend[b],
                 f && f->min_level ? f->min_level : "-", f && f->task_id ? f->task_id : "-",
                 f && f->taskrun_id ? f->taskrun_id : "-", f ? f->attempt : -1, joined(arr, "message"), want);
    json_decref(arr);
}

/* A log search on one backend: the messages of the page and the total. */
static inline void log_search(kt_store *s, int b, kt_log_query q, const char *want, int64_t want_total)
{
    json_t *res = NULL;
    int64_t total = -1;
    kt_status st = kt_store_logs_search(s, &q, &res, &total);
    if (st)
        fail_msg("logs_search on %s: %d", backend[b], st);
    if (strcmp(joined(res, "message"), want) || total != want_total)
        fail_msg("logs_search on %s: [%s] of %lld, want [%s] of %lld", backend[b], joined(res, "message"),
                 (long long)total, want, (long long)want_total);
    json_decref(res);
}

#endif
