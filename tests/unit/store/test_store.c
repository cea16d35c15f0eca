/* The repository (store/store.h) on its SQLite backend, on real files under a fresh /tmp directory:
 * opening and migrating, flow revisions, executions with per-run writes, unfinished executions, transactions,
 * task logs and their filters. */
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

/* ---- fixture: a temporary directory and a store opened in DIR/data ------------------------------- */

typedef struct fixture {
    char root[64];  /* mkdtemp */
    char data[128]; /* root/data: the store's directory */
    kt_store *s;
} fixture;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void open_store(fixture *f)
{
    char err[512] = "";
    kt_status st = kt_store_open(f->data, NULL, &f->s, err, sizeof err);
    if (st)
        fail_msg("kt_store_open(%s): %d %s", f->data, st, err);
}

static void reopen(fixture *f)
{
    kt_store_close(f->s);
    f->s = NULL;
    open_store(f);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/kite-test-store-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    snprintf(f->data, sizeof f->data, "%s/data", f->root);
    open_store(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    kt_store_close(f->s);
    int rc = nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad test JSON %s: %s", text, e.text);
    return v;
}

static void assert_json_equal(const json_t *got, const json_t *want)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fail_msg("JSON differs\n got: %s\nwant: %s", g ? g : "NULL", w ? w : "NULL");
    }
}

