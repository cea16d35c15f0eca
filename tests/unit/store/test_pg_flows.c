/* What is PostgreSQL's own in its flows (store/pg_exec.c): the listings (ids, namespaces, latest revisions) for every
 * combination of filters compared with a SQLite store given the same writes (test_store.c spells some answers out on
 * both backends), and two sessions saving one flow at once. Skips (77) when the fixture said PostgreSQL is not
 * there. */
#include "pg_fixture.h"

#include <pthread.h>

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
    assert_json_equal(got[0], got[1]);
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
        T(test_flow_listings_match_sqlite),
        T(test_flow_save_race),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
