/* The PostgreSQL store's flows (store/pg_exec.c): migrations in the test's schema, the assertions of test_store.c's
 * flow tests, the listings (ids, namespaces, latest revisions) compared with a SQLite store given the same writes, and
 * two sessions saving one flow at once. Skips (77) when the fixture said PostgreSQL is not there. */
#include "pg_fixture.h"

#include <pthread.h>

/* ---- open ---------------------------------------------------------------------------------------- */

static void test_open_migrates_in_its_schema(void **state)
{
    pgfix *f = *state;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM information_schema.tables WHERE table_schema = '%s' AND table_name IN "
             "('flows', 'executions', 'taskruns', 'logs', 'triggers', 'windows', 'notices', 'metrics')",
             f->schema);
    assert_int_equal(pg_int(f, sql), 8);
    long long version = pg_int(f, "SELECT version FROM kite_schema");
    assert_true(version >= 1);
    pg_reopen(f);
    pg_reopen(f); /* migrations do not run again */
    assert_int_equal(pg_int(f, "SELECT count(*) FROM kite_schema"), 1);
    assert_int_equal(pg_int(f, "SELECT version FROM kite_schema"), version);
}

/* ---- flows --------------------------------------------------------------------------------------- */

static void test_flow_revisions(void **state)
{
    pgfix *f = *state;
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
    assert_int_equal(pg_int(f, "SELECT count(*) FROM flows"), 1);

    assert_int_equal(kt_store_flow_save(s, "company.team", "hello", "id: hello\nv: 2\n", &rev, &changed), KT_OK);
    assert_int_equal(rev, 2);
    assert_int_equal(changed, 1);
    assert_int_equal(kt_store_flow_save(s, "company.other", "hello", "other", &rev, &changed), KT_OK);
    assert_int_equal(rev, 1);

    check_flow(s, "company.team", "hello", 0, KT_OK, 2, 0, "id: hello\nv: 2\n");
    check_flow(s, "company.team", "hello", 2, KT_OK, 2, 0, "id: hello\nv: 2\n");
    check_flow(s, "company.team", "hello", 1, KT_OK, 1, 0, "id: hello\nv: 1\n");
    check_flow(s, "company.team", "hello", 3, KT_ENOTFOUND, 0, 0, NULL);
    check_flow(s, "company.other", "hello", 0, KT_OK, 1, 0, "other");
    check_flow(s, "company.team", "nope", 0, KT_ENOTFOUND, 0, 0, NULL);
    check_flow(s, "company", "hello", 0, KT_ENOTFOUND, 0, 0, NULL);

    /* delete: the latest is gone, the history stays readable, get_any still gives the deletion */
    assert_int_equal(kt_store_flow_delete(s, "company.team", "hello"), KT_OK);
    check_flow(s, "company.team", "hello", 0, KT_ENOTFOUND, 0, 0, NULL);
    check_flow(s, "company.team", "hello", 1, KT_OK, 1, 0, "id: hello\nv: 1\n");
    check_flow(s, "company.team", "hello", 3, KT_OK, 3, 1, "id: hello\nv: 2\n");
    assert_int_equal(kt_store_flow_get_any(s, "company.team", "hello", 0, &row), KT_OK);
    assert_int_equal(row.revision, 3);
    assert_int_equal(row.deleted, 1);
    kt_flow_row_clear(&row);
    assert_int_equal(kt_store_flow_get_any(s, "company.team", "missing", 0, &row), KT_ENOTFOUND);
    check_flow(s, "company.other", "hello", 0, KT_OK, 1, 0, "other");
    assert_int_equal(kt_store_flow_delete(s, "company.team", "hello"), KT_ENOTFOUND);
    assert_int_equal(kt_store_flow_delete(s, "company.team", "missing"), KT_ENOTFOUND);

    /* saving after a delete, even the same source, makes the next revision */
    rev = changed = -1;
    assert_int_equal(kt_store_flow_save(s, "company.team", "hello", "id: hello\nv: 2\n", &rev, &changed), KT_OK);
    assert_int_equal(rev, 4);
    assert_int_equal(changed, 1);

    json_t *revs = NULL;
    assert_int_equal(kt_store_flow_revisions(s, "company.team", "hello", &revs), KT_OK);
    json_t *want = parse("[{\"namespace\":\"company.team\",\"id\":\"hello\",\"revision\":1,\"deleted\":false,"
                         "\"source\":\"id: hello\\nv: 1\\n\"},"
                         "{\"namespace\":\"company.team\",\"id\":\"hello\",\"revision\":2,\"deleted\":false,"
                         "\"source\":\"id: hello\\nv: 2\\n\"},"
                         "{\"namespace\":\"company.team\",\"id\":\"hello\",\"revision\":3,\"deleted\":true,"
                         "\"source\":\"id: hello\\nv: 2\\n\"},"
                         "{\"namespace\":\"company.team\",\"id\":\"hello\",\"revision\":4,\"deleted\":false,"
                         "\"source\":\"id: hello\\nv: 2\\n\"}]");
    assert_json_equal(revs, want);
    json_decref(revs);
    json_decref(want);
    assert_int_equal(kt_store_flow_revisions(s, "company.team", "missing", &revs), KT_OK);
    assert_int_equal(json_array_size(revs), 0);
    json_decref(revs);

    pg_reopen(f);
    check_flow(f->s, "company.team", "hello", 0, KT_OK, 4, 0, "id: hello\nv: 2\n");
    check_flow(f->s, "company.team", "hello", 3, KT_OK, 3, 1, "id: hello\nv: 2\n");
}