/* A small SQL probe on the database file, through a connection of our own. */
static long long sql_int(const char *dir, const char *sql)
{
    char path[256];
    snprintf(path, sizeof path, "%s/kite.db", dir);
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

/* ---- open ---------------------------------------------------------------------------------------- */

static void test_open_creates_and_migrates(void **state)
{
    fixture *f = *state;
    char path[256];
    struct stat sb;
    assert_int_equal(stat(f->data, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    snprintf(path, sizeof path, "%s/kite.db", f->data);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    /* migrated: every table exists and the schema version is recorded */
    assert_true(sql_int(f->data, "PRAGMA user_version") >= 1);
    static const char *const tables[] = {"flows", "executions", "taskruns", "logs"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char q[128];
        snprintf(q, sizeof q, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'", tables[i]);
        if (sql_int(f->data, q) != 1)
            fail_msg("table %s missing", tables[i]);
    }
    /* WAL journal, persistent in the file */
    char wal[256];
    snprintf(wal, sizeof wal, "%s/kite.db-wal", f->data);
    assert_int_equal(stat(wal, &sb), 0);
}

static void test_reopen_keeps_data(void **state)
{
    fixture *f = *state;
    long long version = sql_int(f->data, "PRAGMA user_version");
    int rev, changed;
    assert_int_equal(kt_store_flow_save(f->s, "ns", "f", "id: f\n", &rev, &changed), KT_OK);
    json_t *ex = parse("{\"id\":\"e1\",\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":{\"current\":\"RUNNING\"},"
                       "\"taskRunList\":[{\"id\":\"r1\",\"state\":{\"current\":\"RUNNING\"}}]}");
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    reopen(f);
    reopen(f); /* twice: migrations must not run again */
    assert_int_equal(sql_int(f->data, "PRAGMA user_version"), version);
    kt_flow_row row;
    assert_int_equal(kt_store_flow_get(f->s, "ns", "f", 0, &row), KT_OK);
    assert_int_equal(row.revision, 1);
    assert_string_equal(row.source, "id: f\n");
    kt_flow_row_clear(&row);
    json_t *got;
    assert_int_equal(kt_store_execution_get(f->s, "e1", &got), KT_OK);
    assert_json_equal(got, ex);
    json_decref(got);
    json_decref(ex);
    /* a second store on the same directory (the WAL allows readers) sees the same data */
    kt_store *other;
    char err[256];
    assert_int_equal(kt_store_open(f->data, NULL, &other, err, sizeof err), KT_OK);
    assert_int_equal(kt_store_flow_get(other, "ns", "f", 1, &row), KT_OK);
    kt_flow_row_clear(&row);
    kt_store_close(other);
}

static void test_open_sync_full(void **state)
{
    fixture *f = *state;
    kt_store_close(f->s);
    f->s = NULL;
    kt_store_options opt = {.sync_full = 1};
    char err[256];
    assert_int_equal(kt_store_open(f->data, &opt, &f->s, err, sizeof err), KT_OK);
    int rev, changed;
    assert_int_equal(kt_store_flow_save(f->s, "ns", "f", "x", &rev, &changed), KT_OK);
    assert_int_equal(rev, 1);
}

static void test_open_failures(void **state)
{
    fixture *f = *state;
    /* a regular file where a directory is needed */
    char file[256], under[300];
    snprintf(file, sizeof file, "%s/plain", f->root);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fputs("not a directory\n", fp);
    fclose(fp);
    snprintf(under, sizeof under, "%s/data", file);
    const char *const dirs[] = {under, file};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        kt_store *s = (kt_store *)&s; /* a sentinel: must stay untouched on failure */
        kt_store *sentinel = s;
        char err[512] = "";
        kt_status st = kt_store_open(dirs[i], NULL, &s, err, sizeof err);
        if (st == KT_OK)
            fail_msg("kt_store_open(%s) succeeded", dirs[i]);
        assert_ptr_equal(s, sentinel);
        if (!strstr(err, file))
            fail_msg("kt_store_open(%s): the message does not name the path: '%s'", dirs[i], err);
    }
    /* the file was not replaced */
    struct stat sb;
    assert_int_equal(stat(file, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
}

/* A database written by a newer kite is refused with a message. */
static void test_open_newer_schema(void **state)
{
    fixture *f = *state;
    kt_store_close(f->s);
    f->s = NULL;
    char path[256];
    snprintf(path, sizeof path, "%s/kite.db", f->data);
    sqlite3 *db;
    sqlite3_stmt *q;
    int current = 0;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    current = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    assert_true(current >= 1);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[256] = "";
    kt_store *s = NULL;
    assert_int_not_equal(kt_store_open(f->data, NULL, &s, err, sizeof err), KT_OK);
    assert_null(s);
    assert_non_null(strstr(err, "999"));
    /* put it back so the fixture can reopen */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", current);
    assert_int_equal(sqlite3_exec(db, pragma, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    open_store(f);
}

/* ---- flows --------------------------------------------------------------------------------------- */

static void check_flow(kt_store *s, const char *ns, const char *id, int revision, kt_status want_st, int want_rev,
                       int want_deleted, const char *want_source)
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

static void test_flow_revisions(void **state)
{
    fixture *f = *state;
    kt_store *s = f->s;
    int rev = -1, changed = -1;
    int64_t before = kt_now_us();
    assert_int_equal(kt_store_flow_save(s, "company.team", "hello", "id: hello\nv: 1\n", &rev, &changed), KT_OK);
    int64_t after = kt_now_us();
    assert_int_equal(rev, 1);
    assert_int_equal(changed, 1);
    kt_flow_row row;
    assert_int_equal(kt_store_flow_get(s, "company.team", "hello", 0, &row), KT_OK);
    assert_in_range(row.updated_us, before, after);
    kt_flow_row_clear(&row);

    /* same source: nothing written */
    rev = changed = -1;
    assert_int_equal(kt_store_flow_save(s, "company.team", "hello", "id: hello\nv: 1\n", &rev, &changed), KT_OK);
    assert_int_equal(rev, 1);
    assert_int_equal(changed, 0);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM flows"), 1);

    /* new source: revision 2 */
    assert_int_equal(kt_store_flow_save(s, "company.team", "hello", "id: hello\nv: 2\n", &rev, &changed), KT_OK);
    assert_int_equal(rev, 2);
    assert_int_equal(changed, 1);
    /* the same id in another namespace is another flow */
    assert_int_equal(kt_store_flow_save(s, "company.other", "hello", "other", &rev, &changed), KT_OK);
    assert_int_equal(rev, 1);

    check_flow(s, "company.team", "hello", 0, KT_OK, 2, 0, "id: hello\nv: 2\n");
    check_flow(s, "company.team", "hello", 2, KT_OK, 2, 0, "id: hello\nv: 2\n");
    check_flow(s, "company.team", "hello", 1, KT_OK, 1, 0, "id: hello\nv: 1\n");
    check_flow(s, "company.team", "hello", 3, KT_ENOTFOUND, 0, 0, NULL);
    check_flow(s, "company.other", "hello", 0, KT_OK, 1, 0, "other");
    check_flow(s, "company.team", "nope", 0, KT_ENOTFOUND, 0, 0, NULL);
    check_flow(s, "company", "hello", 0, KT_ENOTFOUND, 0, 0, NULL);

    /* delete: the latest is gone, the history stays readable */
    assert_int_equal(kt_store_flow_delete(s, "company.team", "hello"), KT_OK);
    check_flow(s, "company.team", "hello", 0, KT_ENOTFOUND, 0, 0, NULL);
    check_flow(s, "company.team", "hello", 1, KT_OK, 1, 0, "id: hello\nv: 1\n");
    check_flow(s, "company.team", "hello", 2, KT_OK, 2, 0, "id: hello\nv: 2\n");
    check_flow(s, "company.team", "hello", 3, KT_OK, 3, 1, "id: hello\nv: 2\n"); /* the deletion revision */
    check_flow(s, "company.other", "hello", 0, KT_OK, 1, 0, "other");
    assert_int_equal(kt_store_flow_delete(s, "company.team", "hello"), KT_ENOTFOUND); /* twice */
    assert_int_equal(kt_store_flow_delete(s, "company.team", "missing"), KT_ENOTFOUND);

    /* saving after a delete, even the same source, makes the next revision */
    rev = changed = -1;
    assert_int_equal(kt_store_flow_save(s, "company.team", "hello", "id: hello\nv: 2\n", &rev, &changed), KT_OK);
    assert_int_equal(rev, 4);
    assert_int_equal(changed, 1);
    check_flow(s, "company.team", "hello", 0, KT_OK, 4, 0, "id: hello\nv: 2\n");

    /* all of it survives a reopen */
    reopen(f);
    check_flow(f->s, "company.team", "hello", 0, KT_OK, 4, 0, "id: hello\nv: 2\n");
    check_flow(f->s, "company.team", "hello", 3, KT_OK, 3, 1, "id: hello\nv: 2\n");
    check_flow(f->s, "company.team", "hello", 1, KT_OK, 1, 0, "id: hello\nv: 1\n");
}

/* Sources are stored byte for byte (UTF-8, quotes, empty lines, a long document). */
static void test_flow_sources_verbatim(void **state)
{
    fixture *f = *state;
    size_t big_len = 200000;
    char *big = malloc(big_len + 1);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)('a' + i % 26);
    big[big_len] = 0;
    const char *const sources[] = {"", "id: x\n\n\n# 'quotes' \"dq\" ; DROP TABLE flows; --\n",
                                   "message: h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x9a\x80\n", big};
    for (size_t i = 0; i < sizeof sources / sizeof *sources; i++) {
        int rev, changed;
        assert_int_equal(kt_store_flow_save(f->s, "ns", "v", sources[i], &rev, &changed), KT_OK);
        assert_int_equal(rev, (int)i + 1);
        check_flow(f->s, "ns", "v", 0, KT_OK, (int)i + 1, 0, sources[i]);
    }
    free(big);
}

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

static json_t *get_exec(kt_store *s, const char *id)
{
    json_t *out = NULL;
    kt_status st = kt_store_execution_get(s, id, &out);
    if (st)
        fail_msg("execution_get(%s): %d", id, st);
    return out;
}

static void test_execution_roundtrip(void **state)
{
    fixture *f = *state;
    json_t *ex = parse(exec_json);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_t *got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    /* taskRunList order is kept */
    const char *const order[] = {"r0", "r1", "r2"};
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(got, "taskRunList"), i),
                                                              "id")),
                            order[i]);
    json_decref(got);
    /* again after a reopen */
    reopen(f);
    got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);
    json_t *none = (json_t *)0x1;
    assert_int_equal(kt_store_execution_get(f->s, "nope", &none), KT_ENOTFOUND);
    json_decref(ex);
}

static void set_run_state(json_t *ex, size_t i, const char *s)
{
    json_t *tr = json_array_get(json_object_get(ex, "taskRunList"), i);
    assert_non_null(tr);
    json_object_set_new(json_object_get(tr, "state"), "current", json_string(s));
}

static const char *stored_run_state(const json_t *ex, size_t i)
{
    return json_string_value(
        json_object_get(json_object_get(json_array_get(json_object_get(ex, "taskRunList"), i), "state"), "current"));
}


static void test_execution_partial_put(void **state)
{
    fixture *f = *state;
    json_t *ex = parse(exec_json);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_t *stored = json_deep_copy(ex);

    /* run 1 ends and is listed; run 2 changes in memory but is NOT listed; the header changes too */
    set_run_state(ex, 1, "SUCCESS");
    json_object_set_new(json_array_get(json_object_get(ex, "taskRunList"), 1), "outputs", parse("{\"x\":5}"));
    set_run_state(ex, 2, "FAILED");
    json_object_set_new(json_object_get(ex, "state"), "current", json_string("PAUSED"));
    json_object_set_new(ex, "flowRevision", json_integer(4));
    size_t runs1[] = {1};
    assert_int_equal(kt_store_execution_put(f->s, ex, runs1, 1), KT_OK);
    json_t *got = get_exec(f->s, "ex1");
    /* what we expect: the new header, the new run 1, the OLD run 2 (and run 0 as it was) */
    json_t *want = json_deep_copy(ex);
    json_array_set(json_object_get(want, "taskRunList"), 2, json_array_get(json_object_get(stored, "taskRunList"), 2));
    assert_json_equal(got, want);
    assert_string_equal(stored_run_state(got, 1), "SUCCESS");
    assert_string_equal(stored_run_state(got, 2), "CREATED");
    json_decref(got);
    json_decref(want);

    /* now list run 2 (with run 0, unchanged): the stored document equals the one in memory */
    size_t runs02[] = {2, 0};
    assert_int_equal(kt_store_execution_put(f->s, ex, runs02, 2), KT_OK);
    got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);

    /* a new run appended and written alone lands at the end, in order */
    json_array_append_new(json_object_get(ex, "taskRunList"),
                          parse("{\"id\":\"r3\",\"taskId\":\"t3\",\"outputs\":null,\"state\":{\"current\":\"RUNNING\"}}"));
    size_t runs3[] = {3};
    assert_int_equal(kt_store_execution_put(f->s, ex, runs3, 1), KT_OK);
    got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);

    /* nruns 0 with a non-NULL list writes the header only */
    json_object_set_new(json_object_get(ex, "state"), "current", json_string("RUNNING"));
    set_run_state(ex, 3, "SUCCESS");
    assert_int_equal(kt_store_execution_put(f->s, ex, runs3, 0), KT_OK);
    got = get_exec(f->s, "ex1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(got, "state"), "current")), "RUNNING");
    assert_string_equal(stored_run_state(got, 3), "RUNNING");
    json_decref(got);

    /* a position outside taskRunList is refused */
    size_t bad[] = {4};
    assert_int_equal(kt_store_execution_put(f->s, ex, bad, 1), KT_EINVAL);
    json_decref(stored);
    json_decref(ex);
}

/* Kestra: taskRunList is null until the first task run; such an execution comes back without the key. */
static void test_execution_without_runs(void **state)
{
    fixture *f = *state;
    json_t *ex = parse("{\"id\":\"e0\",\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":{\"current\":\"CREATED\"},"
                       "\"deleted\":false}");
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_t *got = get_exec(f->s, "e0");
    assert_null(json_object_get(got, "taskRunList"));
    assert_json_equal(got, ex);
    json_decref(got);
    /* its first run arrives */
    json_object_set_new(ex, "taskRunList",
                        parse("[{\"id\":\"r0\",\"taskId\":\"t\",\"state\":{\"current\":\"RUNNING\"}}]"));
    size_t r0[] = {0};
    assert_int_equal(kt_store_execution_put(f->s, ex, r0, 1), KT_OK);
    got = get_exec(f->s, "e0");
    assert_json_equal(got, ex);
    json_decref(got);
    json_decref(ex);
}

/* put with runs NULL writes "all of them": the stored execution must then be exactly the one given, also when
 * it has fewer task runs than the stored one. */
static void test_execution_put_all_replaces_runs(void **state)
{
    fixture *f = *state;
    json_t *ex = parse(exec_json);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_array_remove(json_object_get(ex, "taskRunList"), 2);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_t *got = get_exec(f->s, "ex1");
    int same = json_equal(got, ex);
    size_t n = json_array_size(json_object_get(got, "taskRunList"));
    json_decref(got);
    json_decref(ex);
    if (!same)
        fail_msg("(store/sqlite.c kt_store_execution_put): put with runs=NULL of an execution with 2 task runs "
                 "over a stored one with 3 leaves the stale third run: get returns %zu runs", n);
}

static void test_execution_put_rejects(void **state)
{
    fixture *f = *state;
    static const char *const bad[] = {
        "{\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":{\"current\":\"RUNNING\"}}",
        "{\"id\":\"b1\",\"flowId\":\"f\",\"state\":{\"current\":\"RUNNING\"}}",
        "{\"id\":\"b1\",\"namespace\":\"ns\",\"state\":{\"current\":\"RUNNING\"}}",
        "{\"id\":\"b1\",\"namespace\":\"ns\",\"flowId\":\"f\"}",
        "{\"id\":\"b1\",\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":{}}",
        "{\"id\":\"b1\",\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":\"RUNNING\"}",
        "{\"id\":\"b1\",\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":{\"current\":1}}",
        "{\"id\":1,\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":{\"current\":\"RUNNING\"}}",
        "{\"id\":\"b1\",\"namespace\":null,\"flowId\":\"f\",\"state\":{\"current\":\"RUNNING\"}}",
        "{\"id\":\"b1\",\"namespace\":\"ns\",\"flowId\":[],\"state\":{\"current\":\"RUNNING\"}}",
        "[]",
        "\"ex\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *ex = parse(bad[i]);
        kt_status st = kt_store_execution_put(f->s, ex, NULL, 0);
        if (st != KT_EINVAL)
            fail_msg("put %s: %d, want KT_EINVAL", bad[i], st);
        json_decref(ex);
    }
    json_t *none = NULL;
    assert_int_equal(kt_store_execution_get(f->s, "b1", &none), KT_ENOTFOUND);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM executions"), 0);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM taskruns"), 0);
}

static json_t *mini_exec(const char *id, const char *state)
{
    return json_pack("{s:s, s:s, s:s, s:{s:s}, s:[{s:s, s:{s:s}}]}", "id", id, "namespace", "ns", "flowId", "f",
                     "state", "current", state, "taskRunList", "id", "r", "state", "current", state);
}

static void check_unfinished(kt_store *s, const char *const *want, size_t n)
{
    json_t *arr = NULL;
    assert_int_equal(kt_store_executions_unfinished(s, &arr), KT_OK);
    assert_true(json_is_array(arr));
    char got[256] = "", exp[256] = "";
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        strcat(got, json_string_value(json_object_get(e, "id")));
        strcat(got, " ");
        /* whole documents, with their task runs */
        assert_non_null(json_object_get(e, "taskRunList"));
        assert_string_equal(stored_run_state(e, 0),
                            json_string_value(json_object_get(json_object_get(e, "state"), "current")));
    }
    for (i = 0; i < n; i++) {
        strcat(exp, want[i]);
        strcat(exp, " ");
    }
    if (strcmp(got, exp))
        fail_msg("unfinished: [%s], want [%s]", got, exp);
    json_decref(arr);
}

static void test_executions_unfinished(void **state)
{
    fixture *f = *state;
    check_unfinished(f->s, NULL, 0);
    static const struct {
        const char *id, *state;
    } rows[] = {
        {"e1", "RUNNING"}, {"e2", "SUCCESS"},   {"e3", "CREATED"}, {"e4", "FAILED"},  {"e5", "PAUSED"},
        {"e6", "WARNING"}, {"e7", "KILLED"},    {"e8", "KILLING"}, {"e9", "QUEUED"},  {"e10", "CANCELLED"},
        {"e11", "SKIPPED"}, {"e12", "RETRIED"}, {"e13", "RETRYING"}, {"e14", "RESTARTED"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        json_t *ex = mini_exec(rows[i].id, rows[i].state);
        assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
        json_decref(ex);
    }
    const char *const want1[] = {"e1", "e3", "e5", "e8", "e9", "e13", "e14"};
    check_unfinished(f->s, want1, 7);

    /* updating keeps the insertion position; terminating removes; a terminated one running again comes back at
     * its original position */
    json_t *ex = mini_exec("e1", "KILLING");
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_decref(ex);
    ex = mini_exec("e3", "SUCCESS");
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_decref(ex);
    ex = mini_exec("e2", "RESTARTED");
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    json_decref(ex);
    const char *const want2[] = {"e1", "e2", "e5", "e8", "e9", "e13", "e14"};
    check_unfinished(f->s, want2, 7);
    reopen(f);
    check_unfinished(f->s, want2, 7);
}

/* ---- transactions -------------------------------------------------------------------------------- */

static void test_transactions(void **state)
{
    fixture *f = *state;
    json_t *ex = parse(exec_json);
    json_t *entries = parse("[{\"executionId\":\"ex1\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"level\":\"INFO\","
                            "\"message\":\"m\"}]");
    int rev, changed;

    /* rollback leaves nothing */
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_begin(f->s), KT_EINTERNAL); /* no nesting */
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_flow_save(f->s, "ns", "f", "src", &rev, &changed), KT_OK);
    assert_int_equal(kt_store_logs_append(f->s, entries), KT_OK);
    /* visible inside the transaction */
    json_t *got = get_exec(f->s, "ex1");
    json_decref(got);
    kt_store_rollback(f->s);
    json_t *none = NULL;
    assert_int_equal(kt_store_execution_get(f->s, "ex1", &none), KT_ENOTFOUND);
    check_flow(f->s, "ns", "f", 0, KT_ENOTFOUND, 0, 0, NULL);
    json_t *logs = NULL;
    assert_int_equal(kt_store_logs_get(f->s, "ex1", NULL, &logs), KT_OK);
    assert_int_equal(json_array_size(logs), 0);
    json_decref(logs);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM taskruns"), 0);

    /* commit persists, across a reopen */
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    assert_int_equal(kt_store_flow_save(f->s, "ns", "f", "src", &rev, &changed), KT_OK);
    assert_int_equal(rev, 1);
    assert_int_equal(kt_store_logs_append(f->s, entries), KT_OK);
    assert_int_equal(kt_store_commit(f->s), KT_OK);
    /* another connection sees the commit */
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM executions WHERE id='ex1'"), 1);
    reopen(f);
    got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);
    check_flow(f->s, "ns", "f", 0, KT_OK, 1, 0, "src");
    assert_int_equal(kt_store_logs_get(f->s, "ex1", NULL, &logs), KT_OK);
    assert_int_equal(json_array_size(logs), 1);
    json_decref(logs);

    /* a rolled-back update keeps the committed version; begin works again after rollback and commit */
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    json_t *ex2 = json_deep_copy(ex);
    set_run_state(ex2, 1, "FAILED");
    size_t r1[] = {1};
    assert_int_equal(kt_store_execution_put(f->s, ex2, r1, 1), KT_OK);
    kt_store_rollback(f->s);
    got = get_exec(f->s, "ex1");
    assert_json_equal(got, ex);
    json_decref(got);
    kt_store_rollback(f->s); /* harmless without a transaction */
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_commit(f->s), KT_OK);
    json_decref(ex2);
    json_decref(entries);
    json_decref(ex);
}

