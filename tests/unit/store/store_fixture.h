/* Shared by the repository's tests (tests/unit/store/test_store*.c): each test gets a fresh /tmp directory and a
 * store of its own (setup/teardown), plus JSON and SQL probes. Each test file is its own program, so the helpers are
 * static inline: a file uses the ones it needs.
 *
 * The backend (tests/pg/pg_schema.h): SQLite in DIR/data, or, with KITE_TEST_STORE=pg (CMake's *_pg registrations)
 * or KITE_TEST_STORE_URL, PostgreSQL in a fresh schema per test, dropped at teardown. The same tests run on both;
 * the few that look at files or at SQLite's own catalogue say what they check instead on PostgreSQL. A main calls
 * fixture_backend() first and returns its answer when not 0 (77: no PostgreSQL, skipped). */
#ifndef KT_TEST_STORE_FIXTURE_H
#define KT_TEST_STORE_FIXTURE_H

#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "store/store.h"
#include "tests/pg/pg_schema.h"
#include "tests/unit/json_parse.h"

typedef struct fixture {
    char root[64];    /* mkdtemp */
    char data[1280];  /* where the store is: root/data (SQLite), or the URL of this test's schema (PostgreSQL) */
    char schema[64];  /* PostgreSQL: this test's schema; "" on SQLite */
    kt_store *s;
} fixture;

/* 0 to run the tests; 77 to skip them, or 1 to fail, when they are asked to run on PostgreSQL and there is none. */
static inline int fixture_backend(void) { return kt_test_store_check(); }
static inline int fixture_on_pg(void) { return kt_test_store_on_pg(); }

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The options every open_store passes: a test program may set them before setup (e.g. store.log-index). */
static kt_store_options fixture_options;

static inline void open_store(fixture *f)
{
    char err[512] = "";
    kt_status st = kt_store_open(f->data, &fixture_options, &f->s, err, sizeof err);
    if (st)
        fail_msg("kt_store_open(%s): %d %s", f->data, st, err);
}

/* On PostgreSQL: a new connection to the same schema (what a restarted server gets). */
static inline void reopen(fixture *f)
{
    kt_store_close(f->s);
    f->s = NULL;
    open_store(f);
}

static inline int setup(void **state)
{
    if (fixture_backend())
        return -1;
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/kite-test-store-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/data", f->root);
    if (kt_test_store_where(dir, f->data, sizeof f->data, f->schema, sizeof f->schema))
        return -1;
    open_store(f);
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    fixture *f = *state;
    kt_store_close(f->s);
    kt_test_store_drop(f->schema);
    int rc = nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

static inline void assert_json_equal(const json_t *got, const json_t *want)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fail_msg("JSON differs\n got: %s\nwant: %s", g ? g : "NULL", w ? w : "NULL");
    }
}

/* A small SQL probe on the store's database, through a connection of our own: SQLite's kite.db in the directory, or
 * the test's schema at a PostgreSQL URL (a boolean answer is 1 or 0 on both). -1 when there is no row. */
static inline long long sql_int(const char *where, const char *sql)
{
    if (kt_store_is_url_postgres(where)) {
        char err[512];
        long long v = kt_test_pg_int(where, sql, err, sizeof err);
        if (v == -2)
            fail_msg("%s", err);
        return v;
    }
    char path[1300];
    snprintf(path, sizeof path, "%s/kite.db", where);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int rc = sqlite3_step(st);
    long long v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Reads one flow revision (0: the latest) and checks the status, revision, deleted flag and source. */
static inline void check_flow(kt_store *s, const char *ns, const char *id, int revision, kt_status want_st,
                              int want_rev, int want_deleted, const char *want_source)
{
    kt_flow_row row;
    memset(&row, 0x5A, sizeof row);
    kt_status st = kt_store_flow_get(s, ns, id, revision, &row);
    if (st != want_st)
        fail_msg("flow_get(%s, %s, %d): %d, want %d", ns, id, revision, st, want_st);
    if (st)
        return;
    assert_string_equal(row.namespace_, ns);
    assert_string_equal(row.id, id);
    assert_int_equal(row.revision, want_rev);
    assert_int_equal(row.deleted, want_deleted);
    assert_string_equal(row.source, want_source);
    kt_flow_row_clear(&row);
    assert_null(row.source);
}

#endif