static void test_flow_sources_verbatim(void **state)
{
    pgfix *f = *state;
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

/* The listings give what SQLite gives after the same writes (names chosen for byte order, LIKE's wildcards and
 * the "namespace or under it" rule). */
static void test_flow_listings_match_sqlite(void **state)
{
    pgfix *f = *state;
    void *sq_state = NULL;
    assert_int_equal(setup(&sq_state), 0);
    fixture *sq = sq_state;
    static const char *const flows[][2] = {
        {"a.b", "zeta"}, {"a.b", "Alpha"}, {"a.b", "alpha"}, {"a.b.c", "x"}, {"a.bc", "y"}, {"a_b", "u"},
        {"aXb", "w"},    {"a%b", "p"},     {"A.b", "q"},     {"b", "_id"},   {"b", "gone"}, {"b", "back"},
    };
    kt_store *both[] = {f->s, sq->s};
    for (size_t k = 0; k < 2; k++) {
        int rev, changed;
        for (size_t i = 0; i < sizeof flows / sizeof *flows; i++)
            assert_int_equal(kt_store_flow_save(both[k], flows[i][0], flows[i][1], "src", &rev, &changed), KT_OK);
        assert_int_equal(kt_store_flow_save(both[k], "a.b", "zeta", "src 2", &rev, &changed), KT_OK);
        assert_int_equal(kt_store_flow_delete(both[k], "b", "gone"), KT_OK);
        assert_int_equal(kt_store_flow_delete(both[k], "b", "back"), KT_OK);
        assert_int_equal(kt_store_flow_save(both[k], "b", "back", "again", &rev, &changed), KT_OK);
        assert_int_equal(kt_store_flow_save(both[k], "gone.ns", "only", "src", &rev, &changed), KT_OK);
        assert_int_equal(kt_store_flow_delete(both[k], "gone.ns", "only"), KT_OK);
    }
    json_t *got[2];
    for (size_t k = 0; k < 2; k++)
        assert_int_equal(kt_store_flow_namespaces(both[k], &got[k]), KT_OK);
    json_t *want = parse("[\"A.b\",\"a%b\",\"a.b\",\"a.b.c\",\"a.bc\",\"aXb\",\"a_b\",\"b\"]");
    assert_json_equal(got[0], want);
    assert_json_equal(got[0], got[1]);
    json_decref(want);
    for (size_t k = 0; k < 2; k++)
        json_decref(got[k]);

    static const char *const namespaces[] = {"a.b", "b", "a", "gone.ns", "nope"};
    for (size_t i = 0; i < sizeof namespaces / sizeof *namespaces; i++) {
        for (size_t k = 0; k < 2; k++)
            assert_int_equal(kt_store_flow_ids(both[k], namespaces[i], &got[k]), KT_OK);
        assert_json_equal(got[0], got[1]);
        for (size_t k = 0; k < 2; k++)
            json_decref(got[k]);
    }
    assert_int_equal(kt_store_flow_ids(f->s, "a.b", &got[0]), KT_OK);
    want = parse("[\"Alpha\",\"alpha\",\"zeta\"]");
    assert_json_equal(got[0], want);
    json_decref(want);
    json_decref(got[0]);

    static const char *const prefixes[] = {NULL, "a.b", "a_b", "a%b", "a", "b", "A", "gone.ns", ""};
    static const char *const qs[] = {NULL, "", "a", "_", "%", "b.c", "lph", "nothing"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        for (size_t j = 0; j < sizeof qs / sizeof *qs; j++) {
            for (size_t k = 0; k < 2; k++)
                assert_int_equal(kt_store_flows_latest(both[k], prefixes[i], qs[j], &got[k]), KT_OK);
            if (!json_equal(got[0], got[1])) {
                char *a = json_dumps(got[0], JSON_COMPACT), *b = json_dumps(got[1], JSON_COMPACT);
                fail_msg("flows_latest(%s, %s): PostgreSQL %s, SQLite %s", prefixes[i] ? prefixes[i] : "NULL",
                         qs[j] ? qs[j] : "NULL", a, b);
            }
            for (size_t k = 0; k < 2; k++)
                json_decref(got[k]);
        }
    /* one answer spelled out: a.b and under it, not a.bc, latest revisions only */
    assert_int_equal(kt_store_flows_latest(f->s, "a.b", NULL, &got[0]), KT_OK);
    want = parse("[{\"namespace\":\"a.b\",\"id\":\"Alpha\",\"revision\":1,\"source\":\"src\"},"
                 "{\"namespace\":\"a.b\",\"id\":\"alpha\",\"revision\":1,\"source\":\"src\"},"
                 "{\"namespace\":\"a.b\",\"id\":\"zeta\",\"revision\":2,\"source\":\"src 2\"},"
                 "{\"namespace\":\"a.b.c\",\"id\":\"x\",\"revision\":1,\"source\":\"src\"}]");
    assert_json_equal(got[0], want);
    json_decref(want);
    json_decref(got[0]);
    /* under a namespace ignores case, as Kestra's likeIgnoreCase (the namespace itself does not) */
    assert_int_equal(kt_store_flows_latest(f->s, "A", "y", &got[0]), KT_OK);
    assert_int_equal(json_array_size(got[0]), 1);
    json_decref(got[0]);
    assert_int_equal(kt_store_flows_latest(f->s, "a.B", NULL, &got[0]), KT_OK);
    assert_int_equal(json_array_size(got[0]), 1); /* a.b.c only */
    json_decref(got[0]);
    teardown(&sq_state);
}

/* Two sessions saving one flow at once: the second waits for the first's transaction, then takes the next revision
 * (or finds the same source and writes nothing, or takes the revision a rollback left free). */
typedef struct racer {
    kt_store *s;
    const char *source;
    int rev, changed;
    kt_status st;
} racer;

static void *race_save(void *arg)
{
    racer *r = arg;
    r->st = kt_store_flow_save(r->s, "ns", "race", r->source, &r->rev, &r->changed);
    return NULL;
}

/* Waits until the racer's session is blocked on a lock (pg_stat_activity, by its application_name). */
static void wait_blocked(pgfix *f, const char *application)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s' AND wait_event_type = 'Lock'",
             application);
    for (int i = 0; i < 500; i++) {
        if (pg_int(f, sql) == 1)
            return;
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    }
    fail_msg("the second session never waited for the first");
}