/* ---- logs ---------------------------------------------------------------------------------------- */

/* Appended out of timestamp order; "n" is the expected position in timestamp order (ties: append order). */
static const char *const log_json =
    "["
    "{\"executionId\":\"ex1\",\"taskId\":\"t1\",\"taskRunId\":\"r1\",\"attemptNumber\":0,\"level\":\"INFO\","
    " \"timestamp\":\"2024-01-01T00:00:02Z\",\"message\":\"m2\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t1\",\"taskRunId\":\"r1\",\"attemptNumber\":0,\"level\":\"ERROR\","
    " \"timestamp\":\"2024-01-01T00:00:01Z\",\"message\":\"m1\"},"
    "{\"executionId\":\"ex1\",\"level\":\"TRACE\",\"timestamp\":\"2024-01-01T00:00:00.5Z\",\"message\":\"m0\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t1\",\"taskRunId\":\"r1\",\"attemptNumber\":1,\"level\":\"WARN\","
    " \"timestamp\":\"2024-01-01T00:00:03Z\",\"message\":\"m3\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t2\",\"taskRunId\":\"r2\",\"attemptNumber\":0,\"level\":\"DEBUG\","
    " \"timestamp\":\"2024-01-01T00:00:04Z\",\"message\":\"m4\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t2\",\"taskRunId\":\"r2\",\"attemptNumber\":0,\"level\":\"WARN\","
    " \"timestamp\":\"2024-01-01T00:00:04Z\",\"message\":\"m5\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t2\",\"taskRunId\":\"r2\",\"attemptNumber\":0,\"level\":\"INFO\","
    " \"timestamp\":\"2024-01-01T01:00:05+01:00\",\"message\":\"m6\"},"
    "{\"executionId\":\"ex2\",\"taskId\":\"t1\",\"taskRunId\":\"x1\",\"attemptNumber\":0,\"level\":\"ERROR\","
    " \"timestamp\":\"2024-01-01T00:00:00Z\",\"message\":\"other execution\"},"
    /* not storable: skipped */
    "{\"taskId\":\"t1\",\"level\":\"ERROR\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"message\":\"no execution\"},"
    "{\"executionId\":\"ex1\",\"level\":\"ERROR\",\"message\":\"no timestamp\"},"
    "{\"executionId\":\"ex1\",\"level\":\"ERROR\",\"timestamp\":\"yesterday\",\"message\":\"bad timestamp\"}"
    "]";

