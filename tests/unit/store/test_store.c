/* The repository (store/store.h) on a real database (store_fixture.h: SQLite files under a fresh /tmp directory, or a
 * fresh PostgreSQL schema): opening and migrating, and flow revisions. Executions and transactions are in
 * test_store_executions.c, task logs in test_store_logs.c. */
#include "store_fixture.h"

/* ---- open ---------------------------------------------------------------------------------------- */

/* The schema version the store recorded: SQLite's user_version, PostgreSQL's kite_schema row. */
static long long schema_version(const fixture *f)
{
    return sql_int(f->data, fixture_on_pg() ? "SELECT MAX(version) FROM kite_schema" : "PRAGMA user_version");
}

static void test_open_creates_and_migrates(void **state)
{
    fixture *f = *state;
    static const char *const tables[] = {"flows", "executions", "taskruns", "logs", "triggers", "windows", "notices",
                                         "metrics"};
    assert_true(schema_version(f) >= 1);
    if (fixture_on_pg()) {
        /* migrated into the test's schema (the URL's search_path), one version row */
        for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
            char q[200];
            snprintf(q, sizeof q, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
                                  " AND table_name = '%s'", tables[i]);
            if (sql_int(f->data, q) != 1)
                fail_msg("table %s missing", tables[i]);
        }
        assert_int_equal(sql_int(f->data, "SELECT count(*) FROM kite_schema"), 1);
        char q[160];
        snprintf(q, sizeof q, "SELECT current_schema() = '%s'", f->schema);
        assert_int_equal(sql_int(f->data, q), 1);
        return;
    }
    char path[1300];
    struct stat sb;
    assert_int_equal(stat(f->data, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    snprintf(path, sizeof path, "%s/kite.db", f->data);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    /* migrated: every table exists and the schema version is recorded */
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char q[128];
        snprintf(q, sizeof q, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'", tables[i]);
        if (sql_int(f->data, q) != 1)
            fail_msg("table %s missing", tables[i]);
    }
    /* WAL journal, persistent in the file */
    char wal[1300];
    snprintf(wal, sizeof wal, "%s/kite.db-wal", f->data);
    assert_int_equal(stat(wal, &sb), 0);
}

static void test_reopen_keeps_data(void **state)
{
    fixture *f = *state;
    long long version = schema_version(f);
    int rev, changed;
    assert_int_equal(kt_store_flow_save(f->s, "ns", "f", "id: f\n", &rev, &changed), KT_OK);
    json_t *ex = parse("{\"id\":\"e1\",\"namespace\":\"ns\",\"flowId\":\"f\",\"state\":{\"current\":\"RUNNING\"},"
                       "\"taskRunList\":[{\"id\":\"r1\",\"state\":{\"current\":\"RUNNING\"}}]}");
    assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
    reopen(f);
    reopen(f); /* twice: migrations must not run again */
    assert_int_equal(schema_version(f), version);
    if (fixture_on_pg()) /* one version row, not one per open */
        assert_int_equal(sql_int(f->data, "SELECT count(*) FROM kite_schema"), 1);
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
    /* a second store on the same directory (the WAL allows readers) or database sees the same data */
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

/* PostgreSQL's open failures: nobody at the address, a database that does not exist. The store is untouched and the
 * message says why (libpq's reason). */
static void test_open_failures_pg(fixture *f)
{
    char nobody[1300], nodb[1300];
    snprintf(nobody, sizeof nobody, "postgresql://kite@127.0.0.1:1/kite?connect_timeout=5");
    /* the fixture's server with another database name: the URL's path is the database */
    const char *slash = strrchr(kt_test_store_base, '/');
    assert_non_null(slash);
    snprintf(nodb, sizeof nodb, "%.*s/kite_no_such_database", (int)(slash - kt_test_store_base), kt_test_store_base);
    const char *const urls[] = {nobody, nodb};
    const char *const says[] = {"cannot connect", "kite_no_such_database"};
    for (size_t i = 0; i < 2; i++) {
        kt_store *s = (kt_store *)&s;
        kt_store *sentinel = s;
        char err[512] = "";
        if (kt_store_open(urls[i], NULL, &s, err, sizeof err) == KT_OK)
            fail_msg("kt_store_open(%s) succeeded", urls[i]);
        assert_ptr_equal(s, sentinel);
        if (!strstr(err, says[i]))
            fail_msg("kt_store_open(%s): the message does not say '%s': '%s'", urls[i], says[i], err);
    }
    /* the test's own store still works */
    int rev, changed;
    assert_int_equal(kt_store_flow_save(f->s, "ns", "f", "x", &rev, &changed), KT_OK);
}

static void test_open_failures(void **state)
{
    fixture *f = *state;
    if (fixture_on_pg()) {
        test_open_failures_pg(f);
        return;
    }
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
static void test_open_newer_schema_pg(fixture *f)
{
    long long current = schema_version(f);
    assert_true(current >= 1);
    char err[512] = "", sql[128];
    if (kt_test_pg_exec(f->data, "UPDATE kite_schema SET version = 999", err, sizeof err))
        fail_msg("%s", err);
    kt_store *s = NULL;
    assert_int_not_equal(kt_store_open(f->data, NULL, &s, err, sizeof err), KT_OK);
    assert_null(s);
    assert_non_null(strstr(err, "999"));
    snprintf(sql, sizeof sql, "UPDATE kite_schema SET version = %lld", current);
    if (kt_test_pg_exec(f->data, sql, err, sizeof err))
        fail_msg("%s", err);
    open_store(f);
}

static void test_open_newer_schema(void **state)
{
    fixture *f = *state;
    kt_store_close(f->s);
    f->s = NULL;
    if (fixture_on_pg()) {
        test_open_newer_schema_pg(f);
        return;
    }
    char path[1300];
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
    /* get_any still gives the deletion */
    assert_int_equal(kt_store_flow_get_any(s, "company.team", "hello", 0, &row), KT_OK);
    assert_int_equal(row.revision, 3);
    assert_int_equal(row.deleted, 1);
    kt_flow_row_clear(&row);
    assert_int_equal(kt_store_flow_get_any(s, "company.team", "missing", 0, &row), KT_ENOTFOUND);
    check_flow(s, "company.other", "hello", 0, KT_OK, 1, 0, "other");
    assert_int_equal(kt_store_flow_delete(s, "company.team", "hello"), KT_ENOTFOUND); /* twice */
    assert_int_equal(kt_store_flow_delete(s, "company.team", "missing"), KT_ENOTFOUND);

    /* saving after a delete, even the same source, makes the next revision */
    rev = changed = -1;
    assert_int_equal(kt_store_flow_save(s, "company.team", "hello", "id: hello\nv: 2\n", &rev, &changed), KT_OK);
    assert_int_equal(rev, 4);
    assert_int_equal(changed, 1);
    check_flow(s, "company.team", "hello", 0, KT_OK, 4, 0, "id: hello\nv: 2\n");

    json_t *revs = NULL;
    assert_int_equal(kt_store_flow_revisions(s, "company.team", "hello", &revs), KT_OK);
    json_t *want = parse("[{\"namespace\":\"company.team\",\"id\":\"hello\",\"revision\":1,\"deleted\":false,"
                         "\"source\":\"id: hello\\nv: 1\\n\",\"dialect\":\"1.x\"},"
                         "{\"namespace\":\"company.team\",\"id\":\"hello\",\"revision\":2,\"deleted\":false,"
                         "\"source\":\"id: hello\\nv: 2\\n\",\"dialect\":\"1.x\"},"
                         "{\"namespace\":\"company.team\",\"id\":\"hello\",\"revision\":3,\"deleted\":true,"
                         "\"source\":\"id: hello\\nv: 2\\n\",\"dialect\":\"1.x\"},"
                         "{\"namespace\":\"company.team\",\"id\":\"hello\",\"revision\":4,\"deleted\":false,"
                         "\"source\":\"id: hello\\nv: 2\\n\",\"dialect\":\"1.x\"}]");
    assert_json_equal(revs, want);
    json_decref(revs);
    json_decref(want);
    assert_int_equal(kt_store_flow_revisions(s, "company.team", "missing", &revs), KT_OK);
    assert_int_equal(json_array_size(revs), 0);
    json_decref(revs);

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
                                   "message: h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x9a\x80\n", "back\\slash $1 %s", big};
    for (size_t i = 0; i < sizeof sources / sizeof *sources; i++) {
        int rev, changed;
        assert_int_equal(kt_store_flow_save(f->s, "ns", "v", sources[i], &rev, &changed), KT_OK);
        assert_int_equal(rev, (int)i + 1);
        check_flow(f->s, "ns", "v", 0, KT_OK, (int)i + 1, 0, sources[i]);
    }
    free(big);
}

/* The listings (namespaces, ids, latest revisions) with names chosen for byte order, LIKE's wildcards and the
 * "namespace or under it" rule. test_pg_flows.c also compares every combination of filters with SQLite's answers. */
static void test_flow_listings(void **state)
{
    fixture *f = *state;
    kt_store *s = f->s;
    static const char *const flows[][2] = {
        {"a.b", "zeta"}, {"a.b", "Alpha"}, {"a.b", "alpha"}, {"a.b.c", "x"}, {"a.bc", "y"}, {"a_b", "u"},
        {"aXb", "w"},    {"a%b", "p"},     {"A.b", "q"},     {"b", "_id"},   {"b", "gone"}, {"b", "back"},
    };
    int rev, changed;
    for (size_t i = 0; i < sizeof flows / sizeof *flows; i++)
        assert_int_equal(kt_store_flow_save(s, flows[i][0], flows[i][1], "src", &rev, &changed), KT_OK);
    assert_int_equal(kt_store_flow_save(s, "a.b", "zeta", "src 2", &rev, &changed), KT_OK);
    assert_int_equal(kt_store_flow_delete(s, "b", "gone"), KT_OK);
    assert_int_equal(kt_store_flow_delete(s, "b", "back"), KT_OK);
    assert_int_equal(kt_store_flow_save(s, "b", "back", "again", &rev, &changed), KT_OK);
    assert_int_equal(kt_store_flow_save(s, "gone.ns", "only", "src", &rev, &changed), KT_OK);
    assert_int_equal(kt_store_flow_delete(s, "gone.ns", "only"), KT_OK);
    json_t *got;
    assert_int_equal(kt_store_flow_namespaces(s, &got), KT_OK);
    json_t *want = parse("[\"A.b\",\"a%b\",\"a.b\",\"a.b.c\",\"a.bc\",\"aXb\",\"a_b\",\"b\"]");
    assert_json_equal(got, want);
    json_decref(want);
    json_decref(got);
    assert_int_equal(kt_store_flow_ids(s, "a.b", &got), KT_OK);
    want = parse("[\"Alpha\",\"alpha\",\"zeta\"]");
    assert_json_equal(got, want);
    json_decref(want);
    json_decref(got);
    /* a.b and under it, not a.bc, latest revisions only */
    assert_int_equal(kt_store_flows_latest(s, "a.b", NULL, &got), KT_OK);
    want = parse("[{\"namespace\":\"a.b\",\"id\":\"Alpha\",\"revision\":1,\"source\":\"src\",\"dialect\":\"1.x\"},"
                 "{\"namespace\":\"a.b\",\"id\":\"alpha\",\"revision\":1,\"source\":\"src\",\"dialect\":\"1.x\"},"
                 "{\"namespace\":\"a.b\",\"id\":\"zeta\",\"revision\":2,\"source\":\"src 2\",\"dialect\":\"1.x\"},"
                 "{\"namespace\":\"a.b.c\",\"id\":\"x\",\"revision\":1,\"source\":\"src\",\"dialect\":\"1.x\"}]");
    assert_json_equal(got, want);
    json_decref(want);
    json_decref(got);
    /* under a namespace ignores case, as Kestra's likeIgnoreCase (the namespace itself does not) */
    assert_int_equal(kt_store_flows_latest(s, "A", "y", &got), KT_OK);
    assert_int_equal(json_array_size(got), 1);
    json_decref(got);
    assert_int_equal(kt_store_flows_latest(s, "a.B", NULL, &got), KT_OK);
    assert_int_equal(json_array_size(got), 1); /* a.b.c only */
    json_decref(got);
}

/* The dialect a revision was saved in (flows.dialect column, SQLite migration 10, PostgreSQL 6): read back on the row and in
 * the listings; an unchanged source keeps it; a deletion keeps the deleted revision's; a save that does not say
 * (and every revision saved before the column) is 1.x. */
static void test_flow_dialect_column(void **state)
{
    fixture *f = *state;
    kt_store *s = f->s;
    int rev, changed;
    kt_flow_row row;
    assert_int_equal(kt_store_flow_save_dialect(s, "d", "two", "id: two\n", KT_DIALECT_2X, &rev, &changed), KT_OK);
    assert_int_equal(rev, 1);
    assert_int_equal(kt_store_flow_get(s, "d", "two", 0, &row), KT_OK);
    assert_int_equal(row.dialect, KT_DIALECT_2X);
    kt_flow_row_clear(&row);
    /* the same source under the other dialect: no new revision, the saved one stays 2.x */
    assert_int_equal(kt_store_flow_save_dialect(s, "d", "two", "id: two\n", KT_DIALECT_1X, &rev, &changed), KT_OK);
    assert_int_equal(rev, 1);
    assert_int_equal(changed, 0);
    assert_int_equal(kt_store_flow_get(s, "d", "two", 1, &row), KT_OK);
    assert_int_equal(row.dialect, KT_DIALECT_2X);
    kt_flow_row_clear(&row);
    /* another source under 1.x: revision 2 is 1.x, revision 1 still 2.x */
    assert_int_equal(kt_store_flow_save_dialect(s, "d", "two", "id: two\nv: 2\n", KT_DIALECT_1X, &rev, &changed),
                     KT_OK);
    assert_int_equal(rev, 2);
    assert_int_equal(kt_store_flow_get(s, "d", "two", 2, &row), KT_OK);
    assert_int_equal(row.dialect, KT_DIALECT_1X);
    kt_flow_row_clear(&row);
    assert_int_equal(kt_store_flow_save_dialect(s, "d", "two", "id: two\nv: 3\n", KT_DIALECT_2X, &rev, &changed),
                     KT_OK);
    /* a deletion keeps the dialect of what it deletes */
    assert_int_equal(kt_store_flow_delete(s, "d", "two"), KT_OK);
    assert_int_equal(kt_store_flow_get_any(s, "d", "two", 0, &row), KT_OK);
    assert_int_equal(row.revision, 4);
    assert_int_equal(row.deleted, 1);
    assert_int_equal(row.dialect, KT_DIALECT_2X);
    kt_flow_row_clear(&row);
    json_t *revs = NULL;
    assert_int_equal(kt_store_flow_revisions(s, "d", "two", &revs), KT_OK);
    assert_int_equal(json_array_size(revs), 4);
    const char *want[] = {"2.x", "1.x", "2.x", "2.x"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(revs, i), "dialect")), want[i]);
    json_decref(revs);
    /* not said: the column stays empty, read as 1.x */
    assert_int_equal(kt_store_flow_save(s, "d", "plain", "id: plain\n", &rev, &changed), KT_OK);
    assert_int_equal(kt_store_flow_save_dialect(s, "d", "new", "id: new\n", KT_DIALECT_2X, &rev, &changed), KT_OK);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM flows WHERE namespace = 'd' AND dialect IS NULL"), 1);
    assert_int_equal(kt_store_flow_get(s, "d", "plain", 0, &row), KT_OK);
    assert_int_equal(row.dialect, KT_DIALECT_1X);
    kt_flow_row_clear(&row);
    json_t *latest = NULL;
    assert_int_equal(kt_store_flows_latest(s, "d", NULL, &latest), KT_OK);
    assert_int_equal(json_array_size(latest), 2); /* two is deleted */
    assert_string_equal(json_string_value(json_object_get(json_array_get(latest, 0), "id")), "new");
    assert_string_equal(json_string_value(json_object_get(json_array_get(latest, 0), "dialect")), "2.x");
    assert_string_equal(json_string_value(json_object_get(json_array_get(latest, 1), "dialect")), "1.x");
    json_decref(latest);
    const char *words[] = {"new"};
    assert_int_equal(kt_store_flows_source_search(s, "d", words, 1, &latest), KT_OK);
    assert_int_equal(json_array_size(latest), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(latest, 0), "dialect")), "2.x");
    json_decref(latest);
    /* and after a reopen */
    reopen(f);
    assert_int_equal(kt_store_flow_get(f->s, "d", "new", 0, &row), KT_OK);
    assert_int_equal(row.dialect, KT_DIALECT_2X);
    kt_flow_row_clear(&row);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    int backend = fixture_backend(); /* 77: PostgreSQL asked for, none there */
    if (backend)
        return backend;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_creates_and_migrates),
        T(test_reopen_keeps_data),
        T(test_open_sync_full),
        T(test_open_failures),
        T(test_open_newer_schema),
        T(test_flow_revisions),
        T(test_flow_sources_verbatim),
        T(test_flow_listings),
        T(test_flow_dialect_column),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