static void race_round(pgfix *f, kt_store *other, const char *app, const char *first, int commit, const char *second,
                       int want_rev, int want_changed)
{
    int rev, changed;
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_flow_save(f->s, "ns", "race", first, &rev, &changed), KT_OK);
    assert_int_equal(changed, 1);
    racer r = {.s = other, .source = second};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, race_save, &r), 0);
    wait_blocked(f, app);
    if (commit)
        assert_int_equal(kt_store_commit(f->s), KT_OK);
    else
        kt_store_rollback(f->s);
    pthread_join(t, NULL);
    assert_int_equal(r.st, KT_OK);
    assert_int_equal(r.rev, want_rev);
    assert_int_equal(r.changed, want_changed);
}

static void test_flow_save_race(void **state)
{
    pgfix *f = *state;
    char app[64], url[1024], err[256];
    snprintf(app, sizeof app, "race_%s", f->schema);
    url_with(url, sizeof url, f->schema, app);
    kt_store *other;
    assert_int_equal(kt_store_open(url, NULL, &other, err, sizeof err), KT_OK);
    int rev, changed;
    assert_int_equal(kt_store_flow_save(f->s, "ns", "race", "v1", &rev, &changed), KT_OK);

    race_round(f, other, app, "v2", 1, "v3", 3, 1); /* 2 taken by the first: the second gets 3 */
    race_round(f, other, app, "v4", 1, "v4", 4, 0); /* the same source as the first's: nothing written */
    race_round(f, other, app, "v5", 0, "v6", 5, 1); /* the first rolled back: 5 is free again */

    json_t *revs;
    assert_int_equal(kt_store_flow_revisions(f->s, "ns", "race", &revs), KT_OK);
    static const char *const sources[] = {"v1", "v2", "v3", "v4", "v6"};
    assert_int_equal(json_array_size(revs), 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *r = json_array_get(revs, i);
        assert_int_equal(json_integer_value(json_object_get(r, "revision")), (json_int_t)i + 1);
        assert_string_equal(json_string_value(json_object_get(r, "source")), sources[i]);
    }
    json_decref(revs);
    kt_store_close(other);
}

int main(void)
{
    int rc = kt_test_pg_url(g_url, sizeof g_url);
    if (rc != 0)
        return rc;
    kt_log_set_level(KT_LOG_ERROR);
#define T(fn) cmocka_unit_test_setup_teardown(fn, pg_setup, pg_teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_migrates_in_its_schema),
        T(test_flow_revisions),
        T(test_flow_sources_verbatim),
        T(test_flow_listings_match_sqlite),
        T(test_flow_save_race),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