static void check_logs(kt_store *s, const char *exec_id, const kt_log_filter *f, const char *want)
{
    json_t *arr = NULL;
    kt_status st = kt_store_logs_get(s, exec_id, f, &arr);
    if (st)
        fail_msg("logs_get: %d", st);
    char got[512] = "";
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        if (i)
            strcat(got, ",");
        strcat(got, json_string_value(json_object_get(e, "message")));
    }
    if (strcmp(got, want))
        fail_msg("logs(min %s task %s run %s attempt %d): [%s], want [%s]", f && f->min_level ? f->min_level : "-",
                 f && f->task_id ? f->task_id : "-", f && f->taskrun_id ? f->taskrun_id : "-", f ? f->attempt : -1,
                 got, want);
    json_decref(arr);
}

static void test_logs(void **state)
{
    fixture *f = *state;
    json_t *entries = parse(log_json);
    assert_int_equal(kt_store_logs_append(f->s, entries), KT_OK);

    /* entries come back whole */
    json_t *arr = NULL;
    kt_log_filter one = {.taskrun_id = "r1", .attempt = 1};
    assert_int_equal(kt_store_logs_get(f->s, "ex1", &one, &arr), KT_OK);
    assert_int_equal(json_array_size(arr), 1);
    assert_json_equal(json_array_get(arr, 0), json_array_get(entries, 3));
    json_decref(arr);

    static const struct {
        kt_log_filter f;
        const char *want;
    } cases[] = {
        {{NULL, NULL, NULL, -1}, "m0,m1,m2,m3,m4,m5,m6"},
        {{"TRACE", NULL, NULL, -1}, "m0,m1,m2,m3,m4,m5,m6"},
        {{"DEBUG", NULL, NULL, -1}, "m1,m2,m3,m4,m5,m6"},
        {{"INFO", NULL, NULL, -1}, "m1,m2,m3,m5,m6"},
        {{"WARN", NULL, NULL, -1}, "m1,m3,m5"},
        {{"warn", NULL, NULL, -1}, "m1,m3,m5"},
        {{"ERROR", NULL, NULL, -1}, "m1"},
        {{NULL, NULL, "t1", -1}, "m1,m2,m3"},
        {{NULL, NULL, "t2", -1}, "m4,m5,m6"},
        {{NULL, NULL, "t9", -1}, ""},
        {{"WARN", NULL, "t2", -1}, "m5"},
        {{NULL, "r1", NULL, -1}, "m1,m2,m3"},
        {{NULL, "r1", NULL, 0}, "m1,m2"},
        {{NULL, "r1", NULL, 1}, "m3"},
        {{NULL, "r1", NULL, 2}, ""},
        {{"ERROR", "r1", NULL, 0}, "m1"},
        {{NULL, "r2", NULL, 0}, "m4,m5,m6"},
        /* Kestra: taskId wins over taskRunId; attempt applies only with taskRunId */
        {{NULL, "r2", "t1", -1}, "m1,m2,m3"},
        {{NULL, "r1", "t1", 1}, "m1,m2,m3"},
        {{NULL, NULL, NULL, 0}, "m0,m1,m2,m3,m4,m5,m6"},
    };
    check_logs(f->s, "ex1", NULL, "m0,m1,m2,m3,m4,m5,m6");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_logs(f->s, "ex1", &cases[i].f, cases[i].want);
    check_logs(f->s, "ex2", NULL, "other execution");
    check_logs(f->s, "nope", NULL, "");

    /* unknown minimum level */
    static const char *const bad[] = {"BOGUS", "WARNING", "", "FATAL"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kt_log_filter lf = {.min_level = bad[i], .attempt = -1};
        json_t *out = NULL;
        assert_int_equal(kt_store_logs_get(f->s, "ex1", &lf, &out), KT_EINVAL);
        assert_null(out);
    }

    /* more entries later, an unknown level is kept as INFO; everything survives a reopen */
    json_t *more = parse("[{\"executionId\":\"ex1\",\"level\":\"NOTICE\",\"timestamp\":\"2024-01-01T00:00:00.75Z\","
                         "\"message\":\"mx\"}]");
    assert_int_equal(kt_store_logs_append(f->s, more), KT_OK);
    reopen(f);
    check_logs(f->s, "ex1", NULL, "m0,mx,m1,m2,m3,m4,m5,m6");
    kt_log_filter info = {.min_level = "INFO", .attempt = -1}, warn = {.min_level = "WARN", .attempt = -1};
    check_logs(f->s, "ex1", &info, "mx,m1,m2,m3,m5,m6");
    check_logs(f->s, "ex1", &warn, "m1,m3,m5");
    /* an empty batch is fine */
    json_t *empty = json_array();
    assert_int_equal(kt_store_logs_append(f->s, empty), KT_OK);
    json_decref(empty);
    json_decref(more);
    json_decref(entries);
}

static void test_level_rank(void **state)
{
    (void)state;
    static const struct {
        const char *level;
        int rank;
    } cases[] = {
        {"TRACE", 0}, {"DEBUG", 1}, {"INFO", 2}, {"WARN", 3}, {"ERROR", 4}, {"trace", 0}, {"Warn", 3},
        {"error", 4}, {"WARNING", -1}, {"ERR", -1}, {"", -1}, {"FATAL", -1}, {" INFO", -1}, {NULL, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (kt_store_level_rank(cases[i].level) != cases[i].rank)
            fail_msg("rank(%s) = %d, want %d", cases[i].level ? cases[i].level : "(null)",
                     kt_store_level_rank(cases[i].level), cases[i].rank);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_creates_and_migrates),
        T(test_reopen_keeps_data),
        T(test_open_sync_full),
        T(test_open_failures),
        T(test_open_newer_schema),
        T(test_flow_revisions),
        T(test_flow_sources_verbatim),
        T(test_execution_roundtrip),
        T(test_execution_partial_put),
        T(test_execution_without_runs),
        T(test_execution_put_all_replaces_runs),
        T(test_execution_put_rejects),
        T(test_executions_unfinished),
        T(test_transactions),
        T(test_logs),
        cmocka_unit_test(test_level_rank),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
